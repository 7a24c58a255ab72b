/* parley keys: creates, lists and revokes the server's API keys in the
 * store of a data folder (only hashes are stored; a key is shown once). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server/server.h"

static const char usage[] =
    "usage: parley keys create --role channel|agent|admin|events [--label TEXT] [STORE]\n"
    "       parley keys list [STORE]\n"
    "       parley keys revoke ID [STORE]\n"
    "\n"
    "STORE is --data-dir DIR (the store is DIR/parley.db; default ./data) or\n"
    "--store URL, as for parley serve (also from --config FILE / PARLEY_*).\n"
    "create prints the new key once; only its hash is kept. revoke takes the\n"
    "key's id (the 12 characters after 'pk_', as list shows) and takes effect\n"
    "at once, also in a running server. An events key may only send events\n"
    "(POST /v1/events), e.g. from the company's systems.\n";

static int on_key(const parley_store_key *k, void *userdata)
{
    (void)userdata;
    (void)printf("%-12s  %-7s  %-8s  %s\n", k->id, k->role, k->revoked ? "revoked" : "valid",
                 k->label);
    return 0;
}

int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                         {"label", required_argument, NULL, 'l'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"store", required_argument, NULL, 's'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    parley_server_config c;
    parley_error e = PARLEY_ERROR_INIT;
    const char *role = NULL, *label = "", *data_dir = NULL, *store_url = NULL;
    const char *config = getenv("PARLEY_CONFIG");
    parley_store *store = NULL;
    int opt, rc = EXIT_FAIL;

    if (argc < 2 || cli_is_help(argv[1])) {
        (void)fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    optind = 2;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            role = optarg;
            break;
        case 'l':
            label = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 's':
            store_url = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'h':
            (void)fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown option");
        }
    }
    rc = cli_server_config(&c, config, data_dir, store_url);
    if (rc != EXIT_OK)
        return rc;
    rc = EXIT_FAIL;
    int is_create = strcmp(sub, "create") == 0, is_list = strcmp(sub, "list") == 0,
        is_revoke = strcmp(sub, "revoke") == 0;
    if (!is_create && !is_list && !is_revoke)
        return cli_usage_error(usage, "unknown keys command '%s'", sub);
    if (is_create && !role)
        return cli_usage_error(usage, "keys create needs --role channel, agent, admin or events");
    if (is_revoke && optind + 1 != argc)
        return cli_usage_error(usage, "keys revoke needs the key's id");
    if (!is_revoke && optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (parley_server_store_open(&c, &store, &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        return EXIT_FAIL;
    }
    if (is_create) {
        char key[PARLEY_KEY_TEXT_SIZE];
        if (parley_server_key_create(store, role, label, key, &e) != PARLEY_OK)
            goto fail;
        (void)printf("%s\n", key);
    } else if (is_list) {
        if (parley_store_keys_list(store, on_key, NULL, &e) != PARLEY_OK)
            goto fail;
    } else {
        const char *id = argv[optind];
        if (strncmp(id, "pk_", 3) == 0)
            id += 3;
        char idbuf[16];
        (void)snprintf(idbuf, sizeof(idbuf), "%.12s", id);
        if (parley_store_key_revoke(store, idbuf, &e) != PARLEY_OK)
            goto fail;
        (void)printf("revoked %s\n", idbuf);
    }
    rc = EXIT_OK;
    goto out;
fail:
    cli_error("%s", e.msg);
out:
    parley_store_close(store);
    return rc;
}
