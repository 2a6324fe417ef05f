import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Collects a stream's lines and lets a test wait for one matching a pattern. */
export function watchLines(stream: Readable) {
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  createInterface({ input: stream }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  return {
    lines,
    /** The first line (already seen or still to come) after index `from` that matches. */
    waitFor(pattern: RegExp, from = 0): Promise<string> {
      const seen = lines.slice(from).find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}
