/* Unit tests for src/lib/pii/detect.c and the structured detectors: each
 * type found in the formats of en, fr, es and de and its near-misses
 * rejected, overlaps resolved, thresholds, type masks, declared identifiers
 * and their errors, UTF-8 and size errors, and a text with many findings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parley/pii.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static parley_pii *make(const parley_pii_options *o)
{
    parley_pii *p = NULL;
    parley_error e = PARLEY_ERROR_INIT;

    if (parley_pii_create(o, &p, &e) != PARLEY_OK)
        fail_msg("cannot create detectors: %s", e.msg);
    return p;
}

/* Scans `text` and returns the findings (borrowed from `s`). */
static const parley_pii_finding *scan(const parley_pii *p, parley_pii_scratch *s, const char *text,
                                      size_t *n)
{
    const parley_pii_finding *f = NULL;
    parley_error e = PARLEY_ERROR_INIT;

    if (parley_pii_detect(p, s, text, strlen(text), NULL, 0, &f, n, &e) != PARLEY_OK)
        fail_msg("scan of '%s' failed: %s", text, e.msg);
    for (size_t i = 0; i < *n; i++) {
        assert_true(f[i].start < f[i].end && f[i].end <= strlen(text));
        assert_true(i == 0 || f[i].start >= f[i - 1].end);
    }
    return f;
}

/* `want` NULL: no finding of `type` at all; else exactly that value is
 * found as `type`. */
struct tcase {
    const char *text;
    parley_pii_type type;
    const char *want;
};

static void run_cases(const struct tcase *cases, size_t n_cases)
{
    parley_pii *p = make(NULL);
    parley_pii_scratch *s = NULL;

    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    for (size_t c = 0; c < n_cases; c++) {
        size_t n = 0, found = 0;
        const parley_pii_finding *f = scan(p, s, cases[c].text, &n);
        for (size_t i = 0; i < n; i++) {
            size_t l = f[i].end - f[i].start;
            if (f[i].type != cases[c].type)
                continue;
            found++;
            if (!cases[c].want)
                fail_msg("'%s': unexpected %s '%.*s'", cases[c].text,
                         parley_pii_type_name(f[i].type), (int)l, cases[c].text + f[i].start);
            if (strlen(cases[c].want) != l || memcmp(cases[c].want, cases[c].text + f[i].start, l))
                fail_msg("'%s': %s found as '%.*s', want '%s'", cases[c].text,
                         parley_pii_type_name(f[i].type), (int)l, cases[c].text + f[i].start,
                         cases[c].want);
        }
        if (cases[c].want && found != 1)
            fail_msg("'%s': %zu %s findings, want 1 ('%s')", cases[c].text, found,
                     parley_pii_type_name(cases[c].type), cases[c].want);
    }
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
}

static void test_cards(void **state)
{
    static const struct tcase cases[] = {
        {"my card is 4111 1111 1111 1111 thanks", PARLEY_PII_CARD, "4111 1111 1111 1111"},
        {"ma carte: 5500-0000-0000-0004.", PARLEY_PII_CARD, "5500-0000-0000-0004"},
        {"mi tarjeta 378282246310005", PARLEY_PII_CARD, "378282246310005"},
        {"Amex 3782 822463 10005 bitte", PARLEY_PII_CARD, "3782 822463 10005"},
        {"Karte 6011111111111117", PARLEY_PII_CARD, "6011111111111117"},
        {"JCB 3530 1113 3330 0000", PARLEY_PII_CARD, "3530 1113 3330 0000"},
        {"diners 3056 930902 5904", PARLEY_PII_CARD, "3056 930902 5904"},
        {"UnionPay 6200000000000005", PARLEY_PII_CARD, "6200000000000005"},
        {"2-series 2223000048400011", PARLEY_PII_CARD, "2223000048400011"},
        {"ref 12 4111 1111 1111 1111", PARLEY_PII_CARD, "4111 1111 1111 1111"},
        {"ref 12 4111-1111-1111-1111", PARLEY_PII_CARD, "4111-1111-1111-1111"},
        /* near-misses: bad Luhn, unknown issuer, glued to more digits,
         * mixed separators, odd grouping */
        {"card 4111 1111 1111 1112", PARLEY_PII_CARD, NULL},
        {"number 1234567812345670", PARLEY_PII_CARD, NULL},
        {"id 94111111111111111", PARLEY_PII_CARD, NULL},
        {"x41111111111111119", PARLEY_PII_CARD, NULL},
        {"card 4111-1111 1111-1111", PARLEY_PII_CARD, NULL},
        {"card 41 111111 11111111", PARLEY_PII_CARD, NULL},
    };
    (void)state;
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_imei(void **state)
{
    static const struct tcase cases[] = {
        {"IMEI 490154203237518", PARLEY_PII_IMEI, "490154203237518"},
        {"mon IMEI: 49-015420-323751-8", PARLEY_PII_IMEI, "49-015420-323751-8"},
        {"device 356938035643809 blocked", PARLEY_PII_IMEI, "356938035643809"},
        {"IMEI 490154203237517", PARLEY_PII_IMEI, NULL},
        /* an Amex number is a card unless called an IMEI */
        {"paid with 378282246310005", PARLEY_PII_IMEI, NULL},
        {"the IMEI is 378282246310005", PARLEY_PII_IMEI, "378282246310005"},
        {"the IMEI is 378282246310005", PARLEY_PII_CARD, NULL},
    };
    (void)state;
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_iban(void **state)
{
    static const struct tcase cases[] = {
        {"IBAN DE89 3704 0044 0532 0130 00 please", PARLEY_PII_IBAN, "DE89 3704 0044 0532 0130 00"},
        {"my account GB82WEST12345698765432.", PARLEY_PII_IBAN, "GB82WEST12345698765432"},
        {"mon RIB FR14 2004 1010 0505 0001 3M02 606", PARLEY_PII_IBAN,
         "FR14 2004 1010 0505 0001 3M02 606"},
        {"cuenta ES9121000418450200051332", PARLEY_PII_IBAN, "ES9121000418450200051332"},
        {"lower gb82west12345698765432 ok", PARLEY_PII_IBAN, "gb82west12345698765432"},
        {"IBAN DE89 3704 0044 0532 0130 01", PARLEY_PII_IBAN, NULL}, /* mod-97 */
        {"IBAN DE89 3704 0044 0532 0130 0", PARLEY_PII_IBAN, NULL},  /* length */
        {"IBAN DE8937 04 0044 0532 0130 00", PARLEY_PII_IBAN, NULL}, /* grouping */
        {"IBAN ZZ89 3704 0044 0532 0130 00", PARLEY_PII_IBAN, NULL}, /* country */
        {"IBAN Gb82WEST12345698765432", PARLEY_PII_IBAN, NULL},      /* mixed case */
    };
    (void)state;
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_ssn(void **state)
{
    static const struct tcase cases[] = {
        {"my SSN is 123-45-6789", PARLEY_PII_SSN, "123-45-6789"},
        {"number 536-22-1234 on file", PARLEY_PII_SSN, "536-22-1234"},
        {"social security 536 22 1234", PARLEY_PII_SSN, "536 22 1234"},
        {"SSN: 536221234", PARLEY_PII_SSN, "536221234"},
        {"order 536221234 shipped", PARLEY_PII_SSN, NULL},
        {"code 536 22 1234", PARLEY_PII_SSN, NULL},
        {"SSN 000-12-3456", PARLEY_PII_SSN, NULL},
        {"SSN 666-12-3456", PARLEY_PII_SSN, NULL},
        {"SSN 912-12-3456", PARLEY_PII_SSN, NULL},
        {"SSN 123-00-3456", PARLEY_PII_SSN, NULL},
        {"SSN 123-45-0000", PARLEY_PII_SSN, NULL},
        {"SSN 123-45 6789", PARLEY_PII_SSN, NULL},
        {"part 1-123-45-6789", PARLEY_PII_SSN, NULL},
    };
    (void)state;
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_email(void **state)
{
    static const struct tcase cases[] = {
        {"write to jane.doe+news@example.co.uk.", PARLEY_PII_EMAIL, "jane.doe+news@example.co.uk"},
        {"mail: <Pierre_Martin@orange.fr>", PARLEY_PII_EMAIL, "Pierre_Martin@orange.fr"},
        {"correo josé.garcía@correo.es", PARLEY_PII_EMAIL, "josé.garcía@correo.es"},
        {"E-Mail an m.mueller@web.de, danke", PARLEY_PII_EMAIL, "m.mueller@web.de"},
        {"at .x@y.com", PARLEY_PII_EMAIL, "x@y.com"},
        {"user@localhost", PARLEY_PII_EMAIL, NULL},
        {"user@example.c", PARLEY_PII_EMAIL, NULL},
        {"user@example.c0m", PARLEY_PII_EMAIL, NULL},
        {"a..b@example.com", PARLEY_PII_EMAIL, NULL},
        {"ab.@example.com", PARLEY_PII_EMAIL, NULL},
        {"@twitter handle", PARLEY_PII_EMAIL, NULL},
    };
    (void)state;
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_ip(void **state)
{
    static const struct tcase cases[] = {
        {"from 192.168.1.20 yesterday", PARLEY_PII_IP, "192.168.1.20"},
        {"IP 8.8.8.8.", PARLEY_PII_IP, "8.8.8.8"},
        {"addr 2001:db8:85a3::8a2e:370:7334 ok", PARLEY_PII_IP, "2001:db8:85a3::8a2e:370:7334"},
        {"full 2001:0db8:0000:0000:0000:ff00:0042:8329", PARLEY_PII_IP,
         "2001:0db8:0000:0000:0000:ff00:0042:8329"},
        {"link fe80::1", PARLEY_PII_IP, "fe80::1"},
        {"mapped ::ffff:192.0.2.128 here", PARLEY_PII_IP, "::ffff:192.0.2.128"},
        {"IPv6: 2001:db8::1:", PARLEY_PII_IP, "2001:db8::1"},
        {"bad 999.1.1.1", PARLEY_PII_IP, NULL},
        {"version 1.2.3.4.5", PARLEY_PII_IP, NULL},
        {"v1.2.3.4", PARLEY_PII_IP, NULL},
        {"at 12:30:45", PARLEY_PII_IP, NULL},
        {"mac 00:1a:2b:3c:4d:5e", PARLEY_PII_IP, NULL},
        {"std::vector", PARLEY_PII_IP, NULL},
        {"1:2:3:4:5:6:7:8:9", PARLEY_PII_IP, NULL},
        {"2001:db8::1::2", PARLEY_PII_IP, NULL},
        {"the range 10.0.0.0/8 is private", PARLEY_PII_IP, NULL},
        {"mask 255.255.255.0", PARLEY_PII_IP, NULL},
    };
    (void)state;
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_phones(void **state)
{
    static const struct tcase cases[] = {
        /* NANP */
        {"call (555) 234-5678 today", PARLEY_PII_PHONE, "(555) 234-5678"},
        {"my number 555-234-5678.", PARLEY_PII_PHONE, "555-234-5678"},
        {"555.234.5678 is mine", PARLEY_PII_PHONE, "555.234.5678"},
        {"reach me at +1 555 234 5678", PARLEY_PII_PHONE, "+1 555 234 5678"},
        {"dial 1-555-234-5678 now", PARLEY_PII_PHONE, "1-555-234-5678"},
        {"office 555-234-5678 x123, thanks", PARLEY_PII_PHONE, "555-234-5678 x123"},
        {"desk 555-234-5678 ext. 42", PARLEY_PII_PHONE, "555-234-5678 ext. 42"},
        {"from abroad 001-555-234-5678", PARLEY_PII_PHONE, "001-555-234-5678"},
        /* E.164 */
        {"mon portable +33 6 12 34 56 78", PARLEY_PII_PHONE, "+33 6 12 34 56 78"},
        {"Ruf an: +49 30 1234567", PARLEY_PII_PHONE, "+49 30 1234567"},
        {"llámame al +34 612 345 678", PARLEY_PII_PHONE, "+34 612 345 678"},
        {"London +44 20 7946 0958.", PARLEY_PII_PHONE, "+44 20 7946 0958"},
        {"+33612345678", PARLEY_PII_PHONE, "+33612345678"},
        {"TÉLÉPHONE 612345678", PARLEY_PII_PHONE, "612345678"},
        {"appelle le 0033 6 12 34 56 78", PARLEY_PII_PHONE, "0033 6 12 34 56 78"},
        {"aus dem Ausland 0049 30 1234567", PARLEY_PII_PHONE, "0049 30 1234567"},
        {"móvil +33 (0)6 12 34 56 78", PARLEY_PII_PHONE, "+33 (0)6 12 34 56 78"},
        /* France */
        {"appelez le 06 12 34 56 78 svp", PARLEY_PII_PHONE, "06 12 34 56 78"},
        {"tél. 01.23.45.67.89", PARLEY_PII_PHONE, "01.23.45.67.89"},
        {"c'est 0612345678", PARLEY_PII_PHONE, "0612345678"},
        /* Spain */
        {"mi móvil es 612 345 678", PARLEY_PII_PHONE, "612 345 678"},
        {"fijo 912 34 56 78", PARLEY_PII_PHONE, "912 34 56 78"},
        /* Germany */
        {"Telefon 030 1234567", PARLEY_PII_PHONE, "030 1234567"},
        {"Handy 0151 12345678", PARLEY_PII_PHONE, "0151 12345678"},
        {"Tel.: 030/1234567", PARLEY_PII_PHONE, "030/1234567"},
        {"Nummer (030) 123 45 67 bitte", PARLEY_PII_PHONE, "(030) 123 45 67"},
        /* not phones: dates, amounts, counts, versions, long runs */
        {"on 12.03.2024 at noon", PARLEY_PII_PHONE, NULL},
        {"due 2024-03-12", PARLEY_PII_PHONE, NULL},
        {"le 12/03/2024", PARLEY_PII_PHONE, NULL},
        {"total 1.234.567 EUR", PARLEY_PII_PHONE, NULL},
        {"price 612 345 678 €", PARLEY_PII_PHONE, NULL},
        {"version 1.2.3.4.5.6", PARLEY_PII_PHONE, NULL},
        {"from 1990-2020 we grew", PARLEY_PII_PHONE, NULL},
        {"order 123456", PARLEY_PII_PHONE, NULL},
        {"ref 12345678901234567890", PARLEY_PII_PHONE, NULL},
        {"code 555-234-56789", PARLEY_PII_PHONE, NULL},
        {"Apt. 722 20 40 rue Victor Hugo", PARLEY_PII_PHONE, NULL},
        {"licence number 755600751", PARLEY_PII_PHONE, NULL},
        {"+0 555 234 5678", PARLEY_PII_PHONE, NULL},
        {"I was charged 12 345 678 COP", PARLEY_PII_PHONE, NULL},
        {"IBAN DE89 3704 0044 0532 0130 00", PARLEY_PII_PHONE, NULL},
        {"Ticket #2023-11-004512 is open", PARLEY_PII_PHONE, NULL},
        {"my account id is 1234-5678", PARLEY_PII_PHONE, NULL},
        {"Rechnung 2023-0045 über 49,99 EUR", PARLEY_PII_PHONE, NULL},
        {"Firmware 10.2.1.4502 installiert", PARLEY_PII_PHONE, NULL},
        {"ISBN 978-3-16-148410-0", PARLEY_PII_PHONE, NULL},
    };
    (void)state;
    run_cases(cases, ARRAY_LEN(cases));
}

/* The card wins over the shorter, less sure candidates inside it; each
 * finding is reported once. */
static void test_overlap(void **state)
{
    parley_pii *p = make(NULL);
    parley_pii_scratch *s = NULL;
    const char *t = "pay 4111111111111111 now, mail a@b.de";
    size_t n = 0;
    const parley_pii_finding *f;

    (void)state;
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    f = scan(p, s, t, &n);
    assert_int_equal(n, 2);
    assert_int_equal(f[0].type, PARLEY_PII_CARD);
    assert_int_equal(f[0].start, 4);
    assert_int_equal(f[0].end, 20);
    assert_int_equal(f[1].type, PARLEY_PII_EMAIL);
    assert_string_equal(f[0].detector, "card.luhn");
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
}

/* Only the phone type asked for: the digits of a card, an IBAN or an IMEI
 * are not read as phones either. */
static void test_phone_mask_no_parts(void **state)
{
    parley_pii_options o = {0};
    parley_pii *p;
    parley_pii_scratch *s = NULL;
    size_t n = 9;

    (void)state;
    o.types = PARLEY_PII_BIT(PARLEY_PII_PHONE);
    p = make(&o);
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    (void)scan(p, s,
               "card 4111 1111 1111 1111, iban FR14 2004 1010 0505 0001 3M02 606, imei "
               "49-015420-323751-8, amex 3782 822463 10005",
               &n);
    assert_int_equal(n, 0);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
}

/* A scratch is reused from scan to scan; findings of the last scan only. */
static void test_scratch_reuse(void **state)
{
    parley_pii *p = make(NULL);
    parley_pii_scratch *s = NULL;
    const parley_pii_finding *f;
    size_t n = 0;

    (void)state;
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    (void)scan(p, s, "a@b.fr c@d.fr e@f.fr", &n);
    assert_int_equal(n, 3);
    f = scan(p, s, "nothing here", &n);
    assert_int_equal(n, 0);
    f = scan(p, s, "ip 10.1.2.3", &n);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].type, PARLEY_PII_IP);
    assert_int_equal(f[0].start, 3);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
}

static void test_threshold_and_mask(void **state)
{
    parley_pii_options o = {0};
    parley_pii *p;
    parley_pii_scratch *s = NULL;
    const char *t = "card 4111111111111111, ref 536221234, mail x@example.org";
    size_t n = 0;
    const parley_pii_finding *f;

    (void)state;
    /* the bare nine digits are a weak SSN: found only with a low threshold */
    o.min_confidence = 0.2F;
    p = make(&o);
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    f = scan(p, s, t, &n);
    assert_int_equal(n, 3);
    assert_int_equal(f[1].type, PARLEY_PII_SSN);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);

    o.min_confidence = 0.0F;
    p = make(&o);
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    (void)scan(p, s, t, &n);
    assert_int_equal(n, 2);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);

    /* the mask keeps only the e-mail */
    o.types = PARLEY_PII_BIT(PARLEY_PII_EMAIL);
    p = make(&o);
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    f = scan(p, s, t, &n);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].type, PARLEY_PII_EMAIL);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);

    /* a very high threshold keeps nothing */
    o.types = 0;
    o.min_confidence = 0.99F;
    p = make(&o);
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    (void)scan(p, s, t, &n);
    assert_int_equal(n, 0);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
}

static void test_identifiers(void **state)
{
    static const parley_pii_identifier ids[] = {
        {"customer_id", "C[0-9]{4}"},
        {"bill_id", "BILL-[0-9]{6}"},
    };
    static const parley_pii_identifier bad[] = {
        {"customer_id", "C[0-9]{4}"},
        {"line_id", "L([0-9]+"},
    };
    parley_pii_options o = {0};
    parley_pii *p = NULL;
    parley_pii_scratch *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const char *t = "customer C1234 and XC1234 and C12345, bill BILL-000123.";
    size_t n = 0;
    const parley_pii_finding *f;

    (void)state;
    o.identifiers = ids;
    o.n_identifiers = ARRAY_LEN(ids);
    p = make(&o);
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    f = scan(p, s, t, &n);
    assert_int_equal(n, 2);
    assert_int_equal(f[0].type, PARLEY_PII_ID);
    assert_int_equal(f[0].start, 9);
    assert_int_equal(f[0].end, 14);
    assert_int_equal(f[1].type, PARLEY_PII_ID);
    assert_memory_equal(t + f[1].start, "BILL-000123", f[1].end - f[1].start);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);

    o.identifiers = bad;
    o.n_identifiers = ARRAY_LEN(bad);
    p = NULL;
    assert_int_equal(parley_pii_create(&o, &p, &e), PARLEY_ERR_INVALID);
    assert_null(p);
    assert_non_null(strstr(e.msg, "'line_id'"));
    assert_non_null(strstr(e.msg, "L([0-9]+"));

    /* a pattern matching the empty string is rejected too */
    {
        const parley_pii_identifier empty[] = {{"anything", "x*"}};
        o.identifiers = empty;
        o.n_identifiers = 1;
        assert_int_equal(parley_pii_create(&o, &p, &e), PARLEY_ERR_INVALID);
        assert_non_null(strstr(e.msg, "'anything'"));
    }
}

static void test_errors(void **state)
{
    parley_pii *p = make(NULL);
    parley_pii_scratch *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const parley_pii_finding *f = NULL;
    size_t n = 5;
    const char bad[] = "card 4111111111111111 \xC3\x28 end";

    (void)state;
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    assert_int_equal(parley_pii_detect(p, s, bad, sizeof(bad) - 1, NULL, 0, &f, &n, &e),
                     PARLEY_ERR_UTF8);
    assert_int_equal(n, 0);
    assert_non_null(strstr(e.msg, "byte 22"));
    n = 5;
    assert_int_equal(
        parley_pii_detect(p, s, bad, (size_t)PARLEY_PII_MAX_TEXT + 1, NULL, 0, &f, &n, &e),
        PARLEY_ERR_LIMIT);
    assert_int_equal(n, 0);
    /* empty text: nothing, no error */
    assert_int_equal(parley_pii_detect(p, s, "", 0, NULL, 0, &f, &n, &e), PARLEY_OK);
    assert_int_equal(n, 0);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
    parley_pii_destroy(NULL);
    parley_pii_scratch_destroy(NULL);
}

/* Many values in one long text: every one found, in order. */
static void test_many(void **state)
{
    static const char *const unit[] = {"card 4111 1111 1111 1111, ", "mail a.b@example.com; ",
                                       "ip 10.0.0.1 ", "iban DE89370400440532013000 ",
                                       "ssn 123-45-6789. "};
    char *text = malloc(200 * 1024);
    size_t len = 0, n = 0, per[PARLEY_PII_N_TYPES] = {0};
    parley_pii *p = make(NULL);
    parley_pii_scratch *s = NULL;
    const parley_pii_finding *f;

    (void)state;
    assert_non_null(text);
    for (size_t i = 0; i < 1000; i++) {
        const char *u = unit[i % ARRAY_LEN(unit)];
        memcpy(text + len, u, strlen(u));
        len += strlen(u);
    }
    text[len] = '\0';
    assert_int_equal(parley_pii_scratch_create(p, &s, NULL), PARLEY_OK);
    f = scan(p, s, text, &n);
    assert_int_equal(n, 1000);
    for (size_t i = 0; i < n; i++)
        per[f[i].type]++;
    assert_int_equal(per[PARLEY_PII_CARD], 200);
    assert_int_equal(per[PARLEY_PII_EMAIL], 200);
    assert_int_equal(per[PARLEY_PII_IP], 200);
    assert_int_equal(per[PARLEY_PII_IBAN], 200);
    assert_int_equal(per[PARLEY_PII_SSN], 200);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
    free(text);
}

/* Out of memory at every allocation in turn: a clean PARLEY_ERR_NOMEM and
 * nothing leaked, until the round goes through. */
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

static void *t_calloc(size_t c, size_t n)
{
    void *p;
    if (alloc_count++ == alloc_fail_at)
        return NULL;
    p = calloc(c, n);
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

static void t_free(void *p)
{
    alloc_live -= p != NULL;
    free(p);
}

static parley_err oom_round(void)
{
    static const parley_pii_identifier ids[] = {{"customer_id", "C[0-9]{4}"}};
    parley_pii_options o = {0, 0.0F, ids, 1};
    parley_pii *p = NULL;
    parley_pii_scratch *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const parley_pii_finding *f;
    size_t n = 0;
    char text[4096];
    size_t len = 0;
    parley_err rc;

    while (len + 64 < sizeof(text))
        len += (size_t)snprintf(text + len, sizeof(text) - len, "C1234 4111111111111111 a@b.fr ");
    if ((rc = parley_pii_create(&o, &p, &e)) == PARLEY_OK &&
        (rc = parley_pii_scratch_create(p, &s, &e)) == PARLEY_OK &&
        (rc = parley_pii_detect(p, s, text, len, NULL, 0, &f, &n, &e)) == PARLEY_OK)
        assert_true(n > 100);
    parley_pii_scratch_destroy(s);
    parley_pii_destroy(p);
    return rc;
}

static void test_oom_sweep(void **state)
{
    long n;

    (void)state;
    for (n = 0; n < 1000; n++) {
        parley_err rc;
        alloc_count = 0;
        alloc_fail_at = n;
        alloc_live = 0;
        parley_set_allocator(t_malloc, t_realloc, t_calloc, t_free);
        rc = oom_round();
        parley_set_allocator(NULL, NULL, NULL, NULL);
        assert_int_equal(alloc_live, 0);
        if (rc == PARLEY_OK)
            break;
        assert_int_equal(rc, PARLEY_ERR_NOMEM);
    }
    assert_true(n >= 4); /* the set, its pattern list, the scratch, the findings */
    assert_true(n < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cards),
        cmocka_unit_test(test_imei),
        cmocka_unit_test(test_iban),
        cmocka_unit_test(test_ssn),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_ip),
        cmocka_unit_test(test_phones),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_phone_mask_no_parts),
        cmocka_unit_test(test_scratch_reuse),
        cmocka_unit_test(test_threshold_and_mask),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
