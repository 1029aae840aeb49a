// wire.js - GENERATED from src/wire.h by scripts/gen-wire.js (build.sh runs it).
// Do not edit: change src/wire.h. Every constant that crosses the JS/WASM
// boundary comes from here.

export const TAG = Object.freeze({ NULL: 0, FALSE: 1, TRUE: 2, NUM: 3, STR: 4, ARR: 5, OBJ: 6, DATE: 7, QUERY: 8, FIELD: 9, FIELDS: 10, UNKNOWN: 11, ENUM: 12 });
export const EV = Object.freeze({ BEFORE_SAVE: 1, CREATED: 2, UPDATED: 3, BEFORE_DELETE: 4, DELETED: 5, EXPIRED: 6 });
export const EV_NAMES = Object.freeze([null, 'beforeSave', 'created', 'updated', 'beforeDelete', 'deleted', 'expired']);
export const EVLAYOUT = Object.freeze({ KIND: 0, FLAGS: 1, TABLE: 2, HEADER: 4, MASK_BYTES: 8 });
export const EVFLAG = Object.freeze({ SAME: 1 });
export const WRITE = Object.freeze({ EVENTS: 1, BEFORE: 2 });
export const OUTBOX_OP = Object.freeze({ CREATE: 1, UPDATE: 2, DELETE: 3 });
export const OUTBOX_OP_NAMES = Object.freeze([null, 'create', 'update', 'delete']);
export const OUTBOX_FLAG = Object.freeze({ CONFLICT: 1 });
export const TABLE_FLAG = Object.freeze({ LOCAL: 1, VERSIONS: 2 });
export const QUERY_OP = Object.freeze({ ALL: 0, FIRST: 1, COUNT: 2, IDS: 3, UPDATE: 4, DELETE: 5, EXPLAIN: 6 });
export const PUSH_INDEX = Object.freeze({ SEQ: 0, TABLE: 8, OP: 12, FLAGS: 13, START: 16, END: 20, BYTES: 24 });
export const EXPLAIN = Object.freeze({ ORDERED: 1, STOPS: 2 });
export const HINT = Object.freeze({ VALUE: 0, JSON: 1, STR: 2, TOKEN: 3, NUM: 4, DATE: 5, BOOL: 6, ENUM: 7, STRLIST: 8 });
export const EDIT = Object.freeze({ CREATE: 1, TEXT: 2, ATTR: 3, HTML: 4, DECODE: 5, INSERT: 6, MOVE: 7, REMOVE: 8, CLEAR: 9, DROP: 10, ROOT: 11, VIEW: 12 });
export const SLOT = Object.freeze({ TEXT: 1, CONTENT: 2, ATTR: 3, LIST: 4, HTML: 5 });
export const SLOTFLAG = Object.freeze({ INVERTED: 1, ONLY: 2 });
export const BATCH_OP = Object.freeze({ NONE: 0, SAVE: 1, UPDATE: 2, DELETE: 3 });
export const BATCH_FLAG = Object.freeze({ CONFLICT: 1, EXISTS: 2 });
export const BATCH_STATUS = Object.freeze({ APPLIED: 0, FAILED: 1, CONFLICT: 2 });
export const BATCH_GUARD = Object.freeze({ NONE: 4294967295 });
