/* One `parley learn` run as the pipeline's files share it: the summary
 * and everything its pointers point into. */
#ifndef PARLEY_LEARN_RUN_H
#define PARLEY_LEARN_RUN_H

#include <sys/types.h>

#include "learn/pipeline.h"
#include "parley/nlu.h"

/* Contradictions listed in the summary, at most. */
#define LEARN_MAX_CONTRADICTIONS 200
/* Intents in the summary's confusion heat map, at most. */
#define LEARN_CONFUSION_K 12
/* Learning-curve points, at most. */
#define LEARN_MAX_CURVE 8

/* A distinct text intent discovery looks at, and how often it came. */
struct learn_found {
    char *text;
    uint64_t count;
};

struct parley_learn_run {
    parley_learn_summary sum;
    parley_nlu_model *model;
    pid_t pid;
    char train_path[4200], test_path[4200];
    char first_error[512];
    char language[40], created[32], who[64], version[PARLEY_LEARN_VERSION_SIZE];
    char decision[512];
    char *params;
    parley_nlu_train_options train_default; /* when the caller gave none */
    struct learn_strings intents;           /* id -> name, every intent a row was mapped to */
    size_t *train_counts;                   /* per intent id: training rows */
    parley_learn_intent *intent_rows;
    char **contra_text, **contra_labels;
    size_t n_contra;
    const char **conf_labels;
    size_t *confusion;
    parley_learn_curve_point curve[LEARN_MAX_CURVE];
    struct learn_found *found; /* discovery only */
    size_t n_found;
};

/* Reading, filtering and splitting (pipeline.c): fills the counts and
 * writes r->train_path and r->test_path. */
parley_err learn_prepare(parley_learn_run *r, const parley_learn_options *o, int discover,
                         parley_error *err);

/* Peak resident memory of the process, MB. */
size_t learn_peak_rss_mb(void);

/* A run set up for `o` (checked), before anything is read; `*out` is freed
 * with parley_learn_run_free(). */
parley_err learn_run_new(const parley_learn_options *o, parley_learn_options *opt,
                         parley_learn_run **out, parley_error *err);

/* One JSONL row of a training file into `b` (reset first). */
parley_err learn_row_line(struct parley_buf *b, const char *text, size_t len, const char *intent,
                          const char *language);

/* Training, the learning curve and evaluation (evaluate.c). */
parley_err learn_train_and_evaluate(parley_learn_run *r, const parley_learn_options *o,
                                    parley_error *err);

#endif
