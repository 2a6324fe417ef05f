import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { PathEscapeError, PluginCommandNotFoundError } from '../errors.js';
import { isInside, isPathCommand } from '../util/paths.js';

export { isInside, isPathCommand };

/**
 * Turn the manifest's `command` into what execa runs. A path must stay inside
 * the plugin directory and be executable; `node` means the host's own node, so
 * a plugin does not depend on which node is first in PATH.
 */
export async function resolveCommand(plugin: string, dir: string, command: readonly string[]): Promise<{ file: string; args: string[] }> {
  const [first, ...args] = command;
  if (first === undefined) throw new PluginCommandNotFoundError(plugin, '(empty command)');
  if (first === 'node') return { file: process.execPath, args };
  if (!isPathCommand(first)) return { file: first, args };
  if (isAbsolute(first)) throw new PathEscapeError(first, 'the command is an absolute path');
  const file = resolve(dir, first);
  if (!isInside(dir, file)) throw new PathEscapeError(first, 'the command points outside the plugin directory');
  try {
    await access(file, constants.X_OK);
  } catch (error) {
    throw new PluginCommandNotFoundError(plugin, first, error);
  }
  return { file, args };
}
