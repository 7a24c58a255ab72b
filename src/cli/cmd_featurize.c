/* parley featurize: writes the exact feature vectors a model computes for
 * labeled rows in libsvm format, so other learners (liblinear in bench/)
 * can be compared on the same features. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parley/nlu.h"

static const char usage[] =
    "usage: parley featurize --model MODEL --data FILE [--format FMT] [--labels FILE]\n"
    "\n"
    "Writes \"LABEL_INDEX FEATURE:VALUE ...\" per row on stdout (libsvm format,\n"
    "1-based features). Label indexes follow the model's sorted labels; rows\n"
    "with a label the model lacks get the index 0.\n"
    "\n"
    "  --model MODEL   model whose features to use\n"
    "  --data FILE     labeled rows\n"
    "  --format FMT    auto|fasttext|csv|tsv|jsonl|rasa (default auto)\n"
    "  -h, --help      this help\n";

static int cmp_feature(const void *a, const void *b)
{
    const parley_nlu_feature *x = a, *y = b;
    return (x->row > y->row) - (x->row < y->row);
}

int cmd_featurize(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"data", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL, *data_path = NULL;
    parley_nlu_format fmt = PARLEY_NLU_FORMAT_AUTO;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_model *m = NULL;
    parley_nlu_data *d = NULL;
    parley_nlu_ctx *ctx = NULL;
    parley_nlu_feature *sorted = NULL;
    size_t sorted_cap = 0;
    int ch, rc = EXIT_FAIL, has;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm':
            model_path = optarg;
            break;
        case 'd':
            data_path = optarg;
            break;
        case 'f':
            if (parley_nlu_format_parse(optarg, &fmt, &err) != PARLEY_OK)
                return cli_usage_error(usage, "%s", err.msg);
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!model_path || !data_path)
        return cli_usage_error(usage, "featurize needs --model and --data");
    if (parley_nlu_model_load(model_path, &m, &err) != PARLEY_OK ||
        parley_nlu_data_open(data_path, fmt, 0, &d, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (parley_nlu_ctx_new(&ctx) != PARLEY_OK) {
        cli_error("out of memory");
        goto out;
    }
    parley_nlu_model_info info;
    parley_nlu_model_get_info(m, &info);
    for (;;) {
        parley_nlu_example ex;
        const parley_nlu_feature *f;
        size_t n, label = 0;
        if (parley_nlu_data_next(d, &ex, &has, &err) != PARLEY_OK) {
            cli_error("%s", err.msg);
            goto out;
        }
        if (!has)
            break;
        if (parley_nlu_features(m, ctx, ex.text, ex.text_len, &f, &n, &err) != PARLEY_OK) {
            cli_error("%s:%zu: %s", data_path, ex.line, err.msg);
            goto out;
        }
        for (size_t i = 0; i < info.n_labels; i++) {
            if (strcmp(parley_nlu_model_label(m, i), ex.label) == 0) {
                label = i + 1;
                break;
            }
        }
        if (n > sorted_cap) {
            parley_nlu_feature *p = realloc(sorted, n * sizeof(*p));
            if (!p) {
                cli_error("out of memory");
                goto out;
            }
            sorted = p;
            sorted_cap = n;
        }
        if (n) {
            memcpy(sorted, f, n * sizeof(*f));
            qsort(sorted, n, sizeof(*sorted), cmp_feature);
        }
        printf("%zu", label);
        for (size_t i = 0; i < n; i++)
            printf(" %u:%.6g", sorted[i].row + 1, (double)sorted[i].value);
        putchar('\n');
    }
    rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
out:
    free(sorted);
    parley_nlu_ctx_free(ctx);
    parley_nlu_data_free(d);
    parley_nlu_model_free(m);
    return rc;
}
