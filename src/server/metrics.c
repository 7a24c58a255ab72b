/* Prometheus metrics: lock-free counters and histograms, label sets that
 * grow on first use (intents, hand-off reasons, actions, statuses), and
 * the text exposition format for GET /metrics. */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"

/* Seconds for latencies; the same bounds read as 0..1 for confidences are
 * replaced by conf_bounds. */
static const double time_bounds[HIST_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0};
static const double conf_bounds[HIST_BUCKETS] = {0.1, 0.2, 0.3,  0.4,  0.5,  0.6, 0.7,
                                                 0.8, 0.9, 0.95, 0.98, 0.99, 1.0};

static void labeled_init(struct labeled *l)
{
    memset(l, 0, sizeof(*l));
    (void)pthread_mutex_init(&l->mu, NULL);
}

void met_init(struct metrics *m)
{
    memset(m, 0, sizeof(*m));
    labeled_init(&m->intents);
    labeled_init(&m->handoffs);
    labeled_init(&m->actions);
    labeled_init(&m->connector_errors);
    labeled_init(&m->http_status);
}

void met_destroy(struct metrics *m)
{
    (void)pthread_mutex_destroy(&m->intents.mu);
    (void)pthread_mutex_destroy(&m->handoffs.mu);
    (void)pthread_mutex_destroy(&m->actions.mu);
    (void)pthread_mutex_destroy(&m->connector_errors.mu);
    (void)pthread_mutex_destroy(&m->http_status.mu);
}

void met_count(struct labeled *l, const char *label)
{
    size_t n = __atomic_load_n(&l->n, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++)
        if (strcmp(l->names[i], label) == 0) {
            atomic_fetch_add(&l->counts[i], 1);
            return;
        }
    (void)pthread_mutex_lock(&l->mu);
    size_t i;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->names[i], label) == 0)
            break;
    if (i == l->n && l->n < MET_MAX_LABELS) {
        (void)snprintf(l->names[i], sizeof(l->names[i]), "%s", label);
        __atomic_store_n(&l->n, l->n + 1, __ATOMIC_RELEASE);
    }
    if (i < MET_MAX_LABELS)
        atomic_fetch_add(&l->counts[i], 1);
    (void)pthread_mutex_unlock(&l->mu);
}

void met_observe(struct histogram *h, double v, int is_ratio)
{
    const double *b = is_ratio ? conf_bounds : time_bounds;
    size_t i = 0;
    while (i < HIST_BUCKETS && v > b[i])
        i++;
    atomic_fetch_add(&h->buckets[i], 1);
    atomic_fetch_add(&h->count, 1);
    atomic_fetch_add(&h->sum_us, (unsigned long long)(v * 1e6));
}

static void put_hist(struct parley_buf *b, const char *name, const char *help,
                     const struct histogram *h, int is_ratio)
{
    const double *bounds = is_ratio ? conf_bounds : time_bounds;
    unsigned long long cum = 0;
    parley__buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        cum += atomic_load(&h->buckets[i]);
        parley__buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], cum);
    }
    cum += atomic_load(&h->buckets[HIST_BUCKETS]);
    parley__buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, cum,
                       name, (double)atomic_load(&h->sum_us) / 1e6, name,
                       (unsigned long long)atomic_load(&h->count));
}

/* Label values are names we chose or the bot's identifiers; quotes and
 * backslashes are escaped all the same. */
static void put_label_value(struct parley_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            (void)parley__buf_add(b, "\\", 1);
        if (*v == '\n')
            (void)parley__buf_add(b, "\\n", 2);
        else
            (void)parley__buf_add(b, v, 1);
    }
}

static void put_labeled(struct parley_buf *b, const char *name, const char *help, const char *label,
                        struct labeled *l)
{
    size_t n = __atomic_load_n(&l->n, __ATOMIC_ACQUIRE);
    parley__buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; i < n; i++) {
        const char *v = l->names[i];
        const char *sep = strchr(v, '|');
        parley__buf_printf(b, "%s{", name);
        if (sep) { /* "action|status" */
            (void)parley__buf_add(b, "action=\"", 8);
            struct parley_buf tmp = PARLEY_BUF_INIT(0);
            (void)parley__buf_add(&tmp, v, (size_t)(sep - v));
            (void)parley__buf_add(&tmp, "", 1);
            put_label_value(b, tmp.data ? tmp.data : "");
            parley__buf_release(&tmp);
            (void)parley__buf_add(b, "\",outcome=\"", 11);
            put_label_value(b, sep + 1);
        } else {
            parley__buf_printf(b, "%s=\"", label);
            put_label_value(b, v);
        }
        parley__buf_printf(b, "\"} %llu\n", (unsigned long long)atomic_load(&l->counts[i]));
    }
}

static void put_counter(struct parley_buf *b, const char *name, const char *help,
                        unsigned long long v)
{
    parley__buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

char *met_render(struct metrics *m, const struct parley_server *s)
{
    struct parley_buf b = PARLEY_BUF_INIT(16 * 1024 * 1024);
    put_counter(&b, "parley_turns_total", "Customer messages answered.", atomic_load(&m->turns));
    put_hist(&b, "parley_turn_duration_seconds",
             "Time to answer a customer message, store included.", &m->turn_latency, 0);
    put_labeled(&b, "parley_intents_total", "Messages by the intent decided.", "intent",
                &m->intents);
    put_hist(&b, "parley_intent_confidence", "Calibrated confidence of the decided intent.",
             &m->confidence, 1);
    put_labeled(&b, "parley_handoffs_total", "Conversations handed to a person, by reason.",
                "reason", &m->handoffs);
    put_labeled(&b, "parley_actions_total", "Actions (backend calls) by outcome.", "action",
                &m->actions);
    put_hist(&b, "parley_connector_duration_seconds", "Time of calls to operational systems.",
             &m->connector_latency, 0);
    put_labeled(&b, "parley_connector_errors_total", "Failed calls to operational systems.", "code",
                &m->connector_errors);
    put_labeled(&b, "parley_http_responses_total", "HTTP responses by status.", "code",
                &m->http_status);
    put_counter(&b, "parley_conversations_started_total", "Conversations started.",
                atomic_load(&m->conversations));
    put_counter(&b, "parley_agent_messages_total", "Messages sent by human agents.",
                atomic_load(&m->agent_messages));
    put_counter(&b, "parley_ratings_total", "Satisfaction ratings given.",
                atomic_load(&m->ratings));
    put_counter(&b, "parley_events_total", "Events recorded at the intake (not redeliveries).",
                atomic_load(&m->events));
    put_counter(&b, "parley_reloads_total", "Successful bot reloads.", atomic_load(&m->reloads));
    put_counter(&b, "parley_reload_failures_total", "Refused bot reloads.",
                atomic_load(&m->reload_failures));
    parley__buf_printf(&b,
                       "# HELP parley_streams_open Open event streams.\n# TYPE parley_streams_open "
                       "gauge\nparley_streams_open %lld\n",
                       (long long)atomic_load(&m->streams_open));
    if (s->cfg.nats_url[0]) {
        put_counter(&b, "parley_nats_messages_consumed_total",
                    "Messages fetched from the NATS JetStream consumer.",
                    atomic_load(&m->nats_consumed));
        parley__buf_printf(&b,
                           "# HELP parley_nats_messages_total NATS messages by what became of "
                           "them: acked (stored), termed (refused for good), naked (store "
                           "failed: redelivered).\n# TYPE parley_nats_messages_total counter\n"
                           "parley_nats_messages_total{outcome=\"acked\"} %llu\n"
                           "parley_nats_messages_total{outcome=\"termed\"} %llu\n"
                           "parley_nats_messages_total{outcome=\"naked\"} %llu\n",
                           (unsigned long long)atomic_load(&m->nats_acked),
                           (unsigned long long)atomic_load(&m->nats_termed),
                           (unsigned long long)atomic_load(&m->nats_naked));
        parley__buf_printf(&b,
                           "# HELP parley_nats_connected 1 while connected to NATS.\n# TYPE "
                           "parley_nats_connected gauge\nparley_nats_connected %d\n",
                           atomic_load(&m->nats_connected));
    }
    if (!b.data)
        return NULL;
    return parley__buf_detach(&b, NULL);
}
