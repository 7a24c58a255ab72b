/* Language identification: scoring a text's hashed features against the
 * int8 weights (integer sums, vectorized), calibrated probabilities, the
 * best k languages, and prediction among a subset of the languages. No
 * allocation and no shared mutable state: callers may share a model. */
#include <math.h>
#include <string.h>

#include "nlu/langid_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LID_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LID_CLONES
#endif

/* Groups of LID_GROUP rows are summed in int8 (|q| <= LID_QMAX, so a
 * group's sum fits), then widened and added in int16, spilled to int32
 * every LID_CHUNK groups: LID_CHUNK * LID_GROUP * LID_QMAX < 32767. Adding
 * four rows per widening is what makes 6-bit weights pay: the widening
 * (two shifts and two adds per 64 languages) was most of the work. */
#define LID_CHUNK 256

/* Rows are prefetched this many features ahead: a row comes from L3 or
 * memory (the weights are megabytes), which takes longer than summing a
 * few groups. */
#ifndef LID_AHEAD
#define LID_AHEAD 24
#endif

/* 64 int8 weights seen as 32 int16 words, or as 64 bytes: GCC vector
 * extensions, lowered to whatever each target clone has (one AVX-512 op,
 * two AVX2). Bytes are added unsigned, where wrapping is defined. */
typedef int16_t lid_v32hi __attribute__((vector_size(64)));
typedef uint16_t lid_v32hu __attribute__((vector_size(64)));
typedef uint8_t lid_v64qu __attribute__((vector_size(64)));

/* *sum += the 64 weights at p (through a pointer: a vector return value
 * would change the ABI of the baseline clone). */
static inline __attribute__((always_inline)) void add_row(lid_v64qu *sum, const int8_t *p)
{
    lid_v64qu v;
    memcpy(&v, p, sizeof(v));
    *sum += v;
}

/* Sums rows feat[0..nf) of q over `nb` (1 or 2, a constant after
 * inlining) blocks of 64 languages from `q`, in registers. Sign extension
 * by shifts instead of byte shuffles: the even language of each int16 word
 * is (w << 8) >> 8, the odd one w >> 8 (arithmetic shifts). */
static inline __attribute__((always_inline)) void
sum_group(const int8_t *q, size_t stride, const uint32_t *feat, size_t nf, int32_t *acc, size_t nb)
{
    const size_t chunk = (size_t)LID_CHUNK * LID_GROUP;
    for (size_t start = 0; start < nf; start += chunk) {
        size_t stop = nf - start > chunk ? start + chunk : nf;
        lid_v32hi even[2] = {{0}, {0}}, odd[2] = {{0}, {0}};
        for (size_t i = start; i < stop; i += LID_GROUP) {
            /* Rows are scattered: fetch a few ahead to hide memory latency. */
            for (size_t a = i + LID_AHEAD; a < i + LID_AHEAD + LID_GROUP && a < nf; a++) {
                const char *ahead = (const char *)(q + (size_t)feat[a] * stride);
                for (size_t b = 0; b < nb; b++)
                    __builtin_prefetch(ahead + b * 64);
            }
            size_t n = stop - i < LID_GROUP ? stop - i : LID_GROUP;
            for (size_t b = 0; b < nb; b++) {
                lid_v64qu sum = {0};
                for (size_t k = 0; k < n; k++)
                    add_row(&sum, q + (size_t)feat[i + k] * stride + b * 64);
                lid_v32hi w;
                memcpy(&w, &sum, sizeof(w));
                even[b] += (lid_v32hi)((lid_v32hu)w << 8) >> 8;
                odd[b] += w >> 8;
            }
        }
        for (size_t b = 0; b < nb; b++) {
            for (size_t k = 0; k < 32; k++) {
                acc[b * 64 + 2 * k] += even[b][k];
                acc[b * 64 + 2 * k + 1] += odd[b][k];
            }
        }
    }
}

LID_CLONES
static void sum_rows(const int8_t *restrict q, size_t stride, const uint32_t *feat, size_t nf,
                     int32_t *restrict acc)
{
    memset(acc, 0, stride * sizeof(*acc));
    for (size_t base = 0; base < stride; base += 128) {
        if (stride - base == 64)
            sum_group(q + base, stride, feat, nf, acc + base, 1);
        else
            sum_group(q + base, stride, feat, nf, acc + base, 2);
    }
}

void parley__lid_scores(const parley_langid *m, const uint32_t *feat, size_t n_char, size_t n_word,
                        float *scores)
{
    int32_t acc[PARLEY_LANGID_MAX_LANGUAGES], accw[PARLEY_LANGID_MAX_LANGUAGES];
    float inv = n_char ? 1.0f / sqrtf((float)n_char) : 0.0f;
    float invw = n_word ? 1.0f / sqrtf((float)n_word) : 0.0f;

    sum_rows(m->q, m->stride, feat, n_char, acc);
    sum_rows(m->q, m->stride, feat + n_char, n_word, accw);
    for (uint32_t c = 0; c < m->n_labels; c++)
        scores[c] = m->bias[c] + m->scale[c] * (inv * (float)acc[c] + invw * (float)accw[c]);
}

/* Features and raw scores of a text; PARLEY_ERR_UTF8 with the offset.
 * *has_text: whether the text had any features (stage 2 needs some). */
static parley_err score_text(const parley_langid *m, const char *s, size_t n, float *scores,
                             int *has_text, parley_error *err)
{
    uint32_t feat[LID_MAX_FEATURES];
    size_t nc = 0, nw = 0, bad = 0;

    if (!s && n)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot identify language: no text");
    if (parley__lid_features(&m->cfg, s ? s : "", n, feat, &nc, &nw, &bad) != PARLEY_OK)
        return parley_error_set(err, PARLEY_ERR_UTF8,
                                "cannot identify language: invalid UTF-8 at byte %zu", bad);
    parley__lid_scores(m, feat, nc, nw, scores);
    *has_text = nc + nw > 0;
    return PARLEY_OK;
}

typedef float lid_v16sf __attribute__((vector_size(64)));
typedef int32_t lid_v16si __attribute__((vector_size(64)));

/* *v = e^*v for lanes in [-80, 0], by a degree-6 polynomial on
 * d - n ln 2 and 2^n from the exponent bits (no libm call, no branch). */
static inline __attribute__((always_inline)) void exp_block(lid_v16sf *v)
{
    const lid_v16sf d = *v;
    const lid_v16sf magic = (lid_v16sf){0} + 12582912.0f; /* 1.5 * 2^23 rounds */
    lid_v16sf t = d * 1.44269504f + magic;
    lid_v16sf n = t - magic;
    lid_v16sf r = d - n * 0.693359375f + n * 2.12194440e-4f;
    lid_v16sf p =
        1.0f +
        r * (1.0f +
             r * (0.5f + r * (0.166666672f +
                              r * (0.0416666418f + r * (0.00833345205f + r * 0.00138883868f)))));
    lid_v16si e = (__builtin_convertvector(n, lid_v16si) + 127) << 23;
    lid_v16sf scale;
    memcpy(&scale, &e, sizeof(scale));
    *v = p * scale;
}

/* The normalizer: sum of e^((sc[j] - max) / t) over sc[0..n), n a
 * multiple of 16 (padding entries very low), max the largest entry. */
LID_CLONES
static float normalizer(const float *sc, size_t n, float max, float inv_t)
{
    lid_v16sf z = {0}, lo = (lid_v16sf){0} - 80.0f;
    lid_v16si li;
    memcpy(&li, &lo, sizeof(li));
    for (size_t j = 0; j < n; j += 16) {
        lid_v16sf d;
        lid_v16si di;
        memcpy(&d, sc + j, sizeof(d));
        d = (d - max) * inv_t;
        lid_v16si below = d < lo; /* all ones where below */
        memcpy(&di, &d, sizeof(di));
        di = (di & ~below) | (li & below);
        memcpy(&d, &di, sizeof(d));
        exp_block(&d);
        z += d;
    }
    float sum = 0.0f;
    for (size_t k = 0; k < 16; k++)
        sum += z[k];
    return sum;
}

/* The largest of sc[0..n), n a multiple of 16: a vector maximum, since a
 * scalar arg-max chains every comparison through a load. */
LID_CLONES
static float max_of(const float *sc, size_t n)
{
    lid_v16sf m;
    memcpy(&m, sc, sizeof(m));
    for (size_t j = 16; j < n; j += 16) {
        lid_v16sf d;
        lid_v16si di, mi;
        memcpy(&d, sc + j, sizeof(d));
        lid_v16si gt = d > m; /* all ones where d is larger */
        memcpy(&di, &d, sizeof(di));
        memcpy(&mi, &m, sizeof(mi));
        mi = (di & gt) | (mi & ~gt);
        memcpy(&m, &mi, sizeof(m));
    }
    float max = m[0];
    for (size_t k = 1; k < 16; k++)
        max = m[k] > max ? m[k] : max;
    return max;
}

/* Fills out->top with the best min(k, 16, n) of scores sc[0..n) (label of
 * entry j: labels[map ? map[j] : j]) and their probabilities under
 * softmax(sc / temperature), best first. sc has room for n rounded up to
 * 16, which is padded here. Consumes sc. */
/* Pads sc[0..n) to a multiple of 16 and returns the index of its first
 * largest entry, the maximum in *max. */
static size_t arg_max(float *sc, size_t n, float *max)
{
    const size_t padded = (n + 15) & ~(size_t)15;
    size_t best = 0;

    for (size_t j = n; j < padded; j++)
        sc[j] = -1e30f;
    *max = max_of(sc, padded);
    while (sc[best] != *max) /* the first entry with the largest score */
        best++;
    return best;
}

/* As take_top with the arg-max of sc already known (arg_max). */
static void take_top_from(const parley_langid *m, float *sc, const uint32_t *map, size_t n,
                          size_t k, size_t best, float max, parley_langid_result *out)
{
    const float inv_t = 1.0f / m->temperature;
    const size_t padded = (n + 15) & ~(size_t)15;
    const float z = normalizer(sc, padded, max, inv_t);
    k = k > n ? n : k;
    k = k > 16 ? 16 : k;
    out->n_top = 0;
    for (size_t t = 0; t < k; t++) {
        size_t arg = t == 0 ? best : 0;
        if (t > 0)
            for (size_t j = 1; j < n; j++)
                arg = sc[j] > sc[arg] ? j : arg;
        out->top[t].language = m->labels[map ? map[arg] : arg];
        out->top[t].probability = expf((sc[arg] - max) * inv_t) / z;
        sc[arg] = -INFINITY;
        out->n_top++;
    }
    out->language = out->top[0].language;
    out->probability = out->top[0].probability;
}

static void take_top(const parley_langid *m, float *sc, const uint32_t *map, size_t n, size_t k,
                     parley_langid_result *out)
{
    float max;
    size_t best = arg_max(sc, n, &max);
    take_top_from(m, sc, map, n, k, best, max, out);
}

parley_err parley_langid_predict(const parley_langid *m, const char *s, size_t n, size_t k,
                                 parley_langid_result *out, parley_error *err)
{
    float scores[PARLEY_LANGID_MAX_LANGUAGES];
    parley_err rc;

    if (!m || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot identify language: no model");
    if (k < 1 || k > 16)
        return parley_error_set(err, PARLEY_ERR_INVALID, "top k must be 1..16, not %zu", k);
    int has_text = 0;
    if ((rc = score_text(m, s, n, scores, &has_text, err)) != PARLEY_OK)
        return rc;
    /* Stage 2 needs stage 1's best language; the arg-max is reused unless
     * a specialist changed the scores. */
    float max;
    size_t best = arg_max(scores, m->n_labels, &max);
    if (m->n_groups && has_text && parley__lid_s2_apply(m, s, n, (uint32_t)best, scores))
        best = arg_max(scores, m->n_labels, &max);
    take_top_from(m, scores, NULL, m->n_labels, k, best, max, out);
    return PARLEY_OK;
}

/* Resolves `allowed` to label indices in idx[]; names unknown labels. */
static parley_err resolve(const parley_langid *m, const char *const *allowed, size_t n_allowed,
                          uint32_t *idx, parley_error *err)
{
    unsigned char seen[PARLEY_LANGID_MAX_LANGUAGES];
    char unknown[384];
    size_t used = 0, n_unknown = 0, n_shown = 0;

    if (!allowed || n_allowed == 0)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot identify language among languages: none given");
    memset(seen, 0, m->n_labels);
    unknown[0] = '\0';
    for (size_t i = 0; i < n_allowed; i++) {
        if (!allowed[i])
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot identify language: allowed language %zu is NULL", i);
        int32_t at = parley__lid_label_index(m, allowed[i]);
        if (at < 0) {
            n_unknown++;
            n_shown += (size_t)parley__quote_list_add(unknown, sizeof(unknown), &used, allowed[i]);
            continue;
        }
        if (seen[at])
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot identify language: '%s' is allowed twice", allowed[i]);
        seen[at] = 1;
        if (n_unknown == 0)
            idx[i] = (uint32_t)at; /* labels 0..i known and distinct: i < n_labels */
    }
    if (n_unknown > 0)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot identify language: the model has no language %s%s", unknown,
                                n_unknown > n_shown ? " and more" : "");
    return PARLEY_OK;
}

parley_err parley_langid_predict_among(const parley_langid *m, const char *s, size_t n,
                                       const char *const *allowed, size_t n_allowed,
                                       parley_langid_result *out, parley_error *err)
{
    /* Zeroed so that static analysis sees every read initialized. */
    float scores[PARLEY_LANGID_MAX_LANGUAGES] = {0}, sel[PARLEY_LANGID_MAX_LANGUAGES];
    uint32_t idx[PARLEY_LANGID_MAX_LANGUAGES] = {0};
    parley_err rc;

    if (!m || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot identify language: no model");
    if ((rc = resolve(m, allowed, n_allowed, idx, err)) != PARLEY_OK)
        return rc;
    int has_text = 0;
    if ((rc = score_text(m, s, n, scores, &has_text, err)) != PARLEY_OK)
        return rc;
    if (m->n_groups && has_text) {
        uint32_t best = idx[0];
        for (size_t i = 1; i < n_allowed; i++)
            best = scores[idx[i]] > scores[best] ? idx[i] : best;
        parley__lid_s2_apply(m, s, n, best, scores);
    }
    /* The calibrated distribution conditioned on the allowed set: the same
     * temperature, normalized over the allowed scores only. */
    for (size_t i = 0; i < n_allowed; i++)
        sel[i] = scores[idx[i]];
    take_top(m, sel, idx, n_allowed, 16, out);
    return PARLEY_OK;
}
