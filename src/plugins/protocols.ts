/**
 * What each manifest `protocol` needs at launch: its client, and what it
 * adds to the process's environment. The MCP SDK and gRPC are loaded only
 * when a plugin of theirs starts, so wfctl's other commands stay fast.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientContext, PluginClient } from './client.js';
import type { Manifest } from './manifest.js';
import { NativeClient } from './native-client.js';

export interface Protocol {
  createClient: (context: ClientContext) => PluginClient;
  /** Added to the plugin's environment. */
  env: Record<string, string>;
  /** Temporary directories outside the state directory the process uses; removed by afterExit (or, after a crashed host, by recovery). */
  tempDirs: string[];
  /** Run once the process has been reaped. */
  afterExit: () => Promise<void>;
  /** Ask a process that ignores its closed stdin to exit with SIGTERM at half the stop grace (before SIGKILL). */
  termOnStop: boolean;
}

const nothing = async () => {};

export async function loadProtocol(manifest: Manifest): Promise<Protocol> {
  if (manifest.protocol === 'mcp') {
    const { McpClient } = await import('./mcp/client.js');
    // MCP has no shutdown request; its stdio transport asks for SIGTERM after stdin closes.
    return { createClient: (context) => new McpClient(context), env: {}, tempDirs: [], afterExit: nothing, termOnStop: true };
  }
  if (manifest.protocol === 'go-plugin') {
    const { GoPluginClient, goPluginEnvironment } = await import('./go-plugin/client.js');
    // go-plugin makes its unix socket in TMPDIR and leaves it behind when killed: give each process
    // its own (short, for the 108-byte socket path limit) directory, removed once it is reaped.
    const socketDir = await mkdtemp(join(tmpdir(), 'wfr-gp-'));
    return {
      createClient: (context) => new GoPluginClient(context),
      env: { ...goPluginEnvironment(manifest), TMPDIR: socketDir },
      tempDirs: [socketDir],
      afterExit: () => rm(socketDir, { recursive: true, force: true }),
      termOnStop: false,
    };
  }
  return { createClient: (context) => new NativeClient(context), env: {}, tempDirs: [], afterExit: nothing, termOnStop: false };
}
