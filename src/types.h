/* types.h - one home per field type: the type table.
 *
 * Every field type is one row of NW_TYPES and one nw_type_ops in types.c,
 * which holds all that differs between types:
 *   parse    the type's own options in a field definition (enum `values`,
 *            list `of`, ref `entity`/`onDelete`, decimal `precision`/`scale`)
 *   convert  a written value -> stored field bytes, with the value rules
 *            (VALIDATION naming entity, field and rule)
 *   qconv    a query value -> the stored form it is compared in (type only)
 *   span     checks the bytes of a stored value that come from outside
 *   cmp      the order queries, indexes and orderBy use
 *   key      the same order as bytes (abbreviated index keys)
 *   hint     how JS decodes the field (NW_HINT_*, wire.h); nw_entity_define
 *            returns one per field, so JS never looks at type names
 * schema.c, record.c, query.c and store.c dispatch through this table and
 * hold no per-type code. Adding a type is a row here and its functions in
 * types.c (plus tests and the .d.ts); a new stored form would also need a
 * tag in wire.h, which none of today's types has needed.
 */
#ifndef NW_TYPES_H
#define NW_TYPES_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "buf.h"
#include "wire.h"

struct nw_field;
struct nw_entity_def;

/* X(C name, type name in definitions) */
#define NW_TYPES(X) \
    X(ID, id) X(STRING, string) X(INT, int) X(FLOAT, float) X(BOOL, bool) X(ENUM, enum) \
    X(DATETIME, datetime) X(LIST, list) X(JSON, json) X(REF, ref) X(DECIMAL, decimal)

#define NW_TYPE_ENUM_(n, s) NW_T_##n,
typedef enum nw_type { NW_T_NONE = 0, NW_TYPES(NW_TYPE_ENUM_) NW_T_COUNT } nw_type;
#undef NW_TYPE_ENUM_

/* Type flags. */
#define NW_TF_ITEM   0x01u   /* may be the `of` of a list */
#define NW_TF_TEXT   0x02u   /* free text: `contains` substrings, full-text search */
#define NW_TF_PREFIX 0x04u   /* `startsWith` applies */
#define NW_TF_LIST   0x08u   /* `contains` tests its items */
#define NW_TF_EQONLY 0x10u   /* queries compare it only for (in)equality */
#define NW_TF_OBJECT 0x20u   /* an object in a where clause is a value, not operators */
#define NW_TF_OPAQUE 0x40u   /* the stored form is no input form (enum indexes): a
                                stored value from outside is checked by `span` */

/* qconv results */
enum { NW_QC_OK = 0, NW_QC_TYPE, NW_QC_UNKNOWN };

typedef struct nw_type_ops {
    const char *name;
    uint8_t hint;            /* NW_HINT_* (wire.h) */
    uint8_t flags;           /* NW_TF_* */
    /* Reads the type's options from the field spec into f; NULL when it has
     * none. NW_E_SCHEMA naming the field, NW_E_LIMIT on OOM. */
    nw_code (*parse)(const struct nw_entity_def *def, struct nw_field *f, const uint8_t *spec, nw_error *err);
    /* A non-null NVAL value (validated) -> stored bytes appended to out. */
    nw_code (*convert)(const struct nw_entity_def *def, const struct nw_field *f, const uint8_t *v, nw_buf *out, nw_error *err);
    /* A non-null query value -> stored form appended to out (NW_QC_*); on
     * NW_QC_TYPE the query error says the field `expects`. */
    int (*qconv)(const struct nw_field *f, const uint8_t *v, nw_buf *out);
    const char *expects;     /* "expects a string" */
    /* Span of the non-null stored value at p (at most len bytes), 0 if it
     * is malformed for this type. */
    size_t (*span)(const struct nw_field *f, const uint8_t *p, size_t len);
    /* Order of two non-null stored values. */
    int (*cmp)(const struct nw_field *f, const uint8_t *a, const uint8_t *b);
    /* NW_TF_ITEM types: true when v is a valid list item of this type. */
    bool (*item)(const uint8_t *v);
    /* Why a stored value from outside that converts to other bytes is refused. */
    const char *unstored;
    /* Order-preserving bytes of a non-null stored value (abbreviated index
     * keys, store.c): memcmp of two values' keys agrees with `cmp` wherever
     * they differ. Writes at most `room` bytes to out and returns the count;
     * *closed says whether the key is prefix-free (no value's key is a
     * proper prefix of another's), so that more bytes may follow it. NULL:
     * the type has no such key (the abbreviation stops there). */
    size_t (*key)(const struct nw_field *f, const uint8_t *v, uint8_t *out, size_t room, bool *closed);
} nw_type_ops;

/* The row of type t (t in 1..NW_T_COUNT-1). */
const nw_type_ops *nw_type_of(nw_type t);

/* The decode hint of field f: its type's, except that a list of strings is
 * NW_HINT_STRLIST. */
uint8_t nw_field_hint(const struct nw_field *f);

/* The type called s[0..n), or NW_T_NONE. */
nw_type nw_type_lookup(const char *s, size_t n);

/* The names of the types that have every flag in `flags` (0: all), comma
 * separated, into out (cut to cap). */
void nw_type_names(char *out, size_t cap, unsigned flags);

/* ---- decimals (exposed for tests) ------------------------------------------
 * A decimal is text: an optional '-', one or more digits, optionally '.' and
 * one or more digits. No '+', exponent, spaces or bare '.5'. The stored form
 * is canonical: no leading zeros ("0" before the point when the integer part
 * is zero), exactly `scale` digits after the point (padded with zeros; none
 * and no point when scale is 0), no "-0". Extra zeros after the point beyond
 * `scale` are dropped; other digits beyond it are refused (rule "scale"):
 * nothing is ever rounded. */

typedef struct nw_decimal {
    bool neg;                /* false for zero */
    const char *ip; size_t il;   /* integer digits without leading zeros */
    const char *fp; size_t fl;   /* fraction digits without trailing zeros */
} nw_decimal;

/* Splits s[0..n) into a decimal; false when it is not one. */
bool nw_decimal_scan(const char *s, size_t n, nw_decimal *d);
/* Appends the canonical text of d with at least `scale` fraction digits. */
void nw_decimal_write(nw_buf *out, const nw_decimal *d, uint32_t scale);
/* Numeric order of two decimals (-1, 0, 1). */
int nw_decimal_cmp(const nw_decimal *a, const nw_decimal *b);

#endif
