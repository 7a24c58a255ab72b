/* telco-sim: shared declarations between the server's modules (store, HTTP
 * layer, route handlers, events, TOML reader). */
#ifndef TELCO_SIM_H
#define TELCO_SIM_H

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>

#define TELCO_MAX_BODY (64 * 1024)
#define TELCO_MAX_SEGS 8
/* How every stored or sent document is serialised. */
#define TELCO_JSON (JSON_COMPACT | JSON_REAL_PRECISION(12))

/* ---- toml.c: the subset of TOML that the tau2 data files use ---- */

/* Parses the file at path into a JSON object. On failure returns NULL and
 * writes "path:line: what" into err. The caller owns the result. */
json_t *telco_toml_load(const char *path, char *err, size_t errlen);
json_t *telco_toml_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);

/* ---- store.c: SQLite state ---- */

struct telco_config {
    const char *db_path;
    const char *seed_path;
    const char *user_db_path;
    const char *events_url;
    const char *events_key; /* bearer token sent with each delivery, or NULL */
    const char *sms_url;    /* where customers' SMS go (the inbound lever), or NULL */
    const char *sms_key;    /* bearer token sent with each, or NULL */
    const char *today;      /* simulation date, YYYY-MM-DD */
    long synthetic;
    unsigned long fault_seed;
};

extern sqlite3 *telco_db;
extern const char *telco_today;

int telco_store_open(const struct telco_config *cfg);
void telco_store_close(void);
/* Serialises every use of telco_db (requests and the events thread). */
void telco_lock(void);
void telco_unlock(void);
int telco_exec(const char *sql);

/* Documents: each entity is one JSON document in a table keyed by id.
 * telco_doc_get returns a new reference or NULL when absent. */
json_t *telco_doc_get(const char *table, const char *id);
int telco_doc_put(const char *table, const char *id, json_t *doc);
json_t *telco_device_defaults(void);
/* Digits of a phone number without a leading country code 1. */
void telco_phone_norm(const char *in, char *out, size_t outlen);
/* "Pending Activation" -> "pending_activation". */
void telco_snake(const char *in, char *out, size_t outlen);
void telco_now_iso(char *out, size_t outlen);
/* Lookup key for full name + date of birth (case and spacing folded). */
void telco_name_dob_key(const char *name, const char *dob, char *out, size_t outlen);
/* A customer document with "language" and "time_zone" (stored, else the
 * defaults below); NULL when absent. The caller owns the result. */
json_t *telco_customer_get(const char *id);
/* Sets either column (NULL leaves it); 0 on success. Values must be valid. */
int telco_customer_set_locale(const char *id, const char *language, const char *time_zone);
/* Deterministic language and IANA zone for a customer without stored ones:
 * synthetic customers spread over en/fr/es/de, the rest en + a US zone from
 * the address's state. The strings are static. */
void telco_customer_locale_defaults(json_t *customer, const char **language,
                                    const char **time_zone);
/* en, fr, es or de. */
int telco_valid_language(const char *s);
/* "Area/City" style: letters, '_', '-', '/' parts, at most 64 characters. */
int telco_valid_time_zone(const char *s);
/* Runs sql (one text parameter, may be NULL) and returns the first column of
 * every row parsed as JSON, in an array. */
json_t *telco_docs_query(const char *sql, const char *param);

/* ---- events.c ---- */

/* Appends an event (steals data, may be NULL) inside the caller's
 * transaction; delivery happens after telco_events_kick. */
int telco_event_emit(const char *type, json_t *data);
void telco_events_kick(void);
/* Starts delivery to url (NULL: no delivery); with key, each POST carries
 * "Authorization: Bearer key". */
/* webhook.c: an outgoing webhook, its URL and "Authorization: Bearer KEY"
 * header line (NULL without a key). */
struct telco_hook {
    char *url, *auth;
};
/* 0 (nothing set up without a URL), -1 when out of memory (reported). */
int telco_hook_init(struct telco_hook *h, const char *url, const char *key);
void telco_hook_free(struct telco_hook *h);
/* POSTs JSON `body`; the HTTP status, or 0 when none came (logged as a
 * failed `what` delivery, without the body). */
long telco_hook_post(const struct telco_hook *h, CURL *c, const char *body, long timeout_ms,
                     const char *what);

int telco_events_start(const char *url, const char *key);
void telco_events_stop(void);
/* Emits usage_80/90/100 for each threshold crossed between two fractions. */
void telco_usage_events(const char *line_id, const char *customer_id, double before, double after);
/* The event as served by the feed and POSTed to --events-url: {seq, id,
 * ...stored fields} from a stored row; NULL when doc is not a JSON object.
 * The caller owns the result. */
json_t *telco_event_row(long long seq, const char *doc);

/* ---- http.c: the request context handed to route handlers ---- */

struct telco_req {
    const char *method;
    const char *path;
    char *segs[TELCO_MAX_SEGS];
    int nseg;
    json_t *body; /* parsed JSON body of a POST, or NULL */
    void *conn;   /* struct MHD_Connection */
};

typedef int (*telco_handler)(struct telco_req *r, json_t **out);

/* Fills *out with the error shape and returns status. */
int telco_err(json_t **out, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Query parameter or NULL. */
const char *telco_query(struct telco_req *r, const char *name);
/* 0 when every query parameter is in the NULL-terminated allowed list;
 * otherwise fills *out with a 400 and returns its status. */
int telco_query_only(struct telco_req *r, json_t **out, const char *const *allowed);
/* Body field helpers: return 0 and set *v, or fill *out with a 400. */
int telco_body_string(struct telco_req *r, json_t **out, const char *key, int required,
                      const char **v);
int telco_body_number(struct telco_req *r, json_t **out, const char *key, double *v);
int telco_body_bool(struct telco_req *r, json_t **out, const char *key, int *v);

struct MHD_Daemon;
struct MHD_Daemon *telco_http_start(const char *host, int port, unsigned long fault_seed,
                                    int *bound_port);
void telco_http_stop(struct MHD_Daemon *d);

/* ---- route handler tables (routes_*.c) ---- */

struct telco_route {
    const char *method;
    const char *pattern; /* "/lines/ * /refuel" style, '*' = one segment */
    telco_handler fn;
};

extern const struct telco_route telco_account_routes[];
extern const struct telco_route telco_line_routes[];
extern const struct telco_route telco_sim_routes[];

/* routes_account.c */
int telco_customer_has_overdue(const char *cid);
/* routes_sim.c: stores an outgoing SMS {phone,text}; 0 on success. */
int telco_sms_store(json_t *msg);

/* sms_inbound.c: customers' SMS to the carrier, POSTed to --sms-url by a
 * background thread (with 'Authorization: Bearer KEY' when a key is set). */
int telco_sms_inbound_start(const char *url, const char *key);
void telco_sms_inbound_stop(void);
int telco_sms_inbound_post(struct telco_req *r, json_t **out);
int telco_sms_inbound_list(struct telco_req *r, json_t **out);

/* routes_sim.c: fault injection state, consulted by http.c. */
struct telco_fault_hit {
    int latency_ms;
    int error;
    int drop;
};
void telco_faults_roll(const char *path, struct telco_fault_hit *hit);
void telco_faults_seed(unsigned long seed);

#endif
