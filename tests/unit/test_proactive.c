/* Unit tests for src/lib/proactive: the event intake's check. Good events
 * (one or an array, with or without `at`, null optional fields, telco-sim's
 * deliveries against the carrier bot) pass with their id, type, time and
 * compact JSON; each kind of mistake refuses the whole batch with a message
 * naming the event and the field; limits; RFC 3339 times; out of memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parley/proactive.h"

#include "failing_alloc.h"

static const parley_bot_event_field usage_fields[] = {
    {"line_id", PARLEY_FIELD_STRING, 0},
    {"customer_id", PARLEY_FIELD_STRING, 0},
    {"percent_used", PARLEY_FIELD_NUMBER, 0},
};
static const parley_bot_event_field outage_fields[] = {
    {"outage_id", PARLEY_FIELD_STRING, 0},
    {"cities", PARLEY_FIELD_LIST, 0},
    {"expected_end", PARLEY_FIELD_STRING, 1},
    {"planned", PARLEY_FIELD_BOOLEAN, 1},
};
static const parley_bot_event_type types[] = {
    {"usage_90", usage_fields, 3},
    {"outage_opened", outage_fields, 4},
    {"ping", NULL, 0},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))
#define NOW    1740477600000LL /* 2025-02-25T10:00:00Z */

static parley_err check(const char *json, parley_proactive_events **out, parley_error *e)
{
    return parley_proactive_validate(types, NTYPES, json, strlen(json), NOW, out, e);
}

/* Expects `json` refused with `code` and a message containing `text`. */
static void expect_refused(const char *json, parley_err code, const char *text)
{
    parley_proactive_events *b = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc = check(json, &b, &e);
    if (rc != code || !strstr(e.msg, text))
        fail_msg("%s: got %d '%s', wanted %d '%s'", json, rc, e.msg, code, text);
    assert_null(b);
}

static void test_good(void **state)
{
    parley_proactive_events *b = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const parley_proactive_event *ev;
    (void)state;

    /* One event, no `at`: the intake time. */
    assert_int_equal(check("{\"id\": \"ev-1\", \"type\": \"usage_90\", \"line_id\": \"L1002\", "
                           "\"customer_id\": \"C1001\", \"percent_used\": 91.5}",
                           &b, &e),
                     PARLEY_OK);
    assert_int_equal(parley_proactive_events_count(b), 1);
    ev = parley_proactive_events_at(b, 0);
    assert_string_equal(ev->id, "ev-1");
    assert_string_equal(ev->type, "usage_90");
    assert_int_equal(ev->at, NOW);
    assert_string_equal(ev->doc, "{\"id\":\"ev-1\",\"type\":\"usage_90\",\"line_id\":\"L1002\","
                                 "\"customer_id\":\"C1001\",\"percent_used\":91.5}");
    assert_null(parley_proactive_events_at(b, 1));
    parley_proactive_events_free(b);
    b = NULL;

    /* An array; whole numbers are numbers; null and absent optionals; a
     * type without fields; `at` with an offset and fractions. */
    assert_int_equal(
        check("[{\"id\": \"a\", \"type\": \"usage_90\", \"line_id\": \"L1\", \"customer_id\": "
              "\"C1\", \"percent_used\": 100, \"at\": \"2025-02-25T11:00:00.250+01:00\"},"
              " {\"id\": \"b\", \"type\": \"outage_opened\", \"outage_id\": \"O1\", \"cities\": "
              "[\"Anytown\"], \"expected_end\": null, \"at\": null},"
              " {\"id\": \"c\", \"type\": \"outage_opened\", \"outage_id\": \"O2\", \"cities\": "
              "[], \"planned\": false},"
              " {\"id\": \"d\", \"type\": \"ping\", \"at\": \"2025-02-25t10:00:01z\"}]",
              &b, &e),
        PARLEY_OK);
    assert_int_equal(parley_proactive_events_count(b), 4);
    assert_int_equal(parley_proactive_events_at(b, 0)->at, NOW + 250);
    assert_int_equal(parley_proactive_events_at(b, 1)->at, NOW);
    assert_string_equal(parley_proactive_events_at(b, 2)->type, "outage_opened");
    assert_int_equal(parley_proactive_events_at(b, 3)->at, NOW + 1000);
    parley_proactive_events_free(b);

    assert_int_equal(parley_proactive_events_count(NULL), 0);
    assert_null(parley_proactive_events_at(NULL, 0));
    parley_proactive_events_free(NULL);
}

static void test_refused(void **state)
{
    (void)state;
    expect_refused("[{\"id\": \"a\", \"type\": \"ping\"}, {\"id\": \"b\", \"type\": \"ping\"},"
                   " {\"id\": \"c\", \"type\": \"ping\"}, {\"id\": \"d\", \"type\": \"usage_95\"}]",
                   PARLEY_ERR_INVALID,
                   "event 3 (d): unknown type 'usage_95' (expected one of usage_90, "
                   "outage_opened, ping)");
    expect_refused("{\"id\": \"ev-12\", \"type\": \"usage_90\", \"line_id\": \"L1\", "
                   "\"customer_id\": \"C1\", \"percent_used\": \"91\"}",
                   PARLEY_ERR_INVALID,
                   "event 0 (ev-12): field 'percent_used' must be a number (got a string)");
    expect_refused("{\"id\": \"x\", \"type\": \"usage_90\", \"customer_id\": \"C1\", "
                   "\"percent_used\": 1}",
                   PARLEY_ERR_INVALID, "event 0 (x): missing field 'line_id'");
    expect_refused("{\"id\": \"x\", \"type\": \"usage_90\", \"lin_id\": \"L1\", \"line_id\": "
                   "\"L1\", \"customer_id\": \"C1\", \"percent_used\": 1}",
                   PARLEY_ERR_INVALID,
                   "unknown field 'lin_id' (type 'usage_90' has line_id, customer_id, "
                   "percent_used)");
    expect_refused("{\"type\": \"ping\"}", PARLEY_ERR_INVALID,
                   "event 0: missing 'id': 'id' must be a non-empty string of at most 128 "
                   "characters");
    expect_refused("{\"id\": \"\", \"type\": \"ping\"}", PARLEY_ERR_INVALID,
                   "event 0: 'id' must be a non-empty string");
    expect_refused("{\"id\": 12, \"type\": \"ping\"}", PARLEY_ERR_INVALID,
                   "'id' must be a non-empty string");
    expect_refused("{\"id\": \"a\\nb\", \"type\": \"ping\"}", PARLEY_ERR_INVALID,
                   "event 0: 'id' must not contain control characters");
    expect_refused("{\"id\": \"a\"}", PARLEY_ERR_INVALID,
                   "missing 'type': 'type' must be a string (expected one of");
    expect_refused("{\"id\": \"a\", \"type\": \"ping\", \"at\": \"2025-02-25 10:00:00\"}",
                   PARLEY_ERR_INVALID,
                   "event 0 (a): 'at' must be an RFC 3339 time such as 2025-02-25T10:00:00Z "
                   "(got '2025-02-25 10:00:00')");
    expect_refused("{\"id\": \"a\", \"type\": \"ping\", \"at\": 1740477600}", PARLEY_ERR_INVALID,
                   "'at' must be an RFC 3339 time such as 2025-02-25T10:00:00Z (got a number)");
    expect_refused("{\"id\": \"a\", \"type\": \"outage_opened\", \"outage_id\": \"O1\", "
                   "\"cities\": \"Anytown\"}",
                   PARLEY_ERR_INVALID, "field 'cities' must be a list of strings (got a string)");
    expect_refused("{\"id\": \"a\", \"type\": \"outage_opened\", \"outage_id\": \"O1\", "
                   "\"cities\": [\"A\", 2]}",
                   PARLEY_ERR_INVALID,
                   "field 'cities' must be a list of strings (item 1 is a "
                   "number)");
    expect_refused("{\"id\": \"a\", \"type\": \"outage_opened\", \"outage_id\": null, "
                   "\"cities\": []}",
                   PARLEY_ERR_INVALID, "field 'outage_id' must be a string (got null)");
    expect_refused("{\"id\": \"a\", \"type\": \"outage_opened\", \"outage_id\": \"O\", "
                   "\"cities\": [], \"planned\": \"yes\"}",
                   PARLEY_ERR_INVALID, "field 'planned' must be true or false (got a string)");
    expect_refused("[{\"id\": \"a\", \"type\": \"ping\"}, 5]", PARLEY_ERR_INVALID,
                   "event 1: must be a JSON object, not a number");
    expect_refused("[]", PARLEY_ERR_INVALID, "no events");
    expect_refused("\"ping\"", PARLEY_ERR_INVALID,
                   "expected an event (a JSON object) or an array of events, not a string");
    expect_refused("{\"id\": \"a\", \"type\": ", PARLEY_ERR_FORMAT, "not valid JSON: ");
    expect_refused("{\"id\": \"a\", \"id\": \"b\", \"type\": \"ping\"}", PARLEY_ERR_FORMAT,
                   "duplicate object key");
    expect_refused("{\"id\": \"a\", \"type\": \"ping\", \"x\": 1}", PARLEY_ERR_INVALID,
                   "unknown field 'x' (type 'ping' has no fields)");
}

static void test_limits(void **state)
{
    parley_proactive_events *b = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char id[300], *big;
    size_t n = 0, cap = 64 * (PARLEY_PROACTIVE_MAX_EVENTS + 2);
    (void)state;

    /* 128 characters (multi-byte ones count once) pass; 129 do not. */
    (void)snprintf(id, sizeof(id), "{\"id\": \"");
    for (int i = 0; i < 128; i++)
        strcat(id, "\xc3\xa9");
    strcat(id, "\", \"type\": \"ping\"}");
    assert_int_equal(check(id, &b, &e), PARLEY_OK);
    parley_proactive_events_free(b);
    b = NULL;
    memmove(id + 9, id + 8, strlen(id + 8) + 1);
    id[8] = 'x';
    expect_refused(id, PARLEY_ERR_INVALID, "at most 128 characters");

    /* 1000 events pass; 1001 are too many. */
    big = malloc(cap);
    assert_non_null(big);
    n += (size_t)snprintf(big + n, cap - n, "[");
    for (int i = 0; i < PARLEY_PROACTIVE_MAX_EVENTS; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s{\"id\":\"e%d\",\"type\":\"ping\"}",
                              i ? "," : "", i);
    (void)snprintf(big + n, cap - n, "]");
    assert_int_equal(check(big, &b, &e), PARLEY_OK);
    assert_int_equal(parley_proactive_events_count(b), PARLEY_PROACTIVE_MAX_EVENTS);
    parley_proactive_events_free(b);
    b = NULL;
    (void)snprintf(big + n, cap - n, ",{\"id\":\"last\",\"type\":\"ping\"}]");
    expect_refused(big, PARLEY_ERR_LIMIT, "too many events: a batch has at most 1000 (got 1001)");
    free(big);

    /* Over the byte limit: refused before parsing. */
    assert_int_equal(
        parley_proactive_validate(types, NTYPES, "{}", PARLEY_PROACTIVE_MAX_BATCH + 1, NOW, &b, &e),
        PARLEY_ERR_LIMIT);
    assert_non_null(strstr(e.msg, "at most 1048576 bytes"));
    assert_int_equal(parley_proactive_validate(NULL, 1, "{}", 2, NOW, &b, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_proactive_validate(types, NTYPES, "{}", 2, NOW, NULL, &e),
                     PARLEY_ERR_INVALID);
    /* No declared types: every event is refused, saying so. */
    assert_int_equal(
        parley_proactive_validate(NULL, 0, "{\"id\":\"a\",\"type\":\"ping\"}", 24, NOW, &b, &e),
        PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "the bot declares no events"));
    assert_null(b);
}

static void test_times(void **state)
{
    int64_t ms = 0;
    (void)state;
    assert_int_equal(parley_time_parse("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(parley_time_parse("2025-02-25T10:00:00Z", &ms), 0);
    assert_int_equal(ms, NOW);
    assert_int_equal(parley_time_parse("2025-02-25T05:30:00-04:30", &ms), 0);
    assert_int_equal(ms, NOW);
    assert_int_equal(parley_time_parse("2024-02-29T00:00:00.5Z", &ms), 0);
    assert_int_equal(ms, 1709164800500LL);
    assert_int_equal(parley_time_parse("2016-12-31T23:59:60Z", &ms), 0);
    assert_int_equal(ms, 1483228799999LL);
    assert_int_equal(parley_time_parse("1969-12-31T23:59:59Z", &ms), 0);
    assert_int_equal(ms, -1000);
    static const char *const bad[] = {"",
                                      "2025-02-25",
                                      "2025-02-25T10:00:00",
                                      "2025-02-25T10:00Z",
                                      "2025-02-29T10:00:00Z",
                                      "2025-13-01T10:00:00Z",
                                      "2025-02-25T24:00:00Z",
                                      "2025-02-25T10:60:00Z",
                                      "2025-02-25T10:00:00.Z",
                                      "2025-02-25T10:00:00+0100",
                                      "2025-02-25T10:00:00Zx",
                                      "25-02-25T10:00:00Z",
                                      "2025-02-25T10:00:00+24:00",
                                      NULL};
    for (size_t i = 0; bad[i]; i++)
        if (parley_time_parse(bad[i], &ms) == 0)
            fail_msg("'%s' parsed", bad[i]);
    assert_int_equal(parley_time_parse(NULL, &ms), -1);
}

/* telco-sim's deliveries, as it sends them, pass against the carrier bot;
 * the carrier's own declaration of expected_end takes null. */
static void test_carrier(void **state)
{
    char dir[1024];
    const char *src = getenv("PARLEY_SOURCE_DIR");
    parley_bot *bot = NULL;
    parley_proactive_events *b = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const parley_bot_event_type *t;
    size_t nt;
    static const char batch[] =
        "[{\"seq\":3,\"id\":\"ev-3\",\"line_id\":\"L1002\",\"customer_id\":\"C1001\","
        "\"percent_used\":92.5,\"type\":\"usage_90\",\"at\":\"2025-02-25T10:00:00Z\"},"
        "{\"seq\":4,\"id\":\"ev-4\",\"outage_id\":\"O1\",\"cities\":[\"Anytown\"],"
        "\"expected_end\":null,\"type\":\"outage_opened\",\"at\":\"2025-02-25T10:00:01Z\"},"
        "{\"seq\":5,\"id\":\"ev-5\",\"line_id\":\"L1002\",\"customer_id\":\"C1001\","
        "\"country\":\"FR\",\"roaming_enabled\":false,\"type\":\"roaming_detected\","
        "\"at\":\"2025-02-25T10:00:02Z\"}]";
    (void)state;
    if (!src)
        fail_msg("PARLEY_SOURCE_DIR is not set");
    (void)snprintf(dir, sizeof(dir), "%s/bots/carrier", src);
    if (parley_bot_load(dir, &bot, NULL, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    t = parley_bot_event_types(bot, &nt);
    assert_int_equal(parley_proactive_validate(t, nt, batch, sizeof(batch) - 1, NOW, &b, &e),
                     PARLEY_OK);
    assert_int_equal(parley_proactive_events_count(b), 3);
    assert_string_equal(parley_proactive_events_at(b, 2)->type, "roaming_detected");
    assert_int_equal(parley_proactive_events_at(b, 2)->at, NOW + 2000);
    parley_proactive_events_free(b);
    parley_bot_free(bot);
}

/* ---- out of memory ----------------------------------------------------- */

static void test_oom_sweep(void **state)
{
    static const char batch[] = "[{\"id\":\"a\",\"type\":\"ping\"},{\"id\":\"b\",\"type\":"
                                "\"outage_opened\",\"outage_id\":\"O\",\"cities\":[\"X\"]}]";
    long n;
    (void)state;
    for (n = 0; n < 100; n++) {
        parley_proactive_events *b = NULL;
        parley_error e = PARLEY_ERROR_INIT;
        failing_alloc_start(n);
        parley_err rc =
            parley_proactive_validate(types, NTYPES, batch, sizeof(batch) - 1, NOW, &b, &e);
        parley_proactive_events_free(b);
        assert_int_equal(failing_alloc_stop(), 0);
        if (rc == PARLEY_OK)
            break;
        assert_int_equal(rc, PARLEY_ERR_NOMEM);
        assert_null(b);
    }
    assert_true(n >= 4);
    assert_true(n < 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),    cmocka_unit_test(test_refused),
        cmocka_unit_test(test_limits),  cmocka_unit_test(test_times),
        cmocka_unit_test(test_carrier), cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
