// Throughput load: CONCURRENCY keep-alive connections sending GET URL back to back for DURATION_MS
// (after WARMUP_MS not counted). Prints one JSON line: requests counted, failures, and every latency.
// node:http with a keep-alive agent: far cheaper per request than fetch, so the client is not the
// bottleneck it would be on a 2-core machine.
import { Agent, request } from 'node:http';

const [url, concurrencyText, durationText, warmupText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const durationMs = Number(durationText);
const warmupMs = Number(warmupText ?? 0);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);
const latencies = [];
let failed = 0;
const started = performance.now();
const countFrom = started + warmupMs;
const end = countFrom + durationMs;

const once = () =>
  new Promise((resolve) => {
    const t0 = performance.now();
    const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname + target.search, timeout: 10_000 }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve([t0, performance.now() - t0, res.statusCode === 200]));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve([t0, performance.now() - t0, false]));
    req.end();
  });

async function worker() {
  while (performance.now() < end) {
    const [t0, ms, ok] = await once();
    if (t0 < countFrom) continue;
    if (ok) latencies.push(ms);
    else failed += 1;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
agent.destroy();
process.stdout.write(`${JSON.stringify({ ok: latencies.length, failed, seconds: durationMs / 1000, latencies })}\n`);
