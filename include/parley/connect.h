/* Reaching a company's operational systems: declarative connector
 * definitions (YAML) that name HTTP/JSON operations and the response fields
 * that become facts, and a runtime that calls them with timeouts, retries
 * with backoff, idempotency keys, a circuit breaker and response checks. */
#ifndef PARLEY_CONNECT_H
#define PARLEY_CONNECT_H

#include <stddef.h>

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Definitions
 * ------------------------------------------------------------------- */

/** A loaded, validated connector definition. Immutable once loaded, so it
 * may be shared by threads. */
typedef struct parley_connect_def parley_connect_def;

/** Largest definition file accepted, in bytes. */
#define PARLEY_CONNECT_MAX_DEF (1024 * 1024)

/** Loads and validates the definition at `path`. Problems are reported as
 * "FILE:LINE:COLUMN: what is wrong (what is expected)"; when there are
 * several, the first is given and the others counted. Fails with
 * PARLEY_ERR_FORMAT (invalid definition), PARLEY_ERR_IO, PARLEY_ERR_LIMIT or
 * PARLEY_ERR_NOMEM. Caller frees `*out` with parley_connect_def_free(). */
parley_err parley_connect_def_load(const char *path, parley_connect_def **out, parley_error *err);

/** Like parley_connect_def_load over `len` bytes at `buf` (copied). `name`
 * stands for the file name in messages. */
parley_err parley_connect_def_load_memory(const char *name, const void *buf, size_t len,
                                          parley_connect_def **out, parley_error *err);

/** Frees a definition. NULL does nothing. */
void parley_connect_def_free(parley_connect_def *def);

/** The connector's name. Borrowed; valid while `def` lives. */
const char *parley_connect_def_name(const parley_connect_def *def);

/** Number of operations, and the name of operation `i` (borrowed; valid
 * while `def` lives; NULL when `i` is out of range). */
size_t parley_connect_def_op_count(const parley_connect_def *def);
const char *parley_connect_def_op_name(const parley_connect_def *def, size_t i);

/** Parameters and facts of operation `op`: counts (0 for an unknown
 * operation) and names (borrowed; valid while `def` lives; NULL when out
 * of range). Bot definitions check their mappings against these. */
size_t parley_connect_def_param_count(const parley_connect_def *def, const char *op);
const char *parley_connect_def_param_name(const parley_connect_def *def, const char *op, size_t i);
size_t parley_connect_def_fact_count(const parley_connect_def *def, const char *op);
const char *parley_connect_def_fact_name(const parley_connect_def *def, const char *op, size_t i);

/* ---------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------- */

/** How a call ended. A conversation picks what to say from this. New
 * values go at the end. */
typedef enum parley_connect_code {
    PARLEY_CONNECT_OK = 0,
    PARLEY_CONNECT_TIMEOUT = 1,      /* connect or total timeout expired */
    PARLEY_CONNECT_UNAVAILABLE = 2,  /* refused, dropped, 5xx, 408, 429 */
    PARLEY_CONNECT_REJECTED = 3,     /* other 4xx: see backend code/message */
    PARLEY_CONNECT_MALFORMED = 4,    /* bad JSON, missing/mistyped field, oversized */
    PARLEY_CONNECT_CIRCUIT_OPEN = 5, /* breaker open: not attempted */
    PARLEY_CONNECT_BAD_REQUEST = 6,  /* missing, unknown or mistyped parameter */
} parley_connect_code;

/** "ok", "timeout", "unavailable", "rejected", "malformed", "circuit_open",
 * "bad_request". Static storage; "unknown" for other values. */
const char *parley_connect_code_name(parley_connect_code code);

/** Types of declared parameters and facts. */
typedef enum parley_connect_type {
    PARLEY_CONNECT_STRING = 0,
    PARLEY_CONNECT_NUMBER = 1,
    PARLEY_CONNECT_BOOLEAN = 2,
    PARLEY_CONNECT_ARRAY = 3,
    PARLEY_CONNECT_OBJECT = 4,
    PARLEY_CONNECT_INTEGER = 5, /* parameters only */
} parley_connect_type;

/** Who may see a fact: anyone, the verified account holder, or only with
 * strong verification (and never in logs). */
typedef enum parley_connect_sensitivity {
    PARLEY_CONNECT_PUBLIC = 0,
    PARLEY_CONNECT_ACCOUNT = 1,
    PARLEY_CONNECT_SENSITIVE = 2,
} parley_connect_sensitivity;

/** The sensitivity the definition gives fact `i` of operation `op`
 * (PARLEY_CONNECT_PUBLIC for an unknown operation or an index out of
 * range). Bot checks use it to see which placeholders show account data. */
parley_connect_sensitivity parley_connect_def_fact_sensitivity(const parley_connect_def *def,
                                                               const char *op, size_t i);

/** 1 when operation `op` changes data (`write: true`, the default for
 * methods other than GET), 0 for a read or an unknown operation. */
int parley_connect_def_op_is_write(const parley_connect_def *def, const char *op);

/** A connector: the runtime for one definition. Thread-safe: several
 * threads may call through one connector. */
typedef struct parley_connector parley_connector;

/** Creates a connector for `def`, which is borrowed and must outlive it.
 * Reads the bearer token now (from the environment variable or the file
 * the definition names): PARLEY_ERR_INVALID if it is unset or empty,
 * PARLEY_ERR_IO if the file cannot be read. Caller frees `*out` with
 * parley_connector_free(). */
parley_err parley_connector_new(const parley_connect_def *def, parley_connector **out,
                                parley_error *err);

/** Sends this connector's calls to `url` (e.g. a test backend on a free
 * port) instead of the definition's base_url; a trailing '/' is dropped.
 * PARLEY_ERR_INVALID for anything but an http(s) URL without query or
 * fragment. Not safe while calls are running. */
parley_err parley_connector_set_base_url(parley_connector *c, const char *url, parley_error *err);

/** Frees a connector, closing its connections. No call may be running.
 * NULL does nothing. */
void parley_connector_free(parley_connector *c);

/** One call parameter. Values are text; a number, integer or boolean
 * parameter must hold such a literal ("1.5", "2", "true"). */
typedef struct parley_connect_param {
    const char *name;
    const char *value;
} parley_connect_param;

/** The outcome of one call. */
typedef struct parley_connect_result parley_connect_result;

/** Calls operation `op` with `nparams` parameters (copied). A finished call
 * is a result whatever its outcome: it returns PARLEY_OK and sets `*out`,
 * and parley_connect_result_code() says whether the backend answered and
 * the answer passed validation, or why not. Returns an error, leaving
 * `*out` unchanged, only when no call could be made: PARLEY_ERR_NOTFOUND
 * (no such operation), PARLEY_ERR_INVALID (NULL arguments) or
 * PARLEY_ERR_NOMEM. Caller frees `*out` with parley_connect_result_free(). */
parley_err parley_connect_call(parley_connector *c, const char *op,
                               const parley_connect_param *params, size_t nparams,
                               parley_connect_result **out, parley_error *err);

/** Like parley_connect_call, but a write carries the caller's idempotency
 * `key` (8 to 32 of A-Z a-z 0-9 - _; NULL: a fresh random one). Re-issuing
 * a call that ended TIMEOUT or UNAVAILABLE with the same key is how a
 * caller makes sure a write lands exactly once: the backend deduplicates.
 * A bad key is PARLEY_ERR_INVALID. Ignored for reads. */
parley_err parley_connect_call_keyed(parley_connector *c, const char *op,
                                     const parley_connect_param *params, size_t nparams,
                                     const char *key, parley_connect_result **out,
                                     parley_error *err);

/** Frees a result. NULL does nothing. */
void parley_connect_result_free(parley_connect_result *r);

/** The outcome class. */
parley_connect_code parley_connect_result_code(const parley_connect_result *r);

/** What went wrong, for logs and operators ("" on success): lowercase,
 * never containing response bodies. Borrowed; valid while `r` lives. */
const char *parley_connect_result_message(const parley_connect_result *r);

/** The HTTP status of the last attempt, 0 if none was received. */
long parley_connect_result_http_status(const parley_connect_result *r);

/** Attempts made (0 when the breaker refused or a parameter was bad). */
unsigned parley_connect_result_attempts(const parley_connect_result *r);

/** Wall-clock time of the whole call, retries and backoff included. */
double parley_connect_result_latency_ms(const parley_connect_result *r);

/** For PARLEY_CONNECT_REJECTED (and 5xx answers carrying one): the
 * backend's {"error":{"code","message"}}, or NULL when absent. The message
 * is the backend's text: show it to staff, not in logs. Borrowed; valid
 * while `r` lives. */
const char *parley_connect_result_backend_code(const parley_connect_result *r);
const char *parley_connect_result_backend_message(const parley_connect_result *r);

/** The Idempotency-Key sent with a write (32 hex digits, or the caller's
 * key from parley_connect_call_keyed), or NULL for
 * reads. Borrowed; valid while `r` lives. */
const char *parley_connect_result_idempotency_key(const parley_connect_result *r);

/** One fact taken from a response. Borrowed from its result. */
typedef struct parley_connect_fact {
    const char *name;
    parley_connect_type type; /* element type when the path has "[]" */
    parley_connect_sensitivity sensitivity;
    int present;      /* 0: optional and absent (or null) */
    int is_list;      /* 1: the path has "[]"; json is an array of matches */
    const char *json; /* compact JSON of the value ("null" when absent) */
    const char *text; /* strings unquoted, numbers and booleans as
                         literals, arrays and objects as JSON; "" if absent */
    double number;    /* for a present single number */
    int boolean;      /* for a present single boolean */
} parley_connect_fact;

/** Facts of a successful call, in declaration order (0 otherwise). */
size_t parley_connect_result_fact_count(const parley_connect_result *r);

/** Fact `i`, or NULL when out of range. Borrowed; valid while `r` lives. */
const parley_connect_fact *parley_connect_result_fact(const parley_connect_result *r, size_t i);

/** The fact named `name`, or NULL. Borrowed; valid while `r` lives. */
const parley_connect_fact *parley_connect_result_find(const parley_connect_result *r,
                                                      const char *name);

#ifdef __cplusplus
}
#endif
#endif
