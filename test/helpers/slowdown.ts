/**
 * One suite-wide factor for every bound the tests set: WFR_TEST_SLOWDOWN
 * (default 1). A loaded or shared machine raises it (`npm run test:loaded`
 * and .ci/run do); no test carries its own fixed limit for a quiet machine.
 * Bounds only decide when a hang is reported: every test waits on events.
 */
const raw = process.env.WFR_TEST_SLOWDOWN;
const factor = raw === undefined || raw === '' ? 1 : Number(raw);
if (!Number.isFinite(factor) || factor < 1) {
  throw new Error(`WFR_TEST_SLOWDOWN must be a number ≥ 1 (how much slower than a quiet machine to allow), not ${JSON.stringify(raw)}`);
}

export const SLOWDOWN = factor;

/** `ms` on a quiet machine, stretched by the suite's factor. */
export const scaled = (ms: number): number => Math.round(ms * SLOWDOWN);
