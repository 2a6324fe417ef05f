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
export const SETTLED_STATES = ['idle', 'active', 'rolledBack', 'rejected', 'dryRunPassed'] as const;

export type Work<TInput> = ReturnType<typeof fromCallback<EventObject, TInput>>;

/** A named piece of work whose body the machine does not know: it does nothing until provided. */
export const work = <TInput>(): Work<TInput> => fromCallback<EventObject, TInput>(() => {});
