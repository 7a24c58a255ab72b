/* The keys of the hash operator and of the token vault, as configuration
 * gives them (common/keyfile.c: owner-only file or environment variable). */
#include "pii/internal.h"

_Static_assert(PARLEY_PII_KEY_SIZE == PARLEY__KEY32, "pii keys are 32-byte secrets");

parley_err parley_pii_key_load(const char *spec, uint8_t key[PARLEY_PII_KEY_SIZE],
                               parley_error *err)
{
    return parley__key32_load(spec, 1, "key", "parley vault keygen", key, err);
}

parley_err parley_pii_key_generate(const char *path, parley_error *err)
{
    return parley__key32_generate(path, "key", err);
}
