/**
 * Fleet campaigns on a real engine: ansible-playbook runs the example
 * playbooks against five real `wfctl serve` hosts on this machine
 * (`ansible_connection=local`). A bad build stops at the canary and touches
 * no other host; a good build reaches all five in waves; the same build again
 * changes nothing and restarts nothing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badGreeterBuild, EXAMPLE_PLUGINS, fleetConfig, hostView, runPlaybook, startFleet, type Fleet, type RecapLine } from '../../examples/campaign/fleet.js';
import { tempDir } from '../helpers/plugin-dirs.js';
import { scaled } from '../helpers/slowdown.js';
import { timeoutArgs } from '../helpers/timeouts.js';

const HOSTS = ['host1', 'host2', 'host3', 'host4', 'host5'];
// Each playbook run starts Python and a module per task per host: a run takes seconds, not milliseconds.
const CAMPAIGN = scaled(120_000);

/** What a host's front door answers on GET /hello/fleet. */
async function greeting(front: string): Promise<{ message: string; version: string }> {
  const response = await fetch(`http://${front}/hello/fleet`);
  expect(response.status).toBe(200);
  return (await response.json()) as { message: string; version: string };
}

/** The output with the JSON escaping of Ansible's `fatal: … => {"msg": …}` lines undone. */
const unescaped = (run: { output: string }) => run.output.replaceAll('\\"', '"');

const counts = (recap: Record<string, RecapLine>, field: keyof RecapLine) => Object.fromEntries(Object.entries(recap).map(([host, line]) => [host, line[field]]));

describe('fleet campaigns with ansible-playbook against five real hosts', () => {
  let root: string;
  let fleet: Fleet;

  beforeAll(async () => {
    root = await tempDir('wfr-campaign-');
    fleet = await startFleet({ root, count: 5, config: await fleetConfig('hello.yaml', root), serveArgs: timeoutArgs() });
  }, scaled(60_000));
  afterAll(async () => {
    await fleet?.stop();
  });

  const plugin = (plugin_dir: string) => runPlaybook(fleet.inventory, 'upgrade-plugin.yml', { plugin: 'greeter', plugin_dir }, { tmp: root });
  const views = () => Promise.all(fleet.hosts.map((host) => hostView(host, 'greeter')));

  it('plugin: a bad build stops at the canary; a good one reaches every host; the same build again changes nothing', async () => {
    const before = await views();
    expect(before.map((view) => view.version)).toEqual(['1.0.0', '1.0.0', '1.0.0', '1.0.0', '1.0.0']);

    // A bad build: the canary's dry run rolls back at the handshake, and the play stops there.
    const bad = await plugin(await badGreeterBuild(root));
    expect(bad.exitCode, bad.output).toBe(2);
    expect(Object.keys(bad.recap), bad.output).toEqual(['host1']);
    expect(bad.recap.host1).toMatchObject({ failed: 1, changed: 0 });
    const [canary, ...rest] = await views();
    expect(canary!.attempts).toEqual([{ id: expect.any(String), outcome: 'rolledBack', dryRun: true, failedStep: 'handshake' }]);
    // The failure message names the reload, the failed step and the error, and what still serves.
    expect(unescaped(bad)).toContain(`host1: plugin "greeter" dry run rolledBack at handshake (reload ${canary!.attempts[0].id}): WFR_PLUGIN_CONTRACT_MISMATCH:`);
    expect(unescaped(bad)).toContain(`Still active: 1.0.0 pid ${before[0]!.pid}.`);
    for (const view of rest) expect(view.attempts, `${view.name} was touched`).toEqual([]);
    expect((await views()).map((view) => view.pid)).toEqual(before.map((view) => view.pid));
    for (const host of fleet.hosts) expect((await greeting(host.front)).version).toBe('1.0.0');

    // A good build: canary, then 30 %, then the rest; each host changed once.
    const good = await plugin(join(EXAMPLE_PLUGINS, 'greeter-v2'));
    expect(good.exitCode, good.output).toBe(0);
    expect(counts(good.recap, 'changed'), good.output).toEqual(Object.fromEntries(HOSTS.map((host) => [host, 1])));
    expect(counts(good.recap, 'failed')).toEqual(Object.fromEntries(HOSTS.map((host) => [host, 0])));
    // The waves: host1 alone, host2 alone (30 % of 5), then the other three together.
    const plays = [...good.output.matchAll(/PLAY \[[^\]]*\][\s\S]*?TASK \[Check the campaign's variables\][^\n]*\n((?:(?:ok|fatal): \[host\d\][^\n]*\n)+)/g)].map((match) =>
      [...match[1]!.matchAll(/\[(host\d)\]/g)].map((host) => host[1]).sort(),
    );
    expect(plays).toEqual([['host1'], ['host2'], ['host3', 'host4', 'host5']]);
    for (const host of fleet.hosts) expect(await greeting(host.front)).toEqual({ message: 'Hello, fleet!', version: '2.0.0' });
    const upgraded = await views();
    for (const [i, view] of upgraded.entries()) {
      expect(view.version).toBe('2.0.0');
      expect(view.pid).not.toBe(before[i]!.pid);
      expect(view.attempts.slice(0, 2).map((attempt: { outcome: string }) => attempt.outcome)).toEqual(['activated', 'dryRunPassed']);
    }

    // The same build again: every host reports unchanged, changed=0, and no plugin process restarts.
    const again = await plugin(join(EXAMPLE_PLUGINS, 'greeter-v2'));
    expect(again.exitCode, again.output).toBe(0);
    expect(counts(again.recap, 'changed'), again.output).toEqual(Object.fromEntries(HOSTS.map((host) => [host, 0])));
    expect(counts(again.recap, 'failed')).toEqual(Object.fromEntries(HOSTS.map((host) => [host, 0])));
    const after = await views();
    expect(after.map((view) => view.pid)).toEqual(upgraded.map((view) => view.pid));
    for (const view of after) expect(view.attempts.slice(0, 2).map((attempt: { outcome: string }) => attempt.outcome)).toEqual(['unchanged', 'unchanged']);
  }, CAMPAIGN);

  it('config: a config whose probe fails stops at the canary; a good one reaches every host; again changes nothing', async () => {
    const generations = async () =>
      Promise.all(
        fleet.hosts.map(async (host) => {
          const response = await fetch(`http://${host.front}/healthz`);
          return response.headers.get('x-wfreload-generation');
        }),
      );
    const start = await generations();
    const config = (file: string) => runPlaybook(fleet.inventory, 'upgrade-config.yml', { config_file: file }, { tmp: root });

    // A config whose probe cannot pass: the canary's dry run rolls back at the probe; no host swaps.
    const broken = await fleetConfig('hello-v2.yaml', await tempDir('wfr-campaign-bad-'), (c) => {
      c.probes = [...c.probes, { request: 'GET /bye/probe', expect: { status: 418 } }];
    });
    const bad = await config(broken);
    expect(bad.exitCode, bad.output).toBe(2);
    expect(Object.keys(bad.recap), bad.output).toEqual(['host1']);
    expect(bad.output).toMatch(/host1: engine config hello-v2\.yaml dry run rolledBack at probe \(reload rl-[^)]+\): WFR_\w+: /);
    expect(await generations()).toEqual(start);

    const good = await fleetConfig('hello-v2.yaml', root);
    const first = await config(good);
    expect(first.exitCode, first.output).toBe(0);
    expect(counts(first.recap, 'changed'), first.output).toEqual(Object.fromEntries(HOSTS.map((host) => [host, 1])));
    for (const host of fleet.hosts) expect((await fetch(`http://${host.front}/bye/fleet`)).status).toBe(200);
    const upgraded = await generations();
    upgraded.forEach((generation, i) => expect(Number(generation)).toBeGreaterThan(Number(start[i])));

    const again = await config(good);
    expect(again.exitCode, again.output).toBe(0);
    expect(counts(again.recap, 'changed'), again.output).toEqual(Object.fromEntries(HOSTS.map((host) => [host, 0])));
    expect(await generations()).toEqual(upgraded);
  }, CAMPAIGN);

  it('a host whose admin API does not answer fails with what to check, and a missing variable says what to pass', async () => {
    const inventory = join(root, 'unreachable.ini');
    await writeFile(inventory, `[wfreload_hosts]\nlost ansible_connection=local wfreload_admin=127.0.0.1:9 wfreload_state_dir=${fleet.hosts[0]!.stateDir}\n`);
    const lost = await runPlaybook(inventory, 'upgrade-plugin.yml', { plugin: 'greeter', plugin_dir: join(EXAMPLE_PLUGINS, 'greeter-v2') }, { tmp: root });
    expect(lost.exitCode, lost.output).toBe(2);
    expect(lost.output).toContain('lost: wfctl exited 3 (admin API unreachable): wfctl: Cannot reach the wfreload admin API at 127.0.0.1:9');

    const attempts = (await views()).map((view) => view.attempts.length);
    const unset = await runPlaybook(fleet.inventory, 'upgrade-plugin.yml', { plugin: 'greeter' }, { tmp: root });
    expect(unset.exitCode).toBe(2);
    expect(unset.output).toContain('Pass the plugin and its build: -e plugin=NAME -e plugin_dir=DIR');
    expect(Object.keys(unset.recap)).toEqual(['host1']);
    expect((await views()).map((view) => view.attempts.length)).toEqual(attempts);
  }, CAMPAIGN);
});
