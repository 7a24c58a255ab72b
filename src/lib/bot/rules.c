/* The 'proactive' section of a bot definition: rules that act on events
 * (docs/proactive.md "Rules"), checked with file:line:column problems against
 * the declared event types, actions, consent scopes and responses, then
 * compiled into the table the proactive engine runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"

#define MAX_RULES       256
#define MAX_RULE_ITEMS  32 /* fetch actions, conditions or slots per rule */
#define MAX_EVENT_NAMES 64 /* the events section's limit on fields per type */

static const char *const op_names[] = {"==", "!=", "<", "<=", ">", ">=", "in", NULL};
static const char *const rule_keys[] = {
    "on",     "customer", "fetch",     "when",   "do",           "scope",       "slots", "quantity",
    "amount", "say",      "otherwise", "dedupe", "window_hours", "max_per_day", "reply", NULL};
enum {
    K_ON,
    K_CUSTOMER,
    K_FETCH,
    K_WHEN,
    K_DO,
    K_SCOPE,
    K_SLOTS,
    K_QUANTITY,
    K_AMOUNT,
    K_SAY,
    K_OTHERWISE,
    K_DEDUPE,
    K_WINDOW,
    K_MAX,
    K_REPLY,
    K_COUNT
};
/* Said when a customer declines a proactive offer (a rule with 'reply'). */
static const char declined_response[] = "proactive_declined";
/* Outreach messages need a grant of this scope (docs/proactive.md). */
static const char outreach_scope[] = "proactive_outreach";

const char *parley_bot_rule_op_name(parley_bot_rule_op op)
{
    return (unsigned)op < sizeof(op_names) / sizeof(op_names[0]) - 1 ? op_names[op] : "?";
}

/* Splits "LEFT OP RIGHT" into its parts (in `buf`, `size` bytes); a quoted
 * RIGHT (or LEFT) loses its quotes. Returns 0, or -1 when it is not one. */
static int split_cond(const char *s, char *buf, size_t size, const char **left,
                      parley_bot_rule_op *op, const char **right)
{
    char *save = NULL, *l, *o, *r;
    size_t n = strlen(s);
    int i;
    if (n + 1 > size)
        return -1;
    memcpy(buf, s, n + 1);
    l = strtok_r(buf, " \t", &save);
    o = strtok_r(NULL, " \t", &save);
    r = save;
    if (!l || !o || !r)
        return -1;
    while (*r == ' ' || *r == '\t')
        r++;
    n = strlen(r);
    while (n && (r[n - 1] == ' ' || r[n - 1] == '\t'))
        r[--n] = '\0';
    if (!n || (i = parley__bot_in_list(o, op_names)) < 0)
        return -1;
    if (n >= 2 && (r[0] == '"' || r[0] == '\'') && r[n - 1] == r[0]) {
        r[n - 1] = '\0';
        r++;
    }
    *left = l;
    *op = (parley_bot_rule_op)i;
    *right = r;
    return 0;
}

/* What a rule can name: its event type's fields and the facts its fetch
 * actions and its own action provide (plus the customer id). */
struct scope_names {
    yaml_node_t *event; /* the type's field mapping, or NULL */
    const char *facts[MAX_PROVIDED];
    size_t nfacts;
};

static int event_field(struct ctx *c, const struct scope_names *sn, const char *name,
                       const char **kind)
{
    yaml_node_t *v;
    static const char *const builtin[] = {"id", "type", "at", NULL};
    if (parley__bot_in_list(name, builtin) >= 0) {
        *kind = "string";
        return 1;
    }
    v = parley__bot_map_get(c->doc, sn->event, name);
    *kind = v ? parley__bot_sval(v) : NULL;
    return v != NULL;
}

/* Checks a value source: "event.X" (a field of the rule's event type),
 * "fact.X" (a fact the rule fetched, or an event field: events seed the
 * facts) or a literal. `what` names it in the message. */
static void check_source(struct ctx *c, const struct scope_names *sn, yaml_node_t *n,
                         const char *src, const char *what)
{
    const char *kind;
    if (strncmp(src, "event.", 6) == 0) {
        if (!event_field(c, sn, src + 6, &kind))
            parley__bot_problem(c, n,
                                "%s: the event has no field '%s' (expected one its type "
                                "declares under 'events', or id, type, at)",
                                what, src + 6);
    } else if (strncmp(src, "fact.", 5) == 0) {
        if (!parley__bot_provided(sn->facts, sn->nfacts, src + 5, strlen(src + 5)) &&
            !event_field(c, sn, src + 5, &kind))
            parley__bot_problem(c, n,
                                "%s: no fact '%s' (expected a field of the event or a fact of an "
                                "action the rule fetches)",
                                what, src + 5);
    }
}

static void check_response(struct ctx *c, const struct scope_names *sn, yaml_node_t *n,
                           const char *rule)
{
    const char *key = parley__bot_scalar(c, n, "a response key");
    struct response *r = key ? parley__bot_find_response(c, key) : NULL;
    const char *names[MAX_PROVIDED + MAX_EVENT_NAMES];
    char where[96];
    size_t nn = 0;
    if (!key)
        return;
    if (!r) {
        parley__bot_problem(c, n,
                            "unknown response '%s' in rule '%s' (expected a key under "
                            "'responses')",
                            key, rule);
        return;
    }
    r->used = 1;
    for (size_t i = 0; i < sn->nfacts; i++)
        names[nn++] = sn->facts[i];
    if (sn->event && sn->event->type == YAML_MAPPING_NODE)
        FOR_PAIRS(sn->event, p)
        {
            if (nn < sizeof(names) / sizeof(names[0]) - 2)
                names[nn++] = parley__bot_sval(parley__bot_node_at(c->doc, p->key));
        }
    names[nn++] = "remaining_gb";
    names[nn++] = "remaining_amount";
    (void)snprintf(where, sizeof(where), "rule %.80s", rule);
    parley__bot_check_placeholders(c, r, names, nn, where);
}

static void check_fetch(struct ctx *c, struct scope_names *sn, yaml_node_t *n)
{
    size_t count = 0;
    if (!parley__bot_is_kind(c, n, YAML_SEQUENCE_NODE, "'fetch' (a list of action names)"))
        return;
    FOR_ITEMS(n, it)
    {
        yaml_node_t *item = parley__bot_node_at(c->doc, *it);
        const char *name = parley__bot_scalar(c, item, "an action name");
        struct action *a = name ? parley__bot_find_action(c, name) : NULL;
        if (!name)
            continue;
        if (++count > MAX_RULE_ITEMS) {
            parley__bot_problem(c, item, "too many actions in 'fetch' (at most %d)",
                                MAX_RULE_ITEMS);
            return;
        }
        if (!a) {
            parley__bot_problem(c, item,
                                "unknown action '%s' in 'fetch' (expected one under "
                                "'actions')",
                                name);
            continue;
        }
        if (!a->conn)
            continue;
        if (parley_connect_def_op_is_write(a->conn->def, a->op)) {
            parley__bot_problem(c, item,
                                "action '%s' changes data and cannot be fetched (expected a read; "
                                "put an action that changes the account under 'do')",
                                name);
            continue;
        }
        parley__bot_op_facts(a->conn, a->op, sn->facts, &sn->nfacts, MAX_PROVIDED);
    }
}

static void check_when(struct ctx *c, const struct scope_names *sn, yaml_node_t *n)
{
    size_t count = 0;
    if (!parley__bot_is_kind(c, n, YAML_SEQUENCE_NODE, "'when' (a list of conditions)"))
        return;
    FOR_ITEMS(n, it)
    {
        yaml_node_t *item = parley__bot_node_at(c->doc, *it);
        const char *s = parley__bot_scalar(c, item, "a condition"), *l, *r;
        char buf[512];
        parley_bot_rule_op op;
        if (!s)
            continue;
        if (++count > MAX_RULE_ITEMS) {
            parley__bot_problem(c, item, "too many conditions (at most %d)", MAX_RULE_ITEMS);
            return;
        }
        if (split_cond(s, buf, sizeof(buf), &l, &op, &r) != 0) {
            parley__bot_problem(c, item,
                                "bad condition '%.200s' (expected 'LEFT OP RIGHT' with OP one of "
                                "==, !=, <, <=, >, >=, in, e.g. 'fact.status == active')",
                                s);
            continue;
        }
        check_source(c, sn, item, l, "condition");
        check_source(c, sn, item, r, "condition");
    }
}

/* The slots a rule gives its action: declared slots, and every slot.X
 * parameter of the action given. */
static void check_slots(struct ctx *c, const struct scope_names *sn, yaml_node_t *n,
                        const char *action, const char *rule, yaml_node_t *rule_node)
{
    yaml_node_t *params = NULL, *adef = NULL;
    if (n && parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'slots' (slot: value)"))
        FOR_PAIRS(n, p)
        {
            yaml_node_t *k = parley__bot_node_at(c->doc, p->key),
                        *v = parley__bot_node_at(c->doc, p->value);
            const char *name = parley__bot_scalar(c, k, "a slot name"),
                       *src = parley__bot_scalar(c, v, "a slot value");
            if (name && !parley__bot_find_slot(c, name))
                parley__bot_problem(c, k,
                                    "unknown slot '%s' (expected one declared under "
                                    "'slots')",
                                    name);
            if (src)
                check_source(c, sn, v, src, "slot value");
        }
    if (!action)
        return;
    adef = parley__bot_map_get(
        c->doc,
        parley__bot_map_get(c->doc, parley__bot_map_get(c->doc, c->root, "actions"), action),
        "params");
    params = adef && adef->type == YAML_MAPPING_NODE ? adef : NULL;
    if (params)
        FOR_PAIRS(params, p)
        {
            const char *src = parley__bot_sval(parley__bot_node_at(c->doc, p->value));
            if (src && strncmp(src, "slot.", 5) == 0 &&
                !(n && parley__bot_map_get(c->doc, n, src + 5)))
                parley__bot_problem(c, n ? n : rule_node,
                                    "rule '%s' does not give slot '%s', which action '%s' needs "
                                    "(expected 'slots: {%s: VALUE}')",
                                    rule, src + 5, action, src + 5);
        }
}

/* 'reply': an intent served by a flow, which a yes to the rule's message
 * runs with the rule's slots; the rule must say something to reply to. */
static void check_reply(struct ctx *c, yaml_node_t *n, const char *rule, int says)
{
    const char *intent = parley__bot_scalar(c, n, "'reply' (an intent)");
    int has_flow = 0;
    struct response *r;
    if (!intent)
        return;
    if (parley__bot_find_intent(c, intent) < 0) {
        parley__bot_problem(c, n,
                            "unknown intent '%s' in 'reply' of rule '%s' (expected one under "
                            "'intents')",
                            intent, rule);
        return;
    }
    for (size_t i = 0; i < c->nflows; i++)
        has_flow |= c->flow_intent[i] && strcmp(c->flow_intent[i], intent) == 0;
    if (!has_flow)
        parley__bot_problem(c, n,
                            "intent '%s' in 'reply' of rule '%s' has no flow (expected an intent "
                            "a flow serves: a yes to the message runs it)",
                            intent, rule);
    if (!says)
        parley__bot_problem(c, n,
                            "rule '%s' has 'reply' but sends no message (expected 'say' or "
                            "'otherwise' for the customer to reply to)",
                            rule);
    if (!(r = parley__bot_find_response(c, declined_response)))
        parley__bot_problem(c, n,
                            "rule '%s' has 'reply' but the bot has no '%s' response (expected "
                            "one, said when the customer declines the offer)",
                            rule, declined_response);
    else
        r->used = 1;
}

static void check_rule(struct ctx *c, const char *name, yaml_node_t *k, yaml_node_t *m,
                       yaml_node_t *events)
{
    yaml_node_t *f[K_COUNT];
    struct scope_names sn;
    const char *on = NULL, *action = NULL, *scope = NULL, *who = NULL, *kind;
    char where[96];
    double num;
    (void)snprintf(where, sizeof(where), "rule '%.60s'", name);
    memset(&sn, 0, sizeof(sn));
    if (!parley__bot_is_kind(c, m, YAML_MAPPING_NODE, where))
        return;
    parley__bot_read_keys(c, m, rule_keys, f, where);
    if (!f[K_ON]) {
        parley__bot_problem(c, k, "%s has no 'on' (expected an event type)", where);
        return;
    }
    if (!(on = parley__bot_scalar(c, f[K_ON], "'on'")))
        return;
    sn.event = parley__bot_map_get(c->doc, events, on);
    if (!sn.event) {
        parley__bot_problem(c, f[K_ON],
                            "unknown event type '%s' in %s (expected one declared "
                            "under 'events')",
                            on, where);
        return;
    }
    parley__bot_provide(sn.facts, &sn.nfacts, MAX_PROVIDED, "customer_id");
    if (f[K_FETCH])
        check_fetch(c, &sn, f[K_FETCH]);
    if (f[K_DO] && (action = parley__bot_scalar(c, f[K_DO], "'do'"))) {
        struct action *a = parley__bot_find_action(c, action);
        if (!a)
            parley__bot_problem(c, f[K_DO],
                                "unknown action '%s' in %s (expected one under "
                                "'actions')",
                                action, where);
        else if (a->conn)
            parley__bot_op_facts(a->conn, a->op, sn.facts, &sn.nfacts, MAX_PROVIDED);
    }
    if (f[K_SCOPE] && (scope = parley__bot_scalar(c, f[K_SCOPE], "'scope'")) &&
        !parley__bot_map_get(c->doc, parley__bot_map_get(c->doc, c->root, "consents"), scope))
        parley__bot_problem(c, f[K_SCOPE],
                            "unknown consent scope '%s' in %s (expected one "
                            "under 'consents')",
                            scope, where);
    if (action && !f[K_SCOPE])
        parley__bot_problem(c, f[K_DO],
                            "%s runs '%s' without a 'scope' (every proactive action needs the "
                            "consent scope whose grant allows it)",
                            where, action);
    if (f[K_CUSTOMER] && (who = parley__bot_scalar(c, f[K_CUSTOMER], "'customer'"))) {
        if (strcmp(who, "grants") == 0) {
            if (!scope &&
                !parley__bot_map_get(c->doc, parley__bot_map_get(c->doc, c->root, "consents"),
                                     outreach_scope))
                parley__bot_problem(c, f[K_CUSTOMER],
                                    "%s is for every holder of a grant but names no 'scope' and "
                                    "the bot declares no '%s'",
                                    where, outreach_scope);
        } else if (strncmp(who, "event.", 6) != 0 || !event_field(c, &sn, who + 6, &kind) ||
                   !kind || strncmp(kind, "string", 6) != 0) {
            parley__bot_problem(c, f[K_CUSTOMER],
                                "bad 'customer' '%s' in %s (expected 'grants' or event.FIELD, a "
                                "string field of '%s')",
                                who, where, on);
        }
    } else if (!f[K_CUSTOMER] && !parley__bot_map_get(c->doc, sn.event, "customer_id")) {
        parley__bot_problem(c, k,
                            "%s: event type '%s' has no 'customer_id' (expected 'customer: "
                            "event.FIELD' or 'customer: grants')",
                            where, on);
    }
    if (f[K_WHEN])
        check_when(c, &sn, f[K_WHEN]);
    check_slots(c, &sn, f[K_SLOTS], action && parley__bot_find_action(c, action) ? action : NULL,
                name, k);
    for (int i = K_QUANTITY; i <= K_AMOUNT; i++) {
        const char *src = f[i] ? parley__bot_scalar(c, f[i], rule_keys[i]) : NULL;
        if (src)
            check_source(c, &sn, f[i], src, rule_keys[i]);
    }
    if (f[K_DEDUPE]) {
        const char *src = parley__bot_scalar(c, f[K_DEDUPE], "'dedupe'");
        if (src)
            check_source(c, &sn, f[K_DEDUPE], src, "dedupe");
    }
    if (f[K_WINDOW])
        (void)parley__bot_read_number(c, f[K_WINDOW], "'window_hours'", 0.01, 8760, &num);
    if (f[K_MAX])
        (void)parley__bot_read_number(c, f[K_MAX], "'max_per_day'", 0, 1000, &num);
    if (f[K_SAY])
        check_response(c, &sn, f[K_SAY], name);
    if (f[K_OTHERWISE])
        check_response(c, &sn, f[K_OTHERWISE], name);
    if (f[K_OTHERWISE] && !action)
        parley__bot_problem(c, f[K_OTHERWISE],
                            "%s has 'otherwise' but no 'do' (expected 'otherwise' only for the "
                            "message sent when the action may not run)",
                            where);
    if (!action && !f[K_SAY])
        parley__bot_problem(c, k, "%s does nothing (expected 'do', 'say' or both)", where);
    if (f[K_REPLY])
        check_reply(c, f[K_REPLY], name, f[K_SAY] || f[K_OTHERWISE]);
    if ((f[K_SAY] || f[K_OTHERWISE]) &&
        !parley__bot_map_get(c->doc, parley__bot_map_get(c->doc, c->root, "consents"),
                             outreach_scope))
        parley__bot_problem(c, k,
                            "%s sends messages but the bot declares no '%s' consent scope "
                            "(every proactive message needs the customer's grant of it)",
                            where, outreach_scope);
}

/* The SMS gateway: a connector operation whose parameters are facts,
 * literals or "message" (the text). */
static void check_sms(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"connector", "operation", "params", NULL};
    yaml_node_t *f[3];
    const struct connector *conn = NULL;
    const char *op;
    int has_message = 0;
    if (!parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'sms' (connector, operation, params)"))
        return;
    parley__bot_read_keys(c, n, keys, f, "'sms'");
    conn = parley__bot_connector_for(c, f[0], n, "'sms'");
    if (!conn)
        return;
    if (!f[1] || !(op = parley__bot_scalar(c, f[1], "'operation'"))) {
        if (!f[1])
            parley__bot_problem(c, n,
                                "'sms' has no 'operation' (expected the connector "
                                "operation that sends a text message)");
        return;
    }
    if (!parley__bot_has_op(conn->def, op)) {
        parley__bot_problem(c, f[1], "connector '%s' has no operation '%s'",
                            parley_connect_def_name(conn->def), op);
        return;
    }
    if (!f[2] || !parley__bot_is_kind(c, f[2], YAML_MAPPING_NODE, "'params'")) {
        if (!f[2])
            parley__bot_problem(c, n,
                                "'sms' has no 'params' (expected e.g. {phone: "
                                "fact.phone_number, text: message})");
        return;
    }
    FOR_PAIRS(f[2], p)
    {
        const char *src = parley__bot_sval(parley__bot_node_at(c->doc, p->value));
        if (src && strcmp(src, "message") == 0)
            has_message = 1;
        else if (src && strncmp(src, "fact.", 5) == 0 &&
                 !parley__bot_provided(c->global, c->nglobal, src + 5, strlen(src + 5)))
            parley__bot_problem(c, parley__bot_node_at(c->doc, p->value),
                                "unknown fact '%s' (expected a fact of a connector operation)",
                                src + 5);
    }
    for (size_t i = 0; i < parley_connect_def_param_count(conn->def, op); i++) {
        const char *pn = parley_connect_def_param_name(conn->def, op, i);
        if (!parley__bot_map_get(c->doc, f[2], pn))
            parley__bot_problem(c, f[2], "'sms' does not map parameter '%s' of operation '%s'", pn,
                                op);
    }
    if (!has_message)
        parley__bot_problem(c, f[2],
                            "no parameter of 'sms' is 'message' (expected the text "
                            "parameter mapped to message)");
}

void parley__bot_read_proactive(struct ctx *c, yaml_node_t *n, yaml_node_t *events)
{
    static const char *const keys[] = {"max_messages_per_day", "sms", "rules", NULL};
    yaml_node_t *f[3];
    size_t count = 0;
    double num;
    if (!n || !parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'proactive'"))
        return;
    parley__bot_read_keys(c, n, keys, f, "'proactive'");
    if (f[0])
        (void)parley__bot_read_number(c, f[0], "'max_messages_per_day'", 0, 1000, &num);
    if (f[1])
        check_sms(c, f[1]);
    if (!f[2] || !parley__bot_is_kind(c, f[2], YAML_MAPPING_NODE, "'rules' (name: rule)"))
        return;
    FOR_PAIRS(f[2], p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key);
        const char *name = parley__bot_scalar(c, k, "a rule name");
        if (!name)
            continue;
        if (!parley__bot_valid_name(name)) {
            parley__bot_problem(c, k, "bad rule name '%s' (expected a-z, 0-9 and _)", name);
            continue;
        }
        if (parley__bot_dup_key(c, f[2], p, name, k, "rule"))
            continue;
        if (++count > MAX_RULES) {
            parley__bot_problem(c, k, "too many rules (at most %d)", MAX_RULES);
            return;
        }
        check_rule(c, name, k, parley__bot_node_at(c->doc, p->value), events);
    }
    if (count && !f[1])
        parley__bot_problem(c, n,
                            "'proactive' has rules but no 'sms' gateway (expected 'sms: "
                            "{operation: ..., params: {..., text: message}}')");
}

/* ---- compiling --------------------------------------------------------- */

static const char *str(struct ctx *c, parley_bot *b, yaml_node_t *m, const char *key, int *nomem)
{
    const char *s = parley__bot_sval(parley__bot_map_get(c->doc, m, key));
    return s ? parley__bot_strdup(b, s, nomem) : NULL;
}

static size_t count_of(const yaml_node_t *n)
{
    if (n && n->type == YAML_MAPPING_NODE)
        return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (n && n->type == YAML_SEQUENCE_NODE)
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return 0;
}

/* A mapping of names to sources as parameters. */
static const parley_bot_param *params_of(struct ctx *c, parley_bot *b, yaml_node_t *m, size_t *n,
                                         int *nomem)
{
    parley_bot_param *ps = parley__bot_alloc(b, (count_of(m) + 1) * sizeof(*ps));
    *n = 0;
    if (!ps) {
        *nomem = 1;
        return NULL;
    }
    if (count_of(m))
        FOR_PAIRS(m, p)
        {
            ps[*n].name =
                parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->key)), nomem);
            ps[*n].value = parley__bot_strdup(
                b, parley__bot_sval(parley__bot_node_at(c->doc, p->value)), nomem);
            (*n)++;
        }
    return ps;
}

static int compile_rule(struct ctx *c, parley_bot *b, parley_bot_rule *r, yaml_node_t *m,
                        int *nomem)
{
    yaml_node_t *fetch = parley__bot_map_get(c->doc, m, "fetch"),
                *when = parley__bot_map_get(c->doc, m, "when");
    const char **names = parley__bot_alloc(b, (count_of(fetch) + 1) * sizeof(*names));
    parley_bot_rule_cond *conds = parley__bot_alloc(b, (count_of(when) + 1) * sizeof(*conds));
    const char *who = parley__bot_sval(parley__bot_map_get(c->doc, m, "customer")), *s;
    if (!names || !conds)
        return 0;
    r->on = str(c, b, m, "on", nomem);
    r->for_grants = who && strcmp(who, "grants") == 0;
    r->customer =
        r->for_grants ? NULL : parley__bot_strdup(b, who ? who : "event.customer_id", nomem);
    if (count_of(fetch))
        FOR_ITEMS(fetch, it)
        {
            names[r->n_fetch++] =
                parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, *it)), nomem);
        }
    r->fetch = names;
    if (count_of(when))
        FOR_ITEMS(when, it)
        {
            char buf[512];
            const char *l, *rt;
            parley_bot_rule_op op;
            /* Checked already: it splits. */
            if (split_cond(parley__bot_sval(parley__bot_node_at(c->doc, *it)), buf, sizeof(buf), &l,
                           &op, &rt) != 0)
                continue;
            conds[r->n_when].left = parley__bot_strdup(b, l, nomem);
            conds[r->n_when].right = parley__bot_strdup(b, rt, nomem);
            conds[r->n_when++].op = op;
        }
    r->when = conds;
    r->action = str(c, b, m, "do", nomem);
    r->scope = str(c, b, m, "scope", nomem);
    if (r->for_grants && !r->scope)
        r->scope = outreach_scope;
    r->slots = params_of(c, b, parley__bot_map_get(c->doc, m, "slots"), &r->n_slots, nomem);
    r->quantity = str(c, b, m, "quantity", nomem);
    r->amount = str(c, b, m, "amount", nomem);
    r->say = str(c, b, m, "say", nomem);
    r->otherwise = str(c, b, m, "otherwise", nomem);
    r->dedupe = str(c, b, m, "dedupe", nomem);
    r->reply = str(c, b, m, "reply", nomem);
    s = parley__bot_sval(parley__bot_map_get(c->doc, m, "window_hours"));
    r->window_hours = s ? strtod(s, NULL) : 24.0;
    s = parley__bot_sval(parley__bot_map_get(c->doc, m, "max_per_day"));
    r->max_per_day = s ? (int)strtod(s, NULL) : 0;
    return 1;
}

int parley__bot_compile_proactive(struct ctx *c, parley_bot *b, yaml_node_t *n, int *nomem)
{
    yaml_node_t *rules = parley__bot_map_get(c->doc, n, "rules"),
                *sms = parley__bot_map_get(c->doc, n, "sms");
    const char *s = parley__bot_sval(parley__bot_map_get(c->doc, n, "max_messages_per_day"));
    parley_bot_rule *rs = parley__bot_alloc(b, (count_of(rules) + 1) * sizeof(*rs));
    parley_bot_proactive *pr = &b->proactive;
    if (!rs)
        return 0;
    pr->max_messages_per_day = s ? (int)strtod(s, NULL) : 0;
    if (count_of(rules))
        FOR_PAIRS(rules, p)
        {
            parley_bot_rule *r = &rs[pr->n_rules++];
            r->name =
                parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->key)), nomem);
            if (!compile_rule(c, b, r, parley__bot_node_at(c->doc, p->value), nomem))
                return 0;
        }
    pr->rules = rs;
    if (sms && sms->type == YAML_MAPPING_NODE) {
        const struct connector *conn = NULL;
        const char *cname = parley__bot_sval(parley__bot_map_get(c->doc, sms, "connector"));
        for (size_t i = 0; cname && i < c->nconns; i++)
            if (c->conns[i].def && strcmp(parley_connect_def_name(c->conns[i].def), cname) == 0)
                conn = &c->conns[i];
        pr->sms_connector = conn ? (size_t)(conn - c->conns) : 0;
        pr->sms_operation = str(c, b, sms, "operation", nomem);
        pr->sms_params =
            params_of(c, b, parley__bot_map_get(c->doc, sms, "params"), &pr->n_sms_params, nomem);
    }
    return !*nomem;
}

const parley_bot_proactive *parley_bot_proactive_rules(const parley_bot *b)
{
    return b ? &b->proactive : NULL;
}
