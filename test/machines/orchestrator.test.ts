import { createActor, type AnyActorRef } from 'xstate';
import { getSimplePaths } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { blockingReload, CONFIG_TARGET, orchestratorMachine, type OrchestratorEvent } from '../../machines/orchestrator.js';

const plugin = (name: string, reloadId: string): OrchestratorEvent => ({ type: 'PLUGIN.TRY_ACTIVATE', name, reloadId, sourceDir: `/src/${name}`, dryRun: false });
const config = (reloadId: string): OrchestratorEvent => ({ type: 'CONFIG.TRY_ACTIVATE', reloadId, file: '/etc/wf.yaml', dryRun: false });
const settled = (target: string, reloadId: string): OrchestratorEvent => ({ type: 'RELOAD.SETTLED', target, reloadId });

const start = () => {
  const actor = createActor(orchestratorMachine);
  actor.start();
  const child = (id: string) => (actor.getSnapshot().children as Record<string, AnyActorRef | undefined>)[id];
  return { actor, child, inFlight: () => actor.getSnapshot().context.inFlight };
};

describe('blockingReload', () => {
  it.each([
    [{}, 'plugin:a', null],
    [{ 'plugin:a': 'r1' }, 'plugin:a', { target: 'plugin:a', reloadId: 'r1' }],
    [{ 'plugin:a': 'r1' }, 'plugin:b', null],
    [{ 'plugin:a': 'r1' }, CONFIG_TARGET, { target: 'plugin:a', reloadId: 'r1' }],
    [{ config: 'r2' }, 'plugin:a', { target: 'config', reloadId: 'r2' }],
    [{ config: 'r2' }, CONFIG_TARGET, { target: 'config', reloadId: 'r2' }],
  ])('with %j in flight, a reload of %s is blocked by %j', (inFlight, target, expected) => {
    expect(blockingReload(inFlight, target)).toEqual(expected);
  });
});

describe('the orchestrator machine', () => {
  it('spawns a plugin slot on its first reload and hands it the request', () => {
    const { actor, child, inFlight } = start();
    actor.send(plugin('greeter', 'r1'));
    expect(inFlight()).toEqual({ 'plugin:greeter': 'r1' });
    expect(child('plugin:greeter')?.getSnapshot()).toMatchObject({ value: 'staging', context: { request: { reloadId: 'r1', sourceDir: '/src/greeter' } } });
  });

  it('refuses a second reload of the same plugin, leaving the first one untouched', () => {
    const { actor, child, inFlight } = start();
    actor.send(plugin('greeter', 'r1'));
    actor.send(plugin('greeter', 'r2'));
    expect(inFlight()).toEqual({ 'plugin:greeter': 'r1' });
    expect(child('plugin:greeter')?.getSnapshot().context.request.reloadId).toBe('r1');
  });

  it('runs reloads of different plugins side by side, but no config reload beside them', () => {
    const { actor, child, inFlight } = start();
    actor.send(plugin('a', 'r1'));
    actor.send(plugin('b', 'r2'));
    actor.send(config('r3'));
    expect(inFlight()).toEqual({ 'plugin:a': 'r1', 'plugin:b': 'r2' });
    expect(child('engine')?.getSnapshot().value).toBe('idle');
  });

  it('runs a config reload alone: plugin reloads wait until it settles', () => {
    const { actor, child, inFlight } = start();
    actor.send(config('r1'));
    actor.send(plugin('a', 'r2'));
    expect(inFlight()).toEqual({ config: 'r1' });
    expect(child('plugin:a')).toBeUndefined();
    expect(child('engine')?.getSnapshot().value).toBe('staging');
    actor.send(settled('config', 'wrong-id'));
    expect(inFlight()).toEqual({ config: 'r1' });
    actor.send(settled('config', 'r1'));
    actor.send(plugin('a', 'r2'));
    expect(inFlight()).toEqual({ 'plugin:a': 'r2' });
  });

  it('records each refusal with the reload that blocked it (the class only reads the answer)', () => {
    const { actor, inFlight } = start();
    actor.send(plugin('a', 'r1'));
    actor.send(config('r2'));
    expect(actor.getSnapshot().context.lastRefusal).toEqual({ reloadId: 'r2', blocking: { target: 'plugin:a', reloadId: 'r1' } });
    actor.send(plugin('a', 'r3'));
    expect(actor.getSnapshot().context.lastRefusal).toEqual({ reloadId: 'r3', blocking: { target: 'plugin:a', reloadId: 'r1' } });
    expect(inFlight()).toEqual({ 'plugin:a': 'r1' });
  });

  it('releases a target when its slot child reports that the reload settled, with no event from outside', () => {
    const { actor, child, inFlight } = start();
    actor.send(plugin('a', 'r1'));
    expect(inFlight()).toEqual({ 'plugin:a': 'r1' });
    // The slot's staging fails: it settles in `rejected`, and tells its parent.
    child('plugin:a')!.send({ type: 'STEP_FAILED', error: { code: 'WFR_TEST', message: 'staging failed' } });
    expect(child('plugin:a')!.getSnapshot().value).toBe('rejected');
    expect(inFlight()).toEqual({});
    // The same for the engine slot, which then admits plugin reloads again.
    actor.send(config('r2'));
    expect(inFlight()).toEqual({ config: 'r2' });
    child('engine')!.send({ type: 'STEP_FAILED', error: { code: 'WFR_TEST', message: 'unreadable' } });
    expect(inFlight()).toEqual({});
    actor.send(plugin('a', 'r3'));
    expect(inFlight()).toEqual({ 'plugin:a': 'r3' });
  });

  it('does not release a target for a stale settlement of an earlier reload', () => {
    const { actor, inFlight } = start();
    actor.send(plugin('a', 'r1'));
    actor.send(settled('plugin:a', 'r0'));
    expect(inFlight()).toEqual({ 'plugin:a': 'r1' });
  });

  it('admits a legacy reload like any other, so it cannot overlap a safe one', () => {
    const { actor, inFlight } = start();
    actor.send({ type: 'LEGACY.BEGIN', name: 'a', reloadId: 'r1' });
    actor.send(plugin('a', 'r2'));
    expect(inFlight()).toEqual({ 'plugin:a': 'r1' });
    actor.send({ type: 'LEGACY.END', name: 'a', reloadId: 'r1' });
    actor.send(plugin('a', 'r2'));
    expect(inFlight()).toEqual({ 'plugin:a': 'r2' });
  });

  it('never has a config reload in flight together with another reload, on any path', () => {
    const events: OrchestratorEvent[] = [plugin('a', 'p1'), plugin('b', 'p2'), config('c1'), settled('plugin:a', 'p1'), settled('plugin:b', 'p2'), settled('config', 'c1'), { type: 'LEGACY.BEGIN', name: 'a', reloadId: 'l1' }, { type: 'LEGACY.END', name: 'a', reloadId: 'l1' }];
    const paths = getSimplePaths(orchestratorMachine, { events, serializeState: (snapshot) => JSON.stringify(snapshot.context.inFlight) });
    expect(paths.length).toBeGreaterThan(8);
    for (const path of paths) {
      for (const step of path.steps) {
        const inFlight = step.state.context.inFlight;
        if ('config' in inFlight) expect(Object.keys(inFlight), JSON.stringify(path.steps.map((s) => s.event.type))).toEqual(['config']);
      }
    }
  });
});
