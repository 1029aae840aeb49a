// clients.js - sync test clients: a nitro instance with the shared schema
// (tests/sync/entities.mjs) and a sync to `url` as `user`.
import { createNitro } from '../../dist/nitro.js';
import { createToken } from '../../server/auth.js';
import schema from './entities.mjs';
import { SECRET } from './server-process.js';

export { schema, SECRET };

export function tokenFor(user, ttl = '1h', secret = SECRET) {
  return createToken({ user, secret, ttl });
}

/** { nitro, E: { Task, Project, Note, Board }, sync } */
export async function makeClient(url, { user = 'alice', schemaOverride, ...options } = {}) {
  const nitro = await createNitro();
  const E = nitro.define(schemaOverride || schema);
  const sync = nitro.sync({ url, token: tokenFor(user), retry: { base: 5, max: 100 }, timeout: 5000, ...options });
  return { nitro, E, sync };
}

/** Records of an entity as plain objects in id order (for comparisons). */
export function dump(E) {
  const out = {};
  for (const [name, ent] of Object.entries(E)) out[name] = ent.all().map((r) => r.toJSON());
  return out;
}

/** Pushes until the outbox is empty (retrying failures), then pulls. */
export async function drain(sync, { attempts = 200 } = {}) {
  for (let i = 0; i < attempts; i++) {
    try {
      await sync.push();
      if (sync.status.pending === 0 || sync.conflicts().length === sync.status.pending) {
        await sync.pull();
        return;
      }
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  throw new Error(`could not drain the outbox (${sync.status.pending} pending, last error: ${sync.status.error && sync.status.error.message})`);
}

/** A fetch that notes every mutation a client sends ("client:seq" in
 * `seen`). The outbox coalesces writes per record (src/changelog.h), so the
 * server applies one version per distinct mutation sent, not per write. */
export function recordingFetch(seen = new Set()) {
  const f = (url, init) => {
    if (init && init.method === 'POST' && String(url).endsWith('/push') && typeof init.body === 'string') {
      const body = JSON.parse(init.body);
      for (const m of body.mutations) seen.add(`${body.client}:${m.seq}`);
    }
    return fetch(url, init);
  };
  f.seen = seen;
  return f;
}
