/* libFuzzer target for the CSV and TSV training-data reader (checks in
 * data_reader.h). */
#include "data_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader("fuzz.csv", 1, data, size, PARLEY_NLU_FORMAT_CSV);
    fuzz_reader("fuzz.csv", 1, data, size, PARLEY_NLU_FORMAT_TSV);
    return 0;
}
