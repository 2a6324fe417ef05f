/**
 * The slot machines as plain graphs (states, transitions, invoked work) for
 * the live view to draw. Read from the machine definitions, so the page
 * cannot show a state the machine does not have.
 */
import type { AnyStateMachine, StateNode } from 'xstate';
import { engineConfigMachine, engineConfigWork } from '../../machines/engine-config.js';
import { pluginSlotMachine, pluginSlotWork } from '../../machines/plugin-slot.js';
import { SETTLED_STATES } from '../../machines/slot-common.js';

export interface MachineGraph {
  id: string;
  /** Atomic states in document order, with the work each one invokes. */
  states: Array<{ name: string; work: string | null; final: boolean }>;
  transitions: Array<{ from: string; event: string; to: string }>;
}

type AnyNode = StateNode<any, any>;

function atomicStates(node: AnyNode): AnyNode[] {
  const children = Object.values(node.states) as AnyNode[];
  return children.length === 0 ? [node] : children.flatMap(atomicStates);
}

/** Transitions of a node and of its ancestors (what an atomic state really accepts). */
function transitionsOf(node: AnyNode): Array<{ event: string; targets: AnyNode[] }> {
  const own = [...node.transitions.entries()].flatMap(([event, list]) => list.map((t) => ({ event, targets: (t.target ?? []) as AnyNode[] })));
  return node.parent ? [...own, ...transitionsOf(node.parent).filter((t) => !node.transitions.has(t.event))] : own;
}

export function describeMachine(machine: AnyStateMachine, work: Record<string, string>): MachineGraph {
  const states = atomicStates(machine.root as AnyNode);
  const settled = new Set<string>(SETTLED_STATES);
  return {
    id: machine.id,
    states: states.map((node) => ({ name: node.key, work: work[node.key] ?? null, final: settled.has(node.key) })),
    transitions: states.flatMap((node) =>
      transitionsOf(node).flatMap(({ event, targets }) => targets.map((target) => ({ from: node.key, event, to: atomicStates(target)[0]!.key }))),
    ),
  };
}

export const slotMachineGraphs = (): Record<string, MachineGraph> => ({
  pluginSlot: describeMachine(pluginSlotMachine, pluginSlotWork),
  engineConfig: describeMachine(engineConfigMachine, engineConfigWork),
});
