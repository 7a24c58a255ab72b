/* Proactive care (docs/proactive.md): the event intake checks a batch of
 * events that a company's systems send against the event types the bot
 * declares, all or nothing, so a sender's mistake is refused with a
 * message naming the event and the field rather than silently ignored;
 * the rules engine then acts on each recorded event within the customers'
 * consent, once per event, rule and customer. */
#ifndef PARLEY_PROACTIVE_H
#define PARLEY_PROACTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "parley/audit.h"
#include "parley/bot.h"
#include "parley/common.h"
#include "parley/connect.h"
#include "parley/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most events in one batch. */
#define PARLEY_PROACTIVE_MAX_EVENTS 1000
/** Largest batch accepted, in bytes of JSON text. */
#define PARLEY_PROACTIVE_MAX_BATCH (1024 * 1024)
/** Longest event id, in characters. */
#define PARLEY_PROACTIVE_MAX_ID 128
/** Longest string field (or list item), in bytes; most items in a list. */
#define PARLEY_PROACTIVE_MAX_STRING 4096
#define PARLEY_PROACTIVE_MAX_LIST   256

/** One checked event. Strings are borrowed from the batch that holds it. */
typedef struct parley_proactive_event {
    const char *id;   /* the sender's id, unique per event (redelivery keeps it) */
    const char *type; /* a type the bot declares */
    int64_t at;       /* Unix ms: its `at`, or the intake time without one */
    const char *doc;  /* the whole event as received, as compact JSON */
} parley_proactive_event;

/** A checked batch of events, in the order they were sent. */
typedef struct parley_proactive_events parley_proactive_events;

/** Checks `json` (`len` bytes: one event object or an array of them)
 * against `types` (`ntypes` declared types, e.g. from
 * parley_bot_event_types()): every event needs `id` (a non-empty string of
 * at most PARLEY_PROACTIVE_MAX_ID characters, no control characters),
 * `type` (a declared type), optionally `at` (an RFC 3339 time, or null),
 * every required field of its type with a value of the declared kind, and
 * no field its type does not declare. Events without `at` get `now_ms`.
 * All or nothing: the first bad event fails the whole batch. Fails with
 * PARLEY_ERR_FORMAT (not JSON: the message gives line and column),
 * PARLEY_ERR_INVALID (a bad event: "event 3 (ev-12): field 'percent_used'
 * must be a number (got a string)"), PARLEY_ERR_LIMIT (over
 * PARLEY_PROACTIVE_MAX_BATCH bytes or PARLEY_PROACTIVE_MAX_EVENTS events)
 * or PARLEY_ERR_NOMEM. On success the caller frees `*out` with
 * parley_proactive_events_free(); on failure `*out` is unchanged. */
parley_err parley_proactive_validate(const parley_bot_event_type *types, size_t ntypes,
                                     const char *json, size_t len, int64_t now_ms,
                                     parley_proactive_events **out, parley_error *err);

/** The number of events in `batch` (0 for NULL). */
size_t parley_proactive_events_count(const parley_proactive_events *batch);

/** Event `i`, or NULL when out of range. Borrowed; valid while `batch`
 * lives. */
const parley_proactive_event *parley_proactive_events_at(const parley_proactive_events *batch,
                                                         size_t i);

/** Frees a batch. NULL does nothing. */
void parley_proactive_events_free(parley_proactive_events *batch);

/* ---- the rules engine ---------------------------------------------------- */

/** Most slots a delivery carries (the rule's `slots`, resolved). */
#define PARLEY_PROACTIVE_MAX_SLOTS 8

/** A message on its way to a customer, with what a reply continues
 * (docs/proactive.md "Replies"). Borrowed for the call. */
typedef struct parley_proactive_delivery {
    const char *customer; /* the customer's opaque id */
    const char *text;     /* the message, rendered in `language` (personal: never log it) */
    const char *language; /* one of the bot's */
    const char *event_id; /* the event that caused it */
    const char *rule;     /* the rule's name */
    const char *message;  /* the response key sent */
    const char *reply;    /* the intent a reply continues as (the rule's `reply`), or NULL */
    const char *action;   /* the rule's action (offered or run), or NULL */
    /* The rule's slots with their values for this customer. */
    const char *slot_names[PARLEY_PROACTIVE_MAX_SLOTS];
    const char *slot_values[PARLEY_PROACTIVE_MAX_SLOTS];
    size_t n_slots;
} parley_proactive_delivery;

/** Delivers `m` to an open conversation of its customer (the server's
 * streams). Returns 1 when delivered, 0 when the customer has no open
 * conversation (the message goes by SMS then), -1 on failure (SMS too). */
typedef int (*parley_proactive_deliver_fn)(void *userdata, const parley_proactive_delivery *m);

/** What the engine works with; all borrowed, and must outlive it. */
typedef struct parley_proactive_options {
    const parley_bot *bot;               /* rules, actions, responses */
    parley_store *store;                 /* grants, effects, the ledger */
    parley_connector *const *connectors; /* one per connector of the bot, in its order */
    size_t n_connectors;
    parley_audit *audit;                 /* NULL: no audit records */
    parley_proactive_deliver_fn deliver; /* NULL: SMS only */
    void *deliver_userdata;
    int dry_run; /* 1: decide and fetch facts, but change nothing, send nothing, record nothing */
} parley_proactive_options;

typedef struct parley_proactive_engine parley_proactive_engine;

/** Creates an engine. PARLEY_ERR_INVALID when the bot, the store or a
 * connector the bot needs is missing. Caller frees `*out` with
 * parley_proactive_engine_free(). */
parley_err parley_proactive_engine_new(const parley_proactive_options *opts,
                                       parley_proactive_engine **out, parley_error *err);
void parley_proactive_engine_free(parley_proactive_engine *en);

/** One decision of a rule for a customer, as parley_proactive_run()
 * reports it. Borrowed for the callback. */
typedef struct parley_proactive_outcome {
    const char *rule;
    const char *customer;
    const char *outcome; /* done, offered, skipped, denied, quiet, capped, duplicate, failed */
    const char *detail;  /* why, e.g. "auto_refuel permission g_... (within the grant's limits)" */
    const char *action;  /* the action run (or, in a dry run, that would run), or "" */
    const char *message; /* the response sent (or that would be), or "" */
    const char *channel; /* "sms", "conversation" or "" */
    const char *text;    /* the message's text (dry runs only; NULL otherwise) */
} parley_proactive_outcome;

typedef void (*parley_proactive_outcome_fn)(const parley_proactive_outcome *o, void *userdata);

/** Runs every rule on `ev` at `now_ms` (0: the clock): per customer the
 * rule concerns, fetches facts, checks its conditions, de-duplication,
 * frequency caps, the grant (limits, channels, quiet hours in the
 * customer's time zone), runs the action and sends the message, then
 * records the decision (the effects ledger, the audit) and reports it to
 * `fn` (may be NULL). A decision already recorded for this event, rule and
 * customer is reported as "duplicate" and repeats nothing; backend writes
 * carry idempotency keys made from the same three, so a redelivery after a
 * crash completes what was cut off without doing anything twice. Returns
 * PARLEY_OK when every decision is recorded (the event may be
 * acknowledged); PARLEY_ERR_UNAVAILABLE when a backend call failed (retry
 * the event later: what was decided stays decided), or a store error. */
parley_err parley_proactive_run(parley_proactive_engine *en, const parley_proactive_event *ev,
                                int64_t now_ms, parley_proactive_outcome_fn fn, void *userdata,
                                parley_error *err);

#ifdef __cplusplus
}
#endif
#endif
