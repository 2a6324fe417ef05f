import http from 'node:http';
import pino from 'pino';
import { join } from 'node:path';
import { createOrchestrator } from '../src/index.js';
import { createAdminApi, startAdminServer } from '../src/api/server.js';
import { tempDir } from './lib.js';
const work = await tempDir('wfr-http-');
const host = await createOrchestrator({ stateDir: join(work, 'state'), logger: pino({ level: 'silent' }) });
const api = await startAdminServer(await createAdminApi(host, 'tok-0123456789abcdef0123'), '127.0.0.1:0');
const bare = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ ok: true })); }); });
await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
const agent = new http.Agent({ keepAlive: true });
const call = (port: number, path: string, method: string, body?: string) => new Promise<number>((resolve, reject) => {
  const t = performance.now();
  const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: { authorization: 'Bearer tok-0123456789abcdef0123', 'content-type': 'application/json' } }, (res) => { res.resume(); res.on('end', () => resolve(performance.now() - t)); });
  req.once('error', reject); req.end(body);
});
const port = Number(api.address.split(':').at(-1));
const bport = (bare.address() as any).port;
const r: Record<string, number[]> = { bare: [], status: [], badBody: [] };
for (let i = 0; i < 300; i++) {
  r.bare.push(await call(bport, '/', 'POST', '{"dir":"/x"}'));
  r.status.push(await call(port, '/api/v1/status', 'GET'));
  r.badBody.push(await call(port, '/api/v1/plugins/fake/try-activate', 'POST', '{"dir":5}'));
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
for (const [k, v] of Object.entries(r)) console.log(k, med(v.slice(50)).toFixed(3));
agent.destroy(); bare.close(); await api.close(); await host.close();
