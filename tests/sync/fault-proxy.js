// fault-proxy.js - an HTTP proxy between sync clients and the server that
// misbehaves on purpose, from a seeded random sequence: it drops requests
// (never forwarded), drops responses (forwarded and applied, the answer
// lost), delays, duplicates requests, resets connections mid-response,
// answers 500 or 429 itself, and cuts live streams. `faults` are the
// probabilities of each per request; set them to {} to pass everything.
import http from 'node:http';

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEFAULT_FAULTS = {
  dropRequest: 0.06, dropResponse: 0.08, delay: 0.1, duplicate: 0.08, reset: 0.06, error500: 0.06, tooMany: 0.03, cutStream: 0.5,
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {{ target: string, seed?: number, faults?: object, maxDelay?: number,
 *   onForward?: (method: string, url: string) => void }} options
 *   target: the server origin (http://127.0.0.1:port); onForward is told of
 *   every request passed on to the server
 */
export async function startFaultProxy({ target, seed = 1, faults = DEFAULT_FAULTS, maxDelay = 80, onForward = null }) {
  const random = seededRandom(seed);
  const stats = { requests: 0, forwarded: 0 };
  let current = new URL(target);
  let rates = { ...faults };
  const sockets = new Set();

  const count = (k) => { stats[k] = (stats[k] || 0) + 1; };

  /** Sends the request upstream and collects the whole answer. */
  function forward(req, body) {
    stats.forwarded++;
    if (onForward) onForward(req.method, req.url);
    return new Promise((resolve, reject) => {
      const up = http.request({
        host: current.hostname, port: current.port, method: req.method, path: req.url,
        headers: { ...req.headers, host: current.host, connection: 'close' },
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  function pick() {
    let r = random();
    for (const k of ['dropRequest', 'dropResponse', 'delay', 'duplicate', 'reset', 'error500', 'tooMany']) {
      const p = rates[k] || 0;
      if (r < p) return k;
      r -= p;
    }
    return 'pass';
  }

  function reply(res, up) {
    const headers = { ...up.headers };
    delete headers['transfer-encoding'];
    delete headers.connection;
    headers['content-length'] = String(up.body.length);
    res.writeHead(up.status, headers);
    res.end(up.body);
  }

  async function stream(req, res) {
    // Live streams pass through; some are cut after a while.
    (stats.lastEventIds ||= []).push(req.headers['last-event-id'] ?? null);
    const up = http.request({
      host: current.hostname, port: current.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: current.host },
    }, (ures) => {
      res.writeHead(ures.statusCode, ures.headers);
      ures.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    up.end();
    if (random() < (rates.cutStream || 0)) {
      const after = 20 + random() * 300;
      setTimeout(() => { count('cutStream'); res.destroy(); up.destroy(); }, after);
    }
  }

  async function handle(req, res) {
    stats.requests++;
    if (req.url.split('?')[0].endsWith('/events')) return stream(req, res);
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const fault = pick();
    if (fault !== 'pass') count(fault);
    try {
      switch (fault) {
        case 'dropRequest':
          res.destroy();
          return;
        case 'error500':
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"error":{"code":"SYNC","message":"injected failure"}}');
          return;
        case 'tooMany':
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
          res.end('{"error":{"code":"SYNC","message":"slow down"}}');
          return;
        case 'delay':
          await sleep(random() * maxDelay);
          reply(res, await forward(req, body));
          return;
        case 'duplicate': {
          const first = await forward(req, body);
          const second = await forward(req, body);
          reply(res, random() < 0.5 ? first : second);
          return;
        }
        case 'dropResponse':
          await forward(req, body);
          res.destroy();
          return;
        case 'reset': {
          const up = await forward(req, body);
          res.writeHead(up.status, { ...up.headers, 'content-length': String(up.body.length) });
          res.write(up.body.subarray(0, up.body.length >> 1));
          setImmediate(() => res.destroy());
          return;
        }
        default:
          reply(res, await forward(req, body));
      }
    } catch {
      res.destroy();   // upstream unreachable (server down): like a dropped request
    }
  }

  const server = http.createServer((req, res) => { handle(req, res).catch(() => res.destroy()); });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    stats,
    /** Points the proxy at another server (after a restart). */
    setTarget(url) { current = new URL(url); },
    setFaults(f) { rates = { ...f }; },
    /** Cuts every open connection (live streams included). */
    cutAll() { for (const s of sockets) s.destroy(); },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
