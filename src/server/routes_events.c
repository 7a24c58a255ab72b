/* The event intake (docs/proactive.md): a batch checked against the running
 * bot's event types, all or nothing, then recorded in the events ledger in
 * one transaction; redelivered ids are counted, not recorded again. HTTP
 * (POST /v1/events) and the NATS JetStream consumer (nats.c) both go
 * through srv_events_ingest(). */
#include "parley/proactive.h"
#include "server/internal.h"

parley_err srv_events_ingest(struct parley_server *s, const char *json, size_t len, size_t *added,
                             size_t *dups, parley_error *err)
{
    parley_proactive_events *batch = NULL;
    parley_store_event *rows = NULL;
    size_t n, nt = 0, fresh = 0, again = 0;
    parley_err rc;

    /* The bot's types are read under an engine reference, so a reload in
     * between cannot free them; the batch keeps copies of what it needs. */
    struct engine *en = engine_get(s);
    const parley_bot_event_type *types = parley_bot_event_types(parley_dialog_bot(en->d), &nt);
    rc = parley_proactive_validate(types, nt, json ? json : "", len, parley__clock_ms(), &batch,
                                   err);
    engine_put(en);
    if (rc != PARLEY_OK)
        goto out;
    n = parley_proactive_events_count(batch);
    rows = parley__calloc(n, sizeof(*rows));
    if (!rows) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot record events: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const parley_proactive_event *ev = parley_proactive_events_at(batch, i);
        rows[i].id = ev->id;
        rows[i].type = ev->type;
        rows[i].at = ev->at;
        rows[i].doc = ev->doc;
    }
    if ((rc = parley_store_events_record(s->store, rows, n, 0, &fresh, &again, err)) != PARLEY_OK)
        goto out;
    atomic_fetch_add(&s->met.events, fresh);
    if (added)
        *added = fresh;
    if (dups)
        *dups = again;
    if (fresh)
        proactive_kick(s);
out:
    parley__free(rows);
    parley_proactive_events_free(batch);
    return rc;
}

void h_events_post(struct req *r)
{
    parley_error e = PARLEY_ERROR_INIT;
    size_t added = 0, dups = 0;
    parley_err rc = srv_events_ingest(r->s, r->body, r->len, &added, &dups, &e);

    switch (rc) {
    case PARLEY_OK:
        r->status = 202;
        r->json =
            json_pack("{s:I, s:I}", "accepted", (json_int_t)added, "duplicates", (json_int_t)dups);
        break;
    case PARLEY_ERR_FORMAT:
        req_error(r, 400, "bad_json", "the body is %s", e.msg);
        break;
    case PARLEY_ERR_INVALID:
        req_error(r, 400, "bad_field", "%s; nothing was recorded", e.msg);
        break;
    default:
        req_fail(r, rc, &e);
        break;
    }
}
