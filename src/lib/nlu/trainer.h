/* Private state of one training run, shared by train.c (scan and SGD)
 * and calibrate.c (temperature, threshold and the model image). */
#ifndef PARLEY_NLU_TRAINER_H
#define PARLEY_NLU_TRAINER_H

#include "nlu/internal.h"

struct trainer {
    const parley_nlu_train_options *o;
    struct nlu_featview fv;
    struct nlu_slot *slots;
    float *idf;
    uint32_t slots_n;
    /* labels, sorted */
    char **labels;
    uint32_t n_labels;
    int32_t oos_index;  /* trained out-of-scope class, or -1 */
    char *oos_decision; /* label reported for out of scope */
    float *w;           /* [n_rows][n_labels] */
    float *bias;        /* [n_labels] */
    int8_t *q;          /* quantized w, [n_rows][n_labels] */
    float *qscale;      /* [n_rows] */
    uint64_t rows;      /* rows SGD trains on */
    uint64_t rows_all;  /* rows in the training data */
    int use_holdout;    /* no validation data: calibrate on held-out rows */
    uint64_t fingerprint;
    float temperature;
    float threshold;
    double t0;
};

/* Index of a label in t->labels (sorted), or -1. */
int32_t parley__trainer_label(const struct trainer *t, const char *label);

/* Is training row `ordinal` (0-based, in file order) held out for
 * calibration? Only when t->use_holdout. */
int parley__trainer_held_out(const struct trainer *t, uint64_t ordinal);

/* Fits temperature and threshold on `valid`, or when it is NULL on the
 * held-out rows of `train` (if any). */
parley_err parley__trainer_calibrate(struct trainer *t, parley_nlu_data *train,
                                     parley_nlu_data *valid, parley_error *err);

/* Serializes the trained state into a model. */
parley_err parley__trainer_build(struct trainer *t, parley_nlu_model **out, parley_error *err);

#endif
