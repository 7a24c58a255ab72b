/* Unit tests for the store's throttles (parley_store_throttle_*): counting
 * within a sliding window, expiry as the clock moves, clearing, bad
 * arguments, independent keys, persistence across reopen, pruning of
 * expired rows, and atomic hits from two handles in two threads on one
 * database file. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "parley/store.h"

/* ---- Temporary database files ---------------------------------------- */

#include "temp_dir.h"

static int setup_dir(void **state)
{
    (void)state;
    return temp_dir_make("throttle");
}

static int teardown_dir(void **state)
{
    (void)state;
    return temp_dir_remove();
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return v;
}

static parley_store *open_ok(const char *url)
{
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_store_open(url, &s, &e) != PARLEY_OK)
        fail_msg("open '%s': %s", url, e.msg);
    return s;
}

static parley_store *open_named(const char *name, char *path, size_t n)
{
    db_path(path, n, name);
    return open_ok(path);
}

static size_t hit(parley_store *s, const char *key, int64_t now, int64_t window)
{
    size_t n = 0;
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_store_throttle_hit(s, key, now, window, &n, &e) != PARLEY_OK)
        fail_msg("hit '%s': %s", key, e.msg);
    return n;
}

static size_t count(parley_store *s, const char *key, int64_t now, int64_t window)
{
    size_t n = 0;
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_store_throttle_count(s, key, now, window, &n, &e) != PARLEY_OK)
        fail_msg("count '%s': %s", key, e.msg);
    return n;
}

#define T0     INT64_C(1800000000000) /* some Unix ms in 2027 */
#define MINUTE INT64_C(60000)

/* ---- Tests ------------------------------------------------------------ */

static void test_schema(void **state)
{
    (void)state;
    char path[256];
    parley_store *s = open_named("count.db", path, sizeof(path));
    assert_true(parley_store_schema_version(s) >= 6); /* migration 6 adds the throttles */
    parley_store_close(s);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE "
                                   "(type = 'table' AND name = 'throttle') OR "
                                   "(type = 'index' AND name = 'throttle_key_at')"),
                     2);
}

static void test_count_in_window(void **state)
{
    (void)state;
    char path[256];
    parley_store *s = open_named("count.db", path, sizeof(path));

    assert_int_equal(count(s, "otp:p1", T0, MINUTE), 0);
    for (size_t i = 1; i <= 5; i++)
        assert_int_equal(hit(s, "otp:p1", T0 + (int64_t)i * 1000, MINUTE), i);
    assert_int_equal(count(s, "otp:p1", T0 + 5000, MINUTE), 5);
    /* count records nothing */
    assert_int_equal(count(s, "otp:p1", T0 + 5000, MINUTE), 5);
    /* two events in the same millisecond both count */
    assert_int_equal(hit(s, "otp:p1", T0 + 5000, MINUTE), 6);
    /* a smaller window sees fewer: (T0+5000-2500, T0+5000] holds 3, 4, 5, 5 */
    assert_int_equal(count(s, "otp:p1", T0 + 5000, 2500), 4);
    /* events after `now` are not in the window */
    assert_int_equal(count(s, "otp:p1", T0 + 2000, MINUTE), 2);
    /* NULL count: record only */
    assert_int_equal(parley_store_throttle_hit(s, "otp:p1", T0 + 6000, MINUTE, NULL, NULL),
                     PARLEY_OK);
    assert_int_equal(count(s, "otp:p1", T0 + 6000, MINUTE), 7);
    assert_string_equal(parley_store_errmsg(s), "");

    /* now 0: the store's clock; an event now is in a window ending now */
    assert_int_equal(hit(s, "clock", 0, MINUTE), 1);
    assert_int_equal(hit(s, "clock", 0, MINUTE), 2);
    assert_int_equal(count(s, "clock", 0, MINUTE), 2);
    parley_store_close(s);
}

static void test_expiry(void **state)
{
    (void)state;
    char path[256];
    parley_store *s = open_named("expire.db", path, sizeof(path));

    assert_int_equal(hit(s, "k", T0, MINUTE), 1);
    assert_int_equal(hit(s, "k", T0 + 30000, MINUTE), 2);
    assert_int_equal(count(s, "k", T0 + MINUTE - 1, MINUTE), 2);
    /* exactly one window later the first event is out: (T0, T0 + MINUTE] */
    assert_int_equal(count(s, "k", T0 + MINUTE, MINUTE), 1);
    assert_int_equal(count(s, "k", T0 + 30000 + MINUTE - 1, MINUTE), 1);
    assert_int_equal(count(s, "k", T0 + 30000 + MINUTE, MINUTE), 0);
    /* a hit after the window counts alone */
    assert_int_equal(hit(s, "k", T0 + 10 * MINUTE, MINUTE), 1);
    assert_int_equal(hit(s, "k", T0 + 10 * MINUTE + 1, MINUTE), 2);
    parley_store_close(s);
}

static void test_clear(void **state)
{
    (void)state;
    char path[256];
    parley_store *s = open_named("clear.db", path, sizeof(path));
    parley_error e = PARLEY_ERROR_INIT;

    for (int i = 0; i < 3; i++)
        (void)hit(s, "fail:p1", T0 + i, MINUTE);
    (void)hit(s, "fail:p2", T0, MINUTE);
    assert_int_equal(parley_store_throttle_clear(s, "fail:p1", &e), PARLEY_OK);
    assert_int_equal(count(s, "fail:p1", T0 + 10, MINUTE), 0);
    assert_int_equal(count(s, "fail:p2", T0 + 10, MINUTE), 1);
    /* clearing again, or a key never seen, succeeds */
    assert_int_equal(parley_store_throttle_clear(s, "fail:p1", &e), PARLEY_OK);
    assert_int_equal(parley_store_throttle_clear(s, "never", NULL), PARLEY_OK);
    assert_int_equal(hit(s, "fail:p1", T0 + 20, MINUTE), 1);
    parley_store_close(s);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM throttle"), 2);
}

static void expect_invalid(parley_err rc, const parley_error *e, const char *msg)
{
    assert_int_equal(rc, PARLEY_ERR_INVALID);
    if (!strstr(e->msg, msg))
        fail_msg("message '%s' lacks '%s'", e->msg, msg);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char path[256];
    parley_store *s = open_named("bad.db", path, sizeof(path));
    parley_error e = PARLEY_ERROR_INIT;
    char long_key[PARLEY_STORE_MAX_ID + 2];
    size_t n = 42;

    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';

    expect_invalid(parley_store_throttle_hit(NULL, "k", T0, MINUTE, &n, &e), &e, "no store");
    expect_invalid(parley_store_throttle_count(NULL, "k", T0, MINUTE, &n, &e), &e, "no store");
    expect_invalid(parley_store_throttle_clear(NULL, "k", &e), &e, "no store");
    expect_invalid(parley_store_throttle_count(s, "k", T0, MINUTE, NULL, &e), &e, "no count");

    expect_invalid(parley_store_throttle_hit(s, NULL, T0, MINUTE, &n, &e), &e,
                   "throttle key is empty");
    expect_invalid(parley_store_throttle_hit(s, "", T0, MINUTE, &n, &e), &e,
                   "throttle key is empty");
    expect_invalid(parley_store_throttle_count(s, long_key, T0, MINUTE, &n, &e), &e,
                   "longer than 64 bytes");
    expect_invalid(parley_store_throttle_clear(s, "tab\there", &e), &e,
                   "not printable ASCII (0x09 at offset 3)");
    expect_invalid(parley_store_throttle_hit(s, "caf\xc3\xa9", T0, MINUTE, &n, &e), &e,
                   "not printable ASCII");
    expect_invalid(parley_store_throttle_hit(s, "k", T0, -1, &n, &e), &e,
                   "window must be positive (got -1 ms)");
    expect_invalid(parley_store_throttle_count(s, "k", T0, 0, &n, &e), &e,
                   "window must be positive");
    expect_invalid(parley_store_throttle_hit(s, "k", -5, MINUTE, &n, &e), &e, "time is negative");
    assert_non_null(strstr(e.msg, "cannot record throttle event"));
    assert_non_null(strstr(parley_store_errmsg(s), "time is negative"));
    /* NULL err is fine */
    assert_int_equal(parley_store_throttle_hit(s, "", T0, MINUTE, &n, NULL), PARLEY_ERR_INVALID);
    /* nothing was recorded and *count was left alone */
    assert_int_equal(n, 42);
    long_key[PARLEY_STORE_MAX_ID] = '\0'; /* exactly the maximum is fine */
    assert_int_equal(hit(s, long_key, T0, MINUTE), 1);
    assert_int_equal(hit(s, "with space ~!", T0, MINUTE), 1);
    assert_string_equal(parley_store_errmsg(s), "");
    parley_store_close(s);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM throttle"), 2);
}

static void test_keys_independent(void **state)
{
    (void)state;
    char path[256];
    parley_store *s = open_named("keys.db", path, sizeof(path));

    assert_int_equal(hit(s, "a", T0, MINUTE), 1);
    assert_int_equal(hit(s, "b", T0, MINUTE), 1);
    assert_int_equal(hit(s, "a", T0 + 1, MINUTE), 2);
    assert_int_equal(hit(s, "A", T0 + 1, MINUTE), 1); /* keys are case-sensitive */
    assert_int_equal(hit(s, "ab", T0 + 1, MINUTE), 1);
    assert_int_equal(count(s, "a", T0 + 1, MINUTE), 2);
    assert_int_equal(count(s, "b", T0 + 1, MINUTE), 1);
    assert_int_equal(count(s, "c", T0 + 1, MINUTE), 0);
    /* a hit on one key prunes only that key */
    assert_int_equal(hit(s, "b", T0 + 10 * MINUTE, MINUTE), 1);
    assert_int_equal(count(s, "a", T0 + 1, MINUTE), 2);
    parley_store_close(s);
}

static void test_persistence(void **state)
{
    (void)state;
    char path[256];
    parley_store *s = open_named("reopen.db", path, sizeof(path));
    for (int i = 0; i < 4; i++)
        (void)hit(s, "otp:p9", T0 + i * 1000, MINUTE);
    parley_store_close(s);

    s = open_ok(path);
    assert_int_equal(count(s, "otp:p9", T0 + 3000, MINUTE), 4);
    assert_int_equal(hit(s, "otp:p9", T0 + 4000, MINUTE), 5);
    parley_store_close(s);

    /* a second handle sees the first's events at once */
    parley_store *a = open_ok(path);
    parley_store *b = open_ok(path);
    assert_int_equal(hit(a, "otp:p9", T0 + 5000, MINUTE), 6);
    assert_int_equal(count(b, "otp:p9", T0 + 5000, MINUTE), 6);
    assert_int_equal(parley_store_throttle_clear(b, "otp:p9", NULL), PARLEY_OK);
    assert_int_equal(count(a, "otp:p9", T0 + 5000, MINUTE), 0);
    parley_store_close(a);
    parley_store_close(b);
}

static void test_prune(void **state)
{
    (void)state;
    char path[256];
    parley_store *s = open_named("prune.db", path, sizeof(path));

    for (int i = 0; i < 20; i++)
        (void)hit(s, "old", T0 + i, MINUTE);
    (void)hit(s, "other", T0, MINUTE);
    /* a hit two windows later deletes the key's expired rows, not others' */
    assert_int_equal(hit(s, "old", T0 + 2 * MINUTE, MINUTE), 1);
    /* count deletes nothing */
    assert_int_equal(count(s, "other", T0 + 5 * MINUTE, MINUTE), 0);
    parley_store_close(s);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM throttle WHERE key = 'old'"), 1);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM throttle WHERE key = 'other'"), 1);
}

/* ---- Concurrency: two handles, two threads, one file ------------------ */

#define RACE_MAX 500

struct racer {
    parley_store *store;
    const char *key;
    int hits;
    size_t seen[RACE_MAX];
    parley_err rc;
    char msg[sizeof(((parley_error *)0)->msg)];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < r->hits; i++) {
        parley_error e = PARLEY_ERROR_INIT;
        r->rc = parley_store_throttle_hit(r->store, r->key, T0, MINUTE, &r->seen[i], &e);
        if (r->rc != PARLEY_OK) {
            (void)snprintf(r->msg, sizeof(r->msg), "%s", e.msg);
            break;
        }
    }
    return NULL;
}

/* Two handles on `path` hit `key` `hits` times each from two threads at
 * once: every hit must see a different count, 1 to 2 * hits. */
static void race_round(const char *path, const char *key, int hits)
{
    static struct racer r[2];
    static unsigned char taken[2 * RACE_MAX + 1];
    pthread_t th[2];

    assert_true(hits <= RACE_MAX);
    memset(r, 0, sizeof(r));
    memset(taken, 0, sizeof(taken));
    for (int i = 0; i < 2; i++) {
        r[i].store = open_ok(path);
        r[i].key = key;
        r[i].hits = hits;
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);

    for (int i = 0; i < 2; i++) {
        if (r[i].rc != PARLEY_OK)
            fail_msg("racer %d: %s", i, r[i].msg);
        size_t prev = 0;
        for (int j = 0; j < hits; j++) {
            size_t n = r[i].seen[j];
            assert_true(n >= 1 && n <= 2 * (size_t)hits);
            assert_true(n > prev); /* one handle's counts only grow */
            prev = n;
            if (taken[n])
                fail_msg("%s: count %zu seen by two hits", key, n);
            taken[n] = 1;
        }
    }
    for (size_t n = 1; n <= 2 * (size_t)hits; n++)
        assert_int_equal(taken[n], 1);
    assert_int_equal(count(r[0].store, key, T0, MINUTE), 2 * (size_t)hits);
    assert_int_equal(count(r[1].store, key, T0, MINUTE), 2 * (size_t)hits);
    for (int i = 0; i < 2; i++)
        parley_store_close(r[i].store);
}

static void test_concurrent_hits(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof(path), "race.db");
    parley_store_close(open_ok(path)); /* migrate before the race */
    race_round(path, "race", 50);
    /* A longer race makes a lost update likely to show if hits were not
     * atomic (without the transaction this fails within a few hundred). */
    race_round(path, "race-long", RACE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),          cmocka_unit_test(test_count_in_window),
        cmocka_unit_test(test_expiry),          cmocka_unit_test(test_clear),
        cmocka_unit_test(test_bad_arguments),   cmocka_unit_test(test_keys_independent),
        cmocka_unit_test(test_persistence),     cmocka_unit_test(test_prune),
        cmocka_unit_test(test_concurrent_hits),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
