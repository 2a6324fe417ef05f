/**
 * An MCP SDK Transport over the host's own pipes: newline-delimited JSON-RPC,
 * as MCP's stdio transport frames it, but the process stays the host's (the
 * SDK's StdioClientTransport would spawn and own it). Lines the plugin writes
 * arrive through `receive`; anything that is not a JSON-RPC message is a
 * protocol error, exactly as for the wfreload protocol.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { PluginProtocolError, type WfrError } from '../../errors.js';

export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private closed = false;

  constructor(
    private readonly plugin: string,
    private readonly writeLine: (line: string) => void,
    private readonly onProtocolError: (error: WfrError) => void,
  ) {}

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('the plugin connection is closed');
    this.writeLine(JSON.stringify(message));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }

  /** One line read from the plugin's stdout. */
  receive(line: string): void {
    if (this.closed) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      this.onProtocolError(new PluginProtocolError(this.plugin, 'stdout carried a line that is not JSON', line));
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.onProtocolError(new PluginProtocolError(this.plugin, 'not a JSON-RPC 2.0 message', line));
      return;
    }
    this.onmessage?.(parsed.data);
  }
}
