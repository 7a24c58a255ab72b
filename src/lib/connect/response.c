/* Turns a backend's answer into a call result: parses the body with
 * jansson, walks each declared JSON path, checks presence and type, and
 * keeps the values as facts; for error statuses it keeps the backend's
 * {"error":{"code","message"}}. Works on a byte buffer, so it is fuzzed
 * without a network. Messages never quote the body: it may hold personal
 * data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "connect/internal.h"

#define MAX_BACKEND_CODE    128
#define MAX_BACKEND_MESSAGE 1024

parley_connect_result *parley__connect_result_new(void)
{
    parley_connect_result *r = parley__calloc(1, sizeof(*r));
    return r;
}

parley_connect_code parley__connect_result_fail(parley_connect_result *r, parley_connect_code code,
                                                const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    parley__free(r->message);
    r->message = parley__strdup(buf);
    r->code = code;
    return code;
}

static void free_facts(parley_connect_result *r)
{
    for (size_t i = 0; i < r->nfacts; i++) {
        parley__free(r->facts[i].name);
        if (r->facts[i].json)
            parley__free_secure(r->facts[i].json, strlen(r->facts[i].json));
        if (r->facts[i].text)
            parley__free_secure(r->facts[i].text, strlen(r->facts[i].text));
    }
    parley__free(r->facts);
    r->facts = NULL;
    r->nfacts = 0;
}

void parley_connect_result_free(parley_connect_result *r)
{
    if (!r)
        return;
    free_facts(r);
    parley__free(r->message);
    parley__free(r->backend_code);
    if (r->backend_message)
        parley__free_secure(r->backend_message, strlen(r->backend_message));
    parley__free(r);
}

/* A jansson-allocated dump copied into our allocator. */
static char *dump(const json_t *v, int text)
{
    json_free_t jfree;
    char *s, *copy;
    if (text && json_is_string(v))
        return parley__strndup(json_string_value(v), json_string_length(v));
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!s)
        return NULL;
    copy = parley__strdup(s);
    json_get_alloc_funcs(NULL, &jfree);
    jfree(s);
    return copy;
}

static const char *fact_type_name(parley_connect_type t)
{
    static const char *const names[] = {"a string", "a number", "a boolean", "an array",
                                        "an object"};
    return (unsigned)t < 5 ? names[t] : "a value";
}

static int type_ok(const json_t *v, parley_connect_type t)
{
    switch (t) {
    case PARLEY_CONNECT_STRING:
        return json_is_string(v);
    case PARLEY_CONNECT_NUMBER:
        return json_is_number(v);
    case PARLEY_CONNECT_BOOLEAN:
        return json_is_boolean(v);
    case PARLEY_CONNECT_ARRAY:
        return json_is_array(v);
    case PARLEY_CONNECT_OBJECT:
        return json_is_object(v);
    default:
        return 0;
    }
}

enum walk { WALK_FOUND, WALK_MISSING, WALK_SHAPE };

/* Follows segs[from..n) from v, stopping before a "[]" step's brackets
 * when stop_at_each is set. Sets *out (borrowed) and *bad (the step whose
 * container had the wrong type). */
static enum walk walk(json_t *v, const struct connect_seg *segs, size_t from, size_t n,
                      int stop_at_each, json_t **out, size_t *bad)
{
    for (size_t i = from; i < n; i++) {
        const struct connect_seg *s = &segs[i];
        if (s->key) {
            if (!json_is_object(v)) {
                *bad = i;
                return WALK_SHAPE;
            }
            v = json_object_get(v, s->key);
            if (!v)
                return WALK_MISSING;
        }
        if (s->each && stop_at_each) {
            *out = v;
            *bad = i;
            return WALK_FOUND;
        }
        if (s->index >= 0) {
            if (!json_is_array(v)) {
                *bad = i;
                return WALK_SHAPE;
            }
            v = json_array_get(v, (size_t)s->index);
            if (!v)
                return WALK_MISSING;
        }
    }
    *out = v;
    return WALK_FOUND;
}

/* Extracts one field into *val (a new reference, or NULL if absent). */
static parley_connect_code extract(const struct connect_field *f, json_t *root, json_t **val,
                                   parley_connect_result *r)
{
    json_t *v = NULL, *list = NULL;
    size_t bad = 0, each_at = 0;
    enum walk w;

    *val = NULL;
    w = walk(root, f->segs, 0, f->nsegs, 1, &v, &each_at);
    if (w == WALK_SHAPE)
        return parley__connect_result_fail(r, PARLEY_CONNECT_MALFORMED,
                                           "field '%s' has the wrong shape at step %zu", f->path,
                                           each_at + 1);
    if (w == WALK_MISSING || json_is_null(v)) {
        if (f->required)
            return parley__connect_result_fail(r, PARLEY_CONNECT_MALFORMED,
                                               "missing required field '%s'", f->path);
        return PARLEY_CONNECT_OK;
    }
    if (!f->has_each) {
        if (!type_ok(v, f->type))
            return parley__connect_result_fail(r, PARLEY_CONNECT_MALFORMED,
                                               "field '%s' is %s, expected %s", f->path,
                                               parley__json_type_name(v), fact_type_name(f->type));
        *val = json_incref(v);
        return PARLEY_CONNECT_OK;
    }
    if (!json_is_array(v))
        return parley__connect_result_fail(r, PARLEY_CONNECT_MALFORMED,
                                           "field '%s' is %s where an array was expected", f->path,
                                           parley__json_type_name(v));
    list = json_array();
    if (!list)
        return PARLEY_CONNECT_MALFORMED;
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = NULL;
        w = walk(json_array_get(v, i), f->segs, each_at + 1, f->nsegs, 0, &e, &bad);
        if (w == WALK_SHAPE) {
            json_decref(list);
            return parley__connect_result_fail(r, PARLEY_CONNECT_MALFORMED,
                                               "field '%s' has the wrong shape in element %zu",
                                               f->path, i);
        }
        if (w == WALK_MISSING || json_is_null(e)) {
            if (f->required) {
                json_decref(list);
                return parley__connect_result_fail(r, PARLEY_CONNECT_MALFORMED,
                                                   "missing required field '%s' in element %zu",
                                                   f->path, i);
            }
            e = json_null();
        } else if (!type_ok(e, f->type)) {
            json_decref(list);
            return parley__connect_result_fail(
                r, PARLEY_CONNECT_MALFORMED, "field '%s' in element %zu is %s, expected %s",
                f->path, i, parley__json_type_name(e), fact_type_name(f->type));
        }
        if (json_array_append(list, e) != 0) {
            json_decref(list);
            return PARLEY_CONNECT_MALFORMED;
        }
    }
    *val = list;
    return PARLEY_CONNECT_OK;
}

static parley_err add_fact(parley_connect_result *r, const struct connect_field *f, json_t *val)
{
    struct connect_fact_store *fs = &r->facts[r->nfacts];
    memset(fs, 0, sizeof(*fs));
    fs->name = parley__strdup(f->name);
    fs->json = val ? dump(val, 0) : parley__strdup("null");
    fs->text = val ? dump(val, 1) : parley__strdup("");
    r->nfacts++;
    if (!fs->name || !fs->json || !fs->text)
        return PARLEY_ERR_NOMEM;
    fs->pub.name = fs->name;
    fs->pub.json = fs->json;
    fs->pub.text = fs->text;
    fs->pub.type = f->type;
    fs->pub.sensitivity = f->sensitivity;
    fs->pub.present = val != NULL;
    fs->pub.is_list = f->has_each;
    if (val && !f->has_each) {
        if (json_is_number(val))
            fs->pub.number = json_number_value(val);
        if (json_is_boolean(val))
            fs->pub.boolean = json_is_true(val);
    }
    return PARLEY_OK;
}

static int printable_code(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return 0;
    return 1;
}

/* Keeps {"error":{"code","message"}} from an error body when present. */
static parley_err keep_backend_error(const void *body, size_t len, parley_connect_result *r)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *e = json_object_get(root, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    parley_err rc = PARLEY_OK;
    if (code) {
        size_t n = strlen(code);
        r->backend_code = parley__strndup(code, n > MAX_BACKEND_CODE ? MAX_BACKEND_CODE : n);
        if (!r->backend_code)
            rc = PARLEY_ERR_NOMEM;
    }
    if (msg && rc == PARLEY_OK) {
        size_t n = strlen(msg);
        r->backend_message =
            parley__strndup(msg, n > MAX_BACKEND_MESSAGE ? MAX_BACKEND_MESSAGE : n);
        if (!r->backend_message)
            rc = PARLEY_ERR_NOMEM;
    }
    json_decref(root);
    return rc;
}

parley_err parley__connect_parse_response(const struct connect_op *op, long status,
                                          const void *body, size_t len, parley_connect_result *r)
{
    json_t *root = NULL;
    json_error_t je;
    parley_err rc = PARLEY_OK;

    free_facts(r);
    parley__free(r->backend_code);
    parley__free(r->backend_message);
    r->backend_code = r->backend_message = NULL;
    parley__free(r->message);
    r->message = NULL;
    r->http_status = status;
    r->code = PARLEY_CONNECT_OK;
    if (!body)
        len = 0;
    if (status < 200 || status > 299) {
        parley_connect_code code = PARLEY_CONNECT_UNAVAILABLE;
        if (status >= 400 && status <= 499 && status != 408 && status != 429)
            code = PARLEY_CONNECT_REJECTED;
        if (len > 0)
            rc = keep_backend_error(body, len, r);
        if (r->backend_code && printable_code(r->backend_code))
            (void)parley__connect_result_fail(r, code, "http %ld '%s'", status, r->backend_code);
        else
            (void)parley__connect_result_fail(r, code, "http %ld", status);
        return rc;
    }
    if (op->nfields == 0)
        return PARLEY_OK;
    root = json_loadb(len ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* je.text can quote the body; only the position is reported. */
        (void)parley__connect_result_fail(r, PARLEY_CONNECT_MALFORMED,
                                          "response is not valid JSON (line %d, column %d)",
                                          je.line, je.column);
        return PARLEY_OK;
    }
    r->facts = parley__calloc(op->nfields, sizeof(*r->facts));
    if (!r->facts) {
        rc = PARLEY_ERR_NOMEM;
        r->code = PARLEY_CONNECT_MALFORMED;
        goto out;
    }
    for (size_t i = 0; i < op->nfields; i++) {
        json_t *val = NULL;
        parley_connect_code c = extract(&op->fields[i], root, &val, r);
        if (c != PARLEY_CONNECT_OK) {
            if (!r->message)
                rc = PARLEY_ERR_NOMEM;
            r->code = c;
            free_facts(r);
            goto out;
        }
        rc = add_fact(r, &op->fields[i], val);
        json_decref(val);
        if (rc != PARLEY_OK) {
            r->code = PARLEY_CONNECT_MALFORMED;
            free_facts(r);
            goto out;
        }
    }
out:
    json_decref(root);
    return rc;
}

/* ---- Accessors ------------------------------------------------------- */

const char *parley_connect_code_name(parley_connect_code code)
{
    switch (code) {
    case PARLEY_CONNECT_OK:
        return "ok";
    case PARLEY_CONNECT_TIMEOUT:
        return "timeout";
    case PARLEY_CONNECT_UNAVAILABLE:
        return "unavailable";
    case PARLEY_CONNECT_REJECTED:
        return "rejected";
    case PARLEY_CONNECT_MALFORMED:
        return "malformed";
    case PARLEY_CONNECT_CIRCUIT_OPEN:
        return "circuit_open";
    case PARLEY_CONNECT_BAD_REQUEST:
        return "bad_request";
    }
    return "unknown";
}

parley_connect_code parley_connect_result_code(const parley_connect_result *r)
{
    return r->code;
}

const char *parley_connect_result_message(const parley_connect_result *r)
{
    return r->message ? r->message : "";
}

long parley_connect_result_http_status(const parley_connect_result *r)
{
    return r->http_status;
}

unsigned parley_connect_result_attempts(const parley_connect_result *r)
{
    return r->attempts;
}

double parley_connect_result_latency_ms(const parley_connect_result *r)
{
    return r->latency_ms;
}

const char *parley_connect_result_backend_code(const parley_connect_result *r)
{
    return r->backend_code;
}

const char *parley_connect_result_backend_message(const parley_connect_result *r)
{
    return r->backend_message;
}

const char *parley_connect_result_idempotency_key(const parley_connect_result *r)
{
    return r->has_key ? r->idem_key : NULL;
}

size_t parley_connect_result_fact_count(const parley_connect_result *r)
{
    return r->nfacts;
}

const parley_connect_fact *parley_connect_result_fact(const parley_connect_result *r, size_t i)
{
    return i < r->nfacts ? &r->facts[i].pub : NULL;
}

const parley_connect_fact *parley_connect_result_find(const parley_connect_result *r,
                                                      const char *name)
{
    for (size_t i = 0; i < r->nfacts; i++)
        if (strcmp(r->facts[i].name, name) == 0)
            return &r->facts[i].pub;
    return NULL;
}
