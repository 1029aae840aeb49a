// sync-protocol.js - what the sync client (sync.js) and the reference server
// (server/) share: writing server state into a store in one call
// (nw_sync_apply, src/store.h nw_store_put) from { entity, id, version,
// record | null } states, encoded for C. The server imports this module, not
// the client sync.js.
import { NitroError } from './errors.js';
import { T } from './nval.js';
import { Reader } from './record.js';

/**
 * Writes server state into a store: `states` are { entity, id, version,
 * record | null } (null deletes); not logged in the outbox, no reference
 * checks (src/store.h nw_store_put). Events are delivered with source
 * 'sync' when `flags` asks for them. A change the store refuses is passed to
 * onSkip(error, state) and left out; the others apply together.
 */
export function applyServerState(nitro, states, flags = 0, onSkip = null) {
  if (!states.length) return;
  const core = nitro.core;
  for (;;) {
    try {
      core.call0('nw_sync_apply', encodeStates(core, states), flags);
      break;
    } catch (err) {
      // A change this store cannot hold (its schema is older or stricter
      // than the server's) is reported and skipped; the rest apply.
      if (!onSkip || !(err instanceof NitroError) || err.index === undefined || err.index >= states.length) throw err;
      const [bad] = states.splice(err.index, 1);
      onSkip(err, bad);
      if (!states.length) return;
    }
  }
  if (!flags) { nitro._committed(); return; }
  const r = new Reader().reset(core.u8, core.dv, core.outView().byteOffset);
  r.u32();
  r.u32();
  const events = nitro._readEvents(r);
  if (events) {
    events.source = 'sync';
    nitro._deliver(events);
  }
  nitro._committed();
}

function encodeStates(core, states) {
  const enc = core.enc.reset();
  enc.byte(T.ARR);
  enc.u32(states.length);
  for (const s of states) {
    enc.byte(T.ARR);
    enc.u32(4);
    enc.byte(T.NUM);
    enc.f64(s.entity.table);
    enc.byte(T.STR);
    enc.str(s.id);
    enc.byte(T.NUM);
    enc.f64(s.version);
    if (s.record === null) enc.byte(T.NULL);
    else encodeRecord(s.entity, s.record, s.id, enc);
  }
  return core.send();
}

/** A record as a FIELDS map; fields the schema does not know are ignored
 * (a server ahead of this client), missing ones take their defaults. */
function encodeRecord(entity, rec, id, enc) {
  const fields = entity.fields;
  enc.byte(T.FIELDS);
  const at = enc.len;
  enc.u32(0);
  let n = 0;
  for (let i = 0; i < fields.length; i++) {
    const v = i === 0 ? id : rec[fields[i].name];
    if (v === undefined) continue;
    enc.byte(T.FIELD);
    enc.u32(i);
    enc.value(v);
    n++;
  }
  enc.dv.setUint32(at, n, true);
}

