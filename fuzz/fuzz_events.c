/* libFuzzer target for the event intake's check: any bytes are either
 * refused with a format, invalid or limit error, or give events whose id,
 * type and JSON document hold what the contract promises. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley/proactive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const parley_bot_event_field usage[] = {
    {"line_id", PARLEY_FIELD_STRING, 0},
    {"percent_used", PARLEY_FIELD_NUMBER, 0},
    {"roaming", PARLEY_FIELD_BOOLEAN, 1},
};
static const parley_bot_event_field outage[] = {
    {"cities", PARLEY_FIELD_LIST, 0},
    {"expected_end", PARLEY_FIELD_STRING, 1},
};
static const parley_bot_event_type types[] = {
    {"usage_90", usage, 3},
    {"outage_opened", outage, 2},
    {"ping", NULL, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parley_proactive_events *b = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_err rc = parley_proactive_validate(types, 3, (const char *)data, size, 42, &b, &err);
    if (rc != PARLEY_OK) {
        if ((rc != PARLEY_ERR_FORMAT && rc != PARLEY_ERR_INVALID && rc != PARLEY_ERR_LIMIT) || b ||
            !err.msg[0])
            abort();
        return 0;
    }
    size_t n = parley_proactive_events_count(b);
    if (n == 0 || n > PARLEY_PROACTIVE_MAX_EVENTS)
        abort();
    for (size_t i = 0; i < n; i++) {
        const parley_proactive_event *ev = parley_proactive_events_at(b, i);
        json_t *doc = json_loads(ev->doc, 0, NULL);
        int known = 0;
        for (size_t t = 0; t < 3; t++)
            known |= strcmp(ev->type, types[t].name) == 0;
        if (!known || !ev->id[0] || !json_is_object(doc) ||
            strcmp(json_string_value(json_object_get(doc, "id")), ev->id) != 0 ||
            strcmp(json_string_value(json_object_get(doc, "type")), ev->type) != 0)
            abort();
        json_decref(doc);
    }
    parley_proactive_events_free(b);
    return 0;
}
