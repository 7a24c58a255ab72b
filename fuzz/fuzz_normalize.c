/* libFuzzer target for the text layer: validation, normalization under every
 * flag combination, tokenization and features, with their invariants checked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/text.h"
#include "text/internal.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (void)fprintf(stderr, "fuzz_normalize: invariant failed at line %d: %s\n", __LINE__,   \
                          #cond);                                                                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *const shapes[] = {"<num1>", "<num2>", "<num3>", "<num4>", "<num5+>"};

static int is_shape(const parley_token *t)
{
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        if (t->len == strlen(shapes[i]) && memcmp(t->text, shapes[i], t->len) == 0)
            return 1;
    return 0;
}

static void check_tokens(const char *s, size_t n)
{
    parley_token toks[256];
    size_t count = 0, count2 = 0, prev_end = 0;

    parley_text_tokenize(s, n, toks, 256, &count);
    parley_text_tokenize(s, n, toks, 1, &count2);
    CHECK(count == count2); /* the full count, whatever max is */
    parley_text_tokenize(s, n, toks, 256, &count);
    for (size_t i = 0; i < count && i < 256; i++) {
        const parley_token *t = &toks[i];
        CHECK(t->start < t->end && t->end <= n);
        CHECK(t->start >= prev_end); /* in order, never overlapping */
        prev_end = t->end;
        switch (t->kind) {
        case PARLEY_TOKEN_WORD:
        case PARLEY_TOKEN_UNSPACED:
            CHECK(t->text == s + t->start && t->len == t->end - t->start);
            break;
        case PARLEY_TOKEN_NUMBER:
            CHECK(is_shape(t));
            break;
        case PARLEY_TOKEN_PHONE:
            CHECK(t->len == 7 && memcmp(t->text, "<phone>", 7) == 0);
            CHECK(t->end - t->start >= 7);
            break;
        default:
            CHECK(0);
        }
    }
}

static void check_features(const parley_text_features_config *cfg, const char *s, size_t n)
{
    parley_text_features a = PARLEY_TEXT_FEATURES_INIT, b = PARLEY_TEXT_FEATURES_INIT;

    CHECK(parley_text_features_check(cfg, NULL) == PARLEY_OK);
    CHECK(parley_text_features_compute(cfg, s, n, &a) == PARLEY_OK);
    for (size_t i = 0; i < a.n_word + a.n_char; i++)
        CHECK(a.ids[i] < (1u << cfg->hash_bits));
    if (!cfg->word_ngrams)
        CHECK(a.n_word == 0);
    if (!cfg->char_max)
        CHECK(a.n_char == 0);
    /* Deterministic, and independent of what the struct held before. */
    CHECK(parley_text_features_compute(cfg, "warm up the scratch", 19, &b) == PARLEY_OK);
    CHECK(parley_text_features_compute(cfg, s, n, &b) == PARLEY_OK);
    CHECK(a.n_word == b.n_word && a.n_char == b.n_char);
    CHECK(a.n_word + a.n_char == 0 ||
          memcmp(a.ids, b.ids, (a.n_word + a.n_char) * sizeof(uint32_t)) == 0);
    parley_text_features_release(&a);
    parley_text_features_release(&b);
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* Normalizes each line of the input into one reused scratch, as the intent
 * engine does over a dataset, and compares with the one-shot API. */
static void check_scratch_lines(const char *in, size_t size)
{
    struct parley_text_scratch sc = PARLEY_TEXT_SCRATCH_INIT;

    for (size_t at = 0; at < size;) {
        const char *nl = memchr(in + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (in + at)) : size - at;
        const char *line = in + at;

        for (unsigned flags = 0; flags < 4; flags++) {
            char *out = NULL;
            size_t len = 0;
            parley_err rc = parley_text_normalize(line, n, flags, &out, &len, NULL);
            CHECK(parley__text_normalize_into(&sc, line, n, flags, NULL) == rc);
            if (rc != PARLEY_OK)
                continue;
            CHECK(sc.out.len == len && (len == 0 || memcmp(sc.out.data, out, len) == 0));
            /* utf8proc_reencode() wrote the output plus a NUL into the code
             * point buffer. ASan cannot see writes made by the uninstrumented
             * system libutf8proc, so check that they fitted. */
            if (!is_ascii(line, n))
                CHECK(sc.cps != NULL && len < sc.cps_cap * sizeof(int32_t));
            parley_free(out);
        }
        at += n + 1;
    }
    parley__text_scratch_release(&sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t bad = 0;
    parley_error e = PARLEY_ERROR_INIT;
    int valid = parley_text_validate(in, size, &bad, &e) == PARLEY_OK;

    if (!valid) {
        CHECK(bad < size);
        CHECK(e.code == PARLEY_ERR_UTF8);
    }
    /* Tokenizer and features must cope with raw, possibly invalid, bytes. */
    check_tokens(in, size);
    if (size <= PARLEY_TEXT_MAX_BYTES) {
        parley_text_features_config cfg;
        parley_text_features_default(&cfg);
        check_features(&cfg, in, size);
    }

    for (unsigned flags = 0; flags < 4; flags++) {
        char *out = NULL, *again = NULL;
        size_t len = 0, again_len = 0;
        parley_err rc = parley_text_normalize(in, size, flags, &out, &len, &e);

        if (size > PARLEY_TEXT_MAX_BYTES) {
            CHECK(rc == PARLEY_ERR_LIMIT && out == NULL);
            continue;
        }
        CHECK(rc == (valid ? PARLEY_OK : PARLEY_ERR_UTF8));
        if (rc != PARLEY_OK) {
            CHECK(out == NULL);
            continue;
        }
        CHECK(out != NULL && out[len] == '\0');
        CHECK(parley_text_validate(out, len, NULL, NULL) == PARLEY_OK);

        /* Normalizing again changes nothing. This holds for all four flag
         * sets in utf8proc 2.6: 3 minutes of fuzzing and an exhaustive run
         * over every code point, alone and followed by common combining
         * marks, found no counterexample. */
        CHECK(parley_text_normalize(out, len, flags, &again, &again_len, NULL) == PARLEY_OK);
        if (again_len != len || memcmp(again, out, len) != 0) {
            (void)fprintf(stderr, "fuzz_normalize: not idempotent with flags %u\n", flags);
            abort();
        }
        parley_free(again);

        check_tokens(out, len);
        if (flags == PARLEY_TEXT_CASEFOLD) {
            parley_text_features_config cfg;
            parley_text_features_default(&cfg);
            check_features(&cfg, out, len);
            cfg = (parley_text_features_config){3, 1, 8, 12};
            check_features(&cfg, out, len);
        }
        parley_free(out);
    }
    if (size <= PARLEY_TEXT_MAX_BYTES)
        check_scratch_lines(in, size);
    return 0;
}
