/* Knowledge answers: a folder of short Markdown articles, one file per
 * article per language (KB/LANG/ID.md), loaded once and searched with
 * BM25F (title and tags weigh more than the body). The bot answers with
 * the best article when its confidence reaches PARLEY_KB_THRESHOLD and
 * otherwise says it does not know and offers a person. Format, scoring and
 * the threshold are described in docs/internals/kb.md. */
#ifndef PARLEY_KB_H
#define PARLEY_KB_H

#include <stdbool.h>
#include <stddef.h>

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A loaded knowledge base. Immutable after loading: searches may run
 * concurrently from several threads. */
typedef struct parley_kb parley_kb;

/** Largest article file, in bytes. */
#define PARLEY_KB_MAX_ARTICLE (64u * 1024u)
/** Most articles in one knowledge base (all languages together). */
#define PARLEY_KB_MAX_ARTICLES 10000u
/** Longest query, in bytes. */
#define PARLEY_KB_MAX_QUERY 4096u

/** Confidence from which an article is a good enough answer. Below it the
 * bot should say it does not know and offer to hand over to a person.
 * Chosen on the carrier's articles (docs/internals/kb.md): on-topic
 * customer questions score about 0.2 and more, off-topic ones under 0.19. */
#define PARLEY_KB_THRESHOLD 0.2

/** One search hit. Strings are borrowed from the knowledge base and valid
 * until parley_kb_free(). */
typedef struct parley_kb_result {
    const char *id;    /* file name without ".md", e.g. "apn-what-and-reset" */
    const char *title; /* the "# Title" line, without the "# " */
    const char *body;  /* the article text after the title and tags lines */
    double score;      /* raw BM25F score, only comparable within one query */
    double confidence; /* score over the best score the query could reach, 0..1 */
} parley_kb_result;

/** Loads every article under `dir`: each subfolder is a language code
 * ("en", "fr", "pt-br") and holds ID.md files whose first line is
 * "# Title", then optionally "tags: a, b", then the body. Files and folders
 * starting with '.' are ignored. On success `*out` is a new knowledge base
 * the caller frees with parley_kb_free(). Errors: PARLEY_ERR_IO (unreadable
 * folder or file), PARLEY_ERR_FORMAT (missing title, empty body, bad file
 * name: the message names FILE:LINE), PARLEY_ERR_UTF8 (names FILE:LINE),
 * PARLEY_ERR_LIMIT (article over PARLEY_KB_MAX_ARTICLE, too many
 * articles), PARLEY_ERR_EMPTY (no articles at all), PARLEY_ERR_NOMEM. */
parley_err parley_kb_load(const char *dir, parley_kb **out, parley_error *err);

/** Frees `kb`; NULL does nothing. */
void parley_kb_free(parley_kb *kb);

/** Number of articles in language `lang`, 0 if none. */
size_t parley_kb_count(const parley_kb *kb, const char *lang);

/** Searches the articles of language `lang` for `query[0..len)` (UTF-8).
 * Writes up to `max` hits, best first (ties by id), into `results` and
 * their number into `*n`; articles sharing no term with the query are not
 * hits, so `*n` may be 0. Errors: PARLEY_ERR_NOTFOUND (no articles in
 * `lang`), PARLEY_ERR_UTF8, PARLEY_ERR_LIMIT (query over
 * PARLEY_KB_MAX_QUERY), PARLEY_ERR_NOMEM; `*n` is then unchanged. */
parley_err parley_kb_search(const parley_kb *kb, const char *lang, const char *query, size_t len,
                            parley_kb_result *results, size_t max, size_t *n, parley_error *err);

/** True when `r` (may be NULL: no hit) is confident enough to answer with,
 * i.e. r->confidence >= PARLEY_KB_THRESHOLD. */
bool parley_kb_confident(const parley_kb_result *r);

#ifdef __cplusplus
}
#endif
#endif
