/* telco-sim: customers' text messages to the carrier (the inbound SMS
 * lever). Each is queued and a background thread POSTs it to --sms-url, in
 * order, never on a request's path: the receiver (Parley) calls telco-sim
 * back while it answers, which a request holding the database lock would
 * deadlock. Kept in memory only, with each delivery's outcome. */
#include "telco.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INBOUND_MAX     1000   /* messages kept (the oldest delivered ones go first) */
#define INBOUND_TIMEOUT 30000L /* ms: the receiver runs a whole turn before it answers */

struct inbound {
    long long seq;
    char *phone, *text;
    char received[32];
    const char *status; /* "pending", "delivered", "failed" */
    long http_status;   /* the receiver's answer; 0: none */
};

static pthread_t thread;
static int running, stopping;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct inbound queue[INBOUND_MAX];
static size_t count;
static long long next_seq = 1;
static struct telco_hook hook;

/* POSTs {"phone","text"}; the HTTP status, or 0 when there was none. */
static long post_one(CURL *c, const char *phone, const char *text)
{
    json_t *b = json_pack("{s:s, s:s}", "phone", phone, "text", text);
    char *body = b ? json_dumps(b, TELCO_JSON) : NULL;
    long status = body ? telco_hook_post(&hook, c, body, INBOUND_TIMEOUT, "inbound SMS") : 0;
    json_decref(b);
    free(body);
    return status;
}

static void *deliver(void *arg)
{
    CURL *c = curl_easy_init();
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        struct inbound *next = NULL;
        for (size_t i = 0; i < count && !next; i++)
            if (strcmp(queue[i].status, "pending") == 0)
                next = &queue[i];
        if (!next) {
            if (stopping)
                break;
            pthread_cond_wait(&cv, &mu);
            continue;
        }
        long long seq = next->seq;
        char *phone = strdup(next->phone), *text = strdup(next->text);
        pthread_mutex_unlock(&mu);
        long status = c && phone && text ? post_one(c, phone, text) : 0;
        free(phone);
        free(text);
        pthread_mutex_lock(&mu);
        for (size_t i = 0; i < count; i++)
            if (queue[i].seq == seq) {
                queue[i].http_status = status;
                queue[i].status = status >= 200 && status < 300 ? "delivered" : "failed";
            }
    }
    pthread_mutex_unlock(&mu);
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

int telco_sms_inbound_start(const char *sms_url, const char *sms_key)
{
    if (!sms_url)
        return 0;
    if (telco_hook_init(&hook, sms_url, sms_key))
        return -1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        pthread_create(&thread, NULL, deliver, NULL) != 0) {
        (void)fprintf(stderr, "telco-sim: cannot start the inbound SMS thread\n");
        return -1;
    }
    running = 1;
    return 0;
}

void telco_sms_inbound_stop(void)
{
    if (running) {
        pthread_mutex_lock(&mu);
        stopping = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
        pthread_join(thread, NULL);
        running = 0;
        curl_global_cleanup();
    }
    for (size_t i = 0; i < count; i++) {
        free(queue[i].phone);
        free(queue[i].text);
    }
    count = 0;
    telco_hook_free(&hook);
}

static json_t *inbound_json(const struct inbound *m)
{
    char id[32];
    (void)snprintf(id, sizeof(id), "I%lld", m->seq);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "message_id", id, "phone", m->phone, "text",
                     m->text, "received_at", m->received, "status", m->status, "http_status",
                     (int)m->http_status);
}

int telco_sms_inbound_post(struct telco_req *r, json_t **out)
{
    const char *phone, *text;
    char norm[32];
    int st = telco_body_string(r, out, "phone", 1, &phone);
    if (!st)
        st = telco_body_string(r, out, "text", 1, &text);
    if (st)
        return st;
    telco_phone_norm(phone, norm, sizeof(norm));
    if (strlen(norm) < 7 || strlen(norm) > 15)
        return telco_err(out, 400, "invalid_field", "'phone' is not a phone number");
    if (!running)
        return telco_err(out, 409, "no_sms_url",
                         "inbound SMS go nowhere: start telco-sim with --sms-url");
    pthread_mutex_lock(&mu);
    if (count == INBOUND_MAX) {
        size_t i = 0;
        while (i < count && strcmp(queue[i].status, "pending") == 0)
            i++;
        if (i == count) {
            pthread_mutex_unlock(&mu);
            return telco_err(out, 503, "inbound_full", "too many inbound SMS waiting");
        }
        free(queue[i].phone);
        free(queue[i].text);
        memmove(&queue[i], &queue[i + 1], (count - i - 1) * sizeof(queue[0]));
        count--;
    }
    struct inbound *m = &queue[count];
    memset(m, 0, sizeof(*m));
    m->phone = strdup(phone);
    m->text = strdup(text);
    if (!m->phone || !m->text) {
        free(m->phone);
        free(m->text);
        pthread_mutex_unlock(&mu);
        return telco_err(out, 500, "internal", "out of memory");
    }
    m->seq = next_seq++;
    m->status = "pending";
    telco_now_iso(m->received, sizeof(m->received));
    count++;
    *out = inbound_json(m);
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return 200;
}

int telco_sms_inbound_list(struct telco_req *r, json_t **out)
{
    static const char *const allowed[] = {NULL};
    json_t *list = json_array();
    int st = telco_query_only(r, out, allowed);
    if (st) {
        json_decref(list);
        return st;
    }
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, inbound_json(&queue[i]));
    pthread_mutex_unlock(&mu);
    *out = json_pack("{s:o}", "messages", list);
    return 200;
}
