/* What a rule reads: values from the event and from facts fetched through
 * the connector, the conditions over them, and messages rendered from a
 * response template in the customer's language. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proactive/internal.h"

/* A number as a short literal: 2 not 2.0, 7.5 not 7.500000. */
static void number_text(double v, char *buf, size_t size)
{
    if (fabs(v) < 1e15 && v == (double)(long long)v)
        (void)snprintf(buf, size, "%lld", (long long)v);
    else
        (void)snprintf(buf, size, "%.2f", v);
    /* Trim a fraction's trailing zeros: 7.50 -> 7.5 */
    if (strchr(buf, '.')) {
        size_t n = strlen(buf);
        while (n > 1 && buf[n - 1] == '0')
            buf[--n] = '\0';
    }
}

static int json_text(const json_t *v, char *buf, size_t size)
{
    char *dump;
    switch (json_typeof(v)) {
    case JSON_STRING:
        (void)snprintf(buf, size, "%s", json_string_value(v));
        return 1;
    case JSON_INTEGER:
    case JSON_REAL:
        number_text(json_number_value(v), buf, size);
        return 1;
    case JSON_TRUE:
    case JSON_FALSE:
        (void)snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
        return 1;
    case JSON_ARRAY:
    case JSON_OBJECT:
        dump = json_dumps(v, JSON_COMPACT);
        (void)snprintf(buf, size, "%s", dump ? dump : "");
        free(dump);
        return dump != NULL;
    default:
        return 0;
    }
}

int pro_value(const struct pro_case *pc, const char *src, char *buf, size_t size,
              const json_t **json)
{
    const json_t *v = NULL;
    if (json)
        *json = NULL;
    if (strncmp(src, "event.", 6) == 0)
        v = json_object_get(pc->event, src + 6);
    else if (strncmp(src, "fact.", 5) == 0)
        v = json_object_get(pc->facts, src + 5);
    else {
        (void)snprintf(buf, size, "%s", src);
        return 1;
    }
    if (!v || json_is_null(v))
        return 0;
    if (json)
        *json = v;
    return json_text(v, buf, size);
}

/* A number from text, when all of it is one. */
static int as_number(const char *s, double *out)
{
    char *end;
    if (!*s)
        return 0;
    *out = strtod(s, &end);
    return *end == '\0';
}

int pro_cond_holds(const struct pro_case *pc, const parley_bot_rule_cond *c, char *why,
                   size_t why_size)
{
    char l[512], r[4096];
    const json_t *rj;
    double a, b;
    int cmp, holds;
    /* "X == null" asks whether X is absent (or null), "X != null" the reverse. */
    if (strcmp(c->right, "null") == 0 && (c->op == PARLEY_RULE_EQ || c->op == PARLEY_RULE_NE)) {
        holds = pro_value(pc, c->left, l, sizeof(l), NULL) == (c->op == PARLEY_RULE_NE);
        if (!holds)
            (void)snprintf(why, why_size, "%s %s null does not hold", c->left,
                           parley_bot_rule_op_name(c->op));
        return holds;
    }
    if (!pro_value(pc, c->left, l, sizeof(l), NULL) ||
        !pro_value(pc, c->right, r, sizeof(r), &rj)) {
        (void)snprintf(why, why_size, "%s %s %s: no value", c->left, parley_bot_rule_op_name(c->op),
                       c->right);
        return 0;
    }
    if (c->op == PARLEY_RULE_IN) {
        size_t i;
        json_t *item;
        holds = 0;
        if (json_is_array(rj))
            json_array_foreach(rj, i, item)
            {
                char t[512];
                if (json_text(item, t, sizeof(t)) && strcasecmp(t, l) == 0)
                    holds = 1;
            }
    } else {
        /* Numbers compare as numbers, anything else as text, ignoring
         * ASCII case (backends write "Active" or "active"). */
        if (as_number(l, &a) && as_number(r, &b))
            cmp = a < b ? -1 : a > b;
        else
            cmp = strcasecmp(l, r);
        switch (c->op) {
        case PARLEY_RULE_EQ:
            holds = cmp == 0;
            break;
        case PARLEY_RULE_NE:
            holds = cmp != 0;
            break;
        case PARLEY_RULE_LT:
            holds = cmp < 0;
            break;
        case PARLEY_RULE_LE:
            holds = cmp <= 0;
            break;
        case PARLEY_RULE_GT:
            holds = cmp > 0;
            break;
        default:
            holds = cmp >= 0;
            break;
        }
    }
    if (!holds)
        (void)snprintf(why, why_size, "%s %s %s does not hold", c->left,
                       parley_bot_rule_op_name(c->op), c->right);
    return holds;
}

int pro_add_facts(struct pro_case *pc, const parley_connect_result *r)
{
    for (size_t i = 0; i < parley_connect_result_fact_count(r); i++) {
        const parley_connect_fact *f = parley_connect_result_fact(r, i);
        json_t *v;
        if (!f->present)
            continue;
        v = json_loads(f->json, JSON_DECODE_ANY, NULL);
        if (!v || json_object_set_new(pc->facts, f->name, v) != 0)
            return 0;
    }
    return 1;
}

/* Appends `s` (`n` bytes) to the growing buffer. */
static int put(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *p = parley__realloc(*out, ncap);
        if (!p)
            return 0;
        *out = p;
        *cap = ncap;
    }
    memcpy(*out + *len, s, n);
    *len += n;
    (*out)[*len] = '\0';
    return 1;
}

char *pro_render(const struct pro_case *pc, const char *tmpl, const char *lang,
                 const double remaining[2])
{
    char *out = NULL, name[96], val[512];
    size_t len = 0, cap = 0;
    int comma = strcmp(lang, "en") != 0; /* fr, es, de write 1,5 */
    const char *s = tmpl;
    if (!put(&out, &len, &cap, "", 0))
        return NULL;
    while (*s) {
        const char *open = strchr(s, '{'), *close = open ? strchr(open, '}') : NULL;
        const json_t *v;
        size_t n;
        if (!open || !close) {
            if (!put(&out, &len, &cap, s, strlen(s)))
                goto fail;
            break;
        }
        if (!put(&out, &len, &cap, s, (size_t)(open - s)))
            goto fail;
        n = (size_t)(close - open - 1);
        (void)snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : 0), open + 1);
        if (strcmp(name, "remaining_gb") == 0 || strcmp(name, "remaining_amount") == 0) {
            double rv = remaining[name[10] == 'g' ? 0 : 1];
            number_text(rv < 0 ? 0 : rv, val, sizeof(val));
        } else if (!(v = json_object_get(pc->facts, name)) &&
                   !(v = json_object_get(pc->event, name))) {
            goto fail;
        } else if (!json_text(v, val, sizeof(val))) {
            goto fail;
        } else if (json_is_array(v)) {
            /* A list reads as "a, b, c". */
            size_t i;
            json_t *item;
            val[0] = '\0';
            json_array_foreach(v, i, item)
            {
                char t[128];
                if (json_text(item, t, sizeof(t)))
                    (void)snprintf(val + strlen(val), sizeof(val) - strlen(val), "%s%s",
                                   i ? ", " : "", t);
            }
        }
        if (comma && (strchr(val, '.') && as_number(val, &(double){0})))
            *strchr(val, '.') = ',';
        if (!put(&out, &len, &cap, val, strlen(val)))
            goto fail;
        s = close + 1;
    }
    return out;
fail:
    parley__free(out);
    return NULL;
}
