/**
 * Disk faults, through the documented fault switch (src/store/disk-faults.ts):
 * a full disk (ENOSPC), a read-only state directory (EROFS) or one without
 * permission (EACCES) while staging, writing active.json, or appending to the
 * journal. The reload ends with a coded error, what serves and active.json
 * stay as they were, and once the disk is back the next reload works.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setDiskFault, type DiskFaultCode } from '../../src/store/index.js';
import { writeConfig } from '../helpers/configs.js';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';
import { pluginChildPids } from '../helpers/resources.js';

const CODES: DiskFaultCode[] = ['ENOSPC', 'EROFS', 'EACCES'];

describe('disk faults', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost();
    expect((await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }))).outcome).toBe('activated');
  });
  afterEach(async () => {
    setDiskFault('stage', null);
    await t.close();
  });

  /** What serves, what is on disk and which processes run, to compare before and after a failed reload. */
  const snapshot = async () => ({ plugins: t.host.listPlugins().map((p) => [p.version, p.pid]), marker: await t.readMarker(), processes: pluginChildPids() });

  it.each(CODES)('staging on %s: rejected at stage with WFR_STATE_WRITE_FAILED, nothing changed, nothing left in staging/', async (code) => {
    const before = await snapshot();
    setDiskFault('stage', code);
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
    expect(result).toMatchObject({ outcome: 'rejected', failedStep: 'stage', error: { code: 'WFR_STATE_WRITE_FAILED' } });
    expect(result.error!.message).toMatch(new RegExp(`Could not write .*staging.*${code}.*Check free space and permissions of the state directory`));
    expect(await snapshot()).toEqual(before);
    expect(await readdir(join(t.stateDir, 'staging'))).toEqual([]);
    setDiskFault('stage', null);
    expect((await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }))).outcome).toBe('activated');
  });

  it.each(CODES)('the active.json write on %s: rolled back at swap, the candidate killed, the old version serving, active.json untouched', async (code) => {
    const before = await snapshot();
    setDiskFault('marker', code);
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'swap', error: { code: 'WFR_STATE_WRITE_FAILED' } });
    expect(result.error!.message).toContain(code);
    expect(await snapshot()).toEqual(before);
    expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '1.0.0' });
    setDiskFault('marker', null);
    expect((await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }))).outcome).toBe('activated');
  });

  it('a config reload whose active.json write fails (ENOSPC) is rolled back at swap, its plugins released, the old engine serving', async () => {
    expect((await t.host.tryActivateConfig(await writeConfig({ tag: 'A' }))).outcome).toBe('activated');
    const before = await snapshot();
    const generation = t.host.engineStatus()!.generation;
    setDiskFault('marker', 'ENOSPC');
    const result = await t.host.tryActivateConfig(await writeConfig({ tag: 'B', plugin: { version: '3.0.0' } }));
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'swap', error: { code: 'WFR_STATE_WRITE_FAILED' } });
    expect(result.plugins).toEqual([expect.objectContaining({ outcome: 'rolledBack', failedStep: 'await engine' })]);
    expect(await snapshot()).toEqual(before);
    expect(t.host.engineStatus()!.generation).toBe(generation);
    setDiskFault('marker', null);
  });

  it('the journal append on EROFS: the swap stands (it happened), the host logs that the result could not be journaled and keeps serving; once the disk is back, results are journaled again', async () => {
    setDiskFault('journal', 'EROFS');
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
    expect(result.outcome).toBe('activated');
    expect(t.logs.find((line) => line.msg === 'could not journal the reload result')).toMatchObject({ reloadId: result.id, err: { code: 'WFR_STATE_WRITE_FAILED' } });
    expect((await t.host.history()).map((r) => r.id)).not.toContain(result.id);
    expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '2.0.0' });
    setDiskFault('journal', null);
    const next = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.1' }));
    expect((await t.host.history()).at(-1)!.id).toBe(next.id);
  });
});
