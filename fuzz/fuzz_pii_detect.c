/* libFuzzer target for the personal-data detectors: any bytes, with every
 * type and a declared identifier, at two thresholds, with the output
 * invariants checked (findings inside the input, on UTF-8 boundaries,
 * sorted, not overlapping, above the threshold; UTF-8 errors exactly when
 * the text layer says the input is invalid). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/pii.h"
#include "parley/text.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (void)fprintf(stderr, "fuzz_pii_detect: invariant failed at line %d: %s\n", __LINE__,  \
                          #cond);                                                                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const parley_pii_identifier ids[] = {{"customer_id", "C[0-9]{4}"},
                                            {"ticket", "T-[A-Z]{2}[0-9]+"}};

static int boundary(const uint8_t *d, size_t size, size_t at)
{
    return at == size || (d[at] & 0xC0) != 0x80;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static parley_pii *det[2];
    static parley_pii_scratch *scr[2];
    static const float thresholds[2] = {0.5F, 0.05F};
    const char *in = (const char *)data;
    int valid = parley_text_validate(in, size, NULL, NULL) == PARLEY_OK;

    for (size_t k = 0; k < 2; k++) {
        parley_error e = PARLEY_ERROR_INIT;
        const parley_pii_finding *f = NULL;
        size_t n = 99;
        parley_err rc;

        if (!det[k]) {
            parley_pii_options o = {0, thresholds[k], ids, sizeof(ids) / sizeof(ids[0])};
            CHECK(parley_pii_create(&o, &det[k], &e) == PARLEY_OK);
            CHECK(parley_pii_scratch_create(det[k], &scr[k], &e) == PARLEY_OK);
        }
        rc = parley_pii_detect(det[k], scr[k], in, size, NULL, 0, &f, &n, &e);
        if (!valid) {
            CHECK(rc == PARLEY_ERR_UTF8 && n == 0 && strstr(e.msg, "byte") != NULL);
            continue;
        }
        CHECK(rc == PARLEY_OK);
        CHECK(n <= size);
        for (size_t i = 0; i < n; i++) {
            CHECK(f[i].start < f[i].end && f[i].end <= size);
            CHECK(boundary(data, size, f[i].start) && boundary(data, size, f[i].end));
            CHECK(i == 0 || f[i].start >= f[i - 1].end);
            CHECK((unsigned)f[i].type < PARLEY_PII_N_TYPES);
            CHECK(f[i].confidence >= thresholds[k] && f[i].confidence <= 1.0F);
            CHECK(f[i].detector != NULL);
        }
    }
    return 0;
}
