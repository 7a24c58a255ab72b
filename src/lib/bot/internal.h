/* Private declarations of the bot module: the loaded bot and the problem
 * report shared by load.c and report.c, and the loader's state and helpers
 * shared by load.c, tree.c, sections.c and flows.c. */
#ifndef PARLEY_BOT_INTERNAL_H
#define PARLEY_BOT_INTERNAL_H

#include <stddef.h>

#include <yaml.h>

#include "common/internal.h"
#include "parley/bot.h"
#include "parley/pii.h"
#include "parley/connect.h"

struct parley_bot_report {
    parley_bot_problem *problems; /* strings owned */
    size_t n, cap;
    size_t total;
    int nomem;
};

/* Adds a problem (copying file and message); counts it past the cap and
 * sets r->nomem when memory runs out. */
void parley__bot_report_add(parley_bot_report *r, const char *file, unsigned long line,
                            unsigned long column, const char *msg);
/* Sorts by file, line, column, keeping the order of equal positions. */
void parley__bot_report_sort(parley_bot_report *r);

struct bot_flow_info {
    char *name;
    char *intent;
    size_t nsteps;
};

struct bot_lang_info {
    char *code;
    char *nlu_path;
};

/* Allocation blocks the runtime tables live in, freed together. */
struct bot_block {
    struct bot_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

struct bot_response {
    const char *key;
    const char **texts; /* one per language, in language order */
};

struct parley_bot {
    char *name;
    struct bot_lang_info *langs;
    size_t nlangs;
    char **intents;
    size_t nintents;
    struct bot_flow_info *flows;
    size_t nflows;
    double confidence, margin;

    /* runtime tables (runtime.c), in `blocks` */
    struct bot_block *blocks;
    const char *dir;
    parley_bot_flow *rflows;
    parley_bot_slot *slots;
    size_t nslots;
    parley_bot_action *actions;
    size_t nactions;
    struct bot_response *responses;
    size_t nresponses;
    parley_connect_def **conns; /* owned */
    size_t nconns;
    parley_bot_identity identity;
    int has_identity;
    parley_bot_consent *consents;
    size_t nconsents;
    parley_pii_identifier *pii_ids; /* declared identifiers (pii.c) */
    size_t npii_ids;
    parley_bot_event_type *event_types; /* the 'events' section (events.c) */
    size_t nevent_types;
    parley_bot_proactive proactive; /* the 'proactive' section (rules.c) */
    /* "FILE:LINE:COLUMN: warning: ..." lines (trustcheck.c), in `blocks` */
    const char **warnings;
    size_t nwarnings;
};

/* ---- the loader (load.c, tree.c, sections.c, flows.c) ---------------- */

#define MAX_LANGS      16
#define MAX_INTENTS    512
#define MAX_SLOTS      128
#define MAX_CONNECTORS 8
#define MAX_ACTIONS    256
#define MAX_FLOWS      256
#define MAX_STEPS      128
#define MAX_EDGES      (MAX_STEPS * 8)
#define MAX_PROVIDED   512
#define MAX_RESPONSES  2048

struct named {
    const char *name;
    yaml_node_t *node; /* where it is declared (the key) */
    yaml_node_t *value;
};

struct lang {
    const char *code;
    yaml_node_t *node;
    const char *nlu_rel;
    yaml_node_t *nlu_node;
    char *nlu_path;
};

struct slot {
    const char *name;
    yaml_node_t *node;
};

struct connector {
    parley_connect_def *def; /* NULL when it failed to load */
    char *path;
};

struct action {
    const char *name;
    yaml_node_t *node;
    struct connector *conn; /* NULL: unresolved */
    const char *op;         /* operation name, valid in conn->def */
};

struct response {
    const char *key;
    yaml_node_t *node;
    yaml_node_t *value;
    int used;
};

struct ctx {
    yaml_node_t *root; /* the document's top mapping */
    const char *dir;
    char *path; /* dir/bot.yml */
    yaml_document_t *doc;
    parley_bot_report *rep;
    int nomem;

    const char *name;
    double confidence, margin;
    struct lang langs[MAX_LANGS];
    size_t nlangs;
    struct named intents[MAX_INTENTS];
    size_t nintents;
    struct slot slots[MAX_SLOTS];
    size_t nslots;
    struct connector conns[MAX_CONNECTORS];
    size_t nconns;
    struct action actions[MAX_ACTIONS];
    size_t nactions;
    struct named flows[MAX_FLOWS];
    size_t nflows;
    const char *flow_intent[MAX_FLOWS];
    size_t flow_steps[MAX_FLOWS];
    int flow_has_verify[MAX_FLOWS];
    int has_identity;
    struct response responses[MAX_RESPONSES];
    size_t nresponses;
    /* Every fact any action or verify_identity can provide, and every slot:
     * what a response no flow uses may name. */
    const char *global[MAX_PROVIDED];
    size_t nglobal;
};

#define FOR_PAIRS(node, p)                                                                         \
    for (yaml_node_pair_t *p = (node)->data.mapping.pairs.start;                                   \
         p < (node)->data.mapping.pairs.top; p++)
#define FOR_ITEMS(node, it)                                                                        \
    for (yaml_node_item_t *it = (node)->data.sequence.items.start;                                 \
         it < (node)->data.sequence.items.top; it++)

/* Facts the verify_identity step provides once the customer is verified. */
extern const char *const parley__bot_identity_facts[];
/* Responses the engine says itself; intents that need no label_ response. */
extern const char *const parley__bot_engine_responses[];
extern const char *const parley__bot_unlabelled_intents[];
/* Names the engine fills in its own responses ({choices}, {topic}...). */
extern const char *const parley__bot_engine_names[];

/* A problem at node `n` of bot.yml. */
void parley__bot_problem(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
    PARLEY_PRINTF(3, 4);
void parley__bot_problem_at(struct ctx *c, const char *file, unsigned long line, unsigned long col,
                            const char *fmt, ...) PARLEY_PRINTF(5, 6);
/* Turns a library message "FILE:LINE[:COLUMN]: what" about `file` into a
 * problem with that position; other messages become whole-file problems. */
void parley__bot_problem_from_message(struct ctx *c, const char *file, const char *msg);
yaml_node_t *parley__bot_node_at(yaml_document_t *doc, int id);
const char *parley__bot_sval(const yaml_node_t *n);
/* The scalar text of `n`, or NULL after reporting that `what` must be one. */
const char *parley__bot_scalar(struct ctx *c, const yaml_node_t *n, const char *what);
int parley__bot_is_kind(struct ctx *c, const yaml_node_t *n, yaml_node_type_t t, const char *what);
int parley__bot_in_list(const char *s, const char *const *list);
void parley__bot_join(char *out, size_t size, const char *const *list);
/* Reports keys of mapping `m` not in `keys` and duplicate keys; fills
 * vals[i] with the value of keys[i] (first occurrence) or NULL. */
void parley__bot_read_keys(struct ctx *c, yaml_node_t *m, const char *const *keys,
                           yaml_node_t **vals, const char *where);
/* Reports a duplicate key within mapping `m` (for name-keyed tables). */
int parley__bot_dup_key(struct ctx *c, yaml_node_t *m, yaml_node_pair_t *upto, const char *name,
                        yaml_node_t *k, const char *what);
int parley__bot_read_number(struct ctx *c, yaml_node_t *n, const char *what, double min, double max,
                            double *out);
int parley__bot_valid_name(const char *s);
char *parley__bot_join_path(struct ctx *c, const char *rel);
struct lang *parley__bot_find_lang(struct ctx *c, const char *code);
long parley__bot_find_intent(struct ctx *c, const char *name);
struct slot *parley__bot_find_slot(struct ctx *c, const char *name);
struct action *parley__bot_find_action(struct ctx *c, const char *name);
struct response *parley__bot_find_response(struct ctx *c, const char *key);
/* The value of `key` in mapping `m` of document `doc`, or NULL. */
yaml_node_t *parley__bot_map_get(yaml_document_t *doc, yaml_node_t *m, const char *key);
/* The connector named by `cnode` (a 'connector' key's value), or the only
 * one when `cnode` is NULL; NULL after reporting why not (on `owner`,
 * which `what` names) or when it failed to load (reported already). */
struct connector *parley__bot_connector_for(struct ctx *c, yaml_node_t *cnode, yaml_node_t *owner,
                                            const char *what);
/* 1 when `def` has operation `op`. */
int parley__bot_has_op(const parley_connect_def *def, const char *op);
/* Calls fn(name) for each fact name of operation `op` of `conn`. */
void parley__bot_op_facts(const struct connector *conn, const char *op, const char **names,
                          size_t *n, size_t cap);
void parley__bot_provide(const char **names, size_t *n, size_t cap, const char *name);
int parley__bot_provided(const char *const *names, size_t n, const char *name, size_t len);
void parley__bot_read_languages(struct ctx *c, yaml_node_t *n);
void parley__bot_read_nlu(struct ctx *c, yaml_node_t *n);
void parley__bot_read_intents(struct ctx *c, yaml_node_t *n);
/* Reads each language's NLU file: every example's intent must be declared,
 * and every declared intent must have examples in every language. */
void parley__bot_check_nlu_files(struct ctx *c);
void parley__bot_read_slots(struct ctx *c, yaml_node_t *n);
void parley__bot_read_connectors(struct ctx *c, yaml_node_t *n);
void parley__bot_read_actions(struct ctx *c, yaml_node_t *n);
void parley__bot_read_responses(struct ctx *c, yaml_node_t *n);
/* Checks the {placeholders} of every text of response `r` against the
 * `n` names at `names`; `flow` names the flow for the message ("rule X"
 * for a proactive rule), or NULL. */
void parley__bot_check_placeholders(struct ctx *c, struct response *r, const char *const *names,
                                    size_t n, const char *flow);
void parley__bot_read_flows(struct ctx *c, yaml_node_t *n);
/* Reads the 'identity' section (identity.c). */
void parley__bot_read_identity(struct ctx *c, yaml_node_t *n);
/* Engine responses, intent labels, identity for verify steps. */
void parley__bot_check_engine_needs(struct ctx *c, yaml_node_t *root);
/* Builds the runtime tables of `b` from the checked document (runtime.c);
 * returns 0 when out of memory. */
int parley__bot_compile(struct ctx *c, parley_bot *b);
/* Zeroed memory / a copy of `s` in the bot's runtime blocks (runtime.c);
 * NULL (and *nomem set for strings) when out of memory. */
void *parley__bot_alloc(parley_bot *b, size_t size);
const char *parley__bot_strdup(parley_bot *b, const char *s, int *nomem);
/* The 'consents' catalogue (consents.c): checking, then compiling. */
void parley__bot_read_consents(struct ctx *c, yaml_node_t *n);
int parley__bot_compile_consents(struct ctx *c, parley_bot *b, yaml_node_t *n, int *nomem);
/* pii.c: the 'pii' section (declared identifiers). */
void parley__bot_read_pii(struct ctx *c, yaml_node_t *n);
int parley__bot_compile_pii(struct ctx *c, parley_bot *b, yaml_node_t *n, int *nomem);
/* events.c: the 'events' section (event types the intake accepts). */
void parley__bot_read_events(struct ctx *c, yaml_node_t *n);
int parley__bot_compile_events(struct ctx *c, parley_bot *b, yaml_node_t *n, int *nomem);
/* rules.c: the 'proactive' section (rules acting on events), checked
 * against the 'events' section `events`. */
void parley__bot_read_proactive(struct ctx *c, yaml_node_t *n, yaml_node_t *events);
int parley__bot_compile_proactive(struct ctx *c, parley_bot *b, yaml_node_t *n, int *nomem);
void parley__bot_free_runtime(parley_bot *b);
/* Finds flows that would show account facts or change the account before
 * identity is verified or without a confirmation (trustcheck.c); fills
 * b->warnings. Runs on a built bot while c->doc lives (for positions);
 * sets c->nomem when out of memory. */
void parley__bot_check_trust(struct ctx *c, parley_bot *b);

#endif
