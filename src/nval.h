/* nval.h - the byte encoding of plain JS values that crosses into WASM.
 *
 * JS encodes a value once per call (js/nval.js); C reads it in place,
 * without copying. All integers are little endian, unaligned.
 *
 *   0x00 null            0x01 false           0x02 true
 *   0x03 number  f64     0x07 date    f64 epoch ms
 *   0x04 string  u32 byte length, UTF-8 bytes
 *   0x05 array   u32 count, count values
 *   0x06 object  u32 count, count x (u32 key length, key UTF-8, value)
 *   0x08 query   u32 handle  (a lazy query the host resolves; see nval_env)
 *   0x09 field   u32 field index, value   (record data keyed by schema
 *                position instead of name; only inside NVAL_FIELDS maps)
 *   0x0A fields  u32 count, count x (0x09 entries or an unknown-key entry
 *                0x0B u32 len, name, value)
 */
#ifndef NW_NVAL_H
#define NW_NVAL_H
#include "nv.h"
#include "wire.h"

/* The tags NVAL_NULL ... NVAL_UNKNOWN are defined in wire.h (NW_WIRE_TAG). */

/* The deepest one value may nest (a json field value, template data, a query
 * spec): levels below the value itself. The JS encoder reads it from
 * nw_constants (`maxDepth`), so JS and C refuse the same depth. */
#define NVAL_MAX_DEPTH 64

/* Levels a call's input may wrap around such values (a batch array, a sync
 * state, a FIELDS map): the validator accepts NVAL_MAX_DEPTH plus these, and
 * the value's own depth is checked where it is used (record.c json fields). */
#define NVAL_ENVELOPE_DEPTH 3

/* Host hooks used while reading: resolves query handles to list views. */
typedef struct nval_env {
    bool (*query)(void *ud, uint32_t handle, nv *out);
    void *ud;
} nval_env;

/* Checks that [p, p+len) holds exactly one well-formed value (lengths in
 * bounds, depth <= NVAL_MAX_DEPTH + NVAL_ENVELOPE_DEPTH, known tags). Returns the number of bytes
 * the value spans, or 0 if malformed. Call once on untrusted input; the
 * readers below assume validated input. */
size_t nval_check(const uint8_t *p, size_t len);

/* Size in bytes of the validated value starting at p. */
size_t nval_span(const uint8_t *p);

/* Makes a view of the validated value at p. env may be NULL (query handles
 * then read as NV_NULL). */
void nval_view(nv *out, const uint8_t *p, const nval_env *env);

#endif

/* Raw accessors on validated input (no views): the value under `key` in the
 * object at p (NVAL_OBJ), or NULL if p is not an object or has no such key. */
const uint8_t *nval_get(const uint8_t *p, const char *key);
/* Convenience readers with defaults for absent/mistyped values. */
double nval_num(const uint8_t *v, double dflt);
bool nval_bool(const uint8_t *v, bool dflt);
/* String contents; *len receives the length; NULL if v is not a string. */
const char *nval_str(const uint8_t *v, uint32_t *len);
/* Array: element count (0 if v is not an array) and first element. */
uint32_t nval_arr(const uint8_t *v, const uint8_t **first);
