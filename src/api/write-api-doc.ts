// `npm run docs:api`: regenerate docs/api.md from the schemas.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderApiDoc } from './api-doc.js';

const target = fileURLToPath(new URL('../../docs/api.md', import.meta.url));
await writeFile(target, renderApiDoc());
process.stdout.write(`wrote ${target}\n`);
