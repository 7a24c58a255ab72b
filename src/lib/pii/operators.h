/* Shared by the operators (apply.c) and the token vault (vault.c): how a
 * value is normalised before it is hashed or tokenized, so that spellings
 * of one value ("+1 (555) 010-2030", "15550102030") get one pseudonym. */
#ifndef PARLEY_PII_OPERATORS_H
#define PARLEY_PII_OPERATORS_H

#include <sodium.h>

#include "pii/internal.h"

/* Feeds the type name, a NUL and `value[0..len)` normalised for `type`
 * into `st`: digits only for card, phone, SSN and IMEI; letters and
 * digits, upper-cased, for IBAN; ASCII lower-case for e-mail; as is
 * otherwise. */
void pii_hash_value(crypto_generichash_state *st, parley_pii_type type, const char *value,
                    size_t len);

#endif
