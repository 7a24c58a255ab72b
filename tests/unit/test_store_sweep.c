/* Unit tests for the retention sweeper (parley_store_sweep): conversations
 * go once idle for longer than the policy, as the clock given to the sweep
 * moves (no sleeping), with their turns and data keys; 0 keeps forever;
 * throttle events older than a day go; more than one batch; a second
 * handle keeps working meanwhile; bad arguments. */
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
#include "store/internal.h"

#define DAY (24 * 3600 * 1000LL)

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-sweep-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    (void)sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return v;
}

/* A conversation with `nturns` turns. */
static void conversation(parley_store *s, int nturns, char id[PARLEY_STORE_ID_SIZE])
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_turn t = {.role = PARLEY_ROLE_CUSTOMER, .text = "hello"};
    assert_int_equal(parley_store_conversation_create(s, "web", "en", "{}", id, &e), PARLEY_OK);
    for (int i = 0; i < nturns; i++)
        assert_int_equal(parley_store_commit_turn(s, id, 1 + i, "{}", &t, NULL, &e), PARLEY_OK);
}

static size_t count(parley_store *s)
{
    parley_error e = PARLEY_ERROR_INIT;
    size_t n = 0;
    assert_int_equal(parley_store_conversation_count(s, &n, &e), PARLEY_OK);
    return n;
}

/* Transcripts go once idle for longer than the policy, by the clock the
 * sweep is given; 0 days keeps them forever. */
static void test_sweep_by_clock(void **state)
{
    (void)state;
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_sweep_result r;
    char a[PARLEY_STORE_ID_SIZE], b[PARLEY_STORE_ID_SIZE];
    parley_store_retention forever = {0}, ninety = {.transcript_days = 90};

    assert_int_equal(parley_store_open(":memory:", &s, &e), PARLEY_OK);
    int64_t t0 = parley__store_now_ms();
    conversation(s, 3, a);
    conversation(s, 2, b);

    assert_int_equal(parley_store_sweep(s, &forever, t0 + 3650 * DAY, &r, &e), PARLEY_OK);
    assert_int_equal(r.conversations, 0);
    assert_int_equal(count(s), 2);
    assert_int_equal(parley_store_sweep(s, &ninety, t0 + 89 * DAY, &r, &e), PARLEY_OK);
    assert_int_equal(r.conversations, 0);
    assert_int_equal(r.turns, 0);
    /* Just under 90 days idle: kept (the clock is read a little after t0). */
    assert_int_equal(parley_store_sweep(s, &ninety, t0 + 90 * DAY - 1000, &r, &e), PARLEY_OK);
    assert_int_equal(r.conversations, 0);
    assert_int_equal(parley_store_sweep(s, &ninety, t0 + 91 * DAY, &r, &e), PARLEY_OK);
    assert_int_equal(r.conversations, 2);
    assert_int_equal(r.turns, 5);
    assert_int_equal(r.data_keys, 0); /* no encryption, no keys */
    assert_int_equal(count(s), 0);
    parley_store_conversation c;
    assert_int_equal(parley_store_conversation_load(s, a, &c, &e), PARLEY_ERR_NOTFOUND);
    parley_store_close(s);
}

/* Idle time is the last update: a conversation still in use stays while
 * an old one goes. */
static void test_sweep_last_update(void **state)
{
    (void)state;
    char path[256], sql[256], old[PARLEY_STORE_ID_SIZE], fresh_id[PARLEY_STORE_ID_SIZE];
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_sweep_result r;
    parley_store_retention ninety = {.transcript_days = 90};
    (void)snprintf(path, sizeof(path), "%s/last.db", tmpdir);

    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_OK);
    conversation(s, 1, old);
    conversation(s, 1, fresh_id);
    parley_store_close(s);
    /* `old` was last touched 100 days ago (as a server would have left it). */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    (void)snprintf(sql, sizeof(sql),
                   "UPDATE conversations SET created = updated - 120 * 86400000, updated = "
                   "updated - 100 * 86400000 WHERE id = '%s'",
                   old);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);

    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_OK);
    assert_int_equal(parley_store_sweep(s, &ninety, 0, &r, &e), PARLEY_OK); /* the clock */
    assert_int_equal(r.conversations, 1);
    assert_int_equal(r.turns, 1);
    parley_store_conversation c;
    assert_int_equal(parley_store_conversation_load(s, old, &c, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_conversation_load(s, fresh_id, &c, &e), PARLEY_OK);
    parley_store_conversation_release(&c);
    parley_store_close(s);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM turns"), 1);
}

/* Throttle events older than a day go, younger ones stay and count. */
static void test_sweep_throttles(void **state)
{
    (void)state;
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_sweep_result r;
    parley_store_retention forever = {0};
    size_t n = 0;
    int64_t now = 1800000000000LL;

    assert_int_equal(parley_store_open(":memory:", &s, &e), PARLEY_OK);
    assert_int_equal(parley_store_throttle_hit(s, "k1", now - 3 * DAY, 7 * DAY, NULL, &e),
                     PARLEY_OK);
    assert_int_equal(parley_store_throttle_hit(s, "k2", now - DAY - 1, 7 * DAY, NULL, &e),
                     PARLEY_OK);
    assert_int_equal(parley_store_throttle_hit(s, "k1", now - 3600 * 1000, 7 * DAY, NULL, &e),
                     PARLEY_OK);
    assert_int_equal(parley_store_sweep(s, &forever, now, &r, &e), PARLEY_OK);
    assert_int_equal(r.throttle_events, 2);
    assert_int_equal(parley_store_throttle_count(s, "k1", now, DAY, &n, &e), PARLEY_OK);
    assert_int_equal(n, 1);
    assert_int_equal(parley_store_sweep(s, &forever, now + 2 * DAY, &r, &e), PARLEY_OK);
    assert_int_equal(r.throttle_events, 1);
    parley_store_close(s);
}

/* With encryption the data keys of swept conversations are destroyed;
 * more than one batch; another handle works meanwhile. */
static void test_sweep_encrypted_batches(void **state)
{
    (void)state;
    enum { N = 450 };
    char path[256], keys[256], id[PARLEY_STORE_ID_SIZE], keep[PARLEY_STORE_ID_SIZE];
    parley_store *s = NULL, *other = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_sweep_result r;
    parley_store_retention thirty = {.transcript_days = 30};
    parley_store_master_key mk;
    parley_store_options o = PARLEY_STORE_OPTIONS_INIT;

    memset(&mk, 0, sizeof(mk));
    assert_int_equal(setenv("PARLEY_TEST_SWEEP_MK",
                            "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100", 1),
                     0);
    assert_int_equal(parley_store_master_key_load("env:PARLEY_TEST_SWEEP_MK", &mk, &e), PARLEY_OK);
    o.master_keys = &mk;
    o.nmaster_keys = 1;
    (void)snprintf(path, sizeof(path), "%s/enc.db", tmpdir);
    (void)snprintf(keys, sizeof(keys), "%s/enc-keys.db", tmpdir);
    assert_int_equal(parley_store_open_ex(path, &o, &s, &e), PARLEY_OK);
    assert_int_equal(parley_store_open_ex(path, &o, &other, &e), PARLEY_OK);
    int64_t t0 = parley__store_now_ms();
    for (int i = 0; i < N; i++)
        conversation(s, i % 3 == 0 ? 1 : 0, id);
    assert_int_equal(raw_int(keys, "SELECT COUNT(*) FROM data_keys"), N);

    assert_int_equal(parley_store_sweep(s, &thirty, t0 + 29 * DAY, &r, &e), PARLEY_OK);
    assert_int_equal(r.conversations, 0);
    assert_int_equal(r.data_keys, 0);
    assert_int_equal(parley_store_sweep(s, &thirty, t0 + 31 * DAY, &r, &e), PARLEY_OK);
    assert_int_equal(r.conversations, N);
    assert_int_equal(r.turns, N / 3);
    assert_int_equal(r.data_keys, N);
    assert_int_equal(raw_int(keys, "SELECT COUNT(*) FROM data_keys"), 0);
    /* The other handle goes on as if nothing happened. */
    conversation(other, 2, keep);
    parley_store_conversation c;
    assert_int_equal(parley_store_conversation_load(other, keep, &c, &e), PARLEY_OK);
    parley_store_conversation_release(&c);
    assert_int_equal(count(s), 1);
    parley_store_close(other);
    parley_store_close(s);
    parley_store_master_key_clear(&mk);
}

static void test_sweep_bad_args(void **state)
{
    (void)state;
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_sweep_result r;
    parley_store_retention bad = {.transcript_days = -1}, ok = {.transcript_days = 1};

    assert_int_equal(parley_store_sweep(NULL, &ok, 0, &r, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_open(":memory:", &s, &e), PARLEY_OK);
    assert_int_equal(parley_store_sweep(s, NULL, 0, &r, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_sweep(s, &bad, 0, &r, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "transcript retention is negative"));
    assert_string_equal(parley_store_errmsg(s), e.msg);
    assert_int_equal(parley_store_sweep(s, &ok, -5, &r, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_sweep(s, &ok, 0, NULL, &e), PARLEY_OK);
    parley_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_by_clock),  cmocka_unit_test(test_sweep_last_update),
        cmocka_unit_test(test_sweep_throttles), cmocka_unit_test(test_sweep_encrypted_batches),
        cmocka_unit_test(test_sweep_bad_args),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
