/* Bot definitions: a folder with a bot.yml naming the bot's languages,
 * intents (with their NLU example files), slots, connectors, actions,
 * conversation flows and responses. Loading checks the whole definition
 * and reports every problem found, each with its file, line and column
 * (docs/bot-definition.md). */
#ifndef PARLEY_BOT_H
#define PARLEY_BOT_H

#include <stddef.h>

#include "parley/common.h"

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

#ifdef __cplusplus
}
#endif
#endif
