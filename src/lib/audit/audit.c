/* The audit log's storage: its own SQLite file (WAL, synchronous=NORMAL
 * unless "?sync=full", busy timeout, numbered migrations in
 * parley_schema), one mutex per handle, and the append path. An append
 * chains the record from the tail hash cached in the handle and costs one
 * INSERT; if another handle or process appended meanwhile the INSERT hits
 * the seq primary key, the tail is re-read and the record re-chained. Every
 * `interval` records a checkpoint (seq, hash, Ed25519 signature) is written
 * in the same transaction as its record. Retention (pruning the oldest
 * records) is in prune.c. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/internal.h"

/* Migration N is migrations[N - 1]. Only ever append. */
static const char *const migrations[] = {
    /* 1: the chain and its checkpoints */
    "CREATE TABLE audit_records ("
    " seq INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " conversation TEXT NOT NULL,"
    " customer TEXT NOT NULL,"
    " turn INTEGER NOT NULL,"
    " body TEXT NOT NULL,"
    " hash BLOB NOT NULL);"
    "CREATE INDEX audit_by_conversation ON audit_records(conversation)"
    " WHERE conversation <> '';"
    "CREATE INDEX audit_by_customer ON audit_records(customer) WHERE customer <> '';"
    "CREATE TABLE audit_checkpoints ("
    " seq INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " hash BLOB NOT NULL,"
    " public_key BLOB,"
    " signature BLOB);",
    /* 2: retention. The one row says records 1..seq were pruned and the
     * record seq + 1 chains from `hash` (see prune.c). */
    "CREATE TABLE audit_anchor ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq INTEGER NOT NULL,"
    " hash BLOB NOT NULL,"
    " time INTEGER NOT NULL);",
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == PARLEY_AUDIT_SCHEMA_VERSION,
               "PARLEY_AUDIT_SCHEMA_VERSION must match the migrations");

#define RECORD_COLUMNS "seq, time, kind, conversation, customer, turn, body"

static const char *const stmt_sql[AS__COUNT] = {
    [AS_BEGIN] = "BEGIN IMMEDIATE",
    [AS_COMMIT] = "COMMIT",
    [AS_ROLLBACK] = "ROLLBACK",
    [AS_INSERT] = "INSERT INTO audit_records (seq, time, kind, conversation, customer, turn, "
                  "body, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [AS_TAIL] = "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1",
    [AS_CHECKPOINT] = "INSERT OR IGNORE INTO audit_checkpoints (seq, time, hash, public_key, "
                      "signature) VALUES (?1, ?2, ?3, ?4, ?5)",
    [AS_HAS_CHECKPOINT] = "SELECT 1 FROM audit_checkpoints WHERE seq = ?1",
    [AS_BY_CONVERSATION] = "SELECT " RECORD_COLUMNS " FROM audit_records WHERE conversation = ?1 "
                           "AND conversation <> '' ORDER BY seq",
    [AS_BY_CUSTOMER] = "SELECT " RECORD_COLUMNS " FROM audit_records WHERE customer = ?1 "
                       "AND customer <> '' ORDER BY seq",
};

static parley_err code_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return PARLEY_ERR_NOMEM;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return PARLEY_ERR_CORRUPT;
    case SQLITE_TOOBIG:
        return PARLEY_ERR_LIMIT;
    default:
        return PARLEY_ERR_IO;
    }
}

parley_err parley__audit_sqlfail(sqlite3 *db, int rc, parley_error *err)
{
    const char *msg = sqlite3_errstr(rc);
    if (db && sqlite3_extended_errcode(db) == rc)
        msg = sqlite3_errmsg(db);
    return parley_error_set(err, code_of(rc), "%s", msg);
}

sqlite3_stmt *parley__audit_stmt(parley_audit *a, enum audit_stmt id, parley_error *err)
{
    if (!a->stmt[id]) {
        int rc = sqlite3_prepare_v3(a->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &a->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            (void)parley__audit_sqlfail(a->db, rc, err);
            return NULL;
        }
    }
    return a->stmt[id];
}

void parley__audit_done(sqlite3_stmt *st)
{
    if (st) {
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
    }
}

void parley__audit_lock(parley_audit *a)
{
    if (pthread_mutex_lock(&a->mu) != 0)
        PARLEY_BUG("audit: cannot lock the handle");
}

void parley__audit_unlock(parley_audit *a)
{
    (void)pthread_mutex_unlock(&a->mu);
}

static parley_err run(parley_audit *a, enum audit_stmt id, parley_error *err)
{
    sqlite3_stmt *st = parley__audit_stmt(a, id, err);
    if (!st)
        return err->code;
    int rc = sqlite3_step(st);
    parley_err e = rc == SQLITE_DONE ? PARLEY_OK : parley__audit_sqlfail(a->db, rc, err);
    parley__audit_done(st);
    return e;
}

static void rollback(parley_audit *a)
{
    if (!sqlite3_get_autocommit(a->db)) {
        parley_error ignored = PARLEY_ERROR_INIT;
        if (run(a, AS_ROLLBACK, &ignored) != PARLEY_OK)
            PARLEY_LOG(PARLEY_LOG_WARN, "audit: rollback failed: %s", ignored.msg);
    }
}

static parley_err exec(sqlite3 *db, const char *sql, parley_error *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? PARLEY_OK : parley__audit_sqlfail(db, rc, err);
}

static parley_err query_int(sqlite3 *db, const char *sql, int64_t *out, parley_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    parley_err e = rc == SQLITE_OK ? PARLEY_OK : parley__audit_sqlfail(db, rc, err);
    (void)sqlite3_finalize(st);
    return e;
}

/* ---- Canonical bytes ---------------------------------------------------- */

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* Fixed-width integers and length-prefixed strings, so that no two
 * different records have the same bytes. */
void parley__audit_hash(const unsigned char prev[PARLEY_AUDIT_HASH_SIZE],
                        const parley_audit_record *r, size_t kind_len, size_t conv_len,
                        size_t cust_len, size_t body_len, unsigned char out[PARLEY_AUDIT_HASH_SIZE])
{
    crypto_generichash_state st;
    unsigned char head[24], len[4];
    const char *parts[] = {r->kind, r->conversation ? r->conversation : "",
                           r->customer ? r->customer : "", r->body};
    const size_t lens[] = {kind_len, conv_len, cust_len, body_len};

    put64(head, (uint64_t)r->seq);
    put64(head + 8, (uint64_t)r->time);
    put64(head + 16, (uint64_t)r->turn);
    (void)crypto_generichash_init(&st, NULL, 0, PARLEY_AUDIT_HASH_SIZE);
    (void)crypto_generichash_update(&st, prev, PARLEY_AUDIT_HASH_SIZE);
    (void)crypto_generichash_update(&st, head, sizeof(head));
    for (size_t i = 0; i < 4; i++) {
        put32(len, (uint32_t)lens[i]);
        (void)crypto_generichash_update(&st, len, sizeof(len));
        (void)crypto_generichash_update(&st, (const unsigned char *)parts[i], lens[i]);
    }
    (void)crypto_generichash_final(&st, out, PARLEY_AUDIT_HASH_SIZE);
}

void parley__audit_signed_bytes(int64_t seq, int64_t time,
                                const unsigned char hash[PARLEY_AUDIT_HASH_SIZE],
                                unsigned char out[AUDIT_SIGNED_SIZE])
{
    static const unsigned char domain[16] = {'p', 'a', 'r', 'l', 'e', 'y', '-', 'a',
                                             'u', 'd', 'i', 't', '-', 'c', 'p', '1'};
    memcpy(out, domain, sizeof(domain)); /* "parley-audit-cp1", no NUL */
    put64(out + 16, (uint64_t)seq);
    put64(out + 24, (uint64_t)time);
    memcpy(out + 32, hash, PARLEY_AUDIT_HASH_SIZE);
}

/* ---- Open and close ----------------------------------------------------- */

static parley_err migrate(parley_audit *a, parley_error *err)
{
    parley_err rc;
    int64_t version = 0;

    rc = exec(a->db,
              "CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER PRIMARY KEY,"
              " applied INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 "
              "AS INTEGER)))",
              err);
    while (rc == PARLEY_OK) {
        if ((rc = run(a, AS_BEGIN, err)) != PARLEY_OK ||
            (rc = query_int(a->db, "SELECT COALESCE(MAX(version), 0) FROM parley_schema", &version,
                            err)) != PARLEY_OK)
            break;
        if (version > PARLEY_AUDIT_SCHEMA_VERSION) {
            rc = parley_error_set(err, PARLEY_ERR_VERSION,
                                  "audit schema version %lld is newer than this build supports "
                                  "(%d); upgrade parley",
                                  (long long)version, PARLEY_AUDIT_SCHEMA_VERSION);
            break;
        }
        if (version == PARLEY_AUDIT_SCHEMA_VERSION) {
            rc = run(a, AS_COMMIT, err);
            break;
        }
        char insert[96];
        (void)snprintf(insert, sizeof(insert), "INSERT INTO parley_schema (version) VALUES (%lld)",
                       (long long)version + 1);
        if ((rc = exec(a->db, migrations[version], err)) != PARLEY_OK ||
            (rc = exec(a->db, insert, err)) != PARLEY_OK ||
            (rc = run(a, AS_COMMIT, err)) != PARLEY_OK) {
            parley_error_prefix(err, "migration %lld", (long long)version + 1);
            break;
        }
    }
    if (rc != PARLEY_OK)
        rollback(a);
    return rc;
}

/* Re-reads the tail of the chain (another writer may have appended). */
static parley_err load_tail(parley_audit *a, parley_error *err)
{
    sqlite3_stmt *st = parley__audit_stmt(a, AS_TAIL, err);
    parley_err rc = PARLEY_OK;
    if (!st)
        return err->code;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const void *h = sqlite3_column_blob(st, 1);
        if (!h || sqlite3_column_bytes(st, 1) != PARLEY_AUDIT_HASH_SIZE) {
            rc = parley_error_set(err, PARLEY_ERR_CORRUPT,
                                  "the hash of the last record (seq %lld) is damaged; run "
                                  "parley audit verify",
                                  (long long)sqlite3_column_int64(st, 0));
        } else {
            a->last_seq = sqlite3_column_int64(st, 0);
            memcpy(a->last_hash, h, PARLEY_AUDIT_HASH_SIZE);
        }
    } else if (r == SQLITE_DONE) {
        a->last_seq = 0;
        memset(a->last_hash, 0, sizeof(a->last_hash));
    } else {
        rc = parley__audit_sqlfail(a->db, r, err);
    }
    parley__audit_done(st);
    return rc;
}

static parley_err setup(parley_audit *a, int sync_full, int read_only, parley_error *err)
{
    parley_err rc;
    int64_t version = 0;

    (void)sqlite3_extended_result_codes(a->db, 1);
    (void)sqlite3_busy_timeout(a->db, 5000);
    if ((rc = query_int(a->db, "PRAGMA schema_version", &version, err)) != PARLEY_OK)
        return rc;
    if (read_only) {
        if (query_int(a->db, "SELECT MAX(version) FROM parley_schema", &version, err) != PARLEY_OK)
            return parley_error_set(err, PARLEY_ERR_FORMAT, "not an audit log");
        if (version > PARLEY_AUDIT_SCHEMA_VERSION)
            return parley_error_set(err, PARLEY_ERR_VERSION,
                                    "audit schema version %lld is newer than this build supports",
                                    (long long)version);
        return load_tail(a, err);
    }
    if ((rc = exec(a->db, "PRAGMA journal_mode = WAL", err)) != PARLEY_OK ||
        (rc = exec(a->db, sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                   err)) != PARLEY_OK ||
        (rc = migrate(a, err)) != PARLEY_OK)
        return rc;
    return load_tail(a, err);
}

static void free_handle(parley_audit *a)
{
    for (int i = 0; i < AS__COUNT; i++)
        (void)sqlite3_finalize(a->stmt[i]);
    if (sqlite3_close(a->db) != SQLITE_OK)
        PARLEY_BUG("audit: statements left open at close");
    sodium_memzero(a->sk, sizeof(a->sk));
    parley__free(a);
}

parley_err parley_audit_open(const char *url, const parley_audit_options *opts, parley_audit **out,
                             parley_error *err)
{
    parley_audit_options o = {NULL, 0, 0};
    parley_audit *a = NULL;
    parley_err rc = PARLEY_OK;
    int sync_full = 0, mutex = 0;

    if (!url || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot open audit log: no url given");
    if (opts)
        o = *opts;
    if (o.checkpoint_interval < -1)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot open audit log '%s': checkpoint interval %lld is not a "
                                "positive count, 0 (default) or -1 (never)",
                                url, (long long)o.checkpoint_interval);
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot open audit log: libsodium failed");
    if (!(a = parley__calloc(1, sizeof(*a))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot open audit log: out of memory");
    a->interval =
        o.checkpoint_interval == 0 ? PARLEY_AUDIT_DEFAULT_INTERVAL : o.checkpoint_interval;
    const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    const char *q = strstr(path, "?sync=");
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    if (q && strcmp(q, "?sync=full") != 0 && strcmp(q, "?sync=normal") != 0) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "unknown option '%s' (expected ?sync=full or ?sync=normal)", q);
        goto out;
    }
    sync_full = q && strcmp(q, "?sync=full") == 0;
    if (plen == 0 || plen >= sizeof(a->path)) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID, "%s path", plen ? "too long a" : "empty");
        goto out;
    }
    memcpy(a->path, path, plen);
    a->path[plen] = '\0';
    if (o.signing_key_path) {
        if ((rc = parley__audit_load_secret(o.signing_key_path, a->sk, err)) != PARLEY_OK)
            goto out;
        (void)crypto_sign_ed25519_sk_to_pk(a->pk, a->sk);
        a->has_key = 1;
    }
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "no mutex");
        goto out;
    }
    mutex = 1;
    int flags = (o.flags & PARLEY_AUDIT_READ_ONLY) ? SQLITE_OPEN_READONLY
                                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int r = sqlite3_open_v2(a->path, &a->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (r != SQLITE_OK) {
        rc = parley__audit_sqlfail(a->db, r, err);
        goto out;
    }
    if ((rc = setup(a, sync_full, o.flags & PARLEY_AUDIT_READ_ONLY, err)) != PARLEY_OK)
        goto out;
    if (strcmp(a->path, ":memory:") == 0)
        a->path[0] = '\0';
    *out = a;
out:
    if (rc != PARLEY_OK) {
        if (mutex)
            (void)pthread_mutex_destroy(&a->mu);
        free_handle(a);
        parley_error_prefix(err, "cannot open audit log '%s'", url);
    }
    return rc;
}

void parley_audit_close(parley_audit *a)
{
    if (a) {
        (void)pthread_mutex_destroy(&a->mu);
        free_handle(a);
    }
}

/* ---- Append ------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static parley_err check_kind(const char *kind, size_t *len, parley_error *err)
{
    size_t n = 0;
    if (!kind || !(kind[0] >= 'a' && kind[0] <= 'z'))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "record kind must start with a lowercase letter");
    for (; kind[n]; n++) {
        char c = kind[n];
        if (n >= PARLEY_AUDIT_MAX_KIND)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "record kind is longer than %d characters",
                                    PARLEY_AUDIT_MAX_KIND);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "record kind '%.32s' has a character other than a-z, 0-9, _",
                                    kind);
    }
    *len = n;
    return PARLEY_OK;
}

static parley_err check_id(const char *what, const char *id, size_t *len, parley_error *err)
{
    size_t n = 0;
    for (; id && id[n]; n++) {
        if (n >= PARLEY_AUDIT_MAX_ID)
            return parley_error_set(err, PARLEY_ERR_INVALID, "%s id is longer than %d bytes", what,
                                    PARLEY_AUDIT_MAX_ID);
        if ((unsigned char)id[n] <= 0x20 || (unsigned char)id[n] >= 0x7f)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "%s id has a byte that is not printable ASCII", what);
    }
    *len = n;
    return PARLEY_OK;
}

int parley_audit_id_ok(const char *id)
{
    parley_error ignored = PARLEY_ERROR_INIT;
    size_t n;
    return id && check_id("", id, &n, &ignored) == PARLEY_OK;
}

/* Signs and stores a checkpoint at the handle's tail. */
static parley_err write_checkpoint(parley_audit *a, int64_t time, parley_error *err)
{
    unsigned char msg[AUDIT_SIGNED_SIZE], sig[crypto_sign_BYTES];
    sqlite3_stmt *st = parley__audit_stmt(a, AS_CHECKPOINT, err);
    if (!st)
        return err->code;
    (void)sqlite3_bind_int64(st, 1, a->last_seq);
    (void)sqlite3_bind_int64(st, 2, time);
    (void)sqlite3_bind_blob(st, 3, a->last_hash, PARLEY_AUDIT_HASH_SIZE, SQLITE_STATIC);
    if (a->has_key) {
        parley__audit_signed_bytes(a->last_seq, time, a->last_hash, msg);
        (void)crypto_sign_detached(sig, NULL, msg, sizeof(msg), a->sk);
        (void)sqlite3_bind_blob(st, 4, a->pk, sizeof(a->pk), SQLITE_STATIC);
        (void)sqlite3_bind_blob(st, 5, sig, sizeof(sig), SQLITE_STATIC);
    }
    int r = sqlite3_step(st);
    parley_err rc = r == SQLITE_DONE ? PARLEY_OK : parley__audit_sqlfail(a->db, r, err);
    parley__audit_done(st);
    return rc;
}

/* One attempt at inserting `r` as the next record; SQLITE_CONSTRAINT_*
 * in `*sqlrc` means someone else took that seq. */
static parley_err insert(parley_audit *a, parley_audit_record *r, const size_t lens[4],
                         unsigned char hash[PARLEY_AUDIT_HASH_SIZE], int *sqlrc, parley_error *err)
{
    sqlite3_stmt *st = parley__audit_stmt(a, AS_INSERT, err);
    if (!st)
        return err->code;
    r->seq = a->last_seq + 1;
    parley__audit_hash(a->last_hash, r, lens[0], lens[1], lens[2], lens[3], hash);
    (void)sqlite3_bind_int64(st, 1, r->seq);
    (void)sqlite3_bind_int64(st, 2, r->time);
    (void)sqlite3_bind_text(st, 3, r->kind, (int)lens[0], SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 4, r->conversation, (int)lens[1], SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 5, r->customer, (int)lens[2], SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 6, r->turn);
    (void)sqlite3_bind_text(st, 7, r->body, (int)lens[3], SQLITE_STATIC);
    (void)sqlite3_bind_blob(st, 8, hash, PARLEY_AUDIT_HASH_SIZE, SQLITE_STATIC);
    *sqlrc = sqlite3_step(st);
    parley_err rc = *sqlrc == SQLITE_DONE ? PARLEY_OK : parley__audit_sqlfail(a->db, *sqlrc, err);
    parley__audit_done(st);
    return rc;
}

/* Checks `rec` and readies its copy `r` (empty ids, the time) and the
 * lengths insert() hashes. */
static parley_err prepare(const parley_audit_record *rec, parley_audit_record *r, size_t lens[4],
                          parley_error *err)
{
    parley_err rc;
    *r = *rec;
    r->conversation = r->conversation ? r->conversation : "";
    r->customer = r->customer ? r->customer : "";
    if ((rc = check_kind(r->kind, &lens[0], err)) != PARLEY_OK ||
        (rc = check_id("conversation", r->conversation, &lens[1], err)) != PARLEY_OK ||
        (rc = check_id("customer", r->customer, &lens[2], err)) != PARLEY_OK)
        return rc;
    if (r->turn < 0)
        return parley_error_set(err, PARLEY_ERR_INVALID, "turn %lld is negative",
                                (long long)r->turn);
    lens[3] = r->body ? strnlen(r->body, PARLEY_AUDIT_MAX_BODY + 1) : 0;
    if ((rc = parley_audit_body_check(r->body, lens[3], err)) != PARLEY_OK)
        return rc;
    if (r->time == 0)
        r->time = now_ms();
    return PARLEY_OK;
}

/* Chains the `n` prepared records after the tail in one transaction, with
 * the checkpoints that fall due; the handle's tail moves only once it is
 * committed. Under the handle's lock. */
static parley_err chain(parley_audit *a, parley_audit_record *r, const size_t (*lens)[4], size_t n,
                        parley_error *err)
{
    unsigned char hash[PARLEY_AUDIT_HASH_SIZE];
    parley_err rc = PARLEY_OK;
    for (int attempt = 0;; attempt++) {
        int64_t seq0 = a->last_seq;
        unsigned char hash0[PARLEY_AUDIT_HASH_SIZE];
        int sqlrc = 0;
        memcpy(hash0, a->last_hash, sizeof(hash0));
        if ((rc = run(a, AS_BEGIN, err)) != PARLEY_OK)
            return rc;
        for (size_t i = 0; rc == PARLEY_OK && i < n; i++) {
            if ((rc = insert(a, &r[i], lens[i], hash, &sqlrc, err)) != PARLEY_OK)
                break;
            a->last_seq = r[i].seq;
            memcpy(a->last_hash, hash, sizeof(hash));
            if (a->interval > 0 && a->last_seq % a->interval == 0)
                rc = write_checkpoint(a, r[i].time, err);
        }
        if (rc == PARLEY_OK && (rc = run(a, AS_COMMIT, err)) == PARLEY_OK)
            return PARLEY_OK;
        rollback(a);
        a->last_seq = seq0;
        memcpy(a->last_hash, hash0, sizeof(hash0));
        if ((sqlrc & 0xff) != SQLITE_CONSTRAINT || attempt >= 100) {
            parley_error ignored = PARLEY_ERROR_INIT;
            (void)load_tail(a, &ignored);
            return rc;
        }
        /* Another writer took these seqs: chain from its records instead. */
        if ((rc = load_tail(a, err)) != PARLEY_OK)
            return rc;
    }
}

/* Appends checked records; the reserved kind is the callers' concern. */
static parley_err append_records(parley_audit *a, const parley_audit_record *recs, size_t n,
                                 int64_t *seq_out, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_audit_record one, *r = &one;
    size_t one_lens[1][4] = {{0}}, (*lens)[4] = one_lens;
    parley_err rc = PARLEY_OK;
    int locked = 0;

    if (!a || !recs || !n || n > PARLEY_AUDIT_MAX_BATCH)
        return parley_error_set(
            err, PARLEY_ERR_INVALID, "cannot append audit record: %s",
            !a ? "no log" : (n > PARLEY_AUDIT_MAX_BATCH ? "too many records" : "no record"));
    if (n > 1 &&
        (!(r = parley__calloc(n, sizeof(*r))) || !(lens = parley__calloc(n, sizeof(*lens))))) {
        rc = parley_error_set(&local, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = prepare(&recs[i], &r[i], lens[i], &local)) != PARLEY_OK) {
            if (n > 1)
                parley_error_prefix(&local, "record %zu", i + 1);
            goto out;
        }
    parley__audit_lock(a);
    locked = 1;
    if ((rc = chain(a, r, (const size_t(*)[4])lens, n, &local)) == PARLEY_OK && seq_out)
        *seq_out = a->last_seq;
out:
    if (locked)
        parley__audit_unlock(a);
    if (r != &one)
        parley__free(r);
    if (lens != one_lens)
        parley__free(lens);
    if (rc != PARLEY_OK) {
        parley_error_prefix(&local, "cannot append audit record");
        if (err)
            *err = local;
    }
    return rc;
}

parley_err parley_audit_append(parley_audit *a, const parley_audit_record *rec, int64_t *seq_out,
                               parley_error *err)
{
    return parley_audit_append_many(a, rec, rec ? 1 : 0, seq_out, err);
}

parley_err parley_audit_append_many(parley_audit *a, const parley_audit_record *recs, size_t n,
                                    int64_t *seq_out, parley_error *err)
{
    /* Verification trusts "retention" records to say what was pruned, so
     * only the log itself writes them. */
    for (size_t i = 0; recs && i < n; i++)
        if (recs[i].kind && strcmp(recs[i].kind, PARLEY_AUDIT_RETENTION_KIND) == 0)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot append audit record: kind '%s' is reserved for the "
                                    "log's own retention records (use parley_audit_prune)",
                                    PARLEY_AUDIT_RETENTION_KIND);
    return append_records(a, recs, n, seq_out, err);
}

parley_err parley__audit_append(parley_audit *a, const parley_audit_record *rec, int64_t *seq_out,
                                parley_error *err)
{
    return append_records(a, rec, rec ? 1 : 0, seq_out, err);
}

parley_err parley_audit_checkpoint(parley_audit *a, int64_t *seq_out, parley_error *err)
{
    parley_err rc;
    if (!a)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot write checkpoint: no log");
    parley__audit_lock(a);
    if ((rc = load_tail(a, err)) == PARLEY_OK) {
        if (a->last_seq == 0)
            rc = parley_error_set(err, PARLEY_ERR_EMPTY,
                                  "cannot write checkpoint: the audit log has no record");
        else if ((rc = write_checkpoint(a, now_ms(), err)) == PARLEY_OK && seq_out)
            *seq_out = a->last_seq;
    }
    parley__audit_unlock(a);
    return rc;
}

parley_err parley_audit_count(parley_audit *a, int64_t *out, parley_error *err)
{
    parley_err rc;
    if (!a || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot count audit records: no %s",
                                a ? "output" : "log");
    parley__audit_lock(a);
    if ((rc = load_tail(a, err)) == PARLEY_OK)
        *out = a->last_seq;
    parley__audit_unlock(a);
    return rc;
}

parley_err parley_audit_list(parley_audit *a, const parley_audit_filter *filter,
                             parley_audit_record_fn fn, void *userdata, parley_error *err)
{
    parley_err rc = PARLEY_OK;
    sqlite3_stmt *st;
    int r;

    if (!a || !filter || !fn || (!filter->conversation == !filter->customer))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot list audit records: give a conversation or a customer id");
    parley__audit_lock(a);
    st = parley__audit_stmt(a, filter->conversation ? AS_BY_CONVERSATION : AS_BY_CUSTOMER, err);
    if (!st) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_text(st, 1, filter->conversation ? filter->conversation : filter->customer,
                            -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        parley_audit_record rec;
        rec.seq = sqlite3_column_int64(st, 0);
        rec.time = sqlite3_column_int64(st, 1);
        rec.kind = (const char *)sqlite3_column_text(st, 2);
        rec.conversation = (const char *)sqlite3_column_text(st, 3);
        rec.customer = (const char *)sqlite3_column_text(st, 4);
        rec.turn = sqlite3_column_int64(st, 5);
        rec.body = (const char *)sqlite3_column_text(st, 6);
        if (!rec.kind || !rec.conversation || !rec.customer || !rec.body) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (fn(&rec, userdata) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = parley__audit_sqlfail(a->db, r, err);
out:
    parley__audit_done(st);
    parley__audit_unlock(a);
    return rc;
}
