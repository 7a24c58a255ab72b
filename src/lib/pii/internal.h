/* Shared inside src/lib/pii: the growing list of findings every detector
 * appends to, and the entry points of the detectors that do not run in the
 * single Hyperscan pass (dates of birth, addresses, names, known values). */
#ifndef PARLEY_PII_INTERNAL_H
#define PARLEY_PII_INTERNAL_H

#include <stddef.h>

#include "common/internal.h"
#include "parley/pii.h"

/* Findings of one scan, unsorted and possibly overlapping until
 * pii_hits_resolve() (detect.c) sorts them and keeps the winners. */
struct pii_hits {
    parley_pii_finding *v;
    size_t n, cap;
};

/* Appends a finding; returns 0 when out of memory. The caller keeps
 * start < end <= the scanned length, on character boundaries. */
int pii_hits_add(struct pii_hits *h, parley_pii_type type, size_t start, size_t end,
                 float confidence, const char *detector);

/* context.c: the detectors driven by context words and by what the
 * conversation already knows (PARLEY_PII_DOB, _ADDRESS, _NAME, and
 * `known` values of any type), for the types in mask `types`, appended
 * to `out`. Returns 0 when out of memory. */
int pii_detect_context(const char *text, size_t len, unsigned types, const parley_pii_known *known,
                       size_t n_known, struct pii_hits *out);

#endif
