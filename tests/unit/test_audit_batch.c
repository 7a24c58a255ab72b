/* Unit tests for parley_audit_append_many(): a batch is chained in order in
 * one transaction, with the checkpoints that fall due inside it (signed),
 * and verifies like single appends; a bad record fails the whole call
 * naming it, and so does the reserved kind, leaving the log as it was; a
 * statement the database refuses in the middle rolls the batch back and
 * the handle chains correctly afterwards; two handles on one file
 * appending batches in turn and at once keep one chain. */
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

#include "parley/audit.h"

static char tmpdir[64];
static char key_path[128], pub_path[160];

static int setup_dir(void **state)
{
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-auditb-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    (void)snprintf(key_path, sizeof(key_path), "%s/audit.key", tmpdir);
    (void)snprintf(pub_path, sizeof(pub_path), "%s/audit.key.pub", tmpdir);
    return parley_audit_keygen(key_path, &e) == PARLEY_OK ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    (void)state;
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *db_path(const char *name)
{
    static char p[256];
    (void)snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    return p;
}

static parley_audit *open_log(const char *path, const char *key, int64_t interval)
{
    parley_audit *a = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit_options o = {key, interval, 0};
    if (parley_audit_open(path, &o, &a, &e) != PARLEY_OK)
        fail_msg("open '%s': %s", path, e.msg);
    return a;
}

static parley_audit_report verify(parley_audit *a, const char *pub)
{
    parley_audit_report rep;
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit_verify_options vo = {pub, NULL, NULL};
    if (parley_audit_verify(a, &vo, &rep, &e) != PARLEY_OK)
        fail_msg("verify: %s", e.msg);
    return rep;
}

static int64_t count(parley_audit *a)
{
    parley_error e = PARLEY_ERROR_INIT;
    int64_t n = -1;
    if (parley_audit_count(a, &n, &e) != PARLEY_OK)
        fail_msg("count: %s", e.msg);
    return n;
}

/* `n` records of conversation `conv`, turns first..first+n-1, their
 * bodies naming the turn; bodies live in `bodies`. */
static void fill(parley_audit_record *r, char (*bodies)[48], size_t n, const char *conv,
                 int64_t first)
{
    for (size_t i = 0; i < n; i++) {
        (void)snprintf(bodies[i], sizeof(bodies[i]), "{\"intent\":\"i%lld\"}",
                       (long long)first + (long long)i);
        r[i] = (parley_audit_record){0, 0, "intent", conv, "cust1", first + (int64_t)i, bodies[i]};
    }
}

struct listed {
    int n;
    int64_t seq[128], turn[128], time[128];
    char body[128][48];
};

static int on_record(const parley_audit_record *r, void *userdata)
{
    struct listed *l = userdata;
    if (l->n >= 128)
        return 1;
    l->seq[l->n] = r->seq;
    l->turn[l->n] = r->turn;
    l->time[l->n] = r->time;
    (void)snprintf(l->body[l->n], sizeof(l->body[0]), "%s", r->body);
    l->n++;
    return 0;
}

static void list_conv(parley_audit *a, const char *conv, struct listed *l)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit_filter f = {conv, NULL};
    memset(l, 0, sizeof(*l));
    if (parley_audit_list(a, &f, on_record, l, &e) != PARLEY_OK)
        fail_msg("list: %s", e.msg);
}

/* The seqs of the checkpoints in the file, in order, into `seqs`. */
static int checkpoints(const char *path, int64_t *seqs, int max)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = 0;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT seq FROM audit_checkpoints ORDER BY seq", -1, &st, NULL),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && n < max)
        seqs[n++] = sqlite3_column_int64(st, 0);
    (void)sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return n;
}

static void test_batches(void **state)
{
    const char *path = db_path("batch.db");
    parley_audit *a = open_log(path, key_path, 10);
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit_record r[25];
    char bodies[25][48];
    int64_t seq = 0, cps[8];
    struct listed l;
    (void)state;

    /* 25 in one call: checkpoints at 10 and 20 written with them. */
    fill(r, bodies, 25, "conv1", 1);
    r[3].time = 1740477600000LL;
    assert_int_equal(parley_audit_append_many(a, r, 25, &seq, &e), PARLEY_OK);
    assert_int_equal(seq, 25);
    assert_int_equal(count(a), 25);
    assert_int_equal(checkpoints(path, cps, 8), 2);
    assert_int_equal(cps[0], 10);
    assert_int_equal(cps[1], 20);
    parley_audit_report rep = verify(a, pub_path);
    if (!rep.ok)
        fail_msg("%s", rep.detail);
    assert_int_equal(rep.records, 25);
    assert_int_equal(rep.checkpoints, 2);
    assert_int_equal(rep.signed_checkpoints, 2);
    assert_int_equal(rep.last_signed_seq, 20);
    assert_true(rep.key_trusted);

    /* In the order given, each as given; no time is the clock's. */
    list_conv(a, "conv1", &l);
    assert_int_equal(l.n, 25);
    for (int i = 0; i < 25; i++) {
        assert_int_equal(l.seq[i], i + 1);
        assert_int_equal(l.turn[i], i + 1);
        assert_string_equal(l.body[i], bodies[i]);
        if (i == 3)
            assert_int_equal(l.time[i], 1740477600000LL);
        else
            assert_true(l.time[i] > 1740477600000LL);
    }

    /* A single append, then a batch across the next checkpoint, then a
     * batch of one: one chain. */
    parley_audit_record one = {0, 0, "handoff", "conv2", "", 0, "{\"reason\":\"asked\"}"};
    assert_int_equal(parley_audit_append(a, &one, &seq, &e), PARLEY_OK);
    assert_int_equal(seq, 26);
    fill(r, bodies, 7, "conv2", 100);
    assert_int_equal(parley_audit_append_many(a, r, 7, &seq, &e), PARLEY_OK);
    assert_int_equal(seq, 33);
    assert_int_equal(parley_audit_append_many(a, r, 1, NULL, &e), PARLEY_OK);
    assert_int_equal(count(a), 34);
    assert_int_equal(checkpoints(path, cps, 8), 3);
    assert_int_equal(cps[2], 30);
    list_conv(a, "conv2", &l);
    assert_int_equal(l.n, 9);
    assert_int_equal(l.seq[0], 26);
    assert_int_equal(l.seq[1], 27);
    assert_int_equal(l.turn[1], 100);
    assert_int_equal(l.seq[7], 33);
    assert_int_equal(l.turn[7], 106);
    assert_int_equal(l.turn[8], 100);
    rep = verify(a, pub_path);
    if (!rep.ok)
        fail_msg("%s", rep.detail);
    assert_int_equal(rep.records, 34);
    assert_int_equal(rep.checkpoints, 3);
    assert_int_equal(rep.last_signed_seq, 30);
    parley_audit_close(a);

    /* Reopened, the next batch chains after the last record. */
    a = open_log(path, key_path, 10);
    fill(r, bodies, 6, "conv3", 1);
    assert_int_equal(parley_audit_append_many(a, r, 6, &seq, &e), PARLEY_OK);
    assert_int_equal(seq, 40);
    rep = verify(a, pub_path);
    assert_true(rep.ok);
    assert_int_equal(rep.checkpoints, 4);
    assert_int_equal(rep.last_signed_seq, 40);
    parley_audit_close(a);

    /* Unsigned, with checkpoints every 3: each one due inside a batch. */
    a = open_log(":memory:", NULL, 3);
    fill(r, bodies, 10, "conv4", 1);
    assert_int_equal(parley_audit_append_many(a, r, 10, &seq, &e), PARLEY_OK);
    rep = verify(a, NULL);
    assert_true(rep.ok);
    assert_int_equal(rep.records, 10);
    assert_int_equal(rep.checkpoints, 3);
    assert_int_equal(rep.signed_checkpoints, 0);
    parley_audit_close(a);
}

static void expect_refused(parley_audit *a, const parley_audit_record *r, size_t n, parley_err code,
                           const char *text)
{
    parley_error e = PARLEY_ERROR_INIT;
    int64_t before = count(a), seq = -7;
    parley_err rc = parley_audit_append_many(a, r, n, &seq, &e);
    if (rc != code || !strstr(e.msg, text))
        fail_msg("got %d '%s', wanted %d '%s'", rc, e.msg, code, text);
    assert_int_equal(seq, -7);
    assert_int_equal(count(a), before);
}

static void test_refused(void **state)
{
    const char *path = db_path("refused.db");
    parley_audit *a = open_log(path, key_path, 5);
    parley_audit_record r[8];
    char bodies[8][48];
    int64_t cps[4];
    (void)state;
    fill(r, bodies, 3, "c", 1);
    assert_int_equal(parley_audit_append_many(a, r, 3, NULL, NULL), PARLEY_OK);

    /* Record k (counted from 1) is named; nothing of the batch is written,
     * not even the checkpoint the records before it would have made due. */
    fill(r, bodies, 8, "c", 10);
    r[5].kind = "Intent";
    expect_refused(a, r, 8, PARLEY_ERR_INVALID, "record 6: record kind must start with");
    fill(r, bodies, 8, "c", 10);
    r[2].body = "{\"intent\":";
    expect_refused(a, r, 8, PARLEY_ERR_INVALID, "record 3");
    fill(r, bodies, 8, "c", 10);
    r[7].conversation = "has space";
    expect_refused(a, r, 8, PARLEY_ERR_INVALID, "record 8: conversation id");
    fill(r, bodies, 8, "c", 10);
    r[1].turn = -1;
    expect_refused(a, r, 8, PARLEY_ERR_INVALID, "record 2: turn -1 is negative");
    fill(r, bodies, 8, "c", 10);
    r[4].body = NULL;
    expect_refused(a, r, 8, PARLEY_ERR_INVALID, "record 5");
    char *big = malloc(PARLEY_AUDIT_MAX_BODY + 16);
    assert_non_null(big);
    memset(big, ' ', PARLEY_AUDIT_MAX_BODY + 15);
    big[0] = '{';
    big[PARLEY_AUDIT_MAX_BODY + 14] = '}';
    big[PARLEY_AUDIT_MAX_BODY + 15] = '\0';
    fill(r, bodies, 8, "c", 10);
    r[6].body = big;
    expect_refused(a, r, 8, PARLEY_ERR_LIMIT, "record 7");
    free(big);
    /* The reserved kind, anywhere in the batch. */
    fill(r, bodies, 8, "c", 10);
    r[4].kind = PARLEY_AUDIT_RETENTION_KIND;
    expect_refused(a, r, 8, PARLEY_ERR_INVALID, "reserved");
    /* No records. */
    expect_refused(a, r, 0, PARLEY_ERR_INVALID, "no record");
    expect_refused(a, NULL, 3, PARLEY_ERR_INVALID, "no record");
    parley_audit_record *many = calloc(PARLEY_AUDIT_MAX_BATCH + 1, sizeof(*many));
    assert_non_null(many);
    for (size_t i = 0; i <= PARLEY_AUDIT_MAX_BATCH; i++)
        many[i] = (parley_audit_record){0, 0, "intent", "c", "", 0, "{}"};
    expect_refused(a, many, PARLEY_AUDIT_MAX_BATCH + 1, PARLEY_ERR_INVALID, "too many records");
    free(many);
    assert_int_equal(parley_audit_append_many(NULL, r, 1, NULL, NULL), PARLEY_ERR_INVALID);

    assert_int_equal(count(a), 3);
    assert_int_equal(checkpoints(path, cps, 4), 0);
    /* The handle still chains from the right place. */
    fill(r, bodies, 8, "c", 10);
    int64_t seq = 0;
    assert_int_equal(parley_audit_append_many(a, r, 8, &seq, NULL), PARLEY_OK);
    assert_int_equal(seq, 11);
    assert_int_equal(checkpoints(path, cps, 4), 2);
    assert_int_equal(cps[0], 5);
    assert_int_equal(cps[1], 10);
    parley_audit_report rep = verify(a, pub_path);
    assert_true(rep.ok);
    assert_int_equal(rep.records, 11);
    parley_audit_close(a);

    /* Read-only: refused, nothing written. */
    parley_audit_options ro = {NULL, -1, PARLEY_AUDIT_READ_ONLY};
    parley_error e = PARLEY_ERROR_INIT;
    assert_int_equal(parley_audit_open(path, &ro, &a, &e), PARLEY_OK);
    assert_int_not_equal(parley_audit_append_many(a, r, 2, NULL, &e), PARLEY_OK);
    assert_int_equal(count(a), 11);
    parley_audit_close(a);
}

/* The database refuses the 4th record of a batch (a trigger): nothing of
 * the batch stays, and the handle's next batch chains from the real
 * tail. */
static void test_rollback(void **state)
{
    const char *path = db_path("rollback.db");
    parley_audit *a = open_log(path, key_path, 2);
    parley_audit_record r[6];
    char bodies[6][48];
    parley_error e = PARLEY_ERROR_INIT;
    sqlite3 *db = NULL;
    int64_t seq = 0, cps[8];
    (void)state;
    fill(r, bodies, 3, "c", 1);
    assert_int_equal(parley_audit_append_many(a, r, 3, NULL, &e), PARLEY_OK);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_i13 BEFORE INSERT ON audit_records WHEN "
                                  "NEW.body = '{\"intent\":\"i13\"}' BEGIN SELECT "
                                  "RAISE(ABORT, 'refused'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    (void)sqlite3_close(db);
    fill(r, bodies, 6, "c", 10);
    assert_int_not_equal(parley_audit_append_many(a, r, 6, &seq, &e), PARLEY_OK);
    assert_non_null(strstr(e.msg, "refused"));
    assert_int_equal(count(a), 3);
    assert_int_equal(checkpoints(path, cps, 8), 1);
    assert_int_equal(cps[0], 2);
    /* Without the refused record. */
    assert_int_equal(parley_audit_append_many(a, r, 3, &seq, &e), PARLEY_OK);
    assert_int_equal(seq, 6);
    assert_int_equal(checkpoints(path, cps, 8), 3);
    assert_int_equal(cps[2], 6);
    parley_audit_report rep = verify(a, pub_path);
    if (!rep.ok)
        fail_msg("%s", rep.detail);
    assert_int_equal(rep.records, 6);
    parley_audit_close(a);
}

/* Two handles on one file: batches in turn (each handle's idea of the tail
 * is stale every time), then at once from two threads. */
struct writer {
    const char *path;
    const char *conv;
    int rounds, each;
    parley_err rc;
    char msg[sizeof(((parley_error *)0)->msg)];
};

static void *write_batches(void *arg)
{
    struct writer *w = arg;
    parley_audit *a = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit_options o = {key_path, 7, 0};
    parley_audit_record r[64];
    w->rc = parley_audit_open(w->path, &o, &a, &e);
    for (int k = 0; w->rc == PARLEY_OK && k < w->rounds; k++) {
        for (int i = 0; i < w->each; i++)
            r[i] = (parley_audit_record){
                0, 0, "action", w->conv, "", k * w->each + i + 1, "{\"action\":\"x\"}"};
        w->rc = parley_audit_append_many(a, r, (size_t)w->each, NULL, &e);
    }
    if (w->rc != PARLEY_OK)
        (void)snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
    parley_audit_close(a);
    return NULL;
}

static void check_turns(parley_audit *a, const char *conv, int n)
{
    struct listed l;
    list_conv(a, conv, &l);
    assert_int_equal(l.n, n);
    /* Each writer's records in its own order. */
    for (int i = 0; i < n; i++) {
        assert_int_equal(l.turn[i], i + 1);
        if (i)
            assert_true(l.seq[i] > l.seq[i - 1]);
    }
}

static void test_two_handles(void **state)
{
    const char *path = db_path("two.db");
    parley_audit *h1 = open_log(path, key_path, 7), *h2 = open_log(path, key_path, 7);
    parley_audit_record r[5];
    char bodies[5][48];
    parley_error e = PARLEY_ERROR_INIT;
    int64_t seq = 0;
    (void)state;

    for (int k = 0; k < 6; k++) {
        parley_audit *h = k % 2 ? h2 : h1;
        fill(r, bodies, 5, k % 2 ? "two" : "one", 1 + (k / 2) * 5);
        if (parley_audit_append_many(h, r, 5, &seq, &e) != PARLEY_OK)
            fail_msg("batch %d: %s", k, e.msg);
        assert_int_equal(seq, (k + 1) * 5);
    }
    parley_audit_report rep = verify(h2, pub_path);
    if (!rep.ok)
        fail_msg("%s", rep.detail);
    assert_int_equal(rep.records, 30);
    assert_int_equal(rep.checkpoints, 4);
    check_turns(h1, "one", 15);
    check_turns(h1, "two", 15);
    parley_audit_close(h1);
    parley_audit_close(h2);

    /* At once: two threads, each with its own handle. */
    path = db_path("race.db");
    struct writer w1 = {path, "w1", 20, 50, PARLEY_OK, ""},
                  w2 = {path, "w2", 20, 37, PARLEY_OK, ""};
    pthread_t t1, t2;
    parley_audit *a = open_log(path, key_path, 7);
    assert_int_equal(pthread_create(&t1, NULL, write_batches, &w1), 0);
    assert_int_equal(pthread_create(&t2, NULL, write_batches, &w2), 0);
    (void)pthread_join(t1, NULL);
    (void)pthread_join(t2, NULL);
    if (w1.rc != PARLEY_OK || w2.rc != PARLEY_OK)
        fail_msg("writers: '%s' '%s'", w1.msg, w2.msg);
    rep = verify(a, pub_path);
    if (!rep.ok)
        fail_msg("chain broken after concurrent batches: %s", rep.detail);
    assert_int_equal(rep.records, 20 * 50 + 20 * 37);
    assert_int_equal(rep.checkpoints, (20 * 50 + 20 * 37) / 7);
    struct listed l;
    list_conv(a, "w1", &l); /* the first 128 only */
    for (int i = 1; i < l.n; i++)
        assert_int_equal(l.turn[i], l.turn[i - 1] + 1);
    parley_audit_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_two_handles),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
