/* Unit tests for the store's encryption at rest: master keys from files
 * and the environment; with a keyring no content reaches the database file
 * or its log in the clear while every read returns it; wrong or missing
 * keys are refused at open; tampered or moved values are found; erasure
 * destroys the customer's data keys so a backup taken before cannot be
 * read for them (and still can for others); master-key rotation; a crash
 * between a data key and its conversation; old clear rows stay readable. */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/internal.h"
#include "parley/store.h"

#include "failing_alloc.h"
#include "store/internal.h"

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-crypt-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh path in the scratch folder, with no leftovers of the name. */
static void fresh(char *buf, size_t n, const char *name)
{
    static const char *const sfx[] = {"", "-wal", "-shm"};
    char p[512];
    (void)snprintf(buf, n, "%s/%s", tmpdir, name);
    for (size_t i = 0; i < 3; i++) {
        (void)snprintf(p, sizeof(p), "%s%s", buf, sfx[i]);
        (void)unlink(p);
    }
}

/* Two master keys, A and B, written as key files and loaded. */
static parley_store_master_key key_a, key_b;

static void write_file(const char *path, const char *text, mode_t mode)
{
    (void)unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static int setup_keys(void **state)
{
    char path[256], spec[300];
    parley_error e = PARLEY_ERROR_INIT;
    if (setup_dir(state) != 0)
        return -1;
    (void)snprintf(path, sizeof(path), "%s/a.key", tmpdir);
    write_file(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600);
    (void)snprintf(spec, sizeof(spec), "file:%s", path);
    if (parley_store_master_key_load(spec, &key_a, &e) != PARLEY_OK)
        return -1;
    (void)snprintf(path, sizeof(path), "%s/b.key", tmpdir);
    if (parley_store_master_key_generate(path, &e) != PARLEY_OK)
        return -1;
    (void)snprintf(spec, sizeof(spec), "file:%s", path);
    return parley_store_master_key_load(spec, &key_b, &e) == PARLEY_OK ? 0 : -1;
}

static parley_store *open_with(const char *path, const parley_store_master_key *keys, size_t n,
                               const char *key_store)
{
    parley_store_options o = PARLEY_STORE_OPTIONS_INIT;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store *s = NULL;
    o.master_keys = keys;
    o.nmaster_keys = n;
    o.key_store = key_store;
    if (parley_store_open_ex(path, &o, &s, &e) != PARLEY_OK)
        fail_msg("open '%s': %s", path, e.msg);
    return s;
}

static parley_err open_err(const char *path, const parley_store_master_key *keys, size_t n,
                           const char *key_store, parley_error *e)
{
    parley_store_options o = PARLEY_STORE_OPTIONS_INIT;
    parley_store *s = NULL;
    o.master_keys = keys;
    o.nmaster_keys = n;
    o.key_store = key_store;
    parley_err rc = parley_store_open_ex(path, &o, &s, e);
    assert_null(s);
    return rc;
}

/* The whole file at `path` (caller frees); `*n` its size; NULL if none. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    for (;;) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t got = fread(buf + *n, 1, cap - *n, f);
        if (got == 0)
            break;
        *n += got;
    }
    (void)fclose(f);
    return buf;
}

/* Whether `needle` (n bytes) appears in file `path` or its -wal. */
static int file_has(const char *path, const void *needle, size_t n)
{
    char p[512];
    int found = 0;
    for (int i = 0; i < 2 && !found; i++) {
        size_t len;
        (void)snprintf(p, sizeof(p), "%s%s", path, i ? "-wal" : "");
        unsigned char *buf = slurp(p, &len);
        found = buf && len >= n && memmem(buf, len, needle, n) != NULL;
        free(buf);
    }
    return found;
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

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("raw sql failed: %s", msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Collects turns into one string "text|meta;text|meta;". */
struct seen {
    char buf[4096];
    int n;
};

static int collect(const parley_store_turn *t, void *userdata)
{
    struct seen *s = userdata;
    size_t len = strlen(s->buf);
    (void)snprintf(s->buf + len, sizeof(s->buf) - len, "%s|%s;", t->text,
                   t->metadata ? t->metadata : "");
    s->n++;
    return 0;
}

static int collect_handoff(const parley_store_handoff *h, void *userdata)
{
    (void)snprintf(userdata, 256, "%s", h->summary);
    return 0;
}

#define SECRET_STATE   "{\"slots\":{\"iban\":\"STATE-DE89370400440532013000\"}}"
#define SECRET_TURN    "TURN-my name is Zanzibar Quux"
#define SECRET_META    "{\"note\":\"META-Quux family\"}"
#define SECRET_REPLY   "REPLY-hello Zanzibar"
#define SECRET_SUMMARY "SUMMARY-Zanzibar wants a refund"
#define SECRET_COMMENT "COMMENT-Zanzibar was happy"

/* Writes one conversation of `customer` with every kind of content. */
static void seed(parley_store *s, const char *customer, char id[PARLEY_STORE_ID_SIZE])
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_turn turns[2] = {
        {.role = PARLEY_ROLE_CUSTOMER, .text = SECRET_TURN, .metadata = SECRET_META},
        {.role = PARLEY_ROLE_BOT, .text = SECRET_REPLY}};
    parley_store_outcome oc = {.status = "handed_off",
                               .handoff_reason = "customer_request",
                               .handoff_queue = "general",
                               .handoff_summary = SECRET_SUMMARY,
                               .customer_turns = 1,
                               .customer_id = customer};
    assert_int_equal(parley_store_conversation_create(s, "web", "en", "{}", id, &e), PARLEY_OK);
    assert_int_equal(parley_store_commit_outcome(s, id, 1, SECRET_STATE, turns, 2, &oc, NULL, &e),
                     PARLEY_OK);
    assert_int_equal(parley_store_rating_set(s, id, 4, SECRET_COMMENT, &e), PARLEY_OK);
}

/* Every read returns the seeded content. */
static void check_reads(parley_store *s, const char *id)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_conversation c;
    struct seen seen;
    char summary[256] = "";

    if (parley_store_conversation_load(s, id, &c, &e) != PARLEY_OK)
        fail_msg("load: %s", e.msg);
    assert_string_equal(c.state, SECRET_STATE);
    assert_string_equal(c.handoff_summary, SECRET_SUMMARY);
    assert_string_equal(c.rating_comment, SECRET_COMMENT);
    assert_int_equal(c.version, 2);
    parley_store_conversation_release(&c);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, id, collect, &seen, &e), PARLEY_OK);
    assert_string_equal(seen.buf, SECRET_TURN "|" SECRET_META ";" SECRET_REPLY "|;");
    assert_int_equal(parley_store_handoffs_list(s, 10, collect_handoff, summary, &e), PARLEY_OK);
    assert_string_equal(summary, SECRET_SUMMARY);
}

static void assert_no_secret(const char *path)
{
    static const char *const secrets[] = {"STATE-DE89",  "TURN-my",     "META-Quux", "REPLY-hello",
                                          "SUMMARY-Zan", "COMMENT-Zan", "Zanzibar"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (file_has(path, secrets[i], strlen(secrets[i])))
            fail_msg("'%s' found in the clear in %s", secrets[i], path);
}

static void test_master_key_load(void **state)
{
    (void)state;
    char path[256], spec[300];
    parley_store_master_key k;
    parley_error e = PARLEY_ERROR_INIT;

    /* The same key from the environment, with whitespace, has the same id. */
    assert_int_equal(setenv("PARLEY_TEST_MK",
                            "  00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n",
                            1),
                     0);
    assert_int_equal(parley_store_master_key_load("env:PARLEY_TEST_MK", &k, &e), PARLEY_OK);
    assert_memory_equal(k.key, key_a.key, sizeof(k.key));
    assert_string_equal(k.id, key_a.id);
    assert_int_equal(strlen(k.id), 8);
    assert_string_not_equal(key_a.id, key_b.id);
    parley_store_master_key_clear(&k);
    assert_string_equal(k.id, "");

    assert_int_equal(parley_store_master_key_load("env:PARLEY_TEST_UNSET_MK", &k, &e),
                     PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "'PARLEY_TEST_UNSET_MK' is not set"));
    assert_int_equal(setenv("PARLEY_TEST_MK", "0011", 1), 0);
    assert_int_equal(parley_store_master_key_load("env:PARLEY_TEST_MK", &k, &e), PARLEY_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "64 hex"));
    assert_null(strstr(e.msg, "0011"));
    assert_int_equal(parley_store_master_key_load("a.key", &k, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "expected file:PATH or env:NAME"));

    /* A key file others can read is refused, naming the fix. */
    (void)snprintf(path, sizeof(path), "%s/open.key", tmpdir);
    write_file(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0644);
    (void)snprintf(spec, sizeof(spec), "file:%s", path);
    assert_int_equal(parley_store_master_key_load(spec, &k, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "chmod 600"));
    (void)snprintf(spec, sizeof(spec), "file:%s/none.key", tmpdir);
    assert_int_equal(parley_store_master_key_load(spec, &k, &e), PARLEY_ERR_IO);

    /* keygen: mode 0600, never overwrites. */
    struct stat st;
    (void)snprintf(path, sizeof(path), "%s/b.key", tmpdir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(parley_store_master_key_generate(path, &e), PARLEY_ERR_IO);
}

/* A keyring as configuration gives it: the current key and older ones
 * separated by commas. */
static void test_keyring_load(void **state)
{
    (void)state;
    parley_store_master_key ring[PARLEY_STORE_MAX_MASTER_KEYS];
    parley_error e = PARLEY_ERROR_INIT;
    char cur[300], old[700];
    size_t n = 99;

    (void)snprintf(cur, sizeof(cur), "file:%s/b.key", tmpdir);
    (void)snprintf(old, sizeof(old), "file:%s/a.key,env:PARLEY_TEST_RING", tmpdir);
    assert_int_equal(setenv("PARLEY_TEST_RING",
                            "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100", 1),
                     0);
    assert_int_equal(parley_store_keyring_load(NULL, NULL, ring, &n, &e), PARLEY_OK);
    assert_int_equal(n, 0);
    assert_int_equal(parley_store_keyring_load(cur, old, ring, &n, &e), PARLEY_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ring[0].id, key_b.id);
    assert_string_equal(ring[1].id, key_a.id);
    assert_int_equal(strlen(ring[2].id), 8);
    for (size_t i = 0; i < n; i++)
        parley_store_master_key_clear(&ring[i]);

    n = 99;
    assert_int_equal(parley_store_keyring_load("", old, ring, &n, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "without a current master key"));
    (void)snprintf(old, sizeof(old), "file:%s/a.key,,env:PARLEY_TEST_RING", tmpdir);
    assert_int_equal(parley_store_keyring_load(cur, old, ring, &n, &e), PARLEY_ERR_INVALID);
    (void)snprintf(old, sizeof(old), "file:%s/a.key,env:PARLEY_TEST_NOPE", tmpdir);
    assert_int_equal(parley_store_keyring_load(cur, old, ring, &n, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "PARLEY_TEST_NOPE"));
    assert_int_equal(n, 99);
    /* Nothing secret is left behind on failure. */
    static const parley_store_master_key zero;
    assert_memory_equal(&ring[0], &zero, sizeof(zero));
    assert_memory_equal(&ring[1], &zero, sizeof(zero));
}

/* With a keyring no content is on disk in the clear, yet every read
 * returns it, before and after reopening. */
static void test_no_clear_content(void **state)
{
    (void)state;
    char path[256], keys[256], id[PARLEY_STORE_ID_SIZE];
    fresh(path, sizeof(path), "clear.db");
    fresh(keys, sizeof(keys), "clear-keys.db");

    parley_store *s = open_with(path, &key_a, 1, NULL);
    assert_true(parley_store_encrypted(s));
    seed(s, "cust-1", id);
    check_reads(s, id);
    assert_no_secret(path); /* the database and its log, while open */
    assert_no_secret(keys);
    parley_store_close(s);
    assert_no_secret(path);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM turns WHERE typeof(text) = 'blob'"), 2);
    assert_int_equal(raw_int(path, "SELECT typeof(state) = 'blob' AND typeof(handoff_summary) = "
                                   "'blob' AND typeof(rating_comment) = 'blob' FROM conversations"),
                     1);
    /* The key store is private and holds one wrapped key. */
    struct stat st;
    assert_int_equal(stat(keys, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    assert_int_equal(raw_int(keys, "SELECT COUNT(*) FROM data_keys"), 1);

    s = open_with(path, &key_a, 1, NULL);
    check_reads(s, id);
    parley_store_close(s);

    /* :memory: with a keyring works too (its key store is in memory). */
    s = open_with(":memory:", &key_b, 1, NULL);
    seed(s, "cust-1", id);
    check_reads(s, id);
    parley_store_close(s);
}

/* Wrong or missing keys are refused at open, with the reason. */
static void test_wrong_key(void **state)
{
    (void)state;
    char path[256], other[256], id[PARLEY_STORE_ID_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    parley_store *s = NULL;
    fresh(path, sizeof(path), "wrong.db");
    fresh(other, sizeof(other), "other-keys.db");

    s = open_with(path, &key_a, 1, NULL);
    seed(s, "cust-1", id);
    parley_store_close(s);

    s = NULL;
    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(e.msg, "holds encrypted conversations"));
    assert_int_equal(open_err(path, &key_b, 1, NULL, &e), PARLEY_ERR_INVALID);
    char want[128];
    (void)snprintf(want, sizeof(want), "encrypted with master key %s, which is not configured",
                   key_a.id);
    assert_non_null(strstr(e.msg, want));
    /* A key store that is not this database's. */
    assert_int_equal(open_err(path, &key_a, 1, other, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "is not this database's"));
    /* The same key twice is a configuration mistake. */
    parley_store_master_key twice[2] = {key_a, key_a};
    assert_int_equal(open_err(path, twice, 2, NULL, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "given twice"));
    /* Still fine with the right key. */
    s = open_with(path, &key_a, 1, NULL);
    check_reads(s, id);
    parley_store_close(s);
}

/* Changes the file behind the store's back. */
static void tamper(const char *path, const char *sql)
{
    raw_exec(path, sql);
}

static void test_tamper(void **state)
{
    (void)state;
    char path[256], a[PARLEY_STORE_ID_SIZE], b[PARLEY_STORE_ID_SIZE], sql[512];
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_conversation c;
    struct seen seen;
    fresh(path, sizeof(path), "tamper.db");

    parley_store *s = open_with(path, &key_a, 1, NULL);
    seed(s, "cust-1", a);
    seed(s, "cust-2", b);
    parley_store_close(s);

    /* One bit of a turn's ciphertext flipped, as an attacker with write
     * access to the file would. */
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        char q[256];
        (void)snprintf(q, sizeof(q),
                       "SELECT text FROM turns WHERE conversation_id = '%s' AND seq = 1", a);
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        int len = sqlite3_column_bytes(st, 0);
        unsigned char *blob = malloc((size_t)len);
        memcpy(blob, sqlite3_column_blob(st, 0), (size_t)len);
        (void)sqlite3_finalize(st);
        blob[len - 20] ^= 1;
        (void)snprintf(q, sizeof(q),
                       "UPDATE turns SET text = ?1 WHERE conversation_id = '%s' AND seq = 1", a);
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
        (void)sqlite3_bind_blob(st, 1, blob, len, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        (void)sqlite3_finalize(st);
        free(blob);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
    }
    s = open_with(path, &key_a, 1, NULL);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, a, collect, &seen, &e), PARLEY_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "turns.text fails its integrity check"));
    /* b is untouched. */
    check_reads(s, b);
    parley_store_close(s);

    /* Values cannot move: b's second turn into its first place, b's state
     * into a, and an older state back (the version is bound). */
    (void)snprintf(sql, sizeof(sql),
                   "UPDATE turns SET text = (SELECT text FROM turns WHERE conversation_id = '%s' "
                   "AND seq = 2) WHERE conversation_id = '%s' AND seq = 1",
                   b, b);
    tamper(path, sql);
    (void)snprintf(sql, sizeof(sql),
                   "UPDATE conversations SET state = (SELECT state FROM conversations WHERE id = "
                   "'%s') WHERE id = '%s'",
                   b, a);
    tamper(path, sql);
    s = open_with(path, &key_a, 1, NULL);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, b, collect, &seen, &e), PARLEY_ERR_CORRUPT);
    assert_int_equal(parley_store_conversation_load(s, a, &c, &e), PARLEY_ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "state"));
    assert_int_equal(parley_store_conversation_load(s, b, &c, &e), PARLEY_OK);
    parley_store_conversation_release(&c);
    parley_store_close(s);
    (void)snprintf(sql, sizeof(sql), "UPDATE conversations SET version = 1 WHERE id = '%s'", b);
    tamper(path, sql);
    s = open_with(path, &key_a, 1, NULL);
    assert_int_equal(parley_store_conversation_load(s, b, &c, &e), PARLEY_ERR_CORRUPT);
    parley_store_close(s);
}

struct queue {
    char (*summaries)[256];
    int n;
};

static int collect_queue(const parley_store_handoff *h, void *userdata)
{
    struct queue *q = userdata;
    if (q->n < 3)
        (void)snprintf(q->summaries[q->n], 256, "%s", h->summary);
    q->n++;
    return 0;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    unsigned char *buf = slurp(from, &n);
    assert_non_null(buf);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    free(buf);
}

/* Erasure destroys the customer's data keys: the key store no longer has
 * them (not even as bytes), and a backup of the database taken before
 * cannot be read for that customer any more, while another customer's
 * conversation in the same backup still reads. */
static void test_erase_shreds_backup(void **state)
{
    (void)state;
    char path[256], keys[256], backup[256], alice[PARLEY_STORE_ID_SIZE],
        alice2[PARLEY_STORE_ID_SIZE], bob[PARLEY_STORE_ID_SIZE], sql[256];
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_conversation c;
    struct seen seen;
    size_t count = 0;
    fresh(path, sizeof(path), "erase.db");
    fresh(keys, sizeof(keys), "erase-keys.db");
    fresh(backup, sizeof(backup), "backup.db");

    parley_store *s = open_with(path, &key_a, 1, NULL);
    seed(s, "alice", alice);
    seed(s, "alice", alice2);
    seed(s, "bob", bob);
    parley_store_close(s); /* the last close checkpoints: one file */
    copy_file(path, backup);

    /* Alice's wrapped keys, as bytes, to look for afterwards. */
    unsigned char wrapped[2][PARLEY__WRAPPED_BYTES];
    for (int i = 0; i < 2; i++) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_open(keys, &db), SQLITE_OK);
        (void)snprintf(sql, sizeof(sql),
                       "SELECT wrapped, customer_id FROM data_keys WHERE conversation_id = '%s'",
                       i ? alice2 : alice);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_bytes(st, 0), PARLEY__WRAPPED_BYTES);
        memcpy(wrapped[i], sqlite3_column_blob(st, 0), PARLEY__WRAPPED_BYTES);
        assert_string_equal((const char *)sqlite3_column_text(st, 1), "alice");
        (void)sqlite3_finalize(st);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
        assert_true(file_has(keys, wrapped[i], sizeof(wrapped[i])));
    }

    s = open_with(path, &key_a, 1, NULL);
    assert_int_equal(parley_store_customer_erase(s, "alice", &count, &e), PARLEY_OK);
    assert_int_equal(count, 2);
    for (int i = 0; i < 2; i++)
        assert_false(file_has(keys, wrapped[i], sizeof(wrapped[i])));
    parley_store_close(s);
    assert_int_equal(raw_int(keys, "SELECT COUNT(*) FROM data_keys"), 1);
    for (int i = 0; i < 2; i++)
        assert_false(file_has(keys, wrapped[i], sizeof(wrapped[i])));

    /* The backup with today's key store: alice's content is gone for good,
     * bob's reads. */
    s = open_with(backup, &key_a, 1, keys);
    assert_int_equal(parley_store_conversation_load(s, alice, &c, &e), PARLEY_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "data key was destroyed"));
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, alice2, collect, &seen, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(seen.n, 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, bob, collect, &seen, &e), PARLEY_OK);
    assert_string_equal(seen.buf, SECRET_TURN "|" SECRET_META ";" SECRET_REPLY "|;");
    assert_int_equal(parley_store_conversation_load(s, bob, &c, &e), PARLEY_OK);
    assert_string_equal(c.state, SECRET_STATE);
    parley_store_conversation_release(&c);
    /* The queue still lists alice's restored hand-offs, without content. */
    char summaries[3][256];
    struct queue q = {summaries, 0};
    assert_int_equal(parley_store_handoffs_list(s, 10, collect_queue, &q, &e), PARLEY_OK);
    assert_int_equal(q.n, 3);
    int empty = 0, full = 0;
    for (int i = 0; i < 3; i++) {
        empty += summaries[i][0] == '\0';
        full += strcmp(summaries[i], SECRET_SUMMARY) == 0;
    }
    assert_int_equal(empty, 2);
    assert_int_equal(full, 1);
    parley_store_close(s);

    /* Deleting one conversation destroys its key too. */
    s = open_with(path, &key_a, 1, NULL);
    assert_int_equal(parley_store_conversation_delete(s, bob, &e), PARLEY_OK);
    parley_store_close(s);
    assert_int_equal(raw_int(keys, "SELECT COUNT(*) FROM data_keys"), 0);
}

static size_t progress_done, progress_total, progress_calls;
static void on_progress(size_t done, size_t total, void *userdata)
{
    (void)userdata;
    assert_true(done >= progress_done);
    progress_done = done;
    progress_total = total;
    progress_calls++;
}

/* Rotation: written under A, reopened with [B, A] and rekeyed, the store
 * then opens with B alone and reads everything; A alone is refused. */
static void test_rekey(void **state)
{
    (void)state;
    enum { N = 300 }; /* more than one batch */
    char path[256], keys[256], first[PARLEY_STORE_ID_SIZE], id[PARLEY_STORE_ID_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    fresh(path, sizeof(path), "rekey.db");
    fresh(keys, sizeof(keys), "rekey-keys.db");

    parley_store *s = open_with(path, &key_a, 1, NULL);
    seed(s, "cust-1", first);
    for (int i = 1; i < N; i++)
        assert_int_equal(parley_store_conversation_create(s, "web", "en", "{\"n\":1}", id, &e),
                         PARLEY_OK);
    parley_store_close(s);

    parley_store_master_key ring[2] = {key_b, key_a};
    s = open_with(path, ring, 2, NULL);
    check_reads(s, first); /* A's keys still unwrap */
    assert_int_equal(parley_store_conversation_create(s, "web", "en", "{}", id, &e), PARLEY_OK);
    /* A second handle, as another server process, reads meanwhile. */
    parley_store *other = open_with(path, ring, 2, NULL);
    assert_int_equal(parley_store_rekey(s, on_progress, NULL, &e), PARLEY_OK);
    assert_int_equal(progress_done, N);
    assert_int_equal(progress_total, N);
    assert_true(progress_calls >= 3); /* the start and two batches */
    check_reads(other, first);
    parley_store_close(other);
    /* Nothing left to do the second time. */
    progress_done = 0;
    assert_int_equal(parley_store_rekey(s, on_progress, NULL, &e), PARLEY_OK);
    assert_int_equal(progress_done, 0);
    parley_store_close(s);
    char sql[128];
    (void)snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM data_keys WHERE master_id = '%s'",
                   key_b.id);
    assert_int_equal(raw_int(keys, sql), N + 1);

    s = open_with(path, &key_b, 1, NULL);
    check_reads(s, first);
    size_t count = 0;
    assert_int_equal(parley_store_conversation_count(s, &count, &e), PARLEY_OK);
    assert_int_equal(count, N + 1);
    parley_store_close(s);
    char want[128];
    (void)snprintf(want, sizeof(want), "master key %s, which is not configured", key_b.id);
    assert_int_equal(open_err(path, &key_a, 1, NULL, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, want));

    /* Without a keyring there is nothing to rekey. */
    assert_int_equal(parley_store_open(":memory:", &s, &e), PARLEY_OK);
    assert_int_equal(parley_store_rekey(s, NULL, NULL, &e), PARLEY_ERR_INVALID);
    parley_store_close(s);
}

/* A crash between storing a data key and its conversation leaves a key
 * without a conversation: harmless, and the sweeper destroys it once it is
 * old enough not to belong to a conversation being created. */
static void test_crash_after_key(void **state)
{
    (void)state;
    char path[256], keys[256], id[PARLEY_STORE_ID_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_sweep_result res;
    fresh(path, sizeof(path), "crash.db");
    fresh(keys, sizeof(keys), "crash-keys.db");

    parley_store_close(open_with(path, &key_a, 1, NULL));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        parley_store *cs = open_with(path, &key_a, 1, NULL);
        parley__store_crash_after_key = 1;
        (void)parley_store_conversation_create(cs, "web", "en", SECRET_STATE, id, &e);
        _exit(3); /* not reached: the hook exits with 0 */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(raw_int(keys, "SELECT COUNT(*) FROM data_keys"), 1);
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM conversations"), 0);

    parley_store *s = open_with(path, &key_a, 1, NULL);
    seed(s, "cust-1", id);
    check_reads(s, id);
    parley_store_retention keep = {0};
    int64_t now = parley__store_now_ms();
    assert_int_equal(parley_store_sweep(s, &keep, now, &res, &e), PARLEY_OK);
    assert_int_equal(res.data_keys, 0); /* too young: may be in flight */
    assert_int_equal(parley_store_sweep(s, &keep, now + 2 * 3600 * 1000LL, &res, &e), PARLEY_OK);
    assert_int_equal(res.data_keys, 1);
    assert_int_equal(res.conversations, 0);
    check_reads(s, id);
    parley_store_close(s);
    assert_int_equal(raw_int(keys, "SELECT COUNT(*) FROM data_keys"), 1);
}

/* A database written in the clear stays readable when encryption is
 * turned on; new content is sealed (an old conversation gets a key on its
 * next write); from then on a keyring is required. */
static void test_clear_then_encrypted(void **state)
{
    (void)state;
    char path[256], id[PARLEY_STORE_ID_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_turn t = {.role = PARLEY_ROLE_CUSTOMER, .text = "old clear turn"};
    parley_store_turn t2 = {.role = PARLEY_ROLE_CUSTOMER, .text = "NEW-sealed turn"};
    parley_store *s = NULL;
    struct seen seen;
    fresh(path, sizeof(path), "mixed.db");

    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_OK);
    assert_false(parley_store_encrypted(s));
    assert_int_equal(parley_store_conversation_create(s, "web", "en", "{\"v\":1}", id, &e),
                     PARLEY_OK);
    assert_int_equal(parley_store_commit_turn(s, id, 1, "{\"v\":2}", &t, NULL, &e), PARLEY_OK);
    parley_store_close(s);

    s = open_with(path, &key_a, 1, NULL);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, id, collect, &seen, &e), PARLEY_OK);
    assert_string_equal(seen.buf, "old clear turn|;");
    assert_int_equal(parley_store_commit_turn(s, id, 2, "{\"v\":\"NEW-3\"}", &t2, NULL, &e),
                     PARLEY_OK);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(parley_store_turns_list(s, id, collect, &seen, &e), PARLEY_OK);
    assert_string_equal(seen.buf, "old clear turn|;NEW-sealed turn|;");
    parley_store_conversation c;
    assert_int_equal(parley_store_conversation_load(s, id, &c, &e), PARLEY_OK);
    assert_string_equal(c.state, "{\"v\":\"NEW-3\"}");
    parley_store_conversation_release(&c);
    parley_store_close(s);
    assert_false(file_has(path, "NEW-", 4));
    assert_int_equal(raw_int(path, "SELECT COUNT(*) FROM turns WHERE typeof(text) = 'blob'"), 1);
    assert_int_equal(parley_store_open(path, &s, &e), PARLEY_ERR_INVALID);
}

/* ---- out of memory: every failure path frees what it took --------------- */

static int ignore_handoff(const parley_store_handoff *h, void *userdata)
{
    (void)h;
    (void)userdata;
    return 0;
}

/* One round through the encrypted API; returns the first failure. */
static parley_err oom_round(void)
{
    parley_store_options o = PARLEY_STORE_OPTIONS_INIT;
    parley_store_master_key ring[2] = {key_b, key_a};
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char id[PARLEY_STORE_ID_SIZE];
    parley_store_conversation c;
    parley_store_sweep_result r;
    parley_store_retention policy = {.transcript_days = 1};
    struct seen seen;
    parley_store_turn t = {.role = PARLEY_ROLE_CUSTOMER, .text = "hello", .metadata = "{}"};
    parley_store_outcome oc = {.handoff_reason = "r", .handoff_summary = "sum", .customer_id = "x"};
    parley_err rc;

    memset(&seen, 0, sizeof(seen));
    o.master_keys = ring;
    o.nmaster_keys = 2;
    if ((rc = parley_store_open_ex(":memory:", &o, &s, &e)) != PARLEY_OK)
        return rc;
    if ((rc = parley_store_conversation_create(s, "web", "en", "{\"x\":1}", id, &e)) == PARLEY_OK &&
        (rc = parley_store_commit_outcome(s, id, 1, "{}", &t, 1, &oc, NULL, &e)) == PARLEY_OK &&
        (rc = parley_store_rating_set(s, id, 5, "good", &e)) == PARLEY_OK &&
        (rc = parley_store_conversation_load(s, id, &c, &e)) == PARLEY_OK) {
        parley_store_conversation_release(&c);
        if ((rc = parley_store_turns_list(s, id, collect, &seen, &e)) == PARLEY_OK &&
            (rc = parley_store_handoffs_list(s, 5, ignore_handoff, NULL, &e)) == PARLEY_OK &&
            (rc = parley_store_rekey(s, NULL, NULL, &e)) == PARLEY_OK &&
            (rc = parley_store_sweep(s, &policy, parley__store_now_ms() + 7 * 86400000LL, &r,
                                     &e)) == PARLEY_OK &&
            (rc = parley_store_conversation_create(s, "web", "en", "{}", id, &e)) == PARLEY_OK &&
            (rc = parley_store_commit_outcome(s, id, 1, "{}", &t, 1, &oc, NULL, &e)) == PARLEY_OK)
            rc = parley_store_customer_erase(s, "x", NULL, &e);
    }
    parley_store_close(s);
    return rc;
}

static void test_oom_sweep(void **state)
{
    (void)state;
    long n;
    for (n = 0; n < 2000; n++) {
        failing_alloc_start(n);
        parley_err rc = oom_round();
        assert_int_equal(failing_alloc_stop(), 0);
        if (rc == PARLEY_OK)
            break;
        assert_int_equal(rc, PARLEY_ERR_NOMEM);
    }
    assert_true(n >= 10);
    assert_true(n < 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master_key_load),     cmocka_unit_test(test_no_clear_content),
        cmocka_unit_test(test_wrong_key),           cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_erase_shreds_backup), cmocka_unit_test(test_rekey),
        cmocka_unit_test(test_crash_after_key),     cmocka_unit_test(test_clear_then_encrypted),
        cmocka_unit_test(test_oom_sweep),           cmocka_unit_test(test_keyring_load),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_dir);
}
