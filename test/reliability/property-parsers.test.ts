/**
 * Property tests for everything that reads input a user or a plugin controls:
 * plugin.json, engine configs, stdout bytes, JSON-RPC lines, admin API
 * bodies and `--timeout` pairs. Each parser must either accept the input or
 * fail with its own WfrError code; no other exception may escape. Seeded, so
 * every run checks the same cases (fast-check prints the counterexample and
 * its path when one fails).
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApi, type AdminApi } from '../../src/api/index.js';
import { errorBodySchema, reloadResultSchema } from '../../src/api/schemas.js';
import { parseTimeouts } from '../../src/cli/serve.js';
import { BUILTIN_STEPS, engineConfigSchema } from '../../src/engine/config-schema.js';
import { parseConfig } from '../../src/engine/load-config.js';
import { WfrError } from '../../src/errors.js';
import { manifestSchema, parseManifest } from '../../src/plugins/manifest.js';
import { RpcConnection } from '../../src/plugins/rpc/connection.js';
import { createLineSplitter, type SplitItem } from '../../src/plugins/rpc/line-splitter.js';
import { openTestHost, type TestHost } from '../helpers/host.js';
import { makePluginDir } from '../helpers/plugin-dirs.js';

const SEED = 42;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Run `parse`; return what it returned, or the WfrError code it threw. Any other exception fails the property. */
function outcomeOf<T>(parse: () => T): { ok: true; value: T } | { ok: false; code: string } {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (!(error instanceof WfrError)) throw new Error(`threw ${(error as Error)?.constructor?.name} instead of a WfrError: ${(error as Error)?.message}`, { cause: error });
    return { ok: false, code: error.code };
  }
}

// ---------------------------------------------------------------- mutations

type Path = Array<string | number>;
interface Mutation {
  /** Which node (index into every path of the value, modulo their count). */
  at: number;
  op: 'delete' | 'replace' | 'addKey' | 'append' | 'duplicate';
  key: string;
  value: Json;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'replace', 'addKey', 'append', 'duplicate'),
  key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('name', 'type', 'steps', 'extra', 'dir', 'use', 'route')),
  value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
});

function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const keys: Array<string | number> = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => [[...prefix, key], ...pathsOf((value as Record<string | number, Json>)[key]!, [...prefix, key])]);
}

/** Own-property write, so a "__proto__" key becomes data, as JSON.parse would make it. */
const put = (target: Record<string | number, Json>, key: string | number, value: Json) =>
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });

/** Apply each mutation to a copy of `value` at a node chosen among its current paths. */
function mutate(value: Json, mutations: Mutation[]): Json {
  const root = structuredClone(value);
  for (const m of mutations) {
    const paths = pathsOf(root);
    if (paths.length === 0) break;
    const path = paths[m.at % paths.length]!;
    const parent = path.slice(0, -1).reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, root) as Record<string | number, Json>;
    const key = path.at(-1)!;
    const node = parent[key]!;
    switch (m.op) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case 'replace':
        put(parent, key, m.value);
        break;
      case 'addKey':
        if (node !== null && typeof node === 'object' && !Array.isArray(node)) put(node, m.key, m.value);
        else put(parent, key, m.value);
        break;
      case 'append':
        if (typeof node === 'string') put(parent, key, node + m.key);
        else if (Array.isArray(node)) node.push(m.value);
        else put(parent, key, m.value);
        break;
      case 'duplicate':
        if (Array.isArray(node) && node.length > 0) node.push(structuredClone(node[0]!));
        else if (Array.isArray(parent)) parent.push(structuredClone(node));
        break;
    }
  }
  return root;
}

// ---------------------------------------------------------------- manifests

const pluginNameArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,12}$/);
const stepTypeArb = fc.stringMatching(/^[a-z][a-zA-Z0-9_-]{0,8}$/);
const semverArb = fc
  .tuple(fc.nat(30), fc.nat(30), fc.nat(30), fc.option(fc.stringMatching(/^[0-9A-Za-z-]{1,6}(\.[0-9A-Za-z-]{1,4})?$/), { nil: undefined }))
  .map(([major, minor, patch, pre]) => `${major}.${minor}.${patch}${pre ? `-${pre}` : ''}`);
const hexArb = fc.stringMatching(/^[0-9a-f]{64}$/);

const validManifestArb = fc
  .record(
    {
      name: pluginNameArb,
      version: semverArb,
      protocolVersion: fc.constant(1),
      command: fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3 }),
      description: fc.string({ maxLength: 20 }),
      steps: fc.uniqueArray(stepTypeArb, { minLength: 1, maxLength: 4 }),
      // Keys are file names; "__proto__" is left out (see the report: such a key is dropped silently).
      sha256: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9./]{0,12}$/), hexArb, { maxKeys: 3 }),
      probe: fc.array(fc.record({ pick: fc.nat(), input: fc.jsonValue({ maxDepth: 2 }), expect: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }) }), { maxLength: 2 }),
    },
    { requiredKeys: ['name', 'version', 'protocolVersion', 'command', 'steps'] },
  )
  .map(({ steps, probe, ...rest }) => {
    const manifest: Record<string, Json> = { ...(rest as Record<string, Json>), contract: { steps: steps.map((type) => ({ type })) } };
    if (probe) manifest.probe = probe.map((p) => ({ step: steps[p.pick % steps.length]!, input: p.input as Json, expect: p.expect as Json }));
    return manifest as Json;
  });

/** A manifest that parsed: it is exactly what the file said (no defaults, no dropped keys) and it is self-consistent. */
function expectValidManifest(text: string, manifest: unknown): void {
  expect(manifest).toEqual(JSON.parse(text));
  const parsed = manifestSchema.parse(manifest);
  const steps = parsed.contract.steps.map((s) => s.type);
  expect(new Set(steps).size).toBe(steps.length);
  for (const probe of parsed.probe ?? []) expect(steps).toContain(probe.step);
}

function checkManifest(text: string): void {
  const result = outcomeOf(() => parseManifest(text, '/plugins/x/plugin.json'));
  if (result.ok) expectValidManifest(text, result.value);
  else expect(result.code).toBe('WFR_MANIFEST_INVALID');
}

describe('parseManifest', () => {
  it('parses every valid manifest to exactly itself', () => {
    fc.assert(
      fc.property(validManifestArb, (manifest) => {
        const text = JSON.stringify(manifest);
        expectValidManifest(text, parseManifest(text, 'plugin.json'));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answers any JSON value with a manifest or WFR_MANIFEST_INVALID', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => checkManifest(JSON.stringify(value))), { seed: SEED, numRuns: 300 });
  });

  it('answers any string with a manifest or WFR_MANIFEST_INVALID', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (text) => checkManifest(text)),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answers a mutated valid manifest with a manifest or WFR_MANIFEST_INVALID', () => {
    fc.assert(
      fc.property(validManifestArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (manifest, mutations) => checkManifest(JSON.stringify(mutate(manifest, mutations)))),
      { seed: SEED, numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- engine configs

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
// "constructor" is left out of plugin names: see the report (a pipeline may use an undeclared plugin of that name).
const declaredNameArb = fc.constantFrom('fake', 'other', 'a-1', '0x');

const validConfigArb = fc
  .record({
    listen: fc.tuple(fc.constantFrom('127.0.0.1', 'localhost', '[::1]', 'host-a.example'), fc.integer({ min: 0, max: 65_535 })).map(([host, port]) => `${host}:${port}`),
    plugins: fc.dictionary(declaredNameArb, fc.record({ dir: fc.string({ minLength: 1, maxLength: 12 }) }), { maxKeys: 3 }),
    segments: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 4 }),
    stepSeeds: fc.array(
      fc.record(
        {
          pick: fc.nat(),
          builtin: fc.boolean(),
          step: stepTypeArb,
          with: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
          as: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/),
          timeoutMs: fc.integer({ min: 1, max: 600_000 }),
        },
        { requiredKeys: ['pick', 'builtin', 'step'] },
      ),
      { minLength: 1, maxLength: 6 },
    ),
    method: fc.constantFrom(...METHODS),
    probes: fc.option(fc.array(fc.record({ path: fc.stringMatching(/^[a-z/?=]{0,8}$/), status: fc.integer({ min: 100, max: 599 }) }), { maxLength: 2 }), { nil: undefined }),
  })
  .map(({ listen, plugins, segments, stepSeeds, method, probes }) => {
    const declared = Object.keys(plugins);
    const steps = stepSeeds.map(({ pick, builtin, step, ...rest }) => ({
      use: builtin || declared.length === 0 ? BUILTIN_STEPS[pick % BUILTIN_STEPS.length]! : `${declared[pick % declared.length]}.${step}`,
      ...rest,
    }));
    const config: Record<string, Json> = {
      http: { listen },
      plugins: plugins as Json,
      pipelines: segments.map((segment, i) => ({ route: `${method} /${segment}/:id`, steps: steps.slice(i % steps.length).concat(steps.slice(0, i % steps.length)) })) as Json,
    };
    if (probes) config.probes = probes.map((p) => ({ request: `GET /${p.path}`, expect: { status: p.status } }));
    return config as Json;
  });

/** A config that parsed: schema-clean, every step names a declared plugin (own key) or a built-in, routes unique, paths resolved. */
function expectValidConfig(text: string, loaded: ReturnType<typeof parseConfig>): void {
  const { config } = loaded;
  expect(engineConfigSchema.parse(config)).toEqual(config);
  expect(loaded.text).toBe(text);
  expect(loaded.digest).toBe(createHash('sha256').update(text).digest('hex'));
  expect(Object.keys(loaded.pluginDirs).sort()).toEqual(Object.keys(config.plugins).sort());
  for (const dir of Object.values(loaded.pluginDirs)) expect(isAbsolute(dir)).toBe(true);
  const shapes = config.pipelines.map((p) => p.route.replace(/:[^/]+/g, ':'));
  expect(new Set(shapes).size).toBe(shapes.length);
  for (const step of config.pipelines.flatMap((p) => p.steps)) {
    if (!(BUILTIN_STEPS as readonly string[]).includes(step.use)) expect(Object.hasOwn(config.plugins, step.use.split('.')[0]!)).toBe(true);
  }
}

function checkConfig(text: string): void {
  const result = outcomeOf(() => parseConfig(text, '/configs/engine.yaml'));
  if (result.ok) expectValidConfig(text, result.value);
  else expect(result.code).toBe('WFR_CONFIG_INVALID');
}

/**
 * YAML-ish text from the tokens configs are made of. Aliases (`*a`) are left
 * out: an alias to a missing anchor, or too many aliases, makes parseConfig
 * throw a ReferenceError (see the report).
 */
const yamlishArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'http:', 'listen:', ' 127.0.0.1:0', 'plugins:', 'fake:', 'dir:', ' ./p', 'pipelines:', 'probes:', 'route:', ' GET /x', ' GET /x/:id', 'steps:', 'use:', ' fake.echo', ' set', 'with:',
        'expect:', 'status:', ' 200', '\n', '\n  ', '\n    ', '- ', '  - ', ': ', '{', '}', '[', ']', ', ', '&a ', '<<: ', '? ', '!!str ', '!!int ', '!!map ', '!foo ', '"', "'", '# c',
        '---\n', '...\n', '|\n  ', '>\n  ', '%YAML 1.2\n---\n', 'null', '~', '1', '-1.5', 'true', '0x1F', '.inf', '\t', '\r\n', '\\', '@', '`',
      ),
      fc.string({ maxLength: 6 }).filter((s) => !s.includes('*')),
    ),
    { maxLength: 30 },
  )
  .map((tokens) => tokens.join(''));

describe('parseConfig', () => {
  it('parses every valid config, as YAML or as JSON', () => {
    fc.assert(
      fc.property(validConfigArb, fc.boolean(), (config, asJson) => {
        const text = asJson ? JSON.stringify(config) : stringify(config);
        const loaded = parseConfig(text, '/configs/engine.yaml');
        expectValidConfig(text, loaded);
        expect(loaded.config).toEqual({ plugins: {}, probes: [], ...(config as object) });
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('answers YAML-ish text with a config or WFR_CONFIG_INVALID', () => {
    fc.assert(fc.property(yamlishArb, checkConfig), { seed: SEED, numRuns: 400 });
  });

  it('answers any object, stringified as YAML or JSON, with a config or WFR_CONFIG_INVALID', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 3 }), fc.boolean(), (value, asJson) => checkConfig(asJson ? JSON.stringify(value) : stringify(value))),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answers a mutated valid config with a config or WFR_CONFIG_INVALID', () => {
    fc.assert(
      fc.property(validConfigArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.boolean(), (config, mutations, asJson) => {
        const mutated = mutate(config, mutations);
        checkConfig(asJson ? JSON.stringify(mutated) : stringify(mutated));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------- line splitter

/** Bytes rich in what framing cares about: newlines, CRs, multi-byte characters. */
const streamBytesArb = fc
  .array(fc.oneof(fc.constantFrom('\n', '\r\n', '\r', 'é', '✓', '𝄞', '{"id":1}'), fc.string({ maxLength: 12 })), { maxLength: 40 })
  .map((parts) => Buffer.from(parts.join('')));

/** What the splitter must report for `whole`, by splitting the concatenation. */
function expectedLines(whole: Buffer, max: number) {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = whole.indexOf(0x0a); at !== -1; at = whole.indexOf(0x0a, from)) {
    parts.push(whole.subarray(from, at));
    from = at + 1;
  }
  // A partial last line is reported as oversize as soon as it crosses the limit, without waiting for its newline.
  const tail = whole.length - from;
  if (tail > max) parts.push(whole.subarray(from));
  return { parts, pending: tail > max ? 0 : tail };
}

describe('createLineSplitter', () => {
  it('yields the lines of the concatenation however the bytes are chunked', () => {
    fc.assert(
      fc.property(streamBytesArb, fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 1, max: 24 }), (whole, cuts, max) => {
        // Chunks are views into one shared buffer at odd offsets, and the caller scribbles over each after pushing it.
        const shared = Buffer.concat([Buffer.from('PAD'), whole]);
        const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...points, whole.length];
        const splitter = createLineSplitter(max);
        const items: SplitItem[] = [];
        for (let i = 0; i + 1 < bounds.length; i++) {
          const chunk = new Uint8Array(shared.buffer, shared.byteOffset + 3 + bounds[i]!, bounds[i + 1]! - bounds[i]!);
          items.push(...splitter.push(chunk));
          chunk.fill(0x0a);
        }
        const { parts, pending } = expectedLines(whole, max);
        expect(items).toHaveLength(parts.length);
        parts.forEach((part, i) => {
          const item = items[i]!;
          if (part.length > max) {
            // Reported once, with how much it had seen when it crossed the limit.
            expect(item.kind).toBe('oversize');
            if (item.kind === 'oversize') {
              expect(item.bytes).toBeGreaterThan(max);
              expect(item.bytes).toBeLessThanOrEqual(part.length);
            }
          } else {
            const text = part.toString('utf8');
            expect(item).toEqual({ kind: 'line', text: text.endsWith('\r') ? text.slice(0, -1) : text });
          }
        });
        expect(splitter.pendingBytes()).toBe(pending);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- JSON-RPC connection

/** Lines a plugin might write: exact replies to the calls in flight, near-misses, and noise. */
const rpcLineArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ id: fc.constantFrom(1, 2, 3), error: fc.boolean(), result: fc.jsonValue({ maxDepth: 2 }) }).map(({ id, error, result }) => JSON.stringify(error ? { jsonrpc: '2.0', id, error: { code: -1, message: 'no' } } : { jsonrpc: '2.0', id, result })) },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('1.0'), fc.jsonValue({ maxDepth: 1 })),
          id: fc.oneof(fc.constantFrom(0, 1, 2, 3, 999, -1, 1.5, null, '1', 2 ** 53), fc.jsonValue({ maxDepth: 1 })),
          result: fc.jsonValue({ maxDepth: 2 }),
          error: fc.oneof(fc.record({ code: fc.oneof(fc.integer(), fc.double()), message: fc.oneof(fc.string(), fc.integer()), data: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 1 })),
          extra: fc.jsonValue({ maxDepth: 1 }),
        },
        { requiredKeys: [] },
      )
      .map((reply) => JSON.stringify(reply)),
  },
  { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string() },
);

/** The JSON-RPC 2.0 reading of one line, from the spec: a response to id N (a result or an error), or not a response we can accept. */
function classifyReply(line: string): { kind: 'result' | 'error'; id: number } | { kind: 'invalid' } {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return { kind: 'invalid' };
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return { kind: 'invalid' };
  const m = message as Record<string, unknown>;
  const keys = Object.keys(m);
  const hasResult = keys.includes('result');
  const hasError = keys.includes('error');
  if (m.jsonrpc !== '2.0' || hasResult === hasError || !keys.includes('id') || keys.some((k) => !['jsonrpc', 'id', 'result', 'error'].includes(k))) return { kind: 'invalid' };
  // A null id answers no request of ours.
  if (!Number.isSafeInteger(m.id)) return { kind: 'invalid' };
  if (hasResult) return { kind: 'result', id: m.id as number };
  const error = m.error as Record<string, unknown> | null;
  const wellFormedError = typeof error === 'object' && error !== null && !Array.isArray(error) && Number.isSafeInteger(error.code) && typeof error.message === 'string';
  return wellFormedError ? { kind: 'error', id: m.id as number } : { kind: 'invalid' };
}

describe('RpcConnection.handleLine', () => {
  it('never throws: each call is answered by its own reply, or all fail with WFR_PLUGIN_PROTOCOL_ERROR', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rpcLineArb, { minLength: 1, maxLength: 6 }), async (lines) => {
        const protocolErrors: WfrError[] = [];
        const rpc = new RpcConnection('demo', () => {}, (error) => protocolErrors.push(error));
        const outcomes = new Map<number, string>();
        const calls = [1, 2, 3].map((id) =>
          rpc.call('invoke', { id }, { timeoutMs: 60_000 }).then(
            () => outcomes.set(id, 'result'),
            (error: WfrError) => outcomes.set(id, error.code),
          ),
        );

        // The model: which calls are pending, and whether the connection broke.
        const pending = new Set([1, 2, 3]);
        const expected = new Map<number, string>();
        let broken = false;
        for (const line of lines) {
          expect(() => rpc.handleLine(line)).not.toThrow();
          if (broken) continue;
          const reply = classifyReply(line);
          if (reply.kind !== 'invalid' && pending.has(reply.id)) {
            pending.delete(reply.id);
            expected.set(reply.id, reply.kind === 'result' ? 'result' : 'WFR_PLUGIN_RPC_ERROR');
          } else {
            broken = true;
            for (const id of pending) expected.set(id, 'WFR_PLUGIN_PROTOCOL_ERROR');
            pending.clear();
          }
        }

        expect(rpc.pendingCount).toBe(pending.size);
        expect(protocolErrors.map((e) => e.code)).toEqual(broken ? ['WFR_PLUGIN_PROTOCOL_ERROR'] : []);
        expect(rpc.failed?.code).toBe(broken ? 'WFR_PLUGIN_PROTOCOL_ERROR' : undefined);
        // End the calls still waiting (and their timers).
        rpc.fail(protocolErrors[0] ?? new (class extends WfrError {
          readonly code = 'TEST_END';
        })('end of the case'), { protocol: false });
        await Promise.all(calls);
        for (const id of pending) expected.set(id, broken ? 'WFR_PLUGIN_PROTOCOL_ERROR' : 'TEST_END');
        expect(Object.fromEntries(outcomes)).toEqual(Object.fromEntries(expected));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- admin API bodies

const TOKEN = 'property-token-0123456789';

/** Bodies: raw text, JSON of any shape, and objects shaped like the real ones with odd values. */
const anyBody = (shaped: fc.Arbitrary<object>) =>
  fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.json({ maxDepth: 2 }),
    fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
    { weight: 4, arbitrary: shaped.map((value) => JSON.stringify(value)) },
  );

const oddString = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('', '.', '/', '/nonexistent/plugin', '/tmp', '../..', 'a\0b'));

describe('admin API request bodies', () => {
  let t: TestHost;
  let api: AdminApi;
  let goodDir: string;

  beforeAll(async () => {
    t = await openTestHost();
    api = await createAdminApi(t.host, TOKEN);
    // A good plugin is active, so active.json has something to keep.
    goodDir = await makePluginDir({ version: '1.0.0' });
    expect((await t.host.tryActivatePlugin('fake', goodDir)).outcome).toBe('activated');
  });
  afterAll(async () => {
    api.close();
    await t.close();
  });

  const post = (path: string, body: string) =>
    Promise.resolve(api.app.request(path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body }));

  /** 400 with an error body, or a reload answer that activated nothing; never a 500, and active.json as it was. */
  async function expectSafeAnswer(path: string, body: string): Promise<void> {
    const markerBefore = await t.readMarker();
    const res = await post(path, body);
    const json: unknown = await res.json();
    expect([400, 422, 200], JSON.stringify(json)).toContain(res.status);
    if (res.status === 400) {
      expect(['WFR_INVALID_ARGUMENT', 'WFR_REQUEST_BODY_INVALID']).toContain(errorBodySchema.parse(json).error.code);
    } else {
      const result = reloadResultSchema.parse(json);
      expect(res.status === 200 ? ['dryRunPassed', 'unchanged'] : ['rejected', 'rolledBack']).toContain(result.outcome);
      if (result.error) expect(result.error.code).not.toBe('WFR_INTERNAL');
    }
    expect(await t.readMarker()).toBe(markerBefore);
  }

  it('answers any plugin try-activate body with 400 or a reload result, never 500', async () => {
    const shaped = fc.oneof(
      // Well-formed: reaches the orchestrator, which stages (and fails on) whatever the path names.
      { weight: 10, arbitrary: fc.record({ dir: oddString.filter((dir) => dir.length > 0), dryRun: fc.boolean() }, { requiredKeys: ['dir'] }) },
      // The good plugin, as a dry run only (nothing may be activated); rare, as each one starts a process.
      { weight: 1, arbitrary: fc.constant({ dir: goodDir, dryRun: true }) },
      {
        weight: 10,
        arbitrary: fc.record({ dir: fc.oneof(oddString, fc.jsonValue({ maxDepth: 1 })), dryRun: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })), extra: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }),
      },
    );
    await fc.assert(
      fc.asyncProperty(anyBody(shaped), (body) => expectSafeAnswer('/api/v1/plugins/fake/try-activate', body)),
      { seed: SEED, numRuns: 150 },
    );
    expect(await t.host.invoke('fake', 'echo', {})).toMatchObject({ version: '1.0.0' });
  });

  it('answers any config try-activate body with 400 or a reload result, never 500', async () => {
    // Valid configs go as dry runs on a free port: nothing may be activated, and no name is looked up.
    const validYaml = validConfigArb.map((config) => stringify({ ...(config as object), http: { listen: '127.0.0.1:0' } }));
    const shaped = fc.oneof(
      { weight: 3, arbitrary: fc.record({ file: oddString.filter((file) => file.length > 0), dryRun: fc.boolean() }, { requiredKeys: ['file'] }) },
      { weight: 3, arbitrary: fc.record({ yaml: yamlishArb.filter((yaml) => yaml.length > 0), dryRun: fc.boolean() }, { requiredKeys: ['yaml'] }) },
      { weight: 1, arbitrary: fc.record({ yaml: validYaml, dryRun: fc.constant(true) }) },
      fc.record(
        { file: fc.oneof(oddString, fc.jsonValue({ maxDepth: 1 })), yaml: fc.oneof(yamlishArb, fc.jsonValue({ maxDepth: 1 })), dryRun: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })), extra: fc.jsonValue({ maxDepth: 1 }) },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(anyBody(shaped), (body) => expectSafeAnswer('/api/v1/config/try-activate', body)),
      { seed: SEED, numRuns: 150 },
    );
    expect(t.host.engineStatus()).toBeNull();
  });
});

// ---------------------------------------------------------------- --timeout pairs

const timeoutNameArb = fc.stringMatching(/^[A-Za-z]{1,12}$/);
const pairArb = fc.oneof(
  fc.tuple(timeoutNameArb, fc.nat()).map(([name, ms]) => ({ text: `${name}=${ms}`, name, ms })),
  fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('=', 'a=', '=1', 'a=-1', 'a=1.5', 'a==1', 'a=1\n', ' a=1', 'a_b=1', 'a=1e3', 'a=٣')).map((text) => ({ text, name: null, ms: null })),
);

describe('parseTimeouts', () => {
  it('answers any list of strings with a name → ms object or WFR_INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(fc.array(pairArb, { maxLength: 5 }), (pairs) => {
        const texts = pairs.map((p) => p.text);
        const result = outcomeOf(() => parseTimeouts(texts));
        const wellFormed = pairs.every((p) => p.name !== null || /^[A-Za-z]+=\d+$/.test(p.text));
        if (!result.ok) {
          expect(result.code).toBe('WFR_INVALID_ARGUMENT');
          expect(wellFormed).toBe(false);
          return;
        }
        expect(wellFormed).toBe(true);
        // Later pairs win, as on a command line.
        const expected: Record<string, number> = {};
        for (const text of texts) {
          const at = text.indexOf('=');
          expected[text.slice(0, at)] = Number(text.slice(at + 1));
        }
        expect(result.value).toEqual(expected);
        for (const [name, ms] of Object.entries(result.value)) {
          expect(name).toMatch(/^[A-Za-z]+$/);
          expect(Number.isInteger(ms) && ms >= 0).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
