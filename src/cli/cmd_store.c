/* parley store: maintenance of a data folder's store: makes master keys,
 * rewraps the data keys with a new master key (rotation, while servers
 * keep running) and enforces retention (the sweeper a server also runs). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parley/store.h"

static const char usage[] =
    "usage: parley store keygen FILE\n"
    "       parley store rekey [STORE] --master-key SPEC --old-master-key SPEC...\n"
    "       parley store sweep [STORE] [--master-key SPEC] [--transcripts-days N]\n"
    "\n"
    "STORE is --data-dir DIR (the store is DIR/parley.db; default ./data) or\n"
    "--store URL, and --key-store FILE where the data keys are (default: beside\n"
    "the database, parley-keys.db). A master key SPEC is file:PATH (a file of\n"
    "64 hex characters that only its owner can read) or env:NAME; --master-key\n"
    "defaults to $PARLEY_MASTER_KEY.\n"
    "\n"
    "keygen   writes a new random master key to FILE (mode 0600)\n"
    "rekey    rewraps every data key wrapped by an --old-master-key with\n"
    "         --master-key, in small transactions: servers configured with both\n"
    "         keys keep serving; afterwards the old keys can be dropped\n"
    "sweep    deletes conversations idle for more than --transcripts-days days\n"
    "         (0: keep; default 90) with their data keys, throttle events older\n"
    "         than a day and data keys left without a conversation\n";

struct ctx {
    int tty;
};

static void on_progress(size_t done, size_t total, void *userdata)
{
    const struct ctx *c = userdata;
    if (c->tty)
        (void)fprintf(stderr, "\rrewrapped %zu of %zu data keys", done, total);
}

static int keygen(int argc, char **argv)
{
    parley_error e = PARLEY_ERROR_INIT;
    if (argc != 3)
        return cli_usage_error(usage, "store keygen needs one FILE");
    if (parley_store_master_key_generate(argv[2], &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        return EXIT_FAIL;
    }
    (void)printf("wrote a new master key to %s\n", argv[2]);
    return EXIT_OK;
}

int cmd_store(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'},
                                         {"store", required_argument, NULL, 's'},
                                         {"key-store", required_argument, NULL, 'k'},
                                         {"master-key", required_argument, NULL, 'm'},
                                         {"old-master-key", required_argument, NULL, 'o'},
                                         {"transcripts-days", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    parley_store_master_key keys[PARLEY_STORE_MAX_MASTER_KEYS];
    char older[8192] = "";
    const char *data_dir = "data", *store_url = NULL, *key_store = NULL;
    const char *master = getenv("PARLEY_MASTER_KEY");
    parley_store_options o = PARLEY_STORE_OPTIONS_INIT;
    parley_store_retention policy = {.transcript_days = 90};
    parley_error e = PARLEY_ERROR_INIT;
    parley_store *store = NULL;
    size_t nold = 0, nkeys = 0;
    unsigned long long days = 90;
    char url[4200];
    int opt, rc = EXIT_FAIL;

    memset(keys, 0, sizeof(keys));
    if (argc < 2 || cli_is_help(argv[1])) {
        (void)fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "keygen") == 0)
        return keygen(argc, argv);
    int is_rekey = strcmp(sub, "rekey") == 0, is_sweep = strcmp(sub, "sweep") == 0;
    if (!is_rekey && !is_sweep)
        return cli_usage_error(usage, "unknown store command '%s'", sub);
    optind = 2;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data_dir = optarg;
            break;
        case 's':
            store_url = optarg;
            break;
        case 'k':
            key_store = optarg;
            break;
        case 'm':
            master = optarg;
            break;
        case 'o': {
            size_t used = strlen(older);
            if (strchr(optarg, ',') ||
                (size_t)snprintf(older + used, sizeof(older) - used, "%s%s", used ? "," : "",
                                 optarg) >= sizeof(older) - used)
                return cli_usage_error(usage, "bad --old-master-key '%.200s'", optarg);
            nold++;
            break;
        }
        case 't':
            if (cli_parse_uint("--transcripts-days", optarg, 0, 36500, &days) != 0)
                return EXIT_USAGE;
            policy.transcript_days = (int)days;
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
    if (master && !master[0])
        master = NULL;
    if (is_rekey && (!master || nold == 0))
        return cli_usage_error(usage, "store rekey needs --master-key and --old-master-key");
    if (!master && nold > 0)
        return cli_usage_error(usage, "--old-master-key needs --master-key");
    if (store_url)
        (void)snprintf(url, sizeof(url), "%s", store_url);
    else
        (void)snprintf(url, sizeof(url), "sqlite:%.4000s/parley.db", data_dir);
    if (parley_store_keyring_load(master, older, keys, &nkeys, &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        goto out;
    }
    o.master_keys = keys;
    o.nmaster_keys = nkeys;
    o.key_store = key_store;
    if (parley_store_open_ex(url, &o, &store, &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        goto out;
    }
    if (is_rekey) {
        struct ctx c = {isatty(STDERR_FILENO)};
        if (parley_store_rekey(store, on_progress, &c, &e) != PARLEY_OK) {
            if (c.tty)
                (void)fputc('\n', stderr);
            cli_error("%s", e.msg);
            goto out;
        }
        if (c.tty)
            (void)fputc('\n', stderr);
        (void)printf("every data key is now wrapped by master key %s\n", keys[0].id);
    } else {
        parley_store_sweep_result r;
        if (parley_store_sweep(store, &policy, 0, &r, &e) != PARLEY_OK) {
            cli_error("%s", e.msg);
            goto out;
        }
        (void)printf("removed %zu conversations (%zu turns), %zu data keys, %zu throttle "
                     "events\n",
                     r.conversations, r.turns, r.data_keys, r.throttle_events);
    }
    rc = EXIT_OK;
out:
    parley_store_close(store);
    for (size_t i = 0; i < PARLEY_STORE_MAX_MASTER_KEYS; i++)
        parley_store_master_key_clear(&keys[i]);
    return rc;
}
