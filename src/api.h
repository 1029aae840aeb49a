/* api.h - the WebAssembly boundary: shared state of the exported calls.
 *
 * Calling convention (every export follows it):
 *   - Every export but nw_instance_new takes the instance (instance.h)
 *     first: all state lives there, none in file scope.
 *   - JS writes the request bytes into the input buffer obtained from
 *     nw_input(len) and calls one export per batch (a create, a query, a
 *     render, a sync batch), never one per field or tag.
 *   - The export returns an nw_code. On NW_OK the response bytes are in the
 *     output buffer (nw_out_ptr()/nw_out_len()), valid until the next call.
 *     On failure, nw_err_ptr()/nw_err_len() hold the encoded error:
 *       u32 code, i32 index, u32 line, u32 column, then four strings
 *       (u32 length + UTF-8): entity, field, rule, message.
 * The API modules (api.c, api_*.c) use the accessors below.
 */
#ifndef NW_API_H
#define NW_API_H
#include <stdint.h>
#include <stddef.h>
#include "buf.h"
#include "error.h"
#include "instance.h"

#if defined(NW_WASM) && defined(__EMSCRIPTEN__)
/* emcc exports what is kept alive (EMSCRIPTEN_KEEPALIVE is `used`). */
#define NW_EXPORT __attribute__((used, visibility("default")))
#elif defined(NW_WASM)
#define NW_EXPORT __attribute__((visibility("default")))
#else
#define NW_EXPORT
#endif

/* The response buffer of the current call (reset by nw_api_begin). */
nw_buf *nw_api_out(nw_instance *I);
/* The error struct of the current call. */
nw_error *nw_api_err(nw_instance *I);
/* Starts a call: clears output and error, and what record views cached. */
void nw_api_begin(nw_instance *I);
/* Finishes a call: encodes the error if code != NW_OK; maps an output buffer
 * that ran out of memory to NW_E_LIMIT. Returns the final code. */
int nw_api_end(nw_instance *I, nw_code code);
/* Appends an error in the boundary's error layout (code, index, line,
 * column, then entity, field, rule and message as u32-length strings; an
 * empty message becomes the code's name), as nw_api_end writes it. */
void nw_api_put_error(nw_buf *b, const nw_error *e);
/* Environment for reading NVAL input: resolves query handles (tag 0x08)
 * into list views over store records. Never NULL. */
const nval_env *nw_api_env(nw_instance *I);
/* Installs the resolver used by nw_api_env (the store API does this). */
void nw_api_set_query_resolver(nw_instance *I, bool (*query)(void *ud, uint32_t handle, nv *out), void *ud);

/* The current input bytes (as written by JS after nw_input). */
const uint8_t *nw_api_in(nw_instance *I);

/* ---- shared by the API modules ---- */

/* The instance's store, created on first use; NULL (err filled) on OOM. */
nw_store *nw_api_store(nw_instance *I, nw_error *err);
/* Starts a write: clears captured events and sets capture per `flags`
 * (1 = after-commit events, 2 = also before* events). */
void nw_api_begin_write(nw_instance *I, uint32_t flags);
/* Ends a write begun at `mark`: on rc != NW_OK undoes it, else keeps it and
 * appends u32 event count + u32 length of the event records to the output
 * (the records stay at nw_events_ptr until the next write). Returns the
 * call's final status (nw_api_end). */
int nw_api_end_write(nw_instance *I, size_t mark, nw_code rc);
/* Live results (api_live.c): the store was replaced by a restore; the
 * live module re-attaches and re-runs its queries. */
void nw_api_store_replaced(nw_instance *I, nw_store *s);
/* The storage journal (api_sync.c): the store was replaced by a restore;
 * the journal follows it and drops what it held for the old one. */
void nw_api_journal_store_replaced(nw_instance *I, nw_store *s);
/* A template is being freed (api_template.c): its views go with it. */
void nw_api_template_freed(nw_instance *I, uint32_t id);
/* Runs the queries of a render's data (api_store.c): `arr` is an NVAL array
 * of { table, query }; query handle i in the data then reads the records
 * of queries[i] (nw_api_env), until the next prepare. */
nw_code nw_api_prepare_queries(nw_instance *I, const uint8_t *arr, nw_error *err);
/* The compiled template with that id, or NULL. */
nw_tpl *nw_api_template(nw_instance *I, uint32_t id);

#endif
