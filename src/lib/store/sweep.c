/* The public half of retention and master-key rotation: argument checks,
 * the clock, the handle's lock and last error around the backend's sweep
 * and rekey (sqlite_sweep.c). */
#include "store/internal.h"

int parley_store_encrypted(const parley_store *store)
{
    return store ? store->encrypted : 0;
}

parley_err parley_store_rekey(parley_store *store, parley_store_progress_fn fn, void *userdata,
                              parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    if (!store)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot rekey: no store");
    parley__store_lock(store);
    parley_err rc = store->ops->rekey(store, fn, userdata, &local);
    parley__store_unlock(store);
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot rewrap the data keys");
    return parley__store_finish(store, rc, &local, err);
}

parley_err parley_store_sweep(parley_store *store, const parley_store_retention *policy,
                              int64_t now_ms, parley_store_sweep_result *out, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;

    if (!store || !policy)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot sweep: no %s",
                                store ? "policy" : "store");
    if (policy->transcript_days < 0 || now_ms < 0) {
        rc = parley_error_set(&local, PARLEY_ERR_INVALID, "%s is negative",
                              now_ms < 0 ? "time" : "transcript retention");
        goto out;
    }
    if (now_ms == 0)
        now_ms = parley__store_now_ms();
    parley__store_lock(store);
    rc = store->ops->sweep(store, policy, now_ms, out, &local);
    parley__store_unlock(store);
    if (rc == PARLEY_OK && out)
        PARLEY_LOG(PARLEY_LOG_INFO,
                   "store: swept %zu conversations, %zu turns, %zu data keys, %zu throttle events",
                   out->conversations, out->turns, out->data_keys, out->throttle_events);
out:
    if (rc != PARLEY_OK)
        parley_error_prefix(&local, "cannot sweep the store");
    return parley__store_finish(store, rc, &local, err);
}
