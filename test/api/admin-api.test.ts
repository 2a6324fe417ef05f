/**
 * The admin API over a real orchestrator with real plugin processes.
 * Routes are called in process (`app.request`, like fastify's inject); the
 * SSE stream, whose listener is what is under test, goes over a real socket.
 * Every JSON body is checked against the schemas docs/api.md is built from.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAdminApi, startAdminServer, type AdminApi } from '../../src/api/index.js';
import {
  errorBodySchema,
  lastAttemptSchema,
  pluginListSchema,
  pluginStatusSchema,
  reloadListSchema,
  reloadResultSchema,
  statusSchema,
} from '../../src/api/schemas.js';
import { writeConfig, writeRawConfig } from '../helpers/configs.js';
import { sseReader, type SseEvent } from '../helpers/sse.js';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir, type FakePluginSpec } from '../helpers/plugin-dirs.js';

const TOKEN = 'test-token-0123456789abcdef';

/** GET /plugins/:name: the status entry plus its manifest and last attempt. */
const pluginDetailSchema = pluginStatusSchema.extend({
  manifest: z.looseObject({ name: z.string(), version: z.string() }),
  lastAttempt: lastAttemptSchema.nullable(),
});
const machineGraphSchema = z.object({
  id: z.string(),
  states: z.array(z.object({ name: z.string(), work: z.string().nullable(), final: z.boolean() })),
  transitions: z.array(z.object({ from: z.string(), event: z.string(), to: z.string() })),
});
const machinesSchema = z.object({ pluginSlot: machineGraphSchema, engineConfig: machineGraphSchema });
const transitionSchema = z.object({ type: z.literal('transition'), reloadId: z.string(), target: z.string(), state: z.string(), at: z.iso.datetime() });
const reloadEventSchema = z.object({ type: z.literal('reload'), result: reloadResultSchema });
const inspectEventSchema = z.object({ type: z.literal('inspect'), actorId: z.string(), state: z.unknown(), event: z.string() });

let t: TestHost;
let api: AdminApi;
let closeServer: (() => Promise<void>) | null = null;

beforeEach(async () => {
  t = await openTestHost();
  api = await createAdminApi(t.host, TOKEN);
});
afterEach(async () => {
  await closeServer?.();
  closeServer = null;
  api.close();
  await t.close();
});

/** An in-process request that carries the token unless `init` sets its own authorization. */
function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${TOKEN}`);
  return Promise.resolve(api.app.request(path, { ...init, headers }));
}

/** POST a JSON value, or a raw string sent as is. */
const post = (path: string, body: unknown): Promise<Response> =>
  request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Asserts the status, then parses the JSON body with `schema` (which names the field that drifted). */
async function expectJson<S extends z.ZodType>(response: Response | Promise<Response>, status: number, schema: S): Promise<z.infer<S>> {
  const res = await response;
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body: unknown = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  return schema.parse(body);
}

/** Asserts an error answer and returns its `error`. */
async function expectError(response: Response | Promise<Response>, status: number, code: string) {
  const { error } = await expectJson(response, status, errorBodySchema);
  expect(error.code).toBe(code);
  return error;
}

const tryActivate = async (name: string, spec: FakePluginSpec, extra: Record<string, unknown> = {}) =>
  post(`/api/v1/plugins/${name}/try-activate`, { dir: await makePluginDir({ name, ...spec }), ...extra });

/** The pid of a plugin reload's active version. */
const activePid = (result: z.infer<typeof reloadResultSchema>) => (result.active && 'pid' in result.active ? result.active.pid : null);

/** The value of one Prometheus sample, e.g. `wfreload_plugin_up{plugin="fake",version="1.0.0"}`. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('authentication', () => {
  it.each([
    ['no token is sent', {}],
    ['the bearer token is wrong', { authorization: `Bearer ${TOKEN.slice(0, -1)}X` }],
    ['the bearer token has the wrong length', { authorization: `Bearer ${TOKEN}extra` }],
    ['the scheme is not Bearer', { authorization: `Basic ${TOKEN}` }],
  ])('answers 401 when %s', async (_what, headers: Record<string, string>) => {
    const error = await expectError(api.app.request('/api/v1/status', { headers }), 401, 'WFR_UNAUTHORIZED');
    expect(error.message).toMatch(/Authorization: Bearer <token>/);
  });

  it('answers 401 when the access_token query value is wrong', async () => {
    await expectError(api.app.request(`/api/v1/status?access_token=${TOKEN}x`), 401, 'WFR_UNAUTHORIZED');
  });

  it.each(['bearer', 'BEARER', 'beArEr'])('answers 200 with the scheme written %s (schemes are case-insensitive in HTTP)', async (scheme) => {
    await expectJson(api.app.request('/api/v1/status', { headers: { authorization: `${scheme} ${TOKEN}` } }), 200, statusSchema);
  });

  it('answers 200 with Authorization: Bearer TOKEN', async () => {
    const status = await expectJson(api.app.request('/api/v1/status', { headers: { authorization: `Bearer ${TOKEN}` } }), 200, statusSchema);
    expect(status).toEqual({ engine: null, plugins: [], inFlight: {}, lastAttempts: {}, markerGeneration: 0 });
  });

  it('answers 200 with ?access_token=TOKEN', async () => {
    await expectJson(api.app.request(`/api/v1/status?access_token=${TOKEN}`), 200, statusSchema);
  });
});

describe('POST /api/v1/plugins/:name/try-activate', () => {
  it('answers 200 with the activated result for a good plugin dir', async () => {
    const result = await expectJson(tryActivate('fake', { version: '1.0.0' }), 200, reloadResultSchema);
    expect(result).toMatchObject({ kind: 'plugin', target: 'plugin:fake', name: 'fake', outcome: 'activated', dryRun: false, legacy: false, error: null, active: { version: '1.0.0' } });
    // A first activation drains nothing, but still passes through the drain step.
    expect(result.steps.map((s) => s.work)).toEqual(['stage', 'start', 'handshake', 'probe', 'engine check', 'swap', 'confirm', 'drain']);
    expect(t.host.listPlugins().map((p) => p.version)).toEqual(['1.0.0']);
  });

  it('resolves a relative dir against the host\'s working directory, and says which directory it used in source', async () => {
    const dir = await makePluginDir({ version: '1.0.0' });
    const result = await expectJson(post('/api/v1/plugins/fake/try-activate', { dir: relative(process.cwd(), dir) }), 200, reloadResultSchema);
    expect(result).toMatchObject({ outcome: 'activated', source: dir });
  });

  it('answers 200 unchanged when offered the active version\'s bytes again', async () => {
    const first = await expectJson(tryActivate('fake', { version: '1.0.0' }), 200, reloadResultSchema);
    const again = await expectJson(tryActivate('fake', { version: '1.0.0' }), 200, reloadResultSchema);
    expect(again).toMatchObject({ outcome: 'unchanged', active: first.active });
  });

  it('answers 422 with the rolled-back result when the candidate is unhealthy', async () => {
    const result = await expectJson(tryActivate('fake', { flags: ['unhealthy'] }), 422, reloadResultSchema);
    expect(result).toMatchObject({ outcome: 'rolledBack', failedStep: 'probe', error: { code: 'WFR_PLUGIN_UNHEALTHY' }, active: null });
    expect(t.host.listPlugins()).toEqual([]);
  });

  it('answers 200 dryRunPassed for a dry run and changes nothing but the last attempt', async () => {
    const v1 = await expectJson(tryActivate('fake', { version: '1.0.0' }), 200, reloadResultSchema);
    const before = await expectJson(request('/api/v1/status'), 200, statusSchema);
    const markerBefore = structuredClone(t.host.activeMarker());

    const dry = await expectJson(tryActivate('fake', { version: '2.0.0' }, { dryRun: true }), 200, reloadResultSchema);
    expect(dry).toMatchObject({ outcome: 'dryRunPassed', dryRun: true, candidate: { version: '2.0.0' } });
    expect(dry.active).toEqual(v1.active);

    const after = await expectJson(request('/api/v1/status'), 200, statusSchema);
    // `state` is the slot machine's, which settles in dryRunPassed; the registry entry itself is untouched.
    const withoutSlotState = (status: z.infer<typeof statusSchema>) => ({ ...status, lastAttempts: null, plugins: status.plugins.map(({ state: _state, ...p }) => p) });
    expect(withoutSlotState(after)).toEqual(withoutSlotState(before));
    expect(after.plugins.map((p) => p.state)).toEqual(['dryRunPassed']);
    expect(after.lastAttempts['plugin:fake']).toMatchObject({ id: dry.id, outcome: 'dryRunPassed' });
    expect(t.host.activeMarker()).toEqual(markerBefore);
  });

  it('answers 409 with the id of the reload already running on that plugin', async () => {
    // It stays in the handshake until the handshake timeout; admitted once its intent record is written and its slot stages it.
    const dir = await makePluginDir({ flags: ['hang-initialize'] });
    const admitted = t.waitForState('plugin:fake', 'staging');
    const running = t.host.tryActivatePlugin('fake', dir);
    await admitted;
    const status = await expectJson(request('/api/v1/status'), 200, statusSchema);
    const error = await expectError(tryActivate('fake', { version: '2.0.0' }), 409, 'WFR_RELOAD_IN_PROGRESS');
    const finished = await running;
    expect(finished.outcome).toBe('rolledBack');
    expect(error.details).toEqual({ target: 'plugin:fake', inFlightId: finished.id });
    expect(status.inFlight).toEqual({ 'plugin:fake': finished.id });
    // The refused request left no trace in the history.
    expect((await t.host.history()).map((r) => r.id)).toEqual([finished.id]);
  });

  it.each([
    ['the body is malformed JSON', '{"dir": ', 'WFR_REQUEST_BODY_INVALID'],
    ['the body has no dir', {}, 'WFR_INVALID_ARGUMENT'],
    ['the body has an unknown key', { dir: '/tmp/x', force: true }, 'WFR_INVALID_ARGUMENT'],
    ['dryRun is not a boolean', { dir: '/tmp/x', dryRun: 'yes' }, 'WFR_INVALID_ARGUMENT'],
    ['the body is 3 MiB', { dir: 'x'.repeat(3 * 1024 * 1024) }, 'WFR_REQUEST_BODY_INVALID'],
  ])('answers 400 when %s', async (_what, body, code) => {
    await expectError(post('/api/v1/plugins/fake/try-activate', body), 400, code);
    expect(await t.host.history()).toEqual([]);
  });

  it('answers 400 for an invalid plugin name', async () => {
    const error = await expectError(post('/api/v1/plugins/Not_A_Name/try-activate', { dir: await makePluginDir() }), 400, 'WFR_INVALID_ARGUMENT');
    expect(error.details).toMatchObject({ argument: 'plugin name', received: 'Not_A_Name' });
    expect(await t.host.history()).toEqual([]);
  });
});

describe('POST /api/v1/config/try-activate', () => {
  it('answers 200 activated for a config file', async () => {
    const file = await writeConfig({ tag: 'A' });
    const result = await expectJson(post('/api/v1/config/try-activate', { file }), 200, reloadResultSchema);
    expect(result).toMatchObject({ kind: 'config', target: 'config', source: file, outcome: 'activated', active: { generation: 1 } });
    expect(t.host.engineStatus()?.generation).toBe(1);
  });

  it('answers 200 activated for inline YAML with absolute plugin dirs', async () => {
    const yaml = await readFile(await writeConfig({ tag: 'B' }), 'utf8');
    const result = await expectJson(post('/api/v1/config/try-activate', { yaml }), 200, reloadResultSchema);
    expect(result).toMatchObject({ kind: 'config', outcome: 'activated', active: { generation: 1 } });
    expect(result.source).toMatch(/<inline config>\.yaml$/);
    const answer = await fetch(`http://${t.host.engineStatus()!.address}/echo/hi`);
    expect(await answer.json()).toMatchObject({ input: { tag: 'B' } });
  });

  it('answers 422 with the rejected result for an invalid config', async () => {
    const result = await expectJson(post('/api/v1/config/try-activate', { file: await writeRawConfig('http: [') }), 422, reloadResultSchema);
    expect(result).toMatchObject({ outcome: 'rejected', failedStep: 'stage', error: { code: 'WFR_CONFIG_INVALID' }, active: null });
    expect(t.host.engineStatus()).toBeNull();
  });

  it.each([
    ['both file and yaml are given', { file: '/tmp/a.yaml', yaml: 'http: {}' }],
    ['neither file nor yaml is given', { dryRun: true }],
  ])('answers 400 when %s', async (_what, body) => {
    const error = await expectError(post('/api/v1/config/try-activate', body), 400, 'WFR_INVALID_ARGUMENT');
    expect(error.message).toMatch(/exactly one of "file" or "yaml"/);
  });
});

describe('POST /api/v1/plugins/:name/reload (legacy)', () => {
  it('answers 200 activated for a good dir with ?legacy=true', async () => {
    const result = await expectJson(post('/api/v1/plugins/fake/reload?legacy=true', { dir: await makePluginDir() }), 200, reloadResultSchema);
    expect(result).toMatchObject({ outcome: 'activated', legacy: true, active: { version: '1.0.0' } });
  });

  it('answers 422 failed for a bad dir, after which the plugin is gone', async () => {
    await expectJson(tryActivate('fake', { version: '1.0.0' }), 200, reloadResultSchema);
    const result = await expectJson(post('/api/v1/plugins/fake/reload?legacy=true', { dir: await makePluginDir({ version: '2.0.0', flags: ['unhealthy'] }) }), 422, reloadResultSchema);
    expect(result).toMatchObject({ outcome: 'failed', legacy: true, failedStep: 'probe', previous: { version: '1.0.0' }, active: null });
    await expectError(request('/api/v1/plugins/fake'), 404, 'WFR_UNKNOWN_PLUGIN');
  });

  it('answers 400 without ?legacy=true and reloads nothing', async () => {
    const error = await expectError(post('/api/v1/plugins/fake/reload', { dir: await makePluginDir() }), 400, 'WFR_INVALID_ARGUMENT');
    expect(error.message).toMatch(/needs \?legacy=true/);
    expect(await t.host.history()).toEqual([]);
  });
});

describe('GET /api/v1/status', () => {
  it('shows the failed reload in lastAttempts while the previous version stays active', async () => {
    const config = await expectJson(post('/api/v1/config/try-activate', { file: await writeConfig() }), 200, reloadResultSchema);
    const good = await expectJson(tryActivate('other', { version: '1.0.0' }), 200, reloadResultSchema);
    const bad = await expectJson(tryActivate('other', { version: '2.0.0', flags: ['unhealthy'] }), 422, reloadResultSchema);

    const status = await expectJson(request('/api/v1/status'), 200, statusSchema);
    expect(status.engine).toMatchObject({ generation: 1, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), requestsInFlight: 0 });
    expect(status.plugins.map((p) => [p.name, p.version, p.alive])).toEqual([
      ['fake', '1.0.0', true],
      ['other', '1.0.0', true],
    ]);
    expect(status.plugins.find((p) => p.name === 'other')!.pid).toBe(activePid(good));
    expect(status.inFlight).toEqual({});
    expect(status.lastAttempts).toEqual({
      config: expect.objectContaining({ id: config.id, outcome: 'activated' }),
      'plugin:other': { id: bad.id, outcome: 'rolledBack', finishedAt: bad.finishedAt, failedStep: 'probe', error: bad.error },
    });
    expect(status.lastAttempts['plugin:other']!.error?.code).toBe('WFR_PLUGIN_UNHEALTHY');
  });
});

describe('GET /api/v1/plugins', () => {
  it('lists the active plugins', async () => {
    await expectJson(tryActivate('fake', { version: '1.0.0' }), 200, reloadResultSchema);
    await expectJson(tryActivate('other', { version: '3.1.0', steps: ['echo', 'shout'] }), 200, reloadResultSchema);
    const { plugins } = await expectJson(request('/api/v1/plugins'), 200, pluginListSchema);
    expect(plugins.map((p) => ({ name: p.name, version: p.version, steps: p.steps, alive: p.alive }))).toEqual([
      { name: 'fake', version: '1.0.0', steps: ['echo'], alive: true },
      { name: 'other', version: '3.1.0', steps: ['echo', 'shout'], alive: true },
    ]);
  });

  it('shows one plugin with its manifest and last attempt', async () => {
    const result = await expectJson(tryActivate('fake', { version: '1.2.3' }), 200, reloadResultSchema);
    const plugin = await expectJson(request('/api/v1/plugins/fake'), 200, pluginDetailSchema);
    expect(plugin).toMatchObject({ name: 'fake', version: '1.2.3', pid: activePid(result), manifest: { name: 'fake', version: '1.2.3' }, lastAttempt: { id: result.id, outcome: 'activated' } });
  });

  it('answers 404 for an unknown plugin', async () => {
    const error = await expectError(request('/api/v1/plugins/nope'), 404, 'WFR_UNKNOWN_PLUGIN');
    expect(error.details).toEqual({ plugin: 'nope', known: [] });
  });
});

describe('GET /api/v1/reloads', () => {
  it('lists reloads newest first and honours limit', async () => {
    const ids: string[] = [];
    ids.push((await expectJson(tryActivate('fake', { version: '1.0.0' }), 200, reloadResultSchema)).id);
    ids.push((await expectJson(tryActivate('fake', { version: '2.0.0', flags: ['unhealthy'] }), 422, reloadResultSchema)).id);
    ids.push((await expectJson(tryActivate('fake', { version: '3.0.0' }, { dryRun: true }), 200, reloadResultSchema)).id);

    const all = await expectJson(request('/api/v1/reloads'), 200, reloadListSchema);
    expect(all.reloads.map((r) => r.id)).toEqual([...ids].reverse());
    expect(all.reloads.map((r) => r.outcome)).toEqual(['dryRunPassed', 'rolledBack', 'activated']);
    const two = await expectJson(request('/api/v1/reloads?limit=2'), 200, reloadListSchema);
    expect(two.reloads.map((r) => r.id)).toEqual([ids[2], ids[1]]);
  });

  it('shows one reload by id, as the try-activate answer had it', async () => {
    const result = await expectJson(tryActivate('fake', {}), 200, reloadResultSchema);
    expect(await expectJson(request(`/api/v1/reloads/${result.id}`), 200, reloadResultSchema)).toEqual(result);
  });

  it('answers 404 for an unknown reload id', async () => {
    const error = await expectError(request('/api/v1/reloads/no-such-id'), 404, 'WFR_UNKNOWN_RELOAD');
    expect(error.details).toEqual({ id: 'no-such-id' });
  });

  it.each(['0', '-1', '1.5', 'ten', '10001'])('answers 400 for limit=%s', async (limit) => {
    const error = await expectError(request(`/api/v1/reloads?limit=${limit}`), 400, 'WFR_INVALID_ARGUMENT');
    expect(error.details).toMatchObject({ argument: 'limit', received: limit });
  });
});

describe('GET /api/v1/metrics', () => {
  const metrics = async () => {
    const res = await request('/api/v1/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return res.text();
  };

  it('counts reloads by kind and outcome, and reports the engine generation and plugin liveness', async () => {
    const empty = await metrics();
    expect(sample(empty, 'wfreload_reloads_total{kind="plugin",outcome="activated"}')).toBeUndefined();
    expect(sample(empty, 'wfreload_active_engine_generation')).toBe(0);
    expect(empty).toMatch(/^# TYPE wfreload_reloads_total counter$/m);

    await expectJson(post('/api/v1/config/try-activate', { file: await writeConfig() }), 200, reloadResultSchema);
    await expectJson(tryActivate('other', { version: '1.0.0' }), 200, reloadResultSchema);
    await expectJson(tryActivate('other', { version: '2.0.0' }), 200, reloadResultSchema);
    await expectJson(tryActivate('other', { version: '3.0.0', flags: ['unhealthy'] }), 422, reloadResultSchema);

    const text = await metrics();
    expect(sample(text, 'wfreload_reloads_total{kind="plugin",outcome="activated"}')).toBe(2);
    expect(sample(text, 'wfreload_reloads_total{kind="plugin",outcome="rolledBack"}')).toBe(1);
    expect(sample(text, 'wfreload_reloads_total{kind="config",outcome="activated"}')).toBe(1);
    expect(sample(text, 'wfreload_active_engine_generation')).toBe(1);
    expect(sample(text, 'wfreload_reloads_in_flight')).toBe(0);
    expect(sample(text, 'wfreload_plugin_up{plugin="fake",version="1.0.0"}')).toBe(1);
    expect(sample(text, 'wfreload_plugin_up{plugin="other",version="2.0.0"}')).toBe(1);
    expect(sample(text, 'wfreload_plugin_up{plugin="other",version="3.0.0"}')).toBeUndefined();
  });
});

describe('GET /api/v1/events', () => {
  it('streams the transitions of a reload in order, then its result, and inspection snapshots of the slot actor', async () => {
    const server = await startAdminServer(api, '127.0.0.1:0');
    closeServer = () => server.close();
    const base = `http://${server.address}`;
    const abort = new AbortController();
    const res = await fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const next = sseReader(res.body!);
    // Subscribed before hello is written, so nothing after this point is missed.
    expect(await next()).toEqual({ event: 'hello', data: { inFlight: {} } });

    const answer = fetch(`${base}/api/v1/plugins/fake/try-activate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dir: await makePluginDir() }),
    });
    const events: SseEvent[] = [];
    for (let event = await next(); ; event = await next()) {
      events.push(event);
      if (event.event === 'reload') break;
    }
    const result = await expectJson(answer, 200, reloadResultSchema);
    abort.abort();

    const reload = reloadEventSchema.parse(events.at(-1)!.data);
    expect(reload.result).toEqual(result);
    const transitions = events.filter((e) => e.event === 'transition').map((e) => transitionSchema.parse(e.data));
    expect(transitions.every((e) => e.reloadId === result.id && e.target === 'plugin:fake')).toBe(true);
    expect(transitions.map((e) => e.state)).toEqual(['staging', 'staged', 'candidateStarted', 'handshaked', 'healthy', 'probed', 'confirming', 'draining', 'active']);
    const inspections = events.filter((e) => e.event === 'inspect').map((e) => inspectEventSchema.parse(e.data));
    const slot = inspections.filter((e) => e.actorId === 'plugin:fake');
    expect(slot.length).toBeGreaterThan(0);
    expect(slot.at(-1)!.state).toBe('active');
    // The plugin's stderr lines come too (event log), whenever it writes them.
    for (const log of events.filter((e) => e.event === 'log')) expect(log.data).toMatchObject({ type: 'log', plugin: 'fake' });
    expect(new Set(events.map((e) => e.event).filter((type) => type !== 'log'))).toEqual(new Set(['transition', 'inspect', 'reload']));
  });
});

describe('an oversize body over a real socket', () => {
  it('is refused with 400 and the connection closed, so the next request on the same client succeeds', async () => {
    const server = await startAdminServer(api, '127.0.0.1:0');
    closeServer = () => server.close();
    const base = `http://${server.address}`;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const big = await fetch(`${base}/api/v1/plugins/fake/try-activate`, { method: 'POST', headers, body: JSON.stringify({ dir: 'x'.repeat(3 * 1024 * 1024) }) });
    expect(big.status).toBe(400);
    expect(big.headers.get('connection')).toBe('close');
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('WFR_REQUEST_BODY_INVALID');
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/api/v1/status`, { headers })).status).toBe(200);
  });
});

describe('the live view', () => {
  it('serves GET /inspect as HTML without a token', async () => {
    const res = await api.app.request('/inspect');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/^<!doctype html>[\s\S]*wfreload — live view/);
  });

  it('serves the slot machine graphs at GET /api/v1/machines', async () => {
    const graphs = await expectJson(request('/api/v1/machines'), 200, machinesSchema);
    const names = (graph: z.infer<typeof machineGraphSchema>) => graph.states.map((s) => s.name);
    expect(names(graphs.pluginSlot)).toEqual(expect.arrayContaining(['idle', 'staged', 'candidateStarted', 'handshaked', 'healthy', 'probed', 'active', 'rolledBack']));
    expect(names(graphs.engineConfig)).toEqual(expect.arrayContaining(['idle', 'staged', 'candidateBuilt', 'probed', 'active', 'rolledBack']));
    expect(graphs.pluginSlot.states.find((s) => s.name === 'candidateStarted')).toEqual({ name: 'candidateStarted', work: 'handshake', final: false });
    // Every transition joins two states the graph lists.
    for (const graph of [graphs.pluginSlot, graphs.engineConfig]) {
      for (const { from, to } of graph.transitions) expect(names(graph)).toEqual(expect.arrayContaining([from, to]));
    }
  });
});

describe('unknown routes', () => {
  it('answers 404 WFR_NOT_FOUND under /api/v1', async () => {
    const error = await expectError(request('/api/v1/nope'), 404, 'WFR_NOT_FOUND');
    expect(error.details).toEqual({ method: 'GET', path: '/api/v1/nope' });
  });

  it('answers 404 WFR_NOT_FOUND outside /api/v1', async () => {
    await expectError(api.app.request('/nope', { method: 'DELETE' }), 404, 'WFR_NOT_FOUND');
  });
});
