/* Training stage 2 of the language identifier: finds the groups of
 * languages stage 1 confuses on validation, trains one specialist per
 * group on that group's training sentences (exact 64-bit character 1-6
 * gram, word and word-pair keys), and writes the stage-2 file section. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/internal.h"
#include "nlu/langid_internal.h"

/* Specialist features: character 1-5-grams, words and word pairs, exact.
 * Word pairs matter here (without them the specialists fixed half as
 * many validation rows); 6-grams did not. */
static const struct lid_cfg s2_cfg = {1, 5, 2, LID_MIN_BITS};

/* A specialist's training: passes, dropout, learning rate. Measured on
 * Tatoeba validation (docs/internals/langid.md). */
#define S2_EPOCHS  120u
#define S2_DROPOUT 0.85
#define S2_LR      2.0
/* Keys seen fewer times in a group's rows are left out (1: 44 MB model,
 * 2: 26 MB for one validation row less, 3: 0.1% less). */
#define S2_MIN_COUNT 2u

/* Growable arrays of 64-bit hashes. */
struct hbuf {
    uint64_t *h;
    size_t n, cap;
    int oom;
};

static void hbuf_push(struct hbuf *b, uint64_t v)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        uint64_t *h = parley__realloc(b->h, cap * sizeof(*h));
        if (!h) {
            b->oom = 1;
            return;
        }
        b->h = h;
        b->cap = cap;
    }
    b->h[b->n++] = v;
}

/* One text's features: characters and words kept apart. */
struct text_feat {
    struct hbuf c, w;
};

static void sink(void *ctx, uint64_t h, int is_word)
{
    struct text_feat *t = ctx;
    hbuf_push(is_word ? &t->w : &t->c, h | 1);
}

/* Rows of one group: keys of row i are key[off[i] .. off[i + 1]), the
 * first nchar[i] character n-grams; label = index within the group. */
struct grows {
    struct hbuf key;
    size_t *off;
    uint32_t *nchar, *label;
    size_t n, cap;
};

static parley_err grows_add(struct grows *r, const struct text_feat *t, uint32_t label)
{
    if (r->n + 2 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        size_t *off = parley__realloc(r->off, cap * sizeof(*off));
        if (off)
            r->off = off;
        uint32_t *nc = parley__realloc(r->nchar, cap * sizeof(*nc));
        if (nc)
            r->nchar = nc;
        uint32_t *lb = parley__realloc(r->label, cap * sizeof(*lb));
        if (lb)
            r->label = lb;
        if (!off || !nc || !lb)
            return PARLEY_ERR_NOMEM;
        r->cap = cap;
    }
    if (r->n == 0)
        r->off[0] = 0;
    for (size_t i = 0; i < t->c.n; i++)
        hbuf_push(&r->key, t->c.h[i]);
    for (size_t i = 0; i < t->w.n; i++)
        hbuf_push(&r->key, t->w.h[i]);
    if (r->key.oom)
        return PARLEY_ERR_NOMEM;
    r->nchar[r->n] = (uint32_t)t->c.n;
    r->label[r->n++] = label;
    r->off[r->n] = r->key.n;
    return PARLEY_OK;
}

static void grows_release(struct grows *r)
{
    parley__free(r->key.h);
    parley__free(r->off);
    parley__free(r->nchar);
    parley__free(r->label);
}

/* A specialist being trained: open-addressed exact keys, float weights
 * per slot. */
struct spec {
    uint32_t k, bits;
    uint16_t lang[LID_GROUP_MAX];
    uint64_t *keys;
    float *w; /* [2^bits][k] */
    float bias[LID_GROUP_MAX];
    float temperature, threshold;
    uint64_t entries;
    struct grows tr;
};

static int64_t slot_of(uint64_t *keys, uint32_t bits, uint64_t key, int add)
{
    const uint64_t mask = ((uint64_t)1 << bits) - 1;
    uint64_t at = key >> (64 - bits);
    while (keys[at]) {
        if (keys[at] == key)
            return (int64_t)at;
        at = (at + 1) & mask;
    }
    if (!add)
        return -1;
    keys[at] = key;
    return (int64_t)at;
}

/* Sizes the table for the distinct keys of the training rows (at most
 * half full) and inserts them. */
static parley_err build_table(struct spec *sp)
{
    uint32_t bits = LID_MIN_TBITS;
    while (bits < LID_MAX_TBITS && ((uint64_t)1 << bits) < 2 * sp->tr.key.n)
        bits++;
    uint64_t *tmp = parley__calloc((size_t)1 << bits, sizeof(uint64_t));
    uint32_t *count = parley__calloc((size_t)1 << bits, sizeof(uint32_t));
    if (!tmp || !count) {
        parley__free(tmp);
        parley__free(count);
        return PARLEY_ERR_NOMEM;
    }
    const uint32_t min_count = S2_MIN_COUNT;
    uint64_t kept = 0, filled = 0, limit = ((uint64_t)1 << bits) / 2;
    for (size_t i = 0; i < sp->tr.key.n; i++) {
        int64_t at = slot_of(tmp, bits, sp->tr.key.h[i], 0);
        if (at < 0) {
            if (filled >= limit)
                continue;
            at = slot_of(tmp, bits, sp->tr.key.h[i], 1);
            filled++;
        }
        kept += ++count[at] == min_count;
    }
    sp->bits = LID_MIN_TBITS;
    while (sp->bits < LID_MAX_TBITS && ((uint64_t)1 << sp->bits) < 2 * kept)
        sp->bits++;
    sp->keys = parley__calloc((size_t)1 << sp->bits, sizeof(uint64_t));
    sp->w = parley__calloc(((size_t)1 << sp->bits) * sp->k, sizeof(float));
    if (!sp->keys || !sp->w) {
        parley__free(tmp);
        parley__free(count);
        return PARLEY_ERR_NOMEM;
    }
    /* Keys seen fewer than min_count times in the group's rows are left
     * out: they hardly generalize, and most keys are seen once. */
    sp->entries = 0;
    for (size_t i = 0; i < ((size_t)1 << bits) && sp->entries < kept; i++) {
        if (tmp[i] && count[i] >= min_count) {
            (void)slot_of(sp->keys, sp->bits, tmp[i], 1);
            sp->entries++;
        }
    }
    parley__free(tmp);
    parley__free(count);
    /* Row keys become slot indices (keys left out: UINT64_MAX). */
    for (size_t i = 0; i < sp->tr.key.n; i++) {
        int64_t at = slot_of(sp->keys, sp->bits, sp->tr.key.h[i], 0);
        sp->tr.key.h[i] = at < 0 ? UINT64_MAX : (uint64_t)at;
    }
    return PARLEY_OK;
}

/* Raw specialist scores of one text's keys (slots when `slots`). */
static void spec_scores(const struct spec *sp, const uint64_t *key, size_t nf, size_t nc, int slots,
                        float *out)
{
    float c[LID_GROUP_MAX] = {0}, w[LID_GROUP_MAX] = {0};
    if (!sp->keys || !sp->w) /* not built (cannot happen once trained) */
        nf = 0;
    for (size_t i = 0; i < nf; i++) {
        int64_t at = slots ? (key[i] == UINT64_MAX ? -1 : (int64_t)key[i])
                           : slot_of(sp->keys, sp->bits, key[i], 0);
        if (at < 0)
            continue;
        const float *row = sp->w + (size_t)at * sp->k;
        float *sum = i < nc ? c : w;
        for (uint32_t j = 0; j < sp->k; j++)
            sum[j] += row[j];
    }
    float ic = nc ? 1.0f / sqrtf((float)nc) : 0.0f;
    float iw = nf > nc ? 1.0f / sqrtf((float)(nf - nc)) : 0.0f;
    for (uint32_t j = 0; j < sp->k; j++)
        out[j] = sp->bias[j] + ic * c[j] + iw * w[j];
}

/* SGD on the softmax loss over the group's rows, with dropout. */
static void spec_fit(struct spec *sp, uint64_t seed)
{
    const struct grows *r = &sp->tr;
    size_t *order = parley__mallocarray(r->n ? r->n : 1, sizeof(size_t));
    uint64_t *kept = parley__mallocarray(LID_MAX_FEATURES, sizeof(uint64_t));
    struct parley_rng rng;
    uint64_t rs = seed * 0x9E3779B97F4A7C15ull + 1;
    const uint64_t drop = (uint64_t)(S2_DROPOUT * 0x1.0p64);
    const size_t total = r->n * S2_EPOCHS;
    size_t step = 0;

    if (!order || !kept) {
        parley__free(order);
        parley__free(kept);
        return;
    }
    for (size_t i = 0; i < r->n; i++)
        order[i] = i;
    parley__rng_seed(&rng, seed);
    for (unsigned e = 0; e < S2_EPOCHS; e++) {
        for (size_t i = r->n; i > 1; i--) {
            size_t k = (size_t)parley__rng_below(&rng, i), t = order[i - 1];
            order[i - 1] = order[k];
            order[k] = t;
        }
        for (size_t o = 0; o < r->n; o++, step++) {
            size_t row = order[o], nf = 0, nc = 0;
            const uint64_t *ft = r->key.h + r->off[row];
            size_t n_all = r->off[row + 1] - r->off[row];
            for (size_t i = 0; i < n_all && nf < LID_MAX_FEATURES; i++) {
                rs = rs * 6364136223846793005ull + 1442695040888963407ull;
                if (rs >= drop) {
                    kept[nf++] = ft[i];
                    nc += i < r->nchar[row];
                }
            }
            if (nf == 0)
                continue;
            float s[LID_GROUP_MAX];
            spec_scores(sp, kept, nf, nc, 1, s);
            (void)parley__nlu_softmax(s, sp->k, 1.0f);
            s[r->label[row]] -= 1.0f;
            float lr = (float)(S2_LR * (1.0 - (double)step / (double)total));
            float ic = nc ? lr / sqrtf((float)nc) : 0.0f;
            float iw = nf > nc ? lr / sqrtf((float)(nf - nc)) : 0.0f;
            for (uint32_t j = 0; j < sp->k; j++)
                sp->bias[j] -= lr * s[j];
            for (size_t i = 0; i < nf; i++) {
                if (kept[i] == UINT64_MAX)
                    continue;
                float *wr = sp->w + (size_t)kept[i] * sp->k, g = i < nc ? ic : iw;
                for (uint32_t j = 0; j < sp->k; j++)
                    wr[j] -= g * s[j];
            }
        }
    }
    parley__free(order);
    parley__free(kept);
}

/* A validation row that concerns a group: its gold and stage-1 best
 * language within the group (-1: outside), stage 1's probability of its
 * best language within the group, and the specialist's raw scores. */
struct vrow {
    uint32_t group;
    int32_t gold, best;
    float p1;
    float s2[LID_GROUP_MAX];
};

static int32_t in_group(const struct spec *sp, uint32_t lang)
{
    for (uint32_t j = 0; j < sp->k; j++)
        if (sp->lang[j] == lang)
            return (int32_t)j;
    return -1;
}

/* Stage-1 scores of a text and its best language; 0 without features. */
static int stage1(const parley_langid *m, const char *s, size_t n, uint32_t *feat, float *sc,
                  uint32_t *best)
{
    size_t nc = 0, nw = 0, bad = 0;
    if (parley__lid_features(&m->cfg, s, n, feat, &nc, &nw, &bad) != PARLEY_OK || nc + nw == 0)
        return 0;
    parley__lid_scores(m, feat, nc, nw, sc);
    *best = 0;
    for (uint32_t c = 1; c < m->n_labels; c++)
        *best = sc[c] > sc[*best] ? c : *best;
    return 1;
}

/* Counts stage 1's confusions on `valid` into conf[gold * nl + pred]. */
static parley_err confusions(const parley_langid *m, parley_nlu_data *valid, uint32_t *conf,
                             uint32_t *feat, parley_error *err)
{
    parley_nlu_example ex;
    float sc[PARLEY_LANGID_MAX_LANGUAGES];
    int has = 0;
    parley_err rc = parley_nlu_data_rewind(valid, err);

    while (rc == PARLEY_OK && (rc = parley_nlu_data_next(valid, &ex, &has, err)) == PARLEY_OK &&
           has) {
        int32_t gold = parley__lid_label_index(m, ex.label);
        uint32_t best;
        if (gold >= 0 && stage1(m, ex.text, ex.text_len, feat, sc, &best))
            conf[(size_t)gold * m->n_labels + best]++;
    }
    return rc;
}

struct pair {
    uint32_t a, b, count;
};

static int cmp_pair(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    if (p->count != q->count)
        return p->count > q->count ? -1 : 1;
    return p->a != q->a ? (p->a < q->a ? -1 : 1) : (p->b < q->b ? -1 : p->b > q->b);
}

/* Joins the most confused pairs into groups of at most LID_GROUP_MAX
 * languages, at most `max_groups` of them; grp[lang] = group + 1. */
static uint32_t form_groups(const uint32_t *conf, uint32_t nl, unsigned min, unsigned max_groups,
                            uint32_t *grp, uint32_t *size, struct pair *pairs)
{
    size_t np = 0;
    uint32_t ng = 0;
    for (uint32_t a = 0; a < nl; a++)
        for (uint32_t b = a + 1; b < nl; b++) {
            uint32_t c = conf[(size_t)a * nl + b] + conf[(size_t)b * nl + a];
            if (c >= min && c > 0)
                pairs[np++] = (struct pair){a, b, c};
        }
    qsort(pairs, np, sizeof(*pairs), cmp_pair);
    for (size_t i = 0; i < np; i++) {
        uint32_t ga = grp[pairs[i].a], gb = grp[pairs[i].b];
        if (ga && ga == gb)
            continue;
        if (!ga && !gb) {
            if (ng >= max_groups)
                continue;
            grp[pairs[i].a] = grp[pairs[i].b] = ++ng;
            size[ng - 1] = 2;
        } else if (!ga || !gb) {
            uint32_t g = ga ? ga : gb;
            if (size[g - 1] >= LID_GROUP_MAX)
                continue;
            grp[ga ? pairs[i].b : pairs[i].a] = g;
            size[g - 1]++;
        } else if (size[ga - 1] + size[gb - 1] <= LID_GROUP_MAX) {
            /* Merge gb into ga; the last group takes gb's number. */
            for (uint32_t l = 0; l < nl; l++)
                grp[l] = grp[l] == gb ? ga : grp[l];
            size[ga - 1] += size[gb - 1];
            for (uint32_t l = 0; l < nl; l++)
                grp[l] = grp[l] == ng ? gb : grp[l];
            size[gb - 1] = size[ng - 1];
            ng--;
        }
    }
    return ng;
}

/* Reads the training rows of every group's languages. */
static parley_err read_group_rows(const parley_langid *m, parley_nlu_data *train,
                                  const uint32_t *grp, struct spec *sp, parley_error *err)
{
    parley_nlu_example ex;
    struct text_feat t;
    int has = 0;
    parley_err rc = parley_nlu_data_rewind(train, err);

    memset(&t, 0, sizeof(t));
    while (rc == PARLEY_OK && (rc = parley_nlu_data_next(train, &ex, &has, err)) == PARLEY_OK &&
           has) {
        int32_t l = parley__lid_label_index(m, ex.label);
        if (l < 0 || !grp[l])
            continue;
        struct spec *s = &sp[grp[l] - 1];
        t.c.n = t.w.n = 0;
        if (parley__lid_walk64(&s2_cfg, ex.text, ex.text_len, sink, &t) != 1)
            continue;
        if (t.c.oom || t.w.oom || grows_add(&s->tr, &t, (uint32_t)in_group(s, (uint32_t)l)))
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train stage 2: out of memory");
    }
    parley__free(t.c.h);
    parley__free(t.w.h);
    return rc;
}

/* Stage 1 and the specialists on every validation row that concerns a
 * group (gold or stage-1 best language in one). */
static parley_err valid_rows(const parley_langid *m, parley_nlu_data *valid, const uint32_t *grp,
                             const struct spec *sp, uint32_t *feat, struct vrow **out,
                             size_t *n_out, parley_error *err)
{
    parley_nlu_example ex;
    struct text_feat t;
    float sc[PARLEY_LANGID_MAX_LANGUAGES];
    size_t n = 0, cap = 0;
    int has = 0;
    parley_err rc = parley_nlu_data_rewind(valid, err);

    memset(&t, 0, sizeof(t));
    *out = NULL;
    while (rc == PARLEY_OK && (rc = parley_nlu_data_next(valid, &ex, &has, err)) == PARLEY_OK &&
           has) {
        int32_t gold = parley__lid_label_index(m, ex.label);
        uint32_t best;
        if (gold < 0 || !stage1(m, ex.text, ex.text_len, feat, sc, &best))
            continue;
        for (int pass = 0; pass < 2; pass++) {
            /* A row can concern two groups: its gold's and its best's. */
            uint32_t g = pass == 0 ? grp[gold] : grp[best];
            if (!g || (pass == 1 && g == grp[gold]))
                continue;
            const struct spec *s = &sp[g - 1];
            t.c.n = t.w.n = 0;
            if (parley__lid_walk64(&s2_cfg, ex.text, ex.text_len, sink, &t) != 1)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                struct vrow *v = parley__realloc(*out, cap * sizeof(**out));
                if (!v) {
                    rc = PARLEY_ERR_NOMEM;
                    break;
                }
                *out = v;
            }
            struct vrow *v = &(*out)[n++];
            float z = 0.0f;
            v->group = g - 1;
            v->gold = in_group(s, (uint32_t)gold);
            v->best = in_group(s, best);
            for (uint32_t j = 0; j < s->k; j++)
                z += expf((sc[s->lang[j]] - sc[best]) / m->temperature);
            v->p1 = 1.0f / z;
            /* Character keys then word keys, as in training. */
            for (size_t i = 0; i < t.w.n; i++)
                hbuf_push(&t.c, t.w.h[i]);
            if (t.c.oom) {
                rc = PARLEY_ERR_NOMEM;
                break;
            }
            spec_scores(s, t.c.h, t.c.n, t.c.n - t.w.n, 0, v->s2);
        }
    }
    parley__free(t.c.h);
    parley__free(t.w.h);
    *n_out = n;
    if (rc == PARLEY_ERR_NOMEM)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train stage 2: out of memory");
    return rc;
}

/* NLL of the gold labels of group g's rows under softmax(s2 / t). */
static double group_nll(const struct vrow *v, size_t n, uint32_t g, uint32_t k, double t)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].group != g || v[i].gold < 0)
            continue;
        double max = v[i].s2[0], z = 0.0;
        for (uint32_t j = 1; j < k; j++)
            max = v[i].s2[j] > max ? v[i].s2[j] : max;
        for (uint32_t j = 0; j < k; j++)
            z += exp((v[i].s2[j] - max) / t);
        sum += log(z) - (v[i].s2[v[i].gold] - max) / t;
    }
    return sum;
}

/* Temperature (golden section over log t) and threshold of group g: the
 * threshold that gets the most of its validation rows right, the lowest
 * among equals (the specialist runs as rarely as it may); 0 = never. */
static void calibrate(struct spec *sp, const struct vrow *v, size_t n, uint32_t g, int *gain)
{
    static const float cand[] = {0.0f, 0.6f, 0.7f, 0.8f, 0.9f, 0.95f, 0.99f, 0.999f, 2.0f};
    double lo = log(0.05), hi = log(20.0), gr = 0.6180339887;
    double a = hi - gr * (hi - lo), b = lo + gr * (hi - lo);
    double fa = group_nll(v, n, g, sp->k, exp(a)), fb = group_nll(v, n, g, sp->k, exp(b));
    for (int it = 0; it < 40; it++) {
        if (fa < fb) {
            hi = b;
            b = a;
            fb = fa;
            a = hi - gr * (hi - lo);
            fa = group_nll(v, n, g, sp->k, exp(a));
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + gr * (hi - lo);
            fb = group_nll(v, n, g, sp->k, exp(b));
        }
    }
    sp->temperature = (float)exp((lo + hi) / 2);
    int base = -1, best = -1;
    sp->threshold = 0.0f;
    for (size_t c = 0; c < sizeof(cand) / sizeof(cand[0]); c++) {
        int right = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i].group != g || v[i].best < 0)
                continue;
            int32_t pred = v[i].best;
            if (v[i].p1 < cand[c]) {
                pred = 0;
                for (uint32_t j = 1; j < sp->k; j++)
                    pred = v[i].s2[j] > v[i].s2[pred] ? (int32_t)j : pred;
            }
            right += pred == v[i].gold;
        }
        if (c == 0)
            base = right;
        if (right > best) {
            best = right;
            sp->threshold = cand[c];
        }
    }
    *gain = best - base;
}

static void wr32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void wr64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static size_t align64(size_t v)
{
    return (v + 63) & ~(size_t)63;
}

/* The section bytes of the kept specialists (layout in
 * langid_internal.h), weights quantized per language to 8 bits. */
static parley_err write_section(struct spec *const *keep, uint32_t n, unsigned char **blob,
                                size_t *blob_len)
{
    size_t len = LID_S2_HEADER + (size_t)n * LID_GROUP_REC;
    for (uint32_t i = 0; i < n; i++)
        len = align64(len) + ((size_t)1 << keep[i]->bits) * sizeof(struct lid_slot);
    unsigned char *b = parley__calloc(1, len);
    if (!b)
        return PARLEY_ERR_NOMEM;
    wr32(b, n);
    wr32(b + 4, s2_cfg.char_min);
    wr32(b + 8, s2_cfg.char_max);
    wr32(b + 12, s2_cfg.word_ngrams);
    size_t at = LID_S2_HEADER + (size_t)n * LID_GROUP_REC;
    for (uint32_t i = 0; i < n; i++) {
        const struct spec *sp = keep[i];
        const size_t cap = (size_t)1 << sp->bits;
        unsigned char *rec = b + LID_S2_HEADER + (size_t)i * LID_GROUP_REC;
        size_t off = align64(at);
        struct lid_slot *t = (struct lid_slot *)(void *)(b + off);
        wr32(rec, sp->k);
        wr32(rec + 4, sp->bits);
        wr64(rec + 8, sp->entries);
        wr64(rec + 16, off);
        memcpy(rec + 32, &sp->temperature, 4);
        memcpy(rec + 36, &sp->threshold, 4);
        for (size_t r = 0; r < cap; r++)
            t[r].key = sp->keys[r];
        for (uint32_t j = 0; j < sp->k; j++) {
            float max = 0.0f;
            for (size_t r = 0; r < cap; r++)
                max = fabsf(sp->w[r * sp->k + j]) > max ? fabsf(sp->w[r * sp->k + j]) : max;
            float scale = max / (float)LID_S2_QMAX, inv = max > 0.0f ? 1.0f / scale : 0.0f;
            memcpy(rec + 40 + 2 * j, &sp->lang[j], 2);
            memcpy(rec + 56 + 4 * j, &sp->bias[j], 4);
            memcpy(rec + 88 + 4 * j, &scale, 4);
            for (size_t r = 0; r < cap; r++) {
                if (!sp->keys[r])
                    continue;
                long q = lrintf(sp->w[r * sp->k + j] * inv);
                t[r].q[j] = (int8_t)(q > LID_S2_QMAX    ? LID_S2_QMAX
                                     : q < -LID_S2_QMAX ? -LID_S2_QMAX
                                                        : q);
            }
        }
        at = off + cap * sizeof(struct lid_slot);
    }
    *blob = b;
    *blob_len = len;
    return PARLEY_OK;
}

parley_err parley__lid_s2_train(const parley_langid_options *o, const parley_langid *m,
                                parley_nlu_data *train, parley_nlu_data *valid,
                                unsigned char **blob, size_t *blob_len, parley_error *err)
{
    const uint32_t nl = m->n_labels;
    uint32_t *conf = parley__calloc((size_t)nl * nl, sizeof(uint32_t));
    uint32_t *grp = parley__calloc(nl, sizeof(uint32_t)), size[LID_MAX_GROUPS] = {0};
    struct pair *pairs = parley__mallocarray((size_t)nl * nl / 2 + 1, sizeof(struct pair));
    uint32_t *feat = parley__mallocarray(LID_MAX_FEATURES, sizeof(uint32_t));
    struct spec sp[LID_MAX_GROUPS], *keep[LID_MAX_GROUPS];
    struct vrow *v = NULL;
    size_t nv = 0;
    uint32_t ng = 0, n_keep = 0;
    parley_err rc = PARLEY_OK;

    *blob = NULL;
    *blob_len = 0;
    memset(sp, 0, sizeof(sp));
    if (!conf || !grp || !pairs || !feat) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train stage 2: out of memory");
        goto out;
    }
    if ((rc = confusions(m, valid, conf, feat, err)) != PARLEY_OK)
        goto out;
    ng = form_groups(conf, nl, o->group_min, o->groups, grp, size, pairs);
    if (ng == 0)
        goto out;
    for (uint32_t l = 0; l < nl; l++)
        if (grp[l])
            sp[grp[l] - 1].lang[sp[grp[l] - 1].k++] = (uint16_t)l;
    if ((rc = read_group_rows(m, train, grp, sp, err)) != PARLEY_OK)
        goto out;
    for (uint32_t g = 0; g < ng; g++) {
        if (build_table(&sp[g]) != PARLEY_OK) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train stage 2: out of memory");
            goto out;
        }
        spec_fit(&sp[g], o->seed + g);
    }
    if ((rc = valid_rows(m, valid, grp, sp, feat, &v, &nv, err)) != PARLEY_OK)
        goto out;
    /* Kept: the specialists that fix more validation rows than they
     * break at their best threshold. */
    for (uint32_t g = 0; g < ng; g++) {
        int gain = 0;
        calibrate(&sp[g], v, nv, g, &gain);
        if (gain > 0)
            keep[n_keep++] = &sp[g];
    }
    /* With refit, the kept specialists train again on the group's
     * training and validation rows; temperature and threshold stay. */
    if (o->refit && n_keep) {
        for (uint32_t g = 0; g < ng; g++) {
            parley__free(sp[g].keys);
            parley__free(sp[g].w);
            grows_release(&sp[g].tr);
            sp[g].keys = NULL;
            sp[g].w = NULL;
            memset(&sp[g].tr, 0, sizeof(sp[g].tr));
            memset(sp[g].bias, 0, sizeof(sp[g].bias));
        }
        if ((rc = read_group_rows(m, train, grp, sp, err)) != PARLEY_OK ||
            (rc = read_group_rows(m, valid, grp, sp, err)) != PARLEY_OK)
            goto out;
        for (uint32_t i = 0; i < n_keep; i++) {
            if (build_table(keep[i]) != PARLEY_OK) {
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train stage 2: out of memory");
                goto out;
            }
            spec_fit(keep[i], o->seed + (uint64_t)(keep[i] - sp));
        }
    }
    if (n_keep && write_section(keep, n_keep, blob, blob_len) != PARLEY_OK)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train stage 2: out of memory");
out:
    for (uint32_t g = 0; g < LID_MAX_GROUPS; g++) {
        parley__free(sp[g].keys);
        parley__free(sp[g].w);
        grows_release(&sp[g].tr);
    }
    parley__free(v);
    parley__free(conf);
    parley__free(grp);
    parley__free(pairs);
    parley__free(feat);
    return rc;
}
