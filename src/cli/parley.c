/* Entry point of the parley binary: dispatches to one subcommand from the
 * command table. Exit codes: 0 ok, 1 failure, 2 usage. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define PARLEY_VERSION "0.1.0"

const struct cli_command cli_commands[] = {
    {"train", cmd_train, "train an intent model from labeled utterances"},
    {"eval", cmd_eval, "evaluate an intent model on labeled utterances"},
    {"predict", cmd_predict, "predict intents of utterances, one JSON object per line"},
    {"model", cmd_model, "inspect a model file (model info M)"},
    {"featurize", cmd_featurize, "write a model's features of labeled data in libsvm format"},
    {"bot", cmd_bot, "check a bot definition folder (bot check DIR)"},
    {"chat", cmd_chat, "talk to a bot in the terminal (starts telco-sim)"},
    {"serve", cmd_serve, "serve the HTTP API, web chat and agent console"},
    {"keys", cmd_keys, "create, list and revoke the server's API keys"},
    {"audit", cmd_audit, "verify, list and explain the audit log (audit -h)"},
    {"redact", cmd_redact, "replace personal data in text or JSON lines (redact -h)"},
    {"vault", cmd_vault, "make pii keys; get a tokenized value back, audited (vault -h)"},
    {"store", cmd_store, "master keys, key rotation and retention of the store (store -h)"},
    {"events", cmd_events, "list recorded events, publish events to NATS (events -h)"},
    {"test", cmd_test, "run conversation tests against a bot"},
    {"learn", cmd_learn,
     "learn an intent model from interaction logs; promote, roll back (learn -h)"},
    {"langid", cmd_langid, "train, run and evaluate a language identifier (langid -h)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: parley <command> [options]   (parley <command> -h for details)\n\n"
               "commands:\n");
    for (const struct cli_command *c = cli_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
}

void cli_error(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here when the caller is in this file. */
    (void)vsnprintf(msg, sizeof(msg), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    fprintf(stderr, "parley: %s\n", msg);
}

int cli_usage_error(const char *usage_text, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    /* clang 14's analyzer misreads va_start here when the caller is in this file. */
    (void)vsnprintf(msg, sizeof(msg), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    fprintf(stderr, "parley: %s\n", msg);
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

/* Output errors (a full disk, a closed pipe) surface here, once, instead
 * of after every printf. */
static int finish(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to standard output");
        return EXIT_FAIL;
    }
    return rc;
}

int cli_parse_uint(const char *opt, const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    if (!s || !*s || *s == '-')
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        goto bad;
    *out = v;
    return 0;
bad:
    cli_error("option '%s' needs a whole number from %llu to %llu, not '%s'", opt, min, max,
              s ? s : "");
    return -1;
}

int cli_parse_double(const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    double v;
    errno = 0;
    if (!s || !*s)
        goto bad;
    v = strtod(s, &end);
    if (errno || *end || !(v >= min && v <= max))
        goto bad;
    *out = v;
    return 0;
bad:
    cli_error("option '%s' needs a number from %g to %g, not '%s'", opt, min, max, s ? s : "");
    return -1;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

double cli_now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "help") == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return finish(EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("parley %s\n", PARLEY_VERSION);
        return finish(EXIT_OK);
    }
    for (const struct cli_command *c = cli_commands; c->name; c++) {
        if (strcmp(c->name, argv[1]) == 0)
            return finish(c->fn(argc - 1, argv + 1));
    }
    cli_error("'%s' is not a parley command", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
