/* Entity extraction for the carrier bot: the public entry point, the
 * token stream it scans (raw byte spans, so entities report exact offsets,
 * with words case- and accent-folded for matching), the plan and city
 * lexicon, and yes/no answers. The number-shaped matchers are in
 * entities_parse.c; design notes in docs/internals/entities.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "nlu/entities_internal.h"
#include "parley/nlu.h"
#include "parley/text.h"

/* ----- token stream ------------------------------------------------ */

/* Decodes one code point of valid UTF-8 at s[0..n); returns its length. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    if (s[0] < 0x80 || n < 2) {
        *cp = s[0];
        return 1;
    }
    if (s[0] < 0xE0) {
        *cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        return 2;
    }
    if (s[0] < 0xF0 || n < 4) {
        *cp = n < 3 ? s[0] : ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        return n < 3 ? 1 : 3;
    }
    *cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
    return 4;
}

static bool is_space(unsigned cp)
{
    return cp == ' ' || (cp >= 9 && cp <= 13) || cp == 0xA0 || cp == 0x202F ||
           (cp >= 0x2000 && cp <= 0x200B) || cp == 0x3000 || cp == 0xFEFF;
}

/* Letters: ASCII letters and every non-ASCII code point outside the
 * symbol and punctuation blocks (so "€", "£", "º" and "’" stand alone). */
static bool is_letter(unsigned cp)
{
    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7)
        return false;
    if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
        (cp >= 0xFE10 && cp <= 0xFE6F) || (cp >= 0xFF01 && cp <= 0xFF0F) ||
        (cp >= 0x1F000 && cp <= 0x1FAFF))
        return false;
    return true;
}

/* Case and accent folding for the Latin letters of the four languages;
 * other letters are kept as they are. Returns the ASCII replacement or
 * NULL. */
static const char *fold_latin(unsigned cp)
{
    static const char *const latin1[64] = {
        "a", "a", "a", "a", "a", "a", "ae", "c",  "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c",  "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  NULL, "o", "u", "u", "u", "u", "y", "th", "y",
    };
    if (cp >= 0xC0 && cp <= 0xFF)
        return latin1[cp - 0xC0];
    if (cp == 0x152 || cp == 0x153)
        return "oe";
    return NULL;
}

static void tok_add(struct ent_tok *t, const char *bytes, size_t len)
{
    if (t->flen + len < sizeof(t->f)) {
        memcpy(t->f + t->flen, bytes, len);
        t->flen += len;
    } else {
        t->flen = sizeof(t->f); /* too long to match anything: poison */
    }
}

/* Splits s[0..n) (valid UTF-8) into at most `max` tokens. */
static size_t tokenize(const char *s, size_t n, struct ent_tok *toks, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, nt = 0;

    while (i < n && nt < max) {
        unsigned cp;
        size_t len = utf8_next(u + i, n - i, &cp);
        struct ent_tok *t = &toks[nt];

        if (is_space(cp)) {
            i += len;
            continue;
        }
        memset(t, 0, sizeof(*t));
        t->start = i;
        if (cp >= '0' && cp <= '9') {
            t->kind = ENT_NUM;
            while (i < n && u[i] >= '0' && u[i] <= '9') {
                if (t->flen < sizeof(t->f) - 1)
                    t->f[t->flen++] = (char)u[i];
                t->ndig++;
                i++;
            }
        } else if (is_letter(cp)) {
            t->kind = ENT_WORD;
            while (i < n) {
                const char *rep;
                len = utf8_next(u + i, n - i, &cp);
                if (!is_letter(cp))
                    break;
                rep = fold_latin(cp);
                if (cp < 0x80) {
                    char lc = (char)(cp | 0x20);
                    tok_add(t, &lc, 1);
                } else if (rep) {
                    tok_add(t, rep, strlen(rep));
                } else {
                    tok_add(t, s + i, len);
                }
                i += len;
            }
        } else {
            t->kind = ENT_PUNCT;
            t->cp = cp;
            i += len;
        }
        t->end = i;
        if (t->flen < sizeof(t->f))
            t->f[t->flen] = '\0';
        nt++;
    }
    return nt;
}

bool parley__ent_is(const struct ent_ctx *c, size_t i, const char *w)
{
    const struct ent_tok *t = &c->t[i];
    return i < c->nt && t->kind == ENT_WORD && !t->used && t->flen == strlen(w) &&
           memcmp(t->f, w, t->flen) == 0;
}

bool parley__ent_punct(const struct ent_ctx *c, size_t i, unsigned cp)
{
    return i < c->nt && c->t[i].kind == ENT_PUNCT && !c->t[i].used && c->t[i].cp == cp;
}

bool parley__ent_adjacent(const struct ent_ctx *c, size_t i)
{
    return i > 0 && i < c->nt && c->t[i].start == c->t[i - 1].end;
}

bool parley__ent_free_span(const struct ent_ctx *c, size_t from, size_t to)
{
    if (to > c->nt || from >= to)
        return false;
    for (size_t k = from; k < to; k++)
        if (c->t[k].used)
            return false;
    return true;
}

void parley__ent_emit(struct ent_ctx *c, parley_entity_kind kind, size_t from, size_t to,
                      const char *value, double number)
{
    parley_entity *e;

    if (!parley__ent_free_span(c, from, to) || c->nfound >= c->capfound)
        return;
    e = &c->found[c->nfound++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->start = c->t[from].start;
    e->end = c->t[to - 1].end;
    (void)snprintf(e->value, sizeof(e->value), "%s", value);
    e->number = number;
    for (size_t k = from; k < to; k++)
        c->t[k].used = true;
}

/* ----- lexicon ----------------------------------------------------- */

struct lex_entry {
    char value[PARLEY_ENTITY_NAME_MAX + 1];
    char full[128]; /* folded words joined by one space */
    char core[128]; /* without generic words; "" if the same as full */
    char head[64];  /* first word of core if it has several, else "" */
    size_t words;   /* words in full */
};

struct parley_entity_lexicon {
    struct lex_entry *plans;
    size_t n_plans, cap_plans;
    struct lex_entry *cities;
    size_t n_cities, cap_cities;
};

/* Words that name the kind of thing rather than the plan. */
static const char *const generic_words[] = {
    "plan",       "plans", "forfait", "offre",  "tarif",  "tarifa", "paquete",
    "abonnement", "abo",   "package", "bundle", "option", "the",    "le",
    "la",         "el",    "der",     "die",    "das",
};

static bool is_generic(const char *w)
{
    for (size_t k = 0; k < sizeof(generic_words) / sizeof(generic_words[0]); k++)
        if (strcmp(w, generic_words[k]) == 0)
            return true;
    return false;
}

/* Appends word `w` to the space-joined `dst` of size `cap`. */
static bool join(char *dst, size_t cap, const char *w, size_t wlen)
{
    size_t len = strlen(dst), need = len + (len ? 1 : 0) + wlen;
    if (need >= cap)
        return false;
    if (len)
        dst[len++] = ' ';
    memcpy(dst + len, w, wlen);
    dst[len + wlen] = '\0';
    return true;
}

static parley_err lex_add(struct lex_entry **arr, size_t *n, size_t *cap, size_t limit,
                          const char *what, const char *id, const char *name, parley_error *err)
{
    struct ent_tok toks[64];
    struct lex_entry e;
    size_t len, nt, bad = 0;

    if (!name || !*name)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot add %s: empty name", what);
    len = strlen(name);
    if (len > PARLEY_ENTITY_NAME_MAX || (id && strlen(id) > PARLEY_ENTITY_NAME_MAX))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot add %s '%.40s...': longer than %d bytes", what, name,
                                PARLEY_ENTITY_NAME_MAX);
    if (parley_text_validate(name, len, &bad, NULL) != PARLEY_OK ||
        (id && parley_text_validate(id, strlen(id), &bad, NULL) != PARLEY_OK))
        return parley_error_set(err, PARLEY_ERR_UTF8, "cannot add %s: invalid UTF-8 at byte %zu",
                                what, bad);
    if (*n >= limit)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "cannot add %s '%s': more than %zu", what,
                                name, limit);
    memset(&e, 0, sizeof(e));
    (void)snprintf(e.value, sizeof(e.value), "%s", id ? id : name);
    nt = tokenize(name, len, toks, 64);
    for (size_t k = 0; k < nt; k++) {
        if (toks[k].kind == ENT_PUNCT)
            continue;
        if (toks[k].flen >= sizeof(toks[k].f) ||
            !join(e.full, sizeof(e.full), toks[k].f, toks[k].flen))
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot add %s '%s': a word is too long", what, name);
        e.words++;
        if (!is_generic(toks[k].f)) {
            if (!e.core[0] && !e.head[0])
                (void)join(e.head, sizeof(e.head), toks[k].f, toks[k].flen);
            (void)join(e.core, sizeof(e.core), toks[k].f, toks[k].flen);
        }
    }
    if (e.words == 0)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot add %s '%s': no words", what,
                                name);
    /* The head alone is only worth matching if it is a long word and not
     * the whole name already. */
    if (strlen(e.head) < 5 || strchr(e.core, ' ') == NULL)
        e.head[0] = '\0';
    if (strcmp(e.core, e.full) == 0 || !e.core[0])
        e.core[0] = '\0';
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct lex_entry *p = parley__realloc(*arr, ncap * sizeof(**arr));
        if (!p)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot add %s '%s': out of memory",
                                    what, name);
        *arr = p;
        *cap = ncap;
    }
    (*arr)[(*n)++] = e;
    return PARLEY_OK;
}

parley_err parley_entity_lexicon_new(parley_entity_lexicon **out, parley_error *err)
{
    parley_entity_lexicon *lex;

    if (!out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot create lexicon: no output");
    lex = parley__calloc(1, sizeof(*lex));
    if (!lex)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot create lexicon: out of memory");
    *out = lex;
    return PARLEY_OK;
}

parley_err parley_entity_lexicon_add_plan(parley_entity_lexicon *lex, const char *id,
                                          const char *name, parley_error *err)
{
    if (!lex)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot add plan: no lexicon");
    return lex_add(&lex->plans, &lex->n_plans, &lex->cap_plans, PARLEY_ENTITY_MAX_PLANS, "plan", id,
                   name, err);
}

parley_err parley_entity_lexicon_add_city(parley_entity_lexicon *lex, const char *name,
                                          parley_error *err)
{
    if (!lex)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot add city: no lexicon");
    return lex_add(&lex->cities, &lex->n_cities, &lex->cap_cities, PARLEY_ENTITY_MAX_CITIES, "city",
                   NULL, name, err);
}

void parley_entity_lexicon_free(parley_entity_lexicon *lex)
{
    if (!lex)
        return;
    parley__free(lex->plans);
    parley__free(lex->cities);
    parley__free(lex);
}

/* Levenshtein distance of a and b, or max+1 if it exceeds max. */
static size_t edit_distance(const char *a, const char *b, size_t max)
{
    size_t la = strlen(a), lb = strlen(b), row[128], prev_diag;

    if ((la > lb ? la - lb : lb - la) > max || la >= 128 || lb >= 128)
        return max + 1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t best = row[0] = i;
        prev_diag = i - 1;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], v = prev_diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            prev_diag = up;
            row[j] = v;
            if (v < best)
                best = v;
        }
        if (best > max)
            return max + 1;
    }
    return row[lb];
}

static size_t allowed_edits(const char *target)
{
    size_t len = strlen(target);
    return len <= 4 ? 0 : len <= 8 ? 1 : 2;
}

static bool head_unique(const parley_entity_lexicon *lex, const struct lex_entry *e)
{
    for (size_t k = 0; k < lex->n_plans; k++)
        if (&lex->plans[k] != e && strcmp(lex->plans[k].head, e->head) == 0)
            return false;
    return true;
}

/* Joins `len` folded words from token i (all unclaimed; hyphens and
 * apostrophes between them are skipped, as in "Saint-Étienne") into buf,
 * and stores the token after the last word in *end. */
static bool window(const struct ent_ctx *c, size_t i, size_t len, char *buf, size_t cap,
                   bool *all_generic, size_t *end)
{
    size_t k = i;

    buf[0] = '\0';
    *all_generic = true;
    for (size_t w = 0; w < len; w++, k++) {
        while (w > 0 && k + 1 < c->nt && parley__ent_adjacent(c, k) &&
               (parley__ent_punct(c, k, '-') || parley__ent_punct(c, k, '\'')))
            k++;
        if (k >= c->nt || c->t[k].used || c->t[k].kind != ENT_WORD ||
            c->t[k].flen >= sizeof(c->t[k].f) || !join(buf, cap, c->t[k].f, c->t[k].flen))
            return false;
        if (!is_generic(c->t[k].f))
            *all_generic = false;
    }
    *end = k;
    return true;
}

static void match_lexicon(struct ent_ctx *c)
{
    const parley_entity_lexicon *lex = c->lex;
    char buf[160];

    for (size_t i = 0; i < c->nt; i++) {
        for (size_t len = 4; len >= 1; len--) {
            const struct lex_entry *best = NULL, *plan = NULL;
            size_t best_d = 99;
            parley_entity_kind kind = PARLEY_ENTITY_CITY;
            bool generic;
            size_t end = i;
            if (!window(c, i, len, buf, sizeof(buf), &generic, &end) || generic)
                continue;
            for (size_t k = 0; k < lex->n_cities; k++)
                if (strcmp(lex->cities[k].full, buf) == 0) {
                    best = &lex->cities[k];
                    best_d = 0;
                    break;
                }
            for (size_t k = 0; !best && k < lex->n_plans; k++) {
                const struct lex_entry *e = &lex->plans[k];
                const char *forms[3] = {e->full, e->core, e->head};
                for (size_t f = 0; f < 3; f++) {
                    size_t d;
                    if (!forms[f][0] || (f == 2 && !head_unique(lex, e)))
                        continue;
                    d = edit_distance(buf, forms[f], allowed_edits(forms[f]));
                    if (d <= allowed_edits(forms[f]) && d < best_d) {
                        best_d = d;
                        plan = e;
                    }
                }
            }
            if (!best && plan) {
                best = plan;
                kind = PARLEY_ENTITY_PLAN;
            }
            if (best) {
                parley__ent_emit(c, kind, i, end, best->value, (double)best_d);
                i = end - 1;
                break;
            }
        }
    }
}

/* ----- yes / no ---------------------------------------------------- */

struct answer {
    const char *w[3]; /* folded words in a row */
    int yes;
    int guarded; /* 1: only at the end or before punctuation or a follow
                    word; 2: only at the end or before punctuation */
};

static const struct answer answers[] = {
    {{"go", "ahead"}, 1, 0},
    {{"do", "it"}, 1, 0},
    {{"vas", "y"}, 1, 0},
    {{"allez", "y"}, 1, 0},
    {{"bien", "sur"}, 1, 0},
    {{"of", "course"}, 1, 0},
    {{"por", "supuesto"}, 1, 0},
    {{"d", "accord"}, 1, 0},
    {{"na", "klar"}, 1, 0},
    {{"yes"}, 1, 0},
    {{"yeah"}, 1, 0},
    {{"yep"}, 1, 0},
    {{"yup"}, 1, 0},
    {{"sure"}, 1, 0},
    {{"ok"}, 1, 0},
    {{"okay"}, 1, 0},
    {{"oui"}, 1, 0},
    {{"ouais"}, 1, 0},
    {{"claro"}, 1, 0},
    {{"vale"}, 1, 0},
    {{"ja"}, 1, 0},
    {{"jawohl"}, 1, 0},
    {{"genau"}, 1, 0},
    {{"klar"}, 1, 0},
    {{"absolutely"}, 1, 0},
    {{"correct"}, 1, 0},
    {{"exactement"}, 1, 0},
    {{"si"}, 1, 2},
    {{"no"}, 0, 1},
    {{"non"}, 0, 1},
    {{"nope"}, 0, 0},
    {{"nah"}, 0, 0},
    {{"nein"}, 0, 0},
    {{"noo"}, 0, 0},
    {{"never"}, 0, 0},
    {{"jamais"}, 0, 0},
    {{"nunca"}, 0, 0},
    {{"niemals"}, 0, 0},
    {{"not", "really"}, 0, 0},
};

/* Words that may follow a bare "no"/"non"/"si" in a reply ("no thanks",
 * "non merci"), as opposed to "no service". */
static const char *const follow_words[] = {
    "thanks", "thank", "thx",   "merci", "danke",  "gracias",  "please", "way",      "i",   "it",
    "not",    "need",  "je",    "ca",    "pas",    "ich",      "quiero", "necesito", "por", "sorry",
    "that",   "hace",  "claro", "senor", "madame", "monsieur", "sir",    "vas",      "c",   "we",
};

static const char *const negators[] = {"not", "dont", "don", "pas", "nicht", "never", "ne", "no"};

static bool guard_ok(const struct ent_ctx *c, size_t j, int level)
{
    if (j >= c->nt || c->t[j].kind == ENT_PUNCT)
        return true;
    if (level > 1)
        return false;
    for (size_t k = 0; k < sizeof(follow_words) / sizeof(follow_words[0]); k++)
        if (parley__ent_is(c, j, follow_words[k]))
            return true;
    return false;
}

/* A yes word with a negator among the two words before it means no
 * ("not ok", "don't do it", "pas d'accord"). */
static bool negated(const struct ent_ctx *c, size_t i)
{
    for (size_t back = 1, seen = 0; back <= i && seen < 2; back++) {
        size_t k = i - back;
        if (c->t[k].kind == ENT_PUNCT) {
            if (c->t[k].cp == '\'' || c->t[k].cp == 0x2019)
                continue;
            return false;
        }
        seen++;
        for (size_t q = 0; q < sizeof(negators) / sizeof(negators[0]); q++)
            if (parley__ent_is(c, k, negators[q]))
                return true;
    }
    return false;
}

/* The first yes/no answer in the text, if any. Words are matched on word
 * tokens only, so "vas-y" and "d'accord" match across their punctuation. */
static void match_yesno(struct ent_ctx *c)
{
    for (size_t i = 0; i < c->nt; i++) {
        if (c->t[i].kind != ENT_WORD || c->t[i].used)
            continue;
        for (size_t a = 0; a < sizeof(answers) / sizeof(answers[0]); a++) {
            const struct answer *an = &answers[a];
            size_t j = i, w = 0;
            int yes = an->yes;
            for (; w < 3 && an->w[w]; w++) {
                while (w > 0 && j < c->nt && c->t[j].kind == ENT_PUNCT &&
                       (c->t[j].cp == '-' || c->t[j].cp == '\'' || c->t[j].cp == 0x2019))
                    j++;
                if (!parley__ent_is(c, j, an->w[w]))
                    break;
                j++;
            }
            if (w < 3 && an->w[w])
                continue;
            if (an->guarded && !guard_ok(c, j, an->guarded)) {
                /* "sí" with its accent is always yes. */
                if (!(an->yes && c->t[i].end - c->t[i].start == 3))
                    continue;
            }
            if (yes && negated(c, i))
                yes = 0;
            parley__ent_emit(c, PARLEY_ENTITY_YESNO, i, j, yes ? "yes" : "no", yes);
            return;
        }
    }
}

/* ----- entry point ------------------------------------------------- */

const char *parley_entity_kind_name(parley_entity_kind kind)
{
    switch (kind) {
    case PARLEY_ENTITY_PHONE:
        return "phone";
    case PARLEY_ENTITY_DATA_AMOUNT:
        return "data_amount";
    case PARLEY_ENTITY_MONEY:
        return "money";
    case PARLEY_ENTITY_DATE:
        return "date";
    case PARLEY_ENTITY_YESNO:
        return "yesno";
    case PARLEY_ENTITY_PLAN:
        return "plan";
    case PARLEY_ENTITY_CITY:
        return "city";
    }
    return "unknown";
}

static int by_start(const void *a, const void *b)
{
    const parley_entity *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

parley_err parley_nlu_entities(const char *text, size_t n, const char *lang,
                               const parley_entity_lexicon *lex, parley_entity *out, size_t max,
                               size_t *count, parley_error *err)
{
    struct ent_ctx c;
    parley_err rc = PARLEY_OK;
    size_t bad = 0;

    memset(&c, 0, sizeof(c));
    if ((!text && n > 0) || !count || (!out && max > 0))
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot extract entities: %s",
                                !count ? "no count output" : "no text or output array");
    if (!lang)
        c.lang = ENT_ANY;
    else if (strcmp(lang, "en") == 0)
        c.lang = ENT_EN;
    else if (strcmp(lang, "fr") == 0)
        c.lang = ENT_FR;
    else if (strcmp(lang, "es") == 0)
        c.lang = ENT_ES;
    else if (strcmp(lang, "de") == 0)
        c.lang = ENT_DE;
    else
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot extract entities: unknown language '%.16s' (use en, fr, "
                                "es, de or none)",
                                lang);
    if (n > PARLEY_ENTITY_MAX_TEXT)
        return parley_error_set(err, PARLEY_ERR_LIMIT,
                                "cannot extract entities: text of %zu bytes is longer than %u", n,
                                PARLEY_ENTITY_MAX_TEXT);
    if (n > 0 && parley_text_validate(text, n, &bad, NULL) != PARLEY_OK)
        return parley_error_set(err, PARLEY_ERR_UTF8,
                                "cannot extract entities: invalid UTF-8 at byte %zu", bad);
    if (n == 0) {
        *count = 0;
        return PARLEY_OK;
    }
    c.s = text;
    c.n = n;
    c.lex = lex;
    c.t = parley__mallocarray(n, sizeof(*c.t));
    c.found = parley__mallocarray(n, sizeof(*c.found));
    if (!c.t || !c.found) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot extract entities: out of memory");
        goto out;
    }
    c.capfound = n;
    c.nt = tokenize(text, n, c.t, n);

    parley__ent_dates(&c);
    parley__ent_phones(&c);
    parley__ent_money(&c);
    parley__ent_data(&c);
    if (lex)
        match_lexicon(&c);
    match_yesno(&c);

    qsort(c.found, c.nfound, sizeof(*c.found), by_start);
    if (c.nfound > 0 && max > 0)
        memcpy(out, c.found, (c.nfound < max ? c.nfound : max) * sizeof(*out));
    *count = c.nfound;
out:
    /* Tokens hold folded customer text. */
    if (c.t)
        parley__free_secure(c.t, n * sizeof(*c.t));
    if (c.found)
        parley__free_secure(c.found, n * sizeof(*c.found));
    return rc;
}
