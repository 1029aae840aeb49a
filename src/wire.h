/* wire.h - the boundary contract: every tag, kind, flag, op code and layout
 * constant that crosses between C and JS, defined once, here.
 *
 * Each group is an X-macro table. C expands it into enums (below); JS gets
 * js/wire.js, generated from this file by scripts/gen-wire.js (build.sh runs
 * it; tests/js/wire.test.js checks the committed file is current). The
 * generator reads only the `#define NW_WIRE_<GROUP>(X)` tables: every entry
 * is X(NAME, integer literal) or X(NAME, integer literal, "js name"); the
 * group becomes `export const <GROUP> = { NAME: value, ... }` and, for
 * entries with a JS name, `<GROUP>_NAMES[value] = "js name"`.
 *
 * Changing a value here changes both sides at once; the byte layouts the
 * values describe are documented next to their writers (nval.h, record.h,
 * changelog.h, api_store.c, view.h, tpl_dom.h).
 */
#ifndef NW_WIRE_H
#define NW_WIRE_H

/* Value tags (nval.h: plain values; record.h: stored fields, where ENUM is
 * u8 index into the field's values). */
#define NW_WIRE_TAG(X) \
    X(NULL, 0x00) X(FALSE, 0x01) X(TRUE, 0x02) X(NUM, 0x03) X(STR, 0x04) X(ARR, 0x05) \
    X(OBJ, 0x06) X(DATE, 0x07) X(QUERY, 0x08) X(FIELD, 0x09) X(FIELDS, 0x0A) \
    X(UNKNOWN, 0x0B) X(ENUM, 0x0C)

/* Event kinds in a write's event records (store.h), with the names JS gives
 * them (`Task.created`). */
#define NW_WIRE_EV(X) \
    X(BEFORE_SAVE, 1, "beforeSave") X(CREATED, 2, "created") X(UPDATED, 3, "updated") \
    X(BEFORE_DELETE, 4, "beforeDelete") X(DELETED, 5, "deleted") X(EXPIRED, 6, "expired")

/* Event record layout: u8 kind, u8 flags, u16 table, u32 record length,
 * record fields, u32 previous length, previous fields, u32 mask lo, u32
 * mask hi. With flag SAME the event has the record and previous of the
 * event `back` bytes before it in the same buffer (the one a write emitted
 * just before, as `created` follows its `beforeSave`): u8 kind, u8 flags,
 * u16 table, u32 back, u32 mask lo, u32 mask hi. */
#define NW_WIRE_EVLAYOUT(X) \
    X(KIND, 0) X(FLAGS, 1) X(TABLE, 2) X(HEADER, 4) X(MASK_BYTES, 8)
#define NW_WIRE_EVFLAG(X) X(SAME, 1)

/* Write flags (the `flags` argument of every write export): capture events,
 * and stop for JS approval (validate, before* handlers). */
#define NW_WIRE_WRITE(X) X(EVENTS, 1) X(BEFORE, 2)

/* Outbox entry ops and flags (changelog.h), and table flags. */
#define NW_WIRE_OUTBOX_OP(X) X(CREATE, 1, "create") X(UPDATE, 2, "update") X(DELETE, 3, "delete")
#define NW_WIRE_OUTBOX_FLAG(X) X(CONFLICT, 1)
#define NW_WIRE_TABLE_FLAG(X) X(LOCAL, 1) X(VERSIONS, 2)

/* nw_query_exec ops (api_store.c). */
#define NW_WIRE_QUERY_OP(X) \
    X(ALL, 0) X(FIRST, 1) X(COUNT, 2) X(IDS, 3) X(UPDATE, 4) X(DELETE, 5) X(EXPLAIN, 6)

/* The push body's mutation index (sync_json.h nw_sync_json_push), byte
 * offsets in one entry: f64 seq, u32 table, u8 op, u8 flags, u16 0,
 * u32 start and u32 end of the mutation's object in the body. */
#define NW_WIRE_PUSH_INDEX(X) \
    X(SEQ, 0) X(TABLE, 8) X(OP, 12) X(FLAGS, 13) X(START, 16) X(END, 20) X(BYTES, 24)

/* query.explain() plan flags (query.h nw_query_explain). */
#define NW_WIRE_EXPLAIN(X) X(ORDERED, 1) X(STOPS, 2)

/* Decode hints: how JS reads a stored field of each type (types.h gives each
 * type one; nw_entity_define returns one per field). The stored tag decides
 * the bytes; the hint says what JS makes of them:
 *   VALUE   any value (r.value()): lists, json
 *   JSON    like VALUE; an object merges field by field (Datastar patches)
 *   STR     a string; a form's empty input stays ''
 *   TOKEN   a string; a form's empty input means null (refs, decimals)
 *   NUM     a number; form input is parsed as a number
 *   DATE    epoch ms, read as an ISO 8601 string; empty input means null
 *   BOOL    true/false; form input 'true'/'false'
 *   ENUM    ENUM tag: the field's values[index]; empty input means null
 *   STRLIST an array of strings (read without the generic loop) */
#define NW_WIRE_HINT(X) \
    X(VALUE, 0) X(JSON, 1) X(STR, 2) X(TOKEN, 3) X(NUM, 4) X(DATE, 5) X(BOOL, 6) \
    X(ENUM, 7) X(STRLIST, 8)

/* Live view edit op codes (view.h) and DOM program slot kinds and flags
 * (tpl_dom.h). */
#define NW_WIRE_EDIT(X) \
    X(CREATE, 1) X(TEXT, 2) X(ATTR, 3) X(HTML, 4) X(DECODE, 5) X(INSERT, 6) X(MOVE, 7) \
    X(REMOVE, 8) X(CLEAR, 9) X(DROP, 10) X(ROOT, 11) X(VIEW, 12)
#define NW_WIRE_SLOT(X) X(TEXT, 1) X(CONTENT, 2) X(ATTR, 3) X(LIST, 4) X(HTML, 5)
#define NW_WIRE_SLOTFLAG(X) X(INVERTED, 1) X(ONLY, 2)

/* nw_write_batch (api_batch.c, batch.h): the op of each write, its flags
 * (CONFLICT: refused unless an earlier write of the call touched the
 * record; EXISTS: NOT_FOUND unless the record exists), the status of each write in the output, and the guard mark
 * value that means "no savepoint left open". */
#define NW_WIRE_BATCH_OP(X) X(NONE, 0) X(SAVE, 1) X(UPDATE, 2) X(DELETE, 3)
#define NW_WIRE_BATCH_FLAG(X) X(CONFLICT, 1) X(EXISTS, 2)
#define NW_WIRE_BATCH_STATUS(X) X(APPLIED, 0) X(FAILED, 1) X(CONFLICT, 2)
#define NW_WIRE_BATCH_GUARD(X) X(NONE, 0xFFFFFFFF)

/* ---- the C names ---------------------------------------------------------- */
#define NW_WIRE_TAG_(n, v) NVAL_##n = v,
enum nw_wire_tag { NW_WIRE_TAG(NW_WIRE_TAG_) };
#define NW_WIRE_EV_(n, v, js) NW_EV_##n = v,
typedef enum nw_event_type { NW_WIRE_EV(NW_WIRE_EV_) } nw_event_type;
#define NW_WIRE_EVL_(n, v) NW_EVL_##n = v,
enum { NW_WIRE_EVLAYOUT(NW_WIRE_EVL_) };
#define NW_WIRE_EVF_(n, v) NW_EVF_##n = v,
enum { NW_WIRE_EVFLAG(NW_WIRE_EVF_) };
#define NW_WIRE_WF_(n, v) NW_WF_##n = v,
enum { NW_WIRE_WRITE(NW_WIRE_WF_) };
#define NW_WIRE_CL_(n, v, js) NW_CL_##n = v,
typedef enum nw_cl_op { NW_WIRE_OUTBOX_OP(NW_WIRE_CL_) } nw_cl_op;
#define NW_WIRE_CLF_(n, v) NW_CL_##n = v,
enum { NW_WIRE_OUTBOX_FLAG(NW_WIRE_CLF_) };
#define NW_WIRE_CLT_(n, v) NW_CLT_##n = v,
enum { NW_WIRE_TABLE_FLAG(NW_WIRE_CLT_) };
#define NW_WIRE_Q_(n, v) NW_Q_##n = v,
enum { NW_WIRE_QUERY_OP(NW_WIRE_Q_) };
#define NW_WIRE_EXPLAIN_(n, v) NW_EXPLAIN_##n = v##u,
enum { NW_WIRE_EXPLAIN(NW_WIRE_EXPLAIN_) };
#define NW_WIRE_HINT_(n, v) NW_HINT_##n = v,
enum nw_hint { NW_WIRE_HINT(NW_WIRE_HINT_) };

#define NW_WIRE_BOP_(n, v) NW_BOP_##n = v,
enum nw_batch_op { NW_WIRE_BATCH_OP(NW_WIRE_BOP_) };
#define NW_WIRE_BWF_(n, v) NW_BWF_##n = v,
enum { NW_WIRE_BATCH_FLAG(NW_WIRE_BWF_) };
#define NW_WIRE_BST_(n, v) NW_BST_##n = v,
typedef enum nw_batch_status { NW_WIRE_BATCH_STATUS(NW_WIRE_BST_) } nw_batch_status;
/* (an unsigned value, past int: a macro) */
#define NW_BGUARD_NONE 0xFFFFFFFFu

#endif
