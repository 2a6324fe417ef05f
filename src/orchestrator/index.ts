export { Orchestrator } from './orchestrator.js';
export type { PluginStatus, TryActivateOptions } from './orchestrator.js';
export { normalizeOrchestratorOptions, timeoutsSchema } from './options.js';
export type { OrchestratorOptions, NormalizedOptions, Timeouts } from './options.js';
export { formatReloadResult, isSuccess } from './reload-result.js';
export type { ReloadOutcome, ReloadResult, ReloadStep, VersionInfo } from './reload-result.js';
