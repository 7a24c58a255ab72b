/* Bot definitions: a folder with a bot.yml naming the bot's languages,
 * intents (with their NLU example files), slots, connectors, actions,
 * conversation flows and responses. Loading checks the whole definition
 * and reports every problem found, each with its file, line and column
 * (docs/bot-definition.md). */
#ifndef PARLEY_BOT_H
#define PARLEY_BOT_H

#include <stddef.h>

#include "parley/common.h"
#include "parley/connect.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A loaded, checked bot definition. Immutable once loaded. */
typedef struct parley_bot parley_bot;

/** Largest bot.yml accepted, in bytes. */
#define PARLEY_BOT_MAX_DEF (1024 * 1024)
/** Most problems a report keeps; further ones are only counted. */
#define PARLEY_BOT_MAX_PROBLEMS 1000

/** One problem in a definition. `file` is the path as opened (the bot
 * folder joined with the relative path); `line` and `column` are 1-based,
 * 0 when the problem concerns a whole file. `message` says what is wrong
 * and what is expected: lowercase, no full stop. */
typedef struct parley_bot_problem {
    const char *file;
    unsigned long line;
    unsigned long column;
    const char *message;
} parley_bot_problem;

/** Every problem found while loading a definition, sorted by file, then
 * line and column. */
typedef struct parley_bot_report parley_bot_report;

/** Number of problems kept (at most PARLEY_BOT_MAX_PROBLEMS). */
size_t parley_bot_report_count(const parley_bot_report *r);

/** Problems found, kept or not. */
size_t parley_bot_report_total(const parley_bot_report *r);

/** Problem `i`, or NULL when out of range. Borrowed; valid while `r`
 * lives. */
const parley_bot_problem *parley_bot_report_problem(const parley_bot_report *r, size_t i);

/** Frees a report. NULL does nothing. */
void parley_bot_report_free(parley_bot_report *r);

/** Loads the bot in folder `dir` (its bot.yml, the NLU files, connector
 * definitions it names) and checks it completely. When `report` is not
 * NULL, `*report` is always set on return (also on success, then empty)
 * unless the call fails for a bad argument or memory; the caller frees it
 * with parley_bot_report_free(). Returns PARLEY_OK and sets `*out` when
 * there is no problem; PARLEY_ERR_FORMAT when there are problems (`err`
 * gives the first and the count), PARLEY_ERR_IO when bot.yml cannot be
 * read (also in the report), PARLEY_ERR_INVALID or PARLEY_ERR_NOMEM.
 * Caller frees `*out` with parley_bot_free(). */
parley_err parley_bot_load(const char *dir, parley_bot **out, parley_bot_report **report,
                           parley_error *err);

/** Frees a bot. NULL does nothing. */
void parley_bot_free(parley_bot *bot);

/* Accessors. Strings are borrowed and valid while `bot` lives; an index
 * out of range gives NULL. */

/** The bot's name. */
const char *parley_bot_name(const parley_bot *bot);

/** Languages in declaration order ("en", "fr"...). */
size_t parley_bot_language_count(const parley_bot *bot);
const char *parley_bot_language(const parley_bot *bot, size_t i);

/** The NLU example file of `lang` (folder joined with the relative path),
 * or NULL for a language the bot does not have. */
const char *parley_bot_nlu_file(const parley_bot *bot, const char *lang);

/** Confidence threshold and ambiguity margin for intent decisions. */
double parley_bot_confidence(const parley_bot *bot);
double parley_bot_ambiguity_margin(const parley_bot *bot);

/** Intents in declaration order. */
size_t parley_bot_intent_count(const parley_bot *bot);
const char *parley_bot_intent(const parley_bot *bot, size_t i);

/** Flows in declaration order: their names and the intent each serves. */
size_t parley_bot_flow_count(const parley_bot *bot);
const char *parley_bot_flow_name(const parley_bot *bot, size_t i);
const char *parley_bot_flow_intent(const parley_bot *bot, size_t i);

/** Number of steps of flow `i` (0 when out of range). */
size_t parley_bot_flow_step_count(const parley_bot *bot, size_t i);

/* ---- the runtime model (what the conversation engine executes) ------- */

/** Step types (docs/bot-definition.md). */
typedef enum parley_bot_step_type {
    PARLEY_STEP_ASK = 0,
    PARLEY_STEP_VERIFY = 1,
    PARLEY_STEP_CALL = 2,
    PARLEY_STEP_BRANCH = 3,
    PARLEY_STEP_CONFIRM = 4,
    PARLEY_STEP_SAY = 5,
    PARLEY_STEP_HANDOFF = 6,
    PARLEY_STEP_END = 7,
    PARLEY_STEP_PICK = 8,
    PARLEY_STEP_CONSENT = 9,
} parley_bot_step_type;

/** Comparisons of branch cases. */
typedef enum parley_bot_cmp {
    PARLEY_CMP_EQUALS = 0,
    PARLEY_CMP_NOT_EQUALS = 1,
    PARLEY_CMP_BELOW = 2,
    PARLEY_CMP_ABOVE = 3,
    PARLEY_CMP_CONTAINS = 4,
} parley_bot_cmp;

/** One case of a branch step. `value` is a literal or "slot.NAME" /
 * "fact.NAME"; `go` the index of the step it leads to. */
typedef struct parley_bot_case {
    const char *subject;
    int subject_is_slot;
    parley_bot_cmp cmp;
    const char *value;
    long go;
} parley_bot_case;

/** One step. Step references are indices into the flow's steps; -1 means
 * "the flow ends". Unused fields are NULL / -1. */
typedef struct parley_bot_step {
    const char *id;
    parley_bot_step_type type;
    const char *slot;             /* ask */
    const char *prompt;           /* ask */
    const char *reprompt;         /* ask (NULL: prompt again) */
    const char *response;         /* confirm, say, handoff, end (NULL: none) */
    const char *action;           /* call */
    long next;                    /* ask, verify, call, say, pick: where it goes on */
    long on_error;                /* verify, call: -1 = hand off (verify) / next */
    long yes, no;                 /* confirm */
    const parley_bot_case *cases; /* branch */
    size_t n_cases;
    long otherwise;                /* branch: no case holds */
    const char *from, *where, *as; /* pick */
    const char *equals;            /* pick: literal or slot./fact. */
    long none;                     /* pick: nothing matches; consent: nothing found */
    const char *op;                /* consent: understand, grant, revoke, list */
} parley_bot_step;

/** A flow with its steps. */
typedef struct parley_bot_flow {
    const char *name;
    const char *intent;
    const char *description; /* "" when absent */
    const parley_bot_step *steps;
    size_t n_steps;
} parley_bot_flow;

/** Flow `i` with its steps, or NULL. Borrowed. */
const parley_bot_flow *parley_bot_flow_at(const parley_bot *bot, size_t i);

/** The flow serving `intent`, or NULL. Borrowed. */
const parley_bot_flow *parley_bot_flow_for(const parley_bot *bot, const char *intent);

/** A declared slot. */
typedef struct parley_bot_slot {
    const char *name;
    const char *entity; /* "phone", "data_amount", ... */
    int unit_gb;        /* data_amount values (and bounds) in GB, else MB */
    int has_min, has_max;
    double min, max;
} parley_bot_slot;

size_t parley_bot_slot_count(const parley_bot *bot);
const parley_bot_slot *parley_bot_slot_at(const parley_bot *bot, size_t i);
/** The slot named `name`, or NULL. Borrowed. */
const parley_bot_slot *parley_bot_find_slot(const parley_bot *bot, const char *name);

/** One parameter of an action: `value` is "slot.NAME", "fact.NAME" or a
 * literal. */
typedef struct parley_bot_param {
    const char *name;
    const char *value;
} parley_bot_param;

/** An action: a connector operation and where its parameters come from. */
typedef struct parley_bot_action {
    const char *name;
    size_t connector; /* index, see parley_bot_connector() */
    const char *operation;
    const parley_bot_param *params;
    size_t n_params;
} parley_bot_action;

/** The action named `name`, or NULL. Borrowed. */
const parley_bot_action *parley_bot_find_action(const parley_bot *bot, const char *name);

/** Connector definitions the bot loaded, in declaration order. Borrowed:
 * valid while `bot` lives. */
size_t parley_bot_connector_count(const parley_bot *bot);
const parley_connect_def *parley_bot_connector(const parley_bot *bot, size_t i);

/** The identity operations (docs/bot-definition.md "Identity"), NULL
 * when the bot has no identity section. `send_code` may be NULL. */
typedef struct parley_bot_identity {
    size_t connector;
    const char *by_phone, *line, *send_code;
} parley_bot_identity;
const parley_bot_identity *parley_bot_identity_ops(const parley_bot *bot);

/** The text of response `key` in `lang`, or NULL. Borrowed. */
const char *parley_bot_response(const parley_bot *bot, const char *key, const char *lang);

/** The folder the bot was loaded from (as given). Borrowed. */
const char *parley_bot_dir(const parley_bot *bot);

/* ---- warnings --------------------------------------------------------- */

/** Warnings about a definition that loads: things the engine refuses at
 * run time that the author should fix (docs/bot-definition.md
 * "Warnings"): a step that would show an account or sensitive fact before
 * identity is verified, a call that changes the account before
 * verification or not right after a confirm step's yes. Each is a line
 * "FILE:LINE:COLUMN: warning: message", sorted by position. Found at load
 * time, only for a definition without problems. */
size_t parley_bot_warning_count(const parley_bot *bot);
/** Warning `i`, or NULL when out of range. Borrowed; valid while `bot`
 * lives. */
const char *parley_bot_warning(const parley_bot *bot, size_t i);

/* ---- consent scopes (the 'consents' catalogue; docs/trust.md) -------- */

/** Limits a consent scope may carry, one bit each. */
enum {
    PARLEY_LIMIT_GB_PER_MONTH = 1,     /* "max_gb_per_month": number */
    PARLEY_LIMIT_AMOUNT_PER_MONTH = 2, /* "max_amount_per_month": number */
    PARLEY_LIMIT_COUNT_PER_MONTH = 4,  /* "max_count_per_month": whole number */
    PARLEY_LIMIT_CHANNELS = 8,         /* "channels": list of channel names */
    PARLEY_LIMIT_QUIET_HOURS =
        16, /* "quiet_hours": "22-08" (the customer's hours; UTC if unknown) */
};

/** One consent scope. `words[l]` is a NULL-terminated list of lowercase
 * phrases in the bot's language l that name the scope in a message. */
typedef struct parley_bot_consent {
    const char *scope;
    unsigned limits;    /* PARLEY_LIMIT_* bits it supports */
    const char *action; /* the action it covers, or NULL */
    const char *const *const *words;
} parley_bot_consent;

/** The number of scopes and scope `i` (borrowed), or NULL. */
size_t parley_bot_consent_count(const parley_bot *bot);
const parley_bot_consent *parley_bot_consent_at(const parley_bot *bot, size_t i);
/** The scope named `scope`, or NULL. */
const parley_bot_consent *parley_bot_find_consent(const parley_bot *bot, const char *scope);

/** The identifiers the bot declares (bot.yml `pii.identifiers`), found and
 * redacted like any personal value; `*n` gets their number. Borrowed from
 * the bot. */
const struct parley_pii_identifier *parley_bot_pii_identifiers(const parley_bot *bot, size_t *n);
/** The name of limit bit `bit` ("max_gb_per_month"...), or NULL. */
const char *parley_bot_limit_name(unsigned bit);

/* ---- event types (the 'events' section; docs/proactive.md) ----------- */

/** What a field of an event holds. */
typedef enum parley_bot_field_kind {
    PARLEY_FIELD_STRING = 0,
    PARLEY_FIELD_NUMBER = 1,
    PARLEY_FIELD_BOOLEAN = 2,
    PARLEY_FIELD_LIST = 3, /* a list of strings */
} parley_bot_field_kind;

/** One declared field. An optional field ("kind?" in bot.yml) may be
 * absent or JSON null. */
typedef struct parley_bot_event_field {
    const char *name;
    parley_bot_field_kind kind;
    int optional;
} parley_bot_event_field;

/** One declared event type and its fields, in declaration order. Every
 * event also has `id`, `type` and `at`, which are not listed. */
typedef struct parley_bot_event_type {
    const char *name;
    const parley_bot_event_field *fields;
    size_t n_fields;
} parley_bot_event_type;

/** Every declared event type as an array of `*n` (may be NULL), in
 * declaration order; NULL when there are none. Borrowed from the bot. */
const parley_bot_event_type *parley_bot_event_types(const parley_bot *bot, size_t *n);
/** The number of event types and type `i` (borrowed), or NULL. */
size_t parley_bot_event_type_count(const parley_bot *bot);
const parley_bot_event_type *parley_bot_event_type_at(const parley_bot *bot, size_t i);
/** The event type named `name`, or NULL. Borrowed. */
const parley_bot_event_type *parley_bot_find_event_type(const parley_bot *bot, const char *name);
/** The field `name` of type `type`, or NULL. Borrowed. */
const parley_bot_event_field *parley_bot_find_event_field(const parley_bot_event_type *type,
                                                          const char *name);
/** "string", "number", "boolean" or "list". Static storage. */
const char *parley_bot_field_kind_name(parley_bot_field_kind kind);

/* ---- proactive rules (the 'proactive' section; docs/proactive.md) ---- */

/** How a rule condition compares. */
typedef enum parley_bot_rule_op {
    PARLEY_RULE_EQ = 0,
    PARLEY_RULE_NE,
    PARLEY_RULE_LT,
    PARLEY_RULE_LE,
    PARLEY_RULE_GT,
    PARLEY_RULE_GE,
    PARLEY_RULE_IN, /* the left value is an item of the right list */
} parley_bot_rule_op;

/** A condition "LEFT OP RIGHT". Each side is "event.NAME", "fact.NAME" or
 * a literal (quotes removed). */
typedef struct parley_bot_rule_cond {
    const char *left, *right;
    parley_bot_rule_op op;
} parley_bot_rule_cond;

/** One rule: on an event of type `on`, for a customer, with facts fetched,
 * when every condition holds, run `action` under grant `scope` and/or send
 * a message. Values named by `quantity`, `amount`, `dedupe` and the slots
 * are sources like a condition's sides. Strings borrowed from the bot. */
typedef struct parley_bot_rule {
    const char *name;
    const char *on;
    const char *customer;     /* source of the customer id, e.g. "event.customer_id" */
    int for_grants;           /* 1: every customer holding an active grant of `scope` */
    const char *const *fetch; /* action names, run in order for facts */
    size_t n_fetch;
    const parley_bot_rule_cond *when;
    size_t n_when;
    const char *action; /* or NULL: a message only */
    const char *scope;  /* the consent scope the action (or, for_grants, the rule) needs */
    const parley_bot_param *slots; /* values for the action's slot.X parameters */
    size_t n_slots;
    const char *quantity, *amount; /* counted against the grant; NULL: 0 */
    const char *say;       /* response when the action ran (or, with no action, the message) */
    const char *otherwise; /* response when the action may not run; NULL: nothing */
    const char *dedupe;    /* source of the de-duplication value, or NULL */
    double window_hours;   /* how long `dedupe` holds (default 24) */
    int max_per_day;       /* messages per customer from this rule in 24 h; 0: no cap */
    /* The intent a customer's reply to the rule's message continues as
     * (a yes runs its flow with `slots` filled), or NULL. */
    const char *reply;
} parley_bot_rule;

/** The 'proactive' section as a whole. */
typedef struct parley_bot_proactive {
    const parley_bot_rule *rules;
    size_t n_rules;
    int max_messages_per_day; /* per customer over all rules in 24 h; 0: no cap */
    /* The SMS gateway: a connector operation with its parameters, where the
     * source "message" stands for the message's text. NULL operation: no SMS. */
    size_t sms_connector;
    const char *sms_operation;
    const parley_bot_param *sms_params;
    size_t n_sms_params;
} parley_bot_proactive;

/** The bot's proactive rules (never NULL for a loaded bot; no rules when
 * the section is absent). Borrowed from the bot. */
const parley_bot_proactive *parley_bot_proactive_rules(const parley_bot *bot);
/** "==", "!=", "<", "<=", ">", ">=", "in". Static storage. */
const char *parley_bot_rule_op_name(parley_bot_rule_op op);

#ifdef __cplusplus
}
#endif
#endif
