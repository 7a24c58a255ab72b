/* The tamper-evident audit log: every decision and effect of the AI as a
 * record in a hash chain (BLAKE2b-256) with signed checkpoints (Ed25519),
 * in its own SQLite file so that erasing conversation data never breaks it.
 *
 * Privacy contract: record bodies are written as given and kept until
 * parley_audit_prune() drops the oldest (retention, e.g. 7 years).
 * Callers pass redacted JSON and opaque ids only, never personal data in
 * clear; the log cannot check that, it only caps sizes and checks syntax.
 *
 * Thread safety: one handle may be shared by any number of threads (a
 * mutex per handle); several processes may append to the same file.
 * Format, chain and record kinds: docs/audit.md. */
#ifndef PARLEY_AUDIT_H
#define PARLEY_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open audit log. Opaque; create with parley_audit_open(). */
typedef struct parley_audit parley_audit;

/** Largest record body accepted, in bytes. */
#define PARLEY_AUDIT_MAX_BODY (16 * 1024)
/** Longest kind tag: 1..32 of [a-z0-9_], starting with a letter. */
#define PARLEY_AUDIT_MAX_KIND 32
/** Longest conversation or customer id: printable ASCII, no spaces. */
#define PARLEY_AUDIT_MAX_ID 64

/** 1 when the log takes `id` as a conversation or customer id (printable
 * ASCII without spaces, at most PARLEY_AUDIT_MAX_ID bytes; "" too), else 0:
 * for callers that would rather leave an id out than lose the record. */
int parley_audit_id_ok(const char *id);
/** Deepest nesting of arrays and objects accepted in a body. */
#define PARLEY_AUDIT_MAX_DEPTH 32
/** Records between two automatic checkpoints unless configured. */
#define PARLEY_AUDIT_DEFAULT_INTERVAL 1000
/** Size of a chain hash (BLAKE2b-256) and of an Ed25519 public key. */
#define PARLEY_AUDIT_HASH_SIZE 32
/** Schema version this build writes; newer databases are refused. */
#define PARLEY_AUDIT_SCHEMA_VERSION 2
/** Kind of the records the log writes when it prunes (reserved). */
#define PARLEY_AUDIT_RETENTION_KIND "retention"

/** Flags of parley_audit_options. */
enum parley_audit_flags {
    /** Open an existing log read-only (verify, list, explain). */
    PARLEY_AUDIT_READ_ONLY = 1 << 0,
};

/** How to open a log. Zero it (or pass NULL) for the defaults. */
typedef struct parley_audit_options {
    /** Secret key file made by parley_audit_keygen(), or NULL: checkpoints
     * are then unsigned hashes. Read once at open; must be mode 0600. */
    const char *signing_key_path;
    /** Records between automatic checkpoints: 0 means the default
     * (PARLEY_AUDIT_DEFAULT_INTERVAL), -1 never (on demand only). */
    int64_t checkpoint_interval;
    unsigned flags; /* enum parley_audit_flags */
} parley_audit_options;

/** Opens (creating if needed, unless read-only) the log named by `url`:
 * "sqlite:PATH", a plain PATH or ":memory:", optionally followed by
 * "?sync=full" (each append survives a power loss: one fsync) or
 * "?sync=normal" (default: WAL, synchronous=NORMAL, an acknowledged append
 * survives a crash of the process). Brings the schema up to date. Fails
 * with PARLEY_ERR_INVALID (bad url or option), PARLEY_ERR_IO, _CORRUPT,
 * _VERSION (schema newer than this build), _FORMAT (bad key file),
 * _NOMEM. On success the caller frees `*out` with parley_audit_close();
 * on failure `*out` is unchanged. `opts` is copied. */
parley_err parley_audit_open(const char *url, const parley_audit_options *opts, parley_audit **out,
                             parley_error *err);

/** Closes the log and frees the handle (the secret key is wiped).
 * Acknowledged records are already durable. NULL does nothing. */
void parley_audit_close(parley_audit *a);

/** One record. On input (parley_audit_append) the log copies what it
 * needs; on output every pointer is borrowed, valid during the callback. */
typedef struct parley_audit_record {
    int64_t seq;              /* 1, 2, ...; set by the log */
    int64_t time;             /* Unix ms; 0 on input means now */
    const char *kind;         /* "intent", "action", ...: see docs/audit.md */
    const char *conversation; /* id, or NULL/"" */
    const char *customer;     /* opaque id, or NULL/"" (never a name, a phone) */
    int64_t turn;             /* turn of the conversation, 0 if none */
    const char *body;         /* a JSON object, already redacted */
} parley_audit_record;

/** Appends `rec` to the chain; `*seq_out` (if not NULL) receives its seq.
 * When this returns PARLEY_OK the record is committed (durable as the url
 * says) and chained; every `checkpoint_interval` records a checkpoint is
 * written in the same transaction. Fails with PARLEY_ERR_INVALID (bad kind
 * or id, body not a JSON object: the message says where), PARLEY_ERR_LIMIT
 * (body over PARLEY_AUDIT_MAX_BODY or nested too deep), PARLEY_ERR_IO,
 * PARLEY_ERR_NOMEM; nothing is written then. Thread-safe. */
parley_err parley_audit_append(parley_audit *a, const parley_audit_record *rec, int64_t *seq_out,
                               parley_error *err);

/** Most records one parley_audit_append_many() call takes. */
#define PARLEY_AUDIT_MAX_BATCH 100000

/** Appends the `n` records of `recs` (1 to PARLEY_AUDIT_MAX_BATCH), in
 * order, in one transaction: all of them or none; `*seq_out` gets the
 * last one's seq. Checkpoints that fall due are written with them. For a
 * batch of decisions made together (proactive care) this costs one commit
 * instead of `n`. Fails as parley_audit_append() does; a bad record's
 * message names it ("record 3: ..."). Thread-safe. */
parley_err parley_audit_append_many(parley_audit *a, const parley_audit_record *recs, size_t n,
                                    int64_t *seq_out, parley_error *err);

/** Writes a checkpoint at the latest record now (a no-op if there is one
 * already); `*seq_out` (if not NULL) receives its seq. PARLEY_ERR_EMPTY
 * when the log has no record. Thread-safe. */
parley_err parley_audit_checkpoint(parley_audit *a, int64_t *seq_out, parley_error *err);

/** The number of records (the seq of the last one) into `*out`. */
parley_err parley_audit_count(parley_audit *a, int64_t *out, parley_error *err);

/** Which records parley_audit_list() reports: set exactly one id. */
typedef struct parley_audit_filter {
    const char *conversation;
    const char *customer;
} parley_audit_filter;

/** Called per record, oldest first; non-zero stops the listing (which
 * still returns PARLEY_OK). `rec` is borrowed, valid during the call. */
typedef int (*parley_audit_record_fn)(const parley_audit_record *rec, void *userdata);

/** Lists the records of one conversation or one customer, oldest first.
 * PARLEY_ERR_INVALID unless exactly one filter id is set. Thread-safe; the
 * callback must not call back into `a`. */
parley_err parley_audit_list(parley_audit *a, const parley_audit_filter *filter,
                             parley_audit_record_fn fn, void *userdata, parley_error *err);

/** How a chain breaks. New values go at the end. */
typedef enum parley_audit_break {
    PARLEY_AUDIT_INTACT = 0,
    PARLEY_AUDIT_MODIFIED = 1,       /* a record's content or hash changed */
    PARLEY_AUDIT_DELETED = 2,        /* a record is missing (a gap) */
    PARLEY_AUDIT_INSERTED = 3,       /* a record not in the original chain */
    PARLEY_AUDIT_REORDERED = 4,      /* records moved to other seqs */
    PARLEY_AUDIT_BAD_CHECKPOINT = 5, /* checkpoint disagrees with the chain */
    PARLEY_AUDIT_BAD_SIGNATURE = 6,  /* checkpoint signature does not verify */
    PARLEY_AUDIT_BAD_ANCHOR = 7,     /* a pruned log's start disagrees with its prune */
} parley_audit_break;

/** Names a break ("modified"...). Never NULL; static storage. */
const char *parley_audit_break_name(parley_audit_break b);

/** What parley_audit_verify() found. Caller-owned. */
typedef struct parley_audit_report {
    int ok;              /* 1 when nothing is wrong */
    int64_t records;     /* records checked */
    int64_t checkpoints; /* checkpoints checked */
    int64_t signed_checkpoints;
    int64_t last_signed_seq;              /* seq of the last verified signature, 0 if none */
    int key_trusted;                      /* signatures checked against the given key */
    parley_audit_break kind;              /* PARLEY_AUDIT_INTACT when ok */
    int64_t seq;                          /* first seq where the chain breaks, 0 if ok */
    char detail[256];                     /* plain-language account of the break */
    uint8_t head[PARLEY_AUDIT_HASH_SIZE]; /* hash of the last record */
    int64_t first_seq;                    /* seq the retained chain starts at: 1 unless pruned */
    int64_t pruned_through;               /* records 1..this were pruned; 0 if never */
} parley_audit_report;

/** Optional verify settings; NULL for the defaults. */
typedef struct parley_audit_verify_options {
    /** Public key file to check signatures with; NULL uses the handle's
     * signing key, else the key stored with each checkpoint (weaker: then
     * `key_trusted` is 0 and the report says so). */
    const char *public_key_path;
    /** Called every 65,536 records with the count done and the total. */
    void (*progress)(int64_t done, int64_t total, void *userdata);
    void *userdata;
} parley_audit_verify_options;

/** Recomputes the whole chain and checks every checkpoint; fills `*rep`.
 * A pruned log is checked from its anchor (rep->first_seq): the anchor
 * must agree with the last "retention" record in the chain, so deleting
 * records at the start beyond a prune is a break (PARLEY_AUDIT_BAD_ANCHOR
 * or PARLEY_AUDIT_DELETED).
 * A broken chain is PARLEY_OK with rep->ok == 0 and the first break in
 * rep->kind, rep->seq and rep->detail. Fails only when it cannot read:
 * PARLEY_ERR_IO, _CORRUPT, _FORMAT (bad public key file), _NOMEM. Reads a
 * snapshot; appends by other threads go on meanwhile. */
parley_err parley_audit_verify(parley_audit *a, const parley_audit_verify_options *vo,
                               parley_audit_report *rep, parley_error *err);

/** What parley_audit_prune() did. Caller-owned. */
typedef struct parley_audit_prune_result {
    int64_t pruned;        /* records deleted by this call */
    int64_t first_seq;     /* seq of the oldest retained record afterwards */
    int64_t anchor_seq;    /* records 1..anchor_seq are gone (0: none ever) */
    int64_t retention_seq; /* seq of the "retention" record written, 0 if none */
    int64_t first_new_seq; /* first record at or newer than the cutoff, or the tail + 1 */
    uint8_t anchor[PARLEY_AUDIT_HASH_SIZE]; /* hash record first_seq chains from */
    char reason[320];                       /* when pruned == 0: why nothing was pruned */
} parley_audit_prune_result;

/** Retention: deletes the oldest records, those with time < `cutoff_ms`
 * (Unix ms), but only up to a checkpoint: the oldest record kept is a
 * checkpoint's record, which (signed) vouches for the retained chain, and
 * the newest checkpoint and every record after it are always kept. Before
 * deleting anything it verifies the whole chain (a broken one is never pruned:
 * PARLEY_ERR_CORRUPT) and appends a record of kind "retention" (time
 * `now_ms`, 0 for the clock) saying which seq and hash the retained chain
 * starts from; then it deletes in transactions of at most 10,000 records,
 * each moving the anchor row with it, so a crash leaves a chain that
 * verifies and a second call finishes the job. Nothing to prune is
 * PARLEY_OK with out->pruned == 0 and out->reason saying why. Fails with
 * PARLEY_ERR_INVALID (no log or result), _CORRUPT (the chain does not
 * verify: nothing is pruned), _IO (also a read-only handle), _NOMEM; what
 * committed before a failure stays and verifies. On success `*out` is
 * filled (caller-owned); on failure it is unchanged.
 * Thread-safe; other handles and processes may append meanwhile. */
parley_err parley_audit_prune(parley_audit *a, int64_t cutoff_ms, int64_t now_ms,
                              parley_audit_prune_result *out, parley_error *err);

/** Called with each line of an explanation (no newline). Borrowed. */
typedef void (*parley_audit_line_fn)(const char *line, void *userdata);

/** Explains in plain language, one line per decision, what the AI did and
 * why in conversation `conversation` (only turn `turn` if > 0), from its
 * records' bodies (fields in docs/audit.md). Times are HH:MM in UTC when
 * `utc` is non-zero, else local time. PARLEY_ERR_NOTFOUND when there is
 * no record of it. */
parley_err parley_audit_explain(parley_audit *a, const char *conversation, int64_t turn, int utc,
                                parley_audit_line_fn fn, void *userdata, parley_error *err);

/** Makes a new Ed25519 key pair: the secret key in `path` (mode 0600,
 * refused if it exists) and the public key in `path`.pub. */
parley_err parley_audit_keygen(const char *path, parley_error *err);

/** Checks that `body` (`len` bytes) is a JSON object the log accepts:
 * strict RFC 8259, UTF-8, at most PARLEY_AUDIT_MAX_BODY bytes and
 * PARLEY_AUDIT_MAX_DEPTH deep. PARLEY_ERR_INVALID with the byte offset
 * of the first fault, or PARLEY_ERR_LIMIT. */
parley_err parley_audit_body_check(const char *body, size_t len, parley_error *err);

#ifdef __cplusplus
}
#endif
#endif
