/* parley langid: trains a language identifier (train), identifies the
 * language of texts, one label per line (predict), and measures a model on
 * labeled texts (eval). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parley/nlu.h"

static const char usage[] =
    "usage: parley langid train --data FILE --out MODEL [options]\n"
    "       parley langid predict --model MODEL [--among L1,L2,...] [--prob] [FILE|-]...\n"
    "       parley langid eval --model MODEL --data FILE [--among L1,L2,...] [--json]\n"
    "\n"
    "train: rows labeled with language codes (fastText, CSV, TSV, JSONL, Rasa)\n"
    "  --data FILE          training rows\n"
    "  --out MODEL          language model file to write\n"
    "  --valid FILE         rows to calibrate probabilities on (else a holdout)\n"
    "  --format FMT         auto|fasttext|csv|tsv|jsonl|rasa (default auto)\n"
    "  --threads N          training threads (default 1: deterministic)\n"
    "  --epochs N           passes over the data (default 40)\n"
    "  --lr X               initial learning rate (default 2)\n"
    "  --dropout P          share of features each step drops, 0-0.9 (default 0.8)\n"
    "  --char-ngrams A-B    character n-gram orders, within 1-6 (default 1-5)\n"
    "  --word-ngrams N      0 none, 1 words, 2 words and pairs (default 1)\n"
    "  --hash-bits N        2^N weight rows, 8-22 (default 17)\n"
    "  --holdout P          without --valid, percent of rows to calibrate on (default 10)\n"
    "  --seed N             random seed (default 1)\n"
    "  --groups N           specialists for at most N confusable groups, 0-32 (default 16;\n"
    "                       needs --valid)\n"
    "  --group-min N        group two languages confused at least N times on --valid\n"
    "                       (default 2)\n"
    "  --refit              after fitting on --valid, train again on --data and --valid\n"
    "                       together (--valid then no longer measures the model)\n"
    "  -q, --quiet          no progress or summary\n"
    "predict: one text per line in, one language code per line out\n"
    "  --model MODEL        language model from parley langid train\n"
    "  --among LANGS        choose only among these comma-separated codes\n"
    "  --prob               add a tab and the calibrated probability\n"
    "eval: accuracy, macro-F1, per language and the most frequent confusions\n"
    "  --json               one JSON object instead of text\n"
    "  -h, --help           this help\n";

struct progress_state {
    int tty;
    int shown;
};

static int on_progress(const parley_nlu_progress *p, void *ud)
{
    struct progress_state *st = ud;
    if (!st->tty)
        return 0;
    fprintf(stderr, "\r%-9s epoch %u/%u  %5.1f%%  %.1fs  loss %.4f   ", p->phase, p->epoch,
            p->epochs, 100.0 * p->fraction, p->elapsed_s, p->loss);
    st->shown = 1;
    return 0;
}

static int parse_range(const char *s, unsigned *lo, unsigned *hi)
{
    unsigned a, b;
    char tail;
    if (sscanf(s, "%u-%u%c", &a, &b, &tail) == 2 && a >= 1 && a <= b && b <= 6) {
        *lo = a;
        *hi = b;
        return 0;
    }
    cli_error("option '--char-ngrams' needs MIN-MAX within 1-6, not '%s'", s);
    return -1;
}

static int langid_train(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},
        {"valid", required_argument, NULL, 'v'},
        {"format", required_argument, NULL, 'f'},
        {"threads", required_argument, NULL, 't'},
        {"epochs", required_argument, NULL, 'e'},
        {"lr", required_argument, NULL, 'l'},
        {"dropout", required_argument, NULL, 'D'},
        {"char-ngrams", required_argument, NULL, 'c'},
        {"word-ngrams", required_argument, NULL, 'w'},
        {"hash-bits", required_argument, NULL, 'b'},
        {"holdout", required_argument, NULL, 'H'},
        {"seed", required_argument, NULL, 's'},
        {"groups", required_argument, NULL, 'G'},
        {"group-min", required_argument, NULL, 'M'},
        {"refit", no_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    parley_langid_options o;
    const char *data = NULL, *valid = NULL, *outp = NULL;
    parley_nlu_format fmt = PARLEY_NLU_FORMAT_AUTO;
    int quiet = 0, ch, rc = EXIT_FAIL;
    unsigned long long u;
    double x;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_data *dtrain = NULL, *dvalid = NULL;
    parley_langid *model = NULL;
    struct progress_state ps = {0, 0};
    double t0;

    parley_langid_options_default(&o);
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'o':
            outp = optarg;
            break;
        case 'v':
            valid = optarg;
            break;
        case 'f':
            if (parley_nlu_format_parse(optarg, &fmt, &err) != PARLEY_OK)
                return cli_usage_error(usage, "%s", err.msg);
            break;
        case 't':
            if (cli_parse_uint("--threads", optarg, 1, 64, &u))
                return EXIT_USAGE;
            o.threads = (unsigned)u;
            break;
        case 'e':
            if (cli_parse_uint("--epochs", optarg, 1, 1000, &u))
                return EXIT_USAGE;
            o.epochs = (unsigned)u;
            break;
        case 'l':
            if (cli_parse_double("--lr", optarg, 1e-6, 100, &o.lr))
                return EXIT_USAGE;
            break;
        case 'D':
            if (cli_parse_double("--dropout", optarg, 0, 0.9, &o.dropout))
                return EXIT_USAGE;
            break;
        case 'c':
            if (parse_range(optarg, &o.char_min, &o.char_max))
                return EXIT_USAGE;
            break;
        case 'w':
            if (cli_parse_uint("--word-ngrams", optarg, 0, 2, &u))
                return EXIT_USAGE;
            o.word_ngrams = (unsigned)u;
            break;
        case 'b':
            if (cli_parse_uint("--hash-bits", optarg, 8, 22, &u))
                return EXIT_USAGE;
            o.hash_bits = (unsigned)u;
            break;
        case 'H':
            if (cli_parse_double("--holdout", optarg, 0, 50, &x))
                return EXIT_USAGE;
            o.holdout = x / 100.0;
            break;
        case 's':
            if (cli_parse_uint("--seed", optarg, 0, UINT64_MAX, &u))
                return EXIT_USAGE;
            o.seed = u;
            break;
        case 'G':
            if (cli_parse_uint("--groups", optarg, 0, 32, &u))
                return EXIT_USAGE;
            o.groups = (unsigned)u;
            break;
        case 'M':
            if (cli_parse_uint("--group-min", optarg, 1, 1000000, &u))
                return EXIT_USAGE;
            o.group_min = (unsigned)u;
            break;
        case 'R':
            o.refit = 1;
            break;
        case 'q':
            quiet = 1;
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
    if (!data || !outp)
        return cli_usage_error(usage, "langid train needs --data and --out");
    if (o.refit && !valid)
        return cli_usage_error(usage, "--refit needs --valid (without it, the holdout is "
                                      "trained on anyway)");
    ps.tty = !quiet && isatty(STDERR_FILENO);
    o.progress = on_progress;
    o.progress_userdata = &ps;
    t0 = cli_now();
    if (parley_nlu_data_open(data, fmt, 0, &dtrain, &err) != PARLEY_OK ||
        (valid && parley_nlu_data_open(valid, fmt, 0, &dvalid, &err) != PARLEY_OK)) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (parley_langid_train(&o, dtrain, dvalid, &model, &err) != PARLEY_OK) {
        if (ps.shown)
            fputc('\n', stderr);
        cli_error("cannot train '%s': %s", outp, err.msg);
        goto out;
    }
    if (ps.shown)
        fputc('\n', stderr);
    if (parley_langid_save(model, outp, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (!quiet) {
        parley_langid_info in;
        parley_langid_get_info(model, &in);
        fprintf(stderr,
                "trained '%s': %llu rows, %zu languages, char %u-%u, words %u, 2^%u rows, "
                "temperature %.3f, %zu specialist groups, %.1f MB, %.1fs\n",
                outp, (unsigned long long)in.train_rows, in.n_languages, in.char_min, in.char_max,
                in.word_ngrams, in.hash_bits, (double)in.temperature, in.n_groups,
                (double)in.file_bytes / 1e6, cli_now() - t0);
    }
    rc = EXIT_OK;
out:
    parley_langid_free(model);
    parley_nlu_data_free(dtrain);
    parley_nlu_data_free(dvalid);
    return rc;
}

/* The --among set: codes split at commas (pointing into `buf`). */
struct among {
    char *buf;
    const char **codes;
    size_t n;
};

static void among_free(struct among *a)
{
    free(a->buf);
    free((void *)a->codes);
    a->buf = NULL;
    a->codes = NULL;
    a->n = 0;
}

/* Splits "a,b,c"; an empty code is an error. Returns 0 or -1. */
static int parse_among(const char *arg, struct among *a)
{
    size_t n = 1;
    for (const char *p = arg; *p; p++)
        n += *p == ',';
    a->buf = strdup(arg);
    a->codes = calloc(n, sizeof(*a->codes));
    if (!a->buf || !a->codes)
        goto fail;
    a->n = 0;
    for (char *p = a->buf, *comma;; p = comma + 1) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p == '\0')
            goto fail;
        a->codes[a->n++] = p;
        if (!comma)
            return 0;
    }
fail:
    among_free(a);
    return -1;
}

static parley_err identify(const parley_langid *m, const struct among *a, const char *s, size_t n,
                           parley_langid_result *r, parley_error *err)
{
    return a->n ? parley_langid_predict_among(m, s, n, a->codes, a->n, r, err)
                : parley_langid_predict(m, s, n, 1, r, err);
}

static int predict_stream(const parley_langid *m, FILE *in, const char *name, const struct among *a,
                          int prob)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int failed = 0;
    parley_error err = PARLEY_ERROR_INIT;
    parley_langid_result r;

    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (identify(m, a, line, (size_t)len, &r, &err) != PARLEY_OK) {
            cli_error("%s:%zu: %s", name, lineno, err.msg);
            fputs("?\n", stdout); /* keeps output lines aligned with input lines */
            failed = 1;
            continue;
        }
        fputs(r.language, stdout);
        if (prob)
            printf("\t%.4f", (double)r.probability);
        fputc('\n', stdout);
    }
    free(line);
    if (ferror(in)) {
        cli_error("cannot read '%s'", name);
        failed = 1;
    }
    return failed;
}

/* Parses the options shared by predict and eval. */
struct common_opts {
    const char *model, *data;
    struct among among;
    parley_nlu_format fmt;
    int prob, json;
};

static int parse_common(int argc, char **argv, int is_eval, struct common_opts *c)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'}, {"data", required_argument, NULL, 'd'},
        {"among", required_argument, NULL, 'a'}, {"format", required_argument, NULL, 'f'},
        {"prob", no_argument, NULL, 'p'},        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    parley_error err = PARLEY_ERROR_INIT;
    int ch;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (ch == 'm') {
            c->model = optarg;
        } else if (ch == 'd' && is_eval) {
            c->data = optarg;
        } else if (ch == 'a') {
            among_free(&c->among);
            if (parse_among(optarg, &c->among) != 0)
                return cli_usage_error(usage,
                                       "option '--among' needs comma-separated codes, not "
                                       "'%s'",
                                       optarg);
        } else if (ch == 'f' && is_eval) {
            if (parley_nlu_format_parse(optarg, &c->fmt, &err) != PARLEY_OK)
                return cli_usage_error(usage, "%s", err.msg);
        } else if (ch == 'p' && !is_eval) {
            c->prob = 1;
        } else if (ch == 'j' && is_eval) {
            c->json = 1;
        } else if (ch == 'h') {
            fputs(usage, stdout);
            return -1;
        } else {
            return cli_usage_error(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!c->model)
        return cli_usage_error(usage, "langid %s needs --model", is_eval ? "eval" : "predict");
    if (is_eval && (!c->data || optind < argc))
        return cli_usage_error(usage, optind < argc ? "unexpected argument"
                                                    : "langid eval needs "
                                                      "--data");
    return 0;
}

static int langid_predict(int argc, char **argv)
{
    struct common_opts c = {0};
    parley_error err = PARLEY_ERROR_INIT;
    parley_langid *m = NULL;
    int failed = 0, rc;

    if ((rc = parse_common(argc, argv, 0, &c)) != 0) {
        among_free(&c.among);
        return rc < 0 ? EXIT_OK : rc;
    }
    if (parley_langid_load(c.model, &m, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        among_free(&c.among);
        return EXIT_FAIL;
    }
    if (optind == argc) {
        failed |= predict_stream(m, stdin, "<stdin>", &c.among, c.prob);
    } else {
        for (int i = optind; i < argc; i++) {
            FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
            if (!f) {
                cli_error("cannot open '%s'", argv[i]);
                failed = 1;
                continue;
            }
            failed |= predict_stream(m, f, argv[i], &c.among, c.prob);
            if (f != stdin)
                (void)fclose(f);
        }
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write predictions");
        failed = 1;
    }
    among_free(&c.among);
    parley_langid_free(m);
    return failed ? EXIT_FAIL : EXIT_OK;
}

static int langid_eval(const char *model, const char *data, parley_nlu_format fmt,
                       const struct among *among, int json);

static int langid_eval_cmd(int argc, char **argv)
{
    struct common_opts c = {0};
    int rc;

    if ((rc = parse_common(argc, argv, 1, &c)) != 0) {
        among_free(&c.among);
        return rc < 0 ? EXIT_OK : rc;
    }
    rc = langid_eval(c.model, c.data, c.fmt, &c.among, c.json);
    among_free(&c.among);
    return rc;
}

/* ---- eval ---------------------------------------------------------------- */

struct pair_count {
    size_t gold, pred, count;
};

static int by_count(const void *a, const void *b)
{
    const struct pair_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    if (x->gold != y->gold)
        return x->gold < y->gold ? -1 : 1;
    return x->pred < y->pred ? -1 : x->pred > y->pred;
}

static size_t index_of(const parley_langid *m, const char *code)
{
    size_t lo = 0, hi = parley_langid_language_count(m);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(parley_langid_language(m, mid), code);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static int langid_eval(const char *model, const char *data, parley_nlu_format fmt,
                       const struct among *among, int json)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_langid *m = NULL;
    parley_nlu_data *d = NULL;
    size_t *conf = NULL, nl, rows = 0, right = 0, unknown = 0;
    parley_nlu_example ex;
    int has = 0, rc = EXIT_FAIL;
    double t0 = cli_now();

    if (parley_langid_load(model, &m, &err) != PARLEY_OK ||
        parley_nlu_data_open(data, fmt, 0, &d, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    nl = parley_langid_language_count(m);
    conf = calloc(nl * nl, sizeof(*conf));
    if (!conf) {
        cli_error("cannot evaluate: out of memory");
        goto out;
    }
    while (parley_nlu_data_next(d, &ex, &has, &err) == PARLEY_OK && has) {
        parley_langid_result r;
        size_t g = index_of(m, ex.label);
        if (identify(m, among, ex.text, ex.text_len, &r, &err) != PARLEY_OK) {
            cli_error("%s:%zu: %s", data, ex.line, err.msg);
            goto out;
        }
        rows++;
        if (g == SIZE_MAX) {
            unknown++;
            continue;
        }
        conf[g * nl + index_of(m, r.language)]++;
        right += strcmp(r.language, ex.label) == 0;
    }
    if (err.code != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (rows == 0) {
        cli_error("no rows to evaluate in '%s'", data);
        goto out;
    }
    double macro = 0.0;
    size_t present = 0;
    if (json)
        printf("{\"rows\":%zu,\"unknown_labels\":%zu,\"accuracy\":%.6f,\"languages\":[", rows,
               unknown, (double)right / (double)rows);
    else
        printf("%-12s %8s %8s %8s %8s\n", "language", "support", "prec", "recall", "F1");
    for (size_t c = 0; c < nl; c++) {
        size_t sup = 0, pred = 0, ok = conf[c * nl + c];
        for (size_t k = 0; k < nl; k++) {
            sup += conf[c * nl + k];
            pred += conf[k * nl + c];
        }
        if (sup == 0)
            continue;
        double p = pred ? (double)ok / (double)pred : 0.0, rcl = (double)ok / (double)sup;
        double f1 = p + rcl > 0 ? 2 * p * rcl / (p + rcl) : 0.0;
        macro += f1;
        if (json) {
            fputs(present ? ",{\"language\":" : "{\"language\":", stdout);
            cli_json_string(stdout, parley_langid_language(m, c));
            printf(",\"support\":%zu,\"precision\":%.6f,\"recall\":%.6f,\"f1\":%.6f}", sup, p, rcl,
                   f1);
        } else {
            printf("%-12s %8zu %7.2f%% %7.2f%% %7.2f%%\n", parley_langid_language(m, c), sup,
                   100 * p, 100 * rcl, 100 * f1);
        }
        present++;
    }
    macro = present ? macro / (double)present : 0.0;
    struct pair_count *pairs = calloc(nl * nl, sizeof(*pairs));
    size_t np = 0;
    if (!pairs) {
        cli_error("cannot evaluate: out of memory");
        goto out;
    }
    for (size_t g = 0; g < nl; g++)
        for (size_t p = 0; p < nl; p++)
            if (g != p && conf[g * nl + p])
                pairs[np++] = (struct pair_count){g, p, conf[g * nl + p]};
    qsort(pairs, np, sizeof(*pairs), by_count);
    if (json) {
        printf("],\"macro_f1\":%.6f,\"confusions\":[", macro);
    } else {
        printf("\n%zu rows, accuracy %.2f%%, macro-F1 %.2f%%, %zu with unknown languages, "
               "%.0f rows/s\nmost frequent confusions (gold -> predicted):\n",
               rows, 100.0 * (double)right / (double)rows, 100 * macro, unknown,
               (double)rows / (cli_now() - t0));
    }
    for (size_t i = 0; i < np && i < 20; i++) {
        const char *g = parley_langid_language(m, pairs[i].gold);
        const char *p = parley_langid_language(m, pairs[i].pred);
        if (json) {
            fputs(i ? ",{\"gold\":" : "{\"gold\":", stdout);
            cli_json_string(stdout, g);
            fputs(",\"predicted\":", stdout);
            cli_json_string(stdout, p);
            printf(",\"count\":%zu}", pairs[i].count);
        } else {
            printf("  %s -> %s  %zu\n", g, p, pairs[i].count);
        }
    }
    if (json)
        fputs("]}\n", stdout);
    free(pairs);
    rc = EXIT_OK;
out:
    free(conf);
    parley_nlu_data_free(d);
    parley_langid_free(m);
    return rc;
}

int cmd_langid(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(usage, "missing langid subcommand (train, predict or eval)");
    if (cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "train") == 0)
        return langid_train(argc - 1, argv + 1);
    if (strcmp(argv[1], "predict") == 0)
        return langid_predict(argc - 1, argv + 1);
    if (strcmp(argv[1], "eval") == 0)
        return langid_eval_cmd(argc - 1, argv + 1);
    return cli_usage_error(usage, "'%s' is not a langid subcommand", argv[1]);
}
