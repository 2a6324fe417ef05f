/**
 * Real, published MCP servers through the same safe reload: two versions of
 * @modelcontextprotocol/server-memory from npm (examples/plugins/memory-mcp-*),
 * behind the routes of examples/config/memory-mcp.yaml. No mock anywhere: the
 * server is the package as published, spoken to through the MCP SDK client.
 */
import { execa } from 'execa';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { isAlive, openTestHost, TEST_TIMEOUTS, type TestHost } from '../helpers/host.js';
import { waitForExit } from '../helpers/wait.js';
import { EXAMPLES, tempDir } from '../helpers/plugin-dirs.js';
import { startCallers } from '../helpers/callers.js';
import { processesUnder } from '../helpers/resources.js';
import { scaled } from '../helpers/slowdown.js';

const OLD = join(EXAMPLES, 'memory-mcp-2025.11.25');
const NEW = join(EXAMPLES, 'memory-mcp-2026.8.31');
const CONFIG = fileURLToPath(new URL('../../examples/config/memory-mcp.yaml', import.meta.url));
// Staging 3,691 files the first time, and starting node with the SDK, take seconds, not milliseconds.
const SLOW = scaled(90_000);

/** The example config, its front door on a free port and its plugin at `dir`. */
async function exampleConfig(dir: string, into: string): Promise<string> {
  const config = parse(await readFile(CONFIG, 'utf8'));
  config.http.listen = '127.0.0.1:0';
  config.plugins.memory.dir = dir;
  const file = join(into, `memory-${Math.random().toString(36).slice(2, 8)}.yaml`);
  await writeFile(file, stringify(config));
  return file;
}

/** A copy of NEW (hard links, so instant) whose plugin.json is `edit`ed: a candidate built wrong. */
async function candidate(parent: string, name: string, edit: (manifest: Record<string, any>) => void): Promise<string> {
  const dir = join(parent, name);
  await execa('cp', ['-al', NEW, dir]);
  const manifest = JSON.parse(await readFile(join(NEW, 'plugin.json'), 'utf8'));
  edit(manifest);
  // A new file, not a write through the hard link into the example.
  await rm(join(dir, 'plugin.json'));
  await writeFile(join(dir, 'plugin.json'), JSON.stringify(manifest));
  return dir;
}

describe('the published MCP server-memory, hosted and reloaded safely', () => {
  let t: TestHost;
  let scratch: string;
  let front: string;

  beforeAll(async () => {
    scratch = await tempDir('wfr-mcp-');
    t = await openTestHost({
      timeouts: { ...TEST_TIMEOUTS, handshakeMs: scaled(15_000), probeMs: scaled(5_000) },
      restart: { maxRestarts: 3, windowMs: 60_000, backoffMs: 20, backoffMaxMs: 100 },
    });
  }, SLOW);
  afterAll(async () => {
    await t?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const response = await fetch(`http://${front}${path}`);
    return { status: response.status, body: (await response.json()) as any };
  };
  const memory = () => t.host.listPlugins().find((plugin) => plugin.name === 'memory')!;

  it('activates 2025.11.25 through a config: the handshake checks serverInfo and tools, and GET /graph answers the graph', async () => {
    const result = await t.host.tryActivateConfig(await exampleConfig(OLD, scratch));
    expect(result.outcome, JSON.stringify(result.error)).toBe('activated');
    expect(result.plugins?.map((plugin) => [plugin.name, plugin.outcome, plugin.active?.version])).toEqual([['memory', 'activated', '2025.11.25']]);
    front = t.host.engineStatus()!.address!;
    expect(await get('/graph')).toEqual({ status: 200, body: { entities: [], relations: [] } });
    expect(isAlive(memory().pid)).toBe(true);
  }, SLOW);

  it('swaps to 2026.8.31 under load with 0 failed requests', async () => {
    const before = memory();
    const load = startCallers(4, () => get('/graph'), ({ status, body }) => (status === 200 && Array.isArray(body.entities) ? null : `${status} ${JSON.stringify(body)}`));
    const result = await t.host.tryActivatePlugin('memory', NEW);
    const during = load.answered;
    await load.stop();
    expect(result.outcome, JSON.stringify(result.error)).toBe('activated');
    expect(result.previous).toMatchObject({ version: '2025.11.25', pid: before.pid });
    expect(load.failures).toEqual([]);
    expect(during).toBeGreaterThan(10);
    expect(memory().version).toBe('2026.8.31');
    // Drained before the answer, reaped after it.
    expect(await waitForExit(before.pid)).toBe(true);
  }, SLOW);

  it('keeps its data outside the staged copy, across versions: STATE/data/memory', async () => {
    const response = await fetch(`http://${front}/entities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program'] }] }),
    });
    expect(response.status).toBe(200);
    const dataFile = join(t.stateDir, 'data', 'memory', 'memory.jsonl');
    expect(await readFile(dataFile, 'utf8')).toContain('"name":"Ada"');
    expect(await get('/search/Ada')).toMatchObject({ status: 200, body: { entities: [{ name: 'Ada', entityType: 'person' }] } });
    // The staged copies stay read-only and hold no data.
    for (const version of await readdir(join(t.stateDir, 'plugins', 'memory'))) {
      expect(await readdir(join(t.stateDir, 'plugins', 'memory', version))).not.toContain('memory.jsonl');
    }
  }, SLOW);

  it('refuses to go back to 2025.11.25 once the graph has data: its read_graph breaks its own output schema, and the config probe catches it', async () => {
    const before = memory();
    const result = await t.host.tryActivatePlugin('memory', OLD);
    expect(result.outcome).toBe('rolledBack');
    expect(result.failedStep).toBe('engine check');
    expect(result.error?.code).toBe('WFR_PLUGIN_FAILS_CONFIG_PROBE');
    expect(JSON.stringify(result.error)).toMatch(/does not match the tool's output schema/);
    expect(memory().pid).toBe(before.pid);
    expect(await get('/graph')).toMatchObject({ status: 200, body: { entities: [{ name: 'Ada' }] } });
  }, SLOW);

  it('rolls back a candidate whose manifest declares a tool the server does not have, at the handshake; the old server keeps serving', async () => {
    const before = memory();
    const dir = await candidate(scratch, 'missing-tool', (manifest) => {
      manifest.version = '2026.8.32';
      manifest.contract.steps.push({ type: 'delete_everything' });
    });
    const result = await t.host.tryActivatePlugin('memory', dir);
    expect(result.outcome).toBe('rolledBack');
    expect(result.failedStep).toBe('handshake');
    expect(result.error?.code).toBe('WFR_PLUGIN_CONTRACT_MISMATCH');
    expect(result.error?.message).toMatch(/^MCP server "memory" lists no tool "delete_everything" \(its tools: create_entities, .*read_graph, search_nodes, open_nodes\)/);
    expect(result.active).toMatchObject({ version: '2026.8.31', pid: before.pid });
    expect(processesUnder(dir)).toEqual([]);
    expect(memory().pid).toBe(before.pid);
    expect(await get('/graph')).toMatchObject({ status: 200, body: { entities: [{ name: 'Ada' }] } });
  }, SLOW);

  it('rolls back a candidate whose serverInfo is not what the server reports, naming both', async () => {
    const dir = await candidate(scratch, 'other-server', (manifest) => {
      manifest.version = '2026.8.33';
      manifest.serverInfo.version = '0.7.0';
    });
    const result = await t.host.tryActivatePlugin('memory', dir);
    expect(result.outcome).toBe('rolledBack');
    expect(result.failedStep).toBe('handshake');
    expect(result.error?.message).toContain('answered initialize with serverInfo.version = "0.6.3", but plugin.json declares "0.7.0"');
  }, SLOW);

  it('rolls back a candidate that declares an inputSchema the tool does not have, naming the tool', async () => {
    const dir = await candidate(scratch, 'other-schema', (manifest) => {
      manifest.version = '2026.8.35';
      manifest.contract.steps = manifest.contract.steps.map((step: { type: string }) => (step.type === 'search_nodes' ? { ...step, inputSchema: { type: 'object', properties: { q: { type: 'string' } } } } : step));
    });
    const result = await t.host.tryActivatePlugin('memory', dir);
    expect(result.outcome).toBe('rolledBack');
    expect(result.failedStep).toBe('handshake');
    expect(result.error).toMatchObject({ code: 'WFR_PLUGIN_CONTRACT_MISMATCH', details: { field: 'the inputSchema of tool "search_nodes"' } });
    expect(JSON.stringify(result.error?.details)).toContain('"query"');
  }, SLOW);

  it('rolls back a candidate whose command does not exist; the old server keeps serving', async () => {
    const before = memory();
    const dir = await candidate(scratch, 'no-command', (manifest) => {
      manifest.version = '2026.8.34';
      manifest.command = ['wfreload-no-such-mcp-server'];
    });
    const result = await t.host.tryActivatePlugin('memory', dir);
    expect(result.outcome).toBe('rolledBack');
    expect(result.failedStep).toBe('start');
    expect(result.error?.code).toBe('WFR_PLUGIN_COMMAND_NOT_FOUND');
    expect(memory().pid).toBe(before.pid);
    expect((await get('/graph')).status).toBe(200);
  }, SLOW);

  it('restarts a killed MCP server (supervision), which finds its data again', async () => {
    const before = memory();
    const restarted = new Promise<void>((resolve) => t.host.events.subscribe((event) => event.type === 'reload' && event.result.outcome === 'restarted' && resolve()));
    process.kill(before.pid, 'SIGKILL');
    await restarted;
    const after = memory();
    expect(after.pid).not.toBe(before.pid);
    expect(after.version).toBe('2026.8.31');
    expect(isAlive(after.pid)).toBe(true);
    expect(await get('/graph')).toMatchObject({ status: 200, body: { entities: [{ name: 'Ada' }] } });
  }, SLOW);

  it('a tool result with isError is a step failure, and the input must be a JSON object', async () => {
    await expect(t.host.invoke('memory', 'open_nodes', 'Ada')).rejects.toMatchObject({ code: 'WFR_PLUGIN_STEP_FAILED', message: expect.stringContaining('its input must be a JSON object') });
    // The server checks arguments against the tool's input schema and answers a missing field with an isError result.
    await expect(t.host.invoke('memory', 'search_nodes', {})).rejects.toMatchObject({
      code: 'WFR_PLUGIN_STEP_FAILED',
      message: expect.stringMatching(/^Plugin "memory" failed step "search_nodes": .*Invalid arguments for tool search_nodes/),
    });
    expect(await t.host.invoke('memory', 'open_nodes', { names: ['Ada'] })).toMatchObject({ entities: [{ name: 'Ada' }] });
  }, SLOW);
});
