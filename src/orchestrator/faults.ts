/**
 * Test-only fault injection (issue 5's crash matrix): with
 * WFRELOAD_FAULT_CRASH_AT=<boundary> in the environment, the host SIGKILLs
 * itself the moment a reload reaches that boundary, to prove a restart comes
 * back consistent. Off unless that variable is set; documented in
 * docs/reliability.md. Boundaries: staged, candidateStarted, handshaked,
 * probed, pendingWritten, swapped, confirmed.
 */
export const CRASH_BOUNDARIES = ['staged', 'candidateStarted', 'handshaked', 'probed', 'pendingWritten', 'swapped', 'confirmed'] as const;
export type CrashBoundary = (typeof CRASH_BOUNDARIES)[number];

const armed = process.env.WFRELOAD_FAULT_CRASH_AT as CrashBoundary | undefined;

export const faults = {
  /** Called as a reload passes `boundary`; kills the process (no cleanup at all) when it is the armed one. */
  reached(boundary: CrashBoundary): void {
    if (armed === boundary) process.kill(process.pid, 'SIGKILL');
  },
  /** Maps slot states to the boundary their entry means was passed. */
  reachedState(state: string): void {
    const boundary = ({ staged: 'staged', candidateStarted: 'candidateStarted', handshaked: 'handshaked', probed: 'probed', confirming: 'swapped', draining: 'confirmed' } as Record<string, CrashBoundary>)[state];
    if (boundary) this.reached(boundary);
  },
};
