/* bench_audit: the cost of the audit log. "append URL N" appends N records
 * of a realistic size (an action decision, ~230 bytes) to the log at URL,
 * timing each call, and prints a JSON object with the median, p90 and p99
 * in microseconds; "fill URL N [KEY]" appends N records as fast as it can
 * (checkpoints every 1000, signed with KEY if given) for the verify
 * benchmark, and tests use it to make signed logs. Used by bench/audit.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/audit.h"

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
    parley_audit *a = NULL;
    char body[512], conv[40], cust[24];
    int rc = 1;

    if (argc < 4 || (strcmp(argv[1], "append") != 0 && strcmp(argv[1], "fill") != 0)) {
        (void)fprintf(stderr, "usage: bench_audit append|fill URL N [KEY]\n");
        return 2;
    }
    int timing = strcmp(argv[1], "append") == 0;
    long n = strtol(argv[3], NULL, 10);
    parley_audit_options o = {argc > 4 ? argv[4] : NULL, 0, 0};
    double *lat = timing ? malloc(sizeof(double) * (size_t)(n > 0 ? n : 1)) : NULL;
    if (n <= 0 || (timing && !lat)) {
        (void)fprintf(stderr, "bench_audit: bad count '%s'\n", argv[3]);
        free(lat);
        return 2;
    }
    if (parley_audit_open(argv[2], &o, &a, &e) != PARLEY_OK) {
        (void)fprintf(stderr, "bench_audit: %s\n", e.msg);
        goto out;
    }
    double start = now_us();
    for (long i = 0; i < n; i++) {
        /* A conversation of about ten records, as a turn with an action
         * writes intent, decision and result. */
        (void)snprintf(conv, sizeof(conv), "%032lx", (unsigned long)(i / 10) * 2654435761UL);
        (void)snprintf(cust, sizeof(cust), "C%06ld", (i / 10) % 5000);
        (void)snprintf(
            body, sizeof(body),
            "{\"action\":\"refuel_data\",\"decision\":\"allowed\",\"rule\":\"confirmation\","
            "\"result\":\"ok\",\"summary\":\"1 GB refuelled\",\"asked_turn\":%ld,"
            "\"confirmed_turn\":%ld,\"proactive\":false,\"bot_version\":\"carrier-1.4.2\","
            "\"model\":\"intents-2026-11-20\"}",
            i % 10 + 1, i % 10 + 2);
        parley_audit_record r = {0, 0, "action", conv, cust, i % 10 + 1, body};
        double t0 = timing ? now_us() : 0;
        if (parley_audit_append(a, &r, NULL, &e) != PARLEY_OK) {
            (void)fprintf(stderr, "bench_audit: %s\n", e.msg);
            goto out;
        }
        if (timing)
            lat[i] = now_us() - t0;
    }
    double total = now_us() - start;
    if (timing) {
        qsort(lat, (size_t)n, sizeof(double), cmp_double);
        (void)printf("{\"url\":\"%s\",\"appends\":%ld,\"median_us\":%.1f,\"p90_us\":%.1f,"
                     "\"p99_us\":%.1f,\"per_s\":%.0f}\n",
                     argv[2], n, lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], n / (total / 1e6));
    } else {
        (void)printf("{\"url\":\"%s\",\"filled\":%ld,\"seconds\":%.2f}\n", argv[2], n, total / 1e6);
    }
    rc = 0;
out:
    parley_audit_close(a);
    free(lat);
    return rc;
}
