/* parley serve: the HTTP API, the web chat and the agent console
 * (docs/server.md); with --demo also the demo keys and a telco-sim. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "parley/audit.h"
#include "cli.h"
#include "server/server.h"

static const char usage[] =
    "usage: parley serve [--config FILE] [--port N] [--bind ADDR] [--data-dir DIR]\n"
    "                    [--bot DIR] [--models DIR] [--store URL] [--backend URL]\n"
    "                    [--web-dir DIR] [--threads N] [--nats-url URL] [--nats-stream NAME]\n"
    "                    [--nats-subject S] [--nats-durable NAME] [--nats-ack-wait SEC]\n"
    "                    [--demo] [--check-config] [--routes]\n"
    "\n"
    "Serves the HTTP API (docs/http-api.md), the web chat (/) and the agent\n"
    "console (/console). Settings come from the configuration file\n"
    "(etc/parley.conf.example), then PARLEY_* variables, then these flags.\n"
    "\n"
    "  --config FILE   configuration file (default: $PARLEY_CONFIG if set)\n"
    "  --port N        port to listen on; 0 picks a free one (default 8080)\n"
    "  --bind ADDR     IPv4 address to listen on (default 127.0.0.1)\n"
    "  --data-dir DIR  the database and demo keys (default ./data)\n"
    "  --bot DIR       the bot folder (default bots/carrier)\n"
    "  --models DIR    its trained models (default BOT/models)\n"
    "  --store URL     sqlite:PATH[?sync=full] (default sqlite:DATA_DIR/parley.db)\n"
    "  --backend URL   the carrier backend for every connector\n"
    "  --web-dir DIR   the web pages (default ./web)\n"
    "  --threads N     request threads (default 4)\n"
    "  --nats-url URL  also take events from NATS JetStream (nats://HOST:PORT;\n"
    "                  docs/proactive.md); off by default\n"
    "  --nats-stream NAME   its stream, created if missing (default PARLEY_EVENTS)\n"
    "  --nats-subject S     the stream's subject (default parley.events)\n"
    "  --nats-durable NAME  the pull consumer the servers share (default parley)\n"
    "  --nats-ack-wait SEC  redelivery after this long unacknowledged, for a\n"
    "                       consumer it creates (default 30)\n"
    "  --demo          create one API key per role, print them and write them\n"
    "                  to DATA_DIR/demo-keys.json; start telco-sim when no\n"
    "                  backend is configured\n"
    "  --check-config  check the configuration, print it, and exit\n"
    "  --routes        print the routes the server registers, and exit\n"
    "\n"
    "Prints 'listening on http://ADDR:PORT' when ready. SIGINT/SIGTERM stop it\n"
    "gracefully (running turns finish); SIGHUP reloads the bot.\n";

parley_err parley_server_reload(struct parley_server *s, const char *bot_dir,
                                const char *models_dir, parley_error *err);

static int mkdir_p(const char *dir)
{
    char tmp[1024];
    (void)snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Creates the demo keys and writes DATA_DIR/demo-keys.json (mode 0600). */
static int demo_keys(parley_server *srv, const parley_server_config *c, const char *sim_url)
{
    static const char *const roles[] = {"channel", "agent", "admin"};
    char keys[3][PARLEY_KEY_TEXT_SIZE], path[1100], tmp[1120];
    parley_error e = PARLEY_ERROR_INIT;
    FILE *f;

    for (int i = 0; i < 3; i++)
        if (parley_server_key_create(parley_server_store(srv), roles[i], "demo", keys[i], &e) !=
            PARLEY_OK) {
            cli_error("%s", e.msg);
            return -1;
        }
    (void)snprintf(path, sizeof(path), "%.1000s/demo-keys.json", c->data_dir);
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    mode_t old = umask(077);
    f = fopen(tmp, "w");
    (void)umask(old);
    if (!f) {
        cli_error("cannot write '%s': %s", tmp, strerror(errno));
        return -1;
    }
    (void)fprintf(f, "{\"channel\": \"%s\", \"agent\": \"%s\", \"admin\": \"%s\"", keys[0], keys[1],
                  keys[2]);
    if (sim_url)
        (void)fprintf(f, ", \"telco_sim\": \"%s\"", sim_url);
    (void)fprintf(f, "}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        cli_error("cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    (void)printf("demo keys (also in %s):\n  channel  %s\n  agent    %s\n  admin    %s\n", path,
                 keys[0], keys[1], keys[2]);
    (void)printf("chat:     http://%s:%u/#key=%s\nconsole:  http://%s:%u/console#key=%s\n", c->bind,
                 parley_server_port(srv), keys[0], c->bind, parley_server_port(srv), keys[1]);
    if (sim_url)
        (void)printf("telco-sim: %s\n", sim_url);
    return 0;
}

static int print_routes(void)
{
    const char *method;
    const char *path;
    for (size_t i = 0; (path = parley_server_route(i, &method)); i++)
        (void)printf("%s %s\n", method, path);
    return EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"bind", required_argument, NULL, 'B'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"bot", required_argument, NULL, 'b'},
                                         {"models", required_argument, NULL, 'm'},
                                         {"store", required_argument, NULL, 's'},
                                         {"backend", required_argument, NULL, 'k'},
                                         {"web-dir", required_argument, NULL, 'w'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"nats-url", required_argument, NULL, 'U'},
                                         {"nats-stream", required_argument, NULL, 'S'},
                                         {"nats-subject", required_argument, NULL, 'J'},
                                         {"nats-durable", required_argument, NULL, 'N'},
                                         {"nats-ack-wait", required_argument, NULL, 'A'},
                                         {"demo", no_argument, NULL, 'D'},
                                         {"check-config", no_argument, NULL, 'C'},
                                         {"routes", no_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static const char *const keyname[128] = {
        ['p'] = "port",         ['B'] = "bind",         ['d'] = "data_dir",
        ['b'] = "bot",          ['m'] = "models",       ['s'] = "store",
        ['k'] = "backend",      ['w'] = "web_dir",      ['t'] = "threads",
        ['U'] = "nats_url",     ['S'] = "nats_stream",  ['J'] = "nats_subject",
        ['N'] = "nats_durable", ['A'] = "nats_ack_wait"};
    parley_server_config c;
    parley_error e = PARLEY_ERROR_INIT;
    const char *config = getenv("PARLEY_CONFIG");
    const char *set_key[32], *set_val[32];
    size_t nset = 0;
    int check = 0, opt;
    struct backend sim = {.pid = -1};
    parley_server *srv = NULL;
    int rc = EXIT_FAIL;

    parley_server_config_defaults(&c);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            (void)fputs(usage, stdout);
            return EXIT_OK;
        }
        if (opt == 'c')
            config = optarg;
        else if (opt == 'D')
            c.demo = 1;
        else if (opt == 'C')
            check = 1;
        else if (opt == 'R')
            return print_routes();
        else if (opt > 0 && opt < 128 && keyname[opt] && nset < 32) {
            set_key[nset] = keyname[opt];
            set_val[nset++] = optarg;
        } else {
            return cli_usage_error(usage, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    int demo = c.demo;
    if ((config && parley_server_config_file(&c, config, &e) != PARLEY_OK) ||
        parley_server_config_env(&c, &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < nset; i++) {
        char where[48];
        (void)snprintf(where, sizeof(where), "option --%s", set_key[i]);
        for (char *p = where; *p; p++)
            if (*p == '_')
                *p = '-';
        if (parley_server_config_set(&c, set_key[i], set_val[i], where, &e) != PARLEY_OK) {
            cli_error("%s", e.msg);
            return EXIT_USAGE;
        }
    }
    c.demo = demo;
    if (mkdir_p(c.data_dir) != 0) {
        cli_error("cannot create data folder '%s': %s", c.data_dir, strerror(errno));
        return EXIT_FAIL;
    }
    if (parley_server_config_check(&c, &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        return EXIT_USAGE;
    }
    if (check) {
        parley_server_config_print(&c, stdout);
        (void)printf("configuration is valid\n");
        return EXIT_OK;
    }

    /* Signals go to the main thread only: every thread started from here
     * on inherits the mask. */
    sigset_t set;
    (void)sigemptyset(&set);
    (void)sigaddset(&set, SIGINT);
    (void)sigaddset(&set, SIGTERM);
    (void)sigaddset(&set, SIGHUP);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    (void)signal(SIGPIPE, SIG_IGN);

    if (c.demo && !c.audit_key[0]) {
        /* The demo signs its audit checkpoints with a key of its own. */
        char key[1024];
        (void)snprintf(key, sizeof(key), "%.1000s/audit.key", c.data_dir);
        if (access(key, F_OK) != 0 && parley_audit_keygen(key, &e) != PARLEY_OK) {
            cli_error("%s", e.msg);
            goto out;
        }
        (void)snprintf(c.audit_key, sizeof(c.audit_key), "%s", key);
    }
    if (c.demo && parley_server_config_demo_key(&c, 1, &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        goto out;
    }
    if (c.demo && !c.backend_url[0]) {
        char msg[1024];
        struct backend_options bo = {0};
        if (backend_start(&bo, &sim, msg, sizeof(msg)) != 0) {
            cli_error("cannot start telco-sim: %s", msg);
            goto out;
        }
        (void)snprintf(c.backend_url, sizeof(c.backend_url), "%s", sim.url);
    }
    if (parley_server_start(&c, &srv, &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        goto out;
    }
    if (c.demo && demo_keys(srv, &c, sim.pid > 0 ? sim.url : NULL) != 0)
        goto out;
    (void)printf("listening on http://%s:%u\n", c.bind, parley_server_port(srv));
    (void)fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            if (parley_server_reload(srv, NULL, NULL, &e) != PARLEY_OK)
                cli_error("reload refused, the running bot stays: %s", e.msg);
            else
                (void)fprintf(stderr, "parley: bot reloaded\n");
            continue;
        }
        (void)fprintf(stderr, "parley: stopping (finishing running requests)\n");
        break;
    }
    rc = EXIT_OK;
out:
    parley_server_stop(srv, 10000);
    (void)backend_stop(&sim);
    return rc;
}
