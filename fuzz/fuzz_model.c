/* libFuzzer target for the model file loader: any bytes either load as a
 * model that then predicts without fault, or are refused with a corrupt /
 * version error and a message. The corpus holds a real small model. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "parley/nlu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_and_use(const uint8_t *data, size_t size);

/* Every input is tried as is (checksum checks) and with its checksum
 * recomputed, so mutations reach the structural checks behind it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_and_use(data, size);
    if (size >= 32) {
        uint8_t *fixed = malloc(size);
        if (!fixed)
            return 0;
        memcpy(fixed, data, size);
        uint64_t sum = XXH64(fixed + 32, size - 32, 0);
        uint64_t declared = size;
        memcpy(fixed + 16, &declared, 8);
        memcpy(fixed + 24, &sum, 8);
        load_and_use(fixed, size);
        free(fixed);
    }
    return 0;
}

static void load_and_use(const uint8_t *data, size_t size)
{
    static const char *const texts[] = {"", "hello world", "my card was stolen",
                                        "\xe4\xbd\xa0\xe5\xa5\xbd"};
    parley_nlu_model *m = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_err rc = parley_nlu_model_load_memory(data, size, &m, &err);

    if (rc != PARLEY_OK) {
        if ((rc != PARLEY_ERR_CORRUPT && rc != PARLEY_ERR_VERSION && rc != PARLEY_ERR_NOMEM) ||
            m != NULL || err.msg[0] == '\0')
            abort();
        return;
    }
    parley_nlu_ctx *c = NULL;
    if (parley_nlu_ctx_new(&c) != PARLEY_OK)
        abort();
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        parley_nlu_prediction pr;
        if (parley_nlu_predict(m, c, texts[i], strlen(texts[i]), 3, &pr, &err) != PARLEY_OK)
            abort();
        if (!pr.intent || pr.n_top < 1 || !(pr.confidence >= 0.0f && pr.confidence <= 1.0001f))
            abort();
    }
    parley_nlu_model_info info;
    parley_nlu_model_get_info(m, &info);
    for (size_t i = 0; i < info.n_labels; i++)
        if (!parley_nlu_model_label(m, i))
            abort();
    parley_nlu_ctx_free(c);
    parley_nlu_model_free(m);
}
