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
import { parseStdoutLine } from '../rpc/connection.js';

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
    const read = parseStdoutLine(this.plugin, line);
    if ('error' in read) {
      this.onProtocolError(read.error);
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(read.json);
    if (!parsed.success) {
      this.onProtocolError(new PluginProtocolError(this.plugin, 'not a JSON-RPC 2.0 message', line));
      return;
    }
    this.onmessage?.(parsed.data);
  }
}
