/**
 * A benchmark interrupted mid-run (a test that gives up on it, Ctrl-C) leaves
 * nothing behind: the pm2 bench is stopped with SIGTERM while its pm2 daemon,
 * its cluster workers and its load run, and afterwards no process of it is
 * alive and its scratch directory (with its PM2_HOME) is gone.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { watchLines } from '../helpers/lines.js';
import { liveProcesses } from '../helpers/resources.js';
import { scaled } from '../helpers/slowdown.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Live processes that run in, were started with, or carry in their environment a path inside `dir`. */
const processesOf = (dir: string): number[] =>
  liveProcesses((pid) => [readFileSync(`/proc/${pid}/cmdline`, 'utf8'), readFileSync(`/proc/${pid}/environ`, 'utf8'), readlinkSync(`/proc/${pid}/cwd`)].some((text) => text.includes(dir)));

it('bench/pm2.ts stopped mid-run (SIGTERM) leaves no pm2 daemon, worker or load client, and no scratch directory', async () => {
  const bench = execa(process.execPath, ['--import', 'tsx', join(root, 'bench/pm2.ts'), '--quick'], { cwd: root, reject: false, env: { BENCH_DEBUG: '1' } });
  const stderr = watchLines(bench.stderr!);
  const work = /work (\S+)/.exec(await stderr.waitFor(/\[pm2 bench\] work /))![1]!;
  // pm2's daemon and workers are up and the load runs once the first upgrade is sent.
  await stderr.waitFor(/\[pm2 bench\] pm2 reload/);
  const during = processesOf(work);
  expect(during.length).toBeGreaterThan(1);

  bench.kill("SIGTERM");
  const result = await bench;
  // The bench ended through its SIGTERM handler (exit 143), which runs the clean-up, not by the signal itself.
  expect(result.exitCode).toBe(143);
  // The daemon's process group is killed on exit; give the kernel a moment to reap what it killed.
  const deadline = Date.now() + scaled(5_000);
  while (processesOf(work).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const left = processesOf(work);
  expect(left.map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ")} (pgid ${readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[2]})`)).toEqual([]);
  expect(existsSync(work)).toBe(false);
}, scaled(120_000));
