export { Orchestrator } from './orchestrator.js';
export type { InlineConfig, PluginStatus, TryActivateOptions } from './orchestrator.js';
export { normalizeOrchestratorOptions, timeoutsSchema } from './options.js';
export type { OrchestratorOptions, NormalizedOptions, Timeouts } from './options.js';
export { formatReloadResult, isSuccess } from './reload-result.js';
export type { ConfigReloadResult, EngineInfo, PluginReloadResult, ReloadOutcome, ReloadResult, ReloadStep, TargetInfo, VersionInfo } from './reload-result.js';
export { HostEvents } from './host-events.js';
export type { HostEvent, HostEventListener } from './host-events.js';
