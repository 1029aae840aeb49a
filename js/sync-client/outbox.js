// outbox.js - the sync client's side of the WebAssembly boundary
// (src/api_sync.c): the outbox as C writes it for the push (the JSON body
// and an index of its mutations, src/sync_json.h), server state applied in
// C (pull pages, live changes and push answers alike, with pending local
// changes re-applied on top in C), the sync state, acknowledgements.
import { NitroError, errorMessage } from '../errors.js';
import { utf8 } from '../core.js';

import { OUTBOX_OP_NAMES as OP_NAMES, OUTBOX_FLAG, WRITE, PUSH_INDEX as PI } from '../wire.js';

export const CONFLICTED = OUTBOX_FLAG.CONFLICT;   // outbox entry flag (src/wire.h)
export const F_EVENTS = WRITE.EVENTS;             // event capture flag of writes (src/wire.h)
const utf8enc = new TextEncoder();

/** An outbox entry of a push body; id, fields and base come from its JSON
 * (enums by name, datetimes as ISO text: the form toJSON gives). */
class Mutation {
  constructor(body, seq, entity, op, flags, start, end) {
    this.body = body;
    this.seq = seq;
    this.entity = entity;
    this.op = OP_NAMES[op];
    this.conflicted = (flags & CONFLICTED) !== 0;
    this.start = start;
    this.end = end;
    this._json = null;
  }

  get json() { return this._json ??= JSON.parse(utf8.decode(this.body.subarray(this.start, this.end))); }
  get id() { return this.json.id; }
  get fields() { return this.json.fields ?? null; }
  get base() { return this.json.base ?? 0; }
}

/** Outbox entries of the tables in `mask` as C writes them for the push:
 * { body, list }, the JSON body and per mutation a Mutation. */
export function readOutbox(nitro, max, includeConflicted, mask) {
  const core = nitro.core;
  core.sendBytes(mask);
  core.call0('nw_sync_push', Number.isFinite(max) ? max : 0xFFFFFFFF, mask.length, includeConflicted ? 1 : 0);
  const view = core.outView();
  const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
  const n = dv.getUint32(0, true), blen = dv.getUint32(4, true);
  const body = view.slice(8, 8 + blen);
  const list = new Array(n);
  for (let i = 0, at = 8 + blen; i < n; i++, at += PI.BYTES) {
    list[i] = new Mutation(body, dv.getFloat64(at + PI.SEQ, true), nitro.byTable[dv.getUint32(at + PI.TABLE, true)],
      view[at + PI.OP], view[at + PI.FLAGS], dv.getUint32(at + PI.START, true), dv.getUint32(at + PI.END, true));
  }
  return { body, list };
}

/** { client, cursor, nextSeq, pending, firstUnsent } */
export function readState(core, reader) {
  core.call0('nw_sync_state');
  const r = reader.reset(core.u8, core.dv, core.outView().byteOffset);
  const client = r.value0Str();
  const cursor = r.value0Str();
  const nextSeq = r.dv.getFloat64(r.at, true);
  r.at += 8;
  const pending = r.u32();
  const firstUnsent = r.dv.getFloat64(r.at, true);
  return { client, cursor, nextSeq, pending, firstUnsent };
}

/** Removes answered entries from the outbox. */
export function ackSeqs(core, seqs) {
  if (!seqs.length) return;
  const bytes = new Uint8Array(seqs.length * 8);
  const dv = new DataView(bytes.buffer);
  seqs.forEach((s, i) => dv.setFloat64(i * 8, s, true));
  core.call0('nw_sync_ack', core.sendBytes(bytes));
}

/** A pull page (its JSON bytes) applied inside WebAssembly (src/sync_json.h)
 * with pending local changes re-applied on top, once per page; events are
 * delivered with source 'sync'. Returns { count, checkpoint, more, skips }
 * (skips: [{ error, id }] of the changes the store refused). */
export function applyPullJson(nitro, bytes, mask, flags, what, reader) {
  const core = nitro.core;
  const len = 4 + mask.length + bytes.length;
  const ptr = core.reserveInput(len);
  core.dv.setUint32(ptr, mask.length, true);
  core.u8.set(mask, ptr + 4);
  core.u8.set(bytes, ptr + 4 + mask.length);
  try {
    core.call0('nw_sync_apply_json', len, flags);
  } catch (err) {
    if (err instanceof NitroError && err.code === 'QUERY') {
      throw new NitroError('SYNC', `${what}: ${err.message}`, { rule: 'protocol', cause: err });
    }
    throw err;
  }
  const r = reader.reset(core.u8, core.dv, core.outView().byteOffset);
  r.u32();
  const count = r.u32();
  const more = r.u32() === 1;
  const checkpoint = r.value0Str();
  const skips = readSkips(core, r);
  const events = nitro._readEvents(r);
  if (events) {
    events.source = 'sync';
    nitro._deliver(events);
  }
  nitro._committed();
  return { count, checkpoint, more, skips };
}

function readSkips(core, r) {
  const skipped = r.u32();
  const skips = [];
  for (let i = 0; i < skipped; i++) {
    r.u32();
    const code = core.codes[r.u32()] ?? 'SYNC';
    const entity = r.value0Str(), field = r.value0Str(), rule = r.value0Str(), message = r.value0Str();
    const id = r.value0Str();
    const d = { entity, field, rule };
    skips.push({ error: new NitroError(code === 'ARG' ? 'QUERY' : code, errorMessage({ ...d, message }), d), id });
  }
  return skips;
}

/** Server changes as JS objects ({ entity, id, version, record | deleted })
 * as the JSON bytes of a pull page (checkpoint ''), for applyPullJson. */
export function changesJson(changes, known) {
  const list = [];
  for (const c of changes) {
    if (!c || typeof c.id !== 'string' || c.id === '' || !known(c.entity)) continue;
    const record = c.deleted ? null : (c.record && typeof c.record === 'object' ? c.record : null);
    const version = Number(c.version) || 0;
    list.push(record ? { entity: c.entity, id: c.id, version, record } : { entity: c.entity, id: c.id, version, deleted: true });
  }
  return list.length ? utf8enc.encode(JSON.stringify({ changes: list, checkpoint: '' })) : null;
}

// Server state goes into the store through the module the reference server
// shares (js/sync-protocol.js): applyServerState.
export { applyServerState } from '../sync-protocol.js';

