/* The HTTP server behind `parley serve` (docs/http-api.md, docs/server.md):
 * its configuration, API keys, and starting and stopping it. */
#ifndef PARLEY_SERVER_H
#define PARLEY_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parley/common.h"
#include "parley/store.h"

/* Everything `parley serve` can be told, from the configuration file,
 * PARLEY_* variables and flags, in that order (docs/server.md). */
typedef struct parley_server_config {
    char bind[64];                /* address to listen on; "127.0.0.1" */
    unsigned port;                /* 0: a free one */
    char data_dir[1024];          /* the database, demo keys; "data" */
    char bot_dir[1024];           /* "bots/carrier" */
    char models_dir[1024];        /* "": BOT_DIR/models */
    char store_url[1200];         /* "": sqlite:DATA_DIR/parley.db */
    char backend_url[512];        /* "": the bot's connector URLs */
    char audit_url[1200];         /* "": sqlite:DATA_DIR/audit.db */
    char audit_key[1024];         /* checkpoint signing key file; "": unsigned */
    char web_dir[1024];           /* "web" */
    unsigned threads;             /* request threads; 4 */
    size_t max_body;              /* bytes; 65536 */
    size_t max_header;            /* bytes of all request headers; 16384 */
    unsigned max_json_depth;      /* 16 */
    size_t max_string;            /* longest JSON string; 8192 */
    unsigned timeout_s;           /* idle connection timeout; 30 */
    double rate;                  /* requests per second per key; 200 */
    unsigned burst;               /* requests a key may send at once; 400 */
    char cors_origin[256];        /* Access-Control-Allow-Origin; "*" */
    unsigned idle_minutes;        /* welcome back after this much silence; 30 */
    unsigned verify_idle_minutes; /* a verification lapses after this silence; 15 */
    char pii_transcript[256];     /* how stored text is redacted (docs/pii.md); "redact" */
    char pii_hash_key[1024];      /* key of the policy's hash operator (docs/pii.md) */
    char pii_vault_key[1024];     /* key of its tokenize operator's vault, DATA_DIR/vault.db */
    char master_key[1024];        /* "file:PATH" / "env:NAME": content encrypted; "": clear */
    char master_key_old[2048];    /* older master keys, comma-separated, while rotating */
    char key_store[1200];         /* the wrapped data keys' file; "": DATA_DIR/parley-keys.db */
    unsigned retention_days;      /* conversations idle longer are deleted; 90; 0: kept */
    unsigned sweep_minutes;       /* how often the retention sweeper runs; 60 */
    int demo;                     /* create demo keys, start telco-sim if needed */
    /* audit records older are pruned by the sweeper; 2557 (7 years); 0: kept */
    unsigned audit_retention_days;
    /* The event intake over NATS JetStream (docs/proactive.md). */
    char nats_url[1024];    /* NATS server URL(s), comma-separated; "": no NATS intake */
    char nats_stream[128];  /* the stream, created if missing; "PARLEY_EVENTS" */
    char nats_subject[256]; /* its subject, where senders publish; "parley.events" */
    char nats_durable[128]; /* the durable pull consumer the servers share; "parley" */
    unsigned nats_ack_wait; /* seconds before an unacknowledged message comes again; 30 */
} parley_server_config;

/* The store options the configuration gives (its keyring loaded into
 * `keys`); wipe them with parley_server_store_options_clear() once the
 * store is open. */
parley_err parley_server_store_options(const parley_server_config *c,
                                       parley_store_master_key keys[PARLEY_STORE_MAX_MASTER_KEYS],
                                       parley_store_options *o, parley_error *err);
void parley_server_store_options_clear(parley_store_master_key keys[PARLEY_STORE_MAX_MASTER_KEYS],
                                       parley_store_options *o);

/* The demo's master key, DATA_DIR.master.key: beside the data folder, not
 * in it, so a copy of the folder alone is unreadable. When `master_key` is
 * unset, points it at that file if it exists, or (`create`) at a new one. */
parley_err parley_server_config_demo_key(parley_server_config *c, int create, parley_error *err);

/* Opens the store the configuration names, with its master keys (content
 * encrypted at rest) when `master_key` is set. Caller closes `*out`. */
parley_err parley_server_store_open(const parley_server_config *c, parley_store **out,
                                    parley_error *err);

/* Sets the defaults. */
void parley_server_config_defaults(parley_server_config *c);

/* Reads a configuration file of `key = value` lines (# comments); an
 * unknown key or a bad value is PARLEY_ERR_FORMAT naming FILE:LINE. */
parley_err parley_server_config_file(parley_server_config *c, const char *path, parley_error *err);

/* Like parley_server_config_file on `text[0..len)`; `name` stands for the
 * file in messages. */
parley_err parley_server_config_parse(parley_server_config *c, const char *text, size_t len,
                                      const char *name, parley_error *err);

/* Applies PARLEY_<KEY> variables (PARLEY_PORT, PARLEY_DATA_DIR...). */
parley_err parley_server_config_env(parley_server_config *c, parley_error *err);

/* Sets one key (as in the file: "port", "data_dir"...) from text; `where`
 * names the source in messages. */
parley_err parley_server_config_set(parley_server_config *c, const char *key, const char *value,
                                    const char *where, parley_error *err);

/* Fills the derived defaults (store URL, models folder) and checks the
 * whole: folders exist, the bot loads, limits are sane. */
parley_err parley_server_config_check(parley_server_config *c, parley_error *err);

/* `url` (NATS URLs, comma-separated) without their user:password@ parts,
 * into `out` (`size` bytes, cut to fit): for messages and logs. */
void parley_server_url_for_log(const char *url, char *out, size_t size);

/* Writes the effective configuration as `key = value` lines. */
void parley_server_config_print(const parley_server_config *c, FILE *f);

/* ---- API keys ------------------------------------------------------------ */

/* Longest key text: "pk_" + id (12) + "_" + secret (43) + NUL. */
#define PARLEY_KEY_TEXT_SIZE 64

/* Creates a key with `role` ("channel", "agent", "admin", "events") in `store`,
 * writes the full key (shown once, never stored) to `key_out`. */
parley_err parley_server_key_create(parley_store *store, const char *role, const char *label,
                                    char key_out[PARLEY_KEY_TEXT_SIZE], parley_error *err);

/* Checks key text `key`: writes its role into `role_out` (16 bytes) and
 * returns PARLEY_OK, or PARLEY_ERR_NOTFOUND for an unknown, malformed or
 * revoked key. */
parley_err parley_server_key_check(parley_store *store, const char *key, char role_out[16],
                                   parley_error *err);

/* ---- the server ---------------------------------------------------------- */

typedef struct parley_server parley_server;

/* Opens the store and the bot, and starts listening. `backend_url`
 * overrides the configuration's (the demo's telco-sim). Caller stops it
 * with parley_server_stop(). */
parley_err parley_server_start(const parley_server_config *c, parley_server **out,
                               parley_error *err);

/* The port it listens on. */
unsigned parley_server_port(const parley_server *s);

/* The store the server uses (borrowed). */
parley_store *parley_server_store(parley_server *s);

/* Stops accepting connections, lets running requests finish (up to
 * `grace_ms`), ends streams, closes the bot and the store. NULL does
 * nothing. */
void parley_server_stop(parley_server *s, unsigned grace_ms);

/* Registered route `i` (PATH with {id}-style parameters; static
 * storage) and its method in `*method`; NULL past the last. For docs and
 * the OpenAPI test (`parley serve --routes`). */
const char *parley_server_route(size_t i, const char **method);

#endif
