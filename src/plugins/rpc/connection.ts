/**
 * JSON-RPC 2.0 client over newline-delimited lines. The transport is two
 * callbacks, so this file never sees a process (tests drive it with arrays).
 */
import { z } from 'zod';
import { PluginCallTimeoutError, PluginProtocolError, PluginRpcError, type WfrError } from '../../errors.js';

const rpcErrorSchema = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() });

const responseSchema = z.union([
  z.strictObject({ jsonrpc: z.literal('2.0'), id: z.number().int(), result: z.unknown() }),
  z.strictObject({ jsonrpc: z.literal('2.0'), id: z.number().int().nullable(), error: rpcErrorSchema }),
]);

type Response = z.infer<typeof responseSchema>;

/** A plugin's stdout line as JSON, or the protocol error it is (for the wfreload protocol and MCP alike). */
export function parseStdoutLine(plugin: string, line: string): { json: unknown } | { error: PluginProtocolError } {
  try {
    return { json: JSON.parse(line) };
  } catch {
    return { error: new PluginProtocolError(plugin, 'stdout carried a line that is not JSON', line) };
  }
}

/**
 * The common case checked by hand, exactly as `responseSchema`'s first branch would accept it: a success
 * reply with nothing but `jsonrpc`, an integer `id` and `result`. Anything else (errors, and every invalid
 * message, with its precise complaint) goes through the schema. Saves a schema parse per call on the hot path.
 */
function plainSuccess(message: unknown): Response | null {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return null;
  const m = message as Record<string, unknown>;
  if (m.jsonrpc !== '2.0' || !Number.isInteger(m.id) || !('result' in m)) return null;
  let keys = 0;
  for (const key in m) if (Object.hasOwn(m, key)) keys += 1;
  return keys === 3 ? (m as Response) : null;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: WfrError) => void;
  timer: NodeJS.Timeout;
}

export interface CallOptions {
  timeoutMs: number;
  /** Builds the error for a timeout; defaults to PluginCallTimeoutError. */
  onTimeout?: () => WfrError;
  /** Send it at once rather than at the end of the event loop's turn (LineWriter.writeNow). */
  now?: boolean;
}

export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  // Replies that arrive after their call timed out are expected, not protocol errors.
  private readonly abandoned = new Set<number>();
  private failure: WfrError | null = null;

  constructor(
    private readonly plugin: string,
    private readonly writeLine: (line: string, now?: boolean) => void,
    /** Called once, with the first protocol violation; the connection is dead afterwards. */
    private readonly onProtocolError: (error: WfrError) => void = () => {},
  ) {}

  get failed(): WfrError | null {
    return this.failure;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  call(method: string, params: unknown, options: CallOptions): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.abandoned.add(id);
        reject(options.onTimeout?.() ?? new PluginCallTimeoutError(this.plugin, method, options.timeoutMs));
      }, options.timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.writeLine(JSON.stringify({ jsonrpc: '2.0', id, method, params }), options.now);
    });
  }

  /** Feed one line read from the plugin's stdout. */
  handleLine(line: string): void {
    if (this.failure) return;
    const parsed = parseStdoutLine(this.plugin, line);
    if ('error' in parsed) {
      this.fail(parsed.error);
      return;
    }
    const message = parsed.json;
    let reply = plainSuccess(message);
    if (!reply) {
      const parsed = responseSchema.safeParse(message);
      if (!parsed.success) {
        this.fail(new PluginProtocolError(this.plugin, `not a JSON-RPC 2.0 response (${z.prettifyError(parsed.error).replace(/\n/g, '; ')})`, line));
        return;
      }
      reply = parsed.data;
    }
    const id = reply.id;
    if (id !== null && this.abandoned.delete(id)) return;
    const pending = id === null ? undefined : this.pending.get(id);
    if (!pending || id === null) {
      this.fail(new PluginProtocolError(this.plugin, `reply to a request that was never sent (id ${String(id)})`, line));
      return;
    }
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if ('error' in reply) pending.reject(new PluginRpcError(this.plugin, pending.method, reply.error));
    else pending.resolve(reply.result);
  }

  /** Fail every call in flight and every later one with `error`. Idempotent. */
  fail(error: WfrError, { protocol = true } = {}): void {
    if (this.failure) return;
    this.failure = error;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error);
    }
    if (protocol) this.onProtocolError(error);
  }
}
