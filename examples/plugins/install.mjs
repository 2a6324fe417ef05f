#!/usr/bin/env node
// Install the example plugins that wrap published npm packages (memory-mcp-*):
// `npm ci` in each plugin directory with a package-lock.json whose node_modules
// is missing or older than its lock. Their node_modules are not in git.
// Run by `npm run examples:install`, by .ci/run and before the test suite.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

for (const name of readdirSync(here).sort()) {
  const dir = join(here, name);
  const lock = join(dir, 'package-lock.json');
  if (!existsSync(lock)) continue;
  const installed = join(dir, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) continue;
  console.log(`examples/plugins/${name}: npm ci`);
  try {
    execFileSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  } catch {
    console.error(`examples/plugins/${name}: npm ci failed (see above). It needs the npm registry, or the packages in npm's cache.`);
    process.exit(1);
  }
}
