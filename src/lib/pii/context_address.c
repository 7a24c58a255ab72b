/* Street addresses in en, fr, es and de (and the street-type-first forms of
 * it, pt and pl): a street line recognised by its street word and house
 * number, then what directly follows it on the envelope (unit, postcode and
 * city, US state and ZIP, country), one span for the whole. Tokens inside
 * an address are marked so the name detector leaves "avenue Victor Hugo"
 * alone. */
#include "pii/context.h"

/* Compound endings of street names (German, Dutch, Nordic, Finnish), by
 * their last letter, so that a word is compared with a few at most. */
static const char *const suffixes[26] = {
    ['a' - 'a'] = "gata ",
    ['d' - 'a'] = "pfad ",
    ['e' - 'a'] = "strasse allee gasse chaussee gade tie ",
    ['g' - 'a'] = "weg ring steig ",
    ['i' - 'a'] = "straeti ",
    ['j' - 'a'] = "vej ",
    ['m' - 'a'] = "damm ",
    ['n' - 'a'] = "laan plein gatan vagen vegen veien ",
    ['r' - 'a'] = "str ufer vegur ",
    ['t' - 'a'] = "straat gracht ",
    ['u' - 'a'] = "katu ",
    ['z' - 'a'] = "platz ",
};

/* A house number: "5", "221B", "12a". */
static bool housenum(const struct ctx_scan *s, size_t i)
{
    const struct ctx_tok *t;
    size_t k = 0;
    if (i >= s->nt)
        return false;
    t = &s->t[i];
    if (t->kind == CTX_NUM)
        return t->flen <= 5;
    if (t->kind != CTX_WORD)
        return false;
    while (k < t->flen && t->fold[k] >= '0' && t->fold[k] <= '9')
        k++;
    return k >= 1 && k <= 4 && t->flen == k + 1 && t->fold[k] >= 'a' && t->fold[k] <= 'z';
}

static bool cap(const struct ctx_scan *s, size_t i)
{
    return i < s->nt && s->t[i].kind == CTX_WORD && (s->t[i].shape & SH_ALPHA) &&
           (s->t[i].shape & (SH_CAP | SH_UPPER));
}

/* A word of a street or place name. */
static bool name_word(const struct ctx_scan *s, size_t i, bool lower_ok)
{
    const struct ctx_tok *t;
    if (i >= s->nt)
        return false;
    t = &s->t[i];
    if (t->kind != CTX_WORD || !(t->shape & SH_ALPHA))
        return false;
    if (t->shape & (SH_CAP | SH_UPPER))
        return !(t->lex & LX_STOP) || (t->lex & LX_PARTICLE);
    return lower_ok && !(t->lex & (LX_STOP | LX_NOTNAME));
}

/* "12 Elm St", "221B Baker Street", "1600 Pennsylvania Ave NW": number,
 * one to four name words, an English street type. Returns the last token. */
static size_t number_first(const struct ctx_scan *s, size_t i)
{
    size_t j = i + 1, words = 0;
    if (!housenum(s, i))
        return 0;
    while (j < s->nt && words < 5 && !(s->t[j].shape & SH_NL)) {
        const struct ctx_tok *t = &s->t[j];
        if ((t->lex & LX_ST_AFTER) && words > 0) {
            bool abbrev = t->flen <= 4;
            if (abbrev && !(t->shape & (SH_CAP | SH_UPPER)))
                return 0;
            if (ctx_punct(s, j + 1, '.') && ctx_adjacent(s, j + 1))
                j++;
            if (j + 1 < s->nt && (s->t[j + 1].lex & LX_DIR) && (s->t[j + 1].shape & SH_CAP) &&
                !(s->t[j + 1].shape & SH_NL) && s->t[j + 1].flen <= 2)
                j++;
            return j;
        }
        if (!name_word(s, j, true) && !housenum(s, j))
            return 0;
        words++;
        j++;
    }
    return 0;
}

/* "12 rue de la Paix", "3 bis avenue Victor Hugo", "Calle Mayor 5", "C/
 * Alcalá 20", "Avda. de la Constitución, nº 12": a street type first, then
 * the name, with the house number before or after. */
static size_t type_first(const struct ctx_scan *s, size_t i, size_t *start)
{
    size_t j = i, words = 0, last;
    bool num_before = false;
    *start = i;
    if (housenum(s, j) && !(s->t[j + 1 < s->nt ? j + 1 : j].shape & SH_NL)) {
        num_before = true;
        j++;
        if (ctx_is(s, j, "bis") || ctx_is(s, j, "ter"))
            j++;
        if (ctx_punct(s, j, ','))
            j++;
    }
    if (j >= s->nt || !(s->t[j].lex & LX_ST_BEFORE) || (j > i && (s->t[j].shape & SH_NL)))
        return 0;
    /* "c" only as "C/"; the short and English-looking ones need a capital
     * or a number in front ("take place", "via email"). */
    if (s->t[j].flen == 1 && !ctx_punct(s, j + 1, '/'))
        return 0;
    if (!num_before && !(s->t[j].shape & SH_CAP))
        return 0;
    j++;
    if (j < s->nt && (ctx_punct(s, j, '.') || ctx_punct(s, j, '/')) && ctx_adjacent(s, j))
        j++;
    last = j;
    while (j < s->nt && words < 6 && !(s->t[j].shape & SH_NL)) {
        const struct ctx_tok *t = &s->t[j];
        if ((t->lex & LX_PARTICLE) && !(t->shape & SH_CAP)) {
            j++;
            continue;
        }
        if (t->kind == CTX_PUNCT && t->fold[0] == '\'') {
            j++;
            continue;
        }
        if (!name_word(s, j, num_before) || (t->lex & LX_UNIT))
            break;
        words++;
        last = j++;
    }
    if (!words)
        return 0;
    /* A house number after the name: [","] ["nº"|"no"|"n°"] 5. */
    j = last + 1;
    if (ctx_punct(s, j, ','))
        j++;
    if (ctx_is(s, j, "nº") || ctx_is(s, j, "n") || ctx_is(s, j, "no") || ctx_is(s, j, "num")) {
        size_t k = j + 1;
        if (ctx_punct(s, k, '.') || (k < s->nt && strcmp(s->t[k].fold, "\u00b0") == 0))
            k++;
        if (housenum(s, k))
            j = k;
    }
    /* not "12 rue de la Paix, 75002": a second number after a comma is the postcode */
    if (housenum(s, j) && !(s->t[j].shape & SH_NL) && s->t[j].flen <= 4 &&
        !(num_before && j > last + 1))
        return j;
    return num_before ? last : 0;
}

static bool street_suffix(struct ctx_tok *t)
{
    const char *p;
    char last = t->flen ? t->fold[t->flen - 1] : '\0';
    /* asked up to three times per word: the answer is kept in the token */
    if (t->suffix)
        return t->suffix == 2;
    t->suffix = 1;
    /* the shortest ending has 3 letters, and 3 more come before it */
    if (t->flen < 6 || last < 'a' || last > 'z' || !suffixes[last - 'a'])
        return false;
    for (p = suffixes[last - 'a']; *p;) {
        size_t n = 0;
        while (p[n] != ' ')
            n++;
        if (t->flen >= n + 3 && memcmp(t->fold + t->flen - n, p, n) == 0) {
            t->suffix = 2;
            return true;
        }
        p += n + 1;
    }
    return false;
}

/* "Hauptstraße 5", "Berliner Str. 12a", "Am Weg 3", "Koskikatu 83": a
 * street word (compound or separate) then the house number. */
static size_t name_then_number(const struct ctx_scan *s, size_t i, size_t *start, bool lower)
{
    size_t j = i;
    *start = i;
    if (!cap(s, i) && !(lower && s->t[i].kind == CTX_WORD && (s->t[i].shape & SH_ALPHA) &&
                        street_suffix(&s->t[i])))
        return 0;
    if (!street_suffix(&s->t[i])) {
        /* "Berliner Str.", "Unter den Linden"-style: adjective then a separate street word. */
        if (!(j + 1 < s->nt && (s->t[j + 1].lex & LX_ST_AFTER) && cap(s, j + 1) &&
              !(s->t[j + 1].shape & SH_NL)))
            return 0;
        j++;
    }
    j++;
    if (ctx_punct(s, j, '.') && ctx_adjacent(s, j))
        j++;
    if (!housenum(s, j) || (s->t[j].shape & SH_NL) || s->t[j].flen > 4)
        return 0;
    /* "Ring 2024" is a year. */
    if (s->t[j].kind == CTX_NUM && s->t[j].flen == 4)
        return 0;
    return j;
}

/* "PO Box 123", "P.O. Box 123", "Postfach 1234", "Apartado 45", "BP 12". */
static size_t po_box(const struct ctx_scan *s, size_t i)
{
    size_t j = i;
    if (ctx_is(s, j, "po") || ctx_is(s, j, "bp")) {
        j++;
    } else if (ctx_is(s, j, "p") && ctx_punct(s, j + 1, '.') && ctx_is(s, j + 2, "o")) {
        j += 3;
        if (ctx_punct(s, j, '.'))
            j++;
    } else if ((s->t[j].lex & LX_POBOX) && !ctx_is(s, j, "box")) {
        j++;
    } else {
        return 0;
    }
    if (ctx_is(s, j, "box"))
        j++;
    if (ctx_punct(s, j, '.'))
        j++;
    if (j < s->nt && s->t[j].kind == CTX_NUM && s->t[j].flen <= 6 && !ctx_is(s, i, "box"))
        return j;
    return 0;
}

/* What may follow a street line on the envelope: a unit ("Apt 4", "Suite
 * 781", "3º izq."), a postcode and city ("75002 Paris"), a US city, state
 * and ZIP ("Washington, DC 20500"), a city or country line. Returns the new
 * last token, or e when nothing follows. */
enum { EXT_UNIT = 1, EXT_PLACE = 2, EXT_POST = 4 };

/* A word of a city or country: capitalized, or any word when the street
 * line was written in lower case. */
static bool place_word(const struct ctx_scan *s, size_t i, bool lower)
{
    if (cap(s, i))
        return !(s->t[i].lex & LX_STOP);
    return lower && i < s->nt && s->t[i].kind == CTX_WORD && (s->t[i].shape & SH_ALPHA) &&
           !(s->t[i].lex & (LX_STOP | LX_NOTNAME));
}

static size_t extend(const struct ctx_scan *s, size_t e, bool lower, unsigned *found)
{
    for (int parts = 0; parts < 6; parts++) {
        size_t j = e + 1, k;
        bool sep = false;
        while (j < s->nt && (ctx_punct(s, j, ',') || ctx_punct(s, j, ';'))) {
            sep = true;
            j++;
        }
        /* a new line, maybe behind a bullet or quote mark ("> ", "* ") */
        if (j < s->nt && (s->t[j].shape & SH_NL)) {
            size_t line = j;
            sep = true;
            while (j < s->nt && s->t[j].kind == CTX_PUNCT && !ctx_punct(s, j, '#') &&
                   (j == line || !(s->t[j].shape & SH_NL)))
                j++;
        }
        if (j >= s->nt)
            return e;
        /* after a unit or a postcode, a city may follow without a comma */
        sep = sep || parts > 0;
        /* unit */
        k = j;
        if (ctx_punct(s, k, '#') || (s->t[k].lex & LX_UNIT)) {
            k++;
            if (ctx_punct(s, k, '.'))
                k++;
            if (ctx_punct(s, k, '#'))
                k++;
            if (k < s->nt && (s->t[k].shape & SH_DIGIT) && s->t[k].flen <= 5) {
                e = k;
                *found |= EXT_UNIT;
                continue;
            }
        }
        /* "3º izq.", "2 dcha", "4e étage" */
        if (k < s->nt && (s->t[j].shape & SH_DIGIT) && s->t[j].flen <= 3 && j + 1 < s->nt &&
            (s->t[j + 1].lex & LX_UNIT) && !(s->t[j + 1].shape & SH_NL)) {
            e = j + 1;
            if (ctx_punct(s, e + 1, '.'))
                e++;
            *found |= EXT_UNIT;
            continue;
        }
        /* postcode [city] */
        if (s->t[j].kind == CTX_NUM && s->t[j].flen >= 4 && s->t[j].flen <= 5) {
            k = j;
            if (ctx_punct(s, k + 1, '-') && ctx_adjacent(s, k + 1) && k + 2 < s->nt &&
                s->t[k + 2].kind == CTX_NUM)
                k += 2;
            e = k;
            *found |= EXT_PLACE;
            for (size_t w = 0; w < 3 && place_word(s, e + 1, lower) &&
                               !(s->t[e + 1].shape & SH_NL) && !(s->t[e + 1].lex & LX_NOTNAME);
                 w++, e++)
                *found |= EXT_POST;
            continue;
        }
        /* city or country: capitalized words, then a separator, a state, a
         * postcode or the end. */
        if (!sep || !place_word(s, j, lower) || (s->t[j].lex & LX_NOTNAME) ||
            ((s->t[j].lex & LX_GIVEN) && !(s->t[j].lex & LX_AMBIG)))
            return e;
        k = j;
        for (size_t w = 1; w < 4 && k + 1 < s->nt && !(s->t[k + 1].shape & SH_NL); w++) {
            if (place_word(s, k + 1, lower))
                k++;
            else if ((ctx_is(s, k + 1, "of") || ctx_is(s, k + 1, "the") ||
                      (s->t[k + 1].lex & LX_PARTICLE)) &&
                     place_word(s, k + 2, lower))
                k += 2;
            else
                break;
        }
        if (k + 1 >= s->nt || (s->t[k + 1].shape & SH_NL) || ctx_punct(s, k + 1, ',') ||
            ctx_punct(s, k + 1, '.')) {
            e = k;
            *found |= EXT_PLACE;
            continue;
        }
        if ((s->t[k + 1].lex & LX_US_STATE) && (s->t[k + 1].shape & SH_UPPER)) {
            e = k + 1;
            *found |= EXT_PLACE | EXT_POST;
            continue;
        }
        if (s->t[k + 1].kind == CTX_NUM && s->t[k + 1].flen >= 4 && s->t[k + 1].flen <= 5) {
            e = k + 1;
            *found |= EXT_PLACE | EXT_POST;
            continue;
        }
        return e;
    }
    return e;
}

/* An address announced by a cue ("address: ...", "I live at ...", "mon
 * adresse est ...", "wohne in der ..."): number then capitalized words, or
 * capitalized words then a number, on the same line. */
static size_t after_cue(const struct ctx_scan *s, size_t i)
{
    size_t j = i, words = 0;
    bool cue = false;
    for (size_t k = i; k-- > 0 && i - k <= 4;) {
        const struct ctx_tok *t = &s->t[k];
        if (t->lex & LX_ADDR_CUE) {
            cue = true;
            break;
        }
    }
    if (!cue)
        return 0;
    if (housenum(s, j)) {
        j++;
        if (housenum(s, j))
            j++;
        while (j < s->nt && words < 4 && cap(s, j) && !(s->t[j].shape & SH_NL) &&
               !(s->t[j].lex & (LX_NOTNAME | LX_UNIT)))
            words++, j++;
        if (!words)
            return 0;
        if (housenum(s, j) && !(s->t[j].shape & SH_NL))
            return j;
        return j - 1;
    }
    while (j < s->nt && words < 4 && cap(s, j) && !(s->t[j].shape & SH_NL) &&
           !(s->t[j].lex & (LX_NOTNAME | LX_GIVEN)))
        words++, j++;
    if (words && housenum(s, j) && !(s->t[j].shape & SH_NL))
        return j;
    return 0;
}

/* A street line known only by its shape, "Kromwater 38", "35 Rookopli 96
 * Apt. 4": capitalized words and a house number, kept only when a unit or
 * a postcode follows it (checked by the caller). */
static size_t by_shape(const struct ctx_scan *s, size_t i)
{
    size_t j = i, words = 0;
    if (housenum(s, j) && !(s->t[j + 1 < s->nt ? j + 1 : j].shape & SH_NL))
        j++;
    while (j < s->nt && words < 3 && cap(s, j) && !(s->t[j].lex & (LX_NOTNAME | LX_STOP)) &&
           (words == 0 || !(s->t[j].shape & SH_NL)))
        words++, j++;
    if (!words)
        return 0;
    if (housenum(s, j) && !(s->t[j].shape & SH_NL))
        return j;
    return j - 1 > i && housenum(s, i) ? j - 1 : 0;
}

/* A street named without a house number, "Boyle Street", "Rue de la
 * Paix", "Calle Mayor": capitalized name words and a capitalized, unabridged
 * street word. Less sure: it locates less than an address. */
static size_t street_only(const struct ctx_scan *s, size_t i)
{
    size_t j = i, words = 0;
    if ((s->t[i].lex & LX_ST_BEFORE) && s->t[i].flen >= 4 && cap(s, i)) {
        j = i + 1;
        while (j < s->nt && words < 4 && !(s->t[j].shape & SH_NL)) {
            if ((s->t[j].lex & LX_PARTICLE) && !(s->t[j].shape & SH_CAP) && cap(s, j + 1)) {
                j++;
                continue;
            }
            if (!cap(s, j) || (s->t[j].lex & (LX_STOP | LX_NOTNAME)))
                break;
            words++, j++;
        }
        return words ? j - 1 : 0;
    }
    while (j < s->nt && words < 3 && cap(s, j) && !(s->t[j].lex & (LX_STOP | LX_NOTNAME)) &&
           !(s->t[j].lex & LX_ST_AFTER) && (words == 0 || !(s->t[j].shape & SH_NL)))
        words++, j++;
    if (words && j < s->nt && (s->t[j].lex & LX_ST_AFTER) && s->t[j].flen >= 4 && cap(s, j) &&
        !(s->t[j].shape & SH_NL) && !((s->t[i].shape & SH_SENT) && words == 1))
        return j;
    return 0;
}

/* A street corner: "the corner of Westfall Avenue and Maclean Street",
 * "à l'angle de la rue X et de la rue Y", "esquina de Alcalá con Goya",
 * "Ecke Hauptstraße und Ringstraße": the cue, two street names joined by
 * a conjunction, on one line, up to a comma or the end of the sentence. */
static size_t corner(const struct ctx_scan *s, size_t i, size_t *start)
{
    size_t j, last = 0;
    bool joined = false, after = false;
    *start = i;
    if (!(ctx_is(s, i, "corner") || ctx_is(s, i, "l'angle") || ctx_is(s, i, "esquina") ||
          ctx_is(s, i, "ecke")))
        return 0;
    j = i + 1;
    if (ctx_is(s, j, "of") || ctx_is(s, j, "de") || ctx_is(s, j, "del"))
        j++;
    for (size_t n = 0; j < s->nt && n < 12 && !(s->t[j].shape & SH_NL); n++, j++) {
        const struct ctx_tok *t = &s->t[j];
        if (ctx_is(s, j, "and") || ctx_is(s, j, "et") || ctx_is(s, j, "con") ||
            ctx_is(s, j, "und") || ctx_is(s, j, "y") || ctx_punct(s, j, '&') ||
            ctx_punct(s, j, '/')) {
            if (!last || joined)
                break;
            joined = true;
            continue;
        }
        if (t->kind == CTX_PUNCT && t->fold[0] != '.')
            break;
        if (t->kind == CTX_PUNCT || (t->lex & LX_PARTICLE) || (t->lex & LX_ST_BEFORE)) {
            continue;
        }
        if (!(t->shape & (SH_CAP | SH_UPPER | SH_DIGIT)))
            break;
        last = j;
        after = joined;
    }
    if (!after)
        return 0;
    if (i > 0 && ctx_is(s, i - 1, "the"))
        *start = i - 1;
    return last;
}

/* US military mail: "USNS Vestergaard / FPO AP 07688", "Unit 9585 Box
 * 2519 / DPO AE 36668", "PSC 1234, Box 5678 / APO AA 34001": found at the
 * APO/FPO/DPO line, with the line before it when that is a ship or unit. */
static size_t military(const struct ctx_scan *s, size_t i, size_t *start)
{
    size_t k;
    *start = i;
    if (!(ctx_is(s, i, "apo") || ctx_is(s, i, "fpo") || ctx_is(s, i, "dpo")) ||
        !(ctx_is(s, i + 1, "aa") || ctx_is(s, i + 1, "ae") || ctx_is(s, i + 1, "ap")) ||
        i + 2 >= s->nt || s->t[i + 2].kind != CTX_NUM || s->t[i + 2].flen != 5)
        return 0;
    if (!(s->t[i].shape & SH_NL) || i == 0)
        return i + 2;
    for (k = i; k-- > 0 && i - k < 6;) {
        if (ctx_is(s, k, "usns") || ctx_is(s, k, "usnv") || ctx_is(s, k, "uscgc") ||
            ctx_is(s, k, "uss") || ctx_is(s, k, "unit") || ctx_is(s, k, "psc") ||
            ctx_is(s, k, "cmr")) {
            *start = k;
            break;
        }
        if (s->t[k].shape & SH_NL)
            break;
    }
    return i + 2;
}

/* "zip code 98547", "code postal : 75002", "PLZ 10115". */
static bool postcode_cue(const struct ctx_scan *s, size_t i)
{
    static const char *const cues[] = {"zip", "zipcode",      "postcode", "postal",
                                       "plz", "postleitzahl", "cp"};
    if (s->t[i].kind != CTX_NUM || s->t[i].flen < 4 || s->t[i].flen > 5)
        return false;
    for (size_t k = i; k-- > 0 && i - k <= 4;)
        for (size_t c = 0; c < sizeof(cues) / sizeof(cues[0]); c++)
            if (ctx_is(s, k, cues[c]))
                return true;
    return false;
}

/* A number that ends something else: the year of "15/06/1985", the
 * last group of "1.2.3", a time "10:30". */
static bool glued_number(const struct ctx_scan *s, size_t i)
{
    const struct ctx_tok *p;
    if (!(s->t[i].shape & SH_DIGIT) || !ctx_adjacent(s, i))
        return false;
    p = &s->t[i - 1];
    return p->kind != CTX_PUNCT || strchr("/.-:,+", p->fold[0]) != NULL;
}

/* How far ahead of its first word an address's house number or English
 * street word can be: after_cue() reads up to four capitalized words before
 * the number, street_only() and by_shape() three, name_then_number() two. */
#define ANCHOR_AHEAD 4

void pii_ctx_address(struct ctx_scan *s)
{
    /* Whether the writer starts sentences in lower case ("rijksweg 145"). */
    bool writer_lower = false;
    /* The first token after the one at hand with a digit or an English
     * street word (s->nt: none). */
    size_t anchor = 0;
    for (size_t i = 0; i < s->nt && !s->oom; i++) {
        size_t start = i, e, e2;
        const char *det;
        unsigned found = 0;
        float conf = 0.85f;
        bool lower, special;
        if (s->t[i].kind == CTX_WORD && (s->t[i].shape & SH_SENT))
            writer_lower = !(s->t[i].shape & (SH_CAP | SH_UPPER));
        if (s->t[i].kind == CTX_PUNCT || s->t[i].used || glued_number(s, i))
            continue;
        /* Most words are lower case without a digit: every form below needs
         * a capital, a house number, a street, box or corner word first, or
         * (from a lower-case writer) a compound street word. */
        if (!(s->t[i].shape & (SH_CAP | SH_UPPER | SH_DIGIT)) &&
            !(s->t[i].lex & (LX_ST_BEFORE | LX_ADDR_START | LX_POBOX)) &&
            !(writer_lower && street_suffix(&s->t[i])))
            continue;
        /* Without a digit or a street, box or corner word of its own, a
         * word starts an address only with a house number or a street word
         * (after the name) among the next ANCHOR_AHEAD tokens. */
        if (!(s->t[i].shape & SH_DIGIT) &&
            !(s->t[i].lex & (LX_ST_BEFORE | LX_ADDR_START | LX_POBOX))) {
            if (anchor <= i) {
                anchor = i + 1;
                while (anchor < s->nt && !(s->t[anchor].shape & SH_DIGIT) &&
                       !(s->t[anchor].lex & LX_ST_AFTER))
                    anchor++;
            }
            if (anchor - i > ANCHOR_AHEAD)
                continue;
        }
        special = (s->t[i].lex & LX_ADDR_START) != 0;
        if (special && (e = military(s, i, &start)) != 0) {
            det = "address.military";
        } else if (special && (e = corner(s, i, &start)) != 0) {
            det = "address.corner";
            conf = 0.7f;
        } else if ((special || (s->t[i].lex & LX_POBOX)) && (e = po_box(s, i)) != 0) {
            det = "address.pobox";
        } else if ((e = type_first(s, i, &start)) != 0) {
            det = "address.type_first";
        } else if ((e = number_first(s, i)) != 0) {
            det = "address.en";
        } else if ((e = name_then_number(s, i, &start, writer_lower)) != 0) {
            det = "address.de";
        } else if ((e = after_cue(s, i)) != 0) {
            det = "address.cue";
            conf = 0.7f;
        } else if (postcode_cue(s, i)) {
            pii_ctx_emit(s, PARLEY_PII_ADDRESS, i, i, 0.8f, "address.postcode");
            continue;
        } else if ((e = street_only(s, i)) != 0) {
            det = "address.street";
            conf = 0.6f;
        } else if ((e = by_shape(s, i)) != 0) {
            det = "address.shape";
            conf = 0.7f;
        } else {
            continue;
        }
        /* A number just before the street ("60 Brogade 68", a building and
         * a street number), and a unit before that ("Apt. 722 40 rue..."). */
        for (int k = 0;
             k < 2 && start > 0 && housenum(s, start - 1) && !(s->t[start].shape & SH_NL) &&
             !s->t[start - 1].used && !glued_number(s, start - 1);
             k++)
            start--;
        if (start >= 2 && (s->t[start - 1].shape & SH_DIGIT) && !(s->t[start].shape & SH_NL) &&
            !(s->t[start - 1].shape & SH_NL)) {
            size_t u = start - 2;
            if (ctx_punct(s, u, '.') && u > 0 && !(s->t[u].shape & SH_NL))
                u--;
            if ((s->t[u].lex & LX_UNIT) && !s->t[u].used && s->t[u].kind == CTX_WORD)
                start = u;
        }
        lower = !(s->t[start].shape & (SH_CAP | SH_UPPER)) &&
                !(s->t[start + 1 <= e ? start + 1 : e].shape & (SH_CAP | SH_UPPER));
        e2 = extend(s, e, lower, &found);
        if (strcmp(det, "address.shape") == 0 && !(found & (EXT_UNIT | EXT_POST)))
            continue;
        if (found & (EXT_PLACE | EXT_POST))
            conf += 0.05f;
        pii_ctx_emit(s, PARLEY_PII_ADDRESS, start, e2, conf, det);
        for (size_t k = start; k <= e2; k++)
            s->t[k].used = 1;
        i = e2;
    }
}
