/**
 * Load for availability tests: callers that repeat one call until stopped,
 * counting the answers and collecting every failure (a thrown error, or an
 * answer `check` complains about).
 */
export interface Callers {
  /** Answers so far. */
  readonly answered: number;
  /** Thrown errors as they were, complaints about answers as strings. */
  readonly failures: unknown[];
  /** Stop every caller and wait for the calls in flight. */
  stop(): Promise<void>;
}

export function startCallers<T>(count: number, call: () => Promise<T>, check: (answer: T) => string | null = () => null): Callers {
  let stopped = false;
  let answered = 0;
  const failures: unknown[] = [];
  const loop = async () => {
    while (!stopped) {
      try {
        const answer = await call();
        answered++;
        const complaint = check(answer);
        if (complaint !== null) failures.push(complaint);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  const running = Array.from({ length: count }, loop);
  return {
    get answered() {
      return answered;
    },
    failures,
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}
