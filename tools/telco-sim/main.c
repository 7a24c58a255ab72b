/* telco-sim: entry point — options, seeding, starting the HTTP server and
 * the events thread, and a clean shutdown on SIGTERM/SIGINT. */
#include "telco.h"

#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TELCO_DEFAULT_DATASETS
#define TELCO_DEFAULT_DATASETS "../shared/datasets"
#endif

static void usage(FILE *f)
{
    (void)fprintf(
        f, "usage: telco-sim [options]\n"
           "Simulated mobile carrier back office with a REST/JSON API.\n\n"
           "  --port N          TCP port (default 8089; 0 = ephemeral)\n"
           "  --host ADDR       IPv4 address to bind (default 127.0.0.1)\n"
           "  --db FILE         SQLite state file (default telco-sim.db; ':memory:' allowed)\n"
           "  --seed FILE       seed data (default $PARLEY_DATASETS/tau2-telecom/db.toml)\n"
           "  --user-db FILE    phone defaults (default user_db.toml beside the seed)\n"
           "  --synthetic N     add N deterministic customers when seeding\n"
           "  --events-url URL  POST every event there, in order, one per request (best effort)\n"
           "  --events-key KEY  send 'Authorization: Bearer KEY' with each --events-url POST\n"
           "  --sms-url URL     POST customers' SMS (POST /sim/sms/inbound) there, in order\n"
           "  --sms-key KEY     send 'Authorization: Bearer KEY' with each --sms-url POST\n"
           "  --fault-seed N    seed of the fault-injection random numbers (default 1)\n"
           "  --today DATE      simulation date YYYY-MM-DD (default 2025-02-25)\n"
           "  -h, --help        this help\n");
}

static int parse_long(const char *s, long lo, long hi, long *v)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (!*s || *end || errno || n < lo || n > hi)
        return -1;
    *v = n;
    return 0;
}

/* A bearer token goes into an HTTP header line: refuse anything that could
 * end the line or split the token. */
static int valid_key(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 1024)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"host", required_argument, NULL, 'H'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"user-db", required_argument, NULL, 'u'},
                                         {"synthetic", required_argument, NULL, 'n'},
                                         {"events-url", required_argument, NULL, 'e'},
                                         {"events-key", required_argument, NULL, 'k'},
                                         {"sms-url", required_argument, NULL, 'S'},
                                         {"sms-key", required_argument, NULL, 'K'},
                                         {"fault-seed", required_argument, NULL, 'f'},
                                         {"today", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct telco_config cfg = {.db_path = "telco-sim.db", .fault_seed = 1};
    const char *host = "127.0.0.1";
    long port = 8089, n;
    char seed_buf[4096], user_buf[4096];
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse_long(optarg, 0, 65535, &port)) {
                (void)fprintf(stderr, "telco-sim: --port '%s' is not a port number\n", optarg);
                return 2;
            }
            break;
        case 'H':
            host = optarg;
            break;
        case 'd':
            cfg.db_path = optarg;
            break;
        case 's':
            cfg.seed_path = optarg;
            break;
        case 'u':
            cfg.user_db_path = optarg;
            break;
        case 'e':
            cfg.events_url = optarg;
            break;
        case 'k':
            if (!valid_key(optarg)) {
                /* The key itself is a secret: say what is wrong, not what it is. */
                (void)fprintf(stderr, "telco-sim: --events-key must be 1-1024 printable "
                                      "characters without spaces\n");
                return 2;
            }
            cfg.events_key = optarg;
            break;
        case 'S':
            cfg.sms_url = optarg;
            break;
        case 'K':
            if (!valid_key(optarg)) {
                (void)fprintf(stderr, "telco-sim: --sms-key must be 1-1024 printable "
                                      "characters without spaces\n");
                return 2;
            }
            cfg.sms_key = optarg;
            break;
        case 't':
            if (strlen(optarg) != 10 || optarg[4] != '-' || optarg[7] != '-') {
                (void)fprintf(stderr, "telco-sim: --today '%s' is not YYYY-MM-DD\n", optarg);
                return 2;
            }
            cfg.today = optarg;
            break;
        case 'n':
            if (parse_long(optarg, 0, 100000000, &n)) {
                (void)fprintf(stderr, "telco-sim: --synthetic '%s' is not a count\n", optarg);
                return 2;
            }
            cfg.synthetic = n;
            break;
        case 'f':
            if (parse_long(optarg, 0, 0x7fffffffL, &n)) {
                (void)fprintf(stderr, "telco-sim: --fault-seed '%s' is not a number\n", optarg);
                return 2;
            }
            cfg.fault_seed = (unsigned long)n;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        (void)fprintf(stderr, "telco-sim: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (cfg.events_key && !cfg.events_url)
        (void)fprintf(stderr, "telco-sim: --events-key has no effect without --events-url\n");
    if (cfg.sms_key && !cfg.sms_url)
        (void)fprintf(stderr, "telco-sim: --sms-key has no effect without --sms-url\n");
    if (cfg.today)
        telco_today = cfg.today;
    if (!cfg.seed_path) {
        const char *ds = getenv("PARLEY_DATASETS");
        (void)snprintf(seed_buf, sizeof(seed_buf), "%s/tau2-telecom/db.toml",
                       ds && *ds ? ds : TELCO_DEFAULT_DATASETS);
        cfg.seed_path = seed_buf;
    }
    if (!cfg.user_db_path) {
        const char *slash = strrchr(cfg.seed_path, '/');
        int dirlen = slash ? (int)(slash - cfg.seed_path) : 1;
        (void)snprintf(user_buf, sizeof(user_buf), "%.*s/user_db.toml", dirlen,
                       slash ? cfg.seed_path : ".");
        cfg.user_db_path = user_buf;
    }

    /* Block the stop signals before any thread starts so only sigwait sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    (void)signal(SIGPIPE, SIG_IGN);

    if (telco_store_open(&cfg)) {
        telco_store_close();
        return 1;
    }
    int bound = 0;
    struct MHD_Daemon *d = telco_http_start(host, (int)port, cfg.fault_seed, &bound);
    if (!d || telco_events_start(cfg.events_url, cfg.events_key) ||
        telco_sms_inbound_start(cfg.sms_url, cfg.sms_key)) {
        telco_http_stop(d);
        telco_events_stop();
        telco_sms_inbound_stop();
        telco_store_close();
        return 1;
    }
    printf("listening on http://%s:%d\n", host, bound);
    (void)fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    (void)fprintf(stderr, "telco-sim: %s received, shutting down\n",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT");
    telco_http_stop(d);
    telco_events_stop();
    telco_sms_inbound_stop();
    telco_store_close();
    return 0;
}
