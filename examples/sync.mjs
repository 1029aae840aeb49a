// Offline-first sync: a reference server in this process, two clients that
// converge through it. Run: node examples/sync.mjs (SQLite in memory; better-sqlite3
// is an optional dependency of nitro-wasm)
import { createNitro } from 'nitro-wasm';
import { createSyncServer } from 'nitro-wasm/server';
import schema from './schema.mjs';

const server = await createSyncServer({ schema, db: ':memory:', secret: process.env.NITRO_SECRET ?? 'example-secret-32-chars-long....' });
const { url } = await server.listen(0);        // e.g. http://127.0.0.1:40123/sync
const token = server.token('alice');            // or: NITRO_SECRET=... npx nitro-wasm token --user alice

async function client(storage) {
  const nitro = await createNitro();
  const { Task } = nitro.define(schema);
  // In Node the url is absolute; in a page '/sync' is enough. storage: a file path (Node) or an IndexedDB name.
  const sync = nitro.sync({ url, entities: [Task], token, live: false, storage });
  await sync.ready;
  return { nitro, Task, sync };
}

const a = await client();
const b = await client();
a.nitro.on('sync.*', (e) => console.log('a:', e.type));
a.Task.create({ title: 'Written offline first' });          // enters the outbox in the same commit
console.log('pending before push:', a.sync.status.pending);
await a.sync.push();
await b.sync.pull();
console.log('b sees:', b.Task.all().map((t) => t.title));
const [t] = b.Task.all();
t.update({ done: true });  await b.sync.push();  await a.sync.pull();
console.log('a sees done:', a.Task.all()[0].done, 'status:', JSON.stringify({ pending: a.sync.status.pending, online: a.sync.status.online }));
await a.sync.close(); await b.sync.close(); await server.close();
