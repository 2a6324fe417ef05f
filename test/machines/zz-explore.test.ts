import { it } from 'vitest';
import { createTestModel, getSimplePaths, getShortestPaths } from 'xstate/graph';
import { pluginSlotMachine } from '../../machines/plugin-slot.js';
it('x', () => {
  try { createTestModel(pluginSlotMachine); } catch (e) { console.log('createTestModel:', (e as Error).message); }
  const err = { code: 'E', message: 'm' };
  const events = (s: any) => {
    const r = s.context.request;
    const c = r ? { name: 'echo', version: r.reloadId, dir: '/d/' + r.reloadId, digest: 'x', instanceId: 'i-' + r.reloadId, pid: 2 } : null;
    return [
      { type: 'TRY_ACTIVATE', reloadId: 'real', sourceDir: '/src', dryRun: false },
      { type: 'TRY_ACTIVATE', reloadId: 'dry', sourceDir: '/src', dryRun: true },
      { type: 'STAGED', staged: { name: 'echo', version: '2', dir: '/d/' + r?.reloadId, digest: 'x', createdByReload: true } },
      { type: 'CANDIDATE_STARTED', candidate: c },
      { type: 'HANDSHAKE_PASSED' }, { type: 'PROBE_PASSED' }, { type: 'SWAPPED', previous: null }, { type: 'DRAINED' },
      { type: 'CANDIDATE_DISCARDED' }, { type: 'STEP_FAILED', error: err }, { type: 'CANDIDATE_EXITED', error: { code: 'X', message: 'x' } },
    ];
  };
  const t = Date.now();
  const paths = getSimplePaths(pluginSlotMachine, { events, input: { name: 'echo' } } as any);
  console.log('simple', paths.length, Date.now() - t, 'max len', Math.max(...paths.map((p) => p.steps.length)));
  const sp = getShortestPaths(pluginSlotMachine, { events, input: { name: 'echo' } } as any);
  console.log('shortest', sp.length);
  console.log(paths[5]!.steps.map((s) => [s.event.type, JSON.stringify(s.state.value)]));
});
