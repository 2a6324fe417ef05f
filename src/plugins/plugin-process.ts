/**
 * One running plugin process: launch, calls through its protocol's client
 * (client.ts: the wfreload protocol, MCP or go-plugin), stderr capture, drain and stop.
 * Nothing here decides *when* to do these things; the slot machine does.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { PluginCommandNotFoundError, PluginExitedError, PluginLimitExceededError, PluginProtocolError, UnknownStepError, type WfrError } from '../errors.js';
import type { PluginClient } from './client.js';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from './cookie.js';
import { pluginEnvironment, type Manifest } from './manifest.js';
import { loadProtocol, type Protocol } from './protocols.js';
import { createCgroup, removeCgroups, type PluginCgroup } from './cgroup.js';
import { noLimits, type PluginLimits } from './limits.js';
import { openFileCount, processUsage } from './process-usage.js';
import { resolveCommand } from './resolve-command.js';
import { createLineSplitter, type LineSplitter } from './rpc/line-splitter.js';
import { createLineWriter, type LineWriter } from './rpc/line-writer.js';
import { InFlight } from '../util/in-flight.js';

export interface ProcessLimits {
  /** Longest stdout line accepted; longer is a protocol error. */
  maxLineBytes: number;
  /** stderr lines kept for error messages and status. */
  stderrTailLines: number;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** Longest stderr line kept; longer ones are replaced by a note. */
const STDERR_LINE_BYTES = 16 * 1024;
/** What the logs keep in place of a line over STDERR_LINE_BYTES. */
const oversizeLine = (bytes: number) => `[a stderr line of ${bytes} bytes was dropped: the limit is ${STDERR_LINE_BYTES}]`;

const describeExit = (exit: ExitInfo): string =>
  exit.signal ? `on signal ${exit.signal}` : `with code ${exit.code ?? 'unknown'}`;

const spawn = (file: string, args: string[], dir: string, env: Record<string, string>) =>
  execa(file, args, {
    cwd: dir,
    env: { ...env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE },
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    // Its own process group, so a force-kill also reaches anything it spawned.
    detached: true,
    cleanup: true,
  });

type Subprocess = ReturnType<typeof spawn>;

export interface LaunchOptions {
  manifest: Manifest;
  /** The staged version directory; the process runs with it as cwd. */
  dir: string;
  /** The plugin's writable data directory (it must exist): WFRELOAD_DATA_DIR, and what `${WFRELOAD_DATA_DIR}` in `env` expands to. */
  dataDir: string;
  logger: Logger;
  limits: ProcessLimits;
  /** Told each stderr line as it arrives (the host's per-plugin log). */
  onStderrLine?: (line: string) => void;
  /** The engine config's resource limits for this plugin (plugins.NAME.limits). */
  resources?: PluginLimits;
  /** Where cgroups are mounted, and how often to measure memory where none can be made. */
  enforcementOptions?: { cgroupRoot: string; pollMs: number };
  /** Aborted when the step that launches it has given up (its bound passed, or the host is closing): nothing is spawned after that. */
  signal?: AbortSignal;
}

/** How the kernel holds a plugin process to its limits. */
export interface Enforcement {
  /** `cgroup v2` / `cgroup v1` for memory, processes and CPU, or why there is none. */
  cgroup: string | null;
  /** RLIMIT_NOFILE, set at spawn. */
  openFiles: number | null;
}

/** Joins the cgroups (before the program runs, so everything it starts is in them too), then runs it. */
const JOIN_CGROUPS = 'for f in $WFR_CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; unset WFR_CGROUP_PROCS; exec "$@"';
const MiB = 1024 * 1024;

/** argv that applies `resources` to the process before the plugin's program runs: the cgroups' wrapper, then prlimit. */
function limited(file: string, args: string[], cgroup: PluginCgroup | null, openFiles: number | undefined): { file: string; args: string[] } {
  let argv = [file, ...args];
  if (openFiles !== undefined) argv = ['prlimit', `--nofile=${openFiles}:${openFiles}`, '--', ...argv];
  if (cgroup) argv = ['/bin/sh', '-c', JOIN_CGROUPS, 'wfreload-limits', ...argv];
  return { file: argv[0]!, args: argv.slice(1) };
}

export class PluginProcess {
  readonly instanceId = randomUUID();
  readonly name: string;
  readonly version: string;
  readonly manifest: Manifest;
  /** The step types the contract offers (checked on every invoke). */
  private readonly stepTypes: ReadonlySet<string>;
  /** The plugin's stdin, as lines (coalesced per event-loop turn). */
  private readonly stdin: LineWriter;
  readonly dir: string;
  readonly pid: number;
  /** When the process was started (ms since the epoch). */
  readonly startedAt = Date.now();
  /** Settles (never rejects) once the process has exited and been reaped. */
  readonly exited: Promise<ExitInfo>;
  /** Settles after `exited`, once the temporary directories are removed too. */
  readonly released: Promise<void>;

  private exitInfo: ExitInfo | null = null;
  /** The kernel's hold on the process (cgroup, rlimits); see Enforcement. */
  readonly enforcement: Enforcement;
  private readonly cgroup: PluginCgroup | null;
  private readonly resources: PluginLimits;
  /** Set when the kernel stopped it at a limit. */
  private limitError: WfrError | null = null;
  /** The protocol violation the host killed it for: what its exit is reported as. */
  private protocolFailure: WfrError | null = null;
  /** The protocol the plugin speaks (wfreload, MCP or go-plugin). */
  private readonly rpc: PluginClient;
  private readonly stderrLines: string[] = [];
  private readonly inFlight = new InFlight();
  /** What the host was doing when the process exited, for the error message. */
  private activity = 'startup';

  private constructor(
    private readonly subprocess: Subprocess,
    pid: number,
    options: LaunchOptions,
    private readonly protocol: Protocol,
    limits: { cgroup: PluginCgroup | null; enforcement: Enforcement },
  ) {
    this.cgroup = limits.cgroup;
    this.enforcement = limits.enforcement;
    this.resources = options.resources ?? {};
    // No cgroup to hold it: measure, and stop it past its memory limit (pm2's max_memory_restart).
    if (!this.cgroup && this.resources.memoryMiB !== undefined) this.watchMemory(this.resources.memoryMiB, options.enforcementOptions?.pollMs ?? 250);
    this.manifest = options.manifest;
    this.stepTypes = new Set(options.manifest.contract.steps.map((s) => s.type));
    this.name = options.manifest.name;
    this.version = options.manifest.version;
    this.dir = options.dir;
    this.pid = pid;
    const log = options.logger.child({ plugin: this.name, version: this.version, pid });

    const stdin = createLineWriter(
      (chunk) => {
        if (!subprocess.stdin?.destroyed) subprocess.stdin?.write(chunk);
      },
      () => subprocess.stdin?.end(),
    );
    this.stdin = stdin;
    // stderr is the plugin's log: bounded per line like stdout, so a flood cannot grow the host's memory or the journal.
    const keep = (line: string, stream: 'stdout' | 'stderr' = 'stderr') => {
      this.stderrLines.push(line);
      if (this.stderrLines.length > options.limits.stderrTailLines) this.stderrLines.shift();
      log.info({ stream }, line);
      options.onStderrLine?.(line);
    };
    // Lines sent over the protocol (go-plugin's GRPCStdio), framed apart from the pipes and from each other.
    const protocolOutput: Partial<Record<'stdout' | 'stderr', LineSplitter>> = {};
    this.rpc = protocol.createClient({
      manifest: options.manifest,
      dir: options.dir,
      writeLine: (line, now) => (now ? stdin.writeNow(line) : stdin.write(line)),
      onProtocolError: (error) => {
        log.warn({ code: error.code }, error.message);
        this.protocolFailure = error;
        // A plugin that broke the protocol cannot be trusted with another call.
        this.kill();
      },
      stderrTail: () => this.stderrTail(),
      output: (chunk, stream) => {
        for (const item of (protocolOutput[stream] ??= createLineSplitter(STDERR_LINE_BYTES)).push(chunk)) keep(item.kind === 'line' ? item.text : oversizeLine(item.bytes), stream);
      },
    });

    const splitter = createLineSplitter(options.limits.maxLineBytes);
    subprocess.stdout?.on('data', (chunk: Buffer) => {
      for (const item of splitter.push(chunk)) {
        if (item.kind === 'line') this.rpc.handleLine(item.text);
        else this.rpc.fail(new PluginProtocolError(this.name, `a stdout line of ${item.bytes} bytes exceeds the ${options.limits.maxLineBytes}-byte limit`));
      }
    });

    const stderrSplitter = createLineSplitter(STDERR_LINE_BYTES);
    subprocess.stderr!.on('data', (chunk: Buffer) => {
      for (const item of stderrSplitter.push(chunk)) keep(item.kind === 'line' ? item.text : oversizeLine(item.bytes));
    });
    const stderrClosed = once(subprocess.stderr!, 'close').catch(() => {});
    // A plugin that closes stdout yet keeps running can never answer again: fail it now instead of at the next timeout.
    subprocess.stdout?.once('end', () => {
      setTimeout(() => {
        if (!this.exitInfo) this.rpc.fail(new PluginProtocolError(this.name, 'it closed its stdout but kept running'));
      }, 200).unref();
    });
    // EPIPE when the plugin exits with a write pending: the exit handler reports it.
    subprocess.stdin?.on('error', () => {});

    this.exited = subprocess.then(
      (result) => ({ code: result.exitCode ?? null, signal: result.signal ?? null }),
      () => ({ code: null, signal: null }),
    );
    this.released = this.exited.then(async (exit) => {
      this.exitInfo = exit;
      // The kernel's OOM kill is the memory limit, not a crash.
      if (!this.limitError && this.cgroup && this.resources.memoryMiB !== undefined && (await this.cgroup.oomKilled())) {
        const peak = await this.cgroup.peakMemory();
        this.limitError = new PluginLimitExceededError(this.name, pid, 'memoryMiB', `${this.resources.memoryMiB} MiB`, peak === null ? 'unknown' : `${Math.round(peak / MiB)} MiB`, this.activity);
      }
      // Let readline deliver the last stderr lines before building the message.
      // Bounded: a grandchild that inherited stderr could hold it open forever.
      await Promise.race([stderrClosed, new Promise((resolve) => setTimeout(resolve, 200).unref())]);
      this.rpc.fail(this.limitError ?? new PluginExitedError(this.name, pid, this.activity, describeExit(exit), this.stderrTail()), { protocol: false });
      if (this.cgroup) await removeCgroups(this.cgroup.dirs);
      await protocol.afterExit().catch((error: unknown) => log.warn({ error }, 'cleaning up after the plugin failed'));
      log.info({ exit }, 'plugin exited');
    });
  }

  /** Spawn the manifest's command. Resolves once the OS has started it; rejects if it cannot. */
  static async launch(options: LaunchOptions): Promise<PluginProcess> {
    const { manifest, dir } = options;
    const { file, args } = await resolveCommand(manifest.name, dir, manifest.command);
    const protocol = await loadProtocol(manifest);
    const resources = options.resources ?? {};
    let cgroup: PluginCgroup | null = null;
    const enforcement: Enforcement = { cgroup: null, openFiles: resources.openFiles ?? null };
    if (!noLimits({ ...resources, openFiles: undefined })) {
      const made = await createCgroup(resources, options.enforcementOptions?.cgroupRoot ?? '/sys/fs/cgroup');
      if ('unavailable' in made) {
        const polled = resources.memoryMiB !== undefined ? `memoryMiB by measuring its resident memory every ${options.enforcementOptions?.pollMs ?? 250} ms` : null;
        enforcement.cgroup = `none (${made.unavailable})${polled ? `; ${polled}` : ''}`;
        options.logger.warn({ plugin: manifest.name, limits: resources }, `plugin ${manifest.name}'s limits are not enforced by the kernel: ${made.unavailable}; ${polled ?? 'processes and cpuPercent are not enforced'}`);
      } else {
        cgroup = made;
        enforcement.cgroup = `cgroup ${made.version}`;
      }
    }
    const command = limited(file, args, cgroup, resources.openFiles);
    const env = { ...pluginEnvironment(manifest, options.dataDir), ...protocol.env, ...(cgroup ? { WFR_CGROUP_PROCS: cgroup.procsFiles.join(' ') } : {}) };
    if (options.signal?.aborted) {
      // Given up while the command, protocol and cgroup were prepared: spawn nothing, and leave nothing behind.
      await protocol.afterExit();
      if (cgroup) await removeCgroups(cgroup.dirs);
      throw options.signal.reason;
    }
    const subprocess = spawn(command.file, command.args, dir, env);
    try {
      await Promise.race([
        once(subprocess, 'spawn'),
        subprocess.then((result) => {
          throw result;
        }),
      ]);
    } catch (error) {
      await protocol.afterExit();
      if (cgroup) await removeCgroups(cgroup.dirs);
      throw new PluginCommandNotFoundError(manifest.name, manifest.command[0]!, error);
    }
    return new PluginProcess(subprocess, subprocess.pid!, options, protocol, { cgroup, enforcement });
  }

  /** Temporary directories the process uses outside the state directory (removed once it is reaped). */
  get tempDirs(): readonly string[] {
    return this.protocol.tempDirs;
  }

  /** The limits it was started under. */
  get limits(): PluginLimits {
    return this.resources;
  }

  /**
   * After a call or check failed: a process with `openFiles` that holds (nearly) that many descriptors
   * hit RLIMIT_NOFILE, which the kernel enforces by refusing the next open (EMFILE), not by stopping it.
   * Records that as the limit it exceeded (as exitError and limitExceeded report it) and returns it; else null.
   */
  openFilesExceeded(during: string): WfrError | null {
    const allowed = this.resources.openFiles;
    if (allowed === undefined || this.exitInfo || this.limitError) return this.limitError;
    const open = openFileCount(this.pid);
    // A few descriptors of slack: the failing call may have closed what it opened last.
    if (open === null || open < allowed - 2) return null;
    this.limitError = new PluginLimitExceededError(this.name, this.pid, 'openFiles', `${allowed} files`, `${open} open files (measured)`, during, `the kernel refused its next file (EMFILE) with ${open} open`);
    return this.limitError;
  }

  /** The limit the kernel stopped it at (known once `released` settles), or null. */
  get limitExceeded(): WfrError | null {
    return this.limitError;
  }

  /** Its cgroup directories (removed once it is reaped). */
  get cgroupDirs(): readonly string[] {
    return this.cgroup?.dirs ?? [];
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  get exit(): ExitInfo | null {
    return this.exitInfo;
  }

  get callsInFlight(): number {
    return this.inFlight.size;
  }

  stderrTail(): string[] {
    return [...this.stderrLines];
  }

  /** Error to report if the process is gone, else null. */
  exitError(during: string): WfrError | null {
    if (!this.exitInfo) return null;
    return this.protocolFailure ?? this.limitError ?? new PluginExitedError(this.name, this.pid, during, describeExit(this.exitInfo), this.stderrTail());
  }

  /** The handshake (`initialize`; for MCP also `tools/list`), checked strictly against the manifest. */
  async initialize(timeoutMs: number): Promise<void> {
    this.activity = 'initialize';
    await this.rpc.initialize(timeoutMs);
    this.activity = 'idle';
  }

  /** `health` (MCP: `ping`). */
  async health(timeoutMs: number): Promise<void> {
    this.activity = 'health';
    await this.rpc.health(timeoutMs);
    this.activity = 'idle';
  }

  /** Call a step; counts as in flight until it settles, which `drain` waits for. */
  async invoke(step: string, input: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.stepTypes.has(step)) throw new UnknownStepError(this.name, step, [...this.stepTypes]);
    this.inFlight.begin();
    this.activity = `invoke of "${step}"`;
    try {
      return await this.rpc.invoke(step, input, timeoutMs);
    } finally {
      this.inFlight.end();
      if (this.inFlight.size === 0 && this.activity.startsWith('invoke')) this.activity = 'idle';
    }
  }

  /** Resolve true when no invoke is in flight, or false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    return this.inFlight.drained(timeoutMs);
  }

  /**
   * Graceful stop: `shutdown`, close stdin, wait `graceMs`; then SIGKILL the
   * process group. Resolves only once the process is reaped, so no caller
   * ever reports success with an orphan behind it.
   */
  async stop(graceMs: number): Promise<ExitInfo> {
    if (this.exitInfo) {
      await this.released;
      return this.exitInfo;
    }
    this.activity = 'shutdown';
    this.rpc.requestShutdown(graceMs);
    // The shutdown line first, then the end of stdin.
    this.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => {
      timer = setTimeout(() => resolve('grace'), graceMs);
    });
    const term = this.protocol.termOnStop ? setTimeout(() => this.signal('SIGTERM'), Math.floor(graceMs / 2)) : undefined;
    const first = await Promise.race([this.exited, graceOver]);
    clearTimeout(timer);
    clearTimeout(term);
    if (first === 'grace') this.kill();
    const exit = await this.exited;
    // Its cgroups and temporary directories are gone too before a stop reports done.
    await this.released;
    return exit;
  }

  private watchMemory(limitMiB: number, pollMs: number): void {
    const timer = setInterval(() => {
      if (this.exitInfo) return clearInterval(timer);
      const rss = processUsage(this.pid)?.memoryBytes ?? null;
      if (rss === null || rss <= limitMiB * MiB) return;
      clearInterval(timer);
      this.limitError = new PluginLimitExceededError(this.name, this.pid, 'memoryMiB', `${limitMiB} MiB`, `${Math.round(rss / MiB)} MiB (measured)`, this.activity);
      this.kill();
    }, pollMs);
    timer.unref();
  }

  /** Send `signal` to the plugin's process group (it, and what it spawned). */
  private signal(signal: NodeJS.Signals): void {
    if (this.exitInfo) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Already gone, or the group was never created: fall back to the process itself.
      this.subprocess.kill(signal);
    }
  }

  /** SIGKILL the plugin's process group now. */
  kill(): void {
    this.signal('SIGKILL');
  }
}
