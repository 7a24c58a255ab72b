/* Hashed features: word n-grams over tokens (characters, for scripts
 * without spaces) and character n-grams inside word boundaries. The hash
 * is fixed so models mean the same thing on every machine; see
 * docs/internals/text.md for the exact definition. */
#include <string.h>

#include "text/internal.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL
/* Words longer than this many code points get char n-grams of their
 * first part only, which bounds work on pathological input. */
#define MAX_WORD_CPS 64

uint64_t parley__hash_fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint64_t fnv_add(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t parley_text_hash(const void *data, size_t n)
{
    return parley__hash_fmix64(fnv_add(FNV_OFFSET, data, n));
}

void parley_text_features_default(parley_text_features_config *cfg)
{
    cfg->word_ngrams = 2;
    cfg->char_min = 3;
    cfg->char_max = 5;
    cfg->hash_bits = 20;
}

parley_err parley_text_features_check(const parley_text_features_config *cfg, parley_error *err)
{
    if (cfg->word_ngrams > 3)
        return parley_error_set(err, PARLEY_ERR_INVALID, "word n-grams must be 0..3, not %u",
                                cfg->word_ngrams);
    if (cfg->char_min > cfg->char_max || cfg->char_max > 8)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "character n-gram range %u..%u is not within 1..8 (0..0 disables)",
                                cfg->char_min, cfg->char_max);
    if (cfg->char_min == 0 && cfg->char_max != 0)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "character n-gram range must start at 1 or more");
    if (cfg->hash_bits < 12 || cfg->hash_bits > 26)
        return parley_error_set(err, PARLEY_ERR_INVALID, "hash bits must be 12..26, not %u",
                                cfg->hash_bits);
    if (cfg->word_ngrams == 0 && cfg->char_max == 0)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no features enabled");
    return PARLEY_OK;
}

static parley_err reserve(parley_text_features *f, size_t need)
{
    if (need <= f->cap)
        return PARLEY_OK;
    size_t cap = f->cap ? f->cap : 256;
    while (cap < need)
        cap *= 2;
    uint32_t *p = parley__realloc(f->ids, cap * sizeof(uint32_t));
    if (!p)
        return PARLEY_ERR_NOMEM;
    f->ids = p;
    f->cap = cap;
    return PARLEY_OK;
}

/* Kind prefixes keep the word and character spaces apart. */
static const unsigned char PREFIX_WORD = 'w';
static const unsigned char PREFIX_CHAR = 'c';

static uint64_t combine(uint64_t g, uint64_t u)
{
    return parley__hash_fmix64(g ^ (u + 0x9E3779B97F4A7C15ULL + (g << 6) + (g >> 2)));
}

static int is_ascii_word(const char *w, size_t n)
{
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= (unsigned char)w[i];
    return acc < 0x80;
}

/* Character n-grams of "<" token ">" for n in [min, max], skipping the
 * lone boundary markers, which carry no information. */
static parley_err char_ngrams(parley_text_features *f, const parley_text_features_config *cfg,
                              uint32_t mask, const char *w, size_t wlen)
{
    size_t off[MAX_WORD_CPS + 3];
    unsigned char buf[MAX_WORD_CPS * 4 + 2];
    size_t ncp = 0, blen = 0, i = 0, need;
    const uint64_t h0 = fnv_add(FNV_OFFSET, &PREFIX_CHAR, 1);
    parley_err rc;

    if (wlen <= MAX_WORD_CPS && is_ascii_word(w, wlen)) {
        /* One byte per code point: the same hashes, without offsets. */
        ncp = wlen + 2;
        buf[0] = '<';
        memcpy(buf + 1, w, wlen);
        buf[wlen + 1] = '>';
        need = f->n_word + f->n_char + ncp * (cfg->char_max - cfg->char_min + 1);
        if ((rc = reserve(f, need)) != PARLEY_OK)
            return rc;
        uint32_t *out = f->ids + f->n_word + f->n_char;
        size_t k = 0;
        for (size_t s = 0; s < ncp; s++) {
            uint64_t h = h0;
            for (size_t n = 1; n <= cfg->char_max && s + n <= ncp; n++) {
                h = (h ^ buf[s + n - 1]) * FNV_PRIME;
                if (n < cfg->char_min || (n == 1 && (s == 0 || s == ncp - 1)))
                    continue;
                out[k++] = (uint32_t)(parley__hash_fmix64(h) & mask);
            }
        }
        f->n_char += k;
        return PARLEY_OK;
    }

    buf[blen] = '<';
    off[ncp++] = blen++;
    while (i < wlen && ncp <= MAX_WORD_CPS) {
        int32_t cp;
        size_t l = parley__utf8_decode((const unsigned char *)w + i, wlen - i, &cp);
        off[ncp++] = blen;
        memcpy(buf + blen, w + i, l);
        blen += l;
        i += l;
    }
    off[ncp++] = blen;
    buf[blen++] = '>';
    off[ncp] = blen;

    need = f->n_word + f->n_char + ncp * (cfg->char_max - cfg->char_min + 1);
    if ((rc = reserve(f, need)) != PARLEY_OK)
        return rc;
    for (size_t s = 0; s < ncp; s++) {
        uint64_t h = h0;
        for (size_t n = 1; n <= cfg->char_max && s + n <= ncp; n++) {
            h = fnv_add(h, buf + off[s + n - 1], off[s + n] - off[s + n - 1]);
            if (n < cfg->char_min || (n == 1 && (s == 0 || s == ncp - 1)))
                continue;
            f->ids[f->n_word + f->n_char++] = (uint32_t)(parley__hash_fmix64(h) & mask);
        }
    }
    return PARLEY_OK;
}

parley_err parley_text_features_compute(const parley_text_features_config *cfg, const char *s,
                                        size_t n, parley_text_features *f)
{
    uint32_t mask = (uint32_t)((1ULL << cfg->hash_bits) - 1);
    size_t ntok = 0, nunits = 0;
    uint64_t *units;
    parley_err rc;

    f->n_word = f->n_char = 0;
    parley_text_tokenize(s, n, f->toks, f->toks_cap, &ntok);
    if (ntok > f->toks_cap) {
        parley_token *t = parley__realloc(f->toks, ntok * sizeof(*t));
        if (!t)
            return PARLEY_ERR_NOMEM;
        f->toks = t;
        f->toks_cap = ntok;
        parley_text_tokenize(s, n, f->toks, f->toks_cap, &ntok);
    }

    /* Word units: one per token, or one per character of an unspaced run. */
    for (size_t t = 0; t < ntok; t++)
        nunits += f->toks[t].kind == PARLEY_TOKEN_UNSPACED ? f->toks[t].len : 1;
    if (cfg->word_ngrams) {
        if ((rc = reserve(f, nunits * cfg->word_ngrams)) != PARLEY_OK)
            return rc;
        if (nunits > f->units_cap) {
            uint64_t *p = parley__realloc(f->units, nunits * sizeof(*p));
            if (!p)
                return PARLEY_ERR_NOMEM;
            f->units = p;
            f->units_cap = nunits;
        }
        units = f->units;
        size_t u = 0;
        for (size_t t = 0; t < ntok; t++) {
            const parley_token *tok = &f->toks[t];
            if (tok->kind != PARLEY_TOKEN_UNSPACED) {
                uint64_t h = fnv_add(FNV_OFFSET, &PREFIX_WORD, 1);
                units[u++] = fnv_add(h, (const unsigned char *)tok->text, tok->len);
                continue;
            }
            for (size_t i = 0; i < tok->len;) {
                int32_t cp;
                size_t l =
                    parley__utf8_decode((const unsigned char *)tok->text + i, tok->len - i, &cp);
                uint64_t h = fnv_add(FNV_OFFSET, &PREFIX_WORD, 1);
                units[u++] = fnv_add(h, (const unsigned char *)tok->text + i, l);
                i += l;
            }
        }
        nunits = u;
        for (size_t i = 0; i < nunits; i++) {
            uint64_t g = units[i];
            f->ids[f->n_word++] = (uint32_t)(parley__hash_fmix64(g) & mask);
            for (size_t k = 1; k < cfg->word_ngrams && i + k < nunits; k++) {
                g = combine(g, units[i + k]);
                f->ids[f->n_word++] = (uint32_t)(parley__hash_fmix64(g) & mask);
            }
        }
    }
    if (cfg->char_max) {
        for (size_t t = 0; t < ntok; t++) {
            const parley_token *tok = &f->toks[t];
            if (tok->kind != PARLEY_TOKEN_WORD && tok->kind != PARLEY_TOKEN_UNSPACED)
                continue;
            if ((rc = char_ngrams(f, cfg, mask, tok->text, tok->len)) != PARLEY_OK)
                return rc;
        }
    }
    return PARLEY_OK;
}

void parley_text_features_release(parley_text_features *f)
{
    parley__free(f->ids);
    parley__free(f->toks);
    parley__free(f->units);
    f->ids = NULL;
    f->toks = NULL;
    f->units = NULL;
    f->cap = f->toks_cap = f->units_cap = 0;
    f->n_word = f->n_char = 0;
}
