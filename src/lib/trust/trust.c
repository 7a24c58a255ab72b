/* Identity levels, consent limits and the single decision every action
 * passes: identity, then consent for proactive actions (counted in the
 * store atomically), then confirmation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/internal.h"
#include "parley/trust.h"

const char *parley_trust_level_name(parley_trust_level level)
{
    static const char *const names[] = {"anonymous", "identified", "verified", "strong"};
    return (unsigned)level < 4 ? names[level] : "anonymous";
}

parley_trust_level parley_trust_level_for(int sensitivity)
{
    return sensitivity <= 0   ? PARLEY_TRUST_ANONYMOUS
           : sensitivity == 1 ? PARLEY_TRUST_VERIFIED
                              : PARLEY_TRUST_STRONG;
}

void parley_trust_free(void *p)
{
    parley__free(p);
}

void parley_trust_period(int64_t now_ms, char out[8])
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        (void)snprintf(out, 8, "1970-01");
    else
        (void)snprintf(out, 8, "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
                       (unsigned)(tm.tm_mon + 1) % 100u);
}

/* "22-08" -> 22 and 8. */
static int parse_hours(const char *s, int *from, int *to)
{
    char tail;
    return s && sscanf(s, "%2d-%2d%c", from, to, &tail) == 2 && *from >= 0 && *from < 24 &&
           *to >= 0 && *to < 24 && *from != *to;
}

parley_err parley_trust_limits_check(const parley_bot_consent *scope, const char *limits,
                                     char **normalized, parley_error *err)
{
    json_error_t je;
    json_t *j = NULL, *v;
    const char *k;
    parley_err rc = PARLEY_OK;
    char *dump = NULL;

    if (!scope || !normalized)
        return parley_error_set(err, PARLEY_ERR_INVALID, "limits: bad argument");
    j = json_loads(limits ? limits : "{}", JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID, "limits must be a JSON object");
        goto out;
    }
    json_object_foreach(j, k, v)
    {
        unsigned bit = 0;
        for (unsigned b = 1; b <= PARLEY_LIMIT_QUIET_HOURS; b <<= 1)
            if (strcmp(parley_bot_limit_name(b), k) == 0)
                bit = b;
        if (!bit || !(scope->limits & bit)) {
            rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                  "limit '%.64s' is not one that scope '%s' supports", k,
                                  scope->scope);
            goto out;
        }
        if (bit & (PARLEY_LIMIT_GB_PER_MONTH | PARLEY_LIMIT_AMOUNT_PER_MONTH)) {
            if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1e6) {
                rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                      "limit '%s' must be a number above 0", k);
                goto out;
            }
        } else if (bit == PARLEY_LIMIT_COUNT_PER_MONTH) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > 100000) {
                rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                      "limit '%s' must be a whole number from 1", k);
                goto out;
            }
        } else if (bit == PARLEY_LIMIT_CHANNELS) {
            size_t i;
            json_t *c;
            if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16) {
                rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                      "limit 'channels' must be a list of 1 to 16 channel names");
                goto out;
            }
            json_array_foreach(v, i, c) if (!json_is_string(c) || json_string_length(c) == 0 ||
                                            json_string_length(c) > 64)
            {
                rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                      "limit 'channels' must hold channel names");
                goto out;
            }
        } else {
            int a, b;
            if (!json_is_string(v) || !parse_hours(json_string_value(v), &a, &b)) {
                rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                      "limit 'quiet_hours' must be \"HH-HH\" (hours of the "
                                      "customer's day), e.g. \"22-08\"");
                goto out;
            }
        }
    }
    dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!dump || !(*normalized = parley__strdup(dump)))
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
out:
    free(dump);
    json_decref(j);
    return rc;
}

int parley_trust_limits_allow(const parley_store_consent *g, double quantity, double amount,
                              const char *channel, int hour, char *why, size_t why_size)
{
    json_t *j = json_loads(g->limits, 0, NULL), *v;
    int ok = 1;
    (void)snprintf(why, why_size, "within the grant's limits");
    if (!json_is_object(j)) {
        json_decref(j);
        (void)snprintf(why, why_size, "the grant's limits cannot be read");
        return 0;
    }
    if ((v = json_object_get(j, "max_gb_per_month")) &&
        g->used_quantity + quantity > json_number_value(v) + 1e-9) {
        (void)snprintf(why, why_size, "over the grant's %g GB a month (%g GB used)",
                       json_number_value(v), g->used_quantity);
        ok = 0;
    } else if ((v = json_object_get(j, "max_amount_per_month")) &&
               g->used_amount + amount > json_number_value(v) + 1e-9) {
        (void)snprintf(why, why_size, "over the grant's %g a month in charges (%g used)",
                       json_number_value(v), g->used_amount);
        ok = 0;
    } else if ((v = json_object_get(j, "max_count_per_month")) &&
               g->used_count + 1 > json_integer_value(v)) {
        (void)snprintf(why, why_size, "over the grant's %lld uses a month",
                       (long long)json_integer_value(v));
        ok = 0;
    } else if ((v = json_object_get(j, "channels"))) {
        size_t i;
        json_t *c;
        int found = 0;
        json_array_foreach(v, i, c) found |=
            channel && json_is_string(c) && strcmp(json_string_value(c), channel) == 0;
        if (!found) {
            (void)snprintf(why, why_size, "the grant does not cover channel '%.32s'",
                           channel ? channel : "");
            ok = 0;
        }
    }
    if (ok && (v = json_object_get(j, "quiet_hours"))) {
        int a = 0, b = 0;
        (void)parse_hours(json_string_value(v), &a, &b);
        if (a < b ? (hour >= a && hour < b) : (hour >= a || hour < b)) {
            (void)snprintf(why, why_size, "inside the grant's quiet hours %s",
                           json_string_value(v));
            ok = 0;
        }
    }
    json_decref(j);
    return ok;
}

struct use_check {
    const parley_trust_request *req;
    int hour;
    char why[160];
};

static int check_use(const parley_store_consent *g, void *userdata)
{
    struct use_check *u = userdata;
    return parley_trust_limits_allow(g, u->req->quantity, u->req->amount, u->req->channel, u->hour,
                                     u->why, sizeof(u->why));
}

/* What is left under a grant's limit `name` after its use so far. */
static double left(const parley_store_consent *g, const char *name, double used)
{
    json_t *j = json_loads(g->limits, 0, NULL);
    json_t *v = json_object_get(j, name);
    double r = v ? json_number_value(v) - used : -1;
    json_decref(j);
    return r;
}

/* A read-only parley_store_consent_use(): the first active grant of the
 * scope that would take the use, with the use added as if taken, but
 * nothing recorded. */
struct peek {
    struct use_check *u;
    int64_t now;
    int found;
    char id[32], limits[1024];
    double used_quantity, used_amount;
};

static int peek_one(const parley_store_consent *g, void *userdata)
{
    struct peek *p = userdata;
    const parley_trust_request *req = p->u->req;
    if (p->found || strcmp(g->scope, req->scope) != 0 || g->revoked ||
        (g->expires && g->expires <= p->now) || !check_use(g, p->u))
        return 0;
    p->found = 1;
    (void)snprintf(p->id, sizeof(p->id), "%s", g->id);
    (void)snprintf(p->limits, sizeof(p->limits), "%s", g->limits);
    p->used_quantity = g->used_quantity + req->quantity;
    p->used_amount = g->used_amount + req->amount;
    return 1;
}

static parley_err peek_use(parley_store *store, const char *period, struct peek *p,
                           parley_store_consent *g, parley_error *err)
{
    parley_err rc = parley_store_consents(store, p->u->req->customer_id, period, peek_one, p, err);
    if (rc != PARLEY_OK)
        return rc;
    if (!p->found)
        return parley_error_set(err, PARLEY_ERR_NOTFOUND, "no grant allows it");
    memset(g, 0, sizeof(*g));
    g->id = p->id;
    g->limits = p->limits;
    g->used_quantity = p->used_quantity;
    g->used_amount = p->used_amount;
    return PARLEY_OK;
}

parley_err parley_trust_decide(parley_store *store, const parley_trust_request *req,
                               parley_trust_decision *out, parley_error *err)
{
    parley_trust_level needed;
    if (!req || !out || !req->action)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot decide: bad argument");
    memset(out, 0, sizeof(*out));
    out->remaining_gb = out->remaining_amount = -1;
    needed = req->needed ? req->needed : PARLEY_TRUST_VERIFIED;
    if (req->level < needed) {
        out->verdict = PARLEY_TRUST_DENY;
        (void)snprintf(out->rule, sizeof(out->rule), "%s needs identity %s; the customer is %s",
                       req->action, parley_trust_level_name(needed),
                       parley_trust_level_name(req->level));
        return PARLEY_OK;
    }
    if (!req->asked) {
        struct use_check u;
        parley_store_consent g = {0};
        parley_error e = PARLEY_ERROR_INIT;
        char period[8];
        int64_t now = req->now_ms ? req->now_ms : parley__clock_ms();
        time_t t = (time_t)(now / 1000);
        struct tm tm;
        memset(&u, 0, sizeof(u));
        u.req = req;
        /* Quiet hours are the customer's own night, not the server's. */
        u.hour = req->time_zone ? parley_tz_hour(req->time_zone, now) : -1;
        if (u.hour < 0)
            u.hour = gmtime_r(&t, &tm) ? tm.tm_hour : 0;
        (void)snprintf(u.why, sizeof(u.why), "no grant");
        if (!req->scope || !req->customer_id || !store) {
            out->verdict = PARLEY_TRUST_DENY;
            (void)snprintf(out->rule, sizeof(out->rule),
                           "%s was not asked for and no consent scope covers it", req->action);
            return PARLEY_OK;
        }
        parley_trust_period(now, period);
        struct peek pk = {&u, now, 0, "", "", 0, 0};
        parley_err rc = req->peek ? peek_use(store, period, &pk, &g, &e)
                                  : parley_store_consent_use(store, req->customer_id, req->scope,
                                                             period, req->quantity, req->amount,
                                                             req->use_key, check_use, &u, &g, &e);
        if (rc == PARLEY_ERR_NOTFOUND) {
            out->verdict = PARLEY_TRUST_DENY;
            (void)snprintf(out->rule, sizeof(out->rule), "not asked for, and no %s permission (%s)",
                           req->scope, u.why);
            return PARLEY_OK;
        }
        if (rc != PARLEY_OK)
            return parley_error_set(err, rc, "cannot decide %s: %s", req->action, e.msg);
        out->verdict = PARLEY_TRUST_ALLOW;
        (void)snprintf(out->grant_id, sizeof(out->grant_id), "%s", g.id);
        out->remaining_gb = left(&g, "max_gb_per_month", g.used_quantity);
        out->remaining_amount = left(&g, "max_amount_per_month", g.used_amount);
        (void)snprintf(out->rule, sizeof(out->rule), "%s permission %s (%s)", req->scope, g.id,
                       u.why);
        return PARLEY_OK;
    }
    if (req->needs_confirmation && !req->confirmed) {
        out->verdict = PARLEY_TRUST_CONFIRM;
        (void)snprintf(out->rule, sizeof(out->rule),
                       "%s costs money or changes the plan: needs a yes to a restatement",
                       req->action);
        return PARLEY_OK;
    }
    out->verdict = PARLEY_TRUST_ALLOW;
    (void)snprintf(out->rule, sizeof(out->rule), "asked by the customer%s, identity %s",
                   req->needs_confirmation ? " and confirmed" : "",
                   parley_trust_level_name(req->level));
    return PARLEY_OK;
}
