/* The conversation engine: runs a bot definition's flows for many
 * conversations, one customer message (a turn) at a time, persisting each
 * conversation's state and redacted transcript after every turn
 * (docs/dialog.md). */
#ifndef PARLEY_DIALOG_H
#define PARLEY_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#include "parley/common.h"
#include "parley/proactive.h"
#include "parley/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An engine: a loaded bot with its models, knowledge base, connectors and
 * store. Turns of different conversations may run concurrently from
 * several threads; turns of one conversation are serialised by the store's
 * optimistic versions (a concurrent turn fails with PARLEY_ERR_CONFLICT). */
typedef struct parley_dialog parley_dialog;

/** How to open an engine. Zero-initialise and set what you need. */
typedef struct parley_dialog_options {
    const char *bot_dir;    /* the bot folder (bot.yml); required */
    const char *models_dir; /* trained models; NULL: BOT_DIR/models */
    const char *store_url;  /* "sqlite:PATH" or a path; NULL: in memory */
    /* Replaces the base URL of every connector (e.g. a telco-sim started
     * on a free port); NULL keeps the definitions' URLs. */
    const char *backend_url;
    /* Minutes of silence after which a returning customer is welcomed
     * back and reminded of the pending question; 0: 30. */
    unsigned idle_minutes;
    /* Minutes of silence after which a verified identity lapses: the
     * customer proves it again before any account data or action; 0: 15. */
    unsigned verify_idle_minutes;
    /* The audit log ("sqlite:PATH"; docs/audit.md) every decision is
     * appended to, and its signing key file; NULL: no audit log. */
    const char *audit_url;
    const char *audit_key;
    /* How personal values are replaced in stored transcripts, hand-off
     * summaries and rating comments: a policy as parley_pii_policy_parse()
     * reads it ("redact", "card=mask,*=redact"...); NULL: every class
     * redacted. */
    const char *pii_transcript;
    /* The key of the policy's `hash` operator and the vault of its
     * `tokenize` operator (file and key), as parley_pii_key_load() reads
     * keys; needed when the policy uses them, else NULL. */
    const char *pii_hash_key;
    const char *pii_vault;
    const char *pii_vault_key;
    /* How to open the store (master keys for encryption at rest...; see
     * parley_store_open_ex()); NULL: none. Borrowed during the call. */
    const struct parley_store_options *store_options;
} parley_dialog_options;

/** Opens an engine: loads and checks the bot (any problem fails with
 * PARLEY_ERR_FORMAT naming the first and the count), its intent models and
 * language model (PARLEY_ERR_IO/FORMAT naming the file; run `parley bot
 * train` first), its knowledge base (BOT_DIR/kb, optional), connectors and
 * store. Caller frees `*out` with parley_dialog_close(). */
parley_err parley_dialog_open(const parley_dialog_options *opts, parley_dialog **out,
                              parley_error *err);

/** Closes an engine. No turn may be running. NULL does nothing. */
void parley_dialog_close(parley_dialog *d);

/** A proactive rules engine (include/parley/proactive.h) over this
 * engine's bot, store, connectors and audit log; `dry_run`, `deliver` and
 * `userdata` as parley_proactive_options has them. Caller frees `*out` with
 * parley_proactive_engine_free() before closing `d`. */
parley_err parley_dialog_proactive(parley_dialog *d, int dry_run,
                                   parley_proactive_deliver_fn deliver, void *userdata,
                                   parley_proactive_engine **out, parley_error *err);

/** The engine's store (borrowed; valid while `d` lives). */
parley_store *parley_dialog_store(parley_dialog *d);

/** Starts a conversation on `channel` ("web", "terminal"...; NULL: "")
 * and writes its id into `id_out`. */
parley_err parley_dialog_start(parley_dialog *d, const char *channel,
                               char id_out[PARLEY_STORE_ID_SIZE], parley_error *err);

/** The outcome of one action (connector call) taken during a turn. */
typedef struct parley_dialog_action {
    const char *name;         /* the bot's action name, or an identity operation */
    const char *status;       /* "ok" or a parley_connect_code_name() */
    const char *backend_code; /* e.g. "refuel_too_large"; NULL if none */
    double duration_ms;       /* of the backend call; -1 when none was made */
} parley_dialog_action;

/** One entity found in the customer's message. */
typedef struct parley_dialog_entity {
    const char *kind;  /* "phone", "data_amount", ... */
    const char *value; /* normalised value ("1.5" GB as "1500" MB, ...) */
    const char *text;  /* the words of the message it was read from */
} parley_dialog_entity;

/** What the bot answers to one message, and why. Strings are owned by the
 * reply and valid until parley_dialog_reply_free(). */
typedef struct parley_dialog_reply {
    const char *text;           /* the reply, possibly several sentences */
    const char *language;       /* language of the reply (= the customer's latest) */
    const char *intent;         /* the intent decided for the message, or "" */
    double confidence;          /* its calibrated probability */
    const char *flow;           /* the active flow after the turn, or "" */
    const char *step;           /* the step waiting for the customer, or "" */
    const char *const *choices; /* buttons to offer (clarification), or NULL */
    size_t n_choices;
    const parley_dialog_action *actions;
    size_t n_actions;
    const parley_dialog_entity *entities;
    size_t n_entities;
    int handoff;         /* 1: the conversation now waits for a human agent */
    const char *summary; /* for the agent when handoff is 1 (redacted), else "" */
    int64_t seq;         /* the stored seq of the customer's turn */
    /* "active", "awaiting_confirmation", "handed_off" or "closed" */
    const char *state;
    const char *identity;             /* "anonymous", "identified" or "verified" */
    const char *handoff_reason;       /* docs/http-api.md; "" unless handoff is 1 */
    const char *queue;                /* the agents' queue; "" unless handoff is 1 */
    const char *const *choice_labels; /* n_choices labels in the reply's language */
    int64_t turn;                     /* the customer's message number, from 1 */
    const char *stored_text;          /* the message as the transcript keeps it */
    /* A file for the customer with this reply (their data export, asked
     * for in chat): its name and JSON content; both NULL when none. */
    const char *attachment_name;
    const char *attachment;
} parley_dialog_reply;

/** Starts a conversation like parley_dialog_start(), in `language` (one
 * of the bot's; NULL: the first; another is PARLEY_ERR_INVALID). When the
 * bot defines a `welcome` response, `*welcome` gets it in that language
 * (caller frees with parley_dialog_text_free()), else NULL. */
parley_err parley_dialog_begin(parley_dialog *d, const char *channel, const char *language,
                               char id_out[PARLEY_STORE_ID_SIZE], char **welcome,
                               parley_error *err);

/** Frees a string returned by the engine. NULL does nothing. */
void parley_dialog_text_free(char *s);

/** The engine's audit log (borrowed), or NULL when none is configured. */
struct parley_audit *parley_dialog_audit(parley_dialog *d);

/** The engine's bot (borrowed; valid while `d` lives). */
const struct parley_bot *parley_dialog_bot(const parley_dialog *d);

/** Whether `lang` is one of the bot's languages. */
int parley_dialog_has_language(const parley_dialog *d, const char *lang);

/** Runs one customer message `text[0..len)` (UTF-8) in conversation `id`
 * at time `now_ms` (Unix milliseconds; 0: the real clock) and sets
 * `*out`. The conversation's new state and both turns (customer, bot) are
 * stored before this returns PARLEY_OK. Errors: PARLEY_ERR_NOTFOUND (no
 * such conversation), PARLEY_ERR_UTF8, PARLEY_ERR_LIMIT (message over
 * PARLEY_DIALOG_MAX_MESSAGE bytes), PARLEY_ERR_CONFLICT (another turn of
 * this conversation committed first: nothing was stored, retry),
 * PARLEY_ERR_IO (storage); a backend failure is not an error: the flow
 * handles it. A closed conversation is PARLEY_ERR_CONFLICT; in a handed-off
 * one the message is stored for the agent and the reply is empty (state
 * "handed_off"). Caller frees `*out` with parley_dialog_reply_free(). */
parley_err parley_dialog_turn(parley_dialog *d, const char *id, const char *text, size_t len,
                              int64_t now_ms, parley_dialog_reply **out, parley_error *err);

/** Sends a human agent's message `text[0..len)` to conversation `id`,
 * which must be handed off (else PARLEY_ERR_CONFLICT; closed too). The
 * transcript keeps it redacted; `*seq_out` gets its seq. */
parley_err parley_dialog_agent_say(parley_dialog *d, const char *id, const char *text, size_t len,
                                   int64_t *seq_out, parley_error *err);

/** Gives a handed-off conversation back to the bot (PARLEY_ERR_CONFLICT
 * unless handed off). */
parley_err parley_dialog_handback(parley_dialog *d, const char *id, parley_error *err);

/** Closes conversation `id`; later messages are PARLEY_ERR_CONFLICT.
 * Closing a closed conversation is PARLEY_OK. */
parley_err parley_dialog_end(parley_dialog *d, const char *id, parley_error *err);

/** Stores the customer's rating `score` (1..5) and optional comment
 * (redacted before it is stored; NULL: none) of conversation `id`. */
parley_err parley_dialog_rate(parley_dialog *d, const char *id, int score, const char *comment,
                              parley_error *err);

/** The account conversation `id` is verified for: its customer id into
 * `customer` (64 bytes; "" when none) and the identity level name
 * ("anonymous"...) into `level` (16 bytes). */
parley_err parley_dialog_identity(parley_dialog *d, const char *id, char customer[64],
                                  char level[16], parley_error *err);

/* ---- proactive messages and SMS replies (docs/proactive.md "Channels") -- */

/** Puts proactive message `m` into conversation `id` as a bot turn at
 * `now_ms` (0: the clock): stored redacted like every turn, with metadata
 * naming the rule and message, and remembered as the offer a reply
 * answers (a yes runs `m->reply`'s flow with `m`'s slots). Only into a
 * conversation that is active and verified for `m->customer` (not
 * lapsed): else PARLEY_ERR_CONFLICT and nothing is stored. `*seq_out`
 * (may be NULL) gets the turn's seq. */
parley_err parley_dialog_outreach(parley_dialog *d, const char *id,
                                  const parley_proactive_delivery *m, int64_t now_ms,
                                  int64_t *seq_out, parley_error *err);

/** Finds the account whose number is `phone` (the bot's identity
 * `by_phone` operation) and that phone's open SMS conversation (channel
 * "sms"), starting one in the customer's language when there is none; its
 * id (random, like every conversation id) into `id_out`. Fails with
 * PARLEY_ERR_NOTFOUND (no account has the number), PARLEY_ERR_UNAVAILABLE
 * (the backend did not answer), PARLEY_ERR_INVALID (the bot has no
 * identity operations). */
parley_err parley_dialog_sms_open(parley_dialog *d, const char *phone,
                                  char id_out[PARLEY_STORE_ID_SIZE], parley_error *err);

/** Runs SMS message `text[0..len)` from `phone` in conversation `id` (from
 * parley_dialog_sms_open()) like parley_dialog_turn(), except that the
 * sender holds the account's phone, which verifies it (docs/trust.md), and
 * that the latest proactive SMS sent to the customer in the last 24 hours
 * is the offer the message may answer. Also PARLEY_ERR_NOTFOUND when no
 * account has the number any more. */
parley_err parley_dialog_sms_turn(parley_dialog *d, const char *id, const char *phone,
                                  const char *text, size_t len, int64_t now_ms,
                                  parley_dialog_reply **out, parley_error *err);

/** Sends `text` to `phone` through the bot's SMS gateway (`proactive.sms`
 * in bot.yml) with idempotency key `key` (NULL: none). PARLEY_ERR_INVALID
 * when the bot has no gateway; PARLEY_ERR_UNAVAILABLE when it did not
 * send. */
parley_err parley_dialog_sms_send(parley_dialog *d, const char *phone, const char *text,
                                  const char *key, parley_error *err);

/** Longest customer message accepted, in bytes. */
#define PARLEY_DIALOG_MAX_MESSAGE 4096u

/** The reply as one JSON object (text, language, intent, confidence, flow,
 * step, choices, actions, entities, handoff, summary). Caller frees the
 * string with free(); NULL when out of memory. */
char *parley_dialog_reply_json(const parley_dialog_reply *r);

/** Frees a reply. NULL does nothing. */
void parley_dialog_reply_free(parley_dialog_reply *r);

#ifdef __cplusplus
}
#endif
#endif
