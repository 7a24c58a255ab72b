/* Evaluation of a model on labeled rows: accuracy, in-scope accuracy and
 * out-of-scope recall (with and without the threshold), macro-F1,
 * per-label precision/recall/F1, the most confused pairs and the
 * expected calibration error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/internal.h"

#define ECE_BINS       15
#define MAX_CONFUSIONS 20
/* Above this many labels the confusion matrix is not kept. */
#define MAX_DENSE_LABELS 2048

static int cmp_confusion(const void *a, const void *b)
{
    const parley_nlu_confusion *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    int c = strcmp(x->gold, y->gold);
    return c ? c : strcmp(x->predicted, y->predicted);
}

parley_err parley_nlu_eval(const parley_nlu_model *m, parley_nlu_data *data,
                           parley_nlu_report **out, parley_error *err)
{
    /* Class index C stands for "out of scope" when no class was trained. */
    const uint32_t C = m->n_labels, K = C + 1;
    const uint32_t OOS = m->oos_index >= 0 ? (uint32_t)m->oos_index : C;
    size_t *gold_n = NULL, *pred_n = NULL, *correct = NULL, *conf = NULL;
    size_t bin_n[ECE_BINS] = {0};
    double bin_conf[ECE_BINS] = {0}, bin_acc[ECE_BINS] = {0};
    size_t ece_rows = 0, in_ok = 0, in_ok_nt = 0, oos_ok = 0, oos_ok_nt = 0, all_ok = 0,
           pred_oos = 0, pred_oos_ok = 0;
    parley_nlu_report *r = NULL;
    parley_nlu_ctx *ctx = NULL;
    parley_nlu_prediction pr;
    parley_nlu_example ex;
    parley_err rc;
    int dense = K <= MAX_DENSE_LABELS, has;

    if (!(r = parley__calloc(1, sizeof(*r))) || parley_nlu_ctx_new(&ctx) != PARLEY_OK ||
        !(gold_n = parley__calloc(K, sizeof(size_t))) ||
        !(pred_n = parley__calloc(K, sizeof(size_t))) ||
        !(correct = parley__calloc(K, sizeof(size_t))) ||
        (dense && !(conf = parley__calloc((size_t)K * K, sizeof(size_t))))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot evaluate: out of memory");
        goto out;
    }
    if ((rc = parley_nlu_data_rewind(data, err)) != PARLEY_OK)
        goto out;
    for (;;) {
        if ((rc = parley_nlu_data_next(data, &ex, &has, err)) != PARLEY_OK)
            goto out;
        if (!has)
            break;
        rc = parley_nlu_predict(m, ctx, ex.text, ex.text_len, 1, &pr, err);
        if (rc != PARLEY_OK) {
            parley_error_prefix(err, "%s:%zu", parley_nlu_data_name(data), ex.line);
            goto out;
        }
        int32_t gi = parley__nlu_label_index(m, ex.label);
        uint32_t gold, pred;
        if (gi >= 0 && (uint32_t)gi != OOS)
            gold = (uint32_t)gi;
        else if (gi >= 0 || parley__nlu_is_oos_name(ex.label) ||
                 strcmp(ex.label, m->labels[C]) == 0)
            gold = OOS;
        else {
            gold = UINT32_MAX; /* unknown: always wrong */
            r->unknown_labels++;
        }
        pred = pr.out_of_scope ? OOS : (uint32_t)parley__nlu_label_index(m, pr.intent);
        uint32_t pred_nt = (uint32_t)parley__nlu_label_index(m, pr.top[0].intent);
        int ok = pred == gold;

        r->rows++;
        all_ok += ok;
        if (gold == OOS) {
            r->oos_rows++;
            oos_ok += ok;
            oos_ok_nt += pred_nt == OOS;
        } else {
            r->in_scope_rows++;
            in_ok += ok;
            in_ok_nt += pred_nt == gold;
        }
        pred_oos += pred == OOS;
        pred_oos_ok += pred == OOS && ok;
        if (gold != UINT32_MAX) {
            gold_n[gold]++;
            correct[gold] += ok;
            if (dense && !ok)
                conf[(size_t)gold * K + pred]++;
        }
        pred_n[pred]++;
        /* Calibration is of the classifier's top class probability, on
         * rows whose gold label is one of its classes: the threshold
         * decision is a separate matter. */
        if (gold < C) {
            int bin = (int)(pr.top[0].confidence * ECE_BINS);
            if (bin >= ECE_BINS)
                bin = ECE_BINS - 1;
            if (bin < 0)
                bin = 0;
            bin_n[bin]++;
            bin_conf[bin] += pr.top[0].confidence;
            bin_acc[bin] += pred_nt == gold;
            ece_rows++;
        }
    }
    if (r->rows == 0) {
        rc = parley_error_set(err, PARLEY_ERR_EMPTY, "'%s' has no rows to evaluate",
                              parley_nlu_data_name(data));
        goto out;
    }
    r->accuracy = (double)all_ok / (double)r->rows;
    r->in_scope_accuracy = r->in_scope_rows ? (double)in_ok / (double)r->in_scope_rows : 0.0;
    r->in_scope_accuracy_nothreshold =
        r->in_scope_rows ? (double)in_ok_nt / (double)r->in_scope_rows : 0.0;
    r->oos_recall = r->oos_rows ? (double)oos_ok / (double)r->oos_rows : 0.0;
    r->oos_recall_nothreshold = r->oos_rows ? (double)oos_ok_nt / (double)r->oos_rows : 0.0;
    r->oos_precision = pred_oos ? (double)pred_oos_ok / (double)pred_oos : 0.0;
    for (int b = 0; b < ECE_BINS; b++) {
        if (bin_n[b])
            r->ece += fabs(bin_acc[b] - bin_conf[b]) / (double)ece_rows;
    }

    /* Per-label stats over labels that occur as gold or prediction. */
    r->labels = parley__calloc(K, sizeof(*r->labels));
    if (!r->labels) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot evaluate: out of memory");
        goto out;
    }
    double f1_sum = 0.0;
    size_t f1_n = 0;
    for (uint32_t k = 0; k < K; k++) {
        if (!gold_n[k] && !pred_n[k])
            continue;
        parley_nlu_label_stats *s = &r->labels[r->n_labels++];
        s->label = k == C ? m->labels[C] : m->labels[k];
        s->support = gold_n[k];
        s->predicted = pred_n[k];
        s->correct = correct[k];
        s->precision = pred_n[k] ? (double)correct[k] / (double)pred_n[k] : 0.0;
        s->recall = gold_n[k] ? (double)correct[k] / (double)gold_n[k] : 0.0;
        s->f1 = s->precision + s->recall > 0
                    ? 2 * s->precision * s->recall / (s->precision + s->recall)
                    : 0.0;
        if (gold_n[k]) {
            f1_sum += s->f1;
            f1_n++;
        }
    }
    r->macro_f1 = f1_n ? f1_sum / (double)f1_n : 0.0;
    if (dense) {
        size_t n = 0;
        r->confusions = parley__calloc(MAX_CONFUSIONS + 1, sizeof(*r->confusions));
        if (!r->confusions) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot evaluate: out of memory");
            goto out;
        }
        for (uint32_t g = 0; g < K; g++) {
            for (uint32_t p = 0; p < K; p++) {
                size_t c = conf[(size_t)g * K + p];
                if (!c)
                    continue;
                parley_nlu_confusion cand = {g == C ? m->labels[C] : m->labels[g],
                                             p == C ? m->labels[C] : m->labels[p], c};
                if (n < MAX_CONFUSIONS + 1) {
                    r->confusions[n++] = cand;
                } else {
                    r->confusions[MAX_CONFUSIONS] = cand;
                }
                qsort(r->confusions, n, sizeof(*r->confusions), cmp_confusion);
                if (n == MAX_CONFUSIONS + 1)
                    n = MAX_CONFUSIONS + 1;
            }
        }
        r->n_confusions = n > MAX_CONFUSIONS ? MAX_CONFUSIONS : n;
    }
    /* Label strings point into the model: the report must not outlive it. */
    *out = r;
    r = NULL;
out:
    parley_nlu_report_free(r);
    parley_nlu_ctx_free(ctx);
    parley__free(gold_n);
    parley__free(pred_n);
    parley__free(correct);
    parley__free(conf);
    return rc;
}

void parley_nlu_report_free(parley_nlu_report *r)
{
    if (!r)
        return;
    parley__free(r->labels);
    parley__free(r->confusions);
    parley__free(r->storage_);
    parley__free(r);
}
