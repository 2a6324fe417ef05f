/**
 * A fleet of real wfreload hosts on this machine, and a way to run the
 * campaign playbooks against it with ansible-playbook: what
 * `npm run campaign:demo` and test/examples/campaign.test.ts share.
 *
 * Each host is a `wfctl serve` process with its own state directory, admin
 * port and front door, exactly as it would run on its own machine; the
 * inventory reaches them with `ansible_connection=local`.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { parse, stringify } from 'yaml';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const WFCTL = join(REPO, 'bin', 'wfctl.js');
export const PLAYBOOKS = join(REPO, 'examples', 'campaign');
export const EXAMPLE_PLUGINS = join(REPO, 'examples', 'plugins');

export interface FleetHost {
  name: string;
  stateDir: string;
  /** HOST:PORT of its admin API. */
  admin: string;
  /** HOST:PORT of its front door. */
  front: string;
  process: ResultPromise;
}

export interface Fleet {
  hosts: FleetHost[];
  /** An INI inventory naming every host in group wfreload_hosts. */
  inventory: string;
  stop(): Promise<void>;
}

/**
 * Write `examples/config/NAME` into `dir` as a config every host can serve: plugin directories made
 * absolute and the front door on a free port (`127.0.0.1:0`), so five hosts on one machine do not collide.
 */
export async function fleetConfig(name: string, dir: string, edit: (config: Record<string, any>) => void = () => {}): Promise<string> {
  const source = join(REPO, 'examples', 'config', name);
  const config = parse(await readFile(source, 'utf8'));
  config.http.listen = '127.0.0.1:0';
  for (const plugin of Object.values<{ dir: string }>(config.plugins)) plugin.dir = join(REPO, 'examples', 'config', plugin.dir);
  edit(config);
  const file = join(dir, name);
  await writeFile(file, stringify(config));
  return file;
}

/** greeter 2.0.0's code under a manifest that says 2.1.0: the handshake refuses it (the README's bad build). */
export async function badGreeterBuild(dir: string): Promise<string> {
  const build = join(dir, 'greeter-2.1.0-bad');
  await cp(join(EXAMPLE_PLUGINS, 'greeter-v2'), build, { recursive: true });
  const manifest = JSON.parse(await readFile(join(build, 'plugin.json'), 'utf8'));
  await writeFile(join(build, 'plugin.json'), JSON.stringify({ ...manifest, version: '2.1.0' }, null, 2));
  return build;
}

/** Start `count` hosts (host1…hostN) under `root`, each serving `config`; `serveArgs` go to every `wfctl serve`. */
export async function startFleet(options: { root: string; count: number; config: string; serveArgs?: string[] }): Promise<Fleet> {
  const hosts: FleetHost[] = [];
  const stop = async () => {
    await Promise.all(
      hosts.map(async (host) => {
        host.process.kill('SIGTERM');
        await host.process;
      }),
    );
  };
  try {
    for (let i = 1; i <= options.count; i++) hosts.push(await startHost(`host${i}`, join(options.root, `host${i}`), options.config, options.serveArgs ?? []));
  } catch (error) {
    await stop();
    throw error;
  }
  const inventory = join(options.root, 'inventory.ini');
  await writeFile(
    inventory,
    ['[wfreload_hosts]', ...hosts.map((host) => `${host.name} ansible_connection=local wfreload_admin=${host.admin} wfreload_state_dir=${host.stateDir}`), ''].join('\n'),
  );
  return { hosts, inventory, stop };
}

async function startHost(name: string, stateDir: string, config: string, serveArgs: string[]): Promise<FleetHost> {
  const child = execa(process.execPath, [WFCTL, 'serve', '--state-dir', stateDir, '--admin', '127.0.0.1:0', '--config', config, '--log-level', 'warn', ...serveArgs], {
    reject: false,
  });
  const lines: string[] = [];
  const ready = new Promise<string>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('wfreload: ready:')) resolve(line);
    });
  });
  const exited = child.then((result) => {
    throw new Error(`${name}: wfctl serve exited (${result.exitCode}) before it was ready:\n${lines.join('\n')}\n${result.stderr}`);
  });
  const line = await Promise.race([ready, exited]);
  exited.catch(() => {});
  const address = (label: string) => line.match(new RegExp(`${label} http://([^/,\\s]+)`))?.[1];
  const admin = address('admin');
  const front = address('front door');
  if (!admin || !front) throw new Error(`${name}: cannot read the admin and front-door addresses from: ${line}`);
  return { name, stateDir, admin, front, process: child };
}

export interface RecapLine {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface PlaybookRun {
  exitCode: number;
  output: string;
  /** The PLAY RECAP, per host. Hosts the campaign never reached are absent. */
  recap: Record<string, RecapLine>;
}

/** The PLAY RECAP lines of ansible-playbook's default output, per host. */
export function parseRecap(output: string): Record<string, RecapLine> {
  const recap: Record<string, RecapLine> = {};
  const start = output.lastIndexOf('PLAY RECAP');
  if (start < 0) return recap;
  for (const line of output.slice(start).split('\n').slice(1)) {
    const match = line.match(/^(\S+)\s+:\s+(.*)$/);
    if (!match) continue;
    const counts = Object.fromEntries([...match[2]!.matchAll(/(\w+)=(\d+)/g)].map(([, key, value]) => [key!, Number(value)]));
    recap[match[1]!] = counts as unknown as RecapLine;
  }
  return recap;
}

/**
 * Run a campaign playbook (`upgrade-plugin.yml` or `upgrade-config.yml`) against an inventory (a fleet's) with these extra
 * variables; `echo` copies its output to this process's stdout as it comes.
 */
export async function runPlaybook(inventory: string, playbook: string, extraVars: Record<string, unknown>, options: { echo?: boolean; tmp: string }): Promise<PlaybookRun> {
  const child = execa('ansible-playbook', ['-i', inventory, join(PLAYBOOKS, playbook), '-e', JSON.stringify({ wfctl: [process.execPath, WFCTL], ...extraVars })], {
    reject: false,
    all: true,
    env: {
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
      ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
      ANSIBLE_LOCALHOST_WARNING: 'false',
      ANSIBLE_LOCAL_TEMP: options.tmp,
      ANSIBLE_REMOTE_TEMP: options.tmp,
      ANSIBLE_FORKS: '5',
    },
  });
  if (options.echo) child.all!.pipe(process.stdout, { end: false });
  const result = await child;
  if (result.exitCode === undefined) {
    throw new Error(`Cannot run ansible-playbook (${result.shortMessage}). Install ansible-core (Debian: apt-get install ansible-core) and run again.`);
  }
  const output = result.all ?? '';
  return { exitCode: result.exitCode, output, recap: parseRecap(output) };
}

/** What a host serves and how its plugin is doing, read through its front door and admin API. */
export async function hostView(host: FleetHost, plugin: string) {
  const token = (await readFile(join(host.stateDir, 'admin.token'), 'utf8')).trim();
  const admin = async (path: string) => {
    const response = await fetch(`http://${host.admin}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`${host.name}: GET ${path} answered ${response.status}: ${await response.text()}`);
    return response.json() as Promise<any>;
  };
  const { plugins } = await admin('/plugins');
  const slot = plugins.find((entry: { name: string }) => entry.name === plugin);
  const { reloads } = await admin('/reloads?limit=10000');
  return {
    name: host.name,
    version: slot?.version ?? null,
    pid: slot?.pid ?? null,
    /** Reloads aimed at the plugin itself (dry runs included), newest first. */
    attempts: reloads.filter((entry: { target: string }) => entry.target === `plugin:${plugin}`).map((entry: { id: string; outcome: string; dryRun: boolean; failedStep: string | null }) => ({ id: entry.id, outcome: entry.outcome, dryRun: entry.dryRun, failedStep: entry.failedStep })),
  };
}
