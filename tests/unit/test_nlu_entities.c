/* Unit tests of entity extraction (parley_nlu_entities): phone numbers,
 * data amounts, money, dates and yes/no in English, French, Spanish and
 * German, plans and cities through the lexicon, spans, argument and UTF-8
 * errors, out-of-memory failures, and bounded work on long input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parley/nlu.h"

#define MAXE 32

/* Extracts from `text` and returns the first entity of `kind`, or NULL. */
static const parley_entity *find(const char *text, const char *lang,
                                 const parley_entity_lexicon *lex, parley_entity_kind kind,
                                 parley_entity *buf)
{
    size_t count = 0;
    parley_error err = PARLEY_ERROR_INIT;

    if (parley_nlu_entities(text, strlen(text), lang, lex, buf, MAXE, &count, &err) != PARLEY_OK)
        fail_msg("'%s': %s", text, err.msg);
    for (size_t i = 0; i < count && i < MAXE; i++) {
        assert_true(buf[i].start < buf[i].end && buf[i].end <= strlen(text));
        if (i > 0)
            assert_true(buf[i].start >= buf[i - 1].end);
    }
    for (size_t i = 0; i < count && i < MAXE; i++)
        if (buf[i].kind == kind)
            return &buf[i];
    return NULL;
}

struct want {
    const char *text;
    const char *lang;
    const char *value; /* NULL: no entity of this kind */
    const char *span;  /* expected covered text, or NULL not to check */
};

static void check_all(const struct want *w, size_t n, parley_entity_kind kind,
                      const parley_entity_lexicon *lex)
{
    parley_entity buf[MAXE];

    for (size_t i = 0; i < n; i++) {
        const parley_entity *e = find(w[i].text, w[i].lang, lex, kind, buf);
        if (!w[i].value) {
            if (e)
                fail_msg("'%s': unexpected %s '%s'", w[i].text, parley_entity_kind_name(kind),
                         e->value);
            continue;
        }
        if (!e) {
            fail_msg("'%s' (%s): no %s found", w[i].text, w[i].lang ? w[i].lang : "any",
                     parley_entity_kind_name(kind));
            return;
        }
        if (strcmp(e->value, w[i].value) != 0)
            fail_msg("'%s': %s '%s', want '%s'", w[i].text, parley_entity_kind_name(kind), e->value,
                     w[i].value);
        if (w[i].span && (e->end - e->start != strlen(w[i].span) ||
                          memcmp(w[i].text + e->start, w[i].span, strlen(w[i].span)) != 0))
            fail_msg("'%s': span '%.*s', want '%s'", w[i].text, (int)(e->end - e->start),
                     w[i].text + e->start, w[i].span);
    }
}

#define CHECK_ALL(table, kind, lex)                                                                \
    check_all((table), sizeof(table) / sizeof((table)[0]), (kind), (lex))

static void test_phones(void **state)
{
    static const struct want w[] = {
        {"my number is 555-123-2002", "en", "5551232002", "555-123-2002"},
        {"+1 555 123 2002", NULL, "+15551232002", "+1 555 123 2002"},
        {"call (555) 123-2002 please", "en", "5551232002", "(555) 123-2002"},
        {"5551232002", NULL, "5551232002", "5551232002"},
        {"mon numéro : +33 6 12 34 56 78", "fr", "+33612345678", "+33 6 12 34 56 78"},
        {"06 12 34 56 78", "fr", "0612345678", NULL},
        {"555.123.2002", NULL, "5551232002", NULL},
        {"123-2002", "en", "1232002", NULL},
        {"I want 500 MB", "en", NULL, NULL},
        {"born 1985-03-07", NULL, NULL, NULL},
        {"2 gb", NULL, NULL, NULL},
    };
    (void)state;
    CHECK_ALL(w, PARLEY_ENTITY_PHONE, NULL);
}

static void test_data_amounts(void **state)
{
    static const struct want w[] = {
        {"add 1.5 GB please", "en", "1536", "1.5 GB"},
        {"1,5 Go", "fr", "1536", "1,5 Go"},
        {"2gb", "en", "2048", "2gb"},
        {"500 MB", "en", "500", NULL},
        {"500 Mo", "fr", "500", NULL},
        {"je veux deux gigas", "fr", "2048", "deux gigas"},
        {"un giga", "fr", "1024", NULL},
        {"dos gigas", "es", "2048", NULL},
        {"medio giga", "es", "512", NULL},
        {"zwei Giga bitte", "de", "2048", "zwei Giga"},
        {"1 GB", "en", "1024", NULL},
        {"just half a gig", "en", "512", "half a gig"},
        {"1,5 Go", NULL, "1536", NULL},
        {"I want to go", "en", NULL, NULL},
        {"2 to 3 days", "en", NULL, NULL},
        {"2 To", "fr", "2097152", NULL},
    };
    (void)state;
    CHECK_ALL(w, PARLEY_ENTITY_DATA_AMOUNT, NULL);
}

static void test_money(void **state)
{
    static const struct want w[] = {
        {"it costs $65", "en", "65.00 USD", "$65"},
        {"65 dollars", "en", "65.00 USD", NULL},
        {"65,50 €", "fr", "65.50 EUR", "65,50 €"},
        {"20 euros", "fr", "20.00 EUR", NULL},
        {"15 EUR", "de", "15.00 EUR", NULL},
        {"€20", NULL, "20.00 EUR", NULL},
        {"$1,250.75 total", "en", "1250.75 USD", NULL},
        {"zwanzig Euro", "de", "20.00 EUR", NULL},
        {"I have 3 phones", "en", NULL, NULL},
    };
    (void)state;
    CHECK_ALL(w, PARLEY_ENTITY_MONEY, NULL);
}

static void test_dates(void **state)
{
    static const struct want w[] = {
        {"born 1985-03-07", NULL, "1985-03-07", "1985-03-07"},
        {"03/07/1985", "en", "1985-03-07", NULL},
        {"07/03/1985", "fr", "1985-03-07", NULL},
        {"07/03/1985", "es", "1985-03-07", NULL},
        {"07.03.1985", "de", "1985-03-07", NULL},
        {"25/12/1990", "en", "1990-12-25", NULL},
        {"né le 7 mars 1985", "fr", "1985-03-07", "7 mars 1985"},
        {"el 7 de marzo de 1985", "es", "1985-03-07", "7 de marzo de 1985"},
        {"am 7. März 1985", "de", "1985-03-07", "7. März 1985"},
        {"March 7, 1985", "en", "1985-03-07", "March 7, 1985"},
        {"the 7th of March 1985", "en", "1985-03-07", "7th of March 1985"},
        {"le 1er mai", "fr", "--05-01", "1er mai"},
        {"7/3/85", "fr", "1985-03-07", NULL},
        {"29/02/2000", "fr", "2000-02-29", NULL},
        {"29/02/2001", "fr", NULL, NULL},
        {"31/04/1990", "fr", NULL, NULL},
        {"10.0.0.1", NULL, NULL, NULL},
        {"I may 5 times", "en", NULL, NULL},
    };
    (void)state;
    CHECK_ALL(w, PARLEY_ENTITY_DATE, NULL);
}

static void test_yesno(void **state)
{
    static const struct want w[] = {
        {"yes please go ahead", "en", "yes", "yes"},
        {"oui vas-y", "fr", "yes", "oui"},
        {"sí, claro", "es", "yes", "sí"},
        {"ja bitte", "de", "yes", NULL},
        {"no thanks", "en", "no", "no"},
        {"non merci", "fr", "no", NULL},
        {"nein danke", "de", "no", NULL},
        {"nope", "en", "no", NULL},
        {"ok do it", "en", "yes", "ok"},
        {"vas-y", "fr", "yes", "vas-y"},
        {"d'accord", "fr", "yes", NULL},
        {"No.", "en", "no", NULL},
        {"not ok", "en", "no", NULL},
        {"don't do it", "en", "no", NULL},
        {"no service since monday", "en", NULL, NULL},
        {"I know", "en", NULL, NULL},
        {"si quiero cambiar", "es", NULL, NULL},
        {"the signal is noisy", "en", NULL, NULL},
    };
    (void)state;
    CHECK_ALL(w, PARLEY_ENTITY_YESNO, NULL);
}

static parley_entity_lexicon *make_lexicon(void)
{
    parley_entity_lexicon *lex = NULL;
    parley_error err = PARLEY_ERROR_INIT;

    assert_int_equal(parley_entity_lexicon_new(&lex, &err), PARLEY_OK);
    assert_int_equal(parley_entity_lexicon_add_plan(lex, "premium", "Premium Plan", &err),
                     PARLEY_OK);
    assert_int_equal(parley_entity_lexicon_add_plan(lex, NULL, "Unlimited Plus", &err), PARLEY_OK);
    assert_int_equal(parley_entity_lexicon_add_plan(lex, "basic", "Forfait Essentiel", &err),
                     PARLEY_OK);
    assert_int_equal(parley_entity_lexicon_add_city(lex, "New York", &err), PARLEY_OK);
    assert_int_equal(parley_entity_lexicon_add_city(lex, "Zürich", &err), PARLEY_OK);
    assert_int_equal(parley_entity_lexicon_add_city(lex, "Saint-Étienne", &err), PARLEY_OK);
    return lex;
}

static void test_lexicon(void **state)
{
    static const struct want plans[] = {
        {"switch me to the premum plan", "en", "premium", "premum plan"},
        {"I want Premium", "en", "premium", "Premium"},
        {"unlimited", "en", "Unlimited Plus", "unlimited"},
        {"UNLIMITED PLUS please", "en", "Unlimited Plus", "UNLIMITED PLUS"},
        {"le forfait essentiel", "fr", "basic", "forfait essentiel"},
        {"essentiel", "fr", "basic", NULL},
        {"I have a plan", "en", NULL, NULL},
        {"premier", "fr", NULL, NULL},
    };
    static const struct want cities[] = {
        {"I live in new york", "en", "New York", "new york"},
        {"ich wohne in ZURICH", "de", "Zürich", "ZURICH"},
        {"à Saint-Etienne", "fr", "Saint-Étienne", "Saint-Etienne"},
        {"in york", "en", NULL, NULL},
    };
    parley_entity_lexicon *lex = make_lexicon();
    (void)state;
    CHECK_ALL(plans, PARLEY_ENTITY_PLAN, lex);
    CHECK_ALL(cities, PARLEY_ENTITY_CITY, lex);
    parley_entity_lexicon_free(lex);
    parley_entity_lexicon_free(NULL);
}

static void test_lexicon_errors(void **state)
{
    parley_entity_lexicon *lex = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    char name[16];
    (void)state;

    assert_int_equal(parley_entity_lexicon_new(&lex, &err), PARLEY_OK);
    assert_int_equal(parley_entity_lexicon_add_plan(lex, NULL, "", &err), PARLEY_ERR_INVALID);
    assert_int_equal(parley_entity_lexicon_add_city(lex, "Bad\xff", &err), PARLEY_ERR_UTF8);
    assert_non_null(strstr(err.msg, "byte 3"));
    assert_int_equal(
        parley_entity_lexicon_add_plan(
            lex, NULL, "a name that is far too long to be a plan name at all, really, truly", &err),
        PARLEY_ERR_INVALID);
    assert_int_equal(parley_entity_lexicon_add_city(lex, "---", &err), PARLEY_ERR_INVALID);
    for (int i = 0; i < PARLEY_ENTITY_MAX_PLANS; i++) {
        (void)snprintf(name, sizeof(name), "plan%d", i);
        assert_int_equal(parley_entity_lexicon_add_plan(lex, NULL, name, &err), PARLEY_OK);
    }
    assert_int_equal(parley_entity_lexicon_add_plan(lex, NULL, "one more", &err), PARLEY_ERR_LIMIT);
    parley_entity_lexicon_free(lex);
}

static void test_several_and_errors(void **state)
{
    const char *t = "yes, +1 555 123 2002, 2 GB for $20 on 03/07/2026";
    parley_entity buf[MAXE], small[2];
    size_t count = 99;
    parley_error err = PARLEY_ERROR_INIT;
    (void)state;

    assert_int_equal(parley_nlu_entities(t, strlen(t), "en", NULL, buf, MAXE, &count, &err),
                     PARLEY_OK);
    assert_int_equal(count, 5);
    assert_int_equal(buf[0].kind, PARLEY_ENTITY_YESNO);
    assert_int_equal(buf[1].kind, PARLEY_ENTITY_PHONE);
    assert_int_equal(buf[2].kind, PARLEY_ENTITY_DATA_AMOUNT);
    assert_int_equal(buf[3].kind, PARLEY_ENTITY_MONEY);
    assert_int_equal(buf[4].kind, PARLEY_ENTITY_DATE);
    assert_true(buf[4].number == 20260307);
    /* Fewer slots than entities: the full count, the first ones written. */
    assert_int_equal(parley_nlu_entities(t, strlen(t), "en", NULL, small, 2, &count, &err),
                     PARLEY_OK);
    assert_int_equal(count, 5);
    assert_int_equal(small[1].kind, PARLEY_ENTITY_PHONE);
    assert_int_equal(parley_nlu_entities(t, strlen(t), "en", NULL, NULL, 0, &count, &err),
                     PARLEY_OK);
    assert_int_equal(count, 5);

    count = 42;
    assert_int_equal(parley_nlu_entities("oui \xc3\x28", 6, "fr", NULL, buf, MAXE, &count, &err),
                     PARLEY_ERR_UTF8);
    assert_non_null(strstr(err.msg, "byte 4"));
    assert_int_equal(count, 42);
    assert_int_equal(parley_nlu_entities("oui", 3, "it", NULL, buf, MAXE, &count, &err),
                     PARLEY_ERR_INVALID);
    assert_non_null(strstr(err.msg, "'it'"));
    assert_int_equal(parley_nlu_entities("oui", 3, NULL, NULL, NULL, 4, &count, &err),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_nlu_entities("oui", 3, NULL, NULL, buf, MAXE, NULL, &err),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_nlu_entities(NULL, 0, NULL, NULL, buf, MAXE, &count, &err), PARLEY_OK);
    assert_int_equal(count, 0);
    assert_string_equal(parley_entity_kind_name(PARLEY_ENTITY_CITY), "city");
    assert_string_equal(parley_entity_kind_name((parley_entity_kind)99), "unknown");
}

/* The largest accepted input, dense with candidates, against a full
 * lexicon, and one byte more is refused. */
static void test_long_input(void **state)
{
    static char text[PARLEY_ENTITY_MAX_TEXT + 2];
    static parley_entity buf[PARLEY_ENTITY_MAX_TEXT];
    parley_entity_lexicon *lex = make_lexicon();
    parley_error err = PARLEY_ERROR_INIT;
    size_t count = 0, len = 0;
    const char *chunk = "premum 5 go 1 2 3 4 5 6 7 8 ";
    char name[16];
    (void)state;

    for (int i = 0; i < 200; i++) {
        (void)snprintf(name, sizeof(name), "zone%d", i);
        assert_int_equal(parley_entity_lexicon_add_plan(lex, NULL, name, &err), PARLEY_OK);
    }
    while (len + strlen(chunk) <= PARLEY_ENTITY_MAX_TEXT) {
        (void)snprintf(text + len, sizeof(text) - len, "%s", chunk);
        len += strlen(chunk);
    }
    memset(text + len, 'x', PARLEY_ENTITY_MAX_TEXT + 1 - len);
    assert_int_equal(parley_nlu_entities(text, PARLEY_ENTITY_MAX_TEXT, NULL, lex, buf,
                                         PARLEY_ENTITY_MAX_TEXT, &count, &err),
                     PARLEY_OK);
    assert_true(count > 100);
    assert_int_equal(parley_nlu_entities(text, PARLEY_ENTITY_MAX_TEXT + 1, NULL, lex, buf,
                                         PARLEY_ENTITY_MAX_TEXT, &count, &err),
                     PARLEY_ERR_LIMIT);
    parley_entity_lexicon_free(lex);
}

static size_t alloc_count, fail_at;

static void *oom_malloc(size_t n)
{
    return alloc_count++ == fail_at ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    return alloc_count++ == fail_at ? NULL : realloc(p, n);
}

static void *oom_calloc(size_t c, size_t n)
{
    return alloc_count++ == fail_at ? NULL : calloc(c, n);
}

/* Every allocation failure is PARLEY_ERR_NOMEM with nothing leaked, until
 * enough allocations succeed. */
static void test_oom(void **state)
{
    const char *t = "premium plan in New York, 2 GB, yes";
    int passed = 0;
    (void)state;

    for (fail_at = 0; fail_at < 50 && !passed; fail_at++) {
        parley_entity_lexicon *lex = NULL;
        parley_error err = PARLEY_ERROR_INIT;
        parley_entity buf[MAXE];
        size_t count = 0;
        parley_err rc;

        alloc_count = 0;
        parley_set_allocator(oom_malloc, oom_realloc, oom_calloc, free);
        rc = parley_entity_lexicon_new(&lex, &err);
        if (rc == PARLEY_OK)
            rc = parley_entity_lexicon_add_plan(lex, NULL, "Premium Plan", &err);
        if (rc == PARLEY_OK)
            rc = parley_entity_lexicon_add_city(lex, "New York", &err);
        if (rc == PARLEY_OK)
            rc = parley_nlu_entities(t, strlen(t), "en", lex, buf, MAXE, &count, &err);
        parley_set_allocator(NULL, NULL, NULL, NULL);
        if (rc == PARLEY_OK) {
            passed = 1;
            assert_int_equal(count, 4);
        } else {
            assert_int_equal(rc, PARLEY_ERR_NOMEM);
            assert_non_null(strstr(err.msg, "out of memory"));
        }
        parley_entity_lexicon_free(lex);
    }
    assert_true(passed);
    assert_true(fail_at > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phones),         cmocka_unit_test(test_data_amounts),
        cmocka_unit_test(test_money),          cmocka_unit_test(test_dates),
        cmocka_unit_test(test_yesno),          cmocka_unit_test(test_lexicon),
        cmocka_unit_test(test_lexicon_errors), cmocka_unit_test(test_several_and_errors),
        cmocka_unit_test(test_long_input),     cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
