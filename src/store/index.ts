export { StateStore } from './state-store.js';
export { writeFileAtomic, fsyncDir } from './atomic-write.js';
export { readActiveMarker, writeActiveMarker, emptyActiveMarker, activeMarkerSchema, revertPending } from './active-marker.js';
export type { ActiveEngine, ActiveMarker, ActivePlugin, PendingSwap } from './active-marker.js';
export { appendJournal, readJournal } from './journal.js';
export { stagePlugin, removeStagedPlugin } from './stage-plugin.js';
export type { ReadManifest, StagedPluginDir, StagingManifest } from './stage-plugin.js';
export { acquireStateLock, processStartTicks } from './state-lock.js';
export type { StateLock } from './state-lock.js';
