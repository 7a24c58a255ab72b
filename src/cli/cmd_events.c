/* parley events: lists the events ledger of a data folder's store (what
 * the intake recorded), newest first or after a cursor; `publish` sends
 * events to NATS JetStream (events_publish.c). */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "server/server.h"

static const char usage[] =
    "usage: parley events list [STORE] [--limit N] [--after SEQ] [--json]\n"
    "       parley events publish --nats URL [--subject S] [--wait SEC] [FILE|-]\n"
    "       parley events replay --dry-run [STORE] [--bot DIR] [--backend URL] ...\n"
    "                            (parley events replay --help)\n"
    "\n"
    "STORE is --data-dir DIR (the store is DIR/parley.db; default ./data) or\n"
    "--store URL, as for parley serve (also from --config FILE / PARLEY_*).\n"
    "Lists recorded events, newest first (the latest --limit N, default 20;\n"
    "0: all). With --after SEQ, the events recorded after SEQ, oldest first\n"
    "(to replay or page through the ledger). Each line is SEQ, id, type, when\n"
    "it happened (UTC), status and the event; --json prints one JSON object\n"
    "per line instead: {seq, id, type, at, received, status, attempts, outcome,\n"
    "event}, the outcome being what each rule decided ([{rule, outcome}]).\n"
    "\n"
    "publish sends JSONL events to NATS JetStream, for parley serve's NATS\n"
    "intake (nats_url) to record; parley events publish -h tells more.\n";

struct opts {
    int json;
};

static void utc(int64_t ms, char buf[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        (void)snprintf(buf, 32, "%lld", (long long)ms);
}

static int on_event(const parley_store_event *ev, void *userdata)
{
    const struct opts *o = userdata;
    char at[32], received[32];
    utc(ev->at, at);
    utc(ev->received, received);
    if (!o->json) {
        (void)printf("%-6lld  %-20s  %-20s  %s  %-8s  %s\n", (long long)ev->seq, ev->id, ev->type,
                     at, ev->status, ev->doc);
        return 0;
    }
    (void)printf("{\"seq\": %lld, \"id\": ", (long long)ev->seq);
    cli_json_string(stdout, ev->id);
    (void)printf(", \"type\": ");
    cli_json_string(stdout, ev->type);
    (void)printf(", \"at\": \"%s\", \"received\": \"%s\", \"status\": ", at, received);
    cli_json_string(stdout, ev->status);
    /* The outcome is the JSON list the rules engine's decisions made. */
    (void)printf(", \"attempts\": %lld, \"outcome\": %s", (long long)ev->attempts,
                 ev->outcome ? ev->outcome : "null");
    /* The document is the compact JSON the intake checked and stored. */
    (void)printf(", \"event\": %s}\n", ev->doc);
    return 0;
}

int cmd_events(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"store", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},   {"limit", required_argument, NULL, 'n'},
        {"after", required_argument, NULL, 'a'},    {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    parley_server_config c;
    parley_error e = PARLEY_ERROR_INIT;
    const char *data_dir = NULL, *store_url = NULL, *config = getenv("PARLEY_CONFIG");
    parley_store_event_query q = {0, 20, 1, NULL};
    unsigned long long v;
    struct opts o = {0};
    parley_store *store = NULL;
    int opt, rc = EXIT_FAIL, after = 0;

    if (argc < 2 || cli_is_help(argv[1])) {
        (void)fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "replay") == 0)
        return events_replay(argc, argv);
    if (strcmp(argv[1], "publish") == 0)
        return events_publish(argc, argv);
    if (strcmp(argv[1], "list") != 0)
        return cli_usage_error(usage, "unknown events command '%s'", argv[1]);
    optind = 2;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data_dir = optarg;
            break;
        case 's':
            store_url = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'n':
            if (cli_parse_uint("--limit", optarg, 0, 1000000000, &v) != 0)
                return EXIT_USAGE;
            q.limit = (size_t)v;
            break;
        case 'a':
            if (cli_parse_uint("--after", optarg, 0, INT64_MAX, &v) != 0)
                return EXIT_USAGE;
            q.after_seq = (int64_t)v;
            after = 1;
            break;
        case 'j':
            o.json = 1;
            break;
        case 'h':
            (void)fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (after)
        q.newest_first = 0;
    rc = cli_server_config(&c, config, data_dir, store_url);
    if (rc != EXIT_OK)
        return rc;
    rc = EXIT_FAIL;
    if (parley_server_store_open(&c, &store, &e) != PARLEY_OK)
        goto fail;
    if (parley_store_events_list(store, &q, on_event, &o, &e) != PARLEY_OK)
        goto fail;
    rc = EXIT_OK;
    goto out;
fail:
    cli_error("%s", e.msg);
out:
    parley_store_close(store);
    return rc;
}
