#!/usr/bin/env node
// wfctl runs the compiled JavaScript in dist/ (built by `npm run build`, which `npm ci` runs through `prepare`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`wfctl: ${main.pathname} is missing: run \`npm run build\` (or \`npm ci\`, which builds) in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(2);
}
await import(main.href);
