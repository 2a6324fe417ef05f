/** Reading a server-sent event stream (the admin API's /api/v1/events, which the live view follows). */
/** One server-sent event; `data` is the parsed JSON. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads events one by one from an SSE body; comments (keep-alives) are skipped. */
export function sseReader(body: ReadableStream<Uint8Array>): () => Promise<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async function next() {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const lines = buffer.slice(0, end).split('\n').filter((line) => !line.startsWith(':'));
        buffer = buffer.slice(end + 2);
        if (lines.length === 0) continue;
        const field = (name: string) => lines.filter((l) => l.startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).replace(/^ /, ''));
        return { event: field('event')[0] ?? 'message', data: JSON.parse(field('data').join('\n')) };
      }
      const { done, value } = await reader.read();
      if (done) throw new Error(`the event stream ended; unread: ${JSON.stringify(buffer)}`);
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    }
  };
}
