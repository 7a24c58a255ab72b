/* Unit tests for the token vault and the key loader (src/lib/pii/vault.c,
 * keys.c): round trips, one row per value, a wrong key refused at open, an
 * unknown or malformed token, records that were altered, persistence
 * across reopen, no clear value in the file, the tokenize operator, and
 * keys from files and the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "parley/pii.h"

static char tmpdir[64];
static const uint8_t key1[PARLEY_PII_KEY_SIZE] = {0x11, 0x22, 0x33};
static const uint8_t key2[PARLEY_PII_KEY_SIZE] = {0x44, 0x55, 0x66};

static int setup_dir(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-vault-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    (void)state;
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
    static char p[256];
    (void)snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    return p;
}

static parley_pii_vault *open_ok(const char *name, const uint8_t *key)
{
    parley_pii_vault *v = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    assert_int_equal(parley_pii_vault_open(path_of(name), key, &v, &e), PARLEY_OK);
    assert_non_null(v);
    return v;
}

static void tokenize(parley_pii_vault *v, parley_pii_type t, const char *value, char *tok)
{
    parley_error e = PARLEY_ERROR_INIT;
    assert_int_equal(parley_pii_vault_tokenize(v, t, value, strlen(value), tok, &e), PARLEY_OK);
    assert_int_equal(strlen(tok), 28);
    assert_int_equal(strncmp(tok, "tok_", 4), 0);
}

static void check_value(parley_pii_vault *v, const char *tok, const char *want, parley_pii_type t)
{
    parley_error e = PARLEY_ERROR_INIT;
    char *value = NULL;
    parley_pii_type type = PARLEY_PII_N_TYPES;
    assert_int_equal(parley_pii_vault_detokenize(v, tok, &value, &type, &e), PARLEY_OK);
    assert_string_equal(value, want);
    assert_int_equal(type, t);
    parley_pii_free(value);
}

static void test_round_trip(void **state)
{
    char a[PARLEY_PII_TOKEN_SIZE], b[PARLEY_PII_TOKEN_SIZE], c[PARLEY_PII_TOKEN_SIZE],
        d[PARLEY_PII_TOKEN_SIZE], f[PARLEY_PII_TOKEN_SIZE], wrapped[64];
    (void)state;
    parley_pii_vault *v = open_ok("rt.db", key1);
    tokenize(v, PARLEY_PII_PHONE, "+1 (555) 010-2030", a);
    tokenize(v, PARLEY_PII_PHONE, "15550102030", b); /* same number */
    tokenize(v, PARLEY_PII_PHONE, "15550102031", c);
    tokenize(v, PARLEY_PII_CARD, "15550102030", d); /* same digits, another type */
    tokenize(v, PARLEY_PII_NAME, "Zoë Ñúñez", f);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    /* The first spelling is the one kept. */
    check_value(v, a, "+1 (555) 010-2030", PARLEY_PII_PHONE);
    check_value(v, c, "15550102031", PARLEY_PII_PHONE);
    check_value(v, d, "15550102030", PARLEY_PII_CARD);
    check_value(v, f, "Zoë Ñúñez", PARLEY_PII_NAME);
    /* The token as the operator writes it works too. */
    (void)snprintf(wrapped, sizeof(wrapped), "[NAME#%s]", f);
    check_value(v, wrapped, "Zoë Ñúñez", PARLEY_PII_NAME);
    parley_pii_vault_close(v);
    struct stat fst;
    assert_int_equal(stat(path_of("rt.db"), &fst), 0);
    assert_int_equal(fst.st_mode & 0777, 0600);

    /* One row per value. */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path_of("rt.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM pii_tokens", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 4);
    (void)sqlite3_finalize(st);
    (void)sqlite3_close(db);
}

/* Tokens depend on the key: another vault key, another token. */
static void test_token_keyed(void **state)
{
    char a[PARLEY_PII_TOKEN_SIZE], b[PARLEY_PII_TOKEN_SIZE];
    (void)state;
    parley_pii_vault *v1 = open_ok("k1.db", key1), *v2 = open_ok("k2.db", key2);
    tokenize(v1, PARLEY_PII_EMAIL, "jo@example.com", a);
    tokenize(v2, PARLEY_PII_EMAIL, "jo@example.com", b);
    assert_string_not_equal(a, b);
    parley_pii_vault_close(v1);
    parley_pii_vault_close(v2);
}

static void test_wrong_key_and_unknown(void **state)
{
    char a[PARLEY_PII_TOKEN_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    parley_pii_vault *v = open_ok("wk.db", key1), *w = (parley_pii_vault *)&e;
    char *value = NULL;
    (void)state;
    tokenize(v, PARLEY_PII_SSN, "123-45-6789", a);
    assert_int_equal(
        parley_pii_vault_detokenize(v, "tok_000000000000000000000000", &value, NULL, &e),
        PARLEY_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "not in the vault"));
    assert_null(value);
    assert_int_equal(parley_pii_vault_detokenize(v, "tok_xyz", &value, NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_pii_vault_detokenize(v, "[SSN#tok_00]", &value, NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_null(value);
    parley_pii_vault_close(v);

    assert_int_equal(parley_pii_vault_open(path_of("wk.db"), key2, &w, &e), PARLEY_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "another key"));
    assert_ptr_equal(w, (parley_pii_vault *)&e); /* unchanged on failure */
}

/* A record moved to another token, or altered, fails authentication. */
static void test_tampering(void **state)
{
    char a[PARLEY_PII_TOKEN_SIZE], b[PARLEY_PII_TOKEN_SIZE], sql[512];
    parley_error e = PARLEY_ERROR_INIT;
    char *value = NULL;
    sqlite3 *db = NULL;
    (void)state;
    parley_pii_vault *v = open_ok("tamper.db", key1);
    tokenize(v, PARLEY_PII_PHONE, "555 0100", a);
    tokenize(v, PARLEY_PII_PHONE, "555 0199", b);
    parley_pii_vault_close(v);

    assert_int_equal(sqlite3_open(path_of("tamper.db"), &db), SQLITE_OK);
    (void)snprintf(sql, sizeof(sql),
                   "UPDATE pii_tokens SET (nonce, value) = (SELECT nonce, value FROM pii_tokens "
                   "WHERE token = '%s') WHERE token = '%s';"
                   "UPDATE pii_tokens SET type = 'card' WHERE token = '%s';",
                   b, a, b);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    (void)sqlite3_close(db);

    v = open_ok("tamper.db", key1);
    assert_int_equal(parley_pii_vault_detokenize(v, a, &value, NULL, &e), PARLEY_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "authentication"));
    assert_int_equal(parley_pii_vault_detokenize(v, b, &value, NULL, &e), PARLEY_ERR_CORRUPT);
    assert_null(value);
    parley_pii_vault_close(v);
}

static int contains(const char *buf, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, s, k) == 0)
            return 1;
    return 0;
}

/* Reopened, the values are there; the file never holds them in clear. */
static void test_persistence_no_clear_value(void **state)
{
    static const char secret[] = "zoe.alves.secret@example.org";
    char a[PARLEY_PII_TOKEN_SIZE], b[PARLEY_PII_TOKEN_SIZE];
    (void)state;
    parley_pii_vault *v = open_ok("persist.db", key1);
    tokenize(v, PARLEY_PII_EMAIL, secret, a);
    parley_pii_vault_close(v);
    v = open_ok("persist.db", key1);
    check_value(v, a, secret, PARLEY_PII_EMAIL);
    tokenize(v, PARLEY_PII_EMAIL, secret, b);
    assert_string_equal(a, b);
    parley_pii_vault_close(v);

    FILE *f = fopen(path_of("persist.db"), "rb");
    static char buf[1 << 20];
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf), f);
    (void)fclose(f);
    assert_true(n > 0);
    assert_false(contains(buf, n, "zoe.alves"));
    assert_false(contains(buf, n, "example.org"));
    assert_true(contains(buf, n, a)); /* the search does find what is there */
}

static void test_tokenize_operator(void **state)
{
    const char text[] = "card 4111111111111111 for Zoë";
    parley_pii_finding f[2] = {{PARLEY_PII_CARD, 5, 21, 1, "t"}, {PARLEY_PII_NAME, 26, 30, 1, "t"}};
    parley_pii_policy pol;
    parley_error e = PARLEY_ERROR_INIT;
    char *out = NULL, tok[PARLEY_PII_TOKEN_SIZE];
    (void)state;
    parley_pii_vault *v = open_ok("op.db", key1);
    parley_pii_policy_redact_all(&pol);
    pol.op[PARLEY_PII_CARD] = PARLEY_PII_OP_TOKENIZE;
    pol.op[PARLEY_PII_NAME] = PARLEY_PII_OP_TOKENIZE;
    pol.vault = v;
    assert_int_equal(parley_pii_apply(&pol, text, strlen(text), f, 2, &out, NULL, &e), PARLEY_OK);
    assert_int_equal(strncmp(out, "card [CARD#tok_", 15), 0);
    const char *name = strstr(out, " for [NAME#tok_");
    assert_non_null(name);
    assert_int_equal(strlen(name), strlen(" for [NAME#tok_") + 24 + 1);
    memcpy(tok, out + 11, 28);
    tok[28] = '\0';
    check_value(v, tok, "4111111111111111", PARLEY_PII_CARD);
    check_value(v, name + 5, "Zoë", PARLEY_PII_NAME);
    parley_pii_free(out);
    parley_pii_vault_close(v);
}

static void test_keys(void **state)
{
    uint8_t k[PARLEY_PII_KEY_SIZE], k2[PARLEY_PII_KEY_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    char spec[300], hex[2 * PARLEY_PII_KEY_SIZE + 1];
    (void)state;
    char p[256];
    (void)snprintf(p, sizeof(p), "%s", path_of("gen.key"));
    assert_int_equal(parley_pii_key_generate(p, &e), PARLEY_OK);
    assert_int_equal(parley_pii_key_generate(p, &e), PARLEY_ERR_IO); /* never overwritten */
    assert_int_equal(parley_pii_key_load(p, k, &e), PARLEY_OK);
    (void)snprintf(spec, sizeof(spec), "file:%s", p);
    assert_int_equal(parley_pii_key_load(spec, k2, &e), PARLEY_OK);
    assert_memory_equal(k, k2, sizeof(k));
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* The same key from the environment. */
    for (size_t i = 0; i < sizeof(k); i++)
        (void)snprintf(hex + 2 * i, 3, "%02x", k[i]);
    assert_int_equal(setenv("PARLEY_TEST_PII_KEY", hex, 1), 0);
    memset(k2, 0, sizeof(k2));
    assert_int_equal(parley_pii_key_load("env:PARLEY_TEST_PII_KEY", k2, &e), PARLEY_OK);
    assert_memory_equal(k, k2, sizeof(k));

    /* Errors a user can act on; the key is left alone. */
    memset(k2, 7, sizeof(k2));
    assert_int_equal(parley_pii_key_load("env:PARLEY_TEST_PII_NONE", k2, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "'PARLEY_TEST_PII_NONE' is not set"));
    assert_int_equal(setenv("PARLEY_TEST_PII_KEY", "abcd", 1), 0);
    assert_int_equal(parley_pii_key_load("env:PARLEY_TEST_PII_KEY", k2, &e), PARLEY_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "64 hex digits"));
    assert_int_equal(parley_pii_key_load("", k2, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_pii_key_load(path_of("none.key"), k2, &e), PARLEY_ERR_IO);
    assert_non_null(strstr(e.msg, "cannot read key file"));
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(parley_pii_key_load(p, k2, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "chmod 600"));
    FILE *f = fopen(path_of("bad.key"), "w");
    assert_non_null(f);
    (void)fputs("not a key\n", f);
    (void)fclose(f);
    assert_int_equal(chmod(path_of("bad.key"), 0600), 0);
    assert_int_equal(parley_pii_key_load(path_of("bad.key"), k2, &e), PARLEY_ERR_FORMAT);
    for (size_t i = 0; i < sizeof(k2); i++)
        assert_int_equal(k2[i], 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_token_keyed),
        cmocka_unit_test(test_wrong_key_and_unknown),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_persistence_no_clear_value),
        cmocka_unit_test(test_tokenize_operator),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
