/* After SGD: temperature scaling and the out-of-scope threshold, both
 * fitted on validation rows, then the model image (see nlu/internal.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "nlu/trainer.h"

/* Validation rows kept for calibration; more are ignored. */
#define MAX_CALIB_ROWS 200000

struct calib {
    float *scores; /* [n][C] raw scores */
    int32_t *gold; /* label index; -2 = out of scope (untrained) */
    size_t n, cap;
};

static double nll_at(const struct calib *cb, uint32_t C, double temp, float *tmp)
{
    double total = 0.0;
    size_t used = 0;
    for (size_t i = 0; i < cb->n; i++) {
        if (cb->gold[i] < 0)
            continue;
        memcpy(tmp, cb->scores + i * C, C * sizeof(float));
        parley__nlu_softmax(tmp, C, (float)temp);
        total += -log((double)tmp[cb->gold[i]] + 1e-12);
        used++;
    }
    return used ? total / (double)used : 0.0;
}

/* Golden-section search of log(temperature) minimizing validation NLL. */
static float fit_temperature(const struct calib *cb, uint32_t C, float *tmp)
{
    const double phi = 0.6180339887498949;
    double a = log(0.02), b = log(50.0);
    double x1 = b - phi * (b - a), x2 = a + phi * (b - a);
    double f1 = nll_at(cb, C, exp(x1), tmp), f2 = nll_at(cb, C, exp(x2), tmp);

    for (int it = 0; it < 40; it++) {
        if (f1 < f2) {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - phi * (b - a);
            f1 = nll_at(cb, C, exp(x1), tmp);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + phi * (b - a);
            f2 = nll_at(cb, C, exp(x2), tmp);
        }
    }
    return (float)exp((a + b) / 2.0);
}

struct scored {
    float conf;
    int ok;  /* in scope and predicted right */
    int oos; /* gold out of scope */
    int pred_oos;
};

static int cmp_conf(const void *a, const void *b)
{
    float x = ((const struct scored *)a)->conf, y = ((const struct scored *)b)->conf;
    return (x > y) - (x < y);
}

/* Picks the out-of-scope confidence threshold: the highest one that costs
 * at most `max_loss` of validation in-scope accuracy (relative to no
 * threshold), which catches as many out-of-scope rows as that budget
 * allows. 0 when validation has no out-of-scope rows to learn from. */
static float fit_threshold(struct trainer *t, const struct calib *cb, float *tmp)
{
    uint32_t C = t->n_labels;
    struct scored *s = parley__mallocarray(cb->n ? cb->n : 1, sizeof(*s));
    size_t n_in = 0, n_oos = 0, ok_lost = 0;
    double max_loss = t->o->oos_max_loss;
    float best = 0.0f;

    if (!s)
        return 0.0f;
    for (size_t i = 0; i < cb->n; i++) {
        memcpy(tmp, cb->scores + i * C, C * sizeof(float));
        uint32_t p = parley__nlu_softmax(tmp, C, t->temperature);
        int gold_oos = cb->gold[i] == -2 || cb->gold[i] == t->oos_index;
        s[i].conf = tmp[p];
        s[i].oos = gold_oos;
        s[i].pred_oos = (int32_t)p == t->oos_index;
        s[i].ok = !gold_oos && (int32_t)p == cb->gold[i];
        n_in += !gold_oos;
        n_oos += gold_oos;
    }
    if (n_oos == 0 || n_in == 0) {
        parley__free(s);
        return 0.0f;
    }
    qsort(s, cb->n, sizeof(*s), cmp_conf);
    /* Raising the threshold past s[i].conf turns row i out of scope. */
    for (size_t i = 0; i < cb->n; i++) {
        ok_lost += s[i].ok;
        if ((double)ok_lost / (double)n_in > max_loss + 1e-12)
            break;
        if (i + 1 < cb->n && s[i + 1].conf == s[i].conf)
            continue;
        best = i + 1 < cb->n ? (s[i].conf + s[i + 1].conf) * 0.5f : nextafterf(s[i].conf, 2.0f);
    }
    parley__free(s);
    return best > 1.0f ? 1.0f : best;
}

parley_err parley__trainer_calibrate(struct trainer *t, parley_nlu_data *train,
                                     parley_nlu_data *valid, parley_error *err)
{
    struct nlu_vectorizer v;
    struct calib cb = {NULL, NULL, 0, 0};
    parley_nlu_example ex;
    const struct nlu_entry *e;
    uint32_t C = t->n_labels;
    float *tmp = NULL;
    const char *oos_seen = NULL;
    char oos_buf[PARLEY_NLU_MAX_LABEL + 1];
    parley_err rc = PARLEY_OK;
    size_t ne;
    int has;

    t->temperature = 1.0f;
    t->threshold = 0.0f;
    parley__nlu_vectorizer_init(&v);
    if (!(tmp = parley__mallocarray(C, sizeof(float)))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot calibrate: out of memory");
        goto out;
    }
    if (!valid && t->use_holdout)
        valid = train;
    if (valid) {
        uint64_t ordinal = 0;
        if ((rc = parley_nlu_data_rewind(valid, err)) != PARLEY_OK)
            goto out;
        while (cb.n < MAX_CALIB_ROWS) {
            if ((rc = parley_nlu_data_next(valid, &ex, &has, err)) != PARLEY_OK)
                goto out;
            if (!has)
                break;
            if (valid == train && !parley__trainer_held_out(t, ordinal++))
                continue;
            int32_t g = parley__trainer_label(t, ex.label);
            int is_oos = (t->o->oos_label && strcmp(ex.label, t->o->oos_label) == 0) ||
                         parley__nlu_is_oos_name(ex.label);
            if (g < 0 && is_oos) {
                g = -2;
                if (!oos_seen) {
                    (void)snprintf(oos_buf, sizeof(oos_buf), "%s", ex.label);
                    oos_seen = oos_buf;
                }
            }
            if (g == -1)
                continue; /* a label training never saw: nothing to calibrate */
            if (cb.n == cb.cap) {
                size_t cap = cb.cap ? cb.cap * 2 : 1024;
                float *sc = parley__realloc(cb.scores, (cap * C + 16) * sizeof(float));
                if (sc)
                    cb.scores = sc;
                int32_t *gd = parley__realloc(cb.gold, cap * sizeof(int32_t));
                if (gd)
                    cb.gold = gd;
                if (!sc || !gd) {
                    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot calibrate: out of memory");
                    goto out;
                }
                cb.cap = cap;
            }
            rc = parley__nlu_vectorize(&v, &t->fv, ex.text, ex.text_len, &e, &ne, err);
            if (rc != PARLEY_OK) {
                parley_error_prefix(err, "%s:%zu", parley_nlu_data_name(valid), ex.line);
                goto out;
            }
            parley__nlu_scores_q8(t->q, t->qscale, t->bias, C, e, ne, cb.scores + cb.n * C);
            cb.gold[cb.n++] = g;
        }
        if (cb.n > 0) {
            t->temperature = fit_temperature(&cb, C, tmp);
            t->threshold = fit_threshold(t, &cb, tmp);
        }
    }
    /* The label reported for out of scope. */
    {
        const char *name = t->o->oos_label;
        if (!name && t->oos_index >= 0)
            name = t->labels[t->oos_index];
        if (!name)
            name = oos_seen ? oos_seen : "out_of_scope";
        if (!(t->oos_decision = parley__strdup(name)))
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot calibrate: out of memory");
    }
out:
    parley__free(cb.scores);
    parley__free(cb.gold);
    parley__free(tmp);
    parley__nlu_vectorizer_release(&v);
    return rc;
}

static void wr32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void wr64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static void wrf(unsigned char *p, float v)
{
    memcpy(p, &v, 4);
}

static size_t align64(size_t x)
{
    return (x + 63) & ~(size_t)63;
}

parley_err parley__trainer_build(struct trainer *t, parley_nlu_model **out, parley_error *err)
{
    uint32_t C = t->n_labels, R = t->fv.n_rows;
    size_t labels_len = 0, labels_off = align64(NLU_HEADER_SIZE), table_off, weights_off, len;
    unsigned char *img, *p;

    for (uint32_t i = 0; i < C; i++)
        labels_len += strlen(t->labels[i]) + 1;
    labels_len += strlen(t->oos_decision) + 1;
    table_off = align64(labels_off + labels_len);
    weights_off = table_off + (size_t)t->slots_n * 8 + (size_t)R * 4;
    len = weights_off + (size_t)C * 4 + (size_t)R * 4 + (size_t)R * NLU_STRIDE(C);
    img = parley__calloc(1, len);
    if (!img)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot build model: out of memory");
    for (int i = 0; i < 8; i++) /* the magic has no terminating NUL */
        img[i] = (unsigned char)NLU_MAGIC[i];
    wr32(img + 8, NLU_VERSION);
    wr32(img + 12, NLU_HEADER_SIZE);
    wr64(img + 16, len);
    wr32(img + 32, C);
    wr32(img + 36, R);
    wr32(img + 40, t->slots_n);
    wr32(img + 44, t->fv.cfg.hash_bits);
    wr32(img + 48, t->fv.cfg.word_ngrams);
    wr32(img + 52, t->fv.cfg.char_min);
    wr32(img + 56, t->fv.cfg.char_max);
    wr32(img + 60, t->fv.norm_flags);
    wrf(img + 64, t->temperature);
    wrf(img + 68, t->threshold);
    wr32(img + 72, (uint32_t)t->oos_index);
    wr64(img + 80, t->fingerprint);
    wr64(img + 88, t->rows);
    /* No creation time: one seed and one thread give a bit-identical file. */
    wr64(img + 96, 0);
    wr64(img + 104, labels_off);
    wr64(img + 112, table_off);
    wr64(img + 120, weights_off);
    p = img + labels_off;
    for (uint32_t i = 0; i <= C; i++) {
        const char *s = i < C ? t->labels[i] : t->oos_decision;
        size_t l = strlen(s);
        memcpy(p, s, l);
        p[l] = '\0';
        p += l + 1;
    }
    memcpy(img + table_off, t->slots, (size_t)t->slots_n * 8);
    memcpy(img + table_off + (size_t)t->slots_n * 8, t->idf, (size_t)R * 4);
    memcpy(img + weights_off, t->bias, (size_t)C * 4);
    memcpy(img + weights_off + (size_t)C * 4, t->qscale, (size_t)R * 4);
    memcpy(img + weights_off + (size_t)C * 4 + (size_t)R * 4, t->q, (size_t)R * NLU_STRIDE(C));
    wr64(img + 24, XXH64(img + 32, len - 32, 0));
    return parley__nlu_model_from_image(img, len, 0, out, err);
}
