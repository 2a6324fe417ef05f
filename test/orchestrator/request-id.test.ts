/**
 * A client-chosen requestId makes try-activate idempotent (library, admin API
 * and wfctl): echoed in the result and the journal, findable by it; asked
 * again while it runs, refused (409, WFR_REQUEST_IN_PROGRESS, nothing
 * started); asked again after it finished, the recorded result, no new reload.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestInProgressError } from '../../src/errors.js';
import { reloadListSchema, reloadResultSchema } from '../../src/api/schemas.js';
import { writeConfig } from '../helpers/configs.js';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { startServe, wfctl, type RunningHost } from '../helpers/serve.js';

describe('requestId through the library', () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await openTestHost();
  });
  afterAll(() => t?.close());

  it('refuses a second ask while the first runs, and answers a later one with the recorded result', async () => {
    // The candidate holds its probe until a file exists: the first request is deterministically still running.
    const gate = join(await tempDir('wfr-gate-'), 'open');
    const dir = await makePluginDir({ version: '1.0.0', manifest: { probe: [{ step: 'echo', input: { holdUntilFile: gate }, expect: { step: 'echo' } }] } });
    const probing = t.waitForState('plugin:fake', 'handshaked');
    const first = t.host.tryActivatePlugin('fake', dir, { requestId: 'campaign-7.fake' });
    await probing;
    const again = await t.host.tryActivatePlugin('fake', dir, { requestId: 'campaign-7.fake' }).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(RequestInProgressError);
    expect(again).toMatchObject({ code: 'WFR_REQUEST_IN_PROGRESS', httpStatus: 409, details: { requestId: 'campaign-7.fake', target: 'plugin:fake' } });
    await writeFile(gate, '');
    const result = await first;
    expect(result).toMatchObject({ outcome: 'activated', requestId: 'campaign-7.fake' });

    const journalBefore = (await t.host.history()).length;
    const replay = await t.host.tryActivatePlugin('fake', dir, { requestId: 'campaign-7.fake' });
    expect(replay).toEqual(result);
    expect((await t.host.history()).length).toBe(journalBefore);
    expect(t.host.listPlugins()[0]!.pid).toBe(result.active!.pid);
  });

  it('rejects a requestId already used for another target, and a malformed one, changing nothing', async () => {
    await expect(t.host.tryActivateConfig(await writeConfig(), { requestId: 'campaign-7.fake' })).rejects.toMatchObject({ code: 'WFR_INVALID_ARGUMENT', message: expect.stringContaining('already used for plugin:fake') });
    await expect(t.host.tryActivatePlugin('fake', '/nowhere', { requestId: 'has spaces' })).rejects.toMatchObject({ code: 'WFR_INVALID_ARGUMENT', message: expect.stringContaining('requestId') });
  });
});

describe('requestId through the admin API and wfctl', () => {
  let host: RunningHost;
  let stateDir: string;
  beforeAll(async () => {
    stateDir = await tempDir('wfr-reqid-');
    host = await startServe(stateDir, await writeConfig({ tag: 'A' }));
  });
  afterAll(() => host?.stop());

  it('echoes it, finds the reload by it, and answers a repeat with the same result', async () => {
    const dir = await makePluginDir({ version: '1.1.0' });
    const first = await wfctl(host, stateDir, 'plugin', 'try-activate', 'fake', dir, '--request-id', 'wave-1', '--json');
    expect(first.exitCode, first.stderr).toBe(0);
    const result = reloadResultSchema.parse(JSON.parse(first.stdout));
    expect(result).toMatchObject({ outcome: 'activated', requestId: 'wave-1' });

    const repeat = await wfctl(host, stateDir, 'plugin', 'try-activate', 'fake', dir, '--request-id', 'wave-1', '--json');
    expect(JSON.parse(repeat.stdout)).toEqual(JSON.parse(first.stdout));

    const token = (await readFile(join(stateDir, 'admin.token'), 'utf8')).trim();
    const found = await fetch(`http://${host.admin}/api/v1/reloads?requestId=wave-1`, { headers: { authorization: `Bearer ${token}` } });
    expect(reloadListSchema.parse(await found.json()).reloads.map((r) => r.id)).toEqual([result.id]);
    const listed = await wfctl(host, stateDir, 'reloads', '--request-id', 'wave-1');
    expect(listed.stdout).toContain(result.id);
    expect(listed.stdout).toContain('request wave-1');
    expect((await wfctl(host, stateDir, 'reloads', '--request-id', 'nope')).stdout).toBe('no reload with request id "nope"');

    const bad = await wfctl(host, stateDir, 'plugin', 'try-activate', 'fake', dir, '--request-id', 'no spaces allowed');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/requestId/);
  });
});
