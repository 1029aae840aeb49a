/* nv.h - a read-only view of one value, whatever holds it.
 *
 * The template engine renders from values that live in different places:
 * plain data encoded by JS (nval.h), records stored in the repository and
 * query results iterated inside WebAssembly (store.h). All of them are read
 * through this one interface so that the renderer knows nothing about where
 * data comes from.
 *
 * An nv is a small struct passed by value. It borrows the memory it points
 * into: it is valid only while the underlying data is unchanged (for the
 * duration of one render call).
 */
#ifndef NW_NV_H
#define NW_NV_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "buf.h"

typedef enum nv_kind {
    NV_MISSING = 0, /* no such key */
    NV_NULL,
    NV_BOOL,
    NV_NUM,
    NV_DATE,        /* epoch milliseconds in u.num; text form is ISO 8601 */
    NV_STR,         /* UTF-8 bytes in u.str (not NUL-terminated) */
    NV_LIST,
    NV_MAP
} nv_kind;

typedef struct nv nv;

/* Iteration state for lists; zero it to start. */
typedef struct nv_iter { uint32_t i; size_t off; } nv_iter;

typedef struct nv_ops {
    /* NV_MAP: looks up `key`; returns true and fills *out if present. */
    bool (*get)(const nv *self, const char *key, size_t klen, nv *out);
    /* NV_LIST: number of elements. */
    uint32_t (*len)(const nv *self);
    /* NV_LIST: next element. Start with a zeroed nv_iter; returns false at
     * the end (or if the element cannot be produced). Iteration is linear. */
    bool (*next)(const nv *self, nv_iter *it, nv *out);
} nv_ops;

struct nv {
    nv_kind kind;
    const nv_ops *ops;             /* set for NV_LIST and NV_MAP */
    union {
        bool b;
        double num;
        struct { const char *p; size_t len; } str;
    } u;
    const void *a, *c;             /* implementation data */
    uint32_t n;                    /* implementation data */
};

/* Mustache truthiness: missing, null, false, empty list, empty string are
 * falsy; JS-like: 0 is falsy too (the spec leaves numbers to the host
 * language; we follow JavaScript, like mustache.js). */
bool nv_truthy(const nv *v);

/* Appends the plain text form of a scalar (no escaping): numbers as JS
 * String(n), booleans as true/false, dates as toISOString(), strings as-is;
 * null and missing append nothing; lists join elements with ',' (like JS);
 * maps append "[object Object]" (like JS). */
void nv_write_text(nw_buf *out, const nv *v);

/* Appends the ISO 8601 form of epoch milliseconds (YYYY-MM-DDTHH:MM:SS.sssZ,
 * with +/-YYYYYY years outside 0..9999, as Date.prototype.toISOString). */
void nv_write_iso_date(nw_buf *out, double ms);

#endif
