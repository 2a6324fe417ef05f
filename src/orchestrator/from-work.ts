import { fromCallback, type EventObject } from 'xstate';
import { toErrorInfo } from '../errors.js';

/**
 * An actor that runs `work` when its state is entered and reports the fact
 * event it returns, unless the state was left first. A thrown error becomes
 * `failureEvent` (STEP_FAILED unless given) carrying the error's code and message.
 */
export const fromWork = <TEvent extends EventObject, TInput>(work: (input: TInput) => Promise<TEvent | null>, failureEvent = 'STEP_FAILED') =>
  fromCallback<EventObject, TInput>(({ input, sendBack }) => {
    let live = true;
    work(input).then(
      (event) => {
        if (live && event) sendBack(event);
      },
      (error: unknown) => {
        if (live) sendBack({ type: failureEvent, error: toErrorInfo(error) });
      },
    );
    return () => {
      live = false;
    };
  });
