/**
 * CLI start: how long a wfctl command takes from spawn to exit, against the
 * floor of the same work without wfctl, alternated in one run:
 *  - `wfctl --version` against `node -e 0` (starting Node at all);
 *  - `wfctl status --json` against a bare node script that fetches the same
 *    status URL with the same token and prints the body.
 * For the record, the development path (the same lazy CLI run from its
 * TypeScript sources through tsx) runs beside them: the part of the old
 * start-up cost that compiling removes, without the eager imports that the
 * old CLI also paid for (those are gone from both paths).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { createInterface } from 'node:readline';
import { printTable, quick, root, round, saveResults, tempDir, timingRow } from './lib.js';

const ROUNDS = quick ? 3 : 30;
const WFCTL = join(root, 'bin/wfctl.js');
const stateDir = await tempDir('wfr-bench-cli-');

const host = execa(process.execPath, [WFCTL, 'serve', '--state-dir', stateDir, '--admin', '127.0.0.1:0', '--log-level', 'silent'], { reject: false });
const admin = await new Promise<string>((resolve, reject) => {
  createInterface({ input: host.stdout! }).on('line', (line) => {
    const match = /admin API on http:\/\/([^/]+)\//.exec(line);
    if (match) resolve(match[1]!);
  });
  void host.then((result) => reject(new Error(`wfctl serve exited early: ${result.stderr}`)));
});
const token = (await readFile(join(stateDir, 'admin.token'), 'utf8')).trim();

/** Wall time from spawn to exit of one command; it must exit 0. */
function timed(args: string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

const fetchStatus = `fetch(process.argv[1], { headers: { authorization: 'Bearer ' + process.argv[2] } }).then((r) => r.text()).then((t) => process.stdout.write(t + '\\n'))`;
const commands = {
  nodeFloor: ['-e', '0'],
  version: [WFCTL, '--version'],
  versionTsx: ['--import', 'tsx', join(root, 'src/cli/main.ts'), '--version'],
  statusFloor: ['-e', fetchStatus, `http://${admin}/api/v1/status`, token],
  status: [WFCTL, 'status', '--json', '--admin', admin, '--state-dir', stateDir],
};
const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, [] as number[]])) as Record<keyof typeof commands, number[]>;
try {
  for (const [name, args] of Object.entries(commands)) await timed(args).catch((error) => Promise.reject(new Error(`${name}: ${error.message}`)));
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate the order every round so neither side always runs on a warmer machine.
    const order = (i % 2 === 0 ? Object.keys(commands) : Object.keys(commands).reverse()) as Array<keyof typeof commands>;
    for (const name of order) samples[name].push(await timed(commands[name]));
  }
} finally {
  host.kill('SIGTERM');
  await host;
}

const rows = [
  timingRow('floor: node -e 0', samples.nodeFloor),
  timingRow('wfctl --version (compiled, dist/)', samples.version),
  timingRow('wfctl --version from sources through tsx (dev path)', samples.versionTsx),
  timingRow('floor: bare node script fetching /status', samples.statusFloor),
  timingRow('wfctl status --json (compiled, dist/)', samples.status),
];
printTable('CLI start: spawn to exit, alternated in one run', rows);
const ratio = (a: number, b: number) => round(rows[a]!.p50_ms / rows[b]!.p50_ms, 2);
const versionRatio = ratio(1, 0);
const statusRatio = ratio(4, 3);
const verdict = (r: number) => (r <= 2.5 ? 'met' : 'NOT met');
console.log(
  `\nsummary: wfctl --version / node -e 0 = ${versionRatio} at p50 (target ≤ 2.5: ${verdict(versionRatio)}); ` +
    `wfctl status --json / bare fetch = ${statusRatio} at p50 (target ≤ 2.5: ${verdict(statusRatio)}); ` +
    `from sources through tsx, --version is ${ratio(2, 0)}× the floor`,
);
await saveResults('cliStart', { rounds: ROUNDS, rows, versionRatioP50: versionRatio, statusRatioP50: statusRatio, tsxVersionRatioP50: ratio(2, 0) });
