/* The text layer: UTF-8 validation, Unicode normalization (NFKC, case and
 * accent folding), tokenization for every script, and stable hashed
 * features (word n-grams and character n-grams) for the intent engine. */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Normalization options. */
enum parley_text_flags {
    PARLEY_TEXT_CASEFOLD = 1 << 0,      /* Unicode case folding (full) */
    PARLEY_TEXT_STRIP_ACCENTS = 1 << 1, /* drop combining marks: é -> e */
};

/** Longest text the layer accepts, in bytes. Longer input is an error. */
#define PARLEY_TEXT_MAX_BYTES (1u << 20)
/** Longest normalized text, in bytes: compatibility forms can expand a lot
 * (one code point to 18), so the output has its own bound. */
#define PARLEY_TEXT_MAX_OUTPUT (4u * PARLEY_TEXT_MAX_BYTES)

/** Checks that `s[0..n)` is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). On failure returns PARLEY_ERR_UTF8,
 * stores the offset of the first bad byte in `*bad_offset` (may be NULL)
 * and names it in `err`. */
parley_err parley_text_validate(const char *s, size_t n, size_t *bad_offset, parley_error *err);

/** Normalizes `s[0..n)` to NFKC, plus the folds in `flags`, also mapping
 * typographic punctuation variants to ASCII (’ -> ', “ -> ", – -> -) and
 * dropping default ignorables (zero-width joiners...). Case folding maps
 * Turkish İ to i. Accent folding drops every combining mark, which also
 * removes Devanagari vowel signs and Japanese dakuten: use it for Latin,
 * Greek, Cyrillic and Arabic text. On success `*out` is a new
 * NUL-terminated string the caller frees with parley_free(), `*out_len` its
 * length. Invalid UTF-8 gives PARLEY_ERR_UTF8 naming the byte offset. */
parley_err parley_text_normalize(const char *s, size_t n, unsigned flags, char **out,
                                 size_t *out_len, parley_error *err);

/** What a token is. */
typedef enum parley_token_kind {
    PARLEY_TOKEN_WORD = 0,     /* letters/digits of a space-delimited script */
    PARLEY_TOKEN_UNSPACED = 1, /* a run of a script written without spaces
                                  (Han, kana, Thai, Lao, Khmer, Myanmar) */
    PARLEY_TOKEN_NUMBER = 2,   /* digits, maybe with , . separators */
    PARLEY_TOKEN_PHONE = 3,    /* phone-like: 7+ digits with + ( ) - . spaces */
} parley_token_kind;

/** A token: a span of the input, plus for NUMBER and PHONE a shape string
 * ("<num2>", "<phone>") that features use instead of the digits. */
typedef struct parley_token {
    const char *text; /* borrowed: the input span, or a static shape string */
    size_t len;
    size_t start, end; /* byte offsets of the span in the input */
    parley_token_kind kind;
} parley_token;

/** Splits already-normalized UTF-8 text into tokens, writing at most `max`
 * into `toks` and the number found (which may exceed `max`) into `*count`.
 * Punctuation and spaces separate tokens and are dropped. Text must be
 * valid UTF-8 (see parley_text_validate); invalid bytes are skipped. */
void parley_text_tokenize(const char *s, size_t n, parley_token *toks, size_t max, size_t *count);

/** Feature extraction settings. The defaults (parley_text_features_default)
 * are word 1-2-grams and character 3-5-grams in 2^20 buckets. */
typedef struct parley_text_features_config {
    unsigned word_ngrams; /* longest word n-gram, 0..3 (0: no word features) */
    unsigned char_min;    /* shortest character n-gram, 0 disables them */
    unsigned char_max;    /* longest character n-gram, <= 8 */
    unsigned hash_bits;   /* buckets = 2^hash_bits, 12..26 */
} parley_text_features_config;

/** Fills `cfg` with the defaults. */
void parley_text_features_default(parley_text_features_config *cfg);

/** Checks a configuration; PARLEY_ERR_INVALID names the bad field. */
parley_err parley_text_features_check(const parley_text_features_config *cfg, parley_error *err);

/** Feature groups: word n-grams and character n-grams are weighted and
 * normalized separately by the intent engine. */
enum { PARLEY_FEATURE_WORD = 0, PARLEY_FEATURE_CHAR = 1 };

/** Hashed features of one normalized text: bucket ids (with repeats; order
 * is deterministic), split by group. Reuse one across calls. */
typedef struct parley_text_features {
    uint32_t *ids; /* ids[0..n_word) are word features, then n_char char ones */
    size_t n_word;
    size_t n_char;
    size_t cap;
    parley_token *toks; /* scratch */
    size_t toks_cap;
    uint64_t *units; /* scratch */
    size_t units_cap;
} parley_text_features;

#define PARLEY_TEXT_FEATURES_INIT                                                                  \
    {                                                                                              \
        NULL, 0, 0, 0, NULL, 0, NULL, 0                                                            \
    }

/** Computes the hashed features of normalized text `s[0..n)` into `out`,
 * replacing its previous content. `cfg` must have passed
 * parley_text_features_check (it is not checked again here, for speed). Hashing is fixed and
 * documented in docs/internals/text.md: 64-bit FNV-1a over a one-byte kind prefix and the UTF-8
 * bytes, mixed by the murmur3 finalizer, low `hash_bits` bits, so ids are the same on every run and
 * machine. */
parley_err parley_text_features_compute(const parley_text_features_config *cfg, const char *s,
                                        size_t n, parley_text_features *out);

/** Frees the arrays of `f` (not `f` itself). */
void parley_text_features_release(parley_text_features *f);

/** The documented 64-bit hash of a byte string (FNV-1a then fmix64). */
uint64_t parley_text_hash(const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
