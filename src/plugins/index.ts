export { PluginProcess } from './plugin-process.js';
export type { ExitInfo, LaunchOptions, ProcessLimits } from './plugin-process.js';
export { readManifest, parseManifest, manifestSchema, pluginNameSchema, MANIFEST_FILE } from './manifest.js';
export type { Manifest, Contract } from './manifest.js';
export { validateInitializeReply, initializeReplySchema } from './contract.js';
export type { InitializeReply } from './contract.js';
export { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, PROTOCOL_VERSION } from './cookie.js';
export { RpcConnection } from './rpc/connection.js';
export { createLineSplitter } from './rpc/line-splitter.js';
