import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { ExitCode, InvalidArgumentError } from '../errors.js';
import { isSuccess, Orchestrator } from '../orchestrator/index.js';
import { formatResultHuman } from './format.js';
import { readManifest } from '../plugins/index.js';

interface CheckOptions {
  name?: string;
  handshakeTimeout: string;
  json?: boolean;
}

/** `wfctl plugin check DIR`: a dry run on a throwaway state directory. */
export async function checkPluginCommand(dir: string, options: CheckOptions): Promise<void> {
  const handshakeMs = Number(options.handshakeTimeout);
  if (!Number.isInteger(handshakeMs) || handshakeMs <= 0) {
    throw new InvalidArgumentError('--handshake-timeout', 'must be a positive whole number of milliseconds', options.handshakeTimeout);
  }
  const source = resolve(dir);
  const name = options.name ?? (await readManifest(source).catch(() => null))?.name ?? 'plugin';
  const stateDir = await mkdtemp(join(tmpdir(), 'wfctl-check-'));
  const host = await Orchestrator.open({ stateDir, logger: pino({ level: 'silent' }), timeouts: { handshakeMs } });
  try {
    const result = await host.tryActivatePlugin(name, source, { dryRun: true });
    if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(`${formatResultHuman(result)}\n`);
    process.exitCode = isSuccess(result.outcome) ? ExitCode.ok : ExitCode.reloadFailed;
  } finally {
    await host.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}
