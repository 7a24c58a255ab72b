/* Personal data: detection of personal values in text in the bot's four
 * languages (validated, not just matched) and the operators that replace
 * them (redact, mask, keyed hash, reversible token in an encrypted vault)
 * before any text is stored, logged, audited or used for training.
 * docs/pii.md describes the detectors, their limits and the policy. */
#ifndef PARLEY_PII_H
#define PARLEY_PII_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The data classes Parley detects. */
typedef enum parley_pii_type {
    PARLEY_PII_CARD = 0, /* payment card number (Luhn, issuer prefix) */
    PARLEY_PII_IBAN,     /* IBAN (country length, mod-97) */
    PARLEY_PII_SSN,      /* US social security number (invalid ranges excluded) */
    PARLEY_PII_PHONE,    /* phone number: NANP, E.164, FR/ES/DE national */
    PARLEY_PII_EMAIL,    /* e-mail address */
    PARLEY_PII_IP,       /* IPv4 or IPv6 address */
    PARLEY_PII_IMEI,     /* IMEI (15 digits, Luhn) */
    PARLEY_PII_DOB,      /* date of birth (a date with a birth context word) */
    PARLEY_PII_ADDRESS,  /* street address */
    PARLEY_PII_NAME,     /* person name (after a cue, or known to the conversation) */
    PARLEY_PII_ID,       /* an identifier the bot declares (customer, line, bill id) */
    PARLEY_PII_N_TYPES
} parley_pii_type;

/** Bit of `t` in a type mask. */
#define PARLEY_PII_BIT(t) (1u << (unsigned)(t))
/** Every type. */
#define PARLEY_PII_ALL ((1u << (unsigned)PARLEY_PII_N_TYPES) - 1u)

/** Lower-case name of `t` ("card", "iban", "ssn", "phone", "email", "ip",
 * "imei", "dob", "address", "name", "id"); "?" for an unknown value. */
const char *parley_pii_type_name(parley_pii_type t);

/** The type named `name` (as parley_pii_type_name() spells it); 0 when it
 * names none, else 1 with `*out` set. */
int parley_pii_type_parse(const char *name, parley_pii_type *out);

/** One personal value found in a text. Offsets are bytes into the text
 * that was scanned: start < end <= its length, on UTF-8 character
 * boundaries. */
typedef struct parley_pii_finding {
    parley_pii_type type;
    size_t start, end;
    float confidence;     /* 0..1: how sure the detector is */
    const char *detector; /* static string naming the detector, e.g. "card.luhn" */
} parley_pii_finding;

/** An identifier class the bot declares (bot.yml `pii.identifiers`). */
typedef struct parley_pii_identifier {
    const char *name;    /* e.g. "customer_id" */
    const char *pattern; /* a regular expression for the whole value, e.g. "C[0-9]{4}" */
} parley_pii_identifier;

/** What a detector set looks for. A zeroed struct: every type, the
 * default confidence threshold, no declared identifiers. */
typedef struct parley_pii_options {
    unsigned types;       /* mask of PARLEY_PII_BIT()s; 0: all */
    float min_confidence; /* findings below are dropped; 0: 0.5 */
    const parley_pii_identifier *identifiers;
    size_t n_identifiers;
} parley_pii_options;

/** A compiled detector set. Immutable once created: any number of threads
 * may scan with it, each with its own scratch. */
typedef struct parley_pii parley_pii;

/** Per-thread scanning state and the findings of its last scan. */
typedef struct parley_pii_scratch parley_pii_scratch;

/** Compiles the detectors `opts` asks for (NULL: the defaults) into `*out`
 * (caller frees with parley_pii_destroy()). Errors: PARLEY_ERR_INVALID (a
 * declared identifier's pattern does not compile: the message names it),
 * PARLEY_ERR_NOMEM. */
parley_err parley_pii_create(const parley_pii_options *opts, parley_pii **out, parley_error *err);

/** Frees `p`; NULL does nothing. */
void parley_pii_destroy(parley_pii *p);

/** A scratch for scanning with `p` in one thread (caller frees with
 * parley_pii_scratch_destroy()). */
parley_err parley_pii_scratch_create(const parley_pii *p, parley_pii_scratch **out,
                                     parley_error *err);

/** Frees `s`; NULL does nothing. */
void parley_pii_scratch_destroy(parley_pii_scratch *s);

/** A value the conversation already knows (the customer's name once
 * fetched, their phone number...): found wherever it appears again,
 * case-insensitively. */
typedef struct parley_pii_known {
    parley_pii_type type;
    const char *value;
} parley_pii_known;

/** Largest text one call scans, in bytes. */
#define PARLEY_PII_MAX_TEXT (64u * 1024u * 1024u)

/** Finds the personal values in `text[0..len)` (UTF-8), with `known[0..n_known)`
 * (may be NULL). The findings, sorted by start and not overlapping (where
 * two overlap the more confident, then the longer, wins), are written to
 * `*findings` (borrowed from `s`, valid until its next scan) and their
 * number to `*n`. Errors: PARLEY_ERR_UTF8, PARLEY_ERR_LIMIT (over
 * PARLEY_PII_MAX_TEXT), PARLEY_ERR_NOMEM; `*n` is then 0. */
parley_err parley_pii_detect(const parley_pii *p, parley_pii_scratch *s, const char *text,
                             size_t len, const parley_pii_known *known, size_t n_known,
                             const parley_pii_finding **findings, size_t *n, parley_error *err);

/* ---- operators --------------------------------------------------------- */

/** What replaces a personal value. */
typedef enum parley_pii_operator {
    PARLEY_PII_OP_REDACT = 0, /* "[CARD]", "[PHONE]", ... */
    PARLEY_PII_OP_MASK,       /* every character but the last 4 digits as '*' */
    PARLEY_PII_OP_HASH,       /* "[PHONE:3f9a0c1d2b4e5f60]": keyed BLAKE2b, a stable pseudonym */
    PARLEY_PII_OP_TOKENIZE,   /* "[PHONE#tok_...]": reversible through the vault */
    PARLEY_PII_OP_KEEP        /* left as it is (a destination that may see it) */
} parley_pii_operator;

/** Name of `op` ("redact", "mask", "hash", "tokenize", "keep"). */
const char *parley_pii_operator_name(parley_pii_operator op);

/** The operator named `name`; 0 when it names none, else 1 with `*out` set. */
int parley_pii_operator_parse(const char *name, parley_pii_operator *out);

/** An encrypted vault of tokenized values (XChaCha20-Poly1305). */
typedef struct parley_pii_vault parley_pii_vault;

/** How the values of one destination are replaced: an operator per type. */
typedef struct parley_pii_policy {
    parley_pii_operator op[PARLEY_PII_N_TYPES];
    const uint8_t *hash_key; /* 32 bytes, for PARLEY_PII_OP_HASH; NULL: hash falls back to redact */
    parley_pii_vault *vault; /* for PARLEY_PII_OP_TOKENIZE; NULL: tokenize falls back to redact */
} parley_pii_policy;

/** Every type redacted, no key, no vault: the safe default for any
 * destination. */
void parley_pii_policy_redact_all(parley_pii_policy *pol);

/** Sets the operators of `*pol` from `spec`: comma-separated items, each
 * an operator for every class ("redact") or CLASS=OPERATOR ("card=mask";
 * "*" for every class), later items winning; classes not named are
 * redacted. `pol`'s hash key and vault are kept. PARLEY_ERR_INVALID names
 * the bad item; `*pol` is then unchanged. */
parley_err parley_pii_policy_parse(const char *spec, parley_pii_policy *pol, parley_error *err);

/** `text[0..len)` with each of `findings[0..n)` (as parley_pii_detect()
 * gives them) replaced as `pol` says, NUL-terminated in `*out` (caller
 * frees with parley_pii_free()), its length in `*out_len` (may be NULL).
 * Errors: PARLEY_ERR_INVALID (findings out of range, unsorted or
 * overlapping), PARLEY_ERR_IO (the vault could not store a token),
 * PARLEY_ERR_NOMEM. */
parley_err parley_pii_apply(const parley_pii_policy *pol, const char *text, size_t len,
                            const parley_pii_finding *findings, size_t n, char **out,
                            size_t *out_len, parley_error *err);

/* ---- keys, token vault, JSON lines --------------------------------------- */

/** Size of a hash or vault key, in bytes. */
#define PARLEY_PII_KEY_SIZE 32

/** Loads a key named by `spec`: "env:NAME" (the environment variable NAME
 * holds it), "file:PATH" or a plain PATH (a file only its owner can read,
 * as parley_pii_key_generate() writes it); either way 64 hex digits, then
 * optional white space. Keys belong in configuration, never beside the
 * data they protect. Errors: PARLEY_ERR_INVALID (empty spec, unset
 * variable, file readable by others), PARLEY_ERR_IO, PARLEY_ERR_FORMAT
 * (not 64 hex digits); `key` is then unchanged. */
parley_err parley_pii_key_load(const char *spec, uint8_t key[PARLEY_PII_KEY_SIZE],
                               parley_error *err);

/** Writes a new random key to the file `path` (mode 0600; refused if the
 * file exists). */
parley_err parley_pii_key_generate(const char *path, parley_error *err);

/** Longest token parley_pii_vault_tokenize() writes, with its NUL. */
#define PARLEY_PII_TOKEN_SIZE 32

/** Opens the vault in the SQLite file `path` (created if missing, with its
 * schema and a check value of `key`), encrypted with `key` (copied; wiped
 * at close). The caller closes `*out` with parley_pii_vault_close(); one
 * handle may be shared by threads. Errors: PARLEY_ERR_CORRUPT (the vault
 * was made with another key), PARLEY_ERR_VERSION (a newer schema),
 * PARLEY_ERR_FORMAT (not a vault), PARLEY_ERR_IO, PARLEY_ERR_NOMEM. */
parley_err parley_pii_vault_open(const char *path, const uint8_t key[PARLEY_PII_KEY_SIZE],
                                 parley_pii_vault **out, parley_error *err);

/** Closes `v` and wipes its key; NULL does nothing. */
void parley_pii_vault_close(parley_pii_vault *v);

/** The token of `value[0..len)` of type `type` ("tok_" and 24 hex digits)
 * into `token` (PARLEY_PII_TOKEN_SIZE bytes), storing the value encrypted
 * the first time. The token is a keyed hash of the type and the value
 * normalised as the hash operator does, so one value is one row; it
 * reveals nothing without the vault and its key. Errors: PARLEY_ERR_INVALID,
 * PARLEY_ERR_IO, PARLEY_ERR_NOMEM. */
parley_err parley_pii_vault_tokenize(parley_pii_vault *v, parley_pii_type type, const char *value,
                                     size_t len, char token[PARLEY_PII_TOKEN_SIZE],
                                     parley_error *err);

/** The value behind `token` ("tok_..." or the whole "[PHONE#tok_...]") into
 * `*value_out` (NUL-terminated; the caller wipes it, e.g. with
 * explicit_bzero(), and frees it with parley_pii_free()) and its type into `*type_out` (may be
 * NULL). Errors: PARLEY_ERR_INVALID (not a token), PARLEY_ERR_NOTFOUND (no such token),
 * PARLEY_ERR_CORRUPT (the record fails authentication: another key, or
 * altered), PARLEY_ERR_IO, PARLEY_ERR_NOMEM. */
parley_err parley_pii_vault_detokenize(parley_pii_vault *v, const char *token, char **value_out,
                                       parley_pii_type *type_out, parley_error *err);

/** Called by parley_pii_redact_json() with the findings of each string it
 * scanned: `path` is its place ("turns.0.text"); all borrowed for the
 * call. */
typedef void (*parley_pii_json_fn)(const char *path, const parley_pii_finding *findings, size_t n,
                                   void *userdata);

/** Replaces the personal values in the string values of `fields[0..n_fields)`
 * of the JSON object `line[0..len)`: each field is a dot path ("customer.name");
 * a "*" step goes over every element of an array (or member of an object),
 * e.g. "turns.*.text". Paths that are missing or lead to a non-string are
 * left alone. The whole object is written back compactly (same members,
 * same order) to `*out` (NUL-terminated, no newline; caller frees with
 * parley_pii_free()), its length in `*out_len` (may be NULL). `fn` (may
 * be NULL) sees the findings of every scanned string. Errors:
 * PARLEY_ERR_FORMAT (not one JSON object: the message names the column),
 * PARLEY_ERR_INVALID (an empty path), and those of parley_pii_detect()
 * and parley_pii_apply(). */
parley_err parley_pii_redact_json(const parley_pii *p, parley_pii_scratch *s,
                                  const parley_pii_policy *pol, const char *line, size_t len,
                                  const char *const *fields, size_t n_fields, parley_pii_json_fn fn,
                                  void *userdata, char **out, size_t *out_len, parley_error *err);

/* ---- logs -------------------------------------------------------------- */

/** Makes the library's log messages go to `out`, one line each with UTC
 * time and level, every personal value `opts` detects (NULL: the
 * defaults) redacted first; messages above `max_level` are dropped.
 * Replaces any earlier sink. Process-wide: call it once, early. */
parley_err parley_pii_log_install(const parley_pii_options *opts, FILE *out,
                                  parley_log_level max_level, parley_error *err);

/** Stops the sink; library messages are dropped again. */
void parley_pii_log_uninstall(void);

/** Frees memory returned by this module. NULL does nothing. */
void parley_pii_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
