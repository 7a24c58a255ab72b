/* The proactive rules engine (docs/proactive.md "Rules"): for each rule
 * an event triggers and each customer it concerns, facts through the
 * connector, conditions, de-duplication, frequency caps, the trust
 * decision under the customer's grant, the action, the message (an open
 * conversation or SMS), then the decision recorded once, in the effects
 * ledger and the audit log. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "parley/trust.h"
#include "proactive/internal.h"

#define OUTREACH_SCOPE "proactive_outreach"
#define DAY_MS         (24LL * 3600 * 1000)

/* The decision being made for one rule and customer. */
struct decision {
    struct pro_case pc;
    parley_proactive_batch *b;
    const parley_proactive_event *ev;
    int64_t now;
    char key[24]; /* the effect's key: event, rule, customer */
    char outcome[16];
    char detail[240];
    const char *action, *message, *channel;
    char dedupe[128];
    char *text; /* the message sent (owned) */
    double remaining[2];
    const char *lang, *time_zone;
};

parley_err parley_proactive_engine_new(const parley_proactive_options *opts,
                                       parley_proactive_engine **out, parley_error *err)
{
    parley_proactive_engine *en;
    if (!opts || !out || !opts->bot || !opts->store)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot start the proactive engine: no bot or store");
    if (opts->n_connectors < parley_bot_connector_count(opts->bot) ||
        (parley_bot_connector_count(opts->bot) && !opts->connectors))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot start the proactive engine: the bot has %zu connectors, "
                                "%zu given",
                                parley_bot_connector_count(opts->bot), opts->n_connectors);
    if (!(en = parley__calloc(1, sizeof(*en))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    en->o = *opts;
    *out = en;
    return PARLEY_OK;
}

void parley_proactive_engine_free(parley_proactive_engine *en)
{
    parley__free(en);
}

/* A key of at most 19 characters from `a`/`b`/`c`: stable across
 * processes, so a redelivery finds the same effect and the backend the
 * same idempotency key. The hash state lives on the stack: no allocation
 * per key, and no failure that could give two effects one key. */
static void make_key(char *out, size_t size, const char *prefix, const char *a, const char *b,
                     const char *c)
{
    XXH3_state_t st;
    const char *parts[] = {a, b, c};
    XXH3_INITSTATE(&st);
    (void)XXH3_64bits_reset(&st);
    for (size_t i = 0; i < 3; i++)
        if (parts[i])
            (void)XXH3_64bits_update(&st, parts[i], strlen(parts[i]) + 1);
    (void)snprintf(out, size, "%s-%016llx", prefix, (unsigned long long)XXH3_64bits_digest(&st));
}

static void set_outcome(struct decision *d, const char *outcome, const char *fmt, ...)
    PARLEY_PRINTF(3, 4);
static void set_outcome(struct decision *d, const char *outcome, const char *fmt, ...)
{
    va_list ap;
    (void)snprintf(d->outcome, sizeof(d->outcome), "%s", outcome);
    va_start(ap, fmt);
    (void)vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
    va_end(ap);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Every backend call goes through here, so the time spent waiting for
 * the company's systems is counted apart from the rules' own. */
static parley_err backend_call(const struct decision *d, size_t connector, const char *op,
                               const parley_connect_param *params, size_t n, const char *idem,
                               parley_connect_result **r, parley_error *err)
{
    parley_proactive_engine *m = pro_batch_engine(d->b);
    uint64_t t0 = mono_ns();
    parley_err rc =
        parley_connect_call_keyed(m->o.connectors[connector], op, params, n, idem, r, err);
    atomic_fetch_add(&m->call_ns, mono_ns() - t0);
    atomic_fetch_add(&m->calls, 1);
    return rc;
}

void parley_proactive_stats_get(const parley_proactive_engine *en, parley_proactive_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!en)
        return;
    out->decisions = atomic_load(&en->decisions);
    out->backend_calls = atomic_load(&en->calls);
    out->backend_ns = atomic_load(&en->call_ns);
}

/* A failed call: a backend that answered no is final ("failed", recorded);
 * one that could not answer is retried with the event. */
static parley_err call_failed(struct decision *d, const char *what, parley_connect_result *r,
                              parley_error *err)
{
    parley_connect_code code = parley_connect_result_code(r);
    const char *bc = parley_connect_result_backend_code(r);
    if (code == PARLEY_CONNECT_REJECTED || code == PARLEY_CONNECT_BAD_REQUEST) {
        set_outcome(d, "failed", "%s: %s%s%s", what, parley_connect_code_name(code), bc ? " " : "",
                    bc ? bc : "");
        return PARLEY_OK;
    }
    return parley_error_set(err, PARLEY_ERR_UNAVAILABLE, "%s: %s (the event will be retried)", what,
                            parley_connect_code_name(code));
}

/* Calls action `name` with its parameters from the rule's slots and the
 * facts; its facts join the case's. `*ok` stays 0 when it did not succeed:
 * the outcome says why, or the error when the backend could not answer. */
static parley_err call_action(struct decision *d, const parley_proactive_engine *en,
                              const char *name, const char *idem, int *ok, parley_error *err)
{
    const parley_bot_action *a = parley_bot_find_action(en->o.bot, name);
    parley_connect_param params[32];
    char vals[32][512];
    parley_connect_result *r = NULL;
    parley_err rc = PARLEY_OK;
    size_t n = 0;
    *ok = 0;
    if (!a || a->connector >= en->o.n_connectors)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no action '%s'", name);
    for (size_t i = 0; i < a->n_params && n < 32; i++) {
        const char *src = a->params[i].value;
        if (strncmp(src, "slot.", 5) == 0)
            for (size_t s = 0; s < d->pc.rule->n_slots; s++)
                if (strcmp(d->pc.rule->slots[s].name, src + 5) == 0)
                    src = d->pc.rule->slots[s].value;
        if (!pro_value(&d->pc, src, vals[n], sizeof(vals[n]), NULL)) {
            set_outcome(d, "failed", "%s: no value for parameter '%s' (%s)", name,
                        a->params[i].name, src);
            return PARLEY_OK;
        }
        params[n].name = a->params[i].name;
        params[n].value = vals[n];
        n++;
    }
    if ((rc = backend_call(d, a->connector, a->operation, params, n, idem, &r, err)) != PARLEY_OK)
        return rc;
    if (parley_connect_result_code(r) != PARLEY_CONNECT_OK)
        rc = call_failed(d, name, r, err);
    else if (!pro_add_facts(&d->pc, r))
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    else
        *ok = 1;
    parley_connect_result_free(r);
    return rc;
}

/* The trust decision; with `peek` (and in dry runs) read only: whether a
 * grant would allow it, without counting the use. */
static parley_err decide(const parley_proactive_engine *en, const parley_trust_request *rq,
                         int peek, parley_trust_decision *out, parley_error *err)
{
    parley_trust_request r = *rq;
    r.peek = peek || en->o.dry_run;
    return parley_trust_decide(en->o.store, &r, out, err);
}

static void trust_request(const struct decision *d, parley_trust_request *rq, const char *action,
                          const char *scope)
{
    memset(rq, 0, sizeof(*rq));
    rq->action = action;
    /* No conversation and no identity to check: the grant, given by the
     * verified customer, is what authorises a proactive step. */
    rq->level = PARLEY_TRUST_STRONG;
    rq->customer_id = d->pc.customer;
    rq->scope = scope;
    rq->channel = "sms";
    rq->now_ms = d->now;
    rq->time_zone = d->time_zone;
}

/* The message gate: caps, then the customer's outreach grant (channels,
 * monthly count, quiet hours in their time zone). 1 when it may go. */
static parley_err may_message(struct decision *d, const parley_proactive_engine *en, int *ok,
                              parley_error *err)
{
    const parley_bot_proactive *pr = parley_bot_proactive_rules(en->o.bot);
    /* An event never caps or de-duplicates itself (a dry run replays
     * events whose effects are recorded). */
    parley_store_effect_query q = {d->pc.customer, NULL, NULL, d->now - DAY_MS, d->ev->id};
    parley_trust_request rq;
    parley_trust_decision dec;
    char use_key[24];
    int64_t n = 0;
    parley_err rc;
    *ok = 0;
    /* The grant first (read only), so a customer without one hears that
     * reason rather than a cap; the use is counted last, once it goes. */
    trust_request(d, &rq, d->pc.rule->name, OUTREACH_SCOPE);
    if ((rc = decide(en, &rq, 1, &dec, err)) != PARLEY_OK)
        return rc;
    if (dec.verdict != PARLEY_TRUST_ALLOW) {
        set_outcome(d, strstr(dec.rule, "quiet hours") ? "quiet" : "denied", "message: %s",
                    dec.rule);
        return PARLEY_OK;
    }
    if (d->pc.rule->max_per_day) {
        q.rule = d->pc.rule->name;
        if ((rc = pro_effects_count(d->b, &q, &n, err)) != PARLEY_OK)
            return rc;
        if (n >= d->pc.rule->max_per_day) {
            set_outcome(d, "capped", "rule '%s' already messaged this customer %lld times in 24 h",
                        d->pc.rule->name, (long long)n);
            return PARLEY_OK;
        }
        q.rule = NULL;
    }
    if (pr->max_messages_per_day) {
        if ((rc = pro_effects_count(d->b, &q, &n, err)) != PARLEY_OK)
            return rc;
        if (n >= pr->max_messages_per_day) {
            set_outcome(d, "capped", "%lld proactive messages to this customer in 24 h (cap %d)",
                        (long long)n, pr->max_messages_per_day);
            return PARLEY_OK;
        }
    }
    make_key(use_key, sizeof(use_key), "pm", d->key, NULL, NULL);
    rq.use_key = use_key;
    if ((rc = decide(en, &rq, 0, &dec, err)) != PARLEY_OK)
        return rc;
    if (dec.verdict != PARLEY_TRUST_ALLOW) {
        set_outcome(d, strstr(dec.rule, "quiet hours") ? "quiet" : "denied", "message: %s",
                    dec.rule);
        return PARLEY_OK;
    }
    *ok = 1;
    return PARLEY_OK;
}

/* The customer's language among the bot's, else the bot's first. */
static const char *language_of(const struct decision *d, const parley_bot *bot)
{
    const char *l = json_string_value(json_object_get(d->pc.facts, "language"));
    for (size_t i = 0; l && i < parley_bot_language_count(bot); i++)
        if (strcmp(parley_bot_language(bot, i), l) == 0)
            return parley_bot_language(bot, i);
    return parley_bot_language(bot, 0);
}

/* Hands the message to the open-conversation hook, with what a reply to
 * it continues: the rule, its reply intent and its slots resolved for this
 * customer (a slot whose value is missing is left out: the flow asks). */
static int deliver(struct decision *d, const parley_proactive_engine *en, const char *key)
{
    const parley_bot_rule *r = d->pc.rule;
    parley_proactive_delivery m;
    char vals[PARLEY_PROACTIVE_MAX_SLOTS][128];
    memset(&m, 0, sizeof(m));
    m.customer = d->pc.customer;
    m.text = d->text;
    m.language = d->lang;
    m.event_id = d->ev->id;
    m.rule = r->name;
    m.message = key;
    /* A report of what the grant just allowed offers nothing to reply to. */
    m.reply = r->action && key == r->say ? NULL : r->reply;
    m.action = r->action;
    for (size_t i = 0; i < r->n_slots && m.n_slots < PARLEY_PROACTIVE_MAX_SLOTS; i++)
        if (pro_value(&d->pc, r->slots[i].value, vals[m.n_slots], sizeof(vals[0]), NULL)) {
            m.slot_names[m.n_slots] = r->slots[i].name;
            m.slot_values[m.n_slots] = vals[m.n_slots];
            m.n_slots++;
        }
    return en->o.deliver(en->o.deliver_userdata, &m);
}

/* Sends response `key`: to an open conversation when the server has one,
 * else by SMS through the bot's gateway. */
static parley_err send_message(struct decision *d, const parley_proactive_engine *en,
                               const char *key, int *sent, parley_error *err)
{
    const parley_bot_proactive *pr = parley_bot_proactive_rules(en->o.bot);
    const char *tmpl = parley_bot_response(en->o.bot, key, d->lang);
    parley_connect_param params[16];
    char vals[16][512], idem[24];
    parley_connect_result *r = NULL;
    parley_err rc = PARLEY_OK;
    size_t n = 0;
    *sent = 0;
    parley__free(d->text);
    if (!tmpl || !(d->text = pro_render(&d->pc, tmpl, d->lang, d->remaining))) {
        set_outcome(d, "failed", "message '%s': a placeholder has no value", key);
        return PARLEY_OK;
    }
    d->message = key;
    if (en->o.dry_run) {
        d->channel = "sms";
        *sent = 1;
        return PARLEY_OK;
    }
    if (en->o.deliver && deliver(d, en, key) > 0) {
        d->channel = "conversation";
        *sent = 1;
        return PARLEY_OK;
    }
    if (!pr->sms_operation || pr->sms_connector >= en->o.n_connectors) {
        set_outcome(d, "failed", "no SMS gateway and no open conversation");
        return PARLEY_OK;
    }
    for (size_t i = 0; i < pr->n_sms_params && n < 16; i++) {
        const char *src = pr->sms_params[i].value;
        params[n].name = pr->sms_params[i].name;
        if (strcmp(src, "message") == 0) {
            params[n++].value = d->text;
            continue;
        }
        if (!pro_value(&d->pc, src, vals[n], sizeof(vals[n]), NULL)) {
            set_outcome(d, "failed", "SMS: no value for '%s' (%s)", params[n].name, src);
            return PARLEY_OK;
        }
        params[n].value = vals[n];
        n++;
    }
    make_key(idem, sizeof(idem), "ps", d->key, NULL, NULL);
    if ((rc = backend_call(d, pr->sms_connector, pr->sms_operation, params, n, idem, &r, err)) !=
        PARLEY_OK)
        return rc;
    if (parley_connect_result_code(r) != PARLEY_CONNECT_OK) {
        rc = call_failed(d, "SMS", r, err);
    } else {
        d->channel = "sms";
        *sent = 1;
    }
    parley_connect_result_free(r);
    return rc;
}

/* The rule's action under its scope: decided, then run. `*ran` is 1 when
 * it ran; 0 when it may not (d->detail says why) or failed (outcome set). */
static parley_err run_action(struct decision *d, const parley_proactive_engine *en, int *ran,
                             parley_error *err)
{
    const parley_bot_rule *r = d->pc.rule;
    parley_trust_request rq;
    parley_trust_decision dec;
    char buf[64], use_key[24], idem[24];
    parley_err rc;
    *ran = 0;
    trust_request(d, &rq, r->action, r->scope);
    if (r->quantity && pro_value(&d->pc, r->quantity, buf, sizeof(buf), NULL))
        rq.quantity = strtod(buf, NULL);
    if (r->amount && pro_value(&d->pc, r->amount, buf, sizeof(buf), NULL))
        rq.amount = strtod(buf, NULL);
    make_key(use_key, sizeof(use_key), "pu", d->key, NULL, NULL);
    rq.use_key = use_key;
    if ((rc = decide(en, &rq, 0, &dec, err)) != PARLEY_OK)
        return rc;
    if (dec.verdict != PARLEY_TRUST_ALLOW) {
        set_outcome(d, "denied", "%s: %s", r->action, dec.rule);
        return PARLEY_OK;
    }
    d->remaining[0] = dec.remaining_gb;
    d->remaining[1] = dec.remaining_amount;
    d->action = r->action;
    set_outcome(d, "done", "%s: %s", r->action, dec.rule);
    if (en->o.dry_run) {
        *ran = 1;
        return PARLEY_OK;
    }
    make_key(idem, sizeof(idem), "pa", d->key, NULL, NULL);
    return call_action(d, en, r->action, idem, ran, err);
}

static parley_err fetch_facts(struct decision *d, const parley_proactive_engine *en, int *ok,
                              parley_error *err)
{
    parley_err rc = PARLEY_OK;
    *ok = 1;
    for (size_t i = 0; *ok && rc == PARLEY_OK && i < d->pc.rule->n_fetch; i++)
        rc = call_action(d, en, d->pc.rule->fetch[i], NULL, ok, err);
    return rc;
}

/* Seeds the facts with the event's fields and the customer's id. */
static int seed_facts(struct decision *d)
{
    const char *k;
    json_t *v;
    if (!(d->pc.facts = json_object()))
        return 0;
    json_object_foreach(d->pc.event, k, v)
    {
        if (strcmp(k, "id") != 0 && strcmp(k, "type") != 0 && strcmp(k, "at") != 0 &&
            json_object_set(d->pc.facts, k, v) != 0)
            return 0;
    }
    return json_object_set_new(d->pc.facts, "customer_id", json_string(d->pc.customer)) == 0;
}

/* Everything after the facts: conditions, de-duplication, action, message. */
static parley_err evaluate(struct decision *d, const parley_proactive_engine *en, parley_error *err)
{
    const parley_bot_rule *r = d->pc.rule;
    char why[200];
    int ran = 0, may = 0, sent = 0;
    parley_err rc;
    for (size_t i = 0; i < r->n_when; i++)
        if (!pro_cond_holds(&d->pc, &r->when[i], why, sizeof(why))) {
            set_outcome(d, "skipped", "%s", why);
            return PARLEY_OK;
        }
    if (r->dedupe && pro_value(&d->pc, r->dedupe, d->dedupe, sizeof(d->dedupe), NULL)) {
        parley_store_effect_query q = {d->pc.customer, r->name, d->dedupe,
                                       d->now - (int64_t)(r->window_hours * 3600 * 1000),
                                       d->ev->id};
        int64_t n = 0;
        if ((rc = pro_effects_count(d->b, &q, &n, err)) != PARLEY_OK)
            return rc;
        if (n > 0) {
            set_outcome(d, "duplicate", "rule '%s' already acted on this within %g h", r->name,
                        r->window_hours);
            return PARLEY_OK;
        }
    }
    if (r->action && (rc = run_action(d, en, &ran, err)) != PARLEY_OK)
        return rc;
    if (r->action && !ran && strcmp(d->outcome, "failed") == 0)
        return PARLEY_OK;
    const char *key = ran || !r->action ? r->say : r->otherwise;
    if (!key) {
        if (!r->action)
            set_outcome(d, "skipped", "nothing to say");
        return PARLEY_OK;
    }
    /* A message reporting what the customer's grant just allowed is part
     * of that action; anything else is outreach and needs its own grant. */
    if (!ran) {
        char action_why[sizeof(d->detail)], msg_why[sizeof(d->detail)];
        (void)snprintf(action_why, sizeof(action_why), "%s", r->action ? d->detail : "");
        if ((rc = may_message(d, en, &may, err)) != PARLEY_OK)
            return rc;
        (void)snprintf(msg_why, sizeof(msg_why), "%s", may ? "message allowed" : d->detail);
        (void)snprintf(d->detail, sizeof(d->detail), "%.110s%s%.120s", action_why,
                       r->action ? "; " : "", msg_why);
        if (!may)
            return PARLEY_OK;
    }
    if ((rc = send_message(d, en, key, &sent, err)) != PARLEY_OK || !sent)
        return rc;
    if (!ran && r->action)
        (void)snprintf(d->outcome, sizeof(d->outcome), "offered");
    else if (!ran)
        (void)snprintf(d->outcome, sizeof(d->outcome), "done");
    return PARLEY_OK;
}

/* The decision's audit record body (caller frees), or NULL when out of
 * memory. Opaque ids only: the message text stays out of the log. */
static char *audit_body(const struct decision *d)
{
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "event", d->ev->id, "event_type",
                  d->ev->type, "rule", d->pc.rule->name, "effect", d->key, "outcome", d->outcome,
                  "detail", d->detail, "action", d->action ? d->action : "", "message",
                  d->message ? d->message : "", "channel", d->channel ? d->channel : "");
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

static void report(const struct decision *d, const parley_proactive_engine *en,
                   parley_proactive_outcome_fn fn, void *userdata)
{
    parley_proactive_outcome o;
    atomic_fetch_add(&pro_batch_engine(d->b)->decisions, 1);
    if (!fn)
        return;
    o.rule = d->pc.rule->name;
    o.customer = d->pc.customer;
    o.outcome = d->outcome;
    o.detail = d->detail;
    o.action = d->action ? d->action : "";
    o.message = d->message ? d->message : "";
    o.channel = d->channel ? d->channel : "";
    o.text = en->o.dry_run ? d->text : NULL;
    fn(&o, userdata);
}

/* One rule for one customer, start to finish. */
static parley_err decide_one(parley_proactive_batch *b, const parley_proactive_event *ev,
                             const parley_bot_rule *rule, const char *customer, json_t *doc,
                             int64_t now, parley_proactive_outcome_fn fn, void *userdata,
                             parley_error *err)
{
    const parley_proactive_engine *en = pro_batch_engine(b);
    struct decision d;
    parley_store_effect ef;
    char prior[16], *body = NULL;
    int ok = 0;
    parley_err rc;
    memset(&d, 0, sizeof(d));
    d.b = b;
    d.pc.rule = rule;
    d.pc.customer = customer;
    d.pc.event = doc;
    d.ev = ev;
    d.now = now;
    d.remaining[0] = d.remaining[1] = -1;
    make_key(d.key, sizeof(d.key), "pe", ev->id, rule->name, customer);
    if (!en->o.dry_run) {
        rc = pro_effect_find(b, d.key, prior, err);
        if (rc == PARLEY_OK) {
            set_outcome(&d, "duplicate", "event already decided: %s", prior);
            report(&d, en, fn, userdata);
            return PARLEY_OK;
        }
        if (rc != PARLEY_ERR_NOTFOUND)
            return rc;
    }
    if (!seed_facts(&d)) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = fetch_facts(&d, en, &ok, err)) != PARLEY_OK)
        goto out;
    d.lang = language_of(&d, en->o.bot);
    d.time_zone = json_string_value(json_object_get(d.pc.facts, "time_zone"));
    if (ok && (rc = evaluate(&d, en, err)) != PARLEY_OK)
        goto out;
    if (!d.outcome[0])
        set_outcome(&d, "skipped", "nothing to do");
    if (!en->o.dry_run) {
        ef.key = d.key;
        ef.event_id = ev->id;
        ef.rule = rule->name;
        ef.customer = customer;
        ef.at = now;
        ef.outcome = d.outcome;
        ef.detail = d.detail;
        ef.action = d.action ? d.action : "";
        ef.message = d.message ? d.message : "";
        ef.channel = d.channel ? d.channel : "";
        ef.dedupe = d.dedupe;
        if (en->o.audit && !(body = audit_body(&d))) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            goto out;
        }
        if ((rc = pro_record(b, &ef, body, err)) != PARLEY_OK)
            goto out;
    }
    report(&d, en, fn, userdata);
out:
    json_decref(d.pc.facts);
    parley__free(d.text);
    free(body);
    return rc;
}

/* Customers a rule concerns: the event's, or every holder of its scope. */
struct holders {
    char **ids;
    size_t n, cap;
    int nomem;
};

static int add_holder(const char *id, void *userdata)
{
    struct holders *h = userdata;
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 16;
        char **p = parley__realloc(h->ids, ncap * sizeof(*p));
        if (!p) {
            h->nomem = 1;
            return 1;
        }
        h->ids = p;
        h->cap = ncap;
    }
    if (!(h->ids[h->n] = parley__strdup(id))) {
        h->nomem = 1;
        return 1;
    }
    h->n++;
    return 0;
}

static parley_err run_rule(parley_proactive_batch *b, const parley_proactive_event *ev,
                           const parley_bot_rule *rule, json_t *doc, int64_t now,
                           parley_proactive_outcome_fn fn, void *userdata, parley_error *err)
{
    const parley_proactive_engine *en = pro_batch_engine(b);
    struct holders h = {0};
    parley_err rc = PARLEY_OK, first = PARLEY_OK;
    if (rule->for_grants) {
        rc = parley_store_consent_holders(en->o.store, rule->scope, now, add_holder, &h, err);
        if (rc == PARLEY_OK && h.nomem)
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    } else {
        struct pro_case pc = {rule, "", doc, NULL};
        char id[PARLEY_STORE_MAX_ID + 1];
        if (pro_value(&pc, rule->customer, id, sizeof(id), NULL) && id[0])
            (void)add_holder(id, &h);
        if (h.nomem)
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    }
    /* A customer whose backend call failed is retried with the event; the
     * others are decided now (and found decided on the retry). */
    for (size_t i = 0; rc == PARLEY_OK && i < h.n; i++) {
        parley_error e = PARLEY_ERROR_INIT;
        parley_err one = decide_one(b, ev, rule, h.ids[i], doc, now, fn, userdata, &e);
        if (one == PARLEY_ERR_UNAVAILABLE) {
            if (first == PARLEY_OK) {
                first = one;
                *err = e;
            }
        } else if (one != PARLEY_OK) {
            rc = one;
            *err = e;
        }
    }
    for (size_t i = 0; i < h.n; i++)
        parley__free(h.ids[i]);
    parley__free(h.ids);
    return rc != PARLEY_OK ? rc : first;
}

parley_err parley_proactive_run(parley_proactive_engine *en, const parley_proactive_event *ev,
                                int64_t now_ms, parley_proactive_outcome_fn fn, void *userdata,
                                parley_error *err)
{
    parley_proactive_batch *b = NULL;
    parley_err rc = parley_proactive_batch_new(en, &b, err), done;
    if (rc != PARLEY_OK)
        return rc;
    rc = parley_proactive_batch_run(b, ev, now_ms, fn, userdata, err);
    /* What was decided is kept even when a backend call failed: the retry
     * finds those decisions and repeats none of them. */
    if (rc == PARLEY_OK || rc == PARLEY_ERR_UNAVAILABLE) {
        parley_error e = PARLEY_ERROR_INIT;
        if ((done = parley_proactive_batch_commit(b, &e)) != PARLEY_OK) {
            rc = done;
            if (err)
                *err = e;
        }
    }
    parley_proactive_batch_free(b);
    return rc;
}

parley_err parley_proactive_batch_run(parley_proactive_batch *b, const parley_proactive_event *ev,
                                      int64_t now_ms, parley_proactive_outcome_fn fn,
                                      void *userdata, parley_error *err)
{
    const parley_proactive_engine *en = b ? pro_batch_engine(b) : NULL;
    const parley_bot_proactive *pr;
    json_t *doc;
    parley_err rc = PARLEY_OK, retry = PARLEY_OK;
    parley_error first = PARLEY_ERROR_INIT;
    if (!en || !ev || !ev->id || !ev->type || !ev->doc)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot run rules: bad argument");
    if (!(doc = json_loads(ev->doc, 0, NULL)) || !json_is_object(doc)) {
        json_decref(doc);
        return parley_error_set(err, PARLEY_ERR_FORMAT, "event '%.128s' is not a JSON object",
                                ev->id);
    }
    if (!now_ms)
        now_ms = parley__clock_ms();
    pr = parley_bot_proactive_rules(en->o.bot);
    for (size_t i = 0; rc == PARLEY_OK && i < pr->n_rules; i++) {
        parley_error e = PARLEY_ERROR_INIT;
        if (strcmp(pr->rules[i].on, ev->type) != 0)
            continue;
        rc = run_rule(b, ev, &pr->rules[i], doc, now_ms, fn, userdata, &e);
        if (rc == PARLEY_ERR_UNAVAILABLE) {
            if (retry == PARLEY_OK)
                first = e;
            retry = rc;
            rc = PARLEY_OK;
        } else if (rc != PARLEY_OK) {
            first = e;
        }
    }
    json_decref(doc);
    if (rc == PARLEY_OK)
        rc = retry;
    if (rc != PARLEY_OK && err)
        *err = first;
    return rc;
}
