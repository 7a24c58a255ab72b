/* Unit tests for src/lib/text: UTF-8 validation, normalization, tokenization
 * for many scripts, and the hashed features (including golden values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/internal.h"
#include "parley/text.h"
#include "text/internal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Normalizes a NUL-terminated string, asserting success; caller frees. */
static char *norm(const char *s, unsigned flags)
{
    char *out = NULL;
    size_t len = 0;
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc = parley_text_normalize(s, strlen(s), flags, &out, &len, &e);
    if (rc != PARLEY_OK)
        fail_msg("normalize failed: %s", e.msg);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    return out;
}

static void assert_norm(const char *in, unsigned flags, const char *expect)
{
    char *out = norm(in, flags);
    assert_string_equal(out, expect);
    parley_free(out);
}

/* Writes `count` copies of the UTF-8 string `unit` at `dst` (no NUL);
 * returns the number of bytes written. */
static size_t repeat(char *dst, const char *unit, size_t count)
{
    size_t len = strlen(unit), at = 0;
    for (size_t k = 0; k < count; k++)
        for (size_t i = 0; i < len; i++)
            dst[at++] = unit[i];
    return at;
}

/* ---- Validation ---------------------------------------------------------- */

static void test_validate_accepts_valid(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "",
        "plain ascii, with \t controls\n",
        "caf\xc3\xa9",                      /* 2 bytes: é */
        "\xe2\x82\xac 10",                  /* 3 bytes: € */
        "\xf0\x9f\x98\x80",                 /* 4 bytes: 😀 */
        "\xc2\x80",                         /* smallest 2-byte: U+0080 */
        "\xe0\xa0\x80",                     /* smallest 3-byte: U+0800 */
        "\xed\x9f\xbf",                     /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",                     /* U+E000, just above them */
        "\xef\xbf\xbf",                     /* U+FFFF */
        "\xf0\x90\x80\x80",                 /* smallest 4-byte: U+10000 */
        "\xf4\x8f\xbf\xbf",                 /* U+10FFFF, the last code point */
        "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", /* Hebrew */
        "\xe6\x88\x91\xe7\x9a\x84",         /* Chinese */
    };
    for (size_t i = 0; i < ARRAY_LEN(valid); i++) {
        size_t bad = 12345;
        parley_error e = PARLEY_ERROR_INIT;
        assert_int_equal(parley_text_validate(valid[i], strlen(valid[i]), &bad, &e), PARLEY_OK);
        assert_int_equal(bad, 12345); /* untouched on success */
        assert_int_equal(e.code, PARLEY_OK);
    }
    /* An embedded NUL is a valid code point. */
    assert_int_equal(parley_text_validate("a\0b", 3, NULL, NULL), PARLEY_OK);
    assert_int_equal(parley_text_validate(NULL, 0, NULL, NULL), PARLEY_OK);
}

static void test_validate_rejects_each_class(void **state)
{
    (void)state;
    /* The offset reported is that of the first byte of the bad sequence
     * (its lead byte; for a stray continuation byte, that byte). */
    static const struct {
        const char *what;
        const char *s;
        size_t n;
        size_t offset;
    } bad[] = {
        {"lone continuation", "ab\x80", 3, 2},
        {"continuation run", "\xbf\xbf", 2, 0},
        {"overlong 2-byte C0", "x\xc0\xaf", 3, 1},
        {"overlong 2-byte C1", "\xc1\xbf", 2, 0},
        {"overlong 3-byte", "ok \xe0\x80\xaf", 6, 3},
        {"overlong 3-byte max", "\xe0\x9f\xbf", 3, 0},
        {"overlong 4-byte", "\xf0\x80\x80\xaf", 4, 0},
        {"overlong 4-byte max", "\xf0\x8f\xbf\xbf", 4, 0},
        {"high surrogate", "a\xed\xa0\x80", 4, 1},
        {"low surrogate", "\xed\xbf\xbf", 3, 0},
        {"above U+10FFFF", "\xf4\x90\x80\x80", 4, 0},
        {"byte F5", "\xf5\x80\x80\x80", 4, 0},
        {"byte F8", "abc\xf8\x88\x80\x80\x80", 8, 3},
        {"byte FE", "\xfe", 1, 0},
        {"byte FF", "caf\xc3\xa9\xff", 6, 5},
        {"truncated 2-byte at end", "a\xc3", 2, 1},
        {"truncated 3-byte at end", "\xe2\x82", 2, 0},
        {"truncated 4-byte at end", "xy\xf0\x9f\x98", 5, 2},
        {"bad continuation 2-byte", "\xc3\x28", 2, 0},
        {"bad continuation 3-byte", "\xe2\x28\xa1", 3, 0},
        {"bad 3rd byte", "\xe2\x82\x28", 3, 0},
        {"bad 4th byte", "\xf0\x9f\x98\x41", 4, 0},
        {"ASCII inside a sequence",
         "\xf0\x9f"
         "ab",
         4, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        size_t off = 99999;
        parley_error e = PARLEY_ERROR_INIT;
        char expect[64];

        if (parley_text_validate(bad[i].s, bad[i].n, &off, &e) != PARLEY_ERR_UTF8)
            fail_msg("%s: not rejected", bad[i].what);
        if (off != bad[i].offset)
            fail_msg("%s: offset %zu, expected %zu", bad[i].what, off, bad[i].offset);
        assert_int_equal(e.code, PARLEY_ERR_UTF8);
        (void)snprintf(expect, sizeof(expect), "invalid UTF-8 at byte %zu (0x%02x)", bad[i].offset,
                       (unsigned char)bad[i].s[bad[i].offset]);
        assert_string_equal(e.msg, expect);
        /* NULL offset and error are allowed. */
        assert_int_equal(parley_text_validate(bad[i].s, bad[i].n, NULL, NULL), PARLEY_ERR_UTF8);
    }
}

/* ---- Normalization -------------------------------------------------------- */

static void test_normalize_nfkc(void **state)
{
    (void)state;
    assert_norm("\xef\xac\x81nd", 0, "find");         /* ﬁ ligature */
    assert_norm("\xef\xbc\xa1\xef\xbc\xa2", 0, "AB"); /* fullwidth ＡＢ */
    assert_norm("\xef\xbc\xa1\xef\xbc\xa2", PARLEY_TEXT_CASEFOLD, "ab");
    assert_norm("\xef\xbc\x91\xef\xbc\x92", 0, "12"); /* fullwidth digits */
    assert_norm("\xe2\x91\xa0", 0, "1");              /* ① */
    assert_norm("x\xc2\xb2", 0, "x2");                /* superscript two */
    /* Half-width katakana ｱｲｳ -> アイウ, and ｶﾞ (two code points) composes
     * to the single full-width ガ. */
    assert_norm("\xef\xbd\xb1\xef\xbd\xb2\xef\xbd\xb3", 0, "\xe3\x82\xa2\xe3\x82\xa4\xe3\x82\xa6");
    assert_norm("\xef\xbd\xb6\xef\xbe\x9e", 0, "\xe3\x82\xac");
    /* A decomposed é (e + U+0301) composes to the precomposed form. */
    assert_norm("cafe\xcc\x81", 0, "caf\xc3\xa9");
    /* No-break and em spaces become plain spaces. */
    assert_norm("a\xc2\xa0"
                "b\xe2\x80\x83"
                "c",
                0, "a b c");
}

static void test_normalize_casefold(void **state)
{
    (void)state;
    assert_norm("Hello WORLD", 0, "Hello WORLD");
    assert_norm("Hello WORLD", PARLEY_TEXT_CASEFOLD, "hello world");
    assert_norm("\xc3\x89"
                "COLE",
                PARLEY_TEXT_CASEFOLD,
                "\xc3\xa9"
                "cole"); /* ÉCOLE */
    /* Full case folding: ß and capital ẞ fold to "ss". */
    assert_norm("Stra\xc3\x9f"
                "e",
                PARLEY_TEXT_CASEFOLD, "strasse");
    assert_norm("\xe1\xba\x9e", PARLEY_TEXT_CASEFOLD, "ss");
    assert_norm("Stra\xc3\x9f"
                "e",
                0,
                "Stra\xc3\x9f"
                "e");

    /* Turkish: utf8proc's default folding gives "i" + U+0307 for U+0130
     * LATIN CAPITAL LETTER I WITH DOT ABOVE, which would never match
     * "istanbul"; Parley maps it to plain "i" under case folding. Without
     * case folding it only goes through NFKC and stays as it is. */
    assert_norm("\xc4\xb0stanbul", PARLEY_TEXT_CASEFOLD, "istanbul");
    assert_norm("\xc4\xb0stanbul", 0, "\xc4\xb0stanbul");
    /* Curly and angle double quotes become '"'; LUMP already does the rest. */
    assert_norm("\xe2\x80\x9chi\xe2\x80\x9d \xc2\xabok\xc2\xbb", 0, "\"hi\" \"ok\"");
    assert_norm("\xc4\xb0stanbul", PARLEY_TEXT_CASEFOLD | PARLEY_TEXT_STRIP_ACCENTS, "istanbul");
    assert_norm("\xc4\xb1", PARLEY_TEXT_CASEFOLD, "\xc4\xb1");
    assert_norm("I", PARLEY_TEXT_CASEFOLD, "i");
    assert_norm("\xc4\xb0", 0, "\xc4\xb0");

    /* Greek: capital Σ and final ς both fold to σ. */
    assert_norm("\xce\x9f\xce\x94\xce\x9f\xce\xa3", PARLEY_TEXT_CASEFOLD,
                "\xce\xbf\xce\xb4\xce\xbf\xcf\x83"); /* ΟΔΟΣ -> οδοσ */
    assert_norm("\xce\xbf\xce\xb4\xcf\x8c\xcf\x82", PARLEY_TEXT_CASEFOLD,
                "\xce\xbf\xce\xb4\xcf\x8c\xcf\x83"); /* οδός -> οδόσ */
    assert_norm("\xce\xbf\xce\xb4\xcf\x8c\xcf\x82",
                PARLEY_TEXT_CASEFOLD | PARLEY_TEXT_STRIP_ACCENTS,
                "\xce\xbf\xce\xb4\xce\xbf\xcf\x83"); /* οδός -> οδοσ = ΟΔΟΣ folded */
}

static void test_normalize_strip_accents(void **state)
{
    (void)state;
    /* Only with the flag. */
    assert_norm("caf\xc3\xa9", 0, "caf\xc3\xa9");
    assert_norm("caf\xc3\xa9", PARLEY_TEXT_CASEFOLD, "caf\xc3\xa9");
    assert_norm("caf\xc3\xa9", PARLEY_TEXT_STRIP_ACCENTS, "cafe");
    assert_norm("\xc3\x91"
                "and\xc3\xba",
                PARLEY_TEXT_STRIP_ACCENTS, "Nandu");
    assert_norm("\xc3\x91"
                "and\xc3\xba",
                PARLEY_TEXT_STRIP_ACCENTS | PARLEY_TEXT_CASEFOLD, "nandu");
    /* Arabic harakat (fatha, sukun, fathatan) are combining marks. */
    static const char marhaban[] =
        "\xd9\x85\xd9\x8e\xd8\xb1\xd9\x92\xd8\xad\xd9\x8e\xd8\xa8\xd9\x8b"
        "\xd8\xa7";
    assert_norm(marhaban, 0, marhaban);
    assert_norm(marhaban, PARLEY_TEXT_STRIP_ACCENTS, "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7");
    /* Hebrew niqqud too: שָׁלוֹם -> שלום */
    assert_norm("\xd7\xa9\xd7\x81\xd6\xb8\xd7\x9c\xd7\x95\xd6\xb9\xd7\x9d",
                PARLEY_TEXT_STRIP_ACCENTS, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
    /* Caveat, asserted as it is: the flag drops every combining mark, so
     * Devanagari loses its vowel signs and virama (नमस्ते -> नमसत) and
     * Japanese loses dakuten (ガ -> カ). Callers should not set it for
     * such scripts. */
    assert_norm("\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87",
                PARLEY_TEXT_STRIP_ACCENTS, "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa4\xa4");
    assert_norm("\xe3\x82\xac", PARLEY_TEXT_STRIP_ACCENTS, "\xe3\x82\xab");
}

static void test_normalize_punctuation_and_ignorables(void **state)
{
    (void)state;
    assert_norm("don\xe2\x80\x99t", 0, "don't");        /* ’ */
    assert_norm("\xe2\x80\x98x\xe2\x80\x99", 0, "'x'"); /* ‘x’ */
    assert_norm("a\xe2\x80\x93"
                "b\xe2\x80\x94"
                "c",
                0, "a-b-c"); /* en and em dashes */
    /* Zero-width joiner, non-joiner, soft hyphen and BOM are dropped. */
    assert_norm("a\xe2\x80\x8d"
                "b",
                0, "ab");
    assert_norm("a\xe2\x80\x8c"
                "b\xc2\xad"
                "c\xef\xbb\xbf"
                "d",
                0, "abcd");
    /* An emoji ZWJ sequence (family) becomes its three emoji. */
    assert_norm("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7", 0,
                "\xf0\x9f\x91\xa8\xf0\x9f\x91\xa9\xf0\x9f\x91\xa7");
    /* Text made only of ignorables normalizes to "" (this used to crash:
     * see test_normalize_scratch_reuse). */
    assert_norm("\xe2\x80\x8d", 0, "");
    assert_norm("\xe2\x80\x8d\xe2\x80\x8c", PARLEY_TEXT_CASEFOLD, "");
}

static void test_normalize_ascii_fast_path_matches_slow_path(void **state)
{
    (void)state;
    /* Appending a zero-width joiner (dropped) forces the utf8proc path for
     * the same ASCII text; both must agree, byte for byte, for every ASCII
     * byte including NUL and the controls, under every flag combination. */
    char ascii[128 + 3];
    for (int c = 0; c < 128; c++)
        ascii[c] = (char)c;
    repeat(ascii + 128, "\xe2\x80\x8d", 1);
    for (unsigned flags = 0; flags < 4; flags++) {
        char *fast = NULL, *slow = NULL;
        size_t fast_len = 0, slow_len = 0;
        assert_int_equal(parley_text_normalize(ascii, 128, flags, &fast, &fast_len, NULL),
                         PARLEY_OK);
        assert_int_equal(parley_text_normalize(ascii, sizeof(ascii), flags, &slow, &slow_len, NULL),
                         PARLEY_OK);
        assert_int_equal(fast_len, 128);
        assert_int_equal(slow_len, fast_len);
        assert_memory_equal(fast, slow, fast_len);
        assert_int_equal(fast[fast_len], '\0');
        assert_int_equal(slow[slow_len], '\0');
        for (int c = 0; c < 128; c++) {
            int expect = (flags & PARLEY_TEXT_CASEFOLD) && c >= 'A' && c <= 'Z' ? c + 32 : c;
            assert_int_equal((unsigned char)fast[c], expect);
        }
        parley_free(fast);
        parley_free(slow);
    }
    char *a = norm("Where IS my Order? It's #42!", PARLEY_TEXT_CASEFOLD);
    char *b = norm("Where IS my Order? It\xe2\x80\x99s #42!", PARLEY_TEXT_CASEFOLD);
    assert_string_equal(a, "where is my order? it's #42!");
    assert_string_equal(a, b);
    parley_free(a);
    parley_free(b);
}

static void test_normalize_empty_and_limits(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 5;
    parley_error e = PARLEY_ERROR_INIT;

    assert_int_equal(parley_text_normalize("", 0, PARLEY_TEXT_CASEFOLD, &out, &len, &e), PARLEY_OK);
    assert_non_null(out);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    parley_free(out);
    out = NULL;
    assert_int_equal(parley_text_normalize(NULL, 0, 0, &out, NULL, NULL), PARLEY_OK);
    assert_string_equal(out, "");
    parley_free(out);

    /* Exactly the limit is fine; one byte more is PARLEY_ERR_LIMIT and
     * leaves the out-parameters alone. */
    char *big = malloc(PARLEY_TEXT_MAX_BYTES + 1);
    assert_non_null(big);
    memset(big, 'a', PARLEY_TEXT_MAX_BYTES + 1);
    out = NULL;
    assert_int_equal(parley_text_normalize(big, PARLEY_TEXT_MAX_BYTES, 0, &out, &len, &e),
                     PARLEY_OK);
    assert_int_equal(len, PARLEY_TEXT_MAX_BYTES);
    parley_free(out);
    char sentinel;
    out = &sentinel;
    len = 5;
    assert_int_equal(parley_text_normalize(big, PARLEY_TEXT_MAX_BYTES + 1, 0, &out, &len, &e),
                     PARLEY_ERR_LIMIT);
    assert_int_equal(e.code, PARLEY_ERR_LIMIT);
    assert_non_null(strstr(e.msg, "1048577"));
    assert_ptr_equal(out, &sentinel);
    assert_int_equal(len, 5);
    /* Non-ASCII text at the limit also goes through (é is 2 bytes). */
    repeat(big, "\xc3\xa9", PARLEY_TEXT_MAX_BYTES / 2);
    out = NULL;
    assert_int_equal(parley_text_normalize(big, PARLEY_TEXT_MAX_BYTES, PARLEY_TEXT_STRIP_ACCENTS,
                                           &out, &len, &e),
                     PARLEY_OK);
    assert_int_equal(len, PARLEY_TEXT_MAX_BYTES / 2);
    assert_int_equal(out[0], 'e');
    parley_free(out);
    free(big);
}

static void test_normalize_invalid_utf8(void **state)
{
    (void)state;
    char sentinel;
    char *out = &sentinel;
    size_t len = 5;
    parley_error e = PARLEY_ERROR_INIT;

    assert_int_equal(
        parley_text_normalize("caf\xc3\xa9 \xed\xa0\x80", 9, PARLEY_TEXT_CASEFOLD, &out, &len, &e),
        PARLEY_ERR_UTF8);
    assert_string_equal(e.msg, "invalid UTF-8 at byte 6 (0xed)");
    assert_ptr_equal(out, &sentinel);
    assert_int_equal(len, 5);
    /* A lone high byte: the whole text is not ASCII, so it is validated. */
    assert_int_equal(parley_text_normalize("abc\x80", 4, 0, &out, &len, &e), PARLEY_ERR_UTF8);
    assert_string_equal(e.msg, "invalid UTF-8 at byte 3 (0x80)");
}

static void test_normalize_embedded_nul(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    /* NUL is kept on both paths; out_len, not strlen, gives the length. */
    assert_int_equal(parley_text_normalize("A\0B", 3, PARLEY_TEXT_CASEFOLD, &out, &len, NULL),
                     PARLEY_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "a\0b", 4);
    parley_free(out);
    assert_int_equal(
        parley_text_normalize("\xc3\x89\0B", 4, PARLEY_TEXT_CASEFOLD, &out, &len, NULL), PARLEY_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "\xc3\xa9\0b", 5);
    parley_free(out);
}

static void test_normalize_long_mark_runs(void **state)
{
    (void)state;
    /* Normalized text keeps at most 20 combining marks in a row; input is
     * first cut at 30 (Unicode's stream-safe limit), which bounds utf8proc's
     * quadratic mark reordering (minutes on a megabyte of marks without
     * it). The output limit is the lower one so that normalizing twice
     * changes nothing, even when composition shortens a run. x + U+0301
     * has no precomposed form (nor has q), so nothing composes here. */
    char *buf = malloc(PARLEY_TEXT_MAX_BYTES);
    char expect[1 + 30 * 2 + 1 + 30 * 2 + 1];
    size_t n;
    assert_non_null(buf);

    n = repeat(buf, "x", 1);
    n += repeat(buf + n, "\xcc\x81", 20);
    buf[n] = '\0';
    assert_norm(buf, 0, buf);
    n += repeat(buf + n, "\xcc\x81", 20);
    n += repeat(buf + n, "q", 1);
    n += repeat(buf + n, "\xcc\x81", 45);
    buf[n] = '\0';
    n = repeat(expect, "x", 1);
    n += repeat(expect + n, "\xcc\x81", 20);
    n += repeat(expect + n, "q", 1);
    n += repeat(expect + n, "\xcc\x81", 20);
    expect[n] = '\0';
    assert_norm(buf, 0, expect);

    /* A megabyte of marks with alternating combining classes (dot below,
     * 220; acute, 230): the worst case for the reordering. The 30 kept
     * from the input come out in canonical order (15 dots below, then 15
     * acutes), and the output keeps the first 20 of them. */
    n = repeat(buf, "x", 1);
    n += repeat(buf + n, "\xcc\x81\xcc\xa3", (PARLEY_TEXT_MAX_BYTES - 2) / 4);
    char *out = NULL;
    size_t len = 0;
    double t0 = parley__now();
    assert_int_equal(parley_text_normalize(buf, n, PARLEY_TEXT_CASEFOLD, &out, &len, NULL),
                     PARLEY_OK);
    assert_true(parley__now() - t0 < 10.0);
    n = repeat(expect, "x", 1);
    n += repeat(expect + n, "\xcc\xa3", 15);
    n += repeat(expect + n, "\xcc\x81", 5);
    assert_int_equal(len, n);
    assert_memory_equal(out, expect, n);
    parley_free(out);
    free(buf);
}

/* A guarding allocator: each block carries its size in a header and eight
 * canary bytes after it, checked when it is freed. ASan cannot see writes
 * made by the (uninstrumented) system libutf8proc; this can. */
#define GUARD_HDR 16
static int guard_smashed;

static void *guard_malloc(size_t n)
{
    unsigned char *p = malloc(GUARD_HDR + n + 8);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof(n));
    memset(p + GUARD_HDR + n, 0xAB, 8);
    return p + GUARD_HDR;
}

static void guard_free(void *q)
{
    if (!q)
        return;
    unsigned char *p = (unsigned char *)q - GUARD_HDR;
    size_t n;
    memcpy(&n, p, sizeof(n));
    for (int i = 0; i < 8; i++)
        if (p[GUARD_HDR + n + i] != 0xAB)
            guard_smashed = 1;
    free(p);
}

static void *guard_realloc(void *q, size_t n)
{
    unsigned char *r = guard_malloc(n);
    if (!r)
        return NULL;
    if (q) {
        size_t old;
        memcpy(&old, (unsigned char *)q - GUARD_HDR, sizeof(old));
        memcpy(r, q, old < n ? old : n);
        guard_free(q);
    }
    return r;
}

static void *guard_calloc(size_t a, size_t b)
{
    void *p = guard_malloc(a * b);
    if (p)
        memset(p, 0, a * b);
    return p;
}

static void test_normalize_scratch_reuse(void **state)
{
    (void)state;
    struct parley_text_scratch sc = PARLEY_TEXT_SCRATCH_INIT;
    parley_error e = PARLEY_ERROR_INIT;

    /* Regression: utf8proc_reencode() writes a NUL after its output. With a
     * reused scratch whose code point buffer exactly fit the text, 4-byte
     * characters made it write one byte past the buffer; and text of only
     * ignorables (0 code points) made it write through a NULL buffer. */
    guard_smashed = 0;
    parley_set_allocator(guard_malloc, guard_realloc, guard_calloc, guard_free);
    assert_int_equal(parley__text_normalize_into(&sc, "\xe2\x80\x8d", 3, 0, &e), PARLEY_OK);
    assert_int_equal(sc.out.len, 0);
    assert_int_equal(parley__text_normalize_into(&sc, "\xc3\xa9", 2, 0, &e), PARLEY_OK);
    assert_string_equal(sc.out.data, "\xc3\xa9");
    /* Fill the code point buffer exactly with 4-byte emoji, whatever its
     * size: every count from 1 to 64 on the same scratch. */
    for (size_t count = 1; count <= 64; count++) {
        char text[4 * 64];
        repeat(text, "\xf0\x9f\x98\x80", count);
        assert_int_equal(parley__text_normalize_into(&sc, text, 4 * count, 0, &e), PARLEY_OK);
        assert_int_equal(sc.out.len, 4 * count);
        assert_memory_equal(sc.out.data, text, 4 * count);
    }
    /* The scratch follows the ASCII path too, and reuses its output. */
    assert_int_equal(parley__text_normalize_into(&sc, "ABC", 3, PARLEY_TEXT_CASEFOLD, &e),
                     PARLEY_OK);
    assert_string_equal(sc.out.data, "abc");
    parley__text_scratch_release(&sc);
    parley_set_allocator(NULL, NULL, NULL, NULL);
    assert_false(guard_smashed);
}

/* ---- Tokenizer ------------------------------------------------------------ */

struct exp_tok {
    parley_token_kind kind;
    const char *text; /* the span, or the shape for NUMBER and PHONE */
    size_t start, end;
};

static void check_tokens(const char *s, const struct exp_tok *exp, size_t nexp)
{
    parley_token toks[64];
    size_t count = 0;
    size_t n = strlen(s);

    parley_text_tokenize(s, n, toks, ARRAY_LEN(toks), &count);
    if (count != nexp) {
        for (size_t i = 0; i < count && i < ARRAY_LEN(toks); i++)
            print_message("  token %zu: kind %d '%.*s' [%zu, %zu)\n", i, toks[i].kind,
                          (int)toks[i].len, toks[i].text, toks[i].start, toks[i].end);
        fail_msg("'%s': %zu tokens, expected %zu", s, count, nexp);
    }
    for (size_t i = 0; i < nexp; i++) {
        const parley_token *t = &toks[i];
        if (t->kind != exp[i].kind || t->len != strlen(exp[i].text) ||
            memcmp(t->text, exp[i].text, t->len) != 0 || t->start != exp[i].start ||
            t->end != exp[i].end)
            fail_msg("'%s' token %zu: kind %d '%.*s' [%zu, %zu), expected kind %d '%s' [%zu, %zu)",
                     s, i, t->kind, (int)t->len, t->text, t->start, t->end, exp[i].kind,
                     exp[i].text, exp[i].start, exp[i].end);
        if (t->kind == PARLEY_TOKEN_WORD || t->kind == PARLEY_TOKEN_UNSPACED) {
            /* Word spans are borrowed from the input. */
            assert_ptr_equal(t->text, s + t->start);
            assert_int_equal(t->len, t->end - t->start);
        }
    }
}

#define CHECK_TOKENS(s, ...)                                                                       \
    do {                                                                                           \
        static const struct exp_tok exp_[] = {__VA_ARGS__};                                        \
        check_tokens((s), exp_, ARRAY_LEN(exp_));                                                  \
    } while (0)

static void check_no_tokens(const char *s)
{
    size_t count = 99;
    parley_text_tokenize(s, strlen(s), NULL, 0, &count);
    assert_int_equal(count, 0);
}

#define W  PARLEY_TOKEN_WORD
#define U  PARLEY_TOKEN_UNSPACED
#define NU PARLEY_TOKEN_NUMBER
#define PH PARLEY_TOKEN_PHONE

static void test_tokenize_english(void **state)
{
    (void)state;
    CHECK_TOKENS("Hello, world! Where's my order?", {W, "Hello", 0, 5}, {W, "world", 7, 12},
                 {W, "Where", 14, 19}, {W, "s", 20, 21}, {W, "my", 22, 24}, {W, "order", 25, 30});
    check_no_tokens("");
    check_no_tokens("  ...!?  -- ()");
    /* Emoji and symbols are separators. */
    CHECK_TOKENS("I \xe2\x9d\xa4 pizza \xf0\x9f\x8d\x95!", {W, "I", 0, 1}, {W, "pizza", 6, 11});
    /* A digit followed by letters is a word, not a number. */
    CHECK_TOKENS("my 5g and 2gb plan", {W, "my", 0, 2}, {W, "5g", 3, 5}, {W, "and", 6, 9},
                 {W, "2gb", 10, 13}, {W, "plan", 14, 18});
    CHECK_TOKENS("abc123 x1y", {W, "abc123", 0, 6}, {W, "x1y", 7, 10});
}

static void test_tokenize_numbers(void **state)
{
    (void)state;
    /* Numbers become shapes by digit count; words keep them apart so they
     * do not run together into a phone (see test_tokenize_phone). */
    CHECK_TOKENS("a 7 b 42 c 123 d 2024 e 12345 f 999999", {W, "a", 0, 1}, {NU, "<num1>", 2, 3},
                 {W, "b", 4, 5}, {NU, "<num2>", 6, 8}, {W, "c", 9, 10}, {NU, "<num3>", 11, 14},
                 {W, "d", 15, 16}, {NU, "<num4>", 17, 21}, {W, "e", 22, 23},
                 {NU, "<num5+>", 24, 29}, {W, "f", 30, 31}, {NU, "<num5+>", 32, 38});
    /* Separators between digits keep one number; the shape counts digits. */
    CHECK_TOKENS("1,000 dollars", {NU, "<num4>", 0, 5}, {W, "dollars", 6, 13});
    CHECK_TOKENS("pay 3.50 now", {W, "pay", 0, 3}, {NU, "<num3>", 4, 8}, {W, "now", 9, 12});
    CHECK_TOKENS("1,234,567.89", {NU, "<num5+>", 0, 12});
    /* A trailing separator is not part of the number. */
    CHECK_TOKENS("costs 12.", {W, "costs", 0, 5}, {NU, "<num2>", 6, 8});
    /* Non-ASCII decimal digits count as digits (Arabic-Indic ١٢٣). */
    CHECK_TOKENS("\xd9\xa1\xd9\xa2\xd9\xa3", {NU, "<num3>", 0, 6});
}

static void test_tokenize_phone(void **state)
{
    (void)state;
    CHECK_TOKENS("+33 6 12 34 56 78", {PH, "<phone>", 0, 17});
    CHECK_TOKENS("(555) 123-4567", {PH, "<phone>", 0, 14});
    CHECK_TOKENS("555.123.4567", {PH, "<phone>", 0, 12});
    CHECK_TOKENS("0612345678", {PH, "<phone>", 0, 10});
    CHECK_TOKENS("06 12 34 56 78", {PH, "<phone>", 0, 14});
    CHECK_TOKENS("+1 (555) 123-4567", {PH, "<phone>", 0, 17});
    CHECK_TOKENS("+44 (0)20 7946 0958", {PH, "<phone>", 0, 19});
    CHECK_TOKENS("123-4567", {PH, "<phone>", 0, 8}); /* 7 digits: the minimum */
    /* Inside a sentence: the span stops at the last digit. */
    CHECK_TOKENS("call +33 6 12 34 56 78 now.", {W, "call", 0, 4}, {PH, "<phone>", 5, 22},
                 {W, "now", 23, 26});
    CHECK_TOKENS("my number is (555) 123-4567, thanks", {W, "my", 0, 2}, {W, "number", 3, 9},
                 {W, "is", 10, 12}, {PH, "<phone>", 13, 27}, {W, "thanks", 29, 35});
    CHECK_TOKENS("tel:0612345678.", {W, "tel", 0, 3}, {PH, "<phone>", 4, 14});

    /* Dates and short numbers are not phones. */
    CHECK_TOKENS("on 2024-01-15", {W, "on", 0, 2}, {NU, "<num4>", 3, 7}, {NU, "<num2>", 8, 10},
                 {NU, "<num2>", 11, 13});
    CHECK_TOKENS("15.01.2024", {NU, "<num5+>", 0, 10});
    CHECK_TOKENS("12/31/2024", {NU, "<num2>", 0, 2}, {NU, "<num2>", 3, 5}, {NU, "<num4>", 6, 10});
    CHECK_TOKENS("(15.01.2024)", {NU, "<num5+>", 1, 11});
    CHECK_TOKENS("123-456", {NU, "<num3>", 0, 3}, {NU, "<num3>", 4, 7});
    CHECK_TOKENS("+12345", {NU, "<num5+>", 1, 6});
    CHECK_TOKENS("(12)", {NU, "<num2>", 1, 3});
}

static void test_tokenize_unspaced_scripts(void **state)
{
    (void)state;
    /* Chinese 我想查询订单 */
    CHECK_TOKENS(
        "\xe6\x88\x91\xe6\x83\xb3\xe6\x9f\xa5\xe8\xaf\xa2\xe8\xae\xa2\xe5\x8d\x95",
        {U, "\xe6\x88\x91\xe6\x83\xb3\xe6\x9f\xa5\xe8\xaf\xa2\xe8\xae\xa2\xe5\x8d\x95", 0, 18});
    /* Japanese, kanji and kana mixed, split at the ideographic full stop:
     * 東京で買いました。元気 */
    CHECK_TOKENS("\xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xa7\xe8\xb2\xb7\xe3\x81\x84\xe3\x81\xbe\xe3\x81"
                 "\x97\xe3\x81\x9f\xe3\x80\x82\xe5\x85\x83\xe6\xb0\x97",
                 {U,
                  "\xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xa7\xe8\xb2\xb7\xe3\x81\x84\xe3\x81\xbe\xe3\x81"
                  "\x97\xe3\x81\x9f",
                  0, 24},
                 {U, "\xe5\x85\x83\xe6\xb0\x97", 27, 33});
    /* Katakana with the prolonged sound mark: コーヒー */
    CHECK_TOKENS("\xe3\x82\xb3\xe3\x83\xbc\xe3\x83\x92\xe3\x83\xbc",
                 {U, "\xe3\x82\xb3\xe3\x83\xbc\xe3\x83\x92\xe3\x83\xbc", 0, 12});
    /* Thai, with its combining vowel and tone marks: สวัสดีครับ */
    CHECK_TOKENS("\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5\xe0\xb8"
                 "\x84\xe0\xb8\xa3\xe0\xb8\xb1\xe0\xb8\x9a",
                 {U,
                  "\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5\xe0\xb8"
                  "\x84\xe0\xb8\xa3\xe0\xb8\xb1\xe0\xb8\x9a",
                  0, 30});
    /* Mixed scripts: 我的iPhone坏了 */
    CHECK_TOKENS("\xe6\x88\x91\xe7\x9a\x84iPhone\xe5\x9d\x8f\xe4\xba\x86",
                 {U, "\xe6\x88\x91\xe7\x9a\x84", 0, 6}, {W, "iPhone", 6, 12},
                 {U, "\xe5\x9d\x8f\xe4\xba\x86", 12, 18});
    /* Digits after CJK: 订单12345 */
    CHECK_TOKENS("\xe8\xae\xa2\xe5\x8d\x95"
                 "12345",
                 {U, "\xe8\xae\xa2\xe5\x8d\x95", 0, 6}, {NU, "<num5+>", 6, 11});
}

static void test_tokenize_spaced_scripts(void **state)
{
    (void)state;
    /* Arabic: مرحبا بالعالم */
    CHECK_TOKENS("\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
                 "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85",
                 {W, "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", 0, 10},
                 {W, "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85", 11, 25});
    /* Arabic with harakat: the marks stay inside the word (مَرْحَبًا). */
    CHECK_TOKENS(
        "\xd9\x85\xd9\x8e\xd8\xb1\xd9\x92\xd8\xad\xd9\x8e\xd8\xa8\xd9\x8b\xd8\xa7",
        {W, "\xd9\x85\xd9\x8e\xd8\xb1\xd9\x92\xd8\xad\xd9\x8e\xd8\xa8\xd9\x8b\xd8\xa7", 0, 18});
    /* Turkish: Türkçe ığüşöç */
    CHECK_TOKENS("T\xc3\xbcrk\xc3\xa7"
                 "e \xc4\xb1\xc4\x9f\xc3\xbc\xc5\x9f\xc3\xb6\xc3\xa7",
                 {W,
                  "T\xc3\xbcrk\xc3\xa7"
                  "e",
                  0, 8},
                 {W, "\xc4\xb1\xc4\x9f\xc3\xbc\xc5\x9f\xc3\xb6\xc3\xa7", 9, 21});
    /* Korean is written with spaces: 안녕 세계 */
    CHECK_TOKENS("\xec\x95\x88\xeb\x85\x95 \xec\x84\xb8\xea\xb3\x84",
                 {W, "\xec\x95\x88\xeb\x85\x95", 0, 6}, {W, "\xec\x84\xb8\xea\xb3\x84", 7, 13});
    /* Hebrew: שלום, עולם */
    CHECK_TOKENS("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d, \xd7\xa2\xd7\x95\xd7\x9c\xd7\x9d",
                 {W, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", 0, 8},
                 {W, "\xd7\xa2\xd7\x95\xd7\x9c\xd7\x9d", 10, 18});
    /* Devanagari keeps its vowel signs and virama inside words: नमस्ते दुनिया */
    CHECK_TOKENS(
        "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87 "
        "\xe0\xa4\xa6\xe0\xa5\x81\xe0\xa4\xa8\xe0\xa4\xbf\xe0\xa4\xaf\xe0\xa4\xbe",
        {W, "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87", 0, 18},
        {W, "\xe0\xa4\xa6\xe0\xa5\x81\xe0\xa4\xa8\xe0\xa4\xbf\xe0\xa4\xaf\xe0\xa4\xbe", 19, 37});
    /* Greek and Cyrillic. */
    CHECK_TOKENS("\xce\xbf\xce\xb4\xcf\x8c\xcf\x82 \xd0\xbc\xd0\xb8\xd1\x80",
                 {W, "\xce\xbf\xce\xb4\xcf\x8c\xcf\x82", 0, 8},
                 {W, "\xd0\xbc\xd0\xb8\xd1\x80", 9, 15});
}

static void test_tokenize_count_beyond_max(void **state)
{
    (void)state;
    parley_token toks[3];
    size_t count = 0;
    const char *s = "one two three four five 123";

    memset(toks, 0xA5, sizeof(toks));
    parley_text_tokenize(s, strlen(s), toks, 2, &count);
    assert_int_equal(count, 6); /* the full count */
    assert_int_equal(toks[0].start, 0);
    assert_int_equal(toks[1].start, 4);
    assert_int_equal(toks[1].end, 7);
    /* Nothing was written beyond max. */
    unsigned char untouched[sizeof(parley_token)];
    memset(untouched, 0xA5, sizeof(untouched));
    assert_memory_equal(&toks[2], untouched, sizeof(parley_token));
    /* max 0 with no array just counts. */
    parley_text_tokenize(s, strlen(s), NULL, 0, &count);
    assert_int_equal(count, 6);
}

static void test_tokenize_invalid_bytes_skipped(void **state)
{
    (void)state;
    /* Input should be validated first; stray bytes are skipped without
     * reading past the end. */
    CHECK_TOKENS("ab\xff"
                 "cd \x80 ef",
                 {W, "ab", 0, 2}, {W, "cd", 3, 5}, {W, "ef", 8, 10});
    size_t count = 0;
    parley_token toks[4];
    parley_text_tokenize("x\xf0\x9f", 3, toks, 4, &count); /* truncated at the end */
    assert_int_equal(count, 1);
    assert_int_equal(toks[0].end, 1);
}

/* ---- Features ------------------------------------------------------------- */

static void test_features_default_and_check(void **state)
{
    (void)state;
    parley_text_features_config cfg;
    parley_error e = PARLEY_ERROR_INIT;

    parley_text_features_default(&cfg);
    assert_int_equal(cfg.word_ngrams, 2);
    assert_int_equal(cfg.char_min, 3);
    assert_int_equal(cfg.char_max, 5);
    assert_int_equal(cfg.hash_bits, 20);
    assert_int_equal(parley_text_features_check(&cfg, &e), PARLEY_OK);

    static const struct {
        parley_text_features_config cfg;
        const char *names; /* a phrase the message must contain */
    } bad[] = {
        {{4, 1, 5, 20}, "word n-grams"},
        {{2, 1, 9, 20}, "character n-gram range 1..9"},
        {{2, 4, 3, 20}, "character n-gram range 4..3"},
        {{2, 0, 3, 20}, "must start at 1"},
        {{2, 1, 5, 11}, "hash bits"},
        {{2, 1, 5, 27}, "hash bits"},
        {{2, 1, 5, 0}, "hash bits"},
        {{0, 0, 0, 20}, "no features"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        parley_error_clear(&e);
        assert_int_equal(parley_text_features_check(&bad[i].cfg, &e), PARLEY_ERR_INVALID);
        assert_int_equal(e.code, PARLEY_ERR_INVALID);
        if (!strstr(e.msg, bad[i].names))
            fail_msg("case %zu: '%s' does not name '%s'", i, e.msg, bad[i].names);
        assert_int_equal(parley_text_features_check(&bad[i].cfg, NULL), PARLEY_ERR_INVALID);
    }
    static const parley_text_features_config good[] = {
        {0, 1, 1, 12},
        {3, 8, 8, 26},
        {1, 0, 0, 16},
        {3, 1, 8, 20},
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++)
        assert_int_equal(parley_text_features_check(&good[i], NULL), PARLEY_OK);
}

static void test_hash_golden(void **state)
{
    (void)state;
    /* The cross-machine stability contract (include/parley/text.h): 64-bit
     * FNV-1a, then the murmur3 fmix64 finalizer. These values come from an
     * independent implementation of that definition (a Python script), and
     * match this one. A change here invalidates every trained model. */
    assert_true(parley_text_hash("", 0) == 0xefd01f60ba992926ULL);
    assert_true(parley_text_hash("a", 1) == 0x82a2a958a9bece5bULL);
    assert_true(parley_text_hash("hello", 5) == 0xe9c562c0fdb23244ULL);
    assert_true(parley_text_hash("parley", 6) == 0x9d9a4c492986abffULL);
    assert_true(parley_text_hash("\xe6\x88\x91\xe7\x9a\x84\xe8\xae\xa2\xe5\x8d\x95", 12) ==
                0x5a47e86d60d7e39bULL); /* 我的订单 */
    /* fmix64 alone, on known inputs: 0 is its fixed point. */
    assert_true(parley__hash_fmix64(0) == 0);
    assert_true(parley__hash_fmix64(0xcbf29ce484222325ULL) == 0xefd01f60ba992926ULL);
}

static void compute(const parley_text_features_config *cfg, const char *s, parley_text_features *f)
{
    assert_int_equal(parley_text_features_compute(cfg, s, strlen(s), f), PARLEY_OK);
}

static void assert_ids(const parley_text_features *f, const uint32_t *word, size_t n_word,
                       const uint32_t *chr, size_t n_char)
{
    assert_int_equal(f->n_word, n_word);
    assert_int_equal(f->n_char, n_char);
    for (size_t i = 0; i < n_word; i++)
        if (f->ids[i] != word[i])
            fail_msg("word id %zu: %u, expected %u", i, f->ids[i], word[i]);
    for (size_t i = 0; i < n_char; i++)
        if (f->ids[n_word + i] != chr[i])
            fail_msg("char id %zu: %u, expected %u", i, f->ids[n_word + i], chr[i]);
}

static void test_features_golden(void **state)
{
    (void)state;
    parley_text_features_config cfg;
    parley_text_features f = PARLEY_TEXT_FEATURES_INIT;

    /* Golden ids for word 1-2-grams, char 1-5-grams and hash_bits 20 (an
     * explicit config, so a change of defaults does not move them),
     * computed by the same independent script from the definition in
     * features.c: a word unit is FNV-1a('w' + bytes); an n-gram id is
     * fmix64 of it, or of the boost-style combine() chain, masked; a char
     * n-gram id is fmix64(FNV-1a('c' + bytes of a "<word>" slice)), masked,
     * listed by start position, then by length. */
    cfg = (parley_text_features_config){2, 1, 5, 20};

    /* 4 words: 4 unigrams + 3 bigrams, in order w0 w0w1 w1 w1w2 w2 w2w3 w3.
     * Char n-grams (1..5) of a word of L >= 2 code points: 5L - 2 (see
     * test_features_long_words_bounded): where 23, is 8, my 8, order 23,
     * 62 in all. */
    static const uint32_t en_word[] = {29548, 593084, 747444, 505673, 601733, 611871, 742859};
    static const uint32_t en_char[] = {
        528837, 70107,  356074, 628792, 442496, 271153, 247149, 220557, 905269, 468241, 690069,
        348499, 150071, 866685, 272961, 976566, 103179, 312511, 881712, 892973, 18313,  272961,
        257995, 460162, 247115, 589312, 969549, 769283, 381521, 183928, 640760, 75370,  472664,
        298003, 500696, 726036, 418943, 612052, 704613, 163696, 707390, 442575, 172313, 643988,
        492598, 106279, 150277, 774518, 881712, 642604, 433735, 920860, 747067, 864942, 710569,
        292575, 231809, 272961, 976566, 293002, 881712, 281157};
    compute(&cfg, "where is my order", &f);
    assert_ids(&f, en_word, ARRAY_LEN(en_word), en_char, ARRAY_LEN(en_char));

    /* 我的订单在哪里: one unspaced token of 7 characters, so 7 unigram and
     * 6 bigram word units, and the char n-grams of "<我的订单在哪里>" (9
     * symbols): 9 + 8 + 7 + 6 + 5 - 2 lone boundaries = 33. */
    static const uint32_t zh_word[] = {821302, 888736, 139336, 1022303, 715829, 947190, 730923,
                                       512084, 867130, 91431,  725689,  189079, 975229};
    static const uint32_t zh_char[] = {
        726789, 773623,  370150, 102687, 630180, 162940, 609730, 488358, 315675, 871846, 1031551,
        832150, 1016732, 896684, 935921, 10330,  373656, 466002, 260643, 68668,  998756, 688123,
        593979, 509554,  767042, 546269, 424447, 2935,   263698, 453545, 576636, 504256, 600801};
    compute(&cfg,
            "\xe6\x88\x91\xe7\x9a\x84\xe8\xae\xa2\xe5\x8d\x95\xe5\x9c\xa8\xe5\x93\xaa\xe9\x87\x8c",
            &f);
    assert_ids(&f, zh_word, ARRAY_LEN(zh_word), zh_char, ARRAY_LEN(zh_char));
    parley_text_features_release(&f);
}

static void test_features_deterministic(void **state)
{
    (void)state;
    parley_text_features_config cfg;
    parley_text_features a = PARLEY_TEXT_FEATURES_INIT, b = PARLEY_TEXT_FEATURES_INIT;
    const char *s = "my iphone \xe5\x9d\x8f\xe4\xba\x86, call +1 (555) 123-4567 caf\xc3\xa9";

    parley_text_features_default(&cfg);
    compute(&cfg, s, &a);
    compute(&cfg, s, &b);
    assert_int_equal(a.n_word, b.n_word);
    assert_int_equal(a.n_char, b.n_char);
    assert_memory_equal(a.ids, b.ids, (a.n_word + a.n_char) * sizeof(uint32_t));
    /* Reusing a struct after other text gives the same ids again. */
    compute(&cfg, "something completely different and longer than before", &a);
    compute(&cfg, s, &a);
    assert_int_equal(a.n_word, b.n_word);
    assert_int_equal(a.n_char, b.n_char);
    assert_memory_equal(a.ids, b.ids, (a.n_word + a.n_char) * sizeof(uint32_t));
    parley_text_features_release(&a);
    parley_text_features_release(&b);
    assert_null(a.ids);
    assert_int_equal(a.cap, 0);
    parley_text_features_release(&a); /* twice is fine */
}

static void test_features_counts(void **state)
{
    (void)state;
    parley_text_features_config cfg = {2, 1, 3, 20};
    parley_text_features f = PARLEY_TEXT_FEATURES_INIT;

    /* "hi there", word 1-2-grams, char 1-3-grams:
     * - words: units hi, there -> unigrams hi, there + bigram "hi there" = 3.
     * - chars of "<hi>" (4 symbols): 1-grams h, i (the lone < and > are
     *   skipped) = 2; 2-grams <h hi i> = 3; 3-grams <hi hi> = 2; total 7.
     * - chars of "<there>" (7 symbols): 1-grams t h e r e = 5; 2-grams = 6;
     *   3-grams = 5; total 16.
     * In general a word of L code points gives 3L + 1 here: 7 + 16 = 23. */
    compute(&cfg, "hi there", &f);
    assert_int_equal(f.n_word, 3);
    assert_int_equal(f.n_char, 23);

    /* Word 3-grams over 4 words: 4 + 3 + 2 = 9. */
    cfg.word_ngrams = 3;
    compute(&cfg, "a b c d", &f);
    assert_int_equal(f.n_word, 9);
    /* Char n-grams only. */
    cfg.word_ngrams = 0;
    compute(&cfg, "hi there", &f);
    assert_int_equal(f.n_word, 0);
    assert_int_equal(f.n_char, 23);
    /* Word n-grams only. */
    cfg = (parley_text_features_config){2, 0, 0, 20};
    compute(&cfg, "hi there", &f);
    assert_int_equal(f.n_word, 3);
    assert_int_equal(f.n_char, 0);
    /* Char 2..2 for "hi": <h hi i> = 3. */
    cfg = (parley_text_features_config){1, 2, 2, 20};
    compute(&cfg, "hi", &f);
    assert_int_equal(f.n_word, 1);
    assert_int_equal(f.n_char, 3);

    /* Empty and separator-only text: nothing, and no error. */
    parley_text_features_default(&cfg);
    compute(&cfg, "", &f);
    assert_int_equal(f.n_word + f.n_char, 0);
    compute(&cfg, " ,.!? ", &f);
    assert_int_equal(f.n_word + f.n_char, 0);
    parley_text_features_release(&f);
}

static void test_features_shapes(void **state)
{
    (void)state;
    parley_text_features_config cfg;
    parley_text_features a = PARLEY_TEXT_FEATURES_INIT, b = PARLEY_TEXT_FEATURES_INIT;

    parley_text_features_default(&cfg);
    /* Numbers and phones hash by shape: different digits, same ids; and
     * they get word features only, no character n-grams. */
    compute(&cfg, "call 555-123-4567 about order 12", &a);
    compute(&cfg, "call 555-987-6543 about order 98", &b);
    assert_int_equal(a.n_word, b.n_word);
    assert_int_equal(a.n_char, b.n_char);
    assert_memory_equal(a.ids, b.ids, (a.n_word + a.n_char) * sizeof(uint32_t));
    compute(&cfg, "12345", &a);
    assert_int_equal(a.n_word, 1);
    assert_int_equal(a.n_char, 0);
    /* A different shape is a different feature. */
    compute(&cfg, "123", &b);
    assert_int_equal(b.n_word, 1);
    assert_int_not_equal(a.ids[0], b.ids[0]);
    /* Word and character spaces are kept apart by their prefixes: the
     * word "a" and the char 1-gram "a" hash differently. */
    cfg = (parley_text_features_config){1, 1, 1, 26};
    compute(&cfg, "a", &a);
    assert_int_equal(a.n_word, 1);
    assert_int_equal(a.n_char, 1);
    assert_int_not_equal(a.ids[0], a.ids[1]);
    parley_text_features_release(&a);
    parley_text_features_release(&b);
}

static void test_features_bucket_range(void **state)
{
    (void)state;
    parley_text_features f = PARLEY_TEXT_FEATURES_INIT;
    const char *s = "The quick brown fox \xe6\x88\x91\xe7\x9a\x84\xe8\xae\xa2\xe5\x8d\x95 "
                    "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 +33 6 12 34 56 78 42 "
                    "\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5";
    static const unsigned bits[] = {12, 13, 16, 20, 24, 26};

    for (size_t b = 0; b < ARRAY_LEN(bits); b++) {
        parley_text_features_config cfg = {3, 1, 8, bits[b]};
        uint32_t seen_high = 0;
        compute(&cfg, s, &f);
        assert_true(f.n_word > 0 && f.n_char > 0);
        for (size_t i = 0; i < f.n_word + f.n_char; i++) {
            assert_true(f.ids[i] < (1u << bits[b]));
            seen_high |= f.ids[i];
        }
        /* The top bit is used: the ids spread over the whole range. */
        assert_true(seen_high & (1u << (bits[b] - 1)));
    }
    parley_text_features_release(&f);
}

static void test_features_long_words_bounded(void **state)
{
    (void)state;
    parley_text_features_config cfg = {2, 1, 5, 20};
    parley_text_features f = PARLEY_TEXT_FEATURES_INIT;
    char *w = malloc(4 * 1000 + 1);
    assert_non_null(w);

    /* Char n-grams (1..5) of a word of L >= 2 code points, over the L + 2
     * symbols of "<word>": (L+2) + (L+1) + L + (L-1) + (L-2) - 2 lone
     * boundaries = 5L - 2; "<a>" gives a, <a, a>, <a> = 4. Words longer
     * than 64 code points count as their first 64, so 63 -> 313, and 64,
     * 65 and 1000 -> 318. */
    static const struct {
        size_t len;
        size_t n_char;
    } cases[] = {{1, 4}, {2, 8}, {63, 313}, {64, 318}, {65, 318}, {1000, 318}};
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        memset(w, 'a', cases[c].len);
        w[cases[c].len] = '\0';
        compute(&cfg, w, &f);
        assert_int_equal(f.n_word, 1);
        assert_int_equal(f.n_char, cases[c].n_char);
    }
    /* The bound is in code points, not bytes: 1000 4-byte characters (an
     * unusual but valid "word" of Gothic letters 𐌰) give the same count. */
    repeat(w, "\xf0\x90\x8c\xb0", 1000);
    w[4000] = '\0';
    compute(&cfg, w, &f);
    assert_int_equal(f.n_word, 1);
    assert_int_equal(f.n_char, 318);
    /* An unspaced run is bounded the same way for char n-grams, but every
     * character is a word unit: 1000 ideographs give 1000 + 999 word ids. */
    repeat(w, "\xe6\x88\x91", 1000);
    w[3000] = '\0';
    compute(&cfg, w, &f);
    assert_int_equal(f.n_word, 1999);
    assert_int_equal(f.n_char, 318);
    free(w);
    parley_text_features_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_accepts_valid),
        cmocka_unit_test(test_validate_rejects_each_class),
        cmocka_unit_test(test_normalize_nfkc),
        cmocka_unit_test(test_normalize_casefold),
        cmocka_unit_test(test_normalize_strip_accents),
        cmocka_unit_test(test_normalize_punctuation_and_ignorables),
        cmocka_unit_test(test_normalize_ascii_fast_path_matches_slow_path),
        cmocka_unit_test(test_normalize_empty_and_limits),
        cmocka_unit_test(test_normalize_invalid_utf8),
        cmocka_unit_test(test_normalize_embedded_nul),
        cmocka_unit_test(test_normalize_long_mark_runs),
        cmocka_unit_test(test_normalize_scratch_reuse),
        cmocka_unit_test(test_tokenize_english),
        cmocka_unit_test(test_tokenize_numbers),
        cmocka_unit_test(test_tokenize_phone),
        cmocka_unit_test(test_tokenize_unspaced_scripts),
        cmocka_unit_test(test_tokenize_spaced_scripts),
        cmocka_unit_test(test_tokenize_count_beyond_max),
        cmocka_unit_test(test_tokenize_invalid_bytes_skipped),
        cmocka_unit_test(test_features_default_and_check),
        cmocka_unit_test(test_hash_golden),
        cmocka_unit_test(test_features_golden),
        cmocka_unit_test(test_features_deterministic),
        cmocka_unit_test(test_features_counts),
        cmocka_unit_test(test_features_shapes),
        cmocka_unit_test(test_features_bucket_range),
        cmocka_unit_test(test_features_long_words_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
