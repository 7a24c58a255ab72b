/* telco-sim: the HTTP layer on libmicrohttpd — body collection with a size
 * cap, routing, fault injection, transactions and Idempotency-Key replay. */
#include "telco.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct conn_ctx {
    char *buf;
    size_t len;
    int too_big;
};

int telco_err(json_t **out, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_decref(*out);
    *out = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    return status;
}

const char *telco_query(struct telco_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct allowed_ctx {
    const char *const *allowed;
    const char *bad;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    (void)value;
    struct allowed_ctx *a = cls;
    for (const char *const *p = a->allowed; *p; p++)
        if (strcmp(*p, key) == 0)
            return MHD_YES;
    a->bad = key;
    return MHD_NO;
}

int telco_query_only(struct telco_req *r, json_t **out, const char *const *allowed)
{
    struct allowed_ctx a = {allowed, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &a);
    if (a.bad)
        return telco_err(out, 400, "invalid_query", "unknown query parameter '%.64s'", a.bad);
    return 0;
}

int telco_body_string(struct telco_req *r, json_t **out, const char *key, int required,
                      const char **v)
{
    json_t *j = json_object_get(r->body, key);
    if (!j && !required) {
        *v = NULL;
        return 0;
    }
    if (!json_is_string(j) || json_string_length(j) == 0 || json_string_length(j) > 1024)
        return telco_err(out, 400, "invalid_field", "'%s' must be a non-empty string", key);
    *v = json_string_value(j);
    return 0;
}

int telco_body_number(struct telco_req *r, json_t **out, const char *key, double *v)
{
    json_t *j = json_object_get(r->body, key);
    if (!json_is_number(j))
        return telco_err(out, 400, "invalid_field", "'%s' must be a number", key);
    *v = json_number_value(j);
    return 0;
}

int telco_body_bool(struct telco_req *r, json_t **out, const char *key, int *v)
{
    json_t *j = json_object_get(r->body, key);
    if (!json_is_boolean(j))
        return telco_err(out, 400, "invalid_field", "'%s' must be true or false", key);
    *v = json_is_true(j);
    return 0;
}

/* Matches "/lines/ * /refuel"-style patterns segment by segment. */
static int match(const char *pattern, char *const *segs, int nseg)
{
    int i = 0;
    const char *p = pattern;
    while (*p) {
        if (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0)
            break;
        if (i >= nseg)
            return 0;
        if (!(len == 1 && *p == '*') && (strlen(segs[i]) != len || memcmp(segs[i], p, len) != 0))
            return 0;
        i++;
        p += len;
    }
    return i == nseg;
}

static const struct telco_route *find_route(const char *method, char *const *segs, int nseg,
                                            int *wrong_method)
{
    const struct telco_route *tables[] = {telco_account_routes, telco_line_routes,
                                          telco_sim_routes};
    *wrong_method = 0;
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (const struct telco_route *r = tables[t]; r->method; r++)
            if (match(r->pattern, segs, nseg)) {
                if (strcmp(r->method, method) == 0)
                    return r;
                *wrong_method = 1;
            }
    return NULL;
}

static unsigned long long fnv1a(const char *s, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Looks up a stored response for key; 1 = replay (fills status/text),
 * 0 = new key, -1 = key reused with another request (fills *out). */
static int idem_lookup(const char *key, const char *fp, int *status, char **text, json_t **out)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(telco_db, "SELECT fingerprint,status,body FROM idem WHERE key=?", -1,
                           &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(st, 0), fp) != 0) {
            *status = telco_err(out, 422, "idempotency_key_reused",
                                "Idempotency-Key was already used for a different request");
            rc = -1;
        } else {
            *status = sqlite3_column_int(st, 1);
            *text = strdup((const char *)sqlite3_column_text(st, 2));
            rc = 1;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int idem_store(const char *key, const char *fp, int status, const char *text)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(telco_db,
                           "INSERT INTO idem(key,fingerprint,status,body) VALUES(?,?,?,?)", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, fp, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, status);
        sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Runs a handler in one transaction; POSTs go through the idempotency table.
 * Returns the status and the response text (caller frees). */
static int run(const struct telco_route *route, struct telco_req *r, const struct conn_ctx *ctx,
               char **text, int *replayed)
{
    json_t *out = NULL;
    int status;
    int is_post = strcmp(r->method, "POST") == 0;
    const char *key =
        is_post ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key") : NULL;
    char fp[600];
    if (key && (strlen(key) == 0 || strlen(key) > 200)) {
        status = telco_err(&out, 400, "invalid_idempotency_key",
                           "Idempotency-Key must be 1 to 200 characters");
        goto done;
    }
    (void)snprintf(fp, sizeof(fp), "%s %.500s %016llx", r->method, r->path,
                   fnv1a(ctx->buf ? ctx->buf : "", ctx->len));
    telco_lock();
    if (telco_exec(is_post ? "BEGIN IMMEDIATE" : "BEGIN")) {
        telco_unlock();
        status = telco_err(&out, 500, "internal", "cannot start a transaction");
        goto done;
    }
    if (key) {
        int hit = idem_lookup(key, fp, &status, text, &out);
        if (hit != 0) {
            (void)telco_exec("ROLLBACK");
            telco_unlock();
            *replayed = hit == 1;
            if (hit == 1)
                return status;
            goto done;
        }
    }
    status = route->fn(r, &out);
    if (!out)
        status = telco_err(&out, 500, "internal", "handler produced no body");
    *text = json_dumps(out, TELCO_JSON);
    int ok = status < 500 && *text;
    if (ok && key)
        ok = idem_store(key, fp, status, *text) == 0;
    if (ok)
        ok = telco_exec("COMMIT") == 0;
    if (!ok) {
        (void)telco_exec("ROLLBACK");
        if (status < 500)
            status = telco_err(&out, 500, "internal", "cannot commit the change");
        free(*text);
        *text = NULL;
    }
    telco_unlock();
    if (ok && is_post)
        telco_events_kick();
done:
    if (!*text)
        *text = json_dumps(out, TELCO_JSON);
    json_decref(out);
    return status;
}

/* Routes, applies faults and runs the request. *drop set: close silently. */
static int dispatch(struct MHD_Connection *conn, const char *method, const char *url,
                    struct conn_ctx *ctx, char **text, int *drop, int *replayed)
{
    json_t *out = NULL;
    int status = 0;
    char path[1024];
    struct telco_req r = {.method = method, .path = url, .conn = conn};
    if (strlen(url) >= sizeof(path)) {
        status = telco_err(&out, 414, "uri_too_long", "request path is too long");
        goto done;
    }
    memcpy(path, url, strlen(url) + 1);
    for (char *save = NULL, *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (r.nseg == TELCO_MAX_SEGS) {
            status = telco_err(&out, 404, "not_found", "no such route");
            goto done;
        }
        r.segs[r.nseg++] = s;
    }
    int wrong = 0;
    const struct telco_route *route = find_route(method, r.segs, r.nseg, &wrong);
    if (!route) {
        status = wrong
                     ? telco_err(&out, 405, "method_not_allowed", "%s is not allowed here", method)
                     : telco_err(&out, 404, "not_found", "no such route");
        goto done;
    }
    if (strncmp(url, "/sim/faults", 11) != 0) {
        struct telco_fault_hit hit = {0, 0, 0};
        telco_faults_roll(url, &hit);
        if (hit.latency_ms > 0)
            sleep_ms(hit.latency_ms);
        if (hit.error) {
            status = telco_err(&out, 503, "fault_injected", "injected failure (simulated)");
            goto done;
        }
        *drop = hit.drop;
    }
    if (ctx->too_big) {
        status =
            telco_err(&out, 413, "body_too_large", "request body exceeds %d bytes", TELCO_MAX_BODY);
        goto done;
    }
    if (strcmp(method, "POST") == 0) {
        if (ctx->len == 0) {
            r.body = json_object();
        } else {
            json_error_t jerr;
            r.body = json_loadb(ctx->buf, ctx->len, JSON_REJECT_DUPLICATES, &jerr);
            if (!r.body) {
                status =
                    telco_err(&out, 400, "invalid_json", "body is not valid JSON: %s", jerr.text);
                goto done;
            }
            if (!json_is_object(r.body)) {
                status = telco_err(&out, 400, "invalid_json", "body must be a JSON object");
                goto done;
            }
        }
    }
    status = run(route, &r, ctx, text, replayed);
done:
    json_decref(r.body);
    if (!*text)
        *text = json_dumps(out, TELCO_JSON);
    json_decref(out);
    return status;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, const char *text,
                                 int replayed)
{
    const char *t = text ? text : "{\"error\":{\"code\":\"internal\",\"message\":\"no body\"}}";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(t), (void *)(uintptr_t)t, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    (void)MHD_add_response_header(resp, "Content-Type", "application/json");
    if (replayed)
        (void)MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned int)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct conn_ctx *ctx = *con_cls;
    if (!ctx) {
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
            return MHD_NO;
        *con_cls = ctx;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > TELCO_MAX_BODY) {
            ctx->too_big = 1;
            json_t *out = NULL;
            int st = telco_err(&out, 413, "body_too_large", "request body exceeds %d bytes",
                               TELCO_MAX_BODY);
            char *t = json_dumps(out, TELCO_JSON);
            json_decref(out);
            enum MHD_Result rc = send_text(conn, st, t, 0);
            free(t);
            return rc;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!ctx->too_big && ctx->len + *upload_data_size <= TELCO_MAX_BODY) {
            char *nb = realloc(ctx->buf, ctx->len + *upload_data_size + 1);
            if (!nb)
                return MHD_NO;
            ctx->buf = nb;
            memcpy(ctx->buf + ctx->len, upload_data, *upload_data_size);
            ctx->len += *upload_data_size;
        } else {
            ctx->too_big = 1;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    char *text = NULL;
    int drop = 0, replayed = 0;
    int status = dispatch(conn, method, url, ctx, &text, &drop, &replayed);
    if (drop) {
        free(text);
        return MHD_NO; /* the work is done and committed; the response is lost */
    }
    enum MHD_Result rc = send_text(conn, status, text, replayed);
    free(text);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct conn_ctx *ctx = *con_cls;
    if (ctx) {
        free(ctx->buf);
        free(ctx);
        *con_cls = NULL;
    }
}

struct MHD_Daemon *telco_http_start(const char *host, int port, unsigned long fault_seed,
                                    int *bound_port)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        (void)fprintf(stderr, "telco-sim: '%s' is not an IPv4 address\n", host);
        return NULL;
    }
    telco_faults_seed(fault_seed);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, (uint16_t)port, NULL, NULL, on_request,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)4, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        (void)fprintf(stderr, "telco-sim: cannot listen on %s:%d\n", host, port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info ? info->port : port;
    return d;
}

void telco_http_stop(struct MHD_Daemon *d)
{
    if (d)
        MHD_stop_daemon(d);
}
