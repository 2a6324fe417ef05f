import { describe, expect, it } from 'vitest';
import { createLineSplitter, type SplitItem } from '../../../src/plugins/rpc/line-splitter.js';

const feed = (max: number, chunks: Array<string | Buffer>): SplitItem[] => {
  const splitter = createLineSplitter(max);
  return chunks.flatMap((chunk) => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
};
const lines = (items: SplitItem[]) => items.map((item) => (item.kind === 'line' ? item.text : `<oversize ${item.bytes}>`));

describe('createLineSplitter', () => {
  const message = '{"jsonrpc":"2.0","id":1,"result":{"greeting":"héllo ✓"}}\n{"jsonrpc":"2.0","id":2,"result":{}}\n';
  const bytes = Buffer.from(message);

  it('yields the same lines wherever a message is split, even inside a multi-byte character', () => {
    for (let at = 0; at <= bytes.length; at++) {
      expect(lines(feed(1024, [bytes.subarray(0, at), bytes.subarray(at)]))).toEqual(message.trimEnd().split('\n'));
    }
  });

  it('yields the same lines when fed one byte at a time', () => {
    expect(lines(feed(1024, [...bytes].map((b) => Buffer.from([b]))))).toEqual(message.trimEnd().split('\n'));
  });

  it('holds a partial line until its newline arrives', () => {
    const splitter = createLineSplitter(1024);
    expect(splitter.push(Buffer.from('{"id":'))).toEqual([]);
    expect(splitter.pendingBytes()).toBe(6);
    expect(splitter.push(Buffer.from('1}\n'))).toEqual([{ kind: 'line', text: '{"id":1}' }]);
    expect(splitter.pendingBytes()).toBe(0);
  });

  it('strips a CR before the newline', () => {
    expect(lines(feed(64, ['a\r\nb\n']))).toEqual(['a', 'b']);
  });

  it('reports an oversize line once, drops it, and resumes at the next line', () => {
    expect(lines(feed(8, ['123456789', '0123', '\nok\n']))).toEqual(['<oversize 9>', 'ok']);
  });

  it('accepts a line of exactly the limit', () => {
    expect(lines(feed(4, ['abcd\nabcde\n']))).toEqual(['abcd', '<oversize 5>']);
  });

  it('keeps empty lines as empty strings', () => {
    expect(lines(feed(8, ['\n\n']))).toEqual(['', '']);
  });
});
