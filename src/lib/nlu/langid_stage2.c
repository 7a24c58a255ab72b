/* Language identification, stage 2: per-group specialists (exact 64-bit
 * feature keys, 8-bit weights) that rescore confusable languages such as
 * Malay/Indonesian; checking their file section and applying them. */
#include <math.h>
#include <string.h>

#include "nlu/langid_internal.h"

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static size_t align64(size_t v)
{
    return (v + 63) & ~(size_t)63;
}

static parley_err corrupt(parley_error *err, const char *what)
{
    return parley_error_set(err, PARLEY_ERR_CORRUPT, "language model file is corrupt: stage 2: %s",
                            what);
}

/* Slot of `key` in a table of 2^bits slots (linear probing from the top
 * bits), or -1 when absent. The table always has an empty slot. */
static inline int64_t find_key(const struct lid_slot *t, uint32_t bits, uint64_t key)
{
    const uint64_t mask = ((uint64_t)1 << bits) - 1;
    uint64_t at = key >> (64 - bits);
    while (t[at].key) {
        if (t[at].key == key)
            return (int64_t)at;
        at = (at + 1) & mask;
    }
    return -1;
}

/* Checks one group record and its tables; fills g. `seen` marks the
 * languages already in a group. */
static parley_err load_group(const unsigned char *sec, size_t sec_len, const unsigned char *rec,
                             size_t *at, uint32_t n_labels, unsigned char *seen,
                             struct lid_group *g, parley_error *err)
{
    uint64_t entries = rd64(rec + 8), off = rd64(rec + 16);
    g->k = rd32(rec);
    g->bits = rd32(rec + 4);
    if (g->k < 2 || g->k > LID_GROUP_MAX || g->bits < LID_MIN_TBITS || g->bits > LID_MAX_TBITS)
        return corrupt(err, "bad group size");
    const uint64_t cap = (uint64_t)1 << g->bits;
    /* Tables follow each other in order. */
    if (entries < 1 || entries >= cap || off != align64(*at) || off > sec_len ||
        (sec_len - off) / sizeof(struct lid_slot) < cap || rd64(rec + 24) != 0 ||
        rd64(rec + 120) != 0)
        return corrupt(err, "table bounds do not match the counts");
    *at = (size_t)(off + cap * sizeof(struct lid_slot));
    memcpy(&g->temperature, rec + 32, 4);
    memcpy(&g->threshold, rec + 36, 4);
    if (!(g->temperature >= 1e-2f && g->temperature <= 1e2f) ||
        !(g->threshold >= 0.0f && g->threshold <= 2.0f))
        return corrupt(err, "bad temperature or threshold");
    for (uint32_t i = 0; i < LID_GROUP_MAX; i++) {
        uint16_t l;
        memcpy(&l, rec + 40 + 2 * i, 2);
        memcpy(&g->bias[i], rec + 56 + 4 * i, 4);
        memcpy(&g->scale[i], rec + 88 + 4 * i, 4);
        if (i >= g->k) {
            if (l || g->bias[i] != 0.0f || g->scale[i] != 0.0f)
                return corrupt(err, "unused group entries are not zero");
            continue;
        }
        if (l >= n_labels || seen[l])
            return corrupt(err, "bad or repeated group language");
        if (!(g->bias[i] > -1e4f && g->bias[i] < 1e4f) ||
            !(g->scale[i] >= 0.0f && g->scale[i] < 1e4f))
            return corrupt(err, "bad bias or scale");
        seen[l] = 1;
        g->lang[i] = l;
    }
    g->slots = (const struct lid_slot *)(const void *)(sec + off);
    /* Every key odd and found where it sits: no duplicates, and probing
     * always ends (entries < cap leaves an empty slot). Weights within
     * range, zero past k and in empty slots. */
    uint64_t used = 0;
    for (uint64_t i = 0; i < cap; i++) {
        const struct lid_slot *sl = &g->slots[i];
        for (uint32_t j = 0; j < LID_GROUP_MAX; j++)
            if (sl->q[j] < -LID_S2_QMAX || ((j >= g->k || !sl->key) && sl->q[j]))
                return corrupt(err, "weight out of range");
        if (!sl->key)
            continue;
        if (!(sl->key & 1) || find_key(g->slots, g->bits, sl->key) != (int64_t)i)
            return corrupt(err, "bad key table");
        used++;
    }
    if (used != entries)
        return corrupt(err, "key count does not match");
    return PARLEY_OK;
}

parley_err parley__lid_s2_load(parley_langid *m, const unsigned char *img, size_t off, size_t len,
                               parley_error *err)
{
    const unsigned char *sec = img + off;
    const size_t sec_len = len - off;
    uint32_t ng;

    if (sec_len < LID_S2_HEADER)
        return corrupt(err, "truncated");
    ng = rd32(sec);
    m->cfg2.char_min = rd32(sec + 4);
    m->cfg2.char_max = rd32(sec + 8);
    m->cfg2.word_ngrams = rd32(sec + 12);
    m->cfg2.hash_bits = LID_MIN_BITS; /* unused: keys are exact */
    if (ng < 1 || ng > LID_MAX_GROUPS || ng * 2 > m->n_labels ||
        sec_len < LID_S2_HEADER + (size_t)ng * LID_GROUP_REC || parley__lid_cfg_bad(&m->cfg2))
        return corrupt(err, "bad group count or features");
    for (size_t i = 16; i < LID_S2_HEADER; i++)
        if (sec[i])
            return corrupt(err, "reserved bytes are not zero");
    m->groups = parley__calloc(ng, sizeof(*m->groups));
    m->group_of = parley__calloc(m->n_labels, 1);
    if (!m->groups || !m->group_of)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load language model: out of memory");
    size_t at = LID_S2_HEADER + (size_t)ng * LID_GROUP_REC;
    for (uint32_t i = 0; i < ng; i++) {
        parley_err rc = load_group(sec, sec_len, sec + LID_S2_HEADER + (size_t)i * LID_GROUP_REC,
                                   &at, m->n_labels, m->group_of, &m->groups[i], err);
        if (rc != PARLEY_OK)
            return rc;
        for (uint32_t j = 0; j < m->groups[i].k; j++)
            m->group_of[m->groups[i].lang[j]] = (unsigned char)(i + 1);
    }
    if (at != sec_len)
        return corrupt(err, "section size does not match its tables");
    m->n_groups = ng;
    return PARLEY_OK;
}

/* Features are looked up in batches: their slots are prefetched first,
 * since each is a cache miss somewhere in a table of megabytes. */
#define S2_BATCH 32

/* Sums of one text's weights in a group's specialist. */
struct acc {
    const struct lid_group *g;
    int32_t c[LID_GROUP_MAX], w[LID_GROUP_MAX];
    uint32_t nc, nw;
    uint64_t key[S2_BATCH];
    unsigned char is_word[S2_BATCH];
    unsigned n;
};

static void acc_flush(struct acc *a)
{
    const struct lid_group *g = a->g;
    const unsigned shift = 64 - g->bits;
    for (unsigned i = 0; i < a->n; i++)
        __builtin_prefetch(&g->slots[a->key[i] >> shift]);
    for (unsigned i = 0; i < a->n; i++) {
        int64_t at = find_key(g->slots, g->bits, a->key[i]);
        if (at < 0)
            continue;
        int32_t *sum = a->is_word[i] ? a->w : a->c;
        const int8_t *q = g->slots[at].q;
        for (uint32_t j = 0; j < LID_GROUP_MAX; j++) /* 0 past k: no branch */
            sum[j] += q[j];
    }
    a->n = 0;
}

static void acc_add(void *ctx, uint64_t h, int is_word)
{
    struct acc *a = ctx;
    if (is_word)
        a->nw++;
    else
        a->nc++;
    a->key[a->n] = h | 1;
    a->is_word[a->n++] = (unsigned char)is_word;
    if (a->n == S2_BATCH)
        acc_flush(a);
}

int parley__lid_s2_apply(const parley_langid *m, const char *s, size_t n, uint32_t best, float *sc)
{
    if (!m->n_groups || !m->group_of[best])
        return 0;
    const struct lid_group *g = &m->groups[m->group_of[best] - 1];
    const float t1 = m->temperature;
    float max = sc[best], z = 0.0f, p2[LID_GROUP_MAX], m2 = -INFINITY, z2 = 0.0f;

    /* Stage 1's confidence within the group: the specialist only speaks
     * when it is below the group's threshold. */
    for (uint32_t i = 0; i < g->k; i++)
        z += expf((sc[g->lang[i]] - max) / t1);
    if (1.0f / z >= g->threshold)
        return 0;
    struct acc a;
    memset(&a, 0, sizeof(a));
    a.g = g;
    if (parley__lid_walk64(&m->cfg2, s, n, acc_add, &a) != 1)
        return 0;
    acc_flush(&a);
    const float ic = a.nc ? 1.0f / sqrtf((float)a.nc) : 0.0f;
    const float iw = a.nw ? 1.0f / sqrtf((float)a.nw) : 0.0f;
    for (uint32_t i = 0; i < g->k; i++) {
        p2[i] =
            (g->bias[i] + g->scale[i] * (ic * (float)a.c[i] + iw * (float)a.w[i])) / g->temperature;
        m2 = p2[i] > m2 ? p2[i] : m2;
    }
    for (uint32_t i = 0; i < g->k; i++)
        z2 += expf(p2[i] - m2);
    /* log P1(group) in score units, plus t1 * log P2(member). */
    const float lse = max + t1 * logf(z), lz2 = logf(z2);
    for (uint32_t i = 0; i < g->k; i++) {
        float lp = p2[i] - m2 - lz2;
        sc[g->lang[i]] = lse + t1 * (lp > -60.0f ? lp : -60.0f);
    }
    return 1;
}
