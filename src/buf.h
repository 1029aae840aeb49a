/* buf.h - the one growable byte buffer used for every output (records,
 * query results, HTML, JSON, SSE, snapshots).
 *
 * Ownership: a nw_buf owns `p`; nw_buf_free releases it. Appends never fail
 * loudly: on allocation failure the buffer sets `oom` and ignores further
 * appends, so a producer checks `oom` once at the end (sds/yyjson style).
 */
#ifndef NW_BUF_H
#define NW_BUF_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct nw_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool oom;
} nw_buf;

void nw_buf_init(nw_buf *b);
void nw_buf_free(nw_buf *b);
/* Empties without releasing capacity; clears oom. */
void nw_buf_reset(nw_buf *b);
/* Makes room for `extra` more bytes; false (and oom set) on failure. */
bool nw_buf_reserve(nw_buf *b, size_t extra);
/* A capacity hint: makes room for `extra` more bytes in one step when
 * memory allows; on failure nothing changes (oom stays clear) and later
 * appends grow the buffer as usual. */
void nw_buf_hint(nw_buf *b, size_t extra);
void nw_buf_append(nw_buf *b, const void *data, size_t n);
void nw_buf_byte(nw_buf *b, uint8_t c);
void nw_buf_str(nw_buf *b, const char *nul_terminated);
void nw_buf_u32(nw_buf *b, uint32_t v);  /* little endian */
void nw_buf_i32(nw_buf *b, int32_t v);
void nw_buf_f64(nw_buf *b, double v);    /* little endian IEEE */
/* Appends a number formatted the way JavaScript's String(number) does
 * (shortest round-trip digits, exponent forms for < 1e-6 and >= 1e21). */
void nw_buf_num(nw_buf *b, double v);
/* The same into a caller buffer of NW_NUM_MAX bytes (no NUL); returns length. */
#define NW_NUM_MAX 32
int nw_fmt_num(char *out, double v);
/* Overwrites 4 bytes at `at` (previously appended) with v, little endian. */
void nw_buf_patch_u32(nw_buf *b, size_t at, uint32_t v);

/* Little-endian readers for unaligned input. */
static inline uint32_t nw_rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
double nw_rd_f64(const uint8_t *p);

/* Longest ISO 8601 date nw_fmt_iso writes ("+275760-09-13T00:00:00.000Z"). */
#define NW_ISO_MAX 28
/* Writes epoch milliseconds as Date.prototype.toISOString does (6-digit
 * signed years outside 0000..9999), or "Invalid Date" outside the Date
 * range; returns the length. out holds NW_ISO_MAX bytes; no NUL. */
size_t nw_fmt_iso(char *out, double ms);

#endif
