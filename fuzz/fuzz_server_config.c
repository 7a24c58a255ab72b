/* libFuzzer target for the server's configuration parser: any bytes
 * either parse into settings within their documented ranges or are
 * refused with a format error naming the line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parley_server_config c;
    parley_error err = PARLEY_ERROR_INIT;
    parley_server_config_defaults(&c);
    parley_err rc = parley_server_config_parse(&c, (const char *)data, size, "fuzz.conf", &err);
    if (rc != PARLEY_OK) {
        if (rc != PARLEY_ERR_FORMAT || strncmp(err.msg, "fuzz.conf:", 10) != 0)
            abort();
        return 0;
    }
    if (c.port > 65535 || c.threads < 1 || c.threads > 256 || c.max_body < 1024 ||
        c.max_json_depth < 2 || c.rate <= 0 || c.burst < 1 || !memchr(c.bind, 0, sizeof(c.bind)) ||
        !memchr(c.data_dir, 0, sizeof(c.data_dir)))
        abort();
    return 0;
}
