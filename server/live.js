// live.js - the sync server's live streams (GET <base>/events): Server-Sent
// Events announcing each commit to the users who may see it (docs/sync.md,
// "Live"). Small commits carry the changes themselves; big ones and commits
// of other instances are announced bare (the client pulls).
import { changeJson } from './storage/index.js';

/** A `change` event: its id is the version, so a reconnecting client's
 * Last-Event-ID says what it has seen. */
function changeEvent(version, data) {
  return `id: ${version}\nevent: change\ndata: ${data}\n\n`;
}

/**
 * @param {object} o
 * @param {number} o.ping ms between keep-alive comments
 * @param {number} o.liveChanges commits up to this many rows go out inline
 */
export function createLive({ ping, liveChanges }) {
  const streams = new Set();
  const timer = setInterval(() => { for (const s of streams) s.res.write(': ping\n\n'); }, ping);
  timer.unref();

  /** Opens a stream on `res` (a node ServerResponse) for `user`; `headers`
   * are added (CORS). `lastEventId` is the client's Last-Event-ID. */
  function open(res, user, committed, lastEventId, headers = {}) {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\n\n');
    // Whatever the client may have missed: it compares with its checkpoint.
    if (!(Number(lastEventId) >= committed)) res.write(changeEvent(committed, `{"version":${committed}}`));
    const s = { user, res, lastSent: committed };
    streams.add(s);
    const drop = () => streams.delete(s);
    res.on('close', drop);
    res.on('error', drop);
  }

  /** The changes of `rows` that `user` may see, as JSON text ('' if none). */
  function share(rows, user) {
    const mine = rows.filter((r) => r.scope === '*' || r.scope === user).map(changeJson);
    return mine.length ? mine.join(',') : '';
  }

  /**
   * Tells the streams that may see a change about a commit up to `version`.
   * With `rows` (the committed record rows) a stream's event carries its
   * user's share of them and `from`, the version of the previous event on
   * that stream: a client whose checkpoint is at least `from` then has every
   * change up to `version` without pulling.
   */
  function notify(scopes, version, rows = null) {
    const bare = changeEvent(version, `{"version":${version}}`);
    const inline = rows && rows.length <= liveChanges ? new Map() : null;
    for (const s of streams) {
      if (!scopes.has('*') && !scopes.has(s.user)) continue;
      let frame = bare;
      if (inline && s.lastSent !== null) {
        let changes = inline.get(s.user);
        if (changes === undefined) { changes = share(rows, s.user); inline.set(s.user, changes); }
        if (changes) frame = changeEvent(version, `{"version":${version},"from":${s.lastSent},"changes":[${changes}]}`);
      }
      if (s.lastSent === null || version > s.lastSent) s.lastSent = version;
      s.res.write(frame);
    }
  }

  function close() {
    clearInterval(timer);
    for (const s of streams) s.res.end();
    streams.clear();
  }

  return { open, notify, close };
}
