#!/usr/bin/env node
// cli.js - `npx nitro-wasm ...`:
//
//   nitro-wasm serve --schema ./entities.mjs [--port 8787] [--host 127.0.0.1]
//                    [--db ./nitro.db | postgres://...] [--secret S] [--base /sync] [--cors *]
//                    [--exit-with-stdin]
//   nitro-wasm token --user <id> [--secret S] [--ttl 1h]
//
// `token` prints an HS256 JWT (auth.js) the server accepts while it checks
// tokens with the same secret (not with --jwks-url).
// The secret defaults to the NITRO_SECRET environment variable. `serve`
// prints one line once it listens, with the URL (port 0 picks a free port):
//   nitro-wasm sync server listening on http://127.0.0.1:8787/sync
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSyncServer, createToken } from './index.js';
import { parseConfig, ConfigError, usage, redactConfig } from './config.js';
import { createLogger, createHealth, createShutdown, logRequests } from './ops.js';

const USAGE = `usage:
  nitro-wasm serve --schema ./entities.mjs [--port 8787] [--host 127.0.0.1] [--db ./nitro.db] [--secret S] [--base /sync] [--cors ORIGIN]
  nitro-wasm token --user <id> [--secret S] [--ttl 1h]
The secret (at least 8 characters; the same for serve and token) defaults to $NITRO_SECRET.`;

function parseArgs(argv) {
  const args = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { args._.push(a); continue; }
    const eq = a.indexOf('=');
    if (eq > 0) { args[a.slice(2, eq)] = a.slice(eq + 1); continue; }
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args[a.slice(2)] = true;
    else { args[a.slice(2)] = next; i++; }
  }
  return args;
}

function fail(message) {
  console.error(`nitro-wasm: ${message}`);
  process.exit(2);
}

async function serve(argv) {
  let config, help;
  try {
    ({ config, help } = parseConfig(argv, process.env));
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message}\n${usage()}`);
    throw err;
  }
  if (help) { console.log(usage()); return; }
  if (!config.schema) fail(`serve needs --schema <module> (or NITRO_SCHEMA): the entity definitions the clients use\n${usage()}`);
  const log = createLogger({ level: config.logLevel });
  let schema;
  try {
    schema = await import(pathToFileURL(path.resolve(config.schema)).href);
  } catch (err) {
    fail(`cannot load the schema module ${config.schema}: ${err.message}`);
  }
  const shutdown = createShutdown({ logger: log, timeoutMs: config.shutdownTimeout, retryMs: config.sseRetry });
  let server;
  const health = createHealth({ check: () => server.ready(), isDraining: () => shutdown.draining });
  try {
    server = await createSyncServer({
      schema, db: config.db, secret: config.secret, base: config.base, cors: config.cors,
      jwksUrl: config.jwksUrl ?? undefined, issuer: config.issuer ?? undefined, audience: config.audience ?? undefined,
      maxBody: config.maxBody, maxBatch: config.maxBatch, poolSize: config.poolSize,
      authLimit: config.authLimit, authWindow: config.authWindow, logger: log,
      log: (msg, err) => log.error(String(msg).replace(/^nitro-wasm server: /, '').replace(/:$/, ''), err ? { err } : undefined),
      health, shutdown,
    });
  } catch (err) {
    fail(err.message);
  }
  let info;
  try {
    info = await server.listen(config.port, config.host);
  } catch (err) {
    await server.close();
    fail(`cannot listen on ${config.host}:${config.port}: ${err.message}`);
  }
  logRequests(server.httpServer, log);
  shutdown.addCloseHook(() => server.close()).install();
  // The one plain line tools wait for; JSON logs follow.
  console.log(`nitro-wasm sync server listening on ${info.url}`);
  log.info('listening', { url: info.url, backend: config.backend, config: redactConfig(config) });
  // For a parent that spawns the server (tests, supervisors): exit when its
  // end of stdin closes, so a crashed parent leaves no server behind.
  if (config.exitWithStdin) {
    const stop = () => shutdown.shutdown('stdin closed').then((r) => process.exit(r.clean ? 0 : 1));
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

function token(args) {
  if (typeof args.user !== 'string') fail(`token needs --user <id>\n${USAGE}`);
  const secret = typeof args.secret === 'string' ? args.secret : process.env.NITRO_SECRET;
  try {
    console.log(createToken({ user: args.user, secret, ttl: typeof args.ttl === 'string' ? args.ttl : '1h' }));
  } catch (err) {
    fail(err.message);
  }
}

const args = parseArgs(process.argv.slice(2));
const command = args._[0];
if (command === 'serve') await serve(process.argv.slice(2));
else if (command === 'token') token(args);
else if (args.help || command === 'help' || command === undefined) console.log(USAGE);
else fail(`unknown command ${command}\n${USAGE}`);
