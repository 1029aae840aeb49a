#!/usr/bin/env node
// cli.js - `npx nitro-wasm ...`:
//
//   nitro-wasm serve --schema ./entities.mjs [--port 8787] [--host 127.0.0.1]
//                    [--db ./nitro.db | postgres://...] [--secret S] [--base /sync] [--cors *]
//                    [--exit-with-stdin]
//   nitro-wasm token --user <id> [--secret S] [--ttl 1h]
//
// The secret defaults to the NITRO_SECRET environment variable. `serve`
// prints one line once it listens, with the URL (port 0 picks a free port):
//   nitro-wasm sync server listening on http://127.0.0.1:8787/sync
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSyncServer, createToken } from './index.js';

const USAGE = `usage:
  nitro-wasm serve --schema ./entities.mjs [--port 8787] [--host 127.0.0.1] [--db ./nitro.db] [--secret S] [--base /sync] [--cors ORIGIN]
  nitro-wasm token --user <id> [--secret S] [--ttl 1h]
The secret defaults to $NITRO_SECRET.`;

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

async function serve(args) {
  if (typeof args.schema !== 'string') fail(`serve needs --schema <module>: the entity definitions the clients use\n${USAGE}`);
  let schema;
  try {
    schema = await import(pathToFileURL(path.resolve(args.schema)).href);
  } catch (err) {
    fail(`cannot load the schema module ${args.schema}: ${err.message}`);
  }
  const port = args.port === undefined ? Number(process.env.PORT || 8787) : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number (got ${args.port})`);
  const host = typeof args.host === 'string' ? args.host : '127.0.0.1';
  let server;
  try {
    server = await createSyncServer({
      schema,
      db: typeof args.db === 'string' ? args.db : './nitro.db',
      secret: typeof args.secret === 'string' ? args.secret : process.env.NITRO_SECRET,
      base: typeof args.base === 'string' ? args.base : '/sync',
      cors: args.cors === true ? '*' : args.cors,
    });
  } catch (err) {
    fail(err.message);
  }
  let info;
  try {
    info = await server.listen(port, host);
  } catch (err) {
    await server.close();
    fail(`cannot listen on ${host}:${port}: ${err.message}`);
  }
  console.log(`nitro-wasm sync server listening on ${info.url}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // For a parent that spawns the server (tests, supervisors): exit when its
  // end of stdin closes, so a crashed parent leaves no server behind.
  if (args['exit-with-stdin']) {
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
if (command === 'serve') await serve(args);
else if (command === 'token') token(args);
else if (args.help || command === 'help' || command === undefined) console.log(USAGE);
else fail(`unknown command ${command}\n${USAGE}`);
