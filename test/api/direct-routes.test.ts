/**
 * The reload routes answered straight from node:http (src/api/direct-routes.ts): what they take, what
 * they leave to the Hono app untouched, and that what they answer is what the app answers. The listener
 * is what is under test, so every request goes over a real socket.
 */
import http, { type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminApi, MAX_ADMIN_BODY_BYTES, startAdminServer, type AdminApi } from '../../src/api/index.js';
import { errorBodySchema, reloadResultSchema } from '../../src/api/schemas.js';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';

const TOKEN = 'test-token-0123456789abcdef';
/** What the test server answers for a request the direct handler left alone. */
const LEFT = 599;

let t: TestHost;
let api: AdminApi;
let server: Server;
let base: { host: string; port: number };

beforeEach(async () => {
  t = await openTestHost();
  api = await createAdminApi(t.host, TOKEN);
  // Only the direct handler: anything it declines is marked, its body drained, and nothing else happens.
  server = http.createServer((request, response) => {
    if (api.direct(request, response)) return;
    request.resume();
    request.once('end', () => response.writeHead(LEFT).end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  api.close();
  await t.close();
});

interface Sent {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body chunked, without a content-length. */
  chunked?: boolean;
}

/** One request on its own connection, as node:http sends it; the answer's status, headers and text. */
function send(sent: Sent, to = base): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
  const body = sent.body ?? '';
  const headers: Record<string, string | number> = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...sent.headers };
  if (!sent.chunked) headers['content-length'] ??= Buffer.byteLength(body);
  for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
  return new Promise((resolve, reject) => {
    const request = http.request({ ...to, method: sent.method ?? 'POST', path: sent.path, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.once('error', reject);
    if (sent.chunked) {
      const text = body.toString();
      request.write(text.slice(0, text.length >> 1));
      request.end(text.slice(text.length >> 1));
    } else request.end(body);
  });
}

/** The same request through the Hono app, in process. */
async function viaApp(sent: Sent): Promise<{ status: number; text: string }> {
  const response = await api.app.request(sent.path, { method: sent.method ?? 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...sent.headers }, body: sent.body ?? '' });
  return { status: response.status, text: await response.text() };
}

describe('a plain reload request', () => {
  it('is served by the direct handler: the plugin is activated, and the answer is the reload result with 200 and a content-length', async () => {
    const answer = await send({ path: '/api/v1/plugins/fake/try-activate', body: JSON.stringify({ dir: await makePluginDir({ version: '2.0.0' }), requestId: 'direct-1' }) });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.text));
    const result = reloadResultSchema.parse(JSON.parse(answer.text));
    expect(result).toMatchObject({ outcome: 'activated', target: 'plugin:fake', requestId: 'direct-1', active: { version: '2.0.0' } });
    expect(t.host.listPlugins().map((p) => [p.name, p.version])).toEqual([['fake', '2.0.0']]);
    expect((await t.host.history()).at(-1)!.id).toBe(result.id);
  });

  it('answers a reload that did not activate with 422 and its result, as the app does', async () => {
    const answer = await send({ path: '/api/v1/plugins/fake/try-activate', body: JSON.stringify({ dir: await makePluginDir({ flags: ['unhealthy'] }) }) });
    expect(answer.status).toBe(422);
    expect(reloadResultSchema.parse(JSON.parse(answer.text))).toMatchObject({ outcome: 'rolledBack', failedStep: 'probe' });
    expect(t.host.listPlugins()).toEqual([]);
  });

  it('serves rollback and config try-activate too, with the app answer for the same body', async () => {
    for (const sent of [
      { path: '/api/v1/plugins/fake/rollback', body: JSON.stringify({ dryRun: true }) },
      { path: '/api/v1/config/try-activate', body: JSON.stringify({ yaml: 'version: 1\nroutes: [' }) },
      // Bytes that are not UTF-8 become U+FFFD in both.
      { path: '/api/v1/plugins/fake/try-activate', body: Buffer.concat([Buffer.from('{"dir": "/nonexistent-'), Buffer.from([0xff]), Buffer.from('"}')]) },
    ]) {
      const direct = await send(sent);
      expect(direct.status, direct.text).not.toBe(LEFT);
      const app = await viaApp(sent);
      expect(direct.status).toBe(app.status);
      expect(stripTimes(direct.text)).toEqual(stripTimes(app.text));
    }
  });
});

/** A reload result or an error body with the fields that differ between two runs of the same request taken out. */
function stripTimes(text: string): unknown {
  const body = JSON.parse(text) as Record<string, unknown>;
  if ('error' in body && Object.keys(body).length === 1) return body;
  const { id: _id, startedAt: _s, finishedAt: _f, ms: _ms, steps, ...rest } = body;
  return { ...rest, steps: (steps as Array<{ state: string; work: string }>).map(({ state, work }) => ({ state, work })) };
}

// Bodies the route refuses: the direct handler refuses them with the app's own error, word for word.
const badBodies: Array<[string, string]> = [
  ['a body that is not JSON', '{"dir": '],
  ['a field of the wrong type', '{"dir": 1}'],
  ['a field the route does not know', '{"dir": "/opt/plugins/x", "force": true}'],
  ['an empty body (no dir)', ''],
  ['a JSON array', '[]'],
];

describe('a bad body sent plainly', () => {
  it.each(badBodies)('%s: the same status and error body as the app, and no reload starts', async (_, body) => {
    const sent = { path: '/api/v1/plugins/fake/try-activate', body };
    const direct = await send(sent);
    expect(direct.status).not.toBe(LEFT);
    const app = await viaApp(sent);
    expect(direct.status).toBe(app.status);
    expect(errorBodySchema.parse(JSON.parse(direct.text))).toEqual(JSON.parse(app.text));
    expect(await t.host.history()).toEqual([]);
  });

  it('a body with a byte-order mark is read as the app reads it (the mark dropped)', async () => {
    const sent = { path: '/api/v1/plugins/fake/try-activate', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ dir: await makePluginDir(), dryRun: true }))]) };
    const direct = await send(sent);
    expect(direct.status, direct.text).toBe(200);
    expect(reloadResultSchema.parse(JSON.parse(direct.text)).outcome).toBe('dryRunPassed');
    const app = await viaApp(sent);
    expect(app.status).toBe(200);
  });
});

// Requests that are not plain: the direct handler must leave them to the app before reading a byte.
const notPlain: Array<[string, Sent]> = [
  ['a query string', { path: '/api/v1/plugins/fake/try-activate?dryRun=1', body: '{}' }],
  ['a percent-encoded name', { path: '/api/v1/plugins/fa%6Be/try-activate', body: '{}' }],
  ['a name that is a dot segment', { path: '/api/v1/plugins/../try-activate', body: '{}' }],
  ['a chunked body', { path: '/api/v1/plugins/fake/try-activate', body: '{"dir": "/x"}', chunked: true }],
  ['a body over the limit', { path: '/api/v1/plugins/fake/try-activate', body: Buffer.alloc(MAX_ADMIN_BODY_BYTES + 1, 0x20) }],
  ['no token', { path: '/api/v1/plugins/fake/try-activate', headers: { authorization: '' }, body: '{}' }],
  ['a wrong token', { path: '/api/v1/plugins/fake/try-activate', headers: { authorization: 'Bearer not-the-token' }, body: '{}' }],
  ['a GET', { method: 'GET', path: '/api/v1/plugins/fake/try-activate' }],
  ['another route', { path: '/api/v1/prune', body: '{}' }],
  ['the legacy reload', { path: '/api/v1/plugins/fake/reload?legacy=true', body: '{}' }],
];

describe('a request that is not plain', () => {
  it.each(notPlain)('%s: left to the app, and nothing starts', async (_, sent) => {
    expect((await send(sent)).status).toBe(LEFT);
    expect(t.host.reloadsInFlight()).toEqual({});
    expect(await t.host.history()).toEqual([]);
  });
});

describe('a client that goes away before its body is whole', () => {
  it('starts no reload', async () => {
    const received = once(server, 'request') as Promise<[IncomingMessage]>;
    const client = http.request({ ...base, method: 'POST', path: '/api/v1/plugins/fake/try-activate', headers: { authorization: `Bearer ${TOKEN}`, 'content-length': 100 }, agent: false });
    client.on('error', () => {});
    client.write('{"dir": "');
    const [request] = await received;
    // Not once(): the request's 'error' (aborted) comes first and would reject it.
    const closed = new Promise((resolve) => request.once('close', resolve));
    client.destroy();
    await closed;
    expect(t.host.reloadsInFlight()).toEqual({});
    expect(await t.host.history()).toEqual([]);
  });
});

describe('startAdminServer', () => {
  it('puts the direct handler first and the app after it: a plain request, then ones the app answers', async () => {
    const admin = await startAdminServer(api, '127.0.0.1:0');
    try {
      const at = admin.address.lastIndexOf(':');
      const to = { host: admin.address.slice(0, at), port: Number(admin.address.slice(at + 1)) };
      const dir = await makePluginDir();
      expect((await send({ path: '/api/v1/plugins/fake/try-activate', body: JSON.stringify({ dir, dryRun: true }) }, to)).status).toBe(200);
      // The token in the query, as the live view sends it: the app's path.
      const queried = await send({ path: `/api/v1/plugins/fake/try-activate?access_token=${TOKEN}`, headers: { authorization: '' }, body: JSON.stringify({ dir, dryRun: true }) }, to);
      expect(queried.status, queried.text).toBe(200);
      const refused = await send({ path: '/api/v1/plugins/fake/try-activate', headers: { authorization: '' }, body: '{}' }, to);
      expect(refused.status).toBe(401);
      expect(errorBodySchema.parse(JSON.parse(refused.text)).error.code).toBe('WFR_UNAUTHORIZED');
      expect((await send({ method: 'GET', path: '/api/v1/status' }, to)).status).toBe(200);
    } finally {
      await admin.close();
    }
  });
});
