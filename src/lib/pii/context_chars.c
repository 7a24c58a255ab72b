/* What a code point is to the context detectors, from utf8proc: its
 * class, its case, its folded form (chars.h reads them); and the table
 * that keeps those answers for the code points most non-ASCII text is
 * made of, so that a tokenizer meeting "é" or "€" does not ask utf8proc
 * three or four times for each. */
#include <pthread.h>

#include "pii/chars.h"

struct pii_cp_info pii_cp_table[PII_CP_TABLE_SIZE];
static pthread_once_t built = PTHREAD_ONCE_INIT;

const unsigned char pii_ascii_class[128] = {
    C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,
    C_SPACE,  C_NL,     C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,
    C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,
    C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_SPACE,  C_OTHER,  C_OTHER,  C_OTHER,
    C_OTHER,  C_OTHER,  C_OTHER,  C_INNER,  C_OTHER,  C_OTHER,  C_OTHER,  C_OTHER,  C_OTHER,
    C_INNER,  C_OTHER,  C_OTHER,  C_DIGIT,  C_DIGIT,  C_DIGIT,  C_DIGIT,  C_DIGIT,  C_DIGIT,
    C_DIGIT,  C_DIGIT,  C_DIGIT,  C_DIGIT,  C_OTHER,  C_OTHER,  C_OTHER,  C_OTHER,  C_OTHER,
    C_OTHER,  C_OTHER,  C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER,
    C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER,
    C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER,
    C_LETTER, C_OTHER,  C_OTHER,  C_OTHER,  C_OTHER,  C_OTHER,  C_OTHER,  C_LETTER, C_LETTER,
    C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER,
    C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER,
    C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_LETTER, C_OTHER,  C_OTHER,  C_OTHER,
    C_OTHER,  C_OTHER,
};

int pii_fold_cp_slow(int32_t cp, char *out, size_t cap)
{
    utf8proc_int32_t buf[8];
    utf8proc_uint8_t enc[4];
    int bound = 0;
    size_t n = 0;
    utf8proc_ssize_t k;

    if (cp < 0x80) {
        if (cap < 1)
            return 0;
        out[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        return 1;
    }
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC) { /* typographic apostrophes */
        if (cap < 1)
            return 0;
        out[0] = '\'';
        return 1;
    }
    k = utf8proc_decompose_char(
        cp, buf, 8, UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK, &bound);
    if (k < 0 || k > 8)
        return -1;
    for (utf8proc_ssize_t i = 0; i < k; i++) {
        utf8proc_ssize_t m = utf8proc_encode_char(buf[i], enc);
        if (m <= 0 || n + (size_t)m > cap)
            return 0;
        memcpy(out + n, enc, (size_t)m);
        n += (size_t)m;
    }
    return (int)n;
}

enum cp_class pii_classify_slow(int32_t cp)
{
    if (cp < 0)
        return C_BAD;
    if (cp < 0x80)
        return (enum cp_class)pii_ascii_class[cp];
    if (cp == 0x2019 || cp == 0x02BC || cp == 0x2010 || cp == 0x2011)
        return C_INNER;
    if (cp == 0x2028 || cp == 0x2029 || cp == 0x85)
        return C_NL;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
        return C_MARK;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
        return C_SPACE;
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return C_NL;
    default:
        return C_OTHER;
    }
}

bool pii_is_upper_slow(int32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z';
    return utf8proc_category(cp) == UTF8PROC_CATEGORY_LU ||
           utf8proc_category(cp) == UTF8PROC_CATEGORY_LT;
}

/* Each entry holds what the functions above answer, so that a lookup
 * answers the same. */
static void build_one(int32_t cp, struct pii_cp_info *ci)
{
    char buf[32];
    int n = pii_fold_cp_slow(cp, buf, sizeof(buf));
    ci->cls = (uint8_t)pii_classify_slow(cp);
    ci->upper = pii_is_upper_slow(cp);
    if (n < 0) {
        ci->n = -1;
    } else if (n == 0 || (size_t)n > sizeof(ci->fold)) {
        ci->n = PII_CP_SLOW;
    } else {
        ci->n = (int8_t)n;
        memcpy(ci->fold, buf, (size_t)n);
    }
}

static void build(void)
{
    size_t k = 0;
    for (int32_t cp = 0x80; cp < PII_CP_TWO_END; cp++)
        build_one(cp, &pii_cp_table[k++]);
    for (int32_t cp = PII_CP_PUNCT_LO; cp < PII_CP_PUNCT_END; cp++)
        build_one(cp, &pii_cp_table[k++]);
}

void pii_chars_init(void)
{
    (void)pthread_once(&built, build);
}
