/** Path predicates shared by staging (src/store) and process launch (src/plugins). */
import { isAbsolute, relative } from 'node:path';

/** True when `name` is a path (relative to the plugin directory) rather than a program looked up in PATH. */
export const isPathCommand = (name: string): boolean => name.includes('/') || name.includes('\\');

/** True when `target` is `root` or inside it (both absolute, already resolved). */
export const isInside = (root: string, target: string): boolean => {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};
