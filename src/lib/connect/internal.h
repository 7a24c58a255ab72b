/* Private declarations of the connect module: the in-memory form of a
 * connector definition, template expansion and response validation, and
 * the definition loader's state and helpers shared by the def*.c files. */
#ifndef PARLEY_CONNECT_INTERNAL_H
#define PARLEY_CONNECT_INTERNAL_H

#include <stddef.h>

#include <yaml.h>

#include "common/internal.h"
#include "parley/connect.h"

enum connect_method {
    CONNECT_GET = 0,
    CONNECT_POST,
    CONNECT_PUT,
    CONNECT_PATCH,
    CONNECT_DELETE,
};

enum connect_auth {
    CONNECT_AUTH_NONE = 0,
    CONNECT_AUTH_BEARER,
};

/* Caps that keep definitions and responses bounded. */
#define CONNECT_MAX_NAME             64
#define CONNECT_MAX_TEMPLATE         4096
#define CONNECT_MAX_EXPANDED         (64 * 1024)
#define CONNECT_MAX_PARAM_VALUE      4096
#define CONNECT_DEFAULT_MAX_RESPONSE (1024 * 1024)
#define CONNECT_MAX_TOKEN            8192

/* One step of a JSON path: an object key (NULL at the root when the step
 * is only an index), then optionally "[]" (every element) or "[N]". */
struct connect_seg {
    char *key;
    int each;
    long index; /* -1: none */
};

struct connect_field {
    char *name;
    char *path;
    struct connect_seg *segs;
    size_t nsegs;
    int has_each;
    parley_connect_type type;
    int required;
    parley_connect_sensitivity sensitivity;
};

struct connect_param_def {
    char *name;
    parley_connect_type type; /* STRING, NUMBER, INTEGER or BOOLEAN */
};

struct connect_op {
    char *name;
    enum connect_method method;
    char *path; /* template, starts with '/' */
    char *body; /* JSON template or NULL */
    int write;
    struct connect_param_def *params;
    size_t nparams;
    struct connect_field *fields;
    size_t nfields;
};

struct parley_connect_def {
    char *name;
    char *base_url; /* no trailing '/' */
    enum connect_auth auth;
    char *token_env;
    char *token_file;
    long connect_timeout_ms;
    long total_timeout_ms;
    unsigned max_attempts;
    long base_delay_ms;
    long max_delay_ms;
    unsigned breaker_failures;
    long breaker_cooldown_ms;
    size_t max_response;
    struct connect_op *ops;
    size_t nops;
};

struct connect_fact_store {
    parley_connect_fact pub;
    char *name;
    char *json;
    char *text;
};

struct parley_connect_result {
    parley_connect_code code;
    char *message;
    long http_status;
    unsigned attempts;
    double latency_ms;
    char *backend_code;
    char *backend_message;
    char idem_key[33];
    int has_key;
    struct connect_fact_store *facts;
    size_t nfacts;
};

/* Walks the {name} placeholders of a template. In a body (body = 1)
 * placeholders are only recognized outside JSON string literals and other
 * braces are JSON's; in a path any other brace is an error. */
struct connect_scan {
    const char *t;
    size_t pos;
    int body;
    int in_str;
};
/* 1: a placeholder starts at t[*start] ('{'), its name is the *nlen bytes
 * after it; 0: no more; -1: stray brace in a path. */
int parley__connect_scan_next(struct connect_scan *s, size_t *start, size_t *nlen);

const char *parley__connect_method_name(enum connect_method m);
const struct connect_op *parley__connect_find_op(const parley_connect_def *def, const char *name);

/* Expands `op`'s path (values percent-encoded) and body (string values as
 * escaped JSON strings, others as checked literals) with `params`. A
 * missing, unknown, duplicate or mistyped parameter fails with
 * PARLEY_ERR_INVALID; caller frees *path and *body (NULL without a body)
 * with parley__free. */
parley_err parley__connect_expand(const struct connect_op *op, const parley_connect_param *params,
                                  size_t nparams, char **path, char **body, parley_error *err);

/* A fresh result (code OK, no facts), or NULL when out of memory. */
parley_connect_result *parley__connect_result_new(void);

/* Sets r's code and message (formatted); returns the code. On OOM the
 * message stays empty. */
parley_connect_code parley__connect_result_fail(parley_connect_result *r, parley_connect_code code,
                                                const char *fmt, ...) PARLEY_PRINTF(3, 4);

/* Interprets a response to `op`: a 2xx body is parsed as JSON and its
 * declared fields become r's facts (MALFORMED when it is not JSON, a
 * required field is missing or a field has the wrong type); a 4xx or 5xx
 * body's {"error":{"code","message"}} is kept (REJECTED for 4xx other
 * than 408/429, UNAVAILABLE otherwise). Never reads past `len`; `body`
 * need not be NUL-terminated. Sets r->code and returns it; NOMEM only
 * when memory ran out (then r holds a message-less MALFORMED). */
parley_err parley__connect_parse_response(const struct connect_op *op, long status,
                                          const void *body, size_t len, parley_connect_result *r);

/* ---- the definition loader (def.c, def_yaml.c, def_check.c, def_parse.c) */

struct loader {
    const char *file;
    yaml_document_t *doc;
    char first[400];
    unsigned problems;
    int nomem;
};

#define FOR_PAIRS(node, p)                                                                         \
    for (yaml_node_pair_t *p = (node)->data.mapping.pairs.start;                                   \
         p < (node)->data.mapping.pairs.top; p++)

/* Counts a problem at node `n`; keeps the first as FILE:LINE:COLUMN: what. */
void parley__connect_problem(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
    PARLEY_PRINTF(3, 4);
char *parley__connect_dup_or_flag(struct loader *ld, const char *s);
yaml_node_t *parley__connect_node_at(struct loader *ld, int id);
/* The scalar text of `n`, or NULL after reporting that `what` must be one. */
const char *parley__connect_scalar(struct loader *ld, const yaml_node_t *n, const char *what);
int parley__connect_is_mapping(struct loader *ld, const yaml_node_t *n, const char *what);
int parley__connect_parse_long(struct loader *ld, const yaml_node_t *n, const char *key, long min,
                               long max, long *out);
int parley__connect_parse_bool(struct loader *ld, const yaml_node_t *n, const char *key, int *out);
int parley__connect_valid_ident(const char *s, size_t max);
/* Looks `key` up in `keys` (NULL-terminated); reports an unknown key with
 * the expected ones, or a duplicate (tracked in *seen). -1 when bad. */
int parley__connect_key_index(struct loader *ld, const yaml_node_t *kn, const char *const *keys,
                              const char *where, unsigned *seen);
int parley__connect_check_base_url(const char *u);
void parley__connect_free_segs(struct connect_seg *segs, size_t n);
int parley__connect_parse_type(const char *s, int for_param, parley_connect_type *out);
void parley__connect_parse_fact(struct loader *ld, yaml_node_t *n, struct connect_op *op);
const struct connect_param_def *parley__connect_find_param(const struct connect_op *op,
                                                           const char *name, size_t len);
/* Checks the path and body templates against the declared parameters. */
void parley__connect_check_templates(struct loader *ld, struct connect_op *op,
                                     const yaml_node_t *path_node, const yaml_node_t *body_node);
/* Fills the body with sample values and checks it is JSON. */
void parley__connect_check_body_json(struct loader *ld, const struct connect_op *op,
                                     const yaml_node_t *bn);
void parley__connect_parse_root(struct loader *ld, yaml_node_t *root, parley_connect_def *d);

#endif
