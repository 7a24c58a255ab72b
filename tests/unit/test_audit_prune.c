/* Unit tests for audit retention (src/lib/audit/prune.c and the anchored
 * verify): logs with one record a day and a checkpoint every 10 records,
 * pruned at cutoffs passed explicitly (the clock is never read); what is
 * kept, where pruning stops, and each kind of tampering after a prune done
 * directly in the database with sqlite3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit/internal.h"
#include "parley/audit.h"

#define DAY 86400000LL
#define T0  1700000000000LL /* record i is written at T0 + i days */

static char tmpdir[64];
static char key_path[128], pub_path[160];

static int setup_dir(void **state)
{
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-prune-XXXXXX");
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

/* A fresh database path in the scratch folder (static: one at a time). */
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
        fail_msg("raw sql failed: %s (%s)", msg ? msg : "?", sql);
    sqlite3_free(msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
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

static parley_audit *open_log(const char *path, const char *key, int64_t interval)
{
    parley_audit *a = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit_options o = {key, interval, 0};
    if (parley_audit_open(path, &o, &a, &e) != PARLEY_OK)
        fail_msg("open '%s': %s", path, e.msg);
    return a;
}

static void append_at(parley_audit *a, int64_t day, int64_t want_seq)
{
    char body[64];
    int64_t seq = 0;
    parley_error e = PARLEY_ERROR_INIT;
    (void)snprintf(body, sizeof(body), "{\"intent\":\"i%lld\"}", (long long)day);
    parley_audit_record r = {0, T0 + day * DAY, "intent", "c1", "cust9", day, body};
    if (parley_audit_append(a, &r, &seq, &e) != PARLEY_OK)
        fail_msg("append: %s", e.msg);
    assert_int_equal(seq, want_seq);
}

/* A signed log of `n` records (record i on day i), checkpoints every
 * `interval`, left open. */
static parley_audit *make_log(const char *path, int n, int64_t interval)
{
    parley_audit *a = open_log(path, key_path, interval);
    for (int i = 1; i <= n; i++)
        append_at(a, i, i);
    return a;
}

static parley_audit_prune_result prune(parley_audit *a, int64_t cutoff)
{
    parley_audit_prune_result res;
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_audit_prune(a, cutoff, T0 + 10000 * DAY, &res, &e) != PARLEY_OK)
        fail_msg("prune: %s", e.msg);
    return res;
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

static void expect_ok(const char *path, int64_t first_seq)
{
    parley_audit *a = open_log(path, NULL, -1);
    parley_audit_report rep = verify(a, pub_path);
    if (!rep.ok)
        fail_msg("wanted ok, got %s at %lld: %s", parley_audit_break_name(rep.kind),
                 (long long)rep.seq, rep.detail);
    assert_int_equal(rep.first_seq, first_seq);
    assert_int_equal(rep.pruned_through, first_seq - 1);
    parley_audit_close(a);
}

static void expect_break(const char *path, parley_audit_break kind, int64_t seq)
{
    parley_audit *a = open_log(path, NULL, -1);
    parley_audit_report rep = verify(a, pub_path);
    if (rep.ok || rep.kind != kind || rep.seq != seq)
        fail_msg("wanted %s at %lld, got ok=%d %s at %lld: %s", parley_audit_break_name(kind),
                 (long long)seq, rep.ok, parley_audit_break_name(rep.kind), (long long)rep.seq,
                 rep.detail);
    parley_audit_close(a);
}

/* ---- Tests ------------------------------------------------------------- */

/* 45 days, cutoff in the middle of day 25: records 1..25 are old enough,
 * the last checkpoint at or before record 26 is 20, so 1..19 go. */
static void test_prune_by_age(void **state)
{
    const char *path = db_path("age.db");
    parley_audit *a = make_log(path, 45, 10);
    (void)state;
    parley_audit_prune_result res = prune(a, T0 + 25 * DAY + DAY / 2);
    assert_int_equal(res.pruned, 19);
    assert_int_equal(res.first_seq, 20);
    assert_int_equal(res.anchor_seq, 19);
    assert_int_equal(res.first_new_seq, 26);
    assert_int_equal(res.retention_seq, 46);
    assert_int_equal(raw_int(path, "SELECT MIN(seq) FROM audit_records"), 20);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM audit_records"), 27);
    /* Every record newer than the cutoff is kept, and the checkpoint too. */
    assert_int_equal(
        raw_int(path, "SELECT COUNT(*) FROM audit_records WHERE seq BETWEEN 26 AND 45"), 20);
    assert_int_equal(raw_int(path, "SELECT MIN(seq) FROM audit_checkpoints"), 20);
    assert_int_equal(raw_int(path, "SELECT seq FROM audit_anchor"), 19);
    assert_int_equal(
        raw_int(path, "SELECT COUNT(*) FROM audit_records WHERE seq = 46 AND kind = 'retention' "
                      "AND body LIKE '{\"pruned_through\":19,\"first_kept\":20,%'"),
        1);
    /* Signed checkpoints 20, 30, 40 still verify against the public key. */
    parley_audit_report rep = verify(a, pub_path);
    assert_true(rep.ok);
    assert_int_equal(rep.records, 27);
    assert_int_equal(rep.first_seq, 20);
    assert_int_equal(rep.pruned_through, 19);
    assert_int_equal(rep.signed_checkpoints, 3);
    assert_int_equal(rep.last_signed_seq, 40);
    assert_true(rep.key_trusted);
    /* Appending goes on after a prune. */
    append_at(a, 47, 47);
    assert_true(verify(a, pub_path).ok);
    parley_audit_close(a);
    expect_ok(path, 20);
}

/* The cutoff falls exactly on a checkpoint's record, or one before it. */
static void test_prune_stops_at_checkpoint(void **state)
{
    const char *path = db_path("boundary.db");
    parley_audit *a = make_log(path, 45, 10);
    (void)state;
    /* Record 20 is not older than day 20: it is the first kept. */
    parley_audit_prune_result res = prune(a, T0 + 20 * DAY);
    assert_int_equal(res.pruned, 19);
    assert_int_equal(res.first_seq, 20);
    parley_audit_close(a);
    expect_ok(path, 20);

    path = db_path("boundary2.db");
    a = make_log(path, 45, 10);
    /* Record 19 is new enough: the checkpoint at 20 is past it, 10 is not. */
    res = prune(a, T0 + 19 * DAY);
    assert_int_equal(res.pruned, 9);
    assert_int_equal(res.first_seq, 10);
    assert_int_equal(raw_int(path, "SELECT MIN(seq) FROM audit_records"), 10);
    assert_int_equal(
        raw_int(path, "SELECT COUNT(*) FROM audit_records WHERE seq BETWEEN 19 AND 45"), 27);
    parley_audit_close(a);
    expect_ok(path, 10);
}

/* Everything is older than the cutoff: the last checkpoint and the
 * records after it stay, so the tail still verifies. */
static void test_prune_keeps_last_checkpoint(void **state)
{
    const char *path = db_path("all.db");
    parley_audit *a = make_log(path, 45, 10);
    (void)state;
    parley_audit_prune_result res = prune(a, T0 + 1000 * DAY);
    assert_int_equal(res.pruned, 39);
    assert_int_equal(res.first_seq, 40);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM audit_records"), 7);
    parley_audit_close(a);
    expect_ok(path, 40);

    /* The tail itself is the checkpoint: it stays, with the retention record. */
    path = db_path("all40.db");
    a = make_log(path, 40, 10);
    res = prune(a, T0 + 1000 * DAY);
    assert_int_equal(res.pruned, 39);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM audit_records"), 2);
    append_at(a, 1001, 42);
    parley_audit_close(a);
    expect_ok(path, 40);
}

static void test_prune_nothing(void **state)
{
    const char *path = db_path("nothing.db");
    parley_audit *a = make_log(path, 45, 10);
    (void)state;
    /* No record older than the cutoff. */
    parley_audit_prune_result res = prune(a, T0);
    assert_int_equal(res.pruned, 0);
    assert_int_equal(res.first_seq, 1);
    assert_int_equal(res.retention_seq, 0);
    assert_non_null(strstr(res.reason, "no record is older than the cutoff"));
    /* Records 1..5 are old but no checkpoint comes before record 6. */
    res = prune(a, T0 + 5 * DAY + DAY / 2);
    assert_int_equal(res.pruned, 0);
    assert_non_null(strstr(res.reason, "no checkpoint"));
    assert_non_null(strstr(res.reason, "records 1 to 5"));
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM audit_records"), 45);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM audit_anchor"), 0);
    parley_audit_close(a);
    expect_ok(path, 1);

    /* A log with no checkpoint at all. */
    path = db_path("nocp.db");
    a = make_log(path, 30, -1);
    res = prune(a, T0 + 1000 * DAY);
    assert_int_equal(res.pruned, 0);
    assert_non_null(strstr(res.reason, "no checkpoint"));
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM audit_records"), 30);
    parley_audit_close(a);

    /* An empty log. */
    path = db_path("empty.db");
    a = open_log(path, NULL, 10);
    res = prune(a, T0 + 1000 * DAY);
    assert_int_equal(res.pruned, 0);
    assert_non_null(strstr(res.reason, "no record"));
    parley_audit_close(a);
}

static void test_prune_twice(void **state)
{
    const char *path = db_path("twice.db");
    parley_audit *a = make_log(path, 45, 10);
    (void)state;
    assert_int_equal(prune(a, T0 + 25 * DAY + DAY / 2).pruned, 19);
    /* The clock moves on: ten more days of records (46 is the retention). */
    for (int d = 46; d <= 55; d++)
        append_at(a, d, d + 1);
    parley_audit_prune_result res = prune(a, T0 + 35 * DAY + DAY / 2);
    assert_int_equal(res.pruned, 10);
    assert_int_equal(res.first_seq, 30);
    assert_int_equal(res.retention_seq, 57);
    /* The same cutoff again: nothing more, nothing written. */
    res = prune(a, T0 + 35 * DAY + DAY / 2);
    assert_int_equal(res.pruned, 0);
    assert_int_equal(res.retention_seq, 0);
    assert_int_equal(res.first_seq, 30);
    parley_audit_report rep = verify(a, pub_path);
    assert_true(rep.ok);
    assert_int_equal(rep.first_seq, 30);
    /* 30..57, checkpoints at 30, 40, 50. */
    assert_int_equal(rep.records, 28);
    assert_int_equal(rep.signed_checkpoints, 3);
    parley_audit_close(a);
}

/* A log pruned through 19 (first kept 20, retention record 46), copied
 * to `name` for one tampering. */
static const char *pruned_copy(const char *name)
{
    static char dst[256];
    char src[256];
    (void)snprintf(src, sizeof(src), "%s", db_path("pruned-master.db"));
    parley_audit *a = make_log(src, 45, 10);
    assert_int_equal(prune(a, T0 + 25 * DAY + DAY / 2).first_seq, 20);
    parley_audit_close(a); /* checkpoints the WAL into the file */
    (void)snprintf(dst, sizeof(dst), "%s", db_path(name));
    char cmd[700];
    (void)snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
    assert_int_equal(system(cmd), 0);
    return dst;
}

static void test_tamper_after_prune(void **state)
{
    const char *p;
    (void)state;

    p = pruned_copy("t-modify.db");
    raw_exec(p, "UPDATE audit_records SET body = '{\"x\":1}' WHERE seq = 30");
    expect_break(p, PARLEY_AUDIT_MODIFIED, 30);

    p = pruned_copy("t-modify-first.db");
    raw_exec(p, "UPDATE audit_records SET turn = 99 WHERE seq = 20");
    expect_break(p, PARLEY_AUDIT_MODIFIED, 20);

    p = pruned_copy("t-delete-first.db");
    raw_exec(p, "DELETE FROM audit_records WHERE seq = 20");
    expect_break(p, PARLEY_AUDIT_DELETED, 20);

    /* Deleting the new first record and moving the anchor past it, as a
     * prune would have: the retention record says the prune stopped at 19. */
    p = pruned_copy("t-delete-first-anchor.db");
    raw_exec(p, "UPDATE audit_anchor SET seq = 20, hash = (SELECT hash FROM audit_records "
                "WHERE seq = 20); DELETE FROM audit_records WHERE seq = 20");
    expect_break(p, PARLEY_AUDIT_BAD_ANCHOR, 20);

    /* ... and also rewriting the retention record to match: its hash breaks. */
    p = pruned_copy("t-delete-first-all.db");
    raw_exec(p, "UPDATE audit_anchor SET seq = 20, hash = (SELECT hash FROM audit_records "
                "WHERE seq = 20);"
                "UPDATE audit_records SET body = '{\"pruned_through\":20,\"first_kept\":21,"
                "\"anchor\":\"' || lower(hex((SELECT hash FROM audit_records WHERE seq = 20))) || "
                "'\",\"cutoff\":0,\"records\":20}' WHERE seq = 46;"
                "DELETE FROM audit_records WHERE seq = 20");
    expect_break(p, PARLEY_AUDIT_MODIFIED, 46);

    p = pruned_copy("t-delete-middle.db");
    raw_exec(p, "DELETE FROM audit_records WHERE seq = 33");
    expect_break(p, PARLEY_AUDIT_DELETED, 33);

    p = pruned_copy("t-insert.db");
    raw_exec(p, "UPDATE audit_records SET seq = -seq WHERE seq >= 25;"
                "UPDATE audit_records SET seq = -seq + 1 WHERE seq < 0;"
                "INSERT INTO audit_records VALUES (25, 0, 'intent', 'c1', 'cust9', 1, '{}', "
                "randomblob(32))");
    expect_break(p, PARLEY_AUDIT_INSERTED, 25);

    /* A record put back into the pruned range. */
    p = pruned_copy("t-insert-pruned.db");
    raw_exec(p, "INSERT INTO audit_records VALUES (5, 0, 'intent', 'c1', 'cust9', 1, '{}', "
                "randomblob(32))");
    expect_break(p, PARLEY_AUDIT_INSERTED, 5);

    p = pruned_copy("t-reorder.db");
    raw_exec(p, "UPDATE audit_records SET seq = -1 WHERE seq = 22;"
                "UPDATE audit_records SET seq = 22 WHERE seq = 23;"
                "UPDATE audit_records SET seq = 23 WHERE seq = -1");
    expect_break(p, PARLEY_AUDIT_REORDERED, 22);

    p = pruned_copy("t-anchor-hash.db");
    raw_exec(p, "UPDATE audit_anchor SET hash = randomblob(32)");
    expect_break(p, PARLEY_AUDIT_BAD_ANCHOR, 20);

    p = pruned_copy("t-anchor-seq.db");
    raw_exec(p, "UPDATE audit_anchor SET seq = 25");
    expect_break(p, PARLEY_AUDIT_BAD_ANCHOR, 20);

    /* Without the anchor the chain must start at 1. */
    p = pruned_copy("t-anchor-gone.db");
    raw_exec(p, "DELETE FROM audit_anchor");
    expect_break(p, PARLEY_AUDIT_DELETED, 1);

    /* The retention record cut off the tail: the anchor is unexplained. */
    p = pruned_copy("t-retention-gone.db");
    raw_exec(p, "DELETE FROM audit_records WHERE seq = 46");
    expect_break(p, PARLEY_AUDIT_BAD_ANCHOR, 20);
}

/* A prune interrupted after its first transaction (simulated by hand, as
 * prune.c does it) verifies, and the next prune finishes it. */
static void test_interrupted_prune(void **state)
{
    const char *path = db_path("interrupted.db");
    parley_audit *a = make_log(path, 45, 10);
    parley_error e = PARLEY_ERROR_INIT;
    char body[256];
    unsigned char h[PARLEY_AUDIT_HASH_SIZE];
    char hex[2 * PARLEY_AUDIT_HASH_SIZE + 1];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    (void)state;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT hash FROM audit_records WHERE seq = 19", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    memcpy(h, sqlite3_column_blob(st, 0), sizeof(h));
    (void)sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    (void)sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    (void)snprintf(body, sizeof(body),
                   "{\"pruned_through\":19,\"first_kept\":20,\"anchor\":\"%s\",\"cutoff\":0,"
                   "\"records\":19}",
                   hex);
    parley_audit_record r = {0, T0 + 100 * DAY, PARLEY_AUDIT_RETENTION_KIND, NULL, NULL, 0, body};
    /* Only the log may write retention records. */
    assert_int_equal(parley_audit_append(a, &r, NULL, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "reserved"));
    assert_int_equal(parley__audit_append(a, &r, NULL, &e), PARLEY_OK);
    raw_exec(path, "BEGIN; INSERT INTO audit_anchor VALUES (1, 9, (SELECT hash FROM audit_records "
                   "WHERE seq = 9), 0); DELETE FROM audit_records WHERE seq <= 9; DELETE FROM "
                   "audit_checkpoints WHERE seq <= 9; COMMIT");
    parley_audit_report rep = verify(a, pub_path);
    if (!rep.ok)
        fail_msg("half-pruned: %s", rep.detail);
    assert_int_equal(rep.first_seq, 10);

    /* Deleting more than the announced prune (through 19) is caught. */
    const char *moved = "UPDATE audit_anchor SET seq = 20, hash = (SELECT hash FROM audit_records "
                        "WHERE seq = 20); DELETE FROM audit_records WHERE seq <= 20";
    char copy[300], cmd[700];
    (void)snprintf(copy, sizeof(copy), "%s/interrupted-copy.db", tmpdir);
    parley_audit_close(a); /* the WAL into the file, for the copy */
    (void)snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path, copy);
    assert_int_equal(system(cmd), 0);
    raw_exec(copy, moved);
    expect_break(copy, PARLEY_AUDIT_BAD_ANCHOR, 20);

    /* The next prune carries on from the anchor and finishes. */
    a = open_log(path, key_path, 10);
    parley_audit_prune_result res = prune(a, T0 + 25 * DAY + DAY / 2);
    assert_int_equal(res.pruned, 10);
    assert_int_equal(res.first_seq, 20);
    parley_audit_close(a);
    expect_ok(path, 20);
}

static void test_prune_refuses_broken_chain(void **state)
{
    const char *path = db_path("broken.db");
    parley_audit *a = make_log(path, 45, 10);
    parley_audit_prune_result res;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    raw_exec(path, "UPDATE audit_records SET body = '{}' WHERE seq = 5");
    assert_int_equal(parley_audit_prune(a, T0 + 1000 * DAY, T0, &res, &e), PARLEY_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "broken at seq 5"));
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM audit_records"), 45);
    assert_int_equal(parley_audit_prune(NULL, 0, 0, &res, &e), PARLEY_ERR_INVALID);
    parley_audit_close(a);
}

/* More records than one transaction deletes. */
static void test_prune_batches(void **state)
{
    const char *path = db_path("big.db");
    parley_audit *a = open_log(path, NULL, 1000);
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    for (int i = 1; i <= 11500; i++) {
        parley_audit_record r = {0, T0 + i, "intent", NULL, NULL, 0, "{}"};
        assert_int_equal(parley_audit_append(a, &r, NULL, &e), PARLEY_OK);
    }
    parley_audit_prune_result res = prune(a, T0 + 1000 * DAY);
    assert_int_equal(res.pruned, 10999);
    assert_int_equal(res.first_seq, 11000);
    parley_audit_report rep = verify(a, NULL);
    assert_true(rep.ok);
    assert_int_equal(rep.first_seq, 11000);
    assert_int_equal(rep.records, 502);
    parley_audit_close(a);
}

/* An in-memory log prunes and verifies the same way. */
static void test_prune_memory(void **state)
{
    parley_audit *a = make_log(":memory:", 25, 10);
    (void)state;
    parley_audit_prune_result res = prune(a, T0 + 1000 * DAY);
    assert_int_equal(res.pruned, 19);
    parley_audit_report rep = verify(a, pub_path);
    assert_true(rep.ok);
    assert_int_equal(rep.first_seq, 20);
    parley_audit_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_by_age),
        cmocka_unit_test(test_prune_stops_at_checkpoint),
        cmocka_unit_test(test_prune_keeps_last_checkpoint),
        cmocka_unit_test(test_prune_nothing),
        cmocka_unit_test(test_prune_twice),
        cmocka_unit_test(test_tamper_after_prune),
        cmocka_unit_test(test_interrupted_prune),
        cmocka_unit_test(test_prune_refuses_broken_chain),
        cmocka_unit_test(test_prune_batches),
        cmocka_unit_test(test_prune_memory),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
