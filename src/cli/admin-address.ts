/**
 * The admin API address options (`--admin`, WFRELOAD_ADMIN): checked before
 * anything uses them, so a typo is bad input (exit 2, naming the option), not
 * a Node internals message from `listen` or `new URL`.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * `value` must be HOST:PORT (HOST a name or an IPv4 address, or [IPv6]); PORT 1 to 65535, or 0 (any
 * free port) where `allowAnyPort` (a host binding, not a client connecting). Returns it unchanged.
 */
export function checkAdminAddress(value: string, option: string, { allowAnyPort = false } = {}): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  const lowest = allowAnyPort ? 0 : 1;
  if (!match) throw new InvalidArgumentError(option, 'must be HOST:PORT, e.g. 127.0.0.1:7070 (an IPv6 host in brackets: [::1]:7070)', value);
  if (port < lowest || port > 65535) throw new InvalidArgumentError(option, `the port must be from ${lowest} to 65535`, value);
  return value;
}
