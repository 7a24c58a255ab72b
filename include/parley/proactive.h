/* Proactive care (docs/proactive.md): the event intake checks a batch of
 * events that a company's systems send against the event types the bot
 * declares, all or nothing, so a sender's mistake is refused with a
 * message naming the event and the field rather than silently ignored.
 * Rules and outreach come later. */
#ifndef PARLEY_PROACTIVE_H
#define PARLEY_PROACTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "parley/bot.h"
#include "parley/common.h"

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

#ifdef __cplusplus
}
#endif
#endif
