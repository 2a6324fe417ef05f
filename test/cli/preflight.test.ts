/**
 * A newcomer's `npm test` on a machine without the Debian packages some
 * tests drive: the README's command stops at once, with one line naming
 * what to install, before type-checking or running a single test.
 */
import { execa } from 'execa';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/plugin-dirs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('npm test without chromium, ansible-core or Go stops with one line naming every package to install, and runs nothing', async () => {
  // A PATH with only what npm itself needs: no chromium, ansible-playbook or go on it.
  const bin = await tempDir('wfr-preflight-');
  const which = async (program: string) => (await execa('sh', ['-c', `command -v ${program}`])).stdout.trim();
  for (const program of ['node', 'npm', 'sh']) await symlink(await which(program), join(bin, program));
  const run = await execa(join(bin, 'npm'), ['test'], {
    cwd: root,
    reject: false,
    all: true,
    env: { PATH: bin, HOME: process.env.HOME, CHROMIUM_PATH: join(bin, 'no-chromium'), WFR_GOPATH: join(bin, 'no-gopath') },
    extendEnv: false,
  });
  expect(run.exitCode).toBe(1);
  const lines = run.all!.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('>'));
  expect(lines).toEqual([
    'npm test needs Debian packages that are missing; install them, then run it again: sudo apt-get install chromium ansible-core golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev golang-goprotobuf-dev',
  ]);
});

it('the check passes where the packages are installed (this machine), so npm test goes on', async () => {
  const run = await execa(process.execPath, [join(root, 'test/preflight.mjs')], { reject: false, all: true });
  expect({ exitCode: run.exitCode, output: run.all }).toEqual({ exitCode: 0, output: '' });
});
