/* Training the language identifier: reads labeled rows into hashed
 * features, fits a softmax-linear model by SGD over shuffled rows
 * (lock-free across threads), fits the temperature on validation or a
 * holdout, and builds the quantized model image. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/internal.h"
#include "nlu/langid_internal.h"

#define MAX_THREADS 64

/* Language codes seen so far, with an open-addressing index. */
struct labelset {
    char **names;
    uint32_t n;
    uint32_t table[4 * PARLEY_LANGID_MAX_LANGUAGES]; /* index + 1, 0 = empty */
};

/* Rows as feature lists: row i is feat[off[i] .. off[i + 1]), its first
 * nchar[i] entries character n-grams, the rest words. */
struct rows {
    uint32_t *feat;
    size_t nfeat, cap_feat;
    size_t *off;
    uint32_t *label, *nchar;
    size_t n, cap;
};

static void rows_release(struct rows *r)
{
    parley__free(r->feat);
    parley__free(r->off);
    parley__free(r->label);
    parley__free(r->nchar);
    memset(r, 0, sizeof(*r));
}

static void labels_release(struct labelset *ls)
{
    for (uint32_t i = 0; i < ls->n; i++)
        parley__free(ls->names[i]);
    parley__free((void *)ls->names);
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Finds (or with `add`, adds) a code; returns its index, -1 when absent,
 * -2 when full, -3 out of memory. */
static int32_t label_find(struct labelset *ls, const char *code, int add)
{
    const uint32_t mask = 4 * PARLEY_LANGID_MAX_LANGUAGES - 1;
    uint32_t at = name_hash(code) & mask;
    while (ls->table[at]) {
        if (strcmp(ls->names[ls->table[at] - 1], code) == 0)
            return (int32_t)ls->table[at] - 1;
        at = (at + 1) & mask;
    }
    if (!add)
        return -1;
    if (ls->n >= PARLEY_LANGID_MAX_LANGUAGES)
        return -2;
    if (ls->n % 64 == 0) {
        char **nn = parley__realloc((void *)ls->names, (ls->n + 64) * sizeof(char *));
        if (!nn)
            return -3;
        ls->names = nn;
    }
    if (!(ls->names[ls->n] = parley__strdup(code)))
        return -3;
    ls->table[at] = ++ls->n;
    return (int32_t)ls->n - 1;
}

static int code_ok(const char *s, size_t len)
{
    if (len == 0 || len > LID_MAX_LABEL)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* Appends one row's features; grows the arrays. */
static parley_err rows_add(struct rows *r, const uint32_t *feat, size_t nc, size_t nw,
                           uint32_t label)
{
    size_t nf = nc + nw;
    if (r->n + 2 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        size_t *off = parley__realloc(r->off, cap * sizeof(*off));
        if (!off)
            return PARLEY_ERR_NOMEM;
        r->off = off;
        uint32_t *lab = parley__realloc(r->label, cap * sizeof(*lab));
        if (!lab)
            return PARLEY_ERR_NOMEM;
        r->label = lab;
        uint32_t *nch = parley__realloc(r->nchar, cap * sizeof(*nch));
        if (!nch)
            return PARLEY_ERR_NOMEM;
        r->nchar = nch;
        r->cap = cap;
    }
    if (r->nfeat + nf > r->cap_feat) {
        size_t cap = r->cap_feat ? r->cap_feat * 2 : 65536;
        while (cap < r->nfeat + nf)
            cap *= 2;
        uint32_t *f = parley__realloc(r->feat, cap * sizeof(*f));
        if (!f)
            return PARLEY_ERR_NOMEM;
        r->feat = f;
        r->cap_feat = cap;
    }
    if (r->n == 0)
        r->off[0] = 0;
    memcpy(r->feat + r->nfeat, feat, nf * sizeof(*feat));
    r->nfeat += nf;
    r->nchar[r->n] = (uint32_t)nc;
    r->label[r->n++] = label;
    r->off[r->n] = r->nfeat;
    return PARLEY_OK;
}

/* Appends every row of `src` to `dst` (the final refit on training and
 * validation rows). */
static parley_err rows_append(struct rows *dst, const struct rows *src)
{
    parley_err rc = PARLEY_OK;
    for (size_t i = 0; i < src->n && rc == PARLEY_OK; i++) {
        size_t nf = src->off[i + 1] - src->off[i];
        rc = rows_add(dst, src->feat + src->off[i], src->nchar[i], nf - src->nchar[i],
                      src->label[i]);
    }
    return rc;
}

/* Reads every row of `d`. With `add`, new codes join `ls`; without, rows
 * of unknown codes are skipped. Rows without features are skipped. */
static parley_err read_rows(const struct lid_cfg *cfg, parley_nlu_data *d, struct labelset *ls,
                            int add, struct rows *r, parley_error *err)
{
    uint32_t *feat = parley__mallocarray(LID_MAX_FEATURES, sizeof(uint32_t));
    parley_nlu_example ex;
    parley_err rc;
    int has = 0;

    if (!feat)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory");
    if ((rc = parley_nlu_data_rewind(d, err)) != PARLEY_OK)
        goto out;
    while ((rc = parley_nlu_data_next(d, &ex, &has, err)) == PARLEY_OK && has) {
        size_t nc = 0, nw = 0, bad = 0;
        if (!code_ok(ex.label, ex.label_len)) {
            rc = parley_error_set(err, PARLEY_ERR_FORMAT,
                                  "%s:%zu: language code '%.40s' is not 1-%u printable ASCII "
                                  "characters without spaces",
                                  parley_nlu_data_name(d), ex.line, ex.label, LID_MAX_LABEL);
            goto out;
        }
        int32_t li = label_find(ls, ex.label, add);
        if (li == -1)
            continue;
        if (li == -2) {
            rc = parley_error_set(err, PARLEY_ERR_LIMIT, "%s:%zu: more than %d languages",
                                  parley_nlu_data_name(d), ex.line, PARLEY_LANGID_MAX_LANGUAGES);
            goto out;
        }
        if (li < 0 || parley__lid_features(cfg, ex.text, ex.text_len, feat, &nc, &nw, &bad) ==
                          PARLEY_ERR_UTF8) {
            rc = li < 0 ? parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory")
                        : parley_error_set(err, PARLEY_ERR_UTF8, "%s:%zu: invalid UTF-8",
                                           parley_nlu_data_name(d), ex.line);
            goto out;
        }
        if (nc + nw > 0 && rows_add(r, feat, nc, nw, (uint32_t)li) != PARLEY_OK) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory");
            goto out;
        }
    }
out:
    parley__free(feat);
    return rc;
}

/* The model being fitted and one thread's share of an epoch. */
struct fit {
    const struct rows *r;
    float *w, *bias; /* w[rows][nl] */
    uint32_t nl;
    const size_t *order;
    size_t n_order;
    double lr0, dropout;
    uint64_t seed;
    size_t total_steps; /* rows x epochs */
};

struct job {
    struct fit *f;
    size_t begin, end, step; /* rows of order[], global step of the first */
    double loss;
};

static void *sgd_worker(void *arg)
{
    struct job *j = arg;
    const struct fit *f = j->f;
    const uint32_t nl = f->nl;
    float s[PARLEY_LANGID_MAX_LANGUAGES], sw[PARLEY_LANGID_MAX_LANGUAGES];
    uint32_t kept_feat[LID_MAX_FEATURES];
    uint64_t rs = (j->step + 1) * 0x9E3779B97F4A7C15ull ^ f->seed;
    const uint64_t drop = (uint64_t)(f->dropout * 0x1.0p64 * (1.0 - 0x1.0p-53));

    j->loss = 0.0;
    for (size_t k = j->begin; k < j->end; k++) {
        size_t row = f->order[k];
        const uint32_t *ft = f->r->feat + f->r->off[row];
        size_t nf = f->r->off[row + 1] - f->r->off[row], nc = f->r->nchar[row];
        uint32_t y = f->r->label[row];
        double done = (double)(j->step + (k - j->begin)) / (double)f->total_steps;
        float lr = (float)(f->lr0 * (1.0 - done));

        memset(s, 0, nl * sizeof(float));
        memset(sw, 0, nl * sizeof(float));
        /* Dropout: each step sees a random share of the row's features,
         * so no language leans on a few of them. */
        size_t kept = 0, kept_char = 0;
        for (size_t i = 0; i < nf; i++) {
            rs = rs * 6364136223846793005ull + 1442695040888963407ull;
            if (rs >= drop) {
                kept_feat[kept++] = ft[i];
                kept_char += i < nc;
            }
        }
        if (kept == 0)
            continue;
        ft = kept_feat;
        nf = kept;
        nc = kept_char;
        float inv = nc ? 1.0f / sqrtf((float)nc) : 0.0f;
        float invw = nf > nc ? 1.0f / sqrtf((float)(nf - nc)) : 0.0f;
        for (size_t i = 0; i < nc; i++) {
            const float *wr = f->w + (size_t)ft[i] * nl;
            for (uint32_t c = 0; c < nl; c++)
                s[c] += wr[c];
        }
        for (size_t i = nc; i < nf; i++) {
            const float *wr = f->w + (size_t)ft[i] * nl;
            for (uint32_t c = 0; c < nl; c++)
                sw[c] += wr[c];
        }
        for (uint32_t c = 0; c < nl; c++)
            s[c] = f->bias[c] + inv * s[c] + invw * sw[c];
        (void)parley__nlu_softmax(s, nl, 1.0f);
        j->loss -= log(s[y] > 1e-30f ? (double)s[y] : 1e-30);
        s[y] -= 1.0f;
        for (uint32_t c = 0; c < nl; c++) {
            s[c] *= lr;
            f->bias[c] -= s[c];
            sw[c] = s[c] * invw;
            s[c] *= inv;
        }
        for (size_t i = 0; i < nf; i++) {
            float *wr = f->w + (size_t)ft[i] * nl;
            const float *g = i < nc ? s : sw;
            for (uint32_t c = 0; c < nl; c++)
                wr[c] -= g[c];
        }
    }
    return NULL;
}

struct prog {
    const parley_langid_options *o;
    double t0;
};

static int report(const struct prog *pg, const char *phase, unsigned epoch, unsigned epochs,
                  double fraction, double loss)
{
    parley_nlu_progress p;
    if (!pg->o->progress)
        return 0;
    memset(&p, 0, sizeof(p));
    p.phase = phase;
    p.epoch = epoch;
    p.epochs = epochs;
    p.fraction = fraction;
    p.elapsed_s = parley__now() - pg->t0;
    p.eta_s = fraction > 0.01 ? p.elapsed_s * (1.0 - fraction) / fraction : -1.0;
    p.loss = loss;
    return pg->o->progress(&p, pg->o->progress_userdata);
}

/* Fits w and bias (zeroed here) on the rows listed in order[0..n). */
static parley_err fit_weights(const parley_langid_options *o, const struct rows *r, size_t *order,
                              size_t n, float *w, float *bias, uint32_t nl, size_t n_rows_w,
                              const struct prog *pg, parley_error *err)
{
    struct fit f = {r, w, bias, nl, order, n, o->lr, o->dropout, o->seed, n * o->epochs};
    struct job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    struct parley_rng rng;
    unsigned nt = o->threads < 1 ? 1 : o->threads;

    nt = nt > MAX_THREADS ? MAX_THREADS : nt;
    if (n < nt * 64)
        nt = 1;
    memset(w, 0, n_rows_w * nl * sizeof(float));
    memset(bias, 0, nl * sizeof(float));
    parley__rng_seed(&rng, o->seed);
    for (unsigned e = 0; e < o->epochs; e++) {
        double loss = 0.0;
        unsigned started = 0;
        for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
            size_t k = (size_t)parley__rng_below(&rng, i);
            size_t t = order[i - 1];
            order[i - 1] = order[k];
            order[k] = t;
        }
        for (unsigned t = 0; t < nt; t++) {
            jobs[t].f = &f;
            jobs[t].begin = n * t / nt;
            jobs[t].end = n * (t + 1) / nt;
            jobs[t].step = (size_t)e * n + jobs[t].begin;
        }
        for (unsigned t = 1; t < nt; t++) {
            if (pthread_create(&th[t], NULL, sgd_worker, &jobs[t]) != 0)
                break;
            started = t;
        }
        (void)sgd_worker(&jobs[0]);
        for (unsigned t = 1; t <= started; t++)
            (void)pthread_join(th[t], NULL);
        for (unsigned t = started + 1; t < nt; t++) /* threads that did not start */
            (void)sgd_worker(&jobs[t]);
        for (unsigned t = 0; t < nt; t++)
            loss += jobs[t].loss;
        if (report(pg, "train", e + 1, o->epochs, 0.05 + 0.9 * (e + 1) / o->epochs,
                   loss / (double)n))
            return parley_error_set(err, PARLEY_ERR_INVALID, "training cancelled");
    }
    return PARLEY_OK;
}

/* Negative log-likelihood of labels under softmax(scores / t). */
static double nll(const float *scores, const uint32_t *label, size_t n, uint32_t nl, double t)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float *s = scores + i * nl;
        double max = s[0], z = 0.0;
        for (uint32_t c = 1; c < nl; c++)
            max = s[c] > max ? s[c] : max;
        for (uint32_t c = 0; c < nl; c++)
            z += exp((s[c] - max) / t);
        sum += log(z) - (s[label[i]] - max) / t;
    }
    return sum;
}

/* Temperature minimizing the NLL of rows list[0..n) (golden section over
 * log t in [0.05, 20]); 1 without rows. */
static parley_err fit_temperature(const parley_langid *m, const struct rows *r, const size_t *list,
                                  size_t n, float *t_out, parley_error *err)
{
    const uint32_t nl = m->n_labels;
    float *scores;
    uint32_t *label;
    double lo = log(0.05), hi = log(20.0), g = 0.6180339887;

    *t_out = 1.0f;
    if (n == 0)
        return PARLEY_OK;
    scores = parley__mallocarray(n, nl * sizeof(float));
    label = parley__mallocarray(n, sizeof(uint32_t));
    if (!scores || !label) {
        parley__free(scores);
        parley__free(label);
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot calibrate: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        size_t row = list ? list[i] : i;
        float tmp[PARLEY_LANGID_MAX_LANGUAGES];
        parley__lid_scores(m, r->feat + r->off[row], r->nchar[row],
                           r->off[row + 1] - r->off[row] - r->nchar[row], tmp);
        memcpy(scores + i * nl, tmp, nl * sizeof(float));
        label[i] = r->label[row];
    }
    double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
    double fa = nll(scores, label, n, nl, exp(a)), fb = nll(scores, label, n, nl, exp(b));
    for (int it = 0; it < 40; it++) {
        if (fa < fb) {
            hi = b;
            b = a;
            fb = fa;
            a = hi - g * (hi - lo);
            fa = nll(scores, label, n, nl, exp(a));
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + g * (hi - lo);
            fb = nll(scores, label, n, nl, exp(b));
        }
    }
    *t_out = (float)exp((lo + hi) / 2);
    parley__free(scores);
    parley__free(label);
    return PARLEY_OK;
}

void parley_langid_options_default(parley_langid_options *o)
{
    memset(o, 0, sizeof(*o));
    o->threads = 1;
    o->epochs = 40;
    o->lr = 2.0;
    o->dropout = 0.8;
    o->char_min = 1;
    o->char_max = 5;
    o->word_ngrams = 1;
    o->hash_bits = 17;
    o->seed = 1;
    o->holdout = 0.1;
    o->progress_interval_s = 0.2;
    o->groups = 16;
    o->group_min = 2;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the codes and renumbers the labels of both row sets to match. */
static parley_err sort_labels(struct labelset *ls, struct rows *r, struct rows *r2)
{
    uint32_t *map = parley__mallocarray(ls->n, sizeof(uint32_t));
    char **sorted = parley__mallocarray(ls->n, sizeof(char *));
    if (!map || !sorted) {
        parley__free(map);
        parley__free((void *)sorted);
        return PARLEY_ERR_NOMEM;
    }
    memcpy((void *)sorted, (void *)ls->names, ls->n * sizeof(char *));
    qsort((void *)sorted, ls->n, sizeof(char *), cmp_names);
    for (uint32_t i = 0; i < ls->n; i++) {
        char **at = bsearch(&ls->names[i], (void *)sorted, ls->n, sizeof(char *), cmp_names);
        map[i] = (uint32_t)(at - sorted);
    }
    for (size_t i = 0; i < r->n; i++)
        r->label[i] = map[r->label[i]];
    for (size_t i = 0; i < r2->n; i++)
        r2->label[i] = map[r2->label[i]];
    parley__free((void *)ls->names);
    ls->names = sorted;
    parley__free(map);
    return PARLEY_OK;
}

/* The final refit: the weights train again on training and validation
 * rows together (on Tatoeba, with a few hundred sentences per language,
 * 11% more training rows were worth about 0.3% accuracy); the temperature
 * and the stage-2 section (whose specialists were refitted the same way)
 * are kept. Replaces *m. */
static parley_err refit(const parley_langid_options *o, const struct lid_cfg *cfg,
                        const struct labelset *ls, struct rows *tr, const struct rows *va,
                        float temperature, const unsigned char *blob, size_t blob_len,
                        const struct prog *pg, parley_langid **m, parley_error *err)
{
    size_t n_rows_w = (size_t)1 << cfg->hash_bits;
    float *w = parley__mallocarray(n_rows_w, ls->n * sizeof(float)),
          bias[PARLEY_LANGID_MAX_LANGUAGES];
    size_t *order = NULL;
    parley_err rc = PARLEY_OK;

    if (!w || rows_append(tr, va) != PARLEY_OK ||
        !(order = parley__mallocarray(tr->n, sizeof(size_t)))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory");
        goto out;
    }
    for (size_t i = 0; i < tr->n; i++)
        order[i] = i;
    if ((rc = fit_weights(o, tr, order, tr->n, w, bias, ls->n, n_rows_w, pg, err)) != PARLEY_OK)
        goto out;
    parley_langid_free(*m);
    *m = NULL;
    rc = parley__lid_build(cfg, (const char *const *)ls->names, ls->n, w, bias, temperature, tr->n,
                           blob, blob_len, m, err);
out:
    parley__free(w);
    parley__free(order);
    return rc;
}

parley_err parley_langid_train(const parley_langid_options *o, parley_nlu_data *train,
                               parley_nlu_data *valid, parley_langid **out, parley_error *err)
{
    struct labelset *ls = NULL;
    struct rows tr = {0}, va = {0};
    struct lid_cfg cfg;
    struct prog pg = {o, parley__now()};
    float *w = NULL, bias[PARLEY_LANGID_MAX_LANGUAGES], temperature = 1.0f;
    size_t *order = NULL, *held = NULL, n_order = 0, n_held = 0, n_rows_w;
    parley_langid *m = NULL;
    parley_err rc;

    if (!o || !train || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot train: missing argument");
    cfg.char_min = o->char_min;
    cfg.char_max = o->char_max;
    cfg.word_ngrams = o->word_ngrams;
    cfg.hash_bits = o->hash_bits;
    if (parley__lid_cfg_bad(&cfg))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "bad language model settings: character n-grams %u-%u (1-%u), "
                                "word n-grams %u (0-2), hash bits %u (%u-%u)",
                                cfg.char_min, cfg.char_max, LID_MAX_ORDER, cfg.word_ngrams,
                                cfg.hash_bits, LID_MIN_BITS, LID_MAX_BITS);
    if (o->epochs < 1 || o->epochs > 1000 || !(o->lr > 0.0 && o->lr <= 100.0) ||
        !(o->holdout >= 0.0 && o->holdout <= 0.5) || !(o->dropout >= 0.0 && o->dropout <= 0.9) ||
        o->threads > MAX_THREADS || o->groups > LID_MAX_GROUPS)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "bad training options: epochs %u (1-1000), learning rate %g "
                                "(0-100], holdout %g (0-0.5), dropout %g (0-0.9), threads %u "
                                "(0-%d), groups %u (0-%u)",
                                o->epochs, o->lr, o->holdout, o->dropout, o->threads, MAX_THREADS,
                                o->groups, LID_MAX_GROUPS);
    if (!(ls = parley__calloc(1, sizeof(*ls))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory");
    (void)report(&pg, "read", 0, o->epochs, 0.0, 0.0);
    if ((rc = read_rows(&cfg, train, ls, 1, &tr, err)) != PARLEY_OK)
        goto out;
    if (tr.n == 0 || ls->n == 0) {
        rc = parley_error_set(err, PARLEY_ERR_EMPTY, "no training rows with text in '%s'",
                              parley_nlu_data_name(train));
        goto out;
    }
    if (valid && (rc = read_rows(&cfg, valid, ls, 0, &va, err)) != PARLEY_OK)
        goto out;
    if (sort_labels(ls, &tr, &va) != PARLEY_OK) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory");
        goto out;
    }
    n_rows_w = (size_t)1 << cfg.hash_bits;
    w = parley__mallocarray(n_rows_w, ls->n * sizeof(float));
    order = parley__mallocarray(tr.n, sizeof(size_t));
    held = parley__mallocarray(tr.n, sizeof(size_t));
    if (!w || !order || !held) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot train: out of memory");
        goto out;
    }
    /* Without validation, a holdout chosen by a hash of the row number
     * fits the temperature; the final weights then train on every row. */
    int use_holdout = !valid && o->holdout > 0.0 && tr.n >= 200;
    for (size_t i = 0; i < tr.n; i++) {
        uint64_t h = ((uint64_t)i + 1) * 0x9E3779B97F4A7C15ull ^ o->seed * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
        h *= 0x94D049BB133111EBull;
        h ^= h >> 29;
        if (use_holdout && (double)(h >> 11) * 0x1.0p-53 < o->holdout)
            held[n_held++] = i;
        else
            order[n_order++] = i;
    }
    if (use_holdout && n_held > 0) {
        rc = fit_weights(o, &tr, order, n_order, w, bias, ls->n, n_rows_w, &pg, err);
        if (rc == PARLEY_OK)
            rc = parley__lid_build(&cfg, (const char *const *)ls->names, ls->n, w, bias, 1.0f,
                                   n_order, NULL, 0, &m, err);
        if (rc == PARLEY_OK)
            rc = fit_temperature(m, &tr, held, n_held, &temperature, err);
        parley_langid_free(m);
        m = NULL;
        if (rc != PARLEY_OK)
            goto out;
        for (size_t i = 0; i < tr.n; i++)
            order[i] = i;
        n_order = tr.n;
    }
    if ((rc = fit_weights(o, &tr, order, n_order, w, bias, ls->n, n_rows_w, &pg, err)) != PARLEY_OK)
        goto out;
    (void)report(&pg, "calibrate", o->epochs, o->epochs, 0.97, 0.0);
    if (valid && va.n > 0) {
        rc = parley__lid_build(&cfg, (const char *const *)ls->names, ls->n, w, bias, 1.0f, tr.n,
                               NULL, 0, &m, err);
        if (rc == PARLEY_OK)
            rc = fit_temperature(m, &va, NULL, va.n, &temperature, err);
        parley_langid_free(m);
        m = NULL;
        if (rc != PARLEY_OK)
            goto out;
    }
    rc = parley__lid_build(&cfg, (const char *const *)ls->names, ls->n, w, bias, temperature, tr.n,
                           NULL, 0, &m, err);
    /* Stage 2: specialists for the groups stage 1 confuses on validation;
     * the model is rebuilt with their section. */
    if (rc == PARLEY_OK && valid && va.n > 0 && o->groups > 0) {
        unsigned char *blob = NULL;
        size_t blob_len = 0;
        (void)report(&pg, "stage2", o->epochs, o->epochs, 0.98, 0.0);
        rc = parley__lid_s2_train(o, m, train, valid, &blob, &blob_len, err);
        if (rc == PARLEY_OK && blob && !o->refit) {
            parley_langid_free(m);
            m = NULL;
            rc = parley__lid_build(&cfg, (const char *const *)ls->names, ls->n, w, bias,
                                   temperature, tr.n, blob, blob_len, &m, err);
        }
        if (rc == PARLEY_OK && o->refit)
            rc = refit(o, &cfg, ls, &tr, &va, temperature, blob, blob_len, &pg, &m, err);
        parley__free(blob);
        if (rc != PARLEY_OK) {
            parley_langid_free(m);
            m = NULL;
        }
    } else if (rc == PARLEY_OK && valid && va.n > 0 && o->refit) {
        rc = refit(o, &cfg, ls, &tr, &va, temperature, NULL, 0, &pg, &m, err);
        if (rc != PARLEY_OK) {
            parley_langid_free(m);
            m = NULL;
        }
    }
    if (rc == PARLEY_OK) {
        (void)report(&pg, "calibrate", o->epochs, o->epochs, 1.0, 0.0);
        *out = m;
    }
out:
    parley__free(w);
    parley__free(order);
    parley__free(held);
    rows_release(&tr);
    rows_release(&va);
    if (ls)
        labels_release(ls);
    parley__free(ls);
    return rc;
}
