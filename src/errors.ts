/**
 * Every failure a user can see is a class here, with a stable `code`.
 * Codes are never reused; docs/errors.md has one row per code and
 * test/errors.test.ts keeps the two in sync in both directions.
 */

/** Exit codes shared by wfctl and the docs. */
export const ExitCode = {
  ok: 0,
  reloadFailed: 1,
  badInput: 2,
  unreachable: 3,
} as const;

/** The serialisable form of an error, as it appears in reload results and API bodies. */
export interface ErrorInfo {
  code: string;
  message: string;
  /** Facts that explain the error (field, expected, actual, last stderr lines…). */
  details?: Record<string, unknown>;
}

export abstract class WfrError extends Error {
  abstract readonly code: string;
  /** HTTP status the admin API answers with when this error is thrown at it. */
  readonly httpStatus: number = 422;
  /** wfctl exit code when this error ends a command. */
  readonly exitCode: number = ExitCode.reloadFailed;
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }

  toJSON(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message };
    if (Object.keys(this.details).length > 0) info.details = this.details;
    return info;
  }
}

const show = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

// ---------------------------------------------------------------- bad input

export class InvalidArgumentError extends WfrError {
  readonly code = 'WFR_INVALID_ARGUMENT';
  override readonly httpStatus = 400;
  override readonly exitCode = ExitCode.badInput;
  constructor(argument: string, problem: string, received?: unknown) {
    super(`Invalid ${argument}: ${problem}${received === undefined ? '' : `, got ${show(received)}`}.`, {
      argument,
      received,
    });
  }
}

export class UnknownPluginError extends WfrError {
  readonly code = 'WFR_UNKNOWN_PLUGIN';
  override readonly httpStatus = 404;
  override readonly exitCode = ExitCode.badInput;
  constructor(plugin: string, known: string[]) {
    super(
      `No active plugin named "${plugin}"; active plugins: ${known.length ? known.join(', ') : 'none'}. Activate it first with tryActivatePlugin / \`wfctl plugin try-activate\`.`,
      { plugin, known },
    );
  }
}

export class UnknownStepError extends WfrError {
  readonly code = 'WFR_UNKNOWN_STEP';
  override readonly httpStatus = 404;
  override readonly exitCode = ExitCode.badInput;
  constructor(plugin: string, step: string, known: string[]) {
    super(`Plugin "${plugin}" has no step "${step}"; its contract declares: ${known.join(', ') || 'none'}.`, {
      plugin,
      step,
      known,
    });
  }
}

export class ReloadInProgressError extends WfrError {
  readonly code = 'WFR_RELOAD_IN_PROGRESS';
  override readonly httpStatus = 409;
  constructor(
    readonly target: string,
    readonly inFlightId: string,
  ) {
    super(`A reload of ${target} is already running (id ${inFlightId}); wait for it to finish, then try again.`, {
      target,
      inFlightId,
    });
  }
}

export class RequestInProgressError extends WfrError {
  readonly code = 'WFR_REQUEST_IN_PROGRESS';
  override readonly httpStatus = 409;
  constructor(requestId: string, target: string, reloadId: string | null) {
    super(
      `The request "${requestId}" is already running (${target}${reloadId ? `, reload id ${reloadId}` : ''}); wait for its result, or find it later with GET /api/v1/reloads?requestId=${requestId} or \`wfctl reloads --request-id ${requestId}\`.`,
      { requestId, target, reloadId },
    );
  }
}

// ---------------------------------------------------------------- staging

export class PluginDirUnreadableError extends WfrError {
  readonly code = 'WFR_PLUGIN_DIR_UNREADABLE';
  constructor(dir: string, cause: unknown) {
    super(`Cannot read plugin directory ${dir}: ${(cause as Error)?.message ?? cause}. Check the path and its permissions.`, { dir }, { cause });
  }
}

export class ManifestInvalidError extends WfrError {
  readonly code = 'WFR_MANIFEST_INVALID';
  constructor(file: string, problems: string) {
    super(`Invalid plugin manifest ${file}:\n${problems}\nFix plugin.json; see docs/protocol.md#manifest.`, { file, problems });
  }
}

export class ManifestNameMismatchError extends WfrError {
  readonly code = 'WFR_MANIFEST_NAME_MISMATCH';
  constructor(slot: string, manifestName: string) {
    super(
      `The manifest names plugin "${manifestName}" but it was offered for slot "${slot}"; pass the matching name or fix plugin.json's "name".`,
      { field: 'name', expected: slot, actual: manifestName },
    );
  }
}

export class PathEscapeError extends WfrError {
  readonly code = 'WFR_PATH_ESCAPE';
  constructor(path: string, reason: string) {
    super(`Refusing ${path}: ${reason}. A plugin may only reference files inside its own directory.`, { path, reason });
  }
}

export class ChecksumMismatchError extends WfrError {
  readonly code = 'WFR_CHECKSUM_MISMATCH';
  constructor(file: string, expected: string, actual: string) {
    super(
      `Checksum mismatch for ${file}: plugin.json declares sha256 ${expected}, the file has ${actual}. The file changed after the manifest was written; rebuild the plugin or update "sha256".`,
      { file, expected, actual },
    );
  }
}

// ---------------------------------------------------------------- process and protocol

export class PluginCommandNotFoundError extends WfrError {
  readonly code = 'WFR_PLUGIN_COMMAND_NOT_FOUND';
  constructor(plugin: string, command: string, cause?: unknown) {
    super(`Plugin "${plugin}": cannot run ${command} (not found or not executable). Check "command" in plugin.json.`, { plugin, command }, { cause });
  }
}

export class PluginExitedError extends WfrError {
  readonly code = 'WFR_PLUGIN_EXITED';
  constructor(plugin: string, pid: number | undefined, during: string, exit: string, stderrTail: string[]) {
    super(
      `Plugin "${plugin}" (pid ${pid ?? '?'}) exited ${exit} during ${during}.${stderrTail.length ? ` Last stderr: ${stderrTail.slice(-3).join(' | ')}` : ' It wrote nothing to stderr.'}`,
      { plugin, pid, during, exit, stderrTail },
    );
  }
}

export class PluginProtocolError extends WfrError {
  readonly code = 'WFR_PLUGIN_PROTOCOL_ERROR';
  constructor(plugin: string, problem: string, line?: string) {
    super(
      `Plugin "${plugin}" broke the wire protocol: ${problem}${line === undefined ? '' : ` (stdout line: ${show(line)})`}. Plugins must write only JSON-RPC lines to stdout and log to stderr; see docs/protocol.md.`,
      { plugin, problem, line },
    );
  }
}

const STDIO_HANDSHAKE_HINT =
  'did not answer initialize within {ms} ms; check that it reads stdin and writes one JSON line per reply, and flushes each line (Python buffers stdout when it is a pipe: print(..., flush=True), or run it with python3 -u)';

export class HandshakeTimeoutError extends WfrError {
  readonly code = 'WFR_PLUGIN_HANDSHAKE_TIMEOUT';
  /** `what` says what did not happen in time, with `{ms}` for the bound (by default: the stdio protocols' initialize). */
  constructor(plugin: string, ms: number, stderrTail: string[], what = STDIO_HANDSHAKE_HINT) {
    super(
      `Plugin "${plugin}" ${what.replace('{ms}', String(ms))}. Its stderr is in the reload record.`,
      { plugin, timeoutMs: ms, stderrTail },
    );
  }
}

export class PluginCallTimeoutError extends WfrError {
  readonly code = 'WFR_PLUGIN_CALL_TIMEOUT';
  override readonly httpStatus = 504;
  constructor(plugin: string, method: string, ms: number) {
    super(`Plugin "${plugin}" did not answer ${method} within ${ms} ms.`, { plugin, method, timeoutMs: ms });
  }
}

export class ContractMismatchError extends WfrError {
  readonly code = 'WFR_PLUGIN_CONTRACT_MISMATCH';
  constructor(plugin: string, field: string, expected: unknown, actual: unknown, message?: string) {
    super(
      message ??
        `Plugin "${plugin}" answered initialize with ${field} = ${show(actual)}, but plugin.json declares ${show(expected)}. The binary and its manifest disagree; rebuild one to match the other.`,
      { plugin, field, expected, actual },
    );
  }
}

/** An MCP server's tools/list lacks a step the manifest's contract declares (a ContractMismatchError, same code). */
export function mcpToolMissing(plugin: string, tool: string, listed: string[]): ContractMismatchError {
  return new ContractMismatchError(
    plugin,
    'tools',
    tool,
    listed,
    `MCP server "${plugin}" lists no tool "${tool}" (its tools: ${listed.join(', ') || 'none'}), but plugin.json's contract.steps declares it. Declare only tools this server version has, or stage the server version that has it.`,
  );
}

/** A go-plugin plugin's service lacks a method its manifest maps a step to (a ContractMismatchError, same code). */
export function goPluginMethodMissing(plugin: string, service: string, method: string, served: string[] | null): ContractMismatchError {
  const found = served === null ? `answers UNIMPLEMENTED for ${service}/${method}` : `serves no method ${service}/${method} (its methods: ${served.join(', ') || 'none'}, by gRPC reflection)`;
  return new ContractMismatchError(
    plugin,
    'goPlugin.steps',
    method,
    served,
    `go-plugin plugin "${plugin}" ${found}, but plugin.json's goPlugin.steps maps a step to it. Map steps only to methods this binary serves, or stage the binary that has it.`,
  );
}

export class GoPluginHandshakeError extends WfrError {
  readonly code = 'WFR_GO_PLUGIN_HANDSHAKE_INVALID';
  constructor(plugin: string, problem: string, line?: string) {
    super(
      `Plugin "${plugin}" sent no valid go-plugin handshake: ${problem}${line === undefined ? '' : ` (stdout line: ${show(line)})`}. A go-plugin plugin's first stdout line must be CORE|APP|NETWORK|ADDR|grpc, as plugin.Serve writes it; see docs/plugins.md#go-plugin-plugins.`,
      { plugin, problem, line },
    );
  }
}

export class GoPluginProtoError extends WfrError {
  readonly code = 'WFR_GO_PLUGIN_PROTO_INVALID';
  constructor(plugin: string, problem: string) {
    super(`Plugin "${plugin}": ${problem}. Fix goPlugin.protoFiles, goPlugin.service or goPlugin.steps in plugin.json to match the .proto files shipped with the plugin.`, { plugin, problem });
  }
}

export class PluginGrpcError extends WfrError {
  readonly code = 'WFR_PLUGIN_GRPC_ERROR';
  override readonly httpStatus = 502;
  constructor(plugin: string, method: string, grpcCode: number, grpcStatus: string, grpcMessage: string) {
    super(`Plugin "${plugin}" answered ${method} with gRPC status ${grpcStatus} (${grpcCode}): ${grpcMessage}`, { plugin, method, grpcCode, grpcStatus, grpcMessage });
  }
}

export class PluginRequiresMoreError extends WfrError {
  readonly code = 'WFR_PLUGIN_REQUIRES_MORE';
  constructor(plugin: string, version: string, limit: string, required: number, allowed: number) {
    super(
      `Plugin "${plugin}" ${version} requires ${limit} ${required} (plugin.json "requires"), but the engine config allows it ${allowed} (plugins.${plugin}.limits.${limit}). Raise the limit in the config, or stage a version that needs less.`,
      { plugin, version, limit, required, allowed },
    );
  }
}

export class PluginLimitExceededError extends WfrError {
  readonly code = 'WFR_PLUGIN_LIMIT_EXCEEDED';
  /** `how`: what the kernel did at the limit (it stops a process at memoryMiB; it refuses a file past openFiles). */
  constructor(plugin: string, pid: number, limit: string, allowed: string, peak: string, during: string, how = `the kernel stopped it at a peak of ${peak}`) {
    super(
      `Plugin "${plugin}" (pid ${pid}) exceeded its limit ${limit} (${allowed}) during ${during}: ${how}. Raise plugins.${plugin}.limits.${limit} in the engine config, or fix what the plugin uses.`,
      { plugin, pid, limit, allowed, peak, during },
    );
  }
}

export class PluginUnhealthyError extends WfrError {
  readonly code = 'WFR_PLUGIN_UNHEALTHY';
  constructor(plugin: string, reply: unknown, expected: { check: string; answer: unknown } = { check: 'health', answer: { status: 'ok' } }) {
    super(`Plugin "${plugin}" answered ${expected.check} with ${show(reply)}, expected ${show(expected.answer)}.`, { plugin, reply });
  }
}

export class ProbeFailedError extends WfrError {
  readonly code = 'WFR_PLUGIN_PROBE_FAILED';
  constructor(plugin: string, step: string, expected: unknown, actual: unknown) {
    super(
      `Plugin "${plugin}" probe of step "${step}" returned ${show(actual)}, expected output containing ${show(expected)}.`,
      { plugin, step, expected, actual },
    );
  }
}

/** One place the active engine config calls a plugin step: the route and the step's position in its pipeline. */
export interface RoutedStep {
  route: string;
  step: string;
  /** Path in the config file, e.g. pipelines[1].steps[0].use. */
  at: string;
}

export class BreaksRoutesError extends WfrError {
  readonly code = 'WFR_PLUGIN_BREAKS_ROUTES';
  constructor(plugin: string, version: string, missing: RoutedStep[], offered: string[]) {
    const routes = [...new Set(missing.map((m) => m.route))];
    super(
      `Plugin "${plugin}" ${version} does not offer ${[...new Set(missing.map((m) => `"${m.step}"`))].join(', ')}, which the active engine config routes to it ` +
        `(${missing.map((m) => `${m.route} → ${plugin}.${m.step} at ${m.at}`).join('; ')}); its contract offers: ${offered.join(', ') || 'nothing'}. ` +
        `Swapping it in would break ${routes.length === 1 ? 'that route' : `those ${routes.length} routes`}. Keep the step in the new version, or first activate a config that no longer uses it.`,
      { plugin, version, missing, offered },
    );
  }
}

export class FailsConfigProbeError extends WfrError {
  readonly code = 'WFR_PLUGIN_FAILS_CONFIG_PROBE';
  constructor(plugin: string, version: string, generation: number, probe: ErrorInfo) {
    const d = probe.details ?? {};
    const what = 'actual' in d ? `probe ${String(d.request)} answered ${show(d.actual)}, expected ${show(d.expected)}` : probe.message;
    super(
      `Plugin "${plugin}" ${version} fails a probe of the active engine config (generation ${generation}) with its steps going to the candidate: ${what}. ` +
        `Fix the plugin so the routes that use it keep answering as the config's probes expect, or first activate a config whose probes accept the new answers.`,
      { plugin, version, generation, probe },
    );
  }
}

export class PluginFailedError extends WfrError {
  readonly code = 'WFR_PLUGIN_FAILED';
  override readonly httpStatus = 503;
  constructor(plugin: string, version: string, crashes: number) {
    super(`Plugin "${plugin}" ${version} kept crashing (${crashes} times) and is marked failed; its steps are not served. Activate a fixed version with \`wfctl plugin try-activate\`.`, { plugin, version, crashes });
  }
}

export class PluginRpcError extends WfrError {
  readonly code = 'WFR_PLUGIN_RPC_ERROR';
  override readonly httpStatus = 502;
  constructor(plugin: string, method: string, rpcError: { code: number; message: string; data?: unknown }) {
    super(`Plugin "${plugin}" answered ${method} with error ${rpcError.code}: ${rpcError.message}`, { plugin, method, rpcError });
  }
}

export class PluginStepFailedError extends WfrError {
  readonly code = 'WFR_PLUGIN_STEP_FAILED';
  override readonly httpStatus = 502;
  constructor(plugin: string, step: string, reason: string) {
    super(`Plugin "${plugin}" failed step "${step}": ${reason}`, { plugin, step, reason });
  }
}

// ---------------------------------------------------------------- engine config

export class ConfigUnreadableError extends WfrError {
  readonly code = 'WFR_CONFIG_UNREADABLE';
  constructor(file: string, cause: unknown) {
    super(`Cannot read config file ${file}: ${(cause as Error)?.message ?? cause}. Check the path and its permissions.`, { file }, { cause });
  }
}

export class ConfigInvalidError extends WfrError {
  readonly code = 'WFR_CONFIG_INVALID';
  constructor(file: string, problems: string[]) {
    super(`Invalid engine config ${file}:\n${problems.join('\n')}\nFix the file; docs/config.md is the reference.`, { file, problems });
  }
}

export class ConfigBuildError extends WfrError {
  readonly code = 'WFR_CONFIG_BUILD_FAILED';
  constructor(where: string, problem: string) {
    super(`Cannot build the engine: ${where}: ${problem}.`, { where, problem });
  }
}

export class ListenError extends WfrError {
  readonly code = 'WFR_LISTEN_FAILED';
  constructor(address: string, cause: unknown, setting = 'http.listen') {
    const reason = (cause as NodeJS.ErrnoException)?.code === 'EADDRINUSE' ? 'the address is already in use' : ((cause as Error)?.message ?? String(cause));
    super(`Cannot listen on ${address}: ${reason}. Pick a free address for ${setting}, or stop what holds it.`, { address, setting, errno: (cause as NodeJS.ErrnoException)?.code }, { cause });
  }
}

export class HttpProbeFailedError extends WfrError {
  readonly code = 'WFR_HTTP_PROBE_FAILED';
  constructor(request: string, expected: unknown, actual: unknown) {
    super(`Probe ${request} answered ${show(actual)}, expected ${show(expected)}. The candidate config does not serve what its probes require.`, { request, expected, actual });
  }
}

export class HttpProbeTimeoutError extends WfrError {
  readonly code = 'WFR_HTTP_PROBE_TIMEOUT';
  constructor(request: string, ms: number) {
    super(`Probe ${request} got no answer within ${ms} ms; a step of its pipeline hangs or is slower than the probe timeout.`, { request, timeoutMs: ms });
  }
}

/** A pipeline's `fail` built-in, or a failure a pipeline step raised while serving a request. */
export class PipelineStepError extends WfrError {
  readonly code = 'WFR_PIPELINE_STEP_FAILED';
  override readonly httpStatus: number;
  constructor(step: string, index: number, message: string, status = 500, cause?: unknown) {
    super(`Step ${index} (${step}) failed: ${message}`, { step, index }, { cause });
    this.httpStatus = status;
  }
}

export class NoEngineError extends WfrError {
  readonly code = 'WFR_NO_ENGINE';
  override readonly httpStatus = 503;
  constructor() {
    super('No engine config is active yet; activate one with tryActivateConfig / `wfctl config try-activate`.');
  }
}

export class RouteNotFoundError extends WfrError {
  readonly code = 'WFR_ROUTE_NOT_FOUND';
  override readonly httpStatus = 404;
  constructor(method: string, path: string) {
    super(`No pipeline serves ${method} ${path}.`, { method, path });
  }
}

export class RequestBodyInvalidError extends WfrError {
  readonly code = 'WFR_REQUEST_BODY_INVALID';
  override readonly httpStatus = 400;
  constructor(problem: string) {
    super(`The request body could not be read: ${problem}. Send JSON with content-type application/json.`, { problem });
  }
}

// ---------------------------------------------------------------- admin API and CLI

export class UnauthorizedError extends WfrError {
  readonly code = 'WFR_UNAUTHORIZED';
  override readonly httpStatus = 401;
  override readonly exitCode = ExitCode.unreachable;
  constructor(reason: string) {
    super(`Unauthorized: ${reason}. Send "Authorization: Bearer <token>" with the token from STATE/admin.token (wfctl finds it with --state-dir, or takes --token / WFRELOAD_TOKEN).`, { reason });
  }
}

export class UnknownReloadError extends WfrError {
  readonly code = 'WFR_UNKNOWN_RELOAD';
  override readonly httpStatus = 404;
  override readonly exitCode = ExitCode.badInput;
  constructor(id: string) {
    super(`No reload with id "${id}" in the history; list them with \`wfctl reloads\`.`, { id });
  }
}

export class NotFoundError extends WfrError {
  readonly code = 'WFR_NOT_FOUND';
  override readonly httpStatus = 404;
  override readonly exitCode = ExitCode.badInput;
  constructor(method: string, path: string) {
    super(`The admin API has no ${method} ${path}; see docs/api.md for its routes.`, { method, path });
  }
}

export class HostUnreachableError extends WfrError {
  readonly code = 'WFR_HOST_UNREACHABLE';
  override readonly httpStatus = 502;
  override readonly exitCode = ExitCode.unreachable;
  constructor(address: string, cause: unknown) {
    super(`Cannot reach the wfreload admin API at ${address}: ${(cause as Error)?.message ?? cause}. Is \`wfctl serve\` running? Pass --admin HOST:PORT or set WFRELOAD_ADMIN if it listens elsewhere.`, { address }, { cause });
  }
}

// ---------------------------------------------------------------- state directory

export class StateWriteError extends WfrError {
  readonly code = 'WFR_STATE_WRITE_FAILED';
  override readonly httpStatus = 500;
  constructor(path: string, cause: unknown) {
    super(`Could not write ${path}: ${(cause as Error)?.message ?? cause}. Check free space and permissions of the state directory.`, { path }, { cause });
  }
}

export class StateCorruptError extends WfrError {
  readonly code = 'WFR_STATE_CORRUPT';
  override readonly httpStatus = 500;
  constructor(path: string, problem: string) {
    super(`The state file ${path} is not valid: ${problem}. Restore it from a backup or remove the state directory to start empty.`, { path, problem });
  }
}

export class RecoveredUnconfirmedError extends WfrError {
  readonly code = 'WFR_RECOVERED_UNCONFIRMED';
  constructor(target: string, reloadId: string) {
    super(`The host stopped after swapping ${target} (reload ${reloadId}) but before confirming it; the restart put the previous version back. Try the reload again.`, { target, reloadId });
  }
}

export class ConfirmFailedError extends WfrError {
  readonly code = 'WFR_CONFIRM_FAILED';
  /** `cause`: the code of what failed it (e.g. WFR_PLUGIN_LIMIT_EXCEEDED), when it had one. */
  constructor(target: string, reason: string, cause?: string) {
    super(`${target}: the new version failed inside its confirmation window (${reason}); the previous version was swapped back in.`, { target, reason, ...(cause ? { cause } : {}) });
  }
}

export class StateLockedError extends WfrError {
  readonly code = 'WFR_STATE_LOCKED';
  override readonly httpStatus = 409;
  override readonly exitCode = ExitCode.badInput;
  constructor(stateDir: string, owner: { pid: number; startedAt?: string; hostname?: string }, why?: string) {
    const holder = owner.pid > 0 ? `another wfreload host (pid ${owner.pid}${owner.hostname ? ` on ${owner.hostname}` : ''}${owner.startedAt ? `, started ${owner.startedAt}` : ''})` : `another wfreload host (${why ?? 'its lock file names no owner'})`;
    super(`The state directory ${stateDir} is in use by ${holder}. Stop that host, or use another --state-dir; one directory has one writer.`, { stateDir, owner });
  }
}

export class RestartSupersededError extends WfrError {
  readonly code = 'WFR_RESTART_SUPERSEDED';
  constructor(plugin: string, expected: string, actual: string) {
    super(
      `The restart of plugin "${plugin}" was not put live: it was to replace ${expected}, but ${actual} is active now (a reload replaced it meanwhile). The restarted process was stopped; nothing else changed.`,
      { plugin, expected, actual },
    );
  }
}

export class ReloadInterruptedError extends WfrError {
  readonly code = 'WFR_RELOAD_INTERRUPTED';
  constructor(target: string, reloadId: string, state: string, cleaned: string[]) {
    super(
      `The host stopped while reload ${reloadId} of ${target} was in "${state}". On restart it ${cleaned.length ? `released what the reload had started: ${cleaned.join('; ')}` : 'found nothing of it left to release'}. ` +
        `What is active is what active.json names (a swap that was not confirmed was put back); run the reload again.`,
      { target, reloadId, state, cleaned },
    );
  }
}

// ---------------------------------------------------------------- bounded work

export class WorkTimeoutError extends WfrError {
  readonly code = 'WFR_WORK_TIMEOUT';
  constructor(work: string, ms: number) {
    super(
      `The "${work}" step did not finish within ${ms} ms (its own timeouts plus timeouts.workMs), so the reload moved on without it. ` +
        `Something below it hangs: a disk, a process that will not die, a plugin that ignores its timeouts. Check the host's log; raise timeouts.workMs only if the machine is just slow.`,
      { work, timeoutMs: ms },
    );
  }
}

export class CleanupFailedError extends WfrError {
  readonly code = 'WFR_CLEANUP_FAILED';
  constructor(work: string, left: string[], cause: unknown) {
    super(
      `Cleaning up at "${work}" failed: ${(cause as Error)?.message ?? String(cause)}. ` +
        `${left.length ? `Left behind: ${left.join('; ')}. ` : ''}The reload's outcome stands; a restart of the host removes staging leftovers, and a process left behind exits when the host does.`,
      { work, left },
      { cause },
    );
  }
}

/** Wraps anything that is not a WfrError so results always carry a code. */
export class InternalError extends WfrError {
  readonly code = 'WFR_INTERNAL';
  override readonly httpStatus = 500;
  constructor(cause: unknown) {
    super(`Unexpected failure: ${(cause as Error)?.message ?? String(cause)}. This is a wfreload bug; please report it with the reload record.`, {}, { cause });
  }
}

export const toWfrError = (error: unknown): WfrError => (error instanceof WfrError ? error : new InternalError(error));

export const toErrorInfo = (error: unknown): ErrorInfo => toWfrError(error).toJSON();
