/* Server-sent event streams: each open GET .../stream is a connection that
 * MHD suspends while it has nothing to send; publishing an event appends
 * it to the streams of that conversation and resumes them. A keep-alive
 * comment every 15 s keeps proxies from closing idle streams. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "server/internal.h"

#define STREAM_MAX_BUFFER (1024 * 1024) /* a reader this far behind is cut off */
#define KEEPALIVE_S       15

struct stream {
    struct stream *next, **pprev;
    struct hub *hub;
    struct MHD_Connection *conn;
    char id[PARLEY_STORE_MAX_ID + 1];
    char *buf;
    size_t len, off;
    int suspended;
    int closed;
};

struct hub {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t keepalive;
    int has_thread;
    int stopping;
    struct stream *list;
    size_t count;
    atomic_llong *gauge;
};

/* Appends text to a stream's buffer and wakes it; under the hub lock. */
static void push(struct stream *s, const char *text, size_t n)
{
    if (s->closed)
        return;
    if (s->len - s->off + n > STREAM_MAX_BUFFER) {
        s->closed = 1;
    } else {
        if (s->off > 0 && s->off == s->len)
            s->off = s->len = 0;
        char *nb = parley__realloc(s->buf, s->len + n + 1);
        if (!nb) {
            s->closed = 1;
        } else {
            s->buf = nb;
            memcpy(s->buf + s->len, text, n);
            s->len += n;
        }
    }
    if (s->suspended) {
        s->suspended = 0;
        MHD_resume_connection(s->conn);
    }
}

static void *keepalive_main(void *arg)
{
    struct hub *h = arg;
    (void)pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        struct timespec until;
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += KEEPALIVE_S;
        int rc = 0;
        while (!h->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
        if (h->stopping)
            break;
        for (struct stream *s = h->list; s; s = s->next)
            push(s, ": keep-alive\n\n", 14);
    }
    (void)pthread_mutex_unlock(&h->mu);
    return NULL;
}

struct hub *hub_new(atomic_llong *gauge)
{
    struct hub *h = parley__calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    (void)pthread_mutex_init(&h->mu, NULL);
    (void)pthread_cond_init(&h->cv, NULL);
    h->gauge = gauge;
    if (pthread_create(&h->keepalive, NULL, keepalive_main, h) != 0) {
        hub_free(h);
        return NULL;
    }
    h->has_thread = 1;
    return h;
}

void hub_shutdown(struct hub *h)
{
    if (!h)
        return;
    (void)pthread_mutex_lock(&h->mu);
    h->stopping = 1;
    for (struct stream *s = h->list; s; s = s->next)
        if (s->suspended) {
            s->suspended = 0;
            MHD_resume_connection(s->conn);
        }
    (void)pthread_cond_broadcast(&h->cv);
    (void)pthread_mutex_unlock(&h->mu);
    if (h->has_thread) {
        (void)pthread_join(h->keepalive, NULL);
        h->has_thread = 0;
    }
}

void hub_free(struct hub *h)
{
    if (!h)
        return;
    hub_shutdown(h);
    /* The daemon has stopped: every stream's free callback has run. */
    (void)pthread_cond_destroy(&h->cv);
    (void)pthread_mutex_destroy(&h->mu);
    parley__free(h);
}

void hub_publish(struct hub *h, const char *id, const char *event)
{
    size_t n = strlen(event);
    if (!h)
        return;
    (void)pthread_mutex_lock(&h->mu);
    for (struct stream *s = h->list; s; s = s->next)
        if (strcmp(s->id, id) == 0)
            push(s, event, n);
    (void)pthread_mutex_unlock(&h->mu);
}

int hub_has(struct hub *h, const char *id)
{
    int found = 0;
    if (!h)
        return 0;
    (void)pthread_mutex_lock(&h->mu);
    for (struct stream *s = h->list; s && !found; s = s->next)
        found = !s->closed && strcmp(s->id, id) == 0;
    (void)pthread_mutex_unlock(&h->mu);
    return found;
}

size_t hub_count(struct hub *h)
{
    size_t n;
    if (!h)
        return 0;
    (void)pthread_mutex_lock(&h->mu);
    n = h->count;
    (void)pthread_mutex_unlock(&h->mu);
    return n;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *s = cls;
    struct hub *h = s->hub;
    ssize_t n;
    (void)pos;
    (void)pthread_mutex_lock(&h->mu);
    if (s->len > s->off) {
        size_t k = s->len - s->off < max ? s->len - s->off : max;
        memcpy(out, s->buf + s->off, k);
        s->off += k;
        n = (ssize_t)k;
    } else if (h->stopping || s->closed) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing to send: park the connection until push() resumes it. */
        s->suspended = 1;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    (void)pthread_mutex_unlock(&h->mu);
    return n;
}

static void release(void *cls)
{
    struct stream *s = cls;
    struct hub *h = s->hub;
    (void)pthread_mutex_lock(&h->mu);
    if (s->next)
        s->next->pprev = s->pprev;
    *s->pprev = s->next;
    h->count--;
    (void)pthread_mutex_unlock(&h->mu);
    if (h->gauge)
        atomic_fetch_sub(h->gauge, 1);
    parley__free(s->buf);
    parley__free(s);
}

struct MHD_Response *hub_response(struct hub *h, struct MHD_Connection *conn, const char *id,
                                  const char *backlog)
{
    struct stream *s = parley__calloc(1, sizeof(*s));
    struct MHD_Response *r;
    if (!s)
        return NULL;
    s->hub = h;
    s->conn = conn;
    (void)snprintf(s->id, sizeof(s->id), "%s", id);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, release);
    if (!r) {
        parley__free(s);
        return NULL;
    }
    (void)MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    (void)MHD_add_response_header(r, "Cache-Control", "no-store");
    (void)MHD_add_response_header(r, "X-Accel-Buffering", "no");
    (void)pthread_mutex_lock(&h->mu);
    s->next = h->list;
    if (h->list)
        h->list->pprev = &s->next;
    s->pprev = &h->list;
    h->list = s;
    h->count++;
    /* A first comment makes clients see the stream open at once. */
    push(s, ": stream open\n\n", strlen(": stream open\n\n"));
    if (backlog && backlog[0])
        push(s, backlog, strlen(backlog));
    (void)pthread_mutex_unlock(&h->mu);
    if (h->gauge)
        atomic_fetch_add(h->gauge, 1);
    return r;
}
