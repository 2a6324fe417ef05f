/**
 * Disk faults, through the documented fault switch (src/store/disk-faults.ts):
 * a full disk (ENOSPC), a read-only state directory (EROFS) or one without
 * permission (EACCES) while staging, writing active.json, or appending to the
 * journal. The reload ends with a coded error, what serves and active.json
 * stay as they were, and once the disk is back the next reload works.
 */
import { execa } from 'execa';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminApi, startAdminServer } from '../../src/api/index.js';
import type { ReloadResult } from '../../src/index.js';
import { setDiskFault, type DiskFaultCode } from '../../src/store/index.js';
import { writeConfig } from '../helpers/configs.js';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';
import { pluginChildPids } from '../helpers/resources.js';
import { WFCTL } from '../helpers/serve.js';

const TOKEN = 'test-token-0123456789abcdef';

const CODES: DiskFaultCode[] = ['ENOSPC', 'EROFS', 'EACCES'];

describe('disk faults', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost({ journalRetryMs: 20 });
    expect((await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }))).outcome).toBe('activated');
  });
  afterEach(async () => {
    setDiskFault('stage', null);
    setDiskFault('journal', null);
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

  it.each(CODES)('the intent record\'s flush on %s: rolled back at start before any candidate process runs, nothing changed', async (code) => {
    const before = await snapshot();
    setDiskFault('intent', code);
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'start', error: { code: 'WFR_STATE_WRITE_FAILED' } });
    expect(result.error!.message).toMatch(new RegExp(`intents.*${code}`));
    // Staged, never started: no pid.
    expect(result.candidate).toMatchObject({ version: '2.0.0', pid: null });
    expect(await snapshot()).toEqual(before);
    // Its record goes once the result is journaled, after the answer.
    await t.host.settled();
    expect(await readdir(join(t.stateDir, 'intents'))).toEqual([]);
    setDiskFault('intent', null);
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

  it('the journal append fails after the swap: the answer, the SSE event and `wfctl reloads ID` agree, while the disk refuses writes and after a restart once it takes them again', async () => {
    const api = await createAdminApi(t.host, TOKEN);
    const server = await startAdminServer(api, '127.0.0.1:0');
    const show = async (id: string) => {
      const run = await execa(process.execPath, [WFCTL, 'reloads', id, '--json', '--admin', server.address, '--token', TOKEN], { reject: false });
      expect(run.exitCode, run.stderr).toBe(0);
      return JSON.parse(run.stdout);
    };
    try {
      const announced: ReloadResult[] = [];
      const off = t.host.events.subscribe((event) => event.type === 'reload' && announced.push(event.result));
      setDiskFault('journal', 'EROFS');
      const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
      off();
      // The swap stands (it happened); the result waits in memory, and everything that tells of it agrees.
      expect(result.outcome).toBe('activated');
      expect(t.logs.find((line) => line.reloadId === result.id && String(line.msg).startsWith('could not journal reload result'))).toMatchObject({ err: { code: 'WFR_STATE_WRITE_FAILED' } });
      expect(announced).toEqual([result]);
      expect(await show(result.id)).toEqual(JSON.parse(JSON.stringify(result)));
      expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '2.0.0' });

      // The disk takes writes again: the next result goes in after it, in order, and a restart finds both.
      setDiskFault('journal', null);
      const next = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.1' }));
      const ids = (await t.host.history()).map((r) => r.id);
      expect(ids.slice(-2)).toEqual([result.id, next.id]);
    } finally {
      await server.close();
    }
    // A restart on the same state directory (afterEach removes it, with the first host).
    await t.host.close();
    const restarted = await openTestHost({}, t.stateDir);
    const server2 = await startAdminServer(await createAdminApi(restarted.host, TOKEN), '127.0.0.1:0');
    try {
      const [first, second] = (await restarted.host.history()).filter((r) => r.outcome === 'activated' && r.kind === 'plugin').slice(-2);
      const run = await execa(process.execPath, [WFCTL, 'reloads', first!.id, '--json', '--admin', server2.address, '--token', TOKEN], { reject: false });
      expect(JSON.parse(run.stdout)).toMatchObject({ id: first!.id, outcome: 'activated', active: { version: '2.0.0' } });
      expect(second).toMatchObject({ active: { version: '2.0.1' } });
    } finally {
      await server2.close();
      await restarted.close();
    }
  });

  it('a result the disk refuses is written by the retry, without another reload', async () => {
    setDiskFault('journal', 'ENOSPC');
    const result = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '2.0.0' }));
    expect(result.outcome).toBe('activated');
    const journal = join(t.stateDir, 'journal.ndjson');
    expect(await readFile(journal, 'utf8')).not.toContain(result.id);
    setDiskFault('journal', null);
    // journalRetryMs is short in tests; wait for the line to land.
    for (;;) {
      if ((await readFile(journal, 'utf8')).includes(result.id)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await t.host.history()).filter((r) => r.id === result.id)).toHaveLength(1);
  });
});
