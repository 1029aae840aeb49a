// kill9-writer.js - child process of tests/js/sync-kill9.test.js: a client
// with file storage that writes in a loop, syncing to the server, and prints
// "ok <title>" for every write whose `await nitro.flush()` resolved, until
// it is killed with SIGKILL.
//   node tests/sync/kill9-writer.js <sync url> <storage file> <user> <tag>
import { makeClient } from './clients.js';

const [url, file, user, tag] = process.argv.slice(2);
const { nitro, E, sync } = await makeClient(url, { user, storage: file });
await sync.ready;
sync.start();
process.stdout.write('ready\n');
for (let n = 0; ; n++) {
  const title = `${tag}-${n}`;
  const t = E.Task.create({ title });
  if (n % 3 === 0) E.Task.update(t.id, { priority: 1 + (n % 5) });
  if (n % 7 === 0) nitro.transaction(() => { E.Task.create({ title: `${title}-tx` }); E.Task.update(t.id, { tags: ['tx'] }); });
  await nitro.flush();
  process.stdout.write(`ok ${title}\n`);
  if (n % 7 === 0) process.stdout.write(`ok ${title}-tx\n`);
}
