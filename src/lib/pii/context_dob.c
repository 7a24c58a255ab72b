/* Dates of birth: a date written the way people write one in en, fr, es or
 * de (numeric with / . or -, ISO, or with a month name) with a birth word a
 * few words before it. A date that could be a birth date but has no such
 * word is reported too, below the default threshold.
 *
 * The date grammar is a small one of its own rather than the nlu entity
 * parser's: that one takes whole texts of at most 8 KB, while this one reads
 * the token stream the other context detectors share. */
#include "pii/context.h"

/* Tokens looked at before a date for a birth word. */
#define CUE_BEFORE 8

static bool num(const struct ctx_scan *s, size_t i, size_t min_dig, size_t max_dig, int *v)
{
    int x = 0;
    if (i >= s->nt || s->t[i].kind != CTX_NUM || s->t[i].flen < min_dig || s->t[i].flen > max_dig)
        return false;
    for (size_t k = 0; k < s->t[i].flen; k++)
        x = x * 10 + (s->t[i].fold[k] - '0');
    *v = x;
    return true;
}

/* A day of the month at token i ("7", "7th", "1er", "7.", "7º"); stores the
 * token after it in *next. */
static bool day_at(const struct ctx_scan *s, size_t i, size_t *next)
{
    const struct ctx_tok *t;
    int d = 0;
    size_t k = 0;
    if (i >= s->nt)
        return false;
    t = &s->t[i];
    if (num(s, i, 1, 2, &d)) {
        *next = i + 1;
        if (ctx_adjacent(s, i + 1) && (ctx_punct(s, i + 1, '.') || ctx_is(s, i + 1, "º")))
            *next = i + 2;
        return d >= 1 && d <= 31;
    }
    if (t->kind != CTX_WORD)
        return false;
    while (k < t->flen && k < 2 && t->fold[k] >= '0' && t->fold[k] <= '9')
        d = d * 10 + (t->fold[k++] - '0');
    if (k == 0 || d < 1 || d > 31)
        return false;
    {
        const char *suf = t->fold + k;
        static const char *const sufs[] = {"st", "nd", "rd", "th", "er", "re", "o", "a", "º"};
        for (size_t j = 0; j < sizeof(sufs) / sizeof(sufs[0]); j++) {
            if (strcmp(suf, sufs[j]) == 0) {
                *next = i + 1;
                return true;
            }
        }
    }
    return false;
}

/* An optional year after a month: [","] ["de"|"of"] YYYY. */
static bool year_at(const struct ctx_scan *s, size_t i, int *y, size_t *last)
{
    size_t j = i;
    if (ctx_punct(s, j, ','))
        j++;
    if (ctx_is(s, j, "de") || ctx_is(s, j, "of"))
        j++;
    if (!num(s, j, 4, 4, y) || *y < 1000 || *y > 2999)
        return false;
    *last = j;
    return true;
}

/* "1985-06-15", "15/06/1985", "15.06.1985", "6/15/85": five adjacent tokens
 * with one separator; either order of day and month. */
static bool numeric_date(const struct ctx_scan *s, size_t i, size_t *last, int *year)
{
    int a, b, c;
    char sep;
    if (i + 4 >= s->nt || s->t[i + 1].kind != CTX_PUNCT)
        return false;
    sep = s->t[i + 1].fold[0];
    if (sep != '/' && sep != '.' && sep != '-')
        return false;
    for (size_t k = i + 1; k <= i + 4; k++)
        if (!ctx_adjacent(s, k))
            return false;
    if (!ctx_punct(s, i + 3, sep))
        return false;
    /* Not a part of a longer dotted or dashed number (an address, a version). */
    if (ctx_adjacent(s, i + 5) && s->t[i + 5].kind == CTX_PUNCT && s->t[i + 5].fold[0] == sep &&
        i + 6 < s->nt && s->t[i + 6].kind == CTX_NUM)
        return false;
    if (num(s, i, 4, 4, &a)) {
        if (!num(s, i + 2, 1, 2, &b) || !num(s, i + 4, 1, 2, &c) || b < 1 || b > 12 || c < 1 ||
            c > 31)
            return false;
        *year = a;
    } else {
        if (!num(s, i, 1, 2, &a) || !num(s, i + 2, 1, 2, &b))
            return false;
        if (num(s, i + 4, 4, 4, &c)) {
            *year = c;
        } else if (num(s, i + 4, 2, 2, &c)) {
            *year = c + (c <= 29 ? 2000 : 1900);
        } else {
            return false;
        }
        if (a < 1 || b < 1 || a > 31 || b > 31 || (a > 12 && b > 12))
            return false;
    }
    *last = i + 4;
    return true;
}

/* "15 June 1985", "15 juin 1985", "15 de junio de 1985", "15. Juni 1985",
 * "1er mai 1990", "June 15, 1985", "June 1985" (year 0 when absent). */
static bool named_date(const struct ctx_scan *s, size_t i, size_t *last, int *year)
{
    size_t j, k;
    *year = 0;
    if (day_at(s, i, &j)) {
        if (ctx_is(s, j, "of") || ctx_is(s, j, "de"))
            j++;
        if (j >= s->nt || !(s->t[j].lex & LX_MONTH))
            return false;
        *last = j;
        if (year_at(s, j + 1, year, &k))
            *last = k;
        return true;
    }
    if (i >= s->nt || !(s->t[i].lex & LX_MONTH))
        return false;
    j = i + 1;
    if (ctx_punct(s, j, '.'))
        j++;
    if (day_at(s, j, &k) && s->t[j].kind != CTX_PUNCT) {
        *last = k - 1;
        if (year_at(s, k, year, &k))
            *last = k;
        return true;
    }
    if (year_at(s, j, year, &k)) {
        *last = k;
        return true;
    }
    return false;
}

/* A birth word among the tokens before i: a listed one, "né(e)" with its
 * accent (plain "ne" is French negation) or "d.o.b". */
static bool cue_before(const struct ctx_scan *s, size_t i)
{
    size_t lo = i > CUE_BEFORE ? i - CUE_BEFORE : 0;
    for (size_t k = i; k-- > lo;) {
        const struct ctx_tok *t = &s->t[k];
        if (t->lex & LX_DOB)
            return true;
        if (ctx_is(s, k, "ne") && t->end - t->start == 3)
            return true;
        if (ctx_is(s, k, "b") && k >= 4 && ctx_is(s, k - 2, "o") && ctx_is(s, k - 4, "d"))
            return true;
    }
    return false;
}

/* A birth word just after the date: "15/06/1985 is my birthday",
 * "1985-06-15 (DOB)", "15. Juni 1985 geboren". */
static bool cue_after(const struct ctx_scan *s, size_t last)
{
    for (size_t k = last + 1; k < s->nt && k <= last + 4; k++) {
        if (s->t[k].lex & LX_DOB)
            return true;
        if (ctx_punct(s, k, '.') || ctx_punct(s, k, '?') || ctx_punct(s, k, '!'))
            return false;
    }
    return false;
}

void pii_ctx_dob(struct ctx_scan *s)
{
    for (size_t i = 0; i < s->nt && !s->oom; i++) {
        size_t last;
        int year = 0;
        bool cue;
        /* Every date starts with a number, a word with digits ("1er") or a
         * month name. Few tokens do: one test of both flags turns away the
         * rest with a branch that is seldom mispredicted (a test of the
         * kind first would be, on every punctuation mark). */
        if (!((s->t[i].shape & SH_DIGIT) | (s->t[i].lex & LX_MONTH)) || s->t[i].kind == CTX_PUNCT)
            continue;
        /* Not inside "12/1985-03-07" or "v1.2.3". */
        if (ctx_adjacent(s, i) && s->t[i - 1].kind != CTX_PUNCT)
            continue;
        if (ctx_adjacent(s, i) && i >= 2 && ctx_adjacent(s, i - 1) && s->t[i - 2].kind == CTX_NUM)
            continue;
        if (!numeric_date(s, i, &last, &year) && !named_date(s, i, &last, &year))
            continue;
        cue = cue_before(s, i) || cue_after(s, last);
        if (cue)
            pii_ctx_emit(s, PARLEY_PII_DOB, i, last, year ? 0.9f : 0.8f, "dob.context");
        else if (year >= 1900 && year <= 2015)
            pii_ctx_emit(s, PARLEY_PII_DOB, i, last, 0.35f, "dob.date");
        i = last;
    }
}
