/* Private to src/lib/store: the backend table every store implements and
 * the handle header every backend's handle starts with. store.c checks
 * arguments and keeps the last error; backends only do storage. */
#ifndef PARLEY_STORE_INTERNAL_H
#define PARLEY_STORE_INTERNAL_H

#include <pthread.h>

#include "common/internal.h"
#include "parley/store.h"

/* The operations of one backend. Arguments have been checked by store.c
 * (ids non-empty and within PARLEY_STORE_MAX_ID, sizes within the caps,
 * state non-NULL). Each fills `err` on failure. */
struct parley_store_ops {
    const char *name;
    void (*close)(parley_store *s);
    parley_err (*create)(parley_store *s, const char *id, const char *channel, const char *language,
                         const char *state, int64_t now, parley_error *err);
    parley_err (*load)(parley_store *s, const char *id, parley_store_conversation *out,
                       parley_error *err);
    /* Saves the state and appends the `nturns` turns, atomically;
     * `*seq_out` gets the first turn's seq. */
    parley_err (*commit)(parley_store *s, const char *id, int64_t expected_version,
                         const char *state, const parley_store_turn *turns, size_t nturns,
                         const parley_store_outcome *outcome, int64_t now, int64_t *seq_out,
                         parley_error *err);
    parley_err (*turns)(parley_store *s, const char *id, parley_store_turn_fn fn, void *userdata,
                        parley_error *err);
    parley_err (*erase)(parley_store *s, const char *id, parley_error *err);
    parley_err (*count)(parley_store *s, size_t *out, parley_error *err);
    parley_err (*handoffs)(parley_store *s, size_t limit, parley_store_handoff_fn fn,
                           void *userdata, parley_error *err);
    parley_err (*outcomes)(parley_store *s, int64_t from, int64_t to, parley_store_outcome_fn fn,
                           void *userdata, parley_error *err);
    parley_err (*rating)(parley_store *s, const char *id, int score, const char *comment,
                         parley_error *err);
    parley_err (*key_add)(parley_store *s, const parley_store_key *key, int64_t now,
                          parley_error *err);
    parley_err (*key_find)(parley_store *s, const char *id, parley_store_key_fn fn, void *userdata,
                           parley_error *err);
    parley_err (*key_revoke)(parley_store *s, const char *id, int64_t now, parley_error *err);
    parley_err (*keys)(parley_store *s, parley_store_key_fn fn, void *userdata, parley_error *err);
    parley_err (*consent_add)(parley_store *s, const parley_store_consent *c, int64_t now,
                              parley_error *err);
    parley_err (*consents)(parley_store *s, const char *customer, const char *period,
                           parley_store_consent_fn fn, void *userdata, parley_error *err);
    parley_err (*consent_revoke)(parley_store *s, const char *customer, const char *id, int64_t now,
                                 size_t *count, parley_error *err);
    parley_err (*customer_erase)(parley_store *s, const char *customer, size_t *conversations,
                                 parley_error *err);
    parley_err (*customer_conversations)(parley_store *s, const char *customer,
                                         parley_store_id_fn fn, void *userdata, parley_error *err);
    parley_err (*consent_use)(parley_store *s, const char *customer, const char *scope,
                              const char *period, double quantity, double amount, int64_t now,
                              parley_store_consent_check_fn check, void *userdata,
                              parley_store_consent *used, parley_error *err);
    /* Throttles: `now` is resolved (never 0), `window` positive, `key`
     * checked. `hit` prunes, records and counts in one write transaction. */
    parley_err (*throttle_hit)(parley_store *s, const char *key, int64_t now, int64_t window,
                               size_t *count, parley_error *err);
    parley_err (*throttle_count)(parley_store *s, const char *key, int64_t now, int64_t window,
                                 size_t *count, parley_error *err);
    parley_err (*throttle_clear)(parley_store *s, const char *key, parley_error *err);
};

/* The first member of every backend's handle. */
struct parley_store {
    const struct parley_store_ops *ops;
    /* One call at a time per handle: a backend's connection and cached
     * statements are not shared between threads. */
    pthread_mutex_t mu;
    int schema_version;
    char errmsg[sizeof(((parley_error *)0)->msg)];
};

/* Opens the SQLite store at `path` (":memory:" allowed); `url` is for
 * messages. On success `*out` is a handle that ops->close frees. */
parley_err parley__store_sqlite_open(const char *path, const char *url, int sync_full,
                                     parley_store **out, parley_error *err);

/* Fills `buf` with `n` random bytes from the kernel. */
parley_err parley__store_random(void *buf, size_t n, parley_error *err);

#endif
