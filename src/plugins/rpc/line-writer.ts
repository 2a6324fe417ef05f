/**
 * Framing, outbound: newline-delimited lines, coalesced. Lines written during
 * one turn of the event loop go out in a single write once that turn's I/O is
 * done (setImmediate): under load, calls that arrive together cost the host
 * one write syscall and the plugin one wake-up, instead of one each. Order is
 * kept; a line waits at most until the loop's check phase. A call written with
 * writeNow (the calls a reload waits on) takes what is queued along, at once.
 */
export interface LineWriter {
  /** Queue one line (without its newline). */
  write(line: string): void;
  /**
   * Write what is queued and then `line`, at once, in one chunk: for the calls a reload waits on
   * (initialize, health, shutdown), which come one at a time, so coalescing would save nothing and
   * the wait for the turn's end would be the reload's.
   */
  writeNow(line: string): void;
  /** Write what is queued now, then close the stream: a last line (e.g. `shutdown`) goes out before the end. */
  end(): void;
  /** Lines queued and not yet written. */
  pendingLines(): number;
}

export function createLineWriter(writeChunk: (chunk: string) => void, endStream: () => void): LineWriter {
  let queued: string[] = [];
  let scheduled = false;
  let ended = false;
  const flush = () => {
    scheduled = false;
    if (queued.length === 0) return;
    const lines = queued;
    queued = [];
    writeChunk(`${lines.join('\n')}\n`);
  };
  return {
    write(line) {
      if (ended) return;
      queued.push(line);
      if (scheduled) return;
      scheduled = true;
      setImmediate(flush);
    },
    writeNow(line) {
      if (ended) return;
      queued.push(line);
      flush();
    },
    end() {
      if (ended) return;
      flush();
      ended = true;
      endStream();
    },
    pendingLines: () => queued.length,
  };
}
