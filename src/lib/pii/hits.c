/* The findings list every detector appends to, and the names of the data
 * classes and operators as configuration and output spell them. */
#include <string.h>

#include "pii/internal.h"

static const char *const type_names[PARLEY_PII_N_TYPES] = {
    "card", "iban", "ssn", "phone", "email", "ip", "imei", "dob", "address", "name", "id",
};

static const char *const op_names[] = {"redact", "mask", "hash", "tokenize", "keep"};

const char *parley_pii_type_name(parley_pii_type t)
{
    return (unsigned)t < PARLEY_PII_N_TYPES ? type_names[t] : "?";
}

int parley_pii_type_parse(const char *name, parley_pii_type *out)
{
    for (unsigned i = 0; name && i < PARLEY_PII_N_TYPES; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (parley_pii_type)i;
            return 1;
        }
    }
    return 0;
}

const char *parley_pii_operator_name(parley_pii_operator op)
{
    return (unsigned)op < sizeof(op_names) / sizeof(op_names[0]) ? op_names[op] : "?";
}

int parley_pii_operator_parse(const char *name, parley_pii_operator *out)
{
    for (unsigned i = 0; name && i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *out = (parley_pii_operator)i;
            return 1;
        }
    }
    return 0;
}

int pii_hits_add(struct pii_hits *h, parley_pii_type type, size_t start, size_t end,
                 float confidence, const char *detector)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 32;
        parley_pii_finding *v = parley__realloc(h->v, cap * sizeof(*v));
        if (!v)
            return 0;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = (parley_pii_finding){type, start, end, confidence, detector};
    return 1;
}
