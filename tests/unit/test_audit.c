/* Unit tests for src/lib/audit: append and verify, each kind of tampering
 * done directly in the database (verify names the seq and the break),
 * signed and unsigned checkpoints, concurrent appends from threads and
 * handles, reopening, bad inputs, the body checker and explain. */
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
#include <sqlite3.h>

#include "audit/internal.h"
#include "parley/audit.h"

#include "failing_alloc.h"

static char tmpdir[64];
static char key_path[128], pub_path[160];

static int setup_dir(void **state)
{
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-audit-XXXXXX");
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

/* A fresh database path in the scratch folder. */
static const char *db_path(const char *name)
{
    static char p[256];
    static const char *const sfx[] = {"", "-wal", "-shm"};
    char f[300];
    (void)snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    for (size_t i = 0; i < 3; i++) {
        (void)snprintf(f, sizeof(f), "%s%s", p, sfx[i]);
        (void)unlink(f);
    }
    return p;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("raw sql failed: %s", msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
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

static int64_t append(parley_audit *a, const char *kind, const char *conv, const char *cust,
                      int64_t turn, const char *body)
{
    parley_audit_record r = {0, 0, kind, conv, cust, turn, body};
    parley_error e = PARLEY_ERROR_INIT;
    int64_t seq = 0;
    if (parley_audit_append(a, &r, &seq, &e) != PARLEY_OK)
        fail_msg("append: %s", e.msg);
    return seq;
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

/* A signed log of `n` records, checkpoints every 10, closed. */
static const char *make_log(const char *name, int n)
{
    const char *path = db_path(name);
    parley_audit *a = open_log(path, key_path, 10);
    char body[64];
    for (int i = 1; i <= n; i++) {
        (void)snprintf(body, sizeof(body), "{\"intent\":\"i%d\",\"confidence\":0.9}", i);
        assert_int_equal(append(a, "intent", i % 2 ? "c1" : "c2", "cust9", i, body), i);
    }
    parley_audit_close(a);
    return path;
}

static void expect_break(const char *path, const char *pub, parley_audit_break kind, int64_t seq)
{
    parley_audit *a = open_log(path, NULL, -1);
    parley_audit_report rep = verify(a, pub);
    if (rep.ok || rep.kind != kind || rep.seq != seq)
        fail_msg("wanted %s at %lld, got ok=%d %s at %lld: %s", parley_audit_break_name(kind),
                 (long long)seq, rep.ok, parley_audit_break_name(rep.kind), (long long)rep.seq,
                 rep.detail);
    assert_non_null(strstr(rep.detail, "seq") ? rep.detail : strstr(rep.detail, "record"));
    parley_audit_close(a);
}

/* ---- Tests ------------------------------------------------------------- */

struct listed {
    int n;
    int64_t seq[64];
};

static int on_record(const parley_audit_record *r, void *userdata)
{
    struct listed *l = userdata;
    assert_true(l->n < 64);
    l->seq[l->n++] = r->seq;
    return 0;
}

static void test_append_verify(void **state)
{
    (void)state;
    const char *path = make_log("a.db", 25);
    parley_audit *a = open_log(path, key_path, 10);
    parley_error e = PARLEY_ERROR_INIT;
    int64_t n = 0;

    assert_int_equal(parley_audit_count(a, &n, &e), PARLEY_OK);
    assert_int_equal(n, 25);
    parley_audit_report rep = verify(a, pub_path);
    assert_true(rep.ok);
    assert_int_equal(rep.records, 25);
    assert_int_equal(rep.checkpoints, 2);
    assert_int_equal(rep.signed_checkpoints, 2);
    assert_int_equal(rep.last_signed_seq, 20);
    assert_true(rep.key_trusted);
    /* On demand: at the tail, once. */
    int64_t cp = 0;
    assert_int_equal(parley_audit_checkpoint(a, &cp, &e), PARLEY_OK);
    assert_int_equal(cp, 25);
    assert_int_equal(parley_audit_checkpoint(a, &cp, &e), PARLEY_OK);
    rep = verify(a, NULL);
    assert_true(rep.ok);
    assert_int_equal(rep.checkpoints, 3);
    assert_int_equal(rep.last_signed_seq, 25);

    struct listed l = {0, {0}};
    parley_audit_filter f = {"c2", NULL};
    assert_int_equal(parley_audit_list(a, &f, on_record, &l, &e), PARLEY_OK);
    assert_int_equal(l.n, 12);
    for (int i = 0; i < l.n; i++)
        assert_int_equal(l.seq[i], 2 * (i + 1));
    l.n = 0;
    parley_audit_filter g = {NULL, "cust9"};
    assert_int_equal(parley_audit_list(a, &g, on_record, &l, &e), PARLEY_OK);
    assert_int_equal(l.n, 25);
    parley_audit_filter both = {"c1", "cust9"};
    assert_int_equal(parley_audit_list(a, &both, on_record, &l, &e), PARLEY_ERR_INVALID);
    parley_audit_close(a);
}

static void test_unsigned(void **state)
{
    (void)state;
    parley_audit *a = open_log(":memory:", NULL, 5);
    for (int i = 0; i < 12; i++)
        (void)append(a, "handoff", "c", "", 0, "{\"reason\":\"customer_request\"}");
    parley_audit_report rep = verify(a, NULL);
    assert_true(rep.ok);
    assert_int_equal(rep.records, 12);
    assert_int_equal(rep.checkpoints, 2);
    assert_int_equal(rep.signed_checkpoints, 0);
    assert_false(rep.key_trusted);
    parley_audit_close(a);
}

static void test_tamper_modify(void **state)
{
    (void)state;
    const char *p = make_log("m.db", 25);
    raw_exec(p, "UPDATE audit_records SET body = '{\"intent\":\"forged\"}' WHERE seq = 7");
    expect_break(p, pub_path, PARLEY_AUDIT_MODIFIED, 7);
    p = make_log("m2.db", 25);
    raw_exec(p, "UPDATE audit_records SET time = time + 1 WHERE seq = 13");
    expect_break(p, NULL, PARLEY_AUDIT_MODIFIED, 13);
}

static void test_tamper_delete(void **state)
{
    (void)state;
    const char *p = make_log("d.db", 25);
    raw_exec(p, "DELETE FROM audit_records WHERE seq = 7");
    expect_break(p, pub_path, PARLEY_AUDIT_DELETED, 7);
    /* Deleted and renumbered so that no gap shows. */
    p = make_log("d2.db", 25);
    raw_exec(p, "DELETE FROM audit_records WHERE seq = 7;"
                "UPDATE audit_records SET seq = -seq WHERE seq > 7;"
                "UPDATE audit_records SET seq = -seq - 1 WHERE seq < 0;");
    expect_break(p, pub_path, PARLEY_AUDIT_DELETED, 7);
    /* The tail after a checkpoint. */
    p = make_log("d3.db", 25);
    raw_exec(p, "DELETE FROM audit_records WHERE seq > 15");
    expect_break(p, pub_path, PARLEY_AUDIT_DELETED, 16);
}

static void test_tamper_insert(void **state)
{
    (void)state;
    const char *p = make_log("i.db", 25);
    raw_exec(p, "UPDATE audit_records SET seq = -seq WHERE seq >= 7;"
                "UPDATE audit_records SET seq = -seq + 1 WHERE seq < 0;"
                "INSERT INTO audit_records VALUES (7, 1, 'action', 'c1', 'cust9', 7,"
                " '{\"action\":\"refund\",\"decision\":\"allowed\"}', randomblob(32));");
    expect_break(p, pub_path, PARLEY_AUDIT_INSERTED, 7);
    p = make_log("i2.db", 5);
    raw_exec(p, "INSERT INTO audit_records VALUES (0, 1, 'action', '', '', 0, '{}', zeroblob(32))");
    expect_break(p, NULL, PARLEY_AUDIT_INSERTED, 0);
}

static void test_tamper_reorder(void **state)
{
    (void)state;
    const char *p = make_log("r.db", 25);
    raw_exec(p, "UPDATE audit_records SET seq = -1 WHERE seq = 5;"
                "UPDATE audit_records SET seq = 5 WHERE seq = 9;"
                "UPDATE audit_records SET seq = 9 WHERE seq = -1;");
    expect_break(p, pub_path, PARLEY_AUDIT_REORDERED, 5);
    p = make_log("r2.db", 25);
    raw_exec(p, "UPDATE audit_records SET seq = -1 WHERE seq = 12;"
                "UPDATE audit_records SET seq = 12 WHERE seq = 13;"
                "UPDATE audit_records SET seq = 13 WHERE seq = -1;");
    expect_break(p, pub_path, PARLEY_AUDIT_REORDERED, 12);
}

static void test_tamper_checkpoint(void **state)
{
    (void)state;
    const char *p = make_log("k.db", 25);
    raw_exec(p, "UPDATE audit_checkpoints SET signature = randomblob(64) WHERE seq = 10");
    expect_break(p, pub_path, PARLEY_AUDIT_BAD_SIGNATURE, 10);
    expect_break(p, NULL, PARLEY_AUDIT_BAD_SIGNATURE, 10);
    p = make_log("k2.db", 25);
    raw_exec(p, "UPDATE audit_checkpoints SET signature = x'00' WHERE seq = 20");
    expect_break(p, pub_path, PARLEY_AUDIT_BAD_SIGNATURE, 20);
    /* Signed by another key: fine by itself, refused against ours. */
    char other[160], other_pub[170];
    parley_error e = PARLEY_ERROR_INIT;
    (void)snprintf(other, sizeof(other), "%s/other.key", tmpdir);
    (void)snprintf(other_pub, sizeof(other_pub), "%s.pub", other);
    assert_int_equal(parley_audit_keygen(other, &e), PARLEY_OK);
    p = make_log("k3.db", 15);
    expect_break(p, other_pub, PARLEY_AUDIT_BAD_SIGNATURE, 10);
}

/* Rewrites record 3 and recomputes every hash after it, as an attacker
 * who knows the format would: only the signed checkpoint notices. */
static void test_tamper_rewrite_chain(void **state)
{
    (void)state;
    const char *p = make_log("w.db", 25);
    sqlite3 *db = NULL;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    unsigned char prev[PARLEY_AUDIT_HASH_SIZE] = {0}, h[PARLEY_AUDIT_HASH_SIZE];

    raw_exec(p, "UPDATE audit_records SET body = '{\"intent\":\"forged\"}' WHERE seq = 3");
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seq, time, kind, conversation, customer, turn, "
                                        "body FROM audit_records ORDER BY seq",
                                        -1, &sel, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE audit_records SET hash = ?1 WHERE seq = ?2", -1, &upd, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    while (sqlite3_step(sel) == SQLITE_ROW) {
        parley_audit_record r = {
            sqlite3_column_int64(sel, 0),
            sqlite3_column_int64(sel, 1),
            (const char *)sqlite3_column_text(sel, 2),
            (const char *)sqlite3_column_text(sel, 3),
            (const char *)sqlite3_column_text(sel, 4),
            sqlite3_column_int64(sel, 5),
            (const char *)sqlite3_column_text(sel, 6),
        };
        parley__audit_hash(prev, &r, strlen(r.kind), strlen(r.conversation), strlen(r.customer),
                           strlen(r.body), h);
        memcpy(prev, h, sizeof(h));
        (void)sqlite3_bind_blob(upd, 1, h, sizeof(h), SQLITE_TRANSIENT);
        (void)sqlite3_bind_int64(upd, 2, r.seq);
        assert_int_equal(sqlite3_step(upd), SQLITE_DONE);
        (void)sqlite3_reset(upd);
    }
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    (void)sqlite3_finalize(sel);
    (void)sqlite3_finalize(upd);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    expect_break(p, pub_path, PARLEY_AUDIT_BAD_CHECKPOINT, 10);
}

struct worker {
    parley_audit *a;
    int n;
    int64_t *seqs;
};

static void *append_many(void *arg)
{
    struct worker *w = arg;
    parley_error e = PARLEY_ERROR_INIT;
    for (int i = 0; i < w->n; i++) {
        parley_audit_record r = {0, 0, "action", "conc", "", i, "{\"action\":\"x\"}"};
        if (parley_audit_append(w->a, &r, &w->seqs[i], &e) != PARLEY_OK)
            return e.msg[0] ? (void *)1 : (void *)2;
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    (void)state;
    enum { THREADS = 4, EACH = 300 };
    const char *p = db_path("t.db");
    parley_audit *h1 = open_log(p, key_path, 50), *h2 = open_log(p, key_path, 50);
    static int64_t seqs[THREADS][EACH];
    struct worker w[THREADS];
    pthread_t t[THREADS];
    static unsigned char seen[THREADS * EACH + 1];

    for (int i = 0; i < THREADS; i++) {
        /* Two threads per handle: the mutex, and two handles on one file. */
        w[i] = (struct worker){i % 2 ? h2 : h1, EACH, seqs[i]};
        assert_int_equal(pthread_create(&t[i], NULL, append_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *res = NULL;
        assert_int_equal(pthread_join(t[i], &res), 0);
        assert_null(res);
    }
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < EACH; j++) {
            assert_in_range(seqs[i][j], 1, THREADS * EACH);
            assert_int_equal(seen[seqs[i][j]], 0);
            seen[seqs[i][j]] = 1;
        }
    parley_audit_report rep = verify(h1, pub_path);
    if (!rep.ok)
        fail_msg("chain broken after concurrent appends: %s", rep.detail);
    assert_int_equal(rep.records, THREADS * EACH);
    parley_audit_close(h1);
    parley_audit_close(h2);
}

static void test_reopen(void **state)
{
    (void)state;
    const char *p = db_path("o.db");
    parley_audit *a = open_log(p, NULL, 0);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(append(a, "model", "", "", 0, "{\"model\":\"m1\"}"), i);
    parley_audit_close(a);
    a = open_log(p, NULL, 0);
    for (int i = 6; i <= 10; i++)
        assert_int_equal(append(a, "model", "", "", 0, "{\"model\":\"m2\"}"), i);
    parley_audit_report rep = verify(a, NULL);
    assert_true(rep.ok);
    assert_int_equal(rep.records, 10);
    parley_audit_close(a);
    /* Read-only: reads, refuses to write; a missing file is an error. */
    parley_audit_options ro = {NULL, -1, PARLEY_AUDIT_READ_ONLY};
    parley_error e = PARLEY_ERROR_INIT;
    assert_int_equal(parley_audit_open(p, &ro, &a, &e), PARLEY_OK);
    parley_audit_record r = {0, 0, "model", "", "", 0, "{}"};
    assert_int_not_equal(parley_audit_append(a, &r, NULL, &e), PARLEY_OK);
    parley_audit_close(a);
    parley_audit *none = NULL;
    assert_int_not_equal(parley_audit_open(db_path("missing.db"), &ro, &none, &e), PARLEY_OK);
    assert_null(none);
    assert_non_null(strstr(e.msg, "cannot open audit log"));
}

static void expect_refused(parley_audit *a, const char *kind, const char *conv, const char *body,
                           parley_err code, const char *msg)
{
    parley_audit_record r = {0, 0, kind, conv, "", 0, body};
    parley_error e = PARLEY_ERROR_INIT;
    int64_t seq = -5;
    assert_int_equal(parley_audit_append(a, &r, &seq, &e), code);
    assert_int_equal(seq, -5);
    if (!strstr(e.msg, msg))
        fail_msg("message '%s' lacks '%s'", e.msg, msg);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    parley_audit *a = open_log(":memory:", NULL, 0);
    char *big = malloc(PARLEY_AUDIT_MAX_BODY + 100);
    assert_non_null(big);
    memset(big, ' ', PARLEY_AUDIT_MAX_BODY + 99);
    big[0] = '{';
    big[PARLEY_AUDIT_MAX_BODY + 98] = '}';
    big[PARLEY_AUDIT_MAX_BODY + 99] = '\0';
    expect_refused(a, "action", "", "[1, 2]", PARLEY_ERR_INVALID, "not a JSON object");
    expect_refused(a, "action", "", "\"x\"", PARLEY_ERR_INVALID, "not a JSON object");
    expect_refused(a, "action", "", "{\"a\":}", PARLEY_ERR_INVALID, "at byte 5");
    expect_refused(a, "action", "", "{} {}", PARLEY_ERR_INVALID, "text after the object");
    expect_refused(a, "action", "", NULL, PARLEY_ERR_INVALID, "missing");
    expect_refused(a, "action", "", big, PARLEY_ERR_LIMIT, "more than the 16384 allowed");
    expect_refused(a, "Action", "", "{}", PARLEY_ERR_INVALID, "lowercase");
    expect_refused(a, "", "", "{}", PARLEY_ERR_INVALID, "kind");
    expect_refused(a, "act ion", "", "{}", PARLEY_ERR_INVALID, "a-z, 0-9");
    expect_refused(a, "a234567890123456789012345678901234", "", "{}", PARLEY_ERR_INVALID,
                   "longer than 32");
    expect_refused(a, "action", "conv 1", "{}", PARLEY_ERR_INVALID, "conversation id");
    int64_t n = -1;
    parley_error e = PARLEY_ERROR_INIT;
    assert_int_equal(parley_audit_count(a, &n, &e), PARLEY_OK);
    assert_int_equal(n, 0);
    assert_int_equal(parley_audit_checkpoint(a, NULL, &e), PARLEY_ERR_EMPTY);
    free(big);
    parley_audit_close(a);

    parley_audit_options o = {NULL, -7, 0};
    parley_audit *x = NULL;
    assert_int_equal(parley_audit_open(":memory:", &o, &x, &e), PARLEY_ERR_INVALID);
    o.checkpoint_interval = 0;
    assert_int_equal(parley_audit_open(":memory:?sync=fast", &o, &x, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "?sync=full"));
    /* A secret key others can read is refused; so is an existing file. */
    char k[160];
    (void)snprintf(k, sizeof(k), "%s/loose.key", tmpdir);
    assert_int_equal(parley_audit_keygen(k, &e), PARLEY_OK);
    assert_int_equal(parley_audit_keygen(k, &e), PARLEY_ERR_IO);
    assert_int_equal(chmod(k, 0644), 0);
    o.signing_key_path = k;
    assert_int_equal(parley_audit_open(":memory:", &o, &x, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "chmod 600"));
    o.signing_key_path = pub_path;
    assert_int_not_equal(parley_audit_open(":memory:", &o, &x, &e), PARLEY_OK);
    assert_null(x);
}

static void test_body_check(void **state)
{
    (void)state;
    static const char *const good[] = {
        "{}",
        " { \"a\" : [1, -2.5e+3, 0, true, false, null, {\"b\": []}] } \n",
        "{\"s\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}",
        "{\"\xf0\x9f\x98\x80\":0.5}",
    };
    static const char *const bad[] = {
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":tru}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\x01\"}",
        "{\"a\":1,}",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":[1 2]}",
        "{\"a\":\"open",
        "{",
        "",
        "{'a':1}",
    };
    parley_error e = PARLEY_ERROR_INIT;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (parley_audit_body_check(good[i], strlen(good[i]), &e) != PARLEY_OK)
            fail_msg("refused good body %zu: %s", i, e.msg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parley_audit_body_check(bad[i], strlen(bad[i]), &e) != PARLEY_ERR_INVALID)
            fail_msg("accepted bad body %zu '%s'", i, bad[i]);
    char deep[200] = "{\"a\":";
    size_t n = strlen(deep);
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    assert_int_equal(parley_audit_body_check(deep, n, &e), PARLEY_ERR_LIMIT);
}

struct lines {
    int n;
    char text[16][256];
};

static void on_line(const char *line, void *userdata)
{
    struct lines *l = userdata;
    assert_true(l->n < 16);
    (void)snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", line);
}

static void timed(parley_audit *a, int64_t t, const char *kind, int64_t turn, const char *body)
{
    parley_audit_record r = {0, t, kind, "conv7", "cust1", turn, body};
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_audit_append(a, &r, NULL, &e) != PARLEY_OK)
        fail_msg("append: %s", e.msg);
}

static void test_explain(void **state)
{
    (void)state;
    parley_audit *a = open_log(":memory:", NULL, 0);
    const int64_t base = 1795356000000LL; /* 14:00 UTC */
    parley_error e = PARLEY_ERROR_INIT;
    struct lines l = {0, {{0}}};

    timed(a, base + 60000, "identity", 2,
          "{\"from\":\"identified\",\"to\":\"strong\",\"method\":\"otp\"}");
    timed(a, base + 120000, "intent", 3,
          "{\"intent\":\"refuel_data\",\"confidence\":0.93,\"language\":\"en\",\"model\":\"m1\"}");
    timed(a, base + 120000, "action", 3,
          "{\"action\":\"refuel_data\",\"decision\":\"needs_confirmation\",\"summary\":\"1 GB\"}");
    timed(
        a, base + 180000, "action", 4,
        "{\"action\":\"refuel_data\",\"decision\":\"allowed\",\"rule\":\"confirmation\","
        "\"result\":\"ok\",\"summary\":\"1 GB refuelled\",\"asked_turn\":3,\"confirmed_turn\":4}");
    timed(
        a, base + 240000, "action", 5,
        "{\"action\":\"enable_roaming\",\"decision\":\"denied\",\"rule\":\"consent:auto_roaming\","
        "\"proactive\":true}");
    timed(a, base + 300000, "consent", 6,
          "{\"op\":\"granted\",\"scope\":\"auto_refuel\",\"grant_id\":\"g1\",\"limits\":\"up to 2 "
          "GB a month\"}");
    timed(a, base + 300000, "disclosure", 6,
          "{\"fact\":\"balance\",\"level_needed\":\"verified\",\"level\":\"identified\","
          "\"allowed\":false}");
    assert_int_equal(parley_audit_explain(a, "conv7", 0, 1, on_line, &l, &e), PARLEY_OK);
    assert_int_equal(l.n, 7);
    assert_string_equal(l.text[0], "14:01 [turn 2] identity strongly verified by one-time code "
                                   "(was identified)");
    assert_string_equal(l.text[3], "14:03 [turn 4] refuel_data: 1 GB refuelled — you asked at "
                                   "14:02, confirmed at 14:03; identity strongly verified by "
                                   "one-time code at 14:01");
    assert_string_equal(l.text[4],
                        "14:04 [turn 5] did not enable_roaming automatically: no auto_roaming "
                        "permission");
    assert_non_null(strstr(l.text[5], "granted the auto_refuel permission (limits: up to 2 GB"));
    assert_non_null(strstr(l.text[6], "did not tell balance: needs verified identity"));
    l.n = 0;
    assert_int_equal(parley_audit_explain(a, "conv7", 4, 1, on_line, &l, &e), PARLEY_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(parley_audit_explain(a, "conv7", 99, 1, on_line, &l, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_audit_explain(a, "nope", 0, 1, on_line, &l, &e), PARLEY_ERR_NOTFOUND);
    parley_audit_close(a);
}

static void count_progress(int64_t done, int64_t total, void *userdata)
{
    assert_true(done <= total);
    (*(int *)userdata)++;
}

/* URL forms, ?sync=full and the progress callback. */
static void test_urls_progress(void **state)
{
    (void)state;
    char url[300];
    (void)snprintf(url, sizeof(url), "sqlite:%s?sync=full", db_path("u.db"));
    parley_audit *a = open_log(url, NULL, -1);
    for (int i = 0; i < 3; i++)
        (void)append(a, "model", "", "", 0, "{\"model\":\"m\"}");
    parley_audit_close(a);
    a = open_log(":memory:", NULL, -1);
    parley_audit_record r = {0, 0, "intent", "c", "", 1, "{\"intent\":\"x\"}"};
    parley_error e = PARLEY_ERROR_INIT;
    for (int i = 0; i < 70000; i++)
        assert_int_equal(parley_audit_append(a, &r, NULL, &e), PARLEY_OK);
    int calls = 0;
    parley_audit_verify_options vo = {NULL, count_progress, &calls};
    parley_audit_report rep;
    assert_int_equal(parley_audit_verify(a, &vo, &rep, &e), PARLEY_OK);
    assert_true(rep.ok);
    assert_int_equal(rep.checkpoints, 0);
    assert_int_equal(calls, 1);
    parley_audit_close(a);
}

static void ignore_line(const char *line, void *userdata)
{
    (void)line;
    (void)userdata;
}

/* One round through the API on a file (so verify reads on its own
 * connection), with a signed checkpoint and an explanation. */
static parley_err oom_round(const char *path)
{
    parley_audit *a = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit_options o = {key_path, 2, 0};
    parley_audit_report rep;
    parley_err rc;

    if ((rc = parley_audit_open(path, &o, &a, &e)) != PARLEY_OK)
        return rc;
    parley_audit_record r = {
        0, 0, "action", "c", "", 1, "{\"action\":\"x\",\"decision\":\"denied\"}"};
    if ((rc = parley_audit_append(a, &r, NULL, &e)) == PARLEY_OK &&
        (rc = parley_audit_append(a, &r, NULL, &e)) == PARLEY_OK &&
        (rc = parley_audit_verify(a, NULL, &rep, &e)) == PARLEY_OK &&
        (rc = parley_audit_explain(a, "c", 0, 1, ignore_line, NULL, &e)) == PARLEY_OK)
        assert_true(rep.ok);
    parley_audit_close(a);
    return rc;
}

static void test_oom_sweep(void **state)
{
    (void)state;
    long n;
    for (n = 0; n < 1000; n++) {
        const char *p = db_path("oom.db");
        failing_alloc_start(n);
        parley_err rc = oom_round(p);
        assert_int_equal(failing_alloc_stop(), 0);
        if (rc == PARLEY_OK)
            break;
        assert_int_equal(rc, PARLEY_ERR_NOMEM);
    }
    assert_true(n >= 3); /* the handle, the checkpoints, the explanation */
    assert_true(n < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_verify),     cmocka_unit_test(test_unsigned),
        cmocka_unit_test(test_tamper_modify),     cmocka_unit_test(test_tamper_delete),
        cmocka_unit_test(test_tamper_insert),     cmocka_unit_test(test_tamper_reorder),
        cmocka_unit_test(test_tamper_checkpoint), cmocka_unit_test(test_tamper_rewrite_chain),
        cmocka_unit_test(test_concurrency),       cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_bad_inputs),        cmocka_unit_test(test_body_check),
        cmocka_unit_test(test_explain),           cmocka_unit_test(test_urls_progress),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
