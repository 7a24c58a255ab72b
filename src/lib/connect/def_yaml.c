/* YAML helpers for the connector definition loader: problem reporting
 * with FILE:LINE:COLUMN, scalars, integers, booleans, names and keys. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "connect/internal.h"

void parley__connect_problem(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
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

char *parley__connect_dup_or_flag(struct loader *ld, const char *s)
{
    char *p = parley__strdup(s);
    if (!p)
        ld->nomem = 1;
    return p;
}

yaml_node_t *parley__connect_node_at(struct loader *ld, int id)
{
    return yaml_document_get_node(ld->doc, id);
}

/* The scalar text of `n`, or NULL after reporting that `what` must be one. */
const char *parley__connect_scalar(struct loader *ld, const yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_SCALAR_NODE) {
        parley__connect_problem(ld, n, "%s must be a single value", what);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

int parley__connect_is_mapping(struct loader *ld, const yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_MAPPING_NODE) {
        parley__connect_problem(ld, n, "%s must be a mapping of keys to values", what);
        return 0;
    }
    return 1;
}

int parley__connect_parse_long(struct loader *ld, const yaml_node_t *n, const char *key, long min,
                               long max, long *out)
{
    const char *s = parley__connect_scalar(ld, n, key);
    char *end;
    long v;
    if (!s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        parley__connect_problem(ld, n, "'%s' must be an integer from %ld to %ld", key, min, max);
        return 0;
    }
    *out = v;
    return 1;
}

int parley__connect_parse_bool(struct loader *ld, const yaml_node_t *n, const char *key, int *out)
{
    const char *s = parley__connect_scalar(ld, n, key);
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
    parley__connect_problem(ld, n, "'%s' must be true or false", key);
    return 0;
}

int parley__connect_valid_ident(const char *s, size_t max)
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
int parley__connect_key_index(struct loader *ld, const yaml_node_t *kn, const char *const *keys,
                              const char *where, unsigned *seen)
{
    const char *k = parley__connect_scalar(ld, kn, "a key");
    char expected[256] = "";
    size_t used = 0;
    if (!k)
        return -1;
    for (int i = 0; keys[i]; i++) {
        if (strcmp(k, keys[i]) == 0) {
            if (*seen & (1U << i)) {
                parley__connect_problem(ld, kn, "duplicate key '%s' in %s", k, where);
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
    parley__connect_problem(ld, kn, "unknown key '%s' in %s (expected one of: %s)", k, where,
                            expected);
    return -1;
}
