/* Unit tests for src/lib/kb: the carrier's real knowledge base answers
 * customer-style questions in en, fr, es and de with the right article
 * first, off-topic questions stay under the threshold, and malformed
 * articles are rejected with FILE:LINE errors. */
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

#include "parley/kb.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static parley_kb *load_carrier(void)
{
    const char *src = getenv("PARLEY_SOURCE_DIR");
    char dir[1024];
    parley_kb *kb = NULL;
    parley_error e = PARLEY_ERROR_INIT;

    if (!src)
        fail_msg("PARLEY_SOURCE_DIR is not set");
    (void)snprintf(dir, sizeof(dir), "%s/bots/carrier/kb", src);
    if (parley_kb_load(dir, &kb, &e) != PARLEY_OK)
        fail_msg("cannot load the carrier kb: %s", e.msg);
    return kb;
}

static const struct {
    const char *lang, *query, *expect;
} cases[] = {
    {"en", "how do I reset my APN settings", "apn-what-and-reset"},
    {"en", "my phone says no service, is it flight mode?", "airplane-mode"},
    {"en", "will my data work when I travel abroad", "roaming-abroad"},
    {"en", "i used all my data, can I buy 1 GB more", "data-refuel"},
    {"en", "can't send pictures to my friend", "mms-picture-messages"},
    {"en", "why is my line suspended", "line-suspension"},
    {"fr", "c'est quoi un APN", "apn-what-and-reset"},
    {"fr", "je n'arrive pas à envoyer de photos par MMS", "mms-picture-messages"},
    {"fr", "mon téléphone affiche sim absente", "sim-card-issues"},
    {"fr", "comment payer ma facture en retard", "bill-payment-process"},
    {"fr", "internet ne marche pas sans wifi", "mobile-data-not-working"},
    {"es", "qué es el apn y cómo lo restablezco", "apn-what-and-reset"},
    {"es", "mi línea está suspendida, qué hago", "line-suspension"},
    {"es", "me quedé sin datos, quiero una recarga", "data-refuel"},
    {"es", "voy de viaje al extranjero, funcionan los datos", "roaming-abroad"},
    {"es", "quiero cambiar el modo de red a 5G", "network-mode-5g-4g"},
    {"de", "was ist ein APN", "apn-what-and-reset"},
    {"de", "meine SIM-Karte wird nicht erkannt", "sim-card-issues"},
    {"de", "Datensparmodus ausschalten", "data-saver"},
    {"de", "ich habe kein Netz, Flugmodus?", "airplane-mode"},
    {"de", "wie bezahle ich meine überfällige Rechnung", "bill-payment-process"},
};

static void test_carrier_top1(void **state)
{
    (void)state;
    parley_kb *kb = load_carrier();
    size_t right = 0;

    assert_int_equal(parley_kb_count(kb, "en"), 11);
    assert_int_equal(parley_kb_count(kb, "fr"), 11);
    assert_int_equal(parley_kb_count(kb, "es"), 11);
    assert_int_equal(parley_kb_count(kb, "de"), 11);
    assert_int_equal(parley_kb_count(kb, "xx"), 0);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        parley_kb_result r[3];
        size_t n = 0;
        parley_error e = PARLEY_ERROR_INIT;
        assert_int_equal(parley_kb_search(kb, cases[i].lang, cases[i].query, strlen(cases[i].query),
                                          r, ARRAY_LEN(r), &n, &e),
                         PARLEY_OK);
        if (n > 0 && strcmp(r[0].id, cases[i].expect) == 0 && parley_kb_confident(&r[0]))
            right++;
        else
            print_message("[%s] '%s': want %s, got %s (%.3f)\n", cases[i].lang, cases[i].query,
                          cases[i].expect, n ? r[0].id : "nothing", n ? r[0].confidence : 0.0);
        for (size_t k = 1; k < n; k++)
            assert_true(r[k - 1].score >= r[k].score);
    }
    print_message("kb top-1: %zu/%zu\n", right, ARRAY_LEN(cases));
    assert_int_equal(right, ARRAY_LEN(cases));
    parley_kb_free(kb);
}

static void test_off_topic_below_threshold(void **state)
{
    (void)state;
    static const struct {
        const char *lang, *query;
    } off[] = {
        {"fr", "recette de crêpes"},
        {"en", "who won the football match yesterday"},
        {"es", "receta de paella valenciana"},
        {"de", "wie wird das Wetter morgen in Berlin"},
    };
    parley_kb *kb = load_carrier();
    for (size_t i = 0; i < ARRAY_LEN(off); i++) {
        parley_kb_result r[1];
        size_t n = 99;
        parley_error e = PARLEY_ERROR_INIT;
        assert_int_equal(
            parley_kb_search(kb, off[i].lang, off[i].query, strlen(off[i].query), r, 1, &n, &e),
            PARLEY_OK);
        if (n > 0 && parley_kb_confident(&r[0]))
            fail_msg("'%s' answered with %s (%.3f)", off[i].query, r[0].id, r[0].confidence);
    }
    assert_false(parley_kb_confident(NULL));
    parley_kb_free(kb);
}

static void test_search_errors(void **state)
{
    (void)state;
    parley_kb *kb = load_carrier();
    parley_kb_result r[2];
    size_t n = 42;
    parley_error e = PARLEY_ERROR_INIT;
    char big[PARLEY_KB_MAX_QUERY + 1];

    assert_int_equal(parley_kb_search(kb, "xx", "apn", 3, r, 2, &n, &e), PARLEY_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "'xx'"));
    assert_int_equal(parley_kb_search(kb, "en", "ap\xffn", 4, r, 2, &n, &e), PARLEY_ERR_UTF8);
    memset(big, 'a', sizeof(big));
    assert_int_equal(parley_kb_search(kb, "en", big, sizeof(big), r, 2, &n, &e), PARLEY_ERR_LIMIT);
    assert_int_equal(n, 42);
    assert_int_equal(parley_kb_search(kb, "en", "?!", 2, r, 2, &n, &e), PARLEY_OK);
    assert_int_equal(n, 0);
    parley_kb_free(kb);
    parley_kb_free(NULL);
}

/* ---- Malformed articles, in a temporary folder ---------------------------- */

static char tmpdir[256];

static void write_file(const char *rel, const char *content, size_t len)
{
    char path[512];
    FILE *f;
    (void)snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *rel)
{
    char path[512];
    (void)snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    assert_int_equal(unlink(path), 0);
}

static int setup_tmp(void **state)
{
    char en[300];
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-kb-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    (void)snprintf(en, sizeof(en), "%s/en", tmpdir);
    return mkdir(en, 0700);
}

static int teardown_tmp(void **state)
{
    char cmd[400];
    (void)state;
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Loads the temp kb with only `content` as en/bad.md and expects `code`
 * with a message containing `want`. */
static void expect_bad(const char *content, size_t len, parley_err code, const char *want)
{
    parley_kb *kb = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    write_file("en/bad.md", content, len);
    assert_int_equal(parley_kb_load(tmpdir, &kb, &e), code);
    assert_null(kb);
    if (!strstr(e.msg, want))
        fail_msg("error '%s' does not contain '%s'", e.msg, want);
    remove_file("en/bad.md");
}

static void test_malformed(void **state)
{
    (void)state;
    static char big[PARLEY_KB_MAX_ARTICLE + 100];
    parley_kb *kb = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const char *s;

    assert_int_equal(parley_kb_load(tmpdir, &kb, &e), PARLEY_ERR_EMPTY);
    s = "Title without hash\n\nbody\n";
    expect_bad(s, strlen(s), PARLEY_ERR_FORMAT, "en/bad.md:1: missing title");
    s = "#   \n\nbody\n";
    expect_bad(s, strlen(s), PARLEY_ERR_FORMAT, "en/bad.md:1: missing title");
    s = "# Title\ntags: a, b\n\n  \n";
    expect_bad(s, strlen(s), PARLEY_ERR_FORMAT, "en/bad.md:3: empty body");
    s = "# Title\n";
    expect_bad(s, strlen(s), PARLEY_ERR_FORMAT, "en/bad.md:2: empty body");
    s = "# Title\n\nfirst line\nbad \xc3\x28 byte\n";
    expect_bad(s, strlen(s), PARLEY_ERR_UTF8, "en/bad.md:4: invalid UTF-8");
    memset(big, 'a', sizeof(big));
    for (size_t i = 0; i < 7; i++)
        big[i] = "# Big\n\n"[i];
    expect_bad(big, sizeof(big), PARLEY_ERR_LIMIT, "en/bad.md: article larger than 64 KiB");

    write_file("en/Bad Name.md", "# T\n\nbody\n", 10);
    assert_int_equal(parley_kb_load(tmpdir, &kb, &e), PARLEY_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "bad article id"));
    remove_file("en/Bad Name.md");

    /* A good article with a BOM, CRLF line ends and tags loads and is found by
     * its tags; a README beside the language folders is ignored. */
    s = "\xef\xbb\xbf# Port your number\r\ntags: porting, keep number\r\n\r\nCall us.\r\n";
    write_file("en/porting.md", s, strlen(s));
    write_file("README.md", "notes", 5);
    assert_int_equal(parley_kb_load(tmpdir, &kb, &e), PARLEY_OK);
    {
        parley_kb_result r[1];
        size_t n = 0;
        assert_int_equal(parley_kb_search(kb, "en", "keep my number", 14, r, 1, &n, &e), PARLEY_OK);
        assert_int_equal(n, 1);
        assert_string_equal(r[0].id, "porting");
        assert_string_equal(r[0].title, "Port your number");
        assert_string_equal(r[0].body, "Call us.");
        assert_true(r[0].confidence > 0 && r[0].confidence <= 1);
    }
    parley_kb_free(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_carrier_top1),
        cmocka_unit_test(test_off_topic_below_threshold),
        cmocka_unit_test(test_search_errors),
        cmocka_unit_test_setup_teardown(test_malformed, setup_tmp, teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
