/* libFuzzer target for the fastText training-data reader (checks in
 * data_reader.h). */
#include "data_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader("fuzz.txt", 1, data, size, PARLEY_NLU_FORMAT_FASTTEXT);
    return 0;
}
