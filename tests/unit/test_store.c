/* Unit tests for src/lib/store: opening by URL, numbered migrations (and
 * refusing a newer schema), conversations with optimistic concurrency,
 * atomic turn commits, transcript order, erasure, persistence across
 * reopen, crash durability (a child process dies without closing), bad
 * inputs and an out-of-memory sweep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/internal.h"
#include "parley/store.h"

#include "failing_alloc.h"

/* ---- Temporary database files ---------------------------------------- */

#include "temp_dir.h"

static int setup_dir(void **state)
{
    (void)state;
    return temp_dir_make("store");
}

static int teardown_dir(void **state)
{
    (void)state;
    return temp_dir_remove();
}

/* Runs SQL on the file behind the store's back (as a second process would). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("raw sql failed: %s", msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
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

/* ---- Transcript collection -------------------------------------------- */

struct seen {
    int n;
    int stop_after; /* 0: never */
    int64_t seq[16];
    parley_store_role role[16];
    char text[16][64];
    char intent[16][32];
    double confidence[16];
    char metadata[16][64];
};

static int collect(const parley_store_turn *t, void *userdata)
{
    struct seen *s = userdata;
    assert_true(s->n < 16);
    s->seq[s->n] = t->seq;
    s->role[s->n] = t->role;
    (void)snprintf(s->text[s->n], sizeof(s->text[0]), "%s", t->text);
    (void)snprintf(s->intent[s->n], sizeof(s->intent[0]), "%s", t->intent ? t->intent : "-");
    s->confidence[s->n] = t->confidence;
    (void)snprintf(s->metadata[s->n], sizeof(s->metadata[0]), "%s",
                   t->metadata ? t->metadata : "-");
    assert_true(t->created > 0);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static parley_store_turn turn_of(parley_store_role role, const char *text)
{
    parley_store_turn t;
    memset(&t, 0, sizeof(t));
    t.role = role;
    t.text = text;
    return t;
}

/* ---- Tests ------------------------------------------------------------ */

static void test_open_memory(void **state)
{
    (void)state;
    parley_store *s = open_ok(":memory:");
    size_t n = 99;
    assert_string_equal(parley_store_backend(s), "sqlite");
    assert_int_equal(parley_store_schema_version(s), PARLEY_STORE_SCHEMA_VERSION);
    assert_int_equal(parley_store_conversation_count(s, &n, NULL), PARLEY_OK);
    assert_int_equal(n, 0);
    assert_string_equal(parley_store_errmsg(s), "");
    parley_store_close(s);
    parley_store_close(NULL);
}

static void test_url_schemes(void **state)
{
    (void)state;
    parley_store *s = (parley_store *)(uintptr_t)1; /* must stay unchanged */
    parley_error e = PARLEY_ERROR_INIT;
    char path[256], url[300];

    assert_int_equal(parley_store_open("postgres://db/parley", &s, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "postgresql backend is not built"));
    assert_int_equal(parley_store_open("postgresql://db/parley", &s, NULL), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_open("sqlite:", &s, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_open("", &s, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_open(NULL, &s, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_open(":memory:", NULL, &e), PARLEY_ERR_INVALID);
    assert_ptr_equal(s, (parley_store *)(uintptr_t)1);

    db_path(path, sizeof(path), "a.db");
    (void)snprintf(url, sizeof(url), "sqlite:%s", path);
    s = open_ok(url);
    parley_store_close(s);
    assert_int_equal(access(path, F_OK), 0);
    assert_string_equal(parley_strerror(PARLEY_ERR_CONFLICT), "conflicting update");
}

static void test_migrate_reopen(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof(path), "b.db");

    parley_store_close(open_ok(path));
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM parley_schema"),
                     PARLEY_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(path, "SELECT MAX(version) FROM parley_schema"),
                     PARLEY_STORE_SCHEMA_VERSION);
    int64_t applied = raw_int(path, "SELECT SUM(applied) FROM parley_schema");
    assert_true(applied > 0);
    /* WAL mode: the log file exists while a handle is open. */
    char wal[300];
    (void)snprintf(wal, sizeof(wal), "%s-wal", path);
    parley_store *w = open_ok(path);
    assert_int_equal(access(wal, F_OK), 0);
    parley_store_close(w);

    /* Reopening applies nothing again. */
    parley_store *s = open_ok(path);
    assert_int_equal(parley_store_schema_version(s), PARLEY_STORE_SCHEMA_VERSION);
    parley_store_close(s);
    parley_store_close(open_ok(path));
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM parley_schema"),
                     PARLEY_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(path, "SELECT SUM(applied) FROM parley_schema"), applied);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                                   "('conversations', 'turns', 'conversations_updated')"),
                     3);

    /* A database touched by a newer build is refused, not downgraded. */
    raw_exec(path, "INSERT INTO parley_schema (version) VALUES (99)");
    parley_store *bad = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    assert_int_equal(parley_store_open(path, &bad, &e), PARLEY_ERR_VERSION);
    assert_null(bad);
    assert_non_null(strstr(e.msg, "schema version 99 is newer than this build"));
    assert_non_null(strstr(e.msg, path));
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM parley_schema"),
                     PARLEY_STORE_SCHEMA_VERSION + 1);
}

static void test_create_load_save(void **state)
{
    (void)state;
    parley_store *s = open_ok(":memory:");
    parley_error e = PARLEY_ERROR_INIT;
    char id[PARLEY_STORE_ID_SIZE], id2[PARLEY_STORE_ID_SIZE];
    parley_store_conversation c;

    assert_int_equal(parley_store_conversation_create(s, "web", "en", NULL, id, &e), PARLEY_OK);
    assert_int_equal(strlen(id), PARLEY_STORE_ID_LEN);
    assert_int_equal(strspn(id, "0123456789abcdef"), PARLEY_STORE_ID_LEN);
    assert_int_equal(parley_store_conversation_create(s, NULL, NULL, "{\"a\":1}", id2, &e),
                     PARLEY_OK);
    assert_string_not_equal(id, id2);

    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_OK);
    assert_string_equal(c.id, id);
    assert_string_equal(c.channel, "web");
    assert_string_equal(c.language, "en");
    assert_string_equal(c.state, "{}");
    assert_int_equal(c.version, 1);
    assert_true(c.created > 0 && c.updated == c.created);
    parley_store_conversation_release(&c);
    parley_store_conversation_release(NULL);

    /* Two writers loaded version 1; the second to save loses. */
    assert_int_equal(parley_store_state_save(s, id, 1, "{\"step\":\"ask\"}", &e), PARLEY_OK);
    assert_int_equal(parley_store_state_save(s, id, 1, "{\"step\":\"other\"}", &e),
                     PARLEY_ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "changed since it was loaded"));
    assert_non_null(strstr(parley_store_errmsg(s), id));
    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_OK);
    assert_string_equal(c.state, "{\"step\":\"ask\"}");
    assert_int_equal(c.version, 2);
    parley_store_conversation_release(&c);
    assert_string_equal(parley_store_errmsg(s), "");

    assert_int_equal(parley_store_state_save(s, "feedfeed", 1, "{}", &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_conversation_load(s, id2, &c, &e), PARLEY_OK);
    assert_string_equal(c.state, "{\"a\":1}");
    assert_string_equal(c.channel, "");
    parley_store_conversation_release(&c);

    size_t n = 0;
    assert_int_equal(parley_store_conversation_count(s, &n, &e), PARLEY_OK);
    assert_int_equal(n, 2);
    parley_store_close(s);
}

static void test_commit_turn_atomic(void **state)
{
    (void)state;
    char path[256], id[PARLEY_STORE_ID_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_conversation c;
    struct seen seen;
    int64_t seq = -1;
    db_path(path, sizeof(path), "c.db");

    parley_store *s = open_ok(path);
    assert_int_equal(parley_store_conversation_create(s, "web", "en", "{\"v\":0}", id, &e),
                     PARLEY_OK);
    parley_store_turn t = turn_of(PARLEY_ROLE_CUSTOMER, "where is my order [ORDER_ID]");

    /* Make the turn insert fail after the state update has run. */
    raw_exec(path, "CREATE TRIGGER no_turns BEFORE INSERT ON turns "
                   "BEGIN SELECT RAISE(ABORT, 'turns are frozen'); END");
    assert_int_equal(parley_store_commit_turn(s, id, 1, "{\"v\":1}", &t, &seq, &e), PARLEY_ERR_IO);
    assert_non_null(strstr(e.msg, "turns are frozen"));
    assert_int_equal(seq, -1);
    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_OK);
    assert_int_equal(c.version, 1);
    assert_string_equal(c.state, "{\"v\":0}");
    parley_store_conversation_release(&c);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, id, collect, &seen, &e), PARLEY_OK);
    assert_int_equal(seen.n, 0);

    raw_exec(path, "DROP TRIGGER no_turns");
    assert_int_equal(parley_store_commit_turn(s, id, 1, "{\"v\":1}", &t, &seq, &e), PARLEY_OK);
    assert_int_equal(seq, 1);
    /* A stale version adds no turn either. */
    assert_int_equal(parley_store_commit_turn(s, id, 1, "{\"v\":9}", &t, &seq, &e),
                     PARLEY_ERR_CONFLICT);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM turns"), 1);
    parley_store_close(s);
}

static void test_turn_order(void **state)
{
    (void)state;
    parley_store *s = open_ok(":memory:");
    parley_error e = PARLEY_ERROR_INIT;
    char id[PARLEY_STORE_ID_SIZE], other[PARLEY_STORE_ID_SIZE];
    struct seen seen;
    static const parley_store_role roles[] = {PARLEY_ROLE_CUSTOMER, PARLEY_ROLE_BOT,
                                              PARLEY_ROLE_AGENT, PARLEY_ROLE_SYSTEM,
                                              PARLEY_ROLE_CUSTOMER};

    assert_int_equal(parley_store_conversation_create(s, "sms", "fr", NULL, id, &e), PARLEY_OK);
    assert_int_equal(parley_store_conversation_create(s, "sms", "fr", NULL, other, &e), PARLEY_OK);
    for (int i = 0; i < 5; i++) {
        char text[32];
        int64_t seq = 0;
        (void)snprintf(text, sizeof(text), "turn %d", i + 1);
        parley_store_turn t = turn_of(roles[i], text);
        if (i == 0) {
            t.intent = "order_status";
            t.confidence = 0.875;
            t.metadata = "{\"channel_msg\":\"m1\"}";
        }
        assert_int_equal(parley_store_commit_turn(s, id, i + 1, "{}", &t, &seq, &e), PARLEY_OK);
        assert_int_equal(seq, i + 1);
    }
    parley_store_turn t = turn_of(PARLEY_ROLE_BOT, "elsewhere");
    assert_int_equal(parley_store_commit_turn(s, other, 1, "{}", &t, NULL, &e), PARLEY_OK);

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, id, collect, &seen, &e), PARLEY_OK);
    assert_int_equal(seen.n, 5);
    for (int i = 0; i < 5; i++) {
        char text[32];
        (void)snprintf(text, sizeof(text), "turn %d", i + 1);
        assert_int_equal(seen.seq[i], i + 1);
        assert_int_equal(seen.role[i], roles[i]);
        assert_string_equal(seen.text[i], text);
    }
    assert_string_equal(seen.intent[0], "order_status");
    assert_true(seen.confidence[0] == 0.875);
    assert_string_equal(seen.metadata[0], "{\"channel_msg\":\"m1\"}");
    assert_string_equal(seen.intent[1], "-");
    assert_string_equal(seen.metadata[1], "-");

    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 2;
    assert_int_equal(parley_store_turns_list(s, id, collect, &seen, &e), PARLEY_OK);
    assert_int_equal(seen.n, 2);
    /* The handle is usable after an early stop. */
    parley_store_conversation c;
    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_OK);
    assert_int_equal(c.version, 6);
    parley_store_conversation_release(&c);
    assert_string_equal(parley_store_role_name(PARLEY_ROLE_AGENT), "agent");
    assert_null(parley_store_role_name((parley_store_role)7));
    parley_store_close(s);
}

static void test_delete(void **state)
{
    (void)state;
    char path[256], id[PARLEY_STORE_ID_SIZE], keep[PARLEY_STORE_ID_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_conversation c;
    struct seen seen;
    size_t n = 0;
    db_path(path, sizeof(path), "d.db");

    parley_store *s = open_ok(path);
    assert_int_equal(parley_store_conversation_create(s, "web", "en", NULL, id, &e), PARLEY_OK);
    assert_int_equal(parley_store_conversation_create(s, "web", "en", NULL, keep, &e), PARLEY_OK);
    for (int i = 0; i < 3; i++) {
        parley_store_turn t = turn_of(PARLEY_ROLE_CUSTOMER, "[NAME] here");
        assert_int_equal(parley_store_commit_turn(s, id, i + 1, "{}", &t, NULL, &e), PARLEY_OK);
        assert_int_equal(parley_store_commit_turn(s, keep, i + 1, "{}", &t, NULL, &e), PARLEY_OK);
    }
    assert_int_equal(parley_store_conversation_delete(s, id, &e), PARLEY_OK);
    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_turns_list(s, id, collect, &seen, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_conversation_delete(s, id, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_conversation_count(s, &n, &e), PARLEY_OK);
    assert_int_equal(n, 1);
    parley_store_close(s);

    char sql[200];
    (void)snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM turns WHERE conversation_id = '%s'", id);
    assert_int_equal(raw_int(path, sql), 0);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM turns"), 3);
}

static void test_persistence(void **state)
{
    (void)state;
    char path[256], id[PARLEY_STORE_ID_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_conversation c;
    struct seen seen;
    db_path(path, sizeof(path), "e.db");

    parley_store *s = open_ok(path);
    assert_int_equal(parley_store_conversation_create(s, "voice", "de", NULL, id, &e), PARLEY_OK);
    parley_store_turn t = turn_of(PARLEY_ROLE_BOT, "Guten Tag");
    assert_int_equal(parley_store_commit_turn(s, id, 1, "{\"k\":\"v\"}", &t, NULL, &e), PARLEY_OK);
    parley_store_close(s);

    s = open_ok(path);
    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_OK);
    assert_string_equal(c.channel, "voice");
    assert_string_equal(c.state, "{\"k\":\"v\"}");
    assert_int_equal(c.version, 2);
    parley_store_conversation_release(&c);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, id, collect, &seen, &e), PARLEY_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.text[0], "Guten Tag");
    parley_store_close(s);
}

/* A child commits turns, reporting each acknowledged one through a pipe,
 * then dies without closing the store. Every acknowledged turn must be
 * there when the parent reopens the file. */
static void test_crash_durability(void **state)
{
    (void)state;
    char path[256], id[PARLEY_STORE_ID_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    int fds[2];
    enum { TURNS = 40 };
    db_path(path, sizeof(path), "a.db");

    parley_store *s = open_ok(path);
    assert_int_equal(parley_store_conversation_create(s, "web", "en", NULL, id, &e), PARLEY_OK);
    parley_store_close(s);

    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)close(fds[0]);
        parley_store *cs = NULL;
        if (parley_store_open(path, &cs, NULL) != PARLEY_OK)
            _exit(3);
        for (int i = 0; i < TURNS; i++) {
            char text[32];
            (void)snprintf(text, sizeof(text), "turn %d", i + 1);
            parley_store_turn t = turn_of(PARLEY_ROLE_CUSTOMER, text);
            if (parley_store_commit_turn(cs, id, i + 1, "{}", &t, NULL, NULL) != PARLEY_OK)
                _exit(4);
            unsigned char ack = 1;
            if (write(fds[1], &ack, 1) != 1)
                _exit(5);
        }
        _exit(0); /* no parley_store_close: the handle dies with the process */
    }
    (void)close(fds[1]);
    int acked = 0;
    unsigned char b;
    while (read(fds[0], &b, 1) == 1)
        acked++;
    (void)close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(acked, TURNS);

    s = open_ok(path);
    struct seen seen;
    memset(&seen, 0, sizeof(seen));
    parley_store_conversation c;
    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_OK);
    assert_int_equal(c.version, TURNS + 1);
    parley_store_conversation_release(&c);
    parley_store_close(s);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM turns"), acked);
    assert_int_equal(raw_int(path, "SELECT MAX(seq) FROM turns"), acked);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    parley_store *s = open_ok(":memory:");
    parley_error e = PARLEY_ERROR_INIT;
    char id[PARLEY_STORE_ID_SIZE], longid[100];
    parley_store_conversation c;
    size_t n;
    struct seen seen;
    parley_store_turn t = turn_of(PARLEY_ROLE_CUSTOMER, "hi");

    assert_int_equal(parley_store_conversation_create(NULL, "", "", NULL, id, &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_create(s, "", "", NULL, NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_load(NULL, "x", &c, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_load(s, "x", NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_load(s, NULL, &c, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_load(s, "", &c, &e), PARLEY_ERR_INVALID);
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(parley_store_conversation_load(s, longid, &c, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_load(s, "0123abcd", &c, &e), PARLEY_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "cannot load conversation '0123abcd': no such conversation"));
    assert_string_equal(parley_store_errmsg(s), e.msg);
    assert_int_equal(parley_store_state_save(NULL, "x", 1, "{}", &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_state_save(s, "x", 1, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_commit_turn(s, "x", 1, "{}", NULL, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_turns_list(s, "x", NULL, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_turns_list(NULL, "x", collect, &seen, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_turns_list(s, "x", collect, &seen, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_conversation_delete(NULL, "x", &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_delete(s, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_count(NULL, &n, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_conversation_count(s, NULL, &e), PARLEY_ERR_INVALID);
    assert_string_equal(parley_store_errmsg(NULL), "no store");

    assert_int_equal(parley_store_conversation_create(s, "web", "en", NULL, id, &e), PARLEY_OK);
    t.role = (parley_store_role)42;
    assert_int_equal(parley_store_commit_turn(s, id, 1, "{}", &t, NULL, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "unknown role"));
    t = turn_of(PARLEY_ROLE_BOT, NULL);
    assert_int_equal(parley_store_commit_turn(s, id, 1, "{}", &t, NULL, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "no text"));

    /* Size caps. */
    char *big = malloc(PARLEY_STORE_MAX_STATE + 2);
    assert_non_null(big);
    memset(big, ' ', PARLEY_STORE_MAX_STATE + 1);
    big[PARLEY_STORE_MAX_STATE + 1] = '\0';
    assert_int_equal(parley_store_state_save(s, id, 1, big, &e), PARLEY_ERR_LIMIT);
    big[PARLEY_STORE_MAX_TEXT + 1] = '\0';
    t = turn_of(PARLEY_ROLE_BOT, big);
    assert_int_equal(parley_store_commit_turn(s, id, 1, "{}", &t, NULL, &e), PARLEY_ERR_LIMIT);
    big[PARLEY_STORE_MAX_TAG + 1] = '\0';
    assert_int_equal(parley_store_conversation_create(s, big, "en", NULL, id, &e),
                     PARLEY_ERR_LIMIT);
    free(big);
    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_OK);
    assert_int_equal(c.version, 1);
    parley_store_conversation_release(&c);
    parley_store_close(s);

    /* A file that is not a database. */
    char path[256];
    db_path(path, sizeof(path), "bad.db");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 512; i++)
        assert_int_equal(fputs("this is not sqlite ", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    s = NULL;
    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_ERR_CORRUPT);
    assert_null(s);
    assert_non_null(strstr(e.msg, "cannot open store '"));
    assert_non_null(strstr(e.msg, "not a database"));

    /* A path that cannot be created. */
    assert_int_equal(parley_store_open("/nonexistent-parley-dir/x.db", &s, &e), PARLEY_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(e.msg, "cannot open store '/nonexistent-parley-dir/x.db'"));
}

/* ---- Out-of-memory sweep ---------------------------------------------- */

/* One full round through the API; returns the first failure. */
static parley_err oom_round(void)
{
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char id[PARLEY_STORE_ID_SIZE];
    parley_store_conversation c;
    struct seen seen;
    parley_store_turn t = turn_of(PARLEY_ROLE_CUSTOMER, "hello");
    parley_err rc;

    memset(&seen, 0, sizeof(seen));
    if ((rc = parley_store_open(":memory:", &s, &e)) != PARLEY_OK)
        return rc;
    if ((rc = parley_store_conversation_create(s, "web", "en", "{\"x\":1}", id, &e)) == PARLEY_OK &&
        (rc = parley_store_commit_turn(s, id, 1, "{}", &t, NULL, &e)) == PARLEY_OK &&
        (rc = parley_store_conversation_load(s, id, &c, &e)) == PARLEY_OK) {
        parley_store_conversation_release(&c);
        rc = parley_store_turns_list(s, id, collect, &seen, &e);
    }
    parley_store_close(s);
    return rc;
}

static int count_handoff(const parley_store_handoff *h, void *userdata)
{
    assert_string_equal(h->reason, "customer_request");
    assert_string_equal(h->summary, "wants a person");
    (*(int *)userdata)++;
    return 0;
}

static int sum_outcome(const parley_store_outcome_row *row, void *userdata)
{
    int64_t *sums = userdata;
    sums[0] += row->conversations;
    sums[1] += row->handoff_reason[0] ? row->conversations : 0;
    sums[2] += row->ratings;
    sums[3] += row->rating_count[3];
    assert_string_equal(row->language, "fr");
    return 0;
}

/* Outcome columns travel with the commit; the queue and the aggregates
 * read them back; ratings are checked and stored. */
static void test_outcomes(void **state)
{
    (void)state;
    parley_store *s = open_ok(":memory:");
    char a[PARLEY_STORE_ID_SIZE], b[PARLEY_STORE_ID_SIZE];
    parley_store_turn turn = {.role = PARLEY_ROLE_CUSTOMER, .text = "hi"};
    parley_store_outcome plain = {.customer_turns = 1, .intent = "greet", .language = "fr"};
    parley_store_outcome handoff = {.customer_turns = 1,
                                    .status = "handed_off",
                                    .intent = "human_agent",
                                    .handoff_reason = "customer_request",
                                    .handoff_queue = "general",
                                    .handoff_summary = "wants a person",
                                    .language = "fr"};
    parley_store_conversation c = {0};
    int queued = 0;
    int64_t sums[4] = {0};

    assert_int_equal(parley_store_conversation_create(s, "web", "en", "{}", a, NULL), PARLEY_OK);
    assert_int_equal(parley_store_conversation_create(s, "web", "en", "{}", b, NULL), PARLEY_OK);
    assert_int_equal(parley_store_commit_outcome(s, a, 1, "{}", &turn, 1, &plain, NULL, NULL),
                     PARLEY_OK);
    assert_int_equal(parley_store_commit_outcome(s, b, 1, "{}", &turn, 1, &handoff, NULL, NULL),
                     PARLEY_OK);
    /* The first intent sticks; the language follows the latest turn. */
    plain.intent = "pay_bill";
    assert_int_equal(parley_store_commit_outcome(s, a, 2, "{}", &turn, 1, &plain, NULL, NULL),
                     PARLEY_OK);
    assert_int_equal(parley_store_conversation_load(s, a, &c, NULL), PARLEY_OK);
    assert_string_equal(c.intent, "greet");
    assert_string_equal(c.language, "fr");
    assert_string_equal(c.status, "active");
    assert_int_equal(c.customer_turns, 2);
    assert_null(c.handoff_reason);
    parley_store_conversation_release(&c);
    assert_int_equal(parley_store_handoffs_list(s, 10, count_handoff, &queued, NULL), PARLEY_OK);
    assert_int_equal(queued, 1);
    assert_int_equal(parley_store_rating_set(s, b, 6, NULL, NULL), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_rating_set(s, b, 4, "quick", NULL), PARLEY_OK);
    assert_int_equal(parley_store_rating_set(s, "nope", 4, NULL, NULL), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_outcomes(s, 0, INT64_MAX, sum_outcome, sums, NULL), PARLEY_OK);
    assert_int_equal(sums[0], 2);
    assert_int_equal(sums[1], 1);
    assert_int_equal(sums[2], 1);
    assert_int_equal(sums[3], 1);
    parley_store_close(s);
}

static int copy_role(const parley_store_key *k, void *userdata)
{
    (void)snprintf(userdata, 16, "%s%s", k->role, k->revoked ? "-revoked" : "");
    return 0;
}

static void test_keys(void **state)
{
    (void)state;
    parley_store *s = open_ok(":memory:");
    unsigned char hash[32] = {1, 2, 3};
    parley_store_key k = {.id = "abc", .role = "agent", .hash = hash, .hash_len = 32, .label = "x"};
    char role[16] = "";

    assert_int_equal(parley_store_key_add(s, &k, NULL), PARLEY_OK);
    assert_int_equal(parley_store_key_add(s, &k, NULL), PARLEY_ERR_CONFLICT);
    k.hash_len = 8;
    k.id = "short";
    assert_int_equal(parley_store_key_add(s, &k, NULL), PARLEY_ERR_INVALID);
    assert_int_equal(parley_store_key_find(s, "abc", copy_role, role, NULL), PARLEY_OK);
    assert_string_equal(role, "agent");
    assert_int_equal(parley_store_key_find(s, "zzz", copy_role, role, NULL), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_key_revoke(s, "abc", NULL), PARLEY_OK);
    assert_int_equal(parley_store_key_revoke(s, "abc", NULL), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_store_key_find(s, "abc", copy_role, role, NULL), PARLEY_OK);
    assert_string_equal(role, "agent-revoked");
    parley_store_close(s);
}

static void test_oom_sweep(void **state)
{
    (void)state;
    long n;
    for (n = 0; n < 1000; n++) {
        failing_alloc_start(n);
        parley_err rc = oom_round();
        assert_int_equal(failing_alloc_stop(), 0);
        if (rc == PARLEY_OK)
            break;
        assert_int_equal(rc, PARLEY_ERR_NOMEM);
    }
    assert_true(n >= 4); /* the handle and the three strings of a load */
    assert_true(n < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_memory),
        cmocka_unit_test(test_url_schemes),
        cmocka_unit_test(test_migrate_reopen),
        cmocka_unit_test(test_create_load_save),
        cmocka_unit_test(test_commit_turn_atomic),
        cmocka_unit_test(test_turn_order),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_crash_durability),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
