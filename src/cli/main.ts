/**
 * wfctl: the operator's command line. Exit codes (docs/cli.md):
 * 0 activated or dry run passed; 1 rolled back or rejected; 2 bad usage or
 * bad input; 3 host unreachable or unauthorized.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, WfrError } from '../errors.js';
import { ApiError, DEFAULT_ADMIN, DEFAULT_STATE_DIR } from './client.js';

// Each command imports what it runs when it runs: `--version`, `--help` and the
// client commands never load the host (xstate, hono, pino, the engine).
// test/cli/lazy-imports.test.ts holds this.
const commands = () => import('./commands.js');

// `wfctl … | head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const program = new Command('wfctl')
  .description('Reload workflow plugins and engine configs safely: stage, start, handshake, probe, then swap — or roll back.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

/** --admin, --token, --state-dir and --json, on every command that talks to a host. */
const withClientOptions = (command: Command): Command =>
  command
    .option('--admin <host:port>', `admin API address (env WFRELOAD_ADMIN; default ${DEFAULT_ADMIN})`)
    .option('--token <token>', 'admin token (env WFRELOAD_TOKEN; default: read STATE/admin.token)')
    .option('--state-dir <dir>', 'where to find admin.token', DEFAULT_STATE_DIR)
    .option('--json', 'print JSON (the API body) instead of text');

program
  .command('serve')
  .description('run the host: front door, plugins, SIGHUP config reload; Ctrl-C drains and stops cleanly')
  .option('--config <file>', 'engine config (YAML) to activate at start unless it is already active')
  .option('--state-dir <dir>', 'state directory (active marker, journal, staged versions, admin.token)', DEFAULT_STATE_DIR)
  .option('--admin <host:port>', 'admin API address, loopback by default; port 0 picks a free one (env WFRELOAD_ADMIN)', process.env.WFRELOAD_ADMIN ?? DEFAULT_ADMIN)
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
  .option('--timeout <name=ms...>', 'override a timeout, e.g. --timeout confirmMs=5000 drainMs=30000 (names: handshakeMs, healthMs, probeMs, invokeMs, drainMs, graceMs, confirmMs, workMs)')
  .action(async (options) => (await import('./serve.js')).serveCommand(options));

const plugin = program.command('plugin').description('work with plugins');
withClientOptions(
  plugin
    .command('try-activate')
    .description('stage, start, handshake and probe a new version beside the running one; swap only if every check passes')
    .argument('<name>', 'plugin name (the slot)')
    .argument('<dir>', 'the plugin directory (holds plugin.json)')
    .option('--dry-run', 'run every check, then stop the candidate without swapping')
    .option('--request-id <id>', 'an idempotency key you choose: asked again, wfctl gets that reload\'s result instead of starting another (find it with `wfctl reloads --request-id`)'),
).action(async (name, dir, options) => (await commands()).pluginTryActivate(name, dir, options));

withClientOptions(
  plugin
    .command('reload')
    .description('LEGACY: unload the running version first, then load the new one (a bad candidate leaves nothing running); for contrast only')
    .argument('<name>', 'plugin name')
    .argument('<dir>', 'the plugin directory')
    .option('--legacy', 'confirm you want the legacy unload-then-load path'),
).action(async (name, dir, options) => (await commands()).pluginLegacyReload(name, dir, options));

const config = program.command('config').description('work with the engine config');
withClientOptions(
  config
    .command('try-activate')
    .description('build and probe a new engine config beside the running one; swap only if every check passes')
    .argument('<file>', 'the config file (YAML)')
    .option('--dry-run', 'run every check, then discard the candidate without swapping')
    .option('--request-id <id>', 'an idempotency key you choose (see plugin try-activate)'),
).action(async (file, options) => (await commands()).configTryActivate(file, options));

withClientOptions(program.command('status').description('the active engine and plugins, reloads running, and the last attempt per target')).action(async (options) => (await commands()).status(options));

const reloadsCommand = withClientOptions(
  program
    .command('reloads')
    .description('reload history, newest first, or one reload in full')
    .argument('[id]', 'a reload id')
    .option('--limit <n>', 'how many to list', '20')
    .option('--request-id <id>', 'only the reloads started with this idempotency key'),
).action(async (id, options) => (await commands()).reloads(id, options));
withClientOptions(
  reloadsCommand
    .command('watch')
    .description('follow reloads live: one line per transition, a spinner while one runs')
    .option('--count <n>', 'exit after this many reloads finished'),
).action(async (_options, command: Command) => (await import('./watch.js')).watchReloads(command.optsWithGlobals()));

withClientOptions(program.command('ready').description('exit 0 when the host is ready for traffic (engine serving, no plugin failed or restarting, no swap in its confirmation window), 1 with the reason when not; for exec probes and script checks')).action(
  async (options) => (await commands()).ready(options),
);

withClientOptions(program.command('live').description('print the URL of the live view (the page the admin API serves)')).action(async (options) => (await commands()).live(options));

withClientOptions(plugin.command('list').description('the active plugins: version, digest, pid, uptime, restarts, health, and how the last reload attempt of each ended')).action(
  async (options) => (await commands()).pluginList(options),
);

withClientOptions(
  plugin
    .command('logs')
    .description("the last lines of a plugin's stderr (every version and candidate of it), then, with --follow, new ones as they come")
    .argument('<name>', 'plugin name')
    .option('--lines <n>', 'how many lines', '100')
    .option('--follow', 'keep printing new lines until Ctrl-C'),
).action(async (name, options) => (await commands()).pluginLogs(name, options));

withClientOptions(
  plugin
    .command('prune')
    .description('remove old staged versions of a plugin (or of all): never the active one, the previous one, or one in use')
    .argument('[name]', 'plugin name (default: every plugin)')
    .option('--keep <n>', "staged versions to keep besides the active and previous ones (default: the host's retention, 5)"),
).action(async (name, options) => (await commands()).pluginPrune(name, options));

withClientOptions(plugin.command('versions').description('the staged versions of a plugin: which is active, which previous').argument('<name>', 'plugin name')).action(
  async (name, options) => (await commands()).pluginVersions(name, options),
);

withClientOptions(
  plugin
    .command('rollback')
    .description('go back to the previous staged version (or --to one) through the same safe path as try-activate')
    .argument('<name>', 'plugin name')
    .option('--to <version>', 'a staged version (or digest prefix) instead of the previous one; see `wfctl plugin versions NAME`')
    .option('--dry-run', 'run every check, then stop the candidate without swapping')
    .option('--request-id <id>', 'an idempotency key you choose (see plugin try-activate)'),
).action(async (name, options) => (await commands()).pluginRollback(name, options));

plugin
  .command('check')
  .description('stage, start, handshake and probe a plugin directory in a throwaway state directory, then stop it (what try-activate checks, without a host)')
  .argument('<dir>', 'the plugin directory (holds plugin.json)')
  .option('--name <name>', 'slot name to check against (default: the manifest name)')
  .option('--handshake-timeout <ms>', 'time allowed for initialize', '5000')
  .option('--json', 'print the reload result as JSON')
  .action(async (dir, options) => (await import('./plugin-check.js')).checkPluginCommand(dir, options));

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  } else if (error instanceof ApiError) {
    process.stderr.write(`wfctl: ${error.info.message} (${error.info.code})\n`);
    process.exitCode = error.exitCode;
  } else if (error instanceof WfrError) {
    process.stderr.write(`wfctl: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`wfctl: ${(error as Error)?.stack ?? error}\n`);
    process.exitCode = ExitCode.reloadFailed;
  }
}
