/**
 * Against the process manager Node users reach for: the same load, the same
 * number of good and bad upgrades, through `pm2 reload` (cluster mode, a
 * private PM2_HOME, killed afterwards) and through wfreload's try-activate,
 * side by side in one run.
 */
import { readFileSync } from 'node:fs';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import pino from 'pino';
import { stringify } from 'yaml';
import { createOrchestrator } from '../src/index.js';
import { fakePluginDir, printTable, quick, root, saveResults, startLoad, stopOnExit, summarize, tempDir, waitUntilGone } from './lib.js';

const UPGRADES = quick ? 1 : 5;
// A quick run (the test suite's smoke test) only proves the script runs to the end: a shorter bound keeps it well inside the test's.
const PM2_COMMAND_TIMEOUT_MS = quick ? 15_000 : 60_000;
const CONCURRENCY = quick ? 2 : 16;
const work = await tempDir('wfr-bench-pm2-');

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

type Row = {
  tool: string;
  upgrade: string;
  runs: number;
  sent: number;
  failed: number;
  non2xx: number;
  after: string;
};

async function measure(url: string, upgrades: Array<() => Promise<string>>): Promise<{ sent: number; failed: number; non2xx: number; after: string }> {
  const load = await startLoad(url, CONCURRENCY, 10_000_000);
  let after = '';
  for (const upgrade of upgrades) after = await upgrade();
  // Let requests started during the last upgrade finish and be counted.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { ...summarize(await load.finish()), after };
}

// ---------------------------------------------------------------- pm2
const pm2Home = join(work, 'pm2-home');
// However this script ends (an error, SIGTERM from a test that gave up on it), the pm2 daemon and its
// workers go with it: they run detached in their own process group, which `pm2 kill` alone would leave.
let daemonPid: number | null = null;
stopOnExit(() => {
  if (!daemonPid) return;
  process.kill(-daemonPid, 'SIGKILL');
  // Wait (synchronously: this runs on exit) until the group is gone, so nothing still writes into the scratch directory.
  waitUntilGone(daemonPid, 5_000);
});
const app = join(work, 'app');
await execa('mkdir', ['-p', app]);
await copyFile(join(root, 'bench/fixtures/pm2-app.cjs'), join(app, 'app.cjs'));
await writeFile(join(app, 'version.txt'), '1');
const pm2Port = await freePort();
const debug = (what: string) => process.env.BENCH_DEBUG && console.error(`[pm2 bench] ${what}`);
debug(`work ${work}`);
let pm2Calls = 0;
/**
 * One pm2 command, bounded. Its output goes to a file, never a pipe: the daemon a pm2 command may spawn
 * inherits its stdio, and a pipe it holds open would keep the command from ever finishing for us.
 */
const pm2 = async (...args: string[]) => {
  debug(`pm2 ${args.join(' ')}`);
  const out = join(work, `pm2-out-${++pm2Calls}.txt`);
  const result = await execa(join(root, 'node_modules/.bin/pm2'), args, {
    env: { PM2_HOME: pm2Home, PORT: String(pm2Port) },
    reject: false,
    // pm2's CLI can wait a long time on a reload of a crashing app: bound it, and report the timeout in the table.
    timeout: PM2_COMMAND_TIMEOUT_MS,
    stdin: 'ignore',
    stdout: { file: out },
    stderr: 'ignore',
  });
  return { timedOut: result.timedOut, exitCode: result.exitCode, stdout: await readFile(out, 'utf8').catch(() => '') };
};
const pm2Up = async () => {
  const list = JSON.parse((await pm2('jlist')).stdout || '[]') as Array<{ pm2_env: { status: string } }>;
  return `${list.filter((p) => p.pm2_env.status === 'online').length}/${list.length} workers online`;
};
const rows: Row[] = [];
try {
  await pm2('start', join(app, 'app.cjs'), '-i', '2', '--name', 'wfbench');
  // Read now: the scratch directory (and this file in it) may be gone by the time the exit handler runs.
  daemonPid = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8'));
  // Wait until the cluster answers.
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${pm2Port}/`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let version = 1;
  const good = async () => {
    await writeFile(join(app, 'version.txt'), String(++version));
    const r = await pm2('reload', 'wfbench');
    return `${r.timedOut ? 'reload timed out' : `exit ${r.exitCode}`}, ${await pm2Up()}`;
  };
  const pm2Good = await measure(`http://127.0.0.1:${pm2Port}/`, Array.from({ length: UPGRADES }, () => good));
  rows.push({ tool: 'pm2 reload (cluster, 2 workers)', upgrade: 'good', runs: UPGRADES, ...pm2Good });
  const bad = async () => {
    await writeFile(join(app, 'broken'), '');
    const r = await pm2('reload', 'wfbench');
    return `${r.timedOut ? 'reload timed out' : `exit ${r.exitCode}`}, ${await pm2Up()}`;
  };
  const pm2Bad = await measure(`http://127.0.0.1:${pm2Port}/`, Array.from({ length: UPGRADES }, () => bad));
  rows.push({ tool: 'pm2 reload (cluster, 2 workers)', upgrade: 'bad (crashes at start)', runs: UPGRADES, ...pm2Bad });
} finally {
  await pm2('kill');
  await rm(pm2Home, { recursive: true, force: true });
}

// ---------------------------------------------------------------- wfreload
const host = await createOrchestrator({ stateDir: join(work, 'state'), logger: pino({ level: 'silent' }), timeouts: { confirmMs: 200, graceMs: 500 } });
try {
  const versions = [await fakePluginDir(work, 'fake', '1.0.0'), await fakePluginDir(work, 'fake', '2.0.0')];
  const broken = await fakePluginDir(work, 'fake', '3.0.0', ['exit-early']);
  const config = join(work, 'config.yaml');
  await writeFile(config, stringify({ http: { listen: '127.0.0.1:0' }, plugins: { fake: { dir: versions[0] } }, pipelines: [{ route: 'GET /', steps: [{ use: 'fake.echo' }] }], probes: [{ request: 'GET /', expect: { status: 200 } }] }));
  await host.tryActivateConfig(config);
  const url = `http://${host.engineStatus()!.address}/`;
  let i = 0;
  const state = () => {
    const plugin = host.listPlugins()[0];
    return plugin ? `${plugin.version} serving (pid ${plugin.pid})` : 'nothing serving';
  };
  const good = async () => `${(await host.tryActivatePlugin('fake', versions[++i % 2]!)).outcome}, ${state()}`;
  rows.push({ tool: 'wfreload try-activate', upgrade: 'good', runs: UPGRADES, ...(await measure(url, Array.from({ length: UPGRADES }, () => good))) });
  const bad = async () => `${(await host.tryActivatePlugin('fake', broken)).outcome}, ${state()}`;
  rows.push({ tool: 'wfreload try-activate', upgrade: 'bad (crashes at start)', runs: UPGRADES, ...(await measure(url, Array.from({ length: UPGRADES }, () => bad))) });
} finally {
  await host.close();
}

printTable(`pm2 and wfreload under the same load (${CONCURRENCY} concurrent clients), one run`, rows);
const pick = (tool: string, upgrade: string) => rows.find((r) => r.tool.startsWith(tool) && r.upgrade.startsWith(upgrade))!;
console.log(
  `\nsummary: good upgrades: pm2 ${pick('pm2', 'good').failed + pick('pm2', 'good').non2xx} failed, wfreload ${pick('wfreload', 'good').failed + pick('wfreload', 'good').non2xx}; bad upgrades: pm2 ${pick('pm2', 'bad').failed + pick('pm2', 'bad').non2xx} failed (${pick('pm2', 'bad').after}), wfreload ${pick('wfreload', 'bad').failed + pick('wfreload', 'bad').non2xx} (${pick('wfreload', 'bad').after})`,
);
await saveResults('pm2', { upgrades: UPGRADES, concurrency: CONCURRENCY, rows });
