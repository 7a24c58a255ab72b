/* Fuzzes connect response validation: the first byte picks an HTTP
 * status, the rest is the body, checked against an operation with nested,
 * list, optional and typed fields. Must never crash; aborts when the
 * result breaks its invariants (facts only on success, one per declared
 * field, a message on every failure, a class that fits the status). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connect/internal.h"
#include "parley/connect.h"

static const char DEF[] =
    "name: fuzz\nbase_url: http://127.0.0.1:1\nauth: {type: none}\n"
    "operations:\n"
    "  get:\n"
    "    method: GET\n"
    "    path: /x\n"
    "    facts:\n"
    "      - {name: used, path: line.data_used_gb, type: number, sensitivity: account}\n"
    "      - {name: roaming, path: line.roaming_enabled, type: boolean, required: false, "
    "sensitivity: account}\n"
    "      - {name: names, path: 'plans[].name', type: string, sensitivity: public}\n"
    "      - {name: second, path: 'plans[1].price', type: number, required: false, "
    "sensitivity: public}\n"
    "      - {name: apn, path: device.apn, type: object, required: false, sensitivity: "
    "sensitive}\n"
    "      - {name: ids, path: line_ids, type: array, required: false, sensitivity: account}\n"
    "      - {name: grid, path: '[0]', type: string, required: false, sensitivity: public}\n";

static const long STATUSES[] = {200, 201, 204, 302, 400, 404, 408, 409, 422, 429, 500, 503};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static parley_connect_def *def;
    const struct connect_op *op;
    parley_connect_result *r;
    long status;
    parley_err rc;

    if (!def) {
        parley_error e = PARLEY_ERROR_INIT;
        if (parley_connect_def_load_memory("fuzz.yml", DEF, strlen(DEF), &def, &e) != PARLEY_OK)
            abort();
    }
    if (size == 0)
        return 0;
    op = &def->ops[0];
    status = STATUSES[data[0] % (sizeof(STATUSES) / sizeof(STATUSES[0]))];
    r = parley__connect_result_new();
    if (!r)
        return 0;
    rc = parley__connect_parse_response(op, status, data + 1, size - 1, r);
    if (rc != PARLEY_OK && rc != PARLEY_ERR_NOMEM)
        abort();
    if (rc == PARLEY_OK) {
        parley_connect_code code = parley_connect_result_code(r);
        if (parley_connect_result_http_status(r) != status)
            abort();
        if (status >= 200 && status <= 299) {
            if (code != PARLEY_CONNECT_OK && code != PARLEY_CONNECT_MALFORMED)
                abort();
        } else if (code != PARLEY_CONNECT_REJECTED && code != PARLEY_CONNECT_UNAVAILABLE) {
            abort();
        }
        if (code == PARLEY_CONNECT_OK) {
            if (parley_connect_result_fact_count(r) != op->nfields)
                abort();
            for (size_t i = 0; i < op->nfields; i++) {
                const parley_connect_fact *f = parley_connect_result_fact(r, i);
                if (!f || !f->json || !f->text || strcmp(f->name, op->fields[i].name) != 0)
                    abort();
                if (op->fields[i].required && !f->present)
                    abort();
                if (!f->present && strcmp(f->json, "null") != 0)
                    abort();
                if (parley_connect_result_find(r, f->name) == NULL)
                    abort();
            }
        } else {
            if (parley_connect_result_fact_count(r) != 0 || parley_connect_result_fact(r, 0))
                abort();
            if (parley_connect_result_message(r)[0] == '\0')
                abort();
        }
    }
    parley_connect_result_free(r);
    return 0;
}
