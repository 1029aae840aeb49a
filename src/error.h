/* error.h - the one error struct every fallible C function fills.
 *
 * Functions return an nw_code (NW_OK == 0 on success) and, on failure, fill
 * an nw_error that names what went wrong. Nothing traps, nothing prints: the
 * JS shim turns the struct into one NitroError.
 */
#ifndef NW_ERROR_H
#define NW_ERROR_H
#include <stdint.h>

/* Keep in sync with nothing: JS reads the names from nw_constants() at load. */
typedef enum nw_code {
    NW_OK = 0,
    NW_E_VALIDATION,
    NW_E_NOT_FOUND,
    NW_E_DUPLICATE,
    NW_E_SCHEMA,
    NW_E_QUERY,
    NW_E_TEMPLATE,
    NW_E_CANCELLED,
    NW_E_CONFLICT,
    NW_E_SYNC,
    NW_E_CORRUPT,
    NW_E_LIMIT,       /* also: out of memory (rule "memory") */
    NW_E_CLOSED,
    NW_E_ARG,         /* malformed call from the shim (a bug, reported as QUERY/SCHEMA by JS) */
    NW_CODE_COUNT
} nw_code;

/* Public names of the codes, as NitroError.code uses them. */
const char *nw_code_name(nw_code c);

#define NW_ERR_NAME 96
#define NW_ERR_MSG 320

typedef struct nw_error {
    nw_code code;
    int32_t index;          /* position in a batch, or -1 */
    uint32_t line, column;  /* 1-based, templates only; 0 otherwise */
    char entity[NW_ERR_NAME];
    char field[NW_ERR_NAME];
    char rule[24];
    char message[NW_ERR_MSG];
} nw_error;

void nw_error_clear(nw_error *e);

/* Fills e (if non-NULL) and returns code. entity/field/rule may be NULL.
 * The message is printf-formatted and truncated to fit. */
nw_code nw_error_set(nw_error *e, nw_code code, const char *entity, const char *field,
                     const char *rule, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* printf-like formatting into out[cap] (always NUL-terminated) supporting
 * %s %.*s %d %u %ld %lu %lld %llu %zu %zd %g (JS number form) %c %%. */
#include <stdarg.h>
#include <stddef.h>
void nw_vformat(char *out, size_t cap, const char *fmt, va_list ap);

/* Shorthand for allocation failures. */
nw_code nw_error_nomem(nw_error *e);

#endif
