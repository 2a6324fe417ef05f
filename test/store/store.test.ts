import { lstat, mkdir, readFile, readdir, rm, stat, symlink, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore, beginIntent, readActiveMarker, readIntents, readJournal, setDiskFault, writeFileAtomic, type Intent } from '../../src/store/index.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { readManifest } from '../../src/plugins/index.js';

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary file beside it', async () => {
    const dir = await tempDir();
    const file = join(dir, 'active.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['active.json']);
  });

  it('fails with WFR_STATE_WRITE_FAILED and keeps the old content when the directory is missing', async () => {
    const file = join(await tempDir(), 'missing', 'active.json');
    await expect(writeFileAtomic(file, 'x')).rejects.toMatchObject({ code: 'WFR_STATE_WRITE_FAILED' });
  });
});

describe('the active marker', () => {
  it('reads as empty when there is none yet', async () => {
    expect(await readActiveMarker(join(await tempDir(), 'active.json'))).toEqual({ generation: 0, updatedAt: null, plugins: {}, engine: null, pending: {} });
  });

  it('refuses a corrupt marker with WFR_STATE_CORRUPT naming the file', async () => {
    const file = join(await tempDir(), 'active.json');
    await writeFile(file, '{"generation": -1, "plugins": {}}');
    await expect(readActiveMarker(file)).rejects.toMatchObject({ code: 'WFR_STATE_CORRUPT', message: expect.stringContaining(file) });
  });

  it('serialises concurrent updates so none is lost, bumping the generation each time', async () => {
    const store = new StateStore(await tempDir());
    await store.open();
    const entry = (version: string) => ({ version, dir: 'x', digest: 'd', activatedAt: 'now', reloadId: 'r' });
    await Promise.all(['a', 'b', 'c'].map((name) => store.updateActiveMarker((m) => void (m.plugins[name] = entry('1.0.0')))));
    const marker = await readActiveMarker(store.markerPath);
    expect(Object.keys(marker.plugins).sort()).toEqual(['a', 'b', 'c']);
    expect(marker.generation).toBe(3);
  });
});

describe('a marker write prepared ahead', () => {
  const entry = (version: string) => ({ version, dir: 'x', digest: 'd', activatedAt: 'now', reloadId: 'r' });
  const tempFiles = async (store: StateStore) => (await readdir(store.root)).filter((name) => name.endsWith('.tmp'));
  async function openStore() {
    const store = new StateStore(await tempDir());
    await store.open();
    return store;
  }

  it('is written beside the marker at once, and its commit puts exactly that marker in place', async () => {
    const store = await openStore();
    const prepared = store.prepareActiveMarker((m) => void (m.plugins.a = entry('1.0.0')));
    expect(await tempFiles(store)).toHaveLength(1);
    expect(await readActiveMarker(store.markerPath)).toMatchObject({ generation: 0, plugins: {} });
    const committed = await prepared.commit();
    expect(committed).toMatchObject({ generation: 1, plugins: { a: entry('1.0.0') } });
    expect(await readActiveMarker(store.markerPath)).toEqual(committed);
    expect(store.activeMarker).toEqual(committed);
    expect(await tempFiles(store)).toEqual([]);
    await store.close();
  });

  it('applies its change to the newer marker when another write came between, losing neither', async () => {
    const store = await openStore();
    const prepared = store.prepareActiveMarker((m) => void (m.plugins.a = entry('1.0.0')));
    await store.updateActiveMarker((m) => void (m.plugins.b = entry('2.0.0')));
    const committed = await prepared.commit();
    expect(committed.generation).toBe(2);
    expect(Object.keys(committed.plugins).sort()).toEqual(['a', 'b']);
    expect(await readActiveMarker(store.markerPath)).toEqual(committed);
    expect(await tempFiles(store)).toEqual([]);
    await store.close();
  });

  it('discarded, leaves the marker as it was and no temporary file', async () => {
    const store = await openStore();
    await store.updateActiveMarker((m) => void (m.plugins.b = entry('2.0.0')));
    const before = await readFile(store.markerPath, 'utf8');
    store.prepareActiveMarker((m) => void (m.plugins.a = entry('1.0.0'))).discard();
    expect(await tempFiles(store)).toEqual([]);
    expect(await readFile(store.markerPath, 'utf8')).toBe(before);
    expect(store.activeMarker.generation).toBe(1);
    await store.close();
  });

  it('never committed, is removed when the store closes', async () => {
    const store = await openStore();
    store.prepareActiveMarker((m) => void (m.plugins.a = entry('1.0.0')));
    expect(await tempFiles(store)).toHaveLength(1);
    await store.close();
    expect(await tempFiles(store)).toEqual([]);
    expect(await readActiveMarker(store.markerPath)).toMatchObject({ generation: 0, plugins: {} });
  });

  it.each([
    ['that refuses it from before its preparation', 'before', 'ENOSPC', 'no space left on device'],
    ['that starts refusing writes after it was prepared', 'after', 'EROFS', 'read-only file system'],
  ] as const)('on a disk %s, commits to WFR_STATE_WRITE_FAILED and changes nothing, as the write it stands for would', async (_, armed, code, message) => {
    const store = await openStore();
    if (armed === 'before') setDiskFault('marker', code);
    try {
      const prepared = store.prepareActiveMarker((m) => void (m.plugins.a = entry('1.0.0')));
      if (armed === 'after') setDiskFault('marker', code);
      await expect(prepared.commit()).rejects.toMatchObject({ code: 'WFR_STATE_WRITE_FAILED', message: expect.stringContaining(message) });
    } finally {
      setDiskFault('marker', null);
    }
    expect(store.activeMarker).toMatchObject({ generation: 0, plugins: {} });
    expect(await readActiveMarker(store.markerPath)).toMatchObject({ generation: 0, plugins: {} });
    expect(await tempFiles(store)).toEqual([]);
    await store.close();
  });
});

describe('the journal', () => {
  it('appends records and skips a torn last line left by a crash', async () => {
    const file = join(await tempDir(), 'journal.ndjson');
    const store = new StateStore(join(file, '..'));
    await store.appendJournal({ id: 1 });
    await store.appendJournal({ id: 2 });
    await store.close();
    // What a host that died mid-append leaves.
    await appendFile(file, '{"id": 3, "outc');
    expect(await readJournal(file)).toEqual([{ id: 1 }, { id: 2 }]);
    // The next host's first record starts on a line of its own: it is not glued to the torn one and lost.
    await new StateStore(join(file, '..')).appendJournal({ id: 4 });
    expect(await readJournal(file)).toEqual([{ id: 1 }, { id: 2 }, { id: 4 }]);
  });

  it('rotates past its size bound into journal.1.ndjson, and reads both: the history keeps at least the bound\'s worth', async () => {
    const dir = await tempDir();
    const store = new StateStore(dir);
    store.journalMaxBytes = 200;
    const record = (id: number) => ({ id, pad: 'x'.repeat(40) });
    for (let id = 1; id <= 13; id++) await store.appendJournal(record(id));
    expect((await readdir(dir)).filter((n) => n.startsWith('journal')).sort()).toEqual(['journal.1.ndjson', 'journal.ndjson']);
    const ids = (await store.readJournal<{ id: number }>()).map((r) => r.id);
    // Oldest first, contiguous, ending with the last record, and at least the bound's worth (each line is 60 bytes).
    expect(ids.at(-1)).toBe(13);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 13 - ids.length + 1 + i));
    expect(ids.length).toBeGreaterThanOrEqual(Math.ceil(200 / 60));
    for (const name of ['journal.ndjson', 'journal.1.ndjson']) expect((await stat(join(dir, name))).size).toBeLessThanOrEqual(200 + 60);
  });
});

describe('intent records', () => {
  const intent = (state: string): Intent => ({ id: 'r-1', target: 'plugin:fake', source: '/src/fake', startedAt: '2026-12-06T00:00:00.000Z', state, staged: null, candidate: null, plugins: [] });

  it('exist once begun, are flushed to the disk, updated one appended line at a time, and read as their last whole line', async () => {
    const root = await tempDir();
    const file = beginIntent(root, intent('admitted'));
    expect(await readIntents(root)).toEqual([{ id: 'r-1', intent: intent('admitted') }]);
    await file.flushed;
    file.update({ ...intent('candidateStarted'), candidate: { version: '2.0.0', pid: 42, startTicks: '7' } });
    file.update({ ...intent('handshaked'), candidate: { version: '2.0.0', pid: 42, startTicks: '7' } });
    expect(await readIntents(root)).toEqual([{ id: 'r-1', intent: { ...intent('handshaked'), candidate: { version: '2.0.0', pid: 42, startTicks: '7' } } }]);
    expect((await readFile(join(root, 'intents', 'r-1.json'), 'utf8')).split('\n')).toHaveLength(4);
    file.close();
    // Closed: the record stays for recovery, and a late update writes nothing.
    file.update(intent('probed'));
    expect((await readIntents(root))[0]!.intent!.state).toBe('handshaked');
  });

  it('skip a last line a crash tore, and read a record with no whole line as unreadable', async () => {
    const root = await tempDir();
    const file = beginIntent(root, intent('admitted'));
    file.update(intent('staged'));
    file.close();
    await appendFile(join(root, 'intents', 'r-1.json'), JSON.stringify(intent('probed')).slice(0, 40));
    expect((await readIntents(root))[0]!.intent!.state).toBe('staged');
    await writeFile(join(root, 'intents', 'r-2.json'), '{"id":"r-2","tar');
    expect((await readIntents(root))[1]).toEqual({ id: 'r-2', intent: null });
  });

  it('refuse to begin a reload whose record exists, with WFR_STATE_WRITE_FAILED, and leave that record alone', async () => {
    const root = await tempDir();
    beginIntent(root, intent('handshaked')).close();
    expect(() => beginIntent(root, intent('admitted'))).toThrow(expect.objectContaining({ code: 'WFR_STATE_WRITE_FAILED' }));
    expect((await readIntents(root))[0]!.intent!.state).toBe('handshaked');
  });
});

describe('staging a plugin', () => {
  it('copies into an immutable plugins/NAME/VERSION-DIGEST directory and never touches active.json', async () => {
    const store = new StateStore(await tempDir());
    await store.open();
    const staged = await store.stagePlugin('fake', await makePluginDir({ version: '1.2.3' }), readManifest);
    expect(staged.dir).toBe(join(store.root, 'plugins', 'fake', `1.2.3-${staged.digest.slice(0, 12)}`));
    expect(staged.createdByReload).toBe(true);
    expect((await stat(join(staged.dir, 'plugin.mjs'))).mode & 0o222).toBe(0);
    await expect(stat(store.markerPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(store.root, 'staging'))).toEqual([]);
  });

  it('reuses an identical staged copy instead of creating a second one', async () => {
    const store = new StateStore(await tempDir());
    const source = await makePluginDir();
    const first = await store.stagePlugin('fake', source, readManifest);
    const second = await store.stagePlugin('fake', source, readManifest);
    expect(second).toMatchObject({ dir: first.dir, digest: first.digest, createdByReload: false });
  });

  it('copies nothing when the same bytes are already staged: the source is hashed in place', async () => {
    const store = new StateStore(await tempDir());
    const source = await makePluginDir();
    const first = await store.stagePlugin('fake', source, readManifest);
    // Every copy goes through staging/ first: without it, a copy would fail.
    await rm(join(store.root, 'staging'), { recursive: true });
    await writeFile(join(store.root, 'staging'), 'not a directory');
    const second = await store.stagePlugin('fake', source, readManifest);
    expect(second).toMatchObject({ dir: first.dir, digest: first.digest, createdByReload: false });
    // Changed bytes are copied (and so fail here, on the blocked staging/): the reuse is by digest, not by name or version.
    await writeFile(join(source, 'extra.txt'), 'changed');
    await expect(store.stagePlugin('fake', source, readManifest)).rejects.toThrow();
  });

  it('gives different bytes a different digest and directory', async () => {
    const store = new StateStore(await tempDir());
    const source = await makePluginDir();
    const first = await store.stagePlugin('fake', source, readManifest);
    await writeFile(join(source, 'extra.txt'), 'more');
    const second = await store.stagePlugin('fake', source, readManifest);
    expect(second.digest).not.toBe(first.digest);
    expect(second.dir).not.toBe(first.dir);
  });

  it('stages a symlink to a file inside the directory as that file, and verifies declared checksums', async () => {
    const store = new StateStore(await tempDir());
    const source = await makePluginDir();
    await mkdir(join(source, 'lib'));
    await writeFile(join(source, 'lib', 'data.txt'), 'hello');
    await symlink('lib/data.txt', join(source, 'data-link.txt'));
    const staged = await store.stagePlugin('fake', source, readManifest);
    expect((await lstat(join(staged.dir, 'data-link.txt'))).isFile()).toBe(true);
    expect(await readFile(join(staged.dir, 'data-link.txt'), 'utf8')).toBe('hello');
  });

  it('accepts a manifest whose checksums match', async () => {
    const store = new StateStore(await tempDir());
    const { createHash } = await import('node:crypto');
    const probe = await makePluginDir();
    const digest = createHash('sha256').update(await readFile(join(probe, 'plugin.mjs'))).digest('hex');
    const source = await makePluginDir({ manifest: { sha256: { 'plugin.mjs': digest, './plugin.mjs': digest } } });
    await expect(store.stagePlugin('fake', source, readManifest)).resolves.toMatchObject({ version: '1.0.0' });
  });
});

describe('the file store behind staging', () => {
  const inode = async (path: string) => (await stat(path)).ino;

  it('stores each file once: versions with the same bytes share one read-only file, hard-linked', async () => {
    const store = new StateStore(await tempDir());
    const v1 = await store.stagePlugin('fake', await makePluginDir({ version: '1.0.0' }), readManifest);
    const v2 = await store.stagePlugin('fake', await makePluginDir({ version: '2.0.0' }), readManifest);
    // plugin.mjs is the same in both; plugin.json differs (its version).
    expect(await inode(join(v2.dir, 'plugin.mjs'))).toBe(await inode(join(v1.dir, 'plugin.mjs')));
    expect(await inode(join(v2.dir, 'plugin.json'))).not.toBe(await inode(join(v1.dir, 'plugin.json')));
    const shared = await stat(join(v1.dir, 'plugin.mjs'));
    expect(shared.nlink).toBe(3); // v1, v2 and the store
    expect(shared.mode & 0o777).toBe(0o444);
    // The stored copy is named by its hash.
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(await readFile(join(v1.dir, 'plugin.mjs'))).digest('hex');
    expect((await stat(join(store.root, 'objects', sha.slice(0, 2), sha))).ino).toBe(shared.ino);
  });

  it('keeps the executable bit apart: the same bytes, executable or not, are two stored files', async () => {
    const store = new StateStore(await tempDir());
    const source = await makePluginDir();
    await writeFile(join(source, 'a.sh'), 'echo hi\n', { mode: 0o755 });
    await writeFile(join(source, 'b.txt'), 'echo hi\n', { mode: 0o644 });
    const staged = await store.stagePlugin('fake', source, readManifest);
    expect((await stat(join(staged.dir, 'a.sh'))).mode & 0o777).toBe(0o555);
    expect((await stat(join(staged.dir, 'b.txt'))).mode & 0o777).toBe(0o444);
    expect(await inode(join(staged.dir, 'a.sh'))).not.toBe(await inode(join(staged.dir, 'b.txt')));
  });

  it('removes stored files no version links to once a version is removed, and keeps the shared ones', async () => {
    const store = new StateStore(await tempDir());
    const v1 = await store.stagePlugin('fake', await makePluginDir({ version: '1.0.0' }), readManifest);
    const source2 = await makePluginDir({ version: '2.0.0' });
    await writeFile(join(source2, 'only-in-v2.txt'), 'v2');
    const v2 = await store.stagePlugin('fake', source2, readManifest);
    const objects = async () => (await Promise.all((await readdir(join(store.root, 'objects'))).map((d) => readdir(join(store.root, 'objects', d))))).flat().length;
    // plugin.mjs (shared), two plugin.json, only-in-v2.txt.
    expect(await objects()).toBe(4);
    await store.removeStagedPlugin(v2.dir);
    expect(await objects()).toBe(2);
    expect((await stat(join(v1.dir, 'plugin.mjs'))).nlink).toBe(2);
  });

  it('re-stages a removed version from its source: nothing stale is linked', async () => {
    const store = new StateStore(await tempDir());
    const source = await makePluginDir();
    const first = await store.stagePlugin('fake', source, readManifest);
    await store.removeStagedPlugin(first.dir);
    const again = await store.stagePlugin('fake', source, readManifest);
    expect(again).toMatchObject({ dir: first.dir, digest: first.digest, createdByReload: true });
    expect(await readFile(join(again.dir, 'plugin.json'), 'utf8')).toBe(await readFile(join(source, 'plugin.json'), 'utf8'));
  });
});
