/** GET /api/v1/metrics: Prometheus text exposition format 0.0.4. */
import type { Orchestrator } from '../orchestrator/index.js';
import type { ReloadSummary } from './reload-summary.js';

const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderMetrics(host: Orchestrator, summary: ReloadSummary): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: Array<[Record<string, string>, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
      lines.push(`${name}${text ? `{${text}}` : ''} ${value}`);
    }
  };
  metric(
    'wfreload_reloads_total',
    'counter',
    'Finished reloads by target kind and outcome.',
    [...summary.counts].map(([key, count]) => {
      const [kind, outcome] = key.split(' ') as [string, string];
      return [{ kind, outcome }, count];
    }),
  );
  metric('wfreload_last_success_timestamp_seconds', 'gauge', 'Time of the last activated reload per target.', [...summary.lastSuccess].map(([target, at]) => [{ target }, at]));
  metric('wfreload_active_engine_generation', 'gauge', 'Generation of the active engine (0 when none).', [[{}, host.engineStatus()?.generation ?? 0]]);
  metric('wfreload_active_marker_generation', 'gauge', 'Generation of active.json (bumped at every swap).', [[{}, host.activeMarker().generation]]);
  metric('wfreload_reloads_in_flight', 'gauge', 'Reloads running now.', [[{}, Object.keys(host.reloadsInFlight()).length]]);
  metric('wfreload_plugin_up', 'gauge', 'Whether the active process of each plugin is alive.', host.listPlugins().map((p) => [{ plugin: p.name, version: p.version }, p.alive ? 1 : 0]));
  metric('wfreload_plugin_unexpected_exits_total', 'counter', 'Times an active plugin process exited without being stopped.', Object.entries(host.pluginUnexpectedExits()).map(([plugin, n]) => [{ plugin }, n]));
  const running = host.listPlugins().filter((p) => p.usage);
  metric('wfreload_plugin_memory_bytes', 'gauge', 'Resident memory of the active process of each plugin.', running.map((p) => [{ plugin: p.name, version: p.version }, p.usage!.memoryBytes]));
  metric('wfreload_plugin_cpu_seconds_total', 'counter', 'CPU time of the active process of each plugin (user and system), since it started.', running.map((p) => [{ plugin: p.name, version: p.version }, p.usage!.cpuSeconds]));
  metric('wfreload_plugin_limit_exceeded_total', 'counter', 'Times the kernel stopped a plugin process at a resource limit (candidates included).', host.pluginLimitsExceeded().map(([plugin, limit, n]) => [{ plugin, limit }, n]));
  return `${lines.join('\n')}\n`;
}
