/** A real `wfctl serve` child process, and a way to run real `wfctl` commands against it. */
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { watchLines } from './lines.js';
import { TEST_TIMEOUTS, timeoutArgs } from './timeouts.js';

export const WFCTL = fileURLToPath(new URL('../../bin/wfctl.js', import.meta.url));

export interface RunningHost {
  process: ResultPromise;
  admin: string;
  front: string | null;
  lines: ReturnType<typeof watchLines>;
  /** What the host logged (warnings and errors), for assertion messages. */
  stderr: ReturnType<typeof watchLines>;
  stop(): Promise<void>;
}

/** `timeouts` overrides some of TEST_TIMEOUTS for this host. */
export async function startServe(stateDir: string, config?: string, timeouts: Record<string, number> = {}): Promise<RunningHost> {
  const args = [WFCTL, 'serve', '--state-dir', stateDir, '--admin', '127.0.0.1:0', ...timeoutArgs({ ...TEST_TIMEOUTS, ...timeouts }), '--log-level', 'warn', ...(config ? ['--config', config] : [])];
  const child = execa(process.execPath, args, { reject: false });
  const lines = watchLines(child.stdout!);
  const stderr = watchLines(child.stderr!);
  const adminLine = await Promise.race([
    lines.waitFor(/admin API on http:\/\//),
    child.then((result) => {
      throw new Error(`wfctl serve exited early (${result.exitCode}): ${result.stdout}\n${result.stderr}`);
    }),
  ]);
  const front = lines.lines.find((line) => line.includes('front door on'))?.match(/http:\/\/(\S+)/)?.[1] ?? null;
  return {
    process: child,
    admin: adminLine.match(/http:\/\/([^/]+)\/api\/v1/)![1]!,
    front,
    lines,
    stderr,
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}

/** Run `wfctl ARGS` against `host` (its admin address and state directory). */
export const wfctl = (host: RunningHost | null, stateDir: string, ...args: string[]) =>
  execa(process.execPath, [WFCTL, ...args, ...(host ? ['--admin', host.admin] : []), '--state-dir', stateDir], { reject: false });
