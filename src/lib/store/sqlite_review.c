/* The review queue in SQLite: customer turns the bot did not understand,
 * kept by reference (the text stays in the sealed transcript, so erasure
 * and retention remove it with the conversation) and labelled by agents. */
#include <string.h>

#include "store/sqlite_internal.h"

parley_err sq_review_add(parley_store *s, const parley_store_review *r, int64_t now,
                         parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db,
                                "INSERT OR IGNORE INTO review (conversation_id, seq, reason, "
                                "language, predicted, confidence, created) "
                                "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM "
                                "turns WHERE conversation_id = ?1 AND seq = ?2 AND role = "
                                "'customer')",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(q->db, rc, err);
    (void)sqlite3_bind_text(st, 1, r->conversation_id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 2, r->seq);
    (void)sqlite3_bind_text(st, 3, r->reason, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 4, r->language ? r->language : "", -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 5, r->predicted ? r->predicted : "", -1, SQLITE_STATIC);
    (void)sqlite3_bind_double(st, 6, r->confidence);
    (void)sqlite3_bind_int64(st, 7, now);
    rc = sqlite3_step(st);
    parley_err out = PARLEY_OK;
    /* No row inserted is fine: the turn is already queued, or it is not a
     * customer's (nothing to learn from). */
    if (rc != SQLITE_DONE)
        out = sq_fail(q->db, rc, err);
    sqlite3_finalize(st);
    return out;
}

parley_err sq_review_list(parley_store *s, const char *status, int64_t after_id, size_t limit,
                          parley_store_review_fn fn, void *userdata, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    char *text = NULL;
    parley_err out = PARLEY_OK;
    int rc = sqlite3_prepare_v2(
        q->db,
        "SELECT r.id, r.conversation_id, r.seq, r.reason, r.language, r.predicted, "
        "r.confidence, r.created, r.status, r.intent, r.labelled_by, r.labelled_at, t.text, "
        "c.customer_id FROM review r JOIN turns t ON t.conversation_id = r.conversation_id AND "
        "t.seq = r.seq JOIN conversations c ON c.id = r.conversation_id "
        "WHERE (?1 IS NULL OR r.status = ?1) AND r.id > ?2 ORDER BY r.id LIMIT ?3",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(q->db, rc, err);
    (void)sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 2, after_id);
    (void)sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        parley_store_review r;
        struct sq_dek d;
        memset(&r, 0, sizeof(r));
        r.id = sqlite3_column_int64(st, 0);
        r.conversation_id = sq_text_or_empty(st, 1);
        r.seq = sqlite3_column_int64(st, 2);
        r.reason = sq_text_or_empty(st, 3);
        r.language = sq_text_or_empty(st, 4);
        r.predicted = sq_text_or_empty(st, 5);
        r.confidence = sqlite3_column_double(st, 6);
        r.created = sqlite3_column_int64(st, 7);
        r.status = sq_text_or_empty(st, 8);
        r.intent = sq_text_or_empty(st, 9);
        r.labelled_by = sq_text_or_empty(st, 10);
        r.labelled_at = sqlite3_column_int64(st, 11);
        r.customer_id = sq_text_or_empty(st, 13);
        /* Sealed with the conversation's data key: a shredded key (an
         * erased customer) leaves nothing to show, and the row is skipped. */
        sq_dek_init(&d, r.conversation_id);
        parley_error local = PARLEY_ERROR_INIT;
        out = sq_read_content(q, st, 12, &d, "turns.text", r.seq, &text, &local);
        sq_dek_release(&d);
        if (out == PARLEY_ERR_NOMEM) {
            if (err)
                *err = local;
            break;
        }
        out = PARLEY_OK;
        if (!text)
            continue;
        r.text = text;
        int stop = fn(&r, userdata);
        sq_content_free(text);
        text = NULL;
        if (stop)
            break;
    }
    if (out == PARLEY_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        out = sq_fail(q->db, rc, err);
    sqlite3_finalize(st);
    return out;
}

parley_err sq_review_label(parley_store *s, int64_t id, const char *intent, const char *who,
                           int64_t now, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db,
                                "UPDATE review SET status = ?2, intent = ?3, labelled_by = ?4, "
                                "labelled_at = ?5 WHERE id = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(q->db, rc, err);
    (void)sqlite3_bind_int64(st, 1, id);
    (void)sqlite3_bind_text(st, 2, intent ? "labelled" : "dismissed", -1, SQLITE_STATIC);
    if (intent)
        (void)sqlite3_bind_text(st, 3, intent, -1, SQLITE_STATIC);
    else
        (void)sqlite3_bind_null(st, 3);
    (void)sqlite3_bind_text(st, 4, who ? who : "", -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 5, now);
    rc = sqlite3_step(st);
    parley_err out = PARLEY_OK;
    if (rc != SQLITE_DONE)
        out = sq_fail(q->db, rc, err);
    else if (sqlite3_changes(q->db) == 0)
        out = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no review item %lld", (long long)id);
    sqlite3_finalize(st);
    return out;
}
