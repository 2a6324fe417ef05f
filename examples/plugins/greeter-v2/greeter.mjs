#!/usr/bin/env node
// greeter 2.0.0: adds the `farewell` step and an excited greeting.
import { createInterface } from 'node:readline';

const manifest = {
  name: 'greeter',
  version: '2.0.0',
  protocolVersion: 1,
  contract: { steps: [{ type: 'greet' }, { type: 'farewell' }] },
};

if (process.env.WFRELOAD_PLUGIN_MAGIC_COOKIE !== 'f3c1a4b0-wfreload-plugin-protocol-1') {
  console.error('This is a wfreload plugin (greeter 2.0.0); start it with `wfctl plugin try-activate greeter <dir>` or a host program, not by hand.');
  process.exit(1);
}

const who = (input) => input.params?.name ?? input.name ?? 'world';
const steps = {
  greet: (input) => ({ message: `${input.greeting ?? 'Hello'}, ${who(input)}!`, version: manifest.version }),
  farewell: (input) => ({ message: `Goodbye, ${who(input)}.`, version: manifest.version }),
};

async function handle({ method, params = {} }) {
  switch (method) {
    case 'initialize':
      return manifest;
    case 'health':
      return { status: 'ok' };
    case 'invoke': {
      const step = steps[params.step];
      if (!step) throw Object.assign(new Error(`unknown step ${params.step}`), { code: -32602 });
      // `delayMs` lets demos and tests hold a call in flight across a swap.
      if (params.input?.delayMs) await new Promise((r) => setTimeout(r, params.input.delayMs));
      return { output: step(params.input ?? {}) };
    }
    case 'shutdown':
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw Object.assign(new Error(`unknown method ${method}`), { code: -32601 });
  }
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  const request = JSON.parse(line);
  try {
    const result = await handle(request);
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, result })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, error: { code: error.code ?? -32603, message: error.message } })}\n`);
  }
});
process.stdin.on('end', () => process.exit(0));
console.error('greeter 2.0.0 ready');
