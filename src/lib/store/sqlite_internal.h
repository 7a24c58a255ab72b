/* Private to the SQLite backend (sqlite.c: open, schema, conversations;
 * sqlite_extra.c: queue, analytics, ratings, API keys; sqlite_consent.c:
 * consent ledger, erasure; sqlite_throttle.c: throttles): the handle, its
 * cached statements and the helpers they share. */
#ifndef PARLEY_STORE_SQLITE_INTERNAL_H
#define PARLEY_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/internal.h"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_CREATE,
    ST_LOAD,
    ST_UPDATE,
    ST_EXISTS,
    ST_INSERT_TURN,
    ST_TURNS,
    ST_DELETE,
    ST_COUNT,
    ST_HANDOFFS,
    ST_OUTCOMES,
    ST_RATING,
    ST_KEY_ADD,
    ST_KEY_FIND,
    ST_KEY_REVOKE,
    ST_KEYS,
    ST_CONSENT_ADD,
    ST_CONSENTS,
    ST_CONSENT_REVOKE,
    ST_CONSENT_USE,
    ST_CUSTOMER_ERASE,
    ST_CUSTOMER_ERASE_CONSENTS,
    ST_CUSTOMER_CONVS,
    ST_THROTTLE_PRUNE,
    ST_THROTTLE_INSERT,
    ST_THROTTLE_COUNT,
    ST_THROTTLE_CLEAR,
    ST__COUNT
};

struct sqlite_store {
    parley_store base; /* first: a parley_store * points here */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST__COUNT];
    /* The grant parley_store_consent_use chose, kept until the next call. */
    char used_id[32], used_scope[64], used_limits[1024];
};

/* Reports SQLite failure `rc` into `err` and returns its parley code. */
parley_err sq_fail(sqlite3 *db, int rc, parley_error *err);
/* The cached statement `id`, prepared on first use; NULL after reporting. */
sqlite3_stmt *sq_stmt(struct sqlite_store *q, enum stmt_id id, parley_error *err);
/* Resets a statement and its bindings for the next use; NULL is fine. */
void sq_done(sqlite3_stmt *st);
/* Runs a statement that returns no rows. */
parley_err sq_run(struct sqlite_store *q, enum stmt_id id, parley_error *err);
/* Rolls back an open transaction, if any. */
void sq_rollback(struct sqlite_store *q);
/* A copy of text column `col` (parley__free), or NULL after reporting. */
char *sq_dup(sqlite3_stmt *st, int col, parley_error *err);

/* sqlite_extra.c */
parley_err sq_handoffs(parley_store *s, size_t limit, parley_store_handoff_fn fn, void *userdata,
                       parley_error *err);
parley_err sq_outcomes(parley_store *s, int64_t from, int64_t to, parley_store_outcome_fn fn,
                       void *userdata, parley_error *err);
parley_err sq_rating(parley_store *s, const char *id, int score, const char *comment,
                     parley_error *err);
parley_err sq_key_add(parley_store *s, const parley_store_key *key, int64_t now, parley_error *err);
parley_err sq_key_find(parley_store *s, const char *id, parley_store_key_fn fn, void *userdata,
                       parley_error *err);
parley_err sq_key_revoke(parley_store *s, const char *id, int64_t now, parley_error *err);
parley_err sq_keys(parley_store *s, parley_store_key_fn fn, void *userdata, parley_error *err);

/* sqlite_consent.c */
parley_err sq_customer_erase(parley_store *s, const char *customer, size_t *conversations,
                             parley_error *err);
parley_err sq_customer_conversations(parley_store *s, const char *customer, parley_store_id_fn fn,
                                     void *userdata, parley_error *err);
parley_err sq_consent_add(parley_store *s, const parley_store_consent *c, int64_t now,
                          parley_error *err);
parley_err sq_consents(parley_store *s, const char *customer, const char *period,
                       parley_store_consent_fn fn, void *userdata, parley_error *err);
parley_err sq_consent_revoke(parley_store *s, const char *customer, const char *id, int64_t now,
                             size_t *count, parley_error *err);
parley_err sq_consent_use(parley_store *s, const char *customer, const char *scope,
                          const char *period, double quantity, double amount, int64_t now,
                          parley_store_consent_check_fn check, void *userdata,
                          parley_store_consent *used, parley_error *err);

/* sqlite_throttle.c */
parley_err sq_throttle_hit(parley_store *s, const char *key, int64_t now, int64_t window,
                           size_t *count, parley_error *err);
parley_err sq_throttle_count(parley_store *s, const char *key, int64_t now, int64_t window,
                             size_t *count, parley_error *err);
parley_err sq_throttle_clear(parley_store *s, const char *key, parley_error *err);

#endif
