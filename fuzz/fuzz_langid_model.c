/* libFuzzer target for the language model loader: any bytes either load
 * as a model that then identifies languages without fault, or are refused
 * with a corrupt / version error and a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "parley/nlu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_and_use(const uint8_t *data, size_t size)
{
    static const char *const texts[] = {"", "hello world", "je voudrais payer",
                                        "\xe4\xbd\xa0\xe5\xa5\xbd", "   "};
    parley_langid *m = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_err rc = parley_langid_load_memory(data, size, &m, &err);

    if (rc != PARLEY_OK) {
        if ((rc != PARLEY_ERR_CORRUPT && rc != PARLEY_ERR_VERSION && rc != PARLEY_ERR_NOMEM) ||
            m != NULL || err.msg[0] == '\0')
            abort();
        return;
    }
    size_t n = parley_langid_language_count(m);
    if (n < 1 || !parley_langid_language(m, 0) || parley_langid_language(m, n))
        abort();
    const char *among[2] = {parley_langid_language(m, 0), parley_langid_language(m, n - 1)};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        parley_langid_result r;
        if (parley_langid_predict(m, texts[i], strlen(texts[i]), 3, &r, &err) != PARLEY_OK)
            abort();
        if (!r.language || r.n_top < 1 || !(r.probability >= 0.0f && r.probability <= 1.0001f))
            abort();
        if (parley_langid_predict_among(m, texts[i], strlen(texts[i]), among, n > 1 ? 2 : 1, &r,
                                        &err) != PARLEY_OK ||
            !(r.probability >= 0.0f && r.probability <= 1.0001f))
            abort();
    }
    parley_langid_free(m);
}

/* Every input is tried as is (checksum checks) and with its size and
 * checksum fixed up, so mutations reach the structural checks behind. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_and_use(data, size);
    if (size >= 32) {
        uint8_t *fixed = malloc(size);
        if (!fixed)
            return 0;
        memcpy(fixed, data, size);
        uint64_t declared = size;
        memcpy(fixed + 16, &declared, 8);
        uint64_t sum = XXH64(fixed + 32, size - 32, 0);
        memcpy(fixed + 24, &sum, 8);
        load_and_use(fixed, size);
        free(fixed);
    }
    return 0;
}
