/* The trust layer (docs/trust.md): identity levels and what each may be
 * told, consent grants and their limits, and the one decision every
 * action goes through. */
#ifndef PARLEY_TRUST_H
#define PARLEY_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "parley/bot.h"
#include "parley/common.h"
#include "parley/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How sure the conversation is of who the customer is. */
typedef enum parley_trust_level {
    PARLEY_TRUST_ANONYMOUS = 0,
    PARLEY_TRUST_IDENTIFIED = 1, /* claims an account (a known phone number) */
    PARLEY_TRUST_VERIFIED = 2,   /* passed the bot's knowledge check */
    PARLEY_TRUST_STRONG = 3,     /* entered a one-time code sent to the phone on file */
} parley_trust_level;

/** "anonymous", "identified", "verified", "strong". Static storage. */
const char *parley_trust_level_name(parley_trust_level level);

/** The level a fact of connector sensitivity `sensitivity` (0 public,
 * 1 account, 2 sensitive) needs before it may be told. */
parley_trust_level parley_trust_level_for(int sensitivity);

/** Checks grant limits `limits` (a JSON object) against what `scope`
 * supports: known names only, positive numbers, whole counts, a list of
 * channel names, quiet hours "HH-HH". On success `*normalized` gets the
 * limits as compact JSON (caller frees with parley_trust_free()).
 * PARLEY_ERR_INVALID with what is wrong otherwise. */
parley_err parley_trust_limits_check(const parley_bot_consent *scope, const char *limits,
                                     char **normalized, parley_error *err);

/** One more use of a grant: `quantity` GB (or 0) and `amount` of money
 * (or 0), on `channel` at UTC hour `hour`. Returns 1 when grant `g`
 * (with its use so far this period) allows it; else 0 with the limit
 * that refuses it in `why`. */
int parley_trust_limits_allow(const parley_store_consent *g, double quantity, double amount,
                              const char *channel, int hour, char *why, size_t why_size);

/** The verdict on an action. */
typedef enum parley_trust_verdict {
    PARLEY_TRUST_ALLOW = 0,
    PARLEY_TRUST_DENY = 1,
    PARLEY_TRUST_CONFIRM = 2, /* allowed once the customer says yes to a restatement */
} parley_trust_verdict;

/** An action to decide. Zero-initialise and fill. */
typedef struct parley_trust_request {
    const char *action;        /* the bot's action name */
    parley_trust_level level;  /* the conversation's identity level now */
    parley_trust_level needed; /* what the action needs (VERIFIED by default) */
    int asked;                 /* 1: the customer asked for it in this conversation */
    int confirmed;             /* 1: a clear yes to the restatement, the turn before */
    int needs_confirmation;    /* 1: costs money, changes the plan or cannot be undone */
    const char *customer_id;   /* for proactive actions: whose grants */
    const char *scope;         /* for proactive actions: the covering scope */
    double quantity, amount;   /* counted against the grant's limits */
    const char *channel;       /* where the action would reach the customer */
    const char *use_key;       /* counts the grant's use once per key (a redelivered event) */
    const char *time_zone;     /* the customer's IANA zone, for quiet hours; NULL: UTC */
    int peek;                  /* 1: read only; whether a grant would allow it, use not counted */
    int64_t now_ms;            /* 0: the clock */
} parley_trust_request;

/** The decision, with the rule that made it (a short English sentence
 * for the audit record and the explanation). */
typedef struct parley_trust_decision {
    parley_trust_verdict verdict;
    char rule[200];
    char grant_id[24];   /* the grant used, for proactive actions */
    double remaining_gb; /* left this month under the grant; -1: no limit */
    double remaining_amount;
} parley_trust_decision;

/** Decides `req`: identity level first, then for an action the customer
 * did not ask for a covering grant of `req->scope` whose limits take the
 * use (counted atomically in `store`: two concurrent uses cannot both pass
 * a limit that allows one), then confirmation. A store failure is an
 * error (and no decision); everything else is a verdict. */
parley_err parley_trust_decide(parley_store *store, const parley_trust_request *req,
                               parley_trust_decision *out, parley_error *err);

/** The period grants are counted in, "YYYY-MM" (UTC) of `now_ms`. */
void parley_trust_period(int64_t now_ms, char out[8]);

/* ---- a customer's data (privacy requests, the HTTP API) -------------- */

/** Conversation `id` as the API shows it (docs/http-api.md "Transcript"):
 * channel, language, state, hand-off, rating and the redacted turns, as
 * compact JSON in `*out` (caller frees with parley_trust_free()).
 * PARLEY_ERR_NOTFOUND for an unknown conversation. */
parley_err parley_trust_transcript_json(parley_store *store, const char *id, char **out,
                                        parley_error *err);

/** One consent grant with its usage in the month of `now_ms`, as compact
 * JSON (caller frees with parley_trust_free()); NULL if out of memory. */
char *parley_trust_grant_json(const parley_store_consent *g, int64_t now_ms);

/** Everything stored about `customer`: their conversations (redacted
 * transcripts) and consent grants, as the JSON document of a data export
 * ({customer_id, exported_at, conversations, consents}) in `*out` (caller
 * frees with parley_trust_free()). */
parley_err parley_trust_export(parley_store *store, const char *customer, int64_t now_ms,
                               char **out, parley_error *err);

/** Frees memory returned by this module. NULL does nothing. */
void parley_trust_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
