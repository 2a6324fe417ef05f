/**
 * Run one pipeline for one request: plugin steps over the protocol, and the
 * built-ins set, respond and fail.
 */
import { PipelineStepError, toWfrError } from '../errors.js';
import type { PipelineConfig } from './config-schema.js';
import { render } from './template.js';

export interface RequestScope {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string>;
  /** Outputs of earlier steps, by `as` name or index. */
  steps: Record<string, unknown>;
  /** Values set by the `set` built-in. */
  vars: Record<string, unknown>;
}

export interface PipelineReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Calls `plugin.step`; rejects with a WfrError on any failure. */
export type InvokePlugin = (plugin: string, step: string, input: unknown, timeoutMs: number | undefined) => Promise<unknown>;

/** A `status` from a step's input, checked: a config typo must not become a wfreload bug report. */
function httpStatus(value: unknown, index: number, step: string): number {
  const status = Number(value);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new PipelineStepError(step, index, `"status" must be an HTTP status from 100 to 599, got ${JSON.stringify(value)}`, 500);
  }
  return status;
}

export async function runPipeline(pipeline: PipelineConfig, scope: RequestScope, invoke: InvokePlugin): Promise<PipelineReply> {
  let last: unknown = null;
  for (const [index, step] of pipeline.steps.entries()) {
    const input = (render(step.with ?? {}, scope) ?? {}) as Record<string, unknown>;
    const name = step.as ?? String(index);
    switch (step.use) {
      case 'set':
        Object.assign(scope.vars, input);
        last = scope.vars;
        break;
      case 'respond': {
        const status = httpStatus(input.status ?? 200, index, 'respond');
        const headers = (input.headers ?? {}) as Record<string, string>;
        return { status, headers, body: 'body' in input ? input.body : last };
      }
      case 'fail':
        throw new PipelineStepError('fail', index, String(input.message ?? 'the pipeline failed on purpose'), httpStatus(input.status ?? 500, index, 'fail'));
      default: {
        const [plugin, stepType] = step.use.split('.') as [string, string];
        try {
          // The request fields first (REQUEST_FIELDS in src/plugins/client.ts), the step's own keys over them.
          last = await invoke(plugin, stepType, { params: scope.params, query: scope.query, body: scope.body, headers: scope.headers, ...input }, step.timeoutMs);
        } catch (error) {
          const cause = toWfrError(error);
          throw new PipelineStepError(step.use, index, cause.message, cause.httpStatus >= 500 ? cause.httpStatus : 502, cause);
        }
      }
    }
    scope.steps[name] = last;
  }
  return { status: 200, headers: {}, body: last };
}
