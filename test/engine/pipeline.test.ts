import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/engine/load-config.js';
import { runPipeline, type RequestScope } from '../../src/engine/pipeline.js';
import { compileRoute, matchRoute } from '../../src/engine/routes.js';
import { render } from '../../src/engine/template.js';
import { PluginCallTimeoutError } from '../../src/errors.js';

const scope = (): RequestScope => ({ params: { name: 'Ada' }, query: { q: '1' }, body: { n: 2, list: [1, 2] }, headers: {}, steps: {}, vars: {} });

describe('templates', () => {
  it.each([
    ['{{ params.name }}', 'Ada'],
    ['Hello, {{ params.name }}!', 'Hello, Ada!'],
    ['{{ body.n }}', 2],
    ['{{body.list}}', [1, 2]],
    ['n={{ body.n }} list={{ body.list }}', 'n=2 list=[1,2]'],
    ['{{ body.missing }}', undefined],
    ['[{{ body.missing }}]', '[]'],
    [{ deep: ['{{ query.q }}', 3] }, { deep: ['1', 3] }],
  ])('renders %j as %j', (template, expected) => {
    expect(render(template, scope())).toEqual(expected);
  });
});

describe('routes', () => {
  const routes = [compileRoute('GET /hello/:name', 'hello'), compileRoute('POST /count', 'count'), compileRoute('GET /a/:x/b/:y', 'ab')];
  it.each([
    ['GET', '/hello/Ada', { target: 'hello', params: { name: 'Ada' } }],
    ['GET', '/hello/J%C3%BCrgen', { target: 'hello', params: { name: 'Jürgen' } }],
    ['HEAD', '/hello/x', { target: 'hello', params: { name: 'x' } }],
    ['GET', '/a/1/b/2', { target: 'ab', params: { x: '1', y: '2' } }],
    ['POST', '/count/', { target: 'count', params: {} }],
    ['GET', '/count', null],
    ['GET', '/hello', null],
    ['GET', '/hello/a/b', null],
  ])('%s %s matches %j', (method, path, expected) => {
    expect(matchRoute(routes, method, path)).toEqual(expected);
  });
});

describe('runPipeline', () => {
  const pipeline = (steps: unknown[]) => parseConfig(JSON.stringify({ http: { listen: '127.0.0.1:0' }, plugins: { p: { dir: '/x' } }, pipelines: [{ route: 'GET /', steps }] }), '/cfg.yaml').config.pipelines[0]!;
  const echo = async (plugin: string, step: string, input: unknown) => ({ plugin, step, input });

  it('answers 200 with the last plugin step output, its input holding the request and `with`', async () => {
    const reply = await runPipeline(pipeline([{ use: 'p.echo', with: { greeting: 'hi {{ params.name }}' } }]), scope(), echo);
    expect(reply).toEqual({ status: 200, headers: {}, body: { plugin: 'p', step: 'echo', input: { params: { name: 'Ada' }, query: { q: '1' }, body: { n: 2, list: [1, 2] }, headers: {}, greeting: 'hi Ada' } } });
  });

  it('passes outputs on by `as`, sets vars, and responds with a built body', async () => {
    const reply = await runPipeline(
      pipeline([{ use: 'p.echo', as: 'first' }, { use: 'set', with: { who: '{{ steps.first.step }}' } }, { use: 'respond', with: { status: 201, headers: { 'x-a': 'b' }, body: { who: '{{ vars.who }}', n: '{{ body.n }}' } } }]),
      scope(),
      echo,
    );
    expect(reply).toEqual({ status: 201, headers: { 'x-a': 'b' }, body: { who: 'echo', n: 2 } });
  });

  it('fails with the configured status and the step index', async () => {
    await expect(runPipeline(pipeline([{ use: 'set' }, { use: 'fail', with: { status: 503, message: 'down for {{ params.name }}' } }]), scope(), echo)).rejects.toMatchObject({
      code: 'WFR_PIPELINE_STEP_FAILED',
      httpStatus: 503,
      message: 'Step 1 (fail) failed: down for Ada',
    });
  });

  it('turns a plugin timeout into a 504 naming the plugin step', async () => {
    const timeout = async () => {
      throw new PluginCallTimeoutError('p', 'invoke', 10);
    };
    await expect(runPipeline(pipeline([{ use: 'p.slow' }]), scope(), timeout)).rejects.toMatchObject({ httpStatus: 504, details: { step: 'p.slow', index: 0 } });
  });

  it.each(['abc', 42, 600])('refuses a respond status of %j with a clear 500 instead of a crash', async (status) => {
    await expect(runPipeline(pipeline([{ use: 'respond', with: { status } }]), scope(), echo)).rejects.toMatchObject({
      httpStatus: 500,
      message: expect.stringContaining('"status" must be an HTTP status from 100 to 599'),
    });
  });
});
