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
    int32_t oos_index;   /* trained out-of-scope class, or -1 */
    char *oos_decision;  /* label reported for out of scope */
    float *w;            /* [n_rows][n_labels] */
    float *bias;         /* [n_labels] */
    uint64_t rows;       /* usable training rows */
    uint64_t fingerprint;
    float temperature;
    float threshold;
    double t0;
};

/* Index of a label in t->labels (sorted), or -1. */
int32_t parley__trainer_label(const struct trainer *t, const char *label);

/* Fits temperature and threshold on `valid` (may be NULL). */
parley_err parley__trainer_calibrate(struct trainer *t, parley_nlu_data *valid,
                                     parley_error *err);

/* Serializes the trained state into a model. */
parley_err parley__trainer_build(struct trainer *t, parley_nlu_model **out, parley_error *err);

#endif
