/**
 * `npm run campaign:demo`: five wfreload hosts on this machine, each with its
 * own state directory, admin port and front door, all serving greeter 1.0.0;
 * then ansible-playbook rolls greeter out with examples/campaign/upgrade-plugin.yml:
 *
 *   1. a bad build (its manifest says 2.1.0, its binary 2.0.0): the canary's
 *      dry run rolls back, the play stops, the other four are never touched;
 *   2. the good build (greeter-v2): canary, 30 %, the rest — all five change;
 *   3. the good build again: every host is unchanged (changed=0), same pids.
 *
 * Each run prints Ansible's own output, then what each host serves. Every host
 * is stopped at the end, and on Ctrl-C. Needs ansible-playbook (ansible-core).
 * Arguments go to every `wfctl serve`, e.g.
 * `npm run campaign:demo -- --timeout confirmMs=500` for a shorter confirmation window.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { badGreeterBuild, EXAMPLE_PLUGINS, fleetConfig, hostView, runPlaybook, startFleet, type Fleet } from './fleet.js';

const HOSTS = 5;

async function main(): Promise<number> {
  const ansible = await execa('ansible-playbook', ['--version'], { reject: false });
  if (ansible.exitCode !== 0) {
    console.error('campaign:demo needs ansible-playbook: install ansible-core (Debian: apt-get install ansible-core) and run again.');
    return 2;
  }
  const root = await mkdtemp(join(tmpdir(), 'wfreload-campaign-'));
  let fleet: Fleet | undefined;
  const stop = async () => {
    await fleet?.stop();
    await rm(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  try {
    console.log(`Starting ${HOSTS} hosts under ${root} …`);
    fleet = await startFleet({ root, count: HOSTS, config: await fleetConfig('hello.yaml', root), serveArgs: process.argv.slice(2) });
    for (const host of fleet.hosts) console.log(`  ${host.name}: admin ${host.admin}, front door ${host.front}`);
    await report(fleet);

    const runs = [
      { title: 'a bad build (manifest 2.1.0, binary 2.0.0)', dir: await badGreeterBuild(root), expect: 'fails at the canary' },
      { title: 'the good build (greeter-v2)', dir: join(EXAMPLE_PLUGINS, 'greeter-v2'), expect: 'reaches every host' },
      { title: 'the good build again', dir: join(EXAMPLE_PLUGINS, 'greeter-v2'), expect: 'changes nothing' },
    ];
    const summary: string[] = [];
    for (const [i, run] of runs.entries()) {
      console.log(`\n=== Campaign ${i + 1}: ${run.title}; it ${run.expect} ===`);
      console.log(`$ ansible-playbook -i inventory.ini examples/campaign/upgrade-plugin.yml -e plugin=greeter -e plugin_dir=${run.dir}`);
      const result = await runPlaybook(fleet.inventory, 'upgrade-plugin.yml', { plugin: 'greeter', plugin_dir: run.dir }, { echo: true, tmp: root });
      const hosts = Object.entries(result.recap);
      summary.push(
        `${i + 1}. ${run.title}: ansible-playbook exited ${result.exitCode}; ${hosts.length} of ${HOSTS} hosts reached; ` +
          `changed on ${hosts.filter(([, line]) => line.changed > 0).length}, failed on ${hosts.filter(([, line]) => line.failed > 0).length}`,
      );
      await report(fleet);
    }
    console.log(`\n=== Recap ===\n${summary.join('\n')}`);
    return 0;
  } finally {
    console.log('\nStopping every host …');
    await stop();
    console.log('done.');
  }
}

/** What every host serves now: the plugin's version and pid, and its last attempt. */
async function report(fleet: Fleet): Promise<void> {
  console.log('\nHOST   GREETER  PID      LAST ATTEMPT');
  for (const host of fleet.hosts) {
    const view = await hostView(host, 'greeter');
    const last = view.attempts[0];
    const attempt = last ? `${last.dryRun ? 'dry run ' : ''}${last.outcome}${last.failedStep ? ` at ${last.failedStep}` : ''} (${last.id})` : '-';
    console.log(`${host.name.padEnd(7)}${String(view.version).padEnd(9)}${String(view.pid).padEnd(9)}${attempt}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
