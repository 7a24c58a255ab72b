/* parley events publish: sends JSONL events (one event or an array per
 * line) to the NATS JetStream subject that `parley serve` consumes, each
 * line one message whose Nats-Msg-Id lets the stream drop a repeat, and
 * waits for the stream to acknowledge every one. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nats/nats.h>
#include <sodium.h>

#include "cli.h"
#include "parley/proactive.h"
#include "server/server.h"

/* Most input read, in bytes: every line is checked before any is sent. */
#define INPUT_LIMIT (1024L * 1024 * 1024)

struct acks {
    pthread_mutex_t mu;
    unsigned long long stored, dups, failed;
    int no_stream;   /* a failure was "no responders": nothing takes the subject */
    char first[400]; /* the first failure */
};

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    struct acks *a = closure;
    (void)js;
    (void)pthread_mutex_lock(&a->mu);
    if (pa && pa->Duplicate) {
        a->dups++;
    } else if (pa) {
        a->stored++;
    } else {
        const char *id = NULL;
        a->failed++;
        if (!a->first[0] && pae) {
            (void)natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
            a->no_stream = pae->Err == NATS_NO_RESPONDERS;
            (void)snprintf(a->first, sizeof(a->first), "message '%.200s': %s", id ? id : "?",
                           pae->ErrText && *pae->ErrText ? pae->ErrText
                                                         : natsStatus_GetText(pae->Err));
        }
    }
    (void)pthread_mutex_unlock(&a->mu);
    natsMsg_Destroy(msg);
}

/* Reads all of `f` and a NUL (caller frees); NULL with a message on
 * failure. */
static char *read_all(FILE *f, const char *name, size_t *len)
{
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap), *bigger;
    if (!buf)
        goto nomem;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n > 1)
            continue;
        if (cap >= INPUT_LIMIT) {
            cli_error("cannot read '%s': larger than %ld bytes", name, INPUT_LIMIT);
            free(buf);
            return NULL;
        }
        if (!(bigger = realloc(buf, cap * 2)))
            goto nomem;
        buf = bigger;
        cap *= 2;
    }
    if (ferror(f)) {
        cli_error("cannot read '%s': %s", name, strerror(errno));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
nomem:
    cli_error("cannot read '%s': out of memory", name);
    free(buf);
    return NULL;
}

/* The message id of a line: the event's own id, or for an array a digest
 * of its events' ids, so that publishing the same line again is a
 * duplicate to the stream. 0, or -1 with `why` set. */
static int message_id(json_t *root, char *id, size_t size, char *why, size_t why_size)
{
    size_t n = json_is_array(root) ? json_array_size(root) : 1;
    crypto_generichash_state h;
    unsigned char digest[16];

    if (!json_is_object(root) && !json_is_array(root)) {
        (void)snprintf(why, why_size, "expected an event (a JSON object) or an array of events");
        return -1;
    }
    if (n == 0) {
        (void)snprintf(why, why_size, "the array is empty");
        return -1;
    }
    (void)crypto_generichash_init(&h, NULL, 0, sizeof(digest));
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_is_array(root) ? json_array_get(root, i) : root;
        json_t *v = json_object_get(ev, "id");
        if (!json_is_string(v) || json_string_length(v) == 0) {
            (void)snprintf(why, why_size, "event %zu has no 'id' (a non-empty string)", i);
            return -1;
        }
        uint64_t len = json_string_length(v);
        /* It goes into a header line as it is. */
        for (size_t j = 0; j < len; j++)
            if ((unsigned char)json_string_value(v)[j] < 0x20 || json_string_value(v)[j] == 0x7f) {
                (void)snprintf(why, why_size, "event %zu: its 'id' has control characters", i);
                return -1;
            }
        if (len > PARLEY_PROACTIVE_MAX_ID * 4) {
            (void)snprintf(why, why_size, "event %zu: its 'id' is longer than %d characters", i,
                           PARLEY_PROACTIVE_MAX_ID);
            return -1;
        }
        (void)crypto_generichash_update(&h, (const unsigned char *)&len, sizeof(len));
        (void)crypto_generichash_update(&h, (const unsigned char *)json_string_value(v), len);
        if (!json_is_array(root))
            (void)snprintf(id, size, "%s", json_string_value(v));
    }
    (void)crypto_generichash_final(&h, digest, sizeof(digest));
    if (json_is_array(root)) {
        size_t o = (size_t)snprintf(id, size, "batch-");
        for (size_t i = 0; i < sizeof(digest) && o + 2 < size; i++, o += 2)
            (void)snprintf(id + o, size - o, "%02x", digest[i]);
    }
    return 0;
}

/* Each non-blank line of `text`: calls `fn` with it (NUL-terminated in
 * place) and its number; stops at the first non-zero return. */
typedef int (*line_fn)(char *line, size_t len, size_t lineno, void *ud);
static int each_line(char *text, size_t len, line_fn fn, void *ud)
{
    size_t lineno = 0;
    for (char *p = text; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        char *end = nl ? nl : text + len;
        size_t ll = (size_t)(end - p);
        int rc = 0;
        lineno++;
        while (ll > 0 && (p[ll - 1] == '\r' || p[ll - 1] == ' ' || p[ll - 1] == '\t'))
            ll--;
        if (strspn(p, " \t") < ll) {
            char keep = p[ll];
            p[ll] = '\0';
            rc = fn(p, ll, lineno, ud);
            p[ll] = keep;
        }
        if (rc)
            return rc;
        p = end + 1;
    }
    return 0;
}

struct run {
    const char *name; /* the input, for messages */
    jsCtx *js;
    jsPubOptions po;
    const char *subject;
    size_t messages, events;
};

static int check_line(char *line, size_t len, size_t lineno, void *ud)
{
    struct run *r = ud;
    json_error_t je;
    char id[600], why[200];
    json_t *root;

    if (len > PARLEY_PROACTIVE_MAX_BATCH) {
        cli_error("%s: bad line %zu: over %d bytes (the most one message may carry)", r->name,
                  lineno, PARLEY_PROACTIVE_MAX_BATCH);
        return -1;
    }
    if (!(root = json_loadb(line, len, 0, &je))) {
        cli_error("%s: bad line %zu: not JSON: %s (column %d)", r->name, lineno, je.text,
                  je.column);
        return -1;
    }
    int rc = message_id(root, id, sizeof(id), why, sizeof(why));
    if (rc != 0)
        cli_error("%s: bad line %zu: %s", r->name, lineno, why);
    json_decref(root);
    return rc;
}

static int publish_line(char *line, size_t len, size_t lineno, void *ud)
{
    struct run *r = ud;
    json_error_t je;
    char id[600], why[200];
    json_t *root = json_loadb(line, len, 0, &je);
    natsStatus st;

    if (!root || message_id(root, id, sizeof(id), why, sizeof(why)) != 0) {
        json_decref(root);
        return -1; /* checked already: the input changed under us */
    }
    r->messages++;
    r->events += json_is_array(root) ? json_array_size(root) : 1;
    json_decref(root);
    r->po.MsgId = id;
    /* Waits (up to the stall wait) while too many acks are pending. */
    st = js_PublishAsync(r->js, r->subject, line, (int)len, &r->po);
    r->po.MsgId = NULL;
    if (st != NATS_OK) {
        cli_error("cannot publish line %zu of %s: %s", lineno, r->name, natsStatus_GetText(st));
        return -1;
    }
    return 0;
}

static const char usage[] =
    "usage: parley events publish --nats URL [--subject S] [--wait SEC] [FILE|-]\n"
    "\n"
    "Publishes events to NATS JetStream for `parley serve` (nats_url) to\n"
    "record: FILE (or standard input) holds one event, or an array of events,\n"
    "per line (JSONL). Every line is checked to be JSON with an 'id' in each\n"
    "event before any is sent; each line is one message, with the header\n"
    "Nats-Msg-Id set to the event's id (for an array, a digest of its ids), so\n"
    "the stream drops a line published twice within its duplicate window (and\n"
    "the ledger any later repeat). Waits up to --wait SEC (default 30) for the\n"
    "stream to acknowledge every message, then prints how many it stored and\n"
    "how many were duplicates.\n"
    "\n"
    "  --nats URL      the NATS server(s): nats://HOST:PORT[,nats://...]\n"
    "  --subject S     the stream's subject (default parley.events)\n"
    "  --wait SEC      how long to wait for the acknowledgements (default 30)\n";

int events_publish(int argc, char **argv)
{
    static const struct option opts[] = {{"nats", required_argument, NULL, 'n'},
                                         {"subject", required_argument, NULL, 's'},
                                         {"wait", required_argument, NULL, 'w'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct acks a = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct run r = {.name = "<stdin>", .subject = "parley.events"};
    const char *url = NULL;
    unsigned long long wait_s = 30;
    natsConnection *nc = NULL;
    natsOptions *o = NULL;
    natsMsgList pending = {0};
    jsOptions jo;
    char *text = NULL;
    size_t len = 0;
    natsStatus st;
    int opt, rc = EXIT_FAIL, opened = 0;
    char where[1024];
    FILE *f = stdin;

    optind = 2;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            url = optarg;
            break;
        case 's':
            r.subject = optarg;
            break;
        case 'w':
            if (cli_parse_uint("--wait", optarg, 1, 86400, &wait_s) != 0)
                return EXIT_USAGE;
            break;
        case 'h':
            (void)fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown option");
        }
    }
    if (!url || !*url)
        return cli_usage_error(usage, "--nats URL is required");
    if (!*r.subject || strpbrk(r.subject, " \t\r\n*>"))
        return cli_usage_error(usage,
                               "--subject '%s' must be a subject without spaces or "
                               "wildcards, such as parley.events",
                               r.subject);
    if (argc - optind > 1)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind + 1]);
    if (optind < argc && strcmp(argv[optind], "-") != 0) {
        r.name = argv[optind];
        if (!(f = fopen(r.name, "rb"))) {
            cli_error("cannot open '%s': %s", r.name, strerror(errno));
            return EXIT_FAIL;
        }
    }
    text = read_all(f, r.name, &len);
    if (f != stdin)
        (void)fclose(f);
    if (!text)
        return EXIT_FAIL;
    if (each_line(text, len, check_line, &r) != 0) {
        cli_error("nothing was published");
        goto out;
    }

    parley_server_url_for_log(url, where, sizeof(where));
    opened = 1;
    if ((st = natsOptions_Create(&o)) != NATS_OK || (st = natsOptions_SetURL(o, url)) != NATS_OK ||
        (st = natsOptions_SetName(o, "parley events publish")) != NATS_OK ||
        (st = natsOptions_SetTimeout(o, 5000)) != NATS_OK ||
        (st = natsOptions_SetMaxReconnect(o, 5)) != NATS_OK ||
        (st = natsOptions_SetReconnectWait(o, 500)) != NATS_OK ||
        (st = natsConnection_Connect(&nc, o)) != NATS_OK) {
        const char *why = nats_GetLastError(NULL);
        cli_error("cannot connect to NATS at '%s': %s", where,
                  why && *why ? why : natsStatus_GetText(st));
        goto out;
    }
    (void)jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 256;
    /* A slow stream slows the publisher down rather than failing it. */
    jo.PublishAsync.StallWait = (int64_t)wait_s * 1000;
    jo.PublishAsync.AckHandler = on_ack;
    jo.PublishAsync.AckHandlerClosure = &a;
    if ((st = natsConnection_JetStream(&r.js, nc, &jo)) != NATS_OK) {
        cli_error("cannot use JetStream at '%s': %s", where, natsStatus_GetText(st));
        goto out;
    }
    (void)jsPubOptions_Init(&r.po);
    int failed = each_line(text, len, publish_line, &r) != 0;
    jsPubOptions wait;
    (void)jsPubOptions_Init(&wait);
    wait.MaxWait = (int64_t)wait_s * 1000;
    st = js_PublishAsyncComplete(r.js, &wait);
    if (st != NATS_OK && js_PublishAsyncGetPendingList(&pending, r.js) == NATS_OK &&
        pending.Count > 0) {
        cli_error("%d message(s) not acknowledged within %llu s: %s", pending.Count, wait_s,
                  natsStatus_GetText(st));
        failed = 1;
    }
    (void)pthread_mutex_lock(&a.mu);
    (void)printf("published %zu message(s) (%zu event(s)): %llu stored, %llu duplicate(s)",
                 r.messages, r.events, a.stored, a.dups);
    if (a.failed)
        (void)printf(", %llu failed", a.failed);
    (void)printf("\n");
    if (a.failed && a.no_stream)
        cli_error("no stream takes subject '%s' at '%s' (parley serve with nats_url creates "
                  "one; nats-server needs -js)",
                  r.subject, where);
    else if (a.failed)
        cli_error("%s", a.first);
    failed |= a.failed > 0;
    (void)pthread_mutex_unlock(&a.mu);
    rc = failed ? EXIT_FAIL : EXIT_OK;
out:
    natsMsgList_Destroy(&pending);
    /* Draining lets nats.c finish with the last acks (its threads free
     * them) before the connection and the library go. */
    if (nc && natsConnection_DrainTimeout(nc, 5000) == NATS_OK)
        for (int i = 0; i < 600 && !natsConnection_IsClosed(nc); i++)
            nats_Sleep(10);
    jsCtx_Destroy(r.js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    if (opened)
        (void)nats_CloseAndWait(5000);
    free(text);
    return rc;
}
