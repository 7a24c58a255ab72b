/* The operators: each finding of a text replaced by a label ("[CARD]"), a
 * mask keeping the last four digits, a keyed-hash pseudonym, a vault token
 * or left as it is, as the destination's policy says. */
#include <string.h>

#include "pii/operators.h"

/* Characters that give a value its shape; kept by the mask when the value
 * has enough digits to keep some. */
static int is_separator(unsigned char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '+';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

void pii_hash_value(crypto_generichash_state *st, parley_pii_type type, const char *value,
                    size_t len)
{
    const char *name = parley_pii_type_name(type);
    unsigned char buf[256];
    size_t n = 0;

    (void)crypto_generichash_update(st, (const unsigned char *)name, strlen(name) + 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        switch (type) {
        case PARLEY_PII_CARD:
        case PARLEY_PII_PHONE:
        case PARLEY_PII_SSN:
        case PARLEY_PII_IMEI:
            if (!is_digit(c))
                continue;
            break;
        case PARLEY_PII_IBAN:
            if (c >= 'a' && c <= 'z')
                c = (unsigned char)(c - 'a' + 'A');
            else if (!is_digit(c) && !(c >= 'A' && c <= 'Z'))
                continue;
            break;
        case PARLEY_PII_EMAIL:
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            break;
        default:
            break;
        }
        buf[n++] = c;
        if (n == sizeof(buf)) {
            (void)crypto_generichash_update(st, buf, n);
            n = 0;
        }
    }
    (void)crypto_generichash_update(st, buf, n);
    sodium_memzero(buf, sizeof(buf));
}

void parley_pii_policy_redact_all(parley_pii_policy *pol)
{
    memset(pol, 0, sizeof(*pol));
    for (int i = 0; i < PARLEY_PII_N_TYPES; i++)
        pol->op[i] = PARLEY_PII_OP_REDACT;
}

void parley_pii_free(void *p)
{
    parley__free(p);
}

/* "[PHONE" into `b`: the upper-cased type name after a bracket. */
static parley_err add_label(struct parley_buf *b, parley_pii_type type)
{
    char label[16];
    const char *name = parley_pii_type_name(type);
    size_t n = 0;
    label[n++] = '[';
    for (; *name && n < sizeof(label) - 1; name++)
        label[n++] = (char)(*name >= 'a' && *name <= 'z' ? *name - 'a' + 'A' : *name);
    return parley__buf_add(b, label, n);
}

/* The mask: digits but the last four, letters and other characters become
 * one '*' per character (UTF-8 sequences count once); separators stay.
 * Under four digits there is nothing worth keeping: all characters go. */
static parley_err add_mask(struct parley_buf *b, const char *v, size_t len)
{
    size_t digits = 0, seen = 0;
    parley_err rc = PARLEY_OK;

    for (size_t i = 0; i < len; i++)
        digits += is_digit((unsigned char)v[i]);
    for (size_t i = 0; i < len && rc == PARLEY_OK; i++) {
        unsigned char c = (unsigned char)v[i];
        int keep = 0;
        if ((c & 0xC0) == 0x80)
            continue; /* continuation byte: its character is already out */
        if (digits >= 4 && is_digit(c))
            keep = ++seen > digits - 4;
        else if (digits >= 4)
            keep = is_separator(c);
        rc = parley__buf_addc(b, keep ? (char)c : '*');
    }
    return rc;
}

static parley_err add_hash(struct parley_buf *b, parley_pii_type type, const uint8_t *key,
                           const char *v, size_t len)
{
    crypto_generichash_state st;
    unsigned char h[8];
    char hex[2 * sizeof(h) + 1];
    parley_err rc;

    (void)crypto_generichash_init(&st, key, PARLEY_PII_KEY_SIZE, sizeof(h));
    pii_hash_value(&st, type, v, len);
    (void)crypto_generichash_final(&st, h, sizeof(h));
    (void)sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    if ((rc = add_label(b, type)) == PARLEY_OK && (rc = parley__buf_addc(b, ':')) == PARLEY_OK &&
        (rc = parley__buf_add(b, hex, 2 * sizeof(h))) == PARLEY_OK)
        rc = parley__buf_addc(b, ']');
    return rc;
}

static parley_err replace(struct parley_buf *b, const parley_pii_policy *pol,
                          const parley_pii_finding *f, const char *v, size_t len, parley_error *err)
{
    char token[PARLEY_PII_TOKEN_SIZE];
    parley_err rc;
    parley_pii_operator op = pol->op[f->type];

    if (op == PARLEY_PII_OP_HASH && !pol->hash_key)
        op = PARLEY_PII_OP_REDACT;
    if (op == PARLEY_PII_OP_TOKENIZE && !pol->vault)
        op = PARLEY_PII_OP_REDACT;
    switch (op) {
    case PARLEY_PII_OP_KEEP:
        return parley__buf_add(b, v, len);
    case PARLEY_PII_OP_MASK:
        return add_mask(b, v, len);
    case PARLEY_PII_OP_HASH:
        return add_hash(b, f->type, pol->hash_key, v, len);
    case PARLEY_PII_OP_TOKENIZE:
        if ((rc = parley_pii_vault_tokenize(pol->vault, f->type, v, len, token, err)) != PARLEY_OK)
            return rc;
        if ((rc = add_label(b, f->type)) == PARLEY_OK &&
            (rc = parley__buf_addc(b, '#')) == PARLEY_OK &&
            (rc = parley__buf_add(b, token, strlen(token))) == PARLEY_OK)
            rc = parley__buf_addc(b, ']');
        return rc;
    default:
        if ((rc = add_label(b, f->type)) == PARLEY_OK)
            rc = parley__buf_addc(b, ']');
        return rc;
    }
}

/* Findings must be what parley_pii_detect() promises: known types and
 * operators, in range, on character boundaries, sorted, apart. */
static parley_err check(const parley_pii_policy *pol, const char *text, size_t len,
                        const parley_pii_finding *findings, size_t n, parley_error *err)
{
    size_t prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        const parley_pii_finding *f = &findings[i];
        if ((unsigned)f->type >= PARLEY_PII_N_TYPES)
            return parley_error_set(err, PARLEY_ERR_INVALID, "finding %zu: unknown type %d", i,
                                    (int)f->type);
        if ((unsigned)pol->op[f->type] > PARLEY_PII_OP_KEEP)
            return parley_error_set(err, PARLEY_ERR_INVALID, "policy: unknown operator for '%s'",
                                    parley_pii_type_name(f->type));
        if (f->start >= f->end || f->end > len)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "finding %zu: bytes %zu..%zu are not within the text (%zu "
                                    "bytes)",
                                    i, f->start, f->end, len);
        if (f->start < prev_end)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "finding %zu: starts at %zu, before the end of the previous "
                                    "one (%zu): findings must be sorted and apart",
                                    i, f->start, prev_end);
        if ((text[f->start] & 0xC0) == 0x80 || (f->end < len && (text[f->end] & 0xC0) == 0x80))
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "finding %zu: bytes %zu..%zu cut a UTF-8 character", i,
                                    f->start, f->end);
        prev_end = f->end;
    }
    return PARLEY_OK;
}

parley_err parley_pii_apply(const parley_pii_policy *pol, const char *text, size_t len,
                            const parley_pii_finding *findings, size_t n, char **out,
                            size_t *out_len, parley_error *err)
{
    struct parley_buf b = PARLEY_BUF_INIT(0);
    parley_err rc;
    size_t at = 0;

    if (!pol || (!text && len) || (!findings && n) || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "pii apply: missing argument");
    if ((rc = check(pol, text, len, findings, n, err)) != PARLEY_OK)
        return rc;
    /* Room for the text as it is: most replacements are about as long. */
    if (len && parley__buf_add(&b, text, len) != PARLEY_OK)
        goto nomem;
    parley__buf_reset(&b);
    for (size_t i = 0; i < n; i++) {
        const parley_pii_finding *f = &findings[i];
        if (parley__buf_add(&b, text + at, f->start - at) != PARLEY_OK)
            goto nomem;
        rc = replace(&b, pol, f, text + f->start, f->end - f->start, err);
        if (rc == PARLEY_ERR_NOMEM)
            goto nomem;
        if (rc != PARLEY_OK)
            goto fail;
        at = f->end;
    }
    if (parley__buf_add(&b, text + at, len - at) != PARLEY_OK)
        goto nomem;
    size_t n_out = 0;
    char *s = parley__buf_detach(&b, &n_out);
    if (!s)
        goto nomem;
    *out = s;
    if (out_len)
        *out_len = n_out;
    return PARLEY_OK;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory replacing personal data");
fail:
    if (b.data)
        explicit_bzero(b.data, b.cap);
    parley__buf_release(&b);
    return rc;
}
