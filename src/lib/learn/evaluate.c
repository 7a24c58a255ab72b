/* The second half of `parley learn`: train on the training split, draw the
 * learning curve, and score the new and the current model on the same
 * held-out rows (per intent, confusion, calibration). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "learn/run.h"

/* Per-intent counts of one model on the held-out rows. */
struct tally {
    size_t *gold, *pred, *correct;
    size_t *conf; /* n x n, gold-major; NULL: not kept */
};

/* `o->train` is set: learn_run_new resolved it. */
static parley_err train_file(const parley_learn_options *o, const char *path,
                             parley_nlu_model **out, parley_error *err)
{
    parley_nlu_data *d = NULL;
    parley_err rc = parley_nlu_data_open(path, PARLEY_NLU_FORMAT_JSONL, 0, &d, err);
    if (rc == PARLEY_OK)
        rc = parley_nlu_train(o->train, d, NULL, out, err);
    parley_nlu_data_free(d);
    return rc;
}

/* Scores `m` on the held-out rows into `met`; `t` (may be NULL) gets the
 * per-intent counts. Labels the run does not know (out of scope, or a
 * current model's own) count as wrong and in no intent's column. */
static parley_err score(const parley_learn_run *r, const parley_nlu_model *m,
                        parley_learn_metrics *met, struct tally *t, double *macro_f1,
                        parley_error *err)
{
    const size_t n = r->intents.len;
    parley_nlu_data *d = NULL;
    parley_nlu_ctx *ctx = NULL;
    size_t rows = 0, right = 0;
    double conf_sum[10] = {0}, acc_sum[10] = {0};
    struct tally own = {0};
    parley_err rc;

    memset(met, 0, sizeof(*met));
    if (!t) {
        own.gold = parley__calloc(n + 1, sizeof(size_t));
        own.pred = parley__calloc(n + 1, sizeof(size_t));
        own.correct = parley__calloc(n + 1, sizeof(size_t));
        t = &own;
        if (!own.gold || !own.pred || !own.correct) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if ((rc = parley_nlu_ctx_new(&ctx)) != PARLEY_OK ||
        (rc = parley_nlu_data_open(r->test_path, PARLEY_NLU_FORMAT_JSONL, 0, &d, err)) != PARLEY_OK)
        goto out;
    for (;;) {
        parley_nlu_example ex;
        parley_nlu_prediction pr;
        int has = 0;
        if ((rc = parley_nlu_data_next(d, &ex, &has, err)) != PARLEY_OK || !has)
            break;
        if ((rc = parley_nlu_predict(m, ctx, ex.text, ex.text_len, 1, &pr, err)) != PARLEY_OK)
            break;
        const long g = learn_strings_find(&r->intents, ex.label);
        const long p = pr.out_of_scope ? -1 : learn_strings_find(&r->intents, pr.intent);
        const int ok = g >= 0 && g == p;
        rows++;
        right += (size_t)ok;
        if (g >= 0)
            t->gold[g]++;
        if (p >= 0)
            t->pred[p]++;
        if (ok)
            t->correct[g]++;
        if (t->conf && g >= 0 && p >= 0)
            t->conf[(size_t)g * n + (size_t)p]++;
        double c = pr.confidence;
        int b = (int)(c * 10.0);
        b = b < 0 ? 0 : b > 9 ? 9 : b;
        met->bin_rows[b]++;
        conf_sum[b] += c;
        acc_sum[b] += ok;
    }
    if (rc != PARLEY_OK)
        goto out;
    met->accuracy = rows ? (double)right / (double)rows : 0.0;
    for (int b = 0; b < 10; b++) {
        if (!met->bin_rows[b])
            continue;
        met->bin_confidence[b] = conf_sum[b] / (double)met->bin_rows[b];
        met->bin_accuracy[b] = acc_sum[b] / (double)met->bin_rows[b];
        met->ece += (double)met->bin_rows[b] / (double)rows *
                    fabs(met->bin_accuracy[b] - met->bin_confidence[b]);
    }
    double f1_sum = 0.0;
    size_t present = 0;
    for (size_t i = 0; i < n; i++) {
        if (!t->gold[i])
            continue;
        double pr = t->pred[i] ? (double)t->correct[i] / (double)t->pred[i] : 0.0;
        double rc2 = (double)t->correct[i] / (double)t->gold[i];
        f1_sum += pr + rc2 > 0 ? 2 * pr * rc2 / (pr + rc2) : 0.0;
        present++;
    }
    met->macro_f1 = present ? f1_sum / (double)present : 0.0;
    if (macro_f1)
        *macro_f1 = met->macro_f1;
out:
    parley_nlu_data_free(d);
    parley_nlu_ctx_free(ctx);
    parley__free(own.gold);
    parley__free(own.pred);
    parley__free(own.correct);
    return rc;
}

static double f1_of(size_t correct, size_t pred, size_t gold)
{
    double p = pred ? (double)correct / (double)pred : 0.0,
           r = gold ? (double)correct / (double)gold : 0.0;
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

/* The k intents with the most errors (as gold or as prediction), and
 * their k x k block of the confusion matrix. */
static parley_err pick_confusion(parley_learn_run *r, const size_t *conf, parley_error *err)
{
    const size_t n = r->intents.len;
    size_t *errs = parley__calloc(n ? n : 1, sizeof(size_t)), *order = NULL;
    parley_err rc = PARLEY_OK;
    if (!errs || !(order = parley__calloc(n ? n : 1, sizeof(size_t)))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t g = 0; g < n; g++)
        for (size_t p = 0; p < n; p++)
            if (g != p) {
                errs[g] += conf[g * n + p];
                errs[p] += conf[g * n + p];
            }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (errs[i])
            order[k++] = i;
    /* Most errors first; a selection sort is fine for a few hundred intents. */
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            if (errs[order[j]] > errs[order[i]]) {
                size_t tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
    if (k > LEARN_CONFUSION_K)
        k = LEARN_CONFUSION_K;
    r->conf_labels = parley__calloc(k ? k : 1, sizeof(char *));
    r->confusion = parley__calloc(k ? k * k : 1, sizeof(size_t));
    if (!r->conf_labels || !r->confusion) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        r->conf_labels[i] = r->intents.v[order[i]];
        for (size_t j = 0; j < k; j++)
            r->confusion[i * k + j] = conf[order[i] * n + order[j]];
    }
    r->sum.confusion_k = k;
    r->sum.confusion_labels = r->conf_labels;
    r->sum.confusion = r->confusion;
out:
    parley__free(errs);
    parley__free(order);
    return rc;
}

/* Writes the training rows whose hashed row number falls under `share`. */
static parley_err subset(const parley_learn_run *r, double share, const char *path, size_t *rows,
                         parley_error *err)
{
    FILE *in = fopen(r->train_path, "r"), *out = fopen(path, "w");
    char *line = NULL;
    size_t cap = 0, idx = 0;
    parley_err rc = PARLEY_OK;
    *rows = 0;
    if (!in || !out) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s'", path);
        goto out;
    }
    for (ssize_t n; (n = getline(&line, &cap, in)) > 0; idx++) {
        if ((double)(XXH64(&idx, sizeof(idx), 0x6375727665ULL) >> 11) * 0x1.0p-53 >= share)
            continue;
        if (fwrite(line, 1, (size_t)n, out) != (size_t)n) {
            rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s'", path);
            goto out;
        }
        (*rows)++;
    }
out:
    free(line); /* from getline */
    if (in)
        (void)fclose(in);
    if (out && fclose(out) != 0 && rc == PARLEY_OK)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s'", path);
    return rc;
}

static int has_label(const parley_nlu_model *m, const char *label)
{
    parley_nlu_model_info in;
    parley_nlu_model_get_info(m, &in);
    for (size_t i = 0; i < in.n_labels; i++)
        if (strcmp(parley_nlu_model_label(m, i), label) == 0)
            return 1;
    return 0;
}

static int cmp_intent(const void *a, const void *b)
{
    return strcmp(((const parley_learn_intent *)a)->intent,
                  ((const parley_learn_intent *)b)->intent);
}

static parley_err fingerprint(parley_learn_run *r, parley_error *err)
{
    char buf[65536];
    size_t n;
    FILE *f = fopen(r->train_path, "rb");
    XXH64_state_t st;
    if (!f)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot read '%s'", r->train_path);
    (void)XXH64_reset(&st, 0);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        (void)XXH64_update(&st, buf, n);
    int bad = ferror(f);
    (void)fclose(f);
    if (bad)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot read '%s'", r->train_path);
    r->sum.fingerprint = XXH64_digest(&st);
    return PARLEY_OK;
}

static int tell(const parley_learn_options *o, const char *step, double fraction, double started)
{
    if (!o->progress)
        return 0;
    parley_learn_progress p = {step, 0, 0, 0, fraction, parley__now() - started};
    return o->progress(&p, o->userdata);
}

parley_err learn_train_and_evaluate(parley_learn_run *r, const parley_learn_options *o,
                                    parley_error *err)
{
    const size_t n = r->intents.len;
    parley_nlu_model *current = NULL, *part = NULL;
    struct tally fresh = {0}, cur = {0};
    char sub[4300];
    parley_err rc = PARLEY_OK;
    double t0 = parley__now();

    fresh.gold = parley__calloc(n + 1, sizeof(size_t));
    fresh.pred = parley__calloc(n + 1, sizeof(size_t));
    fresh.correct = parley__calloc(n + 1, sizeof(size_t));
    fresh.conf = parley__calloc(n * n + 1, sizeof(size_t));
    cur.gold = parley__calloc(n + 1, sizeof(size_t));
    cur.pred = parley__calloc(n + 1, sizeof(size_t));
    cur.correct = parley__calloc(n + 1, sizeof(size_t));
    r->intent_rows = parley__calloc(n + 1, sizeof(*r->intent_rows));
    if (!fresh.gold || !fresh.pred || !fresh.correct || !fresh.conf || !cur.gold || !cur.pred ||
        !cur.correct || !r->intent_rows) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = fingerprint(r, err)) != PARLEY_OK)
        goto out;
    if (tell(o, "train", 0.0, t0)) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID, "cancelled");
        goto out;
    }
    if ((rc = train_file(o, r->train_path, &r->model, err)) != PARLEY_OK) {
        parley_error_prefix(err, "training");
        goto out;
    }
    r->sum.seconds_train = parley__now() - t0;
    /* The learning curve: the same settings on halves, quarters... of the
     * training rows, scored on the whole held-out split. */
    const unsigned points =
        o->curve_points < LEARN_MAX_CURVE ? o->curve_points : LEARN_MAX_CURVE - 1;
    if ((size_t)snprintf(sub, sizeof(sub), "%s.curve", r->train_path) >= sizeof(sub)) {
        rc = parley_error_set(err, PARLEY_ERR_LIMIT, "work folder path too long");
        goto out;
    }
    for (unsigned i = 0; i < points && r->sum.test_rows; i++) {
        const double share = ldexp(1.0, -(int)(points - i));
        parley_learn_curve_point *pt = &r->curve[r->sum.n_curve];
        parley_learn_metrics m;
        if (tell(o, "curve", (double)i / points, t0)) {
            rc = parley_error_set(err, PARLEY_ERR_INVALID, "cancelled");
            goto out;
        }
        rc = subset(r, share, sub, &pt->train_rows, err);
        if (rc == PARLEY_OK && pt->train_rows == 0)
            continue;
        if (rc == PARLEY_OK)
            rc = train_file(o, sub, &part, err);
        if (rc == PARLEY_OK)
            rc = score(r, part, &m, NULL, NULL, err);
        parley_nlu_model_free(part);
        part = NULL;
        (void)unlink(sub);
        if (rc == PARLEY_ERR_EMPTY || rc == PARLEY_ERR_INVALID)
            continue; /* too few rows (or labels) at this share: no point */
        if (rc != PARLEY_OK)
            goto out;
        pt->accuracy = m.accuracy;
        pt->macro_f1 = m.macro_f1;
        r->sum.n_curve++;
    }
    double t1 = parley__now();
    if (tell(o, "evaluate", 0.0, t0)) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID, "cancelled");
        goto out;
    }
    if ((rc = score(r, r->model, &r->sum.fresh, &fresh, NULL, err)) != PARLEY_OK)
        goto out;
    if (r->sum.n_curve < LEARN_MAX_CURVE) {
        parley_learn_curve_point *pt = &r->curve[r->sum.n_curve++];
        pt->train_rows = r->sum.train_rows;
        pt->accuracy = r->sum.fresh.accuracy;
        pt->macro_f1 = r->sum.fresh.macro_f1;
    }
    if (o->current_model) {
        if ((rc = parley_nlu_model_load(o->current_model, &current, err)) != PARLEY_OK) {
            parley_error_prefix(err, "current model");
            goto out;
        }
        if ((rc = score(r, current, &r->sum.current, &cur, NULL, err)) != PARLEY_OK)
            goto out;
        r->sum.has_current = 1;
    }
    for (size_t i = 0; i < n; i++) {
        parley_learn_intent *it = &r->intent_rows[i];
        it->intent = r->intents.v[i];
        it->test_rows = fresh.gold[i];
        it->precision = fresh.pred[i] ? (double)fresh.correct[i] / (double)fresh.pred[i] : 0.0;
        it->recall = fresh.gold[i] ? (double)fresh.correct[i] / (double)fresh.gold[i] : 0.0;
        it->f1 = f1_of(fresh.correct[i], fresh.pred[i], fresh.gold[i]);
        it->train_rows = r->train_counts ? r->train_counts[i] : 0;
        it->f1_current = current && has_label(current, it->intent)
                             ? f1_of(cur.correct[i], cur.pred[i], cur.gold[i])
                             : -1.0;
    }
    qsort(r->intent_rows, n, sizeof(*r->intent_rows), cmp_intent);
    r->sum.n_intents = n;
    r->sum.intents = r->intent_rows;
    r->sum.curve = r->curve;
    rc = pick_confusion(r, fresh.conf, err);
    r->sum.seconds_eval = parley__now() - t1;
out:
    parley_nlu_model_free(current);
    parley__free(fresh.gold);
    parley__free(fresh.pred);
    parley__free(fresh.correct);
    parley__free(fresh.conf);
    parley__free(cur.gold);
    parley__free(cur.pred);
    parley__free(cur.correct);
    return rc;
}
