/* Text to weighted sparse vector (shared by training and prediction) and
 * the dense scoring kernels. Vectors are sublinear tf x idf, with word and
 * character groups each scaled to unit length, so long and short
 * utterances weigh alike. */
#include <math.h>
#include <string.h>

#include "nlu/internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NLU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NLU_CLONES
#endif

void parley__nlu_vectorizer_init(struct nlu_vectorizer *v)
{
    memset(v, 0, sizeof(*v));
    struct parley_text_scratch sc = PARLEY_TEXT_SCRATCH_INIT;
    parley_text_features f = PARLEY_TEXT_FEATURES_INIT;
    v->norm = sc;
    v->feats = f;
}

void parley__nlu_vectorizer_release(struct nlu_vectorizer *v)
{
    parley__text_scratch_release(&v->norm);
    parley_text_features_release(&v->feats);
    parley__free(v->entries);
    parley__free(v->stamp);
    parley__free(v->slot);
    memset(v, 0, sizeof(*v));
}

uint32_t parley__nlu_slot_start(uint32_t key, uint32_t mask)
{
    return (uint32_t)((key * 0x9E3779B1u) >> 7) & mask;
}

uint32_t parley__nlu_lookup(const struct nlu_featview *fv, uint32_t key)
{
    uint32_t i = parley__nlu_slot_start(key, fv->mask);
    for (uint32_t probes = 0; probes <= fv->mask; probes++) {
        const struct nlu_slot *s = &fv->slots[i];
        if (s->key == key)
            return s->row;
        if (s->key == NLU_EMPTY_KEY)
            return UINT32_MAX;
        i = (i + 1) & fv->mask;
    }
    return UINT32_MAX;
}

/* 1 + ln(tf) for small counts, to keep logs out of the hot loop. */
static const float sublinear[16] = {
    0.0f,         1.0f,         1.69314718f,  2.09861229f, 2.38629436f, 2.60943791f,
    2.79175947f,  2.94591015f,  3.07944154f,  3.19722458f, 3.30258509f, 3.39789527f,
    3.48490665f,  3.56494936f,  3.63907734f,  3.70805020f,
};

static parley_err reserve_rows(struct nlu_vectorizer *v, uint32_t rows)
{
    if (rows <= v->rows_cap)
        return PARLEY_OK;
    uint32_t *st = parley__calloc(rows, sizeof(uint32_t));
    uint32_t *sl = parley__calloc(rows, sizeof(uint32_t));
    if (!st || !sl) {
        parley__free(st);
        parley__free(sl);
        return PARLEY_ERR_NOMEM;
    }
    parley__free(v->stamp);
    parley__free(v->slot);
    v->stamp = st;
    v->slot = sl;
    v->rows_cap = rows;
    v->gen = 0;
    return PARLEY_OK;
}

/* Counts distinct rows of one group into entries[*n...], then weights and
 * normalizes that group. */
static void add_group(struct nlu_vectorizer *v, const struct nlu_featview *fv, const uint32_t *ids,
                      size_t nids, uint32_t group, size_t *n)
{
    size_t first = *n;
    double norm = 0.0;

    for (size_t i = 0; i < nids; i++) {
        uint32_t row = parley__nlu_lookup(fv, ids[i] | (group << 31));
        if (row == UINT32_MAX)
            continue;
        if (v->stamp[row] == v->gen) {
            v->entries[v->slot[row]].value += 1.0f;
            continue;
        }
        v->stamp[row] = v->gen;
        v->slot[row] = (uint32_t)*n;
        v->entries[*n].row = row;
        v->entries[*n].value = 1.0f;
        (*n)++;
    }
    for (size_t i = first; i < *n; i++) {
        float tf = v->entries[i].value;
        float w = tf < 16.0f ? sublinear[(int)tf] : 1.0f + logf(tf);
        w *= fv->idf[v->entries[i].row];
        v->entries[i].value = w;
        norm += (double)w * w;
    }
    if (norm > 0.0) {
        float inv = (float)(1.0 / sqrt(norm));
        for (size_t i = first; i < *n; i++)
            v->entries[i].value *= inv;
    }
}

parley_err parley__nlu_vectorize(struct nlu_vectorizer *v, const struct nlu_featview *fv,
                                 const char *s, size_t n, const struct nlu_entry **out,
                                 size_t *count, parley_error *err)
{
    parley_err rc;
    size_t total, got = 0;

    rc = parley__text_normalize_into(&v->norm, s, n, fv->norm_flags, err);
    if (rc != PARLEY_OK)
        return rc;
    rc = parley_text_features_compute(&fv->cfg, v->norm.out.data ? v->norm.out.data : "", v->norm.out.len,
                                      &v->feats);
    if (rc != PARLEY_OK)
        return parley_error_set(err, rc, "cannot compute features: %s", parley_strerror(rc));
    total = v->feats.n_word + v->feats.n_char;
    if (total > v->entries_cap) {
        struct nlu_entry *e = parley__realloc(v->entries, total * sizeof(*e));
        if (!e)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot vectorize text: out of memory");
        v->entries = e;
        v->entries_cap = total;
    }
    if ((rc = reserve_rows(v, fv->n_rows)) != PARLEY_OK)
        return parley_error_set(err, rc, "cannot vectorize text: out of memory");
    if (++v->gen == 0) {
        memset(v->stamp, 0, v->rows_cap * sizeof(uint32_t));
        v->gen = 1;
    }
    add_group(v, fv, v->feats.ids, v->feats.n_word, PARLEY_FEATURE_WORD, &got);
    add_group(v, fv, v->feats.ids + v->feats.n_word, v->feats.n_char, PARLEY_FEATURE_CHAR, &got);
    *out = v->entries;
    *count = got;
    return PARLEY_OK;
}

NLU_CLONES
void parley__nlu_scores(const float *weights, const float *bias, uint32_t n_labels,
                        const struct nlu_entry *e, size_t n, float *restrict scores)
{
    memcpy(scores, bias, n_labels * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const float *restrict w = weights + (size_t)e[i].row * n_labels;
        float x = e[i].value;
        for (uint32_t c = 0; c < n_labels; c++)
            scores[c] += x * w[c];
    }
}

uint32_t parley__nlu_softmax(float *p, uint32_t n, float temperature)
{
    uint32_t best = 0;
    float max = p[0], inv = 1.0f / temperature;
    double sum = 0.0;

    for (uint32_t c = 1; c < n; c++) {
        if (p[c] > max) {
            max = p[c];
            best = c;
        }
    }
    for (uint32_t c = 0; c < n; c++) {
        p[c] = expf((p[c] - max) * inv);
        sum += p[c];
    }
    float is = (float)(1.0 / sum);
    for (uint32_t c = 0; c < n; c++)
        p[c] *= is;
    return best;
}
