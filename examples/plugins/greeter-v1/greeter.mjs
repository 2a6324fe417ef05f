#!/usr/bin/env node
// greeter 1.0.0: a wfreload plugin. The host starts it; see docs/protocol.md.
import { createInterface } from 'node:readline';

const COOKIE_KEY = 'WFRELOAD_PLUGIN_MAGIC_COOKIE';
const COOKIE_VALUE = 'f3c1a4b0-wfreload-plugin-protocol-1';
const manifest = {
  name: 'greeter',
  version: '1.0.0',
  protocolVersion: 1,
  contract: { steps: [{ type: 'greet' }] },
};

if (process.env[COOKIE_KEY] !== COOKIE_VALUE) {
  console.error('This is a wfreload plugin (greeter 1.0.0); start it with `wfctl plugin try-activate greeter <dir>` or a host program, not by hand.');
  process.exit(1);
}

const handlers = {
  initialize: () => manifest,
  health: () => ({ status: 'ok' }),
  invoke: ({ step, input = {} }) => {
    if (step !== 'greet') throw Object.assign(new Error(`unknown step ${step}`), { code: -32602 });
    const name = input.params?.name ?? input.name ?? 'world';
    return { output: { message: `${input.greeting ?? 'Hello'}, ${name}`, version: manifest.version } };
  },
  shutdown: () => {
    setImmediate(() => process.exit(0));
    return {};
  },
};

// One JSON-RPC request per stdin line, one reply per stdout line; logs go to stderr.
createInterface({ input: process.stdin }).on('line', (line) => {
  const request = JSON.parse(line);
  const reply = { jsonrpc: '2.0', id: request.id };
  try {
    reply.result = handlers[request.method](request.params ?? {});
  } catch (error) {
    reply.error = { code: error.code ?? -32603, message: error.message };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
});
// The host closed stdin (it stopped us, or it died): exit, never linger as an orphan.
process.stdin.on('end', () => process.exit(0));
console.error('greeter 1.0.0 ready');
