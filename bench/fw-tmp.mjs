// temporary: framework overhead on a pull-sized JSON route (not committed)
import http from 'node:http';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { getRequestListener } from '@hono/node-server';
const body = JSON.stringify({ changes: Array.from({ length: 20 }, (_, i) => ({ entity: 'Task', id: `t${i}`, version: i, record: { title: 'x'.repeat(40) } })), checkpoint: '20', more: false });
const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
function raw() {
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/sync/pull' && req.headers.authorization) { res.writeHead(200, headers); res.end(body); } else { res.writeHead(404); res.end(); }
  });
}
async function fastify() {
  const app = Fastify();
  app.get('/sync/pull', async (req, reply) => { if (!req.headers.authorization) return reply.code(401).send(); reply.headers(headers); return body; });
  await app.ready();
  return app.server;
}
function hono() {
  const app = new Hono();
  app.get('/sync/pull', (c) => { if (!c.req.header('authorization')) return c.body(null, 401); return c.body(body, 200, headers); });
  return http.createServer(getRequestListener(app.fetch));
}
async function load(port, seconds = 4, conc = 64) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
  let n = 0; const end = Date.now() + seconds * 1000;
  const one = () => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/sync/pull?since=0', agent, headers: { authorization: 'Bearer x' } }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
  });
  await Promise.all(Array.from({ length: conc }, async () => { while (Date.now() < end) { await one(); n++; } }));
  agent.destroy();
  return n / seconds;
}
const which = process.argv[2];
if (process.argv[3] === 'serve') {
  const srv = which === 'raw' ? raw() : which === 'fastify' ? await fastify() : hono();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  console.log(srv.address().port);
} else {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [process.argv[1], which, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = Number(await new Promise((r) => child.stdout.once('data', (d) => r(String(d).trim()))));
  await load(port, 1);
  const rates = [];
  for (let i = 0; i < 3; i++) rates.push(await load(port));
  console.log(which, rates.map((r) => Math.round(r)).join(' '), 'req/s');
  child.kill(); process.exit(0);
}
