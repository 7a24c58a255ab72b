/* Persistence of conversations: their state (a JSON document owned by the
 * dialog layer, versioned for optimistic concurrency) and their redacted
 * transcript (turns). One interface over several backends, chosen by the
 * URL given to parley_store_open(): SQLite (WAL) now, PostgreSQL later.
 *
 * Privacy contract: the store never receives clear personal data. Callers
 * pass turn text and state that have already been redacted; the store keeps
 * what it is given and logs only ids and counts.
 *
 * Thread safety: a parley_store handle is not thread-safe. Use one handle
 * per thread (or guard a shared handle with a mutex). Any number of handles,
 * in any number of threads or processes, may use the same database file:
 * SQLite's WAL mode and a busy timeout serialise the writers. Do not carry
 * an open handle across fork(); open a new one in the child. */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open store. Opaque; create with parley_store_open(). */
typedef struct parley_store parley_store;

/** Length of a conversation id: 128 random bits as lowercase hex. */
#define PARLEY_STORE_ID_LEN 32
/** Size of a buffer that holds an id and its NUL. */
#define PARLEY_STORE_ID_SIZE (PARLEY_STORE_ID_LEN + 1)
/** Longest id accepted on input (ids made elsewhere may be imported). */
#define PARLEY_STORE_MAX_ID 64
/** Largest state document accepted, in bytes. */
#define PARLEY_STORE_MAX_STATE (1024 * 1024)
/** Largest turn text or metadata accepted, in bytes. */
#define PARLEY_STORE_MAX_TEXT (64 * 1024)
/** Longest channel or language tag accepted, in bytes. */
#define PARLEY_STORE_MAX_TAG 64

/** Schema version this build writes; a database migrated by a newer build
 * (higher version) is refused with PARLEY_ERR_VERSION. */
#define PARLEY_STORE_SCHEMA_VERSION 11

/** Opens (creating if needed) the store named by `url` and brings its
 * schema up to date, one numbered migration per transaction; reopening an
 * up-to-date store changes nothing. `url` is "sqlite:PATH", or a plain
 * PATH, or ":memory:" (a private in-memory database), optionally followed
 * by "?sync=full" (a commit waits until it survives a power loss: one
 * fsync per commit) or "?sync=normal" (the default: WAL with
 * synchronous=NORMAL, a commit survives a crash of the process; the last
 * commits before a power loss may be lost). "postgres://..." and
 * "postgresql://..." fail with PARLEY_ERR_INVALID until that backend is
 * built. Fails with PARLEY_ERR_IO (cannot open or write the file),
 * PARLEY_ERR_CORRUPT (not a database, or damaged), PARLEY_ERR_VERSION
 * (schema newer than this build), PARLEY_ERR_NOMEM. On success the caller
 * frees `*out` with parley_store_close(); on failure `*out` is unchanged. */
parley_err parley_store_open(const char *url, parley_store **out, parley_error *err);

/** Closes the store and frees the handle. Everything acknowledged is
 * already durable; closing adds nothing to that. NULL does nothing. */
void parley_store_close(parley_store *store);

/** The message of the last failed call on `store` ("" if none). Borrowed;
 * valid until the next call on `store`. Never NULL. */
const char *parley_store_errmsg(const parley_store *store);

/** The backend's name ("sqlite"). Static storage. */
const char *parley_store_backend(const parley_store *store);

/** The schema version of the open database. */
int parley_store_schema_version(const parley_store *store);

/** A loaded conversation. Caller-owned; release its strings with
 * parley_store_conversation_release(). */
typedef struct parley_store_conversation {
    char id[PARLEY_STORE_MAX_ID + 1];
    int64_t created; /* Unix time, milliseconds */
    int64_t updated; /* Unix time, milliseconds */
    char *channel;   /* e.g. "web", "whatsapp"; owned */
    char *language;  /* BCP 47 tag, e.g. "en"; owned */
    char *state;     /* JSON text; owned */
    int64_t version; /* 1 at creation, +1 on every save */
    /* Outcome columns (parley_store_commit_outcome); owned; NULL when unset
     * except `status`. */
    char *status; /* "active", "handed_off", "closed" */
    char *intent; /* first intent the bot acted on */
    int64_t customer_turns;
    char *handoff_reason; /* set once handed off (stays after a hand-back) */
    char *handoff_queue;
    char *handoff_summary; /* redacted */
    int64_t handoff_at;    /* Unix ms of the latest hand-off; 0 if none */
    int rating;            /* 1..5, 0 if none */
    char *rating_comment;  /* redacted */
} parley_store_conversation;

/** Frees the strings in `conv` and zeroes it. NULL does nothing. */
void parley_store_conversation_release(parley_store_conversation *conv);

/** Creates a conversation with a fresh random id (written to `id_out` with
 * its NUL), version 1 and `state` (JSON text; NULL means "{}"). `channel`
 * and `language` are short tags (NULL means ""). Fails with
 * PARLEY_ERR_INVALID, PARLEY_ERR_LIMIT, PARLEY_ERR_IO, PARLEY_ERR_NOMEM. */
parley_err parley_store_conversation_create(parley_store *store, const char *channel,
                                            const char *language, const char *state,
                                            char id_out[PARLEY_STORE_ID_SIZE], parley_error *err);

/** Loads conversation `id` into `*out` (caller releases it with
 * parley_store_conversation_release()). PARLEY_ERR_NOTFOUND if there is no
 * such conversation; `*out` is unchanged on failure. */
parley_err parley_store_conversation_load(parley_store *store, const char *id,
                                          parley_store_conversation *out, parley_error *err);

/** Replaces the state of `id` if its version is still `expected_version`;
 * the version becomes expected_version + 1. PARLEY_ERR_CONFLICT if someone
 * saved in between (reload and retry), PARLEY_ERR_NOTFOUND if `id` does
 * not exist. */
parley_err parley_store_state_save(parley_store *store, const char *id, int64_t expected_version,
                                   const char *new_state, parley_error *err);

/** Who spoke a turn. New values go at the end. */
typedef enum parley_store_role {
    PARLEY_ROLE_CUSTOMER = 0,
    PARLEY_ROLE_BOT = 1,
    PARLEY_ROLE_AGENT = 2,
    PARLEY_ROLE_SYSTEM = 3,
} parley_store_role;

/** Names a role ("customer"...); NULL for an unknown value. */
const char *parley_store_role_name(parley_store_role role);

/** One turn of a transcript. On input the store copies what it needs; on
 * output (parley_store_turns_list) every pointer is borrowed and valid only
 * during the callback. */
typedef struct parley_store_turn {
    int64_t seq;            /* 1, 2, ... per conversation; set by the store */
    parley_store_role role; /* who spoke */
    const char *text;       /* REDACTED text; never clear personal data */
    const char *intent;     /* NULL if none */
    double confidence;      /* of `intent`, 0..1 */
    int64_t created;        /* Unix ms; set by the store (input ignored) */
    const char *metadata;   /* JSON text, or NULL */
} parley_store_turn;

/** In one transaction: saves `new_state` as parley_store_state_save() does
 * and appends `turn` (its seq and created are assigned; `*seq_out`, if not
 * NULL, receives the seq). Either both happen or neither does. When this
 * returns PARLEY_OK the turn survives a crash of the process or of the
 * machine (with "?sync=full"; by default a crash of the process). Fails like
 * parley_store_state_save(), plus PARLEY_ERR_INVALID (bad role, NULL text) and PARLEY_ERR_LIMIT. */
parley_err parley_store_commit_turn(parley_store *store, const char *id, int64_t expected_version,
                                    const char *new_state, const parley_store_turn *turn,
                                    int64_t *seq_out, parley_error *err);

/** Like parley_store_commit_turn with 1 to 16 turns (a customer's message
 * and the bot's reply), all appended in one transaction with the state;
 * `*seq_out` gets the first one's seq. */
parley_err parley_store_commit_turns(parley_store *store, const char *id, int64_t expected_version,
                                     const char *new_state, const parley_store_turn *turns,
                                     size_t nturns, int64_t *seq_out, parley_error *err);

/** Called for each turn in order of seq. Return 0 to go on, anything else
 * to stop early (parley_store_turns_list then returns PARLEY_OK). */
typedef int (*parley_store_turn_fn)(const parley_store_turn *turn, void *userdata);

/** Calls `fn` for every turn of `id`, oldest first. PARLEY_ERR_NOTFOUND if
 * the conversation does not exist (an existing one may have no turns).
 * Do not call other functions on `store` from inside `fn`. */
parley_err parley_store_turns_list(parley_store *store, const char *id, parley_store_turn_fn fn,
                                   void *userdata, parley_error *err);

/** Erases conversation `id` and all its turns (right to erasure), and
 * destroys its data key when the store encrypts. PARLEY_ERR_NOTFOUND if it
 * does not exist. */
parley_err parley_store_conversation_delete(parley_store *store, const char *id, parley_error *err);

/** Counts the stored conversations into `*out`. */
parley_err parley_store_conversation_count(parley_store *store, size_t *out, parley_error *err);

/* ---- outcomes: the agent queue, analytics and ratings ------------------ */

/** Outcome columns a commit updates alongside the state; NULL (or 0)
 * leaves a column as it is. */
typedef struct parley_store_outcome {
    const char *status;          /* "active", "handed_off" or "closed" */
    const char *intent;          /* kept only if none is stored yet */
    int customer_turns;          /* added to the count */
    const char *handoff_reason;  /* with a hand-off; stamps its time */
    const char *handoff_queue;   /* with a hand-off */
    const char *handoff_summary; /* with a hand-off; redacted */
    const char *language;        /* the customer's latest language */
    const char *customer_id;     /* whose conversation it is, once verified */
} parley_store_outcome;

/** Like parley_store_commit_turns with 0 to 16 turns and the outcome
 * columns of `outcome` (NULL: none), all in one transaction. */
parley_err parley_store_commit_outcome(parley_store *store, const char *id,
                                       int64_t expected_version, const char *new_state,
                                       const parley_store_turn *turns, size_t nturns,
                                       const parley_store_outcome *outcome, int64_t *seq_out,
                                       parley_error *err);

/** One open hand-off; pointers borrowed for the callback only. */
typedef struct parley_store_handoff {
    const char *id, *language, *intent, *queue, *reason, *summary; /* "" when unset */
    int64_t since;                                                 /* Unix ms */
    int64_t customer_turns;
} parley_store_handoff;
typedef int (*parley_store_handoff_fn)(const parley_store_handoff *h, void *userdata);

/** Calls `fn` for up to `limit` conversations waiting for an agent, oldest
 * hand-off first; a non-zero return stops early. */
parley_err parley_store_handoffs_list(parley_store *store, size_t limit, parley_store_handoff_fn fn,
                                      void *userdata, parley_error *err);

/** Conversations created in [from, to) (Unix ms) with at least one
 * customer message, grouped by UTC day, language, first intent and
 * hand-off reason ("" if never handed off). Borrowed for the callback. */
typedef struct parley_store_outcome_row {
    const char *day, *language, *intent, *handoff_reason;
    int64_t conversations;
    int64_t ratings, rating_sum;
    int64_t rating_count[5]; /* [0] = how many rated 1, ... */
} parley_store_outcome_row;
typedef int (*parley_store_outcome_fn)(const parley_store_outcome_row *row, void *userdata);

parley_err parley_store_outcomes(parley_store *store, int64_t from, int64_t to,
                                 parley_store_outcome_fn fn, void *userdata, parley_error *err);

/** Sets the customer's rating (1..5) and optional comment (already
 * redacted; NULL for none) of conversation `id`, replacing any earlier
 * one. PARLEY_ERR_INVALID for a score out of range, PARLEY_ERR_NOTFOUND. */
parley_err parley_store_rating_set(parley_store *store, const char *id, int score,
                                   const char *comment, parley_error *err);

/* ---- API keys (the server's; only hashes are stored) -------------------- */

/** A stored key. On output pointers are borrowed for the callback only. */
typedef struct parley_store_key {
    const char *id;   /* public part of the key, 1..64 bytes */
    const char *role; /* "channel", "agent", "admin", "events" */
    const unsigned char *hash;
    size_t hash_len; /* 16..64 */
    const char *label;
    int64_t created; /* Unix ms; set by the store */
    int64_t revoked; /* Unix ms; 0 while valid */
} parley_store_key;
typedef int (*parley_store_key_fn)(const parley_store_key *key, void *userdata);

/** Stores a new key. PARLEY_ERR_CONFLICT if the id exists. */
parley_err parley_store_key_add(parley_store *store, const parley_store_key *key,
                                parley_error *err);
/** Calls `fn` once with key `id`; PARLEY_ERR_NOTFOUND if there is none. */
parley_err parley_store_key_find(parley_store *store, const char *id, parley_store_key_fn fn,
                                 void *userdata, parley_error *err);
/** Revokes key `id` from now on; PARLEY_ERR_NOTFOUND if there is no such
 * valid key. */
parley_err parley_store_key_revoke(parley_store *store, const char *id, parley_error *err);
/** Calls `fn` for every key, revoked ones included, oldest first. */
parley_err parley_store_keys_list(parley_store *store, parley_store_key_fn fn, void *userdata,
                                  parley_error *err);

/* ---- the consent ledger (docs/trust.md) ------------------------------------ */

/** Called with each id listed; a non-zero return stops the listing. */
typedef int (*parley_store_id_fn)(const char *id, void *userdata);

/** A consent grant. On output pointers are borrowed for the callback. */
typedef struct parley_store_consent {
    const char *id;              /* "g_" + 16 hex; set by the store on add */
    const char *customer_id;     /* opaque account id */
    const char *scope;           /* "auto_refuel", ... */
    const char *limits;          /* JSON object, e.g. {"max_gb_per_month": 2} */
    const char *channel;         /* where it was given: "web", "api", ... */
    const char *conversation_id; /* evidence; "" when given through the API */
    int64_t turn;                /* evidence: the customer's turn; 0 if none */
    int64_t created, expires;    /* Unix ms; expires 0: never */
    int64_t revoked;             /* Unix ms; 0 while active */
    /* Use in the period asked for (parley_store_consents / _use): */
    double used_quantity, used_amount;
    int64_t used_count;
} parley_store_consent;
typedef int (*parley_store_consent_fn)(const parley_store_consent *c, void *userdata);

/** Records a grant; its new id is written to `id_out` (24 bytes). */
parley_err parley_store_consent_add(parley_store *store, const parley_store_consent *c,
                                    char id_out[24], parley_error *err);

/** Calls `fn` for every grant of `customer` (active, expired and revoked),
 * oldest first, with its use in `period` ("2026-11"). */
parley_err parley_store_consents(parley_store *store, const char *customer, const char *period,
                                 parley_store_consent_fn fn, void *userdata, parley_error *err);

/** Revokes grant `id` of `customer` at once ("scope:NAME" revokes every
 * active grant of that scope); `*count` gets how many were revoked.
 * PARLEY_ERR_NOTFOUND when none was active. */
parley_err parley_store_consent_revoke(parley_store *store, const char *customer, const char *id,
                                       size_t *count, parley_error *err);

/** Decides whether one more use fits a grant: given the grant with its
 * use so far in the period, returns 1 to take it (and the store records
 * the use), 0 to refuse. */
typedef int (*parley_store_consent_check_fn)(const parley_store_consent *c, void *userdata);

/** Atomically (one write transaction): finds the active, unexpired
 * grants of `customer` for `scope`, asks `check` about each in turn and
 * records `quantity`/`amount` against the first it accepts; `*used` gets
 * that grant (strings valid until the next call on the store). Two
 * concurrent uses cannot both pass a limit that allows one. With a `key`
 * (up to 128 bytes; NULL: none) the use is recorded once: a second call
 * with the same key, e.g. a redelivered event, takes the grant the first
 * one took without counting it again.
 * PARLEY_ERR_NOTFOUND when no grant accepted. */
parley_err parley_store_consent_use(parley_store *store, const char *customer, const char *scope,
                                    const char *period, double quantity, double amount,
                                    const char *key, parley_store_consent_check_fn check,
                                    void *userdata, parley_store_consent *used, parley_error *err);

/** Calls `fn` with every customer holding an active, unexpired grant of
 * `scope` at `now_ms` (0: the clock), each once, in id order. */
parley_err parley_store_consent_holders(parley_store *store, const char *scope, int64_t now_ms,
                                        parley_store_id_fn fn, void *userdata, parley_error *err);

/* ---- the review queue: turns the bot did not understand (docs/learning.md) */

/** One customer turn waiting for an agent's label. On input (add) the
 * fields marked "in" are read; on output (list) every pointer is borrowed
 * for the callback only. */
typedef struct parley_store_review {
    int64_t id;                  /* out: set by the store */
    const char *conversation_id; /* in */
    int64_t seq;                 /* in: the customer's turn */
    const char *reason;          /* in: "out_of_scope", "clarify", "not_understood", "handoff" */
    const char *language;        /* in: of the turn */
    const char *predicted;       /* in: the intent the bot leaned to, "" if none */
    double confidence;           /* in */
    int64_t created;             /* out: Unix ms */
    const char *status;          /* out: "open", "labelled" or "dismissed" */
    const char *intent;          /* out: the agent's label, "" if none */
    const char *labelled_by;     /* out: who labelled or dismissed it */
    int64_t labelled_at;         /* out: Unix ms, 0 if open */
    const char *text;            /* out: the turn as stored, redacted */
    const char *customer_id;     /* out: the conversation's verified customer, "" if none */
} parley_store_review;
typedef int (*parley_store_review_fn)(const parley_store_review *r, void *userdata);

/** Queues customer turn `seq` of a conversation for review, once: a turn
 * already queued, or one that is not a customer's, is left as it is. The
 * text is not copied: it stays in the (sealed) transcript and goes with
 * the conversation on erasure or retention. */
parley_err parley_store_review_add(parley_store *store, const parley_store_review *r,
                                   parley_error *err);

/** Calls `fn` for up to `limit` (0: all) items with `status` (NULL: any)
 * and an id above `after_id`, in id order, with the turn's redacted text;
 * a non-zero return stops early. Items whose text cannot be read any more
 * (the customer's key destroyed) are skipped. Do not call other functions
 * on `store` from inside `fn`. */
parley_err parley_store_review_list(parley_store *store, const char *status, int64_t after_id,
                                    size_t limit, parley_store_review_fn fn, void *userdata,
                                    parley_error *err);

/** Labels item `id` with `intent`, or dismisses it when `intent` is NULL
 * (not a request anyone should learn from), by `who`. A later call
 * replaces an earlier label. PARLEY_ERR_NOTFOUND for an unknown id. */
parley_err parley_store_review_label(parley_store *store, int64_t id, const char *intent,
                                     const char *who, parley_error *err);

/* ---- privacy: a customer's data as a whole ----------------------------- */

/** Calls `fn` with the id of every conversation verified for `customer`,
 * oldest first. */
parley_err parley_store_customer_conversations(parley_store *store, const char *customer,
                                               parley_store_id_fn fn, void *userdata,
                                               parley_error *err);

/** Erases everything stored about `customer`: the conversations verified
 * for them with their transcripts and state, and their consent grants, in
 * one transaction; with secure_delete the pages are overwritten. With
 * encryption their data keys are destroyed too (crypto-shredding), so
 * copies of the database made before, backups included, cannot be read
 * for them any more. `*count` (if not NULL) gets the conversations erased. */
parley_err parley_store_customer_erase(parley_store *store, const char *customer, size_t *count,
                                       parley_error *err);

/* ---- throttles: sliding-window event counters ---------------------------
 *
 * Persistent counters shared by every handle and process on the database
 * (rate-limiting one-time codes per phone number, locking a phone out
 * after repeated failed verifications). Keys are opaque strings of 1 to
 * PARLEY_STORE_MAX_ID bytes of printable ASCII (' ' to '~'); callers pass
 * pseudonyms (e.g. a keyed hash of the phone number), never personal data.
 * Times are Unix milliseconds; a `now_ms` of 0 means the store's clock. A
 * window of `window_ms` at `now_ms` is (now_ms - window_ms, now_ms]: an
 * event exactly window_ms old no longer counts. All three fail with
 * PARLEY_ERR_INVALID (no store, bad key, negative time, window not
 * positive, no `count` where one is required) and otherwise like the rest
 * of the store (PARLEY_ERR_IO, PARLEY_ERR_NOMEM). */

/** Records one event under `key` at `now_ms` (0: the clock) and tells how
 * many events under `key` fall in (now_ms - window_ms, now_ms], this one
 * included, in `*count` (caller-owned; may be NULL to only record).
 * Counting and recording happen in one write transaction, so concurrent
 * hits from any number of handles or processes each see a different
 * count. Events of `key` older than the window are deleted. `window_ms`
 * must be positive. `*count` is unchanged on failure. */
parley_err parley_store_throttle_hit(parley_store *store, const char *key, int64_t now_ms,
                                     int64_t window_ms, size_t *count, parley_error *err);

/** Like parley_store_throttle_hit() without recording: the number of
 * events under `key` in (now_ms - window_ms, now_ms] into `*count`
 * (required; unchanged on failure). Deletes nothing. */
parley_err parley_store_throttle_count(parley_store *store, const char *key, int64_t now_ms,
                                       int64_t window_ms, size_t *count, parley_error *err);

/** Forgets every event under `key` (e.g. after a successful
 * verification). Clearing a key with no events succeeds. */
parley_err parley_store_throttle_clear(parley_store *store, const char *key, parley_error *err);

/* ---- the events ledger (proactive care; docs/proactive.md) ----------------
 *
 * Every event accepted at the intake, once: a sender's redelivery of an
 * id already recorded is counted as a duplicate and changes nothing. Each
 * row keeps the event as compact JSON, its times and a status ("received"
 * until rules act on it). Event documents carry the backend's identifiers
 * (customer, line ids) as the sender gave them: they are not encrypted and
 * not erased with a customer yet. */

/** Longest event id and type accepted, in bytes. */
#define PARLEY_STORE_MAX_EVENT_ID   512
#define PARLEY_STORE_MAX_EVENT_TYPE 64
/** Most events one parley_store_events_record() call takes. */
#define PARLEY_STORE_MAX_EVENT_BATCH 1000

/** An event of the ledger. For recording, only id, type, at and doc are
 * read; listing fills everything (borrowed: valid during the callback). */
typedef struct parley_store_event {
    int64_t seq;         /* position in the ledger: grows in order recorded (gaps possible) */
    const char *id;      /* the sender's id */
    const char *type;    /* the event type */
    int64_t at;          /* Unix ms: when it happened */
    int64_t received;    /* Unix ms: when it was recorded */
    const char *doc;     /* the event as compact JSON */
    const char *status;  /* "received" (rules not run yet), "done" or "failed" */
    const char *outcome; /* NULL until rules record one */
    int64_t attempts;    /* times rules ran on it (parley_store_events_settle) */
} parley_store_event;

/** Records `n` events (1 to PARLEY_STORE_MAX_EVENT_BATCH) received at
 * `now_ms` (0: the clock) in one transaction: all of them or, on failure,
 * none. An event whose id is already in the ledger (or earlier in the same
 * batch) is not recorded again. `*added` and `*duplicates` (each may be
 * NULL) get how many were new and how many were already there. Fails with
 * PARLEY_ERR_INVALID (no store or events, an empty or too long id or type,
 * no doc, a negative time), PARLEY_ERR_LIMIT (too many events, a doc over
 * PARLEY_STORE_MAX_STATE bytes), PARLEY_ERR_IO, PARLEY_ERR_NOMEM. */
parley_err parley_store_events_record(parley_store *store, const parley_store_event *events,
                                      size_t n, int64_t now_ms, size_t *added, size_t *duplicates,
                                      parley_error *err);

/** Called with each listed event; a non-zero return stops the listing
 * (the call still succeeds). */
typedef int (*parley_store_event_fn)(const parley_store_event *ev, void *userdata);

/** Which events parley_store_events_list() gives. */
typedef struct parley_store_event_query {
    int64_t after_seq;  /* only events with seq > after_seq (0: from the start) */
    size_t limit;       /* at most this many (0: no limit) */
    int newest_first;   /* 1: newest first (the latest `limit`); 0: oldest first */
    const char *status; /* only events with this status (NULL: any) */
} parley_store_event_query;

/** Calls `fn` for the events `q` selects (NULL: every event, oldest
 * first), in seq order: oldest first for replay ("after_seq" as a
 * cursor), or newest first. */
parley_err parley_store_events_list(parley_store *store, const parley_store_event_query *q,
                                    parley_store_event_fn fn, void *userdata, parley_error *err);

/** Like parley_store_events_list(), into an array of copies the caller
 * owns (free with parley_store_events_free()), for a caller that uses the
 * store while going through them; `*rows` and `*n` are set on success. */
parley_err parley_store_events_fetch(parley_store *store, const parley_store_event_query *q,
                                     parley_store_event **rows, size_t *n, parley_error *err);
/** Frees what parley_store_events_fetch() gave. NULL does nothing. */
void parley_store_events_free(parley_store_event *rows, size_t n);

/** Sets the status of event `id` ("done", "failed": docs/proactive.md) and
 * its outcome (a JSON array, or NULL), counting one more attempt.
 * PARLEY_ERR_NOTFOUND for an id not in the ledger. */
parley_err parley_store_events_settle(parley_store *store, const char *id, const char *status,
                                      const char *outcome, parley_error *err);

/* ---- proactive effects ------------------------------------------------------
 *
 * What the proactive rules did for each event, rule and customer, once:
 * the row is the proof that the effect happened (or was refused), so a
 * redelivered event finds it and does nothing twice; counts over the rows
 * give the frequency caps and de-duplication windows. Erased with the
 * customer. */

/** One decision of a rule for a customer. Strings copied on recording;
 * borrowed on output. */
typedef struct parley_store_effect {
    const char *key;      /* unique per event, rule and customer (up to 128 bytes) */
    const char *event_id; /* the event's id */
    const char *rule;     /* the rule's name */
    const char *customer; /* the customer's opaque id */
    int64_t at;           /* Unix ms of the decision (0 on input: the clock) */
    const char *outcome;  /* done, offered, skipped, denied, quiet, capped, duplicate, failed */
    const char *detail;   /* why, a short sentence without personal data */
    const char *action;   /* the action run, or "" */
    const char *message;  /* the response sent, or "" */
    const char *channel;  /* where it was sent ("sms", "conversation"), or "" */
    const char *dedupe;   /* the rule's de-duplication value, or "" */
} parley_store_effect;

/** Records `e` unless its key is recorded already; `*fresh` (may be NULL)
 * gets 1 when it was new. */
parley_err parley_store_effect_record(parley_store *store, const parley_store_effect *e, int *fresh,
                                      parley_error *err);

/** The outcome recorded under `key` in `outcome` (16 bytes);
 * PARLEY_ERR_NOTFOUND when there is none. */
parley_err parley_store_effect_find(parley_store *store, const char *key, char outcome[16],
                                    parley_error *err);

/** What parley_store_effects_count() counts: effects since `since` (Unix
 * ms) that sent a message, of `customer` and, when set, of `rule` and with
 * de-duplication value `dedupe`, other than those of event `not_event`. */
typedef struct parley_store_effect_query {
    const char *customer; /* NULL: any */
    const char *rule;     /* NULL: any */
    const char *dedupe;   /* NULL: any; else only effects that acted or sent */
    int64_t since;
    const char *not_event; /* NULL, or leave out this event's effects */
} parley_store_effect_query;

parley_err parley_store_effects_count(parley_store *store, const parley_store_effect_query *q,
                                      int64_t *count, parley_error *err);

/** An event's settling, as parley_store_events_settle() takes it. */
typedef struct parley_store_settle {
    const char *id, *status, *outcome;
} parley_store_settle;

/** In one transaction: records the `n` effects (as
 * parley_store_effect_record(), keys already recorded left as they are,
 * but each with its time `at` set: no 0 for the clock here)
 * and settles the `m` events (as parley_store_events_settle()); all of it
 * or, on failure, nothing. This is how a batch of decisions becomes
 * durable at once. PARLEY_ERR_INVALID for a bad effect or settling (the
 * message says which), PARLEY_ERR_NOTFOUND for an event not in the ledger
 * (nothing is written then), PARLEY_ERR_IO. */
parley_err parley_store_effects_commit(parley_store *store, const parley_store_effect *effects,
                                       size_t n, const parley_store_settle *settles, size_t m,
                                       parley_error *err);

/** The latest message a rule sent to a customer on a channel, as
 * parley_store_effect_latest() finds it. */
typedef struct parley_store_effect_ref {
    char rule[65];
    char message[65];
    char event_id[PARLEY_STORE_MAX_EVENT_ID + 1];
    int64_t at; /* Unix ms of the decision */
} parley_store_effect_ref;

/** The latest effect of `customer` after `since` (Unix ms) that sent a
 * message on `channel` ("sms", "conversation") into `*out` (what a reply
 * from that channel answers); PARLEY_ERR_NOTFOUND when there is none. */
parley_err parley_store_effect_latest(parley_store *store, const char *customer,
                                      const char *channel, int64_t since,
                                      parley_store_effect_ref *out, parley_error *err);

/* ---- encryption at rest, crypto-shredding, retention ----------------------
 *
 * With master keys in parley_store_options, conversation content (turn text
 * and metadata, the state document, the hand-off summary and the rating
 * comment) is stored encrypted with XChaCha20-Poly1305 under a data key of
 * its own conversation. Data keys are kept wrapped by a master key in a
 * separate SQLite file, the key store, so that erasing a customer destroys
 * their data keys and with them every copy of their content, backups of
 * the database included. Ids, times, statuses, intents and channels stay
 * clear. See docs/internals/store-encryption.md. */

/** Size of a master key, in bytes (given as 64 hex characters). */
#define PARLEY_STORE_MASTER_KEY_BYTES 32
/** Size of a master key's id: 8 lowercase hex characters and a NUL. */
#define PARLEY_STORE_MASTER_KEY_ID_SIZE 9
/** Most master keys one store accepts (the current one and older ones). */
#define PARLEY_STORE_MAX_MASTER_KEYS 8

/** A master key and its id (a keyed BLAKE2b fingerprint: the id reveals
 * nothing of the key). Secret: wipe it with
 * parley_store_master_key_clear() once the store is open. */
typedef struct parley_store_master_key {
    unsigned char key[PARLEY_STORE_MASTER_KEY_BYTES];
    char id[PARLEY_STORE_MASTER_KEY_ID_SIZE];
} parley_store_master_key;

/** Loads a master key from `spec`: "file:PATH" (a file that only its owner
 * can read, holding 64 hex characters) or "env:NAME" (an environment
 * variable holding them); surrounding whitespace is ignored. Fills `*out`
 * with the key and its id. Fails with PARLEY_ERR_INVALID (bad spec, unset
 * variable, file readable by group or others), PARLEY_ERR_IO (cannot read
 * the file) or PARLEY_ERR_FORMAT (not 64 hex characters); the message
 * never shows key material. `*out` is unchanged on failure. */
parley_err parley_store_master_key_load(const char *spec, parley_store_master_key *out,
                                        parley_error *err);

/** Writes a new random master key (64 hex characters and a newline) to a
 * new file `path` of mode 0600; an existing file is never overwritten
 * (PARLEY_ERR_IO). */
parley_err parley_store_master_key_generate(const char *path, parley_error *err);

/** Loads a whole keyring as configuration gives it: `current` (a spec as
 * above; NULL or "": no encryption) and `older` (NULL, "", or specs
 * separated by commas, for keys still accepted while rotating) into
 * keys[0..*n) (caller-owned; wipe each with parley_store_master_key_clear()
 * after opening the store). Fails like parley_store_master_key_load(),
 * naming the spec at fault, and with PARLEY_ERR_INVALID for older keys
 * without a current one or more than PARLEY_STORE_MAX_MASTER_KEYS keys.
 * On failure nothing is left in `keys` and `*n` is unchanged. */
parley_err parley_store_keyring_load(const char *current, const char *older,
                                     parley_store_master_key keys[PARLEY_STORE_MAX_MASTER_KEYS],
                                     size_t *n, parley_error *err);

/** Wipes `key`. NULL does nothing. */
void parley_store_master_key_clear(parley_store_master_key *key);

/** How to open a store (parley_store_open_ex()). Start from
 * PARLEY_STORE_OPTIONS_INIT. */
typedef struct parley_store_options {
    /* The keyring: master_keys[0] is the current key (it wraps new data
     * keys); the others are older keys still accepted for unwrapping. None
     * (0): no encryption, as with parley_store_open(). Borrowed during the
     * call only: the store keeps its own copy in locked memory. */
    const parley_store_master_key *master_keys;
    size_t nmaster_keys;
    /* The key store's file; NULL: beside the database, its name with "-keys"
     * before ".db" (parley.db -> parley-keys.db); a ":memory:" database gets
     * an in-memory key store. Keep it out of the database's backups. */
    const char *key_store;
} parley_store_options;
#define PARLEY_STORE_OPTIONS_INIT                                                                  \
    {                                                                                              \
        NULL, 0, NULL                                                                              \
    }

/** Like parley_store_open() with options (NULL: none). With a keyring it
 * opens (creating if needed) the key store too and checks, before
 * returning, that every data key in it is wrapped by a configured master
 * key ("this data was encrypted with master key <id>, which is not
 * configured") and that the key store belongs to this database; without a
 * keyring it refuses a database that was ever opened with one. Those
 * refusals are PARLEY_ERR_INVALID. Content already stored in the clear
 * stays readable; new content is written encrypted. */
parley_err parley_store_open_ex(const char *url, const parley_store_options *opts,
                                parley_store **out, parley_error *err);

/** Whether the store encrypts content (it was opened with a keyring). */
int parley_store_encrypted(const parley_store *store);

/** Called as work progresses: `done` of `total` items. */
typedef void (*parley_store_progress_fn)(size_t done, size_t total, void *userdata);

/** Master-key rotation: rewraps every data key wrapped by an older master
 * key of the keyring with the current one, a few hundred per transaction,
 * so that servers using the same files (with a keyring that holds both
 * keys) go on serving. Content is not re-encrypted. `fn` (may be NULL) is
 * called after each batch. Once it returns PARLEY_OK the older keys can be
 * dropped from the configuration. PARLEY_ERR_INVALID without a keyring. */
parley_err parley_store_rekey(parley_store *store, parley_store_progress_fn fn, void *userdata,
                              parley_error *err);

/** A retention policy per data class; 0 keeps that class forever. */
typedef struct parley_store_retention {
    /* Conversations (state, transcript, outcome, data key) whose last
     * update is older than this many days. */
    int transcript_days;
} parley_store_retention;

/** What one sweep removed. */
typedef struct parley_store_sweep_result {
    size_t conversations;   /* past transcript_days, with their turns */
    size_t turns;           /* of those conversations */
    size_t data_keys;       /* their data keys, and orphans (see below) */
    size_t throttle_events; /* throttle events older than a day */
} parley_store_sweep_result;

/** Enforces `policy` as of `now_ms` (Unix ms; 0: the clock), in small
 * transactions: deletes the conversations idle for longer than the policy
 * allows, with their turns and data keys, throttle events older than a
 * day, and data keys with no conversation that are more than an hour old
 * (left by a crash between writing a key and its conversation). Counts
 * what it removed into `*out` (may be NULL). Call it periodically (e.g.
 * hourly); it is safe while other handles or processes use the store. */
parley_err parley_store_sweep(parley_store *store, const parley_store_retention *policy,
                              int64_t now_ms, parley_store_sweep_result *out, parley_error *err);

#ifdef __cplusplus
}
#endif
#endif
