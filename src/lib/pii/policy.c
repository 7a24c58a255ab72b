/* Policies as configuration writes them: "redact", "mask",
 * "card=mask,phone=hash,*=redact" — an operator for every class, then per
 * class, later items winning. */
#include <stdio.h>
#include <string.h>

#include "pii/internal.h"

/* Copies `s[0..n)` without surrounding blanks into `out`; 0 if too long. */
static int trimmed(const char *s, size_t n, char *out, size_t size)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= size)
        return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

parley_err parley_pii_policy_parse(const char *spec, parley_pii_policy *pol, parley_error *err)
{
    parley_pii_policy p;
    const char *at = spec;
    if (!spec || !pol)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot read policy: bad argument");
    parley_pii_policy_redact_all(&p);
    p.hash_key = pol->hash_key;
    p.vault = pol->vault;
    for (size_t item = 1;; item++) {
        size_t n = strcspn(at, ",");
        char buf[64], *eq;
        parley_pii_operator op;
        parley_pii_type type;
        int fits = trimmed(at, n, buf, sizeof(buf));
        if (!fits || !buf[0])
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "bad policy '%.200s': item %zu is %s (expected OPERATOR or "
                                    "TYPE=OPERATOR)",
                                    spec, item, fits ? "empty" : "too long");
        eq = strchr(buf, '=');
        if (eq) {
            char name[32], opname[32];
            *eq = '\0';
            if (!trimmed(buf, strlen(buf), name, sizeof(name)) ||
                !trimmed(eq + 1, strlen(eq + 1), opname, sizeof(opname)))
                name[0] = opname[0] = '\0';
            if (!parley_pii_operator_parse(opname, &op))
                return parley_error_set(err, PARLEY_ERR_INVALID,
                                        "bad policy '%.200s': unknown operator '%s' (expected "
                                        "redact, mask, hash, tokenize or keep)",
                                        spec, opname);
            if (strcmp(name, "*") == 0) {
                for (unsigned i = 0; i < PARLEY_PII_N_TYPES; i++)
                    p.op[i] = op;
            } else if (parley_pii_type_parse(name, &type)) {
                p.op[type] = op;
            } else {
                return parley_error_set(err, PARLEY_ERR_INVALID,
                                        "bad policy '%.200s': unknown data class '%s' (expected "
                                        "card, iban, ssn, phone, email, ip, imei, dob, address, "
                                        "name, id or *)",
                                        spec, name);
            }
        } else if (parley_pii_operator_parse(buf, &op)) {
            for (unsigned i = 0; i < PARLEY_PII_N_TYPES; i++)
                p.op[i] = op;
        } else {
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "bad policy '%.200s': unknown operator '%s' (expected redact, "
                                    "mask, hash, tokenize or keep)",
                                    spec, buf);
        }
        if (!at[n])
            break;
        at += n + 1;
    }
    *pol = p;
    return PARLEY_OK;
}
