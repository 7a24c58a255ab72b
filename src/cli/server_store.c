/* How the commands that work on a server's data (keys, events) find its
 * store: the same configuration `parley serve` reads, then the options. */
#include <stdio.h>

#include "cli.h"
#include "server/server.h"

int cli_server_config(parley_server_config *c, const char *config, const char *data_dir,
                      const char *store_url)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_server_config_defaults(c);
    if ((config && parley_server_config_file(c, config, &e) != PARLEY_OK) ||
        parley_server_config_env(c, &e) != PARLEY_OK ||
        (data_dir && parley_server_config_set(c, "data_dir", data_dir, "--data-dir", &e)) ||
        (store_url && parley_server_config_set(c, "store", store_url, "--store", &e))) {
        cli_error("%s", e.msg);
        return EXIT_USAGE;
    }
    if (!c->store_url[0])
        (void)snprintf(c->store_url, sizeof(c->store_url), "sqlite:%.1100s/parley.db", c->data_dir);
    /* `parley serve --demo` keeps its master key beside the data folder. */
    if (parley_server_config_demo_key(c, 0, &e) != PARLEY_OK) {
        cli_error("%s", e.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
