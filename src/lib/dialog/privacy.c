/* Privacy requests made in chat: which one the customer means (words the
 * bot lists per language), a copy of their data (the export document goes
 * with the reply), opting out of training use (the training_use grants
 * revoked) and erasing everything stored about the customer, which happens
 * once the turn that confirmed it is stored. */
#include <stdio.h>
#include <string.h>

#include "dialog/internal.h"

/* Whether the message holds one of the '|'-separated words of response
 * `key` in the turn's language (case and accents ignored). */
static int says_one_of(const struct dlg_turn *t, const char *key)
{
    const char *words = parley_bot_response(t->d->bot, key, t->lang);
    unsigned fl = PARLEY_TEXT_CASEFOLD | PARLEY_TEXT_STRIP_ACCENTS;
    char *msg = NULL, *list = NULL, *save = NULL;
    size_t ml, ll;
    int hit = 0;
    if (!words || parley_text_normalize(t->text, t->len, fl, &msg, &ml, NULL) != PARLEY_OK ||
        parley_text_normalize(words, strlen(words), fl, &list, &ll, NULL) != PARLEY_OK)
        goto done;
    for (char *w = strtok_r(list, "|", &save); w && !hit; w = strtok_r(NULL, "|", &save))
        hit = w[0] && strstr(msg, w) != NULL;
done:
    parley_free(msg);
    parley_free(list);
    return hit;
}

/* Sets fact privacy_kind to "erase", "opt_out" or "export" (checked in
 * that order: "delete the copy you keep" is an erasure); 0 when the
 * message names none of them. */
static int kind(struct dlg_turn *t)
{
    const char *k = says_one_of(t, "privacy_words_erase")     ? "erase"
                    : says_one_of(t, "privacy_words_opt_out") ? "opt_out"
                    : says_one_of(t, "privacy_words_export")  ? "export"
                                                              : NULL;
    /* Set either way, so an earlier request does not decide this one. */
    if (!dlg_fact_set(t->st, "privacy_kind", k ? k : "", "\"\"", PARLEY_CONNECT_PUBLIC, 0))
        t->failed = 1;
    return k != NULL;
}

static int opt_out(struct dlg_turn *t)
{
    parley_error e = PARLEY_ERROR_INIT;
    size_t n = 0;
    if (!t->st->id.verified)
        return 0;
    parley_err rc = parley_store_consent_revoke(t->d->store, t->st->id.customer_id,
                                                "scope:training_use", &n, &e);
    if (rc != PARLEY_OK && rc != PARLEY_ERR_NOTFOUND)
        return -1;
    if (!dlg_slot_set(t->st, "consent_scope", "training_use"))
        t->failed = 1;
    dlg_record_action(t, "privacy.opt_out", "ok", NULL);
    return 1;
}

static int erase(struct dlg_turn *t)
{
    if (!t->st->id.verified || !t->st->id.customer_id[0])
        return 0;
    t->erase = 1;
    dlg_record_action(t, "privacy.erase", "ok", NULL);
    return 1;
}

/* The export is built before the turn is stored, so a failure can take
 * the step's `none` (a person) instead of promising a file that is not
 * there; reply.c builds it again once the turn is stored. */
static int export_data(struct dlg_turn *t)
{
    parley_error e = PARLEY_ERROR_INIT;
    if (!t->st->id.verified || !t->st->id.customer_id[0])
        return 0;
    parley_trust_free(t->export_json);
    t->export_json = NULL;
    if (parley_trust_export(t->d->store, t->st->id.customer_id, t->now, &t->export_json, &e) !=
        PARLEY_OK) {
        PARLEY_LOG(PARLEY_LOG_ERROR, "dialog: data export requested in chat failed: %s", e.msg);
        dlg_record_action(t, "privacy.export", "failed", NULL);
        return 0;
    }
    dlg_record_action(t, "privacy.export", "ok", NULL);
    return 1;
}

int dlg_privacy_step(struct dlg_turn *t, const parley_bot_step *s)
{
    if (strcmp(s->op, "privacy_kind") == 0)
        return kind(t);
    if (strcmp(s->op, "privacy_opt_out") == 0)
        return opt_out(t);
    if (strcmp(s->op, "privacy_erase") == 0)
        return erase(t);
    if (strcmp(s->op, "privacy_export") == 0)
        return export_data(t);
    return 0;
}
