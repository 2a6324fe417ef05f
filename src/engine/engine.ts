/**
 * One built engine: a validated config bound to plugin processes. It serves
 * requests handed to it by the front door and counts them, so a replaced
 * engine can drain.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestBodyInvalidError, RouteNotFoundError, toWfrError, type WfrError } from '../errors.js';
import type { PipelineConfig } from './config-schema.js';
import type { LoadedConfig } from './load-config.js';
import { runPipeline, type InvokePlugin } from './pipeline.js';
import { compileRoute, matchRoute, type CompiledRoute } from './routes.js';
import { InFlight } from '../util/in-flight.js';

/** Header on every front-door response: the engine generation that answered. */
export const GENERATION_HEADER = 'x-wfreload-generation';

const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<unknown> {
  // No body announced (a GET, a HEAD): nothing to wait for.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RequestBodyInvalidError(`it is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return null;
  const text = Buffer.concat(chunks).toString('utf8');
  if (!(req.headers['content-type'] ?? '').includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RequestBodyInvalidError(`not JSON (${(error as Error).message})`);
  }
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
};

export class Engine {
  private readonly routes: Array<CompiledRoute<PipelineConfig>>;
  private readonly inFlight = new InFlight();

  constructor(
    /** Counts engine swaps; answers carry it in the x-wfreload-generation header. */
    readonly generation: number,
    readonly loaded: LoadedConfig,
    private readonly invoke: InvokePlugin,
  ) {
    this.routes = loaded.config.pipelines.map((pipeline) => compileRoute(pipeline.route, pipeline));
  }

  get requestsInFlight(): number {
    return this.inFlight.size;
  }

  /** Serve one request. Never throws: every failure becomes a JSON error answer. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight.begin();
    res.once('close', () => this.inFlight.end());
    res.setHeader(GENERATION_HEADER, String(this.generation));
    try {
      const url = new URL(req.url ?? '/', 'http://front-door');
      const match = matchRoute(this.routes, req.method ?? 'GET', url.pathname);
      if (!match) throw new RouteNotFoundError(req.method ?? 'GET', url.pathname);
      const body = await readBody(req);
      const reply = await runPipeline(
        match.target,
        {
          params: match.params,
          query: Object.fromEntries(url.searchParams),
          body,
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])),
          steps: {},
          vars: {},
        },
        this.invoke,
      );
      sendJson(res, reply.status, reply.body, reply.headers);
    } catch (caught) {
      const error: WfrError = toWfrError(caught);
      sendJson(res, error.httpStatus, { error: error.toJSON() });
    }
  }

  /** Resolve true when no request is in flight, or false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    return this.inFlight.drained(timeoutMs);
  }
}
