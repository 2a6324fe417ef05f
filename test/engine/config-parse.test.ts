import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/engine/load-config.js';
import { parseManifest } from '../../src/plugins/manifest.js';

const base = `http:\n  listen: 127.0.0.1:0\nplugins:\n  p: { dir: /x }\n`;

describe('parseConfig refuses, with WFR_CONFIG_INVALID and the path, what would break later', () => {
  it.each([
    ['an alias to a missing anchor', `${base}pipelines: *nope\n`, /anchors and aliases/],
    ['a self-referencing alias', `${base}pipelines:\n  - route: GET /a\n    steps:\n      - use: respond\n        with: &w { self: *w }\n`, /anchors and aliases/],
    ['a plugin name found only on Object.prototype', `${base}pipelines:\n  - route: GET /a\n    steps: [{ use: constructor.echo }]\n`, /pipelines\[0\]\.steps\[0\]\.use: plugin "constructor" is not declared/],
    ['a "__proto__" key', `${base}pipelines:\n  - route: GET /a\n    steps: [{ use: respond, with: { "__proto__": { x: 1 } } }]\n`, /"__proto__" is not allowed/],
    ['two routes with the same shape', `${base}pipelines:\n  - { route: GET /a/:x, steps: [{ use: respond }] }\n  - { route: GET /a/:y, steps: [{ use: respond }] }\n`, /duplicates pipelines\[0\]\.route/],
  ])('%s', (_what, text, message) => {
    expect(() => parseConfig(text, '/cfg.yaml')).toThrow(expect.objectContaining({ code: 'WFR_CONFIG_INVALID', message: expect.stringMatching(message) }));
  });
});

it('parseManifest refuses a "__proto__" key instead of silently dropping a declared checksum', () => {
  const text = '{"name":"p","version":"1.0.0","protocolVersion":1,"command":["node"],"contract":{"steps":[{"type":"a"}]},"sha256":{"__proto__":"' + '0'.repeat(64) + '"}}';
  expect(() => parseManifest(text, 'plugin.json')).toThrow(expect.objectContaining({ code: 'WFR_MANIFEST_INVALID', message: expect.stringContaining('"__proto__" is not allowed') }));
});

it('a YAML syntax error keeps the parser\'s whole message: the line and column, and the excerpt with its caret', () => {
  const text = `${base}pipelines:\n  - route: GET /a\n    steps: [{ use: respond }\n`;
  let message = '';
  try {
    parseConfig(text, '/cfg.yaml');
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toMatch(/^Invalid engine config \/cfg\.yaml:\n✖ .*at line \d+, column \d+:\n/);
  // The excerpt: the offending source line, then a caret under the column.
  expect(message).toMatch(/steps: \[\{ use: respond \}\n[\s\S]*?\^/);
  expect(message).toMatch(/Fix the file; docs\/config\.md is the reference\.$/);
});
