/** Human output for reload results and status: what happened, and what to do next. */
import { formatReloadResult, isSuccess, type ReloadResult } from '../orchestrator/reload-result.js';

const nextStep = (result: ReloadResult): string | null => {
  if (isSuccess(result.outcome)) return result.dryRun ? `next: activate it with \`wfctl ${result.kind === 'config' ? 'config' : 'plugin'} try-activate\` (this was a dry run)` : null;
  if (result.outcome === 'recovered') return 'next: nothing to repair; run the reload again';
  if (result.outcome === 'restarted') return null;
  if (result.outcome === 'crashed') return 'next: read the plugin\'s stderr in the log, fix it, and activate the fixed version with `wfctl plugin try-activate`';
  if (result.outcome === 'failed') return 'next: the legacy path lost the plugin; activate a good version with `wfctl plugin try-activate`';
  const code = result.error?.code ?? '';
  if (code.startsWith('WFR_CONFIG') || code.startsWith('WFR_HTTP_PROBE') || code === 'WFR_LISTEN_FAILED') return 'next: fix the config (docs/config.md), then try again; `--dry-run` checks it without swapping';
  return 'next: fix the plugin, check it with `wfctl plugin check DIR` (no host needed), then try again';
};

const stepLines = (result: ReloadResult, indent: string): string[] =>
  result.steps.map((step) => `${indent}${step.error ? '✗' : '✓'} ${step.work.padEnd(15)} ${String(step.ms).padStart(6)} ms${step.error ? `  ${step.error.code}` : ''}`);

/** A config reload's plugins, each with its own outcome and steps, under the config's. */
const pluginLines = (result: ReloadResult): string[] =>
  (result.plugins ?? []).flatMap((plugin) => {
    const version = plugin.candidate ? ` ${plugin.candidate.version}` : '';
    const where = plugin.failedStep ? ` at ${plugin.failedStep}` : '';
    const why = plugin.error && plugin.failedStep !== 'await engine' && plugin.failedStep !== 'engine window' ? `: ${plugin.error.code}` : '';
    return [`  plugin ${plugin.name}${version}: ${plugin.outcome}${where}${why}`, ...stepLines(plugin, '    ')];
  });

export function formatResultHuman(result: ReloadResult): string {
  const mark = isSuccess(result.outcome) ? '✓' : '✗';
  const lines = [`${mark} ${formatReloadResult(result)}`, ...stepLines(result, '  '), ...pluginLines(result)];
  const tail = result.error?.details?.stderrTail;
  if (Array.isArray(tail) && tail.length > 0) lines.push('  last stderr lines of the candidate:', ...tail.slice(-5).map((line) => `    ${String(line)}`));
  lines.push(`  reload id: ${result.id}`);
  if (result.requestId) lines.push(`  request id: ${result.requestId}`);
  const next = nextStep(result);
  if (next) lines.push(`  ${next}`);
  return lines.join('\n');
}
