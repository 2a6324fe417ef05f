/**
 * `npm run campaign:demo` end to end: five hosts, a bad build stopped at the
 * canary, a good build everywhere, the same build again changing nothing; and
 * every host stopped afterwards, nothing left in its temporary directory.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/plugin-dirs.js';
import { processesUnder } from '../helpers/resources.js';
import { scaled } from '../helpers/slowdown.js';
import { timeoutArgs } from '../helpers/timeouts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('runs the three campaigns against five hosts, prints the recap, and stops every host', async () => {
  const tmp = await tempDir('wfr-campaign-demo-');
  const run = await execa(process.execPath, ['--import', 'tsx', 'examples/campaign/demo.ts', ...timeoutArgs()], { cwd: root, reject: false, env: { TMPDIR: tmp } });
  expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
  const recap = run.stdout.slice(run.stdout.indexOf('=== Recap ==='));
  expect(recap).toContain('1. a bad build (manifest 2.1.0, binary 2.0.0): ansible-playbook exited 2; 1 of 5 hosts reached; changed on 0, failed on 1');
  expect(recap).toContain('2. the good build (greeter-v2): ansible-playbook exited 0; 5 of 5 hosts reached; changed on 5, failed on 0');
  expect(recap).toContain('3. the good build again: ansible-playbook exited 0; 5 of 5 hosts reached; changed on 0, failed on 0');
  expect(run.stdout).toMatch(/host5 {2}2\.0\.0 {4}\d+ +unchanged \(rl-/);

  // Every host was stopped: no admin API answers, no plugin process runs, the scratch directory is gone.
  const admins = [...run.stdout.matchAll(/host\d: admin (\S+), front door/g)].map((match) => match[1]!);
  expect(admins).toHaveLength(5);
  for (const admin of admins) await expect(fetch(`http://${admin}/livez`)).rejects.toThrow();
  expect(processesUnder(tmp)).toEqual([]);
  expect((await readdir(tmp)).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
}, scaled(150_000));
