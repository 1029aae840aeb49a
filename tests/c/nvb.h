/* nvb.h - building NVAL values by hand in C tests. */
#ifndef NW_NVB_H
#define NW_NVB_H
#include "buf.h"
#include "nval.h"
#include <string.h>

static inline void nvb_str(nw_buf *b, const char *s) { nw_buf_byte(b, NVAL_STR); nw_buf_u32(b, (uint32_t)strlen(s)); nw_buf_str(b, s); }
static inline void nvb_num(nw_buf *b, double d) { nw_buf_byte(b, NVAL_NUM); nw_buf_f64(b, d); }
static inline void nvb_bool(nw_buf *b, int v) { nw_buf_byte(b, v ? NVAL_TRUE : NVAL_FALSE); }
static inline void nvb_null(nw_buf *b) { nw_buf_byte(b, NVAL_NULL); }
static inline void nvb_obj(nw_buf *b, uint32_t n) { nw_buf_byte(b, NVAL_OBJ); nw_buf_u32(b, n); }
static inline void nvb_arr(nw_buf *b, uint32_t n) { nw_buf_byte(b, NVAL_ARR); nw_buf_u32(b, n); }
static inline void nvb_key(nw_buf *b, const char *k) { nw_buf_u32(b, (uint32_t)strlen(k)); nw_buf_str(b, k); }
#endif
