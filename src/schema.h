/* schema.h - entity definitions: fields, types, rules.
 *
 * A schema arrives from JS once per nw.entity() call as an NVAL object:
 *   { name: "Task",
 *     fields: [ { name, type, required, default, min, max, minLength,
 *                 maxLength, values: [..], of, entity, onDelete }, ... ],
 *     indexes: [[f, ...], ...] ('-f' sorts f descending), unique: [[f, ...], ...], search: [f, ...],
 *     ttl: ms, shared: bool }
 * nw_schema_parse validates it (SCHEMA errors name the entity and field) and
 * builds an nw_entity_def the store owns. The `id` field is always stored
 * first (it is added when the definition has none).
 */
#ifndef NW_SCHEMA_H
#define NW_SCHEMA_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "types.h"

/* nw_type and everything per type: types.h */

typedef enum nw_ondelete { NW_ONDEL_RESTRICT = 0, NW_ONDEL_CASCADE, NW_ONDEL_NULLIFY } nw_ondelete;

#define NW_MAX_FIELDS 64
#define NW_MAX_KEY_FIELDS 8

typedef struct nw_field {
    char *name;             /* owned, NUL-terminated */
    uint32_t name_len;
    nw_type type;
    nw_type of;             /* element type of lists */
    bool required;
    uint8_t *def;           /* default value as stored field bytes, or NULL; owned */
    uint32_t def_len;
    bool has_min, has_max, has_minlen, has_maxlen;
    double min, max;
    uint32_t minlen, maxlen;
    char **values;          /* enum values (owned) */
    uint32_t *value_lens;
    uint32_t nvalues;
    char *ref_name;         /* target entity name for refs (owned) */
    int ref_entity;         /* resolved target index, -1 until resolved */
    nw_ondelete on_delete;
    uint32_t tparam[2];     /* parameters of the type (decimal: precision, scale) */
} nw_field;

typedef struct nw_keydef {      /* an index or unique constraint */
    uint32_t nfields;
    uint8_t fields[NW_MAX_KEY_FIELDS];
    uint8_t desc;           /* bit i: key field i sorts descending ('-name' in indexes) */
} nw_keydef;

typedef struct nw_entity_def {
    char *name;             /* owned */
    nw_field *fields;       /* owned array; fields[0] is the id */
    uint32_t nfields;
    nw_keydef *indexes;     /* owned */
    uint32_t nindexes;
    nw_keydef *uniques;     /* owned */
    uint32_t nuniques;
    uint8_t search[NW_MAX_FIELDS];
    uint32_t nsearch;
    double ttl;             /* default lifetime in ms; 0 = none */
    bool shared;
} nw_entity_def;

/* Parses and validates an NVAL schema object at p (already nval_check'ed).
 * On success fills *out (caller frees with nw_schema_free) and returns NW_OK;
 * on failure returns NW_E_SCHEMA (or NW_E_LIMIT on OOM), fills err and leaves
 * *out empty. */
nw_code nw_schema_parse(const uint8_t *p, nw_entity_def *out, nw_error *err);

void nw_schema_free(nw_entity_def *def);

/* Index of the field called name[0..len), or -1. */
int nw_schema_field(const nw_entity_def *def, const char *name, size_t len);

/* Name of a type for messages ("string", "int", ...); types.c. */
const char *nw_type_name(nw_type t);

#endif
