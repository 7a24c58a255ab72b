/* The backend-independent half of the store: picks a backend from the URL,
 * checks arguments and size caps once for every backend, makes conversation
 * ids from kernel randomness and keeps each handle's last error message. */
#include <stdio.h>
#include <string.h>

#include "store/internal.h"

static const char *const role_names[] = {"customer", "bot", "agent", "system"};

const char *parley_store_role_name(parley_store_role role)
{
    if ((unsigned)role >= sizeof(role_names) / sizeof(role_names[0]))
        return NULL;
    return role_names[role];
}

static parley_err check_id(const char *id, parley_error *err)
{
    if (!id || !id[0])
        return parley_error_set(err, PARLEY_ERR_INVALID, "conversation id is empty");
    if (strnlen(id, PARLEY_STORE_MAX_ID + 1) > PARLEY_STORE_MAX_ID)
        return parley_error_set(err, PARLEY_ERR_INVALID, "conversation id is longer than %d bytes",
                                PARLEY_STORE_MAX_ID);
    return PARLEY_OK;
}

static parley_err check_len(const char *what, const char *s, size_t max, parley_error *err)
{
    if (s && strnlen(s, max + 1) > max)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "%s is longer than %zu bytes", what, max);
    return PARLEY_OK;
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

parley_err parley_store_open(const char *url, parley_store **out, parley_error *err)
{
    return parley_store_open_ex(url, NULL, out, err);
}

parley_err parley_store_open_ex(const char *url, const parley_store_options *opts,
                                parley_store **out, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;

    if (!url || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot open store: no url given");
    if (has_prefix(url, "postgres://") || has_prefix(url, "postgresql://"))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot open store: the postgresql backend is not built");
    const char *path = has_prefix(url, "sqlite:") ? url + strlen("sqlite:") : url;
    const char *q = strstr(path, "?sync=");
    char file[4096];
    int full = 0;
    if (q) {
        if (strcmp(q, "?sync=full") == 0)
            full = 1;
        else if (strcmp(q, "?sync=normal") != 0)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot open store '%s': unknown option '%s' (expected "
                                    "?sync=full or ?sync=normal)",
                                    url, q);
        if ((size_t)(q - path) >= sizeof(file))
            return parley_error_set(err, PARLEY_ERR_LIMIT, "cannot open store: path too long");
        memcpy(file, path, (size_t)(q - path));
        file[q - path] = '\0';
        path = file;
    }
    if (!path[0])
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot open store '%s': empty path", url);
    parley_err rc = parley__store_sqlite_open(path, url, full, opts, out, &local);
    if (rc == PARLEY_OK && pthread_mutex_init(&(*out)->mu, NULL) != 0) {
        (*out)->ops->close(*out);
        rc = parley_error_set(&local, PARLEY_ERR_NOMEM, "cannot open store '%s': no mutex", url);
    }
    if (rc != PARLEY_OK && err)
        *err = local;
    return rc;
}

void parley_store_close(parley_store *store)
{
    if (store) {
        (void)pthread_mutex_destroy(&store->mu);
        store->ops->close(store);
    }
}

const char *parley_store_errmsg(const parley_store *store)
{
    return store ? store->errmsg : "no store";
}

const char *parley_store_backend(const parley_store *store)
{
    return store ? store->ops->name : "";
}

int parley_store_schema_version(const parley_store *store)
{
    return store ? store->schema_version : 0;
}

void parley_store_conversation_release(parley_store_conversation *conv)
{
    if (!conv)
        return;
    parley__free(conv->channel);
    parley__free(conv->language);
    parley__free(conv->status);
    parley__free(conv->intent);
    parley__free(conv->handoff_reason);
    parley__free(conv->handoff_queue);
    /* Content columns may have been decrypted: wipe them. */
    if (conv->handoff_summary)
        parley__free_secure(conv->handoff_summary, strlen(conv->handoff_summary));
    if (conv->rating_comment)
        parley__free_secure(conv->rating_comment, strlen(conv->rating_comment));
    if (conv->state)
        parley__free_secure(conv->state, strlen(conv->state));
    memset(conv, 0, sizeof(*conv));
}

parley_err parley_store_conversation_create(parley_store *store, const char *channel,
                                            const char *language, const char *state,
                                            char id_out[PARLEY_STORE_ID_SIZE], parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    unsigned char raw[PARLEY_STORE_ID_LEN / 2];
    char id[PARLEY_STORE_ID_SIZE];
    static const char hex[] = "0123456789abcdef";

    if (!store || !id_out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot create conversation: no %s",
                                store ? "id buffer" : "store");
    if ((rc = check_len("channel", channel, PARLEY_STORE_MAX_TAG, &local)) != PARLEY_OK ||
        (rc = check_len("language", language, PARLEY_STORE_MAX_TAG, &local)) != PARLEY_OK ||
        (rc = check_len("state", state, PARLEY_STORE_MAX_STATE, &local)) != PARLEY_OK ||
        (rc = parley__store_random(raw, sizeof(raw), &local)) != PARLEY_OK)
        goto out;
    for (size_t i = 0; i < sizeof(raw); i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[PARLEY_STORE_ID_LEN] = '\0';
    parley__store_lock(store);
    rc = store->ops->create(store, id, channel ? channel : "", language ? language : "",
                            state ? state : "{}", parley__store_now_ms(), &local);
    parley__store_unlock(store);
    if (rc == PARLEY_OK)
        memcpy(id_out, id, sizeof(id));
out:
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot create conversation");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_conversation_load(parley_store *store, const char *id,
                                          parley_store_conversation *out, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load conversation: no %s",
                                store ? "output" : "store");
    if ((rc = check_id(id, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->load(store, id, out, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot load conversation '%.64s'", id ? id : "");
    return parley__store_finish(store, rc, &local, err);
}

static parley_err commit(parley_store *store, const char *what, const char *id,
                         int64_t expected_version, const char *new_state,
                         const parley_store_turn *turns, size_t nturns,
                         const parley_store_outcome *oc, int64_t *seq_out, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot %s: no store", what);
    if ((rc = check_id(id, &local)) != PARLEY_OK)
        goto out;
    if (!new_state) {
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "no state given");
        goto out;
    }
    if ((rc = check_len("state", new_state, PARLEY_STORE_MAX_STATE, &local)) != PARLEY_OK)
        goto out;
    for (size_t i = 0; i < nturns; i++) {
        const parley_store_turn *turn = &turns[i];
        if (!parley_store_role_name(turn->role) || !turn->text) {
            rc = parley_error_set(&local, PARLEY_ERR_INVALID, "turn has %s",
                                  turn->text ? "an unknown role" : "no text");
            goto out;
        }
        if ((rc = check_len("turn text", turn->text, PARLEY_STORE_MAX_TEXT, &local)) != PARLEY_OK ||
            (rc = check_len("turn intent", turn->intent, PARLEY_STORE_MAX_TAG * 4, &local)) !=
                PARLEY_OK ||
            (rc = check_len("turn metadata", turn->metadata, PARLEY_STORE_MAX_TEXT, &local)) !=
                PARLEY_OK)
            goto out;
    }
    if (oc &&
        ((rc = check_len("status", oc->status, PARLEY_STORE_MAX_TAG, &local)) != PARLEY_OK ||
         (rc = check_len("intent", oc->intent, PARLEY_STORE_MAX_TAG * 4, &local)) != PARLEY_OK ||
         (rc = check_len("hand-off reason", oc->handoff_reason, PARLEY_STORE_MAX_TAG, &local)) !=
             PARLEY_OK ||
         (rc = check_len("hand-off queue", oc->handoff_queue, PARLEY_STORE_MAX_TAG, &local)) !=
             PARLEY_OK ||
         (rc = check_len("hand-off summary", oc->handoff_summary, PARLEY_STORE_MAX_TEXT, &local)) !=
             PARLEY_OK ||
         (rc = check_len("language", oc->language, PARLEY_STORE_MAX_TAG, &local)) != PARLEY_OK))
        goto out;
    parley__store_lock(store);
    rc = store->ops->commit(store, id, expected_version, new_state, turns, nturns, oc,
                            parley__store_now_ms(), seq_out, &local);
    parley__store_unlock(store);
out:
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot %s '%.64s'", what, id ? id : "");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_state_save(parley_store *store, const char *id, int64_t expected_version,
                                   const char *new_state, parley_error *err)
{
    return commit(store, "save conversation", id, expected_version, new_state, NULL, 0, NULL, NULL,
                  err);
}

parley_err parley_store_commit_turn(parley_store *store, const char *id, int64_t expected_version,
                                    const char *new_state, const parley_store_turn *turn,
                                    int64_t *seq_out, parley_error *err)
{
    if (!turn)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot commit turn: no turn given");
    return commit(store, "commit turn to conversation", id, expected_version, new_state, turn, 1,
                  NULL, seq_out, err);
}

parley_err parley_store_commit_turns(parley_store *store, const char *id, int64_t expected_version,
                                     const char *new_state, const parley_store_turn *turns,
                                     size_t nturns, int64_t *seq_out, parley_error *err)
{
    if (!turns || nturns == 0 || nturns > 16)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot commit turns: give 1 to 16 turns (got %zu)", nturns);
    return commit(store, "commit turns to conversation", id, expected_version, new_state, turns,
                  nturns, NULL, seq_out, err);
}

parley_err parley_store_turns_list(parley_store *store, const char *id, parley_store_turn_fn fn,
                                   void *userdata, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store || !fn)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot list turns: no %s",
                                store ? "callback" : "store");
    if ((rc = check_id(id, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->turns(store, id, fn, userdata, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot list turns of '%.64s'", id ? id : "");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_conversation_delete(parley_store *store, const char *id, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot delete conversation: no store");
    if ((rc = check_id(id, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->erase(store, id, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot delete conversation '%.64s'", id ? id : "");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_conversation_count(parley_store *store, size_t *out, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot count conversations: no %s",
                                store ? "output" : "store");
    parley__store_lock(store);
    rc = store->ops->count(store, out, &local);
    parley__store_unlock(store);
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot count conversations");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_commit_outcome(parley_store *store, const char *id,
                                       int64_t expected_version, const char *new_state,
                                       const parley_store_turn *turns, size_t nturns,
                                       const parley_store_outcome *outcome, int64_t *seq_out,
                                       parley_error *err)
{
    if ((nturns && !turns) || nturns > 16)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot commit turns: give 0 to 16 turns (got %zu)", nturns);
    return commit(store, "commit to conversation", id, expected_version, new_state, turns, nturns,
                  outcome, seq_out, err);
}

parley_err parley_store_handoffs_list(parley_store *store, size_t limit, parley_store_handoff_fn fn,
                                      void *userdata, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    if (!store || !fn)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot list hand-offs: no %s",
                                store ? "callback" : "store");
    parley__store_lock(store);
    parley_err rc = store->ops->handoffs(store, limit, fn, userdata, &local);
    parley__store_unlock(store);
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot list hand-offs");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_outcomes(parley_store *store, int64_t from, int64_t to,
                                 parley_store_outcome_fn fn, void *userdata, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    if (!store || !fn)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot read outcomes: no %s",
                                store ? "callback" : "store");
    parley__store_lock(store);
    parley_err rc = store->ops->outcomes(store, from, to, fn, userdata, &local);
    parley__store_unlock(store);
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot read outcomes");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_rating_set(parley_store *store, const char *id, int score,
                                   const char *comment, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot rate conversation: no store");
    if ((rc = check_id(id, &local)) != PARLEY_OK ||
        (rc = check_len("comment", comment, PARLEY_STORE_MAX_TEXT, &local)) != PARLEY_OK)
        goto out;
    if (score < 1 || score > 5) {
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "score %d is not 1 to 5", score);
        goto out;
    }
    parley__store_lock(store);
    rc = store->ops->rating(store, id, score, comment, &local);
    parley__store_unlock(store);
out:
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot rate conversation '%.64s'", id ? id : "");
    return parley__store_finish(store, rc, &local, err);
}

static parley_err check_key_id(const char *id, parley_error *err)
{
    if (!id || !id[0] || strnlen(id, PARLEY_STORE_MAX_ID + 1) > PARLEY_STORE_MAX_ID)
        return parley_error_set(err, PARLEY_ERR_INVALID, "key id must be 1 to %d bytes",
                                PARLEY_STORE_MAX_ID);
    return PARLEY_OK;
}

parley_err parley_store_key_add(parley_store *store, const parley_store_key *key, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store || !key)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot add key: no %s",
                                store ? "key" : "store");
    if ((rc = check_key_id(key->id, &local)) != PARLEY_OK ||
        (rc = check_len("label", key->label, PARLEY_STORE_MAX_TAG * 4, &local)) != PARLEY_OK)
        goto out;
    if (!key->role || !key->role[0] || strlen(key->role) > PARLEY_STORE_MAX_TAG || !key->hash ||
        key->hash_len < 16 || key->hash_len > 64) {
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "key needs a role and a 16-64 byte hash");
        goto out;
    }
    parley__store_lock(store);
    rc = store->ops->key_add(store, key, parley__store_now_ms(), &local);
    parley__store_unlock(store);
out:
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot add key '%.64s'", key->id ? key->id : "");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_key_find(parley_store *store, const char *id, parley_store_key_fn fn,
                                 void *userdata, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store || !fn)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot find key: no %s",
                                store ? "callback" : "store");
    if ((rc = check_key_id(id, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->key_find(store, id, fn, userdata, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot find key '%.64s'", id ? id : "");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_key_revoke(parley_store *store, const char *id, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot revoke key: no store");
    if ((rc = check_key_id(id, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->key_revoke(store, id, parley__store_now_ms(), &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot revoke key '%.64s'", id ? id : "");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_keys_list(parley_store *store, parley_store_key_fn fn, void *userdata,
                                  parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    if (!store || !fn)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot list keys: no %s",
                                store ? "callback" : "store");
    parley__store_lock(store);
    parley_err rc = store->ops->keys(store, fn, userdata, &local);
    parley__store_unlock(store);
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot list keys");
    return parley__store_finish(store, rc, &local, err);
}

/* ---- consent ledger ------------------------------------------------------ */

static parley_err check_customer(const char *customer, parley_error *err)
{
    if (!customer || !customer[0] ||
        strnlen(customer, PARLEY_STORE_MAX_ID + 1) > PARLEY_STORE_MAX_ID)
        return parley_error_set(err, PARLEY_ERR_INVALID, "customer id must be 1 to %d bytes",
                                PARLEY_STORE_MAX_ID);
    return PARLEY_OK;
}

parley_err parley_store_consent_add(parley_store *store, const parley_store_consent *c,
                                    char id_out[24], parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    unsigned char raw[8];
    char id[24];
    parley_store_consent copy;
    parley_err rc;

    if (!store || !c || !id_out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot record consent: bad argument");
    if ((rc = check_customer(c->customer_id, &local)) != PARLEY_OK ||
        (rc = check_len("scope", c->scope, PARLEY_STORE_MAX_TAG, &local)) != PARLEY_OK ||
        (rc = check_len("limits", c->limits, 1000, &local)) != PARLEY_OK ||
        (rc = check_len("channel", c->channel, PARLEY_STORE_MAX_TAG, &local)) != PARLEY_OK)
        goto out;
    if (!c->scope || !c->scope[0] || !c->limits) {
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "a grant needs a scope and limits");
        goto out;
    }
    if ((rc = parley__store_random(raw, sizeof(raw), &local)) != PARLEY_OK)
        goto out;
    (void)snprintf(id, sizeof(id), "g_%02x%02x%02x%02x%02x%02x%02x%02x", raw[0], raw[1], raw[2],
                   raw[3], raw[4], raw[5], raw[6], raw[7]);
    copy = *c;
    copy.id = id;
    parley__store_lock(store);
    rc = store->ops->consent_add(store, &copy, parley__store_now_ms(), &local);
    parley__store_unlock(store);
    if (rc == PARLEY_OK)
        memcpy(id_out, id, sizeof(id));
out:
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot record consent");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_consents(parley_store *store, const char *customer, const char *period,
                                 parley_store_consent_fn fn, void *userdata, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !fn || !period)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot list consents: bad argument");
    if ((rc = check_customer(customer, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->consents(store, customer, period, fn, userdata, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot list consents");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_consent_revoke(parley_store *store, const char *customer, const char *id,
                                       size_t *count, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    size_t n = 0;
    parley_err rc;
    if (!store || !id)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot revoke consent: bad argument");
    if ((rc = check_customer(customer, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->consent_revoke(store, customer, id, parley__store_now_ms(), &n, &local);
        parley__store_unlock(store);
    }
    if (count)
        *count = n;
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot revoke consent");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_consent_use(parley_store *store, const char *customer, const char *scope,
                                    const char *period, double quantity, double amount,
                                    const char *key, parley_store_consent_check_fn check,
                                    void *userdata, parley_store_consent *used, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !scope || !period || !check || !used)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot use consent: bad argument");
    if (key && strnlen(key, 129) > 128)
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "the use key is over 128 bytes");
    else if ((rc = check_customer(customer, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->consent_use(store, customer, scope, period, quantity, amount, key,
                                     parley__store_now_ms(), check, userdata, used, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot use consent");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_customer_conversations(parley_store *store, const char *customer,
                                               parley_store_id_fn fn, void *userdata,
                                               parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !fn)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot list conversations: bad argument");
    if ((rc = check_customer(customer, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->customer_conversations(store, customer, fn, userdata, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot list the customer's conversations");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_customer_erase(parley_store *store, const char *customer, size_t *count,
                                       parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    size_t n = 0;
    parley_err rc;
    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot erase: no store");
    if ((rc = check_customer(customer, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->customer_erase(store, customer, &n, &local);
        parley__store_unlock(store);
    }
    if (count)
        *count = n;
    if (rc == PARLEY_OK)
        PARLEY_LOG(PARLEY_LOG_INFO, "store: erased a customer's data (%zu conversations)", n);
    else
        parley_error_prefix(&local, "cannot erase the customer's data");
    return parley__store_finish(store, rc, &local, err);
}

/* ---- throttles ------------------------------------------------------------ */

/* Keys are opaque pseudonyms: 1..PARLEY_STORE_MAX_ID bytes of printable
 * ASCII. The message never echoes the key. */
static parley_err check_throttle_key(const char *key, parley_error *err)
{
    if (!key || !key[0])
        return parley_error_set(err, PARLEY_ERR_INVALID, "throttle key is empty");
    size_t n = strnlen(key, PARLEY_STORE_MAX_ID + 1);
    if (n > PARLEY_STORE_MAX_ID)
        return parley_error_set(err, PARLEY_ERR_INVALID, "throttle key is longer than %d bytes",
                                PARLEY_STORE_MAX_ID);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c > 0x7e)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "throttle key has a byte that is not printable ASCII "
                                    "(0x%02x at offset %zu)",
                                    c, i);
    }
    return PARLEY_OK;
}

/* Checks key, time and window; resolves a `*now` of 0 to the clock. */
static parley_err check_throttle(const char *key, int64_t *now, int64_t window, parley_error *err)
{
    parley_err rc = check_throttle_key(key, err);
    if (rc != PARLEY_OK)
        return rc;
    if (*now < 0)
        return parley_error_set(err, PARLEY_ERR_INVALID, "time is negative (%lld ms)",
                                (long long)*now);
    if (window <= 0)
        return parley_error_set(err, PARLEY_ERR_INVALID, "window must be positive (got %lld ms)",
                                (long long)window);
    if (*now == 0)
        *now = parley__store_now_ms();
    return PARLEY_OK;
}

parley_err parley_store_throttle_hit(parley_store *store, const char *key, int64_t now,
                                     int64_t window_ms, size_t *count, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot record throttle event: no store");
    if ((rc = check_throttle(key, &now, window_ms, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->throttle_hit(store, key, now, window_ms, count, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot record throttle event");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_throttle_count(parley_store *store, const char *key, int64_t now,
                                       int64_t window_ms, size_t *count, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !count)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot count throttle events: no %s",
                                store ? "count" : "store");
    if ((rc = check_throttle(key, &now, window_ms, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->throttle_count(store, key, now, window_ms, count, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot count throttle events");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_throttle_clear(parley_store *store, const char *key, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot clear throttle: no store");
    if ((rc = check_throttle_key(key, &local)) == PARLEY_OK) {
        parley__store_lock(store);
        rc = store->ops->throttle_clear(store, key, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot clear throttle");
    return parley__store_finish(store, rc, &local, err);
}

/* ---- the events ledger -------------------------------------------------- */

static parley_err check_event(const parley_store_event *ev, size_t i, parley_error *err)
{
    if (!ev->id || !ev->id[0] ||
        strnlen(ev->id, PARLEY_STORE_MAX_EVENT_ID + 1) > PARLEY_STORE_MAX_EVENT_ID)
        return parley_error_set(err, PARLEY_ERR_INVALID, "event %zu: the id must be 1 to %d bytes",
                                i, PARLEY_STORE_MAX_EVENT_ID);
    if (!ev->type || !ev->type[0] ||
        strnlen(ev->type, PARLEY_STORE_MAX_EVENT_TYPE + 1) > PARLEY_STORE_MAX_EVENT_TYPE)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "event %zu: the type must be 1 to %d bytes", i,
                                PARLEY_STORE_MAX_EVENT_TYPE);
    if (!ev->doc)
        return parley_error_set(err, PARLEY_ERR_INVALID, "event %zu: no document", i);
    if (strnlen(ev->doc, PARLEY_STORE_MAX_STATE + 1) > PARLEY_STORE_MAX_STATE)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "event %zu: the document is over %d bytes",
                                i, PARLEY_STORE_MAX_STATE);
    return PARLEY_OK;
}

parley_err parley_store_events_record(parley_store *store, const parley_store_event *events,
                                      size_t n, int64_t now, size_t *added, size_t *duplicates,
                                      parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc = PARLEY_OK;
    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot record events: no store");
    if (!events || n == 0)
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "no events");
    else if (n > PARLEY_STORE_MAX_EVENT_BATCH)
        rc = parley_error_set(&local, PARLEY_ERR_LIMIT, "%zu events, over %d in one call", n,
                              PARLEY_STORE_MAX_EVENT_BATCH);
    else if (now < 0)
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "time is negative (%lld ms)",
                              (long long)now);
    for (size_t i = 0; rc == PARLEY_OK && events && i < n; i++)
        rc = check_event(&events[i], i, &local);
    if (rc == PARLEY_OK) {
        if (now == 0)
            now = parley__store_now_ms();
        parley__store_lock(store);
        rc = store->ops->events_record(store, events, n, now, added, duplicates, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot record events");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_events_list(parley_store *store, const parley_store_event_query *q,
                                    parley_store_event_fn fn, void *userdata, parley_error *err)
{
    static const parley_store_event_query all = {0, 0, 0, NULL};
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !fn)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot list events: no %s",
                                store ? "callback" : "store");
    if (q && q->after_seq < 0) {
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "after_seq is negative");
    } else {
        parley__store_lock(store);
        rc = store->ops->events_list(store, q ? q : &all, fn, userdata, &local);
        parley__store_unlock(store);
    }
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot list events");
    return parley__store_finish(store, rc, &local, err);
}
