/* Tokenization for every script: words for space-delimited scripts, whole
 * runs for scripts written without spaces (split into characters later by
 * the featurizer), and numbers and phone-like strings as shape tokens. */
#include <string.h>
#include <utf8proc.h>

#include "text/internal.h"

enum cls { C_SEP, C_LETTER, C_MARK, C_DIGIT, C_UNSPACED };

static int is_unspaced(int32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F) ||
           (cp >= 0x0E00 && cp <= 0x0EFF) || (cp >= 0x1780 && cp <= 0x17FF) ||
           (cp >= 0x1000 && cp <= 0x109F) || (cp >= 0x3005 && cp <= 0x3007);
}

static enum cls classify(int32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
            return C_LETTER;
        if (cp >= '0' && cp <= '9')
            return C_DIGIT;
        return C_SEP;
    }
    if (is_unspaced(cp))
        return C_UNSPACED;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    default:
        return C_SEP;
    }
}

static const char *const num_shapes[] = {"<num1>", "<num2>", "<num3>", "<num4>", "<num5+>"};

struct cursor {
    const unsigned char *s;
    size_t n;
};

static inline enum cls cls_at(const struct cursor *c, size_t i, size_t *len)
{
    int32_t cp;
    unsigned char b = c->s[i];
    if (b < 0x80) { /* the common case, without decoding */
        *len = 1;
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ? C_LETTER
               : b >= '0' && b <= '9'                           ? C_DIGIT
                                                                : C_SEP;
    }
    *len = parley__utf8_decode(c->s + i, c->n - i, &cp);
    return classify(cp);
}

/* Phone-like: optional '+', then digits and single separators (space - .),
 * with parentheses allowed anywhere between them ("+1 (555) 123-4567"), at
 * least 7 digits, ending on a digit. Returns the span length. */
static size_t phone_span(const struct cursor *c, size_t i, size_t *ndigits)
{
    size_t j = i, end = i, digits = 0;
    int last_sep = 0;

    if (j < c->n && c->s[j] == '+')
        j++;
    while (j < c->n) {
        unsigned char ch = c->s[j];
        if (ch >= '0' && ch <= '9') {
            digits++;
            j++;
            end = j;
            last_sep = 0;
        } else if (ch == '(' || ch == ')' || ((ch == ' ' || ch == '-' || ch == '.') && !last_sep)) {
            last_sep = ch != ')' && ch != '(';
            j++;
        } else {
            break;
        }
    }
    *ndigits = digits;
    return end - i;
}

static size_t digit_run(const struct cursor *c, size_t i)
{
    size_t j = i;
    while (j < c->n && c->s[j] >= '0' && c->s[j] <= '9')
        j++;
    return j - i;
}

/* A date such as 2024-01-15, 15.01.2024 or 1/2/2024 starts at i: three
 * digit groups with the same separator, the first or last of 4 digits and
 * the others of 1 or 2. Dates are numbers, not phones. */
static int date_at(const struct cursor *c, size_t i)
{
    size_t g[3], j = i;
    unsigned char sep = 0;

    for (int k = 0; k < 3; k++) {
        g[k] = digit_run(c, j);
        j += g[k];
        if (g[k] == 0)
            return 0;
        if (k == 2)
            break;
        if (j >= c->n || (c->s[j] != '-' && c->s[j] != '.' && c->s[j] != '/') ||
            (sep && c->s[j] != sep))
            return 0;
        sep = c->s[j++];
    }
    if (g[0] == 4)
        return g[1] <= 2 && g[2] <= 2;
    return g[0] <= 2 && g[1] <= 2 && g[2] == 4;
}

static void emit(parley_token *toks, size_t max, size_t *count, const char *text, size_t len,
                 size_t start, size_t end, parley_token_kind kind)
{
    if (*count < max) {
        parley_token *t = &toks[*count];
        t->text = text;
        t->len = len;
        t->start = start;
        t->end = end;
        t->kind = kind;
    }
    (*count)++;
}

void parley_text_tokenize(const char *str, size_t n, parley_token *toks, size_t max, size_t *count)
{
    struct cursor c = {(const unsigned char *)str, n};
    size_t i = 0, len;

    *count = 0;
    while (i < n) {
        enum cls k = cls_at(&c, i, &len);
        size_t start = i;

        if (k == C_SEP && !((c.s[i] == '+' || c.s[i] == '(') && i + 1 < n && c.s[i + 1] >= '0' &&
                            c.s[i + 1] <= '9')) {
            i += len;
            continue;
        }
        if (k == C_DIGIT || c.s[i] == '+' || c.s[i] == '(') {
            size_t digits = 0, span = 0;
            if (c.s[i] == '+' || ((c.s[i] == '(' || (c.s[i] >= '0' && c.s[i] <= '9')) &&
                                  !date_at(&c, c.s[i] == '(' ? i + 1 : i)))
                span = phone_span(&c, i, &digits);
            if (digits >= 7) {
                emit(toks, max, count, "<phone>", 7, start, start + span, PARLEY_TOKEN_PHONE);
                i += span;
                continue;
            }
            if (c.s[i] == '+' || c.s[i] == '(') {
                i++;
                continue;
            }
        }
        if (k == C_DIGIT) {
            /* A number: digits with single , or . between digits. A letter
             * straight after makes it a word instead ("5g", "2gb"). */
            size_t j = i, digits = 0;
            enum cls kk;
            while (j < n) {
                kk = cls_at(&c, j, &len);
                if (kk == C_DIGIT) {
                    digits++;
                    j += len;
                } else if ((c.s[j] == ',' || c.s[j] == '.') && j + 1 < n && c.s[j + 1] >= '0' &&
                           c.s[j + 1] <= '9') {
                    j++;
                } else {
                    break;
                }
            }
            kk = j < n ? cls_at(&c, j, &len) : C_SEP;
            if (kk != C_LETTER && kk != C_MARK) {
                size_t shape = digits >= 5 ? 4 : digits > 0 ? digits - 1 : 0;
                emit(toks, max, count, num_shapes[shape], strlen(num_shapes[shape]), start, j,
                     PARLEY_TOKEN_NUMBER);
                i = j;
                continue;
            }
            k = C_LETTER;
        }
        if (k == C_UNSPACED) {
            while (i < n) {
                enum cls kk = cls_at(&c, i, &len);
                if (kk != C_UNSPACED && kk != C_MARK)
                    break;
                i += len;
            }
            emit(toks, max, count, str + start, i - start, start, i, PARLEY_TOKEN_UNSPACED);
            continue;
        }
        /* A word: letters, combining marks and digits. */
        while (i < n) {
            enum cls kk = cls_at(&c, i, &len);
            if (kk != C_LETTER && kk != C_MARK && kk != C_DIGIT)
                break;
            i += len;
        }
        if (i == start) {
            i += len;
            continue;
        }
        emit(toks, max, count, str + start, i - start, start, i, PARLEY_TOKEN_WORD);
    }
}
