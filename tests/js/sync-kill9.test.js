// sync-kill9.test.js - a client process writing with file storage is killed
// with SIGKILL at random points, 20 times, and restarted from its storage:
// every write whose `await nitro.flush()` resolved is there after the
// restart, and none reaches the (real, separate) server twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startServerProcess, tempDir, repoRoot } from '../sync/server-process.js';
import { seededRandom } from '../sync/fault-proxy.js';
import { makeClient, drain } from '../sync/clients.js';

const TRIALS = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs the writer until `ms` after its first flushed write, then SIGKILLs it; resolves
 * with the titles whose flush resolved. */
function runWriter(url, file, user, tag, ms) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [path.join(repoRoot, 'tests/sync/kill9-writer.js'), url, file, user, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
    const flushed = [];
    let buf = '', err = '', killed = false;
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('ok ')) continue;
        // The kill timer starts at the first flushed write, not at 'ready':
        // on a loaded machine the first flush can take longer than `ms`.
        if (flushed.length === 0) setTimeout(() => { killed = true; proc.kill('SIGKILL'); }, ms);
        flushed.push(line.slice(3));
      }
    });
    proc.on('exit', (code, signal) => {
      if (killed && signal === 'SIGKILL') resolve(flushed);
      else reject(new Error(`writer exited (${code ?? signal}) before it was killed:\n${err}`));
    });
  });
}

test(`kill -9 under a write loop, ${TRIALS} times: every flushed write survives, none twice on the server`, { timeout: 120_000 }, async () => {
  const dir = tempDir('nitro-kill9-');
  const srv = await startServerProcess({ db: path.join(dir, 'server.db') });
  const url = srv.url;
  const file = path.join(dir, 'client.bin');
  const user = 'kill9';
  const random = seededRandom(15);
  const all = [];
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const flushed = await runWriter(url, file, user, `t${trial}`, 20 + Math.floor(random() * 250));
      assert.ok(flushed.length > 0, `trial ${trial}: the writer flushed something before it was killed`);
      all.push(...flushed);
      // restart from the file: every flushed write is there
      const c = await makeClient(url, { user, storage: file });
      await c.sync.ready;
      assert.equal(c.sync.status.error, null, `trial ${trial}: storage loaded`);
      const titles = new Set(c.E.Task.all().map((t) => t.title));
      const lost = flushed.filter((t) => !titles.has(t));
      assert.deepEqual(lost, [], `trial ${trial}: flushed writes lost after kill -9`);
      if (trial % 5 === 4) await drain(c.sync);     // sometimes push before the next crash
      await c.sync.close();
      c.nitro.close();
    }
    const last = await makeClient(url, { user, storage: file });
    await last.sync.ready;
    await drain(last.sync);
    await last.sync.close();
    const reader = await makeClient(url, { user });
    await reader.sync.pull();
    const count = new Map();
    for (const t of reader.E.Task.all()) count.set(t.title, (count.get(t.title) || 0) + 1);
    assert.deepEqual(all.filter((t) => !count.has(t)), [], 'every flushed write reached the server');
    assert.deepEqual([...count].filter(([, n]) => n > 1), [], 'no write is on the server twice');
  } finally {
    await srv.stop();
  }
});
