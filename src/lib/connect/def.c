/* Loads connector definitions from YAML (libyaml's document API, which
 * keeps every node's line and column) and validates them completely:
 * unknown or duplicate keys, missing fields, URLs, timeouts, operations,
 * path and body templates against declared parameters, fact paths, types
 * and sensitivity tags. Every problem is reported as FILE:LINE:COLUMN. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "connect/internal.h"

struct loader {
    const char *file;
    yaml_document_t *doc;
    char first[400];
    unsigned problems;
    int nomem;
};

static void problem(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
    PARLEY_PRINTF(3, 4);

static void problem(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
    if (ld->problems++ == 0) {
        char what[320];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        (void)snprintf(ld->first, sizeof(ld->first), "%s:%lu:%lu: %s", ld->file,
                       n ? (unsigned long)n->start_mark.line + 1 : 1UL,
                       n ? (unsigned long)n->start_mark.column + 1 : 1UL, what);
    }
}

static char *dup_or_flag(struct loader *ld, const char *s)
{
    char *p = parley__strdup(s);
    if (!p)
        ld->nomem = 1;
    return p;
}

static yaml_node_t *node_at(struct loader *ld, int id)
{
    return yaml_document_get_node(ld->doc, id);
}

/* The scalar text of `n`, or NULL after reporting that `what` must be one. */
static const char *scalar(struct loader *ld, const yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_SCALAR_NODE) {
        problem(ld, n, "%s must be a single value", what);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static int is_mapping(struct loader *ld, const yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_MAPPING_NODE) {
        problem(ld, n, "%s must be a mapping of keys to values", what);
        return 0;
    }
    return 1;
}

static int parse_long(struct loader *ld, const yaml_node_t *n, const char *key, long min, long max,
                      long *out)
{
    const char *s = scalar(ld, n, key);
    char *end;
    long v;
    if (!s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        problem(ld, n, "'%s' must be an integer from %ld to %ld", key, min, max);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_bool(struct loader *ld, const yaml_node_t *n, const char *key, int *out)
{
    const char *s = scalar(ld, n, key);
    if (!s)
        return 0;
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0) {
        *out = 1;
        return 1;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0) {
        *out = 0;
        return 1;
    }
    problem(ld, n, "'%s' must be true or false", key);
    return 0;
}

static int valid_ident(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && ((c >= '0' && c <= '9') || c == '-'));
        if (!ok)
            return 0;
    }
    return 1;
}

/* Looks `key` up in `keys` (NULL-terminated); reports an unknown key with
 * the expected ones, or a duplicate (tracked in *seen). -1 when bad. */
static int key_index(struct loader *ld, const yaml_node_t *kn, const char *const *keys,
                     const char *where, unsigned *seen)
{
    const char *k = scalar(ld, kn, "a key");
    char expected[256] = "";
    size_t used = 0;
    if (!k)
        return -1;
    for (int i = 0; keys[i]; i++) {
        if (strcmp(k, keys[i]) == 0) {
            if (*seen & (1U << i)) {
                problem(ld, kn, "duplicate key '%s' in %s", k, where);
                return -1;
            }
            *seen |= 1U << i;
            return i;
        }
    }
    for (int i = 0; keys[i] && used < sizeof(expected); i++) {
        int w = snprintf(expected + used, sizeof(expected) - used, "%s%s", i ? ", " : "", keys[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    problem(ld, kn, "unknown key '%s' in %s (expected one of: %s)", k, where, expected);
    return -1;
}

#define FOR_PAIRS(node, p)                                                                         \
    for (yaml_node_pair_t *p = (node)->data.mapping.pairs.start;                                   \
         p < (node)->data.mapping.pairs.top; p++)

/* ---- URL and templates ---------------------------------------------- */

static int check_base_url(const char *u)
{
    const char *host;
    size_t n = strlen(u);
    if (strncmp(u, "http://", 7) == 0)
        host = u + 7;
    else if (strncmp(u, "https://", 8) == 0)
        host = u + 8;
    else
        return 0;
    if (*host == '\0' || *host == '/' || *host == ':' || n > 2048)
        return 0;
    for (const char *p = u; *p; p++) {
        unsigned char c = (unsigned char)*p;
        /* No credentials, query or fragment in a base URL; no blanks. */
        if (c <= ' ' || c >= 0x7f || c == '@' || c == '?' || c == '#' || c == '{' || c == '}')
            return 0;
    }
    return 1;
}

int parley__connect_scan_next(struct connect_scan *s, size_t *start, size_t *nlen)
{
    const char *t = s->t;
    for (;;) {
        char c = t[s->pos];
        if (c == '\0')
            return 0;
        if (s->body && s->in_str) {
            if (c == '\\' && t[s->pos + 1] != '\0')
                s->pos++;
            else if (c == '"')
                s->in_str = 0;
            s->pos++;
            continue;
        }
        if (s->body && c == '"') {
            s->in_str = 1;
            s->pos++;
            continue;
        }
        if (c == '{') {
            size_t i = s->pos + 1, n = 0;
            while ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') || t[i] == '_' ||
                   (n > 0 && t[i] >= '0' && t[i] <= '9')) {
                i++;
                n++;
            }
            if (n > 0 && n <= CONNECT_MAX_NAME && t[i] == '}') {
                *start = s->pos;
                *nlen = n;
                s->pos = i + 1;
                return 1;
            }
            if (!s->body)
                return -1;
        } else if (c == '}' && !s->body) {
            return -1;
        }
        s->pos++;
    }
}

/* ---- Fact paths ------------------------------------------------------ */

static void free_segs(struct connect_seg *segs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        parley__free(segs[i].key);
    parley__free(segs);
}

/* Parses "a.b[].c[2]". Returns 0 and a reason on a bad path, -1 on OOM. */
static int parse_path(const char *path, struct connect_field *f, const char **why)
{
    struct connect_seg segs[16];
    size_t n = 0;
    const char *p = path;
    int each = 0, rc = 1;

    memset(segs, 0, sizeof(segs));
    if (*p == '\0') {
        *why = "the path is empty";
        return 0;
    }
    for (;;) {
        const char *k = p;
        struct connect_seg *s;
        if (n == 16) {
            *why = "the path has more than 16 steps";
            rc = 0;
            goto out;
        }
        s = &segs[n++];
        s->index = -1;
        while (*p && *p != '.' && *p != '[' && *p != ']')
            p++;
        if (p > k) {
            s->key = parley__strndup(k, (size_t)(p - k));
            if (!s->key) {
                rc = -1;
                goto out;
            }
        } else if (!(n == 1 && *p == '[')) {
            *why = "the path has an empty step";
            rc = 0;
            goto out;
        }
        if (*p == '[') {
            p++;
            if (*p == ']') {
                if (each) {
                    *why = "the path may have only one '[]'";
                    rc = 0;
                    goto out;
                }
                s->each = each = 1;
                p++;
            } else {
                long v = 0;
                if (*p < '0' || *p > '9') {
                    *why = "'[' must be followed by ']' or an index";
                    rc = 0;
                    goto out;
                }
                while (*p >= '0' && *p <= '9' && v < 1000000)
                    v = v * 10 + (*p++ - '0');
                if (*p != ']') {
                    *why = "an index must be a number below 1000000 closed by ']'";
                    rc = 0;
                    goto out;
                }
                s->index = v;
                p++;
            }
        }
        if (*p == '\0')
            break;
        if (*p != '.' || p[1] == '\0') {
            *why = "steps must be separated by '.'";
            rc = 0;
            goto out;
        }
        p++;
    }
    f->segs = parley__mallocarray(n, sizeof(*f->segs));
    if (!f->segs) {
        rc = -1;
        goto out;
    }
    memcpy(f->segs, segs, n * sizeof(*segs));
    f->nsegs = n;
    f->has_each = each;
    return 1;
out:
    for (size_t i = 0; i < n; i++)
        parley__free(segs[i].key);
    return rc;
}

/* ---- Definition parts ----------------------------------------------- */

static int parse_type(const char *s, int for_param, parley_connect_type *out)
{
    static const char *const names[] = {"string", "number", "boolean",
                                        "array",  "object", "integer"};
    for (int i = 0; i < 6; i++) {
        if (strcmp(s, names[i]) != 0)
            continue;
        if (for_param && (i == PARLEY_CONNECT_ARRAY || i == PARLEY_CONNECT_OBJECT))
            return 0;
        if (!for_param && i == PARLEY_CONNECT_INTEGER)
            return 0;
        *out = (parley_connect_type)i;
        return 1;
    }
    return 0;
}

static void parse_fact(struct loader *ld, yaml_node_t *n, struct connect_op *op)
{
    static const char *const keys[] = {"name", "path", "type", "required", "sensitivity", NULL};
    struct connect_field *f = &op->fields[op->nfields];
    unsigned seen = 0;
    int have_type = 0, have_sens = 0;

    if (!is_mapping(ld, n, "a fact"))
        return;
    op->nfields++;
    f->required = 1;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
        const char *s, *why = NULL;
        int rc;
        switch (key_index(ld, k, keys, "a fact", &seen)) {
        case 0:
            if ((s = scalar(ld, v, "'name'")) == NULL)
                break;
            if (!valid_ident(s, CONNECT_MAX_NAME)) {
                problem(ld, v, "bad fact name '%.64s' (expected letters, digits, '_' or '-')", s);
                break;
            }
            for (size_t i = 0; i + 1 < op->nfields; i++)
                if (op->fields[i].name && strcmp(op->fields[i].name, s) == 0)
                    problem(ld, v, "duplicate fact '%s' in operation '%s'", s, op->name);
            f->name = dup_or_flag(ld, s);
            break;
        case 1:
            if ((s = scalar(ld, v, "'path'")) == NULL)
                break;
            f->path = dup_or_flag(ld, s);
            rc = parse_path(s, f, &why);
            if (rc < 0)
                ld->nomem = 1;
            else if (rc == 0)
                problem(ld, v,
                        "bad JSON path '%.64s': %s (expected e.g. 'line.data_used_gb' or "
                        "'plans[].name')",
                        s, why);
            break;
        case 2:
            if ((s = scalar(ld, v, "'type'")) == NULL)
                break;
            if (!parse_type(s, 0, &f->type))
                problem(ld, v,
                        "bad type '%.32s' (expected string, number, boolean, array or "
                        "object)",
                        s);
            have_type = 1;
            break;
        case 3:
            (void)parse_bool(ld, v, "required", &f->required);
            break;
        case 4:
            have_sens = 1;
            if ((s = scalar(ld, v, "'sensitivity'")) == NULL)
                break;
            if (strcmp(s, "public") == 0)
                f->sensitivity = PARLEY_CONNECT_PUBLIC;
            else if (strcmp(s, "account") == 0)
                f->sensitivity = PARLEY_CONNECT_ACCOUNT;
            else if (strcmp(s, "sensitive") == 0)
                f->sensitivity = PARLEY_CONNECT_SENSITIVE;
            else
                problem(ld, v, "bad sensitivity '%.32s' (expected public, account or sensitive)",
                        s);
            break;
        default:
            break;
        }
    }
    if (!(seen & 1))
        problem(ld, n, "missing 'name' in a fact of operation '%s'", op->name);
    if (!(seen & 2))
        problem(ld, n, "missing 'path' in a fact of operation '%s'", op->name);
    if (!have_type)
        problem(ld, n, "missing 'type' in a fact of operation '%s'", op->name);
    if (!have_sens)
        problem(ld, n,
                "missing 'sensitivity' in a fact of operation '%s' (expected public, "
                "account or sensitive)",
                op->name);
}

static const struct connect_param_def *find_param(const struct connect_op *op, const char *name,
                                                  size_t len)
{
    for (size_t i = 0; i < op->nparams; i++)
        if (op->params[i].name && strlen(op->params[i].name) == len &&
            memcmp(op->params[i].name, name, len) == 0)
            return &op->params[i];
    return NULL;
}

/* Checks the path and body templates against the declared parameters. */
static void check_templates(struct loader *ld, struct connect_op *op, const yaml_node_t *path_node,
                            const yaml_node_t *body_node)
{
    char *used = parley__calloc(op->nparams ? op->nparams : 1, 1);
    if (!used) {
        ld->nomem = 1;
        return;
    }
    for (int body = 0; body < 2; body++) {
        const char *t = body ? op->body : op->path;
        const yaml_node_t *tn = body ? body_node : path_node;
        struct connect_scan s = {t, 0, body, 0};
        size_t start, nlen;
        int rc;
        if (!t)
            continue;
        while ((rc = parley__connect_scan_next(&s, &start, &nlen)) == 1) {
            const struct connect_param_def *pd = find_param(op, t + start + 1, nlen);
            if (!pd)
                problem(ld, tn, "placeholder '{%.*s}' in the %s is not a declared parameter",
                        (int)nlen, t + start + 1, body ? "body" : "path");
            else
                used[pd - op->params] = 1;
        }
        if (rc < 0)
            problem(ld, tn, "stray '{' or '}' in the path (expected placeholders like {line_id})");
    }
    for (size_t i = 0; i < op->nparams; i++)
        if (!used[i] && op->params[i].name)
            problem(ld, path_node,
                    "parameter '%s' of operation '%s' is not used in its path or body",
                    op->params[i].name, op->name);
    parley__free(used);
}

/* Fills the body with sample values and checks it is JSON. */
static void check_body_json(struct loader *ld, const struct connect_op *op, const yaml_node_t *bn)
{
    parley_connect_param *ps;
    char *path = NULL, *body = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    if (!op->body)
        return;
    ps = parley__mallocarray(op->nparams ? op->nparams : 1, sizeof(*ps));
    if (!ps) {
        ld->nomem = 1;
        return;
    }
    for (size_t i = 0; i < op->nparams; i++) {
        ps[i].name = op->params[i].name;
        ps[i].value = op->params[i].type == PARLEY_CONNECT_BOOLEAN  ? "true"
                      : op->params[i].type == PARLEY_CONNECT_STRING ? "x"
                                                                    : "0";
    }
    if (parley__connect_expand(op, ps, op->nparams, &path, &body, &e) == PARLEY_OK) {
        json_error_t je;
        json_t *j = json_loads(body, JSON_REJECT_DUPLICATES, &je);
        if (!j)
            problem(ld, bn, "the body of operation '%s' is not valid JSON once filled in: %s",
                    op->name, je.text);
        else if (!json_is_object(j) && !json_is_array(j))
            problem(ld, bn, "the body of operation '%s' must be a JSON object or array", op->name);
        json_decref(j);
    } else if (e.code == PARLEY_ERR_NOMEM) {
        ld->nomem = 1;
    } else {
        problem(ld, bn, "the body of operation '%s' cannot be filled in: %s", op->name, e.msg);
    }
    parley__free(path);
    parley__free(body);
    parley__free(ps);
}

static void parse_op(struct loader *ld, const yaml_node_t *kn, yaml_node_t *n,
                     struct connect_op *op)
{
    static const char *const keys[] = {"method", "path", "params", "body", "write", "facts", NULL};
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    const char *name = scalar(ld, kn, "an operation name");
    yaml_node_t *path_node = NULL, *body_node = NULL, *write_node = NULL;
    unsigned seen = 0;
    int write_set = 0;

    if (!name)
        return;
    if (!valid_ident(name, CONNECT_MAX_NAME))
        problem(ld, kn, "bad operation name '%.64s' (expected letters, digits, '_' or '-')", name);
    op->name = dup_or_flag(ld, name);
    if (!op->name || !is_mapping(ld, n, "an operation"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
        const char *s;
        int ok = 0;
        switch (key_index(ld, k, keys, "an operation", &seen)) {
        case 0:
            if ((s = scalar(ld, v, "'method'")) == NULL)
                break;
            for (int i = 0; i < 5; i++)
                if (strcmp(s, methods[i]) == 0) {
                    op->method = (enum connect_method)i;
                    ok = 1;
                }
            if (!ok)
                problem(ld, v, "bad method '%.16s' (expected GET, POST, PUT, PATCH or DELETE)", s);
            break;
        case 1:
            path_node = v;
            if ((s = scalar(ld, v, "'path'")) == NULL)
                break;
            if (s[0] != '/' || strlen(s) > CONNECT_MAX_TEMPLATE || strpbrk(s, " \t\r\n#"))
                problem(ld, v, "bad path '%.64s' (expected '/...' without blanks or '#')", s);
            else
                op->path = dup_or_flag(ld, s);
            break;
        case 2:
            if (!is_mapping(ld, v, "'params'"))
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
                yaml_node_t *pk = node_at(ld, q->key), *pv = node_at(ld, q->value);
                const char *pn = scalar(ld, pk, "a parameter name");
                const char *pt = scalar(ld, pv, "a parameter type");
                struct connect_param_def *pd;
                if (!pn || !pt)
                    continue;
                if (!valid_ident(pn, CONNECT_MAX_NAME) || strchr(pn, '-')) {
                    problem(ld, pk, "bad parameter name '%.64s' (expected letters, digits, '_')",
                            pn);
                    continue;
                }
                if (find_param(op, pn, strlen(pn))) {
                    problem(ld, pk, "duplicate parameter '%s'", pn);
                    continue;
                }
                pd = &op->params[op->nparams];
                if (!parse_type(pt, 1, &pd->type)) {
                    problem(ld, pv,
                            "bad parameter type '%.32s' (expected string, number, integer "
                            "or boolean)",
                            pt);
                    continue;
                }
                pd->name = dup_or_flag(ld, pn);
                op->nparams++;
            }
            break;
        case 3:
            body_node = v;
            if ((s = scalar(ld, v, "'body'")) == NULL)
                break;
            if (strlen(s) > CONNECT_MAX_TEMPLATE)
                problem(ld, v, "the body template is longer than %d bytes", CONNECT_MAX_TEMPLATE);
            else
                op->body = dup_or_flag(ld, s);
            break;
        case 4:
            write_node = v;
            write_set = parse_bool(ld, v, "write", &op->write);
            break;
        case 5:
            if (!v || v->type != YAML_SEQUENCE_NODE) {
                problem(ld, v, "'facts' must be a list of facts");
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
                parse_fact(ld, node_at(ld, *it), op);
            break;
        default:
            break;
        }
    }
    if (!(seen & 1))
        problem(ld, n, "missing 'method' in operation '%s'", op->name);
    if (!(seen & 2))
        problem(ld, n, "missing 'path' in operation '%s'", op->name);
    if (!write_set && (seen & 1))
        op->write = op->method != CONNECT_GET;
    if (op->method == CONNECT_GET && op->write)
        problem(ld, write_node ? write_node : n, "a GET operation cannot be a write");
    if (op->method == CONNECT_GET && op->body)
        problem(ld, body_node, "a GET operation cannot have a body");
    if (op->path && !ld->nomem) {
        check_templates(ld, op, path_node, body_node);
        if (!ld->problems && !ld->nomem)
            check_body_json(ld, op, body_node);
    }
}

static void parse_auth(struct loader *ld, yaml_node_t *n, parley_connect_def *d)
{
    static const char *const keys[] = {"type", "token_env", "token_file", "token", NULL};
    unsigned seen = 0;
    if (!is_mapping(ld, n, "'auth'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
        const char *s;
        switch (key_index(ld, k, keys, "'auth'", &seen)) {
        case 0:
            if ((s = scalar(ld, v, "'type'")) == NULL)
                break;
            if (strcmp(s, "none") == 0)
                d->auth = CONNECT_AUTH_NONE;
            else if (strcmp(s, "bearer") == 0)
                d->auth = CONNECT_AUTH_BEARER;
            else
                problem(ld, v, "bad auth type '%.32s' (expected none or bearer)", s);
            break;
        case 1:
            if ((s = scalar(ld, v, "'token_env'")) == NULL)
                break;
            if (!valid_ident(s, 128) || strchr(s, '-'))
                problem(ld, v, "bad environment variable name '%.64s'", s);
            else
                d->token_env = dup_or_flag(ld, s);
            break;
        case 2:
            if ((s = scalar(ld, v, "'token_file'")) == NULL)
                break;
            if (*s == '\0')
                problem(ld, v, "'token_file' is empty (expected a file path)");
            else
                d->token_file = dup_or_flag(ld, s);
            break;
        case 3:
            problem(ld, k,
                    "a literal token is not allowed in a definition (expected token_env "
                    "or token_file)");
            break;
        default:
            break;
        }
    }
    if (!(seen & 1))
        problem(ld, n, "missing 'type' in 'auth' (expected none or bearer)");
    else if ((seen & 6) == 6)
        problem(ld, n, "give only one of token_env or token_file");
    else if (d->auth == CONNECT_AUTH_BEARER && !(seen & 6) && !(seen & 8))
        problem(ld, n, "bearer auth needs one of token_env or token_file");
    else if (d->auth == CONNECT_AUTH_NONE && (seen & 6))
        problem(ld, n, "auth type none takes no token");
}

static void parse_numbers(struct loader *ld, yaml_node_t *n, const char *where,
                          const char *const *keys, long *const *outs, const long (*ranges)[2])
{
    unsigned seen = 0;
    if (!is_mapping(ld, n, where))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
        int i = key_index(ld, k, keys, where, &seen);
        if (i >= 0)
            (void)parse_long(ld, v, keys[i], ranges[i][0], ranges[i][1], outs[i]);
    }
}

static void parse_root(struct loader *ld, yaml_node_t *root, parley_connect_def *d)
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
        problem(ld, NULL, "the definition is empty");
        return;
    }
    if (!is_mapping(ld, root, "a connector definition"))
        return;
    FOR_PAIRS(root, p)
    {
        yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
        const char *s;
        switch (key_index(ld, k, keys, "the connector", &seen)) {
        case 0:
            if ((s = scalar(ld, v, "'name'")) == NULL)
                break;
            if (!valid_ident(s, CONNECT_MAX_NAME))
                problem(ld, v, "bad connector name '%.64s' (expected letters, digits, '_' or '-')",
                        s);
            else
                d->name = dup_or_flag(ld, s);
            break;
        case 1:
            if ((s = scalar(ld, v, "'base_url'")) == NULL)
                break;
            if (!check_base_url(s)) {
                problem(ld, v,
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
            (void)parse_long(ld, v, "max_response_bytes", 1, 64L * 1024 * 1024, &maxresp);
            break;
        case 7:
            if (!is_mapping(ld, v, "'operations'"))
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
                yaml_node_t *ok = node_at(ld, q->key);
                const char *on =
                    ok && ok->type == YAML_SCALAR_NODE ? (const char *)ok->data.scalar.value : NULL;
                if (on && parley__connect_find_op(d, on)) {
                    problem(ld, ok, "duplicate operation '%s'", on);
                    continue;
                }
                parse_op(ld, ok, node_at(ld, q->value), &d->ops[d->nops++]);
                if (ld->nomem)
                    return;
            }
            if (d->nops == 0)
                problem(ld, v, "'operations' is empty (expected at least one operation)");
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
        problem(ld, timeouts_node, "'connect_ms' is longer than 'total_ms'");
    if (!(seen & 1))
        problem(ld, root, "missing 'name' in the connector");
    if (!(seen & 2))
        problem(ld, root, "missing 'base_url' in the connector");
    if (!(seen & 4))
        problem(ld, root, "missing 'auth' in the connector (expected type none or bearer)");
    if (!(seen & 128))
        problem(ld, root, "missing 'operations' in the connector");
}

/* ---- Public ---------------------------------------------------------- */

static void free_op(struct connect_op *op)
{
    parley__free(op->name);
    parley__free(op->path);
    parley__free(op->body);
    for (size_t i = 0; i < op->nparams; i++)
        parley__free(op->params[i].name);
    parley__free(op->params);
    for (size_t i = 0; i < op->nfields; i++) {
        parley__free(op->fields[i].name);
        parley__free(op->fields[i].path);
        free_segs(op->fields[i].segs, op->fields[i].nsegs);
    }
    parley__free(op->fields);
}

void parley_connect_def_free(parley_connect_def *def)
{
    if (!def)
        return;
    parley__free(def->name);
    parley__free(def->base_url);
    parley__free(def->token_env);
    parley__free(def->token_file);
    if (def->ops)
        for (size_t i = 0; i < def->nops; i++)
            free_op(&def->ops[i]);
    parley__free(def->ops);
    parley__free(def);
}

parley_err parley_connect_def_load_memory(const char *name, const void *buf, size_t len,
                                          parley_connect_def **out, parley_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int parser_ok = 0, doc_ok = 0;
    struct loader ld;
    parley_connect_def *d = NULL;
    parley_err rc = PARLEY_OK;

    if (!name || (!buf && len) || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load connector: bad argument");
    if (len > PARLEY_CONNECT_MAX_DEF)
        return parley_error_set(err, PARLEY_ERR_LIMIT,
                                "cannot load connector '%s': larger than %d bytes", name,
                                PARLEY_CONNECT_MAX_DEF);
    memset(&ld, 0, sizeof(ld));
    ld.file = name;
    ld.doc = &doc;
    if (!yaml_parser_initialize(&parser)) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load connector '%s': out of memory",
                              name);
        goto out;
    }
    parser_ok = 1;
    yaml_parser_set_input_string(&parser,
                                 buf ? (const unsigned char *)buf : (const unsigned char *)"", len);
    if (!yaml_parser_load(&parser, &doc)) {
        if (parser.error == YAML_MEMORY_ERROR)
            rc = parley_error_set(err, PARLEY_ERR_NOMEM,
                                  "cannot load connector '%s': out of memory", name);
        else
            rc = parley_error_set(err, PARLEY_ERR_FORMAT, "%s:%lu:%lu: invalid YAML: %s", name,
                                  (unsigned long)parser.problem_mark.line + 1,
                                  (unsigned long)parser.problem_mark.column + 1,
                                  parser.problem ? parser.problem : "syntax error");
        goto out;
    }
    doc_ok = 1;
    d = parley__calloc(1, sizeof(*d));
    if (!d) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load connector '%s': out of memory",
                              name);
        goto out;
    }
    parse_root(&ld, yaml_document_get_root_node(&doc), d);
    if (ld.nomem) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load connector '%s': out of memory",
                              name);
        goto out;
    }
    if (ld.problems == 1) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT, "%s", ld.first);
        goto out;
    }
    if (ld.problems > 1) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT, "%s (and %u more problem%s)", ld.first,
                              ld.problems - 1, ld.problems == 2 ? "" : "s");
        goto out;
    }
    *out = d;
    d = NULL;
out:
    parley_connect_def_free(d);
    if (doc_ok)
        yaml_document_delete(&doc);
    if (parser_ok)
        yaml_parser_delete(&parser);
    return rc;
}

parley_err parley_connect_def_load(const char *path, parley_connect_def **out, parley_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    parley_err rc;
    if (!path || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load connector: bad argument");
    rc = parley__read_file(path, PARLEY_CONNECT_MAX_DEF, &buf, &len, err);
    if (rc != PARLEY_OK) {
        if (rc == PARLEY_ERR_LIMIT)
            (void)parley_error_set(err, rc, "cannot load connector '%s': larger than %d bytes",
                                   path, PARLEY_CONNECT_MAX_DEF);
        return rc;
    }
    rc = parley_connect_def_load_memory(path, buf, len, out, err);
    parley__free(buf);
    return rc;
}

const char *parley_connect_def_name(const parley_connect_def *def)
{
    return def ? def->name : NULL;
}

size_t parley_connect_def_op_count(const parley_connect_def *def)
{
    return def ? def->nops : 0;
}

const char *parley_connect_def_op_name(const parley_connect_def *def, size_t i)
{
    return def && i < def->nops ? def->ops[i].name : NULL;
}

const struct connect_op *parley__connect_find_op(const parley_connect_def *def, const char *name)
{
    for (size_t i = 0; i < def->nops; i++)
        if (def->ops[i].name && strcmp(def->ops[i].name, name) == 0)
            return &def->ops[i];
    return NULL;
}

const char *parley__connect_method_name(enum connect_method m)
{
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    return (unsigned)m < 5 ? names[m] : "GET";
}
