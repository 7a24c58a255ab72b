/* Person names: after a cue ("my name is", "je m'appelle", "me llamo",
 * "ich heiße", "Name:"), after a title (Mr, Mme, Sra, Herr), after a
 * greeting ("Hi Ella", "Dear ..."), and without a cue when a capitalized
 * word is a listed given name (more sure when a capitalized surname follows,
 * less at the start of a sentence where a capital proves nothing) or a
 * capitalized word comes before a listed surname. */
#include "pii/context.h"

/* Most words in a name, particles and initials not counted. */
#define MAX_WORDS 3

/* A word that can be part of a name: letters (with inner ' and -), not a
 * function word or a listed non-name, capitalized unless `lower_ok`. */
static bool name_word(const struct ctx_scan *s, size_t i, bool lower_ok)
{
    const struct ctx_tok *t;
    if (i >= s->nt)
        return false;
    t = &s->t[i];
    if (t->kind != CTX_WORD || !(t->shape & SH_ALPHA) || t->used || t->flen < 2)
        return false;
    if (t->lex & (LX_NOTNAME | LX_TITLE | LX_ST_AFTER | LX_ST_BEFORE | LX_MONTH | LX_UNIT))
        return (t->lex & (LX_GIVEN | LX_SURNAME)) && !(t->lex & (LX_NOTNAME | LX_TITLE)) &&
               (t->shape & SH_CAP);
    if ((t->lex & LX_STOP) && !(t->lex & (LX_GIVEN | LX_SURNAME)))
        return false;
    return (t->shape & (SH_CAP | SH_UPPER)) || lower_ok;
}

/* Reads a name starting at token i: up to MAX_WORDS name words on one line,
 * with particles before a capitalized word ("van der Vlist", "de la Cruz")
 * and initials ("John F. Kennedy"). Returns the number of words and the
 * last token in *last. */
static size_t take_name(const struct ctx_scan *s, size_t i, bool lower_ok, size_t *last)
{
    size_t j = i, words = 0;
    while (j < s->nt && words < MAX_WORDS) {
        const struct ctx_tok *t = &s->t[j];
        if (words && (t->shape & SH_NL))
            break;
        if (name_word(s, j, lower_ok && words < 2)) {
            *last = j++;
            words++;
            /* a possessive ends the name: "Jose Sauvé's novel" */
            if (t->flen > 3 && t->fold[t->flen - 2] == '\'' && t->fold[t->flen - 1] == 's')
                break;
            continue;
        }
        if (!words)
            break;
        /* particles: at most two, then a capitalized word */
        if ((t->lex & LX_PARTICLE) && !(t->shape & SH_CAP)) {
            size_t k = j + 1;
            if (k < s->nt && (s->t[k].lex & LX_PARTICLE) && !(s->t[k].shape & SH_CAP))
                k++;
            if (name_word(s, k, false) && !(s->t[k].shape & SH_NL)) {
                j = k;
                continue;
            }
            break;
        }
        /* an initial: one capital letter and a period, then a name word */
        if (t->kind == CTX_WORD && t->flen == 1 && (t->shape & SH_CAP) &&
            ctx_punct(s, j + 1, '.') && name_word(s, j + 2, false)) {
            j += 2;
            continue;
        }
        break;
    }
    return words;
}

/* Cue phrases, folded, last word first (matched backwards from the name). */
static const struct cue {
    const char *w[4];
    bool strong; /* the next word is a name even in lower case */
} cues[] = {
    {{"is", "name", "my", NULL}, true},        {{"is", "name", NULL, NULL}, true},
    {{"name's", NULL, NULL, NULL}, true},      {{"me", "call", NULL, NULL}, true},
    {{"named", NULL, NULL, NULL}, true},       {{"i'm", NULL, NULL, NULL}, false},
    {{"am", "i", NULL, NULL}, false},          {{"is", "this", NULL, NULL}, false},
    {{"m'appelle", NULL, NULL, NULL}, true},   {{"est", "nom", "mon", NULL}, true},
    {{"appelez-moi", NULL, NULL, NULL}, true}, {{"suis", "je", NULL, NULL}, false},
    {{"c'est", NULL, NULL, NULL}, false},      {{"llamo", "me", NULL, NULL}, true},
    {{"es", "nombre", "mi", NULL}, true},      {{"llamame", NULL, NULL, NULL}, true},
    {{"soy", NULL, NULL, NULL}, false},        {{"heisse", "ich", NULL, NULL}, true},
    {{"ist", "name", "mein", NULL}, true},     {{"bin", "ich", NULL, NULL}, false},
    {{"spricht", "hier", NULL, NULL}, true},   {{"ist", "hier", NULL, NULL}, false},
    {{"nennen", NULL, NULL, NULL}, false},     {{"me", "calls", NULL, NULL}, true},
    {{"him", "named", NULL, NULL}, true},      {{"her", "named", NULL, NULL}, true},
    {{"me", "llaman", NULL, NULL}, true},      {{"m'appelle", "on", NULL, NULL}, true},
};

/* Speech verbs: a capitalized word right after one is a speaker ("said
 * Thea", "dit Marie", "dijo Ana", "sagte Jonas"). */
static const char *const speech[] = {
    "said", "says",     "asked",     "replied", "told",   "dit",        "demande", "repondit",
    "dijo", "pregunto", "respondio", "sagte",   "fragte", "antwortete", "meinte",
};

/* Labels followed by ':' ("Name: Jeremy Reyna", "Nom : Dupont"). */
static const char *const labels[] = {
    "name",      "nom",     "nombre",  "prenom",   "vorname", "nachname", "apellido",
    "apellidos", "contact", "kontakt", "customer", "client",  "cliente",  "kunde",
    "from",      "de",      "von",     "to",       "signed",  "firmado",  "signe",
};

/* Greetings and sign-offs after which a capitalized word is a person. */
static const char *const greetings[] = {
    "hi",        "hello",        "hey",     "dear",  "thanks",  "thank",   "bonjour", "salut",
    "merci",     "cher",         "chere",   "hola",  "gracias", "querido", "querida", "estimado",
    "estimada",  "hallo",        "danke",   "liebe", "lieber",  "bye",     "cheers",  "regards",
    "sincerely", "cordialement", "saludos", "gruss", "grusse",
};

static bool in(const char *const *list, size_t n, const struct ctx_tok *t)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(list[k], t->fold) == 0)
            return true;
    return false;
}

/* The cue before token i: 2 strong, 1 weak, 0 none. */
static int cue_before(const struct ctx_scan *s, size_t i)
{
    size_t k;
    if (i == 0)
        return 0;
    k = i - 1;
    if (ctx_punct(s, k, ':') && k > 0 &&
        in(labels, sizeof(labels) / sizeof(labels[0]), &s->t[k - 1]))
        return 2;
    for (size_t c = 0; c < sizeof(cues) / sizeof(cues[0]); c++) {
        size_t at = k, m = 0;
        while (m < 4 && cues[c].w[m] && ctx_is(s, at, cues[c].w[m])) {
            m++;
            if (m < 4 && cues[c].w[m] && at == 0)
                break;
            at--;
        }
        if (m == 4 || !cues[c].w[m])
            return cues[c].strong ? 2 : 1;
    }
    return 0;
}

/* A title before token i ("Mr.", "Mme", "Sra.", "Herr"); stores where it
 * starts. "M." and "D." count only capitalized. */
static bool title_before(const struct ctx_scan *s, size_t i, size_t *at)
{
    size_t k;
    if (i == 0)
        return false;
    k = i - 1;
    if (ctx_punct(s, k, '.') && k > 0)
        k--;
    *at = k;
    return (s->t[k].lex & LX_TITLE) && s->t[k].kind == CTX_WORD && !s->t[k].used &&
           ((s->t[k].shape & SH_CAP) || s->t[k].flen > 1);
}

static bool greeting_before(const struct ctx_scan *s, size_t i)
{
    size_t k;
    if (i == 0)
        return false;
    k = i - 1;
    if (ctx_punct(s, k, ',') && k > 0)
        k--;
    return s->t[k].kind == CTX_WORD &&
           (in(greetings, sizeof(greetings) / sizeof(greetings[0]), &s->t[k]) ||
            (k == i - 1 && in(speech, sizeof(speech) / sizeof(speech[0]), &s->t[k])));
}

static const char *const conjunctions[] = {"and", "&",  "et", "y",    "und",
                                           "or",  "ou", "o",  "oder", ","};

static bool coordinator(const struct ctx_scan *s, size_t k)
{
    return k < s->nt && in(conjunctions, sizeof(conjunctions) / sizeof(conjunctions[0]), &s->t[k]);
}

/* Emits the name in tokens [a, b] without a possessive "'s" at its end,
 * and, when a coordinated capitalized word comes just before it ("Nadbath,
 * Smith and Stanton"), that word too, less surely. */
static void found(struct ctx_scan *s, size_t a, size_t b, float conf, const char *det,
                  size_t *last_name)
{
    size_t end = s->t[b].end;
    const char *x = s->text;
    if (s->t[b].flen > 3 && end >= 2 && x[end - 1] == 's') {
        if (x[end - 2] == '\'')
            end -= 2;
        else if (end >= 4 && memcmp(x + end - 4, "\xE2\x80\x99", 3) == 0)
            end -= 4;
    }
    if (a >= 2 && coordinator(s, a - 1) && *last_name != a - 2 && name_word(s, a - 2, false) &&
        !(s->t[a - 2].shape & SH_SENT) && !(s->t[a - 2].lex & LX_AMBIG))
        pii_ctx_emit(s, PARLEY_PII_NAME, a - 2, a - 2, 0.6f, "name.list");
    pii_ctx_emit_bytes(s, PARLEY_PII_NAME, s->t[a].start, end, conf, det);
    *last_name = b;
}

void pii_ctx_names(struct ctx_scan *s)
{
    size_t last_name = (size_t)-1;
    for (size_t i = 0; i < s->nt && !s->oom; i++) {
        const struct ctx_tok *t = &s->t[i];
        size_t last = i, words, at = i;
        int cue;
        bool known;
        if (t->kind != CTX_WORD || t->used || !(t->shape & SH_ALPHA))
            continue;
        known = (t->lex & (LX_GIVEN | LX_SURNAME)) && !(t->lex & LX_AMBIG);
        cue = cue_before(s, i);
        if (cue) {
            words = take_name(s, i, cue == 2, &last);
            if (words && (cue == 2 || (t->shape & SH_CAP))) {
                found(s, i, last, cue == 2 || known ? 0.9f : 0.6f, "name.cue", &last_name);
                i = last;
                continue;
            }
        }
        if (!(t->shape & (SH_CAP | SH_UPPER))) {
            /* Lower-case text: a listed given name that is no ordinary word. */
            if ((t->lex & LX_GIVEN) && !(t->lex & (LX_AMBIG | LX_NOTNAME | LX_STOP)) &&
                name_word(s, i, true)) {
                last = i;
                if (i + 1 < s->nt && (s->t[i + 1].lex & LX_SURNAME) &&
                    !(s->t[i + 1].lex & LX_AMBIG) && !(s->t[i + 1].shape & SH_NL))
                    last = i + 1;
                found(s, i, last, last > i ? 0.6f : 0.5f, "name.list", &last_name);
                i = last;
            }
            continue;
        }
        if (title_before(s, i, &at) || greeting_before(s, i)) {
            /* The title is part of what identifies the person: kept in the span. */
            bool title = title_before(s, i, &at);
            words = take_name(s, i, false, &last);
            if (words) {
                float conf = title || known ? 0.85f : 0.6f;
                found(s, title ? at : i, last, conf, title ? "name.title" : "name.cue", &last_name);
                i = last;
                continue;
            }
        }
        /* "Smith and Stanton": a capitalized word coordinated with a name. */
        if (i >= 2 && last_name == i - 2 && coordinator(s, i - 1) && name_word(s, i, false) &&
            !(t->lex & LX_AMBIG) &&
            (i + 1 >= s->nt || s->t[i + 1].kind == CTX_PUNCT || coordinator(s, i + 1))) {
            take_name(s, i, false, &last);
            found(s, i, last, 0.6f, "name.list", &last_name);
            i = last;
            continue;
        }
        if ((t->lex & LX_GIVEN) && name_word(s, i, false)) {
            words = take_name(s, i, false, &last);
            if (words >= 2) {
                found(s, i, last, 0.85f, "name.list", &last_name);
            } else if (!(t->lex & LX_AMBIG)) {
                found(s, i, i, (t->shape & SH_SENT) ? 0.55f : 0.7f, "name.list", &last_name);
            }
            i = last;
            continue;
        }
        /* "Keiko Tanaka": a capitalized word before a listed surname. */
        if (name_word(s, i, false) && i + 1 < s->nt && (s->t[i + 1].lex & LX_SURNAME) &&
            !(s->t[i + 1].lex & LX_AMBIG) && (s->t[i + 1].shape & SH_CAP) &&
            name_word(s, i + 1, false) && !(s->t[i + 1].shape & SH_NL)) {
            take_name(s, i, false, &last);
            found(s, i, last, (t->shape & SH_SENT) ? 0.6f : 0.75f, "name.list", &last_name);
            i = last;
            continue;
        }
        /* A lone listed surname in mid-sentence: weak. */
        if ((t->lex & LX_SURNAME) && !(t->lex & LX_AMBIG) && !(t->shape & SH_SENT) &&
            name_word(s, i, false))
            found(s, i, i, 0.5f, "name.list", &last_name);
    }
}
