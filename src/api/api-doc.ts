/**
 * docs/api.md, generated from the same zod schemas the server validates with
 * (`npm run docs:api`). test/api/api-doc.test.ts fails when the file is stale.
 */
import { z } from 'zod';
import {
  errorBodySchema,
  legacyReloadBodySchema,
  pluginListSchema,
  livezSchema,
  pluginLogsSchema,
  readyzSchema,
  pruneBodySchema,
  pruneResultSchema,
  pluginVersionsSchema,
  rollbackBodySchema,
  pluginStatusSchema,
  reloadListSchema,
  reloadResultSchema,
  statusSchema,
  tryActivateConfigBodySchema,
  tryActivatePluginBodySchema,
} from './schemas.js';

interface RouteDoc {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  body?: z.ZodType;
  ok: { status: string; schema?: z.ZodType; text?: string };
  errors: string;
}

const RESULT_STATUSES = '422 rolled back, rejected or (legacy) failed, with the reload result as body; 400 bad body; 409 a reload of that target (or a config reload) is running: `error.details.inFlightId` names it';

export const ROUTES: RouteDoc[] = [
  { method: 'GET', path: '/api/v1/status', summary: 'The active engine, every plugin, reloads in flight, and the last attempt per target (a failed one shows that the previous version kept running).', ok: { status: '200', schema: statusSchema }, errors: '401' },
  { method: 'GET', path: '/api/v1/plugins', summary: 'The active plugins: version, digest, pid, uptime, restarts, `health` (`serving`, `restarting`, `failed`) and, apart from it, `lastAttempt` (how the last reload of it ended: a rolled-back attempt leaves the running version serving).', ok: { status: '200', schema: pluginListSchema }, errors: '401' },
  { method: 'GET', path: '/api/v1/plugins/:name', summary: 'One active plugin, with its manifest and last attempt.', ok: { status: '200', schema: pluginStatusSchema.extend({ manifest: z.record(z.string(), z.unknown()), lastAttempt: z.unknown() }) }, errors: '401; 404 `WFR_UNKNOWN_PLUGIN`' },
  { method: 'POST', path: '/api/v1/plugins/:name/try-activate', summary: 'Stage, start, handshake, probe and check `dir` against the active engine config beside the running version; swap only if every check passes. `dir` is a path on the host: a relative one resolves against the directory the host was started in (`wfctl` always sends an absolute path), and the result\'s `source` is the absolute path used. Offering the active version\'s bytes again answers 200 with outcome `unchanged` and restarts nothing. `dryRun` stops before the swap. `requestId` makes the request idempotent: asked again while it runs, 409 `WFR_REQUEST_IN_PROGRESS`; after it finished, the recorded result (no new reload).', body: tryActivatePluginBodySchema, ok: { status: '200 activated or dry run passed', schema: reloadResultSchema }, errors: RESULT_STATUSES },
  { method: 'POST', path: '/api/v1/prune', summary: 'Remove staged versions of one plugin (`name`) or of every plugin, beyond the active one, the previous one and the `keep` newest staged others (default: the host\'s `retention.keepVersions`, 5; the host also prunes after each activation). A version a process runs from, or that `active.json` or a pending swap names, is never removed; a plugin with a reload in flight is skipped.', body: pruneBodySchema, ok: { status: '200', schema: pruneResultSchema }, errors: '400 `WFR_INVALID_ARGUMENT`' },
  { method: 'GET', path: '/api/v1/plugins/:name/logs?lines=N', summary: 'The last N (default 100) stderr lines of the plugin\'s processes, every version and candidate, oldest first; the host keeps `logLines` (1000) per plugin. Follow new ones on `/api/v1/events` (event `log`).', ok: { status: '200', schema: pluginLogsSchema }, errors: '400 `WFR_INVALID_ARGUMENT` for a bad name or `lines`' },
  { method: 'GET', path: '/api/v1/plugins/:name/versions', summary: 'The staged versions of a plugin, newest staged first: version, digest (12 hex digits), directory, when staged, and which one is `active` and which `previous` (active before it: what a rollback goes back to).', ok: { status: '200', schema: pluginVersionsSchema }, errors: '400 `WFR_INVALID_ARGUMENT` for a bad name' },
  { method: 'POST', path: '/api/v1/plugins/:name/rollback', summary: 'Try-activate the previous staged version (or `to`: a staged version or digest prefix) through the same safe path as try-activate: same checks, same result, same status codes. `dryRun` and `requestId` as for try-activate.', body: rollbackBodySchema, ok: { status: '200 activated, unchanged or dry run passed', schema: reloadResultSchema }, errors: `${RESULT_STATUSES}; 400 \`WFR_INVALID_ARGUMENT\` when there is no previous version, or no staged version matches \`to\`` },
  { method: 'POST', path: '/api/v1/plugins/:name/reload?legacy=true', summary: 'LEGACY: unload the running version first, then load `dir` (a bad candidate leaves nothing running). Kept only for contrast; without `?legacy=true` it answers 400.', body: legacyReloadBodySchema, ok: { status: '200 activated', schema: reloadResultSchema }, errors: RESULT_STATUSES },
  { method: 'POST', path: '/api/v1/config/try-activate', summary: 'Build and probe a new engine from `file` (a path on the host; relative to the directory the host was started in) or `yaml` (the text) beside the running one; swap only if every check passes. The active config, with every plugin it names running the same bytes, answers 200 with outcome `unchanged`. `requestId` as for plugins.', body: tryActivateConfigBodySchema, ok: { status: '200 activated or dry run passed', schema: reloadResultSchema }, errors: RESULT_STATUSES },
  { method: 'GET', path: '/api/v1/reloads?limit=N&requestId=ID', summary: 'Reload history from the journal (survives restarts), newest first; `limit` 1–10000, default 100; `requestId` keeps only the reloads started with that idempotency key (a client whose connection died finds its reload here).', ok: { status: '200', schema: reloadListSchema }, errors: '400 bad limit; 401' },
  { method: 'GET', path: '/api/v1/reloads/:id', summary: 'One reload result.', ok: { status: '200', schema: reloadResultSchema }, errors: '401; 404 `WFR_UNKNOWN_RELOAD`' },
  {
    method: 'GET',
    path: '/api/v1/events',
    summary: 'Server-Sent Events. `hello` once subscribed; `transition` for every slot state change of a reload (reload id, target, state, the step just finished with its timing); `reload` with each finished result; `inspect` with every XState snapshot change of every actor; `log` with every stderr line of a plugin process (`plugin`, `at`, `pid`, `version`, `line`). A `: keep-alive` comment every 15 s. EventSource clients may pass the token as `?access_token=`.',
    ok: { status: '200', text: 'text/event-stream' },
    errors: '401',
  },
  { method: 'GET', path: '/api/v1/metrics', summary: 'Prometheus text format: `wfreload_reloads_total{kind,outcome}`, `wfreload_last_success_timestamp_seconds{target}`, `wfreload_active_engine_generation`, `wfreload_active_marker_generation`, `wfreload_reloads_in_flight`, `wfreload_plugin_up{plugin,version}`, `wfreload_plugin_unexpected_exits_total{plugin}`, `wfreload_plugin_memory_bytes{plugin,version}`, `wfreload_plugin_cpu_seconds_total{plugin,version}`, `wfreload_plugin_limit_exceeded_total{plugin,limit}`.', ok: { status: '200', text: 'text/plain; version=0.0.4' }, errors: '401' },
  { method: 'GET', path: '/api/v1/machines', summary: 'The slot machines (pluginSlot, engineConfig) as graphs of states and transitions, for the live view.', ok: { status: '200', text: 'JSON' }, errors: '401' },
  { method: 'GET', path: '/livez', summary: 'No token. `{"live": true}` while the host process answers (for liveness probes).', ok: { status: '200', schema: livezSchema }, errors: '' },
  { method: 'GET', path: '/readyz', summary: 'No token. Ready for traffic: an engine serves, no plugin is `failed` or `restarting`, and no swap is inside its confirmation window. 200 `{"ready": true}`, else 503 `{"ready": false, "reason": "no-engine" | "plugin-failed" | "plugin-restarting" | "confirming"}`; nothing else is revealed. `wfctl ready` exits 0 or 1 on it.', ok: { status: '200 ready (503 not ready, same shape)', schema: readyzSchema }, errors: '' },
  { method: 'GET', path: '/inspect', summary: 'The live view page (no data in it; open it as `/inspect?token=TOKEN`, or run `wfctl live`).', ok: { status: '200', text: 'text/html' }, errors: '' },
];

/** Named schemas (`.meta({ id })`) a block refers to as `#/$defs/NAME`: printed once, at the end. */
const sharedDefs = new Map<string, unknown>();

const schemaBlock = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $defs, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as { $defs?: Record<string, unknown> };
  for (const [name, def] of Object.entries($defs ?? {})) sharedDefs.set(name, def);
  return ['```json', JSON.stringify(json, null, 2), '```'].join('\n');
};

export function renderApiDoc(): string {
  sharedDefs.clear();
  const out: string[] = [
    '# Admin API reference',
    '',
    '<!-- Generated from src/api/schemas.ts by `npm run docs:api`; do not edit by hand. -->',
    '',
    '`wfctl serve` serves the admin API on `--admin HOST:PORT` (default `127.0.0.1:7070`, loopback). Every route under `/api/v1` needs `Authorization: Bearer TOKEN`, where TOKEN is the content of `STATE/admin.token` (created on first start, mode 0600). Bodies are JSON, at most 2.0625 MiB (room for a 1 MiB inline YAML once JSON-escaped); an error answer is always `{"error": {"code", "message", "details"?}}` with a code from [errors.md](errors.md).',
    '',
    '| method | path | success | errors |',
    '|---|---|---|---|',
    ...ROUTES.map((r) => `| ${r.method} | \`${r.path}\` | ${r.ok.status} | ${r.errors} |`),
    '',
    'All routes also answer 401 `WFR_UNAUTHORIZED` without a valid token (except `/inspect`, `/livez` and `/readyz`), and 404 `WFR_NOT_FOUND` for an unknown route.',
    '',
    'The three routes that start a reload from a body (plugin try-activate, rollback, config try-activate) are answered straight from Node\'s HTTP server when the request is plain: `Authorization: Bearer` with the right token, a `content-length` within the limit, no query string, a name of letters, digits, `.`, `_` and `-`. That saves the reload about a millisecond and a half ([benchmarks.md](benchmarks.md)). Any other request to them goes through the same handlers by the general path, so the answers are the same either way, byte for byte in the body.',
    '',
    '## With curl',
    '',
    'Against the quick-start host (`npm start`: admin API on `127.0.0.1:7070`, token in `.wfreload/admin.token`). Every answer is JSON; a reload answers 200 when it activated, passed its dry run or was `unchanged`, and 422 with the same result body when it rolled back or was rejected.',
    '',
    '```sh',
    'TOKEN=$(cat .wfreload/admin.token); API=http://127.0.0.1:7070/api/v1; AUTH="Authorization: Bearer $TOKEN"',
    'curl -s -H "$AUTH" $API/status                                  # engine, plugins (health), reloads in flight, last attempts',
    'curl -s -H "$AUTH" $API/plugins                                 # each plugin with its health and last attempt',
    'curl -s -H "$AUTH" -H "content-type: application/json" \\',
    '     -d "{\\"dir\\": \\"$PWD/examples/plugins/greeter-v2\\", \\"dryRun\\": true}" $API/plugins/greeter/try-activate',
    'curl -s -H "$AUTH" -H "content-type: application/json" \\',
    '     -d "{\\"dir\\": \\"$PWD/examples/plugins/greeter-v2\\", \\"requestId\\": \\"campaign-7.host-1\\"}" $API/plugins/greeter/try-activate',
    'curl -s -H "$AUTH" "$API/reloads?requestId=campaign-7.host-1"   # find it again after a lost connection',
    'curl -s -H "$AUTH" -H "content-type: application/json" -d "{}" $API/plugins/greeter/rollback',
    'curl -s -H "$AUTH" -H "content-type: application/json" -d "{\\"file\\": \\"$PWD/examples/config/hello-v2.yaml\\"}" $API/config/try-activate',
    'curl -s -H "$AUTH" "$API/plugins/greeter/logs?lines=20"',
    'curl -sN -H "$AUTH" $API/events                                 # Server-Sent Events: transition, reload, log, inspect',
    '```',
    '',
  ];
  for (const route of ROUTES) {
    out.push(`## ${route.method} ${route.path}`, '', route.summary, '');
    if (route.body) out.push('Request body (JSON Schema):', '', schemaBlock(route.body, 'input'), '');
    out.push(`Answer ${route.ok.status}: ${route.ok.schema ? 'JSON, with this schema:' : route.ok.text}`, '');
    if (route.ok.schema) out.push(schemaBlock(route.ok.schema, 'output'), '');
    if (route.errors) out.push(`Errors: ${route.errors}.`, '');
  }
  out.push('## Error body', '', schemaBlock(errorBodySchema, 'output'), '');
  if (sharedDefs.size > 0) {
    out.push('## Shared schemas', '', 'A `"$ref": "#/$defs/NAME"` above stands for the schema NAME here.', '');
    for (const [name, def] of sharedDefs) out.push(`### ${name}`, '', ['```json', JSON.stringify(def, null, 2), '```'].join('\n'), '');
  }
  return out.join('\n');
}
