/* The event intake over NATS JetStream (docs/proactive.md): a durable pull
 * consumer that the `parley serve` processes of one deployment share, and a
 * thread that hands each message to srv_events_ingest() and acknowledges it
 * only once its events are in the ledger. Messages are logged by stream
 * sequence, never by content. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "parley/bot.h"
#include "server/internal.h"

#define FETCH_BATCH        256
#define FETCH_WAIT_MS      1000
#define NAK_DELAY_MS       5000
#define RECONNECT_WAIT_MS  1000
#define CONNECT_TIMEOUT_MS 5000
#define API_WAIT_MS        5000
#define RETRY_PAUSE_MS     250
/* A sender that publishes an event again within this window (its
 * Nats-Msg-Id repeated) is told it is a duplicate by the stream itself;
 * later repeats are caught by the ledger. */
#define DUPLICATE_WINDOW_NS (2LL * 60 * 1000 * 1000 * 1000)
#define NS_PER_S            (1000LL * 1000 * 1000)

struct intake_nats {
    struct parley_server *s;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    pthread_t thread;
    int running;
    atomic_int stop;
    atomic_int recheck; /* after a reconnection: are the stream and consumer still there? */
    char where[512];    /* the URL without credentials, for messages */
};

void parley_server_url_for_log(const char *url, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    while (*url && o + 1 < size) {
        const char *end = strchr(url, ',');
        const char *host = strstr(url, "://"), *at;
        if (!end)
            end = url + strlen(url);
        host = host && host < end ? host + 3 : url;
        at = host;
        for (const char *p = host; p < end; p++)
            if (*p == '@')
                at = p + 1;
        int w = snprintf(out + o, size - o, "%.*s%.*s%s", (int)(host - url), url, (int)(end - at),
                         at, *end ? "," : "");
        if (w < 0 || (size_t)w >= size - o)
            break;
        o += (size_t)w;
        url = *end ? end + 1 : end;
    }
}

/* Fails with `what` and what nats.c says went wrong. */
static parley_err nats_fail(parley_error *err, natsStatus st, jsErrCode jerr, const char *what)
{
    const char *text = nats_GetLastError(NULL);
    const char *hint = "";
    if (!text || !*text)
        text = natsStatus_GetText(st);
    if (st == NATS_NO_RESPONDERS)
        hint = " (is JetStream enabled? start nats-server with -js)";
    if (jerr)
        return parley_error_set(err, PARLEY_ERR_IO, "%s: %s (JetStream error %d)%s", what, text,
                                (int)jerr, hint);
    return parley_error_set(err, PARLEY_ERR_IO, "%s: %s%s", what, text, hint);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    struct intake_nats *n = closure;
    (void)nc;
    atomic_store(&n->s->met.nats_connected, 0);
    if (!atomic_load(&n->stop))
        PARLEY_LOG(PARLEY_LOG_WARN, "nats: disconnected from %s; reconnecting", n->where);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    struct intake_nats *n = closure;
    (void)nc;
    atomic_store(&n->s->met.nats_connected, 1);
    /* A NATS server may come back without its store (a new machine, a wiped
     * volume): a pull from a consumer that is gone only times out. */
    atomic_store(&n->recheck, 1);
    PARLEY_LOG(PARLEY_LOG_INFO, "nats: reconnected to %s", n->where);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus st, void *closure)
{
    struct intake_nats *n = closure;
    (void)nc;
    (void)sub;
    PARLEY_LOG(PARLEY_LOG_WARN, "nats: %s: %s", n->where, natsStatus_GetText(st));
}

/* Makes sure the stream and the durable pull consumer exist, creating
 * what is missing as the configuration says. Another process doing the
 * same at the same moment is fine: whoever comes second finds them. */
static parley_err ensure_stream(struct intake_nats *n, parley_error *err)
{
    const parley_server_config *c = &n->s->cfg;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char what[1200];
    natsStatus st = js_GetStreamInfo(&si, n->js, c->nats_stream, NULL, &jerr);

    if (st == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        jsStreamConfig sc;
        const char *subjects[1] = {c->nats_subject};
        (void)jsStreamConfig_Init(&sc);
        sc.Name = c->nats_stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Duplicates = DUPLICATE_WINDOW_NS;
        jerr = 0;
        st = js_AddStream(&si, n->js, &sc, NULL, &jerr);
        if (st == NATS_OK)
            PARLEY_LOG(PARLEY_LOG_INFO, "nats: created stream '%s' (subject '%s', file storage)",
                       c->nats_stream, c->nats_subject);
        else if (jerr == JSStreamNameExistErr)
            st = NATS_OK;
    }
    jsStreamInfo_Destroy(si);
    if (st == NATS_OK)
        return PARLEY_OK;
    (void)snprintf(what, sizeof(what), "cannot find or create NATS stream '%s' at %s",
                   c->nats_stream, n->where);
    return nats_fail(err, st, jerr, what);
}

static parley_err ensure_consumer(struct intake_nats *n, parley_error *err)
{
    const parley_server_config *c = &n->s->cfg;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    char what[1200];
    parley_err rc = PARLEY_OK;
    natsStatus st = js_GetConsumerInfo(&ci, n->js, c->nats_stream, c->nats_durable, NULL, &jerr);

    if (st == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
        jsConsumerConfig cc;
        (void)jsConsumerConfig_Init(&cc);
        cc.Durable = c->nats_durable;
        cc.FilterSubject = c->nats_subject;
        cc.DeliverPolicy = js_DeliverAll;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = (int64_t)c->nats_ack_wait * NS_PER_S;
        cc.MaxDeliver = -1; /* a store outage must not lose events */
        jerr = 0;
        st = js_AddConsumer(&ci, n->js, c->nats_stream, &cc, NULL, &jerr);
        if (st == NATS_OK) {
            PARLEY_LOG(PARLEY_LOG_INFO,
                       "nats: created durable pull consumer '%s' of stream '%s' (ack wait %u s)",
                       c->nats_durable, c->nats_stream, c->nats_ack_wait);
        } else if (jerr == JSConsumerNameExistErr || jerr == JSConsumerExistingActiveErr) {
            jerr = 0;
            st = js_GetConsumerInfo(&ci, n->js, c->nats_stream, c->nats_durable, NULL, &jerr);
        }
    }
    if (st != NATS_OK) {
        (void)snprintf(what, sizeof(what),
                       "cannot find or create NATS consumer '%s' of stream '%s' at %s",
                       c->nats_durable, c->nats_stream, n->where);
        rc = nats_fail(err, st, jerr, what);
        goto out;
    }
    /* Someone else's consumer under our name would split or lose events. */
    if (ci->Config && ((ci->Config->DeliverSubject && ci->Config->DeliverSubject[0]) ||
                       ci->Config->AckPolicy != js_AckExplicit)) {
        rc = parley_error_set(err, PARLEY_ERR_CONFLICT,
                              "NATS consumer '%s' of stream '%s' is not a pull consumer with "
                              "explicit acks; set nats_durable to another name",
                              c->nats_durable, c->nats_stream);
        goto out;
    }
    if (ci->Config && ci->Config->AckWait != (int64_t)c->nats_ack_wait * NS_PER_S)
        PARLEY_LOG(PARLEY_LOG_INFO,
                   "nats: consumer '%s' keeps its ack wait of %lld s (nats_ack_wait applies "
                   "when it is created)",
                   c->nats_durable, (long long)(ci->Config->AckWait / NS_PER_S));
out:
    jsConsumerInfo_Destroy(ci);
    return rc;
}

/* Every word of the intake's own messages (src/lib/proactive/validate.c
 * and the store's events ledger), between spaces. */
static const char message_words[] =
    " a an argument array as at bad batch be boolean bot by bytes call cannot characters check "
    "contain control declares document empty event events expected false field fields got has "
    "id in is item items JSON large list longer many memory missing more most ms must negative "
    "no non none not null number object of one or out over per record required RFC string "
    "strings such than the time to too true type unique unknown 25T10 00Z ";

static int is_word_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch >= 0x80;
}

/* 1 when `w` (len bytes) may be logged: a word of the intake's messages, a
 * name the bot declares (type or field), or a short number (an index, a
 * limit, a line or column). */
static int loggable(const parley_bot_event_type *types, size_t nt, const char *w, size_t len)
{
    char key[80];
    size_t digits = 0;
    while (digits < len && w[digits] >= '0' && w[digits] <= '9')
        digits++;
    if (digits == len && len <= 7)
        return 1;
    if (len + 3 <= sizeof(key)) {
        (void)snprintf(key, sizeof(key), " %.*s ", (int)len, w);
        if (strstr(message_words, key))
            return 1;
    }
    for (size_t i = 0; i < nt; i++) {
        if (strlen(types[i].name) == len && memcmp(types[i].name, w, len) == 0)
            return 1;
        for (size_t j = 0; j < types[i].n_fields; j++)
            if (strlen(types[i].fields[j].name) == len &&
                memcmp(types[i].fields[j].name, w, len) == 0)
                return 1;
    }
    return 0;
}

/* Why a message was refused, without anything the sender wrote: the
 * intake's messages quote the event's id, values and unknown names, which
 * may be personal data. Every other word becomes <hidden>, so what is left
 * is the message's own wording and the bot's vocabulary. */
/* Where `msg` goes on after "event N (ID): ", the sender's id of event N of
 * `data` (found again there, as any text may be in an id), or `msg`. */
static const char *skip_event_id(const char *msg, const char *data, size_t len, char *head,
                                 size_t head_size)
{
    unsigned long i = 0;
    int at = 0;
    const char *rest = msg;
    head[0] = '\0';
    if (sscanf(msg, "event %lu (%n", &i, &at) != 1 || at == 0)
        return msg;
    json_t *root = json_loadb(data, len, JSON_DECODE_ANY, NULL);
    json_t *ev = json_is_array(root) ? json_array_get(root, i) : root;
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (id && strncmp(msg + at, id, strlen(id)) == 0 &&
        strncmp(msg + at + strlen(id), "): ", 3) == 0) {
        (void)snprintf(head, head_size, "event %lu: ", i);
        rest = msg + at + strlen(id) + 3;
    }
    json_decref(root);
    return rest;
}

static void reason_without_content(struct parley_server *s, parley_err rc, const char *msg,
                                   const char *data, size_t len, char *out, size_t size)
{
    size_t o, nt = 0;
    int hidden = 0; /* the last word written was hidden */

    if (rc == PARLEY_ERR_FORMAT) {
        /* The JSON parser's text quotes the content near the error. */
        const char *pos = NULL, *p = msg;
        while ((p = strstr(p, " at line ")) != NULL)
            pos = p++;
        (void)snprintf(out, size, "not valid JSON%s", pos ? pos : "");
        return;
    }
    struct engine *en = engine_get(s);
    const parley_bot_event_type *types = parley_bot_event_types(parley_dialog_bot(en->d), &nt);
    const char *p = skip_event_id(msg, data, len, out, size);
    for (o = strlen(out); *p && o + 1 < size;) {
        size_t wl = 0, sep = 0;
        while (p[sep] && !is_word_byte((unsigned char)p[sep]))
            sep++;
        while (p[sep + wl] && is_word_byte((unsigned char)p[sep + wl]))
            wl++;
        int keep = wl == 0 || loggable(types, nt, p + sep, wl);
        /* Hidden words in a row are one <hidden> (its shape tells nothing);
         * a list or a parenthesis still ends it. */
        int join = !keep && hidden && strcspn(p, "(),") >= sep;
        int w = join   ? 0
                : keep ? snprintf(out + o, size - o, "%.*s", (int)(sep + wl), p)
                       : snprintf(out + o, size - o, "%.*s<hidden>", (int)sep, p);
        if (w < 0 || (size_t)w >= size - o)
            break;
        o += (size_t)w;
        hidden = !keep;
        p += sep + wl;
    }
    engine_put(en);
}

/* One message: stored and acknowledged; refused for good (Term: it would
 * fail the same way every time); or, when the store failed, handed back
 * for a later delivery. 0, or -1 for a store failure. */
static int take(struct intake_nats *n, natsMsg *m)
{
    struct metrics *met = &n->s->met;
    parley_error e = PARLEY_ERROR_INIT;
    jsMsgMetaData *meta = NULL;
    unsigned long long seq = 0, delivered = 0;
    size_t added = 0, dups = 0;
    const char *data = natsMsg_GetData(m);
    int len = natsMsg_GetDataLength(m);
    natsStatus st;
    char why[600];

    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        seq = meta->Sequence.Stream;
        delivered = meta->NumDelivered;
        jsMsgMetaData_Destroy(meta);
    }
    atomic_fetch_add(&met->nats_consumed, 1);
    parley_err rc =
        srv_events_ingest(n->s, data ? data : "", len > 0 ? (size_t)len : 0, &added, &dups, &e);
    /* Acknowledged only once the rules decided and their effects are
     * stored; a backend that cannot answer now gets it redelivered. */
    if (rc == PARLEY_OK)
        rc = proactive_decide_pending(n->s, &e);
    switch (rc) {
    case PARLEY_OK:
        st = natsMsg_Ack(m, NULL);
        if (st == NATS_OK)
            atomic_fetch_add(&met->nats_acked, 1);
        else /* it comes again and the ledger counts it as a duplicate */
            PARLEY_LOG(PARLEY_LOG_WARN,
                       "nats: message %llu of stream '%s' stored, but its ack was not sent: %s",
                       seq, n->s->cfg.nats_stream, natsStatus_GetText(st));
        break;
    case PARLEY_ERR_FORMAT:
    case PARLEY_ERR_INVALID:
    case PARLEY_ERR_LIMIT:
        reason_without_content(n->s, rc, e.msg, data ? data : "", len > 0 ? (size_t)len : 0, why,
                               sizeof(why));
        st = natsMsg_Term(m, NULL);
        atomic_fetch_add(&met->nats_termed, 1);
        PARLEY_LOG(PARLEY_LOG_WARN,
                   "nats: message %llu of stream '%s' refused, nothing recorded, not "
                   "redelivered%s: %s",
                   seq, n->s->cfg.nats_stream, st == NATS_OK ? "" : " (the term was not sent)",
                   why);
        break;
    default:
        st = natsMsg_NakWithDelay(m, NAK_DELAY_MS, NULL);
        atomic_fetch_add(&met->nats_naked, 1);
        PARLEY_LOG(PARLEY_LOG_ERROR,
                   "nats: message %llu of stream '%s' (delivery %llu) not stored or not decided, "
                   "redelivered in "
                   "%d s%s: %s",
                   seq, n->s->cfg.nats_stream, delivered, NAK_DELAY_MS / 1000,
                   st == NATS_OK ? "" : " or after the ack wait", e.msg);
        return -1;
    }
    return 0;
}

/* Hands back messages[from..count) untried: after a store failure the next
 * ones would most likely wait out the store's busy timeout each, and then
 * fail as well. */
static void hand_back(struct intake_nats *n, natsMsgList *list, int from)
{
    for (int i = from; i < list->Count; i++) {
        atomic_fetch_add(&n->s->met.nats_consumed, 1);
        atomic_fetch_add(&n->s->met.nats_naked, 1);
        (void)natsMsg_NakWithDelay(list->Msgs[i], NAK_DELAY_MS, NULL);
    }
    if (from < list->Count)
        PARLEY_LOG(PARLEY_LOG_WARN,
                   "nats: %d more messages handed back untried, redelivered in %d s",
                   list->Count - from, NAK_DELAY_MS / 1000);
}

/* Sleeps `ms`, or less when the server stops. */
static void pause_ms(struct intake_nats *n, long ms)
{
    for (; ms > 0 && !atomic_load(&n->stop); ms -= 100) {
        struct timespec ts = {0, (ms < 100 ? ms : 100) * 1000000L};
        (void)nanosleep(&ts, NULL);
    }
}

static void *consume(void *arg)
{
    struct intake_nats *n = arg;
    int failing = 0, told = 0; /* a failure, and its repair's, already logged */

    while (!atomic_load(&n->stop)) {
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        if (atomic_exchange(&n->recheck, 0)) {
            parley_error e = PARLEY_ERROR_INIT;
            if (ensure_stream(n, &e) != PARLEY_OK || ensure_consumer(n, &e) != PARLEY_OK) {
                PARLEY_LOG(PARLEY_LOG_WARN, "nats: %s; trying again", e.msg);
                atomic_store(&n->recheck, 1);
                pause_ms(n, RECONNECT_WAIT_MS);
                continue;
            }
        }
        natsStatus st = natsSubscription_Fetch(&list, n->sub, FETCH_BATCH, FETCH_WAIT_MS, &jerr);
        int i = 0;
        while (i < list.Count && take(n, list.Msgs[i]) == 0)
            i++;
        int store_failed = i < list.Count;
        hand_back(n, &list, i + 1);
        natsMsgList_Destroy(&list);
        if (store_failed) {
            pause_ms(n, NAK_DELAY_MS); /* the store's trouble may last */
            continue;
        }
        /* A timeout is an empty fetch: healthy, when connected. */
        if (st == NATS_OK ||
            (st == NATS_TIMEOUT && natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED)) {
            if (failing)
                PARLEY_LOG(PARLEY_LOG_INFO, "nats: consuming again");
            failing = told = 0;
            continue;
        }
        if (!failing) {
            const char *why = nats_GetLastError(NULL);
            PARLEY_LOG(PARLEY_LOG_WARN,
                       "nats: cannot fetch from consumer '%s' of stream '%s': %s; retrying",
                       n->s->cfg.nats_durable, n->s->cfg.nats_stream,
                       why && *why ? why : natsStatus_GetText(st));
        }
        failing = 1;
        pause_ms(n, RETRY_PAUSE_MS);
        /* Connected but refused: the stream or the consumer may be gone
         * (a NATS server that came back with an empty store). */
        if (natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED) {
            parley_error e = PARLEY_ERROR_INIT;
            if ((ensure_stream(n, &e) != PARLEY_OK || ensure_consumer(n, &e) != PARLEY_OK) &&
                !told) {
                PARLEY_LOG(PARLEY_LOG_WARN, "nats: %s", e.msg);
                told = 1;
            }
        }
    }
    nats_ReleaseThreadMemory();
    return NULL;
}

parley_err intake_nats_start(struct parley_server *s, struct intake_nats **out, parley_error *err)
{
    const parley_server_config *c = &s->cfg;
    struct intake_nats *n = parley__calloc(1, sizeof(*n));
    natsOptions *o = NULL;
    jsOptions jo;
    jsSubOptions so;
    jsErrCode jerr = 0;
    natsStatus st;
    char what[1200];
    parley_err rc = PARLEY_OK;

    if (!n)
        return parley_error_set(err, PARLEY_ERR_NOMEM,
                                "cannot start the NATS intake: out of memory");
    n->s = s;
    parley_server_url_for_log(c->nats_url, n->where, sizeof(n->where));
    if ((st = natsOptions_Create(&o)) != NATS_OK ||
        (st = natsOptions_SetURL(o, c->nats_url)) != NATS_OK ||
        (st = natsOptions_SetName(o, "parley serve")) != NATS_OK ||
        (st = natsOptions_SetTimeout(o, CONNECT_TIMEOUT_MS)) != NATS_OK ||
        /* Forever: events wait in the stream while NATS is away. */
        (st = natsOptions_SetMaxReconnect(o, -1)) != NATS_OK ||
        (st = natsOptions_SetReconnectWait(o, RECONNECT_WAIT_MS)) != NATS_OK ||
        (st = natsOptions_SetDisconnectedCB(o, on_disconnected, n)) != NATS_OK ||
        (st = natsOptions_SetReconnectedCB(o, on_reconnected, n)) != NATS_OK ||
        (st = natsOptions_SetErrorHandler(o, on_async_error, n)) != NATS_OK) {
        (void)snprintf(what, sizeof(what), "configuration: nats_url '%s'", n->where);
        rc = nats_fail(err, st, 0, what);
        goto out;
    }
    if ((st = natsConnection_Connect(&n->nc, o)) != NATS_OK) {
        (void)snprintf(what, sizeof(what), "cannot connect to NATS at %s", n->where);
        rc = nats_fail(err, st, 0, what);
        goto out;
    }
    atomic_store(&s->met.nats_connected, 1);
    (void)jsOptions_Init(&jo);
    jo.Wait = API_WAIT_MS;
    if ((st = natsConnection_JetStream(&n->js, n->nc, &jo)) != NATS_OK) {
        (void)snprintf(what, sizeof(what), "cannot use JetStream at %s", n->where);
        rc = nats_fail(err, st, 0, what);
        goto out;
    }
    if ((rc = ensure_stream(n, err)) != PARLEY_OK || (rc = ensure_consumer(n, err)) != PARLEY_OK)
        goto out;
    /* Bound to the consumer by name: the subscription never creates or
     * deletes it, so it outlives this process and the others share it. */
    (void)jsSubOptions_Init(&so);
    so.Stream = c->nats_stream;
    so.Consumer = c->nats_durable;
    if ((st = js_PullSubscribe(&n->sub, n->js, c->nats_subject, c->nats_durable, NULL, &so,
                               &jerr)) != NATS_OK) {
        (void)snprintf(what, sizeof(what), "cannot subscribe to NATS consumer '%s' of stream '%s'",
                       c->nats_durable, c->nats_stream);
        rc = nats_fail(err, st, jerr, what);
        goto out;
    }
    if (pthread_create(&n->thread, NULL, consume, n) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start the NATS intake thread");
        goto out;
    }
    n->running = 1;
    PARLEY_LOG(PARLEY_LOG_INFO, "nats: consuming stream '%s' (subject '%s') as '%s' from %s",
               c->nats_stream, c->nats_subject, c->nats_durable, n->where);
    *out = n;
    n = NULL;
out:
    natsOptions_Destroy(o);
    intake_nats_stop(n);
    return rc;
}

void intake_nats_stop(struct intake_nats *n)
{
    if (!n)
        return;
    atomic_store(&n->stop, 1);
    if (n->running)
        (void)pthread_join(n->thread, NULL);
    natsSubscription_Destroy(n->sub);
    jsCtx_Destroy(n->js);
    natsConnection_Destroy(n->nc);
    atomic_store(&n->s->met.nats_connected, 0);
    /* The connection's callbacks run on nats.c's threads and read `n`:
     * it is freed only once the library has let every thread go. */
    if (nats_CloseAndWait(10000) != NATS_OK) {
        PARLEY_LOG(PARLEY_LOG_WARN, "nats: the client library did not stop within 10 s");
        return;
    }
    parley__free(n);
}
