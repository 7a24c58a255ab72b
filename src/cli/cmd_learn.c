/* parley learn: from interaction logs to a registered, evaluated and (when
 * it beats production) promoted intent model; promote and roll back. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "parley/bot.h"
#include "parley/learn.h"
#include "parley/nlu.h"
#include "parley/store.h"
#include "server/server.h"

static const char usage[] =
    "usage: parley learn --language L [options] LOG...\n"
    "       parley learn promote VERSION --registry DIR --language L [--bot DIR | --models DIR]\n"
    "       parley learn rollback --registry DIR --language L [--bot DIR | --models DIR]\n"
    "       parley learn status --registry DIR --language L\n"
    "       parley learn discover --language L [--map FILE] [--bot DIR] [STORE] LOG...\n"
    "\n"
    "Turns interaction logs (docs/interaction-logs.md: JSONL, CSV, or training-data\n"
    "files) into an intent model: scrubs personal data first, keeps only customers\n"
    "with an active training_use grant, maps reason codes to intents, drops\n"
    "duplicates and contradictions, splits by conversation (stratified by intent),\n"
    "trains, and scores the new and the current model on the same held-out\n"
    "conversations. With --registry the model is registered as a new version and\n"
    "promoted when it beats the current one (docs/learning.md).\n"
    "\n"
    "  --language L       the language to learn (conversations in others are dropped)\n"
    "  --bot DIR          the bot: its intents bound the mapping, its examples in L\n"
    "                     join training, DIR/models/intent-L.model is the current model\n"
    "  --map FILE         reason code <tab> intent per line ('-': not an intent);\n"
    "                     without it reason codes must be intent names\n"
    "  --data-dir DIR | --store URL | --config FILE\n"
    "                     the server's store, whose training_use grants decide\n"
    "                     (as for parley serve); without any, every customer's\n"
    "                     conversation is dropped and only training-data files count\n"
    "  --format F         auto|jsonl|csv|training (default auto, by extension)\n"
    "  --registry DIR     register the model there (versions, history)\n"
    "  --models DIR       where promotion installs intent-L.model (default DIR/models\n"
    "                     of --bot)\n"
    "  --current MODEL    the model to compare with (default: the installed one)\n"
    "  --review           also learn from the turns agents labelled in the review\n"
    "                     queue of the store (GET/POST /v1/review, the agent console)\n"
    "  --no-promote       register without promoting\n"
    "  --min-gain X       macro-F1 gain needed to promote (default 0: strictly better)\n"
    "  --reload PID       send SIGHUP to a parley serve after promotion (hot reload)\n"
    "  --test-share X     held-out share per intent, 0.05-0.5 (default 0.2)\n"
    "  --threads N        training threads (default 1)\n"
    "  --epochs N         training passes (default the engine's)\n"
    "  --curve N          learning-curve points below 100% (default 2, 0: none)\n"
    "  --report FILE      write the HTML report there too\n"
    "  --summary FILE     write the JSON summary there too\n"
    "  --export FILE      write the scrubbed training rows (JSONL) there\n"
    "  --export-test FILE write the scrubbed held-out rows (JSONL) there\n"
    "  --work DIR         temporary files (default the registry, else .)\n"
    "  -q, --quiet        no progress\n"
    "\n"
    "discover groups the messages no intent covers (no reason code, one the\n"
    "mapping does not name or maps to '-'; with --review also the turns still\n"
    "waiting in the review queue) by meaning and proposes candidate intents with\n"
    "their counts and examples:\n"
    "  --clusters K       how many groups (default: from the number of messages)\n"
    "  --min-size N       leave out groups of fewer messages (default 1)\n"
    "  --json             one JSON object\n";

struct progress_state {
    int on;
};

static int on_progress(const parley_learn_progress *p, void *userdata)
{
    struct progress_state *ps = userdata;
    if (!ps->on)
        return 0;
    if (p->total)
        (void)fprintf(stderr, "\r%-8s %llu conversations, %.0f%% of %.1f MB, %.0f s   ", p->step,
                      (unsigned long long)p->conversations, 100.0 * p->fraction,
                      (double)p->total / 1e6, p->elapsed_s);
    else
        (void)fprintf(stderr, "\r%-8s %llu conversations, %.0f s                     ", p->step,
                      (unsigned long long)p->conversations, p->elapsed_s);
    return 0;
}

static void print_summary(const parley_learn_summary *s)
{
    (void)printf("read %llu conversations (%llu turns, %.1f MB); kept %llu",
                 (unsigned long long)s->conversations, (unsigned long long)s->turns,
                 (double)s->bytes / 1e6, (unsigned long long)s->kept);
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT; d++)
        if (s->dropped[d])
            (void)printf("; %s %llu", parley_learn_drop_name((parley_learn_drop)d),
                         (unsigned long long)s->dropped[d]);
    (void)printf("\nscrubbed %llu personal values; %zu training rows, %zu held out; %zu intents; "
                 "%zu contradictory texts\n",
                 (unsigned long long)s->pii_findings, s->train_rows, s->test_rows, s->n_intents,
                 s->n_contradictions);
    (void)printf("new model: accuracy %.4f, macro-F1 %.4f, ECE %.4f\n", s->fresh.accuracy,
                 s->fresh.macro_f1, s->fresh.ece);
    if (s->has_current)
        (void)printf("current:   accuracy %.4f, macro-F1 %.4f, ECE %.4f\n", s->current.accuracy,
                     s->current.macro_f1, s->current.ece);
    (void)printf("time: prepare %.1f s, train %.1f s, evaluate %.1f s, total %.1f s; peak memory "
                 "%zu MB\n",
                 s->seconds_prepare, s->seconds_train, s->seconds_eval, s->seconds_total,
                 s->peak_rss_mb);
}

static int write_to(const char *path, const parley_learn_summary *s,
                    parley_err (*fn)(const parley_learn_summary *, FILE *, parley_error *))
{
    parley_error e = PARLEY_ERROR_INIT;
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_error("cannot write '%s'", path);
        return EXIT_FAIL;
    }
    parley_err rc = fn(s, f, &e);
    if (fclose(f) != 0 && rc == PARLEY_OK)
        rc = parley_error_set(&e, PARLEY_ERR_IO, "cannot write '%s'", path);
    if (rc != PARLEY_OK) {
        cli_error("%s", e.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

struct args {
    const char *language, *bot_dir, *models, *registry, *current, *report, *summary, *export_path;
    const char *export_test;
    const char *work, *map, *config, *data_dir, *store_url;
    int no_promote, quiet, have_store, json;
    size_t clusters, min_size;
    long reload_pid;
    parley_learn_options lo;
    parley_nlu_train_options to;
};

/* The models folder: --models, else the bot's. */
static const char *models_dir(const struct args *a, char *buf, size_t size)
{
    if (a->models)
        return a->models;
    if (a->bot_dir && (size_t)snprintf(buf, size, "%s/models", a->bot_dir) < size)
        return buf;
    return NULL;
}

static int parse(int argc, char **argv, struct args *a, int first)
{
    static const struct option opts[] = {{"language", required_argument, NULL, 'l'},
                                         {"bot", required_argument, NULL, 'b'},
                                         {"map", required_argument, NULL, 'm'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"store", required_argument, NULL, 's'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"registry", required_argument, NULL, 'r'},
                                         {"models", required_argument, NULL, 'M'},
                                         {"current", required_argument, NULL, 'C'},
                                         {"no-promote", no_argument, NULL, 'N'},
                                         {"review", no_argument, NULL, 'V'},
                                         {"min-gain", required_argument, NULL, 'g'},
                                         {"reload", required_argument, NULL, 'R'},
                                         {"test-share", required_argument, NULL, 't'},
                                         {"threads", required_argument, NULL, 'T'},
                                         {"epochs", required_argument, NULL, 'e'},
                                         {"curve", required_argument, NULL, 'k'},
                                         {"report", required_argument, NULL, 'H'},
                                         {"summary", required_argument, NULL, 'J'},
                                         {"export", required_argument, NULL, 'x'},
                                         {"export-test", required_argument, NULL, 'X'},
                                         {"work", required_argument, NULL, 'w'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"clusters", required_argument, NULL, 'K'},
                                         {"min-size", required_argument, NULL, 'S'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    unsigned long long v;
    int c;
    optind = first;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            a->language = optarg;
            break;
        case 'b':
            a->bot_dir = optarg;
            break;
        case 'm':
            a->map = optarg;
            break;
        case 'd':
            a->data_dir = optarg;
            a->have_store = 1;
            break;
        case 's':
            a->store_url = optarg;
            a->have_store = 1;
            break;
        case 'c':
            a->config = optarg;
            a->have_store = 1;
            break;
        case 'f':
            if (strcmp(optarg, "auto") == 0)
                a->lo.format = PARLEY_LEARN_LOG_AUTO;
            else if (strcmp(optarg, "jsonl") == 0)
                a->lo.format = PARLEY_LEARN_LOG_JSONL;
            else if (strcmp(optarg, "csv") == 0)
                a->lo.format = PARLEY_LEARN_LOG_CSV;
            else if (strcmp(optarg, "training") == 0)
                a->lo.format = PARLEY_LEARN_LOG_TRAINING;
            else
                return cli_usage_error(usage, "--format must be auto, jsonl, csv or training");
            break;
        case 'r':
            a->registry = optarg;
            break;
        case 'M':
            a->models = optarg;
            break;
        case 'C':
            a->current = optarg;
            break;
        case 'V':
            a->lo.review = 1;
            break;
        case 'N':
            a->no_promote = 1;
            break;
        case 'g':
            if (cli_parse_double("--min-gain", optarg, 0.0, 0.99, &a->lo.min_gain))
                return EXIT_USAGE;
            break;
        case 'R':
            if (cli_parse_uint("--reload", optarg, 2, 1u << 30, &v))
                return EXIT_USAGE;
            a->reload_pid = (long)v;
            break;
        case 't':
            if (cli_parse_double("--test-share", optarg, 0.05, 0.5, &a->lo.test_share))
                return EXIT_USAGE;
            break;
        case 'T':
            if (cli_parse_uint("--threads", optarg, 1, 64, &v))
                return EXIT_USAGE;
            a->to.threads = (unsigned)v;
            break;
        case 'e':
            if (cli_parse_uint("--epochs", optarg, 1, 10000, &v))
                return EXIT_USAGE;
            a->to.epochs = (unsigned)v;
            break;
        case 'k':
            if (cli_parse_uint("--curve", optarg, 0, 6, &v))
                return EXIT_USAGE;
            a->lo.curve_points = (unsigned)v;
            break;
        case 'H':
            a->report = optarg;
            break;
        case 'J':
            a->summary = optarg;
            break;
        case 'x':
            a->export_path = optarg;
            break;
        case 'X':
            a->export_test = optarg;
            break;
        case 'w':
            a->work = optarg;
            break;
        case 'K':
            if (cli_parse_uint("--clusters", optarg, 0, 200, &v))
                return EXIT_USAGE;
            a->clusters = (size_t)v;
            break;
        case 'S':
            if (cli_parse_uint("--min-size", optarg, 1, 1000000000, &v))
                return EXIT_USAGE;
            a->min_size = (size_t)v;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'q':
            a->quiet = 1;
            break;
        case 'h':
            (void)fputs(usage, stdout);
            return -1;
        default:
            return cli_usage_error(usage, "unknown option (see parley learn -h)");
        }
    }
    if (!a->language)
        return cli_usage_error(usage, "--language is needed");
    return EXIT_OK;
}

static int reload(long pid)
{
    if (!pid)
        return EXIT_OK;
    if (kill((pid_t)pid, SIGHUP) != 0) {
        cli_error("cannot signal the server (pid %ld) to reload", pid);
        return EXIT_FAIL;
    }
    (void)printf("asked parley serve (pid %ld) to reload\n", pid);
    return EXIT_OK;
}

/* promote VERSION / rollback / status. */
static int registry_command(const char *cmd, int argc, char **argv)
{
    struct args a;
    char mbuf[4200], version[PARLEY_LEARN_VERSION_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    memset(&a, 0, sizeof(a));
    int rc = parse(argc, argv, &a, 2);
    if (rc != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    if (!a.registry)
        return cli_usage_error(usage, "learn %s needs --registry DIR", cmd);
    const char *models = models_dir(&a, mbuf, sizeof(mbuf));
    const char *who = getenv("USER") ? getenv("USER") : "";
    if (strcmp(cmd, "status") == 0) {
        if (parley_learn_registry_current(a.registry, a.language, version, &e) != PARLEY_OK) {
            cli_error("%s", e.msg);
            return EXIT_FAIL;
        }
        (void)printf("%s\n", version);
        return EXIT_OK;
    }
    if (strcmp(cmd, "promote") == 0) {
        if (optind + 1 != argc)
            return cli_usage_error(usage, "learn promote needs one VERSION");
        if (parley_learn_registry_promote(a.registry, a.language, argv[optind], models, who, &e) !=
            PARLEY_OK) {
            cli_error("%s", e.msg);
            return EXIT_FAIL;
        }
        (void)printf("%s is now the current %s model\n", argv[optind], a.language);
    } else {
        if (optind != argc)
            return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
        if (parley_learn_registry_rollback(a.registry, a.language, models, who, version, &e) !=
            PARLEY_OK) {
            cli_error("%s", e.msg);
            return EXIT_FAIL;
        }
        (void)printf("rolled back: %s is the current %s model again\n", version, a.language);
    }
    return reload(a.reload_pid);
}

/* What a run reads besides the logs: the bot, the store. */
struct sources {
    parley_server_config cfg;
    parley_store *store;
    parley_bot *bot;
    const char **intents;
    char mbuf[4200], cbuf[4300];
    struct progress_state ps;
};

/* Fills a->lo from the arguments after the options; opens the bot and the
 * store. On failure the message is printed. */
static int open_sources(struct args *a, struct sources *src, int argc, char **argv)
{
    parley_error e = PARLEY_ERROR_INIT;
    a->lo.language = a->language;
    a->lo.inputs = (const char *const *)argv + optind;
    a->lo.n_inputs = (size_t)(argc - optind);
    a->lo.mapping = a->map;
    a->lo.train = &a->to;
    a->lo.work_dir = a->work ? a->work : a->registry ? a->registry : ".";
    src->ps.on = !a->quiet && isatty(STDERR_FILENO);
    a->lo.progress = on_progress;
    a->lo.userdata = &src->ps;
    if (a->registry && mkdir(a->registry, 0750) != 0 && errno != EEXIST) {
        cli_error("cannot create the registry '%s': %s", a->registry, strerror(errno));
        return EXIT_FAIL;
    }
    if (a->bot_dir) {
        if (parley_bot_load(a->bot_dir, &src->bot, NULL, &e) != PARLEY_OK) {
            cli_error("%s (check it with 'parley bot check %s')", e.msg, a->bot_dir);
            return EXIT_FAIL;
        }
        const char *nlu = parley_bot_nlu_file(src->bot, a->language);
        if (!nlu) {
            cli_error("the bot '%s' has no language '%s'", a->bot_dir, a->language);
            return EXIT_FAIL;
        }
        a->lo.base_data = nlu;
        size_t n = parley_bot_intent_count(src->bot);
        if (!(src->intents = calloc(n ? n : 1, sizeof(*src->intents)))) {
            cli_error("out of memory");
            return EXIT_FAIL;
        }
        for (size_t i = 0; i < n; i++)
            src->intents[i] = parley_bot_intent(src->bot, i);
        a->lo.intents = src->intents;
        a->lo.n_intents = n;
    }
    const char *models = models_dir(a, src->mbuf, sizeof(src->mbuf));
    if (a->current)
        a->lo.current_model = a->current;
    else if (models &&
             (size_t)snprintf(src->cbuf, sizeof(src->cbuf), "%s/intent-%s.model", models,
                              a->language) < sizeof(src->cbuf) &&
             access(src->cbuf, R_OK) == 0)
        a->lo.current_model = src->cbuf;
    if (a->have_store) {
        int rc = cli_server_config(&src->cfg, a->config, a->data_dir, a->store_url);
        if (rc != EXIT_OK)
            return rc;
        if (parley_server_store_open(&src->cfg, &src->store, &e) != PARLEY_OK) {
            cli_error("%s", e.msg);
            return EXIT_FAIL;
        }
        a->lo.consent = src->store;
    } else if (!a->quiet) {
        (void)fprintf(stderr, "parley learn: no store given (--data-dir, --store or --config): "
                              "no customer has consent, only training-data files are used\n");
    }
    return EXIT_OK;
}

static void close_sources(struct sources *src)
{
    parley_store_close(src->store);
    parley_bot_free(src->bot);
    free(src->intents);
}

/* parley learn discover: candidate intents among what no intent covers. */
static int discover(int argc, char **argv)
{
    struct args a;
    struct sources src;
    parley_error e = PARLEY_ERROR_INIT;
    parley_learn_discovery *d = NULL;
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&src, 0, sizeof(src));
    parley_learn_options_default(&a.lo);
    parley_learn_train_options_default(&a.to);
    if ((rc = parse(argc, argv, &a, 2)) != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    if (optind == argc && !a.lo.review)
        return cli_usage_error(usage, "no interaction logs given (or --review)");
    if ((rc = open_sources(&a, &src, argc, argv)) != EXIT_OK)
        goto out;
    rc = EXIT_FAIL;
    if (parley_learn_discover(&a.lo, a.clusters, a.min_size, &d, &e) != PARLEY_OK) {
        if (src.ps.on)
            (void)fputc('\n', stderr);
        cli_error("%s", e.msg);
        goto out;
    }
    if (src.ps.on)
        (void)fputc('\n', stderr);
    size_t n = 0;
    const parley_learn_cluster *c = parley_learn_discovery_clusters(d, &n);
    const parley_learn_summary *s = parley_learn_discovery_summary(d);
    if (a.json) {
        (void)printf("{\"conversations\":%llu,\"messages\":%llu,\"clusters\":[",
                     (unsigned long long)s->conversations, (unsigned long long)s->kept);
        for (size_t i = 0; i < n; i++) {
            (void)printf("%s{\"name\":", i ? "," : "");
            cli_json_string(stdout, c[i].name);
            (void)printf(",\"terms\":");
            cli_json_string(stdout, c[i].terms);
            (void)printf(",\"messages\":%llu,\"distinct\":%zu,\"cohesion\":%.4f,\"examples\":[",
                         (unsigned long long)c[i].messages, c[i].distinct, c[i].cohesion);
            for (size_t j = 0; j < c[i].n_examples; j++) {
                if (j)
                    (void)putchar(',');
                cli_json_string(stdout, c[i].examples[j]);
            }
            (void)printf("]}");
        }
        (void)printf("]}\n");
    } else {
        (void)printf("%llu conversations read; %llu distinct messages no intent covers; "
                     "%zu candidate intents\n",
                     (unsigned long long)s->conversations, (unsigned long long)s->kept, n);
        for (size_t i = 0; i < n; i++) {
            (void)printf("\n%s  (%llu messages, %zu distinct, cohesion %.2f; words: %s)\n",
                         c[i].name, (unsigned long long)c[i].messages, c[i].distinct, c[i].cohesion,
                         c[i].terms);
            for (size_t j = 0; j < c[i].n_examples; j++)
                (void)printf("    %s\n", c[i].examples[j]);
        }
    }
    rc = EXIT_OK;
out:
    parley_learn_discovery_free(d);
    close_sources(&src);
    return rc;
}

int cmd_learn(int argc, char **argv)
{
    struct args a;
    struct sources src;
    parley_error e = PARLEY_ERROR_INIT;
    parley_learn_run *run = NULL;
    char version[PARLEY_LEARN_VERSION_SIZE] = "";
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "promote") == 0 || strcmp(argv[1], "rollback") == 0 ||
                      strcmp(argv[1], "status") == 0))
        return registry_command(argv[1], argc, argv);
    if (argc >= 2 && strcmp(argv[1], "discover") == 0)
        return discover(argc, argv);
    memset(&a, 0, sizeof(a));
    memset(&src, 0, sizeof(src));
    parley_learn_options_default(&a.lo);
    parley_learn_train_options_default(&a.to);
    if ((rc = parse(argc, argv, &a, 1)) != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    if (optind == argc && !a.bot_dir)
        return cli_usage_error(usage, "no interaction logs given");
    if ((rc = open_sources(&a, &src, argc, argv)) != EXIT_OK)
        goto out;
    rc = EXIT_FAIL;
    const char *models = models_dir(&a, src.mbuf, sizeof(src.mbuf));
    if (parley_learn_run_pipeline(&a.lo, &run, &e) != PARLEY_OK) {
        if (src.ps.on)
            (void)fputc('\n', stderr);
        goto fail;
    }
    if (src.ps.on)
        (void)fputc('\n', stderr);
    parley_learn_summary *s = parley_learn_run_summary(run);
    parley_learn_decide(run, a.lo.min_gain);
    if (a.registry && parley_learn_registry_add(a.registry, run, version, &e) != PARLEY_OK)
        goto fail;
    print_summary(s);
    if (parley_learn_run_first_error(run))
        (void)printf("first malformed conversation: %s\n", parley_learn_run_first_error(run));
    if ((a.report && write_to(a.report, s, parley_learn_report_html) != EXIT_OK) ||
        (a.summary && write_to(a.summary, s, parley_learn_report_json) != EXIT_OK))
        goto out;
    if ((a.export_path && parley_learn_run_write_rows(run, 0, a.export_path, &e) != PARLEY_OK) ||
        (a.export_test && parley_learn_run_write_rows(run, 1, a.export_test, &e) != PARLEY_OK))
        goto fail;
    if (a.registry)
        (void)printf("registered %s in %s\n", version, a.registry);
    (void)printf("%s\n", s->decision);
    if (a.registry && s->promoted && !a.no_promote) {
        if (parley_learn_registry_promote(a.registry, a.language, version, models, s->who, &e) !=
            PARLEY_OK)
            goto fail;
        (void)printf("%s is now the current %s model%s%s\n", version, a.language,
                     models ? ", installed in " : "", models ? models : "");
        rc = reload(a.reload_pid);
        goto out;
    }
    rc = EXIT_OK;
    goto out;
fail:
    cli_error("%s", e.msg);
out:
    parley_learn_run_free(run);
    close_sources(&src);
    return rc;
}
