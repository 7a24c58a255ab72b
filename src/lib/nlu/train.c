/* Training: a scan pass (labels, document frequencies, fingerprint), feature
 * selection into a compact table with idf weights, then multinomial
 * logistic regression by SGD over a bounded shuffle buffer, on several
 * threads lock-free (Hogwild). One thread and one seed give a bit-identical
 * model; memory does not grow with the number of rows. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "nlu/trainer.h"

#define MAX_THREADS 64

void parley_nlu_train_options_default(parley_nlu_train_options *o)
{
    memset(o, 0, sizeof(*o));
    parley_text_features_default(&o->features);
    o->norm_flags = PARLEY_TEXT_CASEFOLD;
    o->epochs = 40;
    o->lr = 1.0;
    o->l2 = 0.0;
    o->threads = 1;
    o->seed = 1;
    o->min_count = 1;
    o->buffer_entries = (size_t)1 << 23;
    o->progress_interval_s = 0.2;
    o->oos_max_loss = 0.0075;
    o->holdout = 0.1;
    o->dropout = 0.6;
}

/* ---- labels seen while scanning: a small string set ---- */

struct labelset {
    char **names;
    uint32_t n, cap; /* cap is a power of two */
    uint32_t *table; /* index + 1, 0 = empty */
};

static parley_err labelset_add(struct labelset *ls, const char *s, size_t len)
{
    uint32_t h, mask;

    if (2 * (ls->n + 1) > ls->cap) {
        uint32_t cap = ls->cap ? ls->cap * 2 : 64;
        uint32_t *tb = parley__calloc(cap, sizeof(uint32_t));
        char **nm = parley__realloc(ls->names, cap * sizeof(char *));
        if (!tb || !nm) {
            parley__free(tb);
            if (nm)
                ls->names = nm;
            return PARLEY_ERR_NOMEM;
        }
        ls->names = nm;
        for (uint32_t i = 0; i < ls->n; i++) {
            h = (uint32_t)parley_text_hash(nm[i], strlen(nm[i])) & (cap - 1);
            while (tb[h])
                h = (h + 1) & (cap - 1);
            tb[h] = i + 1;
        }
        parley__free(ls->table);
        ls->table = tb;
        ls->cap = cap;
    }
    mask = ls->cap - 1;
    h = (uint32_t)parley_text_hash(s, len) & mask;
    while (ls->table[h]) {
        const char *x = ls->names[ls->table[h] - 1];
        if (strlen(x) == len && memcmp(x, s, len) == 0)
            return PARLEY_OK;
        h = (h + 1) & mask;
    }
    if (ls->n >= NLU_MAX_LABELS)
        return PARLEY_ERR_LIMIT;
    if (!(ls->names[ls->n] = parley__strndup(s, len)))
        return PARLEY_ERR_NOMEM;
    ls->table[h] = ++ls->n;
    return PARLEY_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Fewer training rows than this: no holdout, everything trains. */
#define MIN_ROWS_FOR_HOLDOUT 200

int parley__trainer_held_out(const struct trainer *t, uint64_t ordinal)
{
    if (!t->use_holdout)
        return 0;
    uint64_t h = parley__hash_fmix64(ordinal * 0x9E3779B97F4A7C15ULL ^ t->o->seed);
    return (double)(h % 10000) < t->o->holdout * 10000.0;
}

int32_t parley__trainer_label(const struct trainer *t, const char *label)
{
    return parley__nlu_find_label((const char *const *)t->labels, t->n_labels, label);
}

/* ---- progress ---- */

struct progress {
    const parley_nlu_train_options *o;
    double start, last;
    atomic_int cancelled;
};

static int report(struct progress *p, const char *phase, unsigned epoch, double fraction,
                  double loss, double tokens, int force)
{
    double now = parley__now();
    parley_nlu_progress pr;

    if (!p->o->progress || (!force && now - p->last < p->o->progress_interval_s))
        return atomic_load(&p->cancelled);
    p->last = now;
    pr.phase = phase;
    pr.epoch = epoch;
    pr.epochs = p->o->epochs;
    pr.fraction = fraction;
    pr.elapsed_s = now - p->start;
    pr.eta_s = fraction > 0.01 ? pr.elapsed_s * (1.0 - fraction) / fraction : -1.0;
    pr.loss = loss;
    pr.tokens_per_s = pr.elapsed_s > 0 ? tokens / pr.elapsed_s : 0.0;
    if (p->o->progress(&pr, p->o->progress_userdata))
        atomic_store(&p->cancelled, 1);
    return atomic_load(&p->cancelled);
}

/* ---- pass 1: scan ---- */

static parley_err scan(struct trainer *t, parley_nlu_data *d, struct labelset *ls, uint32_t *df,
                       uint64_t *entries_upper, struct progress *pg, parley_error *err)
{
    parley_text_features feats = PARLEY_TEXT_FEATURES_INIT;
    struct parley_text_scratch sc = PARLEY_TEXT_SCRATCH_INIT;
    uint32_t *ids = NULL;
    size_t ids_cap = 0;
    uint64_t fp = 0x5041524C4559ULL;
    parley_nlu_example ex;
    parley_err rc;
    int has;

    *entries_upper = 0;
    t->rows = 0;
    t->rows_all = 0;
    if ((rc = parley_nlu_data_rewind(d, err)) != PARLEY_OK)
        goto out;
    for (;;) {
        if ((rc = parley_nlu_data_next(d, &ex, &has, err)) != PARLEY_OK || !has)
            goto out;
        /* Held-out rows share the vocabulary statistics (no labels are
         * involved) but are counted apart; see parley_nlu_train. */
        t->rows += !parley__trainer_held_out(t, t->rows_all);
        t->rows_all++;
        if ((rc = labelset_add(ls, ex.label, ex.label_len)) != PARLEY_OK) {
            rc = parley_error_set(err, rc,
                                  rc == PARLEY_ERR_LIMIT ? "%s:%zu: more than %u distinct labels"
                                                         : "%s:%zu: out of memory (%u)",
                                  parley_nlu_data_name(d), ex.line, NLU_MAX_LABELS);
            goto out;
        }
        fp = (fp ^ XXH64(ex.label, ex.label_len + 1, 0)) * 0x100000001b3ULL;
        fp = (fp ^ XXH64(ex.text, ex.text_len, 0)) * 0x100000001b3ULL;
        if ((rc = parley__text_normalize_into(&sc, ex.text, ex.text_len, t->o->norm_flags, err)) !=
            PARLEY_OK) {
            parley_error_prefix(err, "%s:%zu", parley_nlu_data_name(d), ex.line);
            goto out;
        }
        rc = parley_text_features_compute(&t->o->features, sc.out.data ? sc.out.data : "",
                                          sc.out.len, &feats);
        if (rc != PARLEY_OK) {
            rc = parley_error_set(err, rc, "cannot compute features: %s", parley_strerror(rc));
            goto out;
        }
        size_t n = feats.n_word + feats.n_char;
        if (n > ids_cap) {
            uint32_t *p = parley__realloc(ids, n * sizeof(uint32_t));
            if (!p) {
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot scan data: out of memory");
                goto out;
            }
            ids = p;
            ids_cap = n;
        }
        /* Count each distinct feature once per row: document frequency. */
        for (size_t i = 0; i < n; i++)
            ids[i] = feats.ids[i] | (i >= feats.n_word ? 1u << 31 : 0u);
        if (n)
            qsort(ids, n, sizeof(uint32_t), cmp_u32);
        for (size_t i = 0; i < n; i++) {
            if (i && ids[i] == ids[i - 1])
                continue;
            uint32_t key = ids[i];
            size_t slot = ((size_t)(key >> 31) << t->o->features.hash_bits) | (key & 0x7fffffffu);
            if (df[slot] < UINT32_MAX)
                df[slot]++;
            (*entries_upper)++;
        }
        if ((t->rows_all & 1023) == 0 && report(pg, "scan", 0, 0.0, 0.0, 0.0, 0)) {
            rc = parley_error_set(err, PARLEY_ERR_INVALID, "training cancelled");
            goto out;
        }
    }
out:
    t->fingerprint = fp;
    parley__free(ids);
    parley_text_features_release(&feats);
    parley__text_scratch_release(&sc);
    return rc;
}

/* ---- feature selection ---- */

static int cmp_u32_desc(const void *a, const void *b)
{
    return cmp_u32(b, a);
}

static parley_err select_features(struct trainer *t, const uint32_t *df, parley_error *err)
{
    size_t space = (size_t)2 << t->o->features.hash_bits;
    uint32_t min = t->o->min_count ? t->o->min_count : 1;
    uint32_t cutoff = min, n = 0, keep_at_cutoff = UINT32_MAX;
    size_t candidates = 0;

    for (size_t i = 0; i < space; i++)
        candidates += df[i] >= min;
    if (t->o->max_features && candidates > t->o->max_features) {
        uint32_t *v = parley__mallocarray(candidates, sizeof(uint32_t));
        size_t k = 0;
        if (!v)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot select features: out of memory");
        for (size_t i = 0; i < space; i++)
            if (df[i] >= min)
                v[k++] = df[i];
        qsort(v, k, sizeof(uint32_t), cmp_u32_desc);
        cutoff = v[t->o->max_features - 1];
        keep_at_cutoff = 0;
        for (size_t i = 0; i < t->o->max_features; i++)
            keep_at_cutoff += v[i] == cutoff;
        parley__free(v);
    }
    if (candidates == 0)
        return parley_error_set(err, PARLEY_ERR_EMPTY, "training data has no usable features");
    size_t rows = candidates < (t->o->max_features ? t->o->max_features : candidates)
                      ? candidates
                      : (t->o->max_features ? t->o->max_features : candidates);
    uint32_t slots = 1024;
    while (slots < rows * 2)
        slots *= 2;
    t->slots = parley__mallocarray(slots, sizeof(struct nlu_slot));
    t->idf = parley__mallocarray(rows, sizeof(float));
    if (!t->slots || !t->idf)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot select features: out of memory");
    memset(t->slots, 0xff, slots * sizeof(struct nlu_slot));
    t->slots_n = slots;
    for (size_t i = 0; i < space && n < rows; i++) {
        if (df[i] < cutoff)
            continue;
        if (df[i] == cutoff && keep_at_cutoff != UINT32_MAX) {
            if (keep_at_cutoff == 0)
                continue;
            keep_at_cutoff--;
        }
        uint32_t group = (uint32_t)(i >> t->o->features.hash_bits);
        uint32_t key =
            (group << 31) | (uint32_t)(i & (((size_t)1 << t->o->features.hash_bits) - 1));
        uint32_t s = parley__nlu_slot_start(key, slots - 1);
        while (t->slots[s].key != NLU_EMPTY_KEY)
            s = (s + 1) & (slots - 1);
        t->slots[s].key = key;
        t->slots[s].row = n;
        /* Smoothed idf, as if one extra row held every feature. */
        t->idf[n] = (float)(log((1.0 + (double)t->rows_all) / (1.0 + df[i])) + 1.0);
        n++;
    }
    t->fv.cfg = t->o->features;
    t->fv.norm_flags = t->o->norm_flags;
    t->fv.slots = t->slots;
    t->fv.mask = slots - 1;
    t->fv.idf = t->idf;
    t->fv.n_rows = n;
    return PARLEY_OK;
}

/* ---- the shuffle buffer ---- */

struct chunk {
    struct nlu_entry *entries;
    size_t n_entries, cap_entries;
    size_t *start; /* per example, into entries; start[n] = end */
    int32_t *label;
    uint32_t *perm;
    size_t n, cap;
    int complete; /* holds every row: no re-reading needed */
};

static parley_err chunk_push(struct chunk *c, const struct nlu_entry *e, size_t ne, int32_t label)
{
    if (c->n + 1 >= c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        size_t *st = parley__realloc(c->start, (cap + 1) * sizeof(size_t));
        if (!st)
            return PARLEY_ERR_NOMEM;
        c->start = st;
        int32_t *lb = parley__realloc(c->label, cap * sizeof(int32_t));
        if (!lb)
            return PARLEY_ERR_NOMEM;
        c->label = lb;
        uint32_t *pm = parley__realloc(c->perm, cap * sizeof(uint32_t));
        if (!pm)
            return PARLEY_ERR_NOMEM;
        c->perm = pm;
        c->cap = cap;
    }
    if (c->n_entries + ne > c->cap_entries) {
        size_t cap = c->cap_entries ? c->cap_entries : 65536;
        while (cap < c->n_entries + ne)
            cap *= 2;
        struct nlu_entry *p = parley__realloc(c->entries, cap * sizeof(*p));
        if (!p)
            return PARLEY_ERR_NOMEM;
        c->entries = p;
        c->cap_entries = cap;
    }
    c->start[c->n] = c->n_entries;
    memcpy(c->entries + c->n_entries, e, ne * sizeof(*e));
    c->n_entries += ne;
    c->label[c->n] = label;
    c->n++;
    c->start[c->n] = c->n_entries;
    return PARLEY_OK;
}

static void chunk_release(struct chunk *c)
{
    parley__free(c->entries);
    parley__free(c->start);
    parley__free(c->label);
    parley__free(c->perm);
    memset(c, 0, sizeof(*c));
}

/* Reads rows into the chunk until it holds `budget` entries or the data
 * ends (*eof = 1). Rows with no known feature teach nothing and are
 * dropped. */
static parley_err chunk_fill(struct trainer *t, struct nlu_vectorizer *v, parley_nlu_data *d,
                             struct chunk *c, size_t budget, uint64_t *ordinal, int *eof,
                             parley_error *err)
{
    parley_nlu_example ex;
    const struct nlu_entry *e;
    size_t ne;
    parley_err rc;
    int has;

    c->n = 0;
    c->n_entries = 0;
    *eof = 0;
    while (c->n_entries < budget) {
        if ((rc = parley_nlu_data_next(d, &ex, &has, err)) != PARLEY_OK)
            return rc;
        if (!has) {
            *eof = 1;
            return PARLEY_OK;
        }
        if (parley__trainer_held_out(t, (*ordinal)++))
            continue;
        if (parley__nlu_vectorize(v, &t->fv, ex.text, ex.text_len, &e, &ne, err) != PARLEY_OK)
            return parley_error_prefix(err, "%s:%zu", parley_nlu_data_name(d), ex.line);
        if (ne == 0)
            continue;
        int32_t label = parley__trainer_label(t, ex.label);
        if (label < 0)
            return parley_error_set(err, PARLEY_ERR_FORMAT,
                                    "%s:%zu: label changed between passes (is the file being "
                                    "written?)",
                                    parley_nlu_data_name(d), ex.line);
        if ((rc = chunk_push(c, e, ne, label)) != PARLEY_OK)
            return parley_error_set(err, rc, "cannot buffer training rows: out of memory");
    }
    return PARLEY_OK;
}

/* ---- SGD workers ---- */

struct job {
    struct trainer *t;
    const struct chunk *c;
    size_t from, to; /* range of c->perm */
    uint64_t base;   /* examples seen before this chunk, all threads */
    uint64_t total;  /* examples in the whole run */
    unsigned stride; /* threads */
    double loss;
    uint64_t done, tokens;
    struct progress *pg;
    unsigned epoch;
    int reporter;
};

static void *sgd_worker(void *arg)
{
    struct job *j = arg;
    struct trainer *t = j->t;
    const uint32_t C = t->n_labels;
    float *p = parley__mallocarray(C, sizeof(float));
    uint32_t *active = parley__mallocarray(C, sizeof(uint32_t));
    const double lr0 = t->o->lr;
    const float decay = (float)t->o->l2;
    const double keep_p = 1.0 - t->o->dropout;
    const float boost = (float)(1.0 / keep_p);
    struct nlu_entry *kept = NULL;
    size_t kept_cap = 0;
    struct parley_rng rng;

    parley__rng_seed(&rng, t->o->seed ^ (j->base * 0x9E3779B97F4A7C15ULL) ^ j->epoch);
    if (!p || !active) {
        atomic_store(&j->pg->cancelled, 2);
        goto out;
    }
    for (size_t i = j->from; i < j->to; i++) {
        uint32_t ex = j->c->perm[i];
        const struct nlu_entry *e = j->c->entries + j->c->start[ex];
        size_t ne = j->c->start[ex + 1] - j->c->start[ex];
        uint32_t y = (uint32_t)j->c->label[ex];
        double seen = (double)j->base + (double)(i - j->from) * j->stride;
        float lr = (float)(lr0 * (1.0 - seen / (double)j->total));
        uint32_t na = 0;

        if (lr < lr0 * 1e-4)
            lr = (float)(lr0 * 1e-4);
        if (keep_p < 1.0) {
            /* Feature dropout: each step sees a random part of the row,
             * rescaled, which regularizes like adaptive L2 and teaches the
             * model not to lean on any single n-gram. */
            if (ne > kept_cap) {
                struct nlu_entry *k = parley__realloc(kept, ne * sizeof(*k));
                if (!k) {
                    atomic_store(&j->pg->cancelled, 2);
                    break;
                }
                kept = k;
                kept_cap = ne;
            }
            size_t nk = 0;
            for (size_t f = 0; f < ne; f++) {
                if (parley__rng_unit(&rng) < keep_p) {
                    kept[nk].row = e[f].row;
                    kept[nk].value = e[f].value * boost;
                    nk++;
                }
            }
            e = kept;
            ne = nk;
        }
        parley__nlu_scores(t->w, t->bias, C, e, ne, p);
        parley__nlu_softmax(p, C, 1.0f);
        j->loss += -log((double)p[y] + 1e-12);
        /* Gradient p - onehot(y); classes with a negligible gradient are
         * skipped, which makes late epochs cheap. */
        p[y] -= 1.0f;
        for (uint32_t k = 0; k < C; k++) {
            if (fabsf(p[k]) > 1e-4f)
                active[na++] = k;
        }
        for (uint32_t a = 0; a < na; a++)
            t->bias[active[a]] -= lr * p[active[a]];
        for (size_t f = 0; f < ne; f++) {
            float *w = t->w + (size_t)e[f].row * C;
            float g = lr * e[f].value;
            if (decay > 0.0f) {
                float keep = 1.0f - lr * decay;
                for (uint32_t k = 0; k < C; k++)
                    w[k] *= keep;
            }
            for (uint32_t a = 0; a < na; a++)
                w[active[a]] -= g * p[active[a]];
        }
        j->done++;
        j->tokens += ne;
        if (j->reporter && (j->done & 255) == 0) {
            double frac = 0.05 + 0.9 * (seen / (double)j->total);
            if (report(j->pg, "train", j->epoch, frac, j->loss / (double)j->done,
                       (double)j->tokens * j->stride, 0))
                break;
        } else if ((j->done & 1023) == 0 && atomic_load(&j->pg->cancelled)) {
            break;
        }
    }
out:
    parley__free(p);
    parley__free(active);
    parley__free(kept);
    return NULL;
}

static parley_err run_chunk(struct trainer *t, struct chunk *c, struct progress *pg, unsigned epoch,
                            uint64_t base, uint64_t total, struct parley_rng *rng, double *loss,
                            uint64_t *tokens, parley_error *err)
{
    unsigned nt = t->o->threads ? t->o->threads : 1;
    struct job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    unsigned started = 1;

    if (nt > MAX_THREADS)
        nt = MAX_THREADS;
    if (nt > c->n)
        nt = c->n ? (unsigned)c->n : 1;
    for (size_t i = 0; i < c->n; i++)
        c->perm[i] = (uint32_t)i;
    for (size_t i = c->n; i > 1; i--) {
        size_t k = (size_t)parley__rng_below(rng, i);
        uint32_t tmp = c->perm[i - 1];
        c->perm[i - 1] = c->perm[k];
        c->perm[k] = tmp;
    }
    for (unsigned i = 0; i < nt; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].t = t;
        jobs[i].c = c;
        jobs[i].from = c->n * i / nt;
        jobs[i].to = c->n * (i + 1) / nt;
        jobs[i].base = base + i;
        jobs[i].total = total;
        jobs[i].stride = nt;
        jobs[i].pg = pg;
        jobs[i].epoch = epoch;
        jobs[i].reporter = i == 0;
    }
    for (unsigned i = 1; i < nt; i++) {
        if (pthread_create(&th[i], NULL, sgd_worker, &jobs[i]) != 0)
            break;
        started++;
    }
    /* Threads that failed to start: their share runs here, in order. */
    for (unsigned i = started; i < nt; i++)
        jobs[0].to = jobs[i].to;
    sgd_worker(&jobs[0]);
    for (unsigned i = 1; i < started; i++)
        (void)pthread_join(th[i], NULL);
    for (unsigned i = 0; i < nt && i < started; i++) {
        *loss += jobs[i].loss;
        *tokens += jobs[i].tokens;
    }
    if (atomic_load(&pg->cancelled) == 2)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory");
    if (atomic_load(&pg->cancelled))
        return parley_error_set(err, PARLEY_ERR_INVALID, "training cancelled");
    return PARLEY_OK;
}

static parley_err sgd(struct trainer *t, parley_nlu_data *d, struct progress *pg,
                      uint64_t entries_upper, parley_error *err)
{
    struct nlu_vectorizer v;
    struct chunk c;
    struct parley_rng rng;
    uint64_t total = (uint64_t)t->rows * t->o->epochs, seen = 0, tokens = 0, ordinal = 0;
    size_t budget = t->o->buffer_entries ? t->o->buffer_entries : ((size_t)1 << 23);
    parley_err rc = PARLEY_OK;
    int eof = 0;

    memset(&c, 0, sizeof(c));
    parley__nlu_vectorizer_init(&v);
    parley__rng_seed(&rng, t->o->seed);
    if (entries_upper <= budget)
        budget = (size_t)entries_upper + 1; /* the whole set fits: read it once */
    for (unsigned epoch = 1; epoch <= t->o->epochs; epoch++) {
        double loss = 0.0;
        uint64_t n_epoch = 0;
        if (!c.complete && (rc = parley_nlu_data_rewind(d, err)) != PARLEY_OK)
            goto out;
        ordinal = 0;
        do {
            if (!c.complete) {
                if ((rc = chunk_fill(t, &v, d, &c, budget, &ordinal, &eof, err)) != PARLEY_OK)
                    goto out;
                if (epoch == 1 && eof && n_epoch == 0)
                    c.complete = 1;
            }
            rc = run_chunk(t, &c, pg, epoch, seen, total ? total : 1, &rng, &loss, &tokens, err);
            if (rc != PARLEY_OK)
                goto out;
            seen += c.n;
            n_epoch += c.n;
        } while (!c.complete && !eof);
        if (n_epoch == 0) {
            rc = parley_error_set(err, PARLEY_ERR_EMPTY, "no training row has a usable feature");
            goto out;
        }
        report(pg, "train", epoch, 0.05 + 0.9 * ((double)seen / (double)(total ? total : 1)),
               loss / (double)n_epoch, (double)tokens, 1);
    }
out:
    chunk_release(&c);
    parley__nlu_vectorizer_release(&v);
    return rc;
}

/* ---- the whole run ---- */

static void trainer_release(struct trainer *t)
{
    for (uint32_t i = 0; i < t->n_labels; i++)
        parley__free(t->labels[i]);
    parley__free(t->labels);
    parley__free(t->oos_decision);
    parley__free(t->slots);
    parley__free(t->idf);
    parley__free(t->w);
    parley__free(t->bias);
    parley__free(t->q);
    parley__free(t->qscale);
}

parley_err parley_nlu_train(const parley_nlu_train_options *o, parley_nlu_data *train,
                            parley_nlu_data *valid, parley_nlu_model **out, parley_error *err)
{
    struct trainer t;
    struct labelset ls = {NULL, 0, 0, NULL};
    struct progress pg;
    uint32_t *df = NULL;
    uint64_t entries_upper = 0;
    parley_err rc;

    memset(&t, 0, sizeof(t));
    memset(&pg, 0, sizeof(pg));
    t.o = o;
    t.oos_index = -1;
    t.t0 = pg.start = parley__now();
    pg.o = o;
    atomic_init(&pg.cancelled, 0);
    if ((rc = parley_text_features_check(&o->features, err)) != PARLEY_OK)
        goto out;
    if (o->features.hash_bits > 24) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "training supports at most 24 hash bits, not %u",
                              o->features.hash_bits);
        goto out;
    }
    if (o->epochs < 1 || o->epochs > 10000 || !(o->lr > 0.0 && o->lr <= 100.0) ||
        !(o->l2 >= 0.0 && o->l2 < 1.0) || !(o->holdout >= 0.0 && o->holdout <= 0.5) ||
        !(o->dropout >= 0.0 && o->dropout <= 0.9) ||
        !(o->oos_max_loss >= 0.0 && o->oos_max_loss <= 1.0) || o->threads > MAX_THREADS) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "epochs must be 1..10000, lr in (0, 100], l2 in [0, 1), "
                              "oos max loss in [0, 1], holdout in [0, 0.5], dropout in [0, 0.9], "
                              "threads at most %d",
                              MAX_THREADS);
        goto out;
    }
    df = parley__calloc((size_t)2 << o->features.hash_bits, sizeof(uint32_t));
    if (!df) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory");
        goto out;
    }
    report(&pg, "scan", 0, 0.0, 0.0, 0.0, 1);
    /* Without validation data, a slice of the training rows is held out
     * to calibrate on, unless the data is too small to spare it. */
    t.use_holdout = !valid && o->holdout > 0.0;
    if ((rc = scan(&t, train, &ls, df, &entries_upper, &pg, err)) != PARLEY_OK)
        goto out;
    if (t.use_holdout && (t.rows_all < MIN_ROWS_FOR_HOLDOUT || t.rows == 0)) {
        t.use_holdout = 0;
        t.rows = t.rows_all;
    }
    if (t.rows_all == 0) {
        rc = parley_error_set(err, PARLEY_ERR_EMPTY, "'%s' has no training rows",
                              parley_nlu_data_name(train));
        goto out;
    }
    if (ls.n < 2) {
        rc = parley_error_set(err, PARLEY_ERR_EMPTY,
                              "'%s' has only one label; training needs at least two",
                              parley_nlu_data_name(train));
        goto out;
    }
    qsort(ls.names, ls.n, sizeof(char *), cmp_str);
    t.labels = ls.names;
    t.n_labels = ls.n;
    ls.names = NULL;
    ls.n = 0;
    if (o->oos_label)
        t.oos_index = parley__trainer_label(&t, o->oos_label);
    else if ((t.oos_index = parley__trainer_label(&t, "oos")) < 0)
        t.oos_index = parley__trainer_label(&t, "out_of_scope");
    if ((rc = select_features(&t, df, err)) != PARLEY_OK)
        goto out;
    parley__free(df);
    df = NULL;
    t.w = parley__calloc((size_t)t.fv.n_rows * t.n_labels, sizeof(float));
    t.bias = parley__calloc(t.n_labels, sizeof(float));
    if (!t.w || !t.bias) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM,
                              "cannot allocate %u x %u weights: out of memory", t.fv.n_rows,
                              t.n_labels);
        goto out;
    }
    if ((rc = sgd(&t, train, &pg, entries_upper, err)) != PARLEY_OK)
        goto out;
    /* Calibrate what prediction will compute: the quantized weights. */
    t.q = parley__malloc((size_t)t.fv.n_rows * NLU_STRIDE(t.n_labels));
    t.qscale = parley__mallocarray(t.fv.n_rows, sizeof(float));
    if (!t.q || !t.qscale) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot quantize weights: out of memory");
        goto out;
    }
    parley__nlu_quantize(t.w, t.fv.n_rows, t.n_labels, t.q, t.qscale);
    report(&pg, "calibrate", o->epochs, 0.96, 0.0, 0.0, 1);
    if ((rc = parley__trainer_calibrate(&t, train, valid, err)) != PARLEY_OK)
        goto out;
    rc = parley__trainer_build(&t, out, err);
    report(&pg, "done", o->epochs, 1.0, 0.0, 0.0, 1);
out:
    for (uint32_t i = 0; i < ls.n; i++)
        parley__free(ls.names[i]);
    parley__free(ls.names);
    parley__free(ls.table);
    parley__free(df);
    trainer_release(&t);
    return rc;
}
