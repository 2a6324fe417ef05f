/**
 * One writer per state directory, under a race: many `wfctl serve` processes
 * started at the same instant on one directory, fresh or with a stale
 * ownerless lock left behind. Exactly one owns it; every other exits 2
 * naming the holder's pid.
 */
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/plugin-dirs.js';
import { watchLines } from '../helpers/lines.js';
import { WFCTL } from '../helpers/serve.js';
import { timeoutArgs } from '../helpers/timeouts.js';

const HOSTS = 6;

async function race(stateDir: string) {
  const hosts: ResultPromise[] = Array.from({ length: HOSTS }, () =>
    execa(process.execPath, [WFCTL, 'serve', '--state-dir', stateDir, '--admin', '127.0.0.1:0', '--log-level', 'silent', ...timeoutArgs()], { reject: false }),
  );
  try {
    // The one that owns the directory says it is ready; the others end on their own.
    const outcomes = await Promise.all(
      hosts.map((host) =>
        Promise.race([
          watchLines(host.stdout!)
            .waitFor(/^wfreload: ready: pid (\d+)/)
            .then((line) => ({ ready: Number(/pid (\d+)/.exec(line)![1]), exitCode: null as number | null, stderr: '' })),
          host.then((result) => ({ ready: null as number | null, exitCode: result.exitCode ?? null, stderr: String(result.stderr) })),
        ]),
      ),
    );
    return outcomes;
  } finally {
    for (const host of hosts) host.kill('SIGTERM');
    await Promise.all(hosts);
  }
}

it.each([
  ['a fresh directory', async (_dir: string) => {}],
  [
    'a directory with a stale ownerless lock left behind',
    async (dir: string) => {
      await writeFile(join(dir, 'lock'), '');
      const then = new Date(Date.now() - 60_000);
      await utimes(join(dir, 'lock'), then, then);
    },
  ],
])(`%s: of ${HOSTS} hosts started at once, exactly one owns it and every other exits 2 naming it`, async (_what, prepare) => {
  const stateDir = await tempDir('wfr-lock-race-');
  await prepare(stateDir);
  const outcomes = await race(stateDir);
  const owners = outcomes.filter((o) => o.ready !== null);
  expect(owners, JSON.stringify(outcomes)).toHaveLength(1);
  const owner = owners[0]!.ready!;
  const refused = outcomes.filter((o) => o.ready === null);
  expect(refused).toHaveLength(HOSTS - 1);
  for (const other of refused) {
    expect(other.exitCode, other.stderr).toBe(2);
    expect(other.stderr).toContain(`is in use by another wfreload host (pid ${owner}`);
  }
});
