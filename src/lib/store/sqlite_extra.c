/* The SQLite backend's queries beyond one conversation: the queue of
 * hand-offs, outcome aggregates for analytics, ratings and API keys. */
#include <string.h>

#include "store/sqlite_internal.h"

const char *sq_text_or_empty(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

parley_err sq_handoffs(parley_store *s, size_t limit, parley_store_handoff_fn fn, void *userdata,
                       parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_HANDOFFS, err);
    parley_err rc = PARLEY_OK;
    int r;

    if (!st)
        return err->code;
    (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        parley_store_handoff h;
        struct sq_dek d;
        char *summary = NULL;
        h.id = sq_text_or_empty(st, 0);
        h.language = sq_text_or_empty(st, 1);
        h.intent = sq_text_or_empty(st, 2);
        h.queue = sq_text_or_empty(st, 3);
        h.reason = sq_text_or_empty(st, 4);
        h.since = sqlite3_column_int64(st, 6);
        h.customer_turns = sqlite3_column_int64(st, 7);
        sq_dek_init(&d, h.id);
        rc = sq_read_content(q, st, 5, &d, "handoff_summary", 0, &summary, err);
        sq_dek_release(&d);
        /* A conversation whose key was destroyed (a backup restored after
         * an erasure) waits without its summary rather than hiding the
         * whole queue. */
        if (rc == PARLEY_ERR_NOTFOUND) {
            parley_error none = PARLEY_ERROR_INIT;
            *err = none;
            rc = PARLEY_OK;
        }
        if (rc != PARLEY_OK)
            break;
        h.summary = summary ? summary : "";
        int stop = fn(&h, userdata);
        sq_content_free(summary);
        if (stop != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (rc == PARLEY_OK && r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

parley_err sq_outcomes(parley_store *s, int64_t from, int64_t to, parley_store_outcome_fn fn,
                       void *userdata, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_OUTCOMES, err);
    parley_err rc = PARLEY_OK;
    int r;

    if (!st)
        return err->code;
    (void)sqlite3_bind_int64(st, 1, from);
    (void)sqlite3_bind_int64(st, 2, to);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        parley_store_outcome_row row;
        row.day = sq_text_or_empty(st, 0);
        row.language = sq_text_or_empty(st, 1);
        row.intent = sq_text_or_empty(st, 2);
        row.handoff_reason = sq_text_or_empty(st, 3);
        row.conversations = sqlite3_column_int64(st, 4);
        row.ratings = sqlite3_column_int64(st, 5);
        row.rating_sum = sqlite3_column_int64(st, 6);
        for (int i = 0; i < 5; i++)
            row.rating_count[i] = sqlite3_column_int64(st, 7 + i);
        if (fn(&row, userdata) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

parley_err sq_rating(parley_store *s, const char *id, int score, const char *comment,
                     parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_RATING, err);
    parley_err rc = PARLEY_OK;
    struct sq_dek d;

    if (!st)
        return err->code;
    sq_dek_init(&d, id);
    (void)sqlite3_bind_int(st, 1, score);
    if ((rc = sq_bind_content(q, st, 2, &d, "rating_comment", 0, comment, err)) != PARLEY_OK)
        goto out;
    (void)sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    else if (sqlite3_changes(q->db) == 0)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no such conversation");
out:
    sq_done(st);
    sq_dek_release(&d);
    return rc;
}

parley_err sq_key_add(parley_store *s, const parley_store_key *key, int64_t now, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_KEY_ADD, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, key->id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, key->role, -1, SQLITE_STATIC);
    (void)sqlite3_bind_blob(st, 3, key->hash, (int)key->hash_len, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 4, key->label ? key->label : "", -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 5, now);
    int r = sqlite3_step(st);
    if ((r & 0xff) == SQLITE_CONSTRAINT)
        rc = parley_error_set(err, PARLEY_ERR_CONFLICT, "a key with this id exists");
    else if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

/* Fills `k` from a key row whose columns start at `col` with the role. */
static void key_from_row(sqlite3_stmt *st, int col, parley_store_key *k)
{
    k->role = sq_text_or_empty(st, col);
    k->hash = sqlite3_column_blob(st, col + 1);
    k->hash_len = (size_t)sqlite3_column_bytes(st, col + 1);
    k->label = sq_text_or_empty(st, col + 2);
    k->created = sqlite3_column_int64(st, col + 3);
    k->revoked = sqlite3_column_int64(st, col + 4);
}

parley_err sq_key_find(parley_store *s, const char *id, parley_store_key_fn fn, void *userdata,
                       parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_KEY_FIND, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        parley_store_key k;
        k.id = id;
        key_from_row(st, 0, &k);
        (void)fn(&k, userdata);
    } else if (r == SQLITE_DONE) {
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no such key");
    } else {
        rc = sq_fail(q->db, r, err);
    }
    sq_done(st);
    return rc;
}

parley_err sq_key_revoke(parley_store *s, const char *id, int64_t now, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_KEY_REVOKE, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 2, now);
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    else if (sqlite3_changes(q->db) == 0)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no such valid key");
    sq_done(st);
    return rc;
}

parley_err sq_keys(parley_store *s, parley_store_key_fn fn, void *userdata, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_KEYS, err);
    parley_err rc = PARLEY_OK;
    int r;

    if (!st)
        return err->code;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        parley_store_key k;
        k.id = sq_text_or_empty(st, 0);
        key_from_row(st, 1, &k);
        if (fn(&k, userdata) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}
