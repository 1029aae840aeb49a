/* record.h - how one field value is converted from input, checked and
 * compared (record.c). The row layout is in row.h, the text helpers in
 * text.h; both are included here for the files that use all three.
 */
#ifndef NW_RECORD_H
#define NW_RECORD_H
#include "schema.h"
#include "buf.h"
#include "nval.h"
#include "row.h"
#include "text.h"

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

#endif
