/* Validation for connector definitions: base URLs, path and body templates
 * against declared parameters, fact paths, types and fact declarations. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "connect/internal.h"

/* ---- URL and templates ---------------------------------------------- */

int parley__connect_check_base_url(const char *u)
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

void parley__connect_free_segs(struct connect_seg *segs, size_t n)
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

int parley__connect_parse_type(const char *s, int for_param, parley_connect_type *out)
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

void parley__connect_parse_fact(struct loader *ld, yaml_node_t *n, struct connect_op *op)
{
    static const char *const keys[] = {"name", "path", "type", "required", "sensitivity", NULL};
    struct connect_field *f = &op->fields[op->nfields];
    unsigned seen = 0;
    int have_type = 0, have_sens = 0;

    if (!parley__connect_is_mapping(ld, n, "a fact"))
        return;
    op->nfields++;
    f->required = 1;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__connect_node_at(ld, p->key),
                    *v = parley__connect_node_at(ld, p->value);
        const char *s, *why = NULL;
        int rc;
        switch (parley__connect_key_index(ld, k, keys, "a fact", &seen)) {
        case 0:
            if ((s = parley__connect_scalar(ld, v, "'name'")) == NULL)
                break;
            if (!parley__connect_valid_ident(s, CONNECT_MAX_NAME)) {
                parley__connect_problem(
                    ld, v, "bad fact name '%.64s' (expected letters, digits, '_' or '-')", s);
                break;
            }
            for (size_t i = 0; i + 1 < op->nfields; i++)
                if (op->fields[i].name && strcmp(op->fields[i].name, s) == 0)
                    parley__connect_problem(ld, v, "duplicate fact '%s' in operation '%s'", s,
                                            op->name);
            f->name = parley__connect_dup_or_flag(ld, s);
            break;
        case 1:
            if ((s = parley__connect_scalar(ld, v, "'path'")) == NULL)
                break;
            f->path = parley__connect_dup_or_flag(ld, s);
            rc = parse_path(s, f, &why);
            if (rc < 0)
                ld->nomem = 1;
            else if (rc == 0)
                parley__connect_problem(
                    ld, v,
                    "bad JSON path '%.64s': %s (expected e.g. 'line.data_used_gb' or "
                    "'plans[].name')",
                    s, why);
            break;
        case 2:
            if ((s = parley__connect_scalar(ld, v, "'type'")) == NULL)
                break;
            if (!parley__connect_parse_type(s, 0, &f->type))
                parley__connect_problem(
                    ld, v,
                    "bad type '%.32s' (expected string, number, boolean, array or "
                    "object)",
                    s);
            have_type = 1;
            break;
        case 3:
            (void)parley__connect_parse_bool(ld, v, "required", &f->required);
            break;
        case 4:
            have_sens = 1;
            if ((s = parley__connect_scalar(ld, v, "'sensitivity'")) == NULL)
                break;
            if (strcmp(s, "public") == 0)
                f->sensitivity = PARLEY_CONNECT_PUBLIC;
            else if (strcmp(s, "account") == 0)
                f->sensitivity = PARLEY_CONNECT_ACCOUNT;
            else if (strcmp(s, "sensitive") == 0)
                f->sensitivity = PARLEY_CONNECT_SENSITIVE;
            else
                parley__connect_problem(
                    ld, v, "bad sensitivity '%.32s' (expected public, account or sensitive)", s);
            break;
        default:
            break;
        }
    }
    if (!(seen & 1))
        parley__connect_problem(ld, n, "missing 'name' in a fact of operation '%s'", op->name);
    if (!(seen & 2))
        parley__connect_problem(ld, n, "missing 'path' in a fact of operation '%s'", op->name);
    if (!have_type)
        parley__connect_problem(ld, n, "missing 'type' in a fact of operation '%s'", op->name);
    if (!have_sens)
        parley__connect_problem(
            ld, n,
            "missing 'sensitivity' in a fact of operation '%s' (expected public, "
            "account or sensitive)",
            op->name);
}

const struct connect_param_def *parley__connect_find_param(const struct connect_op *op,
                                                           const char *name, size_t len)
{
    for (size_t i = 0; i < op->nparams; i++)
        if (op->params[i].name && strlen(op->params[i].name) == len &&
            memcmp(op->params[i].name, name, len) == 0)
            return &op->params[i];
    return NULL;
}

/* Checks the path and body templates against the declared parameters. */
void parley__connect_check_templates(struct loader *ld, struct connect_op *op,
                                     const yaml_node_t *path_node, const yaml_node_t *body_node)
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
            const struct connect_param_def *pd =
                parley__connect_find_param(op, t + start + 1, nlen);
            if (!pd)
                parley__connect_problem(
                    ld, tn, "placeholder '{%.*s}' in the %s is not a declared parameter", (int)nlen,
                    t + start + 1, body ? "body" : "path");
            else
                used[pd - op->params] = 1;
        }
        if (rc < 0)
            parley__connect_problem(
                ld, tn, "stray '{' or '}' in the path (expected placeholders like {line_id})");
    }
    for (size_t i = 0; i < op->nparams; i++)
        if (!used[i] && op->params[i].name)
            parley__connect_problem(
                ld, path_node, "parameter '%s' of operation '%s' is not used in its path or body",
                op->params[i].name, op->name);
    parley__free(used);
}

/* Fills the body with sample values and checks it is JSON. */
void parley__connect_check_body_json(struct loader *ld, const struct connect_op *op,
                                     const yaml_node_t *bn)
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
            parley__connect_problem(
                ld, bn, "the body of operation '%s' is not valid JSON once filled in: %s", op->name,
                je.text);
        else if (!json_is_object(j) && !json_is_array(j))
            parley__connect_problem(
                ld, bn, "the body of operation '%s' must be a JSON object or array", op->name);
        json_decref(j);
    } else if (e.code == PARLEY_ERR_NOMEM) {
        ld->nomem = 1;
    } else {
        parley__connect_problem(ld, bn, "the body of operation '%s' cannot be filled in: %s",
                                op->name, e.msg);
    }
    parley__free(path);
    parley__free(body);
    parley__free(ps);
}
