/* Private declarations shared by the text layer's files and by modules
 * that need its allocation-free fast paths (the intent engine). */
#ifndef PARLEY_TEXT_INTERNAL_H
#define PARLEY_TEXT_INTERNAL_H

#include "common/internal.h"
#include "parley/text.h"

/* Scratch space for allocation-free normalization; reuse across calls. */
struct parley_text_scratch {
    int32_t *cps;
    size_t cps_cap;
    struct parley_buf out;
};
#define PARLEY_TEXT_SCRATCH_INIT                                                                   \
    {                                                                                              \
        NULL, 0, PARLEY_BUF_INIT(0)                                                                \
    }

/* Normalizes into `sc->out` (valid until the next call on `sc`). */
parley_err parley__text_normalize_into(struct parley_text_scratch *sc, const char *s, size_t n,
                                       unsigned flags, parley_error *err);
void parley__text_scratch_release(struct parley_text_scratch *sc);

/* Decodes one code point of valid UTF-8 at s (n > 0 bytes left); returns
 * its byte length (1 for a stray byte, which decodes as U+FFFD). */
size_t parley__utf8_decode(const unsigned char *s, size_t n, int32_t *cp);

uint64_t parley__hash_fmix64(uint64_t k);

#endif
