/* bench_predict: in-process prediction throughput of one model on one
 * thread. Loads MODEL, reads FILE (one plain-text utterance per line) into
 * memory, warms up, then times parley_nlu_predict over all lines, repeated
 * until at least MIN_SECONDS (default 2) have passed, and prints
 * {"utterances_per_s": N, "ns_per_utterance": N} on stdout. Used by
 * bench/run.sh; model loading and file reading are not timed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/nlu.h"

static const char usage[] = "usage: bench_predict MODEL FILE [MIN_SECONDS]\n";

struct lines {
    char **text;
    size_t *len;
    size_t n, cap;
};

/* Prints "bench_predict: MESSAGE" on stderr. */
static void complain(const char *fmt, ...) PARLEY_PRINTF(1, 2);
static void complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)fputs("bench_predict: ", stderr);
    (void)vfprintf(stderr, fmt, ap);
    (void)fputc('\n', stderr);
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void lines_free(struct lines *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->text[i]);
    free(ls->text);
    free(ls->len);
}

/* Reads every non-empty line of `path` (without its line ending). */
static int lines_read(const char *path, struct lines *ls)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = -1;

    if (!f) {
        complain("cannot open '%s'", path);
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (ls->n == ls->cap) {
            size_t ncap = ls->cap ? 2 * ls->cap : 1024;
            char **t = realloc(ls->text, ncap * sizeof(*t));
            if (!t)
                goto out;
            ls->text = t;
            size_t *l = realloc(ls->len, ncap * sizeof(*l));
            if (!l)
                goto out;
            ls->len = l;
            ls->cap = ncap;
        }
        ls->text[ls->n] = malloc((size_t)len + 1);
        if (!ls->text[ls->n])
            goto out;
        memcpy(ls->text[ls->n], line, (size_t)len + 1);
        ls->len[ls->n] = (size_t)len;
        ls->n++;
    }
    if (ferror(f)) {
        complain("cannot read '%s'", path);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && !ferror(f))
        complain("out of memory reading '%s'", path);
    free(line);
    (void)fclose(f);
    return rc;
}

/* One pass over all lines; adds the confidences to `*sink` so the work
 * cannot be discarded. */
static int predict_all(const parley_nlu_model *m, parley_nlu_ctx *ctx, const struct lines *ls,
                       double *sink)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_prediction pr;

    for (size_t i = 0; i < ls->n; i++) {
        if (parley_nlu_predict(m, ctx, ls->text[i], ls->len[i], 1, &pr, &err) != PARLEY_OK) {
            complain("line %zu: %s", i + 1, err.msg);
            return -1;
        }
        *sink += (double)pr.confidence;
    }
    return 0;
}

int main(int argc, char **argv)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_model *model = NULL;
    parley_nlu_ctx *ctx = NULL;
    struct lines ls = {NULL, NULL, 0, 0};
    double min_s = 2.0, sink = 0.0, t0, elapsed;
    size_t done = 0;
    int rc = 1;

    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        return fputs(usage, stdout) < 0;
    }
    if (argc < 3 || argc > 4) {
        (void)fputs(usage, stderr);
        return 2;
    }
    if (argc == 4) {
        char *end;
        min_s = strtod(argv[3], &end);
        if (*end != '\0' || !(min_s > 0.0 && min_s <= 3600.0)) {
            complain("MIN_SECONDS must be in (0, 3600], not '%s'", argv[3]);
            return 2;
        }
    }
    if (parley_nlu_model_load(argv[1], &model, &err) != PARLEY_OK) {
        complain("%s", err.msg);
        goto out;
    }
    if (parley_nlu_ctx_new(&ctx) != PARLEY_OK) {
        complain("out of memory");
        goto out;
    }
    if (lines_read(argv[2], &ls) != 0)
        goto out;
    if (ls.n == 0) {
        complain("no utterances in '%s'", argv[2]);
        goto out;
    }

    /* Warm up: page in the model, grow the context's buffers, train the
     * branch predictors; at least one full pass and about 0.2 s. */
    t0 = now_s();
    do {
        if (predict_all(model, ctx, &ls, &sink) != 0)
            goto out;
    } while (now_s() - t0 < 0.2);

    t0 = now_s();
    do {
        if (predict_all(model, ctx, &ls, &sink) != 0)
            goto out;
        done += ls.n;
        elapsed = now_s() - t0;
    } while (elapsed < min_s);

    if (printf("{\"utterances_per_s\": %.0f, \"ns_per_utterance\": %.1f}\n", (double)done / elapsed,
               elapsed * 1e9 / (double)done) < 0)
        goto out;
    /* Never true for calibrated confidences; keeps `sink` live. */
    if (sink < 0.0)
        complain("negative confidence sum %g", sink);
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    lines_free(&ls);
    parley_nlu_ctx_free(ctx);
    parley_nlu_model_free(model);
    return rc;
}
