/* Unit tests for src/lib/connect: definition loading and every validation
 * error (with positions), template expansion and JSON escaping, response
 * validation, and real HTTP against a scripted server on 127.0.0.1 run in
 * a thread (retries, idempotency keys, backoff, timeouts, dropped
 * connections, oversized bodies, the circuit breaker, connection reuse). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "connect/internal.h"
#include "parley/connect.h"

/* File-local functions of call.c, reachable in test builds. */
long connect_backoff_ms(long base, long max, unsigned attempt, uint64_t rnd);
int connect_idempotency_key(char out[33]);

/* ---- A scripted HTTP/1.1 server -------------------------------------- */

/* R_CLOSE: like R_JSON, then the server closes the connection. */
enum rkind { R_JSON, R_CLOSE, R_SLOW, R_DROP, R_BIG, R_BIG_CL };

struct scripted {
    enum rkind kind;
    int status;
    const char *body;
    int delay_ms;
};

#define MAX_REQ  64
#define MAX_CONN 64

static struct server {
    int lfd;
    int port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    struct scripted script[32];
    size_t nscript, next;
    struct scripted dflt;
    int connections;
    int requests;
    char methods[MAX_REQ][8];
    char paths[MAX_REQ][256];
    char keys[MAX_REQ][64];
    char auth[MAX_REQ][128];
    char bodies[MAX_REQ][256];
    pthread_t threads[MAX_CONN];
    int fds[MAX_CONN];
    int nconn;
    volatile int stopping;
} srv;

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void send_json(int fd, int status, const char *body, int close_it)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s"
                     "Content-Length: %zu\r\n\r\n",
                     status, close_it ? "Connection: close\r\n" : "", strlen(body));
    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

static void copy_header(const char *req, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = strstr(req, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            (void)snprintf(out, cap, "%.*s", (int)(e - v), v);
            return;
        }
    }
}

static void *conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    for (;;) {
        char req[8192], cl[32], body[256];
        size_t n = 0;
        long len;
        struct scripted act;
        int idx;
        /* One byte at a time: simple, and never reads into the next request. */
        while (n < sizeof(req) - 1) {
            if (recv(fd, req + n, 1, 0) != 1)
                goto done;
            n++;
            req[n] = '\0';
            if (n >= 4 && memcmp(req + n - 4, "\r\n\r\n", 4) == 0)
                break;
        }
        copy_header(req, "Content-Length", cl, sizeof(cl));
        len = cl[0] ? strtol(cl, NULL, 10) : 0;
        memset(body, 0, sizeof(body));
        for (long i = 0; i < len; i++) {
            char c;
            if (recv(fd, &c, 1, 0) != 1)
                goto done;
            if (i < (long)sizeof(body) - 1)
                body[i] = c;
        }
        pthread_mutex_lock(&srv.mu);
        idx = srv.requests++;
        if (idx < MAX_REQ) {
            (void)sscanf(req, "%7s %255s", srv.methods[idx], srv.paths[idx]);
            copy_header(req, "Idempotency-Key", srv.keys[idx], sizeof(srv.keys[idx]));
            copy_header(req, "Authorization", srv.auth[idx], sizeof(srv.auth[idx]));
            memcpy(srv.bodies[idx], body, sizeof(body));
        }
        act = srv.next < srv.nscript ? srv.script[srv.next++] : srv.dflt;
        pthread_mutex_unlock(&srv.mu);
        switch (act.kind) {
        case R_SLOW:
            for (int t = 0; t < act.delay_ms && !srv.stopping; t += 10)
                usleep(10000);
            send_json(fd, act.status, act.body, 0);
            break;
        case R_JSON:
            send_json(fd, act.status, act.body, 0);
            break;
        case R_CLOSE:
            send_json(fd, act.status, act.body, 1);
            goto done;
        case R_DROP:
            goto done;
        case R_BIG: {
            static char chunk[65536];
            const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Connection: close\r\n\r\n";
            memset(chunk, ' ', sizeof(chunk));
            send_all(fd, h, strlen(h));
            for (int i = 0; i < 32; i++)
                send_all(fd, chunk, sizeof(chunk));
            goto done;
        }
        case R_BIG_CL: {
            const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\n";
            send_all(fd, h, strlen(h));
            goto done;
        }
        }
    }
done:
    shutdown(fd, SHUT_RDWR);
    return NULL;
}

static void *accept_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(srv.lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        pthread_mutex_lock(&srv.mu);
        if (srv.stopping || srv.nconn == MAX_CONN) {
            pthread_mutex_unlock(&srv.mu);
            close(fd);
            continue;
        }
        srv.fds[srv.nconn] = fd;
        srv.connections++;
        assert_int_equal(
            pthread_create(&srv.threads[srv.nconn], NULL, conn_main, (void *)(intptr_t)fd), 0);
        srv.nconn++;
        pthread_mutex_unlock(&srv.mu);
    }
}

static void server_start(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.mu, NULL);
    srv.dflt = (struct scripted){R_JSON, 200, "{\"data_used_gb\":1.5,\"status\":\"active\"}", 0};
    srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(srv.lfd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(srv.lfd, 64), 0);
    assert_int_equal(getsockname(srv.lfd, (struct sockaddr *)&a, &al), 0);
    srv.port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&srv.acceptor, NULL, accept_main, NULL), 0);
}

static void server_stop(void)
{
    srv.stopping = 1;
    shutdown(srv.lfd, SHUT_RDWR);
    pthread_join(srv.acceptor, NULL);
    close(srv.lfd);
    for (int i = 0; i < srv.nconn; i++)
        shutdown(srv.fds[i], SHUT_RDWR);
    for (int i = 0; i < srv.nconn; i++) {
        pthread_join(srv.threads[i], NULL);
        close(srv.fds[i]);
    }
    pthread_mutex_destroy(&srv.mu);
}

static void script(size_t n, const struct scripted *s)
{
    pthread_mutex_lock(&srv.mu);
    memcpy(srv.script, s, n * sizeof(*s));
    srv.nscript = n;
    srv.next = 0;
    pthread_mutex_unlock(&srv.mu);
}

static int requests(void)
{
    pthread_mutex_lock(&srv.mu);
    int n = srv.requests;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

/* ---- Helpers --------------------------------------------------------- */

static parley_connect_def *load(const char *yaml, parley_error *e)
{
    parley_connect_def *d = NULL;
    parley_error_clear(e);
    (void)parley_connect_def_load_memory("t.yml", yaml, strlen(yaml), &d, e);
    return d;
}

static const char *load_error(const char *yaml)
{
    static parley_error e;
    parley_connect_def *d = load(yaml, &e);
    assert_null(d);
    assert_int_equal(e.code, PARLEY_ERR_FORMAT);
    return e.msg;
}

#define ASSERT_CONTAINS(hay, needle)                                                               \
    do {                                                                                           \
        if (!strstr((hay), (needle)))                                                              \
            fail_msg("'%s' does not contain '%s'", (hay), (needle));                               \
    } while (0)

/* The definition the HTTP tests run against, on port `port`. */
static char *http_def_yaml(int port, const char *auth, int attempts)
{
    static char buf[4096];
    (void)snprintf(
        buf, sizeof(buf),
        "name: test\n"
        "base_url: http://127.0.0.1:%d/\n"
        "auth: %s\n"
        "timeouts: {connect_ms: 200, total_ms: 300}\n"
        "retry: {max_attempts: %d, base_delay_ms: 10, max_delay_ms: 40}\n"
        "breaker: {failure_threshold: 3, cooldown_ms: 300}\n"
        "max_response_bytes: 65536\n"
        "operations:\n"
        "  get_line:\n"
        "    method: GET\n"
        "    path: /lines/{line_id}\n"
        "    params: {line_id: string}\n"
        "    facts:\n"
        "      - {name: data_used_gb, path: data_used_gb, type: number, sensitivity: account}\n"
        "      - {name: status, path: status, type: string, sensitivity: account}\n"
        "  refuel_data:\n"
        "    method: POST\n"
        "    path: /lines/{line_id}/refuel\n"
        "    params: {line_id: string, gb: number}\n"
        "    body: '{\"gb\": {gb}}'\n"
        "    write: true\n"
        "  search:\n"
        "    method: POST\n"
        "    path: /search\n"
        "    params: {q: string}\n"
        "    body: '{\"q\": {q}}'\n"
        "    write: false\n",
        port, auth, attempts);
    return buf;
}

struct fixture {
    parley_connect_def *def;
    parley_connector *c;
};

static struct fixture fixture_new(const char *auth, int attempts)
{
    struct fixture f = {NULL, NULL};
    parley_error e = PARLEY_ERROR_INIT;
    f.def = load(http_def_yaml(srv.port, auth, attempts), &e);
    if (!f.def)
        fail_msg("%s", e.msg);
    if (parley_connector_new(f.def, &f.c, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    return f;
}

static void fixture_free(struct fixture *f)
{
    parley_connector_free(f->c);
    parley_connect_def_free(f->def);
}

static parley_connect_result *call1(parley_connector *c, const char *op, const char *n1,
                                    const char *v1, const char *n2, const char *v2)
{
    parley_connect_param p[2] = {{n1, v1}, {n2, v2}};
    parley_connect_result *r = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    size_t n = n2 ? 2 : (n1 ? 1 : 0);
    if (parley_connect_call(c, op, p, n, &r, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    return r;
}

static int setup_server(void **state)
{
    (void)state;
    server_start();
    return 0;
}

static int teardown_server(void **state)
{
    (void)state;
    server_stop();
    return 0;
}

/* ---- Definitions ----------------------------------------------------- */

static void test_def_load_telco_sim(void **state)
{
    char path[1024];
    const char *src = getenv("PARLEY_SOURCE_DIR");
    parley_connect_def *d = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const struct connect_op *op;
    (void)state;
    (void)snprintf(path, sizeof(path), "%s/bots/carrier/connectors/telco-sim.yml", src ? src : ".");
    if (parley_connect_def_load(path, &d, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    assert_string_equal(parley_connect_def_name(d), "telco-sim");
    assert_true(parley_connect_def_op_count(d) >= 15);
    op = parley__connect_find_op(d, "refuel_data");
    assert_non_null(op);
    assert_int_equal(op->method, CONNECT_POST);
    assert_true(op->write);
    assert_string_equal(op->path, "/lines/{line_id}/refuel");
    op = parley__connect_find_op(d, "list_plans");
    assert_non_null(op);
    assert_true(op->fields[1].has_each);
    assert_string_equal(op->fields[1].segs[0].key, "plans");
    assert_string_equal(op->fields[1].segs[1].key, "name");
    op = parley__connect_find_op(d, "get_line");
    assert_false(op->write);
    assert_null(parley_connect_def_op_name(d, 1000));
    parley_connect_def_free(d);
    parley_connect_def_free(NULL);
}

static void test_def_defaults(void **state)
{
    parley_error e;
    parley_connect_def *d = load("name: t\nbase_url: https://api.example.com///\n"
                                 "auth: {type: bearer, token_env: API_TOKEN}\n"
                                 "operations:\n  a: {method: POST, path: /a}\n",
                                 &e);
    (void)state;
    if (!d) {
        fail_msg("%s", e.msg);
        return;
    }
    assert_string_equal(d->base_url, "https://api.example.com");
    assert_int_equal(d->connect_timeout_ms, 3000);
    assert_int_equal(d->total_timeout_ms, 10000);
    assert_int_equal(d->max_attempts, 3);
    assert_int_equal(d->breaker_failures, 5);
    assert_int_equal(d->max_response, 1024 * 1024);
    assert_int_equal(d->auth, CONNECT_AUTH_BEARER);
    assert_true(d->ops[0].write); /* POST defaults to a write */
    parley_connect_def_free(d);
}

#define HEAD "name: t\nbase_url: http://x\nauth: {type: none}\n"

static void test_def_errors(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {HEAD "colour: red\noperations:\n  a: {method: GET, path: /a}\n",
         "t.yml:4:1: unknown key 'colour' in the connector (expected one of: name, base_url"},
        {"base_url: http://x\nauth: {type: none}\noperations:\n  a: {method: GET, path: /a}\n",
         "t.yml:1:1: missing 'name' in the connector"},
        {"name: t\nbase_url: ftp://x\nauth: {type: none}\noperations:\n  a: {method: GET, path: "
         "/a}\n",
         "t.yml:2:11: bad URL 'ftp://x'"},
        {"name: t\nbase_url: http://user:pw@x\nauth: {type: none}\noperations:\n  a: {method: "
         "GET, path: /a}\n",
         "t.yml:2:11: bad URL"},
        {"name: t\nbase_url: http://x\nauth: {type: bearer, token: abc}\noperations:\n  a: "
         "{method: GET, path: /a}\n",
         "t.yml:3:22: a literal token is not allowed"},
        {"name: t\nbase_url: http://x\nauth: {type: bearer}\noperations:\n  a: {method: GET, "
         "path: /a}\n",
         "t.yml:3:7: bearer auth needs one of token_env or token_file"},
        {"name: t\nbase_url: http://x\nauth: {type: basic}\noperations:\n  a: {method: GET, "
         "path: /a}\n",
         "t.yml:3:14: bad auth type 'basic'"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /lines/{line_id}\n",
         "t.yml:7:11: placeholder '{line_id}' in the path is not a declared parameter"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /lines/{line_id\n"
              "    params: {line_id: string}\n",
         "t.yml:7:11: stray '{' or '}' in the path"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    params: {x: string}\n",
         "parameter 'x' of operation 'a' is not used"},
        {HEAD "operations:\n  a:\n    method: FETCH\n    path: /a\n",
         "t.yml:6:13: bad method 'FETCH' (expected GET, POST, PUT, PATCH or DELETE)"},
        {HEAD "operations:\n  a:\n    path: /a\n", "t.yml:6:5: missing 'method' in operation 'a'"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: a\n", "t.yml:7:11: bad path 'a'"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    body: '{}'\n",
         "t.yml:8:11: a GET operation cannot have a body"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    write: true\n",
         "t.yml:8:12: a GET operation cannot be a write"},
        {HEAD "operations:\n  a:\n    method: POST\n    path: /a\n    params: {x: string}\n"
              "    body: '{\"x\": {x},}'\n",
         "t.yml:9:11: the body of operation 'a' is not valid JSON once filled in"},
        {HEAD "operations:\n  a:\n    method: POST\n    path: /a\n    params: {x: date}\n"
              "    body: '{\"x\": {x}}'\n",
         "t.yml:8:17: bad parameter type 'date'"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
              "      - {name: f, path: a.b, type: number, sensitivity: secret}\n",
         "t.yml:9:57: bad sensitivity 'secret' (expected public, account or sensitive)"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
              "      - {name: f, path: a.b, type: float, sensitivity: public}\n",
         "t.yml:9:36: bad type 'float'"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
              "      - {name: f, path: a..b, type: number, sensitivity: public}\n",
         "t.yml:9:25: bad JSON path 'a..b': the path has an empty step"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
              "      - {name: f, path: 'a[].b[]', type: number, sensitivity: public}\n",
         "only one '[]'"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
              "      - {name: f, type: number, sensitivity: public}\n",
         "t.yml:9:9: missing 'path' in a fact of operation 'a'"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
              "      - {name: f, path: x, type: number}\n",
         "t.yml:9:9: missing 'sensitivity'"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
              "      - {name: f, path: x, type: number, sensitivity: public, unit: gb}\n",
         "t.yml:9:63: unknown key 'unit' in a fact"},
        {HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
              "      - {name: f, path: x, type: number, sensitivity: public}\n"
              "      - {name: f, path: y, type: number, sensitivity: public}\n",
         "t.yml:10:16: duplicate fact 'f'"},
        {HEAD "timeouts: {connect_ms: 0}\noperations:\n  a: {method: GET, path: /a}\n",
         "t.yml:4:24: 'connect_ms' must be an integer from 1 to 600000"},
        {HEAD "timeouts: {connect_ms: 500, total_ms: 100}\noperations:\n  a: {method: GET, path: "
              "/a}\n",
         "t.yml:4:11: 'connect_ms' is longer than 'total_ms'"},
        {HEAD "retry: {max_attempts: 99}\noperations:\n  a: {method: GET, path: /a}\n",
         "'max_attempts' must be an integer from 1 to 10"},
        {HEAD "breaker: {failure_threshold: x}\noperations:\n  a: {method: GET, path: /a}\n",
         "'failure_threshold' must be an integer"},
        {HEAD "operations: {}\n", "'operations' is empty"},
        {HEAD "name: u\noperations:\n  a: {method: GET, path: /a}\n",
         "t.yml:4:1: duplicate key 'name'"},
        {HEAD "operations:\n  a: {method: GET, path: /a}\n  a: {method: GET, path: /b}\n",
         "t.yml:6:3: duplicate operation 'a'"},
        {HEAD "operations:\n  a: {method: GET, path: /a\n", "t.yml:6:1: invalid YAML"},
        {"", "t.yml:1:1: the definition is empty"},
        {"- a\n- b\n", "t.yml:1:1: a connector definition must be a mapping"},
        {HEAD "operations:\n  'bad name': {method: GET, path: /a}\n", "bad operation name"},
        {"name: t\nbase_url: ftp://x\nauth: {type: none}\ncolour: red\n",
         "t.yml:2:11: bad URL 'ftp://x' (expected http:// or https://, a host, no credentials, "
         "query or fragment) (and 2 more problems)"},
    };
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *msg = load_error(cases[i].yaml);
        if (!strstr(msg, cases[i].want)) {
            print_error("case %zu: '%s' does not contain '%s'\n", i, msg, cases[i].want);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_def_file_errors(void **state)
{
    parley_connect_def *d = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    assert_int_equal(parley_connect_def_load("/nonexistent/x.yml", &d, &e), PARLEY_ERR_IO);
    ASSERT_CONTAINS(e.msg, "/nonexistent/x.yml");
    assert_null(d);
    assert_int_equal(parley_connect_def_load(NULL, &d, &e), PARLEY_ERR_INVALID);
}

/* ---- Templates ------------------------------------------------------- */

static void test_expand(void **state)
{
    parley_error e;
    parley_connect_def *d = load(
        HEAD "operations:\n  a:\n    method: POST\n    path: /l/{id}/x?q={q}\n"
             "    params: {id: string, q: string, n: number, i: integer, b: boolean, t: string}\n"
             "    body: '{\"n\": {n}, \"i\": {i}, \"b\": {b}, \"t\": {t}, \"lit\": \"{t}\", \"o\": "
             "{}}'\n",
        &e);
    const struct connect_op *op;
    char *path = NULL, *body = NULL;
    (void)state;
    if (!d) {
        fail_msg("%s", e.msg);
        return;
    }
    op = &d->ops[0];
    parley_connect_param ok[] = {{"id", "a/b c"}, {"q", "x&y=é"}, {"n", "-1.5e3"},
                                 {"i", "42"},     {"b", "false"}, {"t", "he said \"hi\"\\\n\x01"}};
    assert_int_equal(parley__connect_expand(op, ok, 6, &path, &body, &e), PARLEY_OK);
    assert_string_equal(path, "/l/a%2Fb%20c/x?q=x%26y%3D%C3%A9");
    assert_string_equal(body, "{\"n\": -1.5e3, \"i\": 42, \"b\": false, \"t\": \"he said "
                              "\\\"hi\\\"\\\\\\u000a\\u0001\", \"lit\": \"{t}\", \"o\": {}}");
    parley__free(path);
    parley__free(body);

    struct {
        const char *name, *value, *want;
    } bad[] = {
        {"n", "1.5x", "parameter 'n' must be a number"},
        {"n", "Infinity", "parameter 'n' must be a number"},
        {"n", "01", "parameter 'n' must be a number"},
        {"i", "1.5", "parameter 'i' must be an integer"},
        {"b", "yes", "parameter 'b' must be true or false"},
        {"t", "\xff", "parameter 't' is not valid UTF-8"},
        {"id", "", "parameter 'id' is empty"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        parley_connect_param ps[6];
        memcpy(ps, ok, sizeof(ps));
        for (size_t j = 0; j < 6; j++)
            if (strcmp(ps[j].name, bad[k].name) == 0)
                ps[j].value = bad[k].value;
        path = body = NULL;
        assert_int_equal(parley__connect_expand(op, ps, 6, &path, &body, &e), PARLEY_ERR_INVALID);
        ASSERT_CONTAINS(e.msg, bad[k].want);
        assert_null(path);
    }
    assert_int_equal(parley__connect_expand(op, ok, 5, &path, &body, &e), PARLEY_ERR_INVALID);
    ASSERT_CONTAINS(e.msg, "missing parameter 't' for operation 'a'");
    parley_connect_param extra[7];
    memcpy(extra, ok, sizeof(ok));
    extra[6] = (parley_connect_param){"zz", "1"};
    assert_int_equal(parley__connect_expand(op, extra, 7, &path, &body, &e), PARLEY_ERR_INVALID);
    ASSERT_CONTAINS(e.msg, "unknown parameter 'zz'");
    extra[6] = (parley_connect_param){"id", "1"};
    assert_int_equal(parley__connect_expand(op, extra, 7, &path, &body, &e), PARLEY_ERR_INVALID);
    ASSERT_CONTAINS(e.msg, "parameter 'id' given twice");
    parley_connect_def_free(d);
}

/* ---- Responses ------------------------------------------------------- */

static const char *RESP_DEF =
    HEAD "operations:\n  a:\n    method: GET\n    path: /a\n    facts:\n"
         "      - {name: used, path: line.data_used_gb, type: number, sensitivity: account}\n"
         "      - {name: roam, path: line.roaming, type: boolean, sensitivity: account}\n"
         "      - {name: names, path: 'plans[].name', type: string, sensitivity: public}\n"
         "      - {name: first, path: 'plans[0].name', type: string, sensitivity: public}\n"
         "      - {name: note, path: note, type: string, required: false, sensitivity: "
         "sensitive}\n"
         "      - {name: line, path: line, type: object, sensitivity: account}\n";

static parley_connect_result *parse(const parley_connect_def *d, long status, const char *body)
{
    parley_connect_result *r = parley__connect_result_new();
    assert_non_null(r);
    assert_int_equal(parley__connect_parse_response(&d->ops[0], status, body, strlen(body), r),
                     PARLEY_OK);
    return r;
}

static void test_response(void **state)
{
    parley_error e;
    parley_connect_def *d = load(RESP_DEF, &e);
    parley_connect_result *r;
    const parley_connect_fact *f;
    (void)state;
    if (!d) {
        fail_msg("%s", e.msg);
        return;
    }

    r = parse(d, 200,
              "{\"line\":{\"data_used_gb\":2.25,\"roaming\":true},"
              "\"plans\":[{\"name\":\"Basic\"},{\"name\":\"Max \\\"5G\\\"\"}]}");
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
    assert_int_equal(parley_connect_result_fact_count(r), 6);
    f = parley_connect_result_find(r, "used");
    assert_true(f->present);
    assert_true(f->number == 2.25);
    assert_string_equal(f->text, "2.25");
    assert_int_equal(f->sensitivity, PARLEY_CONNECT_ACCOUNT);
    f = parley_connect_result_find(r, "roam");
    assert_true(f->boolean);
    assert_string_equal(f->text, "true");
    f = parley_connect_result_find(r, "names");
    assert_true(f->is_list);
    assert_string_equal(f->json, "[\"Basic\",\"Max \\\"5G\\\"\"]");
    f = parley_connect_result_find(r, "first");
    assert_string_equal(f->text, "Basic");
    assert_string_equal(f->json, "\"Basic\"");
    f = parley_connect_result_find(r, "note");
    assert_false(f->present);
    assert_string_equal(f->json, "null");
    assert_int_equal(f->sensitivity, PARLEY_CONNECT_SENSITIVE);
    f = parley_connect_result_find(r, "line");
    assert_int_equal(f->type, PARLEY_CONNECT_OBJECT);
    assert_null(parley_connect_result_find(r, "nope"));
    assert_null(parley_connect_result_fact(r, 6));
    parley_connect_result_free(r);

    static const struct {
        long status;
        const char *body, *want;
        parley_connect_code code;
    } cases[] = {
        {200, "{\"line\":{\"roaming\":true},\"plans\":[]}",
         "missing required field "
         "'line.data_used_gb'",
         PARLEY_CONNECT_MALFORMED},
        {200, "{\"line\":{\"data_used_gb\":\"2\",\"roaming\":true},\"plans\":[]}",
         "field 'line.data_used_gb' is a string, expected a number", PARLEY_CONNECT_MALFORMED},
        {200, "{\"line\":[1],\"plans\":[]}", "field 'line.data_used_gb' has the wrong shape",
         PARLEY_CONNECT_MALFORMED},
        {200, "{\"line\":{\"data_used_gb\":1,\"roaming\":true},\"plans\":{}}",
         "field 'plans[].name' is an object where an array was expected", PARLEY_CONNECT_MALFORMED},
        {200, "{\"line\":{\"data_used_gb\":1,\"roaming\":true},\"plans\":[{\"name\":\"a\"},{}]}",
         "missing required field 'plans[].name' in element 1", PARLEY_CONNECT_MALFORMED},
        {200, "{\"line\":{\"data_used_gb\":1,\"roaming\":true},\"plans\":[{\"name\":3}]}",
         "field 'plans[].name' in element 0 is a number, expected a string",
         PARLEY_CONNECT_MALFORMED},
        {200, "{\"line\":{\"data_used_gb\":1,\"roaming\":null},\"plans\":[]}",
         "missing required field 'line.roaming'", PARLEY_CONNECT_MALFORMED},
        {200, "not json {\"secret\": 1}", "response is not valid JSON (line 1, column",
         PARLEY_CONNECT_MALFORMED},
        {200, "", "response is not valid JSON", PARLEY_CONNECT_MALFORMED},
        {200, "{\"a\":1,\"a\":2}", "response is not valid JSON", PARLEY_CONNECT_MALFORMED},
        {409, "{\"error\":{\"code\":\"line_not_active\",\"message\":\"Line is not active\"}}",
         "http 409 'line_not_active'", PARLEY_CONNECT_REJECTED},
        {404, "<html>", "http 404", PARLEY_CONNECT_REJECTED},
        {429, "{}", "http 429", PARLEY_CONNECT_UNAVAILABLE},
        {503, "{\"error\":{\"code\":\"down\",\"message\":\"m\"}}", "http 503 'down'",
         PARLEY_CONNECT_UNAVAILABLE},
        {302, "", "http 302", PARLEY_CONNECT_UNAVAILABLE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = parse(d, cases[i].status, cases[i].body);
        if (parley_connect_result_code(r) != cases[i].code)
            fail_msg("case %zu: code %s", i, parley_connect_code_name(r->code));
        ASSERT_CONTAINS(parley_connect_result_message(r), cases[i].want);
        assert_null(strstr(parley_connect_result_message(r), "secret"));
        assert_int_equal(parley_connect_result_fact_count(r), 0);
        parley_connect_result_free(r);
    }
    r = parse(d, 409, "{\"error\":{\"code\":\"line_not_active\",\"message\":\"Line is off\"}}");
    assert_string_equal(parley_connect_result_backend_code(r), "line_not_active");
    assert_string_equal(parley_connect_result_backend_message(r), "Line is off");
    assert_int_equal(parley_connect_result_http_status(r), 409);
    parley_connect_result_free(r);
    parley_connect_def_free(d);
}

static void test_backoff_and_key(void **state)
{
    char k1[33], k2[33];
    (void)state;
    for (uint64_t rnd = 0; rnd < 5000; rnd += 7) {
        assert_true(connect_backoff_ms(100, 1000, 1, rnd) <= 100);
        assert_true(connect_backoff_ms(100, 1000, 3, rnd) <= 400);
        assert_true(connect_backoff_ms(100, 1000, 9, rnd) <= 1000);
    }
    assert_int_equal(connect_backoff_ms(100, 1000, 3, 400), 400);
    assert_int_equal(connect_backoff_ms(100, 1000, 30, 1000), 1000);
    assert_int_equal(connect_backoff_ms(0, 1000, 3, 12345), 0);
    assert_int_equal(connect_idempotency_key(k1), 0);
    assert_int_equal(connect_idempotency_key(k2), 0);
    assert_int_equal(strlen(k1), 32);
    assert_int_equal(strspn(k1, "0123456789abcdef"), 32);
    assert_string_not_equal(k1, k2);
    assert_string_equal(parley_connect_code_name(PARLEY_CONNECT_CIRCUIT_OPEN), "circuit_open");
    assert_string_equal(parley_connect_code_name((parley_connect_code)99), "unknown");
}

/* ---- HTTP ------------------------------------------------------------ */

static void test_http_ok_and_reuse(void **state)
{
    struct fixture f = fixture_new("{type: none}", 3);
    parley_connect_result *r;
    (void)state;
    for (int i = 0; i < 5; i++) {
        r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
        assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
        assert_string_equal(parley_connect_result_message(r), "");
        assert_int_equal(parley_connect_result_http_status(r), 200);
        assert_int_equal(parley_connect_result_attempts(r), 1);
        assert_true(parley_connect_result_latency_ms(r) > 0);
        assert_null(parley_connect_result_idempotency_key(r));
        assert_true(parley_connect_result_find(r, "data_used_gb")->number == 1.5);
        assert_string_equal(parley_connect_result_find(r, "status")->text, "active");
        parley_connect_result_free(r);
    }
    assert_int_equal(requests(), 5);
    assert_int_equal(srv.connections, 1); /* keep-alive: one TCP connection */
    assert_string_equal(srv.methods[0], "GET");
    assert_string_equal(srv.paths[0], "/lines/L1");
    assert_string_equal(srv.keys[0], "");
    assert_string_equal(srv.auth[0], "");

    r = call1(f.c, "get_line", "line_id", "a/b?c", NULL, NULL);
    assert_string_equal(srv.paths[5], "/lines/a%2Fb%3Fc");
    parley_connect_result_free(r);
    fixture_free(&f);
}

static void test_http_rejected(void **state)
{
    struct fixture f = fixture_new("{type: none}", 3);
    struct scripted s[] = {
        {R_JSON, 409, "{\"error\":{\"code\":\"line_not_active\",\"message\":\"Line L1 off\"}}", 0}};
    parley_connect_result *r;
    (void)state;
    script(1, s);
    r = call1(f.c, "refuel_data", "line_id", "L1", "gb", "1.5");
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_REJECTED);
    assert_int_equal(parley_connect_result_attempts(r), 1); /* 4xx is not retried */
    assert_int_equal(parley_connect_result_http_status(r), 409);
    assert_string_equal(parley_connect_result_backend_code(r), "line_not_active");
    assert_string_equal(parley_connect_result_backend_message(r), "Line L1 off");
    ASSERT_CONTAINS(parley_connect_result_message(r),
                    "call 'refuel_data' on 'test' failed: rejected: http 409 'line_not_active'");
    assert_string_equal(srv.methods[0], "POST");
    assert_string_equal(srv.bodies[0], "{\"gb\": 1.5}");
    parley_connect_result_free(r);
    fixture_free(&f);
}

static void test_http_write_retries_same_key(void **state)
{
    struct fixture f = fixture_new("{type: none}", 3);
    /* 503 closes the connection, so the drop happens on a fresh one (a
     * drop on a reused connection is retried inside libcurl). */
    struct scripted s[] = {{R_CLOSE, 503, "{}", 0}, {R_DROP, 0, NULL, 0}, {R_JSON, 200, "{}", 0}};
    parley_connect_result *r;
    char key[33];
    (void)state;
    script(3, s);
    r = call1(f.c, "refuel_data", "line_id", "L1", "gb", "2");
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
    assert_int_equal(parley_connect_result_attempts(r), 3);
    assert_non_null(parley_connect_result_idempotency_key(r));
    (void)snprintf(key, sizeof(key), "%s", parley_connect_result_idempotency_key(r));
    assert_int_equal(strlen(key), 32);
    assert_int_equal(requests(), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(srv.keys[i], key);
        assert_string_equal(srv.bodies[i], "{\"gb\": 2}");
    }
    parley_connect_result_free(r);

    /* A new call gets a new key. */
    r = call1(f.c, "refuel_data", "line_id", "L1", "gb", "2");
    assert_string_not_equal(srv.keys[3], key);
    assert_string_equal(srv.keys[3], parley_connect_result_idempotency_key(r));
    parley_connect_result_free(r);
    fixture_free(&f);
}

static void test_http_no_retry_non_idempotent(void **state)
{
    struct fixture f = fixture_new("{type: none}", 3);
    struct scripted s[] = {{R_JSON, 503, "{}", 0}};
    parley_connect_result *r;
    (void)state;
    script(1, s);
    r = call1(f.c, "search", "q", "x", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_UNAVAILABLE);
    assert_int_equal(parley_connect_result_attempts(r), 1);
    assert_null(parley_connect_result_idempotency_key(r));
    assert_string_equal(srv.keys[0], "");
    assert_int_equal(requests(), 1);
    parley_connect_result_free(r);
    fixture_free(&f);
}

static void test_http_get_retries_and_backoff(void **state)
{
    struct fixture f = fixture_new("{type: none}", 4);
    struct scripted s[] = {{R_JSON, 503, "{}", 0},
                           {R_JSON, 502, "{}", 0},
                           {R_JSON, 500, "{}", 0},
                           {R_JSON, 503, "{}", 0}};
    parley_connect_result *r;
    (void)state;
    script(4, s);
    r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_UNAVAILABLE);
    assert_int_equal(parley_connect_result_attempts(r), 4);
    assert_int_equal(parley_connect_result_http_status(r), 503);
    /* Backoff is bounded: at most 10 + 20 + 40 ms of sleep. */
    assert_true(parley_connect_result_latency_ms(r) < 1000);
    assert_int_equal(requests(), 4);
    parley_connect_result_free(r);
    fixture_free(&f);
}

static void test_http_timeout(void **state)
{
    struct fixture f = fixture_new("{type: none}", 2);
    struct scripted s[] = {{R_SLOW, 200, "{\"data_used_gb\":1,\"status\":\"a\"}", 1500},
                           {R_SLOW, 200, "{\"data_used_gb\":1,\"status\":\"a\"}", 1500}};
    parley_connect_result *r;
    (void)state;
    script(2, s);
    r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_TIMEOUT);
    assert_int_equal(parley_connect_result_attempts(r), 2);
    assert_true(parley_connect_result_latency_ms(r) >= 550);
    assert_true(parley_connect_result_latency_ms(r) < 1400);
    parley_connect_result_free(r);
    fixture_free(&f);
}

static void test_http_malformed(void **state)
{
    struct fixture f = fixture_new("{type: none}", 3);
    struct scripted s[] = {{R_BIG, 0, NULL, 0},
                           {R_BIG_CL, 0, NULL, 0},
                           {R_JSON, 200, "{\"data_used_gb\": 1", 0},
                           {R_CLOSE, 200, "{\"data_used_gb\": true, \"status\": \"x\"}", 0},
                           {R_DROP, 0, NULL, 0},
                           {R_DROP, 0, NULL, 0},
                           {R_DROP, 0, NULL, 0}};
    static const struct {
        parley_connect_code code;
        const char *want;
    } want[] = {
        {PARLEY_CONNECT_MALFORMED, "response larger than 65536 bytes"},
        {PARLEY_CONNECT_MALFORMED, "response larger than 65536 bytes"},
        {PARLEY_CONNECT_MALFORMED, "response is not valid JSON"},
        {PARLEY_CONNECT_MALFORMED, "field 'data_used_gb' is a boolean, expected a number"},
        {PARLEY_CONNECT_UNAVAILABLE, "failed: unavailable: "},
    };
    (void)state;
    script(7, s);
    for (size_t i = 0; i < 5; i++) {
        parley_connect_result *r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
        if (parley_connect_result_code(r) != want[i].code)
            fail_msg("case %zu: %s", i, parley_connect_result_message(r));
        ASSERT_CONTAINS(parley_connect_result_message(r), want[i].want);
        assert_int_equal(parley_connect_result_attempts(r), i == 4 ? 3 : 1);
        assert_int_equal(parley_connect_result_fact_count(r), 0);
        parley_connect_result_free(r);
    }
    fixture_free(&f);
}

static void test_http_refused_and_bad_request(void **state)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), closed_port;
    parley_connect_def *d;
    parley_connector *c = NULL;
    parley_connect_result *r = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    closed_port = ntohs(a.sin_port);
    close(fd);
    d = load(http_def_yaml(closed_port, "{type: none}", 2), &e);
    assert_non_null(d);
    assert_int_equal(parley_connector_new(d, &c, &e), PARLEY_OK);
    r = call1(c, "get_line", "line_id", "L1", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_UNAVAILABLE);
    assert_int_equal(parley_connect_result_attempts(r), 2);
    assert_int_equal(parley_connect_result_http_status(r), 0);
    parley_connect_result_free(r);

    r = call1(c, "refuel_data", "line_id", "L1", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_BAD_REQUEST);
    assert_int_equal(parley_connect_result_attempts(r), 0);
    ASSERT_CONTAINS(parley_connect_result_message(r), "missing parameter 'gb'");
    parley_connect_result_free(r);

    r = call1(c, "refuel_data", "line_id", "L1", "gb", "lots");
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_BAD_REQUEST);
    parley_connect_result_free(r);

    r = NULL;
    assert_int_equal(parley_connect_call(c, "nope", NULL, 0, &r, &e), PARLEY_ERR_NOTFOUND);
    ASSERT_CONTAINS(e.msg, "cannot call 'nope': connector 'test' has no such operation");
    assert_null(r);
    assert_int_equal(parley_connect_call(NULL, "nope", NULL, 0, &r, &e), PARLEY_ERR_INVALID);
    parley_connector_free(c);
    parley_connector_free(NULL);
    parley_connect_def_free(d);
}

static void test_http_breaker(void **state)
{
    struct fixture f = fixture_new("{type: none}", 1);
    struct scripted s[] = {{R_JSON, 503, "{}", 0},
                           {R_JSON, 503, "{}", 0},
                           {R_JSON, 503, "{}", 0},
                           {R_JSON, 503, "{}", 0}};
    parley_connect_result *r;
    (void)state;
    script(4, s);
    for (int i = 0; i < 3; i++) {
        r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
        assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_UNAVAILABLE);
        parley_connect_result_free(r);
    }
    /* Open: fail fast without touching the backend. */
    r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_CIRCUIT_OPEN);
    assert_int_equal(parley_connect_result_attempts(r), 0);
    assert_true(parley_connect_result_latency_ms(r) < 50);
    parley_connect_result_free(r);
    assert_int_equal(requests(), 3);

    /* After the cool-down one probe goes through; it fails: open again. */
    usleep(350 * 1000);
    r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_UNAVAILABLE);
    assert_int_equal(parley_connect_result_attempts(r), 1);
    parley_connect_result_free(r);
    assert_int_equal(requests(), 4);
    r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_CIRCUIT_OPEN);
    parley_connect_result_free(r);

    /* The next probe succeeds (the script is used up: default 200): closed. */
    usleep(350 * 1000);
    for (int i = 0; i < 3; i++) {
        r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
        assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
        parley_connect_result_free(r);
    }
    assert_int_equal(requests(), 7);
    fixture_free(&f);
}

static void test_http_bearer(void **state)
{
    struct fixture f;
    parley_connect_def *d;
    parley_connector *c = NULL;
    parley_connect_result *r;
    parley_error e = PARLEY_ERROR_INIT;
    char tokfile[] = "/tmp/parley-connect-tokenXXXXXX", yaml[128];
    int fd;
    (void)state;

    assert_int_equal(setenv("PARLEY_TEST_TOKEN", "s3cret-token", 1), 0);
    f = fixture_new("{type: bearer, token_env: PARLEY_TEST_TOKEN}", 1);
    r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
    assert_string_equal(srv.auth[0], "Bearer s3cret-token");
    parley_connect_result_free(r);
    fixture_free(&f);

    assert_int_equal(unsetenv("PARLEY_TEST_TOKEN"), 0);
    d = load(http_def_yaml(srv.port, "{type: bearer, token_env: PARLEY_TEST_TOKEN}", 1), &e);
    assert_non_null(d);
    assert_int_equal(parley_connector_new(d, &c, &e), PARLEY_ERR_INVALID);
    ASSERT_CONTAINS(e.msg, "environment variable 'PARLEY_TEST_TOKEN' is not set");
    assert_null(c);
    parley_connect_def_free(d);

    fd = mkstemp(tokfile);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "file-token\n", 11), 11);
    close(fd);
    (void)snprintf(yaml, sizeof(yaml), "{type: bearer, token_file: '%s'}", tokfile);
    f = fixture_new(yaml, 1);
    r = call1(f.c, "get_line", "line_id", "L1", NULL, NULL);
    assert_string_equal(srv.auth[1], "Bearer file-token");
    parley_connect_result_free(r);
    fixture_free(&f);

    fd = open(tokfile, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "bad token\n", 10), 10);
    close(fd);
    d = load(http_def_yaml(srv.port, yaml, 1), &e);
    assert_non_null(d);
    assert_int_equal(parley_connector_new(d, &c, &e), PARLEY_ERR_FORMAT);
    ASSERT_CONTAINS(e.msg, "has blanks or control characters");
    parley_connect_def_free(d);
    (void)unlink(tokfile);
}

struct worker {
    parley_connector *c;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 5; i++) {
        parley_connect_param p = {"line_id", "L9"};
        parley_connect_result *r = NULL;
        if (parley_connect_call(w->c, "get_line", &p, 1, &r, NULL) == PARLEY_OK &&
            parley_connect_result_code(r) == PARLEY_CONNECT_OK)
            w->ok++;
        parley_connect_result_free(r);
    }
    return NULL;
}

static void test_http_threads(void **state)
{
    struct fixture f = fixture_new("{type: none}", 3);
    pthread_t t[4];
    struct worker w[4];
    (void)state;
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){f.c, 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 5);
    }
    assert_true(srv.connections <= 4);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_def_load_telco_sim),
        cmocka_unit_test(test_def_defaults),
        cmocka_unit_test(test_def_errors),
        cmocka_unit_test(test_def_file_errors),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_backoff_and_key),
        cmocka_unit_test_setup_teardown(test_http_ok_and_reuse, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_http_rejected, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_http_write_retries_same_key, setup_server,
                                        teardown_server),
        cmocka_unit_test_setup_teardown(test_http_no_retry_non_idempotent, setup_server,
                                        teardown_server),
        cmocka_unit_test_setup_teardown(test_http_get_retries_and_backoff, setup_server,
                                        teardown_server),
        cmocka_unit_test_setup_teardown(test_http_timeout, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_http_malformed, setup_server, teardown_server),
        cmocka_unit_test(test_http_refused_and_bad_request),
        cmocka_unit_test_setup_teardown(test_http_breaker, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_http_bearer, setup_server, teardown_server),
        cmocka_unit_test_setup_teardown(test_http_threads, setup_server, teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
