/**
 * The routes whose answer is a reload's result, answered straight from node:http when a request is plain:
 * an update manager's POST is the one admin request whose time is the reload's time, and Hono's adapter
 * (a web Request, its body read through a web stream, a Response copied back) costs about 1.5 ms of it
 * on a settled host (docs/benchmarks.md). The handlers are the ones the Hono app serves, so a route has one
 * body; what this module adds is only the HTTP around it.
 *
 * A request goes to the Hono app instead, before a byte of its body is read, whenever it is anything but
 * plain: a query string, a percent-encoded path, no content-length or a chunked body, a body over the
 * limit, a missing or wrong token. Every refusal a client can see is then the app's own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { toWfrError } from '../errors.js';
import { isSuccess, type ReloadResult } from '../orchestrator/index.js';
import { checkToken } from './auth.js';

/** One route: its path under /api/v1 (`:name` for a path segment), the body's schema, and the handler both servers run. */
export interface ReloadRoute<S extends z.ZodType = z.ZodType> {
  path: string;
  schema: S;
  run(params: Record<string, string>, body: z.infer<S>): Promise<ReloadResult>;
}

export const defineReloadRoute = <S extends z.ZodType>(route: ReloadRoute<S>): ReloadRoute => route as unknown as ReloadRoute;

/** 200 for a success, 422 with the same body for a rolled-back, rejected or failed reload. */
export const reloadStatus = (result: ReloadResult): 200 | 422 => (isSuccess(result.outcome) ? 200 : 422);

/** Takes a request it can serve whole and answers it (true), or leaves it untouched (false). */
export type DirectHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

interface Matcher {
  route: ReloadRoute;
  pattern: RegExp;
  names: string[];
}

const PREFIX = '/api/v1';

function matcherOf(route: ReloadRoute): Matcher {
  const names: string[] = [];
  // A segment of letters, digits, '.', '_' and '-', starting with a letter or digit (never '.' or '..'):
  // anything encoded is left to the app, which decodes it.
  const source = route.path.replace(/[.]/g, '\\.').replace(/:([a-zA-Z]+)/g, (_, name: string) => {
    names.push(name);
    return '([A-Za-z0-9][A-Za-z0-9._-]*)';
  });
  return { route, pattern: new RegExp(`^${PREFIX}${source}$`), names };
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/**
 * `parse` turns the body's text into the route's input (the app's own reader, so a bad body gets the same
 * error); a request it cannot serve whole is declined.
 */
export function createDirectHandler(options: {
  routes: ReloadRoute[];
  token: string;
  maxBodyBytes: number;
  parse: <S extends z.ZodType>(text: string, schema: S) => z.infer<S>;
}): DirectHandler {
  const matchers = options.routes.map(matcherOf);
  return (request, response) => {
    if (request.method !== 'POST' || request.url === undefined) return false;
    let found: { matcher: Matcher; values: string[] } | null = null;
    for (const matcher of matchers) {
      const match = matcher.pattern.exec(request.url);
      if (match) {
        found = { matcher, values: match.slice(1) };
        break;
      }
    }
    if (!found) return false;
    const length = request.headers['content-length'];
    if (request.headers['transfer-encoding'] !== undefined || length === undefined || !/^\d{1,9}$/.test(length) || Number(length) > options.maxBodyBytes) return false;
    try {
      checkToken(options.token, request.headers.authorization, undefined);
    } catch {
      return false;
    }
    const { matcher, values } = found;
    const params = Object.fromEntries(matcher.names.map((name, k) => [name, values[k]!]));
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client gone before its body was whole asked for nothing: no reload starts.
    request.once('error', () => response.destroy());
    request.once('end', () => {
      // TextDecoder, as a web Request's text() decodes: a leading byte-order mark is dropped, bad bytes become U+FFFD.
      const text = new TextDecoder().decode(Buffer.concat(chunks));
      let run: Promise<ReloadResult>;
      try {
        run = matcher.route.run(params, options.parse(text, matcher.route.schema));
      } catch (error) {
        run = Promise.reject(error);
      }
      run.then(
        (result) => sendJson(response, reloadStatus(result), result),
        (error: unknown) => {
          const wfr = toWfrError(error);
          sendJson(response, wfr.httpStatus, { error: wfr.toJSON() });
        },
      );
    });
    return true;
  };
}
