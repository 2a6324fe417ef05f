import { describe, expect, it } from 'vitest';
import { RpcConnection } from '../../../src/plugins/rpc/connection.js';
import type { WfrError } from '../../../src/errors.js';

const open = () => {
  const sent: Array<{ id: number; method: string; params: unknown }> = [];
  const protocolErrors: WfrError[] = [];
  const rpc = new RpcConnection('demo', (line) => sent.push(JSON.parse(line)), (error) => protocolErrors.push(error));
  return { rpc, sent, protocolErrors };
};

describe('RpcConnection', () => {
  it('writes a JSON-RPC 2.0 request line and resolves with the matching result', async () => {
    const { rpc, sent } = open();
    const call = rpc.call('health', {}, { timeoutMs: 1000 });
    expect(sent).toEqual([{ jsonrpc: '2.0', id: 1, method: 'health', params: {} }]);
    rpc.handleLine('{"jsonrpc":"2.0","id":1,"result":{"status":"ok"}}');
    await expect(call).resolves.toEqual({ status: 'ok' });
  });

  it('matches replies by id, in any order', async () => {
    const { rpc } = open();
    const a = rpc.call('invoke', { step: 'a' }, { timeoutMs: 1000 });
    const b = rpc.call('invoke', { step: 'b' }, { timeoutMs: 1000 });
    rpc.handleLine('{"jsonrpc":"2.0","id":2,"result":"B"}');
    rpc.handleLine('{"jsonrpc":"2.0","id":1,"result":"A"}');
    expect(await Promise.all([a, b])).toEqual(['A', 'B']);
  });

  it('rejects with WFR_PLUGIN_RPC_ERROR when the plugin answers an error', async () => {
    const { rpc } = open();
    const call = rpc.call('invoke', {}, { timeoutMs: 1000 });
    rpc.handleLine('{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad input"}}');
    await expect(call).rejects.toMatchObject({ code: 'WFR_PLUGIN_RPC_ERROR', message: expect.stringContaining('-32602: bad input') });
  });

  it.each([
    ['non-JSON', 'hello world', /not JSON/],
    ['a JSON value that is not a response', '[1,2,3]', /not a JSON-RPC 2\.0 response/],
    ['a reply without jsonrpc', '{"id":1,"result":1}', /not a JSON-RPC 2\.0 response/],
    ['a reply with an extra key', '{"jsonrpc":"2.0","id":1,"result":1,"extra":true}', /not a JSON-RPC 2\.0 response/],
    // Replies the hand-written fast path must leave to the schema.
    ['a reply with a fractional id', '{"jsonrpc":"2.0","id":1.5,"result":1}', /not a JSON-RPC 2\.0 response/],
    ['a reply with a string id', '{"jsonrpc":"2.0","id":"1","result":1}', /not a JSON-RPC 2\.0 response/],
    ['a reply of another JSON-RPC version', '{"jsonrpc":"1.0","id":1,"result":1}', /not a JSON-RPC 2\.0 response/],
    ['a reply with both result and error', '{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"x"}}', /not a JSON-RPC 2\.0 response/],
    ['a reply to an id never sent', '{"jsonrpc":"2.0","id":99,"result":1}', /never sent \(id 99\)/],
  ])('fails every call with WFR_PLUGIN_PROTOCOL_ERROR on %s', async (_what, line, reason) => {
    const { rpc, protocolErrors } = open();
    const call = rpc.call('initialize', {}, { timeoutMs: 1000 });
    rpc.handleLine(line);
    await expect(call).rejects.toMatchObject({ code: 'WFR_PLUGIN_PROTOCOL_ERROR', message: expect.stringMatching(reason) });
    expect(protocolErrors).toHaveLength(1);
    // The connection stays dead.
    await expect(rpc.call('health', {}, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'WFR_PLUGIN_PROTOCOL_ERROR' });
  });

  it('times out a call and ignores its late reply instead of calling it a protocol error', async () => {
    const { rpc, protocolErrors } = open();
    await expect(rpc.call('health', {}, { timeoutMs: 5 })).rejects.toMatchObject({ code: 'WFR_PLUGIN_CALL_TIMEOUT' });
    rpc.handleLine('{"jsonrpc":"2.0","id":1,"result":{"status":"ok"}}');
    expect(protocolErrors).toEqual([]);
    expect(rpc.failed).toBeNull();
  });
});
