/**
 * A Model Context Protocol server as a plugin, through the official SDK's
 * client. The host keeps owning the process (its group, stdin, stdout,
 * stderr); the SDK speaks MCP over LineTransport, which only moves lines.
 *
 *   handshake  initialize (+ notifications/initialized), then tools/list:
 *              serverInfo must equal the manifest's, and every contract step
 *              must be a listed tool (with the same inputSchema when the
 *              manifest declares one)
 *   health     ping
 *   invoke     tools/call {name: step, arguments: input}: structuredContent
 *              when present, else content; isError is a step failure
 *   shutdown   none in MCP: the host closes stdin, then SIGTERMs and, after
 *              the grace period, SIGKILLs the group
 */
import { isDeepStrictEqual } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { ContractMismatchError, HandshakeTimeoutError, mcpToolMissing, PluginCallTimeoutError, PluginRpcError, PluginStepFailedError, type WfrError } from '../../errors.js';
import type { ClientContext, PluginClient } from '../client.js';
import type { Manifest } from '../manifest.js';
import { LineTransport } from './line-transport.js';

/** How the host introduces itself in initialize. */
const CLIENT_INFO = { name: 'wfreload', version: '1' };

export class McpClient implements PluginClient {
  private readonly manifest: Manifest;
  private readonly transport: LineTransport;
  private readonly client = new Client(CLIENT_INFO, { capabilities: {} });
  private readonly stderrTail: () => string[];
  private readonly onProtocolError: (error: WfrError) => void;
  private failure: WfrError | null = null;
  /** The calls in flight, so that a failure ends each with the host's own error, not the SDK's. */
  private readonly inFlight = new Set<(error: WfrError) => void>();

  constructor(context: ClientContext) {
    this.manifest = context.manifest;
    this.stderrTail = context.stderrTail;
    this.onProtocolError = context.onProtocolError;
    this.transport = new LineTransport(context.manifest.name, context.writeLine, (error) => this.fail(error));
  }

  handleLine(line: string): void {
    if (!this.failure) this.transport.receive(line);
  }

  fail(error: WfrError, { protocol = true }: { protocol?: boolean } = {}): void {
    if (this.failure) return;
    this.failure = error;
    for (const reject of this.inFlight) reject(error);
    this.inFlight.clear();
    void this.transport.close();
    // A plugin that broke the protocol cannot be trusted with another call: the host kills it.
    if (protocol) this.onProtocolError(error);
  }

  async initialize(timeoutMs: number): Promise<void> {
    const { name } = this.manifest;
    const timeout = () => new HandshakeTimeoutError(name, timeoutMs, this.stderrTail());
    // One bound for the whole handshake: initialize and every page of tools/list.
    const deadline = Date.now() + timeoutMs;
    await this.call('initialize', () => this.client.connect(this.transport, { timeout: timeoutMs }), timeout, timeoutMs);
    const expected = this.manifest.serverInfo!;
    const reported = this.client.getServerVersion();
    for (const field of ['name', 'version'] as const) {
      if (reported?.[field] !== expected[field]) throw new ContractMismatchError(name, `serverInfo.${field}`, expected[field], reported?.[field]);
    }
    const tools = await this.listTools(deadline, timeout);
    for (const step of this.manifest.contract.steps) {
      const tool = tools.get(step.type);
      if (!tool) throw mcpToolMissing(name, step.type, [...tools.keys()]);
      if (step.inputSchema && !isDeepStrictEqual(step.inputSchema, tool.inputSchema)) {
        throw new ContractMismatchError(name, `the inputSchema of tool "${step.type}"`, step.inputSchema, tool.inputSchema);
      }
    }
  }

  async health(timeoutMs: number): Promise<void> {
    await this.call('ping', () => this.client.ping({ timeout: timeoutMs }), () => new PluginCallTimeoutError(this.manifest.name, 'ping', timeoutMs), timeoutMs);
  }

  async invoke(step: string, input: unknown, timeoutMs: number): Promise<unknown> {
    const method = `tools/call ${step}`;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new PluginStepFailedError(this.manifest.name, step, `its input must be a JSON object (the tool's arguments), got ${JSON.stringify(input)}`);
    }
    const result = await this.call(
      method,
      () => this.client.callTool({ name: step, arguments: input as Record<string, unknown> }, undefined, { timeout: timeoutMs }),
      () => new PluginCallTimeoutError(this.manifest.name, method, timeoutMs),
      timeoutMs,
    );
    if (result.isError) throw new PluginStepFailedError(this.manifest.name, step, describeContent(result.content));
    return result.structuredContent ?? result.content;
  }

  requestShutdown(): void {
    // MCP has no shutdown request: closing stdin is the signal (PluginProcess.stop does it next).
  }

  /** tools/list, every page, before `deadline`. */
  private async listTools(deadline: number, onTimeout: () => WfrError): Promise<Map<string, Tool>> {
    const tools = new Map<string, Tool>();
    let cursor: string | undefined;
    do {
      const left = deadline - Date.now();
      if (left <= 0) throw onTimeout();
      const page = await this.call('tools/list', () => this.client.listTools(cursor ? { cursor } : {}, { timeout: left }), onTimeout, left);
      for (const tool of page.tools) tools.set(tool.name, tool);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  /** Run an SDK call; a failed connection, a timeout and an error reply each become the host's own error. */
  private async call<T>(method: string, run: () => Promise<T>, onTimeout: () => WfrError, timeoutMs: number): Promise<T> {
    if (this.failure) throw this.failure;
    const started = Date.now();
    try {
      return await new Promise<T>((resolve, reject) => {
        this.inFlight.add(reject);
        run()
          .then(resolve, reject)
          .finally(() => this.inFlight.delete(reject));
      });
    } catch (error) {
      if (this.failure) throw this.failure;
      if (error instanceof McpError) {
        // The SDK's own timeout, told apart from a server that answers with the same code.
        if (error.code === ErrorCode.RequestTimeout && Date.now() - started >= timeoutMs) throw onTimeout();
        throw new PluginRpcError(this.manifest.name, method, { code: error.code, message: error.message.replace(/^MCP error -?\d+: /, ''), ...(error.data === undefined ? {} : { data: error.data }) });
      }
      // The SDK's own checks (an unsupported protocol version, a reply of the wrong shape).
      throw new PluginRpcError(this.manifest.name, method, { code: ErrorCode.InternalError, message: (error as Error).message });
    }
  }
}

/** The text of a tool result's content, for an error message. */
function describeContent(content: unknown): string {
  if (!Array.isArray(content)) return JSON.stringify(content);
  const text = content.map((item: { type?: string; text?: string }) => (item?.type === 'text' ? item.text : JSON.stringify(item))).join(' ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
