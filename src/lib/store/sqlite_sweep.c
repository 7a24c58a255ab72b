/* The SQLite backend's retention sweeper and master-key rotation. The
 * sweeper deletes in batches, each its own short write transaction, so a
 * server sharing the file keeps serving; a batch's data keys are destroyed
 * after its rows, so a crash in between leaves keys without conversations,
 * which the next sweep destroys as orphans. */
#include <string.h>

#include "store/sqlite_internal.h"

#define SWEEP_BATCH 200
#define DAY_MS      (24 * 60 * 60 * 1000LL)
/* A key younger than this may belong to a conversation being created. */
#define ORPHAN_GRACE_MS (60 * 60 * 1000LL)

parley_err sq_rekey(parley_store *s, parley_store_progress_fn fn, void *userdata, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    if (!q->ks)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "the store was opened without master keys: nothing to rekey");
    return parley__keystore_rekey(q->ks, fn, userdata, err);
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        parley__free(ids[i]);
}

/* Deletes one batch of conversations last updated before `cutoff`; their
 * ids go to `ids` (SWEEP_BATCH slots), their count to `*n`. */
static parley_err sweep_batch(struct sqlite_store *q, int64_t cutoff, char **ids, size_t *n,
                              size_t *turns, parley_error *err)
{
    sqlite3_stmt *st = NULL;
    parley_err rc;
    int r;

    *n = 0;
    if ((rc = sq_run(q, ST_BEGIN, err)) != PARLEY_OK)
        return rc;
    if (!(st = sq_stmt(q, ST_SWEEP_COUNT_TURNS, err))) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_int64(st, 1, cutoff);
    (void)sqlite3_bind_int(st, 2, SWEEP_BATCH);
    if ((r = sqlite3_step(st)) != SQLITE_ROW) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    *turns += (size_t)sqlite3_column_int64(st, 0);
    sq_done(st);
    if (!(st = sq_stmt(q, ST_SWEEP_CONVERSATIONS, err))) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_int64(st, 1, cutoff);
    (void)sqlite3_bind_int(st, 2, SWEEP_BATCH);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (*n < SWEEP_BATCH && id && !(ids[(*n)++] = parley__strdup(id))) {
            (*n)--;
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            goto out;
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
    if (rc != PARLEY_OK) {
        sq_rollback(q);
        free_ids(ids, *n);
        *n = 0;
    }
    return rc;
}

/* 1 if conversation `conv` exists, 0 if not, -1 on failure. */
static int conversation_exists(const char *conv, void *userdata)
{
    struct sqlite_store *q = userdata;
    parley_error ignored = PARLEY_ERROR_INIT;
    sqlite3_stmt *st = sq_stmt(q, ST_EXISTS, &ignored);
    if (!st)
        return -1;
    (void)sqlite3_bind_text(st, 1, conv, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sq_done(st);
    return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

parley_err sq_sweep(parley_store *s, const parley_store_retention *policy, int64_t now,
                    parley_store_sweep_result *out, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    parley_store_sweep_result res;
    char *ids[SWEEP_BATCH];
    size_t n = 0;
    parley_err rc = PARLEY_OK;

    memset(&res, 0, sizeof(res));
    if (policy->transcript_days > 0) {
        int64_t cutoff = now - (int64_t)policy->transcript_days * DAY_MS;
        do {
            if ((rc = sweep_batch(q, cutoff, ids, &n, &res.turns, err)) != PARLEY_OK)
                break;
            res.conversations += n;
            if (q->ks && n > 0)
                rc = parley__keystore_shred(q->ks, NULL, ids, n, &res.data_keys, err);
            free_ids(ids, n);
        } while (rc == PARLEY_OK && n == SWEEP_BATCH);
    }
    if (rc == PARLEY_OK) {
        sqlite3_stmt *st = sq_stmt(q, ST_SWEEP_THROTTLE, err);
        if (!st) {
            rc = err->code;
        } else {
            (void)sqlite3_bind_int64(st, 1, now - DAY_MS);
            int r = sqlite3_step(st);
            if (r == SQLITE_DONE)
                res.throttle_events = (size_t)sqlite3_changes(q->db);
            else
                rc = sq_fail(q->db, r, err);
            sq_done(st);
        }
    }
    if (rc == PARLEY_OK && q->ks)
        rc = parley__keystore_orphans(q->ks, now - ORPHAN_GRACE_MS, conversation_exists, q,
                                      &res.data_keys, err);
    /* As after an erasure: nothing deleted may linger in the log. */
    if (rc == PARLEY_OK && (res.conversations || res.throttle_events))
        (void)sqlite3_exec(q->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (out && rc == PARLEY_OK)
        *out = res;
    return rc;
}
