/**
 * The MCP client's own rules, driven line by line (as test/plugins/rpc/connection.test.ts drives the
 * wfreload protocol): a failure ends every call in flight with the host's error and, for a protocol
 * violation, tells the host to kill the plugin; a server error that reuses the timeout code is not a timeout.
 */
import { describe, expect, it } from 'vitest';
import { PluginExitedError, PluginProtocolError, type WfrError } from '../../../src/errors.js';
import { McpClient } from '../../../src/plugins/mcp/client.js';
import { parseManifest } from '../../../src/plugins/manifest.js';

const manifest = parseManifest(
  JSON.stringify({ name: 'memory', version: '1.0.0', protocol: 'mcp', serverInfo: { name: 'memory-server', version: '0.6.3' }, command: ['node'], contract: { steps: [{ type: 'read_graph' }] } }),
  'plugin.json',
);

function client() {
  const written: Array<{ id?: number; method?: string }> = [];
  const protocolErrors: WfrError[] = [];
  const mcp = new McpClient({ manifest, dir: '.', writeLine: (line) => written.push(JSON.parse(line)), onProtocolError: (error) => protocolErrors.push(error), stderrTail: () => [], output: () => {} });
  return { mcp, written, protocolErrors };
}

/** Let the SDK write what it writes on this turn. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('McpClient', () => {
  it('a line that is not JSON-RPC fails the call in flight with the protocol error and tells the host to kill the plugin', async () => {
    const { mcp, written, protocolErrors } = client();
    const handshake = mcp.initialize(5_000);
    await settle();
    expect(written[0]).toMatchObject({ method: 'initialize' });
    mcp.handleLine('Knowledge Graph MCP Server running on stdio');
    await expect(handshake).rejects.toMatchObject({ code: 'WFR_PLUGIN_PROTOCOL_ERROR' });
    expect(protocolErrors.map((error) => error.code)).toEqual(['WFR_PLUGIN_PROTOCOL_ERROR']);
    // Every later call fails the same way, without writing anything.
    await expect(mcp.health(1_000)).rejects.toMatchObject({ code: 'WFR_PLUGIN_PROTOCOL_ERROR' });
    expect(written).toHaveLength(1);
  });

  it('a failure the host found (an oversize line) also kills the plugin; an exit does not ask for a kill', async () => {
    const oversize = client();
    oversize.mcp.fail(new PluginProtocolError('memory', 'a stdout line of 70000 bytes exceeds the 65536-byte limit'));
    expect(oversize.protocolErrors).toHaveLength(1);

    const exited = client();
    const handshake = exited.mcp.initialize(5_000);
    await settle();
    exited.mcp.fail(new PluginExitedError('memory', 1, 'initialize', 'with code 1', []), { protocol: false });
    await expect(handshake).rejects.toMatchObject({ code: 'WFR_PLUGIN_EXITED' });
    expect(exited.protocolErrors).toEqual([]);
  });

  it('a server error reusing the timeout code (-32001) is the server\'s error, not a timeout', async () => {
    const { mcp, written } = client();
    const handshake = mcp.initialize(5_000);
    await settle();
    mcp.handleLine(JSON.stringify({ jsonrpc: '2.0', id: written[0]!.id, error: { code: -32001, message: 'upstream busy' } }));
    await expect(handshake).rejects.toMatchObject({ code: 'WFR_PLUGIN_RPC_ERROR', message: expect.stringContaining('upstream busy') });
  });

  it('a handshake that gets no answer ends with WFR_PLUGIN_HANDSHAKE_TIMEOUT', async () => {
    const { mcp } = client();
    await expect(mcp.initialize(50)).rejects.toMatchObject({ code: 'WFR_PLUGIN_HANDSHAKE_TIMEOUT' });
  });
});
