/* Content columns of the SQLite backend (turn text and metadata, state,
 * hand-off summary, rating comment): written sealed, as a BLOB, when the
 * store has a keyring, and read back whichever way they were written, so a
 * database that started in the clear stays readable (TEXT is clear, BLOB
 * is sealed). The conversation's data key is fetched once per call. */
#include <string.h>

#include "store/sqlite_internal.h"

void sq_dek_init(struct sq_dek *d, const char *conv)
{
    memset(d, 0, sizeof(*d));
    d->conv = conv;
}

void sq_dek_release(struct sq_dek *d)
{
    sodium_memzero(&d->dek, sizeof(d->dek));
    d->have = 0;
}

/* Fetches the key of d->conv; for a write, makes one if there is none
 * (a conversation from before encryption was turned on). */
static parley_err need_dek(struct sqlite_store *q, struct sq_dek *d, int for_write,
                           parley_error *err)
{
    parley_err rc;
    if (d->have)
        return PARLEY_OK;
    rc = parley__keystore_get(q->ks, d->conv, &d->dek, err);
    if (rc == PARLEY_ERR_NOTFOUND && for_write) {
        /* Only for a conversation that exists: no key for a stranger. */
        sqlite3_stmt *st = sq_stmt(q, ST_EXISTS, err);
        if (!st)
            return err->code;
        (void)sqlite3_bind_text(st, 1, d->conv, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        sq_done(st);
        if (r == SQLITE_DONE)
            return parley_error_set(err, PARLEY_ERR_NOTFOUND, "no such conversation");
        if (r != SQLITE_ROW)
            return sq_fail(q->db, r, err);
        parley_error none = PARLEY_ERROR_INIT;
        *err = none;
        rc = parley__keystore_create(q->ks, d->conv, parley__store_now_ms(), &d->dek, err);
    }
    d->have = rc == PARLEY_OK;
    return rc;
}

parley_err sq_bind_content(struct sqlite_store *q, sqlite3_stmt *st, int col, struct sq_dek *d,
                           const char *column, int64_t n, const char *text, parley_error *err)
{
    unsigned char *sealed = NULL;
    size_t len = 0;
    parley_err rc;

    if (!text)
        return PARLEY_OK;
    if (!q->ks) {
        (void)sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
        return PARLEY_OK;
    }
    if ((rc = need_dek(q, d, 1, err)) != PARLEY_OK ||
        (rc = parley__seal(&d->dek, d->conv, column, n, text, &sealed, &len, err)) != PARLEY_OK)
        return rc;
    if (sqlite3_bind_blob(st, col, sealed, (int)len, SQLITE_TRANSIENT) != SQLITE_OK)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    parley__free(sealed);
    return rc;
}

parley_err sq_read_content(struct sqlite_store *q, sqlite3_stmt *st, int col, struct sq_dek *d,
                           const char *column, int64_t n, char **out, parley_error *err)
{
    parley_err rc;

    *out = NULL;
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        return PARLEY_OK;
    case SQLITE_BLOB:
        break;
    default:
        return (*out = sq_dup(st, col, err)) ? PARLEY_OK : err->code;
    }
    if (!q->ks)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "stored %s is encrypted and the store has no master key", column);
    const unsigned char *blob = sqlite3_column_blob(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (!blob)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    if ((rc = need_dek(q, d, 0, err)) != PARLEY_OK)
        return rc;
    return parley__unseal(&d->dek, d->conv, column, n, blob, len, out, err);
}

void sq_content_free(char *p)
{
    if (p)
        parley__free_secure(p, strlen(p));
}
