/* telco-sim: simulator routes — outages, the SMS outbox, the events feed
 * and fault injection (latency, 503 errors, dropped responses). */
#include "telco.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- outages ---- */

static int list_outages(struct telco_req *r, json_t **out)
{
    (void)r;
    *out = json_pack("{s:o}", "outages",
                     telco_docs_query("SELECT doc FROM outages ORDER BY length(id), id", NULL));
    return 200;
}

static long long count_rows(const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long n = 0;
    if (sqlite3_prepare_v2(telco_db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int open_outage(struct telco_req *r, json_t **out)
{
    json_t *cities = json_object_get(r->body, "cities");
    const char *end;
    int st = telco_body_string(r, out, "expected_end", 0, &end);
    if (st)
        return st;
    if (!json_is_array(cities) || json_array_size(cities) == 0 || json_array_size(cities) > 100)
        return telco_err(out, 400, "invalid_field", "'cities' must be a non-empty array");
    size_t i;
    json_t *c;
    json_array_foreach(cities, i,
                       c) if (!json_is_string(c) ||
                              json_string_length(c) ==
                                  0) return telco_err(out, 400, "invalid_field",
                                                      "'cities' must hold non-empty strings");
    char id[32], now[32];
    (void)snprintf(id, sizeof(id), "O%lld", count_rows("SELECT COUNT(*) FROM outages") + 1);
    telco_now_iso(now, sizeof(now));
    json_t *o = json_pack("{s:s, s:O, s:s, s:s, s:s}", "outage_id", id, "cities", cities, "start",
                          now, "expected_end", end ? end : "", "status", "open");
    if (!end)
        json_object_set_new(o, "expected_end", json_null());
    if (telco_doc_put("outages", id, o) ||
        telco_event_emit("outage_opened",
                         json_pack("{s:s, s:O, s:O}", "outage_id", id, "cities", cities,
                                   "expected_end", json_object_get(o, "expected_end")))) {
        json_decref(o);
        return telco_err(out, 500, "internal", "cannot store the outage");
    }
    *out = o;
    return 200;
}

static int close_outage(struct telco_req *r, json_t **out)
{
    json_t *o = telco_doc_get("outages", r->segs[2]);
    if (!o)
        return telco_err(out, 404, "outage_not_found", "no outage '%.64s'", r->segs[2]);
    const char *status = json_string_value(json_object_get(o, "status"));
    if (!status || strcmp(status, "open") != 0) {
        json_decref(o);
        return telco_err(out, 409, "outage_not_open", "outage '%.64s' is already closed",
                         r->segs[2]);
    }
    char now[32];
    telco_now_iso(now, sizeof(now));
    json_object_set_new(o, "status", json_string("closed"));
    json_object_set_new(o, "closed_at", json_string(now));
    if (telco_doc_put("outages", r->segs[2], o) ||
        telco_event_emit("outage_closed", json_pack("{s:s, s:o}", "outage_id", r->segs[2], "cities",
                                                    json_object_get(o, "cities")
                                                        ? json_incref(json_object_get(o, "cities"))
                                                        : json_array()))) {
        json_decref(o);
        return telco_err(out, 500, "internal", "cannot store the outage");
    }
    *out = o;
    return 200;
}

/* ---- SMS outbox ---- */

int telco_sms_store(json_t *msg)
{
    char norm[32], now[32];
    const char *phone = json_string_value(json_object_get(msg, "phone"));
    const char *text = json_string_value(json_object_get(msg, "text"));
    telco_phone_norm(phone, norm, sizeof(norm));
    telco_now_iso(now, sizeof(now));
    long long seq = count_rows("SELECT COALESCE(MAX(seq),0) FROM sms") + 1;
    char id[32];
    (void)snprintf(id, sizeof(id), "M%lld", seq);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "message_id", id, "phone", phone ? phone : "",
                            "text", text ? text : "", "sent_at", now);
    char *body = json_dumps(doc, TELCO_JSON);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (body && sqlite3_prepare_v2(telco_db, "INSERT INTO sms(seq,phone,doc) VALUES(?,?,?)", -1,
                                   &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, norm, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, body, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    free(body);
    if (rc == 0)
        json_object_set_new(msg, "message_id", json_string(id));
    json_decref(doc);
    return rc;
}

static int send_sms(struct telco_req *r, json_t **out)
{
    const char *phone, *text;
    int st = telco_body_string(r, out, "phone", 1, &phone);
    if (!st)
        st = telco_body_string(r, out, "text", 1, &text);
    if (st)
        return st;
    char norm[32];
    telco_phone_norm(phone, norm, sizeof(norm));
    if (strlen(norm) < 7 || strlen(norm) > 15)
        return telco_err(out, 400, "invalid_field", "'phone' is not a phone number");
    json_t *msg = json_pack("{s:s, s:s}", "phone", phone, "text", text);
    if (telco_sms_store(msg)) {
        json_decref(msg);
        return telco_err(out, 500, "internal", "cannot store the message");
    }
    *out = json_pack("{s:O}", "message_id", json_object_get(msg, "message_id"));
    json_decref(msg);
    return 200;
}

static int list_sms(struct telco_req *r, json_t **out)
{
    static const char *const allowed[] = {"phone", NULL};
    int st = telco_query_only(r, out, allowed);
    if (st)
        return st;
    const char *phone = telco_query(r, "phone");
    if (phone) {
        char norm[32];
        telco_phone_norm(phone, norm, sizeof(norm));
        *out = json_pack("{s:o}", "messages",
                         telco_docs_query("SELECT doc FROM sms WHERE phone=? ORDER BY seq", norm));
    } else {
        *out = json_pack("{s:o}", "messages",
                         telco_docs_query("SELECT doc FROM sms ORDER BY seq", NULL));
    }
    return 200;
}

/* ---- events feed ---- */

static int parse_count(const char *s, long long max, long long *v)
{
    char *end = NULL;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (*end || errno || n > max)
        return -1;
    *v = n;
    return 0;
}

static int list_events(struct telco_req *r, json_t **out)
{
    static const char *const allowed[] = {"after", "limit", NULL};
    int st = telco_query_only(r, out, allowed);
    if (st)
        return st;
    long long after = 0, limit = 100;
    const char *a = telco_query(r, "after");
    const char *l = telco_query(r, "limit");
    if (a && parse_count(a, 1LL << 62, &after))
        return telco_err(out, 400, "invalid_query", "'after' must be a non-negative integer");
    if (l && (parse_count(l, 1000, &limit) || limit == 0))
        return telco_err(out, 400, "invalid_query", "'limit' must be 1 to 1000");
    sqlite3_stmt *s = NULL;
    json_t *events = json_array();
    if (sqlite3_prepare_v2(telco_db, "SELECT seq,doc FROM events WHERE seq>? ORDER BY seq LIMIT ?",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, after);
        sqlite3_bind_int64(s, 2, limit);
        while (sqlite3_step(s) == SQLITE_ROW) {
            json_t *ev = telco_event_row(sqlite3_column_int64(s, 0),
                                         (const char *)sqlite3_column_text(s, 1));
            if (ev)
                json_array_append_new(events, ev);
        }
    }
    sqlite3_finalize(s);
    *out = json_pack("{s:o}", "events", events);
    return 200;
}

/* ---- fault injection ---- */

#define MAX_FAULTS 16

struct fault {
    char route[256];
    int latency_ms;
    double error_rate, drop_rate;
};

static struct fault faults[MAX_FAULTS];
static int nfaults;
static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;

void telco_faults_seed(unsigned long seed)
{
    rng = (unsigned long long)seed * 0x9E3779B97F4A7C15ULL + 1;
}

static double next_unit(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

void telco_faults_roll(const char *path, struct telco_fault_hit *hit)
{
    pthread_mutex_lock(&fault_mu);
    for (int i = nfaults - 1; i >= 0; i--) {
        if (fnmatch(faults[i].route, path, 0) != 0)
            continue;
        double e = next_unit(), d = next_unit();
        hit->latency_ms = faults[i].latency_ms;
        hit->error = e < faults[i].error_rate;
        hit->drop = !hit->error && d < faults[i].drop_rate;
        break;
    }
    pthread_mutex_unlock(&fault_mu);
}

static json_t *faults_json(void)
{
    json_t *arr = json_array();
    for (int i = 0; i < nfaults; i++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:i, s:f, s:f}", "route", faults[i].route,
                                        "latency_ms", faults[i].latency_ms, "error_rate",
                                        faults[i].error_rate, "drop_rate", faults[i].drop_rate));
    return json_pack("{s:o}", "faults", arr);
}

static int opt_rate(struct telco_req *r, json_t **out, const char *key, double *v)
{
    *v = 0;
    if (!json_object_get(r->body, key))
        return 0;
    int st = telco_body_number(r, out, key, v);
    if (!st && (!isfinite(*v) || *v < 0 || *v > 1))
        st = telco_err(out, 400, "invalid_field", "'%s' must be between 0 and 1", key);
    return st;
}

static int add_fault(struct telco_req *r, json_t **out)
{
    const char *route;
    double lat = 0, err, drop;
    int st = telco_body_string(r, out, "route", 1, &route);
    if (!st && strlen(route) >= sizeof(faults[0].route))
        st = telco_err(out, 400, "invalid_field", "'route' is too long");
    if (!st && json_object_get(r->body, "latency_ms")) {
        st = telco_body_number(r, out, "latency_ms", &lat);
        if (!st && (!isfinite(lat) || lat < 0 || lat > 60000))
            st = telco_err(out, 400, "invalid_field", "'latency_ms' must be 0 to 60000");
    }
    if (!st)
        st = opt_rate(r, out, "error_rate", &err);
    if (!st)
        st = opt_rate(r, out, "drop_rate", &drop);
    if (st)
        return st;
    pthread_mutex_lock(&fault_mu);
    int i;
    for (i = 0; i < nfaults && strcmp(faults[i].route, route) != 0; i++)
        ;
    if (i == MAX_FAULTS) {
        pthread_mutex_unlock(&fault_mu);
        return telco_err(out, 409, "too_many_faults", "at most %d fault rules", MAX_FAULTS);
    }
    if (i == nfaults)
        nfaults++;
    (void)snprintf(faults[i].route, sizeof(faults[i].route), "%s", route);
    faults[i].latency_ms = (int)lat;
    faults[i].error_rate = err;
    faults[i].drop_rate = drop;
    *out = faults_json();
    pthread_mutex_unlock(&fault_mu);
    return 200;
}

static int get_faults(struct telco_req *r, json_t **out)
{
    (void)r;
    pthread_mutex_lock(&fault_mu);
    *out = faults_json();
    pthread_mutex_unlock(&fault_mu);
    return 200;
}

static int clear_faults(struct telco_req *r, json_t **out)
{
    (void)r;
    pthread_mutex_lock(&fault_mu);
    nfaults = 0;
    *out = faults_json();
    pthread_mutex_unlock(&fault_mu);
    return 200;
}

const struct telco_route telco_sim_routes[] = {
    {"GET", "/outages", list_outages},
    {"POST", "/sim/outages", open_outage},
    {"POST", "/sim/outages/*/close", close_outage},
    {"POST", "/sim/sms", send_sms},
    {"GET", "/sim/sms", list_sms},
    {"POST", "/sim/sms/inbound", telco_sms_inbound_post},
    {"GET", "/sim/sms/inbound", telco_sms_inbound_list},
    {"GET", "/events", list_events},
    {"POST", "/sim/faults", add_fault},
    {"GET", "/sim/faults", get_faults},
    {"DELETE", "/sim/faults", clear_faults},
    {NULL, NULL, NULL},
};
