/* Opening and closing the conversation engine: the bot, its intent and
 * language models, knowledge base, connectors and store; starting
 * conversations. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dialog/internal.h"

static parley_err load_model(const char *dir, const char *name, parley_nlu_model **out,
                             parley_error *err)
{
    char path[4096];
    parley_error e = PARLEY_ERROR_INIT;
    int w = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= sizeof(path))
        return parley_error_set(err, PARLEY_ERR_LIMIT, "cannot open bot: path too long: '%s'", dir);
    if (parley_nlu_model_load(path, out, &e) != PARLEY_OK)
        return parley_error_set(err, e.code,
                                "cannot open bot: %s (train it with `parley bot train BOT_DIR "
                                "--out %s`)",
                                e.msg, dir);
    return PARLEY_OK;
}

parley_err parley_dialog_open(const parley_dialog_options *o, parley_dialog **out,
                              parley_error *err)
{
    parley_dialog *d = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char models[4096], path[4096];
    parley_err rc;

    if (!o || !o->bot_dir || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot open bot: bad argument");
    d = parley__calloc(1, sizeof(*d));
    if (!d)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot open bot: out of memory");
    (void)pthread_mutex_init(&d->pii_mu, NULL); /* destroyed by close, whatever fails */
    d->idle_ms = (int64_t)(o->idle_minutes ? o->idle_minutes : 30) * 60 * 1000;
    d->verify_idle_ms = (int64_t)(o->verify_idle_minutes ? o->verify_idle_minutes : 15) * 60 * 1000;
    if (getrandom(&d->secret, sizeof(d->secret), 0) != (ssize_t)sizeof(d->secret))
        d->secret = (uint64_t)(parley__now() * 1e9) ^ (uint64_t)getpid();
    rc = parley_bot_load(o->bot_dir, &d->bot, NULL, &e);
    if (rc != PARLEY_OK) {
        rc = parley_error_set(err, rc, "%s (run `parley bot check %s`)", e.msg, o->bot_dir);
        goto fail;
    }
    d->nlangs = parley_bot_language_count(d->bot);
    if (d->nlangs > DLG_MAX_LANGS) {
        rc = parley_error_set(err, PARLEY_ERR_LIMIT, "cannot open bot: more than %d languages",
                              DLG_MAX_LANGS);
        goto fail;
    }
    if (strlen(o->bot_dir) + 16 > sizeof(models) ||
        (o->models_dir && strlen(o->models_dir) + 1 > sizeof(models))) {
        rc = parley_error_set(err, PARLEY_ERR_LIMIT, "cannot open bot: path too long: '%s'",
                              o->bot_dir);
        goto fail;
    }
    if (o->models_dir)
        memcpy(models, o->models_dir, strlen(o->models_dir) + 1);
    else
        (void)snprintf(models, sizeof(models), "%s/models", o->bot_dir);
    for (size_t i = 0; i < d->nlangs; i++) {
        char name[96];
        d->langs[i] = parley_bot_language(d->bot, i);
        (void)snprintf(name, sizeof(name), "intent-%.60s.model", d->langs[i]);
        if ((rc = load_model(models, name, &d->intent[i], err)) != PARLEY_OK)
            goto fail;
    }
    if (d->nlangs > 1) {
        (void)snprintf(path, sizeof(path), "%.4000s/langid.model", models);
        if ((rc = parley_langid_load(path, &d->language, &e)) != PARLEY_OK) {
            rc = parley_error_set(err, rc,
                                  "cannot open bot: %s (train it with `parley bot train BOT_DIR "
                                  "--out %s`)",
                                  e.msg, models);
            goto fail;
        }
    }
    (void)snprintf(path, sizeof(path), "%.4090s/kb", o->bot_dir);
    if (access(path, F_OK) == 0 && (rc = parley_kb_load(path, &d->kb, &e)) != PARLEY_OK) {
        rc = parley_error_set(err, rc, "cannot open bot: knowledge base: %s", e.msg);
        goto fail;
    }
    d->nconns = parley_bot_connector_count(d->bot);
    if (d->nconns > DLG_MAX_CONNS)
        d->nconns = DLG_MAX_CONNS;
    for (size_t i = 0; i < d->nconns; i++) {
        rc = parley_connector_new(parley_bot_connector(d->bot, i), &d->conns[i], &e);
        if (rc == PARLEY_OK && o->backend_url)
            rc = parley_connector_set_base_url(d->conns[i], o->backend_url, &e);
        if (rc != PARLEY_OK) {
            rc = parley_error_set(err, rc, "cannot open bot: connector: %s", e.msg);
            goto fail;
        }
    }
    rc = parley_store_open_ex(o->store_url ? o->store_url : ":memory:", o->store_options, &d->store,
                              &e);
    if (rc != PARLEY_OK) {
        rc = parley_error_set(err, rc, "cannot open bot: store: %s", e.msg);
        goto fail;
    }
    if ((rc = dlg_pii_open(d, o, err)) != PARLEY_OK)
        goto fail;
    if (o->audit_url) {
        parley_audit_options ao = {0};
        ao.signing_key_path = o->audit_key;
        if ((rc = parley_audit_open(o->audit_url, &ao, &d->audit, &e)) != PARLEY_OK) {
            rc = parley_error_set(err, rc, "cannot open bot: audit log: %s", e.msg);
            goto fail;
        }
    }
    *out = d;
    return PARLEY_OK;
fail:
    parley_dialog_close(d);
    return rc;
}

void parley_dialog_close(parley_dialog *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < DLG_MAX_LANGS; i++)
        parley_nlu_model_free(d->intent[i]);
    parley_langid_free(d->language);
    parley_kb_free(d->kb);
    for (size_t i = 0; i < d->nconns; i++)
        parley_connector_free(d->conns[i]);
    parley_store_close(d->store);
    parley_audit_close(d->audit);
    dlg_pii_close(d);
    parley_bot_free(d->bot);
    parley__free(d);
}

parley_err parley_dialog_proactive(parley_dialog *d, int dry_run,
                                   parley_proactive_deliver_fn deliver, void *userdata,
                                   parley_proactive_engine **out, parley_error *err)
{
    parley_proactive_options o;
    if (!d)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no conversation engine");
    memset(&o, 0, sizeof(o));
    o.bot = d->bot;
    o.store = d->store;
    o.connectors = d->conns;
    o.n_connectors = d->nconns;
    o.audit = d->audit;
    o.deliver = deliver;
    o.deliver_userdata = userdata;
    o.dry_run = dry_run;
    return parley_proactive_engine_new(&o, out, err);
}

parley_store *parley_dialog_store(parley_dialog *d)
{
    return d ? d->store : NULL;
}

parley_err parley_dialog_start(parley_dialog *d, const char *channel,
                               char id_out[PARLEY_STORE_ID_SIZE], parley_error *err)
{
    if (!d || !id_out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot start conversation: bad argument");
    return parley_store_conversation_create(d->store, channel, d->langs[0], "{}", id_out, err);
}
