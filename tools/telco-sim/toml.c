/* telco-sim: a small TOML reader for what the tau2 seed files use, producing
 * a jansson object; errors name file:line. */
#include "telco.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *s;
    const char *end;
    int line;
    const char *name;
    char *err;
    size_t errlen;
    int failed;
};

__attribute__((format(printf, 2, 3))) static void fail(struct parser *p, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    int n = snprintf(p->err, p->errlen, "%s:%d: ", p->name, p->line);
    if (n < 0 || (size_t)n >= p->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static int at_end(const struct parser *p)
{
    return p->s >= p->end;
}

static void skip_ws(struct parser *p)
{
    while (!at_end(p) && (*p->s == ' ' || *p->s == '\t'))
        p->s++;
}

static void skip_comment(struct parser *p)
{
    if (!at_end(p) && *p->s == '#')
        while (!at_end(p) && *p->s != '\n')
            p->s++;
}

/* Whitespace, comments and newlines (inside arrays). */
static void skip_all(struct parser *p)
{
    for (;;) {
        skip_ws(p);
        skip_comment(p);
        if (at_end(p))
            return;
        if (*p->s == '\r' || *p->s == '\n') {
            if (*p->s == '\n')
                p->line++;
            p->s++;
            continue;
        }
        return;
    }
}

static int is_bare(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(char *buf, size_t *n, unsigned long cp)
{
    if (cp < 0x80) {
        buf[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xE0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[(*n)++] = (char)(0xF0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Parses a quoted string at p->s; returns a malloc'd string or NULL. */
static char *parse_string(struct parser *p)
{
    char q = *p->s++;
    size_t cap = (size_t)(p->end - p->s) + 1;
    char *buf = malloc(cap);
    size_t n = 0;
    if (!buf) {
        fail(p, "out of memory");
        return NULL;
    }
    while (!at_end(p) && *p->s != q) {
        char c = *p->s++;
        if (c == '\n') {
            fail(p, "unterminated string");
            free(buf);
            return NULL;
        }
        if (c == '\\' && q == '"') {
            if (at_end(p))
                break;
            char e = *p->s++;
            switch (e) {
            case 'n':
                buf[n++] = '\n';
                break;
            case 't':
                buf[n++] = '\t';
                break;
            case 'r':
                buf[n++] = '\r';
                break;
            case 'b':
                buf[n++] = '\b';
                break;
            case 'f':
                buf[n++] = '\f';
                break;
            case '"':
                buf[n++] = '"';
                break;
            case '\\':
                buf[n++] = '\\';
                break;
            case 'u':
            case 'U': {
                int digits = e == 'u' ? 4 : 8;
                unsigned long cp = 0;
                for (int i = 0; i < digits; i++) {
                    int h = at_end(p) ? -1 : hexval(*p->s);
                    if (h < 0) {
                        fail(p, "bad \\%c escape in string", e);
                        free(buf);
                        return NULL;
                    }
                    cp = cp * 16 + (unsigned long)h;
                    p->s++;
                }
                if (cp > 0x10FFFF || cp == 0) {
                    fail(p, "bad unicode escape in string");
                    free(buf);
                    return NULL;
                }
                put_utf8(buf, &n, cp);
                break;
            }
            default:
                fail(p, "unknown escape '\\%c' in string", e);
                free(buf);
                return NULL;
            }
            continue;
        }
        buf[n++] = c;
    }
    if (at_end(p)) {
        fail(p, "unterminated string");
        free(buf);
        return NULL;
    }
    p->s++;
    buf[n] = '\0';
    return buf;
}

/* A key: bare or quoted. Returns malloc'd string or NULL. */
static char *parse_key(struct parser *p)
{
    skip_ws(p);
    if (at_end(p)) {
        fail(p, "expected a key");
        return NULL;
    }
    if (*p->s == '"' || *p->s == '\'')
        return parse_string(p);
    const char *start = p->s;
    while (!at_end(p) && is_bare(*p->s))
        p->s++;
    if (p->s == start) {
        fail(p, "expected a key, found '%c'", *p->s);
        return NULL;
    }
    size_t len = (size_t)(p->s - start);
    char *k = malloc(len + 1);
    if (!k) {
        fail(p, "out of memory");
        return NULL;
    }
    memcpy(k, start, len);
    k[len] = '\0';
    return k;
}

static json_t *parse_value(struct parser *p, int depth);

static json_t *parse_number(struct parser *p)
{
    char buf[64];
    size_t n = 0;
    int real = 0;
    const char *start = p->s;
    while (!at_end(p) && (isalnum((unsigned char)*p->s) || strchr("+-._", *p->s))) {
        char c = *p->s++;
        if (c == '_')
            continue;
        if (c == '.' || c == 'e' || c == 'E')
            real = 1;
        if (n + 1 >= sizeof(buf)) {
            fail(p, "number too long");
            return NULL;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    if (n == 0) {
        fail(p, "expected a value, found '%c'", at_end(p) ? '?' : *start);
        return NULL;
    }
    char *endp = NULL;
    errno = 0;
    if (real) {
        double d = strtod(buf, &endp);
        if (*endp || errno) {
            fail(p, "bad number '%s'", buf);
            return NULL;
        }
        return json_real(d);
    }
    long long v = strtoll(buf, &endp, 10);
    if (*endp || errno) {
        fail(p, "bad value '%s' (dates and other bare words are not supported)", buf);
        return NULL;
    }
    return json_integer(v);
}

static json_t *parse_array(struct parser *p, int depth)
{
    json_t *arr = json_array();
    p->s++; /* [ */
    for (;;) {
        skip_all(p);
        if (at_end(p)) {
            fail(p, "unterminated array");
            break;
        }
        if (*p->s == ']') {
            p->s++;
            return arr;
        }
        json_t *v = parse_value(p, depth + 1);
        if (!v)
            break;
        json_array_append_new(arr, v);
        skip_all(p);
        if (!at_end(p) && *p->s == ',') {
            p->s++;
            continue;
        }
        if (!at_end(p) && *p->s == ']')
            continue;
        fail(p, "expected ',' or ']' in array");
        break;
    }
    json_decref(arr);
    return NULL;
}

static json_t *parse_inline_table(struct parser *p, int depth)
{
    json_t *obj = json_object();
    p->s++; /* { */
    skip_ws(p);
    if (!at_end(p) && *p->s == '}') {
        p->s++;
        return obj;
    }
    for (;;) {
        char *k = parse_key(p);
        if (!k)
            break;
        skip_ws(p);
        if (at_end(p) || *p->s != '=') {
            fail(p, "expected '=' after key '%s'", k);
            free(k);
            break;
        }
        p->s++;
        skip_ws(p);
        json_t *v = parse_value(p, depth + 1);
        if (!v) {
            free(k);
            break;
        }
        if (json_object_get(obj, k)) {
            fail(p, "duplicate key '%s'", k);
            free(k);
            json_decref(v);
            break;
        }
        json_object_set_new(obj, k, v);
        free(k);
        skip_ws(p);
        if (!at_end(p) && *p->s == ',') {
            p->s++;
            continue;
        }
        if (!at_end(p) && *p->s == '}') {
            p->s++;
            return obj;
        }
        fail(p, "expected ',' or '}' in inline table");
        break;
    }
    json_decref(obj);
    return NULL;
}

static json_t *parse_value(struct parser *p, int depth)
{
    if (depth > 32) {
        fail(p, "values nested too deeply");
        return NULL;
    }
    if (at_end(p) || *p->s == '\n' || *p->s == '#') {
        fail(p, "missing value");
        return NULL;
    }
    char c = *p->s;
    if (c == '"' || c == '\'') {
        if (p->end - p->s >= 3 && p->s[1] == c && p->s[2] == c) {
            fail(p, "multi-line strings are not supported");
            return NULL;
        }
        char *s = parse_string(p);
        if (!s)
            return NULL;
        json_t *v = json_string(s);
        free(s);
        if (!v)
            fail(p, "string is not valid UTF-8");
        return v;
    }
    if (c == '[')
        return parse_array(p, depth);
    if (c == '{')
        return parse_inline_table(p, depth);
    if (p->end - p->s >= 4 && memcmp(p->s, "true", 4) == 0 && !is_bare(p->s[4])) {
        p->s += 4;
        return json_true();
    }
    if (p->end - p->s >= 5 && memcmp(p->s, "false", 5) == 0 && !is_bare(p->s[5])) {
        p->s += 5;
        return json_false();
    }
    return parse_number(p);
}

/* Expects only whitespace or a comment until the end of the line. */
static void expect_eol(struct parser *p)
{
    skip_ws(p);
    skip_comment(p);
    if (at_end(p))
        return;
    if (*p->s == '\r')
        p->s++;
    if (at_end(p) || *p->s == '\n')
        return;
    fail(p, "unexpected '%c' after value", *p->s);
}

/* [a.b.c] or [[a.b.c]]: walks from root; arrays resolve to their last table. */
static json_t *parse_header(struct parser *p, json_t *root)
{
    int aot = p->end - p->s >= 2 && p->s[1] == '[';
    p->s += aot ? 2 : 1;
    json_t *t = root;
    for (;;) {
        char *k = parse_key(p);
        if (!k)
            return NULL;
        skip_ws(p);
        int last = at_end(p) || *p->s != '.';
        json_t *v = json_object_get(t, k);
        if (!last) {
            p->s++;
            if (!v) {
                v = json_object();
                json_object_set_new(t, k, v);
            }
            if (json_is_array(v))
                v = json_array_get(v, json_array_size(v) - 1);
            if (!json_is_object(v)) {
                fail(p, "key '%s' is not a table", k);
                free(k);
                return NULL;
            }
            t = v;
            free(k);
            continue;
        }
        if (aot) {
            if (!v) {
                v = json_array();
                json_object_set_new(t, k, v);
            }
            if (!json_is_array(v)) {
                fail(p, "key '%s' is not an array of tables", k);
                free(k);
                return NULL;
            }
            json_t *n = json_object();
            json_array_append_new(v, n);
            t = n;
        } else {
            if (!v) {
                v = json_object();
                json_object_set_new(t, k, v);
            }
            if (!json_is_object(v)) {
                fail(p, "key '%s' is already defined as a value", k);
                free(k);
                return NULL;
            }
            t = v;
        }
        free(k);
        break;
    }
    if (p->end - p->s < (aot ? 2 : 1) || p->s[0] != ']' || (aot && p->s[1] != ']')) {
        fail(p, "expected '%s' to close the table header", aot ? "]]" : "]");
        return NULL;
    }
    p->s += aot ? 2 : 1;
    expect_eol(p);
    return p->failed ? NULL : t;
}

json_t *telco_toml_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    struct parser p = {text, text + len, 1, name, err, errlen, 0};
    json_t *root = json_object();
    json_t *cur = root;
    while (!p.failed) {
        skip_all(&p);
        if (at_end(&p))
            break;
        if (*p.s == '[') {
            cur = parse_header(&p, root);
            continue;
        }
        char *k = parse_key(&p);
        if (!k)
            break;
        skip_ws(&p);
        if (at_end(&p) || *p.s != '=') {
            fail(&p, "expected '=' after key '%s'", k);
            free(k);
            break;
        }
        p.s++;
        skip_ws(&p);
        json_t *v = parse_value(&p, 0);
        if (v && json_object_get(cur, k)) {
            fail(&p, "duplicate key '%s'", k);
            json_decref(v);
            v = NULL;
        }
        if (v)
            json_object_set_new(cur, k, v);
        free(k);
        if (v)
            expect_eol(&p);
    }
    if (p.failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}

json_t *telco_toml_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        (void)snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap > (64u << 20)) {
                (void)snprintf(err, errlen, "%s: file too large", path);
                free(buf);
                (void)fclose(f);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    (void)fclose(f);
    if (!buf) {
        (void)snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    json_t *root = telco_toml_parse(buf, n, path, err, errlen);
    free(buf);
    return root;
}
