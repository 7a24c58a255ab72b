/* Unit tests for the store's events ledger (parley_store_events_*):
 * recording a batch with new and redelivered ids, duplicates within one
 * batch, all-or-nothing on failure, listing oldest first after a cursor
 * and newest first with a limit, stopping early, bad arguments, schema
 * migration 8 on a database made before it, persistence across reopen,
 * and two handles recording the same events at once. */
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

#include "temp_dir.h"

static int setup_dir(void **state)
{
    (void)state;
    return temp_dir_make("events");
}

static int teardown_dir(void **state)
{
    (void)state;
    return temp_dir_remove();
}

static parley_store_event ev(const char *id, const char *type, int64_t at)
{
    parley_store_event e;
    memset(&e, 0, sizeof(e));
    e.id = id;
    e.type = type;
    e.at = at;
    e.doc = "{\"id\":\"x\"}";
    return e;
}

/* What a listing saw: ids in order, and the first row in full. */
struct seen {
    char ids[32][16];
    size_t n;
    size_t stop_after; /* 0: never */
    parley_store_event first;
    char first_doc[64], first_status[16];
};

static int on_event(const parley_store_event *e, void *userdata)
{
    struct seen *s = userdata;
    if (s->n == 0) {
        s->first = *e;
        (void)snprintf(s->first_doc, sizeof(s->first_doc), "%s", e->doc);
        (void)snprintf(s->first_status, sizeof(s->first_status), "%s", e->status);
        assert_null(e->outcome);
    }
    if (s->n < 32)
        (void)snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", e->id);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static struct seen list(parley_store *s, int64_t after, size_t limit, int newest)
{
    struct seen seen;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_event_query q = {after, limit, newest, NULL};
    memset(&seen, 0, sizeof(seen));
    if (parley_store_events_list(s, &q, on_event, &seen, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    return seen;
}

static void test_record_and_list(void **state)
{
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    size_t added = 99, dups = 99;
    struct seen seen;
    (void)state;
    assert_int_equal(parley_store_open(":memory:", &s, &e), PARLEY_OK);
    assert_int_equal(parley_store_schema_version(s), PARLEY_STORE_SCHEMA_VERSION);

    parley_store_event b1[] = {ev("ev-1", "usage_90", 1000), ev("ev-2", "outage_opened", 2000)};
    b1[0].doc = "{\"id\":\"ev-1\",\"type\":\"usage_90\"}";
    assert_int_equal(parley_store_events_record(s, b1, 2, 5000, &added, &dups, &e), PARLEY_OK);
    assert_int_equal(added, 2);
    assert_int_equal(dups, 0);

    /* A redelivery of ev-2 with a new one, and ev-3 twice in one batch. */
    parley_store_event b2[] = {ev("ev-2", "outage_opened", 2000), ev("ev-3", "usage_80", 3000),
                               ev("ev-3", "usage_80", 3000)};
    assert_int_equal(parley_store_events_record(s, b2, 3, 6000, &added, &dups, &e), PARLEY_OK);
    assert_int_equal(added, 1);
    assert_int_equal(dups, 2);
    assert_int_equal(parley_store_events_record(s, b2, 1, 0, NULL, NULL, &e), PARLEY_OK);

    seen = list(s, 0, 0, 0);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.ids[0], "ev-1");
    assert_string_equal(seen.ids[2], "ev-3");
    assert_int_equal(seen.first.seq, 1);
    assert_int_equal(seen.first.at, 1000);
    assert_int_equal(seen.first.received, 5000);
    assert_string_equal(seen.first_doc, "{\"id\":\"ev-1\",\"type\":\"usage_90\"}");
    assert_string_equal(seen.first_status, "received");

    /* After a cursor, oldest first; newest first with a limit. */
    seen = list(s, 1, 0, 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.ids[0], "ev-2");
    seen = list(s, 0, 2, 1);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.ids[0], "ev-3");
    assert_string_equal(seen.ids[1], "ev-2");
    /* seq only grows (a redelivery may leave a gap): after the newest,
     * nothing. */
    assert_true(seen.first.seq >= 3);
    seen = list(s, seen.first.seq, 0, 0);
    assert_int_equal(seen.n, 0);
    /* Stopping early succeeds. */
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 1;
    assert_int_equal(parley_store_events_list(s, NULL, on_event, &seen, &e), PARLEY_OK);
    assert_int_equal(seen.n, 1);
    parley_store_close(s);
}

/* A batch is all or nothing: a failure inside the transaction (here a
 * statement the database refuses) leaves nothing of it. */
static void test_all_or_nothing(void **state)
{
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    size_t added = 7;
    (void)state;
    assert_int_equal(parley_store_open(":memory:", &s, &e), PARLEY_OK);
    /* Argument checks happen before anything is written. */
    parley_store_event bad[] = {ev("a", "t", 1), ev("b", "", 1)};
    assert_int_equal(parley_store_events_record(s, bad, 2, 0, &added, NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "cannot record events: event 1: the type must be 1 to 64"));
    assert_int_equal(added, 7);
    assert_int_equal(list(s, 0, 0, 0).n, 0);

    parley_store_event nodoc[] = {ev("a", "t", 1)};
    nodoc[0].doc = NULL;
    assert_int_equal(parley_store_events_record(s, nodoc, 1, 0, NULL, NULL, &e),
                     PARLEY_ERR_INVALID);
    char longid[PARLEY_STORE_MAX_EVENT_ID + 2];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    parley_store_event lid[] = {ev(longid, "t", 1)};
    assert_int_equal(parley_store_events_record(s, lid, 1, 0, NULL, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_events_record(s, NULL, 1, 0, NULL, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_events_record(s, nodoc, 0, 0, NULL, NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(
        parley_store_events_record(s, lid, PARLEY_STORE_MAX_EVENT_BATCH + 1, 0, NULL, NULL, &e),
        PARLEY_ERR_LIMIT);
    assert_int_equal(parley_store_events_record(s, bad, 1, -1, NULL, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_events_record(NULL, bad, 1, 0, NULL, NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_events_list(NULL, NULL, on_event, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_events_list(s, NULL, NULL, NULL, &e), PARLEY_ERR_INVALID);
    parley_store_event_query q = {-1, 0, 0, NULL};
    assert_int_equal(parley_store_events_list(s, &q, on_event, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(list(s, 0, 0, 0).n, 0);
    parley_store_close(s);
}

/* A failure in the middle of a batch (a trigger refusing its second
 * event) rolls back the first. */
static void test_rollback(void **state)
{
    char path[256];
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    sqlite3 *db = NULL;
    (void)state;
    db_path(path, sizeof(path), "old.db");
    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_OK);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_b BEFORE INSERT ON events WHEN NEW.id = 'b' "
                                  "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    (void)sqlite3_close(db);
    parley_store_event b[] = {ev("a", "t", 1), ev("b", "t", 2)};
    assert_int_equal(parley_store_events_record(s, b, 2, 0, NULL, NULL, &e), PARLEY_ERR_IO);
    assert_non_null(strstr(e.msg, "refused"));
    assert_int_equal(list(s, 0, 0, 0).n, 0);
    assert_int_equal(parley_store_events_record(s, b, 1, 0, NULL, NULL, &e), PARLEY_OK);
    assert_int_equal(list(s, 0, 0, 0).n, 1);
    parley_store_close(s);
}

/* A database at schema 7 gains the ledger on open; events persist. */
static void test_migration_and_reopen(void **state)
{
    char path[256];
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    (void)state;
    db_path(path, sizeof(path), "reopen.db");
    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_OK);
    parley_store_close(s);
    /* Back to schema 7, as a build before the ledger left it. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE review; DROP TABLE events; DROP TABLE effects; "
                                  "DROP TABLE consent_use_keys; "
                                  "DELETE FROM parley_schema WHERE version >= 8",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    (void)sqlite3_close(db);
    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_OK);
    assert_int_equal(parley_store_schema_version(s), PARLEY_STORE_SCHEMA_VERSION);
    parley_store_event b[] = {ev("ev-1", "usage_90", 1)};
    assert_int_equal(parley_store_events_record(s, b, 1, 0, NULL, NULL, &e), PARLEY_OK);
    parley_store_close(s);
    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_OK);
    assert_int_equal(list(s, 0, 0, 0).n, 1);
    size_t added = 9, dups = 9;
    assert_int_equal(parley_store_events_record(s, b, 1, 0, &added, &dups, &e), PARLEY_OK);
    assert_int_equal(added, 0);
    assert_int_equal(dups, 1);
    parley_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM events", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    (void)sqlite3_finalize(st);
    (void)sqlite3_close(db);
}

/* Two handles recording the same 200 events at once: each is recorded
 * once, and the two calls' new counts add up to 200. */
struct racer {
    const char *path;
    size_t added, dups;
    parley_err rc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char ids[200][16];
    parley_store_event b[200];
    for (int i = 0; i < 200; i++) {
        (void)snprintf(ids[i], sizeof(ids[i]), "ev-%d", i);
        b[i] = ev(ids[i], "ping", i);
    }
    r->rc = parley_store_open(r->path, &s, &e);
    for (int round = 0; r->rc == PARLEY_OK && round < 4; round++) {
        size_t a = 0, d = 0;
        r->rc = parley_store_events_record(s, b + round * 50, 50, 0, &a, &d, &e);
        r->added += a;
        r->dups += d;
    }
    parley_store_close(s);
    return NULL;
}

/* The latest message a rule sent a customer on a channel: what a reply
 * from that channel answers (docs/proactive.md "Replies"). */
static void test_effect_latest(void **state)
{
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_effect_ref ref;
    parley_store_effect ef = {"k1", "ev-1", "usage_90_offer",           "C1",  1000, "done",
                              "ok", "",     "proactive_usage_90_offer", "sms", ""};
    (void)state;
    assert_int_equal(parley_store_open(":memory:", &s, &e), PARLEY_OK);
    assert_int_equal(parley_store_effect_latest(s, "C1", "sms", 0, &ref, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_effect_record(s, &ef, NULL, &e), PARLEY_OK);
    /* Later, but silent (no message), and another channel: not the one. */
    ef = (parley_store_effect){"k2", "ev-2", "usage_100_refuel", "C1", 2000, "denied", "no", "", "",
                               "",   ""};
    assert_int_equal(parley_store_effect_record(s, &ef, NULL, &e), PARLEY_OK);
    ef =
        (parley_store_effect){"k3", "ev-3", "outage_opened_notice",    "C1",           3000, "done",
                              "ok", "",     "proactive_outage_opened", "conversation", ""};
    assert_int_equal(parley_store_effect_record(s, &ef, NULL, &e), PARLEY_OK);
    assert_int_equal(parley_store_effect_latest(s, "C1", "sms", 0, &ref, &e), PARLEY_OK);
    assert_string_equal(ref.rule, "usage_90_offer");
    assert_string_equal(ref.message, "proactive_usage_90_offer");
    assert_string_equal(ref.event_id, "ev-1");
    assert_int_equal(ref.at, 1000);
    assert_int_equal(parley_store_effect_latest(s, "C1", "sms", 1000, &ref, &e),
                     PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_effect_latest(s, "C2", "sms", 0, &ref, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_effect_latest(s, "", "sms", 0, &ref, &e), PARLEY_ERR_INVALID);
    parley_store_close(s);
}

static void test_two_handles(void **state)
{
    char path[256];
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    pthread_t t1, t2;
    (void)state;
    db_path(path, sizeof(path), "race.db");
    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_OK);
    struct racer a = {path, 0, 0, PARLEY_OK}, b = {path, 0, 0, PARLEY_OK};
    assert_int_equal(pthread_create(&t1, NULL, race, &a), 0);
    assert_int_equal(pthread_create(&t2, NULL, race, &b), 0);
    (void)pthread_join(t1, NULL);
    (void)pthread_join(t2, NULL);
    assert_int_equal(a.rc, PARLEY_OK);
    assert_int_equal(b.rc, PARLEY_OK);
    assert_int_equal(a.added + b.added, 200);
    assert_int_equal(a.dups + b.dups, 200);
    assert_int_equal(list(s, 0, 0, 0).n, 200);
    parley_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_and_list), cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_rollback),        cmocka_unit_test(test_migration_and_reopen),
        cmocka_unit_test(test_two_handles),     cmocka_unit_test(test_effect_latest),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
