/* The intent engine: reading labeled utterances in the formats teams
 * already have, training a calibrated intent classifier with out-of-scope
 * detection, the versioned model file, prediction and evaluation. */
#ifndef PARLEY_NLU_H
#define PARLEY_NLU_H

#include <stddef.h>
#include <stdint.h>

#include "parley/common.h"
#include "parley/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Training data
 * ------------------------------------------------------------------- */

/** Training-data formats. */
typedef enum parley_nlu_format {
    PARLEY_NLU_FORMAT_AUTO = 0, /* from the file extension */
    PARLEY_NLU_FORMAT_FASTTEXT, /* "__label__intent text" per line */
    PARLEY_NLU_FORMAT_CSV,      /* RFC 4180; header names the columns */
    PARLEY_NLU_FORMAT_TSV,      /* tab-separated, no quoting */
    PARLEY_NLU_FORMAT_JSONL,    /* {"text":..., "intent":..., "language":...} */
    PARLEY_NLU_FORMAT_RASA,     /* Rasa nlu.yml, version 3 */
} parley_nlu_format;

/** "fasttext", "csv", "tsv", "jsonl", "rasa" or "auto". Static storage. */
const char *parley_nlu_format_name(parley_nlu_format fmt);

/** Parses a format name as above; PARLEY_ERR_INVALID lists the valid ones. */
parley_err parley_nlu_format_parse(const char *name, parley_nlu_format *out, parley_error *err);

enum parley_nlu_data_flags {
    /* Malformed rows are skipped and counted instead of failing the read. */
    PARLEY_NLU_DATA_SKIP_BAD = 1 << 0,
};

/** Longest utterance a reader accepts, in bytes. */
#define PARLEY_NLU_MAX_TEXT 8192
/** Longest label a reader accepts, in bytes. */
#define PARLEY_NLU_MAX_LABEL 256

/** One labeled utterance. All pointers are borrowed from the reader and
 * valid until the next call on it. Strings are NUL-terminated, valid UTF-8
 * and non-empty (language may be ""). */
typedef struct parley_nlu_example {
    const char *text;
    size_t text_len;
    const char *label;
    size_t label_len;
    const char *language;
    size_t line; /* 1-based line where the row starts */
} parley_nlu_example;

/** A streaming reader over one source of labeled utterances. */
typedef struct parley_nlu_data parley_nlu_data;

/** Opens `path` in format `fmt` (AUTO guesses: .csv, .tsv,
 * .jsonl/.json/.ndjson, .yml/.yaml, anything else fastText). Line formats
 * stream in constant memory (rows up to 1 MiB); Rasa YAML is read whole
 * (up to 64 MiB), so its document-level errors (YAML syntax with line and
 * column, version, layout) are reported here. Caller frees `*out` with
 * parley_nlu_data_free(). */
parley_err parley_nlu_data_open(const char *path, parley_nlu_format fmt, unsigned flags,
                                parley_nlu_data **out, parley_error *err);

/** Like parley_nlu_data_open over `len` bytes at `buf`, copied. `name` is
 * used in error messages. AUTO guesses from `name`'s extension. */
parley_err parley_nlu_data_open_memory(const char *name, const void *buf, size_t len,
                                       parley_nlu_format fmt, unsigned flags, parley_nlu_data **out,
                                       parley_error *err);

/** Reads the next example into `*ex` and sets `*has` to 1, or sets `*has`
 * to 0 at the end. A malformed row fails with PARLEY_ERR_FORMAT (or
 * PARLEY_ERR_UTF8) and a message "FILE:LINE: what is wrong", unless the
 * reader skips bad rows; either way the row is consumed and the next call
 * goes on after it. I/O and memory errors stick until a rewind. */
parley_err parley_nlu_data_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                parley_error *err);

/** Goes back to the first example. */
parley_err parley_nlu_data_rewind(parley_nlu_data *d, parley_error *err);

/** Rows skipped as malformed (with PARLEY_NLU_DATA_SKIP_BAD), each counted
 * once however many times the data is rewound and re-read. */
size_t parley_nlu_data_skipped(const parley_nlu_data *d);

/** The message of the first skipped row, or NULL. Borrowed. */
const char *parley_nlu_data_first_skip(const parley_nlu_data *d);

/** The format being read (never AUTO). */
parley_nlu_format parley_nlu_data_format(const parley_nlu_data *d);

/** The name given at open (path or memory name). Borrowed. */
const char *parley_nlu_data_name(const parley_nlu_data *d);

/** Closes the reader. NULL does nothing. */
void parley_nlu_data_free(parley_nlu_data *d);

/* ---------------------------------------------------------------------
 * Training
 * ------------------------------------------------------------------- */

/** What training reports while it runs. */
typedef struct parley_nlu_progress {
    const char *phase; /* "scan", "train", "calibrate" */
    unsigned epoch;    /* 1-based, in "train" */
    unsigned epochs;
    double fraction;  /* 0..1 of the whole job */
    double elapsed_s; /* since training started */
    double eta_s;     /* estimate of time left, < 0 if unknown */
    double loss;      /* running average training loss */
    double tokens_per_s;
} parley_nlu_progress;

/** Progress callback; return non-zero to cancel training. */
typedef int (*parley_nlu_progress_fn)(const parley_nlu_progress *p, void *userdata);

typedef struct parley_nlu_train_options {
    parley_text_features_config features;
    unsigned norm_flags;   /* parley_text_flags; default CASEFOLD */
    unsigned epochs;       /* default 40 */
    double lr;             /* initial learning rate; default 1.0 */
    double l2;             /* weight decay; default 0 */
    unsigned threads;      /* default 1; >1 trains lock-free in parallel */
    uint64_t seed;         /* default 1 */
    unsigned min_count;    /* keep features seen in >= this many rows; 1 */
    size_t max_features;   /* keep at most this many (most frequent); 0 = all */
    size_t buffer_entries; /* memory bound for the shuffle buffer, in
                              feature entries (8 bytes each); default 2^23 */
    const char *oos_label; /* label meaning out of scope; NULL: "oos" or
                              "out_of_scope" if present */
    double oos_max_loss;   /* in-scope validation accuracy the out-of-scope
                              threshold may cost, 0..1; default 0.0075 */
    double dropout;        /* share of a row's features hidden at each SGD
                              step, 0..0.9; default 0.6 */
    double holdout;        /* without validation data: fraction of training
                              rows (0..0.5) held out to calibrate on, if
                              there are 200 rows or more; default 0.1 */
    parley_nlu_progress_fn progress;
    void *progress_userdata;
    double progress_interval_s; /* default 0.2 */
} parley_nlu_train_options;

/** Fills `o` with the defaults. */
void parley_nlu_train_options_default(parley_nlu_train_options *o);

/** A trained intent model; immutable and safe to share between threads. */
typedef struct parley_nlu_model parley_nlu_model;

/** Trains on `train`; `valid` (may be NULL) calibrates confidence and
 * picks the out-of-scope threshold (its out-of-scope rows may carry the
 * oos label even when training has none). Without `valid`, a `holdout`
 * share of the training rows (chosen by a hash of the row number and seed)
 * is kept out of training and calibrates instead. Both readers are rewound
 * and read as needed. Caller frees `*out` with parley_nlu_model_free(). */
parley_err parley_nlu_train(const parley_nlu_train_options *o, parley_nlu_data *train,
                            parley_nlu_data *valid, parley_nlu_model **out, parley_error *err);

/* ---------------------------------------------------------------------
 * Model file
 * ------------------------------------------------------------------- */

/** Writes the model to `path` atomically (temp file, fsync, rename). */
parley_err parley_nlu_model_save(const parley_nlu_model *m, const char *path, parley_error *err);

/** Maps the model file at `path` read-only, checking magic, version, sizes
 * and checksum. A corrupt or truncated file is PARLEY_ERR_CORRUPT, a newer
 * format PARLEY_ERR_VERSION. Caller frees with parley_nlu_model_free(). */
parley_err parley_nlu_model_load(const char *path, parley_nlu_model **out, parley_error *err);

/** Like parley_nlu_model_load from `len` bytes at `buf` (copied). */
parley_err parley_nlu_model_load_memory(const void *buf, size_t len, parley_nlu_model **out,
                                        parley_error *err);

/** Frees or unmaps the model. NULL does nothing. */
void parley_nlu_model_free(parley_nlu_model *m);

/** Facts about a model, for `parley model info`. Strings are borrowed
 * from the model. */
typedef struct parley_nlu_model_info {
    uint32_t format_version;
    size_t n_labels;
    size_t n_features;
    parley_text_features_config features;
    unsigned norm_flags;
    float temperature;         /* confidence = softmax(scores / temperature) */
    float oos_threshold;       /* below this confidence: out of scope; 0 = off */
    const char *oos_label;     /* decision label for out of scope */
    int oos_trained;           /* 1 if an out-of-scope class was trained */
    uint64_t data_fingerprint; /* XXH64 over the training rows */
    uint64_t train_rows;
    uint64_t created_unix;
    size_t file_bytes;
} parley_nlu_model_info;

void parley_nlu_model_get_info(const parley_nlu_model *m, parley_nlu_model_info *info);

/** Label `i` (0 <= i < n_labels). Borrowed from the model. */
const char *parley_nlu_model_label(const parley_nlu_model *m, size_t i);

/* ---------------------------------------------------------------------
 * Prediction
 * ------------------------------------------------------------------- */

/** Per-thread scratch space for prediction; one per thread. */
typedef struct parley_nlu_ctx parley_nlu_ctx;

parley_err parley_nlu_ctx_new(parley_nlu_ctx **out);
void parley_nlu_ctx_free(parley_nlu_ctx *c);

typedef struct parley_nlu_candidate {
    const char *intent; /* borrowed from the model */
    float confidence;   /* calibrated probability */
} parley_nlu_candidate;

typedef struct parley_nlu_prediction {
    const char *intent; /* the decision: a label, or the oos label */
    float confidence;   /* calibrated probability of the top class */
    int out_of_scope;   /* 1 if intent is the out-of-scope decision */
    size_t n_top;
    parley_nlu_candidate top[16]; /* best first, up to the requested k */
} parley_nlu_prediction;

/** Predicts the intent of raw UTF-8 text `s[0..n)`, with the best `k`
 * (1..16) classes. Invalid UTF-8 is PARLEY_ERR_UTF8 naming the offset. */
parley_err parley_nlu_predict(const parley_nlu_model *m, parley_nlu_ctx *c, const char *s, size_t n,
                              size_t k, parley_nlu_prediction *out, parley_error *err);

/** Predicts which of the `n_allowed` labels at `allowed` raw UTF-8 text
 * `s[0..n)` belongs to: the model's calibrated distribution conditioned on
 * the allowed set (softmax of scores / temperature over those labels only),
 * so the allowed probabilities sum to 1. Built for language identification
 * ("which of the bot's four languages is this"); works on any model.
 *
 * `out->intent` is the best allowed label and `out->confidence` its
 * probability; `out->top` lists the allowed labels best first, up to 16
 * (n_top = min(n_allowed, 16)). The out-of-scope threshold is not applied
 * (conditioned probabilities are not comparable with it): out_of_scope is
 * 1 only when the trained out-of-scope class is allowed and wins. Strings
 * in `*out` are borrowed from the model; `allowed` is only read during the
 * call. The labels must be distinct labels of the model: an empty or NULL
 * set, a NULL entry or a repeat is PARLEY_ERR_INVALID, and so are unknown
 * labels, naming them. Invalid UTF-8 is PARLEY_ERR_UTF8. `*out` is left
 * unchanged on failure. */
parley_err parley_nlu_predict_among(const parley_nlu_model *m, parley_nlu_ctx *c, const char *s,
                                    size_t n, const char *const *allowed, size_t n_allowed,
                                    parley_nlu_prediction *out, parley_error *err);

/** One entry of the weighted sparse vector a model computes for a text. */
typedef struct parley_nlu_feature {
    uint32_t row; /* feature index in the model, < n_features */
    float value;  /* sublinear tf x idf, unit length per group */
} parley_nlu_feature;

/** The feature vector the model sees for raw text `s[0..n)`: `*count`
 * entries at `*out`, borrowed from `c` until its next use. Used to export
 * exactly the same features to other learners (benchmarks). */
parley_err parley_nlu_features(const parley_nlu_model *m, parley_nlu_ctx *c, const char *s,
                               size_t n, const parley_nlu_feature **out, size_t *count,
                               parley_error *err);

/* ---------------------------------------------------------------------
 * Evaluation
 * ------------------------------------------------------------------- */

typedef struct parley_nlu_label_stats {
    const char *label; /* borrowed from the model */
    size_t support;    /* rows with this gold label */
    size_t predicted;  /* rows predicted as this label */
    size_t correct;
    double precision, recall, f1;
} parley_nlu_label_stats;

typedef struct parley_nlu_confusion {
    const char *gold, *predicted; /* borrowed from the model */
    size_t count;
} parley_nlu_confusion;

/** Results of parley_nlu_eval. Free with parley_nlu_report_free(), before
 * the model its label strings point into. */
typedef struct parley_nlu_report {
    size_t rows;
    size_t in_scope_rows, oos_rows;
    double accuracy;          /* all rows, out of scope counted as a class */
    double in_scope_accuracy; /* in-scope rows predicted exactly */
    double oos_recall;        /* out-of-scope rows predicted out of scope */
    double oos_precision;
    double macro_f1; /* over gold labels present */
    double ece;      /* expected calibration error of the top class
                        probability, 15 bins, over rows whose gold label is
                        a class of the model */
    /* The same without the confidence threshold (trained class only). */
    double in_scope_accuracy_nothreshold;
    double oos_recall_nothreshold;
    size_t n_labels;
    parley_nlu_label_stats *labels;
    size_t n_confusions;
    parley_nlu_confusion *confusions; /* most frequent first, up to 20 */
    size_t unknown_labels;            /* rows whose gold label the model lacks */
    char *storage_;                   /* internal */
} parley_nlu_report;

/** Evaluates `m` on every row of `data`. Gold labels the model does not
 * know count as errors (and in `unknown_labels`); rows with the oos label
 * count as out of scope. Caller frees with parley_nlu_report_free(). */
parley_err parley_nlu_eval(const parley_nlu_model *m, parley_nlu_data *data,
                           parley_nlu_report **out, parley_error *err);

void parley_nlu_report_free(parley_nlu_report *r);

/* ---------------------------------------------------------------------
 * Entities (docs/internals/entities.md)
 * ------------------------------------------------------------------- */

/** What an extracted entity is. */
typedef enum parley_entity_kind {
    PARLEY_ENTITY_PHONE = 0,       /* value: "+15551232002" or "5551232002" */
    PARLEY_ENTITY_DATA_AMOUNT = 1, /* value: megabytes as an integer, "1536" */
    PARLEY_ENTITY_MONEY = 2,       /* value: "65.00 USD", "20.00 EUR" */
    PARLEY_ENTITY_DATE = 3,        /* value: "1985-03-07", or "--03-07" without year */
    PARLEY_ENTITY_YESNO = 4,       /* value: "yes" or "no" */
    PARLEY_ENTITY_PLAN = 5,        /* value: the plan id, or its name if no id */
    PARLEY_ENTITY_CITY = 6,        /* value: the city's canonical name */
} parley_entity_kind;

/** "phone", "data_amount", "money", "date", "yesno", "plan", "city", or
 * "unknown". Static storage. */
const char *parley_entity_kind_name(parley_entity_kind kind);

/** One entity found in a text. Plain value, no pointers. */
typedef struct parley_entity {
    parley_entity_kind kind;
    size_t start, end; /* byte span [start, end) in the input text */
    char value[64];    /* normalized value, NUL-terminated (see the kinds) */
    double number;     /* data: megabytes; money: amount; date: yyyymmdd
                          (year 0 if absent); yes/no: 1 or 0; plan and city:
                          edit distance of the match; phone: 0 */
} parley_entity;

/** Names of the plans and cities of one bot, matched in text after case
 * and accent folding: cities exactly, plans fuzzily (see
 * parley_entity_lexicon_add_plan). Read-only once built: safe to share
 * between threads while nobody adds to it. */
typedef struct parley_entity_lexicon parley_entity_lexicon;

/** Longest plan or city name, id included, in bytes. */
#define PARLEY_ENTITY_NAME_MAX 63
/** Most plans a lexicon holds. */
#define PARLEY_ENTITY_MAX_PLANS 256
/** Most cities a lexicon holds. */
#define PARLEY_ENTITY_MAX_CITIES 20000
/** Longest text parley_nlu_entities accepts, in bytes. */
#define PARLEY_ENTITY_MAX_TEXT 8192

/** Creates an empty lexicon. Caller frees `*out` with
 * parley_entity_lexicon_free(). */
parley_err parley_entity_lexicon_new(parley_entity_lexicon **out, parley_error *err);

/** Adds plan `name` (UTF-8, copied), reported as `id` (copied; NULL: the
 * name). Matched with case and accents folded and a small edit distance
 * (0 up to 4 letters, 1 up to 8, else 2), as the full name ("premum plan"),
 * the name without generic words such as "plan" or "forfait" ("premium"),
 * or the distinctive first word of that when no other plan shares it
 * ("unlimited" for "Unlimited Plus"). PARLEY_ERR_INVALID for an empty or
 * too long name, PARLEY_ERR_UTF8, PARLEY_ERR_LIMIT past the cap. */
parley_err parley_entity_lexicon_add_plan(parley_entity_lexicon *lex, const char *id,
                                          const char *name, parley_error *err);

/** Adds city `name` (UTF-8, copied), matched exactly after case and accent
 * folding and reported by this name. Errors as for add_plan. */
parley_err parley_entity_lexicon_add_city(parley_entity_lexicon *lex, const char *name,
                                          parley_error *err);

/** Frees the lexicon. NULL does nothing. */
void parley_entity_lexicon_free(parley_entity_lexicon *lex);

/** Extracts entities from raw UTF-8 text `text[0..n)` (at most
 * PARLEY_ENTITY_MAX_TEXT bytes, else PARLEY_ERR_LIMIT): phone numbers, data
 * amounts, sums of money, dates, one yes/no answer, and with `lex` (may be
 * NULL) plans and cities. `lang` is "en", "fr", "es", "de" or NULL for any;
 * it decides ambiguous numeric dates (03/07/1985 is March 7 in "en" only)
 * and a few words. Entities never overlap and come in text order; at most
 * `max` are written to `out` (which may be NULL when `max` is 0) and the
 * number found, which may exceed `max`, to `*count`. Invalid UTF-8 is
 * PARLEY_ERR_UTF8 naming the offset; a bad `lang` is PARLEY_ERR_INVALID.
 * On failure `out` and `*count` are left unchanged. */
parley_err parley_nlu_entities(const char *text, size_t n, const char *lang,
                               const parley_entity_lexicon *lex, parley_entity *out, size_t max,
                               size_t *count, parley_error *err);

/* ---------------------------------------------------------------------
 * Language identification (docs/internals/langid.md)
 *
 * A dedicated, lean model: hashed character n-grams and words of lightly
 * case-folded text, one linear score per language, 6-bit weights in one
 * file ("PARLEYLI"). Labels are language codes.
 * ------------------------------------------------------------------- */

/** Most languages a language model holds. */
#define PARLEY_LANGID_MAX_LANGUAGES 1024
/** Only the first this many characters of a text are looked at. */
#define PARLEY_LANGID_MAX_CHARS 1024

typedef struct parley_langid_options {
    unsigned threads;                /* training threads; default 1 (deterministic) */
    unsigned epochs;                 /* passes over the data; default 40 */
    double lr;                       /* initial learning rate, decays linearly; default 2 */
    double dropout;                  /* share of a row's features hidden at each step,
                                        0..0.9; default 0.8 */
    unsigned char_min;               /* shortest character n-gram, 1..char_max; default 1 */
    unsigned char_max;               /* longest character n-gram, 1..6; default 5 */
    unsigned word_ngrams;            /* 0 none, 1 words, 2 words and word pairs; default 1 */
    unsigned hash_bits;              /* 2^hash_bits weight rows, 8..22; default 17 */
    uint64_t seed;                   /* default 1 */
    double holdout;                  /* without validation data: share of training rows
                                        (0..0.5) kept aside to fit the temperature, then
                                        trained on as well; default 0.1, 0 = none */
    unsigned groups;                 /* stage 2: at most this many confusable groups get
                                        a specialist (needs validation data); 0..32,
                                        default 16, 0 = none */
    unsigned group_min;              /* pair two languages when stage 1 confuses them at
                                        least this often on validation; default 2 */
    int refit;                       /* with validation data: once the temperature, the
                                        groups and their thresholds are fitted, train
                                        the weights and specialists again on training
                                        and validation rows together (validation then
                                        no longer measures the model); default 0 */
    parley_nlu_progress_fn progress; /* phases "read", "train", "calibrate", "stage2" */
    void *progress_userdata;
    double progress_interval_s; /* default 0.2 */
} parley_langid_options;

/** Fills `o` with the defaults. */
void parley_langid_options_default(parley_langid_options *o);

/** A trained language model; immutable, safe to share between threads. */
typedef struct parley_langid parley_langid;

/** Trains on `train` (labels are language codes, at most
 * PARLEY_LANGID_MAX_LANGUAGES); `valid` (may be NULL) fits the temperature
 * that calibrates probabilities, else a `holdout` share of `train` does.
 * Bad options are PARLEY_ERR_INVALID, no usable rows PARLEY_ERR_EMPTY,
 * reader errors are passed on; a cancel from `progress` is
 * PARLEY_ERR_INVALID. Caller frees `*out` with parley_langid_free(). */
parley_err parley_langid_train(const parley_langid_options *o, parley_nlu_data *train,
                               parley_nlu_data *valid, parley_langid **out, parley_error *err);

/** Writes the model to `path` atomically (temp file, fsync, rename). */
parley_err parley_langid_save(const parley_langid *m, const char *path, parley_error *err);

/** Reads the model file at `path` (into memory advised for huge pages:
 * scoring reads rows all over it) and checks magic, version, weights,
 * sizes, checksum and every section. A corrupt or truncated file is
 * PARLEY_ERR_CORRUPT, a newer format PARLEY_ERR_VERSION, an intent model
 * PARLEY_ERR_CORRUPT saying so. Caller frees with parley_langid_free(). */
parley_err parley_langid_load(const char *path, parley_langid **out, parley_error *err);

/** Like parley_langid_load from `len` bytes at `buf` (copied). */
parley_err parley_langid_load_memory(const void *buf, size_t len, parley_langid **out,
                                     parley_error *err);

/** Frees or unmaps the model. NULL does nothing. */
void parley_langid_free(parley_langid *m);

/** Number of languages of the model. */
size_t parley_langid_language_count(const parley_langid *m);

/** Language `i` (0 <= i < count, sorted by strcmp), else NULL. Borrowed. */
const char *parley_langid_language(const parley_langid *m, size_t i);

/** Facts about a model. */
typedef struct parley_langid_info {
    uint32_t format_version;
    size_t n_languages;
    unsigned char_min, char_max, word_ngrams, hash_bits;
    float temperature; /* probability = softmax(scores / temperature) */
    uint64_t train_rows;
    uint64_t created_unix;
    size_t file_bytes;
    size_t n_groups; /* stage-2 specialists (confusable groups) */
} parley_langid_info;

void parley_langid_get_info(const parley_langid *m, parley_langid_info *info);

/** One candidate language. */
typedef struct parley_langid_guess {
    const char *language; /* borrowed from the model */
    float probability;    /* calibrated */
} parley_langid_guess;

typedef struct parley_langid_result {
    const char *language; /* the best language (= top[0]) */
    float probability;    /* its calibrated probability */
    size_t n_top;
    parley_langid_guess top[16]; /* best first */
} parley_langid_result;

/** Identifies the language of UTF-8 text `s[0..n)` (its first
 * PARLEY_LANGID_MAX_CHARS characters), with the best `k` (1..16)
 * languages. Needs no scratch and allocates nothing: any number of threads
 * may call it on one model. A text without letters gets the model's prior.
 * `k` out of range is PARLEY_ERR_INVALID, invalid UTF-8 PARLEY_ERR_UTF8
 * naming the offset; `*out` is unchanged on failure. */
parley_err parley_langid_predict(const parley_langid *m, const char *s, size_t n, size_t k,
                                 parley_langid_result *out, parley_error *err);

/** Like parley_langid_predict, choosing only among the `n_allowed`
 * distinct languages at `allowed` (e.g. a bot's): the model's distribution
 * conditioned on that set, so its probabilities sum to 1; `out->top` lists
 * them best first (up to 16). An empty or NULL set, a NULL entry, a repeat
 * or an unknown language (named) is PARLEY_ERR_INVALID. */
parley_err parley_langid_predict_among(const parley_langid *m, const char *s, size_t n,
                                       const char *const *allowed, size_t n_allowed,
                                       parley_langid_result *out, parley_error *err);

#ifdef __cplusplus
}
#endif
#endif
