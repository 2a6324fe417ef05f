/** Shared pieces of the benchmarks: stats, tables, the load client, plugin dirs, results.json. */
import { readFileSync, rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { createInterface } from 'node:readline';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

export const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** One row of a timing table: how many runs, the median and the p99. */
export const timingRow = (what: string, values: number[]) => ({ what, runs: values.length, p50_ms: round(percentile(values, 50)), p99_ms: round(percentile(values, 99)) });

/** The same with the fastest run instead of the p99 (few runs, a noisy floor). */
export const timingRowMin = (what: string, values: number[]) => ({ what, runs: values.length, p50_ms: round(percentile(values, 50)), min_ms: round(Math.min(...values)) });

export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  const columns = Object.keys(rows[0] ?? {});
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => String(r[c]).length));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(columns.map((c) => c.padEnd(width(c)))));
  console.log(line(columns.map((c) => '-'.repeat(width(c)))));
  for (const row of rows) console.log(line(columns.map((c) => String(row[c]).padEnd(width(c)))));
}

const tempDirs: string[] = [];
const stoppers: Array<() => void> = [];
/**
 * Stop something this benchmark started (a daemon, a process group) when it exits, however it exits: an
 * error, Ctrl-C, SIGTERM from a test that gave up on it. Runs before the scratch directories go, so nothing
 * is still writing into them. Must be synchronous (it runs in the 'exit' handler).
 */
export function stopOnExit(stop: () => void): void {
  stoppers.push(stop);
}

/** Block (for use on exit) until process `pid` has died (a zombie waiting for its reaper counts as dead), or `ms` passed. */
export function waitUntilGone(pid: number, ms: number): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    let state: string;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return;
    }
    if (state === 'Z' || state === 'X') return;
    Atomics.wait(pause, 0, 0, 20);
  }
}
// A benchmark's scratch directories go when it exits, however it exits (an uncaught error too). One failure
// must not skip the rest: each step is tried on its own.
process.on('exit', () => {
  for (const stop of stoppers) {
    try {
      stop();
    } catch {
      // Already gone.
    }
  }
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    } catch (error) {
      process.stderr.write(`could not remove ${dir}: ${(error as Error).message}\n`);
    }
  }
});
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A plugin directory with the test suite's fake plugin (name and version from its manifest). */
export async function fakePluginDir(parent: string, name: string, version: string, flags: string[] = []): Promise<string> {
  const dir = join(parent, `${name}-${version}-${flags.join('_') || 'ok'}`);
  await mkdir(dir, { recursive: true });
  await copyFile(join(root, 'test/fixtures/fake-plugin.mjs'), join(dir, 'plugin.mjs'));
  await writeFile(join(dir, 'plugin.json'), JSON.stringify({ name, version, protocolVersion: 1, command: ['node', 'plugin.mjs', ...flags], contract: { steps: [{ type: 'echo' }] } }));
  return dir;
}

export interface LoadRun {
  /** Stop the load and collect every sample. */
  finish(): Promise<Array<[number, number, number]>>;
}

/** Start the load client process against `url`. Resolves once it is sending. */
export async function startLoad(url: string, concurrency: number, max: number): Promise<LoadRun> {
  const child = execa(process.execPath, [join(root, 'bench/load-client.mjs'), url, String(concurrency), String(max)], { stdin: 'pipe', buffer: true });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  return {
    async finish() {
      child.stdin!.end();
      const result = await child;
      if (process.env.BENCH_DEBUG) process.stderr.write(String(result.stderr));
      const last = result.stdout.trim().split('\n').at(-1)!;
      return JSON.parse(last).samples;
    },
  };
}

export function summarize(samples: Array<[number, number, number]>) {
  return {
    sent: samples.length,
    failed: samples.filter(([, , status]) => status === 0).length,
    non2xx: samples.filter(([, , status]) => status !== 0 && (status < 200 || status > 299)).length,
  };
}

export const machine = () => ({ cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGiB: round(totalmem() / 2 ** 30), node: process.version });

/** Merge this benchmark's numbers into bench/results.json. */
export async function saveResults(name: string, data: unknown): Promise<void> {
  const file = join(root, 'bench/results.json');
  const all = JSON.parse(await readFile(file, 'utf8').catch(() => '{}'));
  all.machine = machine();
  all[name] = { ...(data as object), at: new Date().toISOString(), quick };
  if (!quick) await writeFile(file, `${JSON.stringify(all, null, 2)}\n`);
}
