/* error.c - filling nw_error. */
#include "error.h"
#include <stdarg.h>
#include "buf.h"
#include <string.h>

static const char *const names[NW_CODE_COUNT] = {
    "OK", "VALIDATION", "NOT_FOUND", "DUPLICATE", "SCHEMA", "QUERY", "TEMPLATE",
    "CANCELLED", "CONFLICT", "SYNC", "CORRUPT", "LIMIT", "CLOSED", "ARG",
};

const char *nw_code_name(nw_code c) {
    return (unsigned)c < NW_CODE_COUNT ? names[c] : "LIMIT";
}

void nw_error_clear(nw_error *e) {
    memset(e, 0, sizeof *e);
    e->index = -1;
}

static void copy_name(char *dst, size_t cap, const char *src) {
    if (!src) { dst[0] = 0; return; }
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

nw_code nw_error_set(nw_error *e, nw_code code, const char *entity, const char *field,
                     const char *rule, const char *fmt, ...) {
    if (!e) return code;
    int32_t index = e->index;
    nw_error_clear(e);
    e->index = index;
    e->code = code;
    copy_name(e->entity, sizeof e->entity, entity);
    copy_name(e->field, sizeof e->field, field);
    copy_name(e->rule, sizeof e->rule, rule);
    va_list ap;
    va_start(ap, fmt);
    nw_vformat(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return code;
}

/* A small printf for messages: %s %.*s %d %u %ld %lu %lld %llu %zu %g %c %%.
 * Written here because the C library's printf family drags stdio (and WASI
 * imports) into the WebAssembly build. */
typedef struct { char *p; size_t cap, len; } sink_t;

static void sink_put(sink_t *s, const char *d, size_t n) {
    for (size_t i = 0; i < n && s->len + 1 < s->cap; i++) s->p[s->len++] = d[i];
}

static void sink_int(sink_t *s, long long v, int is_unsigned) {
    char t[24];
    int i = 24;
    unsigned long long u = is_unsigned ? (unsigned long long)v : (v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v);
    do { t[--i] = (char)('0' + u % 10); u /= 10; } while (u);
    if (!is_unsigned && v < 0) t[--i] = '-';
    sink_put(s, t + i, (size_t)(24 - i));
}

void nw_vformat(char *out, size_t cap, const char *fmt, va_list ap) {
    sink_t s = { out, cap, 0 };
    if (!cap) return;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') { sink_put(&s, f, 1); continue; }
        f++;
        if (*f == '%') { sink_put(&s, "%", 1); continue; }
        if (f[0] == '.' && f[1] == '*' && f[2] == 's') {
            int n = va_arg(ap, int);
            const char *str = va_arg(ap, const char *);
            sink_put(&s, str ? str : "", str && n > 0 ? (size_t)n : 0);
            f += 2;
            continue;
        }
        int longs = 0, size_t_arg = 0;
        while (*f == 'l') { longs++; f++; }
        if (*f == 'z') { size_t_arg = 1; f++; }
        switch (*f) {
        case 's': { const char *str = va_arg(ap, const char *); if (!str) str = "(null)"; sink_put(&s, str, strlen(str)); break; }
        case 'c': { char c = (char)va_arg(ap, int); sink_put(&s, &c, 1); break; }
        case 'd': case 'i':
            sink_int(&s, size_t_arg ? (long long)va_arg(ap, size_t) : longs == 2 ? va_arg(ap, long long) : longs == 1 ? va_arg(ap, long) : va_arg(ap, int), 0);
            break;
        case 'u':
            sink_int(&s, size_t_arg ? (long long)va_arg(ap, size_t) : longs == 2 ? (long long)va_arg(ap, unsigned long long) : longs == 1 ? (long long)va_arg(ap, unsigned long) : (long long)va_arg(ap, unsigned), 1);
            break;
        case 'g': { char t[NW_NUM_MAX]; int n = nw_fmt_num(t, va_arg(ap, double)); sink_put(&s, t, (size_t)n); break; }
        case 0: f--; break;
        default: sink_put(&s, f - 1, 2); break;
        }
    }
    s.p[s.len] = 0;
}

nw_code nw_error_nomem(nw_error *e) {
    return nw_error_set(e, NW_E_LIMIT, NULL, NULL, "memory", "out of memory");
}
