/* One customer message: language, intent and entities, then what to do
 * with it (answer the waiting step, resolve a clarification, start a
 * flow, change topic, answer from the knowledge base, or admit not
 * understanding), and the state and transcript stored afterwards. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "dialog/internal.h"

const parley_entity *dlg_entity(const struct dlg_turn *t, parley_entity_kind kind)
{
    for (size_t i = 0; i < t->nents && i < DLG_MAX_ENTITIES; i++)
        if (t->ents[i].kind == kind)
            return &t->ents[i];
    return NULL;
}

int dlg_yes_no(const struct dlg_turn *t)
{
    const parley_entity *e = dlg_entity(t, PARLEY_ENTITY_YESNO);
    if (e)
        return strcmp(e->value, "yes") == 0;
    if (t->pred.intent && t->pred.confidence >= 0.3) {
        if (strcmp(t->pred.intent, "affirm") == 0)
            return 1;
        if (strcmp(t->pred.intent, "deny") == 0)
            return 0;
    }
    return -1;
}

/* Words that make a yes a maybe, in the bot languages we ship (lower
 * case; matched as substrings of the lower-cased message). */
static const char *const hedges[] = {
    "maybe",
    "i guess",
    "i suppose",
    "probably",
    "not sure",
    "perhaps",
    "hmm",
    "dunno",
    "peut-etre",
    "peut-être",
    "peut etre",
    "je suppose",
    "je crois",
    "pas sur",
    "pas sûr",
    "bof",
    "quiza",
    "quizá",
    "tal vez",
    "supongo",
    "a lo mejor",
    "no se",
    "no sé",
    "creo que",
    "vielleicht",
    "vermutlich",
    "wahrscheinlich",
    "weiss nicht",
    "weiß nicht",
    "glaub schon",
    "ich denke schon",
    NULL,
};

int dlg_clear_yes(const struct dlg_turn *t)
{
    char low[256];
    size_t n = t->len < sizeof(low) - 1 ? t->len : sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((t->text[i] >= 'A' && t->text[i] <= 'Z') ? t->text[i] + 32 : t->text[i]);
    low[n] = '\0';
    for (size_t i = 0; hedges[i]; i++)
        if (strstr(low, hedges[i]))
            return 0;
    /* Without a yes word, the model's affirm must be more than a guess
     * ("listo, ya la acepté" is 0.42; "hmm" 0.30). */
    if (!dlg_entity(t, PARLEY_ENTITY_YESNO))
        return t->pred.intent && strcmp(t->pred.intent, "affirm") == 0 &&
               t->pred.confidence >= DLG_CLEAR_AFFIRM;
    return 1;
}

/* ---- understanding ---------------------------------------------------- */

/* Words with a letter in them (numbers and dates do not count). */
static size_t word_count(const char *s, size_t n)
{
    size_t w = 0;
    int in = 0, letter = 0;
    for (size_t i = 0; i <= n; i++) {
        int sp = i == n || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == ',';
        if (sp) {
            w += in && letter;
            in = letter = 0;
            continue;
        }
        in = 1;
        letter |= (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                  (unsigned char)s[i] >= 0x80;
    }
    return w;
}

/* Replies follow the customer's latest language, unless the message is
 * too short or unclear to tell (a number, "ok"): then the last one. */
static const char *pick_language(parley_dialog *d, struct dlg_state *st, const char *s, size_t n)
{
    parley_langid_result p;
    const char *cur = st->lang[0] ? st->lang : d->langs[0];
    size_t words = word_count(s, n);
    /* Names, numbers and one-word answers say little about the language:
     * they switch it only at the start of a conversation. */
    /* Answers to the identity questions are mostly names and dates, which
     * say little of the language: only a longer sentence switches it. */
    if ((st->id.stage == ID_PROOF || st->id.stage == ID_CODE) && words < 6)
        words = 0;
    if (d->nlangs > 1 && d->language && (words >= 3 || !st->lang[0]) &&
        parley_langid_predict_among(d->language, s, n, d->langs, d->nlangs, &p, NULL) ==
            PARLEY_OK &&
        (p.probability >= 0.9 || (words >= 3 && p.probability >= 0.6)))
        cur = p.language;
    for (size_t i = 0; i < d->nlangs; i++)
        if (strcmp(d->langs[i], cur) == 0)
            return d->langs[i];
    return d->langs[0];
}

static size_t lang_index(const parley_dialog *d, const char *lang)
{
    for (size_t i = 0; i < d->nlangs; i++)
        if (strcmp(d->langs[i], lang) == 0)
            return i;
    return 0;
}

/* Adds every string in `v` (lists of lists too) to the lexicon as a plan
 * or a city; returns how many were added. */
static int add_names(parley_entity_lexicon *lex, json_t *v, int plans)
{
    size_t i;
    json_t *e;
    int n = 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) n += add_names(lex, e, plans);
        return n;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > PARLEY_ENTITY_NAME_MAX)
        return 0;
    return (plans ? parley_entity_lexicon_add_plan(lex, NULL, json_string_value(v), NULL)
                  : parley_entity_lexicon_add_city(lex, json_string_value(v), NULL)) == PARLEY_OK;
}

/* Plans and cities the conversation has fetched become the lexicon the
 * entity extractor matches names against. */
static parley_entity_lexicon *lexicon(const struct dlg_state *st)
{
    parley_entity_lexicon *lex = NULL;
    int any = 0;
    for (size_t i = 0; i < st->nfacts; i++) {
        const struct dlg_fact *f = &st->facts[i];
        int plans = strcmp(f->name, "plan_names") == 0, cities = strstr(f->name, "cities") != NULL;
        json_t *v;
        if (!plans && !cities)
            continue;
        if (!lex && parley_entity_lexicon_new(&lex, NULL) != PARLEY_OK)
            return NULL;
        v = json_loads(f->json, JSON_DECODE_ANY, NULL);
        any |= add_names(lex, v, plans) > 0;
        json_decref(v);
    }
    if (!any) {
        parley_entity_lexicon_free(lex);
        return NULL;
    }
    return lex;
}

/* ---- deciding --------------------------------------------------------- */

static const parley_bot_flow *confident_flow(const struct dlg_turn *t)
{
    if (!t->pred.intent || t->pred.out_of_scope ||
        t->pred.confidence < parley_bot_confidence(t->d->bot))
        return NULL;
    return parley_bot_flow_for(t->d->bot, t->pred.intent);
}

/* Two intents with flows, close together: ask which one. */
static int ambiguous(struct dlg_turn *t)
{
    const parley_nlu_candidate *a = &t->pred.top[0], *b = &t->pred.top[1];
    if (t->pred.n_top < 2 ||
        a->confidence - b->confidence >= parley_bot_ambiguity_margin(t->d->bot) ||
        b->confidence < 0.2 || !parley_bot_flow_for(t->d->bot, a->intent) ||
        !parley_bot_flow_for(t->d->bot, b->intent))
        return 0;
    return 1;
}

void dlg_label_of(struct dlg_turn *t, const char *intent, struct parley_buf *b)
{
    char key[DLG_MAX_NAME + 8];
    (void)snprintf(key, sizeof(key), "label_%s", intent);
    if (!dlg_render(t, key, NULL, NULL, 0, b)) {
        *b = (struct parley_buf)PARLEY_BUF_INIT(0);
        (void)parley__buf_add(b, intent, strlen(intent));
    }
}

static const char *or_word(const char *lang)
{
    return strcmp(lang, "fr") == 0   ? " ou "
           : strcmp(lang, "es") == 0 ? " o "
           : strcmp(lang, "de") == 0 ? " oder "
                                     : " or ";
}

static void clarify(struct dlg_turn *t)
{
    struct parley_buf a, b, all = PARLEY_BUF_INIT(4096);
    const char *names[] = {"choices"}, *values[1];
    dlg_label_of(t, t->pred.top[0].intent, &a);
    dlg_label_of(t, t->pred.top[1].intent, &b);
    (void)parley__buf_add(&all, a.data ? a.data : "", a.len);
    (void)parley__buf_add(&all, or_word(t->lang), strlen(or_word(t->lang)));
    (void)parley__buf_add(&all, b.data ? b.data : "", b.len);
    values[0] = all.data ? all.data : "";
    (void)dlg_say_with(t, "clarify", names, values, 1);
    t->review = "clarify";
    t->st->nchoices = 2;
    (void)snprintf(t->st->choices[0], DLG_MAX_NAME, "%s", t->pred.top[0].intent);
    (void)snprintf(t->st->choices[1], DLG_MAX_NAME, "%s", t->pred.top[1].intent);
    t->st->wait = WAIT_CLARIFY;
    parley__buf_release(&a);
    parley__buf_release(&b);
    parley__buf_release(&all);
}

/* The customer answered a clarification: by number, or by words that
 * point to one of the offered intents more than the other. */
static const parley_bot_flow *resolve_choice(struct dlg_turn *t)
{
    struct dlg_state *st = t->st;
    const char *pick = NULL;
    for (size_t i = 0; i < t->len; i++)
        if (t->text[i] >= '1' && t->text[i] <= '0' + (int)st->nchoices && t->len <= 12)
            pick = st->choices[t->text[i] - '1'];
    if (!pick && t->pred.intent)
        for (size_t i = 0; i < st->nchoices; i++)
            if (strcmp(st->choices[i], t->pred.intent) == 0)
                pick = st->choices[i];
    if (!pick && t->pred.n_top > 1)
        for (size_t k = 0; k < t->pred.n_top && !pick; k++)
            for (size_t i = 0; i < st->nchoices; i++)
                if (strcmp(st->choices[i], t->pred.top[k].intent) == 0 &&
                    t->pred.top[k].confidence >= 0.1)
                    pick = st->choices[i];
    st->nchoices = 0;
    return pick ? parley_bot_flow_for(t->d->bot, pick) : NULL;
}

/* Questions no flow covers: the best knowledge article, if good enough. */
static int knowledge(struct dlg_turn *t)
{
    parley_kb_result r[1];
    size_t n = 0;
    const char *body;
    size_t len;
    if (!t->d->kb ||
        parley_kb_search(t->d->kb, t->lang, t->text, t->len, r, 1, &n, NULL) != PARLEY_OK || !n ||
        !parley_kb_confident(&r[0]))
        return 0;
    body = r[0].body;
    while (*body == '\n' || *body == ' ')
        body++;
    len = strlen(body);
    /* The first paragraph answers; the article goes on with details. */
    {
        const char *para = strstr(body, "\n\n");
        if (para)
            len = (size_t)(para - body);
    }
    while (len && (body[len - 1] == '\n' || body[len - 1] == ' '))
        len--;
    dlg_say_text(t, body, len);
    return 1;
}

static void not_understood(struct dlg_turn *t)
{
    t->review = "not_understood";
    if (++t->st->misses >= DLG_MAX_MISSES) {
        t->st->misses = 0;
        t->review = "handoff";
        dlg_handoff(t, NULL, "misunderstood");
        return;
    }
    if (t->st->wait == WAIT_STEP) {
        (void)dlg_say(t, "fallback");
        dlg_flow_reprompt(t);
        return;
    }
    (void)dlg_say(t, "fallback");
}

/* A flow ended this turn while another was suspended: offer it back. */
static void after_flow(struct dlg_turn *t, int short_detour)
{
    struct dlg_state *st = t->st;
    const char *names[] = {"topic"}, *values[1];
    struct parley_buf label;
    const parley_bot_flow *f;
    if (st->flow[0] || !st->susp_flow[0] || t->handoff)
        return;
    (void)snprintf(st->flow, sizeof(st->flow), "%s", st->susp_flow);
    f = dlg_current_flow(t);
    st->step = st->susp_step;
    st->susp_flow[0] = '\0';
    if (!f)
        return;
    if (short_detour) {
        st->wait = WAIT_STEP;
        dlg_flow_reprompt(t);
        return;
    }
    dlg_label_of(t, f->intent, &label);
    values[0] = label.data ? label.data : "";
    (void)dlg_say_with(t, "resume_offer", names, values, 1);
    parley__buf_release(&label);
    st->wait = WAIT_RESUME;
}

static void start(struct dlg_turn *t, const parley_bot_flow *f)
{
    int had_wait = t->st->wait == WAIT_STEP;
    t->st->misses = 0;
    if (had_wait && t->st->flow[0] && strcmp(t->st->flow, f->name) == 0) {
        dlg_flow_reprompt(t); /* the same request again: the question stands */
        return;
    }
    dlg_flow_start(t, f);
    after_flow(t, f->n_steps <= 1);
}

void dlg_decide(struct dlg_turn *t)
{
    struct dlg_state *st = t->st;
    const parley_bot_flow *f = confident_flow(t);
    int yn;

    if (dlg_identity_expire(t) == 2 && (!f || f->n_steps <= 1 || strcmp(f->name, st->flow) == 0)) {
        /* Back after the verification lapsed, in the middle of a flow that
         * uses the account: prove it again, then the flow goes on. */
        if (t->now - st->last_ms > t->d->idle_ms)
            (void)dlg_say(t, "welcome_back");
        (void)dlg_say(t, "identity_expired");
        /* Only a message with a date may already be the proof: a "yes"
         * to the pending question must not count as a failed attempt. */
        if (dlg_entity(t, PARLEY_ENTITY_DATE) && dlg_flow_answer(t))
            after_flow(t, 0);
        else
            dlg_flow_reprompt(t);
        return;
    }
    /* A reply to a proactive message (the latest thing the bot said)
     * answers it before anything else waiting; identity lapsed first. */
    if (dlg_offer_answer(t)) {
        st->misses = 0;
        return;
    }
    if (st->last_ms && t->now - st->last_ms > t->d->idle_ms && st->wait == WAIT_STEP &&
        (!f || f->n_steps <= 1)) {
        /* Back after a long silence ("hello again", "where were we"):
         * welcome back and repeat the pending question, unless the
         * message answers it. */
        (void)dlg_say(t, "welcome_back");
        if (dlg_flow_answer(t)) {
            after_flow(t, 0);
            return;
        }
        dlg_flow_reprompt(t);
        return;
    }
    switch (st->wait) {
    case WAIT_CLARIFY: {
        const parley_bot_flow *c = resolve_choice(t);
        st->wait = WAIT_NONE;
        if (c) {
            start(t, c);
            return;
        }
        break;
    }
    case WAIT_RESUME:
        yn = dlg_yes_no(t);
        /* An explicit yes or no answers the offer even when the words
         * also name the suspended request ("no, forget the plan change"). */
        if (yn >= 0 &&
            (!f || dlg_entity(t, PARLEY_ENTITY_YESNO) || strcmp(f->name, st->flow) == 0)) {
            st->wait = yn ? WAIT_STEP : WAIT_NONE;
            if (yn) {
                dlg_flow_reprompt(t);
            } else {
                st->flow[0] = '\0';
                st->step = -1;
                (void)dlg_say(t, "nothing_changed");
            }
            return;
        }
        st->flow[0] = '\0';
        st->wait = WAIT_NONE;
        break;
    case WAIT_KB_OFFER:
        st->wait = WAIT_NONE;
        yn = dlg_yes_no(t);
        if (yn == 1 && !f) {
            dlg_handoff(t, NULL, "no_answer");
            return;
        }
        if (yn == 0 && !f) {
            (void)dlg_say(t, "nothing_changed");
            return;
        }
        break;
    case WAIT_STEP:
        /* The waiting step goes first when the message answers it; a
         * confident other request is a change of topic. */
        if (dlg_flow_answer(t)) {
            st->misses = 0;
            after_flow(t, 0);
            return;
        }
        break;
    default:
        break;
    }
    if (f && !ambiguous(t)) {
        start(t, f);
        return;
    }
    if (ambiguous(t)) {
        clarify(t);
        return;
    }
    if (knowledge(t)) {
        st->misses = 0;
        if (st->wait == WAIT_STEP)
            dlg_flow_reprompt(t);
        return;
    }
    if (t->pred.intent && !t->pred.out_of_scope && t->pred.confidence >= 0.5 &&
        (strcmp(t->pred.intent, "affirm") == 0 || strcmp(t->pred.intent, "deny") == 0) &&
        st->wait == WAIT_NONE) {
        (void)dlg_say(t, "fallback");
        return;
    }
    if (st->wait == WAIT_NONE &&
        (t->pred.out_of_scope || (t->pred.intent && strcmp(t->pred.intent, "out_of_scope") == 0))) {
        t->review = "out_of_scope";
        if (++st->misses >= DLG_MAX_MISSES) {
            st->misses = 0;
            t->review = "handoff";
            dlg_handoff(t, NULL, "misunderstood");
            return;
        }
        (void)dlg_say(t, "kb_unknown");
        st->wait = WAIT_KB_OFFER;
        return;
    }
    not_understood(t);
}

/* ---- the turn --------------------------------------------------------- */

void dlg_refresh_entities(struct dlg_turn *t)
{
    parley_entity_lexicon *lex = lexicon(t->st);
    size_t n = 0;
    if (lex && parley_nlu_entities(t->text, t->len, t->lang, lex, t->ents, DLG_MAX_ENTITIES, &n,
                                   NULL) == PARLEY_OK)
        t->nents = n > DLG_MAX_ENTITIES ? DLG_MAX_ENTITIES : n;
    parley_entity_lexicon_free(lex);
}

void dlg_understand(struct dlg_turn *t, parley_nlu_ctx *ctx)
{
    parley_dialog *d = t->d;
    parley_entity_lexicon *lex = lexicon(t->st);
    size_t li;
    t->lang = pick_language(d, t->st, t->text, t->len);
    (void)snprintf(t->st->lang, sizeof(t->st->lang), "%s", t->lang);
    li = lang_index(d, t->lang);
    memset(&t->pred, 0, sizeof(t->pred));
    if (parley_nlu_predict(d->intent[li], ctx, t->text, t->len, 3, &t->pred, NULL) != PARLEY_OK)
        memset(&t->pred, 0, sizeof(t->pred));
    if (parley_nlu_entities(t->text, t->len, t->lang, lex, t->ents, DLG_MAX_ENTITIES, &t->nents,
                            NULL) != PARLEY_OK)
        t->nents = 0;
    if (t->nents > DLG_MAX_ENTITIES)
        t->nents = DLG_MAX_ENTITIES;
    parley_entity_lexicon_free(lex);
}
