/** `wfctl reloads watch`: follow reloads live, one line per transition. */
import type { HostEvent } from '../orchestrator/host-events.js';
import { formatReloadResult, isSuccess } from '../orchestrator/reload-result.js';
import { InvalidArgumentError } from '../errors.js';
import { AdminClient, type ClientOptions } from './client.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Parse a text/event-stream body into (event, data) pairs. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}

const time = (iso: string) => iso.slice(11, 23);

export async function watchReloads(options: ClientOptions & { count?: string }): Promise<void> {
  const count = options.count === undefined ? Infinity : Number(options.count);
  if (!(count > 0) || (count !== Infinity && !Number.isInteger(count))) throw new InvalidArgumentError('--count', 'must be a positive whole number', options.count);
  const client = await AdminClient.create(options);
  const response = await client.events();
  const tty = process.stderr.isTTY && !options.json;
  const running = new Map<string, string>();
  let frame = 0;
  const spinner = tty
    ? setInterval(() => {
        if (running.size === 0) return;
        frame = (frame + 1) % SPINNER.length;
        process.stderr.write(`\r${SPINNER[frame]} ${[...running].map(([target, state]) => `${target}: ${state}`).join('  ')}\x1b[K`);
      }, 100)
    : null;
  const line = (text: string) => {
    if (tty) process.stderr.write('\r\x1b[K');
    process.stdout.write(`${text}\n`);
  };
  let seen = 0;
  try {
    for await (const { event, data } of readSse(response.body!)) {
      // The host sends hello once this stream is subscribed: from here on, no reload is missed.
      if (event === 'hello') line(options.json ? JSON.stringify({ type: 'hello', ...JSON.parse(data) }) : 'watching reloads (Ctrl-C to stop)…');
      if (event !== 'transition' && event !== 'reload') continue;
      const payload = JSON.parse(data) as HostEvent;
      if (options.json) line(data);
      else if (payload.type === 'transition') {
        running.set(payload.target, payload.state);
        const took = payload.finished ? `  (${payload.finished.work} ${payload.finished.ms} ms${payload.finished.error ? `, ${payload.finished.error.code}` : ''})` : '';
        line(`${time(payload.at)}  ${payload.reloadId}  ${payload.target}  → ${payload.state}${took}`);
      } else if (payload.type === 'reload') {
        running.delete(payload.result.target);
        line(`${time(payload.result.finishedAt)}  ${payload.result.id}  ${isSuccess(payload.result.outcome) ? '✓' : '✗'} ${formatReloadResult(payload.result).split('\n').join(' ')}`);
      }
      if (payload.type === 'reload' && ++seen >= count) break;
    }
  } finally {
    if (spinner) clearInterval(spinner);
    await response.body?.cancel().catch(() => {});
  }
}
