/* Private to the proactive module: what the rules engine (engine.c) and
 * its value sources, conditions and message rendering (facts.c) share. */
#ifndef PARLEY_PROACTIVE_INTERNAL_H
#define PARLEY_PROACTIVE_INTERNAL_H

#include <jansson.h>
#include <stdatomic.h>

#include "common/internal.h"
#include "parley/proactive.h"

struct parley_proactive_engine {
    parley_proactive_options o;
    atomic_uint_least64_t decisions, calls, call_ns; /* parley_proactive_stats */
};

/* batch.c: the decisions of a batch, pending until it commits. Reads see
 * them as if stored; pro_record() keeps one (and its audit body). */
parley_proactive_engine *pro_batch_engine(const parley_proactive_batch *b);
parley_err pro_effect_find(parley_proactive_batch *b, const char *key, char outcome[16],
                           parley_error *err);
parley_err pro_effects_count(parley_proactive_batch *b, const parley_store_effect_query *q,
                             int64_t *count, parley_error *err);
parley_err pro_record(parley_proactive_batch *b, const parley_store_effect *e, const char *body,
                      parley_error *err);

/* One rule working for one customer on one event. */
struct pro_case {
    const parley_bot_rule *rule;
    const char *customer;
    json_t *event; /* borrowed: the event document */
    json_t *facts; /* owned: the event's fields, then what was fetched */
};

/* The value `src` ("event.X", "fact.X" or a literal) stands for, as text
 * in `buf` (numbers as short literals, booleans as true/false, lists as
 * JSON); `*json` (may be NULL) gets the JSON value, NULL for a literal.
 * Returns 0 when an event field or fact is absent or null. */
int pro_value(const struct pro_case *pc, const char *src, char *buf, size_t size,
              const json_t **json);

/* 1 when condition `c` holds; 0 with what failed in `why` otherwise. */
int pro_cond_holds(const struct pro_case *pc, const parley_bot_rule_cond *c, char *why,
                   size_t why_size);

/* Adds the facts of a successful call to pc->facts; 0 when out of memory. */
int pro_add_facts(struct pro_case *pc, const parley_connect_result *r);

/* `tmpl` with each {name} replaced by the fact (or event field) `name`,
 * numbers written the way `lang` writes them; {remaining_gb} and
 * {remaining_amount} come from `remaining` ([0] GB, [1] money). Caller
 * frees; NULL when out of memory or a placeholder has no value. */
char *pro_render(const struct pro_case *pc, const char *tmpl, const char *lang,
                 const double remaining[2]);

#endif
