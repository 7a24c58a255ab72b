/* Checking what the conversation engine itself needs from a definition: the
 * identity operations and the responses it says on its own. */
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"

/* Responses the engine says itself (docs/bot-definition.md). */
const char *const parley__bot_engine_responses[] = {
    "fallback",
    "clarify",
    "handoff",
    "kb_unknown",
    "resume_offer",
    "welcome_back",
    "identity_ask_phone",
    "identity_phone_unknown",
    "identity_ask_proof",
    "identity_code_sent",
    "identity_code_sms",
    "identity_retry",
    "identity_failed",
    "identity_verified",
    NULL,
};

/* Intents the engine handles without a label: they are never offered as a
 * choice. */
const char *const parley__bot_unlabelled_intents[] = {"affirm", "deny", "out_of_scope", NULL};

/* The parameters and facts each identity operation must have. */
static const struct {
    const char *key;
    const char *params[3];
    const char *facts[6];
} identity_ops[] = {
    {"by_phone",
     {"phone", NULL},
     {"customer_id", "full_name", "date_of_birth", "phone_number", "line_ids", NULL}},
    {"line", {"line_id", NULL}, {"phone_number", NULL}},
    {"send_code", {"phone", "text", NULL}, {NULL}},
};

static int op_has_fact(const struct connector *conn, const char *op, const char *fact)
{
    size_t n = parley_connect_def_fact_count(conn->def, op);
    for (size_t i = 0; i < n; i++)
        if (strcmp(parley_connect_def_fact_name(conn->def, op, i), fact) == 0)
            return 1;
    return 0;
}

static int op_has_param(const struct connector *conn, const char *op, const char *param)
{
    size_t n = parley_connect_def_param_count(conn->def, op);
    for (size_t i = 0; i < n; i++)
        if (strcmp(parley_connect_def_param_name(conn->def, op, i), param) == 0)
            return 1;
    return 0;
}

static int has_op(const struct connector *conn, const char *op)
{
    size_t n = parley_connect_def_op_count(conn->def);
    for (size_t i = 0; i < n; i++)
        if (strcmp(parley_connect_def_op_name(conn->def, i), op) == 0)
            return 1;
    return 0;
}

static void check_identity_op(struct ctx *c, const struct connector *conn, size_t k, yaml_node_t *n)
{
    const char *op = parley__bot_scalar(c, n, "an operation name");
    size_t np;
    if (!op)
        return;
    if (!has_op(conn, op)) {
        parley__bot_problem(c, n, "connector '%s' has no operation '%s' (for identity '%s')",
                            parley_connect_def_name(conn->def), op, identity_ops[k].key);
        return;
    }
    np = parley_connect_def_param_count(conn->def, op);
    for (size_t i = 0; identity_ops[k].params[i]; i++)
        if (!op_has_param(conn, op, identity_ops[k].params[i]))
            parley__bot_problem(c, n,
                                "operation '%s' has no parameter '%s' (identity '%s' needs it)", op,
                                identity_ops[k].params[i], identity_ops[k].key);
    for (size_t i = 0; i < np; i++) {
        const char *pn = parley_connect_def_param_name(conn->def, op, i);
        if (parley__bot_in_list(pn, identity_ops[k].params) < 0)
            parley__bot_problem(c, n,
                                "operation '%s' takes parameter '%s', which identity '%s' cannot "
                                "fill",
                                op, pn, identity_ops[k].key);
    }
    for (size_t i = 0; identity_ops[k].facts[i]; i++)
        if (!op_has_fact(conn, op, identity_ops[k].facts[i]))
            parley__bot_problem(c, n, "operation '%s' has no fact '%s' (identity '%s' needs it)",
                                op, identity_ops[k].facts[i], identity_ops[k].key);
}

void parley__bot_read_identity(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"connector", "by_phone", "line", "send_code", NULL};
    yaml_node_t *v[4];
    struct connector *conn = NULL;
    if (!n)
        return;
    if (!parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'identity'"))
        return;
    c->has_identity = 1;
    parley__bot_read_keys(c, n, keys, v, "'identity'");
    if (v[0]) {
        const char *name = parley__bot_scalar(c, v[0], "'connector'");
        for (size_t i = 0; name && i < c->nconns; i++)
            if (c->conns[i].def && strcmp(parley_connect_def_name(c->conns[i].def), name) == 0)
                conn = &c->conns[i];
        if (name && !conn)
            parley__bot_problem(c, v[0],
                                "unknown connector '%s' (expected the name of a file under "
                                "'connectors')",
                                name);
        if (!conn)
            return;
    } else if (c->nconns == 1) {
        conn = &c->conns[0];
    } else {
        parley__bot_problem(c, n, "'identity' has no 'connector' (expected one when there are %zu)",
                            c->nconns);
        return;
    }
    if (!conn->def)
        return; /* its own problem is reported */
    if (!v[1])
        parley__bot_problem(c, n,
                            "'identity' has no 'by_phone' (expected the operation that finds a "
                            "customer by phone number)");
    if (!v[2])
        parley__bot_problem(c, n,
                            "'identity' has no 'line' (expected the operation that reads a line)");
    for (size_t k = 0; k < 3; k++)
        if (v[k + 1])
            check_identity_op(c, conn, k, v[k + 1]);
}

void parley__bot_check_engine_needs(struct ctx *c, yaml_node_t *root)
{
    int has_verify = 0;
    for (size_t i = 0; parley__bot_engine_responses[i]; i++)
        if (!parley__bot_find_response(c, parley__bot_engine_responses[i]))
            parley__bot_problem(c, root,
                                "missing response '%s' (the engine says it itself; expected a "
                                "text in each language, see docs/bot-definition.md)",
                                parley__bot_engine_responses[i]);
    for (size_t i = 0; i < c->nintents; i++) {
        char key[128];
        if (parley__bot_in_list(c->intents[i].name, parley__bot_unlabelled_intents) >= 0)
            continue;
        (void)snprintf(key, sizeof(key), "label_%s", c->intents[i].name);
        if (!parley__bot_find_response(c, key))
            parley__bot_problem(c, c->intents[i].node,
                                "intent '%s' has no response '%s' (expected a short phrase per "
                                "language naming what the customer wants, for clarifying choices)",
                                c->intents[i].name, key);
    }
    for (size_t i = 0; i < c->nflows; i++)
        has_verify |= c->flow_has_verify[i];
    if (has_verify && !c->has_identity)
        parley__bot_problem(c, root,
                            "a flow has a verify_identity step but there is no 'identity' section "
                            "(expected by_phone and line operations)");
}
