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

/** Decisions made together and committed together: a batch keeps the
 * decisions of many events in memory (each run sees those before it as
 * recorded: duplicates, caps, de-duplication) and makes them durable with
 * one audit transaction and one store transaction, together with the
 * events' settling. A batch is used by one thread at a time. Backend
 * calls are made as the rules run, with idempotency keys, so decisions
 * lost with an uncommitted batch (a crash, a failed commit) are decided
 * again from the ledger without doing anything twice. Large batches
 * commit by themselves every few thousand decisions. */
typedef struct parley_proactive_batch parley_proactive_batch;

/** Starts an empty batch on `en`. Caller frees `*out` with
 * parley_proactive_batch_free(). */
parley_err parley_proactive_batch_new(parley_proactive_engine *en, parley_proactive_batch **out,
                                      parley_error *err);

/** parley_proactive_run() into the batch: the decisions are reported to
 * `fn` at once and recorded at the next commit. Same results. */
parley_err parley_proactive_batch_run(parley_proactive_batch *b, const parley_proactive_event *ev,
                                      int64_t now_ms, parley_proactive_outcome_fn fn,
                                      void *userdata, parley_error *err);

/** Queues the settling of event `id` (parley_store_events_settle()) for
 * the next commit; strings are copied. */
parley_err parley_proactive_batch_settle(parley_proactive_batch *b, const char *id,
                                         const char *status, const char *outcome,
                                         parley_error *err);

/** Appends the batch's audit records, then records its effects and
 * settles its events in one store transaction; the batch is empty
 * afterwards, whether or not this succeeded (on failure nothing of the
 * store part is written, and the events are decided again later). */
parley_err parley_proactive_batch_commit(parley_proactive_batch *b, parley_error *err);

/** Frees a batch; what it holds uncommitted is dropped. NULL does nothing. */
void parley_proactive_batch_free(parley_proactive_batch *b);

/** What an engine has done since it was created: decisions reported,
 * backend calls (facts, actions, SMS) and the time spent waiting for them,
 * so that what the rules themselves cost can be told apart from what the
 * company's systems cost (the /metrics page, bench/proactive.sh). */
typedef struct parley_proactive_stats {
    uint64_t decisions;     /* decisions reported, duplicates included */
    uint64_t backend_calls; /* connector calls made */
    uint64_t backend_ns;    /* wall time inside those calls, in ns */
} parley_proactive_stats;

/** Fills `out` with `en`'s counters (zeros for NULL). Safe to call while
 * other threads run rules. */
void parley_proactive_stats_get(const parley_proactive_engine *en, parley_proactive_stats *out);

#ifdef __cplusplus
}
#endif
#endif
