import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { renderApiDoc } from '../../src/api/api-doc.js';

it('docs/api.md is what the schemas generate (run `npm run docs:api` after changing them)', async () => {
  const onDisk = await readFile(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8');
  expect(onDisk).toBe(renderApiDoc());
});
