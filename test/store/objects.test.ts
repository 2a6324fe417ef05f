/** The file store's helpers: bounded parallel work that stops cleanly, and stored files trusted only at their size. */
import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/store/objects.js';
import { StateStore } from '../../src/store/index.js';
import { readManifest } from '../../src/plugins/index.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';

describe('mapLimit', () => {
  it('starts nothing after a failure, and rejects only once every started item has settled', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 2, async (i) => {
      started.push(i);
      await new Promise((resolve) => setTimeout(resolve, i === 1 ? 30 : 5));
      settled.push(i);
      if (i === 0) throw new Error('boom');
      return i;
    });
    await expect(run).rejects.toThrow('boom');
    // 0 failed while 1 was still running: nothing new started, and 1 finished before the rejection.
    expect(started).toEqual([0, 1]);
    expect(settled.sort()).toEqual([0, 1]);
  });

  it('keeps the input order in its results', async () => {
    expect(await mapLimit([30, 1, 10], 3, async (ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms)))).toEqual([30, 1, 10]);
  });
});

describe('a stored file cut short', () => {
  it('is not linked into a new version: the bytes are copied again from the source, and the stored file replaced', async () => {
    const store = new StateStore(await tempDir());
    const v1 = await store.stagePlugin('fake', await makePluginDir({ version: '1.0.0' }), readManifest);
    // What a power loss can leave: the stored copy of plugin.mjs shorter than its name says.
    const objects = join(store.root, 'objects');
    const shared = (await stat(join(v1.dir, 'plugin.mjs'))).ino;
    const stored = await findByInode(objects, shared);
    await truncate(stored, 10);
    const source = await makePluginDir({ version: '2.0.0' });
    const v2 = await store.stagePlugin('fake', source, readManifest);
    expect(await readFile(join(v2.dir, 'plugin.mjs'), 'utf8')).toBe(await readFile(join(source, 'plugin.mjs'), 'utf8'));
    expect((await stat(stored)).size).toBeGreaterThan(10);
  });
});

async function findByInode(root: string, ino: number): Promise<string> {
  for (const dir of await readdir(root)) {
    for (const name of await readdir(join(root, dir))) {
      if ((await stat(join(root, dir, name))).ino === ino) return join(root, dir, name);
    }
  }
  throw new Error('not found');
}

describe('an offered file hashed before', () => {
  it('is hashed again when its bytes change, even with its size and mtime put back (its ctime moved)', async () => {
    const store = new StateStore(await tempDir());
    const offered = await makePluginDir({ version: '1.0.0' });
    const script = join(offered, 'plugin.mjs');
    const first = await store.stagePlugin('fake', offered, readManifest);
    // Remembered only once the file's times are older than the coarse-timestamp margin (2 s): wait for the clock to pass it.
    const { ctimeMs } = await stat(script);
    while (Date.now() < ctimeMs + 2_100) await new Promise((resolve) => setTimeout(resolve, 100));
    // Offered again unchanged: hashed (and remembered), the staged copy reused.
    const again = await store.stagePlugin('fake', offered, readManifest);
    expect(again).toMatchObject({ dir: first.dir, createdByReload: false });
    // The same size and mtime, other bytes: only the ctime tells.
    const before = await stat(script, { bigint: true });
    const times = join(await tempDir(), 'times');
    await writeFile(times, '');
    execFileSync('touch', ['-r', script, times]); // to the nanosecond, which utimes cannot do
    const text = await readFile(script, 'utf8');
    const changed = text.replace('health', 'HEALTH');
    expect(changed).not.toBe(text);
    expect(changed.length).toBe(text.length);
    await writeFile(script, changed);
    execFileSync('touch', ['-r', times, script]);
    const after = await stat(script, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    expect(after.ctimeNs).not.toBe(before.ctimeNs);
    const third = await store.stagePlugin('fake', offered, readManifest);
    expect(third.digest).not.toBe(first.digest);
    expect(third.createdByReload).toBe(true);
    expect(await readFile(join(third.dir, 'plugin.mjs'), 'utf8')).toBe(changed);
  });
});
