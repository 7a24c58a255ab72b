/* Private to src/lib/store: the backend table every store implements and
 * the handle header every backend's handle starts with. store.c checks
 * arguments and keeps the last error; backends only do storage. */
#ifndef PARLEY_STORE_INTERNAL_H
#define PARLEY_STORE_INTERNAL_H

#include <pthread.h>
#include <sodium.h>

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
                              const char *period, double quantity, double amount, const char *key,
                              int64_t now, parley_store_consent_check_fn check, void *userdata,
                              parley_store_consent *used, parley_error *err);
    parley_err (*review_add)(parley_store *s, const parley_store_review *r, int64_t now,
                             parley_error *err);
    parley_err (*review_list)(parley_store *s, const char *status, int64_t after_id, size_t limit,
                              parley_store_review_fn fn, void *userdata, parley_error *err);
    parley_err (*review_label)(parley_store *s, int64_t id, const char *intent, const char *who,
                               int64_t now, parley_error *err);
    parley_err (*consent_holders)(parley_store *s, const char *scope, int64_t now,
                                  parley_store_id_fn fn, void *userdata, parley_error *err);
    /* Throttles: `now` is resolved (never 0), `window` positive, `key`
     * checked. `hit` prunes, records and counts in one write transaction. */
    parley_err (*throttle_hit)(parley_store *s, const char *key, int64_t now, int64_t window,
                               size_t *count, parley_error *err);
    parley_err (*throttle_count)(parley_store *s, const char *key, int64_t now, int64_t window,
                                 size_t *count, parley_error *err);
    parley_err (*throttle_clear)(parley_store *s, const char *key, parley_error *err);
    /* The events ledger: `events` checked, `now` resolved. */
    parley_err (*events_record)(parley_store *s, const parley_store_event *events, size_t n,
                                int64_t now, size_t *added, size_t *duplicates, parley_error *err);
    parley_err (*events_list)(parley_store *s, const parley_store_event_query *q,
                              parley_store_event_fn fn, void *userdata, parley_error *err);
    parley_err (*events_settle)(parley_store *s, const char *id, const char *status,
                                const char *outcome, parley_error *err);
    /* Proactive effects (effects.c has the public half): arguments checked,
     * `e->at` resolved. */
    parley_err (*effect_record)(parley_store *s, const parley_store_effect *e, int *fresh,
                                parley_error *err);
    parley_err (*effect_find)(parley_store *s, const char *key, char outcome[16],
                              parley_error *err);
    parley_err (*effects_count)(parley_store *s, const parley_store_effect_query *q, int64_t *count,
                                parley_error *err);
    parley_err (*effects_commit)(parley_store *s, const parley_store_effect *effects, size_t n,
                                 const parley_store_settle *settles, size_t m, parley_error *err);
    parley_err (*effect_latest)(parley_store *s, const char *customer, const char *channel,
                                int64_t since, parley_store_effect_ref *out, parley_error *err);
    /* Encryption and retention (sweep.c has the public half). */
    parley_err (*rekey)(parley_store *s, parley_store_progress_fn fn, void *userdata,
                        parley_error *err);
    parley_err (*sweep)(parley_store *s, const parley_store_retention *policy, int64_t now,
                        parley_store_sweep_result *out, parley_error *err);
};

/* The first member of every backend's handle. */
struct parley_store {
    const struct parley_store_ops *ops;
    /* One call at a time per handle: a backend's connection and cached
     * statements are not shared between threads. */
    pthread_mutex_t mu;
    int schema_version;
    int encrypted; /* opened with a keyring */
    char errmsg[sizeof(((parley_error *)0)->msg)];
};

/* Opens the SQLite store at `path` (":memory:" allowed) with `opts` (NULL:
 * none); `url` is for messages. On success `*out` is a handle that
 * ops->close frees. */
parley_err parley__store_sqlite_open(const char *path, const char *url, int sync_full,
                                     const parley_store_options *opts, parley_store **out,
                                     parley_error *err);

/* Fills `buf` with `n` random bytes from the kernel. */
parley_err parley__store_random(void *buf, size_t n, parley_error *err);

/* store_util.c: what every public entry point does around a backend call:
 * one call at a time per handle, the last error kept in the handle. */
void parley__store_lock(parley_store *s);
void parley__store_unlock(parley_store *s);
parley_err parley__store_finish(parley_store *s, parley_err rc, const parley_error *local,
                                parley_error *err);
int64_t parley__store_now_ms(void);
/* 1 when `s` is NULL, empty or longer than `max` bytes. */
int parley__store_bad_text(const char *s, size_t max);
/* parley__store_finish with "WHAT: " before a failure's message. */
parley_err parley__store_finish_as(parley_store *store, parley_err rc, parley_error *local,
                                   const char *what, parley_error *err);
#ifdef PARLEY_TESTING
/* Tests set it in a child process to die right after a new conversation's
 * data key is stored, before the conversation row is. */
extern int parley__store_crash_after_key;
#endif

/* ---- crypt.c: keys and sealed values -------------------------------------- */

/* The master keys of a handle, [0] the current one; in locked memory. */
struct parley__keyring {
    size_t n;
    int locked;
    parley_store_master_key keys[PARLEY_STORE_MAX_MASTER_KEYS];
};

/* A data key in the clear; wipe with sodium_memzero after use. `id` is
 * random, never 0, and written in the header of every value it seals. */
#define PARLEY__DEK_BYTES 32
struct parley__dek {
    uint32_t id;
    unsigned char key[PARLEY__DEK_BYTES];
};
/* A data key wrapped by a master key: nonce, ciphertext, tag. */
#define PARLEY__WRAPPED_BYTES (24 + PARLEY__DEK_BYTES + 16)
/* Bytes a sealed value adds: header (version, data key id), nonce, tag. */
#define PARLEY__SEAL_OVERHEAD (5 + 24 + 16)

/* Copies `keys` (recomputing their ids) into a new keyring; the caller
 * frees it with parley__keyring_free(), which wipes it. */
parley_err parley__keyring_new(const parley_store_master_key *keys, size_t n,
                               struct parley__keyring **out, parley_error *err);
void parley__keyring_free(struct parley__keyring *kr);
/* The key with id `id`, or NULL. */
const parley_store_master_key *parley__keyring_find(const struct parley__keyring *kr,
                                                    const char *id);
/* A fresh random data key. */
parley_err parley__dek_new(struct parley__dek *dek, parley_error *err);
/* Wraps `dek` of conversation `conv` under the current master key. */
void parley__dek_wrap(const struct parley__keyring *kr, const char *conv,
                      const struct parley__dek *dek, unsigned char out[PARLEY__WRAPPED_BYTES]);
/* Unwraps; PARLEY_ERR_INVALID if `master_id` is not in the keyring,
 * PARLEY_ERR_CORRUPT if the wrapped key fails its check. */
parley_err parley__dek_unwrap(const struct parley__keyring *kr, const char *master_id,
                              const char *conv, uint32_t dek_id, const unsigned char *wrapped,
                              size_t len, struct parley__dek *dek, parley_error *err);
/* Seals `text` as the value of `column` (row number `n`: the turn's seq,
 * the state's version, 0 otherwise) of conversation `conv`; `*out` is
 * the caller's (parley__free). */
parley_err parley__seal(const struct parley__dek *dek, const char *conv, const char *column,
                        int64_t n, const char *text, unsigned char **out, size_t *out_len,
                        parley_error *err);
/* Opens a sealed value into a NUL-terminated `*out` (the caller frees it
 * with parley__free_secure). PARLEY_ERR_CORRUPT when it fails its check. */
parley_err parley__unseal(const struct parley__dek *dek, const char *conv, const char *column,
                          int64_t n, const unsigned char *blob, size_t len, char **out,
                          parley_error *err);
/* The data key id in a sealed value's header; -1 if it is not one. */
int parley__sealed_dek_id(const unsigned char *blob, size_t len, uint32_t *dek_id);

#endif
