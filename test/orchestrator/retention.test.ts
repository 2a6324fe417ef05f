/**
 * Retention: staged versions do not pile up. After each activation the host
 * keeps the active version, the previous one and the newest `keepVersions`
 * others; `prunePlugins` (wfctl plugin prune) does the same by hand.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';

const hosts: TestHost[] = [];
afterEach(async () => {
  // Newest first: a reopened host closes before the one that owns (and removes) its state directory.
  for (const t of hosts.splice(0).reverse()) await t.close();
});

const staged = (t: TestHost) => readdir(join(t.stateDir, 'plugins', 'fake')).then((names) => names.map((n) => n.replace(/-[0-9a-f]{12}$/, '')).sort());

describe('retention of staged versions', () => {
  it('after many activations keeps at most the active, the previous and keepVersions others, the newest ones', async () => {
    const t = await openTestHost({ retention: { keepVersions: 2 } });
    hosts.push(t);
    for (let minor = 0; minor < 8; minor++) {
      expect((await t.host.tryActivatePlugin('fake', await makePluginDir({ version: `1.${minor}.0` }))).outcome).toBe('activated');
    }
    // The prune after each activation runs once that reload is done; close() waits for the last one.
    await t.host.close();
    expect(await staged(t)).toEqual(['1.4.0', '1.5.0', '1.6.0', '1.7.0']);
    const again = await openTestHost({ retention: { keepVersions: 2 } }, t.stateDir);
    hosts.push(again);
    const versions = await again.host.pluginVersions('fake');
    expect(versions.find((v) => v.active)?.version).toBe('1.7.0');
    expect(versions.find((v) => v.previous)?.version).toBe('1.6.0');
    // What stays still rolls back.
    expect((await again.host.rollbackPlugin('fake')).active).toMatchObject({ version: '1.6.0' });
  });

  it('prunes by hand to the active and previous versions with keep 0, and never removes a version in use', async () => {
    const t = await openTestHost({ retention: { keepVersions: 100 } });
    hosts.push(t);
    for (const version of ['1.0.0', '2.0.0', '3.0.0', '4.0.0']) await t.host.tryActivatePlugin('fake', await makePluginDir({ version }));
    expect(await staged(t)).toEqual(['1.0.0', '2.0.0', '3.0.0', '4.0.0']);
    const [result] = await t.host.prunePlugins('fake', 0);
    expect(result!.removed.map((v) => v.version).sort()).toEqual(['1.0.0', '2.0.0']);
    expect(result!.kept.map((v) => v.version).sort()).toEqual(['3.0.0', '4.0.0']);
    expect(await staged(t)).toEqual(['3.0.0', '4.0.0']);
    expect(t.host.listPlugins()[0]).toMatchObject({ version: '4.0.0', health: 'serving' });
    await expect(t.host.prunePlugins('fake', -1)).rejects.toMatchObject({ code: 'WFR_INVALID_ARGUMENT' });
  });

  it('a reopened host prunes with the previous version its journal names, and then with the activations it journals itself', async () => {
    const t = await openTestHost({ retention: { keepVersions: 100 } });
    hosts.push(t);
    for (const version of ['1.0.0', '2.0.0', '3.0.0']) await t.host.tryActivatePlugin('fake', await makePluginDir({ version }));
    await t.host.close();
    const again = await openTestHost({ retention: { keepVersions: 100 } }, t.stateDir);
    hosts.push(again);
    // Only the journal knows that 2.0.0 came before 3.0.0.
    const [first] = await again.host.prunePlugins('fake', 0);
    expect(first!.kept.map((v) => v.version).sort()).toEqual(['2.0.0', '3.0.0']);
    await again.host.tryActivatePlugin('fake', await makePluginDir({ version: '4.0.0' }));
    const [second] = await again.host.prunePlugins('fake', 0);
    expect(second!.kept.map((v) => v.version).sort()).toEqual(['3.0.0', '4.0.0']);
    expect(await staged(again)).toEqual(['3.0.0', '4.0.0']);
  });
});

describe('retention of staged configs', () => {
  it('after many config activations keeps the active config and keepVersions others', async () => {
    const t = await openTestHost({ retention: { keepVersions: 1 } });
    hosts.push(t);
    const { writeConfig } = await import('../helpers/configs.js');
    for (const tag of ['A', 'B', 'C', 'D']) expect((await t.host.tryActivateConfig(await writeConfig({ tag }))).outcome).toBe('activated');
    const active = t.host.activeMarker().engine!.file;
    await t.host.close();
    const left = (await readdir(join(t.stateDir, 'configs'))).filter((n) => n.endsWith('.yaml'));
    expect(left).toHaveLength(2);
    expect(left).toContain(active.split('/').at(-1));
  });
});
