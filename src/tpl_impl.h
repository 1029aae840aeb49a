/* tpl_impl.h - the compiled form of a template and its renderer, shared by
 * template.c (compile, render), tpl_dom.c (the DOM program of live views)
 * and view.c (the diffing walk). Not part of the public contract.
 *
 * A compiled template is one flat op array holding every program (the
 * template and each partial in each variant); names are interned dotted
 * paths. Ops of a range [begin, end) render in order; SECTION, INVERTED,
 * PARENT and BLOCK ops jump to their `b` after their body.
 */
#ifndef NW_TPL_IMPL_H
#define NW_TPL_IMPL_H
#include "template.h"

enum {
    OP_TEXT, OP_VAR, OP_RAW, OP_SECTION, OP_INVERTED, OP_PARTIAL, OP_PARENT, OP_BLOCK,
    OP_URL_BEGIN, OP_URL_END
};
enum {
    OF_SOL = 1,        /* starts a (non-empty) source line: indented inside indented partials */
    OF_STANDALONE = 2, /* partial/parent/block on a standalone line: carries indentation */
    OF_HI = 4,         /* text holds bytes >= 0x80 */
    OF_JS = 8,         /* VAR inside a JS string of a Datastar expression: nw_escape_js_string */
};
#define NONE 0xFFFFFFFFu

typedef struct tpl_op {
    uint8_t kind, flags;
    uint16_t pad;
    uint32_t a;   /* TEXT: pool offset; VAR/RAW/SECTION/INVERTED/BLOCK: name; PARTIAL/PARENT: program or NONE */
    uint32_t b;   /* TEXT: length; SECTION/INVERTED/PARENT/BLOCK: index after the body */
    uint32_t c;   /* PARTIAL/PARENT/BLOCK: indentation pool offset */
    uint32_t d;   /* indentation length */
} tpl_op;

typedef struct tpl_name { uint32_t off, len, parts, nparts; } tpl_name;
typedef struct tpl_part { uint32_t off, len; } tpl_part;
typedef struct tpl_prog { uint32_t begin, end; } tpl_prog;

struct nw_tpl {
    tpl_op *ops; uint32_t nops, cops;
    char *pool; uint32_t plen, pcap;
    tpl_name *names; uint32_t nnames, cnames;
    tpl_part *parts; uint32_t nparts, cparts;
    tpl_prog *progs; uint32_t nprogs, cprogs;
};


/* ---- running ops ---------------------------------------------------------------------
 * A run renders op ranges with a context stack that the caller builds
 * (live views push one context per list item). `ops` and `tpool` (the pool
 * TEXT ops point into) may be another op array than the template's own,
 * as long as names and partial programs refer to the template: tpl_dom.c
 * copies ops that way. */
typedef struct nw_tpl_run nw_tpl_run;
/* NULL when out of memory. The run borrows t, ops and tpool. */
nw_tpl_run *nw_tpl_run_new(const nw_tpl *t, const tpl_op *ops, const char *tpool);
void nw_tpl_run_free(nw_tpl_run *r);
/* Pushes a context (false when nested deeper than NW_TPL_MAX_DEPTH). */
bool nw_tpl_run_push(nw_tpl_run *r, const nv *v);
void nw_tpl_run_pop(nw_tpl_run *r);
uint32_t nw_tpl_run_depth(const nw_tpl_run *r);
/* Looks a name up as {{name}} would. */
void nw_tpl_run_lookup(nw_tpl_run *r, uint32_t name, nv *out);
/* Renders ops [begin, end) (no indentation) appending to out. */
nw_code nw_tpl_run_range(nw_tpl_run *r, uint32_t begin, uint32_t end, nw_buf *out, nw_error *err);
/* The lowest context index any lookup read since the last set (a lookup of
 * a missing name reads them all: 0). Live views use it to know whether an
 * item depends on more than its own record. */
uint32_t nw_tpl_run_low(const nw_tpl_run *r);
void nw_tpl_run_set_low(nw_tpl_run *r, uint32_t low);

#endif
