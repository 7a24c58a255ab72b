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
    parley__free(v->rows_tmp);
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
    0.0f,        1.0f,        1.69314718f, 2.09861229f, 2.38629436f, 2.60943791f,
    2.79175947f, 2.94591015f, 3.07944154f, 3.19722458f, 3.30258509f, 3.39789527f,
    3.48490665f, 3.56494936f, 3.63907734f, 3.70805020f,
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
 * normalizes that group. Lookups go first, in a loop of independent
 * iterations, so the CPU overlaps their cache misses. */
static void add_group(struct nlu_vectorizer *v, const struct nlu_featview *fv, const uint32_t *ids,
                      size_t nids, uint32_t group, size_t *n)
{
    size_t first = *n;
    double norm = 0.0;
    uint32_t *rows = v->rows_tmp;

    for (size_t i = 0; i < nids; i++) {
        rows[i] = parley__nlu_slot_start(ids[i] | (group << 31), fv->mask);
        __builtin_prefetch(&fv->slots[rows[i]]);
    }
    for (size_t i = 0; i < nids; i++) {
        uint32_t key = ids[i] | (group << 31), at = rows[i];
        rows[i] = UINT32_MAX;
        for (uint32_t probes = 0; probes <= fv->mask; probes++) {
            const struct nlu_slot *sl = &fv->slots[at];
            if (sl->key == key) {
                rows[i] = sl->row;
                __builtin_prefetch(&v->stamp[sl->row]);
                break;
            }
            if (sl->key == NLU_EMPTY_KEY)
                break;
            at = (at + 1) & fv->mask;
        }
    }
    for (size_t i = 0; i < nids; i++) {
        uint32_t row = rows[i];
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
    if (norm > 1e-12) { /* a tiny norm would blow the values up to inf */
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
    rc = parley_text_features_compute(&fv->cfg, v->norm.out.data ? v->norm.out.data : "",
                                      v->norm.out.len, &v->feats);
    if (rc != PARLEY_OK)
        return parley_error_set(err, rc, "cannot compute features: %s", parley_strerror(rc));
    total = v->feats.n_word + v->feats.n_char;
    if (total > v->entries_cap) {
        struct nlu_entry *e = parley__realloc(v->entries, total * sizeof(*e));
        if (!e)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot vectorize text: out of memory");
        v->entries = e;
        uint32_t *r = parley__realloc(v->rows_tmp, total * sizeof(*r));
        if (!r)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot vectorize text: out of memory");
        v->rows_tmp = r;
        v->entries_cap = total;
    }
    if ((rc = reserve_rows(v, fv->n_rows)) != PARLEY_OK)
        return parley_error_set(err, rc, "cannot vectorize text: out of memory");
    if (++v->gen == 0) {
        memset(v->stamp, 0, v->rows_cap * sizeof(uint32_t));
        v->gen = 1;
    }
    add_group(v, fv, v->feats.ids, v->feats.n_word, PARLEY_FEATURE_WORD, &got);
    if (v->feats.n_char) /* ids is NULL before the first non-empty text */
        add_group(v, fv, v->feats.ids + v->feats.n_word, v->feats.n_char, PARLEY_FEATURE_CHAR,
                  &got);
    *out = v->entries;
    *count = got;
    return PARLEY_OK;
}

NLU_CLONES
void parley__nlu_scores(const float *weights, const float *bias, uint32_t n_labels,
                        const struct nlu_entry *e, size_t n, float *restrict scores)
{
    const size_t lines = ((size_t)n_labels * sizeof(float) + 63) / 64;
    memcpy(scores, bias, n_labels * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        /* Training rows are as scattered as predicting ones, and larger. */
        if (i + 4 < n) {
            const char *ahead = (const char *)(weights + (size_t)e[i + 4].row * n_labels);
            for (size_t l = 0; l < lines; l++)
                __builtin_prefetch(ahead + l * 64);
        }
        const float *restrict w = weights + (size_t)e[i].row * n_labels;
        float x = e[i].value;
        for (uint32_t c = 0; c < n_labels; c++)
            scores[c] += x * w[c];
    }
}

NLU_CLONES
void parley__nlu_scores_q8(const int8_t *q, const float *scale, const float *bias,
                           uint32_t n_labels, const struct nlu_entry *e, size_t n,
                           float *restrict scores)
{
    const size_t stride = NLU_STRIDE(n_labels), lines = (stride + 63) / 64;
    memcpy(scores, bias, n_labels * sizeof(float));
    for (size_t c = n_labels; c < stride; c++)
        scores[c] = 0.0f;
    for (size_t i = 0; i < n; i++) {
        /* Rows are scattered: fetch a few ahead to hide memory latency. */
        if (i + 4 < n) {
            const char *ahead = (const char *)(q + (size_t)e[i + 4].row * stride);
            for (size_t l = 0; l < lines; l++)
                __builtin_prefetch(ahead + l * 64);
        }
        const int8_t *restrict w = q + (size_t)e[i].row * stride;
        float x = e[i].value * scale[e[i].row];
        for (size_t c = 0; c < stride; c++)
            scores[c] += x * (float)w[c];
    }
}

void parley__nlu_quantize(const float *w, uint32_t rows, uint32_t n_labels, int8_t *q, float *scale)
{
    const size_t stride = NLU_STRIDE(n_labels);
    for (uint32_t r = 0; r < rows; r++) {
        const float *row = w + (size_t)r * n_labels;
        int8_t *out = q + (size_t)r * stride;
        float max = 0.0f;
        for (uint32_t c = 0; c < n_labels; c++)
            max = fabsf(row[c]) > max ? fabsf(row[c]) : max;
        scale[r] = max > 0.0f ? max / 127.0f : 0.0f;
        float inv = max > 0.0f ? 127.0f / max : 0.0f;
        for (uint32_t c = 0; c < n_labels; c++) {
            long v = lrintf(row[c] * inv);
            out[c] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
        for (size_t c = n_labels; c < stride; c++)
            out[c] = 0;
    }
}

/* e^x for x <= 0 (softmax inputs after subtracting the max), to about
 * 2e-7 relative error; 0 below about -87. Written with integer masks
 * instead of branches or libm calls so the loop over classes vectorizes. */
static inline float exp_neg(float x)
{
    const float log2e = 1.44269504f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    const float magic = 12582912.0f; /* 1.5 * 2^23: rounds a float to an integer */
    union {
        float f;
        uint32_t u;
        int32_t i;
    } t, scale, res;
    /* Below -100 the result is 0 anyway; clamping keeps n in range. For
     * x <= 0 a larger magnitude is a larger bit pattern, so an unsigned
     * min clamps (and vectorizes, where a float compare would not). */
    union {
        float f;
        uint32_t u;
    } in = {x}, lim = {-100.0f};
    in.u = in.u < lim.u ? in.u : lim.u;
    x = in.f;
    t.f = x * log2e + magic;
    float n = t.f - magic;
    float r = x - n * ln2_hi - n * ln2_lo;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f +
                                                  r * (0.0416666418f + r * (0.00833345205f +
                                                                            r * 0.00138883868f)))));
    /* The low mantissa bits of t hold n: the exponent field of 2^n is
     * n + 127, valid while positive; otherwise the result is 0. */
    int32_t e = (int32_t)(t.u - 0x4B400000u) + 127;
    uint32_t ok = (uint32_t) - (int32_t)(e > 0);
    scale.u = ((uint32_t)e << 23) & ok;
    res.f = p * scale.f;
    res.u &= ok;
    return res.f;
}

NLU_CLONES
static void exp_all(float *restrict p, uint32_t n, float max, float inv)
{
    for (uint32_t c = 0; c < n; c++)
        p[c] = exp_neg((p[c] - max) * inv);
}

uint32_t parley__nlu_softmax(float *p, uint32_t n, float temperature)
{
    uint32_t best = 0;
    float max = p[0], inv = 1.0f / temperature, sum = 0.0f;

    for (uint32_t c = 1; c < n; c++) {
        if (p[c] > max) {
            max = p[c];
            best = c;
        }
    }
    exp_all(p, n, max, inv);
    for (uint32_t c = 0; c < n; c++)
        sum += p[c];
    float is = 1.0f / sum;
    for (uint32_t c = 0; c < n; c++)
        p[c] *= is;
    return best;
}
