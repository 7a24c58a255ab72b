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
    "usage: parley predict --model MODEL [--top K] [FILE...]\n"
    "\n"
    "Reads one utterance per line (standard input when no FILE) and writes one\n"
    "JSON object per line: {\"intent\":..., \"confidence\":..., \"top\":[...]}.\n"
    "Out of scope is reported as the model's out-of-scope label.\n"
    "\n"
    "  --model MODEL   model file from parley train\n"
    "  --top K         also list the best K classes, 1-16 (default 1)\n"
    "  -h, --help      this help\n";

static int predict_stream(const parley_nlu_model *m, parley_nlu_ctx *ctx, FILE *in,
                          const char *name, size_t k)
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
        if (parley_nlu_predict(m, ctx, line, (size_t)len, k, &pr, &err) != PARLEY_OK) {
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
            for (size_t i = 0; i < pr.n_top; i++) {
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

int cmd_predict(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"top", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL;
    unsigned long long k = 1;
    int ch, failed = 0, rc = EXIT_FAIL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_model *model = NULL;
    parley_nlu_ctx *ctx = NULL;

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
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!model_path)
        return cli_usage_error(usage, "predict needs --model");
    if (parley_nlu_model_load(model_path, &model, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (parley_nlu_ctx_new(&ctx) != PARLEY_OK) {
        cli_error("cannot predict: out of memory");
        goto out;
    }
    if (optind == argc) {
        failed |= predict_stream(model, ctx, stdin, "<stdin>", (size_t)k);
    } else {
        for (int i = optind; i < argc; i++) {
            FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
            if (!f) {
                cli_error("cannot open '%s'", argv[i]);
                failed = 1;
                continue;
            }
            failed |= predict_stream(model, ctx, f, argv[i], (size_t)k);
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
    parley_nlu_ctx_free(ctx);
    parley_nlu_model_free(model);
    return rc;
}
