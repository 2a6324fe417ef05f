/** wfctl commands that talk to a running host over the admin API. */
import { resolve } from 'node:path';
import { ExitCode, InvalidArgumentError } from '../errors.js';
import { isSuccess, type ReloadResult } from '../orchestrator/reload-result.js';
import { AdminClient, type ClientOptions } from './client.js';
import { formatResultHuman } from './format.js';

const print = (text: string): void => void process.stdout.write(`${text}\n`);
const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));

/**
 * On a terminal (and without --json), each state the reload's slots reach, as it happens, on one line
 * rewritten in place; cleared before the result is printed. Subscribed (hello) before the reload is sent.
 */
async function showProgress(client: AdminClient): Promise<() => void> {
  const abort = new AbortController();
  const response = await client.events(abort.signal);
  const { readSse } = await import('./watch.js');
  const events = readSse(response.body!);
  const first = await events.next();
  if (first.done || first.value.event !== 'hello') throw new Error('the event stream did not start with hello');
  const write = (text: string) => process.stdout.write(`\r\x1b[K${text}`);
  void (async () => {
    for await (const { event, data } of events) {
      if (event !== 'transition') continue;
      const { target, state, finished } = JSON.parse(data) as { target: string; state: string; finished: { work: string; ms: number } | null };
      write(`… ${target}: ${state}${finished ? `  (${finished.work} ${finished.ms} ms)` : ''}`);
    }
  })().catch(() => {});
  return () => {
    abort.abort();
    write('');
  };
}

async function reportReload(options: ClientOptions, run: (client: AdminClient) => Promise<ReloadResult>): Promise<void> {
  const client = await AdminClient.create(options);
  const stop = !options.json && process.stdout.isTTY ? await showProgress(client) : null;
  let result: ReloadResult;
  try {
    result = await run(client);
  } finally {
    stop?.();
  }
  if (options.json) printJson(result);
  else print(formatResultHuman(result));
  process.exitCode = isSuccess(result.outcome) ? ExitCode.ok : ExitCode.reloadFailed;
}

/** The body fields every try-activate shares: --dry-run, and --request-id when given. */
const tryOptions = (options: { dryRun?: boolean; requestId?: string }) => ({ dryRun: options.dryRun ?? false, ...(options.requestId === undefined ? {} : { requestId: options.requestId }) });

export const pluginTryActivate = (name: string, dir: string, options: ClientOptions & { dryRun?: boolean; requestId?: string }) =>
  reportReload(options, async (client) => (await client.request<ReloadResult>('POST', `/plugins/${encodeURIComponent(name)}/try-activate`, { dir: resolve(dir), ...tryOptions(options) })).body);

export const pluginLegacyReload = (name: string, dir: string, options: ClientOptions & { legacy?: boolean }) => {
  if (!options.legacy) {
    throw new InvalidArgumentError('plugin reload', 'this is the legacy unload-then-load path and needs --legacy; for a safe reload use `wfctl plugin try-activate`');
  }
  return reportReload(options, async (client) => (await client.request<ReloadResult>('POST', `/plugins/${encodeURIComponent(name)}/reload?legacy=true`, { dir: resolve(dir) })).body);
};

export const configTryActivate = (file: string, options: ClientOptions & { dryRun?: boolean; requestId?: string }) =>
  reportReload(options, async (client) => (await client.request<ReloadResult>('POST', '/config/try-activate', { file: resolve(file), ...tryOptions(options) })).body);

interface Status {
  engine: { generation: number; digest: string; address: string | null; source: string; requestsInFlight: number } | null;
  plugins: PluginRow[];
  inFlight: Record<string, string>;
  lastAttempts: Record<string, { id: string; outcome: string; finishedAt: string; failedStep: string | null; error: { code: string } | null }>;
  markerGeneration: number;
}

interface PluginRow {
  name: string;
  version: string;
  digest: string;
  pid: number;
  alive: boolean;
  health: 'serving' | 'restarting' | 'failed';
  startedAt: string | null;
  state: string;
  callsInFlight: number;
  restarts: number;
  failed: boolean;
  usage: { memoryBytes: number; cpuSeconds: number } | null;
  limits: { set: { memoryMiB?: number }; enforcement: { cgroup: string | null; openFiles: number | null } } | null;
}

/** `  limits memoryMiB=64 processes=16 (cgroup v1; openFiles by RLIMIT_NOFILE)`, or nothing. */
const formatLimits = (p: PluginRow) => {
  if (!p.limits) return '';
  const set = Object.entries(p.limits.set).map(([name, value]) => `${name}=${value}`).join(' ');
  const how = [p.limits.enforcement.cgroup, p.limits.enforcement.openFiles !== null ? 'openFiles by RLIMIT_NOFILE' : null].filter(Boolean).join('; ');
  return `  limits ${set} (${how})`;
};

/** Resident memory, with the limit when one is set: 41 MiB, or 41/64 MiB. */
const formatMemory = (p: PluginRow) => (p.usage ? `${Math.round(p.usage.memoryBytes / 1024 / 1024)}${p.limits?.set.memoryMiB ? `/${p.limits.set.memoryMiB}` : ''} MiB` : '-');

/** How long since `startedAt` (the host's clock, read on this machine): 3d4h, 2h5m, 4m12s, 9s. */
export function formatUptime(startedAt: string | null): string {
  if (startedAt === null) return '-';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(startedAt)) / 1000));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s % 60}s`;
  return `${s}s`;
}

/** How a plugin serves, in words: `serving`, or what is wrong. */
const healthWords = (p: PluginRow): string => (p.health === 'failed' ? 'FAILED (kept crashing)' : p.health === 'restarting' ? 'RESTARTING (it died)' : 'serving');

/** What a status line adds after a target's last outcome: where it failed and what that left running. */
function lastAttemptNote(last: Status['lastAttempts'][string]): string {
  const code = last.error?.code;
  switch (last.outcome as ReloadResult['outcome']) {
    case 'activated':
    case 'dryRunPassed':
    case 'unchanged':
    case 'restarted':
      return '';
    case 'crashed':
      return ` (${code}): the supervisor gave up on it; activate a fixed version`;
    case 'recovered':
      return ` (${code}): a restart put the previous version back; run the reload again`;
    case 'failed':
      return ` at ${last.failedStep} (${code}); LEGACY reload: the old version was unloaded first, nothing runs`;
    default:
      return ` at ${last.failedStep} (${code}); the previous version kept running`;
  }
}

export async function status(options: ClientOptions): Promise<void> {
  const client = await AdminClient.create(options);
  const { body } = await client.request<Status>('GET', '/status');
  if (options.json) return printJson(body);
  const engine = body.engine;
  print(engine ? `engine   generation ${engine.generation}  config ${engine.digest.slice(0, 12)}  on ${engine.address}  (${engine.source})` : 'engine   none active');
  for (const p of body.plugins) {
    // Health apart from the last attempt (listed below): a rolled-back upgrade leaves this version serving.
    const reloading = body.inFlight[`plugin:${p.name}`] ? `  reloading (${p.state})` : '';
    print(`plugin   ${p.name.padEnd(16)} ${p.version.padEnd(10)} pid ${String(p.pid).padEnd(8)} ${healthWords(p)}  up ${formatUptime(p.startedAt)}${p.restarts ? `  restarted ${p.restarts}×` : ''}${reloading}${formatLimits(p)}`);
  }
  for (const [target, id] of Object.entries(body.inFlight)) print(`running  ${target}: reload ${id}`);
  for (const [target, last] of Object.entries(body.lastAttempts)) {
    const failed = lastAttemptNote(last);
    print(`last     ${target.padEnd(22)} ${last.outcome}${failed}  ${last.finishedAt}  ${last.id}`);
  }
}

/** `wfctl plugin list`: one row per active plugin, its health, and apart from it how its last reload attempt ended. */
export async function pluginList(options: ClientOptions): Promise<void> {
  const client = await AdminClient.create(options);
  const { body } = await client.request<{ plugins: Array<PluginRow & { lastAttempt: Status['lastAttempts'][string] | null }> }>('GET', '/plugins');
  if (options.json) return printJson(body);
  if (body.plugins.length === 0) return print('no plugins active');
  const rows = body.plugins.map((p) => [
    p.name,
    p.version,
    p.digest.slice(0, 12),
    String(p.pid),
    formatUptime(p.startedAt),
    formatMemory(p),
    p.usage ? `${p.usage.cpuSeconds.toFixed(1)}s` : '-',
    String(p.restarts),
    p.health,
    p.lastAttempt ? `${p.lastAttempt.outcome}${p.lastAttempt.failedStep ? ` at ${p.lastAttempt.failedStep}` : ''} (${p.lastAttempt.id})` : '-',
  ]);
  const header = ['NAME', 'VERSION', 'DIGEST', 'PID', 'UPTIME', 'MEM', 'CPU', 'RESTARTS', 'HEALTH', 'LAST ATTEMPT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) print(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

interface LogLine {
  at: string;
  pid: number;
  version: string;
  line: string;
}
const logText = (l: LogLine) => `${l.at}  ${l.version} pid ${l.pid}  ${l.line}`;

/** `wfctl plugin logs NAME`: the last lines of its processes' stderr; `--follow` then prints new ones as they come. */
export async function pluginLogs(name: string, options: ClientOptions & { lines?: string; follow?: boolean }): Promise<void> {
  const client = await AdminClient.create(options);
  const lines = options.lines ?? '100';
  if (!/^\d+$/.test(lines) || Number(lines) < 1) throw new InvalidArgumentError('--lines', 'must be a whole number of at least 1', lines);
  // Subscribed before the history is read, so no line falls between the two.
  const stream = options.follow ? await client.events() : null;
  const { body } = await client.request<{ name: string; lines: LogLine[] }>('GET', `/plugins/${encodeURIComponent(name)}/logs?lines=${lines}`);
  const show = (line: LogLine) => print(options.json ? JSON.stringify(line) : logText(line));
  if (!stream) return options.json ? printJson(body) : body.lines.forEach(show);
  body.lines.forEach(show);
  const key = (l: LogLine) => `${l.at} ${l.pid} ${l.line}`;
  const shown = new Set(body.lines.map(key));
  const { readSse } = await import('./watch.js');
  for await (const { event, data } of readSse(stream.body!)) {
    if (event !== 'log') continue;
    const { plugin, type: _type, ...line } = JSON.parse(data) as LogLine & { plugin: string; type: string };
    // A line the history already showed (it came between subscribing and reading the history) is not printed twice.
    if (plugin !== name || shown.delete(key(line))) continue;
    show(line);
  }
}

/** `wfctl plugin prune [NAME] [--keep N]`: remove old staged versions (never the active, the previous, or one in use). */
export async function pluginPrune(name: string | undefined, options: ClientOptions & { keep?: string }): Promise<void> {
  const client = await AdminClient.create(options);
  if (options.keep !== undefined && !/^\d+$/.test(options.keep)) throw new InvalidArgumentError('--keep', 'must be a whole number, 0 or more', options.keep);
  const { body } = await client.request<{ plugins: Array<{ name: string; removed: Array<{ version: string; digest: string }>; kept: Array<{ version: string; digest: string }> }> }>('POST', '/prune', {
    ...(name === undefined ? {} : { name }),
    ...(options.keep === undefined ? {} : { keep: Number(options.keep) }),
  });
  if (options.json) return printJson(body);
  if (body.plugins.length === 0) return print('no staged versions');
  for (const p of body.plugins) {
    const list = (vs: Array<{ version: string; digest: string }>) => vs.map((v) => `${v.version} (${v.digest})`).join(', ') || 'none';
    print(`${p.name}: removed ${p.removed.length}: ${list(p.removed)}; kept ${p.kept.length}: ${list(p.kept)}`);
  }
}

/** `wfctl plugin versions NAME`: the staged versions, which is active and which previous. */
export async function pluginVersions(name: string, options: ClientOptions): Promise<void> {
  const client = await AdminClient.create(options);
  const { body } = await client.request<{ name: string; versions: Array<{ version: string; digest: string; stagedAt: string; active: boolean; previous: boolean; dir: string }> }>(
    'GET',
    `/plugins/${encodeURIComponent(name)}/versions`,
  );
  if (options.json) return printJson(body);
  if (body.versions.length === 0) return print(`no staged versions of plugin ${name}`);
  for (const v of body.versions) print(`${v.active ? '*' : v.previous ? '<' : ' '} ${v.version.padEnd(14)} ${v.digest}  staged ${v.stagedAt}${v.active ? '  active' : v.previous ? '  previous (rollback goes here)' : ''}`);
}

/** `wfctl plugin rollback NAME [--to VERSION]`: the previous (or named) staged version, through try-activate. */
export const pluginRollback = (name: string, options: ClientOptions & { to?: string; dryRun?: boolean; requestId?: string }) =>
  reportReload(options, async (client) => (await client.request<ReloadResult>('POST', `/plugins/${encodeURIComponent(name)}/rollback`, { ...(options.to ? { to: options.to } : {}), ...tryOptions(options) })).body);

export async function reloads(id: string | undefined, options: ClientOptions & { limit?: string; requestId?: string }): Promise<void> {
  const client = await AdminClient.create(options);
  if (id) {
    const { body } = await client.request<ReloadResult>('GET', `/reloads/${encodeURIComponent(id)}`);
    return options.json ? printJson(body) : print(formatResultHuman(body));
  }
  const limit = options.limit ?? '20';
  const byRequest = options.requestId === undefined ? '' : `&requestId=${encodeURIComponent(options.requestId)}`;
  const { body } = await client.request<{ reloads: ReloadResult[] }>('GET', `/reloads?limit=${encodeURIComponent(limit)}${byRequest}`);
  if (options.json) return printJson(body);
  if (body.reloads.length === 0) return print(options.requestId === undefined ? 'no reloads yet' : `no reload with request id "${options.requestId}"`);
  for (const r of body.reloads) {
    print(`${r.finishedAt}  ${r.id}  ${r.target.padEnd(20)} ${(r.outcome + (r.dryRun ? ' (dry run)' : '') + (r.legacy ? ' (legacy)' : '')).padEnd(22)} ${r.failedStep ? `at ${r.failedStep}: ${r.error?.code}` : ''}${r.requestId ? `  request ${r.requestId}` : ''}`);
  }
}

/** `wfctl ready`: exit 0 when the host is ready for traffic, 1 with the reason when not, 3 when it does not answer (exec probes, Nomad script checks). No token needed. */
export async function ready(options: ClientOptions): Promise<void> {
  const client = await AdminClient.create({ ...options, token: options.token ?? 'not-needed' });
  const { status, body } = await client.probe('/readyz');
  const readiness = body as { ready: boolean; reason?: string } | null;
  if (options.json) printJson(readiness);
  else print(readiness?.ready ? 'ready' : `not ready: ${readiness?.reason ?? `HTTP ${status}`}`);
  process.exitCode = status === 200 && readiness?.ready ? ExitCode.ok : ExitCode.reloadFailed;
}

/** `wfctl live`: the live view's URL, with the token. */
export async function live(options: ClientOptions): Promise<void> {
  const client = await AdminClient.create(options);
  // Fails (exit 3) when no host answers or the token is missing or wrong: a URL that cannot work is not printed.
  await client.request('GET', '/status');
  const token = client.authHeader.authorization?.slice(7) ?? '';
  const url = `${client.base.replace(/\/api\/v1$/, '')}/inspect?token=${encodeURIComponent(token)}`;
  if (options.json) printJson({ url });
  else print(url);
}
