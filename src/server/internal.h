/* Private to src/server: the server handle, one request's context, and the
 * pieces (routes, streams, metrics, rate limits, static files) that share
 * them. */
#ifndef PARLEY_SERVER_INTERNAL_H
#define PARLEY_SERVER_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/internal.h"
#include "parley/audit.h"
#include "parley/dialog.h"
#include "server/server.h"

/* ---- roles --------------------------------------------------------------- */

enum {
    ROLE_NONE = 0,
    ROLE_CHANNEL = 1,
    ROLE_AGENT = 2,
    ROLE_ADMIN = 4,
    ROLE_PUBLIC = 8,  /* no key needed */
    ROLE_EVENTS = 16, /* a company's systems sending events, nothing else */
};

/* ---- the engine, swapped whole by a reload --------------------------------- */

struct engine {
    parley_dialog *d;
    parley_proactive_engine *pro; /* its rules, over the same bot and connectors */
    atomic_int refs;              /* the server's one + one per running request */
};

/* ---- metrics (metrics.c) ----------------------------------------------------- */

#define MET_MAX_LABELS 256

/* Counters under one metric name, one per label value (added on first use). */
struct labeled {
    pthread_mutex_t mu;
    size_t n;
    char names[MET_MAX_LABELS][96];
    atomic_ullong counts[MET_MAX_LABELS];
};

#define HIST_BUCKETS 13
struct histogram {
    atomic_ullong buckets[HIST_BUCKETS + 1]; /* last: +Inf */
    atomic_ullong count;
    atomic_ullong sum_us; /* microseconds (or thousandths for ratios) */
};

struct metrics {
    atomic_ullong turns, conversations, agent_messages, ratings, reloads, reload_failures;
    atomic_ullong events; /* recorded at the intake (duplicates not counted) */
    /* The NATS intake: messages fetched, and what became of each. */
    atomic_ullong nats_consumed, nats_acked, nats_termed, nats_naked;
    atomic_int nats_connected;
    atomic_llong streams_open;
    struct histogram turn_latency; /* seconds */
    struct histogram confidence;   /* 0..1 */
    struct histogram connector_latency;
    struct labeled intents, handoffs, actions, connector_errors, http_status;
};

void met_init(struct metrics *m);
void met_destroy(struct metrics *m);
void met_count(struct labeled *l, const char *label);
void met_observe(struct histogram *h, double value, int is_ratio);
/* The Prometheus text exposition of everything (caller frees). */
char *met_render(struct metrics *m, const struct parley_server *s);

/* ---- rate limits (ratelimit.c): a token bucket per key --------------------- */

struct ratelimit;
struct ratelimit *rl_new(double rate, unsigned burst);
void rl_free(struct ratelimit *r);
/* 0 when `who` may go on; else the seconds to wait. */
unsigned rl_take(struct ratelimit *r, const char *who, double now);

/* ---- server-sent event streams (stream.c) ------------------------------------ */

struct hub;
struct hub *hub_new(atomic_llong *open_gauge);
/* Ends every stream (each sends what it has buffered, then ends) and
 * stops the keep-alive thread. */
void hub_shutdown(struct hub *h);
/* Frees the hub; only once the HTTP daemon has stopped. NULL is fine. */
void hub_free(struct hub *h);
/* Queues event text for every stream of conversation `id`. */
void hub_publish(struct hub *h, const char *id, const char *event);
/* A response that streams conversation `id`'s events, starting with
 * `backlog` (already formatted events; may be ""). NULL on failure. */
struct MHD_Response *hub_response(struct hub *h, struct MHD_Connection *conn, const char *id,
                                  const char *backlog);
size_t hub_count(struct hub *h);
/* 1 when conversation `id` has a live stream. */
int hub_has(struct hub *h, const char *id);

/* ---- the server -------------------------------------------------------------- */

struct parley_server {
    parley_server_config cfg;
    struct MHD_Daemon *mhd;
    unsigned port;
    parley_store *store; /* keys, transcripts, queue, analytics */
    parley_audit *audit; /* reading and verifying the log; API consent records */
    pthread_mutex_t engine_mu;
    struct engine *engine;
    pthread_mutex_t conv_mu[64]; /* one turn at a time per conversation */
    struct metrics met;
    struct ratelimit *rl;
    struct hub *hub;
    struct webfiles *web;
    struct sweeper *sweeper;  /* retention (sweeper.c) */
    struct intake_nats *nats; /* the JetStream intake (nats.c), or NULL */
    struct proactive *pro;    /* the proactive worker (proactive.c) */
    struct convindex *cix;    /* verified conversations by customer (outreach.c) */
    atomic_int stopping;
    atomic_int active; /* requests being handled */
    double started;
};

/* One request, from its first callback to the response. */
struct req {
    struct parley_server *s;
    struct MHD_Connection *conn;
    const char *method, *url;
    char *body;
    size_t len;
    size_t max_body; /* this route's body limit */
    int too_big;
    int role;
    char key_id[16];       /* for rate limits */
    const char *params[4]; /* {id}-style path parameters */
    char path_buf[512];
    /* Filled by handlers: */
    unsigned status;
    json_t *json;                 /* the body to send, or NULL */
    struct MHD_Response *special; /* a streamed or static response instead */
    const char *retry_after;
    char retry_buf[12];
};

/* nats.c: the event intake over NATS JetStream, when nats_url is set.
 * Start connects, creates the stream and the durable pull consumer when
 * missing (failing with a message naming what is wrong) and starts the
 * thread that feeds srv_events_ingest(); stop joins it and closes the
 * connection. Stop takes NULL. */
struct intake_nats;
parley_err intake_nats_start(struct parley_server *s, struct intake_nats **out, parley_error *err);
void intake_nats_stop(struct intake_nats *n);

/* sweeper.c: the retention sweeper thread, with its own store handle. */
struct sweeper;
parley_err sweeper_start(const parley_server_config *c, struct sweeper **out, parley_error *err);
void sweeper_stop(struct sweeper *w);

/* Sets an error answer in the API's shape; returns 0 for chaining. */
int req_error(struct req *r, unsigned status, const char *code, const char *fmt, ...)
    PARLEY_PRINTF(4, 5);
/* Parses the body as a JSON object within the limits; on failure sets the
 * error answer and returns NULL. Caller decrefs. */
json_t *req_json(struct req *r);
/* Query parameter `name`, or NULL. */
/* 1 when `body` has only the members named in `allowed` (NULL-ended);
 * else 0 after a 400 answer naming the first other one. */
int only_keys(struct req *r, json_t *body, const char *const *allowed);
const char *req_query(struct req *r, const char *name);
/* Error answer for a parley_err from the engine or the store. */
int req_fail(struct req *r, parley_err rc, const parley_error *e);

/* Opens the bot again (`bot_dir`/`models_dir`, NULL: the current ones)
 * and swaps it in; running turns finish on the old one. On failure the
 * old one stays. */
parley_err parley_server_reload(struct parley_server *s, const char *bot_dir,
                                const char *models_dir, parley_error *err);

/* ---- the proactive worker (proactive.c) ------------------------------------- */

parley_err proactive_start(struct parley_server *s, parley_error *err);
/* Wakes the worker: events were recorded. */
void proactive_kick(struct parley_server *s);
void proactive_stop(struct parley_server *s);
/* Decides every recorded event still waiting, now, on the caller's thread
 * (the NATS intake acknowledges a message only after this);
 * PARLEY_ERR_UNAVAILABLE when a backend failed for one of them. */
parley_err proactive_decide_pending(struct parley_server *s, parley_error *err);

/* ---- proactive messages into open conversations, SMS replies (outreach.c) --- */

struct convindex *cix_new(void);
void cix_free(struct convindex *x);
/* Conversation `id` has a stream and may be verified: finds for whom (the
 * dialog's identity) and indexes it under that customer, or drops it. */
void cix_note(struct parley_server *s, struct engine *en, const char *id);
/* Conversation `id` is closed: it takes no more proactive messages. */
void cix_drop(struct convindex *x, const char *id);
/* The rules engine's deliver hook (userdata: the server): puts the message
 * into the customer's newest verified conversation with a live stream and
 * publishes it there; 1 when delivered, 0 when there is none. */
int srv_deliver(void *userdata, const parley_proactive_delivery *m);
/* Publishes a turn event (caller-built JSON, consumed) on `id`'s streams. */
void srv_publish_json(struct parley_server *s, const char *id, int64_t seq, json_t *o);
/* Counts a turn in the metrics. */
void srv_record_turn(struct metrics *m, const parley_dialog_reply *rep, double seconds);
void h_sms(struct req *r);

struct engine *engine_get(struct parley_server *s);
void engine_put(struct engine *e);

/* Routes (routes_*.c). */
typedef void (*handler_fn)(struct req *r);
struct route {
    const char *method;
    const char *path; /* "/v1/conversations/{id}/messages" */
    int roles;        /* who may call it */
    handler_fn fn;
};
extern const struct route server_routes[];
extern const size_t server_route_count;

void h_conversation_create(struct req *r);
void h_message(struct req *r);
void h_transcript(struct req *r);
void h_close(struct req *r);
void h_rating(struct req *r);
void h_stream(struct req *r);
void h_handoffs(struct req *r);
void h_review_list(struct req *r); /* routes_review.c */
void h_review_label(struct req *r);
void h_agent_message(struct req *r);
void h_handback(struct req *r);
void h_analytics(struct req *r);
void h_reload(struct req *r);
void h_consents_list(struct req *r);
void h_consent_grant(struct req *r);
void h_consent_revoke(struct req *r);
void h_audit_list(struct req *r);
void h_customer_export(struct req *r);
void h_customer_erase(struct req *r);
void h_customer_opt_out(struct req *r);
void h_audit_verify(struct req *r);
void h_audit_explain(struct req *r);
void h_events_post(struct req *r);

/* The event intake, whatever the transport (routes_events.c): checks
 * `json[0..len)` (one event or an array, as POST /v1/events takes) against
 * the running bot's event types, all or nothing, and records the batch in
 * the events ledger; `*added` / `*dups` (each may be NULL) get the events
 * new to the ledger and those already there. Fails with PARLEY_ERR_FORMAT
 * (not JSON), PARLEY_ERR_INVALID (a bad event, named in the message) or
 * PARLEY_ERR_LIMIT (too large or too many), which the same input always
 * gets again, or with PARLEY_ERR_IO / PARLEY_ERR_NOMEM (the store: worth
 * retrying); nothing is recorded then. Safe from any thread. */
parley_err srv_events_ingest(struct parley_server *s, const char *json, size_t len, size_t *added,
                             size_t *dups, parley_error *err);
void h_healthz(struct req *r);
void h_metrics(struct req *r);

/* The lock that makes turns of conversation `id` run one at a time. */
pthread_mutex_t *conv_lock(struct parley_server *s, const char *id);

/* routes_consent.c: 1 when the caller may act for customer `cust` (admin,
 * or a channel key with ?conversation_id= verified for them; `*conv` gets
 * that id or NULL); else an error answer is set and 0 returned. */
int customer_access(struct req *r, const char *cust, const char **conv);
/* A grant as the API shows it, with its use this month. */
json_t *grant_json(const parley_store_consent *g);

/* The transcript of conversation `id` as the API shows it (caller
 * decrefs), or NULL with `*rc_out` and `e` set. */
json_t *transcript_json(struct parley_server *s, const char *id, parley_err *rc_out,
                        parley_error *e);

/* ISO 8601 UTC of Unix ms into `buf` (32 bytes). */
void iso_time(int64_t ms, char buf[32]);
/* Formats a stored turn as a stream event (caller frees). */
char *turn_event(int64_t seq, const char *role, const char *text, const char *state);

/* Static web files (web.c). */
struct webfiles;
parley_err web_load(const char *dir, struct webfiles **out, parley_error *err);
void web_free(struct webfiles *w);
/* The response for GET `path`, or NULL if there is no such file. */
struct MHD_Response *web_response(struct webfiles *w, const char *path);

#endif
