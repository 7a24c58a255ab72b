/* UTF-8 validation and Unicode normalization (NFKC with optional case and
 * accent folding) on top of utf8proc, with an allocation-free fast path
 * for pure ASCII text, the common case in a hot prediction loop. */
#include <string.h>
#include <utf8proc.h>

#include "text/internal.h"

size_t parley__utf8_decode(const unsigned char *s, size_t n, int32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0 && n >= 2) {
        *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if ((c & 0xF0) == 0xE0 && n >= 3) {
        *cp = ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if ((c & 0xF8) == 0xF0 && n >= 4) {
        *cp = ((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    *cp = 0xFFFD;
    return 1;
}

parley_err parley_text_validate(const char *str, size_t n, size_t *bad_offset, parley_error *err)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            goto bad;
        }
        if (n - i < len)
            goto bad;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += len;
    }
    return PARLEY_OK;
bad:
    if (bad_offset)
        *bad_offset = i;
    return parley_error_set(err, PARLEY_ERR_UTF8, "invalid UTF-8 at byte %zu (0x%02x)", i, s[i]);
}

static int is_ascii(const unsigned char *s, size_t n)
{
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= s[i];
    return acc < 0x80;
}

parley_err parley__text_normalize_into(struct parley_text_scratch *sc, const char *s, size_t n,
                                       unsigned flags, parley_error *err)
{
    utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
                             UTF8PROC_IGNORE | UTF8PROC_LUMP;
    utf8proc_ssize_t got, bytes;
    parley_err rc;

    if (n > PARLEY_TEXT_MAX_BYTES)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "text of %zu bytes is longer than %u", n,
                                PARLEY_TEXT_MAX_BYTES);
    parley__buf_reset(&sc->out);
    if (is_ascii((const unsigned char *)s, n)) {
        /* NFKC is the identity on ASCII; only the folds can change it. */
        if ((rc = parley__buf_add(&sc->out, s, n)) != PARLEY_OK)
            return parley_error_set(err, rc, "cannot normalize text: out of memory");
        if (flags & PARLEY_TEXT_CASEFOLD) {
            for (size_t i = 0; i < n; i++) {
                char c = sc->out.data[i];
                if (c >= 'A' && c <= 'Z')
                    sc->out.data[i] = (char)(c + ('a' - 'A'));
            }
        }
        return PARLEY_OK;
    }
    if ((rc = parley_text_validate(s, n, NULL, err)) != PARLEY_OK)
        return rc;
    if (flags & PARLEY_TEXT_CASEFOLD)
        opts |= UTF8PROC_CASEFOLD;
    if (flags & PARLEY_TEXT_STRIP_ACCENTS)
        opts |= UTF8PROC_STRIPMARK;
    for (;;) {
        got = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, sc->cps,
                                 (utf8proc_ssize_t)sc->cps_cap, opts);
        if (got < 0)
            return parley_error_set(err, PARLEY_ERR_UTF8, "cannot normalize text: %s",
                                    utf8proc_errmsg(got));
        if ((size_t)got <= sc->cps_cap)
            break;
        int32_t *p = parley__realloc(sc->cps, (size_t)got * 2 * sizeof(int32_t));
        if (!p)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot normalize text: out of memory");
        sc->cps = p;
        sc->cps_cap = (size_t)got * 2;
    }
    bytes = utf8proc_reencode(sc->cps, got, opts);
    if (bytes < 0)
        return parley_error_set(err, PARLEY_ERR_UTF8, "cannot normalize text: %s",
                                utf8proc_errmsg(bytes));
    if ((rc = parley__buf_add(&sc->out, sc->cps, (size_t)bytes)) != PARLEY_OK)
        return parley_error_set(err, rc, "cannot normalize text: out of memory");
    return PARLEY_OK;
}

void parley__text_scratch_release(struct parley_text_scratch *sc)
{
    parley__free(sc->cps);
    sc->cps = NULL;
    sc->cps_cap = 0;
    parley__buf_release(&sc->out);
}

parley_err parley_text_normalize(const char *s, size_t n, unsigned flags, char **out,
                                 size_t *out_len, parley_error *err)
{
    struct parley_text_scratch sc = PARLEY_TEXT_SCRATCH_INIT;
    parley_err rc = parley__text_normalize_into(&sc, s, n, flags, err);
    if (rc == PARLEY_OK) {
        size_t len;
        char *p = parley__buf_detach(&sc.out, &len);
        if (!p) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot normalize text: out of memory");
        } else {
            *out = p;
            if (out_len)
                *out_len = len;
        }
    }
    parley__text_scratch_release(&sc);
    return rc;
}
