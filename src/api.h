/* api.h - the WebAssembly boundary: shared state of the exported calls.
 *
 * Calling convention (every export follows it):
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

#if defined(NW_WASM) && defined(__EMSCRIPTEN__)
/* emcc exports what is kept alive (EMSCRIPTEN_KEEPALIVE is `used`). */
#define NW_EXPORT __attribute__((used, visibility("default")))
#elif defined(NW_WASM)
#define NW_EXPORT __attribute__((visibility("default")))
#else
#define NW_EXPORT
#endif

/* The response buffer of the current call (reset by nw_api_begin). */
nw_buf *nw_api_out(void);
/* The error struct of the current call. */
nw_error *nw_api_err(void);
/* Starts a call: clears output and error. */
void nw_api_begin(void);
/* Finishes a call: encodes the error if code != NW_OK; maps an output buffer
 * that ran out of memory to NW_E_LIMIT. Returns the final code. */
int nw_api_end(nw_code code);
#include "nval.h"
/* Environment for reading NVAL input: resolves query handles (tag 0x08)
 * into list views over store records. Never NULL. */
const nval_env *nw_api_env(void);
/* Installs the resolver used by nw_api_env (the store API does this). */
void nw_api_set_query_resolver(bool (*query)(void *ud, uint32_t handle, nv *out), void *ud);

/* The current input bytes (as written by JS after nw_input). */
const uint8_t *nw_api_in(void);

#endif
