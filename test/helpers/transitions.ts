/** A machine's transitions as lines (`from --EVENT [guard]--> to`), read off its definition, for test output. */
import type { AnyStateMachine } from 'xstate';
import { getStateNodes } from 'xstate/graph';

export function transitionTable(machine: AnyStateMachine): string[] {
  const lines: string[] = [];
  for (const node of getStateNodes(machine)) {
    for (const [event, definitions] of [...node.transitions, ['(always)', node.always ?? []] as const]) {
      for (const definition of definitions) {
        const guard = definition.guard ? ` [${typeof definition.guard === 'string' ? definition.guard : ((definition.guard as { type?: string }).type ?? 'guard')}]` : '';
        const to = (definition.target ?? []).map((target) => target.key).join(', ') || '(stays)';
        lines.push(`${node.key.padEnd(18)} --${event}${guard}--> ${to}`);
      }
    }
  }
  return lines;
}
