/**
 * Probe a candidate engine over real HTTP before it may go live: a private
 * loopback listener that only the candidate serves, closed afterwards.
 */
import { HttpProbeFailedError, HttpProbeTimeoutError } from '../errors.js';
import { containsSubset } from '../util/contains-subset.js';
import type { ProbeConfig } from './config-schema.js';
import type { Engine } from './engine.js';
import { boundAddress, closeServer, listenOn } from './front-door.js';

export async function probeEngine(engine: Engine, probes: ProbeConfig[], timeoutMs: number): Promise<void> {
  if (probes.length === 0) return;
  const server = await listenOn('127.0.0.1:0', (req, res) => void engine.handle(req, res));
  try {
    const base = `http://${boundAddress(server)}`;
    for (const probe of probes) {
      const [method, path] = probe.request.split(' ') as [string, string];
      const hasBody = probe.body !== undefined;
      let response: Response;
      let body: unknown;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...probe.headers },
          body: hasBody ? JSON.stringify(probe.body) : undefined,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await response.text();
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      } catch (error) {
        if ((error as Error).name === 'TimeoutError') throw new HttpProbeTimeoutError(probe.request, timeoutMs);
        throw new HttpProbeFailedError(probe.request, probe.expect, { error: (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message });
      }
      const expected = probe.expect;
      if (response.status !== expected.status || (expected.body !== undefined && !containsSubset(body, expected.body))) {
        throw new HttpProbeFailedError(probe.request, expected, { status: response.status, body });
      }
    }
  } finally {
    server.closeAllConnections();
    await closeServer(server);
  }
}
