/* textval.h - test values written in fuzz_text.h notation ("{a: 1, b: [x]}").
 * val() returns the NVAL bytes of its text in the file's one buffer `tb`,
 * valid until the next call; a test file initialises tb in main and frees it
 * at the end (nw_buf_init / nw_buf_free). */
#ifndef NW_TEST_TEXTVAL_H
#define NW_TEST_TEXTVAL_H
#include <string.h>
#include "buf.h"
#include "../../fuzz/fuzz_text.h"

static nw_buf tb;

static inline const uint8_t *val(const char *text) {
    nw_buf_reset(&tb);
    size_t pos = 0;
    fuzz_text_value((const uint8_t *)text, strlen(text), &pos, &tb);
    return tb.p;
}
#endif
