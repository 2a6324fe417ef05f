/**
 * Every error class has a stable, unique code and a row in docs/errors.md,
 * and every row there names a real code (fastify's errors.test.js).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const source = await readFile(fileURLToPath(new URL('../src/errors.ts', import.meta.url)), 'utf8');
const docs = await readFile(fileURLToPath(new URL('../docs/errors.md', import.meta.url)), 'utf8');

const codesInSource = [...source.matchAll(/readonly code = '(WFR_[A-Z_]+)'/g)].map((m) => m[1]!);
const codesInDocs = [...docs.matchAll(/^\| `(WFR_[A-Z_]+)` \|/gm)].map((m) => m[1]!);

describe('error codes', () => {
  it('are unique in src/errors.ts', () => {
    expect(codesInSource.length).toBeGreaterThan(10);
    expect(new Set(codesInSource).size).toBe(codesInSource.length);
  });

  it('each have exactly one row in docs/errors.md', () => {
    for (const code of codesInSource) expect(codesInDocs.filter((c) => c === code), code).toHaveLength(1);
  });

  it('are all real: docs/errors.md lists no code the source lacks', () => {
    expect(codesInDocs.filter((code) => !codesInSource.includes(code))).toEqual([]);
  });
});
