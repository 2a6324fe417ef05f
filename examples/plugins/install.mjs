#!/usr/bin/env node
// Install the example plugins that need it; neither result is in git:
// - those that wrap published npm packages (memory-mcp-*): `npm ci` in each
//   plugin directory whose node_modules is missing or older than its lock;
// - the go-plugin ones (kv-go-*): `go build` of each directory with .go files
//   whose binary is missing or older than a source, from Debian's Go packages
//   in GOPATH mode (no module downloads; see GO_PACKAGES).
// Run by `npm run examples:install`, by .ci/run and before the test suite.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** What the Go examples build from; .ci/run installs them. */
export const GO_PACKAGES = ['golang-go', 'golang-github-hashicorp-go-plugin-dev', 'golang-google-grpc-dev', 'golang-goprotobuf-dev'];
const GOPATH = '/usr/share/gocode';

const newest = (dir, files) => Math.max(...files.map((file) => statSync(join(dir, file)).mtimeMs));

function hasGo() {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return existsSync(join(GOPATH, 'src/github.com/hashicorp/go-plugin'));
  } catch {
    return false;
  }
}

function buildGo(name, dir) {
  const sources = readdirSync(dir).filter((file) => file.endsWith('.go'));
  const binary = join(dir, 'plugin');
  if (existsSync(binary) && statSync(binary).mtimeMs >= newest(dir, sources)) return;
  if (!hasGo()) {
    console.error(`examples/plugins/${name}: not built, Go or go-plugin is missing: apt-get install ${GO_PACKAGES.join(' ')}`);
    return;
  }
  console.log(`examples/plugins/${name}: go build`);
  try {
    execFileSync('go', ['build', '-o', 'plugin', '.'], { cwd: dir, stdio: 'inherit', env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '' } });
  } catch {
    console.error(`examples/plugins/${name}: go build failed (see above).`);
    process.exit(1);
  }
}

for (const name of readdirSync(here).sort()) {
  const dir = join(here, name);
  if (!statSync(dir).isDirectory()) continue;
  if (readdirSync(dir).some((file) => file.endsWith('.go'))) buildGo(name, dir);
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
