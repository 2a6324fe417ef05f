import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { StateLockedError } from '../../src/errors.js';
import { acquireStateLock, processStartTicks } from '../../src/store/index.js';
import { tempDir } from '../helpers/plugin-dirs.js';
import { hostname } from 'node:os';

describe('the state directory lock', () => {
  it('lets one host in and refuses a second, naming the pid that holds it', async () => {
    const dir = await tempDir();
    const first = await acquireStateLock(dir);
    const second = await acquireStateLock(dir).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(StateLockedError);
    expect((second as Error).message).toContain(`in use by another wfreload host (pid ${process.pid}`);
    await first.release();
    await (await acquireStateLock(dir)).release();
  });

  it('takes over the lock of a host that died', async () => {
    const dir = await tempDir();
    const dead = await execa(process.execPath, ['-e', 'console.log(process.pid)']);
    await writeFile(join(dir, 'lock'), JSON.stringify({ pid: Number(dead.stdout), startTicks: '1', hostname: hostname(), startedAt: 'then' }));
    const lock = await acquireStateLock(dir);
    expect(JSON.parse(await readFile(join(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock whose pid now belongs to another process (pid reuse)', async () => {
    const dir = await tempDir();
    // Our own pid, but a start time that is not ours: the recorded owner is gone.
    await writeFile(join(dir, 'lock'), JSON.stringify({ pid: process.pid, startTicks: `${processStartTicks(process.pid)}0`, hostname: hostname(), startedAt: 'then' }));
    const lock = await acquireStateLock(dir);
    expect(JSON.parse(await readFile(join(dir, 'lock'), 'utf8'))).toMatchObject({ pid: process.pid, startTicks: processStartTicks(process.pid), startedAt: expect.not.stringMatching(/^then$/) });
    await lock.release();
  });

  it('holds a lock file without an owner record until it is old, then takes it over', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'lock'), '{"pid": 12');
    // Young: it may be a host between creating and writing it (an older wfreload did that), so it counts as held.
    const refused = await acquireStateLock(dir).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StateLockedError);
    expect((refused as Error).message).toMatch(/its lock file has no owner record and is \d+ s old; it counts as held until it is 10 s old/);
    // Old: left by a crash; taken over.
    const then = new Date(Date.now() - 60_000);
    await utimes(join(dir, 'lock'), then, then);
    const lock = await acquireStateLock(dir);
    expect(JSON.parse(await readFile(join(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('opening a state directory after a crash', () => {
  it('removes staging debris and temporary marker files, never the marker itself', async () => {
    const { mkdir, readdir } = await import('node:fs/promises');
    const { StateStore } = await import('../../src/store/index.js');
    const dir = await tempDir();
    await mkdir(join(dir, 'staging', 'fake-0123abcd'), { recursive: true });
    await writeFile(join(dir, 'staging', 'fake-0123abcd', 'plugin.json'), '{');
    await writeFile(join(dir, '.active.json.0123456789ab.tmp'), '{"torn":');
    await writeFile(join(dir, 'active.json'), JSON.stringify({ generation: 3, updatedAt: null, plugins: {} }));
    const store = new StateStore(dir);
    await store.open();
    await store.removeDebris();
    expect((await readdir(dir)).sort()).toEqual(['active.json', 'lock']);
    expect(store.activeMarker.generation).toBe(3);
    await store.close();
  });
});
