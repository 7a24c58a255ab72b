/* Personal data in JSON lines (conversation exports, training data): the
 * string values at chosen dot paths of one JSON object are scanned and
 * replaced, everything else is written back as it was (compact, members
 * in their order), so a file can be cleaned line by line. */
#include <jansson.h>
#include <string.h>

#include "pii/internal.h"

/* The state of one call, shared down the walk. */
struct walk {
    const parley_pii *p;
    parley_pii_scratch *s;
    const parley_pii_policy *pol;
    parley_pii_json_fn fn;
    void *userdata;
    struct parley_buf where; /* the path walked so far, "turns.0.text" */
    parley_error *err;
};

/* Replaces the personal values of the string `node` in place. */
static parley_err redact_string(struct walk *w, json_t *node)
{
    const parley_pii_finding *f = NULL;
    size_t n = 0, out_len = 0;
    char *out = NULL;
    parley_err rc;

    rc = parley_pii_detect(w->p, w->s, json_string_value(node), json_string_length(node), NULL, 0,
                           &f, &n, w->err);
    if (rc != PARLEY_OK)
        return parley_error_prefix(w->err, "field '%s'", w->where.data ? w->where.data : "");
    if (w->fn)
        w->fn(w->where.data ? w->where.data : "", f, n, w->userdata);
    if (n == 0)
        return PARLEY_OK;
    rc = parley_pii_apply(w->pol, json_string_value(node), json_string_length(node), f, n, &out,
                          &out_len, w->err);
    if (rc != PARLEY_OK)
        return rc;
    /* The replacement is valid UTF-8: the text was, and so are the labels. */
    if (json_string_setn_nocheck(node, out, out_len) != 0)
        rc = parley_error_set(w->err, PARLEY_ERR_NOMEM, "out of memory");
    explicit_bzero(out, out_len);
    parley_pii_free(out);
    return rc;
}

static parley_err walk(struct walk *w, json_t *node, const char *path);

/* Goes down into `child`, named `name` (`len` bytes), for the rest of the path. */
static parley_err descend(struct walk *w, json_t *child, const char *name, size_t len,
                          const char *rest)
{
    size_t mark = w->where.len;
    parley_err rc;
    if ((mark && parley__buf_addc(&w->where, '.') != PARLEY_OK) ||
        parley__buf_add(&w->where, name, len) != PARLEY_OK)
        return parley_error_set(w->err, PARLEY_ERR_NOMEM, "out of memory");
    rc = walk(w, child, rest);
    w->where.len = mark;
    if (w->where.data)
        w->where.data[mark] = '\0';
    return rc;
}

static parley_err walk(struct walk *w, json_t *node, const char *path)
{
    char num[24];
    parley_err rc = PARLEY_OK;

    if (!*path)
        return json_is_string(node) ? redact_string(w, node) : PARLEY_OK;
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    const char *rest = dot ? dot + 1 : path + len;

    if (len == 1 && path[0] == '*') {
        if (json_is_array(node)) {
            for (size_t i = 0; i < json_array_size(node) && rc == PARLEY_OK; i++) {
                int k = snprintf(num, sizeof(num), "%zu", i);
                rc = descend(w, json_array_get(node, i), num, (size_t)k, rest);
            }
        } else if (json_is_object(node)) {
            const char *key;
            json_t *v;
            json_object_foreach(node, key, v)
            {
                if ((rc = descend(w, v, key, strlen(key), rest)) != PARLEY_OK)
                    break;
            }
        }
        return rc;
    }
    if (json_is_object(node)) {
        json_t *child = json_object_getn(node, path, len);
        return child ? descend(w, child, path, len, rest) : PARLEY_OK;
    }
    if (json_is_array(node) && len > 0 && len < 10 && strspn(path, "0123456789") >= len) {
        size_t i = 0;
        for (size_t j = 0; j < len; j++)
            i = i * 10 + (size_t)(path[j] - '0');
        json_t *child = json_array_get(node, i);
        return child ? descend(w, child, path, len, rest) : PARLEY_OK;
    }
    return PARLEY_OK;
}

parley_err parley_pii_redact_json(const parley_pii *p, parley_pii_scratch *s,
                                  const parley_pii_policy *pol, const char *line, size_t len,
                                  const char *const *fields, size_t n_fields, parley_pii_json_fn fn,
                                  void *userdata, char **out, size_t *out_len, parley_error *err)
{
    struct walk w = {p, s, pol, fn, userdata, PARLEY_BUF_INIT(0), err};
    json_error_t jerr;
    json_t *root = NULL;
    char *text = NULL;
    parley_err rc = PARLEY_OK;

    if (!p || !s || !pol || (!line && len) || (!fields && n_fields) || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "pii redact json: missing argument");
    for (size_t i = 0; i < n_fields; i++) {
        const char *f = fields[i];
        if (!f || !*f || f[0] == '.' || f[strlen(f) - 1] == '.' || strstr(f, ".."))
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "field path '%s' has an empty step (write a.b.c, * for every "
                                    "element)",
                                    f ? f : "");
    }
    if (!(root = json_loadb(line ? line : "", len, 0, &jerr))) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT, "column %d: %s", jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT, "column 1: not a JSON object");
        goto out;
    }
    for (size_t i = 0; i < n_fields && rc == PARLEY_OK; i++) {
        parley__buf_reset(&w.where);
        rc = walk(&w, root, fields[i]);
    }
    if (rc != PARLEY_OK)
        goto out;
    if (!(text = json_dumps(root, JSON_COMPACT))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory writing JSON");
        goto out;
    }
    size_t n = strlen(text);
    char *copy = parley__strndup(text, n);
    explicit_bzero(text, n);
    free(text);
    if (!copy) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory writing JSON");
        goto out;
    }
    *out = copy;
    if (out_len)
        *out_len = n;
out:
    parley__buf_release(&w.where);
    json_decref(root);
    return rc;
}
