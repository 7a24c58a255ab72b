/* The consent ledger over HTTP: a customer's grants (active and past, with
 * this month's use), granting and revoking. Channel keys may act only for
 * the customer their conversation verified (?conversation_id=); admin
 * keys for anyone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/bot.h"
#include "parley/trust.h"
#include "server/internal.h"

/* Appends a consent record for an API change; a failure is logged only
 * (the change itself is stored). */
static void audit_consent(struct req *r, const char *cust, const char *op, const char *scope,
                          const char *grant, const char *limits)
{
    parley_audit_record rec = {0};
    parley_error e = PARLEY_ERROR_INIT;
    json_t *lim = limits ? json_loads(limits, 0, NULL) : NULL;
    json_t *body = json_pack("{s:s, s:s?, s:s, s:s}", "op", op, "scope", scope, "grant_id", grant,
                             "channel", "api");
    char *text;
    if (!r->s->audit || !body) {
        json_decref(lim);
        json_decref(body);
        return;
    }
    if (lim)
        (void)json_object_set_new(body, "limits", lim);
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    rec.kind = "consent";
    rec.customer = cust;
    rec.conversation = req_query(r, "conversation_id");
    rec.body = text;
    if (text && parley_audit_append(r->s->audit, &rec, NULL, &e) != PARLEY_OK)
        PARLEY_LOG(PARLEY_LOG_ERROR, "server: audit consent record: %s", e.msg);
    free(text);
}

/* 1 when the caller may act for customer `cust`; else an error answer is
 * set and 0 returned. Fills `channel` and `conv` for the grant's evidence. */
int customer_access(struct req *r, const char *cust, const char **conv)
{
    char customer[64], level[16];
    parley_error e = PARLEY_ERROR_INIT;
    *conv = req_query(r, "conversation_id");
    if (r->role == ROLE_ADMIN && !*conv)
        return 1;
    if (!*conv)
        return req_error(r, 403, "forbidden",
                         "a channel key acts for a customer only within that customer's verified "
                         "conversation: add ?conversation_id=ID");
    struct engine *en = engine_get(r->s);
    parley_err rc = parley_dialog_identity(en->d, *conv, customer, level, &e);
    engine_put(en);
    if (rc != PARLEY_OK)
        return req_fail(r, rc, &e);
    if (!customer[0] || strcmp(customer, cust) != 0)
        return req_error(r, 403, "forbidden",
                         "conversation '%.64s' is not verified for customer '%.64s'", *conv, cust);
    return 1;
}

json_t *grant_json(const parley_store_consent *g)
{
    char *text = parley_trust_grant_json(g, (int64_t)time(NULL) * 1000);
    json_t *out = text ? json_loads(text, 0, NULL) : NULL;
    parley_trust_free(text);
    return out;
}

struct listing {
    json_t *grants;
    const char *period;
};

static int add_grant(const parley_store_consent *g, void *userdata)
{
    struct listing *l = userdata;
    return json_array_append_new(l->grants, grant_json(g)) != 0;
}

void h_consents_list(struct req *r)
{
    const char *cust = r->params[0], *conv;
    char period[8];
    parley_error e = PARLEY_ERROR_INIT;
    if (!customer_access(r, cust, &conv))
        return;
    parley_trust_period((int64_t)time(NULL) * 1000, period);
    struct listing l = {json_array(), period};
    parley_err rc = parley_store_consents(r->s->store, cust, period, add_grant, &l, &e);
    if (rc != PARLEY_OK) {
        json_decref(l.grants);
        req_fail(r, rc, &e);
        return;
    }
    r->status = 200;
    r->json = json_pack("{s:s, s:o}", "customer_id", cust, "grants", l.grants);
}

/* An RFC 3339 time ("2027-01-31T00:00:00Z") or a date (its midnight UTC)
 * to Unix ms; 0 on failure. */
static int64_t parse_time(const char *s)
{
    struct tm tm;
    int y, mo, d;
    int64_t ms;
    if (s && parley_time_parse(s, &ms) == 0)
        return ms > 0 ? ms : 0;
    memset(&tm, 0, sizeof(tm));
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d", &y, &mo, &d) != 3 || y < 1970 ||
        y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? 0 : (int64_t)t * 1000;
}

void h_consent_grant(struct req *r)
{
    const char *cust = r->params[0], *conv;
    json_t *body = req_json(r), *scope, *limits, *exp;
    parley_error e = PARLEY_ERROR_INIT;
    char *norm = NULL, *lim_text = NULL, id[24], period[8];
    static const char *const allowed[] = {"scope", "limits", "expires_at", NULL};

    if (!body)
        return;
    if (!only_keys(r, body, allowed) || !customer_access(r, cust, &conv))
        goto out;
    scope = json_object_get(body, "scope");
    limits = json_object_get(body, "limits");
    exp = json_object_get(body, "expires_at");
    if (!json_is_string(scope)) {
        req_error(r, 400, "bad_field", "'scope' is required: a consent scope of the bot");
        goto out;
    }
    if (limits && !json_is_object(limits)) {
        req_error(r, 400, "bad_field", "'limits' must be an object");
        goto out;
    }
    int64_t expires = 0;
    if (exp && !json_is_null(exp)) {
        if (!json_is_string(exp) || !(expires = parse_time(json_string_value(exp)))) {
            req_error(r, 400, "bad_field", "'expires_at' must be a time like 2027-01-31T00:00:00Z");
            goto out;
        }
        if (expires <= (int64_t)time(NULL) * 1000) {
            req_error(r, 422, "unprocessable", "'expires_at' is in the past");
            goto out;
        }
    }
    struct engine *en = engine_get(r->s);
    const parley_bot_consent *sc =
        parley_bot_find_consent(parley_dialog_bot(en->d), json_string_value(scope));
    parley_err rc = PARLEY_ERR_NOTFOUND;
    if (sc) {
        lim_text = limits ? json_dumps(limits, JSON_COMPACT) : NULL;
        rc = parley_trust_limits_check(sc, lim_text ? lim_text : "{}", &norm, &e);
    }
    engine_put(en);
    if (!sc) {
        req_error(r, 422, "unprocessable", "unknown consent scope '%.64s'",
                  json_string_value(scope));
        goto out;
    }
    if (rc != PARLEY_OK) {
        req_error(r, 422, "unprocessable", "%s", e.msg);
        goto out;
    }
    parley_store_consent g = {0};
    g.customer_id = cust;
    g.scope = json_string_value(scope);
    g.limits = norm;
    g.channel = conv ? "chat" : "api";
    g.conversation_id = conv;
    g.expires = expires;
    if ((rc = parley_store_consent_add(r->s->store, &g, id, &e)) != PARLEY_OK) {
        req_fail(r, rc, &e);
        goto out;
    }
    g.id = id;
    audit_consent(r, cust, "granted", g.scope, id, norm);
    g.created = (int64_t)time(NULL) * 1000;
    g.conversation_id = conv ? conv : "";
    parley_trust_period(g.created, period);
    r->status = 201;
    r->json = grant_json(&g);
out:
    free(lim_text);
    parley_trust_free(norm);
    json_decref(body);
}

void h_consent_revoke(struct req *r)
{
    const char *cust = r->params[0], *grant = r->params[1], *conv;
    parley_error e = PARLEY_ERROR_INIT;
    size_t n = 0;
    if (!customer_access(r, cust, &conv))
        return;
    parley_err rc = parley_store_consent_revoke(r->s->store, cust, grant, &n, &e);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        return;
    }
    audit_consent(r, cust, "revoked", strncmp(grant, "scope:", 6) == 0 ? grant + 6 : NULL, grant,
                  NULL);
    r->status = 200;
    r->json = json_pack("{s:s, s:b}", "grant_id", grant, "revoked", 1);
}
