/* fuzz_text.h - turns any bytes into one NVAL value through a lenient
 * JSON-like text form, so that fuzz targets and their seed corpora can speak
 * in values (queries, records, schemas) instead of raw NVAL bytes, which a
 * mutator rarely gets right.
 *
 *   {k: v, "k": v}  object     [a, b]  array      "s"  string (\" \\ \n,
 *   \xHH for any byte)          -1.5e3  number     @1700000000000  date
 *   true false null  literals    NaN Infinity -Infinity  numbers
 *   any other word               a string
 * Missing closers are implied at the end, stray bytes are skipped and
 * nesting past FUZZ_TEXT_DEPTH becomes null, so every input gives a value
 * (which may still be one the code under test refuses). */
#ifndef NW_FUZZ_TEXT_H
#define NW_FUZZ_TEXT_H
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "nval.h"

#define FUZZ_TEXT_DEPTH 70   /* past NVAL_MAX_DEPTH and the 32 of where trees */

typedef struct { const uint8_t *p; size_t n, i; } fuzz_text;

static inline int ft_word_char(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '.' || c == '-' || c == '+' || c >= 0x80;
}
static inline void ft_ws(fuzz_text *t) {
    while (t->i < t->n && (t->p[t->i] == ' ' || t->p[t->i] == '\n' || t->p[t->i] == '\t' || t->p[t->i] == '\r' || t->p[t->i] == ',' || t->p[t->i] == ':')) t->i++;
}
static inline int ft_hex(uint8_t c) { return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1; }

/* A quoted string or a bare word, written as u32 length + bytes. */
static inline void ft_string(fuzz_text *t, nw_buf *b) {
    size_t at = b->len;
    nw_buf_u32(b, 0);
    if (t->i < t->n && t->p[t->i] == '"') {
        t->i++;
        while (t->i < t->n && t->p[t->i] != '"') {
            uint8_t c = t->p[t->i++];
            if (c == '\\' && t->i < t->n) {
                c = t->p[t->i++];
                if (c == 'n') c = '\n';
                else if (c == 'x' && t->i + 1 < t->n && ft_hex(t->p[t->i]) >= 0 && ft_hex(t->p[t->i + 1]) >= 0) {
                    c = (uint8_t)(ft_hex(t->p[t->i]) * 16 + ft_hex(t->p[t->i + 1]));
                    t->i += 2;
                }
            }
            nw_buf_byte(b, c);
        }
        if (t->i < t->n) t->i++;
    } else {
        while (t->i < t->n && ft_word_char(t->p[t->i])) nw_buf_byte(b, t->p[t->i++]);
    }
    nw_buf_patch_u32(b, at, (uint32_t)(b->len - at - 4));
}

static inline void ft_value(fuzz_text *t, nw_buf *b, int depth) {
    ft_ws(t);
    while (t->i < t->n && (t->p[t->i] == '}' || t->p[t->i] == ']')) { t->i++; ft_ws(t); }
    if (t->i >= t->n) { nw_buf_byte(b, NVAL_NULL); return; }
    uint8_t c = t->p[t->i];
    if ((c == '{' || c == '[') && depth >= FUZZ_TEXT_DEPTH) { t->i++; nw_buf_byte(b, NVAL_NULL); return; }
    if (c == '{' || c == '[') {
        uint8_t close = c == '{' ? '}' : ']';
        t->i++;
        nw_buf_byte(b, c == '{' ? NVAL_OBJ : NVAL_ARR);
        size_t at = b->len;
        uint32_t count = 0;
        nw_buf_u32(b, 0);
        for (;;) {
            ft_ws(t);
            if (t->i >= t->n) break;
            if (t->p[t->i] == close) { t->i++; break; }
            if (t->p[t->i] == '}' || t->p[t->i] == ']') { t->i++; continue; }
            if (close == '}') {
                size_t before = t->i;
                ft_string(t, b);
                if (t->i == before) { b->len -= 4; t->i++; continue; }   /* not a key: skip the byte */
            }
            ft_value(t, b, depth + 1);
            count++;
        }
        nw_buf_patch_u32(b, at, count);
        return;
    }
    if (c == '"') { nw_buf_byte(b, NVAL_STR); ft_string(t, b); return; }
    if (c == '@' || c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) {
        int date = c == '@';
        if (date) t->i++;
        char num[64];
        size_t k = 0;
        while (t->i < t->n && k < sizeof num - 1 && ft_word_char(t->p[t->i])) num[k++] = (char)t->p[t->i++];
        num[k] = 0;
        nw_buf_byte(b, date ? NVAL_DATE : NVAL_NUM);
        nw_buf_f64(b, strtod(num, NULL));
        return;
    }
    if (!ft_word_char(c)) { t->i++; ft_value(t, b, depth); return; }
    size_t s = t->i;
    while (t->i < t->n && ft_word_char(t->p[t->i])) t->i++;
    size_t len = t->i - s;
    const char *w = (const char *)t->p + s;
    if (len == 4 && !memcmp(w, "true", 4)) nw_buf_byte(b, NVAL_TRUE);
    else if (len == 5 && !memcmp(w, "false", 5)) nw_buf_byte(b, NVAL_FALSE);
    else if (len == 4 && !memcmp(w, "null", 4)) nw_buf_byte(b, NVAL_NULL);
    else if (len == 3 && !memcmp(w, "NaN", 3)) { nw_buf_byte(b, NVAL_NUM); nw_buf_f64(b, 0.0 / 0.0); }
    else if (len == 8 && !memcmp(w, "Infinity", 8)) { nw_buf_byte(b, NVAL_NUM); nw_buf_f64(b, 1.0 / 0.0); }
    else { t->i = s; nw_buf_byte(b, NVAL_STR); ft_string(t, b); }
}

/* Appends the value read from the next of p[*pos..n) to b; *pos moves past
 * it. */
static inline void fuzz_text_value(const uint8_t *p, size_t n, size_t *pos, nw_buf *b) {
    fuzz_text t = { p, n, *pos };
    ft_value(&t, b, 0);
    *pos = t.i;
}

#endif
