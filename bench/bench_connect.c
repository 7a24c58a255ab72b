/* bench_connect: median latency of connector calls to a running telco-sim
 * (one thread, sequential, connection reused), to compare with a bare
 * keep-alive HTTP round trip measured by wrk on the same route (see
 * bench/connect.sh). Usage: bench_connect DEFINITION BASE_URL [CALLS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/connect.h"

static double now_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static char yml[65536], patched[70000];
    parley_connect_def *def = NULL;
    parley_connector *c = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    long calls = argc > 3 ? strtol(argv[3], NULL, 10) : 20000;
    int rc = 1;

    if (argc < 3 || calls < 100) {
        (void)fputs("usage: bench_connect DEFINITION BASE_URL [CALLS>=100]\n", stderr);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        (void)fprintf(stderr, "bench_connect: cannot open '%s'\n", argv[1]);
        return 1;
    }
    size_t n = fread(yml, 1, sizeof(yml) - 1, f);
    (void)fclose(f);
    yml[n] = '\0';
    /* Point the definition's base_url at the server under test. */
    char *at = strstr(yml, "base_url:");
    if (!at) {
        (void)fputs("bench_connect: no base_url in the definition\n", stderr);
        return 1;
    }
    char *eol = strchr(at, '\n');
    (void)snprintf(patched, sizeof(patched), "%.*sbase_url: %s%s", (int)(at - yml), yml, argv[2],
                   eol ? eol : "");
    double *lat = malloc((size_t)calls * sizeof(double));
    if (!lat)
        return 1;
    if (parley_connect_def_load_memory(argv[1], patched, strlen(patched), &def, &err) !=
            PARLEY_OK ||
        parley_connector_new(def, &c, &err) != PARLEY_OK) {
        (void)fprintf(stderr, "bench_connect: %s\n", err.msg);
        goto out;
    }
    const parley_connect_param p[] = {{"line_id", "L1001"}};
    for (long i = -200; i < calls; i++) { /* 200 warm-up calls */
        parley_connect_result *r = NULL;
        double t0 = now_us();
        if (parley_connect_call(c, "get_line", p, 1, &r, &err) != PARLEY_OK ||
            parley_connect_result_code(r) != PARLEY_CONNECT_OK) {
            (void)fprintf(stderr, "bench_connect: call failed: %s\n",
                          r ? parley_connect_result_message(r) : err.msg);
            parley_connect_result_free(r);
            goto out;
        }
        double dt = now_us() - t0;
        parley_connect_result_free(r);
        if (i >= 0)
            lat[i] = dt;
    }
    qsort(lat, (size_t)calls, sizeof(double), cmp_double);
    printf("{\"calls\": %ld, \"median_us\": %.1f, \"p99_us\": %.1f}\n", calls, lat[calls / 2],
           lat[calls * 99 / 100]);
    rc = 0;
out:
    free(lat);
    parley_connector_free(c);
    parley_connect_def_free(def);
    return rc;
}
