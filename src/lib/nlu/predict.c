/* Prediction: text to calibrated intent probabilities, the top k classes
 * and the out-of-scope decision (trained class or confidence threshold). */
#include <string.h>

#include "nlu/internal.h"

struct parley_nlu_ctx {
    struct nlu_vectorizer vec;
    float *probs;
    uint32_t probs_cap;
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
    parley__free(c);
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

    /* Top k by partial selection: k is small. */
    if (k > m->n_labels)
        k = m->n_labels;
    out->n_top = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t arg = UINT32_MAX;
        float v = -1.0f;
        for (uint32_t j = 0; j < m->n_labels; j++) {
            int taken = 0;
            for (size_t t = 0; t < out->n_top; t++)
                taken |= out->top[t].intent == m->labels[j];
            if (!taken && (arg == UINT32_MAX || c->probs[j] > v)) {
                v = c->probs[j];
                arg = j;
            }
        }
        out->top[out->n_top].intent = m->labels[arg];
        out->top[out->n_top].confidence = v;
        out->n_top++;
    }
    out->confidence = c->probs[best];
    out->out_of_scope = (int32_t)best == m->oos_index || (ne == 0 && m->oos_threshold > 0.0f) ||
                        out->confidence < m->oos_threshold;
    out->intent = out->out_of_scope ? m->labels[m->n_labels] : m->labels[best];
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
