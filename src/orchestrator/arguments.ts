/**
 * The argument checks of the library API: every public entry point validates
 * what it is given here, before anything is admitted or started.
 */
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { pluginNameSchema } from '../plugins/index.js';

/** A config given as text rather than a file. */
export interface InlineConfig {
  yaml: string;
  /** Directory that relative plugin directories resolve against (default: the working directory). */
  baseDir?: string;
}

export interface TryActivateOptions {
  /** Run every check, then stop the candidate without swapping. */
  dryRun?: boolean;
  /**
   * An idempotency key chosen by the caller (e.g. a campaign's own id): echoed in the result and the
   * journal, and findable there. Asked again while that reload runs: WFR_REQUEST_IN_PROGRESS. Asked
   * again after it finished: its recorded result, without a new reload.
   */
  requestId?: string;
}

/** Letters, digits and . _ : - (1 to 128 characters, starting with a letter or digit). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function validateRequestId(options: TryActivateOptions): string | undefined {
  const { requestId } = options;
  if (requestId === undefined) return undefined;
  if (typeof requestId !== 'string' || !REQUEST_ID_PATTERN.test(requestId)) {
    throw new InvalidArgumentError('requestId', 'must be 1 to 128 letters, digits or . _ : - starting with a letter or digit', requestId);
  }
  return requestId;
}

/** A plugin (slot) name, checked; throws InvalidArgumentError. */
export function validatePluginName(name: unknown): string {
  const parsedName = pluginNameSchema.safeParse(name);
  if (!parsedName.success) throw new InvalidArgumentError('plugin name', parsedName.error.issues[0]!.message, name);
  return parsedName.data;
}

export function validatePluginArgs(name: unknown, dir: unknown, options: unknown): { name: string; dir: string; dryRun: boolean } {
  const slotName = validatePluginName(name);
  if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('plugin directory', 'must be a non-empty path', dir);
  // A relative directory resolves against the host's working directory; the result's `source` says which one that was.
  return { name: slotName, dir: resolve(dir), dryRun: validateDryRun(options) };
}

export function validateConfigSource(config: unknown): { file: string; yaml?: string } {
  if (typeof config === 'string' && config.length > 0) return { file: resolve(config) };
  if (typeof config === 'object' && config !== null && typeof (config as InlineConfig).yaml === 'string') {
    const { yaml, baseDir } = config as InlineConfig;
    // Inline text has no file; relative plugin directories resolve against baseDir.
    return { file: join(resolve(baseDir ?? process.cwd()), '<inline config>.yaml'), yaml };
  }
  throw new InvalidArgumentError('config', 'must be a file path or { yaml, baseDir? }', config);
}

export function validateDryRun(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object', options);
  const dryRun = (options as TryActivateOptions).dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new InvalidArgumentError('dryRun', 'must be true or false', dryRun);
  return dryRun;
}
