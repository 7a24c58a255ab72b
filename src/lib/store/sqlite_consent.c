/* The SQLite backend's consent ledger: grants, their revocation, and their
 * use per period, taken atomically inside one write transaction so two
 * concurrent uses cannot both pass a limit that allows one. */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_internal.h"

parley_err sq_consent_add(parley_store *s, const parley_store_consent *c, int64_t now,
                          parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_CONSENT_ADD, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, c->customer_id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 3, c->scope, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 4, c->limits, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 5, c->channel ? c->channel : "", -1, SQLITE_STATIC);
    if (c->conversation_id && c->conversation_id[0]) {
        (void)sqlite3_bind_text(st, 6, c->conversation_id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 7, c->turn);
    }
    (void)sqlite3_bind_int64(st, 8, now);
    if (c->expires)
        (void)sqlite3_bind_int64(st, 9, c->expires);
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

static void consent_from_row(sqlite3_stmt *st, const char *customer, parley_store_consent *c)
{
    memset(c, 0, sizeof(*c));
    c->id = (const char *)sqlite3_column_text(st, 0);
    c->customer_id = customer;
    c->scope = (const char *)sqlite3_column_text(st, 1);
    c->limits = (const char *)sqlite3_column_text(st, 2);
    c->channel = (const char *)sqlite3_column_text(st, 3);
    c->conversation_id = (const char *)sqlite3_column_text(st, 4);
    c->turn = sqlite3_column_int64(st, 5);
    c->created = sqlite3_column_int64(st, 6);
    c->expires = sqlite3_column_int64(st, 7);
    c->revoked = sqlite3_column_int64(st, 8);
    c->used_quantity = sqlite3_column_double(st, 9);
    c->used_amount = sqlite3_column_double(st, 10);
    c->used_count = sqlite3_column_int64(st, 11);
}

parley_err sq_consents(parley_store *s, const char *customer, const char *period,
                       parley_store_consent_fn fn, void *userdata, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_CONSENTS, err);
    parley_err rc = PARLEY_OK;
    int r;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        parley_store_consent c;
        consent_from_row(st, customer, &c);
        if (!c.id || !c.scope || !c.limits || !c.channel || !c.conversation_id) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            break;
        }
        if (fn(&c, userdata) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (rc == PARLEY_OK && r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

parley_err sq_consent_revoke(parley_store *s, const char *customer, const char *id, int64_t now,
                             size_t *count, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_CONSENT_REVOKE, err);
    parley_err rc = PARLEY_OK;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 3, now);
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    else if ((*count = (size_t)sqlite3_changes(q->db)) == 0)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no active grant '%.64s'", id);
    sq_done(st);
    return rc;
}

/* The grant a keyed use already took, in `grant` (32 bytes); 0 when the
 * key is new, -1 on failure (reported). */
static int keyed_grant(struct sqlite_store *q, const char *key, char *grant, parley_error *err)
{
    sqlite3_stmt *st = sq_stmt(q, ST_USE_KEY_FIND, err);
    int r, found = 0;
    if (!st)
        return -1;
    (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        (void)snprintf(grant, 32, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    } else if (r != SQLITE_DONE) {
        (void)sq_fail(q->db, r, err);
        found = -1;
    }
    sq_done(st);
    return found;
}

parley_err sq_consent_use(parley_store *s, const char *customer, const char *scope,
                          const char *period, double quantity, double amount, const char *key,
                          int64_t now, parley_store_consent_check_fn check, void *userdata,
                          parley_store_consent *used, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    parley_err rc;
    int r, found = 0, again = 0;
    char prev[32] = "";

    /* BEGIN IMMEDIATE takes the write lock before reading the use so far:
     * check and record happen with no other writer in between. */
    if ((rc = sq_run(q, ST_BEGIN, err)) != PARLEY_OK)
        return rc;
    if (key && (again = keyed_grant(q, key, prev, err)) < 0) {
        rc = err->code;
        goto out;
    }
    if (!(st = sq_stmt(q, ST_CONSENTS, err))) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
    while (!found && (r = sqlite3_step(st)) == SQLITE_ROW) {
        parley_store_consent c;
        consent_from_row(st, customer, &c);
        /* A keyed use seen before takes the same grant again, uncounted. */
        if (!c.id || !c.scope || !c.limits || (again && strcmp(c.id, prev) != 0))
            continue;
        if (!again && (strcmp(c.scope, scope) != 0 || c.revoked ||
                       (c.expires && c.expires <= now) || !check(&c, userdata)))
            continue;
        found = 1;
        (void)snprintf(q->used_id, sizeof(q->used_id), "%s", c.id);
        (void)snprintf(q->used_scope, sizeof(q->used_scope), "%s", c.scope);
        (void)snprintf(q->used_limits, sizeof(q->used_limits), "%s", c.limits);
        *used = c;
        used->id = q->used_id;
        used->scope = q->used_scope;
        used->limits = q->used_limits;
        used->channel = used->conversation_id = "";
        if (!again) {
            used->used_quantity += quantity;
            used->used_amount += amount;
            used->used_count += 1;
        }
    }
    if (!found && r != SQLITE_DONE) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    sq_done(st);
    st = NULL;
    if (!found) {
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no active '%.64s' grant allows it", scope);
        goto out;
    }
    if (again) {
        rc = sq_run(q, ST_COMMIT, err);
        goto out;
    }
    if (!(st = sq_stmt(q, ST_CONSENT_USE, err))) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_text(st, 1, q->used_id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
    (void)sqlite3_bind_double(st, 3, quantity);
    (void)sqlite3_bind_double(st, 4, amount);
    r = sqlite3_step(st);
    sq_done(st);
    st = NULL;
    if (r == SQLITE_DONE && key && (st = sq_stmt(q, ST_USE_KEY_ADD, err))) {
        (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, q->used_id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
    } else if (key && r == SQLITE_DONE) {
        rc = err->code;
        goto out;
    }
    if (r != SQLITE_DONE) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    rc = sq_run(q, ST_COMMIT, err);
out:
    sq_done(st);
    if (rc != PARLEY_OK)
        sq_rollback(q);
    return rc;
}

/* Calls `fn` with the first column of each row of the bound statement
 * `st` (NULL: preparing it failed, reported), then readies it again. */
static parley_err each_id(struct sqlite_store *q, sqlite3_stmt *st, parley_store_id_fn fn,
                          void *userdata, parley_error *err)
{
    parley_err rc = PARLEY_OK;
    int r;
    if (!st)
        return err->code;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id && fn(id, userdata) != 0) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

parley_err sq_consent_holders(parley_store *s, const char *scope, int64_t now,
                              parley_store_id_fn fn, void *userdata, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_CONSENT_HOLDERS, err);
    if (st) {
        (void)sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 2, now);
    }
    return each_id(q, st, fn, userdata, err);
}

/* Collects the ids of `customer`'s conversations (for their data keys). */
static parley_err collect_ids(struct sqlite_store *q, const char *customer, char ***ids, size_t *n,
                              parley_error *err)
{
    sqlite3_stmt *st = sq_stmt(q, ST_CUSTOMER_CONVS, err);
    size_t cap = 0;
    parley_err rc = PARLEY_OK;
    int r;

    if (!st)
        return err->code;
    (void)sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (!id)
            continue;
        if (*n == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            char **g = parley__realloc(*ids, ncap * sizeof(*g));
            if (!g) {
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                break;
            }
            *ids = g;
            cap = ncap;
        }
        if (!((*ids)[*n] = parley__strdup(id))) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    if (rc == PARLEY_OK && r != SQLITE_DONE)
        rc = sq_fail(q->db, r, err);
    sq_done(st);
    return rc;
}

parley_err sq_customer_erase(parley_store *s, const char *customer, size_t *conversations,
                             parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = NULL;
    char **ids = NULL;
    size_t nids = 0;
    parley_err rc;
    int r;

    if ((rc = sq_run(q, ST_BEGIN, err)) != PARLEY_OK)
        return rc;
    if (q->ks && (rc = collect_ids(q, customer, &ids, &nids, err)) != PARLEY_OK)
        goto out;
    if (!(st = sq_stmt(q, ST_CUSTOMER_ERASE, err))) {
        rc = err->code;
        goto out;
    }
    (void)sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    if ((r = sqlite3_step(st)) != SQLITE_DONE) {
        rc = sq_fail(q->db, r, err);
        goto out;
    }
    *conversations = (size_t)sqlite3_changes(q->db);
    sq_done(st);
    /* Their grants and what proactive rules did for them. */
    static const enum stmt_id also[] = {ST_CUSTOMER_ERASE_CONSENTS, ST_CUSTOMER_ERASE_EFFECTS};
    for (size_t i = 0; i < sizeof(also) / sizeof(also[0]); i++) {
        if (!(st = sq_stmt(q, also[i], err))) {
            rc = err->code;
            goto out;
        }
        (void)sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
        if ((r = sqlite3_step(st)) != SQLITE_DONE) {
            rc = sq_fail(q->db, r, err);
            goto out;
        }
        sq_done(st);
        st = NULL;
    }
    rc = sq_run(q, ST_COMMIT, err);
    /* The old pages may still sit in the write-ahead log: copy it into the
     * (securely deleting) database and truncate it, so nothing erased can
     * be read back from either file. Readers elsewhere may delay it; the
     * next checkpoint then finishes the job. */
    if (rc == PARLEY_OK)
        (void)sqlite3_exec(q->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    /* Then their data keys (crypto-shredding): those linked to the customer
     * and those of the conversations just erased, in case a link was lost
     * in a crash. Keys left by a crash here have no conversation any more
     * and the sweeper destroys them. */
    if (rc == PARLEY_OK && q->ks)
        rc = parley__keystore_shred(q->ks, customer, ids, nids, NULL, err);
out:
    sq_done(st);
    for (size_t i = 0; i < nids; i++)
        parley__free(ids[i]);
    parley__free(ids);
    if (rc != PARLEY_OK)
        sq_rollback(q);
    return rc;
}

parley_err sq_customer_conversations(parley_store *s, const char *customer, parley_store_id_fn fn,
                                     void *userdata, parley_error *err)
{
    struct sqlite_store *q = (struct sqlite_store *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_CUSTOMER_CONVS, err);
    if (st)
        (void)sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    return each_id(q, st, fn, userdata, err);
}
