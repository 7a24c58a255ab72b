/* Consent steps of a flow (docs/trust.md): understanding what the customer
 * allows (the scope from the catalogue's words, limits from the amounts
 * they name), recording the grant with its evidence once they said yes to
 * the restatement, revoking at once, and listing grants in plain words. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "dialog/internal.h"

static size_t lang_index(const parley_dialog *d, const char *lang)
{
    for (size_t i = 0; i < d->nlangs; i++)
        if (strcmp(d->langs[i], lang) == 0)
            return i;
    return 0;
}

/* The scope whose words the message names, or NULL. ASCII is folded to
 * lower case; the catalogue lists accented and plain spellings. */
static const parley_bot_consent *scope_in(struct dlg_turn *t)
{
    char low[PARLEY_DIALOG_MAX_MESSAGE + 1];
    size_t n = t->len < PARLEY_DIALOG_MAX_MESSAGE ? t->len : PARLEY_DIALOG_MAX_MESSAGE;
    size_t li = lang_index(t->d, t->lang);
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)t->text[i]);
    low[n] = '\0';
    for (size_t k = 0; k < parley_bot_consent_count(t->d->bot); k++) {
        const parley_bot_consent *c = parley_bot_consent_at(t->d->bot, k);
        for (const char *const *w = c->words[li]; w && *w; w++)
            if ((*w)[0] && strstr(low, *w))
                return c;
    }
    return NULL;
}

/* Renders `key` with one name/value, into a fresh string (or NULL). */
static char *render1(struct dlg_turn *t, const char *key, const char *name, const char *value)
{
    struct parley_buf b;
    const char *names[] = {name}, *values[] = {value};
    if (!dlg_render(t, key, name ? names : NULL, name ? values : NULL, name ? 1 : 0, &b))
        return NULL;
    return b.data ? parley__buf_detach(&b, NULL) : NULL;
}

/* "up to 2 GB a month, up to 10 USD a month" in the turn's language. */
static void limits_text(struct dlg_turn *t, const char *limits, struct parley_buf *out)
{
    json_t *j = json_loads(limits, 0, NULL), *v;
    static const char *const keys[][2] = {{"max_gb_per_month", "consent_limit_gb"},
                                          {"max_amount_per_month", "consent_limit_amount"},
                                          {"max_count_per_month", "consent_limit_count"}};
    int any = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char num[32];
        char *s;
        if (!(v = json_object_get(j, keys[i][0])))
            continue;
        dlg_format_number(num, sizeof(num), json_number_value(v), t->lang);
        if (!(s = render1(t, keys[i][1], "value", num)))
            continue;
        if (any)
            (void)parley__buf_add(out, ", ", 2);
        (void)parley__buf_add(out, s, strlen(s));
        parley__free(s);
        any = 1;
    }
    if (!any) {
        char *s = render1(t, "consent_no_limit", NULL, NULL);
        if (s)
            (void)parley__buf_add(out, s, strlen(s));
        parley__free(s);
    }
    json_decref(j);
}

static int set_text_fact(struct dlg_turn *t, const char *name, const char *text)
{
    json_t *js = json_string(text);
    char *j = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
    int ok = j && dlg_fact_set(t->st, name, text, j, PARLEY_CONNECT_PUBLIC, 0);
    free(j);
    json_decref(js);
    return ok;
}

/* Scope and limits from the message into slots and facts; 0 when it names
 * no scope. */
static int understand(struct dlg_turn *t)
{
    const parley_bot_consent *c = scope_in(t);
    json_t *lim = json_object();
    char key[96], *desc, *text = NULL;
    struct parley_buf lt = PARLEY_BUF_INIT(4096);
    int ok = 0;
    /* Nothing from an earlier run of a consent flow carries over. */
    (void)dlg_slot_set(t->st, "consent_scope", "");
    (void)dlg_slot_set(t->st, "consent_limits", "{}");
    if (!c || !lim)
        goto out;
    for (size_t i = 0; i < t->nents; i++) {
        const parley_entity *e = &t->ents[i];
        if (e->kind == PARLEY_ENTITY_DATA_AMOUNT && (c->limits & PARLEY_LIMIT_GB_PER_MONTH))
            (void)json_object_set_new(lim, "max_gb_per_month",
                                      json_real(strtod(e->value, NULL) / 1024.0));
        else if (e->kind == PARLEY_ENTITY_MONEY && (c->limits & PARLEY_LIMIT_AMOUNT_PER_MONTH))
            (void)json_object_set_new(lim, "max_amount_per_month",
                                      json_real(strtod(e->value, NULL)));
    }
    text = json_dumps(lim, JSON_COMPACT | JSON_SORT_KEYS);
    (void)snprintf(key, sizeof(key), "consent_%s", c->scope);
    desc = render1(t, key, NULL, NULL);
    limits_text(t, text ? text : "{}", &lt);
    ok = text && desc && dlg_slot_set(t->st, "consent_scope", c->scope) &&
         dlg_slot_set(t->st, "consent_limits", text) &&
         set_text_fact(t, "consent_scope_text", desc) &&
         set_text_fact(t, "consent_limits_text", lt.data ? lt.data : "");
    parley__free(desc);
out:
    free(text);
    parley__buf_release(&lt);
    json_decref(lim);
    return ok;
}

/* The texts of the understood scope and limits again, in the language
 * the conversation has now (it may have changed while verifying). */
static int describe(struct dlg_turn *t)
{
    const char *scope = dlg_slot_get(t->st, "consent_scope");
    const char *limits = dlg_slot_get(t->st, "consent_limits");
    char key[96], *desc;
    struct parley_buf lt = PARLEY_BUF_INIT(4096);
    int ok;
    if (!scope || !scope[0] || !parley_bot_find_consent(t->d->bot, scope))
        return 0;
    (void)snprintf(key, sizeof(key), "consent_%s", scope);
    desc = render1(t, key, NULL, NULL);
    limits_text(t, limits ? limits : "{}", &lt);
    ok = desc && set_text_fact(t, "consent_scope_text", desc) &&
         set_text_fact(t, "consent_limits_text", lt.data ? lt.data : "");
    parley__free(desc);
    parley__buf_release(&lt);
    return ok;
}

static int grant(struct dlg_turn *t)
{
    const char *scope = dlg_slot_get(t->st, "consent_scope");
    const char *limits = dlg_slot_get(t->st, "consent_limits");
    const parley_bot_consent *c = parley_bot_find_consent(t->d->bot, scope);
    parley_store_consent g = {0};
    char *norm = NULL, id[24];
    parley_error e = PARLEY_ERROR_INIT;
    if (!c || !t->st->id.verified)
        return 0;
    if (parley_trust_limits_check(c, limits ? limits : "{}", &norm, &e) != PARLEY_OK) {
        PARLEY_LOG(PARLEY_LOG_WARN, "dialog: consent limits refused: %s", e.msg);
        return 0;
    }
    g.customer_id = t->st->id.customer_id;
    g.scope = scope;
    g.limits = norm;
    g.channel = "chat";
    g.conversation_id = t->conv_id;
    g.turn = t->st->turns;
    parley_err rc = parley_store_consent_add(t->d->store, &g, id, &e);
    parley_trust_free(norm);
    if (rc != PARLEY_OK) {
        PARLEY_LOG(PARLEY_LOG_ERROR, "dialog: cannot record consent: %s", e.msg);
        return -1;
    }
    dlg_record_action(t, "consent.grant", "ok", NULL);
    return 1;
}

static int revoke(struct dlg_turn *t)
{
    const char *scope = dlg_slot_get(t->st, "consent_scope");
    char id[80], key[96], *desc = NULL;
    size_t n = 0;
    parley_error e = PARLEY_ERROR_INIT;
    if (!t->st->id.verified)
        return 0;
    /* A named scope revokes its grants; none named revokes them all. */
    int all = !scope || !scope[0];
    parley_err rc = PARLEY_OK;
    if (all) {
        for (size_t k = 0; k < parley_bot_consent_count(t->d->bot); k++) {
            size_t m = 0;
            (void)snprintf(id, sizeof(id), "scope:%s", parley_bot_consent_at(t->d->bot, k)->scope);
            rc = parley_store_consent_revoke(t->d->store, t->st->id.customer_id, id, &m, &e);
            if (rc != PARLEY_OK && rc != PARLEY_ERR_NOTFOUND)
                return -1;
            n += m;
        }
    } else {
        (void)snprintf(id, sizeof(id), "scope:%s", scope);
        rc = parley_store_consent_revoke(t->d->store, t->st->id.customer_id, id, &n, &e);
        if (rc != PARLEY_OK && rc != PARLEY_ERR_NOTFOUND)
            return -1;
    }
    if (n == 0)
        return 0;
    (void)snprintf(key, sizeof(key), "consent_%s", all ? "all" : scope);
    desc = render1(t, key, NULL, NULL);
    (void)set_text_fact(t, "consent_revoked_text", desc ? desc : "");
    parley__free(desc);
    dlg_record_action(t, "consent.revoke", "ok", NULL);
    return 1;
}

struct list_ctx {
    struct dlg_turn *t;
    struct parley_buf out;
    int64_t now;
    int n;
};

static int add_line(const parley_store_consent *g, void *userdata)
{
    struct list_ctx *l = userdata;
    char key[96], *desc;
    struct parley_buf lt = PARLEY_BUF_INIT(4096);
    if (g->revoked || (g->expires && g->expires <= l->now))
        return 0;
    (void)snprintf(key, sizeof(key), "consent_%s", g->scope);
    desc = render1(l->t, key, NULL, NULL);
    limits_text(l->t, g->limits, &lt);
    (void)parley__buf_add(&l->out, l->n ? "; " : "", l->n ? 2 : 0);
    (void)parley__buf_add(&l->out, desc ? desc : g->scope, strlen(desc ? desc : g->scope));
    (void)parley__buf_add(&l->out, " (", 2);
    (void)parley__buf_add(&l->out, lt.data ? lt.data : "", lt.len);
    (void)parley__buf_add(&l->out, ")", 1);
    parley__free(desc);
    parley__buf_release(&lt);
    l->n++;
    return 0;
}

static int list(struct dlg_turn *t)
{
    struct list_ctx l = {t, PARLEY_BUF_INIT(16384), t->now, 0};
    char period[8], count[16];
    parley_error e = PARLEY_ERROR_INIT;
    if (!t->st->id.verified)
        return 0;
    parley_trust_period(t->now, period);
    if (parley_store_consents(t->d->store, t->st->id.customer_id, period, add_line, &l, &e) !=
        PARLEY_OK) {
        parley__buf_release(&l.out);
        return -1;
    }
    (void)snprintf(count, sizeof(count), "%d", l.n);
    (void)set_text_fact(t, "consents_text", l.out.data ? l.out.data : "");
    (void)set_text_fact(t, "consents_count", count);
    parley__buf_release(&l.out);
    return l.n > 0;
}

int dlg_consent_step(struct dlg_turn *t, const parley_bot_step *s)
{
    if (!s->op)
        return 0;
    if (strcmp(s->op, "understand") == 0)
        return understand(t);
    if (strcmp(s->op, "describe") == 0)
        return describe(t);
    if (strcmp(s->op, "grant") == 0)
        return grant(t);
    if (strcmp(s->op, "revoke") == 0)
        return revoke(t);
    if (strcmp(s->op, "list") == 0)
        return list(t);
    if (strncmp(s->op, "privacy_", 8) == 0)
        return dlg_privacy_step(t, s);
    return 0;
}
