/* fts.h - the full-text index behind Entity.search() (docs/contract.md, Search: every word
 * must match, case- and accent-insensitive, the last word as a prefix,
 * ranked by how well and how often the words match).
 *
 * What it holds: for every normalised token, a posting list of the record
 * slots whose text contains it, with the term frequency. It keeps no copy
 * of the documents: the store passes the same text again to remove one.
 *
 * Tokens (nw_fts_token): maximal runs of letters and digits. Letters are
 * ASCII alphanumerics and every non-ASCII code point except separators:
 * U+0080..U+00BF, U+00D7, U+00F7, U+037E, U+0387, U+2000..U+206F,
 * U+3000..U+303F, U+FEFF and the fullwidth/halfwidth punctuation in
 * U+FF01..U+FF65. Invalid UTF-8 bytes are separators. Combining marks
 * (U+0300..U+036F, U+0483..U+0489, U+1AB0..U+1AFF, U+1DC0..U+1DFF,
 * U+20D0..U+20FF, U+FE20..U+FE2F) are dropped without ending the token, so
 * "e\u0301" equals "é". Normalisation: ASCII lowercased; Latin-1, Latin
 * Extended-A, -B and Extended Additional letters folded to their base
 * letters (é->e, Å->a, ß/ẞ->ss, æ->ae, œ->oe, ø->o, ł->l, đ->d, þ->th,
 * ĳ->ij, ǆ->dz); Greek, Cyrillic and Armenian lowercased by their fixed
 * offsets, with accented letters folded too (ά->α, ς->σ, ё->е, й->и,
 * ї->і, ӧ->о) so that precomposed and decomposed spellings agree;
 * fullwidth ASCII letters and digits to ASCII. Other scripts are kept as
 * they are (no case or compatibility folding). A token keeps at most
 * NW_FTS_MAXTOK bytes of its normalised form (cut at a code point).
 *
 * Queries (nw_fts_query): the query is tokenized the same way. Every word
 * must match a document (AND); the last word matches every indexed token
 * it is a prefix of, the other words match exactly. Score of a document:
 *   sum over query words w of idf(w) * (2 * tfw(exact tf) + tfw(prefix tf))
 * where tfw(tf) = tf * 2.2 / (tf + 1.2) (0 for tf 0, saturating like BM25),
 * exact tf is the frequency of the token equal to w, prefix tf the summed
 * frequencies of the longer tokens w is a prefix of (last word only), and
 * idf(w) = ln(1 + N / df(w)) with N the number of documents and df(w) the
 * number of documents containing w (for the last word: the sum of the dfs
 * of the tokens it matches, capped at N). So exact matches weigh twice
 * prefix matches and repeated and rarer words weigh more. Hits are sorted
 * by score descending, then slot ascending.
 *
 * Memory: a posting costs 5 bytes (u32 slot + u8 term frequency, which
 * saturates at 255) in a per-token array grown by half; a token that occurs
 * in one document keeps its posting inline. A token costs about 32 bytes
 * plus its length, and 12-16 bytes in the hash table and the sorted view.
 *
 * Ownership: nw_fts_new returns an index the caller frees with nw_fts_free.
 * All allocation goes through alloc.h. Text and query bytes are borrowed
 * for the call. Not thread-safe, including queries (a query may re-sort the
 * token view it caches).
 */
#ifndef NW_FTS_H
#define NW_FTS_H
#include <stddef.h>
#include <stdint.h>

/* Longest token kept, in bytes of its normalised UTF-8 form. */
#define NW_FTS_MAXTOK 64

/* Reads the next token of s[0..len) from *pos, writes its normalised bytes
 * to out and returns their count (1..NW_FTS_MAXTOK), or 0 when no token is
 * left. *pos moves past the token. Never allocates; any bytes are allowed. */
size_t nw_fts_token(const char *s, size_t len, size_t *pos, char out[NW_FTS_MAXTOK]);

typedef struct nw_fts nw_fts;

/* A new empty index; NULL on OOM. */
nw_fts *nw_fts_new(void);
/* Releases the index; NULL is allowed. */
void nw_fts_free(nw_fts *f);

/* Indexes one document: the text (the store joins a record's search fields
 * with '\n') under `slot`. A slot must not be added again before it is
 * removed. O(tokens) hash lookups, plus a move of the posting list when
 * slots arrive out of order. Returns 0, or -1 on OOM with the index
 * unchanged (contents; spare capacity may differ). */
int nw_fts_add(nw_fts *f, uint32_t slot, const char *utf8, size_t len);

/* Removes the document added under `slot` with this same text. Never needs
 * memory and never fails for lack of it: it only frees. Tokens of the text
 * that are not indexed for the slot are ignored (so passing different text
 * than was added leaves stale postings behind). Returns 0. */
int nw_fts_remove(nw_fts *f, uint32_t slot, const char *utf8, size_t len);

typedef struct nw_fts_hit {
    uint32_t slot;
    float score;
} nw_fts_hit;

/* Runs a query (see the file comment). On success returns 0 with *hits an
 * nw_malloc'd array of *n hits the caller frees with nw_free (NULL when
 * *n is 0), sorted by score descending then slot ascending. An empty query,
 * or one without words, has no hits. Returns -1 on OOM (*hits NULL, *n 0).
 * Exact words are looked up in the hash table; the last word's tokens are a
 * binary-searched range of a sorted view of the dictionary, re-sorted here
 * only after new tokens were added. Cost grows with the postings of the
 * rarest exact word and of the prefix range, not with the vocabulary. */
int nw_fts_query(const nw_fts *f, const char *q, size_t qlen, nw_fts_hit **hits, size_t *n);

/* Bytes of heap the index holds (tables, tokens, posting capacity), not
 * counting allocator overhead. O(1). */
size_t nw_fts_bytes(const nw_fts *f);

/* Number of documents (adds minus removes), of distinct tokens present in
 * some document, and of postings. All 0 when every document was removed. */
size_t nw_fts_docs(const nw_fts *f);
size_t nw_fts_terms(const nw_fts *f);
size_t nw_fts_postings(const nw_fts *f);

/* Debug check of every invariant (hash table, token view, posting order
 * and counts). Returns 0 if sound, else a positive code naming the first
 * broken invariant. O(size of the index): for tests and fuzzing. */
int nw_fts_check(const nw_fts *f);

#endif
