/**
 * How wfctl reaches a running host: the admin address (--admin,
 * WFRELOAD_ADMIN, default 127.0.0.1:7070) and the token (--token,
 * WFRELOAD_TOKEN, or STATE/admin.token via --state-dir).
 */
import { join, resolve } from 'node:path';
import { readAdminToken, TOKEN_FILE } from '../api/auth.js';
import { checkAdminAddress } from './admin-address.js';
import { ExitCode, HostUnreachableError, UnauthorizedError, type ErrorInfo } from '../errors.js';

export const DEFAULT_ADMIN = '127.0.0.1:7070';
export const DEFAULT_STATE_DIR = '.wfreload';

export interface ClientOptions {
  admin?: string;
  token?: string;
  stateDir?: string;
  json?: boolean;
}

/** An error answer from the API, carrying its code and the exit code it maps to. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly info: ErrorInfo,
  ) {
    super(info.message);
  }

  get exitCode(): number {
    if (this.status === 401) return ExitCode.unreachable;
    if (this.status === 400 || this.status === 404) return ExitCode.badInput;
    return ExitCode.reloadFailed;
  }
}

export class AdminClient {
  private constructor(
    readonly base: string,
    private readonly address: string,
    private readonly token: string | null,
    /** Where the token was looked for, for the message when there is none. */
    private readonly tokenFile: string,
  ) {}

  static async create(options: ClientOptions): Promise<AdminClient> {
    const address =
      options.admin !== undefined
        ? checkAdminAddress(options.admin, '--admin')
        : process.env.WFRELOAD_ADMIN !== undefined
          ? checkAdminAddress(process.env.WFRELOAD_ADMIN, 'WFRELOAD_ADMIN')
          : DEFAULT_ADMIN;
    const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
    const token = options.token ?? process.env.WFRELOAD_TOKEN ?? (await readAdminToken(stateDir));
    return new AdminClient(`http://${address}/api/v1`, address, token, join(stateDir, TOKEN_FILE));
  }

  get authHeader(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** Returns the parsed body and status; throws ApiError for an error body, HostUnreachableError when nothing answers. */
  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    if (!this.token) throw new UnauthorizedError(`no token: none given with --token or WFRELOAD_TOKEN, and no ${this.tokenFile} (pass the host's --state-dir, or run wfctl from the directory the host was started in)`);
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: { ...this.authHeader, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new HostUnreachableError(this.address, (error as Error & { cause?: unknown }).cause ?? error);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    // 422 carries a reload result, not an error body: the caller reports it.
    if (!response.ok && response.status !== 422) {
      const info = (parsed as { error?: ErrorInfo })?.error ?? { code: 'WFR_HTTP_ERROR', message: `HTTP ${response.status}: ${text.slice(0, 200)}` };
      throw new ApiError(response.status, info);
    }
    return { status: response.status, body: parsed as T };
  }

  /** Opens the SSE stream; returns the response whose body the caller reads. */
  /** GET a route outside /api/v1 that needs no token (/readyz); throws HostUnreachableError when nothing answers. */
  async probe(path: string): Promise<{ status: number; body: unknown }> {
    try {
      const response = await fetch(`http://${this.address}${path}`, { signal: AbortSignal.timeout(5_000) });
      return { status: response.status, body: await response.json().catch(() => null) };
    } catch (error) {
      throw new HostUnreachableError(this.address, (error as Error & { cause?: unknown }).cause ?? error);
    }
  }

  async events(signal?: AbortSignal): Promise<Response> {
    if (!this.token) throw new UnauthorizedError('no token was found');
    let response: Response;
    try {
      response = await fetch(`${this.base}/events`, { headers: this.authHeader, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw new HostUnreachableError(this.address, (error as Error & { cause?: unknown }).cause ?? error);
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: ErrorInfo };
      throw new ApiError(response.status, body.error ?? { code: 'WFR_HTTP_ERROR', message: `HTTP ${response.status}` });
    }
    return response;
  }
}
