/* libFuzzer target for the Rasa YAML training-data reader (checks in
 * data_reader.h). */
#include "data_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Rasa items may list examples before their intent: no line order. */
    fuzz_reader("fuzz.yml", 0, data, size, PARLEY_NLU_FORMAT_RASA);
    return 0;
}
