/* Unit tests for src/lib/common/tz.c: UTC offsets of IANA zones from the
 * system's tzdata, footer rules, zone-name refusals, the cache, and the TZif
 * parser on truncated, corrupted and hand-built files. */
#include <pthread.h>
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

#include "common/internal.h"
#include "parley/common.h"

/* Unix milliseconds of an RFC 3339 time. */
static int64_t ms_of(const char *s)
{
    int64_t ms = 0;
    if (parley_time_parse(s, &ms) != 0)
        fail_msg("bad time in test: %s", s);
    return ms;
}

static int offset_of(const char *zone, int64_t ms)
{
    int off = 123456789;
    assert_int_equal(parley_tz_offset(zone, ms, &off), 0);
    return off;
}

/* The offset just before and at a transition `at`. */
static void check_switch(const char *zone, const char *at, int before, int after)
{
    int64_t t = ms_of(at);
    assert_int_equal(offset_of(zone, t - 1), before);
    assert_int_equal(offset_of(zone, t - 1000), before);
    assert_int_equal(offset_of(zone, t), after);
    assert_int_equal(offset_of(zone, t + 1), after);
}

/* A zone file of the system's tzdata, read whole; the test fails without. */
static unsigned char *zone_file(const char *zone, size_t *len)
{
    const char *dir = getenv("TZDIR");
    char path[1024], *data = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    (void)snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    if (parley__read_file(path, 1 << 20, &data, len, &err) != PARLEY_OK)
        fail_msg("tzdata is needed (scripts/setup.sh): %s", err.msg);
    return (unsigned char *)data;
}

static void test_paris(void **state)
{
    (void)state;
    assert_int_equal(offset_of("Europe/Paris", ms_of("2026-01-15T12:00:00Z")), 3600);
    assert_int_equal(offset_of("Europe/Paris", ms_of("2026-07-15T12:00:00Z")), 7200);
    check_switch("Europe/Paris", "2026-03-29T01:00:00Z", 3600, 7200);
    check_switch("Europe/Paris", "2026-10-25T01:00:00Z", 7200, 3600);
    /* 01:59:59 then 03:00 in spring; 02:59:59 summer then 02:00 winter in autumn. */
    assert_int_equal(parley_tz_hour("Europe/Paris", ms_of("2026-03-29T00:59:59Z")), 1);
    assert_int_equal(parley_tz_hour("Europe/Paris", ms_of("2026-03-29T01:00:00Z")), 3);
    assert_int_equal(parley_tz_hour("Europe/Paris", ms_of("2026-10-25T00:59:59Z")), 2);
    assert_int_equal(parley_tz_hour("Europe/Paris", ms_of("2026-10-25T01:00:00Z")), 2);
    assert_int_equal(parley_tz_hour("Europe/Paris", ms_of("2026-07-15T22:30:00Z")), 0);
}

static void test_new_york(void **state)
{
    (void)state;
    assert_int_equal(offset_of("America/New_York", ms_of("2026-01-15T12:00:00Z")), -18000);
    assert_int_equal(offset_of("America/New_York", ms_of("2026-07-15T12:00:00Z")), -14400);
    check_switch("America/New_York", "2026-03-08T07:00:00Z", -18000, -14400);
    check_switch("America/New_York", "2026-11-01T06:00:00Z", -14400, -18000);
    assert_int_equal(parley_tz_hour("America/New_York", ms_of("2026-01-15T03:00:00Z")), 22);
    /* A link to the same zone. */
    assert_int_equal(offset_of("US/Eastern", ms_of("2026-07-15T12:00:00Z")), -14400);
}

static void test_half_hours(void **state)
{
    (void)state;
    assert_int_equal(offset_of("Asia/Kolkata", ms_of("2026-01-15T12:00:00Z")), 19800);
    assert_int_equal(offset_of("Asia/Kolkata", ms_of("2026-07-15T12:00:00Z")), 19800);
    assert_int_equal(parley_tz_hour("Asia/Kolkata", ms_of("2026-01-01T00:00:00Z")), 5);
    assert_int_equal(parley_tz_hour("Asia/Kolkata", ms_of("2026-01-01T18:29:59Z")), 23);
    assert_int_equal(parley_tz_hour("Asia/Kolkata", ms_of("2026-01-01T18:30:00Z")), 0);
    /* Lord Howe Island moves by half an hour: +11 in summer, +10:30 in winter. */
    assert_int_equal(offset_of("Australia/Lord_Howe", ms_of("2026-01-15T12:00:00Z")), 39600);
    assert_int_equal(offset_of("Australia/Lord_Howe", ms_of("2026-07-15T12:00:00Z")), 37800);
    check_switch("Australia/Lord_Howe", "2026-04-04T15:00:00Z", 39600, 37800);
    check_switch("Australia/Lord_Howe", "2026-10-03T15:30:00Z", 37800, 39600);
}

/* Past the last transition of the files (2037 at most), the footer rule. */
static void test_far_future(void **state)
{
    (void)state;
    assert_int_equal(offset_of("Europe/Paris", ms_of("2040-01-15T12:00:00Z")), 3600);
    assert_int_equal(offset_of("Europe/Paris", ms_of("2040-07-15T12:00:00Z")), 7200);
    check_switch("Europe/Paris", "2040-03-25T01:00:00Z", 3600, 7200);
    check_switch("Europe/Paris", "2040-10-28T01:00:00Z", 7200, 3600);
    check_switch("America/New_York", "2040-03-11T07:00:00Z", -18000, -14400);
    check_switch("America/New_York", "2040-11-04T06:00:00Z", -14400, -18000);
    check_switch("Australia/Lord_Howe", "2040-03-31T15:00:00Z", 39600, 37800);
    check_switch("Australia/Lord_Howe", "2040-10-06T15:30:00Z", 37800, 39600);
    /* Negative DST: Irish standard time is summer time, GMT the "DST". */
    check_switch("Europe/Dublin", "2026-03-29T01:00:00Z", 0, 3600);
    assert_int_equal(offset_of("Europe/Paris", ms_of("2400-07-01T00:00:00Z")), 7200);
    assert_int_equal(offset_of("Asia/Kolkata", ms_of("9999-12-31T23:59:59Z")), 19800);
}

static void test_utc_and_fixed(void **state)
{
    (void)state;
    assert_int_equal(offset_of("UTC", ms_of("2026-07-15T12:00:00Z")), 0);
    assert_int_equal(offset_of("", ms_of("2026-07-15T12:00:00Z")), 0);
    assert_int_equal(offset_of("Etc/UTC", ms_of("2026-07-15T12:00:00Z")), 0);
    assert_int_equal(parley_tz_hour("UTC", ms_of("2026-07-15T23:59:59Z")), 23);
    /* POSIX signs: Etc/GMT+5 is five hours west. */
    assert_int_equal(offset_of("Etc/GMT+5", ms_of("2026-07-15T12:00:00Z")), -18000);
    assert_int_equal(offset_of("Etc/GMT-14", ms_of("2026-07-15T12:00:00Z")), 50400);
    /* Before 1970 and at the ends of the range of milliseconds. */
    assert_int_equal(parley_tz_hour("UTC", -1), 23);
    assert_int_equal(parley_tz_hour("Asia/Kolkata", -1), 5);
    assert_int_equal(offset_of("Europe/Paris", ms_of("1960-01-01T00:00:00Z")), 3600);
    for (int i = 0; i < 2; i++) {
        int64_t t = i ? INT64_MAX : INT64_MIN;
        int off = 0;
        assert_int_equal(parley_tz_offset("Europe/Paris", t, &off), 0);
        assert_true(off >= -89999 && off <= 93599);
        int h = parley_tz_hour("America/New_York", t);
        assert_true(h >= 0 && h <= 23);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    char longname[80];
    memset(longname, 'A', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    const char *bad[] = {
        "Nowhere/City",   "../etc/passwd",  "/etc/passwd",
        "Europe",         "Europe/",        "Europe//Paris",
        "Europe/./Paris", "Europe/Paris ",  "Europe\\Paris",
        "zone.tab",       "tzdata.zi",      "leapseconds",
        "Europe/Par*s",   "Europe/Paris\n", longname,
        "Etc/../../root", "utc-but-not",    ".",
        "./UTC",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int off = 4242;
        if (parley_tz_offset(bad[i], 0, &off) != -1 || off != 4242)
            fail_msg("zone '%s' accepted", bad[i]);
        assert_int_equal(parley_tz_hour(bad[i], 0), -1);
    }
    int off = 4242;
    assert_int_equal(parley_tz_offset(NULL, 0, &off), -1);
    assert_int_equal(off, 4242);
    assert_int_equal(parley_tz_offset("Europe/Paris", 0, NULL), -1);
    assert_int_equal(parley_tz_hour(NULL, 0), -1);
}

/* ---- The parser on real files, damaged ---------------------------------- */

/* The parse of data[0..len) copied to a buffer of exactly len bytes, so
 * that ASan sees any read past the end. Checks offsets of a success. */
static parley_err parse_exact(const unsigned char *data, size_t len)
{
    unsigned char *copy = malloc(len ? len : 1);
    struct parley__tz *tz = NULL;
    assert_non_null(copy);
    memcpy(copy, data, len);
    parley_err rc = parley__tz_parse(copy, len, &tz);
    free(copy);
    if (rc != PARLEY_OK) {
        assert_null(tz);
        return rc;
    }
    static const int64_t at[] = {INT64_MIN / 4, -2208988800, 0,
                                 1774746000,    2215036800,  INT64_MAX / 4};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        int32_t off = parley__tz_offset_at(tz, at[i]);
        assert_true(off >= -89999 && off <= 93599);
    }
    parley__tz_free(tz);
    return rc;
}

static void test_parse_truncated(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Paris", "Asia/Kolkata", "UTC", "America/New_York"};
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        size_t len;
        unsigned char *data = zone_file(zones[z], &len);
        assert_int_equal(parse_exact(data, len), PARLEY_OK);
        /* Every strict prefix lacks at least the footer's final newline. */
        for (size_t n = 0; n < len; n++)
            if (parse_exact(data, n) == PARLEY_OK)
                fail_msg("%s cut at %zu of %zu bytes accepted", zones[z], n, len);
        parley_free(data);
    }
}

static void test_parse_flipped(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Paris", "Asia/Kolkata", "Australia/Lord_Howe"};
    static const unsigned char masks[] = {0x01, 0x10, 0x80, 0xff};
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        size_t len, accepted = 0, refused = 0;
        unsigned char *data = zone_file(zones[z], &len);
        for (size_t i = 0; i < len; i++) {
            for (size_t m = 0; m < sizeof(masks); m++) {
                data[i] ^= masks[m];
                if (parse_exact(data, len) == PARLEY_OK)
                    accepted++;
                else
                    refused++;
                data[i] ^= masks[m];
            }
        }
        /* Damage to the magic, the counts or the footer is always seen. */
        assert_true(refused > 0 && accepted > 0);
        for (size_t i = 0; i < 4; i++) {
            data[i] ^= 0x20;
            assert_int_equal(parse_exact(data, len), PARLEY_ERR_FORMAT);
            data[i] ^= 0x20;
        }
        data[len - 1] = 'x';
        assert_int_equal(parse_exact(data, len), PARLEY_ERR_FORMAT);
        parley_free(data);
    }
}

/* ---- Hand-built files ------------------------------------------------- */

struct tzif {
    unsigned char b[8192];
    size_t len;
};

static void put(struct tzif *f, const void *p, size_t n)
{
    assert_true(f->len + n <= sizeof(f->b));
    if (n == 0)
        return;
    memcpy(f->b + f->len, p, n);
    f->len += n;
}

static void put_be(struct tzif *f, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        put(f, &c, 1);
    }
}

static void put_header(struct tzif *f, char version, uint32_t leaps, uint32_t times, uint32_t types,
                       uint32_t chars)
{
    static const unsigned char zero[15] = {0};
    put(f, "TZif", 4);
    put(f, &version, 1);
    put(f, zero, sizeof(zero));
    put_be(f, 0, 4); /* isutcnt */
    put_be(f, 0, 4); /* isstdcnt */
    put_be(f, leaps, 4);
    put_be(f, times, 4);
    put_be(f, types, 4);
    put_be(f, chars, 4);
}

/* A TZif file as zic writes it: for version 0 the 32-bit data alone; for
 * others, an empty 32-bit block, the 64-bit data and `footer`. Type i has
 * offset offs[i]; leap records are (occurrence, correction) pairs. */
static void make_tzif(struct tzif *f, char version, const int64_t *at, const uint8_t *idx, size_t n,
                      const int32_t *offs, size_t ntypes, const int64_t *leaps, size_t nleaps,
                      const char *footer)
{
    int tsize = version ? 8 : 4;
    f->len = 0;
    if (version) {
        put_header(f, version, 0, 0, 1, 1);
        put_be(f, 0, 4);
        put_be(f, 0, 2);
        put_be(f, 0, 1);
    }
    put_header(f, version, (uint32_t)nleaps, (uint32_t)n, (uint32_t)ntypes, 4);
    for (size_t i = 0; i < n; i++)
        put_be(f, (uint64_t)at[i], tsize);
    put(f, idx, n);
    for (size_t i = 0; i < ntypes; i++) {
        put_be(f, (uint32_t)offs[i], 4);
        put_be(f, 0, 1);
        put_be(f, 0, 1);
    }
    put(f, "ABC", 4);
    for (size_t i = 0; i < nleaps; i++) {
        put_be(f, (uint64_t)leaps[2 * i], tsize);
        put_be(f, (uint32_t)leaps[2 * i + 1], 4);
    }
    if (version) {
        put(f, "\n", 1);
        put(f, footer, strlen(footer));
        put(f, "\n", 1);
    }
}

/* A zone that is only a footer rule. */
static struct parley__tz *rule_zone(const char *footer)
{
    struct tzif f;
    struct parley__tz *tz = NULL;
    int32_t off = 0;
    make_tzif(&f, '2', NULL, NULL, 0, &off, 1, NULL, 0, footer);
    parley_err rc = parley__tz_parse(f.b, f.len, &tz);
    if (rc != PARLEY_OK)
        fail_msg("footer '%s' refused: %s", footer, parley_strerror(rc));
    return tz;
}

static void check_rule_switch(const char *footer, const char *at, int before, int after)
{
    struct parley__tz *tz = rule_zone(footer);
    int64_t t = ms_of(at) / 1000;
    if (parley__tz_offset_at(tz, t - 1) != before || parley__tz_offset_at(tz, t) != after)
        fail_msg("'%s' at %s: %d then %d, not %d then %d", footer, at,
                 parley__tz_offset_at(tz, t - 1), parley__tz_offset_at(tz, t), before, after);
    parley__tz_free(tz);
}

static void test_footer_rules(void **state)
{
    (void)state;
    check_rule_switch("CET-1CEST,M3.5.0,M10.5.0/3", "2030-03-31T01:00:00Z", 3600, 7200);
    check_rule_switch("CET-1CEST,M3.5.0,M10.5.0/3", "2030-10-27T01:00:00Z", 7200, 3600);
    /* A fifth week that does not exist is the last one (April 2029). */
    check_rule_switch("AAA-1BBB,M4.5.0/0,M10.1.0/0", "2029-04-28T23:00:00Z", 3600, 7200);
    /* Jn never counts February 29: J60 is March 1 every year. */
    check_rule_switch("EST5EDT,J60,J300", "2024-03-01T07:00:00Z", -18000, -14400);
    check_rule_switch("EST5EDT,J60,J300", "2025-03-01T07:00:00Z", -18000, -14400);
    /* n counts from 0 and does: day 59 is February 29 in a leap year. */
    check_rule_switch("EST5EDT,59,299", "2024-02-29T07:00:00Z", -18000, -14400);
    check_rule_switch("EST5EDT,59,299", "2025-03-01T07:00:00Z", -18000, -14400);
    /* No rule: the United States' one, as glibc and tzcode. */
    check_rule_switch("EST5EDT", "2031-03-09T07:00:00Z", -18000, -14400);
    check_rule_switch("EST5EDT", "2031-11-02T06:00:00Z", -14400, -18000);
    /* Explicit DST offsets, half-hour ones, southern hemisphere. */
    check_rule_switch("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "2031-04-05T15:00:00Z", 39600, 37800);
    check_rule_switch("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "2031-10-04T15:30:00Z", 37800, 39600);
    check_rule_switch("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", "2031-09-27T14:00:00Z", 45900,
                      49500);
    /* Negative DST (Dublin), negative rule time (Nuuk). */
    check_rule_switch("IST-1GMT0,M10.5.0,M3.5.0/1", "2031-03-30T01:00:00Z", 0, 3600);
    check_rule_switch("IST-1GMT0,M10.5.0,M3.5.0/1", "2031-10-26T01:00:00Z", 3600, 0);
    check_rule_switch("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2030-03-31T01:00:00Z", -7200, -3600);
    check_rule_switch("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2030-10-27T01:00:00Z", -3600, -7200);
    /* Times beyond 24 h (RFC 8536): Sunday-after rules written as Saturday+24 h. */
    check_rule_switch("<+02>-2<+03>,M3.5.6/26,M10.5.0/3", "2031-03-30T00:00:00Z", 7200, 10800);

    /* Daylight time all year, zic's way: "0/0,J365/25". */
    struct parley__tz *tz = rule_zone("EST5EDT,0/0,J365/25");
    static const char *always[] = {"2031-01-01T04:59:59Z", "2031-01-01T05:00:00Z",
                                   "2031-07-01T00:00:00Z", "2031-12-31T23:59:59Z",
                                   "2032-12-31T12:00:00Z"};
    for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
        assert_int_equal(parley__tz_offset_at(tz, ms_of(always[i]) / 1000), -14400);
    parley__tz_free(tz);

    /* Fixed offsets, with and without angle brackets. */
    tz = rule_zone("<+0530>-5:30");
    assert_int_equal(parley__tz_offset_at(tz, 0), 19800);
    parley__tz_free(tz);
    tz = rule_zone("<-03>3");
    assert_int_equal(parley__tz_offset_at(tz, 2000000000), -10800);
    parley__tz_free(tz);
    tz = rule_zone("XYZ-1:02:03");
    assert_int_equal(parley__tz_offset_at(tz, 0), 3723);
    parley__tz_free(tz);
}

static void test_footer_refusals(void **state)
{
    (void)state;
    const char *bad[] = {
        "CET",
        "CE-1",
        "-1",
        "<+05",
        "<+5>-5",
        "<+05>",
        "CET-25",
        "CET-1:60",
        "CET-1 ",
        "CET-1CEST,M3.5.0",
        "CET-1CEST,M3.5.0,",
        "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M0.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.0.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0",
        "CET-1CEST,M3.5,M10.5.0",
        "CET-1CEST,J0,J10",
        "CET-1CEST,J366,J10",
        "CET-1CEST,366,10",
        "CET-1CEST,M3.5.0/168,M10.5.0",
        "CET-1CEST,M3.5.0/,M10.5.0",
        "CET-1CEST,M3.5.0,M10.5.0x",
        "CET-1CEST-25,M3.5.0,M10.5.0",
        "CET-1CEST;M3.5.0,M10.5.0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tzif f;
        struct parley__tz *tz = NULL;
        int32_t off = 0;
        make_tzif(&f, '2', NULL, NULL, 0, &off, 1, NULL, 0, bad[i]);
        if (parley__tz_parse(f.b, f.len, &tz) != PARLEY_ERR_FORMAT)
            fail_msg("footer '%s' accepted", bad[i]);
        assert_null(tz);
    }
    /* A footer of more than 256 bytes, and one with a NUL in it. */
    char big[300];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct tzif f;
    struct parley__tz *tz = NULL;
    int32_t off = 0;
    make_tzif(&f, '2', NULL, NULL, 0, &off, 1, NULL, 0, big);
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_FORMAT);
    make_tzif(&f, '2', NULL, NULL, 0, &off, 1, NULL, 0, "UTC0");
    f.b[f.len - 3] = '\0';
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_FORMAT);
    /* An empty footer is allowed: the last type goes on for ever. */
    make_tzif(&f, '2', NULL, NULL, 0, &off, 1, NULL, 0, "");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_OK);
    assert_int_equal(parley__tz_offset_at(tz, 4000000000), 0);
    parley__tz_free(tz);
}

static void test_hand_built(void **state)
{
    (void)state;
    const int64_t at[] = {1000, 2000, 3000};
    const uint8_t idx[] = {1, 2, 1};
    const int32_t offs[] = {-100, 3600, 7200};
    struct tzif f;
    struct parley__tz *tz = NULL;

    /* Version 1: 32-bit times, no footer; type 0 before the first. */
    make_tzif(&f, 0, at, idx, 3, offs, 3, NULL, 0, NULL);
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_OK);
    assert_int_equal(parley__tz_offset_at(tz, 999), -100);
    assert_int_equal(parley__tz_offset_at(tz, 1000), 3600);
    assert_int_equal(parley__tz_offset_at(tz, 1999), 3600);
    assert_int_equal(parley__tz_offset_at(tz, 2000), 7200);
    assert_int_equal(parley__tz_offset_at(tz, 3000), 3600);
    assert_int_equal(parley__tz_offset_at(tz, INT64_MAX / 4), 3600);
    parley__tz_free(tz);

    /* Version 3 with a footer that takes over after the last transition. */
    make_tzif(&f, '3', at, idx, 3, offs, 3, NULL, 0, "<+05>-5");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_OK);
    assert_int_equal(parley__tz_offset_at(tz, 3000), 3600);
    assert_int_equal(parley__tz_offset_at(tz, 3001), 18000);
    parley__tz_free(tz);

    /* Leap seconds: transitions counted them; lookups do not. */
    const int64_t leaps[] = {500, 1, 1500, 2};
    make_tzif(&f, '2', at, idx, 3, offs, 3, leaps, 2, "");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_OK);
    assert_int_equal(parley__tz_offset_at(tz, 998), -100);
    assert_int_equal(parley__tz_offset_at(tz, 999), 3600);
    assert_int_equal(parley__tz_offset_at(tz, 1997), 3600);
    assert_int_equal(parley__tz_offset_at(tz, 1998), 7200);
    parley__tz_free(tz);
    tz = NULL;

    /* Refused: times out of order, an index past the types, an offset out
     * of range, versions that do not exist, a v2 file whose second header
     * says version 1. */
    const int64_t unsorted[] = {1000, 3000, 2000}, dup[] = {1000, 1000, 2000};
    const uint8_t bad_idx[] = {0, 3, 1};
    const int32_t bad_offs[] = {0, 100000, 0};
    make_tzif(&f, '2', unsorted, idx, 3, offs, 3, NULL, 0, "");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_FORMAT);
    make_tzif(&f, '2', dup, idx, 3, offs, 3, NULL, 0, "");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_FORMAT);
    make_tzif(&f, '2', at, bad_idx, 3, offs, 3, NULL, 0, "");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_FORMAT);
    make_tzif(&f, '2', at, idx, 3, bad_offs, 3, NULL, 0, "");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_FORMAT);
    make_tzif(&f, '1', at, idx, 3, offs, 3, NULL, 0, "");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_VERSION);
    make_tzif(&f, 'A', at, idx, 3, offs, 3, NULL, 0, "");
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_VERSION);
    make_tzif(&f, '2', at, idx, 3, offs, 3, NULL, 0, "");
    f.b[44 + 6 + 1 + 4] = 0; /* the second header's version */
    assert_int_equal(parley__tz_parse(f.b, f.len, &tz), PARLEY_ERR_FORMAT);
    assert_null(tz);

    /* Absurd counts are refused before anything is read or allocated. */
    make_tzif(&f, '2', at, idx, 3, offs, 3, NULL, 0, "");
    for (int field = 0; field < 6; field++) {
        struct tzif g = f;
        memset(g.b + 20 + 4 * field, 0xff, 4);
        parley_err rc = parley__tz_parse(g.b, g.len, &tz);
        assert_true(rc == PARLEY_ERR_LIMIT || rc == PARLEY_ERR_FORMAT);
    }
    assert_int_equal(parley__tz_parse(NULL, 0, &tz), PARLEY_ERR_INVALID);
    assert_null(tz);
}

/* ---- Out of memory ------------------------------------------------------ */

static long alloc_left = -1;

static int alloc_fails(void)
{
    return alloc_left >= 0 && alloc_left-- == 0;
}

static void *t_malloc(size_t n)
{
    return alloc_fails() ? NULL : malloc(n);
}

static void *t_calloc(size_t a, size_t b)
{
    return alloc_fails() ? NULL : calloc(a, b);
}

static void *t_realloc(void *p, size_t n)
{
    return alloc_fails() ? NULL : realloc(p, n);
}

static void test_parse_oom(void **state)
{
    (void)state;
    size_t len;
    unsigned char *data = zone_file("Europe/Paris", &len);
    parley_set_allocator(t_malloc, t_realloc, t_calloc, free);
    for (long n = 0;; n++) {
        struct parley__tz *tz = NULL;
        alloc_left = n;
        parley_err rc = parley__tz_parse(data, len, &tz);
        alloc_left = -1;
        if (rc == PARLEY_OK) {
            assert_int_equal(parley__tz_offset_at(tz, 1784116800), 7200);
            parley__tz_free(tz);
            break;
        }
        assert_int_equal(rc, PARLEY_ERR_NOMEM);
        assert_null(tz);
        assert_true(n < 10);
    }
    parley_set_allocator(NULL, NULL, NULL, NULL);
    parley_free(data);
}

/* ---- TZDIR, the cache, threads ----------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Runs last: it fills the cache. Names are unique to it, so lookups made
 * under its TZDIR cannot shadow the real zones of the other tests. */
static void test_tzdir_and_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/parley-tz-XXXXXX", path[256];
    size_t len;
    unsigned char *kolkata = zone_file("Asia/Kolkata", &len);
    int64_t now = ms_of("2026-07-15T12:00:00Z");

    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/PTest", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    (void)snprintf(path, sizeof(path), "%s/PTest/Kolkata", dir);
    write_file(path, kolkata, len);
    (void)snprintf(path, sizeof(path), "%s/PTest/Bad", dir);
    write_file(path, kolkata, len / 2);
    assert_int_equal(setenv("TZDIR", dir, 1), 0);

    assert_int_equal(offset_of("PTest/Kolkata", now), 19800);
    assert_int_equal(parley_tz_hour("PTest/Bad", now), -1);
    assert_int_equal(parley_tz_hour("PTest", now), -1);
    assert_int_equal(parley_tz_hour("PTest/Missing", now), -1);
    /* 64 characters make a name; 65 do not, whatever the file system says. */
    char name64[80], name65[80];
    (void)snprintf(name64, sizeof(name64), "PTest/%058d", 64);
    (void)snprintf(name65, sizeof(name65), "PTest/%059d", 65);
    assert_int_equal(strlen(name64), 64);
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name64);
    write_file(path, kolkata, len);
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name65);
    write_file(path, kolkata, len);
    assert_int_equal(offset_of(name64, now), 19800);
    assert_int_equal(parley_tz_hour(name65, now), -1);
    assert_int_equal(unlink(path), 0);
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name64);
    assert_int_equal(unlink(path), 0);
    /* Cached: the file is not read again. */
    (void)snprintf(path, sizeof(path), "%s/PTest/Kolkata", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(offset_of("PTest/Kolkata", now), 19800);

    /* More zones than the cache holds: all still answer, from their files. */
    for (int i = 0; i < 300; i++) {
        char name[32];
        (void)snprintf(name, sizeof(name), "PTest/Z%03d", i);
        (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
        write_file(path, kolkata, len);
        assert_int_equal(offset_of(name, now), 19800);
        assert_int_equal(offset_of(name, now), 19800);
    }
    /* Unknown names past the cache's share for them still get -1. */
    for (int i = 0; i < 100; i++) {
        char name[32];
        (void)snprintf(name, sizeof(name), "PTest/Nope%03d", i);
        assert_int_equal(parley_tz_hour(name, now), -1);
    }
    /* Uncached zones are read on each call: removing the file shows. */
    for (int i = 0; i < 300; i++) {
        char name[32];
        (void)snprintf(name, sizeof(name), "PTest/Z%03d", i);
        (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(unlink(path), 0);
        if (i == 299)
            assert_int_equal(parley_tz_hour(name, now), -1);
    }
    (void)snprintf(path, sizeof(path), "%s/PTest/Bad", dir);
    assert_int_equal(unlink(path), 0);
    (void)snprintf(path, sizeof(path), "%s/PTest", dir);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(unsetenv("TZDIR"), 0);
    /* The zones cached before still answer. */
    assert_int_equal(offset_of("Europe/Paris", now), 7200);
    parley_free(kolkata);
}

struct probe {
    const char *zone;
    const char *at;
    int off;
};
static const struct probe probes[] = {
    {"Europe/Paris", "2026-01-15T12:00:00Z", 3600},
    {"Europe/Paris", "2026-07-15T12:00:00Z", 7200},
    {"America/New_York", "2026-07-15T12:00:00Z", -14400},
    {"Asia/Kolkata", "2040-01-01T00:00:00Z", 19800},
    {"Australia/Lord_Howe", "2040-01-01T00:00:00Z", 39600},
    {"America/Sao_Paulo", "2026-07-15T12:00:00Z", -10800},
    {"Asia/Tokyo", "2026-07-15T12:00:00Z", 32400},
    {"Pacific/Chatham", "2026-07-15T12:00:00Z", 45900},
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

static void *lookup_thread(void *arg)
{
    size_t seed = (size_t)(uintptr_t)arg, bad = 0;
    for (size_t i = 0; i < 20000; i++) {
        const struct probe *p = &probes[(i * 7 + seed) % NPROBES];
        int off = 0;
        int64_t ms = 0;
        if (parley_time_parse(p->at, &ms) != 0 || parley_tz_offset(p->zone, ms, &off) != 0 ||
            off != p->off)
            bad++;
    }
    return (void *)(uintptr_t)bad;
}

/* Runs first, so that threads race to load the same zones. */
static void test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, lookup_thread, (void *)(uintptr_t)i), 0);
    for (size_t i = 0; i < 4; i++) {
        void *bad = NULL;
        assert_int_equal(pthread_join(th[i], &bad), 0);
        assert_int_equal((uintptr_t)bad, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),         cmocka_unit_test(test_paris),
        cmocka_unit_test(test_new_york),        cmocka_unit_test(test_half_hours),
        cmocka_unit_test(test_far_future),      cmocka_unit_test(test_utc_and_fixed),
        cmocka_unit_test(test_refusals),        cmocka_unit_test(test_parse_truncated),
        cmocka_unit_test(test_parse_flipped),   cmocka_unit_test(test_footer_rules),
        cmocka_unit_test(test_footer_refusals), cmocka_unit_test(test_hand_built),
        cmocka_unit_test(test_parse_oom),       cmocka_unit_test(test_tzdir_and_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
