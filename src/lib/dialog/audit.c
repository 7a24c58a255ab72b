/* The conversation engine's audit records (docs/audit.md): after a turn is
 * stored, what was understood, identity changes, facts withheld, actions
 * and their outcome, consent granted or revoked, hand-offs. Bodies hold
 * names, levels and outcomes, never the customer's words or data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dialog/internal.h"

static void append(struct dlg_turn *t, const char *kind, json_t *body)
{
    parley_audit_record rec = {0};
    parley_error e = PARLEY_ERROR_INIT;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        PARLEY_LOG(PARLEY_LOG_ERROR, "dialog: audit %s record: out of memory", kind);
        return;
    }
    rec.kind = kind;
    rec.conversation = t->conv_id;
    rec.customer = t->st->id.verified ? t->st->id.customer_id : "";
    rec.turn = t->st->turns;
    rec.time = t->now;
    rec.body = text;
    if (parley_audit_append(t->d->audit, &rec, NULL, &e) != PARLEY_OK)
        PARLEY_LOG(PARLEY_LOG_ERROR, "dialog: audit %s record: %s", kind, e.msg);
    free(text);
}

static const char *method_of(parley_trust_level to)
{
    return to == PARLEY_TRUST_STRONG ? "otp" : to == PARLEY_TRUST_VERIFIED ? "knowledge" : "claim";
}

void dlg_audit_turn(struct dlg_turn *t)
{
    parley_trust_level now;
    if (!t->d->audit)
        return;
    append(t, "intent",
           json_pack("{s:s, s:f, s:s, s:s, s:s}", "intent",
                     t->pred.intent ? t->pred.intent : "out_of_scope", "confidence",
                     (double)t->pred.confidence, "language", t->lang, "model", "intent",
                     "bot_version", parley_bot_name(t->d->bot)));
    now = dlg_level(t->st);
    if (t->switched)
        append(t, "identity",
               json_pack("{s:s, s:s, s:s}", "from", parley_trust_level_name(t->level_before), "to",
                         parley_trust_level_name(PARLEY_TRUST_ANONYMOUS), "method", "switch"));
    if (now != (t->switched ? PARLEY_TRUST_ANONYMOUS : t->level_before))
        append(t, "identity",
               json_pack("{s:s, s:s, s:s}", "from", parley_trust_level_name(t->level_before), "to",
                         parley_trust_level_name(now), "method",
                         t->lapsed && now < t->level_before ? "expired" : method_of(now)));
    for (int i = 0; i < t->refused_disclosures && i < 4; i++)
        append(t, "disclosure",
               json_pack("{s:s, s:s, s:s, s:b}", "fact", t->refused[i], "level_needed",
                         parley_trust_level_name(PARLEY_TRUST_VERIFIED), "level",
                         parley_trust_level_name(now), "allowed", 0));
    for (size_t i = 0; i < t->nactions; i++) {
        const parley_dialog_action *a = &t->actions[i];
        if (strncmp(a->name, "consent.", 8) == 0) {
            const char *scope = dlg_slot_get(t->st, "consent_scope");
            append(t, "consent",
                   json_pack("{s:s, s:s, s:s}", "op",
                             strcmp(a->name, "consent.grant") == 0 ? "granted" : "revoked", "scope",
                             scope && scope[0] ? scope : "all", "channel", "chat"));
            continue;
        }
        if (strcmp(a->name, "privacy.opt_out") == 0) {
            append(t, "consent",
                   json_pack("{s:s, s:s, s:s}", "op", "revoked", "scope", "training_use", "channel",
                             "chat"));
            append(t, "privacy", json_pack("{s:s, s:s}", "request", "opt_out", "channel", "chat"));
            continue;
        }
        if (strcmp(a->name, "privacy.export") == 0) {
            append(t, "privacy",
                   json_pack("{s:s, s:s, s:s}", "request", "export", "channel", "chat", "result",
                             a->status));
            continue;
        }
        if (strcmp(a->name, "privacy.erase") == 0) {
            if (t->erase) /* cleared when the erasure failed (reply.c) */
                append(t, "privacy",
                       json_pack("{s:s, s:s}", "request", "erase", "channel", "chat"));
            continue;
        }
        if (strncmp(a->name, "identity.", 9) == 0)
            continue; /* lookups for the check itself; the level change says the outcome */
        char rule[200];
        int refused = strcmp(a->status, "refused") == 0;
        if (t->action_rule[i][0])
            (void)snprintf(rule, sizeof(rule), "%s", t->action_rule[i]);
        else
            (void)snprintf(rule, sizeof(rule), "asked by the customer; identity %s",
                           parley_trust_level_name(now));
        append(t, "action",
               json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:b}", "action", a->name, "decision",
                         refused ? "denied" : "allowed", "rule", rule, "result",
                         refused ? "not_run" : a->status, "reason", a->backend_code, "asked_turn",
                         (json_int_t)t->st->turns, "proactive", 0));
    }
    if (t->handoff)
        append(t, "handoff",
               json_pack("{s:s, s:s}", "reason", t->handoff_reason, "queue", DLG_QUEUE));
}
