/** The short timeouts every test host runs with (in-process orchestrators and `wfctl serve` children alike). */
import { scaled } from './slowdown.js';

export const TEST_TIMEOUTS = {
  // Generous for a quiet 2-core machine (node start-up), yet short enough that hangs fail fast;
  // WFR_TEST_SLOWDOWN stretches them on a loaded one. The confirmation window is a product
  // behaviour under test (it must elapse), not a hang bound, so it stays short.
  handshakeMs: scaled(5_000),
  healthMs: scaled(1_500),
  probeMs: scaled(2_000),
  invokeMs: scaled(5_000),
  drainMs: scaled(5_000),
  graceMs: scaled(500),
  confirmMs: 200,
};

/** The same, as `wfctl serve --timeout NAME=MS …` arguments. */
export const timeoutArgs = (timeouts: Record<string, number> = TEST_TIMEOUTS): string[] => ['--timeout', ...Object.entries(timeouts).map(([name, ms]) => `${name}=${ms}`)];
