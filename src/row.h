/* row.h - the layout of one stored row (implemented in record.c).
 *
 * A stored row is:  u32 total length (of the field bytes) | field bytes.
 * Field bytes use the NVAL tags (nval.h) plus NW_ROW_ENUM:
 *   null 0x00 | false 0x01 | true 0x02 | number 0x03 f64 (int, float,
 *   datetime as epoch ms) | string 0x04 u32 len UTF-8 (id, string, ref) |
 *   enum 0x0C u8 index | list 0x05 (NVAL array) | json: any NVAL value.
 * The same field bytes are what JS decodes, so a get is one copy.
 */
#ifndef NW_ROW_H
#define NW_ROW_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
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

/* True if the stored field is null. */
static inline bool nw_field_is_null(const uint8_t *f) { return f[0] == NVAL_NULL; }

#endif
