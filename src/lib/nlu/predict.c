/* Prediction: text to calibrated intent probabilities, the top k classes
 * and the out-of-scope decision (trained class or confidence threshold);
 * and prediction among a subset of the labels (language identification:
 * "which of the bot's languages is this"). */
#include <string.h>

#include "nlu/internal.h"

struct parley_nlu_ctx {
    struct nlu_vectorizer vec;
    float *probs;
    uint32_t probs_cap;
    /* parley_nlu_predict_among: label indices, their probabilities and a
     * seen flag per model label, each with room for among_cap entries. */
    uint32_t *among;
    float *among_p;
    unsigned char *seen;
    uint32_t among_cap;
};

parley_err parley_nlu_ctx_new(parley_nlu_ctx **out)
{
    parley_nlu_ctx *c = parley__calloc(1, sizeof(*c));
    if (!c)
        return PARLEY_ERR_NOMEM;
    parley__nlu_vectorizer_init(&c->vec);
    *out = c;
    return PARLEY_OK;
}

void parley_nlu_ctx_free(parley_nlu_ctx *c)
{
    if (!c)
        return;
    parley__nlu_vectorizer_release(&c->vec);
    parley__free(c->probs);
    parley__free(c->among);
    parley__free(c->among_p);
    parley__free(c->seen);
    parley__free(c);
}

/* Fills out->top with the best min(k, n) of probabilities p[0..n) (label
 * of entry j: map[j], or j without a map), best first, by repeated
 * selection (k is small). Consumes p: taken entries are set to -1, below
 * any probability. `arg` always indexes p, so even NaNs yield a label. */
static void take_top(const parley_nlu_model *m, float *p, const uint32_t *map, size_t n, size_t k,
                     parley_nlu_prediction *out)
{
    if (k > n)
        k = n;
    if (k > 16)
        k = 16;
    out->n_top = 0;
    for (size_t t = 0; t < k; t++) {
        size_t arg = 0;
        for (size_t j = 1; j < n; j++)
            if (p[j] > p[arg])
                arg = j;
        out->top[t].intent = m->labels[map ? map[arg] : arg];
        out->top[t].confidence = p[arg];
        p[arg] = -1.0f;
        out->n_top++;
    }
}

parley_err parley_nlu_predict(const parley_nlu_model *m, parley_nlu_ctx *c, const char *s, size_t n,
                              size_t k, parley_nlu_prediction *out, parley_error *err)
{
    const struct nlu_entry *e;
    size_t ne;
    uint32_t best;
    parley_err rc;

    if (k < 1 || k > 16)
        return parley_error_set(err, PARLEY_ERR_INVALID, "top k must be 1..16, not %zu", k);
    if (NLU_STRIDE(m->n_labels) > c->probs_cap) {
        float *p = parley__realloc(c->probs, NLU_STRIDE(m->n_labels) * sizeof(float));
        if (!p)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot predict: out of memory");
        c->probs = p;
        c->probs_cap = (uint32_t)NLU_STRIDE(m->n_labels);
    }
    rc = parley__nlu_vectorize(&c->vec, &m->fv, s, n, &e, &ne, err);
    if (rc != PARLEY_OK)
        return rc;
    parley__nlu_scores_q8(m->q, m->scale, m->bias, m->n_labels, e, ne, c->probs);
    best = parley__nlu_softmax(c->probs, m->n_labels, m->temperature);

    out->confidence = c->probs[best];
    out->out_of_scope = (int32_t)best == m->oos_index || (ne == 0 && m->oos_threshold > 0.0f) ||
                        out->confidence < m->oos_threshold;
    out->intent = out->out_of_scope ? m->labels[m->n_labels] : m->labels[best];
    take_top(m, c->probs, NULL, m->n_labels, k, out);
    return PARLEY_OK;
}

/* Grows the among buffers (and probs) to the model's label count. */
static parley_err among_reserve(parley_nlu_ctx *c, uint32_t n_labels)
{
    size_t need = NLU_STRIDE(n_labels);
    if (need > c->probs_cap) {
        float *p = parley__realloc(c->probs, need * sizeof(float));
        if (!p)
            return PARLEY_ERR_NOMEM;
        c->probs = p;
        c->probs_cap = (uint32_t)need;
    }
    if (need <= c->among_cap)
        return PARLEY_OK;
    uint32_t *a = parley__realloc(c->among, need * sizeof(uint32_t));
    if (!a)
        return PARLEY_ERR_NOMEM;
    c->among = a;
    float *ap = parley__realloc(c->among_p, need * sizeof(float));
    if (!ap)
        return PARLEY_ERR_NOMEM;
    c->among_p = ap;
    unsigned char *seen = parley__realloc(c->seen, need);
    if (!seen)
        return PARLEY_ERR_NOMEM;
    c->seen = seen;
    c->among_cap = (uint32_t)need;
    return PARLEY_OK;
}

/* Resolves `allowed` to label indices in c->among. Every unknown label is
 * named in the error (up to what the message holds). */
static parley_err among_resolve(const parley_nlu_model *m, parley_nlu_ctx *c,
                                const char *const *allowed, size_t n_allowed, parley_error *err)
{
    char unknown[384];
    size_t used = 0, n_unknown = 0, n_shown = 0;

    memset(c->seen, 0, m->n_labels);
    unknown[0] = '\0';
    for (size_t i = 0; i < n_allowed; i++) {
        if (!allowed[i])
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot predict among labels: allowed label %zu is NULL", i);
        int32_t idx = parley__nlu_label_index(m, allowed[i]);
        if (idx < 0) {
            n_unknown++;
            n_shown += (size_t)parley__quote_list_add(unknown, sizeof(unknown), &used, allowed[i]);
            continue;
        }
        if (c->seen[idx])
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot predict among labels: '%s' is allowed twice",
                                    allowed[i]);
        c->seen[idx] = 1;
        if (n_unknown == 0)
            c->among[i] = (uint32_t)idx; /* i < n_labels: all before are distinct */
    }
    if (n_unknown == n_shown && n_unknown > 0)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot predict among labels: the model has no label %s", unknown);
    if (n_unknown > 0)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot predict among labels: the model has no label %s and %zu "
                                "more",
                                unknown, n_unknown - n_shown);
    return PARLEY_OK;
}

parley_err parley_nlu_predict_among(const parley_nlu_model *m, parley_nlu_ctx *c, const char *s,
                                    size_t n, const char *const *allowed, size_t n_allowed,
                                    parley_nlu_prediction *out, parley_error *err)
{
    const struct nlu_entry *e;
    size_t ne;
    uint32_t best;
    parley_err rc;

    if (!allowed || n_allowed == 0)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot predict among labels: no allowed labels given");
    /* Room for n_labels is enough: among_resolve stores index i only while
     * labels 0..i are known and distinct, so i < n_labels. */
    if (among_reserve(c, m->n_labels) != PARLEY_OK)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot predict: out of memory");
    rc = among_resolve(m, c, allowed, n_allowed, err);
    if (rc != PARLEY_OK)
        return rc;
    rc = parley__nlu_vectorize(&c->vec, &m->fv, s, n, &e, &ne, err);
    if (rc != PARLEY_OK)
        return rc;
    parley__nlu_scores_q8(m->q, m->scale, m->bias, m->n_labels, e, ne, c->probs);
    for (size_t i = 0; i < n_allowed; i++)
        c->among_p[i] = c->probs[c->among[i]];
    /* The model's calibrated distribution conditioned on the allowed set:
     * the same temperature, normalized over the allowed scores only. */
    best = parley__nlu_softmax(c->among_p, (uint32_t)n_allowed, m->temperature);
    out->confidence = c->among_p[best];
    out->out_of_scope = (int32_t)c->among[best] == m->oos_index;
    out->intent = out->out_of_scope ? m->labels[m->n_labels] : m->labels[c->among[best]];

    take_top(m, c->among_p, c->among, n_allowed, 16, out);
    return PARLEY_OK;
}

_Static_assert(sizeof(parley_nlu_feature) == sizeof(struct nlu_entry),
               "public and internal feature entries share a layout");

parley_err parley_nlu_features(const parley_nlu_model *m, parley_nlu_ctx *c, const char *s,
                               size_t n, const parley_nlu_feature **out, size_t *count,
                               parley_error *err)
{
    const struct nlu_entry *e;
    parley_err rc = parley__nlu_vectorize(&c->vec, &m->fv, s, n, &e, count, err);
    if (rc == PARLEY_OK)
        *out = (const parley_nlu_feature *)(const void *)e;
    return rc;
}
