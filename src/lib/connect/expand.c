/* Fills an operation's path and body templates with call parameters.
 * Values are checked against their declared type first; in the path they
 * are percent-encoded (so "/" or "?" in a value cannot change the route),
 * in the body strings become escaped JSON strings and numbers, integers
 * and booleans are inserted only as valid JSON literals, so a value can
 * never inject JSON. */
#include <string.h>

#include "connect/internal.h"

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        unsigned long cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

/* JSON number grammar (RFC 8259), which strtod is laxer than. */
static int json_number(const char *s, int integer_only)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (integer_only)
        return *p == '\0' && p - s <= 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0' && p - s <= 64;
}

static parley_err add_json_string(struct parley_buf *b, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    parley_err rc = parley__buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p && rc == PARLEY_OK; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            rc = parley__buf_add(b, esc, 2);
        } else if (*p < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            rc = parley__buf_add(b, esc, 6);
        } else {
            rc = parley__buf_addc(b, (char)*p);
        }
    }
    if (rc == PARLEY_OK)
        rc = parley__buf_addc(b, '"');
    return rc;
}

static parley_err add_percent(struct parley_buf *b, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    parley_err rc = PARLEY_OK;
    for (const unsigned char *p = (const unsigned char *)v; *p && rc == PARLEY_OK; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            rc = parley__buf_addc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = parley__buf_add(b, esc, 3);
        }
    }
    return rc;
}

static const char *type_name(parley_connect_type t)
{
    switch (t) {
    case PARLEY_CONNECT_NUMBER:
        return "a number";
    case PARLEY_CONNECT_INTEGER:
        return "an integer";
    case PARLEY_CONNECT_BOOLEAN:
        return "true or false";
    default:
        return "text";
    }
}

/* Checks the call's parameters against the declaration; fills vals[i] with
 * the value of declared parameter i. */
static parley_err match_params(const struct connect_op *op, const parley_connect_param *params,
                               size_t nparams, const char **vals, parley_error *err)
{
    for (size_t i = 0; i < nparams; i++) {
        size_t k;
        const char *v = params[i].value;
        if (!params[i].name || !v)
            return parley_error_set(err, PARLEY_ERR_INVALID, "parameter %zu has no name or value",
                                    i + 1);
        for (k = 0; k < op->nparams; k++)
            if (strcmp(op->params[k].name, params[i].name) == 0)
                break;
        if (k == op->nparams)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "unknown parameter '%.64s' for operation '%s'", params[i].name,
                                    op->name);
        if (vals[k])
            return parley_error_set(err, PARLEY_ERR_INVALID, "parameter '%s' given twice",
                                    op->params[k].name);
        if (strlen(v) > CONNECT_MAX_PARAM_VALUE)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "parameter '%s' is longer than %d bytes", op->params[k].name,
                                    CONNECT_MAX_PARAM_VALUE);
        switch (op->params[k].type) {
        case PARLEY_CONNECT_NUMBER:
        case PARLEY_CONNECT_INTEGER:
            if (!json_number(v, op->params[k].type == PARLEY_CONNECT_INTEGER))
                goto bad_type;
            break;
        case PARLEY_CONNECT_BOOLEAN:
            if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
                goto bad_type;
            break;
        default:
            if (!valid_utf8((const unsigned char *)v, strlen(v)))
                return parley_error_set(err, PARLEY_ERR_INVALID,
                                        "parameter '%s' is not valid UTF-8", op->params[k].name);
            break;
        }
        vals[k] = v;
        continue;
    bad_type:
        return parley_error_set(err, PARLEY_ERR_INVALID, "parameter '%s' must be %s",
                                op->params[k].name, type_name(op->params[k].type));
    }
    for (size_t k = 0; k < op->nparams; k++)
        if (!vals[k])
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "missing parameter '%s' for operation '%s'", op->params[k].name,
                                    op->name);
    return PARLEY_OK;
}

static parley_err fill(const struct connect_op *op, const char *t, int body, const char **vals,
                       char **out, parley_error *err)
{
    struct parley_buf b = PARLEY_BUF_INIT(CONNECT_MAX_EXPANDED);
    struct connect_scan s = {t, 0, body, 0};
    size_t start, nlen, last = 0;
    parley_err rc = PARLEY_OK;
    int found = 0;

    while (rc == PARLEY_OK) {
        found = parley__connect_scan_next(&s, &start, &nlen);
        if (found != 1)
            break;
        size_t k;
        for (k = 0; k < op->nparams; k++)
            if (strlen(op->params[k].name) == nlen &&
                memcmp(op->params[k].name, t + start + 1, nlen) == 0)
                break;
        if (k == op->nparams) {
            rc = parley_error_set(err, PARLEY_ERR_INVALID, "undeclared placeholder '{%.*s}'",
                                  (int)nlen, t + start + 1);
            goto out;
        }
        rc = parley__buf_add(&b, t + last, start - last);
        if (rc != PARLEY_OK)
            break;
        if (!body) {
            if (vals[k][0] == '\0') {
                rc = parley_error_set(err, PARLEY_ERR_INVALID, "parameter '%s' is empty",
                                      op->params[k].name);
                goto out;
            }
            rc = add_percent(&b, vals[k]);
        } else if (op->params[k].type == PARLEY_CONNECT_STRING) {
            rc = add_json_string(&b, vals[k]);
        } else {
            rc = parley__buf_add(&b, vals[k], strlen(vals[k]));
        }
        last = s.pos;
    }
    if (rc == PARLEY_OK && found < 0) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID, "stray brace in the path template");
        goto out;
    }
    if (rc == PARLEY_OK)
        rc = parley__buf_add(&b, t + last, strlen(t + last));
    if (rc == PARLEY_OK) {
        *out = parley__buf_detach(&b, NULL);
        if (!*out)
            rc = PARLEY_ERR_NOMEM;
    }
    if (rc == PARLEY_ERR_LIMIT)
        rc = parley_error_set(err, rc, "the filled-in %s is longer than %d bytes",
                              body ? "body" : "path", CONNECT_MAX_EXPANDED);
    else if (rc == PARLEY_ERR_NOMEM)
        rc = parley_error_set(err, rc, "out of memory");
out:
    parley__buf_release(&b);
    return rc;
}

parley_err parley__connect_expand(const struct connect_op *op, const parley_connect_param *params,
                                  size_t nparams, char **path, char **body, parley_error *err)
{
    const char **vals = NULL;
    char *p = NULL, *bd = NULL;
    parley_err rc;

    if (nparams && !params)
        return parley_error_set(err, PARLEY_ERR_INVALID, "parameters missing");
    vals = parley__calloc(op->nparams ? op->nparams : 1, sizeof(*vals));
    if (!vals)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    rc = match_params(op, params, nparams, vals, err);
    if (rc != PARLEY_OK)
        goto out;
    rc = fill(op, op->path, 0, vals, &p, err);
    if (rc != PARLEY_OK)
        goto out;
    if (op->body) {
        rc = fill(op, op->body, 1, vals, &bd, err);
        if (rc != PARLEY_OK)
            goto out;
    }
    *path = p;
    *body = bd;
    p = bd = NULL;
out:
    parley__free(p);
    parley__free(bd);
    parley__free(vals);
    return rc;
}
