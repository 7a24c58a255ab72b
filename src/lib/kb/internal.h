/* Private declarations of the knowledge base: the in-memory index shared
 * by the loader and the searcher, and the text analysis both must apply
 * identically (normalize, tokenize, stem). */
#ifndef PARLEY_KB_INTERNAL_H
#define PARLEY_KB_INTERNAL_H

#include <stdint.h>

#include "common/internal.h"
#include "parley/kb.h"

struct sb_stemmer;

/* Fields of an article, each with its own BM25F weight and length. */
enum { KB_TITLE = 0, KB_TAGS = 1, KB_BODY = 2, KB_FIELDS = 3 };

/* One distinct term of an article and its frequency in each field. */
struct kb_term {
    const char *s; /* borrowed from kb_article.terms_buf, not NUL-terminated */
    uint32_t len;
    uint32_t tf[KB_FIELDS];
};

struct kb_article {
    char *lang, *id, *title, *body; /* owned */
    char *terms_buf;                /* owned: the bytes of every term */
    struct kb_term *terms;          /* owned, sorted by parley__kb_term_cmp */
    size_t n_terms;
    uint32_t flen[KB_FIELDS]; /* tokens per field */
};

/* The articles of one language: a run of parley_kb.arts. */
struct kb_lang {
    const char *lang; /* borrowed from the first article */
    size_t first, count;
    double avglen[KB_FIELDS];
};

struct parley_kb {
    struct kb_article *arts; /* sorted by language, then id */
    size_t n;
    struct kb_lang *langs;
    size_t n_langs;
};

/* Makes the Snowball stemmer for `lang` ("en", "fr", "es", "de"...) into
 * `*out`; NULL with PARLEY_OK when the language has no stemmer. The
 * stemmer is not thread-safe: one per thread (sb_stemmer_delete frees). */
parley_err parley__kb_stemmer_new(const char *lang, struct sb_stemmer **out);

/* The NULL-terminated stopword list of `lang`, or NULL. Static storage. */
const char *const *parley__kb_stopwords(const char *lang);

/* Called for each term; `term` is only valid during the call. */
typedef parley_err (*parley__kb_term_fn)(const char *term, size_t len, void *ud);

/* Normalizes `s[0..n)` (NFKC, case and accent folding), tokenizes it,
 * drops the words in `stop` (may be NULL), stems each word with `st` (may be NULL) and calls `fn`
 * for each term in order. Fails with the normalizer's error (UTF-8, limits), NOMEM, or the first
 * error `fn` returns. */
parley_err parley__kb_analyze(struct sb_stemmer *st, const char *const *stop, const char *s,
                              size_t n, parley__kb_term_fn fn, void *ud, parley_error *err);

/* Byte-wise order of terms, shorter first on a common prefix. */
int parley__kb_term_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* The article's entry for a term, or NULL. */
const struct kb_term *parley__kb_find(const struct kb_article *a, const char *s, size_t len);

#endif
