/* The SQLite backend's proactive effects: one row per event, rule and
 * customer (the proof an effect happened, so a redelivery repeats none),
 * counts over them for frequency caps and de-duplication, and the SQL of
 * the consent-use keys and event settling that go with them. */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_internal.h"

const char *sq_effects_sql(enum stmt_id id)
{
    switch (id) {
    case ST_USE_KEY_FIND:
        return "SELECT grant_id FROM consent_use_keys WHERE key = ?1";
    case ST_USE_KEY_ADD:
        return "INSERT INTO consent_use_keys (key, grant_id) VALUES (?1, ?2)";
    case ST_CONSENT_HOLDERS:
        return "SELECT DISTINCT customer_id FROM consents WHERE scope = ?1 AND revoked IS NULL "
               "AND (expires IS NULL OR expires = 0 OR expires > ?2) ORDER BY customer_id";
    case ST_EVENTS_STATUS:
        return "SELECT seq, id, type, at, received, doc, status, outcome, attempts FROM events "
               "WHERE status = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2";
    case ST_EVENT_SETTLE:
        return "UPDATE events SET status = ?2, outcome = ?3, attempts = attempts + 1 WHERE id = ?1";
    case ST_EFFECT_ADD:
        return "INSERT INTO effects (key, event_id, rule, customer, at, outcome, detail, action, "
               "message, channel, dedupe) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
               "ON CONFLICT (key) DO NOTHING";
    case ST_EFFECT_FIND:
        return "SELECT outcome FROM effects WHERE key = ?1";
    case ST_EFFECTS_COUNT:
        /* Messages sent, or (with a de-duplication value) anything the
         * rule did or said for that value. One customer's: the index on
         * (customer, at) finds them without reading the others'. */
        return "SELECT COUNT(*) FROM effects WHERE customer = ?1 AND "
               "rule = COALESCE(?2, rule) AND at > ?4 AND event_id IS NOT ?5 AND (CASE WHEN ?3 IS "
               "NULL THEN channel <> '' ELSE dedupe = ?3 AND outcome IN ('done', 'offered') END)";
    case ST_EFFECTS_COUNT_ANY:
        return "SELECT COUNT(*) FROM effects WHERE "
               "rule = COALESCE(?2, rule) AND at > ?4 AND event_id IS NOT ?5 AND (CASE WHEN ?3 IS "
               "NULL THEN channel <> '' ELSE dedupe = ?3 AND outcome IN ('done', 'offered') END)";
    case ST_CUSTOMER_ERASE_EFFECTS:
        return "DELETE FROM effects WHERE customer = ?1";
    case ST_EFFECT_LATEST:
        return "SELECT rule, message, event_id, at FROM effects WHERE customer = ?1 AND "
               "channel = ?2 AND at > ?3 AND message <> '' ORDER BY at DESC, key DESC LIMIT 1";
    default:
        return "";
    }
}

parley_err sq_events_settle(parley_store *s, const char *id, const char *status,
                            const char *outcome, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_EVENT_SETTLE, err);
    parley_err rc = PARLEY_OK;
    int r;
    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    if (outcome)
        (void)sqlite3_bind_text(st, 3, outcome, -1, SQLITE_STATIC);
    if ((r = sqlite3_step(st)) != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    else if (sqlite3_changes(q->db) == 0)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no event '%.128s' in the ledger", id);
    sq_done(st);
    return rc;
}

parley_err sq_effect_record(parley_store *s, const parley_store_effect *e, int *fresh,
                            parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_EFFECT_ADD, err);
    const char *text[] = {e->key,    e->event_id, e->rule,    e->customer, NULL,     e->outcome,
                          e->detail, e->action,   e->message, e->channel,  e->dedupe};
    parley_err rc = PARLEY_OK;
    int r;
    if (!st)
        return err->code;
    for (int i = 0; i < (int)(sizeof(text) / sizeof(text[0])); i++)
        if (i == 4)
            (void)sqlite3_bind_int64(st, 5, e->at);
        else
            (void)sqlite3_bind_text(st, i + 1, text[i] ? text[i] : "", -1, SQLITE_STATIC);
    if ((r = sqlite3_step(st)) != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    else if (fresh)
        *fresh = sqlite3_changes(q->db) > 0;
    sq_done(st);
    return rc;
}

parley_err sq_effects_commit(parley_store *s, const parley_store_effect *effects, size_t n,
                             const parley_store_settle *settles, size_t m, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    parley_err rc = sq_run(q, ST_BEGIN, err);
    for (size_t i = 0; rc == PARLEY_OK && i < n; i++)
        rc = sq_effect_record(s, &effects[i], NULL, err);
    for (size_t i = 0; rc == PARLEY_OK && i < m; i++)
        rc = sq_events_settle(s, settles[i].id, settles[i].status, settles[i].outcome, err);
    if (rc == PARLEY_OK)
        rc = sq_run(q, ST_COMMIT, err);
    if (rc != PARLEY_OK)
        sq_rollback(q);
    return rc;
}

parley_err sq_effect_find(parley_store *s, const char *key, char outcome[16], parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_EFFECT_FIND, err);
    parley_err rc = PARLEY_OK;
    int r;
    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        (void)snprintf(outcome, 16, "%s", (const char *)sqlite3_column_text(st, 0));
    else if (r == SQLITE_DONE)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no effect recorded");
    else
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

parley_err sq_effects_count(parley_store *s, const parley_store_effect_query *qy, int64_t *count,
                            parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, qy->customer ? ST_EFFECTS_COUNT : ST_EFFECTS_COUNT_ANY, err);
    const char *text[] = {qy->customer, qy->rule, qy->dedupe};
    parley_err rc = PARLEY_OK;
    int r;
    if (!st)
        return err->code;
    for (int i = 0; i < 3; i++)
        if (text[i])
            (void)sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 4, qy->since);
    if (qy->not_event)
        (void)sqlite3_bind_text(st, 5, qy->not_event, -1, SQLITE_STATIC);
    if ((r = sqlite3_step(st)) == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

parley_err sq_effect_latest(parley_store *s, const char *customer, const char *channel,
                            int64_t since, parley_store_effect_ref *out, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_EFFECT_LATEST, err);
    parley_err rc = PARLEY_OK;
    int r;
    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 3, since);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        (void)snprintf(out->rule, sizeof(out->rule), "%s",
                       (const char *)sqlite3_column_text(st, 0));
        (void)snprintf(out->message, sizeof(out->message), "%s",
                       (const char *)sqlite3_column_text(st, 1));
        (void)snprintf(out->event_id, sizeof(out->event_id), "%s",
                       (const char *)sqlite3_column_text(st, 2));
        out->at = sqlite3_column_int64(st, 3);
    } else if (r == SQLITE_DONE) {
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no message sent to this customer");
    } else {
        rc = sq_fail(q->db, r, err);
    }
    sq_done(st);
    return rc;
}
