/**
 * Once per test run. Before: install the example plugins' own dependencies
 * when missing (examples/plugins/install.mjs), and build dist/ (tests spawn the
 * compiled wfctl, so it must match the sources under test; incremental, a few
 * seconds when nothing changed). After: fail the run if a test left a temporary entry or a process
 * behind.
 *
 * The run gets its own temp directory (TMPDIR, inherited by every worker, host,
 * plugin and browser the tests start, and what os.tmpdir() answers in them), so
 * what it leaves is told apart from anything else on the machine: it must be
 * empty at the end. A process belongs to the run when its environment carries
 * WFR_SUITE_RUN, set here the same way.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { scaled } from './helpers/slowdown.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Entries other tools keep in the temp directory across runs on purpose (tsx's compile cache). */
const KEPT_BY_TOOLS = /^tsx-\d+$/;

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Live (not zombie) processes started under this run, other than vitest's own. */
function processesOfRun(runId: string): Array<{ pid: number; command: string }> {
  const marker = `WFR_SUITE_RUN=${runId}`;
  const found: Array<{ pid: number; command: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    if (!read(`/proc/${name}/environ`).split('\0').includes(marker)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (stat === '' || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
    const command = read(`/proc/${name}/cmdline`).split('\0').join(' ').trim();
    if (/vitest/.test(command)) continue;
    found.push({ pid: Number(name), command });
  }
  return found;
}

export default async function setup(): Promise<() => Promise<void>> {
  // The MCP example plugins wrap published npm packages, installed inside each plugin directory.
  const examples = await execa(process.execPath, ['examples/plugins/install.mjs'], { cwd: root, reject: false, all: true });
  if (examples.exitCode !== 0) throw new Error(`npm run examples:install failed, so the MCP and go-plugin tests cannot run:\n${examples.all}`);
  const build = await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, reject: false, all: true });
  if (build.exitCode !== 0) throw new Error(`npm run build failed, so the tests cannot run the compiled wfctl:\n${build.all}`);

  const runId = randomUUID();
  process.env.WFR_SUITE_RUN = runId;
  const runTmp = mkdtempSync(join(tmpdir(), 'wfr-suite-'));
  process.env.TMPDIR = runTmp;

  return async function teardown() {
    // Plugins of a killed host exit when they see stdin close: give them a moment, bounded.
    const deadline = Date.now() + scaled(10_000);
    let processes = processesOfRun(runId);
    while (processes.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      processes = processesOfRun(runId);
    }
    const entries = readdirSync(runTmp).filter((name) => !KEPT_BY_TOOLS.test(name));
    // Report, then clean up, so one leaky run does not spill into the next.
    for (const { pid } of processes) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(runTmp, { recursive: true, force: true });
    if (processes.length === 0 && entries.length === 0) return;
    // vitest reports a teardown error but keeps its exit code: set it, or CI would pass a leaky run.
    process.exitCode = 1;
    throw new Error(
      [
        'The test run left things behind (now removed); every test must clean up what it starts, pass or fail:',
        ...(processes.length ? [`  ${processes.length} process(es):`, ...processes.map((p) => `    ${p.pid} ${p.command}`)] : []),
        ...(entries.length ? [`  ${entries.length} entr(ies) in the run's temp directory ${runTmp}:`, ...entries.slice(0, 30).map((name) => `    ${name}`)] : []),
      ].join('\n'),
    );
  };
}
