// The sync server's operational pieces: configuration from flags and
// environment, JSON logs, /health and /ready, graceful shutdown (in-flight
// requests finish, SSE streams get a retry hint, SIGTERM exits 0).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseConfig, ConfigError, redactConfig, usage, OPTIONS, backendOf } from '../../server/config.js';
import { createLogger, createHealth, createShutdown, logRequests } from '../../server/ops.js';

const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function request(port, pathname, { headers = {}, method = 'GET', onResponse } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method, headers, agent: false }, (res) => {
      if (onResponse) onResponse(res);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function lines() {
  const out = [];
  return { out, stream: { write: (s) => out.push(...s.split('\n').filter(Boolean).map((l) => JSON.parse(l))) } };
}

describe('config', () => {
  test('defaults apply when neither flags nor environment say anything', () => {
    const { config, rest, help } = parseConfig([], {});
    for (const o of OPTIONS) assert.equal(config[o.key], o.default, o.key);
    assert.equal(config.backend, 'sqlite');
    assert.deepEqual(rest, []);
    assert.equal(help, false);
  });

  test('environment variables are read and flags win over them', () => {
    const env = { PORT: '9000', DATABASE_URL: 'postgres://u:p@db:5432/app', NITRO_SECRET: 's3', LOG_LEVEL: 'WARN', NITRO_MAX_BATCH: '50' };
    const a = parseConfig([], env).config;
    assert.equal(a.port, 9000);
    assert.equal(a.db, 'postgres://u:p@db:5432/app');
    assert.equal(a.backend, 'postgres');
    assert.equal(a.secret, 's3');
    assert.equal(a.logLevel, 'warn');
    assert.equal(a.maxBatch, 50);
    const b = parseConfig(['--port', '0', '--db=./x.db', '--log-level', 'debug'], env).config;
    assert.equal(b.port, 0);
    assert.equal(b.db, './x.db');
    assert.equal(b.backend, 'sqlite');
    assert.equal(b.logLevel, 'debug');
    assert.equal(b.secret, 's3', 'unflagged settings still come from the environment');
  });

  test('sizes and durations take units; positional arguments and --help are returned', () => {
    const { config, rest, help } = parseConfig(['serve', '--max-body', '512kb', '--shutdown-timeout', '2s', '--sse-retry=250', '--help'], {});
    assert.equal(config.maxBody, 512 * 1024);
    assert.equal(config.shutdownTimeout, 2000);
    assert.equal(config.sseRetry, 250);
    assert.deepEqual(rest, ['serve']);
    assert.equal(help, true);
    assert.equal(parseConfig([], { NITRO_MAX_BODY: '2mb', NITRO_SHUTDOWN_TIMEOUT: '1m' }).config.maxBody, 2 * 1024 * 1024);
    assert.equal(parseConfig([], { NITRO_SHUTDOWN_TIMEOUT: '1m' }).config.shutdownTimeout, 60_000);
  });

  test('cli flags: --cors alone allows any origin, --exit-with-stdin is a switch, --base sets the prefix', () => {
    const { config } = parseConfig(['serve', '--cors', '--exit-with-stdin', '--base', '/api/sync'], {});
    assert.equal(config.cors, '*');
    assert.equal(config.exitWithStdin, true);
    assert.equal(config.base, '/api/sync');
    assert.equal(parseConfig(['--cors', 'https://app.example'], {}).config.cors, 'https://app.example');
    assert.equal(parseConfig(['--exit-with-stdin=false'], {}).config.exitWithStdin, false);
    assert.equal(parseConfig([], { NITRO_CORS: 'https://x.example' }).config.cors, 'https://x.example');
  });

  test('bad values are ConfigErrors that name the flag or variable', () => {
    const cases = [
      [['--port', '70000'], {}, /--port/],
      [['--port', 'abc'], {}, /--port/],
      [[], { PORT: '-1' }, /\$PORT/],
      [['--max-batch', '0'], {}, /--max-batch.*at least 1/],
      [['--max-body', 'lots'], {}, /--max-body/],
      [['--log-level', 'loud'], {}, /--log-level.*debug, info/],
      [['--shutdown-timeout', '5 years'], {}, /--shutdown-timeout/],
      [['--nope', '1'], {}, /unknown flag --nope/],
      [['--db'], {}, /--db needs a value/],
      [['--exit-with-stdin=maybe'], {}, /--exit-with-stdin: must be true or false/],
    ];
    for (const [argv, env, re] of cases) {
      assert.throws(() => parseConfig(argv, env), (err) => err instanceof ConfigError && re.test(err.message), `${argv} ${JSON.stringify(env)}`);
    }
  });

  test('backendOf recognises both PostgreSQL URL schemes', () => {
    assert.equal(backendOf('postgresql://h/db'), 'postgres');
    assert.equal(backendOf('POSTGRES://h/db'), 'postgres');
    assert.equal(backendOf('./postgres.db'), 'sqlite');
    assert.equal(backendOf(null), 'sqlite');
  });

  test('redactConfig hides the secret and the database password, and usage lists every flag', () => {
    const { config } = parseConfig(['--secret', 'hunter2', '--db', 'postgres://app:pw@db/app'], {});
    const shown = JSON.stringify(redactConfig(config));
    assert.ok(!shown.includes('hunter2') && !shown.includes(':pw@'), shown);
    assert.match(shown, /postgres:\/\/app:\*\*\*@db\/app/);
    assert.equal(config.secret, 'hunter2', 'the config itself is untouched');
    const text = usage();
    for (const o of OPTIONS) {
      assert.ok(text.includes(o.flag), o.flag);
      for (const e of o.env) assert.ok(text.includes(e), e);
    }
  });
});

describe('JSON logger', () => {
  test('writes one JSON object per line at or above its level, with fields and serialised errors', () => {
    const { out, stream } = lines();
    const clock = () => new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
    const log = createLogger({ level: 'info', stream, clock, fields: { instance: 'a' } });
    log.debug('hidden');
    log.info('listening', { port: 8787 });
    const err = Object.assign(new Error('boom'), { code: 'E42' });
    log.child({ req: 7 }).error('failed', { err });
    assert.equal(out.length, 2);
    assert.deepEqual(out[0], { time: '2025-01-02T03:04:05.000Z', level: 'info', msg: 'listening', instance: 'a', port: 8787 });
    assert.equal(out[1].level, 'error');
    assert.equal(out[1].req, 7);
    assert.equal(out[1].instance, 'a');
    assert.equal(out[1].err.message, 'boom');
    assert.equal(out[1].err.code, 'E42');
    assert.match(out[1].err.stack, /boom/);
    assert.equal(log.enabled('debug'), false);
    assert.equal(log.enabled('warn'), true);
  });

  test('silent writes nothing; circular fields do not throw', () => {
    const { out, stream } = lines();
    createLogger({ level: 'silent', stream }).error('x');
    assert.equal(out.length, 0);
    const loop = {}; loop.self = loop;
    createLogger({ stream }).warn('odd', { loop });
    assert.equal(out.length, 1);
    assert.equal(out[0].msg, 'odd');
    assert.throws(() => createLogger({ level: 'chatty' }), /unknown log level/);
  });

  test('logRequests logs method, path without query, and status', async () => {
    const { out, stream } = lines();
    const server = await listen((req, res) => { res.statusCode = 418; res.end('teapot'); });
    logRequests(server, createLogger({ stream }));
    await request(server.address().port, '/sync/pull?since=5&token=secret');
    await new Promise((r) => setImmediate(r));
    server.close();
    assert.equal(out.length, 1);
    assert.equal(out[0].msg, 'request');
    assert.equal(out[0].method, 'GET');
    assert.equal(out[0].path, '/sync/pull');
    assert.equal(out[0].status, 418);
    assert.equal(typeof out[0].ms, 'number');
  });
});

describe('health and readiness', () => {
  test('/health is 200 while serving; /ready follows the check and draining', async () => {
    let state = 'ok';
    let draining = false;
    const health = createHealth({
      check: () => {
        if (state === 'down') throw new Error('database unreachable');
        if (state === 'hang') return new Promise(() => {});
        return true;
      },
      isDraining: () => draining,
      timeoutMs: 100,
    });
    const server = await listen(async (req, res) => {
      if (await health.handle(req, res)) return;
      res.statusCode = 404; res.end();
    });
    const port = server.address().port;
    try {
      const h = await request(port, '/health');
      assert.equal(h.status, 200);
      assert.deepEqual(JSON.parse(h.body), { status: 'ok' });
      assert.equal((await request(port, '/health', { method: 'HEAD' })).status, 200);
      assert.equal((await request(port, '/ready')).status, 200);
      assert.equal((await request(port, '/other')).status, 404, 'other paths fall through');

      state = 'down';
      const down = await request(port, '/ready');
      assert.equal(down.status, 503);
      assert.deepEqual(JSON.parse(down.body), { status: 'unavailable', error: 'database unreachable' });
      assert.equal((await request(port, '/health')).status, 200, 'liveness does not depend on the database');

      state = 'hang';
      const hung = await request(port, '/ready');
      assert.equal(hung.status, 503);
      assert.match(JSON.parse(hung.body).error, /timed out/);

      state = 'ok';
      draining = true;
      const d = await request(port, '/ready');
      assert.equal(d.status, 503);
      assert.equal(JSON.parse(d.body).status, 'draining');
    } finally {
      server.close();
    }
  });
});

describe('graceful shutdown', () => {
  test('in-flight requests finish, SSE streams get a retry hint, then the close hooks run', async () => {
    const events = [];
    let releaseSlow;
    const slowGate = new Promise((r) => { releaseSlow = r; });
    let slowStarted;
    const slowArrived = new Promise((r) => { slowStarted = r; });
    let sseOpen;
    const sseArrived = new Promise((r) => { sseOpen = r; });
    let shutdown;
    const server = await listen(async (req, res) => {
      if (shutdown.rejectIfDraining(req, res)) return;
      if (req.url === '/push') {
        slowStarted();
        await slowGate;
        res.end('pushed');
        events.push('push answered');
        return;
      }
      if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: hello\n\n');
        shutdown.trackStream(res);
        sseOpen();
      }
    });
    const port = server.address().port;
    const { out, stream } = lines();
    shutdown = createShutdown({
      server, logger: createLogger({ stream }), timeoutMs: 10_000, retryMs: 1500,
      onClose: [() => { events.push('storage closed'); }],
    });

    const sse = request(port, '/events');
    await sseArrived;
    const push = request(port, '/push');
    await slowArrived;
    assert.equal(shutdown.inFlight, 1);
    assert.equal(shutdown.streams, 1);

    const done = shutdown.shutdown('test');
    assert.equal(shutdown.draining, true);
    const s = await sse;
    assert.match(s.body, /data: hello\n\n/);
    assert.ok(s.body.endsWith('retry: 1500\n\n'), JSON.stringify(s.body));
    await assert.rejects(request(port, '/push'), /ECONNREFUSED/, 'no new connections once draining');

    assert.deepEqual(events, [], 'nothing closes while a push is in flight');
    releaseSlow();
    const p = await push;
    assert.equal(p.status, 200);
    assert.equal(p.body, 'pushed');
    assert.equal(p.headers.connection, 'close');
    assert.deepEqual(await done, { clean: true });
    assert.deepEqual(events, ['push answered', 'storage closed']);
    assert.equal(shutdown.shutdown('again'), done, 'shutdown runs once');
    assert.deepEqual(out.map((l) => l.msg), ['shutting down', 'shut down']);
    assert.equal(out[0].reason, 'test');
  });

  test('a request that outlives the timeout is cut and the shutdown is not clean', async () => {
    const server = await listen(() => { /* never answers */ });
    const shutdown = createShutdown({ server, timeoutMs: 50 });
    const port = server.address().port;
    const hanging = request(port, '/stuck');
    while (shutdown.inFlight === 0) await new Promise((r) => setImmediate(r));
    const r = await shutdown.shutdown();
    assert.deepEqual(r, { clean: false });
    await assert.rejects(hanging, /socket hang up|ECONNRESET/);
  });

  test('attach() and addCloseHook() let the server and the hooks come later', async () => {
    const order = [];
    const shutdown = createShutdown({ timeoutMs: 5000, onClose: [() => order.push('first')] });
    const server = await listen((req, res) => { res.end('ok'); });
    shutdown.attach(server).addCloseHook(async () => { order.push('second'); });
    assert.equal(shutdown.attach(server), shutdown, 'attaching the same server again is harmless');
    assert.throws(() => shutdown.attach(http.createServer()), /already attached/);
    assert.equal((await request(server.address().port, '/')).body, 'ok');
    assert.deepEqual(await shutdown.shutdown(), { clean: true });
    assert.deepEqual(order, ['first', 'second']);
    assert.equal(server.listening, false);
  });

  test('rejectIfDraining answers 503 with Retry-After once draining', async () => {
    const server = await listen(() => {});
    const shutdown = createShutdown({ server, retryMs: 2500 });
    const captured = {};
    const fakeRes = {
      writeHead(status, headers) { captured.status = status; captured.headers = headers; },
      end(body) { captured.body = body; },
      req: { method: 'POST' },
    };
    assert.equal(shutdown.rejectIfDraining({}, fakeRes), false);
    await shutdown.shutdown();
    assert.equal(shutdown.rejectIfDraining({}, fakeRes), true);
    assert.equal(captured.status, 503);
    assert.equal(captured.headers['retry-after'], '3');
    assert.equal(JSON.parse(captured.body).error.code, 'UNAVAILABLE');
  });

  test('SIGTERM: a real process closes its SSE stream with a retry hint, logs JSON and exits 0', async () => {
    const ops = pathToFileURL(path.join(repoRoot, 'server/ops.js')).href;
    const script = `
      import http from 'node:http';
      import { createLogger, createShutdown, createHealth } from ${JSON.stringify(ops)};
      const log = createLogger({ level: 'info' });
      const server = http.createServer(async (req, res) => {
        if (await health.handle(req, res)) return;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': open\\n\\n');
      });
      const shutdown = createShutdown({ server, logger: log, retryMs: 700 }).install();
      const health = createHealth({ isDraining: () => shutdown.draining });
      server.listen(0, '127.0.0.1', () => log.info('listening', { port: server.address().port }));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    const port = await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const m = /"port":(\d+)/.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`child exited ${code}: ${stdout}`)));
    });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    assert.equal((await request(port, '/ready')).status, 200);
    let opened;
    const gotHeaders = new Promise((r) => { opened = r; });
    const stream = request(port, '/events', { headers: { accept: 'text/event-stream' }, onResponse: opened });
    await gotHeaders;
    child.kill('SIGTERM');
    const s = await stream;
    assert.ok(s.body.endsWith('retry: 700\n\n'), JSON.stringify(s.body));
    assert.deepEqual(await exited, { code: 0, signal: null });
    const logged = stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(logged.map((l) => l.msg).filter((m) => m !== 'request'), ['listening', 'shutting down', 'shut down']);
    assert.equal(logged[1].reason, 'SIGTERM');
    assert.equal(logged[2].clean, true);
  });
});
