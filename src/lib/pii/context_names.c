/* Person names: after a cue ("my name is", "je m'appelle", "me llamo",
 * "ich heiße", "Name:"), a title (Mr, Mme, Sra, Herr, kept in the span), a
 * greeting ("Hi Ella,", "Dear ..."); as a speaker ("Judy here", "Judy
 * said") or an owner ("Soib's address"); and without a cue when a
 * capitalized word is a listed given name (more sure when a capitalized
 * surname follows, less at the start of a sentence where a capital proves
 * nothing), comes before a listed surname, or is coordinated with a name
 * found just before ("Tom and Mary"). docs/internals/pii-context.md has
 * the table of rules and confidences. */
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
        /* a third word must be listed, or follow a listed one: German
         * capitalizes every noun ("das Matt Murphy Lied") */
        if (words >= 2 && !(t->lex & (LX_GIVEN | LX_SURNAME)) &&
            !(s->t[*last].lex & (LX_GIVEN | LX_SURNAME)))
            break;
        if (name_word(s, j, lower_ok && words < 2 && !(t->lex & LX_PARTICLE))) {
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
    {{"nennen", NULL, NULL, NULL}, false},     {{"name", NULL, NULL, NULL}, false},
    {{"it's", NULL, NULL, NULL}, false},       {{"habla", NULL, NULL, NULL}, false},
    {{"me", "calls", NULL, NULL}, true},       {{"him", "named", NULL, NULL}, true},
    {{"her", "named", NULL, NULL}, true},      {{"me", "llaman", NULL, NULL}, true},
    {{"m'appelle", "on", NULL, NULL}, true},
};

/* The cue before token i: 2 strong, 1 weak, 0 none. */
static int cue_before(const struct ctx_scan *s, size_t i)
{
    size_t k;
    if (i == 0)
        return 0;
    k = i - 1;
    if (ctx_punct(s, k, ':') && k > 0 && (s->t[k - 1].lex & LX_LABEL))
        return (s->t[k - 1].lex & LX_NAME_LABEL) ? 2 : 1;
    if (!(s->t[k].lex & LX_CUE))
        return 0;
    for (size_t c = 0; c < sizeof(cues) / sizeof(cues[0]); c++) {
        size_t at = k, m = 0;
        if (cues[c].w[0][0] != s->t[k].fold[0])
            continue;
        while (m < 4 && cues[c].w[m] && ctx_is(s, at, cues[c].w[m])) {
            m++;
            if (m < 4 && cues[c].w[m] && at == 0)
                break;
            at--;
        }
        /* "me llamó" (called me) is not "me llamo" (my name is) */
        if ((m == 4 || !cues[c].w[m]) &&
            !(ctx_is(s, k, "llamo") && s->t[k].end - s->t[k].start != 5))
            return cues[c].strong ? 2 : 1;
    }
    return 0;
}

/* A title before token i ("Mr.", "Mme", "Sra.", "Herr"); stores where it
 * starts. "M." and "D." count only capitalized. */
static bool is_title(const struct ctx_scan *s, size_t k)
{
    return (s->t[k].lex & LX_TITLE) && s->t[k].kind == CTX_WORD && !s->t[k].used &&
           ((s->t[k].shape & SH_CAP) || s->t[k].flen > 1);
}

static bool title_before(const struct ctx_scan *s, size_t i, size_t *at)
{
    size_t k;
    if (i == 0)
        return false;
    k = i - 1;
    if (ctx_punct(s, k, '.') && k > 0)
        k--;
    if (!is_title(s, k))
        return false;
    *at = k;
    /* stacked titles: "Herr Dr. Müller", "Mrs. Prof. Smith" */
    if (k > 0) {
        size_t p = k - 1;
        if (ctx_punct(s, p, '.') && p > 0)
            p--;
        if (is_title(s, p) && !(s->t[k].shape & SH_NL))
            *at = p;
    }
    return true;
}

/* "Dear", "Cher", "Querido", "Liebe": a name follows, listed or not. */
static bool warm_greeting(const struct ctx_scan *s, size_t i)
{
    if (i > 0 && s->t[i - 1].fold[0] == 'l' && !(s->t[i - 1].shape & SH_SENT))
        return false; /* "liebe" only opening a letter */
    return i > 0 && (s->t[i - 1].lex & LX_WARM);
}

/* Right after a speech verb: "says Vedzizhev", "dit Marie". */
static bool after_speech(const struct ctx_scan *s, size_t i)
{
    return i > 0 && (s->t[i - 1].lex & LX_SPEECH);
}

static bool greeting_before(const struct ctx_scan *s, size_t i)
{
    size_t k;
    if (i == 0)
        return false;
    k = i - 1;
    if (ctx_punct(s, k, ',') && k > 0)
        k--;
    if (s->t[k].kind != CTX_WORD || !(s->t[k].lex & LX_GREET))
        return false;
    /* "Liebe Anna," opens a letter; "ich liebe Lasagne" is love (the warm
     * greetings in 'l' are "liebe" and "lieber") */
    if ((s->t[k].lex & LX_WARM) && s->t[k].fold[0] == 'l' && !(s->t[k].shape & SH_SENT))
        return false;
    /* LX_GREET holds the greetings and the speech verbs: a verb only
     * right before the name, not across a comma */
    return !(s->t[k].lex & LX_SPEECH) || k == i - 1;
}

/* "Judy here" at the end of a clause, or a speech verb right after the
 * word ("Jouko said"). */
static bool speaker_after(const struct ctx_scan *s, size_t i)
{
    uint32_t next;
    if (i + 1 >= s->nt || (s->t[i + 1].shape & SH_NL))
        return false;
    next = s->t[i + 1].lex;
    if ((next & LX_HERE) && s->t[i + 1].kind != CTX_PUNCT &&
        (i + 2 >= s->nt || s->t[i + 2].kind == CTX_PUNCT))
        return true;
    return (next & LX_SPOKE) != 0;
}

/* A capitalized "X's" before a word for something personal. */
static bool possessive_owner(const struct ctx_scan *s, size_t i, bool lower_ok)
{
    const struct ctx_tok *t = &s->t[i];
    if (t->flen < 4 || t->fold[t->flen - 2] != '\'' || t->fold[t->flen - 1] != 's' ||
        !(lower_ok || (t->shape & SH_CAP)) || i + 1 >= s->nt)
        return false;
    return (s->t[i + 1].lex & LX_THING) != 0;
}

static bool coordinator(const struct ctx_scan *s, size_t k)
{
    return k < s->nt && ((s->t[k].lex & LX_COORD) || ctx_punct(s, k, ',') || ctx_punct(s, k, '&'));
}

/* Emits the name in tokens [a, b] without a possessive "'s" at its end,
 * and, when a coordinated capitalized word comes just before it ("Nadbath,
 * Smith and Stanton"), that word too, less surely. */
static void found(struct ctx_scan *s, size_t a, size_t b, float conf, const char *det,
                  size_t *last_name)
{
    size_t end = s->t[b].end;
    const char *x = s->text;
    /* "Saint Vincent", "San Giovanni", "Ortiz LLC", "Wilson & Company" */
    if ((a > 0 && (s->t[a - 1].lex & LX_PLACE_PRE) && (s->t[a - 1].shape & SH_CAP)) ||
        (b + 1 < s->nt && (s->t[b + 1].lex & LX_ORG) && (s->t[b + 1].shape & SH_CAP)) ||
        (b + 2 < s->nt && ctx_punct(s, b + 1, '&') && (s->t[b + 2].lex & LX_ORG)))
        return;
    if (s->t[b].flen > 3 && end >= 2 && x[end - 1] == 's') {
        if (x[end - 2] == '\'')
            end -= 2;
        else if (end >= 4 && memcmp(x + end - 4, "\xE2\x80\x99", 3) == 0)
            end -= 4;
    }
    if (a >= 2 && coordinator(s, a - 1) && *last_name != a - 2 && name_word(s, a - 2, false) &&
        !(s->t[a - 2].lex & LX_AMBIG))
        pii_ctx_emit(s, PARLEY_PII_NAME, a - 2, a - 2, (s->t[a - 2].shape & SH_SENT) ? 0.55f : 0.6f,
                     "name.list");
    pii_ctx_emit_bytes(s, PARLEY_PII_NAME, s->t[a].start, end, conf, det);
    *last_name = b;
}

/* Stands in for the tokens before the first and after the last: no
 * word-list flags, no punctuation. */
static const struct ctx_tok none;

/* Whether a rule below can take token i. A word (letters only, not in an
 * address found already) that is capitalized, or is lower case from a
 * writer who starts sentences in lower case or comes after punctuation, a
 * cue or a title; and then each rule needs one of: a listed name word; a
 * cue, title or greeting right before it (or before a ':', '.' or ','
 * right before it); a name two tokens back ("Tom and Mary"); a surname,
 * speaker verb, "here" or personal thing right after it. Most words fail,
 * and which do is as good as random: the tests are combined without
 * branches (the tokens around taken from `none` at the ends) for one
 * branch on their result, mispredicted far less than one on each. */
static bool worth_a_look(const struct ctx_scan *s, size_t i, bool writer_lower, size_t last_name)
{
    const struct ctx_tok *t = &s->t[i];
    const struct ctx_tok *p = i > 0 ? t - 1 : &none, *pp = i > 1 ? t - 2 : &none;
    const struct ctx_tok *n = i + 1 < s->nt ? t + 1 : &none;
    bool p_punct = p->kind == CTX_PUNCT;
    /* the character of a one-byte punctuation mark before, else 0 */
    unsigned c = (unsigned char)p->fold[0] & (0u - (p_punct & (p->fold[1] == '\0')));
    bool look = (t->kind == CTX_WORD) & !t->used & ((t->shape & SH_ALPHA) != 0) &
                (((t->shape & (SH_CAP | SH_UPPER)) != 0) | writer_lower | p_punct |
                 ((p->lex & (LX_CUE | LX_TITLE)) != 0));
    uint32_t near = (t->lex & (LX_GIVEN | LX_SURNAME)) |
                    (n->lex & (LX_SURNAME | LX_SPOKE | LX_HERE | LX_THING)) |
                    (p->lex & (LX_CUE | LX_TITLE | LX_GREET)) | (c == ':') |
                    (pp->lex & (LX_TITLE | LX_GREET) & (0u - ((c == '.') | (c == ',')))) |
                    (i >= 2 && last_name == i - 2);
    return (near & (0u - look)) != 0;
}

void pii_ctx_names(struct ctx_scan *s)
{
    size_t last_name = (size_t)-1;
    /* Whether the writer starts sentences in lower case: only then is a
     * lower-case given name ("anders", "nina" from "niña") a name. */
    bool writer_lower = false;
    for (size_t i = 0; i < s->nt && !s->oom; i++) {
        const struct ctx_tok *t = &s->t[i];
        size_t last = i, words, at = i;
        int cue;
        bool known;
        if ((t->kind == CTX_WORD) & ((t->shape & SH_SENT) != 0))
            writer_lower = !(t->shape & (SH_CAP | SH_UPPER));
        /* Most words are lower case: from a writer who capitalizes, one is
         * a name only after a cue (its last word, or a label's ':') or a
         * title (or its '.'). */
        if (!worth_a_look(s, i, writer_lower, last_name))
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
        /* "mr. freeman" in lower-case text: a title and its period. */
        if (!(t->shape & (SH_CAP | SH_UPPER)) && title_before(s, i, &at) &&
            ctx_punct(s, at + 1, '.') && take_name(s, i, true, &last)) {
            found(s, at, last, 0.6f, "name.title", &last_name);
            i = last;
            continue;
        }
        if (!(t->shape & (SH_CAP | SH_UPPER))) {
            /* not "my mother's phone": no determiner before the owner */
            if (writer_lower && possessive_owner(s, i, true) && name_word(s, i, true) &&
                !(t->lex & (LX_NOTNAME | LX_STOP)) && i > 0 && !(s->t[i - 1].lex & LX_STOP) &&
                s->t[i - 1].kind == CTX_WORD) {
                found(s, i, i, 0.6f, "name.cue", &last_name);
                continue;
            }
            /* Lower-case text: a listed given name that is no ordinary word. */
            if (writer_lower && (t->lex & LX_GIVEN) && t->flen >= 4 &&
                !(t->lex & (LX_AMBIG | LX_NOTNAME | LX_STOP)) && name_word(s, i, true)) {
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
                /* "Hello World": after hi/hello a capital is weak evidence; after "Dear" strong */
                bool vocative = ctx_punct(s, last + 1, ',') || ctx_punct(s, last + 1, '!') ||
                                speaker_after(s, last);
                float conf = title || known                    ? 0.85f
                             : warm_greeting(s, i) || vocative ? 0.7f
                             : after_speech(s, i)              ? 0.65f
                                                               : 0.45f;
                found(s, title ? at : i, last, conf, title ? "name.title" : "name.cue", &last_name);
                i = last;
                continue;
            }
        }
        /* "Smith and Stanton": a capitalized word coordinated with a name. */
        if (i >= 2 && last_name == i - 2 && coordinator(s, i - 1) && name_word(s, i, false) &&
            (i + 1 >= s->nt || s->t[i + 1].kind == CTX_PUNCT || coordinator(s, i + 1))) {
            take_name(s, i, false, &last);
            found(s, i, last, (t->lex & LX_AMBIG) ? 0.55f : 0.6f, "name.list", &last_name);
            i = last;
            continue;
        }
        /* "Hi, Judy here." and "Judy said": a speaker named by what follows. */
        if (name_word(s, i, false) && !(t->lex & LX_AMBIG) && speaker_after(s, i)) {
            found(s, i, i, known ? 0.85f : 0.6f, "name.cue", &last_name);
            continue;
        }
        /* "Soib's address", "Kenneth's daughter": an owner of personal things. */
        if (possessive_owner(s, i, false) && name_word(s, i, false)) {
            found(s, i, i, 0.7f, "name.cue", &last_name);
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
            !(s->t[i + 1].lex & (LX_AMBIG | LX_GIVEN)) && (s->t[i + 1].shape & SH_CAP) &&
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
