/**
 * Work running in the background, tracked so that a caller can wait until none is left: what is
 * started while it waits is waited for too. A failure is the starter's to handle; here it only ends
 * the work.
 */
export class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();

  /** Track `work` until it settles, and return it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work)).catch(() => {});
    return work;
  }

  /** Resolves once every piece of work tracked so far, and any tracked meanwhile, has settled. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
