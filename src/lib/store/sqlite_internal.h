/* Private to the SQLite backend (sqlite.c: open, schema, conversations;
 * sqlite_extra.c: queue, analytics, ratings, API keys; sqlite_consent.c:
 * consent ledger, erasure; sqlite_throttle.c: throttles; sqlite_events.c:
 * the events ledger; sqlite_keys.c:
 * the key store; sqlite_content.c: sealed content columns; sqlite_sweep.c:
 * retention and rotation; sqlite_review.c: the review queue): the handle, its cached statements and
 * the helpers they share. */
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
    ST_NEXT_SEQ,
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
    ST_SWEEP_COUNT_TURNS,
    ST_SWEEP_CONVERSATIONS,
    ST_SWEEP_THROTTLE,
    ST_EVENT_INSERT,
    ST_EVENTS_OLDEST,
    ST_EVENTS_NEWEST,
    /* from here on, the SQL is in sqlite_effects.c */
    ST_USE_KEY_FIND,
    ST_USE_KEY_ADD,
    ST_CONSENT_HOLDERS,
    ST_EVENTS_STATUS,
    ST_EVENT_SETTLE,
    ST_EFFECT_ADD,
    ST_EFFECT_FIND,
    ST_EFFECTS_COUNT,
    ST_EFFECTS_COUNT_ANY,
    ST_CUSTOMER_ERASE_EFFECTS,
    ST_EFFECT_LATEST,
    ST__COUNT
};

struct sqlite_store {
    parley_store base; /* first: a parley_store * points here */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST__COUNT];
    /* The key store when content is encrypted; NULL otherwise. */
    struct parley__keystore *ks;
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

/* sqlite_keys.c: the key store (a second SQLite file) */
struct parley__keystore;
/* Opens the key store of database `data` (file `path`) as `opts` say and
 * checks it belongs to it and that every master key it needs is given;
 * without master keys `*out` is NULL, and a database that has a key store
 * is refused. */
parley_err parley__keystore_attach(sqlite3 *data, const char *path,
                                   const parley_store_options *opts, struct parley__keystore **out,
                                   parley_error *err);
void parley__keystore_close(struct parley__keystore *ks);
/* The data key of `conv`; PARLEY_ERR_NOTFOUND once it was destroyed. */
parley_err parley__keystore_get(struct parley__keystore *ks, const char *conv,
                                struct parley__dek *dek, parley_error *err);
/* Makes, wraps and durably stores a new data key for `conv`. */
parley_err parley__keystore_create(struct parley__keystore *ks, const char *conv, int64_t now,
                                   struct parley__dek *dek, parley_error *err);
/* Records that `conv`'s key belongs to `customer`. */
parley_err parley__keystore_link(struct parley__keystore *ks, const char *conv,
                                 const char *customer, parley_error *err);
/* Destroys the keys of `customer` (may be NULL) and of `convs`, then
 * checkpoints so no copy stays in the log; adds the count to `*removed`. */
parley_err parley__keystore_shred(struct parley__keystore *ks, const char *customer,
                                  char *const *convs, size_t nconvs, size_t *removed,
                                  parley_error *err);
parley_err parley__keystore_rekey(struct parley__keystore *ks, parley_store_progress_fn fn,
                                  void *userdata, parley_error *err);
/* Destroys keys made before `before` whose conversation `exists` says
 * (1 yes, 0 no, -1 failure) is gone. */
parley_err parley__keystore_orphans(struct parley__keystore *ks, int64_t before,
                                    int (*exists)(const char *conv, void *userdata), void *userdata,
                                    size_t *removed, parley_error *err);

/* sqlite_content.c: content columns, sealed when the store encrypts */
struct sq_dek {
    const char *conv; /* borrowed */
    int have;
    struct parley__dek dek;
};
/* Starts `d` for conversation `conv`; the key is fetched on first need. */
void sq_dek_init(struct sq_dek *d, const char *conv);
/* Wipes the key. */
void sq_dek_release(struct sq_dek *d);
/* Binds `text` (NULL: leaves the column NULL) to parameter `col`: sealed
 * as `column`/`n` when the store encrypts (making the conversation's key
 * if it has none yet), else as text. */
parley_err sq_bind_content(struct sqlite_store *q, sqlite3_stmt *st, int col, struct sq_dek *d,
                           const char *column, int64_t n, const char *text, parley_error *err);
/* Reads content column `col`: text as it is, a sealed value opened; NULL
 * gives *out = NULL. *out is the caller's: parley__free_secure(p,
 * strlen(p)). */
parley_err sq_read_content(struct sqlite_store *q, sqlite3_stmt *st, int col, struct sq_dek *d,
                           const char *column, int64_t n, char **out, parley_error *err);
/* Frees what sq_read_content returned; NULL is fine. */
void sq_content_free(char *p);

/* sqlite_sweep.c */
parley_err sq_rekey(parley_store *s, parley_store_progress_fn fn, void *userdata,
                    parley_error *err);
parley_err sq_sweep(parley_store *s, const parley_store_retention *policy, int64_t now,
                    parley_store_sweep_result *out, parley_error *err);

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
                          const char *period, double quantity, double amount, const char *key,
                          int64_t now, parley_store_consent_check_fn check, void *userdata,
                          parley_store_consent *used, parley_error *err);
/* Text column `col`, "" for NULL (sqlite_extra.c). */
const char *sq_text_or_empty(sqlite3_stmt *st, int col);

/* The review queue (sqlite_review.c). */
parley_err sq_review_add(parley_store *s, const parley_store_review *r, int64_t now,
                         parley_error *err);
parley_err sq_review_list(parley_store *s, const char *status, int64_t after_id, size_t limit,
                          parley_store_review_fn fn, void *userdata, parley_error *err);
parley_err sq_review_label(parley_store *s, int64_t id, const char *intent, const char *who,
                           int64_t now, parley_error *err);
parley_err sq_consent_holders(parley_store *s, const char *scope, int64_t now,
                              parley_store_id_fn fn, void *userdata, parley_error *err);

/* sqlite_events.c */
parley_err sq_events_record(parley_store *s, const parley_store_event *events, size_t n,
                            int64_t now, size_t *added, size_t *duplicates, parley_error *err);
parley_err sq_events_list(parley_store *s, const parley_store_event_query *q,
                          parley_store_event_fn fn, void *userdata, parley_error *err);
parley_err sq_events_settle(parley_store *s, const char *id, const char *status,
                            const char *outcome, parley_error *err);

/* sqlite_effects.c: proactive effects; its statements' SQL (ids from
 * ST_USE_KEY_FIND on) lives there. */
const char *sq_effects_sql(enum stmt_id id);
parley_err sq_effects_commit(parley_store *s, const parley_store_effect *effects, size_t n,
                             const parley_store_settle *settles, size_t m, parley_error *err);
parley_err sq_effect_record(parley_store *s, const parley_store_effect *e, int *fresh,
                            parley_error *err);
parley_err sq_effect_find(parley_store *s, const char *key, char outcome[16], parley_error *err);
parley_err sq_effects_count(parley_store *s, const parley_store_effect_query *q, int64_t *count,
                            parley_error *err);
parley_err sq_effect_latest(parley_store *s, const char *customer, const char *channel,
                            int64_t since, parley_store_effect_ref *out, parley_error *err);

/* sqlite_throttle.c */
parley_err sq_throttle_hit(parley_store *s, const char *key, int64_t now, int64_t window,
                           size_t *count, parley_error *err);
parley_err sq_throttle_count(parley_store *s, const char *key, int64_t now, int64_t window,
                             size_t *count, parley_error *err);
parley_err sq_throttle_clear(parley_store *s, const char *key, parley_error *err);

#endif
