/**
 * wfreload's library API. Embed the orchestrator in a host program:
 *
 *   const host = await createOrchestrator({ stateDir: './state' });
 *   const result = await host.tryActivatePlugin('greeter', './plugins/greeter');
 *
 * See docs/embedding.md.
 */
import { Orchestrator, type OrchestratorOptions } from './orchestrator/index.js';

export * from './orchestrator/index.js';
export * from './errors.js';
export { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, PROTOCOL_VERSION, manifestSchema } from './plugins/index.js';
export type { Manifest } from './plugins/index.js';
export type { ActiveMarker } from './store/index.js';

/** Open (or create) a state directory and start the plugins it marks active. */
export const createOrchestrator = (options: OrchestratorOptions): Promise<Orchestrator> => Orchestrator.open(options);
