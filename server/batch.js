// batch.js - a list of store writes in one crossing: encodes them for
// nw_write_batch (src/api_batch.c documents the bytes, src/batch.h the
// rules) and decodes its answer. Each write runs in its own savepoint: one
// that fails is undone alone and answered with its error; the rows every
// applied write changed (cascades included) come back as its events.
// The sync server (server/authority.js) decides a push with it.
import { Reader } from '../js/record.js';
import { BATCH_OP, BATCH_FLAG, BATCH_STATUS, BATCH_GUARD } from '../js/wire.js';

export { BATCH_OP };

/**
 * @typedef {object} BatchWrite
 * @property {number} op BATCH_OP.SAVE (update or create), UPDATE, DELETE or NONE
 * @property {import('../js/entity.js').Entity} entity
 * @property {string} id the record's id in the store
 * @property {object} [data] SAVE/UPDATE: the record data (SAVE: with its id)
 * @property {boolean} [conflict] refused as a conflict unless an earlier
 *   write of the same call touched the record
 * @property {{ entity: object, field: number, id: string }[]} [refs] records
 *   that must exist first (field: the index of the writing field)
 * @property {string} [scope] rows of scoped tables it changes must have ids starting with it
 * @property {Error} [error] the answer when C lets the write through (it is
 *   then sent as NONE, so a conflict still decides first)
 */

function encodeWrite(enc, w) {
  const start = enc.len;
  // An error given with the write comes before its refs are checked; one of
  // encoding comes after them, and after an update's NOT_FOUND.
  const early = !!w.error;
  for (let late = false; ; late = true) {
    const op = w.error ? BATCH_OP.NONE : w.op;
    const refs = early ? [] : w.refs ?? [];
    enc.byte(op);
    enc.byte((w.conflict ? BATCH_FLAG.CONFLICT : 0) | (late && w.op === BATCH_OP.UPDATE ? BATCH_FLAG.EXISTS : 0));
    enc.byte(refs.length & 0xff);
    enc.byte(refs.length >> 8);
    enc.u32(w.entity.table);
    enc.str(w.id);
    enc.str(w.scope ?? '');
    for (const r of refs) { enc.u32(r.entity.table); enc.u32(r.field); enc.str(r.id); }
    if (op !== BATCH_OP.SAVE && op !== BATCH_OP.UPDATE) return;
    try {
      w.entity.encodeData(w.data, enc);
      return;
    } catch (err) {
      // refused before C sees it, as the entity API refuses it
      enc.len = start;
      w.error = err;
    }
  }
}

/** The error at the reader (nw_api_put_error's layout); the reader moves past it. */
function readError(core, r) {
  const { error, end } = core.errorAt(r.at);
  r.at = end;
  return error;
}

/**
 * Applies `writes` in order in one call. Writes from `guardFrom` on capture
 * beforeSave/beforeDelete events and stay in a savepoint: end it with
 * endGuard(nitro, mark, approve). `scoped[t]` = 1 for tables whose ids a
 * write's `scope` limits.
 * @returns {{ mark: number | null, results: ({ status: 'applied', events: object[] | null } |
 *   { status: 'failed', error: Error } | { status: 'conflict' })[] }}
 */
export function writeBatch(nitro, writes, guardFrom, scoped) {
  nitro._open();
  const core = nitro.core;
  const enc = core.enc.reset();
  enc.u32(Math.min(guardFrom, writes.length));
  enc.u32(scoped.length);
  for (let i = 0; i < scoped.length; i++) enc.byte(scoped[i] ? 1 : 0);
  enc.u32(writes.length);
  for (const w of writes) encodeWrite(enc, w);
  core.call0('nw_write_batch', core.send(), Date.now());
  const r = new Reader().reset(core.u8, core.dv, core.outView().byteOffset);
  const mark = r.u32();
  const n = r.u32();
  const results = new Array(n);
  for (let i = 0; i < n; i++) {
    const st = r.u32();
    if (st === BATCH_STATUS.FAILED) results[i] = { status: 'failed', error: readError(core, r) };
    else if (st === BATCH_STATUS.CONFLICT) results[i] = { status: 'conflict' };
    else {
      const events = nitro._readInlineEvents(r);
      results[i] = writes[i].error ? { status: 'failed', error: writes[i].error } : { status: 'applied', events };
    }
  }
  return { mark: mark === BATCH_GUARD.NONE ? null : mark, results };
}

/** Keeps (approve) or undoes the guarded writes of a writeBatch call. */
export function endGuard(nitro, mark, approve) {
  nitro.core.call0('nw_guard_end', mark, approve ? 1 : 0);
}
