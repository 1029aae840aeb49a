#!/bin/sh
# The sync server from the command line: serve, mint a token, pull with it.
# Run: sh examples/cli.sh   (in a project where `npm install nitro-wasm` ran)
set -e
export NITRO_SECRET="${NITRO_SECRET:-$(node -e "console.log(crypto.randomBytes(32).toString('hex'))")}"   # 8+ characters; serve and token share it
PORT="${PORT:-8787}"

# SQLite in ./nitro.db (better-sqlite3, an optional dependency); --db postgres://user@host/db for PostgreSQL (npm install pg)
setsid npx nitro-wasm serve --schema ./examples/schema.mjs --port "$PORT" --db ./nitro.db &
SERVER=$!
trap 'kill -- -$SERVER' EXIT   # setsid: npx and the server it starts are one group, stopped whole
TOKEN=$(npx nitro-wasm token --user alice --ttl 1h)   # a signed bearer token

node -e "
const url = 'http://127.0.0.1:$PORT';
for (let i = 0; i < 100; i++) { try { if ((await fetch(url + '/ready')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
const res = await fetch(url + '/sync/pull?since=0', { headers: { authorization: 'Bearer $TOKEN' } });
console.log('pull as alice:', res.status, Object.keys(await res.json()).sort().join(','));
" --input-type=module
