/* record.h - how one record is stored, validated and compared.
 *
 * A stored row is:  u32 total length (of the field bytes) | field bytes.
 * Field bytes use the NVAL tags (nval.h) plus NW_ROW_ENUM:
 *   null 0x00 | false 0x01 | true 0x02 | number 0x03 f64 (int, float,
 *   datetime as epoch ms) | string 0x04 u32 len UTF-8 (id, string, ref) |
 *   enum 0x0C u8 index | list 0x05 (NVAL array) | json: any NVAL value.
 * The same field bytes are what JS decodes, so a get is one copy.
 */
#ifndef NW_RECORD_H
#define NW_RECORD_H
#include "schema.h"
#include "buf.h"
#include "nval.h"

#define NW_ROW_ENUM NVAL_ENUM   /* wire.h */

/* Size in bytes of the stored field starting at f. */
size_t nw_field_span(const uint8_t *f);

/* Start of the field bytes of a row (skips the length header). */
static inline const uint8_t *nw_row_fields(const uint8_t *row) { return row + 4; }
static inline uint32_t nw_row_len(const uint8_t *row) {
    return (uint32_t)row[0] | ((uint32_t)row[1] << 8) | ((uint32_t)row[2] << 16) | ((uint32_t)row[3] << 24);
}

/* Pointer to field i of a row (walks the fields before it). */
const uint8_t *nw_row_field(const uint8_t *row, uint32_t i);

/* Converts the NVAL value at v (validated) for field fi of def into stored
 * field bytes appended to out, checking type and value rules (min, max,
 * minLength, maxLength, values). NVAL null is stored as null (the caller
 * checks `required`). Returns NW_OK or NW_E_VALIDATION with err naming
 * entity, field and rule. */
nw_code nw_field_convert(const nw_entity_def *def, uint32_t fi, const uint8_t *v, nw_buf *out, nw_error *err);

/* Checks one stored field at p (well-formed, spanned by nw_field_span) that
 * comes from outside (a snapshot) against the rules a write checks: type,
 * integer-ness, finite numbers, date range, UTF-8 text, min/max, lengths,
 * enum values, `required`; the value must also be in the form a write
 * stores. `scratch` is working space. NW_E_VALIDATION naming entity, field
 * and rule otherwise. */
nw_code nw_field_check_stored(const nw_entity_def *def, uint32_t fi, const uint8_t *p, nw_buf *scratch, nw_error *err);

/* Total order of two stored values of field f, as docs/contract.md (Queries) sorts: numbers
 * numerically, strings by UTF-8 bytes (= code point order), enums by
 * declaration order, false < true, null first. */
int nw_field_cmp(const nw_field *f, const uint8_t *a, const uint8_t *b);

/* True if the stored field is null. */
static inline bool nw_field_is_null(const uint8_t *f) { return f[0] == NVAL_NULL; }

/* Parses an ISO 8601 date or date-time (UTC when no offset is given) into
 * epoch ms. Returns false if it is not one. */
bool nw_parse_iso_date(const char *s, size_t len, double *ms);

/* True for the names that would reach an object's prototype when a JS
 * program uses them as keys: `__proto__`, `constructor`, `prototype`. They
 * are refused as record ids, ref values, json object keys, data keys and
 * field or entity names (VALIDATION / SCHEMA, rule "reserved-key"), so no
 * record, signal or decoded object can carry them (issue 15). */
bool nw_reserved_key(const char *s, size_t n);

/* Number of Unicode code points in UTF-8 text. */
uint32_t nw_utf8_count(const uint8_t *s, size_t len);

/* 32-bit hash of bytes (for the primary key table). */
uint32_t nw_hash_bytes(const uint8_t *p, size_t n);

/* Appends a short human form of an NVAL value for messages: numbers as JS
 * prints them, strings quoted and cut at 40 characters, "null", "true",
 * "an array", "an object". */
void nw_describe_value(const uint8_t *v, char *out, size_t cap);

#endif
