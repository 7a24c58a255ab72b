/* parley train: trains an intent model from labeled utterances, showing a
 * live progress line on a terminal. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parley/nlu.h"

static const char usage[] =
    "usage: parley train --data FILE --out MODEL [options]\n"
    "\n"
    "  --data FILE          training rows (fastText, CSV, TSV, JSONL or Rasa nlu.yml)\n"
    "  --valid FILE         validation rows: calibrate confidence, pick the\n"
    "                       out-of-scope threshold (may include oos rows)\n"
    "  --holdout P          without --valid, percent of training rows held out\n"
    "                       to calibrate on (default 10; 0 trains on all)\n"
    "  --out MODEL          model file to write\n"
    "  --format FMT         auto|fasttext|csv|tsv|jsonl|rasa (default auto)\n"
    "  --skip-bad           skip malformed rows (counted) instead of failing\n"
    "  --epochs N           passes over the data (default 40)\n"
    "  --lr X               initial learning rate (default 1.0)\n"
    "  --l2 X               weight decay per update (default 0)\n"
    "  --dropout P          percent of a row's features hidden at each step\n"
    "                       (regularization; default 60, 0 disables)\n"
    "  --threads N          training threads (default 1)\n"
    "  --seed N             random seed (default 1)\n"
    "  --word-ngrams N      longest word n-gram, 0-3 (default 2)\n"
    "  --char-ngrams A-B    character n-gram range, 0 to disable (default 3-5)\n"
    "  --hash-bits N        feature hash space 2^N, 12-24 (default 20)\n"
    "  --min-count N        keep features seen in at least N rows (default 1)\n"
    "  --max-features N     keep at most N features, most frequent first\n"
    "  --buffer N           shuffle buffer, in feature entries (default 8388608)\n"
    "  --oos-label L        label meaning out of scope (default: oos or out_of_scope)\n"
    "  --oos-max-loss P     in-scope accuracy points (0-100) the out-of-scope\n"
    "                       threshold may cost on validation (default 0.75)\n"
    "  --no-casefold        keep letter case\n"
    "  --strip-accents      fold accents (e -> e)\n"
    "  -q, --quiet          no progress line\n"
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
    if (strcmp(p->phase, "train") == 0) {
        fprintf(stderr, "\rtraining  epoch %u/%u  %5.1f%%  eta %4.0fs  loss %.4f  %.2fM tok/s   ",
                p->epoch, p->epochs, 100.0 * p->fraction, p->eta_s < 0 ? 0.0 : p->eta_s, p->loss,
                p->tokens_per_s / 1e6);
    } else {
        fprintf(stderr, "\r%-9s %5.1f%%  %.1fs%40s", p->phase, 100.0 * p->fraction, p->elapsed_s,
                "");
    }
    st->shown = 1;
    return 0;
}

static int parse_range(const char *s, unsigned *lo, unsigned *hi)
{
    unsigned a, b;
    char tail;
    if (strcmp(s, "0") == 0) {
        *lo = *hi = 0;
        return 0;
    }
    if (sscanf(s, "%u-%u%c", &a, &b, &tail) == 2 && a >= 1 && a <= b && b <= 8) {
        *lo = a;
        *hi = b;
        return 0;
    }
    cli_error("option '--char-ngrams' needs MIN-MAX within 1-8 (or 0), not '%s'", s);
    return -1;
}

int cmd_train(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"valid", required_argument, NULL, 'v'},
        {"out", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"skip-bad", no_argument, NULL, 'S'},
        {"epochs", required_argument, NULL, 'e'},
        {"lr", required_argument, NULL, 'l'},
        {"l2", required_argument, NULL, 'L'},
        {"threads", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},
        {"word-ngrams", required_argument, NULL, 'w'},
        {"char-ngrams", required_argument, NULL, 'c'},
        {"hash-bits", required_argument, NULL, 'b'},
        {"min-count", required_argument, NULL, 'm'},
        {"max-features", required_argument, NULL, 'M'},
        {"buffer", required_argument, NULL, 'B'},
        {"oos-label", required_argument, NULL, 'O'},
        {"oos-max-loss", required_argument, NULL, 'X'},
        {"holdout", required_argument, NULL, 'H'},
        {"dropout", required_argument, NULL, 'D'},
        {"no-casefold", no_argument, NULL, 'C'},
        {"strip-accents", no_argument, NULL, 'A'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    parley_nlu_train_options o;
    const char *data = NULL, *valid = NULL, *outp = NULL;
    parley_nlu_format fmt = PARLEY_NLU_FORMAT_AUTO;
    unsigned flags = 0;
    int quiet = 0, ch, rc = EXIT_FAIL;
    unsigned long long u;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_data *dtrain = NULL, *dvalid = NULL;
    parley_nlu_model *model = NULL;
    struct progress_state ps = {0, 0};
    double t0;

    parley_nlu_train_options_default(&o);
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'v':
            valid = optarg;
            break;
        case 'o':
            outp = optarg;
            break;
        case 'f':
            if (parley_nlu_format_parse(optarg, &fmt, &err) != PARLEY_OK)
                return cli_usage_error(usage, "%s", err.msg);
            break;
        case 'S':
            flags |= PARLEY_NLU_DATA_SKIP_BAD;
            break;
        case 'e':
            if (cli_parse_uint("--epochs", optarg, 1, 10000, &u))
                return EXIT_USAGE;
            o.epochs = (unsigned)u;
            break;
        case 'l':
            if (cli_parse_double("--lr", optarg, 1e-6, 100.0, &o.lr))
                return EXIT_USAGE;
            break;
        case 'L':
            if (cli_parse_double("--l2", optarg, 0.0, 0.5, &o.l2))
                return EXIT_USAGE;
            break;
        case 't':
            if (cli_parse_uint("--threads", optarg, 1, 64, &u))
                return EXIT_USAGE;
            o.threads = (unsigned)u;
            break;
        case 's':
            if (cli_parse_uint("--seed", optarg, 0, UINT64_MAX, &u))
                return EXIT_USAGE;
            o.seed = u;
            break;
        case 'w':
            if (cli_parse_uint("--word-ngrams", optarg, 0, 3, &u))
                return EXIT_USAGE;
            o.features.word_ngrams = (unsigned)u;
            break;
        case 'c':
            if (parse_range(optarg, &o.features.char_min, &o.features.char_max))
                return EXIT_USAGE;
            break;
        case 'b':
            if (cli_parse_uint("--hash-bits", optarg, 12, 24, &u))
                return EXIT_USAGE;
            o.features.hash_bits = (unsigned)u;
            break;
        case 'm':
            if (cli_parse_uint("--min-count", optarg, 1, 1000000, &u))
                return EXIT_USAGE;
            o.min_count = (unsigned)u;
            break;
        case 'M':
            if (cli_parse_uint("--max-features", optarg, 1, 1u << 26, &u))
                return EXIT_USAGE;
            o.max_features = (size_t)u;
            break;
        case 'B':
            if (cli_parse_uint("--buffer", optarg, 1024, 1ull << 32, &u))
                return EXIT_USAGE;
            o.buffer_entries = (size_t)u;
            break;
        case 'O':
            o.oos_label = optarg;
            break;
        case 'D':
            if (cli_parse_double("--dropout", optarg, 0.0, 90.0, &o.dropout))
                return EXIT_USAGE;
            o.dropout /= 100.0;
            break;
        case 'H':
            if (cli_parse_double("--holdout", optarg, 0.0, 50.0, &o.holdout))
                return EXIT_USAGE;
            o.holdout /= 100.0;
            break;
        case 'X':
            if (cli_parse_double("--oos-max-loss", optarg, 0.0, 100.0, &o.oos_max_loss))
                return EXIT_USAGE;
            o.oos_max_loss /= 100.0;
            break;
        case 'C':
            o.norm_flags &= ~(unsigned)PARLEY_TEXT_CASEFOLD;
            break;
        case 'A':
            o.norm_flags |= PARLEY_TEXT_STRIP_ACCENTS;
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
        return cli_usage_error(usage, "train needs --data and --out");

    ps.tty = !quiet && isatty(fileno(stderr));
    o.progress = on_progress;
    o.progress_userdata = &ps;
    t0 = cli_now();
    if (parley_nlu_data_open(data, fmt, flags, &dtrain, &err) != PARLEY_OK ||
        (valid && parley_nlu_data_open(valid, fmt, flags, &dvalid, &err) != PARLEY_OK)) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (parley_nlu_train(&o, dtrain, dvalid, &model, &err) != PARLEY_OK) {
        if (ps.shown)
            fputc('\n', stderr);
        cli_error("cannot train on '%s': %s", data, err.msg);
        goto out;
    }
    if (ps.shown)
        fputc('\n', stderr);
    if (parley_nlu_model_save(model, outp, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (parley_nlu_data_skipped(dtrain))
        fprintf(stderr, "warning: skipped %zu malformed rows of '%s' (first: %s)\n",
                parley_nlu_data_skipped(dtrain), data, parley_nlu_data_first_skip(dtrain));
    if (dvalid && parley_nlu_data_skipped(dvalid))
        fprintf(stderr, "warning: skipped %zu malformed rows of '%s' (first: %s)\n",
                parley_nlu_data_skipped(dvalid), valid, parley_nlu_data_first_skip(dvalid));
    if (!quiet) {
        parley_nlu_model_info info;
        parley_nlu_model_get_info(model, &info);
        fprintf(stderr,
                "trained '%s': %llu rows, %zu labels, %zu features, %.1f MB, temperature %.3f, "
                "oos threshold %.3f, %.2fs\n",
                outp, (unsigned long long)info.train_rows, info.n_labels, info.n_features,
                (double)info.file_bytes / 1e6, info.temperature, info.oos_threshold,
                cli_now() - t0);
    }
    rc = EXIT_OK;
out:
    parley_nlu_model_free(model);
    parley_nlu_data_free(dtrain);
    parley_nlu_data_free(dvalid);
    return rc;
}
