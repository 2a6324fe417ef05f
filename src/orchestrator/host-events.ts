/**
 * What the orchestrator tells its observers (the admin API's SSE stream, the
 * live view, `wfctl reloads watch`, metrics): reload transitions, finished
 * reloads, and a sanitised copy of every XState inspection snapshot.
 */
import type { InspectionEvent } from 'xstate';
import type { ReloadResult, ReloadStep } from './reload-result.js';

export type HostEvent =
  /** A slot entered `state` during reload `reloadId`; `finished` is the step it left, with its timing. */
  | { type: 'transition'; reloadId: string; target: string; state: string; at: string; finished: ReloadStep | null }
  /** A reload finished (also journaled). */
  | { type: 'reload'; result: ReloadResult }
  /** A plugin process wrote a line to stderr (candidates too). */
  | { type: 'log'; plugin: string; at: string; pid: number; version: string; line: string }
  /** An actor's snapshot changed (XState inspection), reduced to plain data. */
  | { type: 'inspect'; actorId: string; state: unknown; event: string; at: string };

export type HostEventListener = (event: HostEvent) => void;

export class HostEvents {
  private readonly listeners = new Set<HostEventListener>();

  subscribe(listener: HostEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: HostEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // An observer's bug must not break a reload.
      }
    }
  }

  /** An XState `inspect` callback that forwards snapshot changes as `inspect` events. */
  inspector(): (event: InspectionEvent) => void {
    return (event) => {
      if (event.type !== '@xstate.snapshot' || this.listeners.size === 0) return;
      const snapshot = event.snapshot as { value?: unknown };
      if (snapshot.value === undefined) return;
      this.emit({
        type: 'inspect',
        actorId: (event.actorRef as unknown as { id: string }).id,
        state: snapshot.value,
        event: event.event.type,
        at: new Date().toISOString(),
      });
    };
  }
}
