/* The structured detectors: the Hyperscan patterns that find candidate
 * cards, IMEIs, IBANs, SSNs, e-mail and IP addresses, and the checks in C
 * that keep only the valid ones (Luhn and issuer, mod-97 and country
 * length, SSA ranges, address syntax). Phones are in struct_phone.c. */
#include <stdint.h>
#include <string.h>

#include <hs/hs.h>

#include "pii/structured.h"

#define B(t) PARLEY_PII_BIT(PARLEY_PII_##t)

/* Each expression only proposes; the check decides. Digit-run patterns end
 * on a word boundary so a value is never cut out of a longer number. None
 * asks Hyperscan for the start of match (HS_FLAG_SOM_LEFTMOST costs about
 * as much per scan as all the rest): each check walks back from the end
 * over the characters its pattern allows, which gives the same leftmost
 * start, and tries later starts itself. The e-mail and IPv6 patterns are
 * short triggers around which the check parses the whole value. Each
 * needs an '@', two ':', two ASCII letters then two digits, or two digits
 * five or more bytes apart with only digits, spaces and "().-/" between:
 * detect.c skips the scan of a text without (may_match()), so a new
 * pattern must keep to that or change it. */
const struct pii_pattern pii_patterns[] = {
    {"\\b\\d(?:[ -]?\\d){12,18}\\b", 0, PII_K_DIGITS, B(CARD) | B(IMEI)},
    {"\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30}\\b", HS_FLAG_CASELESS, PII_K_IBAN, B(IBAN)},
    {"\\b\\d{3}[ -]?\\d{2}[ -]?\\d{4}\\b", 0, PII_K_SSN, B(SSN)},
    {"[A-Za-z0-9_%+-]@[A-Za-z0-9]", 0, PII_K_EMAIL, B(EMAIL)},
    {"\\b\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\b", 0, PII_K_IPV4, B(IP)},
    {":[0-9A-Fa-f]{0,4}:", 0, PII_K_IPV6, B(IP)},
    /* phones: digit groups with single separators, parentheses and a
     * leading +; struct_phone.c splits and judges them by plan */
    {"\\d[\\d ().\\-/]{4,24}\\d(?:\\b|[xX])", 0, PII_K_PHONE, B(PHONE)},
};
const size_t pii_n_patterns = sizeof(pii_patterns) / sizeof(pii_patterns[0]);

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
    return is_digit(c) || is_alpha(c);
}

static int is_word(unsigned char c)
{
    return is_alnum(c) || c == '_';
}

static int is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* t[i] lower-cased: ASCII, and the Latin-1 capitals of UTF-8 (C3 80..9E,
 * but not ×), so "TÉLÉPHONE" reads as "téléphone". */
static unsigned char fold_at(const unsigned char *t, size_t i)
{
    unsigned char c = t[i];

    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A' + 'a');
    if (i > 0 && t[i - 1] == 0xC3 && c >= 0x80 && c <= 0x9E && c != 0x97)
        return (unsigned char)(c + 0x20);
    return c;
}

/* The leftmost start of a run of at most `max_digits` digits ending at
 * `to`, with a single space or '-' between digits. */
static size_t digits_back(const unsigned char *t, size_t to, size_t max_digits)
{
    size_t p = to, nd = 0;

    while (p > 0) {
        unsigned char c = t[p - 1];
        if (is_digit(c)) {
            if (nd == max_digits)
                break;
            nd++;
            p--;
        } else if ((c == ' ' || c == '-') && p >= 2 && p < to && is_digit(t[p - 2]) &&
                   is_digit(t[p])) {
            p--;
        } else {
            break;
        }
    }
    return p;
}

void pii_near_set_init(struct pii_near_set *set, const struct pii_near *lists, size_t n)
{
    size_t count[256] = {0}, nw = 0;

    memset(set, 0, sizeof(*set));
    set->n = n;
    for (size_t l = 0; l < n; l++) {
        set->window[l] = lists[l].window;
        if (lists[l].window > set->wide)
            set->wide = lists[l].window;
        for (const char *const *w = lists[l].words; *w && nw < PII_NEAR_MAX_WORDS; w++, nw++)
            count[(unsigned char)(*w)[0]]++;
    }
    /* a counting sort by first byte: word[at[c], at[c + 1]) start with c */
    for (size_t c = 0; c < 256; c++)
        set->at[c + 1] = (uint8_t)(set->at[c] + count[c]);
    nw = 0;
    for (size_t l = 0; l < n; l++)
        for (const char *const *w = lists[l].words; *w && nw < PII_NEAR_MAX_WORDS; w++, nw++) {
            unsigned char c = (unsigned char)(*w)[0];
            size_t k = set->at[c + 1] - count[c]--;
            set->word[k] = *w;
            set->list[k] = (uint8_t)l;
            set->first[c >> 5] |= 1u << (c & 31);
        }
}

unsigned pii_near_words(const char *text, size_t len, size_t start, size_t end,
                        const struct pii_near_set *set)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t wide = set->wide;
    size_t lo = start > wide ? start - wide : 0;
    size_t hi = len - end > wide ? end + wide : len;
    unsigned found = 0, all = set->n >= 32 ? ~0u : (1u << set->n) - 1u;

    /* one pass over the widest window; at a word start, only the words
     * with its first letter are compared, each within its list's window */
    for (size_t i = lo; i < hi && found != all; i++) {
        unsigned char c;
        if (i == start) {
            i = end - 1;
            continue;
        }
        c = lower(t[i]);
        if (!(set->first[c >> 5] & (1u << (c & 31))) ||
            (i > 0 && (is_alpha(t[i - 1]) || t[i - 1] >= 0x80)))
            continue;
        for (size_t k = set->at[c]; k < set->at[c + 1]; k++) {
            unsigned l = set->list[k];
            size_t win = set->window[l];
            size_t lhi = len - end > win ? end + win : len;
            const unsigned char *wp = (const unsigned char *)set->word[k];
            size_t m = 0;
            if ((found >> l) & 1u || (i < start && start - i > win) || i >= lhi)
                continue;
            while (wp[m] && i + m < lhi && fold_at(t, i + m) == wp[m])
                m++;
            if (!wp[m])
                found |= 1u << l;
        }
    }
    return found;
}

int pii_near_word(const char *text, size_t len, size_t start, size_t end, size_t window,
                  const char *const *words)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t lo = start > window ? start - window : 0;
    size_t hi = len - end > window ? end + window : len;
    uint32_t first[8] = {0};

    /* one pass over the window; a word is compared only where its first
     * letter starts a word of the text */
    for (const char *const *w = words; *w; w++) {
        unsigned char c = (unsigned char)(*w)[0];
        first[c >> 5] |= 1u << (c & 31);
    }
    for (size_t i = lo; i < hi; i++) {
        unsigned char c;
        if (i == start) {
            i = end - 1;
            continue;
        }
        c = lower(t[i]);
        if (!(first[c >> 5] & (1u << (c & 31))) ||
            (i > 0 && (is_alpha(t[i - 1]) || t[i - 1] >= 0x80)))
            continue;
        for (const char *const *w = words; *w; w++) {
            const unsigned char *wp = (const unsigned char *)*w;
            size_t k = 0;
            if (wp[0] != c)
                continue;
            while (wp[k] && i + k < hi && fold_at(t, i + k) == wp[k])
                k++;
            if (!wp[k])
                return 1;
        }
    }
    return 0;
}

/* ---- cards and IMEIs --------------------------------------------------- */

static int luhn_ok(const char *d, size_t n)
{
    unsigned sum = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)(d[n - 1 - i] - '0');
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

static unsigned prefix(const char *d, size_t k)
{
    unsigned v = 0;

    for (size_t i = 0; i < k; i++)
        v = v * 10 + (unsigned)(d[i] - '0');
    return v;
}

/* A known issuer's prefix and one of its lengths. */
static int issuer_ok(const char *d, size_t n)
{
    unsigned p2 = prefix(d, 2), p3 = prefix(d, 3), p4 = prefix(d, 4), p6 = prefix(d, 6);

    if (d[0] == '4')
        return n == 13 || n == 16 || n == 19; /* Visa */
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
        return n == 16; /* Mastercard */
    if (p2 == 34 || p2 == 37)
        return n == 15; /* American Express */
    if (p4 >= 2200 && p4 <= 2204)
        return n >= 16 && n <= 19; /* Mir */
    if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925))
        return n >= 16 && n <= 19; /* Discover */
    if (p4 >= 3528 && p4 <= 3589)
        return n >= 16 && n <= 19; /* JCB */
    if ((p3 >= 300 && p3 <= 305) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39)
        return n >= 14 && n <= 19; /* Diners Club */
    if (p2 == 62 || p2 == 81)
        return n >= 16 && n <= 19; /* UnionPay */
    if (p2 == 50 || (p2 >= 56 && p2 <= 58) || p4 == 6304 || p4 == 6759 ||
        (p4 >= 6761 && p4 <= 6763) || p2 == 67)
        return n >= 12 && n <= 19; /* Maestro */
    return 0;
}

/* Card groupings as printed: fours (the last group may be shorter), or
 * the 4-6-5 / 4-6-4 of American Express and Diners. */
static int card_groups_ok(const size_t *g, size_t ng)
{
    if (ng == 1)
        return 1;
    if (ng == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4))
        return 1;
    for (size_t i = 0; i + 1 < ng; i++)
        if (g[i] != 4)
            return 0;
    return g[ng - 1] >= 1 && g[ng - 1] <= 4;
}

/* IMEI groupings: plain, or the 2-6-6-1 of the standard and its merges. */
static int imei_groups_ok(const size_t *g, size_t ng)
{
    static const size_t forms[][4] = {{15}, {2, 6, 6, 1}, {2, 6, 7}, {8, 6, 1}, {8, 7}, {14, 1}};
    static const size_t nforms[] = {1, 4, 3, 3, 2, 2};

    for (size_t f = 0; f < sizeof(nforms) / sizeof(nforms[0]); f++) {
        if (nforms[f] != ng)
            continue;
        if (memcmp(forms[f], g, ng * sizeof(*g)) == 0)
            return 1;
    }
    return 0;
}

static const char *const card_words[] = {
    "card",   "carte",  "tarjeta", "karte",   "visa",     "master",  "amex", "credit",  "cb ",
    "kredit", "débito", "debit",   "crédito", "paiement", "payment", "pago", "zahlung", NULL};
static const char *const imei_words[] = {"imei", NULL};

/* A digit run [from, to) with single spaces or hyphens between digits. The
 * run is the leftmost start for its end, so a value that starts at a later
 * group is tried too; one printed number keeps one separator, so where the
 * separator changes ("ref 12 4111-1111-1111-1111") it can only start at the
 * group before the change. */
static int check_digits(const char *text, size_t len, size_t from, size_t to, unsigned types,
                        struct pii_hits *out)
{
    char d[20];
    size_t gstart[20], glen[20], ng = 0, nd = 0;
    char sep = 0;

    for (size_t i = from; i < to; i++) {
        char c = text[i];
        if (is_digit((unsigned char)c)) {
            if (nd == sizeof(d))
                return 1;
            if (ng == 0 || i == from || !is_digit((unsigned char)text[i - 1])) {
                gstart[ng] = i;
                glen[ng++] = 0;
            }
            d[nd++] = c;
            glen[ng - 1]++;
        } else if (sep && c != sep && ng > 0) {
            /* another separator: a value can only start at the group
             * just before it */
            memmove(d, d + nd - glen[ng - 1], glen[ng - 1]);
            nd = glen[ng - 1];
            gstart[0] = gstart[ng - 1];
            glen[0] = glen[ng - 1];
            ng = 1;
            sep = c;
        } else {
            sep = c;
        }
    }
    for (size_t g0 = 0, skip = 0; g0 < ng; skip += glen[g0], g0++) {
        const char *v = d + skip;
        size_t n = nd - skip, start = gstart[g0];
        int luhn;
        if (n < 13)
            break;
        if (g0 == 0 && start > 0 && is_word((unsigned char)text[start - 1]))
            continue; /* the run goes on to the left: a later group may start it */
        luhn = luhn_ok(v, n);
        if (!luhn)
            continue;
        if (n == 15 && (types & B(IMEI)) && imei_groups_ok(glen + g0, ng - g0)) {
            int word = pii_near_word(text, len, start, to, 48, imei_words);
            int amex = v[0] == '3' && (v[1] == '4' || v[1] == '7');
            if (word || !amex) {
                if (!pii_hits_add(out, PARLEY_PII_IMEI, start, to, word ? 0.95F : 0.7F,
                                  "imei.luhn"))
                    return 0;
                if (!amex)
                    return 1;
            }
        }
        if ((types & B(CARD)) && issuer_ok(v, n) && card_groups_ok(glen + g0, ng - g0)) {
            int word = pii_near_word(text, len, start, to, 48, card_words);
            return pii_hits_add(out, PARLEY_PII_CARD, start, to, word ? 0.95F : 0.85F, "card.luhn");
        }
    }
    return 1;
}

/* ---- IBAN -------------------------------------------------------------- */

static const struct {
    char cc[3];
    unsigned char len;
} iban_lengths[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BR", 29}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18},
    {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22},
    {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22},
    {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28},
    {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22},
    {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28},
    {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31}, {"SE", 24},
    {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26},
    {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

static size_t iban_length(const char *cc)
{
    for (size_t i = 0; i < sizeof(iban_lengths) / sizeof(iban_lengths[0]); i++)
        if (iban_lengths[i].cc[0] == cc[0] && iban_lengths[i].cc[1] == cc[1])
            return iban_lengths[i].len;
    return 0;
}

static const char *const iban_words[] = {"iban",   "bank",   "banco",   "banque", "konto",
                                         "compte", "cuenta", "account", "rib",    NULL};

static int check_iban(const char *text, size_t len, size_t from, size_t to, struct pii_hits *out)
{
    char v[34];
    size_t n = 0, upper = 0, lowers = 0;
    unsigned rem = 0;

    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ') {
            if (n % 4 != 0) /* spaces only between groups of four */
                return 1;
            continue;
        }
        if (n == sizeof(v))
            return 1;
        upper += c >= 'A' && c <= 'Z';
        lowers += c >= 'a' && c <= 'z';
        v[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    if (n < 15 || (upper && lowers) || n != iban_length(v))
        return 1;
    /* mod 97 of BBAN + country + check digits, letters as 10..35 */
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)v[(k + 4) % n];
        if (is_digit(c))
            rem = (rem * 10 + (c - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
    }
    if (rem != 1)
        return 1;
    return pii_hits_add(out, PARLEY_PII_IBAN, from, to,
                        pii_near_word(text, len, from, to, 40, iban_words) ? 0.98F : 0.9F,
                        "iban.mod97");
}

/* ---- US social security numbers ---------------------------------------- */

static const char *const ssn_words[] = {"ssn",  "social security", "social sec",       "ss#",
                                        "ss #", "seguro social",   "sécurité sociale", "ssa",
                                        NULL};

static int check_ssn(const char *text, size_t len, size_t from, size_t to, struct pii_hits *out)
{
    const char *t = text + from;
    char d[9], s1 = 0, s2 = 0;
    size_t nd = 0;
    unsigned area, group, serial;
    int word;
    float conf;

    for (size_t i = 0; i < to - from; i++) {
        if (is_digit((unsigned char)t[i])) {
            if (nd == 9)
                return 1;
            d[nd++] = t[i];
        } else if (nd == 3) {
            s1 = t[i];
        } else {
            s2 = t[i];
        }
    }
    if (nd != 9 || s1 != s2)
        return 1;
    area = prefix(d, 3);
    group = prefix(d + 3, 2);
    serial = prefix(d + 5, 4);
    if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
        return 1;
    /* glued to a word, or dots or slashes next to it: a date, a version
     * or a longer number */
    if ((from > 0 && (is_word((unsigned char)text[from - 1]) || text[from - 1] == '-' ||
                      text[from - 1] == '.' || text[from - 1] == '/')) ||
        (to < len && (text[to] == '-' || text[to] == '/' ||
                      (text[to] == '.' && to + 1 < len && is_digit((unsigned char)text[to + 1])))))
        return 1;
    word = pii_near_word(text, len, from, to, 40, ssn_words);
    if (s1 == '-')
        conf = word ? 0.95F : 0.8F;
    else
        conf = word ? 0.8F : 0.3F; /* nine bare digits are an SSN only when called one */
    return pii_hits_add(out, PARLEY_PII_SSN, from, to, conf, "ssn.ranges");
}

/* ---- e-mail ------------------------------------------------------------ */

/* Bytes of a local part: RFC 5322 atoms, plus any non-ASCII byte (RFC
 * 6531 allows UTF-8 names; a run of such bytes always ends on a character
 * boundary next to an ASCII one). */
static int local_char(unsigned char c)
{
    return is_alnum(c) || c >= 0x80 || (c && strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
}

/* `at` is the '@'. The local part runs left over its characters, the
 * domain right over dot-separated labels; the last label is the TLD. */
static int check_email(const char *text, size_t len, size_t at, struct pii_hits *out)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t s = at, e = at + 1, last_dot = 0, labels = 0;

    while (s > 0 && at - s <= 64 && local_char(t[s - 1]))
        s--;
    if (at - s > 64)
        return 1; /* longer than RFC 5321 allows: not an address */
    while (s < at && (t[s] == '.' || t[s] == '\'' || t[s] == '`'))
        s++; /* a leading dot or quote belongs to the sentence */
    if (s == at || t[at - 1] == '.')
        return 1;
    for (size_t i = s + 1; i < at; i++)
        if (t[i] == '.' && t[i - 1] == '.')
            return 1;
    for (;;) {
        size_t ls = e;
        if (e - at > 255)
            return 1;
        while (e < len && (is_alnum(t[e]) || t[e] == '-'))
            e++;
        if (e == ls || t[ls] == '-' || t[e - 1] == '-') {
            e = ls; /* empty or hyphen-edged label: the domain ended before it */
            break;
        }
        labels++;
        if (e + 1 < len && t[e] == '.' && is_alnum(t[e + 1])) {
            last_dot = e;
            e++;
            continue;
        }
        break;
    }
    if (labels < 2 || e <= last_dot + 1)
        return 1;
    if (t[e - 1] == '.' || t[e - 1] == '-')
        return 1;
    for (size_t i = last_dot + 1; i < e; i++)
        if (!is_alpha(t[i]))
            return 1;
    if (e - last_dot - 1 < 2 || (e < len && (t[e] == '@' || t[e] == '_')))
        return 1;
    return pii_hits_add(out, PARLEY_PII_EMAIL, s, e, 0.9F, "email.syntax");
}

/* ---- IP addresses ------------------------------------------------------ */

static int check_ipv4(const char *text, size_t len, size_t from, size_t to, struct pii_hits *out)
{
    const unsigned char *t = (const unsigned char *)text;
    unsigned v = 0;
    size_t digits = 0, dots = 0;

    if (to - from > 15)
        return 1;
    for (size_t i = from; i < to; i++)
        dots += t[i] == '.';
    if (dots != 3 || t[from] == '.')
        return 1;
    for (size_t i = from; i <= to; i++) {
        if (i < to && is_digit(t[i])) {
            v = v * 10 + (t[i] - '0');
            digits++;
            continue;
        }
        if (v > 255 || digits == 0 || digits > 3)
            return 1;
        v = 0;
        digits = 0;
    }
    /* part of a longer dotted number (a version 1.2.3.4.5, an OID), a
     * network with its prefix length (10.0.0.0/8) or a netmask: not the
     * address of anyone */
    if ((from >= 2 && (t[from - 1] == '.' || t[from - 1] == '-') && is_digit(t[from - 2])) ||
        (to + 1 < len && (t[to] == '.' || t[to] == '-' || t[to] == '/') && is_digit(t[to + 1])) ||
        (to - from >= 3 && memcmp(t + from, "255.", 4) == 0))
        return 1;
    return pii_hits_add(out, PARLEY_PII_IP, from, to, 0.85F, "ip.v4");
}

/* Parses t[0..n) as a whole IPv6 address (RFC 4291 text forms, with an
 * IPv4 tail); returns the number of 16-bit groups written, or -1. */
static int parse_ipv6(const unsigned char *t, size_t n, int *long_group)
{
    size_t i = 0;
    int groups = 0, compressed = 0;

    *long_group = 0;
    if (n >= 2 && t[0] == ':' && t[1] == ':') {
        compressed = 1;
        i = 2;
    } else if (n > 0 && t[0] == ':') {
        return -1;
    }
    while (i < n) {
        size_t k = 0, dots = 0, j = i;
        while (j < n && (is_hex(t[j]) || t[j] == '.')) {
            dots += t[j] == '.';
            j++;
        }
        k = j - i;
        if (dots) {
            /* a dotted IPv4 tail: four decimal octets, then the end */
            unsigned oct = 0, nd = 0, parts = 0;
            if (j != n)
                return -1;
            for (size_t m = i; m <= j; m++) {
                if (m < j && is_digit(t[m]) && nd < 3) {
                    oct = oct * 10 + (t[m] - '0');
                    nd++;
                } else if ((m == j || t[m] == '.') && nd > 0 && oct <= 255) {
                    parts++;
                    oct = 0;
                    nd = 0;
                } else {
                    return -1;
                }
            }
            if (parts != 4)
                return -1;
            groups += 2;
            *long_group = 1;
            break;
        }
        if (k == 0 || k > 4)
            return -1;
        *long_group |= k >= 3;
        groups++;
        i = j;
        if (i == n)
            break;
        if (t[i] != ':')
            return -1;
        if (i + 1 < n && t[i + 1] == ':') {
            if (compressed)
                return -1;
            compressed = 1;
            i += 2;
        } else if (i + 1 == n) {
            return -1;
        } else {
            i++;
        }
    }
    if (compressed ? groups > 7 : groups != 8)
        return -1;
    return groups;
}

/* `at` is the end of a "h:h:" trigger; the address is the run of hex
 * digits, colons and dots around it. */
static int check_ipv6(const char *text, size_t len, size_t at, struct pii_hits *out)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t s = at, e = at;
    int groups, long_group;

    while (s > 0 && at - s < 64 && (is_hex(t[s - 1]) || t[s - 1] == ':' || t[s - 1] == '.'))
        s--;
    while (e < len && e - s < 64 && (is_hex(t[e]) || t[e] == ':' || t[e] == '.'))
        e++;
    if ((s > 0 && (is_alnum(t[s - 1]) || t[s - 1] == '_')) ||
        (e < len && (is_alnum(t[e]) || t[e] == '_')))
        return 1;
    if (s < e && t[s] == ':' && (s + 1 == e || t[s + 1] != ':'))
        s++; /* "addr:fe80::1": the label's colon */
    while (e > s && (t[e - 1] == '.' || (t[e - 1] == ':' && (e - s < 2 || t[e - 2] != ':'))))
        e--; /* the sentence's full stop or colon */
    if (out->n > 0 && out->v[out->n - 1].type == PARLEY_PII_IP && out->v[out->n - 1].start == s)
        return 1; /* found from an earlier colon pair of the same address */
    groups = parse_ipv6(t + s, e - s, &long_group);
    if (groups < 2 || (groups < 3 && !long_group))
        return 1;
    return pii_hits_add(out, PARLEY_PII_IP, s, e, 0.85F, "ip.v6");
}

/* IBAN candidates: the run of letters, digits and single spaces ending at
 * `to`; each place in it where a word starts with two letters and two
 * digits is tried, leftmost first. */
static int check_iban_run(const char *text, size_t len, size_t to, struct pii_hits *out)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t p = to, left = 0; /* letters and digits from p to `to` */

    while (p > 0 && to - p < 42 &&
           (is_alnum(t[p - 1]) || (t[p - 1] == ' ' && p >= 2 && p < to && is_alnum(t[p - 2])))) {
        p--;
        left += t[p] != ' ';
    }
    for (; p + 15 <= to; left -= t[p] != ' ', p++) {
        char cc[2];
        if ((p > 0 && is_word(t[p - 1])) || !is_alpha(t[p]) || !is_alpha(t[p + 1]) ||
            !is_digit(t[p + 2]) || !is_digit(t[p + 3]))
            continue;
        cc[0] = (char)(t[p] & ~0x20);
        cc[1] = (char)(t[p + 1] & ~0x20);
        if (iban_length(cc) == left) /* one length per country: one start can fit */
            return check_iban(text, len, p, to, out);
    }
    return 1;
}

/* A digit or one of " ().-/": what the phone pattern spans, tested
 * without a library call per byte. */
static int phone_char(unsigned char c)
{
    return is_digit(c) || c == ' ' || c == '(' || c == ')' || c == '.' || c == '-' || c == '/';
}

/* Phone candidates: digits, single separators and parentheses back from
 * `to` (the pattern's own characters, as long as it allows), and a '+'. */
static size_t phone_back(const unsigned char *t, size_t to)
{
    size_t p = to;

    while (p > 0 && to - p < 26 && phone_char(t[p - 1]))
        p--;
    if (p > 0 && t[p - 1] == '+')
        p--;
    while (p < to && !is_digit(t[p]) && t[p] != '+' && t[p] != '(')
        p++;
    return p;
}

int pii_structured_check(enum pii_kind kind, const char *text, size_t len, size_t to,
                         unsigned types, struct pii_hits *out)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t from;

    switch (kind) {
    case PII_K_DIGITS:
        from = digits_back(t, to, 19);
        return check_digits(text, len, from, to, types, out);
    case PII_K_IBAN:
        return check_iban_run(text, len, to, out);
    case PII_K_SSN:
        from = digits_back(t, to, 9);
        return check_ssn(text, len, from, to, out);
    case PII_K_EMAIL:
        return check_email(text, len, to - 2, out);
    case PII_K_IPV4:
        for (from = to;
             from > 0 && to - from < 64 && (is_digit(t[from - 1]) || t[from - 1] == '.');)
            from--;
        return check_ipv4(text, len, from, to, out);
    case PII_K_IPV6:
        return check_ipv6(text, len, to, out);
    case PII_K_PHONE:
        /* the pattern ends at a word boundary or takes the 'x' of an
         * extension glued to the number ("555-234-5678x12") */
        if (text[to - 1] == 'x' || text[to - 1] == 'X')
            to--;
        return pii_phone_check(text, len, phone_back(t, to), to, out);
    }
    return 1;
}
