export { createAdminApi, startAdminServer, MAX_ADMIN_BODY_BYTES } from './server.js';
export type { AdminApi } from './server.js';
export { ensureAdminToken, readAdminToken, TOKEN_FILE } from './auth.js';
export * as apiSchemas from './schemas.js';
