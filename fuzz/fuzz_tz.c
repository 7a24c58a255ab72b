/* libFuzzer target for the TZif parser behind parley_tz_offset: any bytes
 * either parse into a zone whose offsets stay within RFC 8536's range at
 * every time, or are refused with a format, version or limit error. The
 * corpus holds small real zone files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_and_use(const uint8_t *data, size_t size, int64_t probe)
{
    static const int64_t times[] = {
        INT64_MIN / 4, -2208988800, -1,         0,          1774746000,
        1792890000,    2147483647,  2215036800, 4102444800, INT64_MAX / 4,
    };
    struct parley__tz *tz = NULL;
    parley_err rc = parley__tz_parse(data, size, &tz);
    if (rc != PARLEY_OK) {
        if ((rc != PARLEY_ERR_FORMAT && rc != PARLEY_ERR_VERSION && rc != PARLEY_ERR_LIMIT) || tz)
            abort();
        return;
    }
    for (size_t i = 0; i <= sizeof(times) / sizeof(times[0]); i++) {
        int64_t t = i < sizeof(times) / sizeof(times[0]) ? times[i] : probe;
        int32_t off = parley__tz_offset_at(tz, t);
        if (off < -89999 || off > 93599)
            abort();
    }
    parley__tz_free(tz);
}

/* Every input is tried as a file, and as the footer of an otherwise valid
 * one, so that mutations reach the TZ-string parser and its rules without
 * having to keep a whole file consistent first. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A time from the input, within the parser's |t| < 2^62 contract. */
    uint64_t u = 0;
    if (size > 0)
        memcpy(&u, data, size < sizeof(u) ? size : sizeof(u));
    int64_t probe = (int64_t)(u >> 2) - ((int64_t)1 << 61);

    parse_and_use(data, size, probe);
    if (size > 300)
        return 0;

    /* A 32-bit and a 64-bit part, each a header, one type (UTC) and one
     * byte of abbreviations; then the input between newlines. */
    uint8_t *file = calloc(1, 2 * 51 + size + 2);
    size_t len = 0;
    if (!file)
        return 0;
    for (int part = 0; part < 2; part++, len += 51) {
        memcpy(file + len, "TZif2", 5);
        file[len + 39] = 1; /* typecnt */
        file[len + 43] = 1; /* charcnt */
    }
    file[len++] = '\n';
    memcpy(file + len, data, size);
    len += size;
    file[len++] = '\n';
    parse_and_use(file, len, probe);
    free(file);
    return 0;
}
