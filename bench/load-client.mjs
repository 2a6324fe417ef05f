// A load generator in its own process: fixed concurrency, bounded request
// count, until the parent closes stdin or the count is reached. Prints one
// JSON summary line with every request's start time, latency and result.
// Every request is bounded (BENCH_REQUEST_TIMEOUT_MS, default 10 s): a
// request a server never answers (seen with pm2 reloads) counts as failed
// instead of keeping this process, and the benchmark, waiting forever.
import { argv, stdin, stdout } from 'node:process';

const [url, concurrencyText, maxText] = argv.slice(2);
const concurrency = Number(concurrencyText);
const max = Number(maxText);
const samples = []; // [startMs, latencyMs, status] (status 0 = connection failure)
let stop = false;
stdin.on('data', () => {});
stdin.on('end', () => (stop = true));
const epoch = performance.timeOrigin;
const requestTimeoutMs = Number(process.env.BENCH_REQUEST_TIMEOUT_MS ?? 10_000);

async function worker() {
  while (!stop && samples.length < max) {
    const start = performance.now();
    let status = 0;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(requestTimeoutMs) });
      const text = await response.text();
      if (response.status >= 300 && process.env.BENCH_DEBUG) process.stderr.write(`${response.status} ${text}\n`);
      status = response.status;
    } catch {
      status = 0;
    }
    samples.push([epoch + start, performance.now() - start, status]);
  }
}

stdout.write('ready\n');
await Promise.all(Array.from({ length: concurrency }, worker));
stdout.write(`${JSON.stringify({ samples })}\n`);
