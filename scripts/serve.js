#!/usr/bin/env node
// serve.js - the dev server behind `npm start`: serves the demo pages (web/)
// at /, the build (dist/) at /dist/, the Datastar client that `npm install`
// brought (1.0.0-beta.11) at /datastar-npm.js, the Datastar 1.0.2 copy at
// /datastar.js when ../shared/ holds it (the test fixtures load that one), and the reference sync server
// (server/, schema web/schema.js) at /sync, so the demo board syncs.
//
//   node scripts/serve.js [--port 8787] [--host 127.0.0.1] [--db ./nitro-demo.db]
//                         [--datastar npm|1.0.2|cdn|URL] [--no-sync]
//
// --db defaults to $NITRO_DEMO_DB or ./nitro-demo.db (SQLite; a postgres://
// URL works too). --datastar (or $NITRO_DATASTAR) picks the Datastar client
// the demo loads: `npm` (the default: the installed 1.0.0-beta.11, so the demo
// needs no network), `1.0.2` (../shared's copy), `cdn` (the official 1.0.2
// CDN build, falling back to the npm client when it cannot load) or a URL.
// The page reads that choice from /demo-config.json.
//
// `staticHandler(rootMap)` is exported on its own so other servers can mount
// the same files next to their own routes.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(here, '..');

/** Content types by extension; anything else is served as bytes. */
export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8', // .d.ts files, readable in the browser
  // WebAssembly.instantiateStreaming refuses any other type.
  '.wasm': 'application/wasm',
};

/**
 * The default mounts for a repository root: web/ at /, dist/ at /dist/, and
 * the npm Datastar client at /datastar-npm.js, and ../shared's Datastar 1.0.2
 * at /datastar.js when it exists.
 * @param {string} root the repository root
 * @returns {Record<string, string>}
 */
export function defaultRootMap(root = REPO_ROOT) {
  const map = { '/': path.join(root, 'web'), '/dist/': path.join(root, 'dist') };
  const npm = path.join(root, NPM_DATASTAR);
  if (fs.existsSync(npm)) map['/datastar-npm.js'] = npm;
  const shared = path.resolve(root, '..', 'shared', 'datastar-1.0.2', 'datastar.js');
  if (fs.existsSync(shared)) map['/datastar.js'] = shared;
  return map;
}

/** The browser file of the npm Datastar client (a self-contained module). */
export const NPM_DATASTAR = 'node_modules/@starfederation/datastar/dist/datastar.js';

/**
 * Builds a request handler serving files from several roots.
 *
 * `rootMap` keys are URL prefixes: a key ending in `/` mounts a directory,
 * any other key is one exact URL mapped to one file. The longest matching key
 * wins. Only GET and HEAD are answered (405 for other methods). A directory
 * URL serves its index.html.
 *
 * The handler is `(req, res, next?)`: when nothing matches (or the file does
 * not exist) it calls `next()` if given, else answers 404, so it can sit in
 * front of other routes.
 *
 * @param {Record<string, string>} rootMap
 * @returns {(req: http.IncomingMessage, res: http.ServerResponse, next?: () => void) => void}
 */
export function staticHandler(rootMap) {
  const mounts = Object.entries(rootMap)
    .map(([prefix, target]) => ({ prefix, target: path.resolve(target), dir: prefix.endsWith('/') }))
    .sort((a, b) => b.prefix.length - a.prefix.length);

  return function handle(req, res, next) {
    const notFound = () => (next ? next() : send(res, 404, 'not found'));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (next) return next();
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed');
    }

    let pathname;
    try {
      // Parse only the path: the Host header is the client's and irrelevant here.
      pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return send(res, 400, 'bad request');
    }
    if (pathname.includes('\0')) return send(res, 400, 'bad request');

    // A mount named without its trailing slash (/dist): redirect, so that
    // relative links inside the mounted directory resolve.
    if (!pathname.endsWith('/') && mounts.some((m) => m.dir && m.prefix === pathname + '/')) {
      res.writeHead(301, { Location: pathname + '/' });
      return res.end();
    }

    const mount = mounts.find((m) => (m.dir ? pathname.startsWith(m.prefix) : pathname === m.prefix));
    if (!mount) return notFound();

    let file = mount.target;
    if (mount.dir) {
      // Resolve the rest against the mount and refuse anything that lands
      // outside it (`..`, encoded `%2e%2e`, backslashes on Windows, ...).
      file = path.resolve(mount.target, '.' + path.sep + pathname.slice(mount.prefix.length));
      if (!inside(mount.target, file)) return send(res, 403, 'forbidden');
    }
    serveFile(req, res, mount, file, notFound);
  };
}

function inside(root, file) {
  return file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function serveFile(req, res, mount, file, notFound) {
  fs.stat(file, (err, st) => {
    if (!err && st.isDirectory()) {
      file = path.join(file, 'index.html');
      return fs.stat(file, (err2, st2) => (err2 || !st2.isFile() ? notFound() : checkLinks(st2)));
    }
    if (err || !st.isFile()) return notFound();
    checkLinks(st);
  });

  // A symlink inside a mounted directory could still point outside it.
  function checkLinks(st) {
    if (!mount.dir) return stream(st);
    fs.realpath(mount.target, (e1, realRoot) => {
      fs.realpath(file, (e2, realFile) => {
        if (e1 || e2) return notFound();
        if (!inside(realRoot, realFile)) return send(res, 403, 'forbidden');
        stream(st);
      });
    });
  }

  function stream(st) {
    res.writeHead(200, {
      'Content-Type': MIME_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'Content-Length': st.size,
      // Always revalidate: a rebuilt dist/ must show up on the next reload.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }
}

function send(res, status, text) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache',
  });
  res.end(text);
}

/** The official CDN build of the Datastar version the demo is written for. */
export const DATASTAR_CDN = 'https://cdn.jsdelivr.net/gh/starfederation/datastar@1.0.2/bundles/datastar.js';

/**
 * What the demo page loads (`/demo-config.json`): `{ datastar, version,
 * fallback }`, or `{ datastar: null, error }` when the choice is not there
 * (the page shows the error). `choice` is npm (default), 1.0.2, cdn or a URL.
 */
export function datastarConfig(rootMap, choice = process.env.NITRO_DATASTAR || 'npm') {
  const npm = rootMap['/datastar-npm.js'] ? { datastar: '/datastar-npm.js', version: npmDatastarVersion() } : null;
  if (choice === 'npm') {
    if (!npm) return { datastar: null, error: `the Datastar client is not installed (${NPM_DATASTAR}); run: npm install` };
    return { ...npm, fallback: null };
  }
  if (choice === '1.0.2') {
    if (!rootMap['/datastar.js']) return { datastar: null, error: '--datastar 1.0.2 needs ../shared/datastar-1.0.2/datastar.js' };
    return { datastar: '/datastar.js', version: '1.0.2', fallback: null };
  }
  if (choice === 'cdn') return { datastar: DATASTAR_CDN, version: '1.0.2', fallback: npm };
  return { datastar: choice, version: null, fallback: npm };
}

function npmDatastarVersion() {
  const pkg = path.join(REPO_ROOT, 'node_modules', '@starfederation', 'datastar', 'package.json');
  try { return JSON.parse(fs.readFileSync(pkg, 'utf8')).version; } catch { return null; }
}

/**
 * Starts the dev server; resolves with the http.Server once it listens.
 * Use port 0 for a free port (read it from `server.address().port`).
 *
 * With `sync` (the default unless a custom `rootMap` is given) the reference sync server runs at /sync with the
 * demo schema (web/schema.js), every client as one user ('demo': one shared
 * board, no tokens); `db` is its storage (default ':memory:', so tests start
 * empty). It is closed with the http.Server and reachable as `server.sync`.
 * @param {{ port?: number, host?: string, root?: string, rootMap?: Record<string, string>,
 *   sync?: boolean, db?: string, datastar?: string }} [options]
 * @returns {Promise<http.Server & { sync: object | null }>}
 */
export async function startServer({
  port = 8787, host = '127.0.0.1', root = REPO_ROOT, rootMap, sync = rootMap === undefined, db = ':memory:', datastar,
} = {}) {
  const mounts = rootMap || defaultRootMap(root);
  const handle = staticHandler(mounts);
  const ds = datastarConfig(mounts, datastar);
  if (ds.error && !rootMap) console.error(`serve.js: ${ds.error}`);
  const config = JSON.stringify({ ...ds, sync: sync ? '/sync' : null });
  const syncServer = sync ? await startSync(root, db) : null;

  const server = http.createServer((req, res) => {
    const next = () => {
      if (req.url.split('?')[0] === '/demo-config.json') {
        res.writeHead(200, { 'Content-Type': MIME_TYPES['.json'], 'Cache-Control': 'no-cache' });
        return res.end(config);
      }
      handle(req, res);
    };
    if (syncServer) syncServer.handler(req, res, next);
    else next();
  });
  server.sync = syncServer;
  // The sync server's live streams are open responses: close them with us.
  if (syncServer) server.on('close', () => { syncServer.close().catch(() => {}); });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      syncServer?.close().catch(() => {});
      reject(err);
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve(server);
    });
  });
}

async function startSync(root, db) {
  // Imported lazily: the static part works without the server's dependencies.
  const { createSyncServer } = await import(pathToFileURL(path.join(root, 'server', 'index.js')).href);
  const schema = await import(pathToFileURL(path.join(root, 'web', 'schema.js')).href);
  return createSyncServer({
    schema,
    db,
    // The demo is one shared board: every client is the same user.
    authenticate: () => 'demo',
    log: (...a) => console.error(...a),
  });
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--no-sync') { opts.sync = false; continue; }
    const m = /^--(port|host|db|datastar)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unknown argument ${argv[i]} (use --port N, --host H, --db FILE, --datastar npm|1.0.2|cdn|URL, --no-sync)`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    opts[m[1]] = value;
  }
  return opts;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`serve.js: ${err.message}`);
    process.exit(2);
  }
  const port = Number(args.port ?? process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve.js: bad port ${args.port ?? process.env.PORT}`);
    process.exit(2);
  }
  const host = args.host ?? '127.0.0.1';
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'nitro.wasm'))) {
    console.error('serve.js: dist/ is not built yet; run: bash build.sh (or npm start)');
  }
  let server;
  try {
    server = await startServer({
      port, host, sync: args.sync !== false, datastar: args.datastar,
      db: args.db ?? process.env.NITRO_DEMO_DB ?? path.join(process.cwd(), 'nitro-demo.db'),
    });
  } catch (err) {
    console.error(`serve.js: cannot start on ${host}:${port}: ${err.code || err.message}`);
    process.exit(1);
  }
  const shown = ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost'].includes(host)
    ? 'localhost'
    : host.includes(':') ? `[${host}]` : host;
  console.log(`nitro-wasm demo: http://${shown}:${server.address().port}/`);
  if (server.sync) console.log(`sync server at /sync, data in ${args.db ?? process.env.NITRO_DEMO_DB ?? './nitro-demo.db'}`);
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive sockets would hold close() open
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

// Run only when executed directly, not when imported by tests or a server.
if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  main();
}
