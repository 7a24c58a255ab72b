/* The number-shaped entity matchers: dates (ISO, numeric in the local
 * order, with month names in four languages), phone numbers as people type
 * them, sums of money and data amounts (digits or spelled-out small
 * numbers). Each pass walks the token stream once and looks at most a
 * dozen tokens ahead, so the work is linear in the text. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nlu/entities_internal.h"

/* ----- numbers ----------------------------------------------------- */

struct word_num {
    const char *w;
    double v;
};

/* Small spelled-out numbers: enough for "deux gigas", "medio giga",
 * "half a gig". "a"/"an"/"un" only count before a unit (callers check). */
static const struct word_num spelled[] = {
    {"a", 1},       {"an", 1},       {"one", 1},     {"un", 1},      {"une", 1},     {"uno", 1},
    {"una", 1},     {"ein", 1},      {"eine", 1},    {"einen", 1},   {"two", 2},     {"deux", 2},
    {"dos", 2},     {"zwei", 2},     {"three", 3},   {"trois", 3},   {"tres", 3},    {"drei", 3},
    {"four", 4},    {"quatre", 4},   {"cuatro", 4},  {"vier", 4},    {"five", 5},    {"cinq", 5},
    {"cinco", 5},   {"funf", 5},     {"fuenf", 5},   {"six", 6},     {"seis", 6},    {"sechs", 6},
    {"ten", 10},    {"dix", 10},     {"diez", 10},   {"zehn", 10},   {"twenty", 20}, {"vingt", 20},
    {"veinte", 20}, {"zwanzig", 20}, {"half", 0.5},  {"medio", 0.5}, {"media", 0.5}, {"demi", 0.5},
    {"halb", 0.5},  {"halbes", 0.5}, {"halbe", 0.5},
};

static double num_value(const struct ent_tok *t)
{
    double v = 0;
    for (size_t k = 0; k < t->flen; k++)
        v = v * 10 + (t->f[k] - '0');
    /* Digits past the stored prefix still scale the value. */
    for (size_t k = t->flen; k < t->ndig && v < 1e300; k++)
        v *= 10;
    return v;
}

/* Token j is separator `sep` glued between two numbers: "1.5", "1,250". */
static bool sep_num(const struct ent_ctx *c, size_t j, unsigned sep)
{
    return j + 1 < c->nt && parley__ent_adjacent(c, j) && parley__ent_adjacent(c, j + 1) &&
           parley__ent_punct(c, j, sep) && c->t[j + 1].kind == ENT_NUM && !c->t[j + 1].used;
}

/* Parses a number at token i: digits with an optional decimal part
 * ("1.5", "1,5", "65,50"), thousands ("1,500" in English), or a spelled
 * word. On success stores the value and the token after it. */
static bool parse_number(const struct ent_ctx *c, size_t i, double *v, size_t *next)
{
    const struct ent_tok *t = &c->t[i];

    if (i >= c->nt || t->used)
        return false;
    if (t->kind == ENT_NUM) {
        double x = num_value(t);
        size_t j = i + 1;
        if (t->ndig > 15)
            return false;
        /* Thousands groups ("1,250" in English), then a decimal part. */
        while (j + 1 < c->nt && sep_num(c, j, ',') && c->t[j + 1].ndig == 3 &&
               (c->lang == ENT_EN || c->lang == ENT_ANY) && x < 1e12) {
            x = x * 1000 + num_value(&c->t[j + 1]);
            j += 2;
        }
        if (j + 1 < c->nt && (sep_num(c, j, '.') || sep_num(c, j, ','))) {
            const struct ent_tok *fr = &c->t[j + 1];
            if (fr->ndig > 15)
                return false;
            x += num_value(fr) / pow(10, (double)fr->ndig);
            j += 2;
        }
        *v = x;
        *next = j;
        return true;
    }
    if (t->kind != ENT_WORD)
        return false;
    for (size_t k = 0; k < sizeof(spelled) / sizeof(spelled[0]); k++) {
        if (!parley__ent_is(c, i, spelled[k].w))
            continue;
        *v = spelled[k].v;
        *next = i + 1;
        /* "half a gig", "un demi giga" */
        if (spelled[k].v == 0.5 && i + 1 < c->nt &&
            (parley__ent_is(c, i + 1, "a") || parley__ent_is(c, i + 1, "an")))
            *next = i + 2;
        else if (spelled[k].v == 1 && i + 1 < c->nt &&
                 (parley__ent_is(c, i + 1, "demi") || parley__ent_is(c, i + 1, "half"))) {
            *v = 0.5;
            *next = i + 2;
        }
        return true;
    }
    return false;
}

/* ----- data amounts ------------------------------------------------ */

struct unit {
    const char *w;
    double mb;
    enum ent_lang only; /* ENT_ANY: every language */
};

static const struct unit data_units[] = {
    {"gb", 1024, ENT_ANY},
    {"gig", 1024, ENT_ANY},
    {"gigs", 1024, ENT_ANY},
    {"giga", 1024, ENT_ANY},
    {"gigas", 1024, ENT_ANY},
    {"gigabyte", 1024, ENT_ANY},
    {"gigabytes", 1024, ENT_ANY},
    {"gigaoctet", 1024, ENT_ANY},
    {"gigaoctets", 1024, ENT_ANY},
    {"go", 1024, ENT_FR},
    {"mb", 1, ENT_ANY},
    {"meg", 1, ENT_ANY},
    {"megs", 1, ENT_ANY},
    {"mega", 1, ENT_ANY},
    {"megas", 1, ENT_ANY},
    {"megabyte", 1, ENT_ANY},
    {"megabytes", 1, ENT_ANY},
    {"megaoctet", 1, ENT_ANY},
    {"megaoctets", 1, ENT_ANY},
    {"mo", 1, ENT_FR},
    {"tb", 1048576, ENT_ANY},
    {"terabyte", 1048576, ENT_ANY},
    {"terabytes", 1048576, ENT_ANY},
    {"to", 1048576, ENT_FR},
};

/* "go", "mo" and "to" are units only in French, or with any language
 * for "go" and "mo" (English "to" is far too common). */
static bool unit_allowed(const struct ent_ctx *c, const struct unit *u)
{
    if (u->only == ENT_ANY || c->lang == u->only)
        return true;
    return c->lang == ENT_ANY && strcmp(u->w, "to") != 0;
}

void parley__ent_data(struct ent_ctx *c)
{
    for (size_t i = 0; i < c->nt; i++) {
        double v = 0;
        size_t j = 0;
        if (!parse_number(c, i, &v, &j) || j >= c->nt || c->t[j].used)
            continue;
        for (size_t k = 0; k < sizeof(data_units) / sizeof(data_units[0]); k++) {
            char val[32];
            double mb;
            if (!parley__ent_is(c, j, data_units[k].w) || !unit_allowed(c, &data_units[k]))
                continue;
            mb = round(v * data_units[k].mb);
            if (mb < 1 || mb > 1e12)
                break;
            (void)snprintf(val, sizeof(val), "%.0f", mb);
            parley__ent_emit(c, PARLEY_ENTITY_DATA_AMOUNT, i, j + 1, val, mb);
            i = j;
            break;
        }
    }
}

/* ----- money ------------------------------------------------------- */

struct currency {
    const char *w; /* folded word, or NULL for a symbol */
    unsigned cp;   /* symbol code point */
    const char *code;
};

static const struct currency currencies[] = {
    {NULL, '$', "USD"},    {NULL, 0x20AC, "EUR"}, {NULL, 0xA3, "GBP"},   {"dollar", 0, "USD"},
    {"dollars", 0, "USD"}, {"dolar", 0, "USD"},   {"dolares", 0, "USD"}, {"usd", 0, "USD"},
    {"bucks", 0, "USD"},   {"buck", 0, "USD"},    {"euro", 0, "EUR"},    {"euros", 0, "EUR"},
    {"eur", 0, "EUR"},     {"pound", 0, "GBP"},   {"pounds", 0, "GBP"},  {"gbp", 0, "GBP"},
    {"chf", 0, "CHF"},     {"franken", 0, "CHF"},
};

static const char *currency_at(const struct ent_ctx *c, size_t i, bool symbol_only)
{
    if (i >= c->nt || c->t[i].used)
        return NULL;
    for (size_t k = 0; k < sizeof(currencies) / sizeof(currencies[0]); k++) {
        const struct currency *cu = &currencies[k];
        if (cu->w ? (!symbol_only && parley__ent_is(c, i, cu->w)) : parley__ent_punct(c, i, cu->cp))
            return cu->code;
    }
    return NULL;
}

static void emit_money(struct ent_ctx *c, size_t from, size_t to, double v, const char *code)
{
    char val[64];
    if (v <= 0 || v >= 1e12)
        return;
    (void)snprintf(val, sizeof(val), "%.2f %s", v, code);
    parley__ent_emit(c, PARLEY_ENTITY_MONEY, from, to, val, v);
}

void parley__ent_money(struct ent_ctx *c)
{
    for (size_t i = 0; i < c->nt; i++) {
        const char *code;
        double v = 0;
        size_t j = 0;
        if (c->t[i].used)
            continue;
        /* "$65", "€ 20" */
        code = currency_at(c, i, true);
        if (code && i + 1 < c->nt && c->t[i + 1].kind == ENT_NUM &&
            parse_number(c, i + 1, &v, &j)) {
            emit_money(c, i, j, v, code);
            i = j - 1;
            continue;
        }
        /* "65 dollars", "65,50 €", "15 EUR" */
        if (parse_number(c, i, &v, &j) && (code = currency_at(c, j, false)) != NULL) {
            emit_money(c, i, j + 1, v, code);
            i = j;
        }
    }
}

/* ----- phone numbers ----------------------------------------------- */

static bool phone_sep(const struct ent_ctx *c, size_t i)
{
    return parley__ent_punct(c, i, '-') || parley__ent_punct(c, i, '.') ||
           parley__ent_punct(c, i, '(') || parley__ent_punct(c, i, ')');
}

/* Tries a phone number starting at token i; returns the token after it,
 * or i if there is none. */
static size_t phone_at(struct ent_ctx *c, size_t i)
{
    char digits[20];
    size_t nd = 0, groups = 0, seps = 0, last_num = 0, j = i, first_group = 0;
    bool plus = false;

    if (parley__ent_punct(c, i, '+')) {
        plus = true;
        j++;
        if (j >= c->nt || !parley__ent_adjacent(c, j) || c->t[j].kind != ENT_NUM)
            return i;
    }
    for (; j < c->nt && !c->t[j].used; j++) {
        if (j > i && c->t[j].start - c->t[j - 1].end > 2)
            break;
        if (c->t[j].kind == ENT_NUM) {
            if (nd + c->t[j].ndig > 15)
                return i;
            memcpy(digits + nd, c->t[j].f, c->t[j].ndig);
            nd += c->t[j].ndig;
            if (groups == 0)
                first_group = c->t[j].ndig;
            groups++;
            seps = 0;
            last_num = j;
        } else if (phone_sep(c, j) && seps < 2 && (groups > 0 || parley__ent_punct(c, j, '('))) {
            seps++;
        } else {
            break;
        }
    }
    if (groups == 0)
        return i;
    /* Followed by a decimal part or a letter: a quantity, not a phone. */
    if (last_num + 1 < c->nt && parley__ent_adjacent(c, last_num + 1) &&
        c->t[last_num + 1].kind == ENT_WORD)
        return i;
    if (plus ? nd < 8 : (groups == 1 ? nd < 9 : (nd < 10 && !(nd == 7 && first_group == 3))))
        return i;
    if (nd < 7)
        return i;
    {
        char val[24];
        (void)snprintf(val, sizeof(val), "%s%.*s", plus ? "+" : "", (int)nd, digits);
        parley__ent_emit(c, PARLEY_ENTITY_PHONE, i, last_num + 1, val, 0);
    }
    return last_num + 1;
}

void parley__ent_phones(struct ent_ctx *c)
{
    for (size_t i = 0; i < c->nt; i++) {
        size_t j;
        if (c->t[i].used || !(c->t[i].kind == ENT_NUM || parley__ent_punct(c, i, '+') ||
                              parley__ent_punct(c, i, '(')))
            continue;
        /* Only at the start of a digit run, not inside "1985-03-07". */
        if (i > 0 && parley__ent_adjacent(c, i) &&
            (c->t[i - 1].kind == ENT_NUM || c->t[i - 1].kind == ENT_WORD))
            continue;
        j = phone_at(c, i);
        if (j > i)
            i = j - 1;
    }
}

/* ----- dates ------------------------------------------------------- */

struct month_name {
    const char *w;
    int m;
};

static const struct month_name months[] = {
    {"january", 1},    {"jan", 1},        {"janvier", 1},   {"janv", 1},      {"enero", 1},
    {"januar", 1},     {"janner", 1},     {"february", 2},  {"feb", 2},       {"fevrier", 2},
    {"fevr", 2},       {"febrero", 2},    {"februar", 2},   {"march", 3},     {"mar", 3},
    {"mars", 3},       {"marzo", 3},      {"marz", 3},      {"maerz", 3},     {"april", 4},
    {"apr", 4},        {"avril", 4},      {"avr", 4},       {"abril", 4},     {"may", 5},
    {"mai", 5},        {"mayo", 5},       {"june", 6},      {"jun", 6},       {"juin", 6},
    {"junio", 6},      {"juni", 6},       {"july", 7},      {"jul", 7},       {"juillet", 7},
    {"juil", 7},       {"julio", 7},      {"juli", 7},      {"august", 8},    {"aug", 8},
    {"aout", 8},       {"agosto", 8},     {"september", 9}, {"sep", 9},       {"sept", 9},
    {"septembre", 9},  {"septiembre", 9}, {"setiembre", 9}, {"october", 10},  {"oct", 10},
    {"octobre", 10},   {"octubre", 10},   {"oktober", 10},  {"november", 11}, {"nov", 11},
    {"novembre", 11},  {"noviembre", 11}, {"december", 12}, {"dec", 12},      {"decembre", 12},
    {"diciembre", 12}, {"dezember", 12},
};

static int month_at(const struct ent_ctx *c, size_t i)
{
    if (i >= c->nt || c->t[i].used || c->t[i].kind != ENT_WORD)
        return 0;
    for (size_t k = 0; k < sizeof(months) / sizeof(months[0]); k++)
        if (parley__ent_is(c, i, months[k].w))
            return months[k].m;
    return 0;
}

static bool valid_date(int y, int m, int d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    if (m == 2 && d == 29 && y > 0 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    return y == 0 || (y >= 1000 && y <= 2999);
}

static void emit_date(struct ent_ctx *c, size_t from, size_t to, int y, int m, int d)
{
    char val[40];
    if (y > 0)
        (void)snprintf(val, sizeof(val), "%04d-%02d-%02d", y, m, d);
    else
        (void)snprintf(val, sizeof(val), "--%02d-%02d", m, d);
    parley__ent_emit(c, PARLEY_ENTITY_DATE, from, to, val, (double)y * 10000 + m * 100 + d);
}

static bool num_tok(const struct ent_ctx *c, size_t i, size_t min_dig, size_t max_dig, int *v)
{
    if (i >= c->nt || c->t[i].used || c->t[i].kind != ENT_NUM || c->t[i].ndig < min_dig ||
        c->t[i].ndig > max_dig)
        return false;
    *v = (int)num_value(&c->t[i]);
    return true;
}

/* "1985-03-07", "03/07/1985", "07.03.1985", "7/3/85": five adjacent tokens
 * with the same separator. */
static size_t numeric_date(struct ent_ctx *c, size_t i)
{
    int a = 0, b = 0, y = 0, m, d;
    unsigned sep;

    if (i + 4 >= c->nt || c->t[i + 1].kind != ENT_PUNCT)
        return i;
    sep = c->t[i + 1].cp;
    if (sep != '-' && sep != '/' && sep != '.')
        return i;
    for (size_t k = i + 1; k <= i + 4; k++)
        if (!parley__ent_adjacent(c, k))
            return i;
    if (!parley__ent_punct(c, i + 3, sep))
        return i;
    /* "10.0.0.1" is not a date. */
    if (i + 6 < c->nt && parley__ent_adjacent(c, i + 5) && parley__ent_punct(c, i + 5, sep) &&
        c->t[i + 6].kind == ENT_NUM)
        return i;
    if (num_tok(c, i, 4, 4, &y)) {
        if (!num_tok(c, i + 2, 1, 2, &m) || !num_tok(c, i + 4, 1, 2, &d))
            return i;
    } else {
        if (!num_tok(c, i, 1, 2, &a) || !num_tok(c, i + 2, 1, 2, &b))
            return i;
        if (num_tok(c, i + 4, 4, 4, &y)) {
            /* four-digit year */
        } else if (num_tok(c, i + 4, 2, 2, &y)) {
            y += y <= 29 ? 2000 : 1900;
        } else {
            return i;
        }
        /* Month first in English (and for any language when the day
         * cannot be a month); day first elsewhere. */
        if ((c->lang == ENT_EN && a <= 12) || b > 12) {
            m = a;
            d = b;
        } else {
            d = a;
            m = b;
        }
    }
    if (!valid_date(y, m, d))
        return i;
    emit_date(c, i, i + 5, y, m, d);
    return i + 5;
}

/* A day number at token i, with its suffix ("7th", "1er", "7.", "7º").
 * Stores the token after it. */
static bool day_at(const struct ent_ctx *c, size_t i, int *d, size_t *next)
{
    size_t j = i + 1;
    if (!num_tok(c, i, 1, 2, d) || *d < 1 || *d > 31)
        return false;
    if (j < c->nt && parley__ent_adjacent(c, j) && !c->t[j].used &&
        (parley__ent_is(c, j, "st") || parley__ent_is(c, j, "nd") || parley__ent_is(c, j, "rd") ||
         parley__ent_is(c, j, "th") || parley__ent_is(c, j, "er") || parley__ent_is(c, j, "o") ||
         parley__ent_punct(c, j, '.') || parley__ent_punct(c, j, 0xBA)))
        j++;
    *next = j;
    return true;
}

/* An optional year after a month name: [","] ["de"|"of"] YYYY. */
static bool year_at(const struct ent_ctx *c, size_t i, int *y, size_t *next)
{
    size_t j = i;
    if (j < c->nt && parley__ent_punct(c, j, ','))
        j++;
    if (j < c->nt && (parley__ent_is(c, j, "de") || parley__ent_is(c, j, "of")))
        j++;
    if (!num_tok(c, j, 4, 4, y))
        return false;
    *next = j + 1;
    return true;
}

/* "7 mars 1985", "7 de marzo de 1985", "7. März 1985", "7th of March
 * 1985", "le 1er mai"; "March 7, 1985" (the year is required there: "may 5"
 * is too often not a date). */
static size_t named_date(struct ent_ctx *c, size_t i)
{
    int d = 0, m, y = 0;
    size_t j = 0, k = 0;

    if (day_at(c, i, &d, &j)) {
        if (j < c->nt && (parley__ent_is(c, j, "of") || parley__ent_is(c, j, "de")))
            j++;
        m = month_at(c, j);
        if (!m)
            return i;
        k = j + 1;
        if (!year_at(c, k, &y, &k)) {
            y = 0;
            k = j + 1;
        }
    } else if ((m = month_at(c, i)) != 0) {
        if (!day_at(c, i + 1, &d, &j) || !year_at(c, j, &y, &k))
            return i;
    } else {
        return i;
    }
    if (!valid_date(y, m, d) || !parley__ent_free_span(c, i, k))
        return i;
    emit_date(c, i, k, y, m, d);
    return k;
}

void parley__ent_dates(struct ent_ctx *c)
{
    for (size_t i = 0; i < c->nt; i++) {
        size_t j;
        if (c->t[i].used)
            continue;
        /* Not in the middle of "12/1985-03-07" or "x1985". */
        if (i > 0 && parley__ent_adjacent(c, i) &&
            (c->t[i - 1].kind != ENT_PUNCT || parley__ent_punct(c, i - 1, '/') ||
             parley__ent_punct(c, i - 1, '-') || parley__ent_punct(c, i - 1, '.')))
            continue;
        j = numeric_date(c, i);
        if (j == i)
            j = named_date(c, i);
        if (j > i)
            i = j - 1;
    }
}
