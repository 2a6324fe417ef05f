/**
 * The handshake check: the running binary must describe itself exactly as its
 * manifest does. A mismatch means the operator staged a manifest for a
 * different build, and a wrong guess here would route calls to steps that do
 * not exist.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { ContractMismatchError, PluginProtocolError } from '../errors.js';
import { contractSchema, type Manifest } from './manifest.js';

export const initializeReplySchema = z.strictObject({
  name: z.string(),
  version: z.string(),
  protocolVersion: z.number(),
  contract: contractSchema,
});

export type InitializeReply = z.infer<typeof initializeReplySchema>;

const stepTypes = (contract: { steps: Array<{ type: string }> }) => contract.steps.map((s) => s.type).sort();

/** Throws ContractMismatchError naming the first field that differs. */
export function validateInitializeReply(reply: unknown, manifest: Manifest): InitializeReply {
  const parsed = initializeReplySchema.safeParse(reply);
  if (!parsed.success) {
    throw new PluginProtocolError(manifest.name, `initialize reply has the wrong shape: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  }
  const actual = parsed.data;
  for (const field of ['name', 'version', 'protocolVersion'] as const) {
    if (actual[field] !== manifest[field]) throw new ContractMismatchError(manifest.name, field, manifest[field], actual[field]);
  }
  // Strict: an extra step type is as wrong as a missing one.
  const expectedTypes = stepTypes(manifest.contract);
  const actualTypes = stepTypes(actual.contract);
  if (!isDeepStrictEqual(expectedTypes, actualTypes)) {
    throw new ContractMismatchError(manifest.name, 'contract.steps[].type', expectedTypes, actualTypes);
  }
  for (const step of manifest.contract.steps) {
    const offered = actual.contract.steps.find((s) => s.type === step.type)!;
    if (!isDeepStrictEqual(step, offered)) {
      throw new ContractMismatchError(manifest.name, `contract.steps[type=${step.type}]`, step, offered);
    }
  }
  return actual;
}
