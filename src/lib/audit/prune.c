/* Audit retention: parley_audit_prune deletes the oldest records of the
 * chain, up to (not including) a checkpoint's record, and leaves an
 * anchor (the audit_anchor row: the last pruned seq and its hash) from
 * which verify.c starts. The prune is first announced by a "retention"
 * record appended to the chain, stating the seq and hash the retained
 * chain will start from: the chain itself then vouches for the anchor, so
 * deleting more records at the start, or moving the anchor, is detected.
 * Deletion runs in small transactions, each moving the anchor with the
 * records it deletes, so every committed state verifies. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/internal.h"

/* Records per transaction: short write locks, appends go on meanwhile. */
#define PRUNE_BATCH 10000

static int64_t clock_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `sql` with up to three integer parameters; `*out` receives the
 * first column of the first row (or a blob of `blob_size` into `blob`),
 * `*found` whether there was a row with a non-NULL value. */
static parley_err query(sqlite3 *db, const char *sql, const int64_t *args, int nargs, int64_t *out,
                        unsigned char *blob, int *found, parley_error *err)
{
    sqlite3_stmt *st = NULL;
    parley_err rc = PARLEY_OK;
    int r = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    *found = 0;
    for (int i = 0; r == SQLITE_OK && i < nargs; i++)
        (void)sqlite3_bind_int64(st, i + 1, args[i]);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL) {
        if (blob) {
            const void *b = sqlite3_column_blob(st, 0);
            if (b && sqlite3_column_bytes(st, 0) == PARLEY_AUDIT_HASH_SIZE) {
                memcpy(blob, b, PARLEY_AUDIT_HASH_SIZE);
                *found = 1;
            }
        } else {
            *out = sqlite3_column_int64(st, 0);
            *found = 1;
        }
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = parley__audit_sqlfail(db, r, err);
    (void)sqlite3_finalize(st);
    return rc;
}

static parley_err exec(sqlite3 *db, const char *sql, parley_error *err)
{
    int r = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return r == SQLITE_OK ? PARLEY_OK : parley__audit_sqlfail(db, r, err);
}

/* What to prune: records anchor+1 .. through, where through + 1 is the
 * newest checkpoint whose record is not newer than the first record at or
 * after the cutoff. through == 0 (with out->reason) when nothing. */
struct plan {
    int64_t anchor, last, through;
    unsigned char hash[PARLEY_AUDIT_HASH_SIZE]; /* of record `through` */
};

static parley_err make_plan(parley_audit *a, int64_t cutoff, struct plan *p,
                            parley_audit_prune_result *out, parley_error *err)
{
    parley_err rc;
    int found = 0;
    int64_t first_new = 0, cp = 0;

    memset(p, 0, sizeof(*p));
    if ((rc = query(a->db, "SELECT seq FROM audit_anchor WHERE id = 1", NULL, 0, &p->anchor, NULL,
                    &found, err)) != PARLEY_OK ||
        (rc = query(a->db, "SELECT hash FROM audit_anchor WHERE id = 1", NULL, 0, NULL, out->anchor,
                    &found, err)) != PARLEY_OK ||
        (rc = query(a->db, "SELECT MAX(seq) FROM audit_records", NULL, 0, &p->last, NULL, &found,
                    err)) != PARLEY_OK)
        return rc;
    out->anchor_seq = p->anchor;
    out->first_seq = p->anchor + 1;
    if (!found) {
        (void)snprintf(out->reason, sizeof(out->reason), "the audit log has no record");
        return PARLEY_OK;
    }
    const int64_t args[3] = {p->anchor, cutoff, 0};
    if ((rc = query(a->db,
                    "SELECT seq FROM audit_records WHERE seq > ?1 AND time >= ?2 ORDER BY seq "
                    "LIMIT 1",
                    args, 2, &first_new, NULL, &found, err)) != PARLEY_OK)
        return rc;
    if (!found)
        first_new = p->last + 1;
    out->first_new_seq = first_new;
    if (first_new <= p->anchor + 1) {
        (void)snprintf(out->reason, sizeof(out->reason),
                       "no record is older than the cutoff (the oldest retained is seq %lld)",
                       (long long)p->anchor + 1);
        return PARLEY_OK;
    }
    /* The kept checkpoint record must exist, so never past the tail. */
    const int64_t cargs[3] = {p->anchor + 1, first_new, p->last};
    if ((rc = query(a->db,
                    "SELECT MAX(seq) FROM audit_checkpoints WHERE seq > ?1 AND seq <= ?2 AND "
                    "seq <= ?3",
                    cargs, 3, &cp, NULL, &found, err)) != PARLEY_OK)
        return rc;
    if (!found) {
        (void)snprintf(out->reason, sizeof(out->reason),
                       "records %lld to %lld are older than the cutoff but no checkpoint follows "
                       "them before a newer record: pruning stops at a checkpoint so the rest "
                       "stays anchored (wait for the next one, or write one)",
                       (long long)p->anchor + 1, (long long)first_new - 1);
        return PARLEY_OK;
    }
    p->through = cp - 1;
    const int64_t hargs[1] = {p->through};
    if ((rc = query(a->db, "SELECT hash FROM audit_records WHERE seq = ?1", hargs, 1, NULL, p->hash,
                    &found, err)) != PARLEY_OK)
        return rc;
    if (!found)
        return parley_error_set(err, PARLEY_ERR_CORRUPT,
                                "record %lld is missing or its hash damaged; run parley audit "
                                "verify",
                                (long long)p->through);
    return PARLEY_OK;
}

/* Announces the prune in the chain, before anything is deleted. */
static parley_err announce(parley_audit *a, const struct plan *p, int64_t cutoff, int64_t now,
                           int64_t *seq, parley_error *err)
{
    char hex[2 * PARLEY_AUDIT_HASH_SIZE + 1], body[320];
    (void)sodium_bin2hex(hex, sizeof(hex), p->hash, PARLEY_AUDIT_HASH_SIZE);
    (void)snprintf(body, sizeof(body),
                   "{\"pruned_through\":%lld,\"first_kept\":%lld,\"anchor\":\"%s\",\"cutoff\":%lld,"
                   "\"records\":%lld}",
                   (long long)p->through, (long long)p->through + 1, hex, (long long)cutoff,
                   (long long)(p->through - p->anchor));
    parley_audit_record r = {0, now, PARLEY_AUDIT_RETENTION_KIND, NULL, NULL, 0, body};
    return parley__audit_append(a, &r, seq, err);
}

/* One transaction: deletes up to PRUNE_BATCH records after the anchor and
 * moves the anchor past them. `*done` once the anchor reaches `through`
 * or another prune announced itself after ours (it carries on). */
static parley_err batch(parley_audit *a, const struct plan *p, int64_t ret_seq, int64_t now,
                        parley_audit_prune_result *out, int *done, parley_error *err)
{
    int64_t anchor = 0, latest = 0;
    unsigned char hash[PARLEY_AUDIT_HASH_SIZE];
    int found = 0;
    parley_err rc;

    if ((rc = exec(a->db, "BEGIN IMMEDIATE", err)) != PARLEY_OK)
        return rc;
    if ((rc = query(a->db, "SELECT seq FROM audit_anchor WHERE id = 1", NULL, 0, &anchor, NULL,
                    &found, err)) != PARLEY_OK ||
        (rc = query(a->db,
                    "SELECT seq FROM audit_records WHERE kind = '" PARLEY_AUDIT_RETENTION_KIND
                    "' ORDER BY seq DESC LIMIT 1",
                    NULL, 0, &latest, NULL, &found, err)) != PARLEY_OK)
        goto out;
    out->anchor_seq = anchor;
    if (latest != ret_seq && anchor < p->through)
        (void)snprintf(out->reason, sizeof(out->reason),
                       "another prune of this log started meanwhile and carries on");
    if (latest != ret_seq || anchor >= p->through) {
        *done = 1;
        rc = exec(a->db, "COMMIT", err);
        goto out;
    }
    const int64_t hi = anchor + PRUNE_BATCH < p->through ? anchor + PRUNE_BATCH : p->through;
    const int64_t args[3] = {hi, anchor, now};
    if ((rc = query(a->db, "SELECT hash FROM audit_records WHERE seq = ?1", args, 1, NULL, hash,
                    &found, err)) != PARLEY_OK)
        goto out;
    if (!found) {
        rc = parley_error_set(err, PARLEY_ERR_CORRUPT,
                              "record %lld is missing or its hash damaged; run parley audit verify",
                              (long long)hi);
        goto out;
    }
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(a->db,
                               "INSERT OR REPLACE INTO audit_anchor (id, seq, hash, time) "
                               "VALUES (1, ?1, ?2, ?3)",
                               -1, &st, NULL);
    if (r == SQLITE_OK) {
        (void)sqlite3_bind_int64(st, 1, hi);
        (void)sqlite3_bind_blob(st, 2, hash, PARLEY_AUDIT_HASH_SIZE, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 3, now);
        r = sqlite3_step(st);
    }
    (void)sqlite3_finalize(st);
    if (r != SQLITE_DONE) {
        rc = parley__audit_sqlfail(a->db, r, err);
        goto out;
    }
    /* Checkpoints of pruned records vouch for nothing left: they go too. */
    if ((rc = query(a->db, "DELETE FROM audit_records WHERE seq <= ?1 AND seq > ?2", args, 2,
                    &latest, NULL, &found, err)) != PARLEY_OK)
        goto out;
    int64_t n = sqlite3_changes64(a->db);
    if ((rc = query(a->db, "DELETE FROM audit_checkpoints WHERE seq <= ?1", args, 1, &latest, NULL,
                    &found, err)) != PARLEY_OK ||
        (rc = exec(a->db, "COMMIT", err)) != PARLEY_OK)
        goto out;
    out->pruned += n;
    out->anchor_seq = hi;
    memcpy(out->anchor, hash, sizeof(hash));
    *done = hi >= p->through;
out:
    if (!sqlite3_get_autocommit(a->db))
        (void)sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

parley_err parley_audit_prune(parley_audit *a, int64_t cutoff_ms, int64_t now_ms,
                              parley_audit_prune_result *out, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_audit_report rep;
    parley_audit_prune_result res;
    struct plan p;
    parley_err rc;
    int done = 0;

    if (!a || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot prune audit log: no %s",
                                a ? "result" : "log");
    memset(&res, 0, sizeof(res));
    if (now_ms == 0)
        now_ms = clock_ms();
    parley__audit_lock(a);
    rc = make_plan(a, cutoff_ms, &p, &res, &local);
    parley__audit_unlock(a);
    if (rc != PARLEY_OK || p.through == 0)
        goto out;
    /* Pruning destroys evidence: never on a chain that does not verify.
     * (Only appends can happen meanwhile; they do not change the plan.) */
    if ((rc = parley_audit_verify(a, NULL, &rep, &local)) != PARLEY_OK)
        goto out;
    if (!rep.ok) {
        rc = parley_error_set(&local, PARLEY_ERR_CORRUPT,
                              "the chain is broken at seq %lld (%s: %s); nothing was pruned, "
                              "investigate with parley audit verify first",
                              (long long)rep.seq, parley_audit_break_name(rep.kind), rep.detail);
        goto out;
    }
    if ((rc = announce(a, &p, cutoff_ms, now_ms, &res.retention_seq, &local)) != PARLEY_OK)
        goto out;
    while (rc == PARLEY_OK && !done) {
        parley__audit_lock(a);
        rc = batch(a, &p, res.retention_seq, now_ms, &res, &done, &local);
        parley__audit_unlock(a);
    }
    res.first_seq = res.anchor_seq + 1;
out:
    if (rc == PARLEY_OK) {
        *out = res;
    } else {
        parley_error_prefix(&local, "cannot prune audit log");
        if (err)
            *err = local;
    }
    return rc;
}
