/* The SQLite backend's events ledger: a batch is recorded in one
 * BEGIN IMMEDIATE transaction, each event inserted unless its id is
 * already there (a redelivery), so a batch is all there or not at all and
 * concurrent intakes of the same event record it once. */
#include "store/sqlite_internal.h"

parley_err sq_events_record(parley_store *s, const parley_store_event *events, size_t n,
                            int64_t now, size_t *added, size_t *duplicates, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    size_t fresh = 0;
    parley_err rc;

    if ((rc = sq_run(q, ST_BEGIN, err)) != PARLEY_OK)
        return rc;
    if (!(st = sq_stmt(q, ST_EVENT_INSERT, err))) {
        rc = err->code;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const parley_store_event *ev = &events[i];
        (void)sqlite3_bind_text(st, 1, ev->id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, ev->type, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 3, ev->at);
        (void)sqlite3_bind_int64(st, 4, now);
        (void)sqlite3_bind_text(st, 5, ev->doc, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        sq_done(st);
        if (r != SQLITE_DONE) {
            rc = sq_fail(q->db, r, err);
            goto out;
        }
        fresh += (size_t)sqlite3_changes(q->db);
    }
    if ((rc = sq_run(q, ST_COMMIT, err)) != PARLEY_OK)
        goto out;
    if (added)
        *added = fresh;
    if (duplicates)
        *duplicates = n - fresh;
out:
    if (rc != PARLEY_OK)
        sq_rollback(q);
    return rc;
}

parley_err sq_events_list(parley_store *s, const parley_store_event_query *qy,
                          parley_store_event_fn fn, void *userdata, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q,
                               qy->status         ? ST_EVENTS_STATUS
                               : qy->newest_first ? ST_EVENTS_NEWEST
                                                  : ST_EVENTS_OLDEST,
                               err);
    parley_err rc = PARLEY_OK;
    int r;

    if (!st)
        return err->code;
    (void)sqlite3_bind_int64(st, 1, qy->after_seq);
    (void)sqlite3_bind_int64(st, 2, qy->limit ? (sqlite3_int64)qy->limit : -1);
    if (qy->status)
        (void)sqlite3_bind_text(st, 3, qy->status, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        parley_store_event ev;
        ev.seq = sqlite3_column_int64(st, 0);
        ev.id = (const char *)sqlite3_column_text(st, 1);
        ev.type = (const char *)sqlite3_column_text(st, 2);
        ev.at = sqlite3_column_int64(st, 3);
        ev.received = sqlite3_column_int64(st, 4);
        ev.doc = (const char *)sqlite3_column_text(st, 5);
        ev.status = (const char *)sqlite3_column_text(st, 6);
        ev.outcome = (const char *)sqlite3_column_text(st, 7);
        ev.attempts = sqlite3_column_int64(st, 8);
        if (!ev.id || !ev.type || !ev.doc || !ev.status) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (fn(&ev, userdata) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
out:
    sq_done(st);
    return rc;
}
