import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLineWriter } from '../../../src/plugins/rpc/line-writer.js';

describe('createLineWriter', () => {
  it('writes the lines queued in one turn of the event loop as one chunk, in order, each with its newline', async () => {
    const chunks: string[] = [];
    const writer = createLineWriter((chunk) => chunks.push(chunk), () => chunks.push('<end>'));
    writer.write('{"id":1}');
    writer.write('{"id":2}');
    writer.write('{"id":3}');
    // Nothing is written synchronously: the lines wait for the turn to end.
    expect(chunks).toEqual([]);
    expect(writer.pendingLines()).toBe(3);
    await turn();
    expect(chunks).toEqual(['{"id":1}\n{"id":2}\n{"id":3}\n']);
    expect(writer.pendingLines()).toBe(0);
  });

  it('writes a line queued in a later turn as its own chunk', async () => {
    const chunks: string[] = [];
    const writer = createLineWriter((chunk) => chunks.push(chunk), () => chunks.push('<end>'));
    writer.write('a');
    await turn();
    writer.write('b');
    await turn();
    expect(chunks).toEqual(['a\n', 'b\n']);
  });

  it('writeNow() writes what is queued and then its line at once, in one chunk, and nothing is left for the turn', async () => {
    const chunks: string[] = [];
    const writer = createLineWriter((chunk) => chunks.push(chunk), () => chunks.push('<end>'));
    writer.write('{"id":1}');
    writer.writeNow('{"id":2,"method":"health"}');
    expect(chunks).toEqual(['{"id":1}\n{"id":2,"method":"health"}\n']);
    expect(writer.pendingLines()).toBe(0);
    writer.write('{"id":3}');
    await turn();
    expect(chunks).toEqual(['{"id":1}\n{"id":2,"method":"health"}\n', '{"id":3}\n']);
  });

  it('end() writes what is queued before it ends the stream, and drops lines written after', async () => {
    const chunks: string[] = [];
    const writer = createLineWriter((chunk) => chunks.push(chunk), () => chunks.push('<end>'));
    writer.write('{"method":"shutdown"}');
    writer.end();
    writer.write('late');
    writer.end();
    await turn();
    expect(chunks).toEqual(['{"method":"shutdown"}\n', '<end>']);
  });
});
