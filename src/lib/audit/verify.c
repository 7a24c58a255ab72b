/* Verifying the audit chain: recompute every record's hash from the one
 * before it, in seq order, and check each checkpoint's hash and Ed25519
 * signature on the way. It reads one snapshot (a read transaction, on its
 * own connection for a file so appends go on meanwhile). At the first
 * record that does not verify it looks at the records after it to say
 * what happened: a gap (deleted), a record that fits nowhere while the
 * next one continues the chain (inserted), the record that belongs here
 * found further on (reordered), or else modified. A pruned log starts at
 * its anchor (the audit_anchor row), which must agree with the last
 * "retention" record in the chain: that record is itself chained, so
 * records cut off the start beyond what a prune did, or an anchor moved,
 * are caught. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"

#define LOOKAHEAD 4096
#define SELECT_ROWS                                                                                \
    "SELECT seq, time, kind, conversation, customer, turn, body, hash FROM audit_records"

/* A record with its stored hash, copied out of SQLite. */
struct row {
    parley_audit_record r;
    size_t lens[4];
    unsigned char hash[PARLEY_AUDIT_HASH_SIZE];
    int hash_ok; /* the stored hash has the right size */
    char *buf;   /* owns the strings of r */
};

struct checkpoint {
    int64_t seq, time;
    unsigned char hash[PARLEY_AUDIT_HASH_SIZE];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sig[crypto_sign_BYTES];
    int hash_ok, has_pk, has_sig;
};

/* Where a pruned chain starts, and what the last prune said about it. */
struct anchor {
    int has;     /* an audit_anchor row exists */
    int hash_ok; /* its hash has the right size */
    int64_t seq; /* records 1..seq were pruned */
    unsigned char hash[PARLEY_AUDIT_HASH_SIZE];
    int has_ret;         /* a retention record exists */
    int ret_ok;          /* its body says through and anchor */
    int64_t ret_seq;     /* its seq */
    int64_t ret_through; /* it pruned (or set out to prune) 1..ret_through */
    unsigned char ret_hash[PARLEY_AUDIT_HASH_SIZE];
};

struct verify {
    sqlite3 *db;
    struct anchor an;
    parley_audit_report *rep;
    const unsigned char *trusted; /* NULL: each checkpoint's own key */
    struct checkpoint *cps;
    size_t ncps, next_cp;
};

/* Fills `row` from the current row of `st`, borrowing its pointers. */
static void borrow(sqlite3_stmt *st, struct row *row)
{
    const char *text[4];
    for (int i = 0; i < 4; i++) {
        int col = i < 3 ? 2 + i : 6;
        text[i] = (const char *)sqlite3_column_text(st, col);
        row->lens[i] = text[i] ? (size_t)sqlite3_column_bytes(st, col) : 0;
    }
    row->r.seq = sqlite3_column_int64(st, 0);
    row->r.time = sqlite3_column_int64(st, 1);
    row->r.kind = text[0] ? text[0] : "";
    row->r.conversation = text[1] ? text[1] : "";
    row->r.customer = text[2] ? text[2] : "";
    row->r.turn = sqlite3_column_int64(st, 5);
    row->r.body = text[3] ? text[3] : "";
    const void *h = sqlite3_column_blob(st, 7);
    row->hash_ok = h && sqlite3_column_bytes(st, 7) == PARLEY_AUDIT_HASH_SIZE;
    if (row->hash_ok)
        memcpy(row->hash, h, PARLEY_AUDIT_HASH_SIZE);
    row->buf = NULL;
}

/* Makes a borrowed row own its strings. */
static parley_err own(struct row *row, parley_error *err)
{
    size_t total = row->lens[0] + row->lens[1] + row->lens[2] + row->lens[3] + 4;
    const char *src[4] = {row->r.kind, row->r.conversation, row->r.customer, row->r.body};
    const char **dst[4] = {&row->r.kind, &row->r.conversation, &row->r.customer, &row->r.body};
    char *p = row->buf = parley__malloc(total);
    if (!p)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    for (int i = 0; i < 4; i++) {
        memcpy(p, src[i], row->lens[i]);
        p[row->lens[i]] = '\0';
        *dst[i] = p;
        p += row->lens[i] + 1;
    }
    return PARLEY_OK;
}

/* The hash of `row` relabelled as `seq`, chained from `prev`. */
static void hash_as(const unsigned char *prev, const struct row *row, int64_t seq,
                    unsigned char out[PARLEY_AUDIT_HASH_SIZE])
{
    parley_audit_record r = row->r;
    r.seq = seq;
    parley__audit_hash(prev, &r, row->lens[0], row->lens[1], row->lens[2], row->lens[3], out);
}

static int matches(const unsigned char *h, const struct row *row)
{
    return row->hash_ok && sodium_memcmp(h, row->hash, PARLEY_AUDIT_HASH_SIZE) == 0;
}

static void broken(struct verify *v, parley_audit_break kind, int64_t seq, const char *fmt, ...)
    PARLEY_PRINTF(4, 5);

static void broken(struct verify *v, parley_audit_break kind, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    v->rep->ok = 0;
    v->rep->kind = kind;
    v->rep->seq = seq;
    va_start(ap, fmt);
    (void)vsnprintf(v->rep->detail, sizeof(v->rep->detail), fmt, ap);
    va_end(ap);
}

/* Record `k` (row `bad`) did not verify from `prev`: says why. */
static parley_err classify(struct verify *v, const unsigned char *prev, const struct row *bad,
                           parley_error *err)
{
    struct row *ahead = NULL;
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    parley_err rc = PARLEY_OK;
    unsigned char h[PARLEY_AUDIT_HASH_SIZE], hk[PARLEY_AUDIT_HASH_SIZE];
    const int64_t k = bad->r.seq;
    int r;

    if (!(ahead = parley__calloc(LOOKAHEAD, sizeof(*ahead))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    r = sqlite3_prepare_v2(v->db, SELECT_ROWS " WHERE seq > ?1 ORDER BY seq LIMIT ?2", -1, &st,
                           NULL);
    if (r == SQLITE_OK) {
        (void)sqlite3_bind_int64(st, 1, k);
        (void)sqlite3_bind_int(st, 2, LOOKAHEAD);
        while (n < LOOKAHEAD && (r = sqlite3_step(st)) == SQLITE_ROW) {
            borrow(st, &ahead[n]);
            if ((rc = own(&ahead[n++], err)) != PARLEY_OK)
                goto out;
        }
    }
    if (r != SQLITE_DONE && r != SQLITE_ROW && r != SQLITE_OK) {
        rc = parley__audit_sqlfail(v->db, r, err);
        goto out;
    }
    /* The record that belongs at k, elsewhere? Its hash moved with it
     * (seqs swapped) or stayed at k (contents swapped). */
    for (size_t j = 0; j < n; j++) {
        hash_as(prev, &ahead[j], k, h);
        int moved = matches(h, &ahead[j]);
        if (!moved && !matches(h, bad))
            continue;
        memcpy(hk, h, sizeof(hk));
        int64_t js = ahead[j].r.seq;
        const unsigned char *pj = j == 0 ? hk : ahead[j - 1].hash;
        hash_as(pj, bad, js, h);
        if (matches(h, bad) || matches(h, &ahead[j])) {
            broken(v, PARLEY_AUDIT_REORDERED, k,
                   "records %lld and %lld were swapped: each is stored at the other's seq",
                   (long long)k, (long long)js);
            goto out;
        }
        /* Only one side fits: equal records can look alike, so the sole
         * claim made is the renumbering that an insertion leaves. */
        if (j == 0 && moved) {
            broken(v, PARLEY_AUDIT_INSERTED, k,
                   "record %lld is not part of the chain: it was inserted and the records "
                   "after it renumbered (record %lld continues from record %lld)",
                   (long long)k, (long long)js, (long long)k - 1);
            goto out;
        }
    }
    /* Record k deleted and the rest renumbered: the next one chains from
     * the hash now stored at k, with its seq one higher. */
    if (n > 0 && bad->hash_ok) {
        hash_as(bad->hash, &ahead[0], ahead[0].r.seq + 1, h);
        if (matches(h, &ahead[0])) {
            broken(v, PARLEY_AUDIT_DELETED, k,
                   "record %lld was deleted and the records after it renumbered", (long long)k);
            goto out;
        }
    }
    broken(v, PARLEY_AUDIT_MODIFIED, k,
           bad->hash_ok ? "record %lld was modified: it no longer matches its hash (or the record "
                          "before it was rewritten with a recomputed hash)"
                        : "record %lld was modified: its stored hash is damaged",
           (long long)k);
out:
    (void)sqlite3_finalize(st);
    for (size_t j = 0; j < n; j++)
        parley__free(ahead[j].buf);
    parley__free(ahead);
    return rc;
}

static parley_err load_checkpoints(struct verify *v, parley_error *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    parley_err rc = PARLEY_OK;
    int r = sqlite3_prepare_v2(
        v->db, "SELECT seq, time, hash, public_key, signature FROM audit_checkpoints ORDER BY seq",
        -1, &st, NULL);

    while (r == SQLITE_OK || r == SQLITE_ROW) {
        if ((r = sqlite3_step(st)) != SQLITE_ROW)
            break;
        if (v->ncps == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct checkpoint *p = parley__realloc(v->cps, ncap * sizeof(*p));
            if (!p) {
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                goto out;
            }
            v->cps = p;
            cap = ncap;
        }
        struct checkpoint *c = &v->cps[v->ncps++];
        memset(c, 0, sizeof(*c));
        c->seq = sqlite3_column_int64(st, 0);
        c->time = sqlite3_column_int64(st, 1);
        const void *b[3] = {sqlite3_column_blob(st, 2), sqlite3_column_blob(st, 3),
                            sqlite3_column_blob(st, 4)};
        int *ok[3] = {&c->hash_ok, &c->has_pk, &c->has_sig};
        unsigned char *dst[3] = {c->hash, c->pk, c->sig};
        const int size[3] = {PARLEY_AUDIT_HASH_SIZE, crypto_sign_PUBLICKEYBYTES, crypto_sign_BYTES};
        for (int i = 0; i < 3; i++)
            if (b[i] && sqlite3_column_bytes(st, 2 + i) == size[i]) {
                memcpy(dst[i], b[i], (size_t)size[i]);
                *ok[i] = 1;
            }
        /* A signature column that is set but the wrong size is a bad one. */
        if (!c->has_sig && sqlite3_column_type(st, 4) != SQLITE_NULL)
            c->has_sig = 2;
    }
    if (r != SQLITE_DONE)
        rc = parley__audit_sqlfail(v->db, r, err);
out:
    (void)sqlite3_finalize(st);
    return rc;
}

/* Checks the checkpoint(s) at `seq`, where the chain's hash is `h`;
 * returns 0 when the chain breaks there. */
static int check_checkpoints(struct verify *v, int64_t seq, const unsigned char *h)
{
    for (; v->next_cp < v->ncps && v->cps[v->next_cp].seq <= seq; v->next_cp++) {
        const struct checkpoint *c = &v->cps[v->next_cp];
        unsigned char msg[AUDIT_SIGNED_SIZE];
        if (c->seq < seq) /* no record at its seq: reported as a gap */
            continue;
        v->rep->checkpoints++;
        if (c->has_sig) {
            const unsigned char *pk = v->trusted ? v->trusted : c->pk;
            parley__audit_signed_bytes(c->seq, c->time, c->hash, msg);
            if (c->has_sig != 1 || !c->hash_ok || (!v->trusted && !c->has_pk) ||
                crypto_sign_verify_detached(c->sig, msg, sizeof(msg), pk) != 0) {
                broken(v, PARLEY_AUDIT_BAD_SIGNATURE, c->seq,
                       "the signature of the checkpoint at seq %lld does not verify%s",
                       (long long)c->seq, v->trusted ? " with the given public key" : "");
                return 0;
            }
            v->rep->signed_checkpoints++;
            v->rep->last_signed_seq = c->seq;
        }
        if (!c->hash_ok || sodium_memcmp(c->hash, h, PARLEY_AUDIT_HASH_SIZE) != 0) {
            broken(v, PARLEY_AUDIT_BAD_CHECKPOINT, c->seq,
                   "the chain up to seq %lld does not match its %scheckpoint: records at or "
                   "before seq %lld were rewritten with recomputed hashes",
                   (long long)c->seq, c->has_sig ? "signed " : "", (long long)c->seq);
            return 0;
        }
    }
    return 1;
}

/* Reads "KEY":NUMBER and "KEY":"HEX" out of a retention body the log
 * wrote itself (prune.c); any other shape is a bad anchor. */
static int parse_retention(const char *body, int64_t *through,
                           unsigned char hash[PARLEY_AUDIT_HASH_SIZE])
{
    const char *p = body ? strstr(body, "\"pruned_through\":") : NULL;
    const char *h = body ? strstr(body, "\"anchor\":\"") : NULL;
    char *end = NULL;
    if (!p || !h)
        return 0;
    long long t = strtoll(p + strlen("\"pruned_through\":"), &end, 10);
    if (end == p + strlen("\"pruned_through\":") || t < 0)
        return 0;
    h += strlen("\"anchor\":\"");
    if (strlen(h) < 2 * PARLEY_AUDIT_HASH_SIZE + 1 || h[2 * PARLEY_AUDIT_HASH_SIZE] != '"' ||
        sodium_hex2bin(hash, PARLEY_AUDIT_HASH_SIZE, h, 2 * PARLEY_AUDIT_HASH_SIZE, NULL, NULL,
                       NULL) != 0)
        return 0;
    *through = t;
    return 1;
}

/* Loads the anchor row (absent before schema 2 or any prune) and the last
 * retention record. */
static parley_err load_anchor(struct verify *v, parley_error *err)
{
    sqlite3_stmt *st = NULL;
    struct anchor *an = &v->an;
    int r = sqlite3_prepare_v2(v->db,
                               "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                               "'audit_anchor'",
                               -1, &st, NULL);
    int table = r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW;
    (void)sqlite3_finalize(st);
    st = NULL;
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return parley__audit_sqlfail(v->db, r, err);
    if (table) {
        r = sqlite3_prepare_v2(v->db, "SELECT seq, hash FROM audit_anchor WHERE id = 1", -1, &st,
                               NULL);
        if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
            const void *h = sqlite3_column_blob(st, 1);
            an->has = 1;
            an->seq = sqlite3_column_int64(st, 0);
            an->hash_ok = h && sqlite3_column_bytes(st, 1) == PARLEY_AUDIT_HASH_SIZE;
            if (an->hash_ok)
                memcpy(an->hash, h, PARLEY_AUDIT_HASH_SIZE);
        }
        (void)sqlite3_finalize(st);
        st = NULL;
        if (r != SQLITE_ROW && r != SQLITE_DONE)
            return parley__audit_sqlfail(v->db, r, err);
    }
    /* Without an anchor the chain starts at 1 and hides nothing: skip the
     * search (a scan of the whole table on a log never pruned). */
    if (!an->has)
        return PARLEY_OK;
    r = sqlite3_prepare_v2(
        v->db,
        "SELECT seq, body FROM audit_records WHERE kind = '" PARLEY_AUDIT_RETENTION_KIND
        "' ORDER BY seq DESC LIMIT 1",
        -1, &st, NULL);
    if (r == SQLITE_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        an->has_ret = 1;
        an->ret_seq = sqlite3_column_int64(st, 0);
        an->ret_ok = parse_retention((const char *)sqlite3_column_text(st, 1), &an->ret_through,
                                     an->ret_hash);
    }
    (void)sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return parley__audit_sqlfail(v->db, r, err);
    return PARLEY_OK;
}

/* Checks a pruned log's anchor against its last retention record before
 * the walk; returns 0 when that breaks the chain. */
static int check_anchor(struct verify *v)
{
    const struct anchor *an = &v->an;
    if (!an->has)
        return 1;
    if (an->seq < 0 || !an->hash_ok) {
        broken(v, PARLEY_AUDIT_BAD_ANCHOR, an->seq > 0 ? an->seq : 1,
               "the recorded anchor (audit_anchor) is damaged: %s",
               an->hash_ok ? "its seq is negative" : "its hash has the wrong size");
        return 0;
    }
    if (!an->has_ret || !an->ret_ok) {
        broken(v, PARLEY_AUDIT_BAD_ANCHOR, an->seq + 1,
               an->has_ret ? "the log was pruned through seq %lld but the retention record at "
                             "seq %lld does not say where (its body was altered)"
                           : "the log was pruned through seq %lld but no retention record in the "
                             "chain says so: records were cut off its start",
               (long long)an->seq, (long long)an->ret_seq);
        return 0;
    }
    if (an->seq > an->ret_through) {
        broken(v, PARLEY_AUDIT_BAD_ANCHOR, an->ret_through + 1,
               "records %lld to %lld were deleted: the retention record at seq %lld pruned only "
               "through seq %lld, but the anchor says through %lld",
               (long long)an->ret_through + 1, (long long)an->seq, (long long)an->ret_seq,
               (long long)an->ret_through, (long long)an->seq);
        return 0;
    }
    if (an->seq == an->ret_through &&
        sodium_memcmp(an->hash, an->ret_hash, PARLEY_AUDIT_HASH_SIZE) != 0) {
        broken(v, PARLEY_AUDIT_BAD_ANCHOR, an->seq + 1,
               "the recorded anchor's hash is not the one the retention record at seq %lld "
               "states: the anchor was altered",
               (long long)an->ret_seq);
        return 0;
    }
    return 1;
}

static parley_err walk(struct verify *v, const parley_audit_verify_options *vo, parley_error *err)
{
    sqlite3_stmt *st = NULL;
    unsigned char prev[PARLEY_AUDIT_HASH_SIZE] = {0}, h[PARLEY_AUDIT_HASH_SIZE];
    int64_t expected = 1, total = 0;
    parley_err rc;
    struct row row;
    int r;

    if ((rc = load_checkpoints(v, err)) != PARLEY_OK || (rc = load_anchor(v, err)) != PARLEY_OK)
        return rc;
    if (v->an.has && v->an.hash_ok && v->an.seq >= 0) {
        expected = v->an.seq + 1;
        memcpy(prev, v->an.hash, sizeof(prev));
        v->rep->pruned_through = v->an.seq;
    }
    v->rep->first_seq = expected;
    if (!check_anchor(v))
        return PARLEY_OK;
    r = sqlite3_prepare_v2(v->db, "SELECT COALESCE(MAX(seq), 0) FROM audit_records", -1, &st, NULL);
    if (r == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        total = sqlite3_column_int64(st, 0); /* only for progress: no row, no total */
    (void)sqlite3_finalize(st);
    st = NULL;
    r = sqlite3_prepare_v2(v->db, SELECT_ROWS " ORDER BY seq", -1, &st, NULL);
    while (r == SQLITE_OK || r == SQLITE_ROW) {
        if ((r = sqlite3_step(st)) != SQLITE_ROW)
            break;
        borrow(st, &row);
        if (row.r.seq < expected) {
            broken(v, PARLEY_AUDIT_INSERTED, row.r.seq,
                   "record %lld is not part of the chain: seqs start at %lld%s",
                   (long long)row.r.seq, (long long)expected,
                   expected > 1 ? " (the records before were pruned)" : "");
            break;
        }
        if (row.r.seq > expected) {
            broken(v, PARLEY_AUDIT_DELETED, expected,
                   row.r.seq == expected + 1 ? "record %lld was deleted"
                                             : "records %lld to %lld were deleted",
                   (long long)expected, (long long)row.r.seq - 1);
            break;
        }
        hash_as(prev, &row, row.r.seq, h);
        if (!matches(h, &row)) {
            rc = classify(v, prev, &row, err);
            break;
        }
        /* The record a prune set out to anchor at must be the one it named. */
        if (v->an.has_ret && v->an.ret_ok && row.r.seq == v->an.ret_through &&
            sodium_memcmp(h, v->an.ret_hash, PARLEY_AUDIT_HASH_SIZE) != 0) {
            broken(v, PARLEY_AUDIT_BAD_ANCHOR, row.r.seq,
                   "record %lld is not the one the retention record at seq %lld anchors at",
                   (long long)row.r.seq, (long long)v->an.ret_seq);
            break;
        }
        memcpy(prev, h, sizeof(prev));
        v->rep->records++;
        expected++;
        if (!check_checkpoints(v, row.r.seq, h))
            break;
        if (vo && vo->progress && (v->rep->records & 0xffff) == 0)
            vo->progress(v->rep->records, total, vo->userdata);
    }
    if (rc == PARLEY_OK && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = parley__audit_sqlfail(v->db, r, err);
    (void)sqlite3_finalize(st);
    if (rc != PARLEY_OK || !v->rep->ok)
        return rc;
    memcpy(v->rep->head, prev, sizeof(prev));
    if (v->ncps && v->cps[v->ncps - 1].seq >= expected)
        broken(v, PARLEY_AUDIT_DELETED, expected,
               "records from seq %lld on were deleted: a checkpoint was made at seq %lld",
               (long long)expected, (long long)v->cps[v->ncps - 1].seq);
    return PARLEY_OK;
}

parley_err parley_audit_verify(parley_audit *a, const parley_audit_verify_options *vo,
                               parley_audit_report *rep, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    struct verify v;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    parley_audit_report out;
    parley_err rc = PARLEY_OK;
    int own_db = 0;

    if (!a || !rep)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot verify audit log: no %s",
                                a ? "report" : "log");
    memset(&v, 0, sizeof(v));
    memset(&out, 0, sizeof(out));
    out.ok = 1;
    v.rep = &out;
    if (vo && vo->public_key_path) {
        if ((rc = parley__audit_load_public(vo->public_key_path, pk, &local)) != PARLEY_OK)
            goto out;
        v.trusted = pk;
    } else if (a->has_key) {
        v.trusted = a->pk;
    }
    out.key_trusted = v.trusted != NULL;
    if (a->path[0]) {
        int r = sqlite3_open_v2(a->path, &v.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        own_db = 1;
        if (r != SQLITE_OK) {
            rc = parley__audit_sqlfail(v.db, r, &local);
            goto out;
        }
        (void)sqlite3_busy_timeout(v.db, 5000);
    } else {
        parley__audit_lock(a);
        v.db = a->db;
    }
    if (sqlite3_exec(v.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        rc = parley__audit_sqlfail(v.db, sqlite3_extended_errcode(v.db), &local);
    else
        rc = walk(&v, vo, &local);
    if (!sqlite3_get_autocommit(v.db))
        (void)sqlite3_exec(v.db, "ROLLBACK", NULL, NULL, NULL);
    if (!own_db)
        parley__audit_unlock(a);
out:
    if (own_db)
        (void)sqlite3_close(v.db);
    parley__free(v.cps);
    if (rc == PARLEY_OK) {
        *rep = out;
    } else {
        parley_error_prefix(&local, "cannot verify audit log");
        if (err)
            *err = local;
    }
    return rc;
}

const char *parley_audit_break_name(parley_audit_break b)
{
    static const char *const names[] = {"intact",        "modified",  "deleted",
                                        "inserted",      "reordered", "bad checkpoint",
                                        "bad signature", "bad anchor"};
    if ((unsigned)b >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[b];
}
