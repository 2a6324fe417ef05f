/**
 * wfctl: the operator's command line. Exit codes (docs/cli.md):
 * 0 activated or dry run passed; 1 rolled back or rejected; 2 bad usage or
 * bad input; 3 host unreachable or unauthorized.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, WfrError } from '../errors.js';
import { checkPluginCommand } from './plugin-check.js';
import { serveCommand } from './serve.js';

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

program
  .command('serve')
  .description('run the host: front door, plugins, SIGHUP config reload; Ctrl-C drains and stops cleanly')
  .option('--config <file>', 'engine config (YAML) to activate at start unless it is already active')
  .option('--state-dir <dir>', 'state directory (active marker, journal, staged versions)', '.wfreload')
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
  .action(serveCommand);

const plugin = program.command('plugin').description('work with plugins');
plugin
  .command('check')
  .description('stage, start, handshake and probe a plugin directory in a throwaway state directory, then stop it (what try-activate checks, without a host)')
  .argument('<dir>', 'the plugin directory (holds plugin.json)')
  .option('--name <name>', 'slot name to check against (default: the manifest name)')
  .option('--handshake-timeout <ms>', 'time allowed for initialize', '5000')
  .option('--json', 'print the reload result as JSON')
  .action(checkPluginCommand);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  } else if (error instanceof WfrError) {
    process.stderr.write(`wfctl: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`wfctl: ${(error as Error)?.stack ?? error}\n`);
    process.exitCode = ExitCode.reloadFailed;
  }
}
