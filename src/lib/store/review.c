/* The review queue's entry points: argument checks, one call at a time per
 * handle, then the backend (sqlite_review.c). */
#include <string.h>

#include "store/internal.h"

static int known_reason(const char *r)
{
    static const char *const reasons[] = {"out_of_scope", "clarify", "not_understood", "handoff"};
    for (size_t i = 0; r && i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (strcmp(r, reasons[i]) == 0)
            return 1;
    return 0;
}

parley_err parley_store_review_add(parley_store *store, const parley_store_review *r,
                                   parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !r || parley__store_bad_text(r->conversation_id, PARLEY_STORE_MAX_ID) ||
        r->seq < 1 || !known_reason(r->reason) ||
        (r->language && strlen(r->language) > PARLEY_STORE_MAX_TAG) ||
        (r->predicted && strlen(r->predicted) > 256))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot queue a turn for review: bad "
                                "argument");
    parley__store_lock(store);
    rc = store->ops->review_add(store, r, parley__store_now_ms(), &local);
    parley__store_unlock(store);
    return parley__store_finish_as(store, rc, &local, "cannot queue a turn for review", err);
}

parley_err parley_store_review_list(parley_store *store, const char *status, int64_t after_id,
                                    size_t limit, parley_store_review_fn fn, void *userdata,
                                    parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !fn ||
        (status && strcmp(status, "open") != 0 && strcmp(status, "labelled") != 0 &&
         strcmp(status, "dismissed") != 0))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot list the review queue: status must be open, labelled or "
                                "dismissed");
    parley__store_lock(store);
    rc = store->ops->review_list(store, status, after_id, limit, fn, userdata, &local);
    parley__store_unlock(store);
    return parley__store_finish_as(store, rc, &local, "cannot list the review queue", err);
}

parley_err parley_store_review_label(parley_store *store, int64_t id, const char *intent,
                                     const char *who, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || id < 1 || (intent && parley__store_bad_text(intent, 256)) ||
        (who && strlen(who) > 256))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot label a review item: bad "
                                "argument");
    parley__store_lock(store);
    rc = store->ops->review_label(store, id, intent, who, parley__store_now_ms(), &local);
    parley__store_unlock(store);
    return parley__store_finish_as(store, rc, &local, "cannot label a review item", err);
}
