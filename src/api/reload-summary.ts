/**
 * Per-target last attempts and Prometheus counters, kept from the journal at
 * start and from reload events afterwards (no journal scan per request).
 */
import type { HostEvent, Orchestrator, ReloadResult } from '../orchestrator/index.js';

export interface LastAttempt {
  id: string;
  outcome: ReloadResult['outcome'];
  finishedAt: string;
  failedStep: string | null;
  error: ReloadResult['error'];
}

export class ReloadSummary {
  readonly lastAttempts = new Map<string, LastAttempt>();
  /** `kind outcome` → count. */
  readonly counts = new Map<string, number>();
  /** target → time of its last success (activated), seconds since the epoch. */
  readonly lastSuccess = new Map<string, number>();
  private unsubscribe: (() => void) | null = null;

  static async load(host: Orchestrator): Promise<ReloadSummary> {
    const summary = new ReloadSummary();
    for (const result of await host.history()) summary.add(result);
    summary.unsubscribe = host.events.subscribe((event: HostEvent) => {
      if (event.type === 'reload') summary.add(event.result);
    });
    return summary;
  }

  add(result: ReloadResult): void {
    this.lastAttempts.set(result.target, { id: result.id, outcome: result.outcome, finishedAt: result.finishedAt, failedStep: result.failedStep, error: result.error });
    const key = `${result.kind} ${result.outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (result.outcome === 'activated') this.lastSuccess.set(result.target, Date.parse(result.finishedAt) / 1000);
  }

  close(): void {
    this.unsubscribe?.();
  }
}
