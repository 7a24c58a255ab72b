/* Unit tests for src/lib/pii/context*.c: dates of birth, street addresses
 * and person names in en, fr, es and de with exact spans, the sentences
 * that must not be flagged, confidence ordering, values the conversation
 * already knows, and findings that stay inside the text and on character
 * boundaries whatever the input (empty, cut after a cue, invalid bytes,
 * long capitalized runs, texts longer than one scanning window). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parley/common.h"
#include "pii/internal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DEFAULT_MIN  0.5f

/* Every finding inside [0, len), non-empty, on UTF-8 character boundaries,
 * with a confidence in 0..1 and a detector name. */
static void check_bounds(const char *text, size_t len, const struct pii_hits *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const parley_pii_finding *f = &h->v[i];
        assert_true(f->start < f->end);
        assert_true(f->end <= len);
        assert_true(((unsigned char)text[f->start] & 0xC0) != 0x80);
        if (f->end < len)
            assert_true(((unsigned char)text[f->end] & 0xC0) != 0x80);
        assert_true(f->confidence >= 0.0f && f->confidence <= 1.0f);
        assert_non_null(f->detector);
    }
}

static struct pii_hits scan(const char *text, unsigned types, const parley_pii_known *known,
                            size_t n_known)
{
    struct pii_hits h = {NULL, 0, 0};
    assert_int_equal(pii_detect_context(text, strlen(text), types, known, n_known, &h), 1);
    check_bounds(text, strlen(text), &h);
    return h;
}

/* The best confidence of a finding of `type` spanning exactly `span` in
 * `text`, or -1 when there is none. */
static float conf_of(const char *text, parley_pii_type type, const char *span)
{
    struct pii_hits h = scan(text, PARLEY_PII_ALL, NULL, 0);
    float best = -1.0f;
    for (size_t i = 0; i < h.n; i++) {
        const parley_pii_finding *f = &h.v[i];
        if (f->type == type && f->end - f->start == strlen(span) &&
            memcmp(text + f->start, span, strlen(span)) == 0 && f->confidence > best)
            best = f->confidence;
    }
    free(h.v);
    return best;
}

/* Prints the findings of a failed expectation, to see what was found. */
static void dump(const char *text)
{
    struct pii_hits h = scan(text, PARLEY_PII_ALL, NULL, 0);
    for (size_t i = 0; i < h.n; i++)
        print_message("  %s [%.*s] %.2f %s\n", parley_pii_type_name(h.v[i].type),
                      (int)(h.v[i].end - h.v[i].start), text + h.v[i].start,
                      (double)h.v[i].confidence, h.v[i].detector);
    free(h.v);
}

static void expect(const char *text, parley_pii_type type, const char *span)
{
    if (conf_of(text, type, span) < DEFAULT_MIN) {
        dump(text);
        fail_msg("no %s [%s] in \"%s\"", parley_pii_type_name(type), span, text);
    }
}

/* No finding of `type` at or over the default threshold. */
static void expect_none(const char *text, parley_pii_type type)
{
    struct pii_hits h = scan(text, PARLEY_PII_ALL, NULL, 0);
    size_t bad = 0;
    for (size_t i = 0; i < h.n; i++)
        bad += h.v[i].type == type && h.v[i].confidence >= DEFAULT_MIN;
    free(h.v);
    if (bad) {
        dump(text);
        fail_msg("unexpected %s in \"%s\"", parley_pii_type_name(type), text);
    }
}

static const struct {
    const char *text, *span;
} dobs[] = {
    {"I was born on 15/06/1985 in Leeds.", "15/06/1985"},
    {"DOB: 1985-06-15", "1985-06-15"},
    {"My date of birth is June 15, 1985.", "June 15, 1985"},
    {"d.o.b. 6/15/85, thanks", "6/15/85"},
    {"my birthday is 15 June 1985", "15 June 1985"},
    {"Je suis né le 1er mai 1990 à Lyon.", "1er mai 1990"},
    {"date de naissance : 15.06.1985", "15.06.1985"},
    {"elle est née le 3 mars 1972", "3 mars 1972"},
    {"Nací... bueno, nacido el 15 de junio de 1985 en Sevilla", "15 de junio de 1985"},
    {"fecha de nacimiento: 15/06/1985", "15/06/1985"},
    {"mi cumpleaños es el 2 de febrero de 1990", "2 de febrero de 1990"},
    {"Ich bin am 15. Juni 1985 geboren, nein: geboren am 15. Juni 1985", "15. Juni 1985"},
    {"Geburtsdatum 15.06.1985", "15.06.1985"},
    {"geb. 01.02.1970", "01.02.1970"},
    {"15/06/1985 is my birthday", "15/06/1985"},
};

static void test_dob_positive(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(dobs); i++)
        expect(dobs[i].text, PARLEY_PII_DOB, dobs[i].span);
}

static void test_dob_negative(void **state)
{
    static const char *const texts[] = {
        "Your invoice of 15/06/2024 is due on 30/06/2024.",
        "The 1.2.3 release and the IP 10.0.0.1 are fine.",
        "je ne sais pas, le 15/06/1985 peut-être",
        "el pago del 15 de junio de 2023 está pendiente",
        "die Rechnung vom 15.06.2023 ist offen",
        "we met on 15/06/1985 in Paris",
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(texts); i++)
        expect_none(texts[i], PARLEY_PII_DOB);
    /* A plausible birth date without a birth word: found, under the threshold. */
    assert_true(conf_of("we met on 15/06/1985 in Paris", PARLEY_PII_DOB, "15/06/1985") > 0.0f);
    assert_true(conf_of("we met on 15/06/1985 in Paris", PARLEY_PII_DOB, "15/06/1985") <= 0.4f);
    assert_true(conf_of("born 15/06/1985", PARLEY_PII_DOB, "15/06/1985") >= 0.85f);
}

static const struct {
    const char *text, *span;
} addresses[] = {
    {"I live at 221B Baker Street, London.", "221B Baker Street, London"},
    {"Send it to 1600 Pennsylvania Ave NW, Washington, DC 20500 please",
     "1600 Pennsylvania Ave NW, Washington, DC 20500"},
    {"new address: 12 Elm St. Apt 4", "12 Elm St. Apt 4"},
    {"write to PO Box 123", "PO Box 123"},
    {"the shop on Boyle Street is closed", "Boyle Street"},
    {"J'habite au 12 rue de la Paix, 75002 Paris.", "12 rue de la Paix, 75002 Paris"},
    {"c'est au 3 bis avenue Victor Hugo", "3 bis avenue Victor Hugo"},
    {"livraison 8 boulevard Saint-Michel", "8 boulevard Saint-Michel"},
    {"Vivo en Calle Mayor 5, 3º izq., 28013 Madrid", "Calle Mayor 5, 3º izq., 28013 Madrid"},
    {"la tienda está en C/ Alcalá 20", "C/ Alcalá 20"},
    {"envíelo a Avenida de la Constitución 12", "Avenida de la Constitución 12"},
    {"Ich wohne in der Hauptstraße 5, 10115 Berlin.", "Hauptstraße 5, 10115 Berlin"},
    {"Lieferung an Berliner Str. 12a bitte", "Berliner Str. 12a"},
    {"Postfach 1234", "Postfach 1234"},
    {"My zip code is 98547", "98547"},
    {"meet me at the corner of Westfall Avenue and Maclean Street, ok?",
     "the corner of Westfall Avenue and Maclean Street"},
    {"c'est à l'angle de la rue Oberkampf et de la rue Saint-Maur.",
     "l'angle de la rue Oberkampf et de la rue Saint-Maur"},
    {"en la esquina de Alcalá con Goya", "esquina de Alcalá con Goya"},
    {"an der Ecke Hauptstraße und Ringstraße", "Ecke Hauptstraße und Ringstraße"},
    {"mail it to USS Example\nFPO AE 09501 please", "USS Example\nFPO AE 09501"},
    {"ich wohne in der hauptstrasse 5 in berlin", "hauptstrasse 5"},
    {"Lieferadresse: Lindenhof 3, 10115 Berlin", "Lindenhof 3, 10115 Berlin"},
};

static void test_address_positive(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(addresses); i++)
        expect(addresses[i].text, PARLEY_PII_ADDRESS, addresses[i].span);
}

static void test_address_negative(void **state)
{
    static const char *const texts[] = {
        "I have 3 big problems with my 2 phones",
        "the meeting will take place on Monday",
        "Chapter 5, 12345 words long",
        "Le forfait coûte 20 euros par mois, place de marché incluse",
        "Necesito 5 gigas más para el mes",
        "Ich habe 5 Euro und 2 SIM-Karten",
        "Ring 2024 was a good year",
        "upgrade to Premium 5 today",
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(texts); i++)
        expect_none(texts[i], PARLEY_PII_ADDRESS);
    /* A street named after a person is an address, not a name. */
    expect_none("c'est au 3 bis avenue Victor Hugo", PARLEY_PII_NAME);
}

static const struct {
    const char *text, *span;
} names[] = {
    {"Hi, my name is John Smith and I need help", "John Smith"},
    {"my name is michelle kozma", "michelle kozma"},
    {"I'm Judy, I called yesterday", "Judy"},
    {"Mr. Carr called about his bill", "Mr. Carr"},
    {"Thanks, Judy!", "Judy"},
    {"Judy Müller called twice", "Judy Müller"},
    {"Name: Jeremy Reyna", "Jeremy Reyna"},
    {"please call me Heidi van der Vlist", "Heidi van der Vlist"},
    {"the verses from Jose Sauvé's song", "Jose Sauvé"},
    {"Bonjour, je m'appelle Marie Dupont.", "Marie Dupont"},
    {"Mme Lefebvre a appelé", "Mme Lefebvre"},
    {"mon nom est Jean-Pierre de la Fontaine", "Jean-Pierre de la Fontaine"},
    {"Hola, me llamo María José García", "María José García"},
    {"Le atiende la Sra. López", "Sra. López"},
    {"mi nombre es Ana", "Ana"},
    {"Hallo, ich heiße Jürgen Müller", "Jürgen Müller"},
    {"Guten Tag Herr Schmidt", "Herr Schmidt"},
    {"Termin bei Herr Dr. Müller", "Herr Dr. Müller"},
    {"mein Name ist Anna von Berg", "Anna von Berg"},
    {"I spoke to Keiko Tanaka yesterday", "Keiko Tanaka"},
    {"Hi, Jouko here.", "Jouko"},
    {"It's Judy from accounting", "Judy"},
    {"Buenos días, habla Ana García", "Ana García"},
};

static void test_name_positive(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        expect(names[i].text, PARLEY_PII_NAME, names[i].span);
}

static void test_name_negative(void **state)
{
    static const char *const texts[] = {
        "I'm interested in the Premium plan",
        "This is Unlimited, our best plan",
        "May I help you? In June we moved.",
        "The Unlimited plan is great on Monday",
        "Paris is nice in April",
        "Je suis content du forfait Premium",
        "Soy cliente desde 2010",
        "Ich bin Kunde seit 2010",
        "Hello World",
        "Will you call me back?",
        "mark the bill as paid",
        "Christmas in Madrid",
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(texts); i++)
        expect_none(texts[i], PARLEY_PII_NAME);
}

/* More evidence, more confidence: a given name and a surname over a lone
 * given name in mid-sentence over one opening a sentence. */
static void test_name_confidence(void **state)
{
    float full = conf_of("I talked to Judy Miller yesterday", PARLEY_PII_NAME, "Judy Miller");
    float mid = conf_of("I talked to Judy yesterday", PARLEY_PII_NAME, "Judy");
    float start = conf_of("Judy called yesterday", PARLEY_PII_NAME, "Judy");
    (void)state;
    assert_true(full > mid);
    assert_true(mid > start);
    assert_true(start > 0.0f);
}

static void test_known(void **state)
{
    static const parley_pii_known known[] = {
        {PARLEY_PII_NAME, "José Müller"},
        {PARLEY_PII_PHONE, "+1 555 123 4567"},
        {PARLEY_PII_EMAIL, "Judy@Example.com"},
        {PARLEY_PII_NAME, "Ann"},
    };
    const char *text = "hi, JOSE MULLER here: call 555-123-4567 or (555) 123 4567, "
                       "mail judy@example.com. Annie is my sister.";
    /* only the known values: no other detector runs */
    struct pii_hits h = scan(text,
                             PARLEY_PII_BIT(PARLEY_PII_PHONE) | PARLEY_PII_BIT(PARLEY_PII_EMAIL) |
                                 PARLEY_PII_BIT(PARLEY_PII_CARD),
                             known, ARRAY_LEN(known));
    size_t n_names = 0, phones = 0, emails = 0;
    (void)state;
    for (size_t i = 0; i < h.n; i++) {
        const parley_pii_finding *f = &h.v[i];
        const char *s = text + f->start;
        size_t n = f->end - f->start;
        assert_string_equal(f->detector, "known");
        assert_true(f->confidence > 0.94f);
        if (f->type == PARLEY_PII_NAME) {
            assert_true(n == 11 && memcmp(s, "JOSE MULLER", n) == 0);
            n_names++;
        } else if (f->type == PARLEY_PII_PHONE) {
            assert_true((n == 12 && memcmp(s, "555-123-4567", n) == 0) ||
                        (n == 14 && memcmp(s, "(555) 123 4567", n) == 0));
            phones++;
        } else if (f->type == PARLEY_PII_EMAIL) {
            assert_true(n == 16 && memcmp(s, "judy@example.com", n) == 0);
            emails++;
        }
    }
    assert_int_equal(n_names, 0); /* names are not in the mask */
    assert_int_equal(phones, 2);
    assert_int_equal(emails, 1);
    free(h.v);

    h = scan(text, PARLEY_PII_BIT(PARLEY_PII_NAME), known, ARRAY_LEN(known));
    n_names = 0;
    for (size_t i = 0; i < h.n; i++) {
        if (strcmp(h.v[i].detector, "known") != 0)
            continue;
        assert_int_equal(h.v[i].type, PARLEY_PII_NAME);
        assert_int_equal(h.v[i].end - h.v[i].start, 11);
        assert_memory_equal(text + h.v[i].start, "JOSE MULLER", 11);
        n_names++;
    }
    assert_int_equal(n_names, 1); /* and not "Ann" inside "Annie" */
    free(h.v);
}

/* The four types together in one message per language, each span exact
 * and none swallowing its neighbour. */
static void test_together(void **state)
{
    static const struct {
        const char *text, *name, *dob, *address;
    } cases[] = {
        {"My name is John Smith, DOB 06/15/1985, 1600 Pennsylvania Ave NW, Washington, DC 20500",
         "John Smith", "06/15/1985", "1600 Pennsylvania Ave NW, Washington, DC 20500"},
        {"Je m'appelle Marie Dupont, née le 15.06.1985, 12 rue de la Paix, 75002 Paris",
         "Marie Dupont", "15.06.1985", "12 rue de la Paix, 75002 Paris"},
        {"Me llamo Ana García, nacida el 15/06/1985, Calle Mayor 5, 3º izq., 28013 Madrid",
         "Ana García", "15/06/1985", "Calle Mayor 5, 3º izq., 28013 Madrid"},
        {"Ich heiße Jürgen Müller, geboren am 15. Juni 1985, Hauptstraße 5, 10115 Berlin",
         "Jürgen Müller", "15. Juni 1985", "Hauptstraße 5, 10115 Berlin"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        expect(cases[i].text, PARLEY_PII_NAME, cases[i].name);
        expect(cases[i].text, PARLEY_PII_DOB, cases[i].dob);
        expect(cases[i].text, PARLEY_PII_ADDRESS, cases[i].address);
    }
}

/* Sentences that once fooled the name rules. */
static void test_name_traps(void **state)
{
    (void)state;
    assert_true(conf_of("Mary me llamó zorra estúpida.", PARLEY_PII_NAME, "zorra estúpida") <
                DEFAULT_MIN);
    assert_true(conf_of("Mary me llamó zorra estúpida.", PARLEY_PII_NAME, "zorra") < DEFAULT_MIN);
    expect_none("Ich liebe Lasagne.", PARLEY_PII_NAME);
    expect_none("Die Mathematiker sind anders.", PARLEY_PII_NAME);
    expect_none("Bienvenue à Saint Vincent, chez Ortiz LLC.", PARLEY_PII_NAME);
    /* "y" joins two people, it is no particle */
    expect("No quería ir a la boda de Tom y Mary.", PARLEY_PII_NAME, "Tom");
    expect("No quería ir a la boda de Tom y Mary.", PARLEY_PII_NAME, "Mary");
    /* German nouns after a name are not part of it */
    expect("Füge das Matt Murphy Lied hinzu", PARLEY_PII_NAME, "Matt Murphy");
    /* lower case is evidence only from a writer who never capitalizes */
    expect("follow up with jessica in 2 months", PARLEY_PII_NAME, "jessica");
    expect_none("Follow up with jessica in 2 months.", PARLEY_PII_NAME);
    expect("as promised, here's časlav's address", PARLEY_PII_NAME, "časlav");
    expect_none("can you update my mother's phone number", PARLEY_PII_NAME);
    expect("\"Thanks,\" says Vedzizhev.", PARLEY_PII_NAME, "Vedzizhev");
    expect("Hi Ella, I'm contacting you", PARLEY_PII_NAME, "Ella");
    /* Spanish "ella" (she) opening a sentence is no name; Alain is */
    assert_true(conf_of("Ella es la esposa de Alain.", PARLEY_PII_NAME, "Ella") < DEFAULT_MIN);
    expect("Ella es la esposa de Alain.", PARLEY_PII_NAME, "Alain");
}

/* Only the types asked for. */
static void test_mask(void **state)
{
    const char *text = "my name is John Smith, born 15/06/1985, 12 rue de la Paix";
    struct pii_hits h = scan(text, PARLEY_PII_BIT(PARLEY_PII_DOB), NULL, 0);
    (void)state;
    assert_int_equal(h.n, 1);
    assert_int_equal(h.v[0].type, PARLEY_PII_DOB);
    free(h.v);
}

static void test_edges(void **state)
{
    static const char *const texts[] = {
        "",
        "my name is",
        "born",
        "Mr.",
        "12 rue",
        "Hauptstraße",
        "15/06/",
        "my name is \xff\xfe Judy \xc3",
        "\xe2\x82 born 15/06/19\xf0\x9f",
        "J'habite au 12 rue de la Paix, 75002",
        "Thanks, Judy",
        "call me \xc3\xa9",
    };
    struct pii_hits h = {NULL, 0, 0};
    (void)state;
    assert_int_equal(pii_detect_context(NULL, 0, PARLEY_PII_ALL, NULL, 0, &h), 1);
    assert_int_equal(h.n, 0);
    for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
        h = scan(texts[i], PARLEY_PII_ALL, NULL, 0);
        free(h.v);
    }
    /* Cut right after the cue: nothing to find, nothing out of range. */
    h = scan("my name is", PARLEY_PII_ALL, NULL, 0);
    assert_int_equal(h.n, 0);
    free(h.v);
}

/* A long run of capitalized words, and a text over several scanning
 * windows: each name found once, wherever the windows are cut. */
static void test_long(void **state)
{
    const char *unit = "Hello, my name is John Smith. ";
    size_t reps = 20000, ulen = strlen(unit), n = 0;
    char *text = malloc(reps * ulen + 1);
    struct pii_hits h;
    (void)state;
    assert_non_null(text);
    for (size_t i = 0; i < reps; i++)
        memcpy(text + i * ulen, unit, ulen);
    text[reps * ulen] = '\0';
    h = scan(text, PARLEY_PII_BIT(PARLEY_PII_NAME), NULL, 0);
    for (size_t i = 0; i < h.n; i++) {
        assert_int_equal(h.v[i].end - h.v[i].start, 10);
        assert_memory_equal(text + h.v[i].start, "John Smith", 10);
        assert_true(i == 0 || h.v[i].start > h.v[i - 1].start);
        n++;
    }
    assert_int_equal(n, reps);
    free(h.v);

    for (size_t i = 0; i < reps * ulen; i++)
        text[i] = i % 6 == 5 ? ' ' : i % 6 == 0 ? 'A' : 'b';
    h = scan(text, PARLEY_PII_ALL, NULL, 0);
    free(h.v);

    /* One token per byte, and white space rare enough that a window's
     * start moves far back looking for it: the token array still holds. */
    for (size_t i = 0; i < reps * ulen; i++)
        text[i] = i % 512 == 511 ? ' ' : '!';
    h = scan(text, PARLEY_PII_ALL, NULL, 0);
    assert_int_equal(h.n, 0);
    free(h.v);
    free(text);
}

/* Out of memory at every allocation in turn: 0 back, nothing leaked but
 * the findings list the caller owns, until the call goes through. */
static long alloc_count, alloc_fail_at, alloc_live;

static void *t_malloc(size_t n)
{
    void *p;
    if (alloc_count++ == alloc_fail_at)
        return NULL;
    p = malloc(n);
    alloc_live += p != NULL;
    return p;
}

static void *t_realloc(void *old, size_t n)
{
    void *p;
    if (alloc_count++ == alloc_fail_at)
        return NULL;
    p = realloc(old, n);
    alloc_live += p != NULL && old == NULL;
    return p;
}

static void *t_calloc(size_t c, size_t n)
{
    void *p;
    if (alloc_count++ == alloc_fail_at)
        return NULL;
    p = calloc(c, n);
    alloc_live += p != NULL;
    return p;
}

static void t_free(void *p)
{
    alloc_live -= p != NULL;
    free(p);
}

static void test_oom_sweep(void **state)
{
    static const parley_pii_known known[] = {{PARLEY_PII_NAME, "Judy"},
                                             {PARLEY_PII_PHONE, "555 123 4567"}};
    char text[8192];
    size_t len = 0;
    long n;
    (void)state;
    while (len + 100 < sizeof(text))
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "Judy at 555-123-4567, born 15/06/1985, 12 rue de la Paix. ");
    for (n = 0; n < 100; n++) {
        struct pii_hits h = {NULL, 0, 0};
        int ok;
        alloc_count = 0;
        alloc_fail_at = n;
        alloc_live = 0;
        parley_set_allocator(t_malloc, t_realloc, t_calloc, t_free);
        ok = pii_detect_context(text, len, PARLEY_PII_ALL, known, ARRAY_LEN(known), &h);
        t_free(h.v);
        parley_set_allocator(NULL, NULL, NULL, NULL);
        assert_int_equal(alloc_live, 0);
        if (ok) {
            assert_true(h.n > 100);
            break;
        }
    }
    assert_true(n >= 3); /* the token array and the findings growing twice */
    assert_true(n < 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dob_positive),
        cmocka_unit_test(test_dob_negative),
        cmocka_unit_test(test_address_positive),
        cmocka_unit_test(test_address_negative),
        cmocka_unit_test(test_name_positive),
        cmocka_unit_test(test_name_negative),
        cmocka_unit_test(test_name_confidence),
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_together),
        cmocka_unit_test(test_name_traps),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
