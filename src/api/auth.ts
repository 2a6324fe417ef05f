import { randomBytes, timingSafeEqual } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnauthorizedError } from '../errors.js';

export const TOKEN_FILE = 'admin.token';

/**
 * The admin token: STATE/admin.token, created on first start with mode 0600
 * (`wx`, so two hosts racing cannot both write one).
 */
export async function ensureAdminToken(stateDir: string): Promise<string> {
  const file = join(stateDir, TOKEN_FILE);
  try {
    const handle = await open(file, 'wx', 0o600);
    const token = randomBytes(32).toString('base64url');
    try {
      await handle.writeFile(`${token}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readFile(file, 'utf8')).trim();
  }
}

/** Reads the token a client should send; null when the file is missing. */
export async function readAdminToken(stateDir: string): Promise<string | null> {
  try {
    return (await readFile(join(stateDir, TOKEN_FILE), 'utf8')).trim();
  } catch {
    return null;
  }
}

/** Throws UnauthorizedError unless `header` (or the `access_token` query value) carries `token`. */
export function checkToken(token: string, header: string | undefined, queryToken: string | undefined): void {
  // The scheme is case-insensitive in HTTP (RFC 9110 §11.1): "bearer", "BEARER" and "Bearer" are the same.
  const bearer = header === undefined ? null : /^bearer[ \t]+(.+)$/i.exec(header);
  const offered = bearer ? bearer[1]!.trim() : queryToken;
  if (!offered) throw new UnauthorizedError('no bearer token was sent');
  const a = Buffer.from(offered);
  const b = Buffer.from(token);
  // Constant time, so the token cannot be guessed byte by byte from response times.
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new UnauthorizedError('the bearer token is wrong');
}
