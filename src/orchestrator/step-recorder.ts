/**
 * Turns a slot actor's state changes into the `steps` of a reload result.
 * Timing lives here, not in the machine, so the machine stays pure.
 */
import type { ErrorInfo } from '../errors.js';
import type { ReloadStep } from './reload-result.js';

/** The innermost state name of an XState state value. */
export function leafState(value: unknown): string {
  let current = value;
  while (typeof current === 'object' && current !== null) {
    const [first] = Object.values(current);
    current = first;
  }
  return String(current);
}

export class StepRecorder {
  readonly steps: ReloadStep[] = [];
  private open: { state: string; work: string; at: number } | null = null;

  constructor(private readonly workOf: (state: string) => string | undefined) {}

  /** Record that the machine is now in `state`; closes the previous step. Returns false when the state did not change. */
  enter(state: string, now = Date.now()): boolean {
    if (this.open?.state === state) return false;
    this.close(now);
    const work = this.workOf(state);
    // Settled states do no work; they end the list.
    this.open = work === undefined ? null : { state, work, at: now };
    return true;
  }

  /** Attach an error to the last finished step (the one that failed). */
  failLast(error: ErrorInfo): ReloadStep | undefined {
    const last = this.steps.at(-1);
    if (last && !last.error) last.error = error;
    return last;
  }

  close(now = Date.now()): void {
    if (!this.open) return;
    this.steps.push({ state: this.open.state, work: this.open.work, startedAt: new Date(this.open.at).toISOString(), ms: now - this.open.at });
    this.open = null;
  }
}
