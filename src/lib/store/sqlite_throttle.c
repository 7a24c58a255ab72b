/* The SQLite backend's throttles: sliding-window event counters per opaque
 * key, one row per event in table `throttle`. A hit prunes the key's
 * expired rows, records the event and counts the window inside one
 * BEGIN IMMEDIATE transaction, so hits from several handles or processes
 * are serialised and each sees a different count. */
#include "store/sqlite_internal.h"

/* Binds key, now and window (?1, ?2, ?3; as many as the statement has)
 * and steps a statement that returns no rows. */
static parley_err run_keyed(struct sqlite_store *q, enum stmt_id id, const char *key, int64_t now,
                            int64_t window, parley_error *err)
{
    sqlite3_stmt *st = sq_stmt(q, id, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    int params = sqlite3_bind_parameter_count(st);
    (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (params >= 2)
        (void)sqlite3_bind_int64(st, 2, now);
    if (params >= 3)
        (void)sqlite3_bind_int64(st, 3, window);
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

/* Counts the events of `key` in (now - window, now]. */
static parley_err count_window(struct sqlite_store *q, const char *key, int64_t now, int64_t window,
                               size_t *count, parley_error *err)
{
    sqlite3_stmt *st = sq_stmt(q, ST_THROTTLE_COUNT, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 2, now);
    (void)sqlite3_bind_int64(st, 3, window);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

parley_err sq_throttle_hit(parley_store *s, const char *key, int64_t now, int64_t window,
                           size_t *count, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    size_t n = 0;
    parley_err rc;

    /* BEGIN IMMEDIATE takes the write lock before anything is read: no
     * other writer can record an event between our insert and our count. */
    if ((rc = sq_run(q, ST_BEGIN, err)) != PARLEY_OK)
        return rc;
    if ((rc = run_keyed(q, ST_THROTTLE_PRUNE, key, now, window, err)) != PARLEY_OK ||
        (rc = run_keyed(q, ST_THROTTLE_INSERT, key, now, window, err)) != PARLEY_OK ||
        (rc = count_window(q, key, now, window, &n, err)) != PARLEY_OK ||
        (rc = sq_run(q, ST_COMMIT, err)) != PARLEY_OK) {
        sq_rollback(q);
        return rc;
    }
    if (count)
        *count = n;
    return PARLEY_OK;
}

parley_err sq_throttle_count(parley_store *s, const char *key, int64_t now, int64_t window,
                             size_t *count, parley_error *err)
{
    return count_window((struct sqlite_store *)s, key, now, window, count, err);
}

parley_err sq_throttle_clear(parley_store *s, const char *key, parley_error *err)
{
    return run_keyed((struct sqlite_store *)s, ST_THROTTLE_CLEAR, key, 0, 0, err);
}
