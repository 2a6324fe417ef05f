/**
 * A storm of reloads: 50 tryActivatePlugin calls over 5 plugins, good and bad
 * candidates mixed, started in a burst and then one per reload transition, so
 * they land at every stage of the reloads already running. Whatever got
 * admitted and in whatever order, afterwards active.json, listPlugins() and
 * the reload results must tell the same story.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scaled } from '../helpers/slowdown.js';
import type { PluginReloadResult } from '../../src/orchestrator/index.js';
import { WfrError } from '../../src/errors.js';
import { activeMarkerSchema } from '../../src/store/index.js';
import { isAlive, openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';
import { pluginChildPids } from '../helpers/resources.js';

const NAMES = ['alpha', 'bravo', 'charlie', 'delta', 'foxtrot'];
const PER_NAME = 10;
/** Candidate k of each name: good, or one of these failures (fast ones, so the storm stays short). */
const BAD_FLAGS = [['unhealthy'], ['exit-early'], ['garbage-stdout'], ['crash-after-initialize'], ['reply-version=9.9.9']];

/** How a good candidate can still fail on a starved machine. */
const LOAD_TIMEOUTS = ['WFR_PLUGIN_HANDSHAKE_TIMEOUT', 'WFR_PLUGIN_CALL_TIMEOUT', 'WFR_CONFIRM_FAILED'];
/** Slot states whose entry offers the next queued call. */
const TRIGGER_STATES = ['candidateStarted', 'confirming'];

interface Call {
  name: string;
  version: string;
  dir: string;
  good: boolean;
}

/** A fixed shuffle (mulberry32), so every run offers the calls in the same order. */
function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('50 concurrent reloads over 5 plugins', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost();
  });
  afterEach(() => t.close());

  it('leave active.json, listPlugins() and the last activated results in agreement', { timeout: scaled(120_000) }, async () => {
    // A good 1.0.0 of each plugin is active before the storm.
    const baseline = await Promise.all(NAMES.map(async (name) => t.host.tryActivatePlugin(name, await makePluginDir({ name, version: '1.0.0' }))));
    expect(baseline.map((r) => r.outcome)).toEqual(NAMES.map(() => 'activated'));

    const calls: Call[] = [];
    for (const name of NAMES) {
      for (let k = 0; k < PER_NAME; k++) {
        // Roughly half bad: k = 1, 3, 5, 7, 9 each fail in a different way.
        const good = k % 2 === 0;
        const version = `2.0.${k}`;
        calls.push({ name, version, good, dir: await makePluginDir({ name, version, flags: good ? [] : BAD_FLAGS[(k >> 1) % BAD_FLAGS.length]! }) });
      }
    }
    // The burst: two per name in the same tick, so at least one per name is refused for sure.
    const burst = NAMES.flatMap((name) => calls.filter((c) => c.name === name).slice(0, 2));
    const queue = shuffled(calls.filter((c) => !burst.includes(c)), 42);

    /** Results in the order they came back; per plugin, reloads never overlap, so this is their order. */
    const finished: PluginReloadResult[] = [...baseline];
    const refused: WfrError[] = [];
    const running: Array<Promise<void>> = [];
    const offer = (call: Call) => {
      running.push(
        t.host.tryActivatePlugin(call.name, call.dir).then(
          (result) => {
            finished.push(result);
            // Nothing left running and calls still queued: offer the next, so the storm cannot stall.
            if (Object.keys(t.host.reloadsInFlight()).length === 0) offerNext();
          },
          (error: unknown) => {
            if (!(error instanceof WfrError) || error.code !== 'WFR_RELOAD_IN_PROGRESS') throw error;
            expect(error.details).toMatchObject({ target: `plugin:${call.name}` });
            refused.push(error);
          },
        ),
      );
    };
    let resolveDrained!: () => void;
    const drained = new Promise<void>((resolve) => (resolveDrained = resolve));
    const offerNext = () => {
      const next = queue.shift();
      if (next) offer(next);
      if (queue.length === 0) resolveDrained();
    };
    // After the burst, one more call each time any reload starts its handshake or its confirmation window,
    // so calls arrive while others are at different stages (and some plugins are idle).
    const unsubscribe = t.host.events.subscribe((event) => {
      if (event.type === 'transition' && TRIGGER_STATES.includes(event.state)) setImmediate(offerNext);
    });
    try {
      for (const call of burst) offer(call);
      await drained;
    } finally {
      unsubscribe();
    }
    // `running` only grows until the queue is empty, which it now is.
    await Promise.all(running);

    const ran = finished.slice(baseline.length);
    console.log(`storm: ${ran.length} reloads ran (${ran.filter((r) => r.outcome === 'activated').length} activated, ${ran.filter((r) => r.outcome === 'rolledBack').length} rolled back), ${refused.length} refused with WFR_RELOAD_IN_PROGRESS; per plugin: ${NAMES.map((n) => `${n} ${ran.filter((r) => r.name === n).map((r) => `${r.candidate?.version}:${r.outcome}`).join(',')}`).join(' | ')}`);
    expect(ran.length + refused.length).toBe(NAMES.length * PER_NAME);
    // The burst alone guarantees one refusal per plugin; the first call offered with nothing in flight guarantees one more run.
    expect(refused.length).toBeGreaterThanOrEqual(NAMES.length);
    expect(ran.length).toBeGreaterThan(NAMES.length);
    expect(Object.keys(t.host.reloadsInFlight())).toEqual([]);
    // No bad candidate was ever activated; a good one was, unless the loaded machine made it miss a deadline.
    for (const result of ran) {
      const call = calls.find((c) => c.name === result.name && c.version === result.candidate?.version)!;
      if (!call.good) expect(result.outcome, `${call.name} ${call.version}`).toBe('rolledBack');
      else if (result.outcome !== 'activated') expect(LOAD_TIMEOUTS, `${call.name} ${call.version}: ${JSON.stringify(result.error)}`).toContain(result.error?.code);
    }

    // active.json parses, has no unconfirmed swap left, and names exactly these plugins.
    const marker = activeMarkerSchema.parse(JSON.parse(await readFile(join(t.stateDir, 'active.json'), 'utf8')));
    expect(marker.pending).toEqual({});
    expect(Object.keys(marker.plugins).sort()).toEqual(NAMES);
    const listed = t.host.listPlugins();
    expect(listed.map((p) => p.name)).toEqual(NAMES);
    for (const name of NAMES) {
      const lastActivated = finished.filter((r) => r.name === name && r.outcome === 'activated').at(-1)!;
      const plugin = listed.find((p) => p.name === name)!;
      expect({ version: marker.plugins[name]!.version, digest: marker.plugins[name]!.digest }).toEqual({ version: plugin.version, digest: plugin.digest });
      expect(lastActivated.active).toEqual({ version: plugin.version, digest: plugin.digest, pid: plugin.pid });
      expect(plugin.alive && isAlive(plugin.pid)).toBe(true);
      expect(await t.host.invoke(name, 'echo', {})).toMatchObject({ version: plugin.version, pid: plugin.pid });
    }
    // No candidate or replaced version is left running: one process per plugin.
    expect(pluginChildPids()).toEqual(listed.map((p) => p.pid).sort((a, b) => a - b));
    // Every reload that ran is journaled; the refused ones are not.
    expect(await t.host.history()).toHaveLength(finished.length);
  });
});
