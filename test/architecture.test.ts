/**
 * The import rules the layout promises, checked on the sources: machines/ is
 * pure (no I/O, nothing from src/), and the store does not parse plugins
 * (nothing from src/plugins/; the orchestrator hands it the manifest parser).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const sources = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
/** Every module specifier a file imports or re-exports (static and dynamic). */
const importsOf = (file: string): string[] =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);

describe('import rules', () => {
  it('finds the imports it checks (the rule below cannot pass by reading nothing)', () => {
    expect(importsOf('src/store/stage-plugin.ts')).toContain('../util/paths.js');
    expect(importsOf('src/cli/main.ts')).toContain('./commands.js');
  });

  it('machines/ imports only xstate and other machines: no I/O, nothing from src/', () => {
    const offending = sources('machines').flatMap((file) => importsOf(file).filter((spec) => !(spec === 'xstate' || spec.startsWith('./'))).map((spec) => `${file}: ${spec}`));
    expect(offending).toEqual([]);
  });

  it('src/store/ imports nothing from src/plugins/', () => {
    const offending = sources('src/store').flatMap((file) => importsOf(file).filter((spec) => /(^|\/)plugins\//.test(spec)).map((spec) => `${relative(root, join(root, file))}: ${spec}`));
    expect(offending).toEqual([]);
  });
});
