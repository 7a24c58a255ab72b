/* bench_store: the cost of the store's encryption at rest. "commit URL N
 * [SPEC]" makes N conversations, each created and then committed with a
 * customer message, the bot's reply and a state of a realistic size (as a
 * dialog turn does), timing each commit, and prints a JSON object with the
 * median, p90 and p99 in microseconds. With SPEC (a master key: file:PATH
 * or env:NAME) the content is encrypted; comparing the two runs gives the
 * cost. Every conversation belongs to customer "C<i % 10>" and its texts
 * contain "BENCH-CONTENT", so tests use it to fill stores. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/store.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_store *s = NULL;
    parley_store_master_key mk;
    parley_store_options o = PARLEY_STORE_OPTIONS_INIT;
    char id[PARLEY_STORE_ID_SIZE], state[1200], customer[16];
    int rc = 1;

    memset(&mk, 0, sizeof(mk));
    if (argc < 4 || strcmp(argv[1], "commit") != 0) {
        (void)fprintf(stderr, "usage: bench_store commit URL N [MASTER_KEY_SPEC]\n");
        return 2;
    }
    long n = strtol(argv[3], NULL, 10);
    double *lat = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (n <= 0 || !lat) {
        (void)fprintf(stderr, "bench_store: bad count '%s'\n", argv[3]);
        free(lat);
        return 2;
    }
    if (argc > 4) {
        if (parley_store_master_key_load(argv[4], &mk, &e) != PARLEY_OK) {
            (void)fprintf(stderr, "bench_store: %s\n", e.msg);
            goto out;
        }
        o.master_keys = &mk;
        o.nmaster_keys = 1;
    }
    if (parley_store_open_ex(argv[2], &o, &s, &e) != PARLEY_OK) {
        (void)fprintf(stderr, "bench_store: %s\n", e.msg);
        goto out;
    }
    /* A state document of about 1 KB: slots and facts. */
    int len = snprintf(state, sizeof(state), "{\"slots\":{\"note\":\"BENCH-CONTENT\"},\"facts\":[");
    for (int i = 0; len < 1000; i++)
        len += snprintf(state + len, sizeof(state) - (size_t)len, "%s{\"k\":\"fact%d\",\"v\":%d}",
                        i ? "," : "", i, i * 7);
    (void)snprintf(state + len, sizeof(state) - (size_t)len, "]}");
    parley_store_turn turns[2] = {
        {.role = PARLEY_ROLE_CUSTOMER, .text = "BENCH-CONTENT i want to pay my bill please"},
        {.role = PARLEY_ROLE_BOT, .text = "BENCH-CONTENT sure, your bill is 42.10 EUR"}};
    parley_store_outcome oc = {.customer_turns = 1, .customer_id = customer};
    for (long i = 0; i < n; i++) {
        (void)snprintf(customer, sizeof(customer), "C%ld", i % 10);
        if (parley_store_conversation_create(s, "web", "en", "{}", id, &e) != PARLEY_OK)
            goto fail;
        double t = now_us();
        if (parley_store_commit_outcome(s, id, 1, state, turns, 2, &oc, NULL, &e) != PARLEY_OK)
            goto fail;
        lat[i] = now_us() - t;
    }
    qsort(lat, (size_t)n, sizeof(double), cmp_double);
    (void)printf("{\"commits\":%ld,\"encrypted\":%s,\"median_us\":%.1f,\"p90_us\":%.1f,"
                 "\"p99_us\":%.1f}\n",
                 n, parley_store_encrypted(s) ? "true" : "false", lat[n / 2],
                 lat[(size_t)((double)n * 0.9)], lat[(size_t)((double)n * 0.99)]);
    rc = 0;
    goto out;
fail:
    (void)fprintf(stderr, "bench_store: %s\n", e.msg);
out:
    parley_store_close(s);
    parley_store_master_key_clear(&mk);
    free(lat);
    return rc;
}
