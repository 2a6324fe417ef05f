/**
 * What a plugin process speaks: the wfreload protocol (native-client.ts) or
 * MCP (mcp/client.ts) on its stdin and stdout, or go-plugin's gRPC
 * (go-plugin/client.ts) after a handshake line on stdout. PluginProcess owns the process
 * and feeds the client stdout lines; the client turns the host's four
 * questions (handshake, health, invoke, shutdown) into that protocol's calls.
 */
import type { WfrError } from '../errors.js';
import type { Manifest } from './manifest.js';

/** What the front door puts in every step's input beside the step's `with` keys (src/engine/pipeline.ts; docs/config.md#steps). */
export const REQUEST_FIELDS: readonly string[] = ['params', 'query', 'body', 'headers'];

export interface PluginClient {
  /** One line read from the plugin's stdout. */
  handleLine(line: string): void;
  /** Fail every call in flight and every later one with `error` (idempotent); `protocol` when the plugin broke the protocol. */
  fail(error: WfrError, options?: { protocol?: boolean }): void;
  /** The handshake, checked strictly against the manifest. */
  initialize(timeoutMs: number): Promise<void>;
  health(timeoutMs: number): Promise<void>;
  /** Call a step of the contract; resolves with its output. */
  invoke(step: string, input: unknown, timeoutMs: number): Promise<unknown>;
  /** Ask the plugin to exit, if the protocol has a way to (best effort, before stdin closes). */
  requestShutdown(graceMs: number): void;
}

export interface ClientContext {
  manifest: Manifest;
  /** The staged version directory the process runs in (where a go-plugin plugin's .proto files are). */
  dir: string;
  /** Write one line to the plugin's stdin: coalesced with the other lines of the event loop's turn, or with `now`, at once. */
  writeLine: (line: string, now?: boolean) => void;
  /** Told once, with the first protocol violation: the host kills the process. */
  onProtocolError: (error: WfrError) => void;
  /** The plugin's last stderr lines, for error messages. */
  stderrTail: () => string[];
  /**
   * Output the plugin sent through its protocol rather than its stderr (go-plugin's GRPCStdio), as bytes:
   * split into lines and kept like stderr lines. `stream` names where the plugin wrote it.
   */
  output: (chunk: Uint8Array, stream: 'stdout' | 'stderr') => void;
}
