/* A conversation's life outside the bot's turns: starting it (with the
 * bot's welcome), a human agent's messages after a hand-off, handing back,
 * closing, and the customer's rating. */
#include <stdio.h>
#include <string.h>

#include "dialog/internal.h"

int parley_dialog_has_language(const parley_dialog *d, const char *lang)
{
    if (!d || !lang)
        return 0;
    for (size_t i = 0; i < d->nlangs; i++)
        if (strcmp(d->langs[i], lang) == 0)
            return 1;
    return 0;
}

struct parley_audit *parley_dialog_audit(parley_dialog *d)
{
    return d ? d->audit : NULL;
}

const struct parley_bot *parley_dialog_bot(const parley_dialog *d)
{
    return d ? d->bot : NULL;
}

void parley_dialog_text_free(char *s)
{
    parley__free(s);
}

/* Renders response `key` in `st`'s language outside a turn; NULL if the
 * bot lacks it (or no memory). */
static char *render_alone(parley_dialog *d, struct dlg_state *st, const char *key)
{
    struct dlg_turn t;
    struct parley_buf b;
    memset(&t, 0, sizeof(t));
    t.d = d;
    t.st = st;
    t.lang = st->lang;
    if (!dlg_render(&t, key, NULL, NULL, 0, &b))
        return NULL;
    return b.data ? parley__buf_detach(&b, NULL) : NULL;
}

parley_err parley_dialog_begin(parley_dialog *d, const char *channel, const char *language,
                               char id_out[PARLEY_STORE_ID_SIZE], char **welcome, parley_error *err)
{
    struct dlg_state *st = NULL;
    char *state = NULL;
    parley_err rc;

    if (!d || !id_out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot start conversation: bad argument");
    if (welcome)
        *welcome = NULL;
    if (language && !parley_dialog_has_language(d, language))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot start conversation: the bot does not speak '%.16s'",
                                language);
    st = parley__calloc(1, sizeof(*st));
    if (!st)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start conversation: out of memory");
    (void)snprintf(st->lang, sizeof(st->lang), "%s", language ? language : d->langs[0]);
    st->step = -1;
    if (!(state = dlg_state_write(st))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start conversation: out of memory");
        goto out;
    }
    rc = parley_store_conversation_create(d->store, channel, st->lang, state, id_out, err);
    if (rc == PARLEY_OK && welcome && (*welcome = render_alone(d, st, "welcome"))) {
        /* The greeting is part of the transcript, so a reloaded chat and
         * the agent see it too. */
        parley_store_turn turn = {.role = PARLEY_ROLE_BOT, .text = *welcome};
        rc = parley_store_commit_outcome(d->store, id_out, 1, state, &turn, 1, NULL, NULL, err);
        if (rc != PARLEY_OK) {
            parley__free(*welcome);
            *welcome = NULL;
        }
    }
out:
    parley__free(state);
    dlg_state_clear(st);
    parley__free(st);
    return rc;
}

/* Loads `id` and checks its status is `want` (NULL: anything but closed). */
static parley_err load_in(parley_dialog *d, const char *id, const char *want, const char *what,
                          parley_store_conversation *conv, parley_error *err)
{
    parley_err rc = parley_store_conversation_load(d->store, id, conv, err);
    if (rc != PARLEY_OK)
        return rc;
    if ((want && strcmp(conv->status, want) != 0) || (!want && strcmp(conv->status, "closed") == 0))
        rc = parley_error_set(err, PARLEY_ERR_CONFLICT, "cannot %s: conversation '%.64s' is %s",
                              what, id, conv->status);
    return rc;
}

parley_err parley_dialog_agent_say(parley_dialog *d, const char *id, const char *text, size_t len,
                                   int64_t *seq_out, parley_error *err)
{
    parley_store_conversation conv = {0};
    parley_entity ents[DLG_MAX_ENTITIES];
    size_t n = 0;
    char *red = NULL;
    parley_err rc;

    if (!d || !id || !text || len == 0)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot send agent message: no text");
    if (len > PARLEY_DIALOG_MAX_MESSAGE)
        return parley_error_set(err, PARLEY_ERR_LIMIT,
                                "cannot send agent message: %zu bytes is over the limit of %u", len,
                                PARLEY_DIALOG_MAX_MESSAGE);
    if ((rc = parley_text_validate(text, len, NULL, err)) != PARLEY_OK)
        return rc;
    if ((rc = load_in(d, id, "handed_off", "send agent message", &conv, err)) != PARLEY_OK)
        goto out;
    /* Agents may repeat a number or a date to the customer; the transcript
     * keeps neither. */
    if (parley_nlu_entities(text, len, conv.language, NULL, ents, DLG_MAX_ENTITIES, &n, NULL) !=
        PARLEY_OK)
        n = 0;
    if (!(red =
              dlg_redact(d, NULL, text, len, ents, n < DLG_MAX_ENTITIES ? n : DLG_MAX_ENTITIES))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot send agent message: out of memory");
        goto out;
    }
    parley_store_turn turn = {.role = PARLEY_ROLE_AGENT, .text = red};
    rc = parley_store_commit_outcome(d->store, id, conv.version, conv.state, &turn, 1, NULL,
                                     seq_out, err);
out:
    parley__free(red);
    parley_store_conversation_release(&conv);
    return rc;
}

/* Moves `id` from status `from` (NULL: any but closed) to `to`. */
static parley_err set_status(parley_dialog *d, const char *id, const char *from, const char *to,
                             const char *what, parley_error *err)
{
    parley_store_conversation conv = {0};
    parley_store_outcome oc = {.status = to};
    parley_err rc = load_in(d, id, from, what, &conv, err);
    if (rc == PARLEY_OK)
        rc = parley_store_commit_outcome(d->store, id, conv.version, conv.state, NULL, 0, &oc, NULL,
                                         err);
    parley_store_conversation_release(&conv);
    return rc;
}

parley_err parley_dialog_handback(parley_dialog *d, const char *id, parley_error *err)
{
    if (!d || !id)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot hand back: bad argument");
    return set_status(d, id, "handed_off", "active", "hand back to the bot", err);
}

parley_err parley_dialog_end(parley_dialog *d, const char *id, parley_error *err)
{
    parley_store_conversation conv = {0};
    parley_err rc;
    if (!d || !id)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot close: bad argument");
    rc = parley_store_conversation_load(d->store, id, &conv, err);
    if (rc == PARLEY_OK && strcmp(conv.status, "closed") != 0)
        rc = set_status(d, id, NULL, "closed", "close", err);
    parley_store_conversation_release(&conv);
    return rc;
}

parley_err parley_dialog_rate(parley_dialog *d, const char *id, int score, const char *comment,
                              parley_error *err)
{
    parley_store_conversation conv = {0};
    parley_entity ents[DLG_MAX_ENTITIES];
    size_t n = 0, len = comment ? strlen(comment) : 0;
    char *red = NULL;
    parley_err rc;

    if (!d || !id)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot rate: bad argument");
    if (comment && (rc = parley_text_validate(comment, len, NULL, err)) != PARLEY_OK)
        return rc;
    if ((rc = parley_store_conversation_load(d->store, id, &conv, err)) != PARLEY_OK)
        goto out;
    if (comment) {
        if (parley_nlu_entities(comment, len, conv.language, NULL, ents, DLG_MAX_ENTITIES, &n,
                                NULL) != PARLEY_OK)
            n = 0;
        if (!(red = dlg_redact(d, NULL, comment, len, ents,
                               n < DLG_MAX_ENTITIES ? n : DLG_MAX_ENTITIES))) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot rate: out of memory");
            goto out;
        }
    }
    rc = parley_store_rating_set(d->store, id, score, red, err);
out:
    parley__free(red);
    parley_store_conversation_release(&conv);
    return rc;
}

parley_err parley_dialog_identity(parley_dialog *d, const char *id, char customer[64],
                                  char level[16], parley_error *err)
{
    parley_store_conversation conv = {0};
    struct dlg_state *st = NULL;
    parley_err rc;
    if (!d || !id || !customer || !level)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot read identity: bad argument");
    customer[0] = level[0] = '\0';
    if ((rc = parley_store_conversation_load(d->store, id, &conv, err)) != PARLEY_OK)
        return rc;
    if (!(st = parley__calloc(1, sizeof(*st)))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = dlg_state_read(st, conv.state, err)) != PARLEY_OK)
        goto out;
    (void)snprintf(level, 16, "%s", dlg_identity_level(st));
    if (st->id.verified)
        (void)snprintf(customer, 64, "%s", st->id.customer_id);
out:
    if (st)
        dlg_state_clear(st);
    parley__free(st);
    parley_store_conversation_release(&conv);
    return rc;
}
