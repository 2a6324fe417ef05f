/**
 * A hashicorp/go-plugin gRPC plugin through the same safe reload: the Go
 * example kv (examples/plugins/kv-go-*, built from Debian's go-plugin by
 * `npm run examples:install`) behind examples/config/kv-go.yaml, on a real
 * `wfctl serve`, swapped and refused through real `wfctl` commands.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startCallers } from '../helpers/callers.js';
import { launchBrowser } from '../helpers/browser.js';
import { isAlive } from '../helpers/host.js';
import { waitForExit } from '../helpers/wait.js';
import { EXAMPLES, tempDir } from '../helpers/plugin-dirs.js';
import { processesUnder } from '../helpers/resources.js';
import { startServe, wfctl, type RunningHost } from '../helpers/serve.js';
import { sseReader, type SseEvent } from '../helpers/sse.js';
import { scaled } from '../helpers/slowdown.js';

const V1 = join(EXAMPLES, 'kv-go-v1');
const V2 = join(EXAMPLES, 'kv-go-v2');
const CONFIG = fileURLToPath(new URL('../../examples/config/kv-go.yaml', import.meta.url));
const GO_PACKAGES = 'golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev golang-goprotobuf-dev';

function requireBuiltExamples(): void {
  if (!existsSync(join(V1, 'plugin')) || !existsSync(join(V2, 'plugin'))) {
    throw new Error(`The go-plugin example is not built (Go is missing?): apt-get install ${GO_PACKAGES}, then npm run examples:install.`);
  }
}

/** The example config on a free front door port, with kv at `dir`. */
async function exampleConfig(dir: string, into: string): Promise<string> {
  const config = parse(await readFile(CONFIG, 'utf8'));
  config.http.listen = '127.0.0.1:0';
  config.plugins.kv.dir = dir;
  const file = join(into, 'kv-go.yaml');
  await writeFile(file, stringify(config));
  return file;
}

/** A copy of V2 (hard links, so instant) whose plugin.json is `edit`ed, and whose `files` are replaced: a candidate built wrong. */
async function candidate(parent: string, name: string, edit: (manifest: Record<string, any>) => void, files: Record<string, (text: string) => string> = {}): Promise<string> {
  const dir = join(parent, name);
  await execa('cp', ['-al', V2, dir]);
  const manifest = JSON.parse(await readFile(join(V2, 'plugin.json'), 'utf8'));
  edit(manifest);
  const replace: Record<string, (text: string) => string> = { ...files, 'plugin.json': () => JSON.stringify(manifest) };
  for (const [file, change] of Object.entries(replace)) {
    const text = change(await readFile(join(V2, file), 'utf8'));
    // A new file, not a write through the hard link into the example.
    await rm(join(dir, file));
    await writeFile(join(dir, file), text);
  }
  return dir;
}

interface Listed {
  name: string;
  version: string;
  pid: number;
  health: string;
}

describe('the go-plugin example kv, hosted and reloaded safely', () => {
  let host: RunningHost;
  let stateDir: string;
  let scratch: string;
  const run = (...args: string[]) => wfctl(host, stateDir, ...args);
  const kv = async (): Promise<Listed> => (JSON.parse((await run('plugin', 'list', '--json')).stdout).plugins as Listed[]).find((plugin) => plugin.name === 'kv')!;
  const front = (path: string, init?: RequestInit) =>
    fetch(`http://${host.front}${path}`, init).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
  const put = (key: string, value: string) => front(`/kv/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
  const marker = () => readFile(join(stateDir, 'active.json'));
  /** kv processes other than the active one (a candidate left behind). */
  const strays = (active: number) => processesUnder(join(stateDir, 'plugins', 'kv')).filter((pid) => pid !== active);

  beforeAll(async () => {
    requireBuiltExamples();
    scratch = await tempDir('wfr-kv-go-');
    stateDir = join(scratch, 'state');
    // Short enough that the candidate that never shakes hands fails fast; a go-plugin binary needs tens of ms.
    host = await startServe(stateDir, await exampleConfig(V1, scratch), { handshakeMs: scaled(2_000) });
  });
  afterAll(async () => {
    await host?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('activates kv 1.0.0 from the config: the front door stores and reads keys through gRPC, a status error is the step\'s error', async () => {
    expect(await put('colour', 'green')).toEqual({ status: 200, body: {} });
    expect(await front('/kv/colour')).toEqual({ status: 200, body: { value: 'green' } });
    const missing = await front('/kv/nothing-here');
    expect(missing.status).toBe(502);
    expect(missing.body.error.message).toContain('Plugin "kv" answered kv.KV/Get with gRPC status NOT_FOUND (5): no key "nothing-here"');
    const listed = await kv();
    expect(listed).toMatchObject({ version: '1.0.0', health: 'serving' });
    expect(isAlive(listed.pid)).toBe(true);
  });

  it('shows the plugin\'s hclog stderr in `wfctl plugin logs`', async () => {
    const logs = await run('plugin', 'logs', 'kv', '--json');
    expect(logs.exitCode, logs.stderr).toBe(0);
    const lines = JSON.parse(logs.stdout).lines as Array<{ line: string; version: string }>;
    const putLine = lines.find((entry) => entry.line.includes('"@message":"put"'));
    expect(putLine?.version).toBe('1.0.0');
    expect(JSON.parse(putLine!.line)).toMatchObject({ '@level': 'info', '@module': 'kv', key: 'colour' });
  });

  it('swaps 1.0.0 → 2.0.0 through `wfctl plugin try-activate` under 8 callers with 0 failed requests; the data stays; the live view\'s feed follows it', async () => {
    const before = await kv();
    // What the live view follows: the slot's transitions and actor snapshots, and the result.
    const token = (await readFile(join(stateDir, 'admin.token'), 'utf8')).trim();
    const abort = new AbortController();
    const feed = await fetch(`http://${host.admin}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    const next = sseReader(feed.body!);
    expect((await next()).event).toBe('hello');
    const seen: SseEvent[] = [];
    const followed = (async () => {
      for (let event = await next(); ; event = await next()) {
        seen.push(event);
        if (event.event === 'reload') return;
      }
    })();
    const load = startCallers(8, () => front('/kv/colour'), ({ status, body }) => (status === 200 && body.value === 'green' ? null : `${status} ${JSON.stringify(body)}`));
    const swap = await run('plugin', 'try-activate', 'kv', V2, '--json');
    const during = load.answered;
    await load.stop();
    const result = JSON.parse(swap.stdout);
    expect(swap.exitCode, swap.stdout).toBe(0);
    expect(result).toMatchObject({ outcome: 'activated', previous: { version: '1.0.0', pid: before.pid }, active: { version: '2.0.0' } });
    await followed;
    abort.abort();
    const transitions = seen.filter((e) => e.event === 'transition').map((e) => e.data as { target: string; state: string });
    expect(transitions.every((e) => e.target === 'plugin:kv')).toBe(true);
    expect(transitions.map((e) => e.state)).toEqual(['staging', 'staged', 'candidateStarted', 'handshaked', 'healthy', 'probed', 'confirming', 'draining', 'active']);
    const snapshots = seen.filter((e) => e.event === 'inspect').map((e) => e.data as { actorId: string; state: unknown });
    expect(snapshots.filter((e) => e.actorId === 'plugin:kv').at(-1)?.state).toBe('active');
    expect(load.failures).toEqual([]);
    expect(during).toBeGreaterThan(10);
    expect(await waitForExit(before.pid)).toBe(true);
    // 2.0.0's one more field: the revision of the key 1.0.0 wrote.
    expect(await front('/kv/colour')).toEqual({ status: 200, body: { value: 'green', revision: 1 } });
    expect(await put('colour', 'blue')).toEqual({ status: 200, body: { revision: 2 } });
  });

  it('drains go-plugin\'s stdio stream where the plugin serves it: what 2.0.0 prints after its handshake is in `wfctl plugin logs`', async () => {
    expect(await put('shape', 'round')).toEqual({ status: 200, body: { revision: 1 } });
    const printed = 'stored "shape" at revision 1';
    const deadline = Date.now() + scaled(5_000);
    for (;;) {
      const lines = JSON.parse((await run('plugin', 'logs', 'kv', '--json')).stdout).lines as Array<{ line: string; version: string }>;
      const found = lines.find((entry) => entry.line === printed);
      if (found) {
        expect(found.version).toBe('2.0.0');
        break;
      }
      if (Date.now() > deadline) throw new Error(`"${printed}" is not in kv's logs: ${JSON.stringify(lines.slice(-5))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('is drawn in the live view like any other plugin: its slot machine, active, serving 2.0.0, with its memory and CPU', async () => {
    const listed = await kv();
    const url = JSON.parse((await run('live', '--json')).stdout).url as string;
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForSelector('body[data-live="true"]');
      const card = page.locator('.slot[data-actor="plugin:kv"]');
      await page.waitForSelector('.slot[data-actor="plugin:kv"][data-current="active"][data-health="serving"]');
      expect(await card.locator('.health').innerText()).toBe(`· serving ${listed.version}`);
      expect(await card.locator('.usage').innerText()).toMatch(/^· \d+ MiB, cpu \d+\.\d s$/);
      const states = await card.locator('.state').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('data-state')));
      expect(states).toEqual(expect.arrayContaining(['idle', 'staging', 'staged', 'candidateStarted', 'handshaked', 'healthy', 'probed', 'draining', 'active', 'rolledBack']));
    } finally {
      await browser.close();
    }
  });

  type Refusal = [string, (manifest: Record<string, any>) => void, { failedStep: string; code: string; message: RegExp }, Record<string, (text: string) => string>?];
  const refusals: Refusal[] = [
    [
      'no magic cookie: the binary exits with go-plugin\'s own message',
      (m) => (m.goPlugin.magicCookie.value = 'not-what-kv-expects'),
      { failedStep: 'handshake', code: 'WFR_PLUGIN_EXITED', message: /exited with code 1 during (initialize|the reload)\. Last stderr: This binary is a plugin\. These are not meant to be executed directly\./ },
    ],
    [
      'an app protocol version the manifest does not accept',
      (m) => (m.goPlugin.appProtocolVersions = [2]),
      { failedStep: 'handshake', code: 'WFR_GO_PLUGIN_HANDSHAKE_INVALID', message: /the plugin serves app protocol version "1", but plugin\.json's goPlugin\.appProtocolVersions accepts only 2 \(stdout line: "1\|1\|unix\|\/.+\|grpc\|"\)/ },
    ],
    [
      'a handshake line that never comes',
      (m) => (m.command = ['node', '-e', 'setInterval(() => {}, 1000)']),
      { failedStep: 'handshake', code: 'WFR_PLUGIN_HANDSHAKE_TIMEOUT', message: /wrote no go-plugin handshake line within \d+ ms/ },
    ],
    [
      'a garbage first line',
      (m) => (m.command = ['node', '-e', 'console.log("listening on :8080"); setInterval(() => {}, 1000)']),
      { failedStep: 'handshake', code: 'WFR_GO_PLUGIN_HANDSHAKE_INVALID', message: /expected 5 fields separated by "\|", got 1 \(stdout line: "listening on :8080"\)/ },
    ],
    [
      'a declared method the service lacks (its .proto has it, the binary does not: found by gRPC reflection)',
      (m) => {
        m.contract.steps.push({ type: 'delete' });
        m.goPlugin.steps.delete = { method: 'Delete' };
      },
      { failedStep: 'handshake', code: 'WFR_PLUGIN_CONTRACT_MISMATCH', message: /go-plugin plugin "kv" serves no method kv\.KV\/Delete \(its methods: Get, Put, by gRPC reflection\)/ },
      { 'kv.proto': (text) => text.replace('service KV {', 'service KV {\n  rpc Delete(GetRequest) returns (PutResponse);') },
    ],
    [
      'a method its .proto files do not define',
      (m) => {
        m.contract.steps.push({ type: 'delete' });
        m.goPlugin.steps.delete = { method: 'Delete' };
      },
      { failedStep: 'handshake', code: 'WFR_GO_PLUGIN_PROTO_INVALID', message: /service kv\.KV in kv\.proto has no method "Delete" \(step "delete"\); it has: Get, Put/ },
    ],
    [
      'health NOT_SERVING',
      (m) => (m.env = { KV_FAULT: 'not-serving' }),
      { failedStep: 'probe', code: 'WFR_PLUGIN_UNHEALTHY', message: /answered grpc\.health\.v1\.Health\/Check for service "plugin" with \{"status":"NOT_SERVING"\}, expected \{"status":"SERVING"\}/ },
    ],
    [
      'a crash during the probe',
      (m) => {
        m.env = { KV_FAULT: 'exit-on-call' };
        m.probe = [{ step: 'get', input: { key: 'colour' } }];
      },
      { failedStep: 'probe', code: 'WFR_PLUGIN_EXITED', message: /exited with code 3 during (invoke of "get"|the reload)/ },
    ],
  ];

  it.each(refusals.map(([name, edit, expected, files], index) => ({ name, edit, expected, files, index })))('rolls back a candidate with $name; the old process serves on, the marker is byte-identical', async ({ name, edit, expected, files, index }) => {
    const before = await kv();
    const markerBefore = await marker();
    const dir = await candidate(scratch, `bad-${index}`, (manifest) => {
      manifest.version = `2.0.${index + 1}`;
      edit(manifest);
    }, files);
    const attempt = await run('plugin', 'try-activate', 'kv', dir, '--json');
    const result = JSON.parse(attempt.stdout);
    expect(attempt.exitCode, `${name}: ${attempt.stdout}`).toBe(1);
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: expected.failedStep, error: { code: expected.code }, active: { version: '2.0.0', pid: before.pid } });
    expect(result.error.message).toMatch(expected.message);
    expect(await kv()).toMatchObject({ version: '2.0.0', pid: before.pid, health: 'serving' });
    expect((await marker()).equals(markerBefore)).toBe(true);
    expect(strays(before.pid)).toEqual([]);
    expect(await front('/kv/colour')).toEqual({ status: 200, body: { value: 'blue', revision: 2 } });
  });
});

describe('a host killed with SIGKILL during a go-plugin swap', () => {
  it('leaves no plugin process behind: the restart kills both, removes their sockets, reverts the unconfirmed swap and serves 1.0.0', async () => {
    requireBuiltExamples();
    const scratch = await tempDir('wfr-kv-go-kill-');
    const stateDir = join(scratch, 'state');
    const socketDirs = () => execa('sh', ['-c', `ls -d "${process.env.TMPDIR ?? '/tmp'}"/wfr-gp-* 2>/dev/null || true`]).then((r) => r.stdout.split('\n').filter(Boolean));
    const socketsBefore = new Set(await socketDirs());
    // 1.0.0 active and confirmed; then a host with a long confirmation window, which dies after the swap, before 2.0.0 is confirmed.
    await (await startServe(stateDir, await exampleConfig(V1, scratch))).stop();
    const doomed = await startServe(stateDir, undefined, { confirmMs: scaled(60_000) });
    let restarted: RunningHost | undefined;
    try {
      const listed = async (host: RunningHost) => (JSON.parse((await wfctl(host, stateDir, 'plugin', 'list', '--json')).stdout).plugins as Listed[])[0]!;
      const old = await listed(doomed);
      const swap = wfctl(doomed, stateDir, 'plugin', 'try-activate', 'kv', V2, '--json');
      let swapped: Listed;
      const deadline = Date.now() + scaled(20_000);
      for (;;) {
        swapped = await listed(doomed);
        if (swapped.version === '2.0.0') break;
        if (Date.now() > deadline) throw new Error(`2.0.0 was not swapped in: ${JSON.stringify(swapped)}`);
      }
      // Both are running now: 2.0.0 serving, 1.0.0 kept for the confirmation window.
      expect(isAlive(old.pid) && isAlive(swapped.pid)).toBe(true);
      const ours = (await socketDirs()).filter((dir) => !socketsBefore.has(dir));
      expect(ours.length).toBe(2);
      doomed.process.kill('SIGKILL');
      await doomed.process;
      await swap;

      restarted = await startServe(stateDir);
      expect(isAlive(old.pid)).toBe(false);
      expect(isAlive(swapped.pid)).toBe(false);
      for (const dir of ours) expect(existsSync(dir)).toBe(false);
      const now = await listed(restarted);
      expect(now).toMatchObject({ version: '1.0.0', health: 'serving' });
      expect(processesUnder(join(stateDir, 'plugins', 'kv'))).toEqual([now.pid]);
      const reloads = JSON.parse((await wfctl(restarted, stateDir, 'reloads', '--json')).stdout).reloads as Array<{ outcome: string; target: string }>;
      expect(reloads.map((r) => r.outcome)).toContain('recovered');
    } finally {
      if (doomed.process.exitCode === null && !doomed.process.killed) await doomed.stop();
      await restarted?.stop();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
