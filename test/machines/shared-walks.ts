/**
 * What both slot models (plugin-slot, engine-config) check the same way over
 * their replayed walks: clean-up failures, and that the walks take every
 * transition of the machine (printed with the run).
 */
import type { AnyStateMachine } from 'xstate';
import { getStateNodes } from 'xstate/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { transitionTable } from '../helpers/transitions.js';

/** One replayed walk, as far as these checks read it. */
export interface Walk {
  path: string;
  steps: Array<{ event: { type: string }; state: string; context: { error: unknown; cleanupError: unknown }; invoked: unknown[]; current: unknown }>;
}

/** Where each clean-up ends, whether it succeeds or not: the outcome was decided before it started. */
const SETTLED_AFTER: Record<string, readonly string[]> = { swappingBack: ['rolledBack'], draining: ['active'], stoppingCandidate: ['dryRunPassed'], rollingBack: ['rolledBack'] };

/** `endsIn`: the states each clean-up state may go to next (the engine slot releases its plugin slots first). */
export function describeCleanupFailures(name: string, replayAll: () => Walk[], cleanupError: unknown, endsIn: Record<string, readonly string[]> = SETTLED_AFTER): void {
  describe(`${name}, when clean-up work fails`, () => {
    it('ends the reload where the clean-up would have, with cleanupError set, the first error kept, no new work and the pointer unmoved', () => {
      const seen = new Set<string>();
      for (const { path, steps } of replayAll()) {
        steps.forEach((step, i) => {
          if (step.event.type !== 'CLEANUP_FAILED') return;
          const before = steps[i - 1]!;
          seen.add(before.state);
          expect(Object.keys(endsIn), path).toContain(before.state);
          expect(endsIn[before.state], path).toContain(step.state);
          expect(step.context.cleanupError, path).toEqual(cleanupError);
          expect(step.context.error, path).toEqual(before.context.error);
          expect(step.invoked, path).toEqual([]);
          expect(step.current, path).toBe(before.current);
        });
      }
      // Every clean-up state was walked into a failure at least once.
      expect([...seen].sort()).toEqual(Object.keys(endsIn).sort());
    });

    it('clears cleanupError when the next reload starts', () => {
      let cleared = 0;
      for (const { path, steps } of replayAll()) {
        steps.forEach((step, i) => {
          if (step.event.type !== 'TRY_ACTIVATE' || !steps[i - 1]?.context.cleanupError) return;
          cleared += 1;
          expect(step.context.cleanupError, path).toBeNull();
        });
      }
      expect(cleared).toBeGreaterThan(0);
    });
  });
}

export function describeTransitions(title: string, machine: AnyStateMachine, replayAll: () => Walk[]): void {
  describe(`the ${title} transitions`, () => {
    const table = transitionTable(machine);
    // Printed so a run shows every transition the walks above cover.
    afterAll(() => console.log(['', `transitions of the ${title} (${machine.id})`, ...table.map((line) => `  ${line}`)].join('\n')));

    it('lists every transition of the machine, and the walks above take each one', () => {
      expect(table.length).toBeGreaterThan(20);
      const taken = new Set(replayAll().flatMap(({ steps }) => steps.slice(1).map((step, i) => `${steps[i]!.state}|${step.event.type}|${step.state}`)));
      const children = (state: string): string[] => {
        const node = getStateNodes(machine).find((n) => n.key === state)!;
        return node.type === 'compound' ? Object.keys(node.states) : [state];
      };
      for (const line of table) {
        const [, from, event, to] = /^(\S+)\s+--(\S+)(?: \[\S+\])?--> (.+)$/.exec(line)!;
        // A compound state's transition is taken from one of its children; an eventless one after whatever
        // event reached its state; one without a target leaves the state as it was.
        const took = (child: string) =>
          event === '(always)' ? [...taken].some((t) => t.startsWith(`${child}|`) && t.endsWith(`|${to}`)) : taken.has(`${child}|${event}|${to === '(stays)' ? child : to}`);
        expect(children(from!).some(took), line).toBe(true);
      }
    });
  });
}
