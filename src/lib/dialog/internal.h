/* Private declarations of the conversation engine: the engine, one
 * conversation's state (state.c persists it as JSON), and the per-turn
 * context the flow runner (flow.c), identity checks (identity.c), replies
 * (render.c, reply.c) and the turn logic (turn.c) share. */
#ifndef PARLEY_DIALOG_INTERNAL_H
#define PARLEY_DIALOG_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

#include "common/internal.h"
#include "parley/audit.h"
#include "parley/bot.h"
#include "parley/connect.h"
#include "parley/dialog.h"
#include "parley/kb.h"
#include "parley/nlu.h"
#include "parley/pii.h"
#include "parley/store.h"
#include "parley/trust.h"

#define DLG_MAX_LANGS       16
#define DLG_MAX_CONNS       8
#define DLG_MAX_SLOTS       32
#define DLG_MAX_FACTS       128
#define DLG_MAX_CHOICES     4
#define DLG_MAX_NAME        64
#define DLG_MAX_VALUE       256
#define DLG_MAX_ENTITIES    32
#define DLG_MAX_ACTIONS     16
#define DLG_MAX_VISITS      3 /* a step entered more often in one run hands off */
#define DLG_MAX_MISSES      3 /* misunderstandings in a row before a hand-off */
#define DLG_MAX_ID_TRIES    3 /* failed identity attempts before giving up */
#define DLG_CODE_TTL_MS     (5 * 60 * 1000)
#define DLG_CODES_PER_CONV  3 /* one-time codes one conversation may send */
#define DLG_CODES_PER_PHONE 5 /* ... one phone may receive per window, across conversations */
#define DLG_LOCKOUT_FAILS   3 /* failed verifications of one phone per window: locked */
#define DLG_ID_WINDOW_MS    (60 * 60 * 1000)
#define DLG_CLEAR_AFFIRM    0.4 /* an affirm without a yes word, to act on */
/* Scratches kept for reuse by redactions running at once (redact.c). */
#define DLG_PII_POOL 8
/* The name a data export asked for in chat is offered under. */
#define DLG_EXPORT_FILE "my-data.json"
#define DLG_QUEUE       "general" /* the agents' queue hand-offs go to */

struct parley_dialog {
    parley_bot *bot;
    parley_nlu_model *intent[DLG_MAX_LANGS]; /* per bot language */
    parley_langid *language;                 /* may be NULL with one language */
    parley_kb *kb;                           /* may be NULL */
    parley_connector *conns[DLG_MAX_CONNS];
    size_t nconns;
    parley_store *store;
    const char *langs[DLG_MAX_LANGS]; /* borrowed from the bot */
    size_t nlangs;
    int64_t idle_ms;
    int64_t verify_idle_ms; /* a verified identity lapses after this silence */
    uint64_t secret;        /* keys one-time code hashes; per engine */
    parley_audit *audit;    /* may be NULL: no audit log configured */
    parley_pii *pii;        /* the personal-data detectors, with the bot's identifiers */
    /* Turns of different conversations run at once (the server): each
     * redaction borrows a scratch from this pool. */
    pthread_mutex_t pii_mu;
    parley_pii_scratch *pii_free[DLG_PII_POOL];
    size_t npii_free;
    parley_pii_policy transcript;          /* how stored text is redacted */
    uint8_t hash_key[PARLEY_PII_KEY_SIZE]; /* the hash operator's key, when configured */
    parley_pii_vault *vault;               /* the tokenize operator's, when configured */
};

/* ---- conversation state (persisted after every turn) ---------------- */

enum dlg_wait {
    WAIT_NONE = 0,
    WAIT_STEP = 1,     /* the flow's current step (ask, confirm, verify) */
    WAIT_CLARIFY = 2,  /* which of `choices` */
    WAIT_RESUME = 3,   /* go back to the suspended flow? */
    WAIT_KB_OFFER = 4, /* no answer found: a person? */
};

enum dlg_id_stage { ID_NONE = 0, ID_PHONE = 1, ID_PROOF = 2, ID_CODE = 3 };

struct dlg_fact {
    char name[DLG_MAX_NAME];
    char *text; /* owned */
    char *json; /* owned */
    int sensitivity;
    int is_list;
};

struct dlg_slot {
    char name[DLG_MAX_NAME];
    char value[DLG_MAX_VALUE];
};

struct dlg_identity {
    int stage;
    int identified; /* the phone given belongs to an account */
    int verified;
    int strong; /* verified by a one-time code to the phone on file */
    int attempts;
    int codes_sent; /* one-time codes sent in this conversation */
    int name_ok, dob_ok;
    char customer_id[DLG_MAX_NAME];
    char line_id[DLG_MAX_NAME];
    char phone[32]; /* digits the customer gave */
    uint64_t code_hash;
    int64_t code_expires;
};

/* What the latest proactive message put to the customer (outreach.c): a
 * yes to it runs `intent`'s flow with `slots`, a no is acknowledged. */
#define DLG_OFFER_SLOTS  8
#define DLG_OFFER_TTL_MS (24LL * 3600 * 1000) /* a reply after this is a new message */
struct dlg_offer {
    char rule[DLG_MAX_NAME];
    char message[DLG_MAX_NAME];
    char intent[DLG_MAX_NAME]; /* "": nothing to continue */
    char event[DLG_MAX_NAME * 2];
    struct dlg_slot slots[DLG_OFFER_SLOTS];
    size_t nslots;
    int64_t at; /* when it was sent; 0: no offer */
};

struct dlg_state {
    char lang[8];
    char flow[DLG_MAX_NAME]; /* "" when no flow runs */
    long step;
    int wait;
    unsigned char visits[128];
    int reprompts;
    char susp_flow[DLG_MAX_NAME];
    long susp_step;
    struct dlg_slot slots[DLG_MAX_SLOTS];
    size_t nslots;
    struct dlg_fact facts[DLG_MAX_FACTS];
    size_t nfacts;
    struct dlg_identity id;
    char choices[DLG_MAX_CHOICES][DLG_MAX_NAME];
    size_t nchoices;
    int misses;
    int handoff;
    int64_t last_ms;
    int64_t turns;
    struct dlg_offer offer;
    int64_t offer_seen; /* the latest SMS offer taken from the effects (its time) */
};

/* state.c */
void dlg_state_clear(struct dlg_state *st);
/* Reads `json` ("{}" for a new conversation) into `st`; PARLEY_ERR_FORMAT
 * for a state this engine cannot read. */
parley_err dlg_state_read(struct dlg_state *st, const char *json, parley_error *err);
/* The state as JSON (caller frees with parley__free); sensitive facts are
 * left out: they live only for the turn that fetched them. */
char *dlg_state_write(const struct dlg_state *st);
const char *dlg_slot_get(const struct dlg_state *st, const char *name);
int dlg_slot_set(struct dlg_state *st, const char *name, const char *value);
const struct dlg_fact *dlg_fact_get(const struct dlg_state *st, const char *name);
int dlg_fact_set(struct dlg_state *st, const char *name, const char *text, const char *json,
                 int sensitivity, int is_list);

/* ---- one turn --------------------------------------------------------- */

struct dlg_turn {
    parley_dialog *d;
    struct dlg_state *st;
    const char *conv_id;
    const char *text; /* the customer's message (raw; never stored) */
    size_t len;
    const char *lang;
    int64_t now;
    parley_nlu_prediction pred;
    parley_entity ents[DLG_MAX_ENTITIES];
    size_t nents;
    struct parley_buf out; /* the reply so far */
    parley_dialog_action actions[DLG_MAX_ACTIONS];
    size_t nactions;
    char *action_strings[DLG_MAX_ACTIONS * 3];
    size_t nstrings;
    double call_ms; /* duration of the call being recorded; -1: none */
    int handoff;
    char handoff_reason[DLG_MAX_NAME * 2 + 8]; /* docs/http-api.md "Hand-off reasons" */
    const char *intent_acted;                  /* intent of the first flow started, or NULL */
    int redact_all;                /* the message was identity proof: store a placeholder */
    int refused_disclosures;       /* facts withheld for want of identity */
    char refused[4][DLG_MAX_NAME]; /* the first of them, for the audit */
    parley_trust_level level_before;
    int switched;      /* the customer moved to another account this turn */
    int lapsed;        /* the verification expired at the start of this turn */
    int confirmed;     /* a clear yes to a confirm step this turn, not yet used */
    int erase;         /* erase the customer's data once this turn is stored */
    char *export_json; /* the customer's data export for the reply (privacy_export) */
    char action_rule[DLG_MAX_ACTIONS][200]; /* the decision's rule per action */
    int failed;                             /* out of memory or storage: abort the turn */
    int possession; /* the message came from the account's own phone (SMS) */
    /* Why the message goes to the review queue (not understood): NULL, or
     * "out_of_scope", "clarify", "not_understood", "handoff". */
    const char *review;
};

/* Runs one turn like parley_dialog_turn(), with `prepare` (may be NULL)
 * called on the loaded state before the message is decided; a non-zero
 * return from it fails the turn with that error, nothing stored. */
typedef parley_err (*dlg_prepare_fn)(struct dlg_turn *t, void *userdata, parley_error *err);
parley_err dlg_turn_run(parley_dialog *d, const char *id, const char *text, size_t len, int64_t now,
                        dlg_prepare_fn prepare, void *userdata, parley_dialog_reply **out,
                        parley_error *err);

/* render.c: appends response `key` in the turn's language with its
 * {placeholders} filled from slots and facts; 0 if the bot lacks it. */
int dlg_say(struct dlg_turn *t, const char *key);
/* Like dlg_say with extra names: `names[i]` is replaced by `values[i]`. */
int dlg_say_with(struct dlg_turn *t, const char *key, const char *const *names,
                 const char *const *values, size_t n);
/* Renders response `key` into `*out` (a fresh buffer the caller releases);
 * 0 if the bot lacks it. */
int dlg_render(struct dlg_turn *t, const char *key, const char *const *names,
               const char *const *values, size_t n, struct parley_buf *out);
/* Appends plain text (a knowledge answer). */
void dlg_say_text(struct dlg_turn *t, const char *s, size_t n);
/* Formats a number the way `lang` writes it ("1,5" in fr/es/de). */
void dlg_format_number(char *out, size_t size, double v, const char *lang);

/* flow.c */
/* Starts flow `f` at its first step and runs it until it waits or ends. */
void dlg_flow_start(struct dlg_turn *t, const parley_bot_flow *f);
/* Like dlg_flow_start with slots `given[0..n)` filled first (a proactive
 * offer's). */
void dlg_flow_start_with(struct dlg_turn *t, const parley_bot_flow *f, const struct dlg_slot *given,
                         size_t n);
/* Runs the current flow from state's step until it waits or ends. */
void dlg_flow_run(struct dlg_turn *t);
/* The current waiting step takes the message if it answers it; returns 1
 * when it did (and the flow went on), 0 when the message is something
 * else. */
int dlg_flow_answer(struct dlg_turn *t);
/* Says the current waiting step's question again. */
void dlg_flow_reprompt(struct dlg_turn *t);
const parley_bot_flow *dlg_current_flow(const struct dlg_turn *t);
/* Fills slots of the current flow from the message's entities; returns
 * how many it filled. `only_empty`: leave filled slots alone. */
int dlg_fill_slots(struct dlg_turn *t, const parley_bot_flow *f, int only_empty);
/* Hands the conversation to a person with response `key` (NULL:
 * "handoff"), recording `reason` (see docs/http-api.md). */
void dlg_handoff(struct dlg_turn *t, const char *key, const char *reason);
/* Records an action outcome for the reply. */
void dlg_record_action(struct dlg_turn *t, const char *name, const char *status,
                       const char *backend_code);
/* Calls operation `op` of connector `conn` with `params`; stores the
 * outcome's facts; returns the result (caller frees) or NULL. */
parley_connect_result *dlg_call(struct dlg_turn *t, size_t conn, const char *label, const char *op,
                                const parley_connect_param *params, size_t n, int keep_facts);

/* identity.c: the verification sub-dialog of a verify_identity step.
 * Returns 1 when verified (facts set), 0 when it waits for the customer,
 * -1 when it failed. `fresh`: the step was just entered. */
int dlg_identity_step(struct dlg_turn *t, int fresh);
/* The sender of the message holds `phone` (an SMS from it): verifies the
 * account of that number without asking, as a one-time code to it would.
 * 1 verified, 0 no account has the number, -1 the backend failed. */
int dlg_identity_possession(struct dlg_turn *t, const char *phone);
/* Whether two phone numbers are the same (their last ten digits). */
int dlg_phone_equal(const char *a, const char *b);
/* Says the identity question the current stage waits for. */
void dlg_identity_reprompt(struct dlg_turn *t);
/* Whether the message answers the identity stage. */
int dlg_identity_answers(const struct dlg_turn *t);
/* Lets a verification lapse after the engine's verify idle time: the
 * account's facts are forgotten, the level drops to identified and flows
 * past their verify_identity step go back to it, so nothing of the
 * account is shown or done until the customer proves who they are again.
 * Returns 0 (still valid, or never verified), 1 (lapsed) or 2 (lapsed and
 * the current flow now waits at its verify step). */
int dlg_identity_expire(struct dlg_turn *t);

/* consent.c: runs consent step `s` (understand, grant, revoke, list);
 * 1: done, go on; 0: nothing found (the step's `none`); -1: the store
 * failed. */
int dlg_consent_step(struct dlg_turn *t, const parley_bot_step *s);
/* privacy.c: consent step ops privacy_kind (fact privacy_kind: erase,
 * opt_out or export), privacy_opt_out, privacy_erase (done after the turn
 * is stored) and privacy_export (the document goes with the reply); same
 * returns as dlg_consent_step. */
int dlg_privacy_step(struct dlg_turn *t, const parley_bot_step *s);

/* outreach.c: the customer's answer to the pending proactive offer: a yes
 * runs its flow with its slots, a no is acknowledged; returns 1 when the
 * message was that answer, 0 when it is to be handled as usual. Any
 * message ends the offer. */
int dlg_offer_answer(struct dlg_turn *t);
/* state.c: the offer as JSON and back. */
json_t *dlg_offer_json(const struct dlg_offer *o);
void dlg_offer_read(struct dlg_offer *o, json_t *v);

/* turn.c: language, intent and entities of the message; then what to do. */
void dlg_understand(struct dlg_turn *t, parley_nlu_ctx *ctx);
void dlg_decide(struct dlg_turn *t);
/* Extracts entities again with the plans and cities fetched since. */
void dlg_refresh_entities(struct dlg_turn *t);

/* The label of `intent` in the turn's language (label_INTENT, else the
 * name) into `*b`, a fresh buffer the caller releases. */
void dlg_label_of(struct dlg_turn *t, const char *intent, struct parley_buf *b);

/* redact.c: the personal-data detectors and the transcript policy, made
 * when the engine opens and freed when it closes. */
parley_err dlg_pii_open(parley_dialog *d, const parley_dialog_options *o, parley_error *err);
void dlg_pii_close(parley_dialog *d);
/* `text` as it may be stored: personal values (detected, known from the
 * sensitive facts of `st` (may be NULL), and the phone numbers and birth
 * dates among `ents`) replaced as the transcript policy says. Caller frees
 * with parley__free; NULL: out of memory. */
char *dlg_redact(parley_dialog *d, const struct dlg_state *st, const char *text, size_t len,
                 const parley_entity *ents, size_t nents);
/* audit.c: appends the turn's audit records (intent, identity change,
 * refused disclosures, actions, consent, hand-off); failures are logged,
 * never shown to the customer. */
void dlg_audit_turn(struct dlg_turn *t);

/* The conversation's identity level, and its name. */
parley_trust_level dlg_level(const struct dlg_state *st);
const char *dlg_identity_level(const struct dlg_state *st);

/* Entity helpers (turn.c). */
const parley_entity *dlg_entity(const struct dlg_turn *t, parley_entity_kind kind);
/* Affirm (1), deny (0) or neither (-1): a yes/no word, or affirm/deny as
 * the top intent (asked a yes/no question, even a hesitant one counts). */
int dlg_yes_no(const struct dlg_turn *t);
/* Whether a yes is clear enough to act on: no hedging word ("maybe",
 * "supongo", "vielleicht"...), and a yes word or a confident affirm. */
int dlg_clear_yes(const struct dlg_turn *t);

#endif
