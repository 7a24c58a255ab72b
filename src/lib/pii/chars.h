/* Private to the context detectors (context*.c): what a code point is to
 * the tokenizer and the known-value search (its class, whether it is an
 * upper-case letter, its folded form). ASCII and the commonest other code
 * points are read from tables; the rest asks utf8proc (context_chars.c). */
#ifndef PARLEY_PII_CHARS_H
#define PARLEY_PII_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <utf8proc.h>

enum cp_class { C_SPACE, C_NL, C_LETTER, C_DIGIT, C_MARK, C_INNER, C_OTHER, C_BAD };

/* Classes of the ASCII characters, looked up rather than tested: most of
 * the text is ASCII and the tokenizer classifies every character. */
extern const unsigned char pii_ascii_class[128];

/* What utf8proc says of one code point, worked out once. */
struct pii_cp_info {
    uint8_t cls;   /* enum cp_class */
    uint8_t upper; /* an upper-case or title-case letter */
    int8_t n;      /* folded length, -1 for none, or PII_CP_SLOW */
    char fold[5];  /* the folded bytes */
};
/* n of a code point whose folded form is left to pii_fold_cp_slow(): one
 * that folds to nothing or to more than fits in `fold`. */
#define PII_CP_SLOW 127

/* U+0080..U+07FF (two bytes of UTF-8: Latin, Greek, Cyrillic, Hebrew,
 * Arabic...), then U+2000..U+20FF (punctuation and currency signs), once
 * pii_chars_init() has filled them. */
#define PII_CP_TWO_END    0x800
#define PII_CP_PUNCT_LO   0x2000
#define PII_CP_PUNCT_END  0x2100
#define PII_CP_TABLE_SIZE ((PII_CP_TWO_END - 0x80) + (PII_CP_PUNCT_END - PII_CP_PUNCT_LO))
extern struct pii_cp_info pii_cp_table[PII_CP_TABLE_SIZE];

/* Fills pii_cp_table, once per process (thread-safe); before any call of
 * the functions below. */
void pii_chars_init(void);

/* The answers for any code point, from utf8proc: what the tables hold. */
int pii_fold_cp_slow(int32_t cp, char *out, size_t cap);
enum cp_class pii_classify_slow(int32_t cp);
bool pii_is_upper_slow(int32_t cp);

/* The table entry of cp (>= 0x80), or NULL when it has none. */
static inline const struct pii_cp_info *cp_info(int32_t cp)
{
    if (cp < PII_CP_TWO_END)
        return &pii_cp_table[cp - 0x80];
    if (cp >= PII_CP_PUNCT_LO && cp < PII_CP_PUNCT_END)
        return &pii_cp_table[(PII_CP_TWO_END - 0x80) + (cp - PII_CP_PUNCT_LO)];
    return NULL;
}

/* Folds one code point (case folded, marks dropped: "É" -> "e", "ß" ->
 * "ss") into out[0..cap); returns the bytes written, 0 if it does not
 * fit, -1 if it has no folded form. */
static inline int fold_cp(int32_t cp, char *out, size_t cap)
{
    const struct pii_cp_info *ci;
    if (cp < 0x80)
        return pii_fold_cp_slow(cp, out, cap); /* the callers fold most ASCII themselves */
    ci = cp_info(cp);
    if (ci && ci->n < 0)
        return -1;
    /* what does not fit is left to utf8proc, which writes what does */
    if (ci && ci->n != PII_CP_SLOW && (size_t)ci->n <= cap) {
        memcpy(out, ci->fold, (size_t)ci->n);
        return ci->n;
    }
    return pii_fold_cp_slow(cp, out, cap);
}

/* Decodes the code point at text[i]; returns its length, or 1 with
 * *cp = -1 for an invalid byte. */
static inline size_t decode(const char *text, size_t len, size_t i, int32_t *cp)
{
    unsigned char c = (unsigned char)text[i];
    utf8proc_ssize_t k;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    /* two bytes, the commonest other case, as utf8proc_iterate() reads them */
    if (c >= 0xC2 && c <= 0xDF && i + 1 < len && ((unsigned char)text[i + 1] & 0xC0) == 0x80) {
        *cp = (int32_t)((c & 0x1Fu) << 6 | ((unsigned char)text[i + 1] & 0x3Fu));
        return 2;
    }
    k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), cp);
    if (k <= 0) {
        *cp = -1;
        return 1;
    }
    return (size_t)k;
}

static inline enum cp_class classify(int32_t cp)
{
    const struct pii_cp_info *ci;
    if (cp < 0)
        return C_BAD;
    if (cp < 0x80)
        return (enum cp_class)pii_ascii_class[cp];
    ci = cp_info(cp);
    return ci ? (enum cp_class)ci->cls : pii_classify_slow(cp);
}

static inline bool is_upper(int32_t cp)
{
    const struct pii_cp_info *ci;
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z';
    ci = cp_info(cp);
    return ci ? ci->upper != 0 : pii_is_upper_slow(cp);
}

#endif
