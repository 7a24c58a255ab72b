/* parley bot check DIR: loads a bot definition folder and prints every
 * problem as FILE:LINE:COLUMN: message (exit 1), or its warnings and a
 * one-line summary (exit 0; 1 with --strict when there are warnings). parley bot train DIR: trains
 * one intent model per language and language identifiers over the bot's languages from its
 * examples. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "parley/bot.h"
#include "parley/nlu.h"

static const char usage_text[] =
    "usage: parley bot check DIR [--strict]\n"
    "       parley bot train DIR [--out MODELS] [--threads N] [-q]\n"
    "\n"
    "train: trains DIR's intent model for each language (MODELS/intent-LANG.model)\n"
    "and a language identifier over the bot's languages, from the same examples\n"
    "(MODELS/langid.model, see parley langid). MODELS defaults to DIR/models.\n"
    "\n"
    "Checks the bot definition in DIR (DIR/bot.yml, the NLU example files and\n"
    "connector definitions it names) and prints every problem found as\n"
    "FILE:LINE:COLUMN: message on standard error. A definition that loads may\n"
    "still get warnings (FILE:LINE:COLUMN: warning: message), for flows that\n"
    "would show account facts or change the account before identity is\n"
    "verified or without a confirmation; the summary line counts them.\n"
    "Exit 0 when the definition loads (with --strict: and has no warnings),\n"
    "1 when it has problems, 2 for usage errors.\n"
    "See docs/bot-definition.md for the format.\n";

/* Loads the bot; when it does not load, prints every problem as
 * FILE:LINE:COLUMN: message (with `hint` after the count) and returns NULL. */
static parley_bot *load_checked(const char *dir, const char *hint)
{
    parley_bot *bot = NULL;
    parley_bot_report *rep = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc = parley_bot_load(dir, &bot, &rep, &e);
    size_t n = parley_bot_report_count(rep), total = parley_bot_report_total(rep);

    for (size_t i = 0; i < n; i++) {
        const parley_bot_problem *p = parley_bot_report_problem(rep, i);
        if (p->line)
            fprintf(stderr, "%s:%lu:%lu: %s\n", p->file, p->line, p->column, p->message);
        else
            fprintf(stderr, "%s: %s\n", p->file, p->message);
    }
    if (total > n)
        fprintf(stderr, "... and %zu more problems\n", total - n);
    if (rc != PARLEY_OK) {
        if (total)
            cli_error("bot '%s' has %zu problem%s%s", dir, total, total == 1 ? "" : "s", hint);
        else
            cli_error("%s", e.msg);
        bot = NULL;
    }
    parley_bot_report_free(rep);
    return bot;
}

static int bot_check(const char *dir, int strict)
{
    parley_bot *bot = load_checked(dir, "");
    size_t steps = 0, nwarn;

    if (!bot)
        return EXIT_FAIL;
    nwarn = parley_bot_warning_count(bot);
    for (size_t i = 0; i < nwarn; i++)
        fprintf(stderr, "%s\n", parley_bot_warning(bot, i));
    for (size_t i = 0; i < parley_bot_flow_count(bot); i++)
        steps += parley_bot_flow_step_count(bot, i);
    printf("bot '%s' is valid: %zu languages, %zu intents, %zu flows, %zu steps",
           parley_bot_name(bot), parley_bot_language_count(bot), parley_bot_intent_count(bot),
           parley_bot_flow_count(bot), steps);
    if (nwarn)
        printf(", %zu warning%s", nwarn, nwarn == 1 ? "" : "s");
    putchar('\n');
    parley_bot_free(bot);
    return strict && nwarn ? EXIT_FAIL : EXIT_OK;
}

static int train_one(const parley_nlu_train_options *o, const char *data, const char *out,
                     int quiet)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_nlu_data *d = NULL;
    parley_nlu_model *m = NULL;
    int rc = EXIT_FAIL;

    if (parley_nlu_data_open(data, PARLEY_NLU_FORMAT_AUTO, 0, &d, &e) != PARLEY_OK ||
        parley_nlu_train(o, d, NULL, &m, &e) != PARLEY_OK ||
        parley_nlu_model_save(m, out, &e) != PARLEY_OK) {
        cli_error("cannot train '%s': %s", out, e.msg);
        goto out;
    }
    if (!quiet) {
        parley_nlu_model_info in;
        parley_nlu_model_get_info(m, &in);
        fprintf(stderr, "trained '%s': %llu rows, %zu labels, %.1f MB\n", out,
                (unsigned long long)in.train_rows, in.n_labels, (double)in.file_bytes / 1e6);
    }
    rc = EXIT_OK;
out:
    parley_nlu_model_free(m);
    parley_nlu_data_free(d);
    return rc;
}

/* Trains the bot's language identifier on `data` into `out`: a few
 * languages, so a smaller hash space (2^16 rows, 4 MB) is plenty. */
static int train_langid(const char *data, const char *out, unsigned threads, int quiet)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_nlu_data *d = NULL;
    parley_langid *m = NULL;
    parley_langid_options o;
    int rc = EXIT_FAIL;

    parley_langid_options_default(&o);
    o.threads = threads;
    o.hash_bits = 16;
    if (parley_nlu_data_open(data, PARLEY_NLU_FORMAT_FASTTEXT, 0, &d, &e) != PARLEY_OK ||
        parley_langid_train(&o, d, NULL, &m, &e) != PARLEY_OK ||
        parley_langid_save(m, out, &e) != PARLEY_OK) {
        cli_error("cannot train '%s': %s", out, e.msg);
        goto out;
    }
    if (!quiet) {
        parley_langid_info in;
        parley_langid_get_info(m, &in);
        fprintf(stderr, "trained '%s': %llu rows, %zu languages, %.1f MB\n", out,
                (unsigned long long)in.train_rows, in.n_languages, (double)in.file_bytes / 1e6);
    }
    rc = EXIT_OK;
out:
    parley_langid_free(m);
    parley_nlu_data_free(d);
    return rc;
}

/* Writes every example of every language as "__label__LANG text" to
 * `path`, the training set of the language identifier. */
static int write_langid_data(const parley_bot *bot, const char *path)
{
    FILE *f = fopen(path, "w");
    int rc = EXIT_FAIL;
    if (!f) {
        cli_error("cannot create '%s': %s", path, strerror(errno));
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < parley_bot_language_count(bot); i++) {
        const char *lang = parley_bot_language(bot, i);
        parley_error e = PARLEY_ERROR_INIT;
        parley_nlu_data *d = NULL;
        parley_nlu_example ex;
        int has = 0;
        if (parley_nlu_data_open(parley_bot_nlu_file(bot, lang), PARLEY_NLU_FORMAT_AUTO, 0, &d,
                                 &e) != PARLEY_OK) {
            cli_error("%s", e.msg);
            goto out;
        }
        while (parley_nlu_data_next(d, &ex, &has, &e) == PARLEY_OK && has) {
            fprintf(f, "__label__%s ", lang);
            for (size_t k = 0; k < ex.text_len; k++)
                fputc(ex.text[k] == '\n' || ex.text[k] == '\r' ? ' ' : ex.text[k], f);
            fputc('\n', f);
        }
        parley_nlu_data_free(d);
        if (e.code != PARLEY_OK) {
            cli_error("%s", e.msg);
            goto out;
        }
    }
    rc = EXIT_OK;
out:
    if (fclose(f) != 0 && rc == EXIT_OK) {
        cli_error("cannot write '%s'", path);
        rc = EXIT_FAIL;
    }
    return rc;
}

static int bot_train(int argc, char **argv)
{
    const char *dir = NULL, *outdir = NULL;
    unsigned long long threads = 1;
    int quiet = 0, rc = EXIT_FAIL;
    char defout[4096], path[4096], lpath[4096], tmp[4096];
    parley_nlu_train_options o;
    parley_bot *bot;

    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            outdir = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (cli_parse_uint("--threads", argv[++i], 1, 64, &threads))
                return EXIT_USAGE;
        } else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (argv[i][0] == '-' || dir) {
            return cli_usage_error(usage_text, "unexpected argument '%s'", argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        return cli_usage_error(usage_text, "bot train needs a folder");
    if (!outdir) {
        if (snprintf(defout, sizeof(defout), "%s/models", dir) >= (int)sizeof(defout))
            return cli_usage_error(usage_text, "folder name too long");
        outdir = defout;
    }
    if (strlen(outdir) > 2048)
        return cli_usage_error(usage_text, "output folder name too long");
    if (!(bot = load_checked(dir, "; fix them first ('parley bot check')")))
        return EXIT_FAIL;
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        cli_error("cannot create '%s': %s", outdir, strerror(errno));
        goto out;
    }
    parley_nlu_train_options_default(&o);
    o.threads = (unsigned)threads;
    for (size_t i = 0; i < parley_bot_language_count(bot); i++) {
        const char *lang = parley_bot_language(bot, i);
        if (snprintf(path, sizeof(path), "%s/intent-%s.model", outdir, lang) >= (int)sizeof(path))
            goto out;
        if (train_one(&o, parley_bot_nlu_file(bot, lang), path, quiet) != EXIT_OK)
            goto out;
    }
    /* The language identifier (parley langid) learns from the same
     * examples, labelled with their language: short customer messages are
     * exactly what it sees later. */
    if (snprintf(tmp, sizeof(tmp), "%s/.language-train.%ld.txt", outdir, (long)getpid()) >=
            (int)sizeof(tmp) ||
        snprintf(lpath, sizeof(lpath), "%s/langid.model", outdir) >= (int)sizeof(lpath))
        goto out;
    if (write_langid_data(bot, tmp) == EXIT_OK &&
        train_langid(tmp, lpath, (unsigned)threads, quiet) == EXIT_OK)
        rc = EXIT_OK;
    (void)unlink(tmp);
out:
    parley_bot_free(bot);
    return rc;
}

int cmd_bot(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(usage_text, "missing bot subcommand");
    if (cli_is_help(argv[1])) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "train") == 0)
        return bot_train(argc, argv);
    if (strcmp(argv[1], "check") != 0)
        return cli_usage_error(usage_text, "'%s' is not a bot subcommand", argv[1]);
    {
        const char *dir = NULL;
        int strict = 0;
        for (int i = 2; i < argc; i++) {
            if (cli_is_help(argv[i])) {
                fputs(usage_text, stdout);
                return EXIT_OK;
            } else if (strcmp(argv[i], "--strict") == 0) {
                strict = 1;
            } else if (argv[i][0] == '-') {
                return cli_usage_error(usage_text, "unknown option '%s'", argv[i]);
            } else if (dir) {
                return cli_usage_error(usage_text, "bot check needs exactly one folder");
            } else {
                dir = argv[i];
            }
        }
        if (!dir)
            return cli_usage_error(usage_text, "bot check needs exactly one folder");
        return bot_check(dir, strict);
    }
}
