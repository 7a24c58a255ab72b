/* parley test: runs conversation test files (docs/conversation-tests.md)
 * against a bot, each test with its own telco-sim and engine, optionally in
 * parallel threads; prints ok/FAIL per test and a summary. */
#include <dirent.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "cli.h"
#include "convtest.h"

static const char usage[] =
    "usage: parley test DIR|FILE... --bot DIR [--models DIR] [--filter TEXT] [-v]\n"
    "                   [--jobs N]\n"
    "\n"
    "Runs conversation tests (docs/conversation-tests.md): FILE, or every .yml\n"
    "and .yaml file in DIR. Each test gets a fresh telco-sim (in memory, a free\n"
    "port) and a fresh engine with an in-memory store.\n"
    "\n"
    "  --bot DIR       the bot folder (bot.yml)\n"
    "  --models DIR    its trained models (default: DIR/models, from parley bot train)\n"
    "  --filter TEXT   only the tests whose name contains TEXT\n"
    "  -v, --verbose   also print the conversation of passing tests\n"
    "  --jobs N        run N tests at a time, 1-64 (default 1)\n"
    "  -h, --help      this help\n"
    "\n"
    "telco-sim is found as $PARLEY_TELCO_SIM, beside the parley binary\n"
    "(tools/telco-sim/telco-sim) or on PATH. Exit 0 when every test passes,\n"
    "1 when one fails, 2 for usage errors or a malformed test file\n"
    "(FILE:LINE:COLUMN: message).\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int is_test_file(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && ((n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
                              (n > 5 && strcmp(name + n - 5, ".yaml") == 0));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Parses FILE, or DIR's test files in name order; returns the problem count. */
static size_t parse_arg(const char *arg, struct ct_suite *suite, int *found)
{
    struct stat st;
    struct dirent **names = NULL;
    size_t problems = 0;
    int n;

    if (stat(arg, &st) != 0) {
        cli_error("cannot read '%s'", arg);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        *found = 1;
        return ct_parse_file(arg, suite);
    }
    if ((n = scandir(arg, &names, NULL, by_name)) < 0) {
        cli_error("cannot read the folder '%s'", arg);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        if (is_test_file(names[i]->d_name)) {
            *found = 1;
            if (snprintf(path, sizeof(path), "%s/%s", arg, names[i]->d_name) >= (int)sizeof(path)) {
                cli_error("path too long in '%s'", arg);
                problems++;
            } else {
                problems += ct_parse_file(path, suite);
            }
        }
        free(names[i]);
    }
    free((void *)names);
    return problems;
}

/* The tests to run and, per test, its report once written. */
struct pool {
    const struct ct_suite *suite;
    const struct ct_run_options *opts;
    const size_t *selected;
    size_t n;
    size_t next;
    char **reports;
    int *passed;
    int *done;
    pthread_mutex_t lock;
    pthread_cond_t ready;
};

/* Runs `t` into a report string; returns it (NULL when out of memory). */
static char *run_to_text(const struct ct_test *t, const struct ct_run_options *o, int *passed)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    *passed = ct_run(t, o, f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        (void)pthread_mutex_lock(&p->lock);
        size_t i = p->next < p->n ? p->next++ : p->n;
        (void)pthread_mutex_unlock(&p->lock);
        if (i >= p->n)
            break;
        int passed = 0;
        char *text = run_to_text(&p->suite->tests[p->selected[i]], p->opts, &passed);
        (void)pthread_mutex_lock(&p->lock);
        p->reports[i] = text;
        p->passed[i] = passed;
        p->done[i] = 1;
        (void)pthread_cond_broadcast(&p->ready);
        (void)pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

/* Runs the selected tests on `jobs` threads, printing reports in order. */
static size_t run_all(struct pool *p, unsigned jobs)
{
    pthread_t threads[64];
    unsigned started = 0;
    size_t failed = 0;

    for (; started < jobs && started < p->n; started++)
        if (pthread_create(&threads[started], NULL, worker, p) != 0)
            break;
    if (started == 0) /* no thread at all: run here */
        (void)worker(p);
    for (size_t i = 0; i < p->n; i++) {
        (void)pthread_mutex_lock(&p->lock);
        while (!p->done[i])
            (void)pthread_cond_wait(&p->ready, &p->lock);
        (void)pthread_mutex_unlock(&p->lock);
        if (p->reports[i])
            fputs(p->reports[i], stdout);
        else
            printf("FAIL %s (out of memory)\n", p->suite->tests[p->selected[i]].name);
        (void)fflush(stdout);
        failed += !p->passed[i];
    }
    for (unsigned i = 0; i < started; i++)
        (void)pthread_join(threads[i], NULL);
    return failed;
}

int cmd_test(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bot", required_argument, NULL, 'b'},
        {"models", required_argument, NULL, 'm'},
        {"filter", required_argument, NULL, 'f'},
        {"jobs", required_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ct_suite suite = {NULL, 0};
    struct ct_run_options o = {NULL, NULL, 0, &stop_requested};
    struct pool p;
    struct sigaction sa, old_int, old_term;
    const char *filter = NULL;
    unsigned long long jobs = 1;
    size_t problems = 0, failed;
    int ch, rc = EXIT_USAGE, found = 0, curl_ready = 0, handlers = 0;

    memset(&p, 0, sizeof(p));
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            o.bot_dir = optarg;
            break;
        case 'm':
            o.models_dir = optarg;
            break;
        case 'f':
            filter = optarg;
            break;
        case 'j':
            if (cli_parse_uint("--jobs", optarg, 1, 64, &jobs))
                return EXIT_USAGE;
            break;
        case 'v':
            o.verbose = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!o.bot_dir)
        return cli_usage_error(usage, "test needs --bot");
    if (optind == argc)
        return cli_usage_error(usage, "test needs test files or folders");
    for (int i = optind; i < argc; i++)
        problems += parse_arg(argv[i], &suite, &found);
    problems += ct_check_unique(&suite);
    if (problems) {
        cli_error("%zu problem%s in the test files; nothing was run", problems,
                  problems == 1 ? "" : "s");
        goto out;
    }
    if (!found || suite.n_tests == 0) {
        cli_error("no test files (.yml) in the given folders");
        goto out;
    }
    rc = EXIT_FAIL;
    p.suite = &suite;
    p.opts = &o;
    p.selected = calloc(suite.n_tests + 1, sizeof(size_t));
    p.reports = calloc(suite.n_tests + 1, sizeof(char *));
    p.passed = calloc(suite.n_tests + 1, sizeof(int));
    p.done = calloc(suite.n_tests + 1, sizeof(int));
    if (!p.selected || !p.reports || !p.passed || !p.done) {
        cli_error("cannot run the tests: out of memory");
        goto out;
    }
    for (size_t i = 0; i < suite.n_tests; i++)
        if (!filter || strstr(suite.tests[i].name, filter))
            ((size_t *)p.selected)[p.n++] = i;
    if (p.n == 0) {
        cli_error("no test name contains '%s'", filter ? filter : "");
        rc = EXIT_USAGE;
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        cli_error("cannot initialise libcurl");
        goto out;
    }
    curl_ready = 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, &old_int);
    (void)sigaction(SIGTERM, &sa, &old_term);
    handlers = 1;
    (void)pthread_mutex_init(&p.lock, NULL);
    (void)pthread_cond_init(&p.ready, NULL);
    failed = run_all(&p, (unsigned)jobs);
    (void)pthread_cond_destroy(&p.ready);
    (void)pthread_mutex_destroy(&p.lock);
    printf("%zu passed, %zu failed\n", p.n - failed, failed);
    if (stop_requested)
        cli_error("interrupted");
    rc = failed || stop_requested ? EXIT_FAIL : EXIT_OK;
out:
    if (handlers) {
        (void)sigaction(SIGINT, &old_int, NULL);
        (void)sigaction(SIGTERM, &old_term, NULL);
    }
    if (curl_ready)
        curl_global_cleanup();
    for (size_t i = 0; p.reports && i < p.n; i++)
        free(p.reports[i]);
    free((void *)p.selected);
    free((void *)p.reports);
    free(p.passed);
    free(p.done);
    ct_suite_free(&suite);
    return rc;
}
