/**
 * Framing, outbound: newline-delimited lines, coalesced. Lines written during
 * one turn of the event loop go out in a single write once that turn's I/O is
 * done (setImmediate): under load, calls that arrive together cost the host
 * one write syscall and the plugin one wake-up, instead of one each. Order is
 * kept; a line waits at most until the loop's check phase.
 */
export interface LineWriter {
  /** Queue one line (without its newline). */
  write(line: string): void;
  /** Lines queued and not yet written. */
  pendingLines(): number;
}

export function createLineWriter(writeChunk: (chunk: string) => void): LineWriter {
  let queued: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const lines = queued;
    queued = [];
    writeChunk(`${lines.join('\n')}\n`);
  };
  return {
    write(line) {
      queued.push(line);
      if (scheduled) return;
      scheduled = true;
      setImmediate(flush);
    },
    pendingLines: () => queued.length,
  };
}
