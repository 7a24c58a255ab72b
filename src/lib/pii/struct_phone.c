/* The phone detector's check. The scan proposes any run of digits with
 * single separators (space . - /), parentheses and a leading +; this file
 * splits it into groups and decides by numbering plan: international (+ or
 * 00 and a country code), NANP, the French, Spanish and German national
 * forms (trunk 0), then plain grouped numbers, which need a phone word
 * nearby. Dates, amounts, long runs and values glued to more digits are
 * rejected; cards, IBANs and IMEIs win over it by confidence. */
#include <pthread.h>
#include <string.h>

#include "pii/structured.h"

#define MAX_GROUPS 12

struct groups {
    size_t at[MAX_GROUPS];  /* byte offset of each group's first digit */
    size_t len[MAX_GROUPS]; /* its digit count */
    char sep[MAX_GROUPS];   /* separator before it: 0, ' ', '.', '-', '/', '(' */
    int paren[MAX_GROUPS];  /* 1 when it is written "(123)" */
    size_t n;
    int plus; /* a '+' before the first group */
};

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Splits t[from..to) into digit groups; 0 when it is not one number (two
 * separators in a row, unbalanced parentheses, too many groups). */
static int split(const unsigned char *t, size_t from, size_t to, struct groups *g)
{
    size_t i = from;
    char sep = 0;
    int open = 0;

    memset(g, 0, sizeof(*g));
    if (i < to && t[i] == '+') {
        g->plus = 1;
        i++;
    }
    while (i < to) {
        unsigned char c = t[i];
        if (is_digit(c)) {
            size_t s = i;
            if (g->n == MAX_GROUPS)
                return 0;
            while (i < to && is_digit(t[i]))
                i++;
            g->at[g->n] = s;
            g->len[g->n] = i - s;
            g->sep[g->n] = sep;
            g->paren[g->n] = open;
            g->n++;
            sep = 0;
            if (open) {
                if (i >= to || t[i] != ')')
                    return 0;
                open = 0;
                i++;
                if (i < to && (t[i] == ' ' || t[i] == '-' || t[i] == '.'))
                    i++;
                sep = ' ';
            }
            continue;
        }
        if (c == '(' && !open && sep != '(' && (g->n == 0 || sep)) {
            open = 1;
            sep = '(';
        } else if ((c == ' ' || c == '.' || c == '-' || c == '/') && !sep && g->n > 0) {
            sep = (char)c;
        } else {
            return 0;
        }
        i++;
    }
    return g->n > 0 && !open;
}

static unsigned num(const unsigned char *t, size_t at, size_t n)
{
    unsigned v = 0;

    for (size_t i = 0; i < n && i < 9; i++)
        v = v * 10 + (unsigned)(t[at + i] - '0');
    return v;
}

/* d.m.y, m/d/y, y-m-d and the like: three groups that read as a date. */
static int looks_like_date(const unsigned char *t, const struct groups *g, size_t g0)
{
    size_t k = g->n - g0;
    const size_t *l = g->len + g0;
    unsigned a, b, c;

    if (k != 3 || g->sep[g0 + 1] == ' ')
        return 0;
    a = num(t, g->at[g0], l[0]);
    b = num(t, g->at[g0 + 1], l[1]);
    c = num(t, g->at[g0 + 2], l[2]);
    if (l[0] == 4 && l[1] <= 2 && l[2] <= 2)
        return b >= 1 && b <= 12 && c >= 1 && c <= 31;
    if (l[0] <= 2 && l[1] <= 2 && (l[2] == 4 || l[2] == 2))
        return a >= 1 && b >= 1 && ((a <= 31 && b <= 12) || (a <= 12 && b <= 31));
    (void)c;
    return 0;
}

/* Words that make a number a phone number: strong ones name the phone,
 * weak ones only say "number" (also said of orders and licences). */
static const char *const phone_words[] = {
    "phone",   "tel",      "tél",        "call",    "mobile", "cell", "fax",      "office",
    "dial",    "sms",      "whatsapp",   "contact", "reach",  "ring", "portable", "appel",
    "joindre", "teléfono", "telefono",   "móvil",   "movil",  "llam", "telefon",  "handy",
    "ruf",     "mobil",    "erreichbar", "fijo",    "fixe",   NULL};
static const char *const weak_words[] = {"number", "numéro", "numero", "número", "nummer", NULL};

/* Next to these a number is part of a postal address. */
static const char *const address_words[] = {
    "apt",     "suite",  "unit",    "box",     "street",    "st.",   "road",   "rd.",
    "lane",    "avenue", "ave",     "rue",     "boulevard", "bd ",   "chemin", "calle",
    "avenida", "plaza",  "straße",  "strasse", "str.",      "weg ",  "platz",  "piso",
    "étage",   "floor",  "court",   "parkway", "drive",     "place", "square", "highway",
    "allée",   "allee",  "impasse", "quai",    "paseo",     "gasse", NULL};

/* Near these a number is more likely a reference than a phone. */
static const char *const ref_words[] = {
    "id",       "order",    "ticket",   "invoice",  "ref",     "serial",   "sku",
    "isbn",     "tracking", "case",     "commande", "facture", "pedido",   "factura",
    "rechnung", "bestell",  "kunden",   "vertrag",  "contrat", "contrato", "contract",
    "dni",      "nif",      "passport", "licen",    NULL};

static const char *const money_words[] = {
    "€",    "$",      "£",     "eur",   "usd",    "gbp",     "dollar",  "euro",   "price",
    "prix", "precio", "preis", "total", "amount", "montant", "importe", "betrag", NULL};

/* The lists pii_phone_check() reads around a number, with their windows;
 * NEAR_* are their bits in pii_near_words()' answer. */
static const struct pii_near near_lists[] = {
    {money_words, 24}, {address_words, 12}, {phone_words, 32}, {ref_words, 24}, {weak_words, 24},
};
enum { NEAR_MONEY = 1, NEAR_ADDRESS = 2, NEAR_PHONE = 4, NEAR_REF = 8, NEAR_WEAK = 16 };
static struct pii_near_set near_set; /* near_lists indexed, once per process */
static pthread_once_t near_once = PTHREAD_ONCE_INIT;

static void near_build(void)
{
    pii_near_set_init(&near_set, near_lists, sizeof(near_lists) / sizeof(near_lists[0]));
}

/* The confidence of groups g0.. as a phone number by plan, before context;
 * 0 when they are not one. */
static float classify(const unsigned char *t, const struct groups *g, size_t g0, int plus)
{
    size_t k = g->n - g0, nd = 0, first = g->at[g0];
    const size_t *l = g->len + g0;
    char seps = 0;
    int mixed = 0, paren = 0;

    for (size_t i = 0; i < k; i++) {
        nd += l[i];
        paren |= g->paren[g0 + i];
        if (i > 0 && g->sep[g0 + i] != '(' && !g->paren[g0 + i]) {
            char s = g->sep[g0 + i];
            if (seps && s && s != seps && !(i > 0 && g->paren[g0 + i - 1]))
                mixed = 1;
            if (!seps && s && !g->paren[g0 + i - 1])
                seps = s;
        }
    }
    if (nd < 6 || nd > 15 || mixed)
        return 0.0F;
    if (plus) {
        /* E.164: country code (never 0) and at most 15 digits */
        if (t[first] == '0' || nd < 8)
            return 0.0F;
        return 0.85F;
    }
    if (k >= 2 && l[0] == 3 && t[first] == '0' && t[first + 1] == '0' && t[first + 2] == '1' &&
        nd == 13)
        return 0.8F; /* 001 + a NANP number, the international prefix spelled out */
    if (k >= 2 && l[0] <= 5 && t[first] == '0' && t[first + 1] == '0' && t[first + 2] != '0' &&
        nd >= 10)
        return 0.75F; /* 00 + country code, as "+" is dialled in Europe */
    for (size_t i = 0; i < k; i++)
        if (l[i] == 1 && !(i == 0 && t[first] == '1' && k >= 4))
            return 0.0F; /* single digits: counts, versions, not a printed phone */
    if (looks_like_date(t, g, g0))
        return 0.0F;
    if (k == 2 && l[0] == 4 && l[1] == 4 && num(t, first, 2) >= 19 && num(t, first, 2) <= 20 &&
        num(t, g->at[g0 + 1], 2) >= 19 && num(t, g->at[g0 + 1], 2) <= 20)
        return 0.0F; /* a span of years */
    if (k >= 2 && seps != ' ' && seps != 0) {
        int thousands = l[0] <= 3;
        for (size_t i = 1; i < k; i++)
            thousands &= l[i] == 3;
        if (thousands && seps == '.')
            return 0.0F; /* 1.234.567 */
    }
    /* NANP: [1-]NXX-NXX-XXXX or (NXX) NXX-XXXX */
    if ((k == 3 && l[0] == 3 && l[1] == 3 && l[2] == 4) ||
        (k == 4 && l[0] == 1 && t[first] == '1' && l[1] == 3 && l[2] == 3 && l[3] == 4)) {
        size_t a = k == 4 ? g->at[g0 + 1] : first, x = g->at[g0 + (k == 4 ? 2 : 1)];
        return t[a] >= '2' && t[x] >= '2' ? 0.8F : 0.65F;
    }
    if (t[first] == '0' && t[first + 1] != '0') {
        /* trunk 0: France 0X XX XX XX XX, Germany 0AAA(A) SSSSSSS... */
        if (nd == 10 && ((k == 5 && l[0] == 2 && l[1] == 2 && l[2] == 2 && l[3] == 2) || k == 1))
            return k == 1 ? 0.6F : 0.85F;
        if (nd >= 9 && nd <= 12)
            return k == 1 ? 0.4F : 0.7F;
        if (nd >= 7)
            return 0.5F;
        return 0.4F;
    }
    if (nd == 9 && t[first] >= '6' && t[first] <= '9') {
        /* Spain: 6XX XXX XXX, 9XX XX XX XX, 91 234 56 78 */
        if (k == 1)
            return 0.35F;
        return 0.7F;
    }
    if (k == 1)
        return nd == 10 ? 0.35F : 0.0F; /* a bare run: only with a phone word */
    if (paren && nd >= 7)
        return 0.65F;
    for (size_t i = 0; i < k; i++)
        if (l[i] == 5)
            return 0.4F; /* five digits: more often a postal code beside a number */
    return nd >= 7 && nd <= 12 ? 0.55F : 0.4F;
}

/* An ISO 4217 code after an amount: "12 345 678 COP". */
static int currency_after(const unsigned char *t, size_t len, size_t end)
{
    size_t i = end + (end < len && t[end] == ' ');

    for (size_t k = 0; k < 3; k++)
        if (i + k >= len || t[i + k] < 'A' || t[i + k] > 'Z')
            return 0;
    return i + 3 == len || !is_alnum(t[i + 3]);
}

/* Groups of one length with one separator (4111 1111 1111 1111): one
 * printed number, so no tail of it is a phone on its own. */
static int uniform(const struct groups *g)
{
    for (size_t i = 1; i < g->n; i++)
        if (g->len[i] != g->len[0] || g->sep[i] != g->sep[1] || g->paren[i])
            return 0;
    return !g->paren[0];
}

/* An extension after the number: " x123", "ext. 12", "#45". Returns its end
 * or `to` when there is none. */
static size_t extension(const unsigned char *t, size_t len, size_t to)
{
    size_t i = to, d;

    if (i < len && t[i] == ' ')
        i++;
    if (i < len && (t[i] == 'x' || t[i] == 'X' || t[i] == '#'))
        i++;
    else if (i + 3 <= len && (t[i] == 'e' || t[i] == 'E') && t[i + 1] == 'x' && t[i + 2] == 't')
        i += 3 + (i + 3 < len && t[i + 3] == '.');
    else
        return to;
    if (i < len && t[i] == ' ')
        i++;
    for (d = i; d < len && is_digit(t[d]) && d - i < 6; d++)
        ;
    if (d == i || (d < len && is_alnum(t[d])))
        return to;
    return d;
}

int pii_phone_check(const char *text, size_t len, size_t from, size_t to, struct pii_hits *out)
{
    const unsigned char *t = (const unsigned char *)text;
    struct groups g;
    size_t end = to;

    (void)pthread_once(&near_once, near_build);

    if (to < len) {
        unsigned char c = t[to];
        end = extension(t, len, to);
        if (end == to && (is_alnum(c) || c == '_' || c == '@'))
            return 1;
        if ((c == '.' || c == '-' || c == '/' || c == ',' || c == ' ') && to + 1 < len &&
            is_digit(t[to + 1]))
            return 1; /* the number goes on: its longer match is the one to judge */
    }
    if (!split(t, from, to, &g))
        return 1;
    for (size_t g0 = 0; g0 < g.n; g0++) {
        size_t start = g0 == 0 ? from : g.at[g0] - (g.paren[g0] ? 1 : 0);
        float conf;
        unsigned near;
        /* a start one group later, after a space ("75008 01 23 45 67 89"),
         * but not inside a number written with its country code or grouped
         * all alike (4111 1111 1111 1111) */
        if (g0 > 1 || (g0 > 0 && (g.plus || uniform(&g))))
            break;
        if (g0 > 0 && g.sep[g0] != ' ' && !(g.paren[g0] && t[start - 1] == ' '))
            continue;
        if (start > 0) {
            unsigned char p = t[start - 1];
            if (is_alnum(p) || p == '_' || p == '@' || p == '+' || p == '#' ||
                ((p == '.' || p == ',' || p == '-' || p == '/') && start > 1 &&
                 is_digit(t[start - 2])))
                continue;
        }
        conf = classify(t, &g, g0, g0 == 0 && g.plus);
        if (conf <= 0.0F)
            continue;
        /* the five lists in one pass over the text around the number */
        near = pii_near_words(text, len, start, end, &near_set);
        if ((near & NEAR_MONEY) || currency_after(t, len, end))
            return 1;
        if (near & NEAR_ADDRESS)
            return 1;
        if (near & NEAR_PHONE)
            conf += 0.2F;
        else if (near & NEAR_REF)
            conf -= 0.2F;
        else if (near & NEAR_WEAK)
            conf += 0.1F;
        if (conf > 0.95F)
            conf = 0.95F;
        return pii_hits_add(out, PARLEY_PII_PHONE, start, end, conf, "phone.plan");
    }
    return 1;
}
