/* The key store: a second SQLite file, apart from the database, that holds
 * one data key per conversation wrapped by a master key, the id of that
 * master key and the customer the conversation belongs to. Destroying a
 * row here is what erases a conversation for good (crypto-shredding): its
 * content in the database, and in every copy of it, can no longer be
 * opened. The file is paired with its database by a random id recorded in
 * both, so a wrong or fresh key store is refused at open rather than
 * discovered at the first read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite_internal.h"

enum ks_stmt {
    KS_BEGIN,
    KS_COMMIT,
    KS_ROLLBACK,
    KS_PUT,
    KS_GET,
    KS_LINK,
    KS_DELETE_ONE,
    KS_DELETE_CUSTOMER,
    KS_NEXT_MASTER,
    KS_COUNT_OLD,
    KS_OLD_BATCH,
    KS_REWRAP,
    KS_PAGE,
    KS__COUNT
};

static const char *const ks_sql[KS__COUNT] = {
    [KS_BEGIN] = "BEGIN IMMEDIATE",
    [KS_COMMIT] = "COMMIT",
    [KS_ROLLBACK] = "ROLLBACK",
    [KS_PUT] = "INSERT INTO data_keys (conversation_id, dek_id, master_id, wrapped, created) "
               "VALUES (?1, ?2, ?3, ?4, ?5)",
    [KS_GET] = "SELECT dek_id, master_id, wrapped FROM data_keys WHERE conversation_id = ?1",
    [KS_LINK] = "UPDATE data_keys SET customer_id = ?2 WHERE conversation_id = ?1 AND "
                "customer_id IS NOT ?2",
    [KS_DELETE_ONE] = "DELETE FROM data_keys WHERE conversation_id = ?1",
    [KS_DELETE_CUSTOMER] = "DELETE FROM data_keys WHERE customer_id = ?1",
    /* Walks the distinct master ids by index seeks, however many rows. */
    [KS_NEXT_MASTER] = "SELECT MIN(master_id) FROM data_keys WHERE master_id > ?1",
    [KS_COUNT_OLD] = "SELECT COUNT(*) FROM data_keys WHERE master_id != ?1",
    [KS_OLD_BATCH] = "SELECT conversation_id, dek_id, master_id, wrapped FROM data_keys "
                     "WHERE master_id != ?1 LIMIT ?2",
    [KS_REWRAP] = "UPDATE data_keys SET master_id = ?2, wrapped = ?3 WHERE conversation_id = ?1 "
                  "AND master_id = ?4",
    [KS_PAGE] = "SELECT conversation_id FROM data_keys WHERE conversation_id > ?1 AND "
                "created < ?2 ORDER BY conversation_id LIMIT ?3",
};

#define KS_SCHEMA                                                                                  \
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"  \
    "CREATE TABLE IF NOT EXISTS data_keys ("                                                       \
    " conversation_id TEXT PRIMARY KEY,"                                                           \
    " dek_id INTEGER NOT NULL,"                                                                    \
    " master_id TEXT NOT NULL,"                                                                    \
    " wrapped BLOB NOT NULL,"                                                                      \
    " customer_id TEXT,"                                                                           \
    " created INTEGER NOT NULL"                                                                    \
    ") WITHOUT ROWID;"                                                                             \
    "CREATE INDEX IF NOT EXISTS data_keys_master ON data_keys(master_id);"                         \
    "CREATE INDEX IF NOT EXISTS data_keys_customer ON data_keys(customer_id);"                     \
    "PRAGMA user_version = 1;"

#define REKEY_BATCH 256
#define ORPHAN_PAGE 500
#define ORPHAN_SCAN 20000

struct parley__keystore {
    sqlite3 *db;
    sqlite3_stmt *stmt[KS__COUNT];
    struct parley__keyring *kr;
    char path[4096];
    /* The conversation last linked to its customer by this handle: every
     * commit of a verified conversation names the customer again. */
    char linked_conv[PARLEY_STORE_MAX_ID + 1], linked_customer[PARLEY_STORE_MAX_ID + 1];
    /* Where the last search for orphaned keys stopped ("" : the start). */
    char orphan_cursor[PARLEY_STORE_MAX_ID + 1];
};

static sqlite3_stmt *ks_stmt(struct parley__keystore *ks, enum ks_stmt id, parley_error *err)
{
    if (!ks->stmt[id]) {
        int rc = sqlite3_prepare_v3(ks->db, ks_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &ks->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            (void)sq_fail(ks->db, rc, err);
            return NULL;
        }
    }
    return ks->stmt[id];
}

static parley_err ks_run(struct parley__keystore *ks, enum ks_stmt id, parley_error *err)
{
    sqlite3_stmt *st = ks_stmt(ks, id, err);
    if (!st)
        return err->code;
    int rc = sqlite3_step(st);
    parley_err e = rc == SQLITE_DONE ? PARLEY_OK : sq_fail(ks->db, rc, err);
    sq_done(st);
    return e;
}

static void ks_rollback(struct parley__keystore *ks)
{
    if (!sqlite3_get_autocommit(ks->db)) {
        parley_error ignored = PARLEY_ERROR_INIT;
        (void)ks_run(ks, KS_ROLLBACK, &ignored);
    }
}

/* Copies the erased pages out of the write-ahead log into the (securely
 * deleting) file and truncates the log, so destroyed keys cannot be read
 * back from either; a reader elsewhere may delay it to a later one. */
static void checkpoint(sqlite3 *db)
{
    (void)sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

void parley__keystore_close(struct parley__keystore *ks)
{
    if (!ks)
        return;
    for (int i = 0; i < KS__COUNT; i++)
        (void)sqlite3_finalize(ks->stmt[i]);
    if (ks->db && sqlite3_close(ks->db) != SQLITE_OK)
        PARLEY_BUG("store: key store statements left open at close");
    parley__keyring_free(ks->kr);
    parley__free(ks);
}

/* Reads meta or parley_meta value `name` of `db` into `buf` ("" if none). */
static parley_err meta_get(sqlite3 *db, const char *table, const char *name, char *buf, size_t n,
                           parley_error *err)
{
    char sql[128];
    sqlite3_stmt *st = NULL;
    (void)snprintf(sql, sizeof(sql), "SELECT value FROM %s WHERE name = ?1", table);
    int r = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    buf[0] = '\0';
    if (r == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            const unsigned char *v = sqlite3_column_text(st, 0);
            (void)snprintf(buf, n, "%s", v ? (const char *)v : "");
            r = SQLITE_DONE;
        }
    }
    parley_err rc = r == SQLITE_DONE ? PARLEY_OK : sq_fail(db, r, err);
    (void)sqlite3_finalize(st);
    return rc;
}

/* Sets value `name` of `db` unless it is set already: the first of two
 * processes opening a fresh pair wins, and both then read its value. */
static parley_err meta_init(sqlite3 *db, const char *table, const char *name, const char *value,
                            parley_error *err)
{
    char sql[128];
    sqlite3_stmt *st = NULL;
    (void)snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO %s (name, value) VALUES (?1, ?2)",
                   table);
    int r = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (r == SQLITE_OK) {
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
    }
    parley_err rc = r == SQLITE_DONE ? PARLEY_OK : sq_fail(db, r, err);
    (void)sqlite3_finalize(st);
    return rc;
}

/* The key store beside database `path`: "parley.db" -> "parley-keys.db". */
static parley_err default_path(const char *path, char *buf, size_t n, parley_error *err)
{
    size_t len = strlen(path);
    if (strcmp(path, ":memory:") == 0)
        len = (size_t)snprintf(buf, n, ":memory:");
    else if (len > 3 && strcmp(path + len - 3, ".db") == 0)
        len = (size_t)snprintf(buf, n, "%.*s-keys.db", (int)(len - 3), path);
    else
        len = (size_t)snprintf(buf, n, "%s-keys.db", path);
    if (len >= n)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "key store path too long");
    return PARLEY_OK;
}

/* Ties database `data` and the key store together by the key store's id,
 * made on first use; a key store that is not the database's is refused. */
static parley_err pair(struct parley__keystore *ks, sqlite3 *data, parley_error *err)
{
    char ks_id[80], data_id[80];
    unsigned char raw[16];
    parley_err rc;

    if ((rc = parley__store_random(raw, sizeof(raw), err)) != PARLEY_OK)
        return rc;
    (void)sodium_bin2hex(ks_id, sizeof(ks_id), raw, sizeof(raw));
    if ((rc = meta_init(ks->db, "meta", "store_id", ks_id, err)) != PARLEY_OK ||
        (rc = meta_get(ks->db, "meta", "store_id", ks_id, sizeof(ks_id), err)) != PARLEY_OK ||
        (rc = meta_init(data, "parley_meta", "key_store", ks_id, err)) != PARLEY_OK ||
        (rc = meta_get(data, "parley_meta", "key_store", data_id, sizeof(data_id), err)) !=
            PARLEY_OK)
        return rc;
    if (strcmp(data_id, ks_id) != 0)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "key store '%s' is not this database's (its data keys are in key "
                                "store %.32s, this one is %.32s)",
                                ks->path, data_id, ks_id);
    return PARLEY_OK;
}

/* Every master key that wraps a data key must be in the keyring. */
static parley_err check_masters(struct parley__keystore *ks, parley_error *err)
{
    sqlite3_stmt *st = ks_stmt(ks, KS_NEXT_MASTER, err);
    char last[64] = "";
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    for (;;) {
        (void)sqlite3_bind_text(st, 1, last, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        if (r != SQLITE_ROW) {
            rc = sq_fail(ks->db, r, err);
            break;
        }
        const unsigned char *id = sqlite3_column_text(st, 0);
        if (!id)
            break;
        if (!parley__keyring_find(ks->kr, (const char *)id)) {
            rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                  "this data was encrypted with master key %.16s, which is not "
                                  "configured (give it, or an older key, as an old master key)",
                                  (const char *)id);
            break;
        }
        (void)snprintf(last, sizeof(last), "%s", (const char *)id);
        sq_done(st);
    }
    sq_done(st);
    return rc;
}

static parley_err ks_exec(sqlite3 *db, const char *sql, parley_error *err)
{
    int r = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return r == SQLITE_OK ? PARLEY_OK : sq_fail(db, r, err);
}

parley_err parley__keystore_attach(sqlite3 *data, const char *path,
                                   const parley_store_options *opts, struct parley__keystore **out,
                                   parley_error *err)
{
    struct parley__keystore *ks = NULL;
    char paired[80];
    parley_err rc;
    int64_t version = 0;

    *out = NULL;
    if (!opts || opts->nmaster_keys == 0) {
        /* No keyring: fine unless this database was ever given one. */
        if ((rc = meta_get(data, "parley_meta", "key_store", paired, sizeof(paired), err)) ==
                PARLEY_OK &&
            paired[0])
            rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                  "this database holds encrypted conversations (data keys in key "
                                  "store %.32s); open it with its master key",
                                  paired);
        return rc;
    }
    if (!(ks = parley__calloc(1, sizeof(*ks))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    if ((rc = parley__keyring_new(opts->master_keys, opts->nmaster_keys, &ks->kr, err)) !=
        PARLEY_OK)
        goto out;
    if (opts->key_store && opts->key_store[0]) {
        if (strlen(opts->key_store) >= sizeof(ks->path)) {
            rc = parley_error_set(err, PARLEY_ERR_LIMIT, "key store path too long");
            goto out;
        }
        (void)snprintf(ks->path, sizeof(ks->path), "%s", opts->key_store);
    } else if ((rc = default_path(path, ks->path, sizeof(ks->path), err)) != PARLEY_OK) {
        goto out;
    }
    if (strcmp(ks->path, ":memory:") != 0) {
        /* Create it private: SQLite would use the umask, and the log and
         * shared-memory files take the main file's mode. Only a new file:
         * closing a descriptor of a file SQLite has open in this process
         * drops SQLite's POSIX locks on it. */
        int fd = open(ks->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            rc = parley_error_set(err, PARLEY_ERR_IO, "cannot open key store '%s': %s", ks->path,
                                  strerror(errno));
            goto out;
        }
        if (fd >= 0)
            (void)close(fd);
    }
    int r = sqlite3_open_v2(ks->path, &ks->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (r != SQLITE_OK) {
        rc = sq_fail(ks->db, r, err);
        goto out;
    }
    (void)sqlite3_extended_result_codes(ks->db, 1);
    (void)sqlite3_busy_timeout(ks->db, 5000);
    /* synchronous=FULL: a data key is durable before the content it seals
     * is written, even across a power loss. */
    if ((rc = ks_exec(ks->db,
                      "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                      " PRAGMA secure_delete = ON",
                      err)) != PARLEY_OK)
        goto out;
    sqlite3_stmt *st = NULL;
    r = sqlite3_prepare_v2(ks->db, "PRAGMA user_version", -1, &st, NULL);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        version = sqlite3_column_int64(st, 0);
        r = SQLITE_OK;
    }
    (void)sqlite3_finalize(st);
    if (r != SQLITE_OK) {
        rc = sq_fail(ks->db, r, err);
        goto out;
    }
    if (version > 1) {
        rc = parley_error_set(err, PARLEY_ERR_VERSION,
                              "key store version %lld is newer than this build supports; "
                              "upgrade parley",
                              (long long)version);
        goto out;
    }
    if ((version == 0 &&
         (rc = ks_exec(ks->db, "BEGIN IMMEDIATE;" KS_SCHEMA "COMMIT", err)) != PARLEY_OK) ||
        (rc = pair(ks, data, err)) != PARLEY_OK || (rc = check_masters(ks, err)) != PARLEY_OK)
        goto out;
    *out = ks;
out:
    if (rc != PARLEY_OK) {
        if (ks && ks->db)
            (void)sqlite3_exec(ks->db, "ROLLBACK", NULL, NULL, NULL);
        if (ks && ks->path[0] && rc != PARLEY_ERR_NOMEM)
            parley_error_prefix(err, "key store '%s'", ks->path);
        parley__keystore_close(ks);
    }
    return rc;
}

parley_err parley__keystore_get(struct parley__keystore *ks, const char *conv,
                                struct parley__dek *dek, parley_error *err)
{
    sqlite3_stmt *st = ks_stmt(ks, KS_GET, err);
    parley_err rc;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, conv, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        rc = parley__dek_unwrap(ks->kr, (const char *)sqlite3_column_text(st, 1), conv,
                                (uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 2),
                                (size_t)sqlite3_column_bytes(st, 2), dek, err);
    else if (r == SQLITE_DONE)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND,
                              "its data key was destroyed (the conversation was erased)");
    else
        rc = sq_fail(ks->db, r, err);
    sq_done(st);
    return rc;
}

parley_err parley__keystore_create(struct parley__keystore *ks, const char *conv, int64_t now,
                                   struct parley__dek *dek, parley_error *err)
{
    unsigned char wrapped[PARLEY__WRAPPED_BYTES];
    sqlite3_stmt *st;
    parley_err rc;

    if ((rc = parley__dek_new(dek, err)) != PARLEY_OK)
        return rc;
    if (!(st = ks_stmt(ks, KS_PUT, err)))
        return err->code;
    parley__dek_wrap(ks->kr, conv, dek, wrapped);
    (void)sqlite3_bind_text(st, 1, conv, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 2, dek->id);
    (void)sqlite3_bind_text(st, 3, ks->kr->keys[0].id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_blob(st, 4, wrapped, sizeof(wrapped), SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 5, now);
    int r = sqlite3_step(st);
    rc = r == SQLITE_DONE ? PARLEY_OK : sq_fail(ks->db, r, err);
    sq_done(st);
    return rc;
}

parley_err parley__keystore_link(struct parley__keystore *ks, const char *conv,
                                 const char *customer, parley_error *err)
{
    if (strcmp(ks->linked_conv, conv) == 0 && strcmp(ks->linked_customer, customer) == 0)
        return PARLEY_OK;
    sqlite3_stmt *st = ks_stmt(ks, KS_LINK, err);
    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, conv, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, customer, -1, SQLITE_STATIC);
    /* A link need not survive a power loss (erasure also finds keys by the
     * conversations' customer column): spare the commit its fsync. */
    (void)sqlite3_exec(ks->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    int r = sqlite3_step(st);
    parley_err rc = r == SQLITE_DONE ? PARLEY_OK : sq_fail(ks->db, r, err);
    sq_done(st);
    (void)sqlite3_exec(ks->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    if (rc == PARLEY_OK) {
        (void)snprintf(ks->linked_conv, sizeof(ks->linked_conv), "%s", conv);
        (void)snprintf(ks->linked_customer, sizeof(ks->linked_customer), "%s", customer);
    }
    return rc;
}

/* Deletes with statement `id` bound to `arg`; adds the rows to `*n`. */
static parley_err delete_by(struct parley__keystore *ks, enum ks_stmt id, const char *arg,
                            size_t *n, parley_error *err)
{
    sqlite3_stmt *st = ks_stmt(ks, id, err);
    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    parley_err rc = r == SQLITE_DONE ? PARLEY_OK : sq_fail(ks->db, r, err);
    if (rc == PARLEY_OK)
        *n += (size_t)sqlite3_changes(ks->db);
    sq_done(st);
    return rc;
}

parley_err parley__keystore_shred(struct parley__keystore *ks, const char *customer,
                                  char *const *convs, size_t nconvs, size_t *removed,
                                  parley_error *err)
{
    size_t n = 0;
    parley_err rc;

    if ((rc = ks_run(ks, KS_BEGIN, err)) != PARLEY_OK)
        return rc;
    if (customer)
        rc = delete_by(ks, KS_DELETE_CUSTOMER, customer, &n, err);
    for (size_t i = 0; rc == PARLEY_OK && i < nconvs; i++)
        rc = delete_by(ks, KS_DELETE_ONE, convs[i], &n, err);
    if (rc == PARLEY_OK)
        rc = ks_run(ks, KS_COMMIT, err);
    if (rc != PARLEY_OK) {
        ks_rollback(ks);
        return rc;
    }
    ks->linked_conv[0] = '\0';
    if (n > 0)
        checkpoint(ks->db);
    if (removed)
        *removed += n;
    return PARLEY_OK;
}

/* One batch of rewrapping, in one transaction; `*done` gets its size. */
static parley_err rekey_batch(struct parley__keystore *ks, size_t *done, parley_error *err)
{
    struct row {
        char conv[PARLEY_STORE_MAX_ID + 1], master[PARLEY_STORE_MASTER_KEY_ID_SIZE];
        uint32_t dek_id;
        unsigned char wrapped[PARLEY__WRAPPED_BYTES];
    } *rows = parley__calloc(REKEY_BATCH, sizeof(*rows));
    struct parley__dek dek;
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    parley_err rc;
    int r = SQLITE_DONE;

    if (!rows)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    if ((rc = ks_run(ks, KS_BEGIN, err)) != PARLEY_OK)
        goto out;
    if (!(st = ks_stmt(ks, KS_OLD_BATCH, err))) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_text(st, 1, ks->kr->keys[0].id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int(st, 2, REKEY_BATCH);
    while (n < REKEY_BATCH && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *conv = sqlite3_column_text(st, 0),
                            *master = sqlite3_column_text(st, 2);
        const void *w = sqlite3_column_blob(st, 3);
        if (!conv || !master || !w || sqlite3_column_bytes(st, 3) != PARLEY__WRAPPED_BYTES) {
            rc = parley_error_set(err, PARLEY_ERR_CORRUPT, "a data key row is damaged");
            goto out;
        }
        (void)snprintf(rows[n].conv, sizeof(rows[n].conv), "%s", (const char *)conv);
        (void)snprintf(rows[n].master, sizeof(rows[n].master), "%s", (const char *)master);
        rows[n].dek_id = (uint32_t)sqlite3_column_int64(st, 1);
        memcpy(rows[n].wrapped, w, PARLEY__WRAPPED_BYTES);
        n++;
    }
    if (n < REKEY_BATCH && r != SQLITE_DONE) {
        rc = sq_fail(ks->db, r, err);
        goto out;
    }
    sq_done(st);
    st = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char wrapped[PARLEY__WRAPPED_BYTES];
        if ((rc = parley__dek_unwrap(ks->kr, rows[i].master, rows[i].conv, rows[i].dek_id,
                                     rows[i].wrapped, PARLEY__WRAPPED_BYTES, &dek, err)) !=
            PARLEY_OK) {
            parley_error_prefix(err, "conversation '%s'", rows[i].conv);
            goto out;
        }
        parley__dek_wrap(ks->kr, rows[i].conv, &dek, wrapped);
        if (!(st = ks_stmt(ks, KS_REWRAP, err))) {
            rc = err->code;
            goto out;
        }
        (void)sqlite3_bind_text(st, 1, rows[i].conv, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, ks->kr->keys[0].id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_blob(st, 3, wrapped, sizeof(wrapped), SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 4, rows[i].master, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        sq_done(st);
        st = NULL;
        if (r != SQLITE_DONE) {
            rc = sq_fail(ks->db, r, err);
            goto out;
        }
    }
    rc = ks_run(ks, KS_COMMIT, err);
    *done = n;
out:
    sq_done(st);
    sodium_memzero(&dek, sizeof(dek));
    parley__free(rows);
    if (rc != PARLEY_OK)
        ks_rollback(ks);
    return rc;
}

parley_err parley__keystore_rekey(struct parley__keystore *ks, parley_store_progress_fn fn,
                                  void *userdata, parley_error *err)
{
    sqlite3_stmt *st = ks_stmt(ks, KS_COUNT_OLD, err);
    size_t total = 0, done = 0, n;
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, ks->kr->keys[0].id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        total = (size_t)sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(ks->db, r, err);
    sq_done(st);
    if (fn && rc == PARLEY_OK)
        fn(0, total, userdata);
    /* Small transactions: each holds the key store's write lock only for
     * one batch, so servers keep creating conversations meanwhile. */
    do {
        n = 0;
        if (rc == PARLEY_OK && (rc = rekey_batch(ks, &n, err)) == PARLEY_OK && n > 0) {
            done += n;
            if (fn)
                fn(done, total > done ? total : done, userdata);
        }
    } while (rc == PARLEY_OK && n > 0);
    if (rc == PARLEY_OK && done > 0) {
        checkpoint(ks->db);
        PARLEY_LOG(PARLEY_LOG_INFO, "store: rewrapped %zu data keys with master key %s", done,
                   ks->kr->keys[0].id);
    }
    return rc;
}

parley_err parley__keystore_orphans(struct parley__keystore *ks, int64_t before,
                                    int (*exists)(const char *conv, void *userdata), void *userdata,
                                    size_t *removed, parley_error *err)
{
    char *after = ks->orphan_cursor;
    char **gone = NULL;
    size_t ngone = 0, cap = 0, seen = 0;
    parley_err rc = PARLEY_OK;
    int more = 1;

    /* Pages of keys, checked one by one against the database, at most
     * ORPHAN_SCAN per call so a sweep's time is bounded however large the
     * key store: the next call goes on where this one stopped, and starts
     * over after the end. The deletes come after the walk, in one
     * transaction. */
    while (rc == PARLEY_OK && more && seen < ORPHAN_SCAN) {
        sqlite3_stmt *st = ks_stmt(ks, KS_PAGE, err);
        int r, rows = 0;
        if (!st) {
            rc = err->code;
            break;
        }
        (void)sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT);
        (void)sqlite3_bind_int64(st, 2, before);
        (void)sqlite3_bind_int(st, 3, ORPHAN_PAGE);
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            const char *conv = (const char *)sqlite3_column_text(st, 0);
            rows++;
            seen++;
            if (!conv)
                continue;
            (void)snprintf(after, sizeof(ks->orphan_cursor), "%s", conv);
            int e = exists(conv, userdata);
            if (e < 0) {
                rc = parley_error_set(err, PARLEY_ERR_IO, "cannot look up a conversation");
                break;
            }
            if (e)
                continue;
            if (ngone == cap) {
                size_t ncap = cap ? 2 * cap : 16;
                char **g = parley__realloc(gone, ncap * sizeof(*g));
                if (!g) {
                    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                    break;
                }
                gone = g;
                cap = ncap;
            }
            if (!(gone[ngone] = parley__strdup(conv))) {
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                break;
            }
            ngone++;
        }
        if (rc == PARLEY_OK && r != SQLITE_ROW && r != SQLITE_DONE)
            rc = sq_fail(ks->db, r, err);
        sq_done(st);
        more = rows == ORPHAN_PAGE;
    }
    if (!more)
        after[0] = '\0';
    if (rc == PARLEY_OK && ngone > 0)
        rc = parley__keystore_shred(ks, NULL, gone, ngone, removed, err);
    for (size_t i = 0; i < ngone; i++)
        parley__free(gone[i]);
    parley__free(gone);
    return rc;
}
