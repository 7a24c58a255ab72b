/* The SQLite backend: one database file in WAL mode, synchronous=NORMAL by
 * default (an acknowledged commit survives a crash of the process; with
 * "?sync=full" in the URL also a crash of the machine), a busy timeout so several handles
 * (threads or processes) can share the file, foreign keys so erasing a
 * conversation erases its turns, and secure_delete so erased rows are
 * overwritten. The schema is brought up to date at open by numbered
 * migrations, each in its own transaction and recorded in parley_schema.
 * Statements are prepared once per handle and reused. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite_internal.h"

/* Migration N is migrations[N - 1]. Only ever append; never edit one that
 * has shipped. PARLEY_STORE_SCHEMA_VERSION must equal the count. */
static const char *const migrations[] = {
    /* 1: conversations and their transcripts */
    "CREATE TABLE conversations ("
    " id TEXT PRIMARY KEY,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " channel TEXT NOT NULL,"
    " language TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " version INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE turns ("
    " conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL,"
    " role TEXT NOT NULL CHECK (role IN ('customer', 'bot', 'agent', 'system')),"
    " text TEXT NOT NULL,"
    " intent TEXT,"
    " confidence REAL,"
    " created INTEGER NOT NULL,"
    " metadata TEXT,"
    " PRIMARY KEY (conversation_id, seq)"
    ") WITHOUT ROWID;",
    /* 2: retention sweeps find idle conversations by last update */
    "CREATE INDEX conversations_updated ON conversations(updated);",
    /* 3: outcomes (agent queue, analytics, ratings) and API keys */
    "ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT 'active';"
    "ALTER TABLE conversations ADD COLUMN intent TEXT;"
    "ALTER TABLE conversations ADD COLUMN customer_turns INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN handoff_reason TEXT;"
    "ALTER TABLE conversations ADD COLUMN handoff_queue TEXT;"
    "ALTER TABLE conversations ADD COLUMN handoff_summary TEXT;"
    "ALTER TABLE conversations ADD COLUMN handoff_at INTEGER;"
    "ALTER TABLE conversations ADD COLUMN rating INTEGER;"
    "ALTER TABLE conversations ADD COLUMN rating_comment TEXT;"
    "CREATE INDEX conversations_queue ON conversations(status, handoff_at);"
    "CREATE INDEX conversations_created ON conversations(created);"
    "CREATE TABLE api_keys ("
    " id TEXT PRIMARY KEY,"
    " role TEXT NOT NULL,"
    " hash BLOB NOT NULL,"
    " label TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " revoked INTEGER"
    ") WITHOUT ROWID;",
    /* 4: the consent ledger: grants and their use per period */
    "CREATE TABLE consents ("
    " id TEXT PRIMARY KEY,"
    " customer_id TEXT NOT NULL,"
    " scope TEXT NOT NULL,"
    " limits TEXT NOT NULL,"
    " channel TEXT NOT NULL,"
    " conversation_id TEXT,"
    " turn INTEGER,"
    " created INTEGER NOT NULL,"
    " expires INTEGER,"
    " revoked INTEGER"
    ") WITHOUT ROWID;"
    "CREATE INDEX consents_customer ON consents(customer_id, scope);"
    "CREATE TABLE consent_usage ("
    " grant_id TEXT NOT NULL REFERENCES consents(id) ON DELETE CASCADE,"
    " period TEXT NOT NULL,"
    " quantity REAL NOT NULL DEFAULT 0,"
    " amount REAL NOT NULL DEFAULT 0,"
    " uses INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (grant_id, period)"
    ") WITHOUT ROWID;",
    /* 5: whose conversation it is (once verified), for export and erasure */
    ("ALTER TABLE conversations ADD COLUMN customer_id TEXT;"
     "CREATE INDEX conversations_customer ON conversations(customer_id);"),
    /* 6: throttles: sliding-window event counters per opaque key */
    ("CREATE TABLE throttle ("
     " key TEXT NOT NULL,"
     " at INTEGER NOT NULL"
     ");"
     "CREATE INDEX throttle_key_at ON throttle(key, at);"),
    /* 7: facts about the database itself, e.g. the key store that holds
     * the data keys of its encrypted content (sqlite_keys.c) */
    "CREATE TABLE parley_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
    /* 8: the events ledger (proactive care): each event once, by the
     * sender's id; seq is the order recorded, never reused, for replay */
    ("CREATE TABLE events ("
     " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
     " id TEXT NOT NULL UNIQUE,"
     " type TEXT NOT NULL,"
     " at INTEGER NOT NULL,"
     " received INTEGER NOT NULL,"
     " doc TEXT NOT NULL,"
     " status TEXT NOT NULL DEFAULT 'received',"
     " outcome TEXT"
     ");"
     "CREATE INDEX events_status ON events(status, seq);"),
    /* 9: proactive effects, once per event, rule and customer, and the keys
     * of consent uses already counted (redeliveries count nothing twice) */
    ("CREATE TABLE effects ("
     " key TEXT PRIMARY KEY, event_id TEXT NOT NULL, rule TEXT NOT NULL,"
     " customer TEXT NOT NULL, at INTEGER NOT NULL, outcome TEXT NOT NULL,"
     " detail TEXT NOT NULL, action TEXT NOT NULL, message TEXT NOT NULL,"
     " channel TEXT NOT NULL, dedupe TEXT NOT NULL"
     ") WITHOUT ROWID;"
     "CREATE INDEX effects_customer ON effects(customer, at);"
     "CREATE TABLE consent_use_keys (key TEXT PRIMARY KEY, grant_id TEXT NOT NULL)"
     " WITHOUT ROWID;"
     "ALTER TABLE events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"),
    /* 10: effects kept in the order decided, with the key in an index of
     * its own: rows keyed by a random hash made every insert land on a
     * random page of the whole table, several times slower at scale */
    ("CREATE TABLE effects_v10 ("
     " key TEXT NOT NULL UNIQUE, event_id TEXT NOT NULL, rule TEXT NOT NULL,"
     " customer TEXT NOT NULL, at INTEGER NOT NULL, outcome TEXT NOT NULL,"
     " detail TEXT NOT NULL, action TEXT NOT NULL, message TEXT NOT NULL,"
     " channel TEXT NOT NULL, dedupe TEXT NOT NULL);"
     "INSERT INTO effects_v10 (key, event_id, rule, customer, at, outcome, detail, action,"
     " message, channel, dedupe) SELECT key, event_id, rule, customer, at, outcome, detail,"
     " action, message, channel, dedupe FROM effects ORDER BY at;"
     "DROP TABLE effects;"
     "ALTER TABLE effects_v10 RENAME TO effects;"
     "CREATE INDEX effects_customer ON effects(customer, at);"),
    /* 11: the review queue: customer turns the bot did not understand, by
     * reference to the transcript (deleted with the conversation) */
    ("CREATE TABLE review ("
     " id INTEGER PRIMARY KEY,"
     " conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
     " seq INTEGER NOT NULL, reason TEXT NOT NULL, language TEXT NOT NULL,"
     " predicted TEXT NOT NULL, confidence REAL NOT NULL, created INTEGER NOT NULL,"
     " status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'labelled', 'dismissed')),"
     " intent TEXT, labelled_by TEXT, labelled_at INTEGER,"
     " UNIQUE (conversation_id, seq));"
     "CREATE INDEX review_status ON review(status, id);"),
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == PARLEY_STORE_SCHEMA_VERSION,
               "PARLEY_STORE_SCHEMA_VERSION must match the migrations");

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_CREATE] = "INSERT INTO conversations (id, created, updated, channel, language, state, "
                  "version) VALUES (?1, ?2, ?2, ?3, ?4, ?5, 1)",
    [ST_LOAD] = "SELECT created, updated, channel, language, state, version, status, intent, "
                "customer_turns, handoff_reason, handoff_queue, handoff_summary, handoff_at, "
                "rating, rating_comment FROM conversations WHERE id = ?1",
    /* Outcome columns change only when a value is bound; the first intent
     * sticks; a hand-off reason stamps the time it was given. */
    [ST_UPDATE] = "UPDATE conversations SET state = ?1, updated = ?2, version = version + 1, "
                  "status = COALESCE(?5, status), intent = COALESCE(intent, ?6), "
                  "customer_turns = customer_turns + ?7, "
                  "handoff_reason = COALESCE(?8, handoff_reason), "
                  "handoff_queue = COALESCE(?9, handoff_queue), "
                  "handoff_summary = COALESCE(?10, handoff_summary), "
                  "handoff_at = CASE WHEN ?8 IS NULL THEN handoff_at ELSE ?2 END, "
                  "language = COALESCE(?11, language), "
                  "customer_id = COALESCE(?12, customer_id) "
                  "WHERE id = ?3 AND version = ?4",
    [ST_EXISTS] = "SELECT 1 FROM conversations WHERE id = ?1",
    /* The seq is chosen first (inside the write transaction) because a
     * sealed turn is bound to it. */
    [ST_INSERT_TURN] = "INSERT INTO turns (conversation_id, seq, role, text, intent, confidence, "
                       "created, metadata) VALUES (?1, ?8, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_NEXT_SEQ] = "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation_id = ?1",
    [ST_TURNS] = "SELECT seq, role, text, intent, confidence, created, metadata FROM turns "
                 "WHERE conversation_id = ?1 ORDER BY seq",
    [ST_DELETE] = "DELETE FROM conversations WHERE id = ?1",
    [ST_COUNT] = "SELECT COUNT(*) FROM conversations",
    [ST_HANDOFFS] = "SELECT id, language, COALESCE(intent, ''), COALESCE(handoff_queue, ''), "
                    "COALESCE(handoff_reason, ''), COALESCE(handoff_summary, ''), "
                    "COALESCE(handoff_at, updated), customer_turns FROM conversations "
                    "WHERE status = 'handed_off' ORDER BY handoff_at LIMIT ?1",
    [ST_OUTCOMES] = "SELECT strftime('%Y-%m-%d', created / 1000, 'unixepoch'), language, "
                    "COALESCE(intent, ''), COALESCE(handoff_reason, ''), COUNT(*), "
                    "COUNT(rating), COALESCE(SUM(rating), 0), SUM(rating = 1), SUM(rating = 2), "
                    "SUM(rating = 3), SUM(rating = 4), SUM(rating = 5) FROM conversations "
                    "WHERE created >= ?1 AND created < ?2 AND customer_turns > 0 "
                    "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
    [ST_RATING] = "UPDATE conversations SET rating = ?1, rating_comment = ?2 WHERE id = ?3",
    [ST_KEY_ADD] =
        "INSERT INTO api_keys (id, role, hash, label, created) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_KEY_FIND] = "SELECT role, hash, label, created, revoked FROM api_keys WHERE id = ?1",
    [ST_KEY_REVOKE] = "UPDATE api_keys SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
    [ST_KEYS] = "SELECT id, role, hash, label, created, revoked FROM api_keys ORDER BY created, id",
    [ST_CONSENT_ADD] = "INSERT INTO consents (id, customer_id, scope, limits, channel, "
                       "conversation_id, turn, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                       "?7, ?8, ?9)",
    [ST_CONSENTS] = "SELECT c.id, c.scope, c.limits, c.channel, COALESCE(c.conversation_id, ''), "
                    "COALESCE(c.turn, 0), c.created, COALESCE(c.expires, 0), "
                    "COALESCE(c.revoked, 0), COALESCE(u.quantity, 0), COALESCE(u.amount, 0), "
                    "COALESCE(u.uses, 0) FROM consents c LEFT JOIN consent_usage u ON "
                    "u.grant_id = c.id AND u.period = ?2 WHERE c.customer_id = ?1 "
                    "ORDER BY c.created, c.id",
    [ST_CONSENT_REVOKE] = "UPDATE consents SET revoked = ?3 WHERE customer_id = ?1 AND "
                          "(id = ?2 OR (?2 LIKE 'scope:%' AND scope = substr(?2, 7))) "
                          "AND revoked IS NULL",
    [ST_CONSENT_USE] = "INSERT INTO consent_usage (grant_id, period, quantity, amount, uses) "
                       "VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (grant_id, period) DO UPDATE SET "
                       "quantity = quantity + ?3, amount = amount + ?4, uses = uses + 1",
    [ST_CUSTOMER_ERASE] = "DELETE FROM conversations WHERE customer_id = ?1",
    [ST_CUSTOMER_ERASE_CONSENTS] = "DELETE FROM consents WHERE customer_id = ?1",
    [ST_CUSTOMER_CONVS] = "SELECT id FROM conversations WHERE customer_id = ?1 ORDER BY created",
    /* Throttle windows are (?2 - ?3, ?2]: ?2 is now, ?3 the window. */
    [ST_THROTTLE_PRUNE] = "DELETE FROM throttle WHERE key = ?1 AND at <= ?2 - ?3",
    [ST_THROTTLE_INSERT] = "INSERT INTO throttle (key, at) VALUES (?1, ?2)",
    [ST_THROTTLE_COUNT] =
        "SELECT COUNT(*) FROM throttle WHERE key = ?1 AND at > ?2 - ?3 AND at <= ?2",
    [ST_THROTTLE_CLEAR] = "DELETE FROM throttle WHERE key = ?1",
    /* Retention: the oldest idle conversations, a batch at a time. */
    [ST_SWEEP_COUNT_TURNS] = "SELECT COUNT(*) FROM turns WHERE conversation_id IN (SELECT id FROM "
                             "conversations WHERE updated < ?1 ORDER BY updated LIMIT ?2)",
    [ST_SWEEP_CONVERSATIONS] = "DELETE FROM conversations WHERE id IN (SELECT id FROM "
                               "conversations WHERE updated < ?1 ORDER BY updated LIMIT ?2) "
                               "RETURNING id",
    [ST_SWEEP_THROTTLE] = "DELETE FROM throttle WHERE at <= ?1",
    /* A redelivered id changes nothing; changes() tells new from duplicate. */
    [ST_EVENT_INSERT] = "INSERT INTO events (id, type, at, received, doc) VALUES (?1, ?2, ?3, ?4, "
                        "?5) ON CONFLICT (id) DO NOTHING",
    [ST_EVENTS_OLDEST] =
        "SELECT seq, id, type, at, received, doc, status, outcome, attempts FROM events "
        "WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [ST_EVENTS_NEWEST] =
        "SELECT seq, id, type, at, received, doc, status, outcome, attempts FROM events "
        "WHERE seq > ?1 ORDER BY seq DESC LIMIT ?2",
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

/* Reports SQLite failure `rc`, preferring the connection's detailed
 * message when it describes this very failure. */
parley_err sq_fail(sqlite3 *db, int rc, parley_error *err)
{
    const char *msg = sqlite3_errstr(rc);
    if (db && sqlite3_extended_errcode(db) == rc)
        msg = sqlite3_errmsg(db);
    return parley_error_set(err, code_of(rc), "%s", msg);
}

/* The cached statement `id`, prepared on first use; NULL after reporting. */
sqlite3_stmt *sq_stmt(struct sqlite_store *q, enum stmt_id id, parley_error *err)
{
    if (!q->stmt[id]) {
        const char *sql = id < ST_USE_KEY_FIND ? stmt_sql[id] : sq_effects_sql(id);
        int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            (void)sq_fail(q->db, rc, err);
            return NULL;
        }
    }
    return q->stmt[id];
}

/* Readies a statement for its next use. */
void sq_done(sqlite3_stmt *st)
{
    if (st) {
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
    }
}

/* Runs a statement that returns no rows. */
parley_err sq_run(struct sqlite_store *q, enum stmt_id id, parley_error *err)
{
    sqlite3_stmt *st = sq_stmt(q, id, err);
    if (!st)
        return err->code;
    int rc = sqlite3_step(st);
    parley_err e = rc == SQLITE_DONE ? PARLEY_OK : sq_fail(q->db, rc, err);
    sq_done(st);
    return e;
}

/* Undoes an open transaction after a failure; harmless when none is open
 * (SQLite may already have rolled back by itself). */
void sq_rollback(struct sqlite_store *q)
{
    if (!sqlite3_get_autocommit(q->db)) {
        parley_error ignored = PARLEY_ERROR_INIT;
        if (sq_run(q, ST_ROLLBACK, &ignored) != PARLEY_OK)
            PARLEY_LOG(PARLEY_LOG_WARN, "store: rollback failed: %s", ignored.msg);
    }
}

static parley_err exec(sqlite3 *db, const char *sql, parley_error *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? PARLEY_OK : sq_fail(db, rc, err);
}

/* Runs `sql`, which yields one integer, into `*out`. */
static parley_err query_int(sqlite3 *db, const char *sql, int64_t *out, parley_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    parley_err e = rc == SQLITE_OK ? PARLEY_OK : sq_fail(db, rc, err);
    (void)sqlite3_finalize(st);
    return e;
}

static parley_err migrate(struct sqlite_store *q, parley_error *err)
{
    parley_err rc;
    int64_t version = 0;
    const int64_t latest = PARLEY_STORE_SCHEMA_VERSION;

    rc = exec(q->db,
              "CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER PRIMARY KEY,"
              " applied INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 "
              "AS INTEGER)))",
              err);
    /* One transaction per migration; the version is re-read inside it so
     * two processes opening a new database at once do not both migrate. */
    while (rc == PARLEY_OK) {
        if ((rc = sq_run(q, ST_BEGIN, err)) != PARLEY_OK ||
            (rc = query_int(q->db, "SELECT COALESCE(MAX(version), 0) FROM parley_schema", &version,
                            err)) != PARLEY_OK)
            break;
        if (version > latest) {
            rc = parley_error_set(err, PARLEY_ERR_VERSION,
                                  "database schema version %lld is newer than this build "
                                  "supports (%lld); upgrade parley",
                                  (long long)version, (long long)latest);
            break;
        }
        if (version == latest) {
            rc = sq_run(q, ST_COMMIT, err);
            break;
        }
        char insert[96];
        (void)snprintf(insert, sizeof(insert), "INSERT INTO parley_schema (version) VALUES (%lld)",
                       (long long)version + 1);
        if ((rc = exec(q->db, migrations[version], err)) != PARLEY_OK ||
            (rc = exec(q->db, insert, err)) != PARLEY_OK ||
            (rc = sq_run(q, ST_COMMIT, err)) != PARLEY_OK) {
            parley_error_prefix(err, "migration %lld", (long long)version + 1);
            break;
        }
        PARLEY_LOG(PARLEY_LOG_INFO, "store: applied schema migration %lld", (long long)version + 1);
    }
    if (rc != PARLEY_OK)
        sq_rollback(q);
    else
        q->base.schema_version = (int)version;
    return rc;
}

static void sq_close(parley_store *s)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    for (int i = 0; i < ST__COUNT; i++)
        (void)sqlite3_finalize(q->stmt[i]);
    parley__keystore_close(q->ks);
    if (sqlite3_close(q->db) != SQLITE_OK)
        PARLEY_BUG("store: statements left open at close");
    parley__free(q);
}

static parley_err sq_create(parley_store *s, const char *id, const char *channel,
                            const char *language, const char *state, int64_t now, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_CREATE, err);
    struct sq_dek d;
    parley_err rc;

    if (!st)
        return err->code;
    sq_dek_init(&d, id);
    /* The data key is stored (durably) before the conversation: a crash in
     * between leaves a key with no conversation, which the sweeper
     * removes, never content without its key. */
    if (q->ks && (rc = parley__keystore_create(q->ks, id, now, &d.dek, err)) != PARLEY_OK)
        goto out;
    d.have = q->ks != NULL;
#ifdef PARLEY_TESTING
    if (parley__store_crash_after_key)
        _exit(0);
#endif
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 2, now);
    (void)sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 4, language, -1, SQLITE_STATIC);
    if ((rc = sq_bind_content(q, st, 5, &d, "state", 1, state, err)) != PARLEY_OK)
        goto out;
    int r = sqlite3_step(st);
    rc = r == SQLITE_DONE ? PARLEY_OK : sq_fail(q->db, r, err);
out:
    sq_done(st);
    sq_dek_release(&d);
    return rc;
}

/* A copy of text column `col`, or NULL after reporting. */
char *sq_dup(sqlite3_stmt *st, int col, parley_error *err)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    char *copy = t ? parley__strndup((const char *)t, (size_t)sqlite3_column_bytes(st, col)) : NULL;
    if (!copy)
        (void)parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    return copy;
}

static parley_err sq_load(parley_store *s, const char *id, parley_store_conversation *out,
                          parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    parley_store_conversation c;
    sqlite3_stmt *st = sq_stmt(q, ST_LOAD, err);
    parley_err rc = PARLEY_OK;
    struct sq_dek d;

    memset(&c, 0, sizeof(c));
    sq_dek_init(&d, id);
    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) {
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no such conversation");
        goto out;
    }
    if (r != SQLITE_ROW) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    (void)snprintf(c.id, sizeof(c.id), "%s", id);
    c.created = sqlite3_column_int64(st, 0);
    c.updated = sqlite3_column_int64(st, 1);
    c.version = sqlite3_column_int64(st, 5);
    c.customer_turns = sqlite3_column_int64(st, 8);
    c.handoff_at = sqlite3_column_int64(st, 12);
    c.rating = sqlite3_column_int(st, 13);
    if (!(c.channel = sq_dup(st, 2, err)) || !(c.language = sq_dup(st, 3, err)) ||
        !(c.status = sq_dup(st, 6, err))) {
        rc = err->code;
        goto out;
    }
    /* Content: the state is sealed with its version, so an older state
     * cannot be put back in its place. */
    if ((rc = sq_read_content(q, st, 4, &d, "state", c.version, &c.state, err)) != PARLEY_OK ||
        (rc = sq_read_content(q, st, 11, &d, "handoff_summary", 0, &c.handoff_summary, err)) !=
            PARLEY_OK ||
        (rc = sq_read_content(q, st, 14, &d, "rating_comment", 0, &c.rating_comment, err)) !=
            PARLEY_OK)
        goto out;
    if (!c.state) {
        rc = parley_error_set(err, PARLEY_ERR_CORRUPT, "it has no state");
        goto out;
    }
    /* Optional columns: NULL stays NULL. */
    char **opt[] = {&c.intent, &c.handoff_reason, &c.handoff_queue};
    const int cols[] = {7, 9, 10};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
        if (sqlite3_column_type(st, cols[i]) != SQLITE_NULL &&
            !(*opt[i] = sq_dup(st, cols[i], err))) {
            rc = err->code;
            goto out;
        }
    *out = c;
out:
    sq_done(st);
    sq_dek_release(&d);
    if (rc != PARLEY_OK)
        parley_store_conversation_release(&c);
    return rc;
}

static parley_err insert_turn(struct sqlite_store *q, struct sq_dek *d, const char *id,
                              const parley_store_turn *t, int64_t now, int64_t *seq_out,
                              parley_error *err)
{
    sqlite3_stmt *st = sq_stmt(q, ST_NEXT_SEQ, err);
    parley_err rc = PARLEY_OK;
    int64_t seq = 0;
    int r;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((r = sqlite3_step(st)) == SQLITE_ROW)
        seq = sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    if (rc != PARLEY_OK)
        return rc;
    if (!(st = sq_stmt(q, ST_INSERT_TURN, err)))
        return err->code;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, parley_store_role_name(t->role), -1, SQLITE_STATIC);
    if (t->intent) {
        (void)sqlite3_bind_text(st, 4, t->intent, -1, SQLITE_STATIC);
        (void)sqlite3_bind_double(st, 5, t->confidence);
    }
    (void)sqlite3_bind_int64(st, 6, now);
    (void)sqlite3_bind_int64(st, 8, seq);
    if ((rc = sq_bind_content(q, st, 3, d, "turns.text", seq, t->text, err)) != PARLEY_OK ||
        (rc = sq_bind_content(q, st, 7, d, "turns.metadata", seq, t->metadata, err)) != PARLEY_OK)
        goto out;
    if ((r = sqlite3_step(st)) != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    else if (seq_out)
        *seq_out = seq;
out:
    sq_done(st);
    return rc;
}

/* After an update matched no row: tells a stale version from a missing id. */
static parley_err why_unchanged(struct sqlite_store *q, const char *id, parley_error *err)
{
    sqlite3_stmt *st = sq_stmt(q, ST_EXISTS, err);
    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    parley_err rc;
    if (r == SQLITE_ROW)
        rc = parley_error_set(err, PARLEY_ERR_CONFLICT,
                              "it was changed since it was loaded; reload and retry");
    else if (r == SQLITE_DONE)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no such conversation");
    else
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

/* Binds text `v` to `col`, or leaves it NULL. */
static void bind_opt(sqlite3_stmt *st, int col, const char *v)
{
    if (v)
        (void)sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
}

static parley_err sq_commit(parley_store *s, const char *id, int64_t expected_version,
                            const char *state, const parley_store_turn *turns, size_t nturns,
                            const parley_store_outcome *oc, int64_t now, int64_t *seq_out,
                            parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    parley_err rc;
    int64_t seq = 0, first = 0;
    struct sq_dek d;

    sq_dek_init(&d, id);
    if ((rc = sq_run(q, ST_BEGIN, err)) != PARLEY_OK)
        goto out;
    if (!(st = sq_stmt(q, ST_UPDATE, err))) {
        rc = err->code;
        goto out;
    }
    if ((rc = sq_bind_content(q, st, 1, &d, "state", expected_version + 1, state, err)) !=
        PARLEY_OK)
        goto out;
    (void)sqlite3_bind_int64(st, 2, now);
    (void)sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 4, expected_version);
    (void)sqlite3_bind_int64(st, 7, oc ? oc->customer_turns : 0);
    if (oc) {
        bind_opt(st, 5, oc->status);
        bind_opt(st, 6, oc->intent);
        bind_opt(st, 8, oc->handoff_reason);
        bind_opt(st, 9, oc->handoff_queue);
        if ((rc = sq_bind_content(q, st, 10, &d, "handoff_summary", 0, oc->handoff_summary, err)) !=
            PARLEY_OK)
            goto out;
        bind_opt(st, 11, oc->language);
        bind_opt(st, 12, oc->customer_id);
    }
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    if (sqlite3_changes(q->db) == 0) {
        rc = why_unchanged(q, id, err);
        goto out;
    }
    for (size_t i = 0; i < nturns; i++) {
        if ((rc = insert_turn(q, &d, id, &turns[i], now, &seq, err)) != PARLEY_OK)
            goto out;
        if (i == 0)
            first = seq;
    }
    if ((rc = sq_run(q, ST_COMMIT, err)) != PARLEY_OK)
        goto out;
    if (seq_out && nturns)
        *seq_out = first;
    /* Whose key it is, for erasure; after the commit, as erasure also
     * finds keys through the conversations' own customer column. */
    if (q->ks && oc && oc->customer_id) {
        parley_error lerr = PARLEY_ERROR_INIT;
        if (parley__keystore_link(q->ks, id, oc->customer_id, &lerr) != PARLEY_OK)
            PARLEY_LOG(PARLEY_LOG_WARN, "store: cannot link the data key of %.64s: %s", id,
                       lerr.msg);
    }
out:
    sq_done(st);
    sq_dek_release(&d);
    if (rc != PARLEY_OK)
        sq_rollback(q);
    return rc;
}

static parley_err sq_turns(parley_store *s, const char *id, parley_store_turn_fn fn, void *userdata,
                           parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    parley_err rc;
    int r;
    struct sq_dek d;
    char *text = NULL, *meta = NULL;

    sq_dek_init(&d, id);
    /* A read transaction, so the turns belong to the conversation seen. */
    if ((rc = exec(q->db, "BEGIN", err)) != PARLEY_OK)
        goto out;
    if (!(st = sq_stmt(q, ST_EXISTS, err))) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    sq_done(st);
    if (r == SQLITE_DONE) {
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no such conversation");
        goto out;
    }
    if (r != SQLITE_ROW) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    if (!(st = sq_stmt(q, ST_TURNS, err))) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        parley_store_turn t;
        const char *role = (const char *)sqlite3_column_text(st, 1);
        memset(&t, 0, sizeof(t));
        t.seq = sqlite3_column_int64(st, 0);
        t.role = PARLEY_ROLE_SYSTEM;
        for (int i = PARLEY_ROLE_CUSTOMER; i <= PARLEY_ROLE_SYSTEM; i++)
            if (role && strcmp(role, parley_store_role_name((parley_store_role)i)) == 0)
                t.role = (parley_store_role)i;
        t.intent = (const char *)sqlite3_column_text(st, 3);
        t.confidence = sqlite3_column_double(st, 4);
        t.created = sqlite3_column_int64(st, 5);
        if ((rc = sq_read_content(q, st, 2, &d, "turns.text", t.seq, &text, err)) != PARLEY_OK ||
            (rc = sq_read_content(q, st, 6, &d, "turns.metadata", t.seq, &meta, err)) != PARLEY_OK)
            goto out;
        t.text = text;
        t.metadata = meta;
        if (!role || !t.text) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            goto out;
        }
        int stop = fn(&t, userdata);
        sq_content_free(text);
        sq_content_free(meta);
        text = meta = NULL;
        if (stop != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    sq_done(st);
    st = NULL;
    rc = sq_run(q, ST_COMMIT, err);
out:
    sq_done(st);
    sq_content_free(text);
    sq_content_free(meta);
    sq_dek_release(&d);
    if (rc != PARLEY_OK)
        sq_rollback(q);
    return rc;
}

static parley_err sq_erase(parley_store *s, const char *id, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_DELETE, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    else if (sqlite3_changes(q->db) == 0)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no such conversation");
    sq_done(st);
    /* The row first, then its key: a crash in between leaves a key with no
     * conversation, which the sweeper destroys. */
    if (rc == PARLEY_OK && q->ks) {
        char *convs[] = {(char *)id};
        rc = parley__keystore_shred(q->ks, NULL, convs, 1, NULL, err);
    }
    if (rc == PARLEY_OK)
        PARLEY_LOG(PARLEY_LOG_INFO, "store: erased conversation %.64s", id);
    return rc;
}

static parley_err sq_count(parley_store *s, size_t *out, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_COUNT, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *out = (size_t)sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

static const struct parley_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .create = sq_create,
    .load = sq_load,
    .commit = sq_commit,
    .turns = sq_turns,
    .erase = sq_erase,
    .count = sq_count,
    .handoffs = sq_handoffs,
    .outcomes = sq_outcomes,
    .rating = sq_rating,
    .key_add = sq_key_add,
    .key_find = sq_key_find,
    .key_revoke = sq_key_revoke,
    .keys = sq_keys,
    .consent_add = sq_consent_add,
    .consents = sq_consents,
    .consent_revoke = sq_consent_revoke,
    .consent_use = sq_consent_use,
    .customer_erase = sq_customer_erase,
    .customer_conversations = sq_customer_conversations,
    .throttle_hit = sq_throttle_hit,
    .throttle_count = sq_throttle_count,
    .throttle_clear = sq_throttle_clear,
    .events_record = sq_events_record,
    .events_list = sq_events_list,
    .events_settle = sq_events_settle,
    .consent_holders = sq_consent_holders,
    .review_add = sq_review_add,
    .review_list = sq_review_list,
    .review_label = sq_review_label,
    .effect_record = sq_effect_record,
    .effects_commit = sq_effects_commit,
    .effect_find = sq_effect_find,
    .effects_count = sq_effects_count,
    .effect_latest = sq_effect_latest,
    .rekey = sq_rekey,
    .sweep = sq_sweep,
};

parley_err parley__store_sqlite_open(const char *path, const char *url, int sync_full,
                                     const parley_store_options *opts, parley_store **out,
                                     parley_error *err)
{
    struct sqlite_store *q = parley__calloc(1, sizeof(*q));
    parley_err rc = PARLEY_OK;
    int64_t ignored;

    if (!q)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot open store '%s': out of memory",
                                url);
    q->base.ops = &sqlite_ops;
    int r = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (r != SQLITE_OK) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    (void)sqlite3_extended_result_codes(q->db, 1);
    (void)sqlite3_busy_timeout(q->db, 5000);
    /* Reading the header first tells a corrupt or foreign file apart. */
    if ((rc = query_int(q->db, "PRAGMA schema_version", &ignored, err)) != PARLEY_OK)
        goto out;
    sqlite3_stmt *st = NULL;
    r = sqlite3_prepare_v2(q->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (!mode || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0))
            rc = parley_error_set(err, PARLEY_ERR_IO, "cannot switch to WAL journal mode (got %s)",
                                  mode ? mode : "nothing");
        r = SQLITE_OK;
    }
    (void)sqlite3_finalize(st);
    if (rc != PARLEY_OK)
        goto out;
    if (r != SQLITE_OK) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    /* A page cache of up to 64 MB (grown as used): the ledgers' indexes
     * stay in memory instead of being read back from the file per lookup. */
    if ((rc = exec(q->db,
                   sync_full ? "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                               " PRAGMA secure_delete = ON; PRAGMA cache_size = -65536"
                             : "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                               " PRAGMA secure_delete = ON; PRAGMA cache_size = -65536",
                   err)) != PARLEY_OK ||
        (rc = migrate(q, err)) != PARLEY_OK ||
        (rc = parley__keystore_attach(q->db, path, opts, &q->ks, err)) != PARLEY_OK)
        goto out;
    q->base.encrypted = q->ks != NULL;
    *out = &q->base;
out:
    if (rc != PARLEY_OK) {
        if (q->db)
            sq_close(&q->base);
        else
            parley__free(q);
        parley_error_prefix(err, "cannot open store '%s'", url);
    }
    return rc;
}
