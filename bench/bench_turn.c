/* bench_turn: the latency of one conversation turn (language, intent and
 * entities, the flow step, the state and both transcript turns written to
 * SQLite) with no connector call in it. Opens the bot in BOT_DIR with the
 * models in MODELS_DIR and a store at STORE (a file: WAL, synchronous=FULL
 * as in production; ":memory:" to leave the disk out), then runs N turns
 * over messages that trigger no backend call, each conversation a few
 * turns long, and prints a JSON object with the median, p90 and p99 in
 * microseconds. Used by bench/turn.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/dialog.h"

/* Openers and follow-ups in the four languages; none reaches the backend
 * (a flow that needs one stops at its identity question). */
static const char *const messages[] = {
    "hi there",
    "I want to add some data to my phone",
    "thanks a lot",
    "bonjour",
    "je voudrais recharger des données",
    "merci beaucoup",
    "hola buenas",
    "quiero añadir datos a mi línea",
    "muchas gracias",
    "hallo",
    "ich möchte mehr Datenvolumen kaufen",
    "danke schön",
    "what's the weather like tomorrow",
    "how do I reset my APN settings",
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    parley_dialog_options o = {0};
    parley_dialog *d = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    size_t n, nm = sizeof(messages) / sizeof(messages[0]);
    double *lat, total = 0;
    char id[PARLEY_STORE_ID_SIZE];
    int rc = 1;

    if (argc != 5 || (n = strtoul(argv[4], NULL, 10)) < 10) {
        (void)fputs("usage: bench_turn BOT_DIR MODELS_DIR STORE N (N >= 10)\n", stderr);
        return 2;
    }
    o.bot_dir = argv[1];
    o.models_dir = argv[2];
    o.store_url = argv[3];
    o.backend_url = "http://127.0.0.1:9"; /* nothing listens: calls would fail fast */
    lat = calloc(n, sizeof(*lat));
    if (!lat || parley_dialog_open(&o, &d, &e) != PARLEY_OK) {
        (void)fprintf(stderr, "bench_turn: %s\n", e.msg);
        goto out;
    }
    for (size_t i = 0; i < n + 50; i++) {
        const char *m = messages[i % nm];
        parley_dialog_reply *r = NULL;
        double t0;
        if (i % 3 == 0 && parley_dialog_start(d, "bench", id, &e) != PARLEY_OK)
            break;
        t0 = now_us();
        if (parley_dialog_turn(d, id, m, strlen(m), 0, &r, &e) != PARLEY_OK)
            break;
        if (i >= 50) /* the first turns warm caches up */
            total += lat[i - 50] = now_us() - t0;
        if (r->n_actions) {
            (void)fprintf(stderr, "bench_turn: '%s' called the backend\n", m);
            parley_dialog_reply_free(r);
            goto out;
        }
        parley_dialog_reply_free(r);
    }
    if (e.code != PARLEY_OK) {
        (void)fprintf(stderr, "bench_turn: %s\n", e.msg);
        goto out;
    }
    qsort(lat, n, sizeof(*lat), cmp);
    printf("{\"turns\": %zu, \"store\": \"%s\", \"median_us\": %.1f, \"p90_us\": %.1f, "
           "\"p99_us\": %.1f, \"mean_us\": %.1f}\n",
           n, argv[3], lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], total / (double)n);
    rc = 0;
out:
    parley_dialog_close(d);
    free(lat);
    return rc;
}
