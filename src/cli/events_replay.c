/* `parley events replay --dry-run`: what the bot's proactive rules would
 * do with events the ledger recorded, decided against today's grants and
 * facts fetched from the backend, without changing or sending anything. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parley/proactive.h"
#include "server/server.h"

static const char usage[] =
    "usage: parley events replay --dry-run [STORE] [--bot DIR] [--backend URL]\n"
    "                            [--after SEQ] [--limit N] [--json]\n"
    "\n"
    "Runs the bot's proactive rules (bot.yml 'proactive') on the events the\n"
    "ledger recorded after SEQ (default: from the start; at most N, default\n"
    "100, 0: all), oldest first, and prints what each rule would decide for\n"
    "each customer: outcome, why, the action and the message in the\n"
    "customer's language. Facts come from the backend (reads only: --backend\n"
    "URL, else the connectors' base URLs); grants, caps and de-duplication\n"
    "from the store as they are now. Nothing is changed, sent or recorded.\n"
    "STORE is --data-dir DIR (default ./data) or --store URL, as for\n"
    "parley serve (also from --config FILE / PARLEY_*); --bot defaults to the\n"
    "configured bot.\n";

struct replay {
    int json;
    const parley_store_event *ev;
};

static void on_outcome(const parley_proactive_outcome *o, void *userdata)
{
    const struct replay *r = userdata;
    if (r->json) {
        (void)printf("{\"seq\": %lld, \"event\": ", (long long)r->ev->seq);
        cli_json_string(stdout, r->ev->id);
        const char *k[] = {"type",   "rule",    "customer", "outcome", "detail",
                           "action", "message", "channel",  "text"};
        const char *v[] = {r->ev->type, o->rule,    o->customer,
                           o->outcome,  o->detail,  o->action,
                           o->message,  o->channel, o->text ? o->text : ""};
        for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
            (void)printf(", \"%s\": ", k[i]);
            cli_json_string(stdout, v[i]);
        }
        (void)printf("}\n");
        return;
    }
    (void)printf("  %-28s %-10s %-9s %s\n", o->rule, o->customer, o->outcome, o->detail);
    if (o->text)
        (void)printf("  %-28s %s: %s\n", "", o->channel, o->text);
}

int events_replay(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'},
                                         {"store", required_argument, NULL, 's'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"bot", required_argument, NULL, 'b'},
                                         {"backend", required_argument, NULL, 'k'},
                                         {"after", required_argument, NULL, 'a'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"dry-run", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    parley_server_config c;
    parley_error e = PARLEY_ERROR_INIT;
    const char *data_dir = NULL, *store_url = NULL, *config = getenv("PARLEY_CONFIG");
    const char *bot_dir = NULL, *backend = NULL;
    parley_store_event_query q = {0, 100, 0, NULL};
    parley_connector *conns[16] = {0};
    parley_proactive_options po;
    parley_proactive_engine *en = NULL;
    parley_bot_report *report = NULL;
    parley_bot *bot = NULL;
    parley_store *store = NULL;
    parley_store_event *rows = NULL;
    size_t nrows = 0;
    struct replay rp = {0};
    unsigned long long v;
    int opt, rc = EXIT_FAIL, dry = 0;
    size_t nconns = 0;

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
        case 'b':
            bot_dir = optarg;
            break;
        case 'k':
            backend = optarg;
            break;
        case 'a':
            if (cli_parse_uint("--after", optarg, 0, INT64_MAX, &v) != 0)
                return EXIT_USAGE;
            q.after_seq = (int64_t)v;
            break;
        case 'n':
            if (cli_parse_uint("--limit", optarg, 0, 1000000000, &v) != 0)
                return EXIT_USAGE;
            q.limit = (size_t)v;
            break;
        case 'j':
            rp.json = 1;
            break;
        case 'r':
            dry = 1;
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
    /* A replay that acts again is what redelivery is for; this one only
     * shows, and says so on the command line. */
    if (!dry)
        return cli_usage_error(usage, "events replay needs --dry-run (it never acts)");
    if ((rc = cli_server_config(&c, config, data_dir, store_url)) != EXIT_OK)
        return rc;
    rc = EXIT_FAIL;
    if (!bot_dir)
        bot_dir = c.bot_dir;
    if (!backend && c.backend_url[0])
        backend = c.backend_url;
    if (parley_bot_load(bot_dir, &bot, &report, &e) != PARLEY_OK)
        goto fail;
    for (; nconns < parley_bot_connector_count(bot) && nconns < 16; nconns++) {
        if (parley_connector_new(parley_bot_connector(bot, nconns), &conns[nconns], &e) !=
                PARLEY_OK ||
            (backend && parley_connector_set_base_url(conns[nconns], backend, &e) != PARLEY_OK))
            goto fail;
    }
    if (parley_server_store_open(&c, &store, &e) != PARLEY_OK)
        goto fail;
    memset(&po, 0, sizeof(po));
    po.bot = bot;
    po.store = store;
    po.connectors = conns;
    po.n_connectors = nconns;
    po.dry_run = 1;
    if (parley_proactive_engine_new(&po, &en, &e) != PARLEY_OK ||
        parley_store_events_fetch(store, &q, &rows, &nrows, &e) != PARLEY_OK)
        goto fail;
    for (size_t i = 0; i < nrows; i++) {
        const parley_store_event *ev = &rows[i];
        parley_proactive_event pev = {ev->id, ev->type, ev->at, ev->doc};
        parley_error re = PARLEY_ERROR_INIT;
        rp.ev = ev;
        if (!rp.json)
            (void)printf("%-6lld %s %s\n", (long long)ev->seq, ev->id, ev->type);
        if (parley_proactive_run(en, &pev, 0, on_outcome, &rp, &re) != PARLEY_OK)
            cli_error("event %s: %s", ev->id, re.msg);
    }
    rc = EXIT_OK;
    goto out;
fail:
    cli_error("%s", e.msg);
out:
    parley_store_events_free(rows, nrows);
    parley_proactive_engine_free(en);
    parley_store_close(store);
    for (size_t i = 0; i < nconns; i++)
        parley_connector_free(conns[i]);
    parley_bot_report_free(report);
    parley_bot_free(bot);
    return rc;
}
