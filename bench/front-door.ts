/**
 * Front-door throughput: GET through a route → pipeline → plugin over stdio,
 * against the floor: a bare node:http server doing one stdio JSON-RPC invoke
 * of the same plugin per request (bench/fixtures/floor-server.mjs), with the
 * same input a pipeline step sends, one write per request. A second floor
 * coalesces the writes of one event-loop turn as the host does, so the table
 * also shows what the host's own code costs beyond that. All run in their own
 * process, with their own copy of the plugin, and take turns under the same
 * load client (bench/throughput-client.mjs, keep-alive, fixed concurrency),
 * alternated round by round in one run. Reports requests/s and p50/p99.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { fakePluginDir, percentile, printTable, quick, root, round, saveResults, tempDir } from './lib.js';

const ROUNDS = quick ? 2 : 6;
const SECONDS = quick ? 1.5 : 4;
const WARMUP_MS = quick ? 300 : 1000;
const CONCURRENCY = 16;

const work = await tempDir('wfr-bench-door-');
const pluginDir = await fakePluginDir(work, 'fake', '1.0.0');
const configFile = join(work, 'door.yaml');
await writeFile(
  configFile,
  ['http:', '  listen: 127.0.0.1:0', 'plugins:', `  fake: { dir: ${JSON.stringify(pluginDir)} }`, 'pipelines:', '  - route: GET /echo/:word', '    steps:', '      - use: fake.echo', ''].join('\n'),
);

if (!existsSync(join(root, 'dist/src/cli/main.js'))) await execa('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

/** Start a server process; resolve with its base URL once the line matching `ready` says where it listens. */
async function startServer(args: string[], ready: RegExp): Promise<{ url: string; child: ResultPromise }> {
  const child = execa(process.execPath, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', reject: false, cwd: root });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = ready.exec(line);
      if (match) resolve(match[1]!);
    });
    void child.then(() => reject(new Error(`${args.join(' ')} exited before it was ready`)));
  });
  return { url, child };
}

const startFloor = (...mode: string[]) =>
  startServer([join(root, 'bench/fixtures/floor-server.mjs'), pluginDir, 'echo', ...mode], /^listening (\d+)$/).then((s) => ({ ...s, url: `http://127.0.0.1:${s.url}` }));
const floor = await startFloor();
const coalesced = await startFloor('coalesce');
const host = await startServer(
  [join(root, 'bin/wfctl.js'), 'serve', '--config', configFile, '--state-dir', join(work, 'state'), '--admin', '127.0.0.1:0', '--log-level', 'warn'],
  /front door on (http:\/\/\S+)/,
);

interface Run {
  ok: number;
  failed: number;
  seconds: number;
  latencies: number[];
}
const runLoad = async (base: string): Promise<Run> => {
  const { stdout } = await execa(process.execPath, [join(root, 'bench/throughput-client.mjs'), `${base}/echo/hello?x=1`, String(CONCURRENCY), String(SECONDS * 1000), String(WARMUP_MS)]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Run;
};

const servers = { floor, coalesced, host };
const samples = { floor: [] as Run[], coalesced: [] as Run[], host: [] as Run[] };
try {
  for (let i = 0; i < ROUNDS; i++) {
    // Rotate who goes first, so none always runs on a warmer machine.
    const order = (['floor', 'coalesced', 'host'] as const).map((_, k, all) => all[(k + i) % all.length]!);
    for (const who of order) samples[who].push(await runLoad(servers[who].url));
  }
} finally {
  floor.child.stdin!.end();
  coalesced.child.stdin!.end();
  host.child.kill('SIGTERM');
  await Promise.all([floor.child, coalesced.child, host.child]);
}

const row = (what: string, runs: Run[]) => {
  const latencies = runs.flatMap((r) => r.latencies);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  return {
    what,
    requests: latencies.length,
    failed: runs.reduce((n, r) => n + r.failed, 0),
    rps: round(latencies.length / seconds, 0),
    p50_ms: round(percentile(latencies, 50), 2),
    p99_ms: round(percentile(latencies, 99), 2),
  };
};
const rows = [
  row('floor: node:http + one stdio invoke (bare script)', samples.floor),
  row('wfreload front door: route → pipeline → plugin', samples.host),
  row('floor, coalescing its writes like the host', samples.coalesced),
];
printTable(`Front-door throughput, ${CONCURRENCY} keep-alive connections, ${ROUNDS} alternating rounds of ${SECONDS} s each`, rows);
const rpsRatio = round(rows[1]!.rps / rows[0]!.rps, 2);
const p99Ratio = round(rows[1]!.p99_ms / rows[0]!.p99_ms, 2);
const p50Ratio = round(rows[1]!.p50_ms / rows[0]!.p50_ms, 2);
const vsCoalesced = round(rows[1]!.rps / rows[2]!.rps, 2);
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
console.log(
  `\nsummary: front door / floor = ${rpsRatio}× the requests/s (target ≥ 0.9: ${met(rpsRatio >= 0.9)}), p99 ${p99Ratio}× (target ≤ 1.25: ${met(p99Ratio <= 1.25)}), p50 ${p50Ratio}×; ` +
    `against the coalescing floor, ${vsCoalesced}× the requests/s`,
);
await saveResults('frontDoor', { rounds: ROUNDS, secondsPerRound: SECONDS, concurrency: CONCURRENCY, rows, rpsRatio, p50Ratio, p99Ratio, rpsVsCoalescingFloor: vsCoalesced });
