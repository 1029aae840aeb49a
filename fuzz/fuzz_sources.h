/* fuzz_sources.h - splits a fuzz input into a template and partials: the
 * bytes after the first are NUL-separated sources, the first the template,
 * the others partials named "a", "b", ... (at most 8). */
#ifndef NW_FUZZ_SOURCES_H
#define NW_FUZZ_SOURCES_H
#include <string.h>
#include "template.h"

static size_t fuzz_sources(const char *src, size_t len, size_t *main_len, nw_tpl_partial parts[8]) {
    static const char names[] = "abcdefgh";
    size_t np = 0;
    const char *z = memchr(src, 0, len);
    *main_len = z ? (size_t)(z - src) : len;
    for (const char *p = z ? z + 1 : NULL; p && np < 8 && p <= src + len;) {
        const char *e = memchr(p, 0, (size_t)(src + len - p));
        parts[np] = (nw_tpl_partial){ names + np, 1, p, e ? (size_t)(e - p) : (size_t)(src + len - p) };
        np++;
        p = e ? e + 1 : NULL;
    }
    return np;
}

#endif
