/**
 * What the slot machines share: the placeholder for named work (bodies come
 * from src/ through `.provide`), the settled states, and the error shape.
 * Pure like the machines.
 */
import { fromCallback, type EventObject } from 'xstate';

/** A serialisable error, as carried by results (see src/errors.ts). */
export interface SlotError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** States in which no reload is running and TRY_ACTIVATE is accepted. */
export const SETTLED_STATES = ['idle', 'active', 'rolledBack', 'rejected', 'dryRunPassed', 'unchanged'] as const;

export type Work<TInput> = ReturnType<typeof fromCallback<EventObject, TInput>>;

/** A named piece of work whose body the machine does not know: it does nothing until provided. */
export const work = <TInput>(): Work<TInput> => fromCallback<EventObject, TInput>(() => {});

/** Facts both slots share from the swap on: the two-phase handoff and the clean-up. */
export type SwapLifecycleEvent =
  | { type: 'PROBE_PASSED' }
  | { type: 'CONFIRMED' }
  | { type: 'CONFIRM_FAILED'; error: SlotError }
  | { type: 'SWAPPED_BACK' }
  | { type: 'DRAINED' }
  | { type: 'CANDIDATE_DISCARDED' }
  | { type: 'STEP_FAILED'; error: SlotError }
  /** Staging found that what was offered is exactly what is active: nothing to start, nothing to swap. */
  | { type: 'ALREADY_ACTIVE' }
  /**
   * Clean-up work (swap back, drain, discard) failed or ran past its bound. The reload still ends
   * where its clean-up would have taken it; `cleanupError` says what went wrong and what was left.
   */
  | { type: 'CLEANUP_FAILED'; error: SlotError };

/** What the states both slots share are doing, for reload results. */
export const SWAP_LIFECYCLE_WORK = {
  staging: 'stage',
  probed: 'swap',
  confirming: 'confirm',
  swappingBack: 'swap back',
  draining: 'drain',
  stoppingCandidate: 'stop candidate',
  rollingBack: 'roll back',
} as const;
