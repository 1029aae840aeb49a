/* tpl_dom.h - the DOM program of a template, for live views (view.h).
 *
 * A template is compiled a second time, on its first mount, into blocks: the
 * root program and the body of every section that holds elements. A block
 * is a static skeleton (HTML the browser parses once into a <template> and
 * clones per item) plus slots addressed by their path of child indexes from
 * the block's top-level nodes:
 *
 *   DS_TEXT     a run of text with values in it: an empty text node, marked
 *               in the skeleton by the comment <!--nw--> (JS swaps it for
 *               the text node once per template)
 *   DS_CONTENT  the same when the run is an element's whole content: the
 *               element's textContent (no marker)
 *   DS_ATTR     a quoted attribute value holding values (sections included:
 *               class="row {{#sel}}danger{{/sel}}"); the skeleton keeps the
 *               attribute with an empty value so attribute order is kept
 *   DS_LIST     a section or inverted section holding elements: its items
 *               are instances of a child block, inserted before the marker
 *   DS_HTML     a raw {{{value}}} in element content: parsed HTML, before
 *               the marker
 *
 * Each value slot has a span of ops (in the program's own op array, over
 * the template's names) that renders exactly what render() writes there:
 * same escaping, same URL checks, same indentation of standalone partials.
 * Partials are inlined; a section is a list when its body holds a tag, and
 * part of the text or attribute value around it otherwise.
 *
 * Refused with NW_E_TEMPLATE (rule "mount"), message naming the place:
 * values inside HTML comments, sections or partials between a tag's
 * attributes or in an unquoted value, partials inside attribute values,
 * inheritance ({{<parent}}), section bodies that do not hold whole
 * elements, and end tags that do not match (close every element: the
 * browser's implied end tags would move the paths). JS checks every path
 * against the parsed skeleton and refuses a mismatch the same way.
 *
 * Ownership: nw_tpl_dom_build returns a program the caller frees with
 * nw_tpl_dom_free; it borrows the template, which must outlive it.
 */
#ifndef NW_TPL_DOM_H
#define NW_TPL_DOM_H
#include "tpl_impl.h"
#include "wire.h"

/* Slot kinds DS_TEXT, DS_CONTENT, DS_ATTR, DS_LIST, DS_HTML and the DS_LIST
 * flags DSF_INVERTED (an inverted section) and DSF_ONLY (the list is its
 * element's whole content): wire.h (NW_WIRE_SLOT, NW_WIRE_SLOTFLAG). */
#define NW_DS_(n, v) DS_##n = v,
enum { NW_WIRE_SLOT(NW_DS_) };
#define NW_DSF_(n, v) DSF_##n = v,
enum { NW_WIRE_SLOTFLAG(NW_DSF_) };
#undef NW_DS_
#undef NW_DSF_

typedef struct nw_dom_slot {
    uint8_t kind, flags;
    uint16_t pad;
    uint32_t path, npath;   /* into the program's path pool */
    uint32_t attr;          /* DS_ATTR: index of the attribute in its start tag */
    uint32_t begin, end;    /* value slots: span of the program's ops */
    uint32_t name;          /* DS_LIST: section name (template names) */
    uint32_t block;         /* DS_LIST: child block */
    uint32_t tag, ntag;     /* element slots: tag name in the program's pool */
} nw_dom_slot;

typedef struct nw_dom_block {
    uint32_t html, nhtml;   /* skeleton in the pool */
    uint32_t slot0, nslots;
    uint32_t ntop;          /* top-level nodes of the skeleton */
    uint32_t key_begin, key_end, key_ind, key_nind;   /* dedupe: body range and indentation */
} nw_dom_block;

typedef struct nw_tpl_dom {
    const nw_tpl *t;
    tpl_op *ops; uint32_t nops, cops;
    char *pool; uint32_t plen, pcap;
    uint32_t *paths; uint32_t npaths, cpaths;
    nw_dom_slot *slots; uint32_t nslots, cslots;
    nw_dom_block *blocks; uint32_t nblocks, cblocks;
} nw_tpl_dom;

nw_code nw_tpl_dom_build(const nw_tpl *t, nw_tpl_dom **out, nw_error *err);
void nw_tpl_dom_free(nw_tpl_dom *d);

/* Appends the blocks for JS: u32 count, per block u32 ntop, u32 + skeleton
 * HTML, u32 slot count, per slot u8 kind, u8 flags, u16 0, u32 attr,
 * u32 + tag name, u32 path length, path (u32 each). */
void nw_tpl_dom_encode(const nw_tpl_dom *d, nw_buf *out);

size_t nw_tpl_dom_size(const nw_tpl_dom *d);

#endif
