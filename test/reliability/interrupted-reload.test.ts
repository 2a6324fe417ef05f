/**
 * Interrupted reloads are journaled and cleaned up: a real host is SIGKILLed
 * while a candidate that spawned a child of its own hangs in its handshake.
 * The candidate exits when its stdin closes, but its child would live on. The
 * restarted host kills what is left of the candidate's process group, removes
 * its staged copy, and journals the reload as `interrupted`, which the client
 * finds by the requestId it sent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { reloadListSchema } from '../../src/api/schemas.js';
import { writeConfig } from '../helpers/configs.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { groupMembers } from '../helpers/resources.js';
import { startServe } from '../helpers/serve.js';
import { scaled } from '../helpers/slowdown.js';


/** An intent record is a log of JSON lines, each the whole record as it stood: the last whole line is the record. */
function lastRecord(text: string) {
  const whole = text.slice(0, text.lastIndexOf('\n') + 1).trim().split('\n').at(-1);
  return whole ? JSON.parse(whole) : {};
}

async function until<T>(what: string, check: () => T | null | undefined | false): Promise<T> {
  const deadline = Date.now() + scaled(10_000);
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('a host killed mid-handshake: the restart kills the candidate group, removes its staged copy, and journals it as interrupted', async () => {
  const stateDir = await tempDir('wfr-interrupt-');
  const doomed = await startServe(stateDir, await writeConfig({ tag: 'A' }));
  const token = (await readFile(join(stateDir, 'admin.token'), 'utf8')).trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const candidateDir = await makePluginDir({ version: '2.0.0', flags: ['spawn-grandchild', 'hang-initialize'] });
  const request = fetch(`http://${doomed.admin}/api/v1/plugins/fake/try-activate`, { method: 'POST', headers, body: JSON.stringify({ dir: candidateDir, requestId: 'campaign-9.host-3' }) }).then(
    (response) => response.status,
    () => 'connection lost',
  );

  // The intent record names the candidate once it runs; its child has joined its process group.
  const intentFile = await until('the intent record', () => readdirSync(join(stateDir, 'intents')).find((name) => name.endsWith('.json')));
  const intent = await until('the candidate in the intent record', () => {
    const parsed = lastRecord(readFileSync(join(stateDir, 'intents', intentFile), 'utf8'));
    return parsed.candidate ? parsed : null;
  });
  const pgid: number = intent.candidate.pid;
  await until('the candidate child', () => groupMembers(pgid).length >= 2);
  expect(intent).toMatchObject({ target: 'plugin:fake', requestId: 'campaign-9.host-3', staged: { createdByReload: true } });
  expect(existsSync(join(stateDir, intent.staged.dir))).toBe(true);

  doomed.process.kill('SIGKILL');
  await doomed.process;
  expect(await request).toBe('connection lost');
  // The candidate itself exits when its stdin closes; its child does not.
  await until('the candidate to exit', () => !groupMembers(pgid).includes(pgid));
  expect(groupMembers(pgid).length).toBeGreaterThan(0);

  const restarted = await startServe(stateDir);
  try {
    expect(groupMembers(pgid)).toEqual([]);
    expect(existsSync(join(stateDir, intent.staged.dir))).toBe(false);
    expect(readdirSync(join(stateDir, 'intents')).filter((name) => !name.startsWith('.'))).toEqual([]);
    const found = await fetch(`http://${restarted.admin}/api/v1/reloads?requestId=campaign-9.host-3`, { headers });
    const [interrupted, ...more] = reloadListSchema.parse(await found.json()).reloads;
    expect(more).toEqual([]);
    expect(interrupted).toMatchObject({ id: intent.id, outcome: 'interrupted', failedStep: 'handshake', requestId: 'campaign-9.host-3', error: { code: 'WFR_RELOAD_INTERRUPTED' } });
    expect(interrupted!.error!.message).toContain(`process group ${pgid}`);
    expect(interrupted!.error!.message).toContain(`the staged copy ${intent.staged.dir}`);
    // What serves is what active.json named: the old version, restarted.
    const status = await fetch(`http://${restarted.admin}/api/v1/status`, { headers }).then((r) => r.json() as Promise<{ plugins: Array<{ version: string }> }>);
    expect(status.plugins.map((p) => p.version)).toEqual(['1.0.0']);
  } finally {
    await restarted.stop();
  }
});

it('a host killed while a config reload\'s new plugin hangs in its handshake: the restart kills that plugin\'s group, removes its staged copy and the staged config, and journals the config reload as interrupted', async () => {
  const stateDir = await tempDir('wfr-interrupt-');
  const doomed = await startServe(stateDir, await writeConfig({ tag: 'A' }));
  const token = (await readFile(join(stateDir, 'admin.token'), 'utf8')).trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const root = await tempDir('wfr-config-');
  const extraDir = await makePluginDir({ name: 'extra', flags: ['spawn-grandchild', 'hang-initialize'] }, root);
  const file = await writeConfig({ tag: 'B', extra: { plugins: { fake: { dir: await makePluginDir({}, root) }, extra: { dir: extraDir } } } }, root);
  const request = fetch(`http://${doomed.admin}/api/v1/config/try-activate`, { method: 'POST', headers, body: JSON.stringify({ file, requestId: 'campaign-10.host-1' }) }).then(
    (response) => response.status,
    () => 'connection lost',
  );

  // The intent record names the config's plugin once its slot started it; its child has joined its process group.
  const intentFile = await until('the intent record', () => readdirSync(join(stateDir, 'intents')).find((name) => name.endsWith('.json')));
  const intent = await until('the plugin in the intent record', () => {
    const parsed = lastRecord(readFileSync(join(stateDir, 'intents', intentFile), 'utf8'));
    return parsed.plugins?.[0]?.candidate ? parsed : null;
  });
  const [extra] = intent.plugins;
  const pgid: number = extra.candidate.pid;
  await until('the plugin child', () => groupMembers(pgid).length >= 2);
  expect(intent).toMatchObject({ target: 'config', requestId: 'campaign-10.host-1', staged: { createdByReload: true }, plugins: [{ name: 'extra', staged: { createdByReload: true } }] });
  expect(existsSync(join(stateDir, extra.staged.dir))).toBe(true);
  expect(existsSync(join(stateDir, intent.staged.dir))).toBe(true);

  doomed.process.kill('SIGKILL');
  await doomed.process;
  expect(await request).toBe('connection lost');
  await until('the plugin to exit', () => !groupMembers(pgid).includes(pgid));
  expect(groupMembers(pgid).length).toBeGreaterThan(0);

  const restarted = await startServe(stateDir);
  try {
    expect(groupMembers(pgid)).toEqual([]);
    expect(existsSync(join(stateDir, extra.staged.dir))).toBe(false);
    expect(existsSync(join(stateDir, intent.staged.dir))).toBe(false);
    expect(readdirSync(join(stateDir, 'intents')).filter((name) => !name.startsWith('.'))).toEqual([]);
    const found = await fetch(`http://${restarted.admin}/api/v1/reloads?requestId=campaign-10.host-1`, { headers });
    const [interrupted, ...more] = reloadListSchema.parse(await found.json()).reloads;
    expect(more).toEqual([]);
    expect(interrupted).toMatchObject({ id: intent.id, kind: 'config', outcome: 'interrupted', failedStep: 'start plugins', requestId: 'campaign-10.host-1', error: { code: 'WFR_RELOAD_INTERRUPTED' } });
    expect(interrupted!.error!.message).toContain(`plugin extra's candidate 1.0.0's process group ${pgid}`);
    expect(interrupted!.error!.message).toContain(`the staged copy ${extra.staged.dir}`);
    // What serves is what active.json named: the old engine, on the old plugin.
    const status = await fetch(`http://${restarted.admin}/api/v1/status`, { headers }).then((r) => r.json() as Promise<{ plugins: Array<{ name: string }>; engine: { generation: number } }>);
    expect(status.plugins.map((p) => p.name)).toEqual(['fake']);
    expect(status.engine.generation).toBe(1);
  } finally {
    await restarted.stop();
  }
});
