/** The wfreload protocol (docs/protocol.md): initialize, health, invoke and shutdown over JSON-RPC lines. */
import { HandshakeTimeoutError, PluginProtocolError, PluginUnhealthyError, type WfrError } from '../errors.js';
import type { ClientContext, PluginClient } from './client.js';
import { validateInitializeReply } from './contract.js';
import { PROTOCOL_VERSION } from './cookie.js';
import type { Manifest } from './manifest.js';
import { RpcConnection } from './rpc/connection.js';

export class NativeClient implements PluginClient {
  private readonly rpc: RpcConnection;
  private readonly manifest: Manifest;
  private readonly stderrTail: () => string[];

  constructor(context: ClientContext) {
    this.manifest = context.manifest;
    this.stderrTail = context.stderrTail;
    this.rpc = new RpcConnection(context.manifest.name, context.writeLine, context.onProtocolError);
  }

  handleLine(line: string): void {
    this.rpc.handleLine(line);
  }

  fail(error: WfrError, options?: { protocol?: boolean }): void {
    this.rpc.fail(error, options);
  }

  async initialize(timeoutMs: number): Promise<void> {
    const { name } = this.manifest;
    const reply = await this.rpc.call('initialize', { protocolVersion: PROTOCOL_VERSION, name }, { timeoutMs, now: true, onTimeout: () => new HandshakeTimeoutError(name, timeoutMs, this.stderrTail()) });
    validateInitializeReply(reply, this.manifest);
  }

  async health(timeoutMs: number): Promise<void> {
    // The calls a reload waits on go out at once; step calls are coalesced per turn (rpc/line-writer.ts).
    const reply = await this.rpc.call('health', {}, { timeoutMs, now: true });
    if (typeof reply !== 'object' || reply === null || (reply as { status?: unknown }).status !== 'ok') {
      throw new PluginUnhealthyError(this.manifest.name, reply);
    }
  }

  async invoke(step: string, input: unknown, timeoutMs: number): Promise<unknown> {
    const reply = await this.rpc.call('invoke', { step, input }, { timeoutMs });
    if (typeof reply !== 'object' || reply === null || !('output' in reply)) {
      throw new PluginProtocolError(this.manifest.name, `invoke reply must be {"output": …}, got ${JSON.stringify(reply)}`);
    }
    return (reply as { output: unknown }).output;
  }

  requestShutdown(graceMs: number): void {
    this.rpc.call('shutdown', {}, { timeoutMs: graceMs, now: true }).catch(() => {});
  }
}
