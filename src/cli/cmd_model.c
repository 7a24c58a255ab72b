/* parley model: inspect model files (model info M [--json]). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "parley/nlu.h"

static const char usage[] = "usage: parley model info MODEL [--json] [--labels]\n"
                            "\n"
                            "  info MODEL   format, labels, features, calibration, training data\n"
                            "  --json       one JSON object instead of text\n"
                            "  --labels     also list every label\n"
                            "  -h, --help   this help\n";

static int model_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, labels = 0, rc = EXIT_FAIL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_model *m = NULL;
    parley_nlu_model_info in;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--labels") == 0)
            labels = 1;
        else if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return EXIT_OK;
        } else if (argv[i][0] == '-' || path)
            return cli_usage_error(usage, "unexpected argument '%s'", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return cli_usage_error(usage, "model info needs a model file");
    if (parley_nlu_model_load(path, &m, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    parley_nlu_model_get_info(m, &in);
    if (json) {
        printf("{\"format_version\":%u,\"labels\":%zu,\"features\":%zu,\"word_ngrams\":%u,"
               "\"char_ngrams\":[%u,%u],\"hash_bits\":%u,\"casefold\":%s,\"strip_accents\":%s,"
               "\"temperature\":%.6f,\"oos_threshold\":%.6f,\"oos_label\":",
               in.format_version, in.n_labels, in.n_features, in.features.word_ngrams,
               in.features.char_min, in.features.char_max, in.features.hash_bits,
               (in.norm_flags & PARLEY_TEXT_CASEFOLD) ? "true" : "false",
               (in.norm_flags & PARLEY_TEXT_STRIP_ACCENTS) ? "true" : "false",
               (double)in.temperature, (double)in.oos_threshold);
        cli_json_string(stdout, in.oos_label);
        printf(",\"oos_trained\":%s,\"train_rows\":%llu,\"data_fingerprint\":\"%016llx\","
               "\"file_bytes\":%zu",
               in.oos_trained ? "true" : "false", (unsigned long long)in.train_rows,
               (unsigned long long)in.data_fingerprint, in.file_bytes);
        if (labels) {
            printf(",\"label_names\":[");
            for (size_t i = 0; i < in.n_labels; i++) {
                if (i)
                    putchar(',');
                cli_json_string(stdout, parley_nlu_model_label(m, i));
            }
            putchar(']');
        }
        printf("}\n");
    } else {
        printf("model            %s\n", path);
        printf("format version   %u\n", in.format_version);
        printf("file size        %zu bytes\n", in.file_bytes);
        printf("labels           %zu\n", in.n_labels);
        printf("features         %zu (hash space 2^%u, word 1-%u-grams, char %u-%u-grams)\n",
               in.n_features, in.features.hash_bits, in.features.word_ngrams, in.features.char_min,
               in.features.char_max);
        printf("normalization    NFKC%s%s\n",
               (in.norm_flags & PARLEY_TEXT_CASEFOLD) ? " + case folding" : "",
               (in.norm_flags & PARLEY_TEXT_STRIP_ACCENTS) ? " + accent folding" : "");
        printf("temperature      %.4f\n", (double)in.temperature);
        printf("out of scope     label '%s', %s, threshold %.4f\n", in.oos_label,
               in.oos_trained ? "trained class" : "no trained class", (double)in.oos_threshold);
        printf("training rows    %llu\n", (unsigned long long)in.train_rows);
        printf("data fingerprint %016llx\n", (unsigned long long)in.data_fingerprint);
        if (labels)
            for (size_t i = 0; i < in.n_labels; i++)
                printf("label            %s\n", parley_nlu_model_label(m, i));
    }
    rc = EXIT_OK;
    parley_nlu_model_free(m);
    return rc;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(usage, "model needs a verb");
    if (cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "info") == 0)
        return model_info(argc - 1, argv + 1);
    return cli_usage_error(usage, "'%s' is not a model verb", argv[1]);
}
