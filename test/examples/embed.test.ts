import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { isAlive } from '../helpers/host.js';
import { tempDir } from '../helpers/plugin-dirs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

it('examples/embed.ts activates, upgrades, survives a bad candidate and leaves no process behind', async () => {
  const stateDir = await tempDir('wfr-embed-');
  const run = await execa(process.execPath, ['--import', 'tsx', 'examples/embed.ts', stateDir], { cwd: root, reject: false });
  expect(run.exitCode, run.stderr).toBe(0);
  const lines = run.stdout.split('\n');
  expect(lines[0]).toMatch(/^plugin:greeter: activated 1\.0\.0 \(pid \d+\) in \d+ ms \(was nothing\)$/);
  expect(lines[1]).toBe('  invoke → {"message":"Hello, Ada","version":"1.0.0"}');
  expect(lines[2]).toMatch(/^plugin:greeter: activated 2\.0\.0 \(pid \d+\) in \d+ ms \(was 1\.0\.0 \(pid \d+\)\)$/);
  expect(lines[4]).toMatch(/^plugin:greeter: rolledBack at handshake: .*version = "2\.0\.0", but plugin\.json declares "3\.0\.0"/);
  expect(run.stdout).toMatch(/failed step: handshake \| error code: WFR_PLUGIN_CONTRACT_MISMATCH\n  invoke → \{"message":"Hello, Ada!","version":"2\.0\.0"\}/);

  // Every plugin process the example started has exited.
  const journal = (await readFile(join(stateDir, 'journal.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  expect(journal.map((r) => r.outcome)).toEqual(['activated', 'activated', 'rolledBack']);
  for (const pid of journal.flatMap((r) => [r.active?.pid, r.candidate?.pid])) expect(isAlive(pid)).toBe(false);
});

it('examples/embed.ts without a state directory removes the temporary one it made', async () => {
  // Its own TMPDIR, so the check sees only what this run created.
  const tmp = await tempDir('wfr-embed-tmp-');
  const run = await execa(process.execPath, ['--import', 'tsx', 'examples/embed.ts'], { cwd: root, reject: false, env: { TMPDIR: tmp } });
  expect(run.exitCode, run.stderr).toBe(0);
  const [, made] = /state directory: (\S+) \(temporary, removed\)/.exec(run.stdout) ?? [];
  expect(made).toMatch(/wfreload-embed-/);
  expect(existsSync(made!)).toBe(false);
  // tsx keeps its own cache there (tsx-UID); nothing of the example's.
  expect((await readdir(tmp)).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
});

it('the package resolves by name to the compiled library, with its type declarations', async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const entry = pkg.exports['.'];
  expect(entry).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
  expect(await readFile(join(root, entry.types), 'utf8')).toMatch(/export declare const createOrchestrator: \(options: OrchestratorOptions\) => Promise<Orchestrator>/);
  // A host program importing 'wfreload' gets the built JavaScript (no TypeScript loader involved).
  const run = await execa(process.execPath, ['--input-type=module', '-e', "const m = await import('wfreload'); console.log(import.meta.resolve('wfreload'), typeof m.createOrchestrator, typeof m.Orchestrator)"], { cwd: root, reject: false });
  expect(run.exitCode, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/\/dist\/src\/index\.js function function$/);
});
