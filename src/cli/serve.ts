/**
 * `wfctl serve`: run the host in the foreground. Restores the state directory,
 * activates --config if it differs from what is active, re-reads the config
 * on SIGHUP, and shuts down cleanly (drain, stop plugins) on SIGINT/SIGTERM.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { createAdminApi, ensureAdminToken, startAdminServer, TOKEN_FILE } from '../api/index.js';
import { ExitCode, InvalidArgumentError, ListenError } from '../errors.js';
import { formatReloadResult, isSuccess, Orchestrator } from '../orchestrator/index.js';
import { checkAdminAddress } from './admin-address.js';

export interface ServeOptions {
  config?: string;
  stateDir: string;
  admin: string;
  logLevel: string;
  timeout?: string[];
}

/** `--timeout name=ms` pairs → a timeouts object (validated by the orchestrator's schema). */
export function parseTimeouts(pairs: string[] = []): Record<string, number> {
  const timeouts: Record<string, number> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z]+)=(\d+)$/.exec(pair);
    if (!match) throw new InvalidArgumentError('--timeout', 'must be NAME=MILLISECONDS, e.g. confirmMs=5000', pair);
    timeouts[match[1]!] = Number(match[2]);
  }
  return timeouts;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const hasPinoPretty = (): boolean => {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
};

export function createLogger(level: string) {
  if (!LEVELS.includes(level)) throw new InvalidArgumentError('--log-level', `must be one of ${LEVELS.join(', ')}`, level);
  // Pretty lines for a person at a terminal (when pino-pretty is installed), JSON lines for everything else.
  const transport = process.stderr.isTTY && hasPinoPretty() ? pino.transport({ target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname' } }) : pino.destination(2);
  return pino({ name: 'wfreload', level }, transport);
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function fileDigest(file: string): Promise<string | null> {
  try {
    return createHash('sha256').update(await readFile(file, 'utf8')).digest('hex');
  } catch {
    return null;
  }
}

export async function serveCommand(options: ServeOptions): Promise<void> {
  const logger = createLogger(options.logLevel);
  checkAdminAddress(options.admin, process.env.WFRELOAD_ADMIN === options.admin ? 'WFRELOAD_ADMIN' : '--admin', { allowAnyPort: true });
  const stateDir = resolve(options.stateDir);
  const host = await Orchestrator.open({ stateDir, logger, timeouts: parseTimeouts(options.timeout) });
  const token = await ensureAdminToken(stateDir);
  let admin: Awaited<ReturnType<typeof startAdminServer>>;
  try {
    admin = await startAdminServer(await createAdminApi(host, token), options.admin);
  } catch (error) {
    await host.close();
    throw new ListenError(options.admin, (error as { cause?: unknown }).cause ?? error, '--admin');
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`wfreload: ${signal} received, draining and stopping plugins…`);
    await admin.close();
    await host.close();
    say('wfreload: stopped.');
    process.exit(process.exitCode ?? ExitCode.ok);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Installed before anything is announced: a SIGHUP right after start must not hit the default action (exit).
  process.on('SIGHUP', () => {
    if (stopping) return;
    host.reloadCurrentConfig().then(
      (result) => say(`wfreload: SIGHUP: ${formatReloadResult(result)}`),
      (error: Error) => say(`wfreload: SIGHUP: ${error.message}`),
    );
  });

  if (options.config) {
    const file = resolve(options.config);
    const active = host.engineStatus();
    if (active?.source === file && active.digest === (await fileDigest(file))) {
      say(`wfreload: serving generation ${active.generation} of ${file}, restored from ${options.stateDir}`);
    } else {
      const result = await host.tryActivateConfig(file);
      say(`wfreload: ${formatReloadResult(result)}`);
      if (!isSuccess(result.outcome) && !host.engineStatus()) {
        await admin.close();
        await host.close();
        process.exitCode = ExitCode.reloadFailed;
        return;
      }
    }
  }
  const engine = host.engineStatus();
  say(engine ? `wfreload: front door on http://${engine.address} (generation ${engine.generation}); SIGHUP re-reads ${engine.source}` : 'wfreload: no engine config active yet; start with --config FILE');
  say(`wfreload: admin API on http://${admin.address}/api/v1 (token in ${join(stateDir, TOKEN_FILE)}); live view: \`wfctl live\` prints its URL`);
  // One line with everything an operator needs to find and signal this host (under `npm start`, the pid of npm is not this one).
  say(
    `wfreload: ready: pid ${process.pid}, front door ${engine ? `http://${engine.address}` : 'none yet'}, admin http://${admin.address}/api/v1, state directory ${stateDir}, live view http://${admin.address}/inspect?token=… (\`wfctl live\` prints it with the token)`,
  );

  // Stay up until a signal stops us.
  await new Promise(() => {});
}
