/* Learning from past interactions: reading interaction logs (JSONL, CSV
 * exports, training-data files), the `parley learn` pipeline that turns
 * them into a model (scrub, consent, de-duplicate, map, split, train,
 * evaluate), its report, and the versioned model registry. */
#ifndef PARLEY_LEARN_H
#define PARLEY_LEARN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Interaction logs (docs/interaction-logs.md)
 * ------------------------------------------------------------------- */

/** Formats `parley_learn_reader_open` reads. */
typedef enum parley_learn_log_format {
    PARLEY_LEARN_LOG_AUTO = 0, /* .jsonl/.ndjson/.json: JSONL; .csv: CSV; else training data */
    PARLEY_LEARN_LOG_JSONL,    /* one conversation object per line */
    PARLEY_LEARN_LOG_CSV,      /* one turn per row, a conversation's rows together */
    PARLEY_LEARN_LOG_TRAINING, /* a training-data file the intent engine reads
                                  (fastText, CSV, TSV, JSONL, Rasa): each
                                  example is a one-turn authored conversation */
} parley_learn_log_format;

/** Who said a turn. */
typedef enum parley_learn_speaker {
    PARLEY_LEARN_CUSTOMER = 0,
    PARLEY_LEARN_AGENT = 1, /* a person or the bot answering */
    PARLEY_LEARN_SYSTEM = 2,
} parley_learn_speaker;

/** One turn. Pointers are borrowed from the reader, valid until its next
 * call; `text` is NUL-terminated valid UTF-8. */
typedef struct parley_learn_turn {
    parley_learn_speaker speaker;
    const char *text;
    size_t text_len;
    int64_t time_ms; /* Unix ms; 0 when the log has no time */
} parley_learn_turn;

/** One conversation. Pointers are borrowed from the reader, valid until its
 * next call. Strings are NUL-terminated; absent optional ones are "". */
typedef struct parley_learn_conversation {
    const char *id;          /* required in logs; "FILE:LINE" for training data */
    const char *customer_id; /* required in logs; "" for training data (authored) */
    const char *language;    /* "" if unknown */
    const char *disposition; /* the agent's reason code, or the example's intent */
    const char *outcome;     /* "resolved", "escalated", ... or "" */
    int authored;            /* 1: from a training-data file, not a customer */
    size_t n_turns;          /* at least 1 */
    const parley_learn_turn *turns;
    size_t line; /* 1-based line where it starts in the file */
} parley_learn_conversation;

typedef struct parley_learn_reader parley_learn_reader;

/** Opens `path` ("-": standard input, JSONL or CSV only). Streams in
 * constant memory (one conversation at a time; a conversation up to 16 MiB
 * and 10,000 turns). Caller frees `*out` with parley_learn_reader_free(). */
parley_err parley_learn_reader_open(const char *path, parley_learn_log_format fmt,
                                    parley_learn_reader **out, parley_error *err);

/** Reads the next conversation into `*c` and sets `*has` to 1, or sets
 * `*has` to 0 at the end. A malformed conversation fails with
 * PARLEY_ERR_FORMAT or PARLEY_ERR_UTF8 and "FILE:LINE: what is wrong"; it
 * is consumed, so the caller may count it and call again. I/O and memory
 * errors are sticky. */
parley_err parley_learn_reader_next(parley_learn_reader *r, parley_learn_conversation *c, int *has,
                                    parley_error *err);

/** Bytes read so far, and the file's size in `*total` (0 when unknown, as
 * for a pipe), for progress. */
uint64_t parley_learn_reader_progress(const parley_learn_reader *r, uint64_t *total);

/** The format being read (never AUTO). */
parley_learn_log_format parley_learn_reader_format(const parley_learn_reader *r);

/** Closes the reader. NULL does nothing. */
void parley_learn_reader_free(parley_learn_reader *r);

/* ---------------------------------------------------------------------
 * The pipeline's results, and its report
 * ------------------------------------------------------------------- */

/** Why conversations were dropped; the index into
 * parley_learn_summary.dropped. */
typedef enum parley_learn_drop {
    PARLEY_LEARN_DROP_MALFORMED = 0,  /* the reader refused it */
    PARLEY_LEARN_DROP_LANGUAGE,       /* another language than the run's */
    PARLEY_LEARN_DROP_NO_CONSENT,     /* customer without an active training_use grant */
    PARLEY_LEARN_DROP_NO_TEXT,        /* no customer turn with text (after scrubbing) */
    PARLEY_LEARN_DROP_UNMAPPED,       /* reason code the mapping does not name */
    PARLEY_LEARN_DROP_IGNORED,        /* reason code mapped to "-" (not an intent) */
    PARLEY_LEARN_DROP_DUPLICATE,      /* the same text (normalized) already kept */
    PARLEY_LEARN_DROP_NEAR_DUPLICATE, /* almost the same text already kept */
    PARLEY_LEARN_DROP_CONTRADICTORY,  /* the same text kept with other intents */
    PARLEY_LEARN_DROP_LABELLED,       /* discovery only: it has an intent already */
    PARLEY_LEARN_DROP_COUNT
} parley_learn_drop;

/** "malformed", "language", ... Static storage. */
const char *parley_learn_drop_name(parley_learn_drop d);

/** One intent's figures on the held-out split. `*_current` are -1 when
 * there is no current model or it lacks the intent. */
typedef struct parley_learn_intent {
    const char *intent;
    size_t train_rows, test_rows;
    double precision, recall, f1;
    double f1_current;
} parley_learn_intent;

/** A model's figures on the held-out split. */
typedef struct parley_learn_metrics {
    double accuracy;
    double macro_f1; /* over the intents of the held-out split */
    double ece;      /* expected calibration error, 10 bins */
    /* Reliability diagram: rows whose top probability falls in bin b
     * ([b/10, (b+1)/10)), their mean confidence and their accuracy. */
    size_t bin_rows[10];
    double bin_confidence[10], bin_accuracy[10];
} parley_learn_metrics;

/** One point of the learning curve: the new model trained on a share of
 * the training split, scored on the whole held-out split. */
typedef struct parley_learn_curve_point {
    size_t train_rows;
    double accuracy, macro_f1;
} parley_learn_curve_point;

/** Everything a run found, for the report. Owned by the pipeline; the
 * report functions only read it. */
typedef struct parley_learn_summary {
    const char *language;
    const char *version;  /* registry version of the new model, "" if not registered */
    const char *created;  /* RFC 3339 UTC */
    const char *who;      /* the user who ran it */
    uint64_t fingerprint; /* XXH64 over the training split, in order */
    const char *params;   /* training options as a JSON object */
    /* Reading and filtering. */
    uint64_t conversations, turns, bytes;
    uint64_t kept; /* conversations that became rows */
    uint64_t dropped[PARLEY_LEARN_DROP_COUNT];
    uint64_t pii_findings; /* values scrubbed from kept text */
    uint64_t authored;     /* rows from training-data files */
    size_t train_rows, test_rows;
    /* Contradictions: texts seen with several intents (most frequent first). */
    size_t n_contradictions;
    const char *const *contradiction_text;   /* scrubbed */
    const char *const *contradiction_labels; /* "a (3), b (2)" */
    /* Models. */
    size_t n_intents;
    const parley_learn_intent *intents; /* sorted by intent name */
    parley_learn_metrics fresh;
    int has_current;
    parley_learn_metrics current;
    /* Most confused intents: a k x k matrix (row gold, column predicted,
     * row-major) over the k intents with the most errors. */
    size_t confusion_k;
    const char *const *confusion_labels;
    const size_t *confusion;
    size_t n_curve;
    const parley_learn_curve_point *curve;
    /* Decision. */
    int promoted;
    const char *decision; /* why it was or was not promoted */
    /* Seconds per step: read+scrub+filter, dedupe+split, train, evaluate. */
    double seconds_prepare, seconds_train, seconds_eval, seconds_total;
    size_t peak_rss_mb;
} parley_learn_summary;

/** Writes the report as one self-contained HTML page with inline SVG
 * charts: per-intent F1 (new and current), heat map of the most confused
 * intents, calibration (reliability) curve, learning curve, the counts of
 * what was kept and dropped and why, contradictions and the decision.
 * Every string from the data is HTML-escaped. */
parley_err parley_learn_report_html(const parley_learn_summary *s, FILE *out, parley_error *err);

/** Writes the same as one JSON object (docs/learning.md). */
parley_err parley_learn_report_json(const parley_learn_summary *s, FILE *out, parley_error *err);

/* ---------------------------------------------------------------------
 * The pipeline (docs/learning.md)
 * ------------------------------------------------------------------- */

struct parley_store;
struct parley_nlu_model;
struct parley_nlu_train_options;

/** What the pipeline reports while it runs. */
typedef struct parley_learn_progress {
    const char *step;       /* "read", "split", "train", "curve", "evaluate" */
    uint64_t conversations; /* read so far */
    uint64_t bytes, total;  /* of the current input; total 0 if unknown */
    double fraction;        /* of the current step, 0..1, < 0 if unknown */
    double elapsed_s;
} parley_learn_progress;

/** Progress callback; return non-zero to cancel (PARLEY_ERR_INVALID). */
typedef int (*parley_learn_progress_fn)(const parley_learn_progress *p, void *userdata);

typedef struct parley_learn_options {
    const char *language;      /* required: conversations in another language are dropped */
    const char *const *inputs; /* log files ("-": standard input) */
    size_t n_inputs;
    parley_learn_log_format format; /* for every input; AUTO by extension */
    const char *mapping;            /* reason code -> intent (TSV); NULL: codes are intents */
    const char *const *intents;     /* if set, the intents a row may map to (the bot's) */
    size_t n_intents;
    const char *base_data;        /* training data added to the training split only
                                     (the bot's own examples); NULL: none */
    const char *current_model;    /* the model in production; NULL: none */
    struct parley_store *consent; /* whose training_use grants decide; NULL: none, so
                                     every customer conversation is dropped */
    int review;                   /* also learn from the turns agents labelled in the
                                     review queue of `consent`'s store (discovery: group
                                     the turns still waiting there) */
    int64_t now_ms;               /* consent is judged at this time; 0: now */
    double test_share;            /* held-out share per intent, 0.05..0.5; default 0.2 */
    const char *work_dir;         /* where the temporary spool files go; default "." */
    const struct parley_nlu_train_options *train; /* NULL: the engine's defaults */
    unsigned curve_points;                        /* learning-curve points below 100%; default 2 */
    double min_gain;                              /* macro-F1 gain over the current model needed to
                                                     promote; default 0 (strictly better) */
    parley_learn_progress_fn progress;
    void *userdata;
} parley_learn_options;

/** The trainer's feature buffer of the pipeline's training options
 * (entries of 8 bytes: 512 MB): a training split of up to some five million
 * rows is featurized once instead of once per epoch, which halves training
 * time; larger ones stream in constant memory. */
#define PARLEY_LEARN_TRAIN_BUFFER ((size_t)1 << 26)

/** Fills `o` with the defaults above (no inputs, no language). */
void parley_learn_options_default(parley_learn_options *o);

/** The training options the pipeline uses when `train` is NULL: the
 * engine's defaults with a PARLEY_LEARN_TRAIN_BUFFER feature buffer. */
void parley_learn_train_options_default(struct parley_nlu_train_options *o);

/** One run's results: the summary, the trained model, the training set. */
typedef struct parley_learn_run parley_learn_run;

/** Runs the pipeline: read every input, scrub personal data from every
 * text kept (before anything else reads it), drop customers without an
 * active training_use grant, map reason codes, de-duplicate, flag and drop
 * contradictory labels, split by conversation stratified by intent, train,
 * and evaluate the new and the current model on the same held-out rows.
 * Malformed conversations are counted and skipped (the first message is in
 * the summary's log); I/O errors stop the run. Caller frees `*out` with
 * parley_learn_run_free(). PARLEY_ERR_EMPTY when nothing is left to train
 * on, naming what was dropped. */
parley_err parley_learn_run_pipeline(const parley_learn_options *o, parley_learn_run **out,
                                     parley_error *err);

/** The run's summary; `decision`, `promoted` and `version` are filled by
 * parley_learn_decide() and the registry. Borrowed from the run. */
parley_learn_summary *parley_learn_run_summary(parley_learn_run *r);

/** The trained model. Borrowed from the run. */
const struct parley_nlu_model *parley_learn_run_model(const parley_learn_run *r);

/** The first malformed conversation's message, or NULL. Borrowed. */
const char *parley_learn_run_first_error(const parley_learn_run *r);

/** Writes the scrubbed training (`test` 0) or held-out (`test` 1) rows as
 * JSONL ({"text", "intent", "language"}), the format `parley train` reads. */
parley_err parley_learn_run_write_rows(const parley_learn_run *r, int test, const char *path,
                                       parley_error *err);

/** Decides promotion by the gate: with no current model, promote; else
 * promote when the new macro-F1 beats the current by more than
 * `min_gain` and accuracy is not lower. Fills the summary's `promoted` and
 * `decision`. */
void parley_learn_decide(parley_learn_run *r, double min_gain);

void parley_learn_run_free(parley_learn_run *r);

/* ---------------------------------------------------------------------
 * The model registry (docs/learning.md)
 * ------------------------------------------------------------------- */

/** Longest version name ("v000001") plus its NUL. */
#define PARLEY_LEARN_VERSION_SIZE 16

/** Registers the run's model in registry folder `dir` (created if needed)
 * as the next version: the model file, summary.json and report.html, and a
 * line in history.jsonl. Sets the summary's `version`; `version_out` gets
 * it. */
parley_err parley_learn_registry_add(const char *dir, parley_learn_run *r,
                                     char version_out[PARLEY_LEARN_VERSION_SIZE],
                                     parley_error *err);

/** Makes `version` the current model of `language`: installs its model as
 * MODELS_DIR/intent-LANGUAGE.model (atomically: a server reloading sees
 * the old file or the new one) and records it in history.jsonl. */
parley_err parley_learn_registry_promote(const char *dir, const char *language, const char *version,
                                         const char *models_dir, const char *who,
                                         parley_error *err);

/** Goes back to the version that was current before the current one of
 * `language` and installs it as promote does. PARLEY_ERR_NOTFOUND when
 * there is none to go back to. */
parley_err parley_learn_registry_rollback(const char *dir, const char *language,
                                          const char *models_dir, const char *who,
                                          char version_out[PARLEY_LEARN_VERSION_SIZE],
                                          parley_error *err);

/** The current version of `language`; PARLEY_ERR_NOTFOUND when none. */
parley_err parley_learn_registry_current(const char *dir, const char *language,
                                         char version_out[PARLEY_LEARN_VERSION_SIZE],
                                         parley_error *err);

/** Path of `version`'s model file in `dir`, into `buf`. */
parley_err parley_learn_registry_model_path(const char *dir, const char *version, char *buf,
                                            size_t size, parley_error *err);

/* ---------------------------------------------------------------------
 * Intent discovery (docs/learning.md)
 * ------------------------------------------------------------------- */

/** A group of similar messages no intent covers: a candidate intent. */
typedef struct parley_learn_cluster {
    const char *name;            /* suggested from its most telling words: "refund_order" */
    const char *terms;           /* those words, most telling first: "refund, order, money" */
    uint64_t messages;           /* messages in it, duplicates counted */
    size_t distinct;             /* distinct texts in it */
    double cohesion;             /* mean cosine of its texts to its centre, 0..1 */
    size_t n_examples;           /* up to 5, closest to the centre first */
    const char *const *examples; /* scrubbed */
} parley_learn_cluster;

typedef struct parley_learn_discovery parley_learn_discovery;

/** Reads the logs as the pipeline does (consent, scrubbing, language,
 * de-duplication with counts), keeps the messages no intent covers (no
 * reason code, a code the mapping does not name or maps to "-"), and
 * groups them by meaning (spherical k-means over word and word-pair
 * TF-IDF; `k` clusters, 0: chosen from the number of distinct texts).
 * Clusters smaller than `min_size` messages are left out. Caller frees
 * `*out` with parley_learn_discovery_free(). */
parley_err parley_learn_discover(const parley_learn_options *o, size_t k, size_t min_size,
                                 parley_learn_discovery **out, parley_error *err);

/** The clusters, largest first; `*n` their number. Borrowed. */
const parley_learn_cluster *parley_learn_discovery_clusters(const parley_learn_discovery *d,
                                                            size_t *n);

/** What was read and dropped (counts only). Borrowed. */
const parley_learn_summary *parley_learn_discovery_summary(const parley_learn_discovery *d);

void parley_learn_discovery_free(parley_learn_discovery *d);

#ifdef __cplusplus
}
#endif

#endif
