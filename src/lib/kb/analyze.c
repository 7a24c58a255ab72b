/* Text analysis for the knowledge base: the same pipeline turns articles
 * and queries into terms, so they meet in the index. Text is normalized
 * with casefolding and accent folding, split by the text layer's
 * tokenizer, and words are reduced by the Snowball stemmer of the
 * article's language when libstemmer has one ("connexions" and
 * "connexion" become one term). Stemming runs on accent-folded text: the
 * stems are not always the canonical ones, but articles and queries get
 * the same treatment, which is all retrieval needs. */
#include <string.h>

#include <libstemmer.h>

#include "kb/internal.h"
#include "parley/text.h"

/* Language codes to Snowball algorithm names. */
static const struct {
    const char *code, *algo;
} stemmers[] = {
    {"da", "danish"},  {"de", "german"},    {"en", "english"},    {"es", "spanish"},
    {"fi", "finnish"}, {"fr", "french"},    {"hu", "hungarian"},  {"it", "italian"},
    {"nl", "dutch"},   {"no", "norwegian"}, {"pt", "portuguese"}, {"ro", "romanian"},
    {"ru", "russian"}, {"sv", "swedish"},   {"tr", "turkish"},
};

/* Function words that carry no topic ("what is the", "c'est quoi"), in
 * normalized form (casefolded, accents dropped). Without them a question
 * word that happens to occur in one title ("What an APN is") would make an
 * off-topic question look answerable. */
static const char *const stop_en[] = {
    "a",     "about", "an",    "and",  "are",  "at",    "be",  "but",  "by",   "can",
    "could", "do",    "does",  "for",  "from", "have",  "how", "i",    "i'm",  "if",
    "in",    "is",    "it",    "its",  "me",   "my",    "of",  "on",   "or",   "so",
    "that",  "the",   "there", "this", "to",   "was",   "we",  "what", "when", "where",
    "which", "who",   "why",   "will", "with", "would", "you", "your", NULL};
static const char *const stop_fr[] = {
    "a",   "au",   "aux",      "c'est", "ce",  "ces",  "comment", "d",   "dans",  "de",    "des",
    "du",  "elle", "en",       "est",   "et",  "il",   "j'ai",    "je",  "l",     "la",    "le",
    "les", "ma",   "mais",     "me",    "mes", "moi",  "mon",     "ne",  "n'est", "ou",    "par",
    "pas", "pour", "pourquoi", "quand", "que", "quel", "quelle",  "qui", "quoi",  "sa",    "se",
    "son", "sur",  "ta",       "te",    "ton", "tu",   "un",      "une", "vous",  "votre", NULL};
static const char *const stop_es[] = {
    "a",   "al",   "como", "con",  "cual", "de",  "del",    "donde", "el", "en",
    "es",  "esta", "este", "hay",  "la",   "las", "lo",     "los",   "me", "mi",
    "mis", "no",   "o",    "para", "pero", "por", "porque", "que",   "se", "si",
    "su",  "sus",  "te",   "tu",   "un",   "una", "y",      "yo",    NULL};
static const char *const stop_de[] = {
    "auf",   "bei",   "bin",   "das",    "dass", "dem", "den",  "der",  "des", "die",  "du",  "ein",
    "eine",  "einen", "einem", "er",     "es",   "fur", "hat",  "ich",  "ihr", "im",   "in",  "ist",
    "kann",  "mein",  "meine", "meinen", "mich", "mir", "mit",  "oder", "sie", "sind", "und", "von",
    "warum", "was",   "wann",  "wer",    "wie",  "wo",  "wird", "zu",   "zum", NULL};

static const struct {
    const char *code;
    const char *const *words;
} stoplists[] = {{"en", stop_en}, {"fr", stop_fr}, {"es", stop_es}, {"de", stop_de}};

const char *const *parley__kb_stopwords(const char *lang)
{
    for (size_t i = 0; i < sizeof(stoplists) / sizeof(stoplists[0]); i++)
        if (strncmp(lang, stoplists[i].code, 2) == 0 && (lang[2] == '\0' || lang[2] == '-'))
            return stoplists[i].words;
    return NULL;
}

static int is_stop(const char *const *stop, const char *w, size_t len)
{
    for (; stop && *stop; stop++)
        if (strlen(*stop) == len && memcmp(*stop, w, len) == 0)
            return 1;
    return 0;
}

parley_err parley__kb_stemmer_new(const char *lang, struct sb_stemmer **out)
{
    *out = NULL;
    for (size_t i = 0; i < sizeof(stemmers) / sizeof(stemmers[0]); i++) {
        size_t len = strlen(stemmers[i].code);
        /* "pt-br" uses the "pt" stemmer. */
        if (strncmp(lang, stemmers[i].code, len) == 0 && (lang[len] == '\0' || lang[len] == '-')) {
            *out = sb_stemmer_new(stemmers[i].algo, "UTF_8");
            return *out ? PARLEY_OK : PARLEY_ERR_NOMEM;
        }
    }
    return PARLEY_OK;
}

parley_err parley__kb_analyze(struct sb_stemmer *st, const char *const *stop, const char *s,
                              size_t n, parley__kb_term_fn fn, void *ud, parley_error *err)
{
    char *norm = NULL;
    size_t norm_len = 0, count = 0;
    parley_token *toks = NULL;
    parley_err rc;

    rc = parley_text_normalize(s, n, PARLEY_TEXT_CASEFOLD | PARLEY_TEXT_STRIP_ACCENTS, &norm,
                               &norm_len, err);
    if (rc != PARLEY_OK)
        return rc;
    parley_text_tokenize(norm, norm_len, NULL, 0, &count);
    if (count == 0)
        goto out;
    toks = parley__mallocarray(count, sizeof(*toks));
    if (!toks) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    parley_text_tokenize(norm, norm_len, toks, count, &count);
    for (size_t i = 0; i < count; i++) {
        const char *w = norm + toks[i].start;
        size_t wlen = toks[i].end - toks[i].start;

        if (toks[i].kind == PARLEY_TOKEN_PHONE)
            continue; /* a phone number never identifies an article */
        if (is_stop(stop, w, wlen))
            continue;
        if (st && toks[i].kind == PARLEY_TOKEN_WORD) {
            const sb_symbol *stem = sb_stemmer_stem(st, (const sb_symbol *)w, (int)wlen);
            if (!stem) {
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                goto out;
            }
            w = (const char *)stem;
            wlen = (size_t)sb_stemmer_length(st);
        }
        if (wlen == 0)
            continue;
        rc = fn(w, wlen, ud);
        if (rc != PARLEY_OK)
            goto out;
    }
out:
    parley__free(toks);
    parley_free(norm);
    return rc;
}

int parley__kb_term_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

const struct kb_term *parley__kb_find(const struct kb_article *a, const char *s, size_t len)
{
    size_t lo = 0, hi = a->n_terms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = parley__kb_term_cmp(a->terms[mid].s, a->terms[mid].len, s, len);
        if (c == 0)
            return &a->terms[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
