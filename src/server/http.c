/* The HTTP layer on libmicrohttpd: collecting bodies within the limits,
 * routing, authentication and roles, rate limits, CORS, the error shape,
 * metrics of every status, and starting and stopping the daemon. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/bot.h"
#include "parley/pii.h"
#include "parley/proactive.h"
#include "server/internal.h"

static double now_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int req_error(struct req *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_decref(r->json);
    r->status = status;
    r->json = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    return 0;
}

int req_fail(struct req *r, parley_err rc, const parley_error *e)
{
    switch (rc) {
    case PARLEY_ERR_NOTFOUND:
        return req_error(r, 404, "not_found", "%s", e->msg);
    case PARLEY_ERR_CONFLICT:
        return req_error(r, 409, "conflict", "%s", e->msg);
    case PARLEY_ERR_INVALID:
    case PARLEY_ERR_UTF8:
    case PARLEY_ERR_FORMAT:
        return req_error(r, 422, "unprocessable", "%s", e->msg);
    case PARLEY_ERR_LIMIT:
        return req_error(r, 413, "too_large", "%s", e->msg);
    default:
        PARLEY_LOG(PARLEY_LOG_ERROR, "server: %s %s: %s", r->method, r->url, e->msg);
        return req_error(r, 503, "unavailable", "the service cannot do this now; retry later");
    }
}

const char *req_query(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Depth and string lengths of a parsed document, within the limits. */
static int json_within(const json_t *j, unsigned depth, const parley_server_config *c)
{
    const char *k;
    json_t *v;
    size_t i;
    if (depth > c->max_json_depth)
        return 0;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        json_object_foreach((json_t *)j, k, v) if (strlen(k) > c->max_string ||
                                                   !json_within(v, depth + 1, c)) return 0;
        return 1;
    case JSON_ARRAY:
        json_array_foreach(j, i, v) if (!json_within(v, depth + 1, c)) return 0;
        return 1;
    case JSON_STRING:
        return json_string_length(j) <= c->max_string;
    default:
        return 1;
    }
}

json_t *req_json(struct req *r)
{
    json_error_t je;
    json_t *j;
    if (r->len == 0) {
        j = json_object();
        return j;
    }
    j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        req_error(r, 400, "bad_json", "the body is not valid JSON: %s at line %d column %d",
                  je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        req_error(r, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    if (!json_within(j, 1, &r->s->cfg)) {
        json_decref(j);
        req_error(r, 413, "too_large",
                  "the JSON body nests deeper than %u levels or has a string over %zu bytes",
                  r->s->cfg.max_json_depth, r->s->cfg.max_string);
        return NULL;
    }
    return j;
}

struct engine *engine_get(struct parley_server *s)
{
    struct engine *e;
    (void)pthread_mutex_lock(&s->engine_mu);
    e = s->engine;
    atomic_fetch_add(&e->refs, 1);
    (void)pthread_mutex_unlock(&s->engine_mu);
    return e;
}

void engine_put(struct engine *e)
{
    if (e && atomic_fetch_sub(&e->refs, 1) == 1) {
        parley_proactive_engine_free(e->pro);
        parley_dialog_close(e->d);
        parley__free(e);
    }
}

/* ---- routing ------------------------------------------------------------- */

/* Matches `path` against a pattern; {name} segments capture into params. */
static int match(const char *pattern, char *path, const char **params)
{
    const char *p = pattern;
    char *u = path;
    size_t np = 0;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return 0;
        p++;
        u++;
        const char *pe = strchr(p, '/');
        char *ue = strchr(u, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t ul = ue ? (size_t)(ue - u) : strlen(u);
        if (pl >= 2 && p[0] == '{') {
            if (ul == 0 || np == 4)
                return 0;
            params[np++] = u;
        } else if (pl != ul || memcmp(p, u, pl) != 0) {
            return 0;
        }
        p += pl;
        u += ul;
    }
    if (*p || *u)
        return 0;
    /* Cut the captured segments apart only once the whole path matched. */
    for (size_t i = 0; i < np; i++) {
        char *slash = strchr(params[i], '/');
        if (slash)
            *slash = '\0';
    }
    return 1;
}

const char *parley_server_route(size_t i, const char **method)
{
    if (i >= server_route_count)
        return NULL;
    if (method)
        *method = server_routes[i].method;
    return server_routes[i].path;
}

static int role_of(const char *name)
{
    return strcmp(name, "admin") == 0    ? ROLE_ADMIN
           : strcmp(name, "agent") == 0  ? ROLE_AGENT
           : strcmp(name, "events") == 0 ? ROLE_EVENTS
                                         : ROLE_CHANNEL;
}

/* Authenticates the request; 0 with an error answer set when it fails. */
static int authenticate(struct req *r, int roles)
{
    char role[16];
    parley_error e = PARLEY_ERROR_INIT;
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return req_error(r, 401, "unauthorized",
                         "send an API key: 'Authorization: Bearer KEY' (parley keys create)");
    parley_err rc = parley_server_key_check(r->s->store, h + 7, role, &e);
    if (rc == PARLEY_ERR_NOTFOUND)
        return req_error(r, 401, "unauthorized", "%s", e.msg);
    if (rc != PARLEY_OK) {
        (void)req_fail(r, rc, &e);
        return 0;
    }
    r->role = role_of(role);
    (void)snprintf(r->key_id, sizeof(r->key_id), "%.12s", h + 10);
    if (!(roles & r->role) && r->role != ROLE_ADMIN)
        return req_error(r, 403, "forbidden", "a key with role %s may not do this", role);
    unsigned wait = rl_take(r->s->rl, r->key_id, now_s());
    if (wait) {
        (void)snprintf(r->retry_buf, sizeof(r->retry_buf), "%u", wait);
        r->retry_after = r->retry_buf;
        return req_error(r, 429, "rate_limited", "too many requests with this key; retry in %u s",
                         wait);
    }
    return 1;
}

static void dispatch(struct req *r)
{
    char allowed[128] = "";
    const char *path_end = strchr(r->url, '?');
    size_t plen = path_end ? (size_t)(path_end - r->url) : strlen(r->url);
    int path_known = 0;

    if (plen >= sizeof(r->path_buf)) {
        req_error(r, 404, "not_found", "no such path");
        return;
    }
    for (size_t i = 0; i < server_route_count; i++) {
        const struct route *rt = &server_routes[i];
        memcpy(r->path_buf, r->url, plen);
        r->path_buf[plen] = '\0';
        if (!match(rt->path, r->path_buf, r->params))
            continue;
        path_known = 1;
        if (strcmp(rt->method, r->method) != 0) {
            if (strlen(allowed) + strlen(rt->method) + 3 < sizeof(allowed))
                (void)snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
                               allowed[0] ? ", " : "", rt->method);
            continue;
        }
        if (rt->roles != ROLE_PUBLIC && !authenticate(r, rt->roles))
            return;
        if (r->too_big) {
            req_error(r, 413, "too_large", "the body is over %zu bytes", r->max_body);
            return;
        }
        rt->fn(r);
        return;
    }
    if (path_known) {
        req_error(r, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)", r->method,
                  allowed);
        return;
    }
    if (strcmp(r->method, "GET") == 0 && strncmp(r->url, "/v1/", 4) != 0) {
        memcpy(r->path_buf, r->url, plen);
        r->path_buf[plen] = '\0';
        r->special = web_response(r->s->web, r->path_buf);
        if (r->special) {
            r->status = 200;
            return;
        }
    }
    req_error(r, 404, "not_found", "no such path: %.200s", r->url);
}

static void add_common_headers(struct req *r, struct MHD_Response *resp)
{
    (void)MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->s->cfg.cors_origin);
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->retry_after)
        (void)MHD_add_response_header(resp, "Retry-After", r->retry_after);
}

static enum MHD_Result respond(struct req *r)
{
    struct MHD_Response *resp = r->special;
    char status[8];
    enum MHD_Result ok;

    if (!resp) {
        char *text = r->json ? json_dumps(r->json, JSON_COMPACT) : NULL;
        if (!text) {
            text = strdup("{\"error\":{\"code\":\"unavailable\",\"message\":\"out of memory\"}}");
            r->status = 503;
        }
        if (!text)
            return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
            free(text);
            return MHD_NO;
        }
        (void)MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
        (void)MHD_add_response_header(resp, "Cache-Control", "no-store");
    }
    add_common_headers(r, resp);
    (void)snprintf(status, sizeof(status), "%u", r->status);
    met_count(&r->s->met.http_status, status);
    ok = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    r->special = NULL;
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **ctx)
{
    struct parley_server *s = cls;
    struct req *r = *ctx;
    (void)version;

    if (!r) {
        r = parley__calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->s = s;
        r->conn = conn;
        r->method = method;
        r->url = url;
        atomic_fetch_add(&s->active, 1);
        *ctx = r;
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        /* Event batches may be larger than other bodies (docs/proactive.md). */
        r->max_body = s->cfg.max_body;
        if (strcmp(method, "POST") == 0 && strcmp(url, "/v1/events") == 0 &&
            r->max_body < PARLEY_PROACTIVE_MAX_BATCH)
            r->max_body = PARLEY_PROACTIVE_MAX_BATCH;
        if (cl && strtoull(cl, NULL, 10) > r->max_body)
            r->too_big = 1;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big && r->len + *upload_size <= r->max_body) {
            /* Not realloc: the old buffer may hold a customer's message,
             * wiped before it is freed like the final one (docs/pii.md). */
            char *nb = parley__malloc(r->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            if (r->len)
                memcpy(nb, r->body, r->len);
            parley__free_secure(r->body, r->len + 1);
            r->body = nb;
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
            r->body[r->len] = '\0';
        } else {
            r->too_big = 1;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "OPTIONS") == 0) {
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        (void)MHD_add_response_header(resp, "Access-Control-Allow-Methods",
                                      "GET, POST, DELETE, OPTIONS");
        (void)MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                      "Authorization, Content-Type, Last-Event-ID");
        (void)MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        r->status = 204;
        r->special = resp;
        return respond(r);
    }
    if (atomic_load(&s->stopping) && strcmp(url, "/healthz") != 0) {
        req_error(r, 503, "unavailable", "the server is stopping");
        return respond(r);
    }
    dispatch(r);
    return respond(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    struct parley_server *s = cls;
    struct req *r = *ctx;
    (void)conn;
    (void)toe;
    if (!r)
        return;
    json_decref(r->json);
    if (r->special)
        MHD_destroy_response(r->special);
    parley__free_secure(r->body, r->len + 1);
    parley__free(r);
    *ctx = NULL;
    atomic_fetch_sub(&s->active, 1);
}

static parley_err open_engine(struct parley_server *s, const parley_server_config *c,
                              struct engine **out, parley_error *err)
{
    parley_dialog_options o;
    struct engine *e = parley__calloc(1, sizeof(*e));
    if (!e)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    memset(&o, 0, sizeof(o));
    o.bot_dir = c->bot_dir;
    o.models_dir = c->models_dir;
    o.store_url = c->store_url;
    o.backend_url = c->backend_url[0] ? c->backend_url : NULL;
    o.idle_minutes = c->idle_minutes;
    o.verify_idle_minutes = c->verify_idle_minutes;
    o.audit_url = c->audit_url[0] ? c->audit_url : NULL;
    o.audit_key = c->audit_key[0] ? c->audit_key : NULL;
    o.pii_transcript = c->pii_transcript[0] ? c->pii_transcript : NULL;
    char vault[1100];
    (void)snprintf(vault, sizeof(vault), "%.1000s/vault.db", c->data_dir);
    o.pii_hash_key = c->pii_hash_key[0] ? c->pii_hash_key : NULL;
    o.pii_vault = vault;
    o.pii_vault_key = c->pii_vault_key[0] ? c->pii_vault_key : NULL;
    parley_store_master_key keys[PARLEY_STORE_MAX_MASTER_KEYS];
    parley_store_options so;
    parley_err rc = parley_server_store_options(c, keys, &so, err);
    if (rc == PARLEY_OK) {
        o.store_options = &so;
        rc = parley_dialog_open(&o, &e->d, err);
        parley_server_store_options_clear(keys, &so);
    }
    if (rc == PARLEY_OK &&
        (rc = parley_dialog_proactive(e->d, 0, srv_deliver, s, &e->pro, err)) != PARLEY_OK)
        parley_dialog_close(e->d);
    if (rc != PARLEY_OK) {
        parley__free(e);
        return rc;
    }
    atomic_init(&e->refs, 1);
    *out = e;
    return PARLEY_OK;
}

parley_err parley_server_reload(struct parley_server *s, const char *bot_dir,
                                const char *models_dir, parley_error *err)
{
    parley_server_config c = s->cfg;
    struct engine *fresh = NULL, *old;
    if (bot_dir &&
        (size_t)snprintf(c.bot_dir, sizeof(c.bot_dir), "%s", bot_dir) >= sizeof(c.bot_dir))
        return parley_error_set(err, PARLEY_ERR_LIMIT, "bot path too long");
    if (models_dir && (size_t)snprintf(c.models_dir, sizeof(c.models_dir), "%s", models_dir) >=
                          sizeof(c.models_dir))
        return parley_error_set(err, PARLEY_ERR_LIMIT, "models path too long");
    if (bot_dir && !models_dir)
        (void)snprintf(c.models_dir, sizeof(c.models_dir), "%.1000s/models", bot_dir);
    parley_err rc = open_engine(s, &c, &fresh, err);
    if (rc != PARLEY_OK) {
        atomic_fetch_add(&s->met.reload_failures, 1);
        return rc;
    }
    (void)pthread_mutex_lock(&s->engine_mu);
    old = s->engine;
    s->engine = fresh;
    memcpy(s->cfg.bot_dir, c.bot_dir, sizeof(c.bot_dir));
    memcpy(s->cfg.models_dir, c.models_dir, sizeof(c.models_dir));
    (void)pthread_mutex_unlock(&s->engine_mu);
    engine_put(old); /* closes when its last running turn ends */
    atomic_fetch_add(&s->met.reloads, 1);
    return PARLEY_OK;
}

parley_err parley_server_start(const parley_server_config *c, parley_server **out,
                               parley_error *err)
{
    struct parley_server *s = parley__calloc(1, sizeof(*s));
    struct sockaddr_in addr;
    parley_err rc;

    if (!s)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start server: out of memory");
    s->cfg = *c;
    s->started = now_s();
    (void)pthread_mutex_init(&s->engine_mu, NULL);
    for (size_t i = 0; i < sizeof(s->conv_mu) / sizeof(s->conv_mu[0]); i++)
        (void)pthread_mutex_init(&s->conv_mu[i], NULL);
    met_init(&s->met);
    if (!(s->cix = cix_new())) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start server: out of memory");
        goto fail;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)c->port);
    if (inet_pton(AF_INET, c->bind, &addr.sin_addr) != 1) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "cannot start server: bind address '%s' is not an IPv4 address",
                              c->bind);
        goto fail;
    }
    parley_audit_options ao = {0};
    parley_pii_options po = {0};
    ao.signing_key_path = c->audit_key[0] ? c->audit_key : NULL;
    if ((rc = parley_server_store_open(c, &s->store, err)) != PARLEY_OK ||
        (c->audit_url[0] &&
         (rc = parley_audit_open(c->audit_url, &ao, &s->audit, err)) != PARLEY_OK) ||
        (rc = open_engine(s, c, &s->engine, err)) != PARLEY_OK ||
        (rc = web_load(c->web_dir, &s->web, err)) != PARLEY_OK)
        goto fail;
    /* From here on the library's messages reach standard error, with the
     * bot's identifiers and every other personal value redacted. */
    po.identifiers = parley_bot_pii_identifiers(parley_dialog_bot(s->engine->d), &po.n_identifiers);
    if ((rc = parley_pii_log_install(&po, stderr, PARLEY_LOG_INFO, err)) != PARLEY_OK ||
        (rc = sweeper_start(c, &s->sweeper, err)) != PARLEY_OK ||
        (rc = proactive_start(s, err)) != PARLEY_OK ||
        (c->nats_url[0] && (rc = intake_nats_start(s, &s->nats, err)) != PARLEY_OK))
        goto fail;
    if (!parley_store_encrypted(s->store))
        PARLEY_LOG(PARLEY_LOG_WARN, "conversation content is stored unencrypted: set master_key "
                                    "(docs/server.md)");
    s->rl = rl_new(c->rate, c->burst);
    s->hub = hub_new(&s->met.streams_open);
    if (!s->rl || !s->hub) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start server: out of memory");
        goto fail;
    }
    s->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ITC | MHD_USE_ERROR_LOG,
        (uint16_t)c->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)c->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)c->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(c->max_header + 16 * 1024),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned int)1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->mhd) {
        rc = parley_error_set(err, PARLEY_ERR_IO,
                              "cannot start server: cannot listen on %s:%u (in use, or no "
                              "permission)",
                              c->bind, c->port);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : c->port;
    *out = s;
    return PARLEY_OK;
fail:
    parley_server_stop(s, 0);
    return rc;
}

unsigned parley_server_port(const parley_server *s)
{
    return s ? s->port : 0;
}

parley_store *parley_server_store(parley_server *s)
{
    return s ? s->store : NULL;
}

void parley_server_stop(parley_server *s, unsigned grace_ms)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    if (s->mhd) {
        /* No new connections; running turns finish (each commits before
         * it answers), streams are told to end. */
        (void)MHD_quiesce_daemon(s->mhd);
        hub_shutdown(s->hub);
        double until = now_s() + grace_ms / 1000.0;
        while (atomic_load(&s->active) > 0 && now_s() < until) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            (void)nanosleep(&ts, NULL);
        }
        MHD_stop_daemon(s->mhd);
    }
    /* Before the engine and the store it feeds go, and the streams its
     * messages may go to. */
    intake_nats_stop(s->nats);
    proactive_stop(s);
    hub_free(s->hub);
    sweeper_stop(s->sweeper);
    parley_pii_log_uninstall();
    engine_put(s->engine);
    parley_store_close(s->store);
    parley_audit_close(s->audit);
    rl_free(s->rl);
    web_free(s->web);
    met_destroy(&s->met);
    cix_free(s->cix);
    for (size_t i = 0; i < sizeof(s->conv_mu) / sizeof(s->conv_mu[0]); i++)
        (void)pthread_mutex_destroy(&s->conv_mu[i]);
    (void)pthread_mutex_destroy(&s->engine_mu);
    parley__free(s);
}
