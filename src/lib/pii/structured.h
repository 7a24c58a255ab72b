/* Between detect.c and the structured detectors (structured.c, struct_*.c):
 * the Hyperscan patterns of the single scan and the C checks that turn
 * each of their matches into a validated finding, or nothing. */
#ifndef PARLEY_PII_STRUCTURED_H
#define PARLEY_PII_STRUCTURED_H

#include <stddef.h>
#include <stdint.h>

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

/* A word list and how far from the value its words count. */
struct pii_near {
    const char *const *words;
    size_t window;
};
/* Several lists, indexed by first letter for pii_near_words(): built
 * once (pii_near_set_init()), then only read, by any thread. */
#define PII_NEAR_MAX_WORDS 200
#define PII_NEAR_MAX_LISTS 8
struct pii_near_set {
    size_t n, wide;                    /* lists; the widest window */
    size_t window[PII_NEAR_MAX_LISTS]; /* of each list */
    uint32_t first[8];                 /* first bytes of the words, a bitmap */
    uint8_t at[257];                   /* word[at[c], at[c + 1]) start with byte c */
    uint8_t list[PII_NEAR_MAX_WORDS];  /* the list of word[k] */
    const char *word[PII_NEAR_MAX_WORDS];
};
/* Builds `set` from lists[0..n), n <= PII_NEAR_MAX_LISTS, with at most
 * PII_NEAR_MAX_WORDS words in all. */
void pii_near_set_init(struct pii_near_set *set, const struct pii_near *lists, size_t n);
/* pii_near_word() for each list of `set` in one pass over the text: bit l
 * is set when a word of list l is within its window of [start, end). */
unsigned pii_near_words(const char *text, size_t len, size_t start, size_t end,
                        const struct pii_near_set *set);

#endif
