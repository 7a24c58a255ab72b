/* Unit tests for the store's proactive effects ledger: recording an effect
 * once per key (a second recording changes nothing), finding it, counting
 * effects for frequency caps (messages sent: a non-empty channel) and
 * de-duplication (done or offered with the value), with and without a
 * customer, by rule, since a time and leaving out an event; and
 * parley_store_effects_commit(): effects and event settlings in one
 * transaction, all or nothing (an unknown event, a bad effect, a statement
 * the database refuses), keys already recorded left as they are, and what
 * it wrote persisting across a reopen; and migration 10 carrying the
 * effects of a schema-9 database over to the new table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "parley/store.h"

#define T0   1740477600000LL /* 2025-02-25T10:00:00Z */
#define HOUR (3600LL * 1000)

#include "temp_dir.h"

static int setup_dir(void **state)
{
    (void)state;
    return temp_dir_make("effects");
}

static int teardown_dir(void **state)
{
    (void)state;
    return temp_dir_remove();
}

static parley_store *open_store(const char *path)
{
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_store_open(path, &s, &e) != PARLEY_OK)
        fail_msg("open '%s': %s", path, e.msg);
    return s;
}

static parley_store_effect effect(const char *key, const char *event, const char *rule,
                                  const char *customer, int64_t at, const char *outcome,
                                  const char *channel, const char *dedupe)
{
    parley_store_effect f;
    memset(&f, 0, sizeof(f));
    f.key = key;
    f.event_id = event;
    f.rule = rule;
    f.customer = customer;
    f.at = at;
    f.outcome = outcome;
    f.detail = "why";
    f.action = "";
    f.message = channel[0] ? "notice" : "";
    f.channel = channel;
    f.dedupe = dedupe;
    return f;
}

/* The outcome under `key`, or "" when none is recorded. */
static const char *find(parley_store *s, const char *key)
{
    static char out[16];
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc = parley_store_effect_find(s, key, out, &e);
    if (rc == PARLEY_ERR_NOTFOUND)
        return "";
    if (rc != PARLEY_OK)
        fail_msg("find '%s': %s", key, e.msg);
    return out;
}

static int64_t count(parley_store *s, const char *customer, const char *rule, const char *dedupe,
                     int64_t since, const char *not_event)
{
    parley_store_effect_query q = {customer, rule, dedupe, since, not_event};
    parley_error e = PARLEY_ERROR_INIT;
    int64_t n = -1;
    if (parley_store_effects_count(s, &q, &n, &e) != PARLEY_OK)
        fail_msg("count: %s", e.msg);
    return n;
}

static void record_events(parley_store *s, const char *const *ids, size_t n)
{
    parley_store_event ev[8];
    parley_error e = PARLEY_ERROR_INIT;
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        memset(&ev[i], 0, sizeof(ev[i]));
        ev[i].id = ids[i];
        ev[i].type = "usage_90";
        ev[i].at = T0;
        ev[i].doc = "{}";
    }
    if (parley_store_events_record(s, ev, n, T0, NULL, NULL, &e) != PARLEY_OK)
        fail_msg("record events: %s", e.msg);
}

/* What the ledger says of one event. */
struct settled {
    const char *id;
    char status[16], outcome[128];
    int64_t attempts;
    int found;
};

static int on_event(const parley_store_event *ev, void *userdata)
{
    struct settled *w = userdata;
    if (strcmp(ev->id, w->id) != 0)
        return 0;
    w->found = 1;
    (void)snprintf(w->status, sizeof(w->status), "%s", ev->status);
    (void)snprintf(w->outcome, sizeof(w->outcome), "%s", ev->outcome ? ev->outcome : "(null)");
    w->attempts = ev->attempts;
    return 1;
}

static struct settled event_state(parley_store *s, const char *id)
{
    struct settled w;
    parley_error e = PARLEY_ERROR_INIT;
    memset(&w, 0, sizeof(w));
    w.id = id;
    if (parley_store_events_list(s, NULL, on_event, &w, &e) != PARLEY_OK)
        fail_msg("list: %s", e.msg);
    assert_true(w.found);
    return w;
}

static void test_record_find(void **state)
{
    parley_store *s = open_store(":memory:");
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_effect f = effect("k1", "ev-1", "r1", "C1", T0, "done", "sms", "");
    char out[16] = "untouched";
    int fresh = -1;
    (void)state;

    assert_int_equal(parley_store_effect_find(s, "k1", out, &e), PARLEY_ERR_NOTFOUND);
    assert_string_equal(out, "untouched");
    assert_int_equal(parley_store_effect_record(s, &f, &fresh, &e), PARLEY_OK);
    assert_int_equal(fresh, 1);
    assert_string_equal(find(s, "k1"), "done");
    /* The same key again, with another outcome: changes nothing. */
    f.outcome = "denied";
    f.channel = "";
    assert_int_equal(parley_store_effect_record(s, &f, &fresh, &e), PARLEY_OK);
    assert_int_equal(fresh, 0);
    assert_string_equal(find(s, "k1"), "done");
    assert_int_equal(count(s, "C1", NULL, NULL, 0, NULL), 1);
    assert_int_equal(parley_store_effect_record(s, &f, NULL, &e), PARLEY_OK);

    /* No time: the clock's (counted since an hour ago, not after an hour
     * from now). */
    f = effect("k2", "ev-2", "r1", "C2", 0, "done", "sms", "");
    assert_int_equal(parley_store_effect_record(s, &f, &fresh, &e), PARLEY_OK);
    assert_int_equal(fresh, 1);
    int64_t now = (int64_t)time(NULL) * 1000;
    assert_int_equal(count(s, "C2", NULL, NULL, now - HOUR, NULL), 1);
    assert_int_equal(count(s, "C2", NULL, NULL, now + HOUR, NULL), 0);

    /* Bad arguments: each is refused and records nothing. */
    char longkey[130];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    parley_store_effect bad[] = {
        effect(longkey, "ev-3", "r1", "C3", T0, "done", "", ""),
        effect("k3", "", "r1", "C3", T0, "done", "", ""),
        effect("k3", "ev-3", "", "C3", T0, "done", "", ""),
        effect("k3", "ev-3", "r1", "", T0, "done", "", ""),
        effect("k3", "ev-3", "r1", "C3", T0, "", "", ""),
        effect("k3", "ev-3", "r1", "C3", T0, "sixteen_letters_", "", ""),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fresh = -1;
        if (parley_store_effect_record(s, &bad[i], &fresh, &e) != PARLEY_ERR_INVALID)
            fail_msg("bad effect %zu was recorded", i);
        assert_int_equal(fresh, -1);
    }
    f = effect("k3", NULL, "r1", "C3", T0, "done", "", "");
    assert_int_equal(parley_store_effect_record(s, &f, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effect_record(s, NULL, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effect_record(NULL, &f, NULL, &e), PARLEY_ERR_INVALID);
    assert_string_equal(find(s, "k3"), "");
    assert_int_equal(count(s, "C3", NULL, NULL, 0, NULL), 0);
    assert_int_equal(parley_store_effect_find(s, "", out, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effect_find(s, "k1", NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effect_find(NULL, "k1", out, &e), PARLEY_ERR_INVALID);
    /* 128 bytes of key and 15 of outcome are within the limits. */
    longkey[128] = '\0';
    f = effect(longkey, "ev-3", "r1", "C3", T0, "fifteen_letter_", "", "");
    assert_int_equal(parley_store_effect_record(s, &f, NULL, &e), PARLEY_OK);
    assert_string_equal(find(s, longkey), "fifteen_letter_");
    parley_store_close(s);
}

static void test_count(void **state)
{
    parley_store *s = open_store(":memory:");
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    parley_store_effect fx[] = {
        /* C1: three messages (two rules), one silent decision. */
        effect("a", "ev-1", "r1", "C1", T0, "done", "sms", "L1"),
        effect("b", "ev-2", "r1", "C1", T0 + HOUR, "offered", "conversation", "L1"),
        effect("c", "ev-3", "r2", "C1", T0 + 2 * HOUR, "done", "sms", "L2"),
        effect("d", "ev-4", "r1", "C1", T0 + 3 * HOUR, "denied", "", "L1"),
        /* C2: one message (failed: still sent nothing, but a channel), a
         * silent done with a de-duplication value. */
        effect("e", "ev-1", "r1", "C2", T0, "failed", "sms", "L1"),
        effect("f", "ev-5", "r1", "C2", T0 + HOUR, "done", "", "L1"),
    };
    for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++)
        assert_int_equal(parley_store_effect_record(s, &fx[i], NULL, &e), PARLEY_OK);

    /* Without a de-duplication value: effects with a channel. */
    assert_int_equal(count(s, "C1", NULL, NULL, 0, NULL), 3);
    assert_int_equal(count(s, "C2", NULL, NULL, 0, NULL), 1);
    assert_int_equal(count(s, "C9", NULL, NULL, 0, NULL), 0);
    assert_int_equal(count(s, NULL, NULL, NULL, 0, NULL), 4);
    /* By rule. */
    assert_int_equal(count(s, "C1", "r1", NULL, 0, NULL), 2);
    assert_int_equal(count(s, "C1", "r2", NULL, 0, NULL), 1);
    assert_int_equal(count(s, NULL, "r1", NULL, 0, NULL), 3);
    assert_int_equal(count(s, NULL, "r3", NULL, 0, NULL), 0);
    /* Since a time: only later effects (one at exactly `since` is not). */
    assert_int_equal(count(s, "C1", NULL, NULL, T0, NULL), 2);
    assert_int_equal(count(s, "C1", NULL, NULL, T0 - 1, NULL), 3);
    assert_int_equal(count(s, "C1", NULL, NULL, T0 + 2 * HOUR, NULL), 0);
    assert_int_equal(count(s, NULL, NULL, NULL, T0, NULL), 2);
    /* Leaving out one event's effects. */
    assert_int_equal(count(s, "C1", NULL, NULL, 0, "ev-1"), 2);
    assert_int_equal(count(s, NULL, NULL, NULL, 0, "ev-1"), 2);
    assert_int_equal(count(s, NULL, NULL, NULL, 0, "ev-none"), 4);
    /* With a de-duplication value: done or offered with it, sent or not. */
    assert_int_equal(count(s, "C1", "r1", "L1", 0, NULL), 2);
    assert_int_equal(count(s, "C1", NULL, "L2", 0, NULL), 1);
    assert_int_equal(count(s, "C1", "r1", "L2", 0, NULL), 0);
    assert_int_equal(count(s, "C2", "r1", "L1", 0, NULL), 1);
    assert_int_equal(count(s, NULL, "r1", "L1", 0, NULL), 3);
    assert_int_equal(count(s, NULL, NULL, "L1", T0, NULL), 2);
    assert_int_equal(count(s, "C1", "r1", "L1", 0, "ev-2"), 1);
    assert_int_equal(count(s, "C1", NULL, "L9", 0, NULL), 0);

    /* Bad arguments. */
    parley_store_effect_query q = {"C1", NULL, NULL, 0, NULL};
    int64_t n = 42;
    assert_int_equal(parley_store_effects_count(s, NULL, &n, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effects_count(s, &q, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effects_count(NULL, &q, &n, &e), PARLEY_ERR_INVALID);
    assert_int_equal(n, 42);
    parley_store_close(s);
}

static void test_commit(void **state)
{
    parley_store *s = open_store(":memory:");
    parley_error e = PARLEY_ERROR_INIT;
    static const char *const ids[] = {"ev-1", "ev-2", "ev-3"};
    struct settled w;
    (void)state;
    record_events(s, ids, 3);

    /* Effects and a settling together. */
    parley_store_effect fx[] = {
        effect("a", "ev-1", "r1", "C1", T0, "done", "sms", ""),
        effect("b", "ev-1", "r2", "C1", T0, "denied", "", ""),
    };
    parley_store_settle st[] = {{"ev-1", "done", "[{\"rule\":\"r1\",\"outcome\":\"done\"}]"}};
    assert_int_equal(parley_store_effects_commit(s, fx, 2, st, 1, &e), PARLEY_OK);
    assert_string_equal(find(s, "a"), "done");
    assert_string_equal(find(s, "b"), "denied");
    w = event_state(s, "ev-1");
    assert_string_equal(w.status, "done");
    assert_string_equal(w.outcome, "[{\"rule\":\"r1\",\"outcome\":\"done\"}]");
    assert_int_equal(w.attempts, 1);
    w = event_state(s, "ev-2");
    assert_string_equal(w.status, "received");
    assert_string_equal(w.outcome, "(null)");
    assert_int_equal(w.attempts, 0);

    /* Settling an event not in the ledger: nothing of the call is written,
     * not the effects, not the other settling. */
    parley_store_effect fx2[] = {
        effect("c", "ev-2", "r1", "C2", T0, "done", "sms", ""),
        effect("d", "ev-3", "r1", "C3", T0, "done", "sms", ""),
    };
    parley_store_settle st2[] = {{"ev-2", "done", NULL}, {"ev-nope", "done", NULL}};
    assert_int_equal(parley_store_effects_commit(s, fx2, 2, st2, 2, &e), PARLEY_ERR_NOTFOUND);
    if (!strstr(e.msg, "cannot commit effects") || !strstr(e.msg, "ev-nope"))
        fail_msg("message: %s", e.msg);
    assert_string_equal(find(s, "c"), "");
    assert_string_equal(find(s, "d"), "");
    w = event_state(s, "ev-2");
    assert_string_equal(w.status, "received");
    assert_int_equal(w.attempts, 0);

    /* A bad effect: refused, naming it (counted from 1); nothing written. */
    parley_store_effect fx3[] = {
        effect("c", "ev-2", "r1", "C2", T0, "done", "sms", ""),
        effect("d", "ev-3", "", "C3", T0, "done", "sms", ""),
    };
    assert_int_equal(parley_store_effects_commit(s, fx3, 2, st2, 1, &e), PARLEY_ERR_INVALID);
    if (!strstr(e.msg, "effect 2"))
        fail_msg("message: %s", e.msg);
    fx3[1].rule = "r1";
    fx3[0].at = -5;
    assert_int_equal(parley_store_effects_commit(s, fx3, 2, st2, 1, &e), PARLEY_ERR_INVALID);
    if (!strstr(e.msg, "effect 1"))
        fail_msg("message: %s", e.msg);
    fx3[0].at = T0;
    /* A bad settling, likewise. */
    parley_store_settle st3[] = {{"ev-2", "done", NULL}, {"ev-3", "", NULL}};
    assert_int_equal(parley_store_effects_commit(s, fx3, 2, st3, 2, &e), PARLEY_ERR_INVALID);
    if (!strstr(e.msg, "event 2"))
        fail_msg("message: %s", e.msg);
    assert_string_equal(find(s, "c"), "");
    assert_string_equal(find(s, "d"), "");
    assert_string_equal(event_state(s, "ev-2").status, "received");

    /* Bad arguments; nothing to do is no error. */
    assert_int_equal(parley_store_effects_commit(NULL, fx3, 2, NULL, 0, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effects_commit(s, NULL, 2, NULL, 0, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effects_commit(s, fx3, 2, NULL, 1, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_effects_commit(s, NULL, 0, NULL, 0, &e), PARLEY_OK);

    /* A key already recorded is left as it is; the rest of the call is
     * written. The store is usable after the failures above. */
    parley_store_effect fx4[] = {
        effect("a", "ev-2", "r9", "C9", T0, "failed", "", ""),
        effect("c", "ev-2", "r1", "C2", T0, "done", "sms", ""),
    };
    parley_store_settle st4[] = {{"ev-2", "failed", NULL}};
    assert_int_equal(parley_store_effects_commit(s, fx4, 2, st4, 1, &e), PARLEY_OK);
    assert_string_equal(find(s, "a"), "done");
    assert_string_equal(find(s, "c"), "done");
    assert_int_equal(count(s, "C9", NULL, NULL, 0, NULL), 0);
    assert_int_equal(count(s, "C1", NULL, NULL, 0, NULL), 1);
    w = event_state(s, "ev-2");
    assert_string_equal(w.status, "failed");
    assert_string_equal(w.outcome, "(null)");
    assert_int_equal(w.attempts, 1);
    /* Settlings alone; each counts one more attempt. */
    assert_int_equal(parley_store_effects_commit(s, NULL, 0, st4, 1, &e), PARLEY_OK);
    assert_int_equal(event_state(s, "ev-2").attempts, 2);
    parley_store_close(s);
}

/* A statement the database refuses in the middle of a commit (a trigger
 * on the second effect) rolls back the first effect and the settling. */
static void test_commit_rollback(void **state)
{
    char path[256];
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    sqlite3 *db = NULL;
    static const char *const ids[] = {"ev-1"};
    (void)state;
    db_path(path, sizeof(path), "rollback.db");
    s = open_store(path);
    record_events(s, ids, 1);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_b BEFORE INSERT ON effects WHEN NEW.key = 'b' "
                                  "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    (void)sqlite3_close(db);
    parley_store_effect fx[] = {
        effect("a", "ev-1", "r1", "C1", T0, "done", "sms", ""),
        effect("b", "ev-1", "r2", "C1", T0, "done", "sms", ""),
    };
    parley_store_settle st[] = {{"ev-1", "done", "[]"}};
    assert_int_equal(parley_store_effects_commit(s, fx, 2, st, 1, &e), PARLEY_ERR_IO);
    assert_non_null(strstr(e.msg, "refused"));
    assert_string_equal(find(s, "a"), "");
    assert_string_equal(event_state(s, "ev-1").status, "received");
    assert_int_equal(event_state(s, "ev-1").attempts, 0);
    /* Without the refused effect, it goes through. */
    assert_int_equal(parley_store_effects_commit(s, fx, 1, st, 1, &e), PARLEY_OK);
    assert_string_equal(find(s, "a"), "done");
    assert_string_equal(event_state(s, "ev-1").status, "done");
    parley_store_close(s);
}

static void test_commit_reopen(void **state)
{
    char path[256];
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    static const char *const ids[] = {"ev-1", "ev-2"};
    enum { N = 500 };
    static parley_store_effect fx[N];
    static char keys[N][16], customers[N][16];
    (void)state;
    db_path(path, sizeof(path), "reopen.db");
    s = open_store(path);
    record_events(s, ids, 2);
    for (int i = 0; i < N; i++) {
        (void)snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
        (void)snprintf(customers[i], sizeof(customers[i]), "C%d", i % 50);
        fx[i] = effect(keys[i], i % 2 ? "ev-2" : "ev-1", "r1", customers[i], T0 + i,
                       i % 3 ? "done" : "denied", i % 3 ? "sms" : "", "");
    }
    parley_store_settle st[] = {{"ev-1", "done", "[]"}, {"ev-2", "done", "[]"}};
    assert_int_equal(parley_store_effects_commit(s, fx, N, st, 2, &e), PARLEY_OK);
    parley_store_close(s);
    s = open_store(path);
    assert_string_equal(find(s, "key-0"), "denied");
    assert_string_equal(find(s, "key-499"), "done");
    /* 500 effects, of which those with i % 3 != 0 sent a message. */
    assert_int_equal(count(s, NULL, NULL, NULL, 0, NULL), N - (N + 2) / 3);
    /* C7: i = 7, 57, ..., 457 (10), minus those divisible by 3. */
    int64_t want = 0;
    for (int i = 7; i < N; i += 50)
        want += i % 3 != 0;
    assert_int_equal(count(s, "C7", NULL, NULL, 0, NULL), want);
    assert_string_equal(event_state(s, "ev-2").status, "done");
    parley_store_close(s);
}

/* A database from before migration 10 (effects keyed by their hash,
 * WITHOUT ROWID) keeps its effects, their keys' uniqueness and the
 * per-customer counts once upgraded. */
static void test_upgrade_from_v9(void **state)
{
    char path[256];
    parley_store *s;
    parley_error e = PARLEY_ERROR_INIT;
    sqlite3 *db = NULL;
    int fresh = 1;
    (void)state;
    db_path(path, sizeof(path), "upgrade.db");
    parley_store_close(open_store(path));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "DROP TABLE review; DROP TABLE effects;"
            "CREATE TABLE effects (key TEXT PRIMARY KEY, event_id TEXT NOT NULL, rule TEXT NOT "
            "NULL, customer TEXT NOT NULL, at INTEGER NOT NULL, outcome TEXT NOT NULL, detail TEXT "
            "NOT NULL, action TEXT NOT NULL, message TEXT NOT NULL, channel TEXT NOT NULL, dedupe "
            "TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE INDEX effects_customer ON effects(customer, at);"
            "INSERT INTO effects VALUES ('k-b', 'ev-1', 'r1', 'C1', 1740477600001, 'done', 'why', "
            "'', 'notice', 'sms', ''), ('k-a', 'ev-2', 'r1', 'C1', 1740477600002, 'denied', 'why', "
            "'', '', '', '');"
            "DELETE FROM parley_schema WHERE version >= 10;",
            NULL, NULL, NULL),
        SQLITE_OK);
    (void)sqlite3_close(db);
    s = open_store(path);
    assert_int_equal(parley_store_schema_version(s), PARLEY_STORE_SCHEMA_VERSION);
    assert_string_equal(find(s, "k-a"), "denied");
    assert_string_equal(find(s, "k-b"), "done");
    assert_int_equal(count(s, "C1", NULL, NULL, T0 - HOUR, NULL), 1);
    parley_store_effect f = effect("k-a", "ev-9", "r2", "C2", T0, "done", "sms", "");
    assert_int_equal(parley_store_effect_record(s, &f, &fresh, &e), PARLEY_OK);
    assert_int_equal(fresh, 0);
    assert_int_equal(count(s, "C2", NULL, NULL, T0 - HOUR, NULL), 0);
    parley_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_find),   cmocka_unit_test(test_count),
        cmocka_unit_test(test_commit),        cmocka_unit_test(test_commit_rollback),
        cmocka_unit_test(test_commit_reopen), cmocka_unit_test(test_upgrade_from_v9),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
