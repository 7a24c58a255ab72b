/* parley eval: accuracy, macro-F1, per-intent scores, confused pairs,
 * out-of-scope recall and calibration error of a model on labeled rows. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "parley/nlu.h"

static const char usage[] =
    "usage: parley eval --model MODEL --data FILE [--format FMT] [--skip-bad] [--json]\n"
    "\n"
    "  --model MODEL   model file from parley train\n"
    "  --data FILE     labeled rows; rows labelled oos/out_of_scope are out of scope\n"
    "  --format FMT    auto|fasttext|csv|tsv|jsonl|rasa (default auto)\n"
    "  --skip-bad      skip malformed rows (counted) instead of failing\n"
    "  --json          one JSON object on stdout instead of a text report\n"
    "  -h, --help      this help\n";

static void print_json(const parley_nlu_report *r, const parley_nlu_model_info *info)
{
    printf("{\"rows\":%zu,\"in_scope_rows\":%zu,\"oos_rows\":%zu,\"accuracy\":%.6f,"
           "\"in_scope_accuracy\":%.6f,\"oos_recall\":%.6f,\"oos_precision\":%.6f,"
           "\"in_scope_accuracy_nothreshold\":%.6f,\"oos_recall_nothreshold\":%.6f,"
           "\"macro_f1\":%.6f,\"ece\":%.6f,\"unknown_labels\":%zu,\"oos_threshold\":%.6f,"
           "\"temperature\":%.6f,\"labels\":[",
           r->rows, r->in_scope_rows, r->oos_rows, r->accuracy, r->in_scope_accuracy, r->oos_recall,
           r->oos_precision, r->in_scope_accuracy_nothreshold, r->oos_recall_nothreshold,
           r->macro_f1, r->ece, r->unknown_labels, (double)info->oos_threshold,
           (double)info->temperature);
    for (size_t i = 0; i < r->n_labels; i++) {
        const parley_nlu_label_stats *s = &r->labels[i];
        printf("%s{\"label\":", i ? "," : "");
        cli_json_string(stdout, s->label);
        printf(",\"support\":%zu,\"predicted\":%zu,\"precision\":%.6f,\"recall\":%.6f,"
               "\"f1\":%.6f}",
               s->support, s->predicted, s->precision, s->recall, s->f1);
    }
    printf("],\"confusions\":[");
    for (size_t i = 0; i < r->n_confusions; i++) {
        printf("%s{\"gold\":", i ? "," : "");
        cli_json_string(stdout, r->confusions[i].gold);
        printf(",\"predicted\":");
        cli_json_string(stdout, r->confusions[i].predicted);
        printf(",\"count\":%zu}", r->confusions[i].count);
    }
    printf("]}\n");
}

static void print_text(const parley_nlu_report *r, const parley_nlu_model_info *info)
{
    printf("rows                 %zu (%zu in scope, %zu out of scope)\n", r->rows, r->in_scope_rows,
           r->oos_rows);
    printf("accuracy             %.2f%%\n", 100 * r->accuracy);
    printf("macro-F1             %.2f%%\n", 100 * r->macro_f1);
    if (r->oos_rows) {
        printf("in-scope accuracy    %.2f%%   (trained class only: %.2f%%)\n",
               100 * r->in_scope_accuracy, 100 * r->in_scope_accuracy_nothreshold);
        printf("out-of-scope recall  %.2f%%   (trained class only: %.2f%%, threshold %.3f)\n",
               100 * r->oos_recall, 100 * r->oos_recall_nothreshold, (double)info->oos_threshold);
    }
    printf("calibration error    %.4f (ECE, 15 bins; temperature %.3f)\n", r->ece,
           (double)info->temperature);
    if (r->unknown_labels)
        printf("unknown labels       %zu rows have a label the model does not know\n",
               r->unknown_labels);
    printf("\n%-32s %8s %8s %8s %8s\n", "intent", "support", "prec", "recall", "f1");
    for (size_t i = 0; i < r->n_labels; i++) {
        const parley_nlu_label_stats *s = &r->labels[i];
        printf("%-32s %8zu %7.1f%% %7.1f%% %7.1f%%\n", s->label, s->support, 100 * s->precision,
               100 * s->recall, 100 * s->f1);
    }
    if (r->n_confusions) {
        printf("\nmost confused (gold -> predicted)\n");
        for (size_t i = 0; i < r->n_confusions; i++)
            printf("  %4zu  %s -> %s\n", r->confusions[i].count, r->confusions[i].gold,
                   r->confusions[i].predicted);
    }
}

int cmd_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"data", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"skip-bad", no_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL, *data_path = NULL;
    parley_nlu_format fmt = PARLEY_NLU_FORMAT_AUTO;
    unsigned flags = 0;
    int json = 0, ch, rc = EXIT_FAIL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_model *model = NULL;
    parley_nlu_data *data = NULL;
    parley_nlu_report *report = NULL;
    parley_nlu_model_info info;

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
        case 'S':
            flags |= PARLEY_NLU_DATA_SKIP_BAD;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (!model_path || !data_path)
        return cli_usage_error(usage, "eval needs --model and --data");
    if (parley_nlu_model_load(model_path, &model, &err) != PARLEY_OK ||
        parley_nlu_data_open(data_path, fmt, flags, &data, &err) != PARLEY_OK ||
        parley_nlu_eval(model, data, &report, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    parley_nlu_model_get_info(model, &info);
    if (json)
        print_json(report, &info);
    else
        print_text(report, &info);
    if (parley_nlu_data_skipped(data))
        fprintf(stderr, "warning: skipped %zu malformed rows of '%s' (first: %s)\n",
                parley_nlu_data_skipped(data), data_path, parley_nlu_data_first_skip(data));
    rc = EXIT_OK;
out:
    parley_nlu_report_free(report);
    parley_nlu_data_free(data);
    parley_nlu_model_free(model);
    return rc;
}
