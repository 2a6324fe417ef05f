/**
 * The admin API under /api/v1: JSON, bearer-token auth, loopback by default.
 * It talks only to the one orchestrator (never a second plugin manager), so
 * what it reports is what the engine uses. docs/api.md is the reference.
 */
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { InvalidArgumentError, NotFoundError, RequestBodyInvalidError, toWfrError, UnknownPluginError, UnknownReloadError, type WfrError } from '../errors.js';
import { boundAddress } from '../engine/front-door.js';
import type { HostEvent, Orchestrator, ReloadResult } from '../orchestrator/index.js';
import { checkToken } from './auth.js';
import { createDirectHandler, defineReloadRoute, reloadStatus, type DirectHandler } from './direct-routes.js';
import { INSPECT_PAGE } from './inspect-page.js';
import { slotMachineGraphs } from './machine-graph.js';
import { renderMetrics } from './metrics.js';
import { ReloadSummary } from './reload-summary.js';
import { legacyReloadBodySchema, pruneBodySchema, rollbackBodySchema, tryActivateConfigBodySchema, tryActivatePluginBodySchema } from './schemas.js';

/** Largest admin request body; inline configs are the big ones. */
// A 1 MiB YAML grows when JSON-escaped (quotes, newlines): leave room for that.
export const MAX_ADMIN_BODY_BYTES = 2 * 1024 * 1024 + 64 * 1024;
const SSE_KEEPALIVE_MS = 15_000;

export interface AdminApi {
  app: Hono;
  /** The reload routes answered without the app when a request is plain (direct-routes.ts); startAdminServer puts it first. */
  direct: DirectHandler;
  summary: ReloadSummary;
  close(): void;
}

const errorResponse = (c: Context, error: WfrError) => c.json({ error: error.toJSON() }, error.httpStatus as 400);

/** A request body's text, as JSON the schema accepts (an empty body is `{}`). */
function parseJsonBody<T extends z.ZodType>(text: string, schema: T): z.infer<T> {
  let json: unknown;
  try {
    json = text.length === 0 ? {} : JSON.parse(text);
  } catch (error) {
    throw new RequestBodyInvalidError(`not JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new InvalidArgumentError('request body', z.prettifyError(parsed.error).replace(/\n/g, ' '));
  return parsed.data;
}

const readJson = async <T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> => parseJsonBody(await c.req.text(), schema);

const reloadResponse = (c: Context, result: ReloadResult) => c.json(result, reloadStatus(result));

export async function createAdminApi(host: Orchestrator, token: string): Promise<AdminApi> {
  const summary = await ReloadSummary.load(host);
  const app = new Hono();
  const api = new Hono();

  app.onError((error, c) => errorResponse(c, toWfrError(error)));
  app.notFound((c) => errorResponse(c, new NotFoundError(c.req.method, c.req.path)));

  // The page holds no data; everything it shows comes from the token-protected API.
  app.get('/inspect', (c) => c.html(INSPECT_PAGE));

  // Probes for orchestrators and campaigns, without a token: they say ready or not and a reason code, nothing else.
  app.get('/livez', (c) => c.json({ live: true }));
  app.get('/readyz', (c) => {
    const readiness = host.readiness();
    return c.json(readiness, readiness.ready ? 200 : 503);
  });

  api.use('*', async (c, next) => {
    checkToken(token, c.req.header('authorization'), c.req.query('access_token'));
    await next();
  });
  api.use(
    '*',
    bodyLimit({
      maxSize: MAX_ADMIN_BODY_BYTES,
      onError: (c) => {
        // The rest of the body is never read: close the connection so a client cannot reuse a socket with bytes still in it.
        c.header('Connection', 'close');
        return errorResponse(c, new RequestBodyInvalidError(`it is larger than ${MAX_ADMIN_BODY_BYTES} bytes`));
      },
    }),
  );

  api.get('/status', (c) =>
    c.json({
      engine: host.engineStatus(),
      plugins: host.listPlugins(),
      inFlight: host.reloadsInFlight(),
      lastAttempts: Object.fromEntries(summary.lastAttempts),
      markerGeneration: host.activeMarker().generation,
    }),
  );

  // Each with its health and, apart from it, how its last reload attempt ended.
  api.get('/plugins', (c) => c.json({ plugins: host.listPlugins().map((p) => ({ ...p, lastAttempt: summary.lastAttempts.get(`plugin:${p.name}`) ?? null })) }));
  api.get('/plugins/:name', (c) => {
    const name = c.req.param('name');
    const plugin = host.listPlugins().find((p) => p.name === name);
    if (!plugin) throw new UnknownPluginError(name, host.listPlugins().map((p) => p.name));
    return c.json({ ...plugin, manifest: host.manifest(name), lastAttempt: summary.lastAttempts.get(`plugin:${name}`) ?? null });
  });

  // The routes that start a reload from a JSON body: the app serves them, and so does the direct handler.
  const reloadRoutes = [
    defineReloadRoute({
      path: '/plugins/:name/try-activate',
      schema: tryActivatePluginBodySchema,
      run: (params, body) => host.tryActivatePlugin(params.name!, body.dir, { dryRun: body.dryRun, ...(body.requestId ? { requestId: body.requestId } : {}) }),
    }),
    defineReloadRoute({
      path: '/plugins/:name/rollback',
      schema: rollbackBodySchema,
      run: (params, body) => host.rollbackPlugin(params.name!, { dryRun: body.dryRun, ...(body.to ? { to: body.to } : {}), ...(body.requestId ? { requestId: body.requestId } : {}) }),
    }),
    defineReloadRoute({
      path: '/config/try-activate',
      schema: tryActivateConfigBodySchema,
      run: (_, body) => host.tryActivateConfig(body.yaml === undefined ? body.file! : { yaml: body.yaml }, { dryRun: body.dryRun, ...(body.requestId ? { requestId: body.requestId } : {}) }),
    }),
  ];
  for (const route of reloadRoutes) api.post(route.path, async (c) => reloadResponse(c, await route.run(c.req.param(), await readJson(c, route.schema))));

  api.post('/prune', async (c) => {
    const body = await readJson(c, pruneBodySchema);
    // Without a name, every plugin and the staged configs.
    const configs = body.name === undefined ? await host.pruneConfigs(body.keep) : null;
    return c.json({ plugins: await host.prunePlugins(body.name, body.keep), ...(configs ? { configs } : {}) });
  });

  api.get('/plugins/:name/logs', (c) => {
    const name = c.req.param('name');
    const text = c.req.query('lines') ?? '100';
    const lines = Number(text);
    if (!/^\d+$/.test(text) || lines < 1 || lines > 100_000) throw new InvalidArgumentError('lines', 'must be a whole number from 1 to 100000', text);
    return c.json({ name, lines: host.pluginLogs(name, lines) });
  });

  api.get('/plugins/:name/versions', async (c) => {
    const name = c.req.param('name');
    return c.json({ name, versions: await host.pluginVersions(name) });
  });

  api.post('/plugins/:name/reload', async (c) => {
    if (c.req.query('legacy') !== 'true') {
      throw new InvalidArgumentError('query', 'this route is the LEGACY unload-then-load path and needs ?legacy=true; use POST /plugins/:name/try-activate for a safe reload');
    }
    const body = await readJson(c, legacyReloadBodySchema);
    return reloadResponse(c, await host.reloadPluginLegacy(c.req.param('name'), body.dir));
  });

  api.get('/reloads', async (c) => {
    const limit = Number(c.req.query('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new InvalidArgumentError('limit', 'must be a whole number from 1 to 10000', c.req.query('limit'));
    const requestId = c.req.query('requestId');
    // Newest first; only the reloads a client started with this idempotency key, when it asks for one.
    const history = (await host.history()).reverse().filter((r) => requestId === undefined || r.requestId === requestId);
    return c.json({ reloads: history.slice(0, limit) });
  });
  api.get('/reloads/:id', async (c) => {
    const id = c.req.param('id');
    const result = (await host.history()).find((r) => r.id === id);
    if (!result) throw new UnknownReloadError(id);
    return c.json(result);
  });

  api.get('/metrics', (c) => c.text(renderMetrics(host, summary), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
  api.get('/machines', (c) => c.json(slotMachineGraphs()));

  api.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      const queue: HostEvent[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = host.events.subscribe((event) => {
        queue.push(event);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: 'hello', data: JSON.stringify({ inFlight: host.reloadsInFlight() }) });
      while (!stream.aborted) {
        const event = queue.shift();
        if (event) {
          await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
          continue;
        }
        // Wait for the next event, or send a comment so proxies keep the stream open.
        const timer = new Promise<void>((resolve) => {
          const t = setTimeout(resolve, SSE_KEEPALIVE_MS);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        await timer;
        wake = null;
        if (queue.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
      }
      unsubscribe();
    }),
  );

  app.route('/api/v1', api);
  const direct = createDirectHandler({ routes: reloadRoutes, token, maxBodyBytes: MAX_ADMIN_BODY_BYTES, parse: parseJsonBody });
  return { app, direct, summary, close: () => summary.close() };
}

/** Listen on `address` (host:port): the direct handler first, then the app. */
export async function startAdminServer(api: AdminApi, address: string): Promise<{ server: Server; address: string; close(): Promise<void> }> {
  const at = address.lastIndexOf(':');
  const hostname = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  const viaApp = getRequestListener(api.app.fetch, { hostname });
  const server = createServer((request, response) => {
    if (!api.direct(request, response)) void viaApp(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address: boundAddress(server),
    async close() {
      api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
