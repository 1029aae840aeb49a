/* test_fts.c - the full-text index (fts.h): tokens and their folding,
 * AND of words with the last one as a prefix, ranking, removal and churn,
 * documents out of slot order, and allocation failures. */
#include "check.h"
#include "fts.h"
#include "alloc.h"
#include <stdlib.h>

/* The normalised tokens of s, space-separated. */
static char toks[1024];
static const char *tokens(const char *s) {
    size_t pos = 0, at = 0, n;
    char t[NW_FTS_MAXTOK];
    toks[0] = 0;
    while ((n = nw_fts_token(s, strlen(s), &pos, t)) > 0)
        at += (size_t)snprintf(toks + at, sizeof toks - at, "%s%.*s", at ? " " : "", (int)n, t);
    return toks;
}

#define TOKENS(s, want) do { const char *_t = tokens(s); CHECK_MEM(_t, strlen(_t), want); } while (0)

static void test_tokens_and_folding(void) {
    TOKENS("Hello, WORLD-42!  x_y", "hello world 42 x y");
    TOKENS("", "");
    TOKENS(" .,;", "");
    TOKENS("R\xC3\xA9sum\xC3\xA9 na\xC3\xAFve \xC3\x86ther \xC3\x98re \xC3\x9Ftra\xC3\x9F" "e", "resume naive aether ore sstrasse");
    TOKENS("e\xCC\x81t\xC3\xA9", "ete");                                /* combining acute = precomposed */
    TOKENS("\xC5\x81\xC3\xB3\x64\xC5\xBA \xC4\x90\xC3\xBE \xC4\xB2 \xC7\x84", "lodz dth ij dz");   /* Latin Extended-A/B */
    TOKENS("\xE1\xB8\x82\xE1\xBA\x9E", "bss");                        /* Latin Extended Additional: Ḃ ẞ */
    TOKENS("\xCE\x86\xCE\xBB\xCF\x86\xCE\xB1 \xCE\xBB\xCF\x8C\xCE\xB3\xCE\xBF\xCF\x82", "\xCE\xB1\xCE\xBB\xCF\x86\xCE\xB1 \xCE\xBB\xCE\xBF\xCE\xB3\xCE\xBF\xCF\x83");  /* Άλφα λόγος -> αλφα λογοσ */
    TOKENS("\xD0\x81\xD0\xBB\xD0\xBA\xD0\xB0 \xD0\x99", "\xD0\xB5\xD0\xBB\xD0\xBA\xD0\xB0 \xD0\xB8");   /* Ёлка Й -> елка и */
    TOKENS("\xD4\xB1\xD5\xA2", "\xD5\xA1\xD5\xA2");                    /* Armenian Աբ -> աբ */
    TOKENS("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\x91", "ab1");            /* fullwidth ＡＢ１ */
    TOKENS("a\xE2\x80\x94" "b\xE3\x80\x82" "c\xEF\xBC\x8C" "d\xC2\xA0" "e\xC3\x97" "f", "a b c d e f");   /* separators */
    TOKENS("\xE6\x9D\xB1\xE4\xBA\xAC", "\xE6\x9D\xB1\xE4\xBA\xAC");   /* CJK kept as is */
    TOKENS("a\xFF" "b\xC3" "c\xE0\x80\xAF" "d\xED\xA0\x80" "e\xF4\x90\x80\x80" "f\xF0\x9F\x98\x80" "g", "a b c d e f\xF0\x9F\x98\x80g");   /* bad UTF-8 separates */
    /* a long token keeps NW_FTS_MAXTOK bytes, cut at a code point */
    char longw[200];
    memset(longw, 'x', 100);
    longw[100] = 0;
    size_t pos = 0;
    char t[NW_FTS_MAXTOK];
    CHECK_EQ(nw_fts_token(longw, 100, &pos, t), NW_FTS_MAXTOK);
    CHECK_EQ(pos, 100);
    for (int i = 0; i < 70; i++) memcpy(longw + 2 * i, "\xC3\xA9", 2);   /* 70 x é -> e: 70 bytes */
    pos = 0;
    CHECK_EQ(nw_fts_token(longw, 140, &pos, t), NW_FTS_MAXTOK);
    for (int i = 0; i < 40; i++) memcpy(longw + 2 * i, "\xCE\xB1", 2);   /* 40 x α: 2 bytes each */
    longw[80] = 'z';
    pos = 0;
    CHECK_EQ(nw_fts_token(longw, 81, &pos, t), NW_FTS_MAXTOK);
    CHECK_EQ(pos, 81);
}

static nw_fts_hit *hits;
static size_t nhits;
static char got[4096];

static const char *query(nw_fts *f, const char *q) {
    nw_free(hits);
    hits = NULL;
    CHECK_EQ(nw_fts_query(f, q, strlen(q), &hits, &nhits), 0);
    size_t at = 0;
    got[0] = 0;
    for (size_t i = 0; i < nhits && at < sizeof got - 16; i++) at += (size_t)snprintf(got + at, sizeof got - at, "%s%u", i ? "," : "", hits[i].slot);
    return got;
}

#define QUERY(f, q, want) do { query(f, q); CHECK_MEM(got, strlen(got), want); } while (0)

static const char *const docs[] = {
    "Buy milk and bread", "Milk the cows", "Read a book about cows", "bread bread bread", "Brunch plans", "Résumé review",
};

static nw_fts *make(void) {
    nw_fts *f = nw_fts_new();
    for (uint32_t i = 0; i < 6; i++) CHECK_EQ(nw_fts_add(f, i, docs[i], strlen(docs[i])), 0);
    CHECK_EQ(nw_fts_check(f), 0);
    return f;
}

static void test_query_semantics(void) {
    nw_fts *f = make();
    CHECK_EQ(nw_fts_docs(f), 6);
    QUERY(f, "milk", "0,1");
    QUERY(f, "MILK cows", "1");            /* every word must match */
    QUERY(f, "cows milk", "1");
    QUERY(f, "cow", "1,2");                /* the last word is a prefix */
    QUERY(f, "cow milk", "");              /* earlier words are exact */
    QUERY(f, "br", "3,0,4");               /* bread x3 first, then the shorter docs */
    QUERY(f, "bread", "3,0");              /* repeated word weighs more */
    QUERY(f, "resume", "5");               /* accents folded both ways */
    QUERY(f, "R\xC3\xA9SUM\xC3\x89", "5");
    QUERY(f, "", "");
    QUERY(f, " ,. ", "");
    QUERY(f, "zebra", "");
    QUERY(f, "milk zebra", "");
    QUERY(f, "zz", "");
    QUERY(f, "a", "2,0");                  /* "a" and "about" beat "and" alone */
    /* an exact match weighs twice a prefix match: one "book" beats two "books" */
    CHECK_EQ(nw_fts_add(f, 9, "books books", 11), 0);
    QUERY(f, "book", "2,9");
    query(f, "book");
    CHECK(nhits == 2 && hits[0].score > hits[1].score && hits[1].score > 0);
    nw_free(hits); hits = NULL;
    nw_fts_free(f);
}

static void test_remove_and_counts(void) {
    nw_fts *f = make();
    size_t terms = nw_fts_terms(f), posts = nw_fts_postings(f);
    CHECK(terms > 10);
    CHECK(posts >= terms);
    CHECK_EQ(nw_fts_remove(f, 1, docs[1], strlen(docs[1])), 0);
    CHECK_EQ(nw_fts_check(f), 0);
    QUERY(f, "milk", "0");
    QUERY(f, "cows", "2");
    CHECK_EQ(nw_fts_docs(f), 5);
    CHECK(nw_fts_terms(f) == terms - 1);   /* "the" only occurred in doc 1 */
    /* removing text that was not added for the slot changes nothing */
    CHECK_EQ(nw_fts_remove(f, 0, "zebra cows", 10), 0);
    QUERY(f, "cows", "2");
    for (uint32_t i = 0; i < 6; i++) if (i != 1) nw_fts_remove(f, i, docs[i], strlen(docs[i]));
    CHECK_EQ(nw_fts_check(f), 0);
    CHECK_EQ(nw_fts_docs(f), 0);
    CHECK_EQ(nw_fts_terms(f), 0);
    CHECK_EQ(nw_fts_postings(f), 0);
    QUERY(f, "milk", "");
    nw_fts_free(f);
    nw_fts_free(NULL);
}

/* Documents arriving out of slot order, a common token in many documents
 * (posting arrays grow, tombstones are reused and squeezed out), and
 * churn that leaves many dead tokens (purged in bulk). */
static void test_churn_out_of_order(void) {
    nw_fts *f = nw_fts_new();
    char text[64];
    for (uint32_t i = 0; i < 300; i++) {
        uint32_t slot = (i * 37) % 300;
        int n = snprintf(text, sizeof text, "common w%u %s", slot, slot % 2 ? "odd" : "even even");
        CHECK_EQ(nw_fts_add(f, slot, text, (size_t)n), 0);
    }
    CHECK_EQ(nw_fts_check(f), 0);
    query(f, "common");
    CHECK_EQ(nhits, 300);
    for (size_t i = 1; i < nhits; i++) CHECK(hits[i - 1].slot < hits[i].slot);   /* equal scores: slot order */
    query(f, "even");
    CHECK_EQ(nhits, 150);
    QUERY(f, "w29", "29,290,291,292,293,294,295,296,297,298,299");
    QUERY(f, "w7 common", "7");               /* exact w7, prefix common */
    size_t full = nw_fts_bytes(f);
    /* remove most documents in a scattered order, checking as we go */
    for (uint32_t i = 0; i < 290; i++) {
        uint32_t slot = (i * 7) % 300;
        int n = snprintf(text, sizeof text, "common w%u %s", slot, slot % 2 ? "odd" : "even even");
        nw_fts_remove(f, slot, text, (size_t)n);
        if (i % 50 == 0) CHECK_EQ(nw_fts_check(f), 0);
    }
    CHECK_EQ(nw_fts_check(f), 0);
    CHECK_EQ(nw_fts_docs(f), 10);
    CHECK(nw_fts_bytes(f) < full);
    query(f, "common");
    CHECK_EQ(nhits, 10);
    /* re-add into freed slots below the surviving ones */
    for (uint32_t slot = 0; slot < 20; slot++) {
        int n = snprintf(text, sizeof text, "common again%u", slot);
        if (slot % 7) CHECK_EQ(nw_fts_add(f, slot, text, (size_t)n), 0);
    }
    CHECK_EQ(nw_fts_check(f), 0);
    query(f, "again");
    CHECK_EQ(nhits, 17);
    query(f, "common");
    CHECK(nhits >= 17);
    /* a token repeated past the 255 a term frequency holds */
    char big[2048];
    size_t bl = 0;
    for (int i = 0; i < 300; i++) { memcpy(big + bl, "zz ", 3); bl += 3; }
    CHECK_EQ(nw_fts_add(f, 500, big, bl), 0);
    QUERY(f, "zz", "500");
    nw_fts_remove(f, 500, big, bl);
    QUERY(f, "zz", "");
    CHECK_EQ(nw_fts_check(f), 0);
    nw_free(hits); hits = NULL;
    nw_fts_free(f);
}

/* Every allocation of add and query fails in turn: add returns -1 and the
 * index answers exactly as before; query returns -1 with no hits. */
static void test_alloc_failures(void) {
    for (long k = 0; k < 200; k++) {
        nw_fts *f = make();
        size_t terms = nw_fts_terms(f), posts = nw_fts_postings(f), ndocs = nw_fts_docs(f);
        const char *add = "fresh words milk milk extraordinary vocabulary brunch a b c d e f g h i j k l m n o p q r s";
        nw_alloc_fail_after(k);
        int rc = nw_fts_add(f, 3 + (uint32_t)(k % 2) * 7, add, strlen(add));   /* slot 3 is taken: use 10 on odd k */
        nw_alloc_fail_reset();
        if (k % 2 == 0) { if (!rc) nw_fts_remove(f, 3, add, strlen(add)); rc = -1; }
        CHECK_EQ(nw_fts_check(f), 0);
        if (rc) {
            CHECK_EQ(nw_fts_terms(f), terms);
            CHECK_EQ(nw_fts_postings(f), posts);
            CHECK_EQ(nw_fts_docs(f), ndocs);
        }
        nw_fts_hit *h = (nw_fts_hit *)1;
        size_t n = 7;
        nw_alloc_fail_after(k % 4);
        int qr = nw_fts_query(f, "milk br", 7, &h, &n);
        nw_alloc_fail_reset();
        if (qr) CHECK(h == NULL && n == 0);
        else nw_free(h);
        nw_fts_free(f);
    }
    nw_alloc_fail_after(0);
    CHECK(nw_fts_new() == NULL);
    nw_alloc_fail_reset();
}

int main(void) {
    RUN(test_tokens_and_folding);
    RUN(test_query_semantics);
    RUN(test_remove_and_counts);
    RUN(test_churn_out_of_order);
    RUN(test_alloc_failures);
    return check_summary("fts");
}
