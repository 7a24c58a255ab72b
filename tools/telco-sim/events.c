/* telco-sim: the persisted events feed and its best-effort delivery to
 * --events-url by a background thread (never on a request's path). */
#include "telco.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_t thread;
static int running;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int kicked, stopping;
static struct telco_hook hook;
static long long delivered;

int telco_event_emit(const char *type, json_t *data)
{
    json_t *doc = json_is_object(data) ? data : json_object();
    if (data && doc != data)
        json_decref(data);
    char at[32];
    telco_now_iso(at, sizeof(at));
    json_object_set_new(doc, "type", json_string(type));
    json_object_set_new(doc, "at", json_string(at));
    char *text = json_dumps(doc, TELCO_JSON);
    json_decref(doc);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (text && sqlite3_prepare_v2(telco_db, "INSERT INTO events(doc) VALUES(?)", -1, &st, NULL) ==
                    SQLITE_OK) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    free(text);
    return rc;
}

json_t *telco_event_row(long long seq, const char *doc)
{
    json_t *stored = doc ? json_loads(doc, 0, NULL) : NULL;
    if (!json_is_object(stored)) {
        json_decref(stored);
        return NULL;
    }
    /* The id is derived from the persisted AUTOINCREMENT seq, which SQLite
     * never hands out twice in one database, so it is stable across restarts
     * and consumers can de-duplicate on it. */
    char id[32];
    (void)snprintf(id, sizeof(id), "ev-%lld", seq);
    json_t *ev = json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "id", id);
    json_object_update_missing(ev, stored);
    json_decref(stored);
    return ev;
}

void telco_usage_events(const char *line_id, const char *customer_id, double before, double after)
{
    static const int marks[] = {80, 90, 100};
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        double t = marks[i] / 100.0;
        if (before < t && after >= t) {
            char type[16];
            (void)snprintf(type, sizeof(type), "usage_%d", marks[i]);
            (void)telco_event_emit(type, json_pack("{s:s, s:s, s:f}", "line_id", line_id,
                                                   "customer_id", customer_id ? customer_id : "",
                                                   "percent_used", after * 100.0));
        }
    }
}

void telco_events_kick(void)
{
    pthread_mutex_lock(&mu);
    kicked = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void *deliver(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&mu);
        if (!kicked && !stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&cv, &mu, &ts);
        }
        int stop = stopping;
        kicked = 0;
        pthread_mutex_unlock(&mu);
        json_t *batch = json_array();
        telco_lock();
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(telco_db,
                               "SELECT seq,doc FROM events WHERE seq>? ORDER BY seq LIMIT 100", -1,
                               &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, delivered);
            while (sqlite3_step(st) == SQLITE_ROW) {
                json_t *ev = telco_event_row(sqlite3_column_int64(st, 0),
                                             (const char *)sqlite3_column_text(st, 1));
                if (ev)
                    json_array_append_new(batch, ev);
                delivered = sqlite3_column_int64(st, 0);
            }
        }
        sqlite3_finalize(st);
        telco_unlock();
        size_t i;
        json_t *ev;
        json_array_foreach(batch, i, ev)
        {
            char *body = json_dumps(ev, TELCO_JSON);
            if (body && c)
                (void)telco_hook_post(&hook, c, body, 2000L, "event");
            free(body);
        }
        int more = json_array_size(batch) == 100;
        json_decref(batch);
        if (more)
            telco_events_kick();
        else if (stop)
            break;
    }
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

int telco_events_start(const char *events_url, const char *events_key)
{
    if (!events_url)
        return 0;
    if (telco_hook_init(&hook, events_url, events_key))
        return -1;
    telco_lock();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(telco_db, "SELECT COALESCE(MAX(seq),0) FROM events", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        delivered = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    telco_unlock();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        pthread_create(&thread, NULL, deliver, NULL) != 0) {
        (void)fprintf(stderr, "telco-sim: cannot start the events thread\n");
        return -1;
    }
    running = 1;
    return 0;
}

void telco_events_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    running = 0;
    curl_global_cleanup();
    telco_hook_free(&hook);
}
