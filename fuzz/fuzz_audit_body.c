/* libFuzzer target for the audit log's record body checker: on any bytes
 * it either accepts or refuses with a message naming the byte offset, and
 * whatever it accepts is a JSON object that jansson parses too (except
 * numbers out of jansson's range, which JSON itself allows). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "parley/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_err rc = parley_audit_body_check((const char *)data, size, &err);
    if (rc != PARLEY_OK) {
        if ((rc != PARLEY_ERR_INVALID && rc != PARLEY_ERR_LIMIT) ||
            strncmp(err.msg, "record body ", 12) != 0)
            abort();
        return 0;
    }
    if (size > PARLEY_AUDIT_MAX_BODY || memchr(data, 0, size))
        abort();
    json_error_t jerr;
    json_t *v = json_loadb((const char *)data, size, 0, &jerr);
    if (!v) {
        if (!strstr(jerr.text, "too big") && !strstr(jerr.text, "overflow"))
            abort();
        return 0;
    }
    if (!json_is_object(v))
        abort();
    json_decref(v);
    return 0;
}
