/* Between detect.c and the structured detectors (structured.c, struct_*.c):
 * the Hyperscan patterns of the single scan and the C checks that turn
 * each of their matches into a validated finding, or nothing. */
#ifndef PARLEY_PII_STRUCTURED_H
#define PARLEY_PII_STRUCTURED_H

#include <stddef.h>

#include "pii/internal.h"

/* What a pattern's matches are checked as. One check may yield several
 * types (a digit run is a card or an IMEI). */
enum pii_kind {
    PII_K_DIGITS = 0, /* card or IMEI */
    PII_K_IBAN,
    PII_K_SSN,
    PII_K_PHONE,
    PII_K_EMAIL,
    PII_K_IPV4,
    PII_K_IPV6,
};

/* One pattern of the scan: its expression and Hyperscan flags, and the
 * types its check can yield (a mask of PARLEY_PII_BIT()s), so create()
 * leaves out patterns nobody asked for. */
struct pii_pattern {
    const char *expr;
    unsigned flags;
    enum pii_kind kind;
    unsigned types;
};

extern const struct pii_pattern pii_patterns[];
extern const size_t pii_n_patterns;

/* Checks a match of a pattern of `kind` ending at `to` in text[0..len)
 * (the patterns do not report their start: the check finds it) and
 * appends what it validates (types outside mask `types` are not added).
 * Returns 0 when out of memory. */
int pii_structured_check(enum pii_kind kind, const char *text, size_t len, size_t to,
                         unsigned types, struct pii_hits *out);

/* struct_phone.c: the check of a phone-like match [from, to): `from` is
 * the leftmost start the pattern allows; later starts are tried too. */
int pii_phone_check(const char *text, size_t len, size_t from, size_t to, struct pii_hits *out);

/* 1 when a word of `words` (lower-case ASCII, NULL-terminated list) occurs
 * within `window` bytes before `start` or after `end`, case-insensitively. */
int pii_near_word(const char *text, size_t len, size_t start, size_t end, size_t window,
                  const char *const *words);

#endif
