// pull.js - GET <base>/pull?since=&limit=&entities=: one page of the changes
// a user may see (their own records and the shared ones), by version, read
// from storage and formatted there (storage/index.js pullJson).
import { HttpError } from './errors.js';

/** The checked query of a pull: { since, limit, entities | null }. */
export function pullQuery(query, { pullLimit, maxPull }) {
  const sinceText = query.since ?? '';
  if (typeof sinceText !== 'string' || !/^\d{0,16}$/.test(sinceText)) throw new HttpError(400, 'since must be a checkpoint the server gave', { rule: 'format' });
  const limitText = query.limit;
  const limit = limitText === undefined ? pullLimit : Number(limitText);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new HttpError(400, 'limit must be a positive integer', { rule: 'format' });
  const raw = query.entities === undefined ? [] : [].concat(query.entities);
  const names = raw.flatMap((e) => String(e).split(',')).filter(Boolean);
  return { since: Number(sinceText || 0), limit: Math.min(limit, maxPull), entities: names.length ? [...new Set(names)] : null };
}

/**
 * The page for `user`: { json, checkpoint, more }. `committed` is the
 * server's head when the pull began: a page that is not cut short moves the
 * checkpoint up to it (nothing between is the user's).
 */
export async function pullPage(storage, user, q, committed) {
  const page = await storage.pullJson({ scope: user, since: q.since, limit: q.limit, entities: q.entities });
  const more = page.count === q.limit;
  const checkpoint = more ? page.last : Math.max(page.last, committed, q.since);
  return { json: `{"changes":[${page.json}],"checkpoint":"${checkpoint}","more":${more}}`, checkpoint, more };
}
