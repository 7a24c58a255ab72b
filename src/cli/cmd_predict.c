/* parley predict: reads utterances (one per line) from standard input or
 * files and writes one JSON object per line with the intent decision, its
 * confidence and the top k classes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parley/nlu.h"

static const char usage[] =
    "usage: parley predict --model MODEL [--top K] [--among L1,L2,...] [FILE...]\n"
    "\n"
    "Reads one utterance per line (standard input when no FILE) and writes one\n"
    "JSON object per line: {\"intent\":..., \"confidence\":..., \"top\":[...]}.\n"
    "Out of scope is reported as the model's out-of-scope label.\n"
    "\n"
    "  --model MODEL   model file from parley train\n"
    "  --top K         also list the best K classes, 1-16 (default 1)\n"
    "  --among LABELS  choose only among these comma-separated labels (e.g. the\n"
    "                  languages a bot speaks); confidences sum to 1 over them\n"
    "  -h, --help      this help\n";

/* The --among set: labels split at commas (pointing into `buf`). */
struct among {
    char *buf;
    const char **labels;
    size_t n;
};

static int predict_stream(const parley_nlu_model *m, parley_nlu_ctx *ctx, FILE *in,
                          const char *name, size_t k, const struct among *among)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int failed = 0;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_prediction pr;

    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        parley_err rc = among->n ? parley_nlu_predict_among(m, ctx, line, (size_t)len,
                                                            among->labels, among->n, &pr, &err)
                                 : parley_nlu_predict(m, ctx, line, (size_t)len, k, &pr, &err);
        if (rc != PARLEY_OK) {
            cli_error("%s:%zu: %s", name, lineno, err.msg);
            fputs("{\"error\":", stdout);
            cli_json_string(stdout, err.msg);
            fputs("}\n", stdout);
            failed = 1;
            continue;
        }
        fputs("{\"intent\":", stdout);
        cli_json_string(stdout, pr.intent);
        printf(",\"confidence\":%.4f", (double)pr.confidence);
        if (k > 1) {
            fputs(",\"top\":[", stdout);
            for (size_t i = 0; i < pr.n_top && i < k; i++) {
                fputs(i ? ",{\"intent\":" : "{\"intent\":", stdout);
                cli_json_string(stdout, pr.top[i].intent);
                printf(",\"confidence\":%.4f}", (double)pr.top[i].confidence);
            }
            fputc(']', stdout);
        }
        fputs("}\n", stdout);
    }
    free(line);
    if (ferror(in)) {
        cli_error("cannot read '%s'", name);
        failed = 1;
    }
    return failed;
}

/* Splits "a,b,c" into labels; an empty label is an error. Returns 0 or -1
 * (with nothing to free). */
static int parse_among(const char *arg, struct among *a)
{
    size_t n = 1;
    for (const char *p = arg; *p; p++)
        n += *p == ',';
    a->buf = strdup(arg);
    a->labels = calloc(n, sizeof(*a->labels));
    if (!a->buf || !a->labels)
        goto fail;
    a->n = 0;
    for (char *p = a->buf, *comma;; p = comma + 1) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p == '\0')
            goto fail;
        a->labels[a->n++] = p;
        if (!comma)
            return 0;
    }
fail:
    free(a->buf);
    free((void *)a->labels);
    a->buf = NULL;
    a->labels = NULL;
    a->n = 0;
    return -1;
}

int cmd_predict(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"top", required_argument, NULL, 'k'},
        {"among", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL;
    unsigned long long k = 1;
    int ch, failed = 0, rc = EXIT_FAIL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_model *model = NULL;
    parley_nlu_ctx *ctx = NULL;
    struct among among = {NULL, NULL, 0};
    const char *among_arg = NULL;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm':
            model_path = optarg;
            break;
        case 'k':
            if (cli_parse_uint("--top", optarg, 1, 16, &k))
                return EXIT_USAGE;
            break;
        case 'a':
            among_arg = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!model_path)
        return cli_usage_error(usage, "predict needs --model");
    if (among_arg && parse_among(among_arg, &among) != 0)
        return cli_usage_error(usage, "option '--among' needs comma-separated labels, not '%s'",
                               among_arg);
    if (parley_nlu_model_load(model_path, &model, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (parley_nlu_ctx_new(&ctx) != PARLEY_OK) {
        cli_error("cannot predict: out of memory");
        goto out;
    }
    if (optind == argc) {
        failed |= predict_stream(model, ctx, stdin, "<stdin>", (size_t)k, &among);
    } else {
        for (int i = optind; i < argc; i++) {
            FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
            if (!f) {
                cli_error("cannot open '%s'", argv[i]);
                failed = 1;
                continue;
            }
            failed |= predict_stream(model, ctx, f, argv[i], (size_t)k, &among);
            if (f != stdin)
                (void)fclose(f);
        }
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write predictions");
        failed = 1;
    }
    rc = failed ? EXIT_FAIL : EXIT_OK;
out:
    free(among.buf);
    free((void *)among.labels);
    parley_nlu_ctx_free(ctx);
    parley_nlu_model_free(model);
    return rc;
}
