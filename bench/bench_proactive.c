/* bench_proactive: proactive care's intake to decision (issue 8's bar:
 * >= 50,000 events/s with the connector calls excluded), on a realistic
 * event mix over a telco-sim with many customers (bench/proactive.sh).
 * Usage: bench_proactive BOT_DIR BACKEND_URL WORK_DIR CUSTOMERS EVENTS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "parley/audit.h"
#include "parley/bot.h"
#include "parley/connect.h"
#include "parley/proactive.h"
#include "parley/store.h"

#define BATCH 1000

static double now_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fixed pseudo-random sequence (splitmix64): the same mix every run. */
static unsigned long long rnd_state = 0x9e3779b97f4a7c15ull;
static unsigned long long rnd(void)
{
    unsigned long long z = (rnd_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Event ids differ from run to run: telco-sim remembers idempotency keys,
 * which the engine derives from them. */
static char run_tag[32];

/* Which grants customer `i` has: a fixed share per scope, from a hash of
 * the number so that runs agree. */
static unsigned grants_of(long i)
{
    unsigned long long h = (unsigned long long)i * 0x9e3779b97f4a7c15ull;
    unsigned p = (unsigned)((h >> 32) % 100);
    unsigned g = 0;
    if (p < 30)
        g |= 1; /* proactive_outreach: 30% */
    if (p < 10)
        g |= 2; /* auto_refuel: 10% */
    if (p >= 5 && p < 10)
        g |= 4; /* auto_roaming: 5% */
    if (p >= 90)
        g |= 8; /* remote_device_fix: 10% */
    return g;
}

static const struct {
    unsigned bit;
    const char *scope, *limits;
} scopes[] = {
    {1, "proactive_outreach", "{\"channels\":[\"sms\"],\"max_count_per_month\":20}"},
    {2, "auto_refuel", "{\"max_gb_per_month\":2,\"max_amount_per_month\":60}"},
    {4, "auto_roaming", "{\"max_count_per_month\":4}"},
    {8, "remote_device_fix", "{\"max_count_per_month\":4}"},
};

static int grant_all(parley_store *st, long customers)
{
    parley_error err = PARLEY_ERROR_INIT;
    long n = 0;
    for (long i = 1; i <= customers; i++) {
        unsigned g = grants_of(i);
        char cid[32], id[24];
        (void)snprintf(cid, sizeof(cid), "CS%07ld", i);
        for (size_t s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++) {
            if (!(g & scopes[s].bit))
                continue;
            parley_store_consent c = {0};
            c.customer_id = cid;
            c.scope = scopes[s].scope;
            c.limits = scopes[s].limits;
            c.channel = "api";
            c.conversation_id = "";
            if (parley_store_consent_add(st, &c, id, &err) != PARLEY_OK) {
                (void)fprintf(stderr, "bench_proactive: grant: %s\n", err.msg);
                return -1;
            }
            n++;
        }
        if (i % 200000 == 0)
            (void)fprintf(stderr, "bench_proactive: grants for %ld/%ld customers\n", i, customers);
    }
    (void)fprintf(stderr, "bench_proactive: %ld grants\n", n);
    return 0;
}

/* One event of the mix, as telco-sim's feed has it: mostly usage
 * thresholds, then roaming, device problems, suspensions, payments. */
static int event_json(char *buf, size_t size, long seq, long customers)
{
    long i = 1 + (long)(rnd() % (unsigned long long)customers);
    unsigned r = (unsigned)(rnd() % 100);
    char cid[32], lid[32];
    (void)snprintf(cid, sizeof(cid), "CS%07ld", i);
    (void)snprintf(lid, sizeof(lid), "LS%07ld", i);
    if (r < 70) {
        /* usage_80 30%, usage_90 25%, usage_100 15%, a little past the mark */
        int mark = r < 30 ? 80 : (r < 55 ? 90 : 100);
        return snprintf(buf, size,
                        "{\"id\":\"%s-%ld\",\"type\":\"usage_%d\",\"line_id\":\"%s\","
                        "\"customer_id\":\"%s\",\"percent_used\":%.1f}",
                        run_tag, seq, mark, lid, cid, mark + (double)(rnd() % 30) / 10);
    }
    if (r < 80)
        return snprintf(buf, size,
                        "{\"id\":\"%s-%ld\",\"type\":\"roaming_detected\",\"line_id\":\"%s\","
                        "\"customer_id\":\"%s\",\"country\":\"FR\",\"roaming_enabled\":%s}",
                        run_tag, seq, lid, cid, rnd() % 4 ? "false" : "true");
    if (r < 90)
        return snprintf(buf, size,
                        "{\"id\":\"%s-%ld\",\"type\":\"device_misconfigured\",\"line_id\":\"%s\","
                        "\"customer_id\":\"%s\",\"problem\":\"%s\"}",
                        run_tag, seq, lid, cid, rnd() % 2 ? "apn_incorrect" : "data_saver_on");
    if (r < 95)
        return snprintf(buf, size,
                        "{\"id\":\"%s-%ld\",\"type\":\"line_suspended\",\"line_id\":\"%s\","
                        "\"customer_id\":\"%s\",\"reason\":\"overdue bill\"}",
                        run_tag, seq, lid, cid);
    return snprintf(buf, size,
                    "{\"id\":\"%s-%ld\",\"type\":\"payment_failed\",\"customer_id\":\"%s\","
                    "\"bill_id\":\"BS%07ld-2\",\"payment_method_id\":\"PM-%s-1\","
                    "\"reason\":\"card_expired\"}",
                    run_tag, seq, cid, i, cid);
}

/* Seconds in intake (validate, record), rules, commit. */
static double phase[3];

/* Outcome counts, by name. */
struct tally {
    char name[16][16];
    long n[16];
    size_t k;
};

static void on_outcome(const parley_proactive_outcome *o, void *userdata)
{
    struct tally *t = userdata;
    size_t i = 0;
    while (i < t->k && strcmp(t->name[i], o->outcome) != 0)
        i++;
    if (i == t->k && t->k < 16)
        (void)snprintf(t->name[t->k++], sizeof(t->name[0]), "%s", o->outcome);
    if (i < 16)
        t->n[i]++;
}

/* Runs the events of `json` (a batch as POST /v1/events takes it) through
 * the intake and the rules, as the server does. */
static int run_batch(const parley_bot *bot, parley_store *st, parley_proactive_engine *pro,
                     const char *json, size_t len, struct tally *t)
{
    size_t ntypes = 0, n;
    const parley_bot_event_type *types = parley_bot_event_types(bot, &ntypes);
    parley_proactive_events *batch = NULL;
    parley_proactive_batch *decided = NULL;
    parley_store_event rows[BATCH];
    parley_error err = PARLEY_ERROR_INIT;
    int rc = -1;
    double t0 = now_s();
    if (parley_proactive_validate(types, ntypes, json, len, 0, &batch, &err) != PARLEY_OK)
        goto out;
    n = parley_proactive_events_count(batch);
    memset(rows, 0, sizeof(rows));
    for (size_t i = 0; i < n; i++) {
        const parley_proactive_event *ev = parley_proactive_events_at(batch, i);
        rows[i].id = ev->id;
        rows[i].type = ev->type;
        rows[i].at = ev->at;
        rows[i].doc = ev->doc;
    }
    if (parley_store_events_record(st, rows, n, 0, NULL, NULL, &err) != PARLEY_OK)
        goto out;
    phase[0] += now_s() - t0;
    t0 = now_s();
    if (parley_proactive_batch_new(pro, &decided, &err) != PARLEY_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const parley_proactive_event *ev = parley_proactive_events_at(batch, i);
        parley_err r = parley_proactive_batch_run(decided, ev, 0, on_outcome, t, &err);
        if (r != PARLEY_OK && r != PARLEY_ERR_UNAVAILABLE)
            goto out;
        if (parley_proactive_batch_settle(decided, ev->id, r == PARLEY_OK ? "done" : "received",
                                          "[]", &err) != PARLEY_OK)
            goto out;
    }
    phase[1] += now_s() - t0;
    t0 = now_s();
    if (parley_proactive_batch_commit(decided, &err) != PARLEY_OK)
        goto out;
    phase[2] += now_s() - t0;
    rc = 0;
out:
    if (rc)
        (void)fprintf(stderr, "bench_proactive: %s\n", err.msg);
    parley_proactive_batch_free(decided);
    parley_proactive_events_free(batch);
    return rc;
}

static void print_stats(const char *what, long events, double wall, parley_proactive_stats *a,
                        parley_proactive_stats *b, struct tally *t)
{
    double backend = (double)(b->backend_ns - a->backend_ns) / 1e9;
    uint64_t decisions = b->decisions - a->decisions;
    double own = wall - backend;
    (void)printf("%s: %ld events, %llu decisions in %.2f s; backend calls %llu taking %.2f s; "
                 "without them %.2f s: %.0f events/s, %.0f decisions/s\n",
                 what, events, (unsigned long long)decisions, wall,
                 (unsigned long long)(b->backend_calls - a->backend_calls), backend, own,
                 own > 0 ? (double)events / own : 0, own > 0 ? (double)decisions / own : 0);
    (void)printf("  intake %.2f s, rules %.2f s (with backend), commit %.2f s\n", phase[0],
                 phase[1], phase[2]);
    memset(phase, 0, sizeof(phase));
    (void)printf("  outcomes:");
    for (size_t i = 0; i < t->k; i++)
        (void)printf(" %s %ld", t->name[i], t->n[i]);
    (void)printf("\n");
}

int main(int argc, char **argv)
{
    parley_bot *bot = NULL;
    parley_connector *conns[8] = {0};
    parley_store *st = NULL;
    parley_audit *au = NULL;
    parley_proactive_engine *pro = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    char path[4096], *json = NULL;
    size_t nconn = 0;
    int rc = 1;
    if (argc != 6) {
        (void)fputs("usage: bench_proactive BOT_DIR BACKEND_URL WORK_DIR CUSTOMERS EVENTS\n",
                    stderr);
        return 2;
    }
    long customers = strtol(argv[4], NULL, 10), events = strtol(argv[5], NULL, 10);
    if (customers < 1 || events < 1) {
        (void)fputs("bench_proactive: CUSTOMERS and EVENTS must be positive\n", stderr);
        return 2;
    }
    if (parley_bot_load(argv[1], &bot, NULL, &err) != PARLEY_OK)
        goto out;
    nconn = parley_bot_connector_count(bot);
    for (size_t i = 0; i < nconn && i < 8; i++)
        if (parley_connector_new(parley_bot_connector(bot, i), &conns[i], &err) != PARLEY_OK ||
            parley_connector_set_base_url(conns[i], argv[2], &err) != PARLEY_OK)
            goto out;
    (void)snprintf(path, sizeof(path), "sqlite:%s/store.db", argv[3]);
    if (parley_store_open(path, &st, &err) != PARLEY_OK)
        goto out;
    (void)snprintf(path, sizeof(path), "%s/audit.key", argv[3]);
    if (parley_audit_keygen(path, &err) != PARLEY_OK)
        goto out;
    parley_audit_options ao = {path, 0, 0};
    char aurl[4096];
    (void)snprintf(aurl, sizeof(aurl), "sqlite:%s/audit.db", argv[3]);
    if (parley_audit_open(aurl, &ao, &au, &err) != PARLEY_OK)
        goto out;
    parley_proactive_options po = {0};
    po.bot = bot;
    po.store = st;
    po.connectors = conns;
    po.n_connectors = nconn;
    po.audit = au;
    if (parley_proactive_engine_new(&po, &pro, &err) != PARLEY_OK)
        goto out;
    (void)snprintf(run_tag, sizeof(run_tag), "b%lx", (unsigned long)time(NULL));
    double t0 = now_s();
    if (grant_all(st, customers))
        goto out;
    (void)fprintf(stderr, "bench_proactive: grants took %.1f s\n", now_s() - t0);

    /* The events, as senders would POST them: arrays of BATCH. */
    size_t cap = (size_t)events * 200 + 16, len = 0;
    if (!(json = malloc(cap)))
        goto out;
    size_t *starts = calloc((size_t)events / BATCH + 2, sizeof(size_t));
    size_t nb = 0;
    if (!starts)
        goto out;
    for (long e = 0; e < events; e++) {
        if (e % BATCH == 0) {
            if (e)
                json[len - 1] = ']';
            starts[nb++] = len;
            json[len++] = '[';
        }
        len += (size_t)event_json(json + len, cap - len, e + 1, customers);
        json[len++] = ',';
    }
    json[len - 1] = ']';
    starts[nb] = len;

    struct tally t = {0};
    parley_proactive_stats a, b;
    parley_proactive_stats_get(pro, &a);
    t0 = now_s();
    for (size_t k = 0; k < nb; k++) {
        if (run_batch(bot, st, pro, json + starts[k], starts[k + 1] - starts[k], &t)) {
            free(starts);
            goto out;
        }
        if ((k + 1) % 20 == 0)
            (void)fprintf(stderr, "bench_proactive: %zu/%ld events\n", (k + 1) * BATCH, events);
    }
    double wall = now_s() - t0;
    parley_proactive_stats_get(pro, &b);
    print_stats("mix", events, wall, &a, &b, &t);
    free(starts);

    /* An outage in one city: a fan-out to every outreach holder. */
    {
        char ev[256];
        (void)snprintf(ev, sizeof(ev),
                       "[{\"id\":\"%s-outage\",\"type\":\"outage_opened\",\"outage_id\":"
                       "\"%s\",\"cities\":[\"Springfield\"],\"expected_end\":"
                       "\"2025-02-26T18:00:00\"}]",
                       run_tag, run_tag);
        struct tally t2 = {0};
        parley_proactive_stats_get(pro, &a);
        t0 = now_s();
        if (run_batch(bot, st, pro, ev, strlen(ev), &t2))
            goto out;
        wall = now_s() - t0;
        parley_proactive_stats_get(pro, &b);
        print_stats("outage fan-out", 1, wall, &a, &b, &t2);
    }
    struct rusage ru;
    (void)getrusage(RUSAGE_SELF, &ru);
    (void)printf("peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024);
    rc = 0;
out:
    if (rc && err.msg[0])
        (void)fprintf(stderr, "bench_proactive: %s\n", err.msg);
    free(json);
    parley_proactive_engine_free(pro);
    parley_audit_close(au);
    parley_store_close(st);
    for (size_t i = 0; i < 8; i++)
        parley_connector_free(conns[i]);
    parley_bot_free(bot);
    return rc;
}
