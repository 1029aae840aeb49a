/* view.h - live views: a mounted template's last rendered state and the DOM
 * edits that bring a page up to date.
 *
 * A view keeps, per instance of each block of the template's DOM program
 * (tpl_dom.h), the last value of every slot and the keyed items of every
 * list. Rendering walks the template over the view's data (plain data
 * copied in, query handles resolved to live subscriptions, live.h) and
 * compares: a value that differs is one edit; a list is diffed by key
 * (record id, else the item's `id` member, else its position) and reordered
 * with the fewest moves (lis.h). A list item whose record was not written
 * since it was rendered, and which read nothing outside its own record, is
 * skipped without being walked.
 *
 * Edits (u32 words; strings are offset and length in UTF-16 code units of
 * one UTF-8 blob JS decodes once):
 *   NW_ED_CREATE inst block key_off key_len    clone block (key_len NONE: no key)
 *   NW_ED_TEXT   inst slot off len             text node / textContent
 *   NW_ED_ATTR   inst slot off len             attribute value
 *   NW_ED_HTML   inst slot off len             raw HTML, parsed
 *   NW_ED_DECODE inst slot off len             a text or attribute value that
 *                                             holds a character reference only a
 *                                             browser's parser decodes: HTML
 *   NW_ED_INSERT inst parent slot before       before = 0: at the list's end
 *   NW_ED_MOVE   inst parent slot before
 *   NW_ED_REMOVE inst
 *   NW_ED_CLEAR  parent slot                   every item of a list
 *   NW_ED_DROP   inst                          forget an instance removed with its parent
 *   NW_ED_ROOT   inst                          the root instance goes into the mount element
 *   NW_ED_VIEW   view                          the following edits are this view's
 * Instance ids are per view, from 1 (the root); ids are reused after a
 * REMOVE or DROP.
 *
 * Ownership: a view borrows its DOM program and the live module; it owns
 * its copy of the data and the subscriptions given to nw_view_set_data.
 */
#ifndef NW_VIEW_H
#define NW_VIEW_H
#include "tpl_dom.h"
#include "live.h"

#include "wire.h"

#define NW_EDIT_OPS NW_WIRE_EDIT   /* the op codes are defined in wire.h */
#define NW_EDIT_ENUM(name, v) NW_ED_##name = v,
enum { NW_EDIT_OPS(NW_EDIT_ENUM) NW_ED_COUNT };

typedef struct nw_edits {
    nw_buf ops;       /* u32 words */
    nw_buf strs;      /* UTF-8 (valid: invalid input became U+FFFD) */
    uint32_t u16;     /* length of strs in UTF-16 code units */
} nw_edits;

void nw_edits_init(nw_edits *e);
void nw_edits_reset(nw_edits *e);
void nw_edits_free(nw_edits *e);

typedef struct nw_view nw_view;

nw_code nw_view_create(uint32_t id, const nw_tpl_dom *dom, nw_live *L, nw_view **out, nw_error *err);
void nw_view_destroy(nw_view *v);
uint32_t nw_view_id(const nw_view *v);
const nw_tpl_dom *nw_view_dom(const nw_view *v);

/* Replaces the data (`data` is validated NVAL, copied) and takes ownership
 * of `subs[0..n)`, which query handle i of the data resolves to (the old
 * ones are unsubscribed). On failure nothing changed and the subs are
 * unsubscribed. */
nw_code nw_view_set_data(nw_view *v, const uint8_t *data, size_t len, nw_sub **subs, uint32_t n, nw_error *err);

/* True when a commit since the last render may change what it shows. */
bool nw_view_stale(const nw_view *v);

/* Renders and appends the edits (after a NW_ED_VIEW). `full` walks every
 * item (after new data); otherwise clean record items are skipped. On
 * failure (out of memory, nesting too deep) the view state stays
 * consistent with the edits appended so far; the caller applies them. */
nw_code nw_view_render(nw_view *v, nw_store *s, bool full, nw_edits *e, nw_error *err);

/* Bytes held by the view's state (for stats and the memory bench). */
size_t nw_view_bytes(const nw_view *v);

#endif
