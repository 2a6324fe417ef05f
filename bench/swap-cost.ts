/**
 * Swap overhead and rollback speed. The floor is what no reload can avoid:
 * spawning the same plugin, completing the handshake and one health call,
 * measured with a bare script that uses no wfreload code, alternating with
 * wfreload's try-activate in the same run. The same again for the go-plugin
 * example kv (examples/plugins/kv-go-*): its floor spawns the Go binary, reads
 * its handshake line, connects and calls grpc.health.v1.Health/Check; and for
 * the MCP example server-memory (examples/plugins/memory-mcp-*): initialize,
 * tools/list and ping, what the host's MCP handshake and health ask.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import pino from 'pino';
import { createOrchestrator, type Orchestrator, type ReloadResult } from '../src/index.js';
import { createAdminApi, startAdminServer } from '../src/api/server.js';
// Only the health message definitions; the floor uses no reload code.
import { hostMethods } from '../src/plugins/go-plugin/host-protos.js';
import { fakePluginDir, percentile, printTable, quick, round, saveResults, tempDir, timingRow } from './lib.js';

// The swap rows are the target (≤ 1.15× the floor at p50): enough rounds that the median holds still on a noisy machine.
const ROUNDS = quick ? 3 : 100;
// The go-plugin and MCP rows: each swap is an example of its own protocol, not the target.
const EXAMPLE_ROUNDS = quick ? 3 : 40;
const work = await tempDir('wfr-bench-cost-');
// Three versions: each round swaps in-process to the next, then through the admin API to the one after.
const dirs = [await fakePluginDir(work, 'fake', '1.0.0'), await fakePluginDir(work, 'fake', '2.0.0'), await fakePluginDir(work, 'fake', '3.0.0')];
const bad = await fakePluginDir(work, 'fake', '9.0.0', ['unhealthy']);

/** The floor: spawn, initialize, health, then kill; no wfreload code. */
function bare(dir: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['plugin.mjs'], { cwd: dir, env: { ...process.env, WFRELOAD_PLUGIN_MAGIC_COOKIE: 'f3c1a4b0-wfreload-plugin-protocol-1' }, stdio: ['pipe', 'pipe', 'ignore'] });
    const lines = createInterface({ input: child.stdout });
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1, name: 'fake' } })}\n`);
    lines.on('line', (line) => {
      const { id } = JSON.parse(line);
      if (id === 1) child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'health', params: {} })}\n`);
      else {
        const ms = performance.now() - start;
        child.once('exit', () => resolve(ms));
        child.kill('SIGKILL');
      }
    });
    child.once('error', reject);
  });
}

const KV = ['kv-go-v1', 'kv-go-v2'].map((name) => fileURLToPath(new URL(`../examples/plugins/${name}`, import.meta.url)));

/** The go-plugin floor: spawn the binary, read its handshake line, connect, Health/Check, then kill (its socket, left behind, goes with `dataDir`). */
function bareGoPlugin(dir: string, dataDir: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('./plugin', [], { cwd: dir, env: { ...process.env, KV_PLUGIN_COOKIE: '5f0e3c6a-kv', PLUGIN_PROTOCOL_VERSIONS: '1', WFRELOAD_DATA_DIR: dataDir, TMPDIR: dataDir }, stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const client = new grpc.Client(`unix://${line.split('|')[3]}`, grpc.credentials.createInsecure());
      const { path, requestSerialize, responseDeserialize } = hostMethods.healthCheck;
      client.makeUnaryRequest(path, requestSerialize, responseDeserialize, { service: 'plugin' }, (error) => {
        if (error) return reject(error);
        const ms = performance.now() - start;
        client.close();
        child.once('exit', () => resolve(ms));
        child.kill('SIGKILL');
      });
    });
    child.once('error', reject);
  });
}

const MEMORY = ['memory-mcp-2025.11.25', 'memory-mcp-2026.8.31'].map((name) => fileURLToPath(new URL(`../examples/plugins/${name}`, import.meta.url)));

/** The MCP floor: spawn the server its manifest names, initialize, the initialized notice, tools/list, ping, then kill. */
function bareMcp(dir: string, dataDir: string): Promise<number> {
  const [, ...args] = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8')).command as string[];
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, MEMORY_FILE_PATH: join(dataDir, 'memory.jsonl') }, stdio: ['pipe', 'pipe', 'ignore'] });
    const send = (message: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const { id } = JSON.parse(line);
      if (id === 1) {
        send({ method: 'notifications/initialized' });
        send({ id: 2, method: 'tools/list' });
      } else if (id === 2) send({ id: 3, method: 'ping' });
      else if (id === 3) {
        const ms = performance.now() - start;
        child.once('exit', () => resolve(ms));
        child.kill('SIGKILL');
      }
    });
    send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'floor', version: '1.0.0' } } });
    child.once('error', reject);
  });
}

const TOKEN = 'bench-token-0123456789abcdef';

const agent = new http.Agent({ keepAlive: true });

/**
 * One try-activate as an update manager sends it: POST to the admin API on loopback, the answer's body read
 * and parsed. With node:http and keep-alive, as in the front-door bench: fetch's client costs about 1 ms more a call.
 */
function viaApi(admin: string, name: string, dir: string): Promise<ReloadResult> {
  const at = admin.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ dir });
    // With its length, as curl and wfctl (fetch) send it: not chunked.
    const request = http.request({ host: admin.slice(0, at), port: Number(admin.slice(at + 1)), path: `/api/v1/plugins/${name}/try-activate`, method: 'POST', agent, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReloadResult));
    });
    request.once('error', reject);
    request.end(body);
  });
}

/** One try-activate, timed (in-process, or through the admin API), with the time from each slot state entered to the next added to `legs`. */
async function timedSwap(host: Orchestrator, name: string, dir: string, legs: Map<string, number[]>, admin?: string) {
  const entered: Array<[string, number]> = [];
  const follow = host.events.subscribe((event) => {
    if (event.type === 'transition') entered.push([event.state, performance.now()]);
  });
  const start = performance.now();
  const result = admin ? await viaApi(admin, name, dir) : await host.tryActivatePlugin(name, dir);
  const end = performance.now();
  follow();
  [['call', start] as [string, number], ...entered, ['return', end] as [string, number]].forEach(([state, at], k, all) => {
    if (k === 0) return;
    const leg = `${all[k - 1]![0]} → ${state}`;
    legs.set(leg, [...(legs.get(leg) ?? []), at - all[k - 1]![1]]);
  });
  return { ms: end - start, result };
}

// confirmMs 0: one health call after the swap, the same work the floor does once.
const host = await createOrchestrator({ stateDir: join(work, 'state'), logger: pino({ level: 'silent' }), timeouts: { confirmMs: 0, graceMs: 500 } });
await host.tryActivatePlugin('fake', dirs[0]!);
const api = await startAdminServer(await createAdminApi(host, TOKEN), '127.0.0.1:0');
// A first request, so the client's connection set-up is not in the first round.
await new Promise((resolve, reject) => http.get(`http://${api.address}/api/v1/status`, { agent, headers: { authorization: `Bearer ${TOKEN}` } }, (response) => response.resume().on('end', resolve)).once('error', reject));
const floor: number[] = [];
const safe: number[] = [];
const viaAdmin: number[] = [];
const apiLegs = new Map<string, number[]>();
const rollback: number[] = [];
/** Where a try-activate spends its time: from each slot state entered to the next (and from the call, to the return). */
const legs = new Map<string, number[]>();
/** The version the next swap activates: one that is not active. */
let active = 0;
const next = () => dirs[(active + 1) % 3]!;
/** The three timed measures of a round; each round runs them in a different order (a rotation), so that none always runs right after the same other one. */
const measures: Array<() => Promise<void>> = [
  async () => {
    floor.push(await bare(next()));
  },
  async () => {
    const { ms, result } = await timedSwap(host, 'fake', next(), legs);
    if (result.outcome !== 'activated') throw new Error(`a swap was ${result.outcome}: ${result.error?.message}`);
    safe.push(ms);
    active = (active + 1) % 3;
  },
  async () => {
    const { ms, result } = await timedSwap(host, 'fake', next(), apiLegs, api.address);
    if (result.outcome !== 'activated') throw new Error(`a swap through the admin API was ${result.outcome}: ${result.error?.message}`);
    viaAdmin.push(ms);
    active = (active + 1) % 3;
  },
];
for (let i = 0; i < ROUNDS; i++) {
  for (let k = 0; k < measures.length; k++) {
    // Each timed call starts on a settled host: the floor's kill and exit are outside its time too.
    await host.settled();
    await measures[(i + k) % measures.length]!();
  }
  await host.settled();
  // Rollback speed: from entering rollingBack (the probe has failed) to the result being returned.
  let failedAt = 0;
  const off = host.events.subscribe((event) => {
    if (event.type === 'transition' && event.state === 'rollingBack') failedAt = performance.now();
  });
  const rolled = await host.tryActivatePlugin('fake', bad);
  rollback.push(performance.now() - failedAt);
  off();
  if (rolled.outcome !== 'rolledBack') throw new Error('the bad candidate was not rolled back');
  await host.settled();
}
agent.destroy();
await api.close();
await host.close();

/**
 * A protocol's example at two versions, swapped back and forth by a host of its own, each swap alternating
 * with its floor (the same binary spawned, handshaken and health-checked by a bare script, then killed),
 * the floor first in one round and second in the next.
 */
async function alternate(name: string, dirs: string[], floorOf: (dir: string) => Promise<number>, state: string) {
  const floorMs: number[] = [];
  const swapMs: number[] = [];
  const legsOf = new Map<string, number[]>();
  const own = await createOrchestrator({ stateDir: join(work, state), logger: pino({ level: 'silent' }), timeouts: { confirmMs: 0, graceMs: 500 } });
  await own.tryActivatePlugin(name, dirs[0]!);
  for (let i = 0; i < EXAMPLE_ROUNDS; i++) {
    const floorRun = async () => {
      floorMs.push(await floorOf(dirs[(i + 1) % 2]!));
    };
    const swapRun = async () => {
      const { ms, result } = await timedSwap(own, name, dirs[(i + 1) % 2]!, legsOf);
      if (result.outcome !== 'activated') throw new Error(`${name} swap ${i} was ${result.outcome}: ${result.error?.message}`);
      swapMs.push(ms);
    };
    // In turn first and second, each on a settled host.
    for (const run of i % 2 === 0 ? [floorRun, swapRun] : [swapRun, floorRun]) {
      await own.settled();
      await run();
    }
  }
  await own.close();
  return { floorMs, swapMs, legsOf };
}

// The go-plugin and MCP examples, when they are built (npm run examples:install).
const go = KV.every((dir) => existsSync(join(dir, 'plugin'))) ? await alternate('kv', KV, (dir) => bareGoPlugin(dir, work), 'state-go') : null;
if (!go) console.log('go-plugin rows skipped: examples/plugins/kv-go-* are not built (npm run examples:install needs Go and go-plugin)');
const mcp = MEMORY.every((dir) => existsSync(join(dir, 'node_modules'))) ? await alternate('memory', MEMORY, (dir) => bareMcp(dir, work), 'state-mcp') : null;
if (!mcp) console.log('MCP rows skipped: examples/plugins/memory-mcp-* have no node_modules (npm run examples:install)');
const rows = [timingRow('floor: spawn + initialize + health (bare script)', floor), timingRow('wfreload try-activate (stage → drain, real swap)', safe), timingRow('the same through the admin API (POST on loopback)', viaAdmin), timingRow('rollback: probe failed → candidate reaped, result back', rollback)];
const goRows = go ? [timingRow('go-plugin floor: spawn + handshake line + Health/Check (kv binary)', go.floorMs), timingRow('go-plugin: wfreload try-activate of kv (stage → drain)', go.swapMs)] : [];
const mcpRows = mcp ? [timingRow('MCP floor: spawn + initialize + tools/list + ping (server-memory)', mcp.floorMs), timingRow('MCP: wfreload try-activate of server-memory (stage → drain)', mcp.swapMs)] : [];
printTable('Swap overhead and rollback speed, measured alternately in one run', [...rows, ...goRows, ...mcpRows]);
// What each leg does (the slot's work for the state it leaves): see docs/benchmarks.md.
printTable(
  'Where a try-activate spends its time (p50 of each leg, same runs)',
  [...legs].map(([leg, values]) => ({ leg, p50_ms: round(percentile(values, 50), 2), ...(apiLegs.has(leg) ? { admin_api_p50_ms: round(percentile(apiLegs.get(leg)!, 50), 2) } : {}), ...(go?.legsOf.has(leg) ? { go_plugin_p50_ms: round(percentile(go.legsOf.get(leg)!, 50), 2) } : {}), ...(mcp?.legsOf.has(leg) ? { mcp_p50_ms: round(percentile(mcp.legsOf.get(leg)!, 50), 2) } : {}) })),
);
const ratio50 = round(rows[1]!.p50_ms / rows[0]!.p50_ms, 2);
const ratio99 = round(rows[1]!.p99_ms / rows[0]!.p99_ms, 2);
const apiRatio50 = round(rows[2]!.p50_ms / rows[0]!.p50_ms, 2);
const goRatio50 = goRows.length > 0 ? round(goRows[1]!.p50_ms / goRows[0]!.p50_ms, 2) : null;
const mcpRatio50 = mcpRows.length > 0 ? round(mcpRows[1]!.p50_ms / mcpRows[0]!.p50_ms, 2) : null;
console.log(`\nsummary: try-activate / floor = ${ratio50} at p50 (target ≤ 1.15: ${ratio50 <= 1.15 ? 'met' : 'NOT met'}), ${ratio99} at p99; through the admin API ${apiRatio50} at p50 (target ≤ 1.15: ${apiRatio50 <= 1.15 ? 'met' : 'NOT met'}); rollback p50 ${rows[3]!.p50_ms} ms${goRatio50 === null ? '' : `; go-plugin try-activate / floor = ${goRatio50} at p50`}${mcpRatio50 === null ? '' : `; MCP try-activate / floor = ${mcpRatio50} at p50`}`);
await saveResults('swapCost', {
  rounds: ROUNDS,
  exampleRounds: EXAMPLE_ROUNDS,
  rows,
  ratioP50: ratio50,
  ratioP99: ratio99,
  apiRatioP50: apiRatio50,
  goPlugin: goRows.length > 0 ? { rows: goRows, ratioP50: goRatio50 } : null,
  mcp: mcpRows.length > 0 ? { rows: mcpRows, ratioP50: mcpRatio50 } : null,
  legsP50: Object.fromEntries([...legs].map(([leg, values]) => [leg, round(percentile(values, 50), 2)])),
  apiLegsP50: Object.fromEntries([...apiLegs].map(([leg, values]) => [leg, round(percentile(values, 50), 2)])),
});
