import { fromCallback, type EventObject } from 'xstate';
import { toErrorInfo, WorkTimeoutError } from '../errors.js';

export interface WorkOptions<TInput> {
  /** The step's name in messages (the machine's work name, e.g. "swap"). */
  name: string;
  /** The event a thrown error becomes: STEP_FAILED unless given. */
  failureEvent?: string;
  /**
   * The longest this work may take. Past it the failure event carries WFR_WORK_TIMEOUT and the
   * work's signal aborts: work that commits something checks the signal before it does.
   * Omitted only for watchers that last as long as their state.
   */
  boundMs?: (input: TInput) => number;
}

/**
 * An actor that runs `work` when its state is entered and reports the fact
 * event it returns, unless the state was left first. A thrown error becomes
 * the failure event carrying the error's code and message; so does running
 * past the bound. Either way the slot moves on: no state waits forever.
 */
export const fromWork = <TEvent extends EventObject, TInput>(work: (input: TInput, signal: AbortSignal) => Promise<TEvent | null>, options: WorkOptions<TInput>) =>
  fromCallback<EventObject, TInput>(({ input, sendBack }) => {
    const failureEvent = options.failureEvent ?? 'STEP_FAILED';
    const controller = new AbortController();
    let live = true;
    const report = (event: EventObject) => {
      if (!live) return;
      live = false;
      clearTimeout(timer);
      sendBack(event);
    };
    const bound = options.boundMs?.(input);
    const timer = bound === undefined ? undefined : setTimeout(() => {
      const timeout = new WorkTimeoutError(options.name, bound);
      controller.abort(timeout);
      report({ type: failureEvent, error: timeout.toJSON() } as EventObject);
    }, bound);
    work(input, controller.signal).then(
      (event) => {
        if (event) report(event);
      },
      (error: unknown) => report({ type: failureEvent, error: toErrorInfo(error) } as EventObject),
    );
    return () => {
      // Left while the work still runs: call it off. Work that has reported is done (an abort would only
      // build an AbortError, with its stack, for nobody).
      if (!live) return;
      live = false;
      clearTimeout(timer);
      controller.abort();
    };
  });
