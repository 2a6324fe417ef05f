/** The MCP transport over the host's pipes: whole JSON-RPC messages in, one line each out; anything else is a protocol error. */
import { describe, expect, it } from 'vitest';
import { LineTransport } from '../../../src/plugins/mcp/line-transport.js';
import type { WfrError } from '../../../src/errors.js';

function transport() {
  const written: string[] = [];
  const errors: WfrError[] = [];
  const received: unknown[] = [];
  const t = new LineTransport('memory', (line) => written.push(line), (error) => errors.push(error));
  t.onmessage = (message) => received.push(message);
  return { t, written, errors, received };
}

describe('LineTransport', () => {
  it('writes each message as one JSON line and hands on each JSON-RPC message it reads', async () => {
    const { t, written, received, errors } = transport();
    await t.start();
    await t.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(written).toEqual(['{"jsonrpc":"2.0","id":1,"method":"ping"}']);
    t.receive('{"jsonrpc":"2.0","id":1,"result":{}}');
    t.receive('{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}');
    expect(received).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }, { jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
    expect(errors).toEqual([]);
  });

  it.each([
    ['a line that is not JSON', 'Knowledge Graph MCP Server running on stdio', /stdout carried a line that is not JSON/],
    ['JSON that is not JSON-RPC', '{"hello":"world"}', /not a JSON-RPC 2\.0 message/],
  ])('reports %s as a protocol error naming the line, and hands nothing on', (_what, line, problem) => {
    const { t, received, errors } = transport();
    t.receive(line);
    expect(received).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('WFR_PLUGIN_PROTOCOL_ERROR');
    expect(errors[0]!.message).toMatch(problem);
    expect(errors[0]!.details).toMatchObject({ line });
  });

  it('once closed, sends nothing and reads nothing', async () => {
    const { t, written, received } = transport();
    let closed = 0;
    t.onclose = () => closed++;
    await t.close();
    await t.close();
    expect(closed).toBe(1);
    await expect(t.send({ jsonrpc: '2.0', id: 2, method: 'ping' })).rejects.toThrow(/closed/);
    t.receive('{"jsonrpc":"2.0","id":2,"result":{}}');
    expect(written).toEqual([]);
    expect(received).toEqual([]);
  });
});
