/* Unit tests for the operators (src/lib/pii/apply.c) on hand-made
 * findings: every operator on every type, masks of UTF-8 names counted in
 * characters, hash pseudonyms stable per key and per normalised value, the
 * fallbacks without a key or vault, invalid findings refused, an
 * out-of-memory sweep; and JSON lines redaction (src/lib/pii/jsonl.c):
 * paths, arrays, wildcards, what is left alone, the findings callback and
 * malformed lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parley/pii.h"

static const uint8_t key1[PARLEY_PII_KEY_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t key2[PARLEY_PII_KEY_SIZE] = {8, 7, 6, 5, 4, 3, 2, 1};

/* Applies `pol` to "<" value ">" with one finding over the value. */
static char *apply_one(const parley_pii_policy *pol, parley_pii_type type, const char *value)
{
    char text[256];
    char *out = NULL;
    size_t out_len = 0;
    parley_error e = PARLEY_ERROR_INIT;
    int n = snprintf(text, sizeof(text), "<%s>", value);
    parley_pii_finding f = {type, 1, (size_t)n - 1, 0.9f, "test"};
    assert_int_equal(parley_pii_apply(pol, text, (size_t)n, &f, 1, &out, &out_len, &e), PARLEY_OK);
    assert_non_null(out);
    assert_int_equal(strlen(out), out_len);
    assert_int_equal(out[0], '<');
    assert_int_equal(out[out_len - 1], '>');
    /* Strip the brackets so callers compare the replacement alone. */
    memmove(out, out + 1, out_len - 2);
    out[out_len - 2] = '\0';
    return out;
}

static void policy_all(parley_pii_policy *pol, parley_pii_operator op)
{
    parley_pii_policy_redact_all(pol);
    for (int i = 0; i < PARLEY_PII_N_TYPES; i++)
        pol->op[i] = op;
}

static void test_redact_every_type(void **state)
{
    static const char *const want[PARLEY_PII_N_TYPES] = {
        "[CARD]", "[IBAN]", "[SSN]",     "[PHONE]", "[EMAIL]", "[IP]",
        "[IMEI]", "[DOB]",  "[ADDRESS]", "[NAME]",  "[ID]",
    };
    parley_pii_policy pol;
    (void)state;
    parley_pii_policy_redact_all(&pol);
    assert_null(pol.hash_key);
    assert_null(pol.vault);
    for (int t = 0; t < PARLEY_PII_N_TYPES; t++) {
        assert_int_equal(pol.op[t], PARLEY_PII_OP_REDACT);
        char *out = apply_one(&pol, (parley_pii_type)t, "secret 1234");
        assert_string_equal(out, want[t]);
        parley_pii_free(out);
    }
}

static void test_mask(void **state)
{
    static const struct {
        parley_pii_type type;
        const char *in, *want;
    } cases[] = {
        {PARLEY_PII_CARD, "4111 1111 1111 1111", "**** **** **** 1111"},
        {PARLEY_PII_CARD, "4111111111111111", "************1111"},
        {PARLEY_PII_PHONE, "+1 (555) 010-2030", "+* (***) ***-2030"},
        {PARLEY_PII_PHONE, "06.12.34.56.78", "**.**.**.56.78"},
        {PARLEY_PII_SSN, "123-45-6789", "***-**-6789"},
        {PARLEY_PII_IBAN, "FR76 3000 6000 0112", "**** **** **** 0112"},
        {PARLEY_PII_IP, "192.168.1.23", "***.**8.1.23"},
        {PARLEY_PII_IMEI, "490154203237518", "***********7518"},
        {PARLEY_PII_EMAIL, "jo.doe@example.com", "******************"},
        {PARLEY_PII_DOB, "12/05/1980", "**/**/1980"},
        {PARLEY_PII_ADDRESS, "12 rue de la Paix", "*****************"},
        /* Characters, not bytes: ë, Ñ, ú, ñ are two bytes each. */
        {PARLEY_PII_NAME, "Zoë Ñúñez", "*********"},
        {PARLEY_PII_NAME, "Jürgen", "******"},
        {PARLEY_PII_NAME, "李小龍", "***"},
        {PARLEY_PII_ID, "C1234", "*1234"},
        {PARLEY_PII_ID, "AB-123", "******"}, /* under four digits: all of it */
        {PARLEY_PII_ID, "1234", "1234"},
    };
    parley_pii_policy pol;
    (void)state;
    policy_all(&pol, PARLEY_PII_OP_MASK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = apply_one(&pol, cases[i].type, cases[i].in);
        assert_string_equal(out, cases[i].want);
        parley_pii_free(out);
    }
}

static int is_hex16(const char *s)
{
    for (int i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void test_hash(void **state)
{
    parley_pii_policy pol;
    (void)state;
    policy_all(&pol, PARLEY_PII_OP_HASH);
    pol.hash_key = key1;
    for (int t = 0; t < PARLEY_PII_N_TYPES; t++) {
        char want_prefix[16];
        char *out = apply_one(&pol, (parley_pii_type)t, "value 42");
        int n = snprintf(want_prefix, sizeof(want_prefix), "[%s:", parley_pii_type_name(t));
        for (int i = 1; i < n; i++)
            want_prefix[i] = (char)(want_prefix[i] >= 'a' ? want_prefix[i] - 32 : want_prefix[i]);
        assert_int_equal(strncmp(out, want_prefix, (size_t)n), 0);
        assert_true(is_hex16(out + n));
        assert_string_equal(out + n + 16, "]");
        parley_pii_free(out);
    }

    /* One value in two spellings: one pseudonym; another value: another. */
    char *a = apply_one(&pol, PARLEY_PII_PHONE, "+1 (555) 010-2030");
    char *b = apply_one(&pol, PARLEY_PII_PHONE, "15550102030");
    char *c = apply_one(&pol, PARLEY_PII_PHONE, "15550102031");
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    char *d = apply_one(&pol, PARLEY_PII_EMAIL, "Jo.Doe@Example.COM");
    char *e = apply_one(&pol, PARLEY_PII_EMAIL, "jo.doe@example.com");
    assert_string_equal(d, e);
    char *f = apply_one(&pol, PARLEY_PII_IBAN, "fr76 3000 6000 0112");
    char *g = apply_one(&pol, PARLEY_PII_IBAN, "FR7630006000 0112");
    assert_string_equal(f, g);
    /* Names are as is: case matters. */
    char *h = apply_one(&pol, PARLEY_PII_NAME, "Anna");
    char *i = apply_one(&pol, PARLEY_PII_NAME, "anna");
    assert_string_not_equal(h, i);
    /* The type is part of the hash: the same digits as a card differ. */
    char *j = apply_one(&pol, PARLEY_PII_CARD, "15550102030");
    assert_string_not_equal(a + 7, j + 6);
    /* Another key, another pseudonym; the same key again, the same one. */
    pol.hash_key = key2;
    char *k = apply_one(&pol, PARLEY_PII_PHONE, "15550102030");
    assert_string_not_equal(a, k);
    pol.hash_key = key1;
    char *l = apply_one(&pol, PARLEY_PII_PHONE, "15550102030");
    assert_string_equal(a, l);
    char *all[] = {a, b, c, d, e, f, g, h, i, j, k, l};
    for (size_t x = 0; x < sizeof(all) / sizeof(all[0]); x++)
        parley_pii_free(all[x]);
}

static void test_fallbacks_and_keep(void **state)
{
    parley_pii_policy pol;
    (void)state;
    policy_all(&pol, PARLEY_PII_OP_HASH); /* no key: redact */
    char *a = apply_one(&pol, PARLEY_PII_PHONE, "555 0102");
    assert_string_equal(a, "[PHONE]");
    policy_all(&pol, PARLEY_PII_OP_TOKENIZE); /* no vault: redact */
    char *b = apply_one(&pol, PARLEY_PII_CARD, "4111111111111111");
    assert_string_equal(b, "[CARD]");
    policy_all(&pol, PARLEY_PII_OP_KEEP);
    char *c = apply_one(&pol, PARLEY_PII_NAME, "Zoë");
    assert_string_equal(c, "Zoë");
    parley_pii_free(a);
    parley_pii_free(b);
    parley_pii_free(c);
}

static void test_several_findings(void **state)
{
    const char text[] = "Zoë: 4111 1111 1111 1111, call +33 6 12 34 56 78 or zoe@x.fr";
    parley_pii_finding f[4] = {
        {PARLEY_PII_NAME, 0, 4, 0.9f, "t"},
        {PARLEY_PII_CARD, 6, 25, 1.0f, "t"},
        {PARLEY_PII_PHONE, 32, 49, 1.0f, "t"},
        {PARLEY_PII_EMAIL, 53, 61, 1.0f, "t"},
    };
    parley_pii_policy pol;
    parley_error e = PARLEY_ERROR_INIT;
    char *out = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(strlen(text), 61);
    parley_pii_policy_redact_all(&pol);
    pol.op[PARLEY_PII_CARD] = PARLEY_PII_OP_MASK;
    pol.op[PARLEY_PII_EMAIL] = PARLEY_PII_OP_KEEP;
    assert_int_equal(parley_pii_apply(&pol, text, strlen(text), f, 4, &out, &len, &e), PARLEY_OK);
    assert_string_equal(out, "[NAME]: **** **** **** 1111, call [PHONE] or zoe@x.fr");
    assert_int_equal(len, strlen(out));
    parley_pii_free(out);

    /* Findings that touch (one ends where the next starts) are fine. */
    parley_pii_finding g[2] = {{PARLEY_PII_ID, 0, 2, 1, "t"}, {PARLEY_PII_ID, 2, 4, 1, "t"}};
    assert_int_equal(parley_pii_apply(&pol, "abcd", 4, g, 2, &out, NULL, &e), PARLEY_OK);
    assert_string_equal(out, "[ID][ID]");
    parley_pii_free(out);

    /* No findings: the text itself; an empty text: "". */
    assert_int_equal(parley_pii_apply(&pol, text, strlen(text), NULL, 0, &out, &len, &e),
                     PARLEY_OK);
    assert_string_equal(out, text);
    parley_pii_free(out);
    assert_int_equal(parley_pii_apply(&pol, "", 0, NULL, 0, &out, &len, &e), PARLEY_OK);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    parley_pii_free(out);
}

static void test_invalid_findings(void **state)
{
    static const struct {
        parley_pii_finding f[2];
        size_t n;
        const char *why;
    } cases[] = {
        {{{PARLEY_PII_ID, 3, 12, 1, "t"}}, 1, "not within"}, /* past the end */
        {{{PARLEY_PII_ID, 3, 3, 1, "t"}}, 1, "not within"},  /* empty */
        {{{PARLEY_PII_ID, 5, 3, 1, "t"}}, 1, "not within"},  /* reversed */
        {{{PARLEY_PII_N_TYPES, 0, 3, 1, "t"}}, 1, "unknown type"},
        {{{PARLEY_PII_ID, 4, 6, 1, "t"}, {PARLEY_PII_ID, 0, 2, 1, "t"}}, 2, "sorted"},
        {{{PARLEY_PII_ID, 0, 4, 1, "t"}, {PARLEY_PII_ID, 3, 6, 1, "t"}}, 2, "sorted"},
        {{{PARLEY_PII_NAME, 0, 3, 1, "t"}}, 1, "UTF-8"}, /* ends inside the ë */
        {{{PARLEY_PII_NAME, 3, 5, 1, "t"}}, 1, "UTF-8"}, /* starts inside it */
    };
    const char text[] = "Zoë Alves"; /* 10 bytes */
    parley_pii_policy pol;
    (void)state;
    parley_pii_policy_redact_all(&pol);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parley_error e = PARLEY_ERROR_INIT;
        char *out = (char *)"untouched";
        assert_int_equal(
            parley_pii_apply(&pol, text, strlen(text), cases[i].f, cases[i].n, &out, NULL, &e),
            PARLEY_ERR_INVALID);
        assert_string_equal(out, "untouched");
        assert_non_null(strstr(e.msg, cases[i].why));
    }
    /* An operator value outside the enum is refused too. */
    parley_error e = PARLEY_ERROR_INIT;
    parley_pii_finding f = {PARLEY_PII_ID, 0, 3, 1, "t"};
    char *out = NULL;
    pol.op[PARLEY_PII_ID] = (parley_pii_operator)99;
    assert_int_equal(parley_pii_apply(&pol, text, strlen(text), &f, 1, &out, NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_null(out);
}

static long alloc_fail_at = -1, alloc_count;

static int should_fail(void)
{
    return alloc_fail_at >= 0 && alloc_count++ == alloc_fail_at;
}
static void *t_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n);
}
static void *t_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}
static void *t_calloc(size_t a, size_t b)
{
    return should_fail() ? NULL : calloc(a, b);
}

/* Each allocation failing in turn gives PARLEY_ERR_NOMEM and no leak
 * (ASan checks), until the call has enough to succeed. */
static void test_oom_sweep(void **state)
{
    char text[4096];
    parley_pii_finding f[64];
    parley_pii_policy pol;
    (void)state;
    memset(text, 'a', sizeof(text));
    for (size_t i = 0; i < 64; i++)
        f[i] = (parley_pii_finding){PARLEY_PII_ADDRESS, i * 64, i * 64 + 2, 1, "t"};
    parley_pii_policy_redact_all(&pol);
    for (long n = 0;; n++) {
        parley_error e = PARLEY_ERROR_INIT;
        char *out = NULL;
        alloc_count = 0;
        alloc_fail_at = n;
        parley_set_allocator(t_malloc, t_realloc, t_calloc, free);
        parley_err rc = parley_pii_apply(&pol, text, sizeof(text), f, 64, &out, NULL, &e);
        parley_set_allocator(NULL, NULL, NULL, NULL);
        alloc_fail_at = -1;
        if (rc == PARLEY_OK) {
            assert_true(n > 0);
            assert_int_equal(strlen(out), sizeof(text) + 64 * (9 - 2));
            parley_pii_free(out);
            break;
        }
        assert_int_equal(rc, PARLEY_ERR_NOMEM);
        assert_null(out);
        assert_true(n < 100);
    }
}

struct seen {
    char paths[8][64];
    size_t n[8];
    int count;
};

static void on_findings(const char *path, const parley_pii_finding *f, size_t n, void *ud)
{
    struct seen *s = ud;
    (void)f;
    if (s->count < 8) {
        (void)snprintf(s->paths[s->count], sizeof(s->paths[0]), "%s", path);
        s->n[s->count++] = n;
    }
}

static char *redact_json(const char *line, const char *const *fields, size_t n_fields,
                         struct seen *seen, parley_err want)
{
    static parley_pii *p;
    static parley_pii_scratch *s;
    parley_pii_policy pol;
    parley_error e = PARLEY_ERROR_INIT;
    char *out = NULL;
    size_t len = 0;
    if (!p) {
        assert_int_equal(parley_pii_create(NULL, &p, &e), PARLEY_OK);
        assert_int_equal(parley_pii_scratch_create(p, &s, &e), PARLEY_OK);
    }
    parley_pii_policy_redact_all(&pol);
    assert_int_equal(parley_pii_redact_json(p, s, &pol, line, strlen(line), fields, n_fields,
                                            seen ? on_findings : NULL, seen, &out, &len, &e),
                     want);
    if (want != PARLEY_OK) {
        assert_null(out);
        char *msg = malloc(sizeof(e.msg));
        assert_non_null(msg);
        memcpy(msg, e.msg, sizeof(e.msg));
        return msg;
    }
    assert_int_equal(strlen(out), len);
    return out;
}

static void test_json_fields(void **state)
{
    static const char *const fields[] = {"customer.email", "turns.*.text", "items.1",
                                         "missing.path", "note.deeper"};
    struct seen seen = {0};
    (void)state;
    char *out = redact_json(
        "{\"id\":7,\"customer\":{\"name\":\"x\",\"email\":\"ana@example.org\"},"
        "\"turns\":[{\"text\":\"card 4111 1111 1111 "
        "1111\",\"n\":1.5},{\"text\":\"hello\"},{\"text\":3}],"
        "\"items\":[\"ana@example.org\",\"mail ana@example.org\"],\"note\":\"ana@example.org\","
        "\"flag\":true,\"none\":null}",
        fields, 5, &seen, PARLEY_OK);
    assert_string_equal(out, "{\"id\":7,\"customer\":{\"name\":\"x\",\"email\":\"[EMAIL]\"},"
                             "\"turns\":[{\"text\":\"card [CARD]\",\"n\":1.5},{\"text\":\"hello\"},"
                             "{\"text\":3}],\"items\":[\"ana@example.org\",\"mail [EMAIL]\"],"
                             "\"note\":\"ana@example.org\",\"flag\":true,\"none\":null}");
    parley_pii_free(out);
    /* Each string scanned is reported once, by its path. */
    assert_int_equal(seen.count, 4);
    assert_string_equal(seen.paths[0], "customer.email");
    assert_int_equal(seen.n[0], 1);
    assert_string_equal(seen.paths[1], "turns.0.text");
    assert_string_equal(seen.paths[2], "turns.1.text");
    assert_int_equal(seen.n[2], 0);
    assert_string_equal(seen.paths[3], "items.1");

    /* "*" over an object's members; strings with escapes and non-ASCII. */
    static const char *const star[] = {"*"};
    out = redact_json("{\"a\":\"déjà vu \\\"ana@example.org\\\"\\n\",\"b\":[\"ana@example.org\"]}",
                      star, 1, NULL, PARLEY_OK);
    assert_string_equal(out, "{\"a\":\"déjà vu \\\"[EMAIL]\\\"\\n\",\"b\":[\"ana@example.org\"]}");
    parley_pii_free(out);
}

static void test_json_errors(void **state)
{
    static const char *const f[] = {"a"};
    static const char *const empty_step[] = {"a..b"};
    (void)state;
    char *msg = redact_json("{\"a\": \"x\",}", f, 1, NULL, PARLEY_ERR_FORMAT);
    assert_non_null(strstr(msg, "column "));
    free(msg);
    msg = redact_json("[\"a\"]", f, 1, NULL, PARLEY_ERR_FORMAT);
    assert_string_equal(msg, "column 1: not a JSON object");
    free(msg);
    msg = redact_json("", f, 1, NULL, PARLEY_ERR_FORMAT);
    free(msg);
    msg = redact_json("{\"a\":1} {\"b\":2}", f, 1, NULL, PARLEY_ERR_FORMAT);
    free(msg);
    msg = redact_json("{\"a\":\"x\"}", empty_step, 1, NULL, PARLEY_ERR_INVALID);
    assert_non_null(strstr(msg, "'a..b'"));
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact_every_type),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_fallbacks_and_keep),
        cmocka_unit_test(test_several_findings),
        cmocka_unit_test(test_invalid_findings),
        cmocka_unit_test(test_oom_sweep),
        cmocka_unit_test(test_json_fields),
        cmocka_unit_test(test_json_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
