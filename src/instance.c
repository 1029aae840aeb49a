/* instance.c - creating and freeing an nw_instance (instance.h). */
#include "instance.h"
#include "api.h"
#include "alloc.h"

/* A new, empty instance (its store is made on first use), or NULL when out
 * of memory. Freed by nw_instance_free. */
NW_EXPORT nw_instance *nw_instance_new(void) {
    nw_instance *I = nw_calloc(1, sizeof *I);
    if (!I) return NULL;
    nw_buf_init(&I->in);
    nw_buf_init(&I->out);
    nw_buf_init(&I->errb);
    nw_buf_init(&I->u16);
    nw_edits_init(&I->edits);
    I->next_view = 1;
    return I;
}

/* Frees everything the instance holds; I may be NULL. Views and DOM
 * programs go before the templates they borrow, the store last but one. */
NW_EXPORT void nw_instance_free(nw_instance *I) {
    if (!I) return;
    nw_api_live_free(I);
    nw_api_journal_free(I);
    nw_api_templates_free(I);
    nw_api_store_free(I);
    nw_buf_free(&I->in);
    nw_buf_free(&I->out);
    nw_buf_free(&I->errb);
    nw_buf_free(&I->u16);
    nw_free(I);
}
