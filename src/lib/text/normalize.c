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
            uint64_t w;
            i++;
            /* most text is ASCII: skipped 8 bytes at a time while it lasts */
            while (n - i >= 8) {
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080u)
                    break;
                i += 8;
            }
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

/* Unicode's stream-safe limit (UAX #15): real text never has more combining
 * marks in a row. utf8proc puts marks in canonical order with a quadratic
 * sort, so a long run of them (Zalgo text, or an attack) would take minutes
 * on 1 MiB; marks beyond the limit are dropped. */
#define MAX_MARK_RUN 30

static int is_mark(int32_t cp)
{
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    return p->combining_class != 0 || p->category == UTF8PROC_CATEGORY_MN ||
           p->category == UTF8PROC_CATEGORY_MC || p->category == UTF8PROC_CATEGORY_ME;
}

/* If valid UTF-8 `s` has a run of more than MAX_MARK_RUN marks, sets *copy
 * to a new copy without the excess (caller frees) and *copy_n to its
 * length; otherwise sets *copy to NULL. */
static parley_err drop_long_mark_runs(const char *s, size_t n, char **copy, size_t *copy_n)
{
    char *c = NULL;
    size_t i = 0, k = 0, run = 0;

    while (i < n) {
        int32_t cp;
        size_t l = parley__utf8_decode((const unsigned char *)s + i, n - i, &cp);
        run = cp >= 0x300 && is_mark(cp) ? run + 1 : 0;
        if (run > MAX_MARK_RUN && !c) {
            if (!(c = parley__malloc(n)))
                return PARLEY_ERR_NOMEM;
            memcpy(c, s, i);
            k = i;
        }
        if (c && run <= MAX_MARK_RUN) {
            memcpy(c + k, s + i, l);
            k += l;
        }
        i += l;
    }
    *copy = c;
    *copy_n = k;
    return PARLEY_OK;
}

/* The output keeps at most this many marks in a row, fewer than the input
 * limit: composition can shorten a run (Z + U+0323 -> U+1E92), so cutting
 * the input alone would cut a second normalization differently. With the
 * output cut below the input limit, normalizing twice changes nothing. */
#define MAX_OUT_MARK_RUN 20

/* Drops, in place, marks beyond MAX_OUT_MARK_RUN in a row; returns the
 * new length. Trailing marks only go, so NFC order and composition hold. */
static size_t trim_mark_runs(char *s, size_t n)
{
    size_t i = 0, k = 0, run = 0;
    while (i < n) {
        int32_t cp;
        size_t l = parley__utf8_decode((const unsigned char *)s + i, n - i, &cp);
        run = cp >= 0x300 && is_mark(cp) ? run + 1 : 0;
        if (run <= MAX_OUT_MARK_RUN) {
            memmove(s + k, s + i, l);
            k += l;
        }
        i += l;
    }
    return k;
}

/* Mappings applied before utf8proc's own: Turkish capital dotted I folds
 * to plain i (utf8proc gives i + U+0307, which never matches "istanbul"),
 * and the double quotation marks LUMP leaves alone become '"'. */
static utf8proc_int32_t premap(utf8proc_int32_t cp, void *data)
{
    unsigned flags = *(const unsigned *)data;
    if (cp == 0x130 && (flags & PARLEY_TEXT_CASEFOLD))
        return 'i';
    if (cp == 0x201C || cp == 0x201D || cp == 0x201E || cp == 0x201F || cp == 0xAB || cp == 0xBB)
        return '"';
    return cp;
}

parley_err parley__text_normalize_into(struct parley_text_scratch *sc, const char *s, size_t n,
                                       unsigned flags, parley_error *err)
{
    char *capped = NULL;
    size_t capped_n = 0;
    utf8proc_option_t opts =
        UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_IGNORE | UTF8PROC_LUMP;
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
    if (drop_long_mark_runs(s, n, &capped, &capped_n) != PARLEY_OK)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot normalize text: out of memory");
    if (capped) {
        s = capped;
        n = capped_n;
    }
    if (flags & PARLEY_TEXT_CASEFOLD)
        opts |= UTF8PROC_CASEFOLD;
    if (flags & PARLEY_TEXT_STRIP_ACCENTS)
        opts |= UTF8PROC_STRIPMARK;
    for (;;) {
        got = utf8proc_decompose_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, sc->cps,
                                        (utf8proc_ssize_t)sc->cps_cap, opts, premap, &flags);
        if (got < 0) {
            rc = parley_error_set(err, PARLEY_ERR_UTF8, "cannot normalize text: %s",
                                  utf8proc_errmsg(got));
            goto out;
        }
        /* utf8proc_reencode() writes a NUL after its UTF-8 output, which may
         * take 4 bytes per code point, so keep room for got + 1 code points,
         * and a real buffer even when got is 0 (text of ignorables only). */
        if (sc->cps && (size_t)got < sc->cps_cap)
            break;
        int32_t *p = parley__realloc(sc->cps, ((size_t)got + 1) * 2 * sizeof(int32_t));
        if (!p) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot normalize text: out of memory");
            goto out;
        }
        sc->cps = p;
        sc->cps_cap = ((size_t)got + 1) * 2;
    }
    bytes = utf8proc_reencode(sc->cps, got, opts);
    if (bytes > (utf8proc_ssize_t)PARLEY_TEXT_MAX_OUTPUT) {
        /* Compatibility forms can expand 18-fold (U+FDFA); bound the work. */
        rc = parley_error_set(err, PARLEY_ERR_LIMIT,
                              "normalized text of %lld bytes is longer than %u", (long long)bytes,
                              PARLEY_TEXT_MAX_OUTPUT);
        goto out;
    }
    if (bytes < 0) {
        rc = parley_error_set(err, PARLEY_ERR_UTF8, "cannot normalize text: %s",
                              utf8proc_errmsg(bytes));
        goto out;
    }
    bytes = (utf8proc_ssize_t)trim_mark_runs((char *)sc->cps, (size_t)bytes);
    if ((rc = parley__buf_add(&sc->out, sc->cps, (size_t)bytes)) != PARLEY_OK)
        rc = parley_error_set(err, rc, "cannot normalize text: out of memory");
out:
    parley__free_secure(capped, capped_n);
    return rc;
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
