/* The server's configuration: defaults, then a `key = value` file, then
 * PARLEY_* environment variables, then flags (each later source wins). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/internal.h"
#include "parley/bot.h"
#include "server/server.h"

enum kind { K_TEXT, K_UINT, K_SIZE, K_DOUBLE };

struct key {
    const char *name;
    enum kind kind;
    size_t offset;
    size_t size;     /* K_TEXT: buffer size */
    double min, max; /* numbers */
};

#define TEXT(n, f)                                                                                 \
    {                                                                                              \
        n, K_TEXT, offsetof(parley_server_config, f), sizeof(((parley_server_config *)0)->f), 0, 0 \
    }
#define NUM(n, k, f, lo, hi)                                                                       \
    {                                                                                              \
        n, k, offsetof(parley_server_config, f), 0, lo, hi                                         \
    }

static const struct key keys[] = {
    TEXT("bind", bind),
    NUM("port", K_UINT, port, 0, 65535),
    TEXT("data_dir", data_dir),
    TEXT("bot", bot_dir),
    TEXT("models", models_dir),
    TEXT("store", store_url),
    TEXT("backend", backend_url),
    TEXT("audit", audit_url),
    TEXT("audit_key", audit_key),
    TEXT("web_dir", web_dir),
    NUM("threads", K_UINT, threads, 1, 256),
    NUM("max_body_bytes", K_SIZE, max_body, 1024, 64 * 1024 * 1024),
    NUM("max_header_bytes", K_SIZE, max_header, 1024, 1024 * 1024),
    NUM("max_json_depth", K_UINT, max_json_depth, 2, 256),
    NUM("max_string_bytes", K_SIZE, max_string, 64, 1024 * 1024),
    NUM("request_timeout", K_UINT, timeout_s, 1, 3600),
    NUM("rate_limit", K_DOUBLE, rate, 0.01, 1e9),
    NUM("rate_burst", K_UINT, burst, 1, 1000000000),
    TEXT("cors_origin", cors_origin),
    NUM("idle_minutes", K_UINT, idle_minutes, 1, 100000),
    NUM("verify_idle_minutes", K_UINT, verify_idle_minutes, 1, 100000),
    TEXT("pii_transcript", pii_transcript),
    TEXT("pii_hash_key", pii_hash_key),
    TEXT("pii_vault_key", pii_vault_key),
    TEXT("master_key", master_key),
    TEXT("master_key_old", master_key_old),
    TEXT("key_store", key_store),
    NUM("retention_days", K_UINT, retention_days, 0, 36500),
    NUM("sweep_minutes", K_UINT, sweep_minutes, 1, 10080),
    NUM("audit_retention_days", K_UINT, audit_retention_days, 0, 36500),
    TEXT("nats_url", nats_url),
    TEXT("nats_stream", nats_stream),
    TEXT("nats_subject", nats_subject),
    TEXT("nats_durable", nats_durable),
    NUM("nats_ack_wait", K_UINT, nats_ack_wait, 1, 86400),
};

void parley_server_config_defaults(parley_server_config *c)
{
    memset(c, 0, sizeof(*c));
    (void)snprintf(c->bind, sizeof(c->bind), "127.0.0.1");
    c->port = 8080;
    (void)snprintf(c->data_dir, sizeof(c->data_dir), "data");
    (void)snprintf(c->bot_dir, sizeof(c->bot_dir), "bots/carrier");
    (void)snprintf(c->web_dir, sizeof(c->web_dir), "web");
    c->threads = 4;
    c->max_body = 64 * 1024;
    c->max_header = 16 * 1024;
    c->max_json_depth = 16;
    c->max_string = 8192;
    c->timeout_s = 30;
    c->rate = 200;
    c->burst = 400;
    (void)snprintf(c->cors_origin, sizeof(c->cors_origin), "*");
    c->idle_minutes = 30;
    c->verify_idle_minutes = 15;
    c->retention_days = 90;
    c->sweep_minutes = 60;
    c->audit_retention_days = 2557; /* 7 years */
    (void)snprintf(c->nats_stream, sizeof(c->nats_stream), "PARLEY_EVENTS");
    (void)snprintf(c->nats_subject, sizeof(c->nats_subject), "parley.events");
    (void)snprintf(c->nats_durable, sizeof(c->nats_durable), "parley");
    c->nats_ack_wait = 30;
}

parley_err parley_server_store_options(const parley_server_config *c,
                                       parley_store_master_key mkeys[PARLEY_STORE_MAX_MASTER_KEYS],
                                       parley_store_options *o, parley_error *err)
{
    size_t n = 0;
    parley_err rc = parley_store_keyring_load(c->master_key, c->master_key_old, mkeys, &n, err);
    if (rc != PARLEY_OK)
        return rc;
    *o = (parley_store_options)PARLEY_STORE_OPTIONS_INIT;
    o->master_keys = mkeys;
    o->nmaster_keys = n;
    o->key_store = c->key_store[0] ? c->key_store : NULL;
    return PARLEY_OK;
}

void parley_server_store_options_clear(parley_store_master_key mkeys[PARLEY_STORE_MAX_MASTER_KEYS],
                                       parley_store_options *o)
{
    for (size_t i = 0; i < o->nmaster_keys; i++)
        parley_store_master_key_clear(&mkeys[i]);
    o->nmaster_keys = 0;
}

parley_err parley_server_config_demo_key(parley_server_config *c, int create, parley_error *err)
{
    char key[1000];
    if (c->master_key[0])
        return PARLEY_OK;
    (void)snprintf(key, sizeof(key), "%.980s.master.key", c->data_dir);
    if (access(key, F_OK) != 0) {
        parley_err rc = create ? parley_store_master_key_generate(key, err) : PARLEY_OK;
        if (rc != PARLEY_OK || !create)
            return rc;
    }
    (void)snprintf(c->master_key, sizeof(c->master_key), "file:%s", key);
    return PARLEY_OK;
}

parley_err parley_server_store_open(const parley_server_config *c, parley_store **out,
                                    parley_error *err)
{
    parley_store_master_key mkeys[PARLEY_STORE_MAX_MASTER_KEYS];
    parley_store_options o;
    parley_err rc = parley_server_store_options(c, mkeys, &o, err);
    if (rc != PARLEY_OK)
        return rc;
    rc = parley_store_open_ex(c->store_url, &o, out, err);
    parley_server_store_options_clear(mkeys, &o);
    return rc;
}

parley_err parley_server_config_set(parley_server_config *c, const char *name, const char *value,
                                    const char *where, parley_error *err)
{
    const struct key *k = NULL;
    char *end = NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].name, name) == 0)
            k = &keys[i];
    if (!k)
        return parley_error_set(err, PARLEY_ERR_FORMAT, "%s: unknown setting '%.64s'", where, name);
    char *field = (char *)c + k->offset;
    if (k->kind == K_TEXT) {
        if (strlen(value) >= k->size)
            return parley_error_set(err, PARLEY_ERR_FORMAT, "%s: %s is longer than %zu bytes",
                                    where, name, k->size - 1);
        memcpy(field, value, strlen(value) + 1);
        return PARLEY_OK;
    }
    errno = 0;
    double v = strtod(value, &end);
    if (!value[0] || errno || !end || *end || v < k->min || v > k->max ||
        (k->kind != K_DOUBLE && v != (double)(unsigned long long)v))
        return parley_error_set(err, PARLEY_ERR_FORMAT,
                                "%s: %s must be a%s number from %g to %g, not '%.64s'", where, name,
                                k->kind == K_DOUBLE ? "" : " whole", k->min, k->max, value);
    if (k->kind == K_UINT)
        *(unsigned *)(void *)field = (unsigned)v;
    else if (k->kind == K_SIZE)
        *(size_t *)(void *)field = (size_t)v;
    else
        *(double *)(void *)field = v;
    return PARLEY_OK;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

parley_err parley_server_config_parse(parley_server_config *c, const char *text, size_t len,
                                      const char *name, parley_error *err)
{
    char line[4096], where[1100];
    unsigned n = 0;
    size_t at = 0;
    parley_err rc = PARLEY_OK;

    while (rc == PARLEY_OK && at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t ll = nl ? (size_t)(nl - (text + at)) : len - at;
        n++;
        (void)snprintf(where, sizeof(where), "%.1000s:%u", name, n);
        if (ll >= sizeof(line))
            return parley_error_set(err, PARLEY_ERR_FORMAT, "%s: line longer than %zu bytes", where,
                                    sizeof(line) - 1);
        if (memchr(text + at, '\0', ll))
            return parley_error_set(err, PARLEY_ERR_FORMAT, "%s: NUL byte in the line", where);
        memcpy(line, text + at, ll);
        line[ll] = '\0';
        at += ll + (nl ? 1 : 0);
        char *s = trim(line), *eq;
        if (!*s || *s == '#')
            continue;
        if (!(eq = strchr(s, '=')))
            return parley_error_set(err, PARLEY_ERR_FORMAT, "%s: expected 'key = value'", where);
        *eq = '\0';
        char *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        rc = parley_server_config_set(c, trim(s), value, where, err);
    }
    return rc;
}

parley_err parley_server_config_file(parley_server_config *c, const char *path, parley_error *err)
{
    char *text = NULL;
    size_t len = 0;
    parley_error e = PARLEY_ERROR_INIT;
    if (parley__read_file(path, 1024 * 1024, &text, &len, &e) != PARLEY_OK)
        return parley_error_set(err, e.code, "cannot read configuration: %s", e.msg);
    parley_err rc = parley_server_config_parse(c, text, len, path, err);
    parley__free(text);
    return rc;
}

parley_err parley_server_config_env(parley_server_config *c, parley_error *err)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char var[64], where[80];
        size_t j = 0;
        j += (size_t)snprintf(var, sizeof(var), "PARLEY_");
        for (const char *p = keys[i].name; *p && j + 1 < sizeof(var); p++)
            var[j++] = (char)toupper((unsigned char)*p);
        var[j] = '\0';
        const char *v = getenv(var);
        if (!v)
            continue;
        (void)snprintf(where, sizeof(where), "environment %s", var);
        parley_err rc = parley_server_config_set(c, keys[i].name, v, where, err);
        if (rc != PARLEY_OK)
            return rc;
    }
    return PARLEY_OK;
}

/* A JetStream stream or consumer name: NATS puts it in API subjects, so
 * no dots, wildcards, separators or spaces. */
static int nats_name_ok(const char *v)
{
    if (!*v)
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v <= ' ' || (unsigned char)*v == 0x7f || strchr(".*>/\\", *v))
            return 0;
    return 1;
}

/* A subject: dot-separated tokens, none empty, no spaces; wildcards are
 * allowed (a stream may take parley.events.>). */
static int nats_subject_ok(const char *v)
{
    size_t tok = 0;
    if (!*v)
        return 0;
    for (; *v; v++) {
        if ((unsigned char)*v <= ' ' || (unsigned char)*v == 0x7f)
            return 0;
        if (*v == '.') {
            if (tok == 0)
                return 0;
            tok = 0;
        } else {
            tok++;
        }
    }
    return tok > 0;
}

static parley_err check_nats(const parley_server_config *c, parley_error *err)
{
    if (!c->nats_url[0])
        return PARLEY_OK;
    if (!nats_name_ok(c->nats_stream))
        return parley_error_set(err, PARLEY_ERR_FORMAT,
                                "configuration: nats_stream '%s' must be a name without dots, "
                                "wildcards, slashes or spaces",
                                c->nats_stream);
    if (!nats_name_ok(c->nats_durable))
        return parley_error_set(err, PARLEY_ERR_FORMAT,
                                "configuration: nats_durable '%s' must be a name without dots, "
                                "wildcards, slashes or spaces",
                                c->nats_durable);
    if (!nats_subject_ok(c->nats_subject))
        return parley_error_set(err, PARLEY_ERR_FORMAT,
                                "configuration: nats_subject '%s' must be dot-separated tokens "
                                "without spaces, such as parley.events",
                                c->nats_subject);
    return PARLEY_OK;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

parley_err parley_server_config_check(parley_server_config *c, parley_error *err)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_bot *bot = NULL;

    if (!c->data_dir[0])
        return parley_error_set(err, PARLEY_ERR_FORMAT, "configuration: data_dir is empty");
    if (!c->store_url[0]) {
        int w = snprintf(c->store_url, sizeof(c->store_url), "sqlite:%s/parley.db", c->data_dir);
        if (w < 0 || (size_t)w >= sizeof(c->store_url))
            return parley_error_set(err, PARLEY_ERR_LIMIT, "configuration: data_dir is too long");
    }
    if (!c->audit_url[0]) {
        int w = snprintf(c->audit_url, sizeof(c->audit_url), "sqlite:%s/audit.db", c->data_dir);
        if (w < 0 || (size_t)w >= sizeof(c->audit_url))
            return parley_error_set(err, PARLEY_ERR_LIMIT, "configuration: data_dir is too long");
    }
    if (!c->models_dir[0]) {
        int w = snprintf(c->models_dir, sizeof(c->models_dir), "%s/models", c->bot_dir);
        if (w < 0 || (size_t)w >= sizeof(c->models_dir))
            return parley_error_set(err, PARLEY_ERR_LIMIT, "configuration: bot path is too long");
    }
    if (!is_dir(c->bot_dir))
        return parley_error_set(err, PARLEY_ERR_IO, "configuration: bot folder '%s' does not exist",
                                c->bot_dir);
    if (!is_dir(c->models_dir))
        return parley_error_set(err, PARLEY_ERR_IO,
                                "configuration: models folder '%s' does not exist (train the bot: "
                                "parley bot train %s --out %s)",
                                c->models_dir, c->bot_dir, c->models_dir);
    if (!is_dir(c->web_dir))
        return parley_error_set(err, PARLEY_ERR_IO, "configuration: web folder '%s' does not exist",
                                c->web_dir);
    if (parley_bot_load(c->bot_dir, &bot, NULL, &e) != PARLEY_OK)
        return parley_error_set(err, PARLEY_ERR_FORMAT,
                                "configuration: %s (run parley bot check %s)", e.msg, c->bot_dir);
    parley_bot_free(bot);
    if (c->burst < 1 || c->rate <= 0)
        return parley_error_set(err, PARLEY_ERR_FORMAT, "configuration: rate limit must be > 0");
    return check_nats(c, err);
}

void parley_server_config_print(const parley_server_config *c, FILE *f)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key *k = &keys[i];
        const char *field = (const char *)c + k->offset;
        char url[1024];
        if (k->kind == K_TEXT && strcmp(k->name, "nats_url") == 0) {
            /* Its password stays out of terminals and CI logs. */
            parley_server_url_for_log(field, url, sizeof(url));
            (void)fprintf(f, "%s = %s\n", k->name, url);
        } else if (k->kind == K_TEXT)
            (void)fprintf(f, "%s = %s\n", k->name, field);
        else if (k->kind == K_UINT)
            (void)fprintf(f, "%s = %u\n", k->name, *(const unsigned *)(const void *)field);
        else if (k->kind == K_SIZE)
            (void)fprintf(f, "%s = %zu\n", k->name, *(const size_t *)(const void *)field);
        else
            (void)fprintf(f, "%s = %g\n", k->name, *(const double *)(const void *)field);
    }
}
