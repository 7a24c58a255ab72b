/* Loads a bot folder's bot.yml and checks the whole definition (see tree.c,
 * sections.c and flows.c); builds the bot and holds its accessors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"
#include "parley/connect.h"
#include "parley/nlu.h"

/* ---- the bot ---------------------------------------------------------- */

static void check_root(struct ctx *c, yaml_node_t *root)
{
    static const char *const keys[] = {"version", "name",      "languages",  "nlu",
                                       "intents", "slots",     "connectors", "actions",
                                       "flows",   "responses", "identity",   "consents",
                                       "pii",     "events",    "proactive",  NULL};
    yaml_node_t *v[15];
    if (!root) {
        parley__bot_problem_at(c, c->path, 1, 1,
                               "empty bot definition (expected name, languages, ...)");
        return;
    }
    if (!parley__bot_is_kind(c, root, YAML_MAPPING_NODE, "the bot definition"))
        return;
    parley__bot_read_keys(c, root, keys, v, "the bot definition");
    if (v[0]) {
        const char *ver = parley__bot_scalar(c, v[0], "'version'");
        if (ver && strcmp(ver, "1") != 0)
            parley__bot_problem(c, v[0], "unsupported version '%s' (expected 1)", ver);
    }
    if (!v[1])
        parley__bot_problem(c, root, "missing 'name' (expected the bot's name)");
    else
        c->name = parley__bot_scalar(c, v[1], "'name'");
    parley__bot_read_languages(c, v[2]);
    parley__bot_read_nlu(c, v[3]);
    parley__bot_read_intents(c, v[4]);
    parley__bot_check_nlu_files(c);
    parley__bot_read_slots(c, v[5]);
    parley__bot_read_connectors(c, v[6]);
    parley__bot_read_actions(c, v[7]);
    parley__bot_read_identity(c, v[10]);
    parley__bot_read_responses(c, v[9]);
    parley__bot_read_flows(c, v[8]);
    parley__bot_read_consents(c, v[11]);
    parley__bot_read_pii(c, v[12]);
    parley__bot_read_events(c, v[13]);
    c->root = root;
    parley__bot_read_proactive(c, v[14], v[13]);
    parley__bot_check_engine_needs(c, root);
    for (size_t i = 0; i < c->nresponses; i++)
        if (!c->responses[i].used)
            parley__bot_check_placeholders(c, &c->responses[i], c->global, c->nglobal, NULL);
}

static char *dup(struct ctx *c, const char *s)
{
    char *p = parley__strdup(s ? s : "");
    if (!p)
        c->nomem = 1;
    return p;
}

static parley_bot *build(struct ctx *c)
{
    parley_bot *b = parley__calloc(1, sizeof(*b));
    if (!b) {
        c->nomem = 1;
        return NULL;
    }
    b->confidence = c->confidence;
    b->margin = c->margin;
    b->name = dup(c, c->name);
    b->langs = parley__calloc(c->nlangs + 1, sizeof(*b->langs));
    b->intents = parley__calloc(c->nintents + 1, sizeof(*b->intents));
    b->flows = parley__calloc(c->nflows + 1, sizeof(*b->flows));
    if (!b->langs || !b->intents || !b->flows) {
        c->nomem = 1;
        return b;
    }
    for (size_t i = 0; i < c->nlangs; i++, b->nlangs++) {
        b->langs[i].code = dup(c, c->langs[i].code);
        b->langs[i].nlu_path = dup(c, c->langs[i].nlu_path);
    }
    for (size_t i = 0; i < c->nintents; i++, b->nintents++)
        b->intents[i] = dup(c, c->intents[i].name);
    for (size_t i = 0; i < c->nflows; i++, b->nflows++) {
        b->flows[i].name = dup(c, c->flows[i].name);
        b->flows[i].intent = dup(c, c->flow_intent[i]);
        b->flows[i].nsteps = c->flow_steps[i];
    }
    if (!parley__bot_compile(c, b))
        c->nomem = 1;
    return b;
}

void parley_bot_free(parley_bot *b)
{
    if (!b)
        return;
    parley__free(b->name);
    for (size_t i = 0; i < b->nlangs; i++) {
        parley__free(b->langs[i].code);
        parley__free(b->langs[i].nlu_path);
    }
    parley__free(b->langs);
    for (size_t i = 0; i < b->nintents; i++)
        parley__free(b->intents[i]);
    parley__free(b->intents);
    for (size_t i = 0; i < b->nflows; i++) {
        parley__free(b->flows[i].name);
        parley__free(b->flows[i].intent);
    }
    parley__free(b->flows);
    parley__bot_free_runtime(b);
    parley__free(b);
}

/* Parses and checks bot.yml; builds the bot while the document (which the
 * tables borrow from) lives, when there was no problem. */
static parley_bot *parse_and_check(struct ctx *c, const char *buf, size_t len)
{
    parley_bot *bot = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        c->nomem = 1;
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        if (parser.error == YAML_MEMORY_ERROR)
            c->nomem = 1;
        else
            parley__bot_problem_at(c, c->path, (unsigned long)parser.problem_mark.line + 1,
                                   (unsigned long)parser.problem_mark.column + 1,
                                   "invalid yaml: %s%s%s",
                                   parser.problem ? parser.problem : "syntax error",
                                   parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    c->doc = &doc;
    check_root(c, yaml_document_get_root_node(&doc));
    if (!c->nomem && !c->rep->nomem && !c->rep->total)
        bot = build(c);
    if (bot && !c->nomem)
        parley__bot_check_trust(c, bot);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    c->doc = NULL;
    return bot;
}

parley_err parley_bot_load(const char *dir, parley_bot **out, parley_bot_report **report,
                           parley_error *err)
{
    struct ctx *c = NULL;
    parley_bot_report *rep = NULL;
    parley_bot *bot = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char *buf = NULL;
    size_t len = 0;
    parley_err rc = PARLEY_OK;

    if (!dir || !*dir || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load bot: bad argument");
    c = parley__calloc(1, sizeof(*c));
    rep = parley__calloc(1, sizeof(*rep));
    if (!c || !rep)
        goto nomem;
    c->dir = dir;
    c->rep = rep;
    c->confidence = 0.5;
    c->margin = 0.1;
    c->path = parley__bot_join_path(c, "bot.yml");
    if (!c->path)
        goto nomem;
    rc = parley__read_file(c->path, PARLEY_BOT_MAX_DEF, &buf, &len, &e);
    if (rc == PARLEY_ERR_NOMEM)
        goto nomem;
    if (rc != PARLEY_OK) {
        parley__bot_problem_at(c, c->path, 0, 0, "cannot read the bot definition: %s", e.msg);
        rc = parley_error_set(err, rc, "cannot load bot '%s': %s", dir, e.msg);
        goto out;
    }
    bot = parse_and_check(c, buf, len);
    if (c->nomem || rep->nomem) {
        parley_bot_free(bot);
        bot = NULL;
        goto nomem;
    }
    if (rep->total) {
        const parley_bot_problem *p = &rep->problems[0];
        parley__bot_report_sort(rep);
        rc = parley_error_set(
            err, PARLEY_ERR_FORMAT, "cannot load bot '%s': %s:%lu:%lu: %s (%zu problem%s in all)",
            dir, p->file, p->line, p->column, p->message, rep->total, rep->total == 1 ? "" : "s");
        goto out;
    }
    *out = bot;
    rc = PARLEY_OK;
    goto out;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load bot '%s': out of memory", dir);
    parley_bot_report_free(rep);
    rep = NULL;
out:
    if (c) {
        for (size_t i = 0; i < c->nlangs; i++)
            parley__free(c->langs[i].nlu_path);
        for (size_t i = 0; i < c->nconns; i++) {
            parley_connect_def_free(c->conns[i].def);
            parley__free(c->conns[i].path);
        }
        parley__free(c->path);
        parley__free(c);
    }
    parley__free(buf);
    if (report)
        *report = rep;
    else
        parley_bot_report_free(rep);
    return rc;
}

/* ---- accessors -------------------------------------------------------- */

const char *parley_bot_name(const parley_bot *b)
{
    return b ? b->name : NULL;
}

size_t parley_bot_language_count(const parley_bot *b)
{
    return b ? b->nlangs : 0;
}

const char *parley_bot_language(const parley_bot *b, size_t i)
{
    return b && i < b->nlangs ? b->langs[i].code : NULL;
}

const char *parley_bot_nlu_file(const parley_bot *b, const char *lang)
{
    if (!b || !lang)
        return NULL;
    for (size_t i = 0; i < b->nlangs; i++)
        if (strcmp(b->langs[i].code, lang) == 0)
            return b->langs[i].nlu_path;
    return NULL;
}

double parley_bot_confidence(const parley_bot *b)
{
    return b ? b->confidence : 0;
}

double parley_bot_ambiguity_margin(const parley_bot *b)
{
    return b ? b->margin : 0;
}

size_t parley_bot_intent_count(const parley_bot *b)
{
    return b ? b->nintents : 0;
}

const char *parley_bot_intent(const parley_bot *b, size_t i)
{
    return b && i < b->nintents ? b->intents[i] : NULL;
}

size_t parley_bot_flow_count(const parley_bot *b)
{
    return b ? b->nflows : 0;
}

const char *parley_bot_flow_name(const parley_bot *b, size_t i)
{
    return b && i < b->nflows ? b->flows[i].name : NULL;
}

const char *parley_bot_flow_intent(const parley_bot *b, size_t i)
{
    return b && i < b->nflows ? b->flows[i].intent : NULL;
}

size_t parley_bot_flow_step_count(const parley_bot *b, size_t i)
{
    return b && i < b->nflows ? b->flows[i].nsteps : 0;
}
