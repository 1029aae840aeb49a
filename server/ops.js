// ops.js - what an operator needs from the sync server process: structured
// JSON logs, liveness/readiness endpoints and a graceful shutdown on SIGTERM.
// None of it knows about sync; index.js/cli.js wire it in.
//
//   const log = createLogger({ level: config.logLevel });
//   const shutdown = createShutdown({ logger: log, timeoutMs, retryMs, onClose: [() => storage.close()] });
//   const health = createHealth({ check: () => storage.ping(), isDraining: () => shutdown.draining });
//   shutdown.attach(httpServer).install();    // SIGTERM / SIGINT
//   // in the request handler, first:
//   if (await health.handle(req, res)) return;
//   if (shutdown.rejectIfDraining(req, res)) return;
//   // SSE responses are found by their request's Accept header (EventSource
//   // and nitro's client send it); others: shutdown.trackStream(res).

export const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Errors do not survive JSON.stringify (their fields are not enumerable). */
function jsonReplacer(_key, value) {
  if (value instanceof Error) {
    const out = { name: value.name, message: value.message };
    if (value.code != null) out.code = value.code;
    if (value.stack) out.stack = value.stack;
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/**
 * A logger writing one JSON object per line:
 * `{"time":"2025-01-01T00:00:00.000Z","level":"info","msg":"listening","port":8787}`.
 * @param {object} [opts]
 * @param {'debug'|'info'|'warn'|'error'|'silent'} [opts.level='info']
 * @param {{ write(s: string): any }} [opts.stream=process.stdout]
 * @param {object} [opts.fields] added to every line (e.g. `{ instance }`)
 * @param {() => Date} [opts.clock]
 */
export function createLogger({ level = 'info', stream = process.stdout, fields = {}, clock = () => new Date() } = {}) {
  if (!(level in LEVELS)) throw new Error(`unknown log level ${level}`);
  const threshold = LEVELS[level];
  function write(lvl, msg, extra) {
    if (LEVELS[lvl] < threshold) return;
    const entry = { time: clock().toISOString(), level: lvl, msg: String(msg), ...fields, ...extra };
    let line;
    try {
      line = JSON.stringify(entry, jsonReplacer);
    } catch {
      // A circular value must not take the process down with it.
      line = JSON.stringify({ time: entry.time, level: lvl, msg: entry.msg, logError: 'unserialisable fields' });
    }
    stream.write(`${line}\n`);
  }
  return {
    level,
    enabled: (lvl) => LEVELS[lvl] >= threshold,
    debug: (msg, extra) => write('debug', msg, extra),
    info: (msg, extra) => write('info', msg, extra),
    warn: (msg, extra) => write('warn', msg, extra),
    error: (msg, extra) => write('error', msg, extra),
    /** A logger adding `more` fields to every line. */
    child: (more) => createLogger({ level, stream, clock, fields: { ...fields, ...more } }),
  };
}

/**
 * Logs every request once it has been answered: method, path (query string
 * dropped: it may carry checkpoints or tokens), status, duration. Health
 * probes log at debug so they do not flood the log.
 * @param {import('node:http').Server} server
 * @param {ReturnType<typeof createLogger>} logger
 */
export function logRequests(server, logger) {
  server.on('request', (req, res) => {
    const start = process.hrtime.bigint();
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const path = (req.url || '').split('?')[0];
      const lvl = path === '/health' || path === '/ready' ? 'debug' : res.statusCode >= 500 ? 'warn' : 'info';
      logger[lvl]('request', { method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10, finished: res.writableFinished });
    });
  });
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(res.req && res.req.method === 'HEAD' ? undefined : text);
}

/**
 * Liveness and readiness.
 * - `GET /health`: 200 `{ status: 'ok' }` while the process serves HTTP at all
 *   (restart it when this fails).
 * - `GET /ready`: 200 `{ status: 'ready' }` when `check()` resolves within
 *   `timeoutMs` (e.g. the database answers); 503 `{ status: 'draining' }`
 *   during shutdown and 503 `{ status: 'unavailable', error }` when the check
 *   fails (send no traffic here).
 * @param {object} [opts]
 * @param {() => any} [opts.check] readiness probe, may return a promise
 * @param {() => boolean} [opts.isDraining]
 * @param {number} [opts.timeoutMs=2000]
 */
export function createHealth({ check = () => true, isDraining = () => false, timeoutMs = 2000 } = {}) {
  async function ready() {
    if (isDraining()) return { status: 503, body: { status: 'draining' } };
    let timer;
    try {
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`readiness check timed out after ${timeoutMs}ms`)), timeoutMs);
      });
      await Promise.race([Promise.resolve().then(check), timeout]);
      return { status: 200, body: { status: 'ready' } };
    } catch (err) {
      return { status: 503, body: { status: 'unavailable', error: String(err && err.message || err) } };
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    ready,
    /** Answers /health and /ready; resolves true when it did. */
    async handle(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const path = (req.url || '').split('?')[0];
      if (path === '/health') {
        sendJson(res, 200, { status: 'ok' });
        return true;
      }
      if (path === '/ready') {
        const r = await ready();
        sendJson(res, r.status, r.body, r.status === 503 ? { 'retry-after': '1' } : {});
        return true;
      }
      return false;
    },
  };
}

/**
 * Graceful shutdown for an http.Server.
 *
 * shutdown(): readiness turns 503 (the load balancer stops sending traffic),
 * the listening socket closes, requests that arrive on kept-alive connections
 * get 503 + Retry-After, live SSE streams get a `retry:` hint and are ended
 * (their clients reconnect elsewhere after `retryMs`), in-flight requests
 * (pushes) run to completion, then `onClose` hooks run (close the database
 * last, after the last push committed). After `timeoutMs` the remaining
 * connections are cut and the result says `clean: false`.
 *
 * @param {object} opts
 * @param {import('node:http').Server} [opts.server] or attach(server) later
 * @param {ReturnType<typeof createLogger>} [opts.logger]
 * @param {number} [opts.timeoutMs=10000]
 * @param {number} [opts.retryMs=1000]
 * @param {Array<() => any>} [opts.onClose]
 */
class Shutdown {
  #server; #logger; #timeoutMs; #retryMs;
  #hooks;
  #inFlight = new Set();
  #streams = new Set();
  #draining = false;
  #result = null;
  #idle = null; // resolves when inFlight empties during shutdown
  #attached = false;

  constructor({ server = null, logger, timeoutMs = 10_000, retryMs = 1000, onClose = [] }) {
    this.#server = server;
    this.#logger = logger;
    this.#timeoutMs = timeoutMs;
    this.#retryMs = retryMs;
    this.#hooks = [...onClose];
    if (server) this.attach(server);
  }

  #settle(res) {
    if (this.#inFlight.delete(res) && this.#draining && this.#inFlight.size === 0 && this.#idle) this.#idle();
  }

  #endStream(res) {
    if (res.writableEnded || res.destroyed) return;
    try {
      res.write(`retry: ${this.#retryMs}\n\n`);
      res.end();
    } catch { /* socket already gone */ }
  }

  // prepend: the app's handler (registered first) may call trackStream or
  // rejectIfDraining synchronously, and must find the request counted.
  #track = (req, res) => {
    // EventSource always sends this Accept header; others call trackStream.
    if (String(req.headers.accept || '').includes('text/event-stream')) {
      this.#streams.add(res);
      res.on('close', () => this.#streams.delete(res));
      return;
    }
    this.#inFlight.add(res);
    if (this.#draining) res.setHeader('connection', 'close');
    res.on('close', () => this.#settle(res));
  };

  /** Watches `srv` (an http.Server); once. */
  attach(srv) {
    if (this.#attached) {
      if (srv !== this.#server) throw new Error('createShutdown: already attached to another server');
      return this;
    }
    this.#attached = true;
    this.#server = srv;
    srv.prependListener('request', this.#track);
    return this;
  }

  /** Runs `fn` during shutdown, after in-flight requests, in order added. */
  addCloseHook(fn) {
    this.#hooks.push(fn);
    return this;
  }

  get draining() { return this.#draining; }
  get inFlight() { return this.#inFlight.size; }
  get streams() { return this.#streams.size; }

  /** Marks a response as a long-lived stream: it does not hold shutdown up
   * and gets a retry hint when shutdown begins. */
  trackStream(res) {
    this.#settle(res);
    if (this.#draining) { this.#endStream(res); return; }
    this.#streams.add(res);
    res.on('close', () => this.#streams.delete(res));
  }

  /** During shutdown, answers 503 + Retry-After and returns true. */
  rejectIfDraining(req, res) {
    if (!this.#draining) return false;
    sendJson(res, 503, { error: { code: 'UNAVAILABLE', message: 'server is shutting down; retry' } },
      { 'retry-after': String(Math.max(1, Math.ceil(this.#retryMs / 1000))), connection: 'close' });
    return true;
  }

  /** Runs the shutdown once; later calls get the same promise. */
  shutdown(reason = 'shutdown') {
    if (this.#result) return this.#result;
    this.#draining = true;
    if (this.#logger) this.#logger.info('shutting down', { reason, inFlight: this.#inFlight.size, streams: this.#streams.size });
    this.#result = this.#run(Date.now());
    return this.#result;
  }

  /** Waits for the in-flight requests (at most timeoutMs); false on timeout. */
  async #drain() {
    if (this.#inFlight.size === 0) return true;
    let timer;
    const drained = new Promise((resolve) => { this.#idle = resolve; });
    const expired = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), this.#timeoutMs); });
    const timedOut = (await Promise.race([drained, expired])) === 'timeout';
    clearTimeout(timer);
    if (timedOut && this.#logger) this.#logger.warn('shutdown timeout: cutting connections', { inFlight: this.#inFlight.size, timeoutMs: this.#timeoutMs });
    return !timedOut;
  }

  async #run(started) {
    const server = this.#server;
    const closed = server ? new Promise((resolve) => server.close(() => resolve())) : Promise.resolve();
    // Answers still being computed tell their clients not to reuse the connection.
    for (const res of this.#inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    for (const res of this.#streams) this.#endStream(res);
    let clean = await this.#drain();
    // Idle keep-alive connections would hold server.close() open.
    if (clean) server?.closeIdleConnections?.();
    else server?.closeAllConnections?.();
    for (const res of this.#streams) res.destroy();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    server?.closeAllConnections?.();
    for (const hook of this.#hooks) {
      try { await hook(); } catch (err) {
        clean = false;
        if (this.#logger) this.#logger.error('shutdown hook failed', { err });
      }
    }
    if (this.#logger) this.#logger.info('shut down', { clean, ms: Date.now() - started });
    return { clean };
  }

  /** Shuts down on the given signals and exits (0 when clean); a second
   * signal exits at once with 1. */
  install({ signals = ['SIGTERM', 'SIGINT'], exit = (code) => process.exit(code) } = {}) {
    for (const sig of signals) {
      process.on(sig, () => {
        if (this.#result) {
          if (this.#logger) this.#logger.warn('second signal: exiting now', { signal: sig });
          exit(1);
          return;
        }
        this.shutdown(sig).then((r) => exit(r.clean ? 0 : 1), () => exit(1));
      });
    }
    return this;
  }
}

/** A Shutdown (above) for `server` (or attach(server) later). */
export function createShutdown(options) {
  return new Shutdown(options);
}
