#!/usr/bin/env node
// The first thing `npm test` runs: the Debian packages some tests drive for
// real (a browser, ansible-playbook, a Go toolchain with go-plugin). If one is
// missing, stop now with one line naming what to install, instead of letting
// those tests fail one by one after minutes. .ci/run installs them.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const onPath = (program) => (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, program)));
const GOPATH = process.env.WFR_GOPATH ?? '/usr/share/gocode';

const needs = [
  ['chromium', () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')],
  ['ansible-core', () => onPath('ansible-playbook')],
  ['golang-go', () => onPath('go')],
  ['golang-github-hashicorp-go-plugin-dev', () => existsSync(join(GOPATH, 'src/github.com/hashicorp/go-plugin'))],
  ['golang-google-grpc-dev', () => existsSync(join(GOPATH, 'src/google.golang.org/grpc'))],
  ['golang-goprotobuf-dev', () => existsSync(join(GOPATH, 'src/github.com/golang/protobuf'))],
];
const missing = needs.filter(([, present]) => !present()).map(([name]) => name);
if (missing.length > 0) {
  console.error(`npm test needs Debian packages that are missing; install them, then run it again: sudo apt-get install ${missing.join(' ')}`);
  process.exit(1);
}
