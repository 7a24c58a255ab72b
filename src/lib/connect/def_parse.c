/* Parsing a connector definition's YAML tree: the root keys, auth,
 * timeouts and retry numbers, and each operation. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "connect/internal.h"

static void parse_op(struct loader *ld, const yaml_node_t *kn, yaml_node_t *n,
                     struct connect_op *op)
{
    static const char *const keys[] = {"method", "path", "params", "body", "write", "facts", NULL};
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    const char *name = parley__connect_scalar(ld, kn, "an operation name");
    yaml_node_t *path_node = NULL, *body_node = NULL, *write_node = NULL;
    unsigned seen = 0;
    int write_set = 0;

    if (!name)
        return;
    if (!parley__connect_valid_ident(name, CONNECT_MAX_NAME))
        parley__connect_problem(
            ld, kn, "bad operation name '%.64s' (expected letters, digits, '_' or '-')", name);
    op->name = parley__connect_dup_or_flag(ld, name);
    if (!op->name || !parley__connect_is_mapping(ld, n, "an operation"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__connect_node_at(ld, p->key),
                    *v = parley__connect_node_at(ld, p->value);
        const char *s;
        int ok = 0;
        switch (parley__connect_key_index(ld, k, keys, "an operation", &seen)) {
        case 0:
            if ((s = parley__connect_scalar(ld, v, "'method'")) == NULL)
                break;
            for (int i = 0; i < 5; i++)
                if (strcmp(s, methods[i]) == 0) {
                    op->method = (enum connect_method)i;
                    ok = 1;
                }
            if (!ok)
                parley__connect_problem(
                    ld, v, "bad method '%.16s' (expected GET, POST, PUT, PATCH or DELETE)", s);
            break;
        case 1:
            path_node = v;
            if ((s = parley__connect_scalar(ld, v, "'path'")) == NULL)
                break;
            if (s[0] != '/' || strlen(s) > CONNECT_MAX_TEMPLATE || strpbrk(s, " \t\r\n#"))
                parley__connect_problem(
                    ld, v, "bad path '%.64s' (expected '/...' without blanks or '#')", s);
            else
                op->path = parley__connect_dup_or_flag(ld, s);
            break;
        case 2:
            if (!parley__connect_is_mapping(ld, v, "'params'"))
                break;
            op->params = parley__calloc(
                (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start) + 1,
                sizeof(*op->params));
            if (!op->params) {
                ld->nomem = 1;
                break;
            }
            FOR_PAIRS(v, q)
            {
                yaml_node_t *pk = parley__connect_node_at(ld, q->key),
                            *pv = parley__connect_node_at(ld, q->value);
                const char *pn = parley__connect_scalar(ld, pk, "a parameter name");
                const char *pt = parley__connect_scalar(ld, pv, "a parameter type");
                struct connect_param_def *pd;
                if (!pn || !pt)
                    continue;
                if (!parley__connect_valid_ident(pn, CONNECT_MAX_NAME) || strchr(pn, '-')) {
                    parley__connect_problem(
                        ld, pk, "bad parameter name '%.64s' (expected letters, digits, '_')", pn);
                    continue;
                }
                if (parley__connect_find_param(op, pn, strlen(pn))) {
                    parley__connect_problem(ld, pk, "duplicate parameter '%s'", pn);
                    continue;
                }
                pd = &op->params[op->nparams];
                if (!parley__connect_parse_type(pt, 1, &pd->type)) {
                    parley__connect_problem(
                        ld, pv,
                        "bad parameter type '%.32s' (expected string, number, integer "
                        "or boolean)",
                        pt);
                    continue;
                }
                pd->name = parley__connect_dup_or_flag(ld, pn);
                op->nparams++;
            }
            break;
        case 3:
            body_node = v;
            if ((s = parley__connect_scalar(ld, v, "'body'")) == NULL)
                break;
            if (strlen(s) > CONNECT_MAX_TEMPLATE)
                parley__connect_problem(ld, v, "the body template is longer than %d bytes",
                                        CONNECT_MAX_TEMPLATE);
            else
                op->body = parley__connect_dup_or_flag(ld, s);
            break;
        case 4:
            write_node = v;
            write_set = parley__connect_parse_bool(ld, v, "write", &op->write);
            break;
        case 5:
            if (!v || v->type != YAML_SEQUENCE_NODE) {
                parley__connect_problem(ld, v, "'facts' must be a list of facts");
                break;
            }
            op->fields = parley__calloc(
                (size_t)(v->data.sequence.items.top - v->data.sequence.items.start) + 1,
                sizeof(*op->fields));
            if (!op->fields) {
                ld->nomem = 1;
                break;
            }
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++)
                parley__connect_parse_fact(ld, parley__connect_node_at(ld, *it), op);
            break;
        default:
            break;
        }
    }
    if (!(seen & 1))
        parley__connect_problem(ld, n, "missing 'method' in operation '%s'", op->name);
    if (!(seen & 2))
        parley__connect_problem(ld, n, "missing 'path' in operation '%s'", op->name);
    if (!write_set && (seen & 1))
        op->write = op->method != CONNECT_GET;
    if (op->method == CONNECT_GET && op->write)
        parley__connect_problem(ld, write_node ? write_node : n,
                                "a GET operation cannot be a write");
    if (op->method == CONNECT_GET && op->body)
        parley__connect_problem(ld, body_node, "a GET operation cannot have a body");
    if (op->path && !ld->nomem) {
        parley__connect_check_templates(ld, op, path_node, body_node);
        if (!ld->problems && !ld->nomem)
            parley__connect_check_body_json(ld, op, body_node);
    }
}

static void parse_auth(struct loader *ld, yaml_node_t *n, parley_connect_def *d)
{
    static const char *const keys[] = {"type", "token_env", "token_file", "token", NULL};
    unsigned seen = 0;
    if (!parley__connect_is_mapping(ld, n, "'auth'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__connect_node_at(ld, p->key),
                    *v = parley__connect_node_at(ld, p->value);
        const char *s;
        switch (parley__connect_key_index(ld, k, keys, "'auth'", &seen)) {
        case 0:
            if ((s = parley__connect_scalar(ld, v, "'type'")) == NULL)
                break;
            if (strcmp(s, "none") == 0)
                d->auth = CONNECT_AUTH_NONE;
            else if (strcmp(s, "bearer") == 0)
                d->auth = CONNECT_AUTH_BEARER;
            else
                parley__connect_problem(ld, v, "bad auth type '%.32s' (expected none or bearer)",
                                        s);
            break;
        case 1:
            if ((s = parley__connect_scalar(ld, v, "'token_env'")) == NULL)
                break;
            if (!parley__connect_valid_ident(s, 128) || strchr(s, '-'))
                parley__connect_problem(ld, v, "bad environment variable name '%.64s'", s);
            else
                d->token_env = parley__connect_dup_or_flag(ld, s);
            break;
        case 2:
            if ((s = parley__connect_scalar(ld, v, "'token_file'")) == NULL)
                break;
            if (*s == '\0')
                parley__connect_problem(ld, v, "'token_file' is empty (expected a file path)");
            else
                d->token_file = parley__connect_dup_or_flag(ld, s);
            break;
        case 3:
            parley__connect_problem(
                ld, k,
                "a literal token is not allowed in a definition (expected token_env "
                "or token_file)");
            break;
        default:
            break;
        }
    }
    if (!(seen & 1))
        parley__connect_problem(ld, n, "missing 'type' in 'auth' (expected none or bearer)");
    else if ((seen & 6) == 6)
        parley__connect_problem(ld, n, "give only one of token_env or token_file");
    else if (d->auth == CONNECT_AUTH_BEARER && !(seen & 6) && !(seen & 8))
        parley__connect_problem(ld, n, "bearer auth needs one of token_env or token_file");
    else if (d->auth == CONNECT_AUTH_NONE && (seen & 6))
        parley__connect_problem(ld, n, "auth type none takes no token");
}

static void parse_numbers(struct loader *ld, yaml_node_t *n, const char *where,
                          const char *const *keys, long *const *outs, const long (*ranges)[2])
{
    unsigned seen = 0;
    if (!parley__connect_is_mapping(ld, n, where))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__connect_node_at(ld, p->key),
                    *v = parley__connect_node_at(ld, p->value);
        int i = parley__connect_key_index(ld, k, keys, where, &seen);
        if (i >= 0)
            (void)parley__connect_parse_long(ld, v, keys[i], ranges[i][0], ranges[i][1], outs[i]);
    }
}

void parley__connect_parse_root(struct loader *ld, yaml_node_t *root, parley_connect_def *d)
{
    static const char *const keys[] = {
        "name",    "base_url",           "auth",       "timeouts", "retry",
        "breaker", "max_response_bytes", "operations", NULL};
    static const char *const tkeys[] = {"connect_ms", "total_ms", NULL};
    static const long tranges[][2] = {{1, 600000}, {1, 3600000}};
    static const char *const rkeys[] = {"max_attempts", "base_delay_ms", "max_delay_ms", NULL};
    static const long rranges[][2] = {{1, 10}, {0, 60000}, {0, 600000}};
    static const char *const bkeys[] = {"failure_threshold", "cooldown_ms", NULL};
    static const long branges[][2] = {{1, 1000}, {1, 86400000}};
    unsigned seen = 0;
    long attempts = 3, failures = 5, maxresp = CONNECT_DEFAULT_MAX_RESPONSE;
    yaml_node_t *timeouts_node = NULL;

    d->connect_timeout_ms = 3000;
    d->total_timeout_ms = 10000;
    d->base_delay_ms = 200;
    d->max_delay_ms = 5000;
    d->breaker_cooldown_ms = 30000;
    if (!root) {
        parley__connect_problem(ld, NULL, "the definition is empty");
        return;
    }
    if (!parley__connect_is_mapping(ld, root, "a connector definition"))
        return;
    FOR_PAIRS(root, p)
    {
        yaml_node_t *k = parley__connect_node_at(ld, p->key),
                    *v = parley__connect_node_at(ld, p->value);
        const char *s;
        switch (parley__connect_key_index(ld, k, keys, "the connector", &seen)) {
        case 0:
            if ((s = parley__connect_scalar(ld, v, "'name'")) == NULL)
                break;
            if (!parley__connect_valid_ident(s, CONNECT_MAX_NAME))
                parley__connect_problem(
                    ld, v, "bad connector name '%.64s' (expected letters, digits, '_' or '-')", s);
            else
                d->name = parley__connect_dup_or_flag(ld, s);
            break;
        case 1:
            if ((s = parley__connect_scalar(ld, v, "'base_url'")) == NULL)
                break;
            if (!parley__connect_check_base_url(s)) {
                parley__connect_problem(ld, v,
                                        "bad URL '%.64s' (expected http:// or https://, a host, no "
                                        "credentials, query or fragment)",
                                        s);
            } else {
                size_t len = strlen(s);
                while (len > 0 && s[len - 1] == '/')
                    len--;
                d->base_url = parley__strndup(s, len);
                if (!d->base_url)
                    ld->nomem = 1;
            }
            break;
        case 2:
            parse_auth(ld, v, d);
            break;
        case 3: {
            long *outs[] = {&d->connect_timeout_ms, &d->total_timeout_ms};
            timeouts_node = v;
            parse_numbers(ld, v, "'timeouts'", tkeys, outs, tranges);
            break;
        }
        case 4: {
            long *outs[] = {&attempts, &d->base_delay_ms, &d->max_delay_ms};
            parse_numbers(ld, v, "'retry'", rkeys, outs, rranges);
            break;
        }
        case 5: {
            long *outs[] = {&failures, &d->breaker_cooldown_ms};
            parse_numbers(ld, v, "'breaker'", bkeys, outs, branges);
            break;
        }
        case 6:
            (void)parley__connect_parse_long(ld, v, "max_response_bytes", 1, 64L * 1024 * 1024,
                                             &maxresp);
            break;
        case 7:
            if (!parley__connect_is_mapping(ld, v, "'operations'"))
                break;
            d->ops = parley__calloc(
                (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start) + 1,
                sizeof(*d->ops));
            if (!d->ops) {
                ld->nomem = 1;
                break;
            }
            FOR_PAIRS(v, q)
            {
                yaml_node_t *ok = parley__connect_node_at(ld, q->key);
                const char *on =
                    ok && ok->type == YAML_SCALAR_NODE ? (const char *)ok->data.scalar.value : NULL;
                if (on && parley__connect_find_op(d, on)) {
                    parley__connect_problem(ld, ok, "duplicate operation '%s'", on);
                    continue;
                }
                parse_op(ld, ok, parley__connect_node_at(ld, q->value), &d->ops[d->nops++]);
                if (ld->nomem)
                    return;
            }
            if (d->nops == 0)
                parley__connect_problem(ld, v,
                                        "'operations' is empty (expected at least one operation)");
            break;
        default:
            break;
        }
        if (ld->nomem)
            return;
    }
    d->max_attempts = (unsigned)attempts;
    d->breaker_failures = (unsigned)failures;
    d->max_response = (size_t)maxresp;
    if (d->connect_timeout_ms > d->total_timeout_ms)
        parley__connect_problem(ld, timeouts_node, "'connect_ms' is longer than 'total_ms'");
    if (!(seen & 1))
        parley__connect_problem(ld, root, "missing 'name' in the connector");
    if (!(seen & 2))
        parley__connect_problem(ld, root, "missing 'base_url' in the connector");
    if (!(seen & 4))
        parley__connect_problem(ld, root,
                                "missing 'auth' in the connector (expected type none or bearer)");
    if (!(seen & 128))
        parley__connect_problem(ld, root, "missing 'operations' in the connector");
}
