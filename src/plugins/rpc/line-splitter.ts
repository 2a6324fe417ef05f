/**
 * Framing only: bytes in, newline-delimited lines out. Knows nothing about
 * processes or JSON (the split vscode-jsonrpc makes between common/ and node/).
 */

export type SplitItem = { kind: 'line'; text: string } | { kind: 'oversize'; bytes: number };

export interface LineSplitter {
  /** Feed a chunk; returns the complete lines it finished, in order. Never throws. */
  push(chunk: Uint8Array): SplitItem[];
  /** Bytes held after the last newline (a partial line when the stream ends). */
  pendingBytes(): number;
}

const NEWLINE = 0x0a;

/**
 * Lines longer than `maxLineBytes` (excluding the newline) are reported once
 * as `oversize` and their bytes dropped up to the next newline, so a hostile
 * writer cannot make the host buffer without bound.
 */
export function createLineSplitter(maxLineBytes: number): LineSplitter {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let discarding = false;

  const take = (): string => {
    const text = Buffer.concat(held, heldBytes).toString('utf8');
    held = [];
    heldBytes = 0;
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  };

  return {
    push(chunk) {
      const items: SplitItem[] = [];
      let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      while (buf.length > 0) {
        const at = buf.indexOf(NEWLINE);
        const part = at === -1 ? buf : buf.subarray(0, at);
        if (!discarding) {
          if (heldBytes + part.length > maxLineBytes) {
            items.push({ kind: 'oversize', bytes: heldBytes + part.length });
            held = [];
            heldBytes = 0;
            discarding = true;
          } else {
            // Copy: the caller may reuse the chunk's memory.
            held.push(Buffer.from(part));
            heldBytes += part.length;
          }
        }
        if (at === -1) break;
        if (discarding) discarding = false;
        else items.push({ kind: 'line', text: take() });
        buf = buf.subarray(at + 1);
      }
      return items;
    },
    pendingBytes: () => heldBytes,
  };
}
