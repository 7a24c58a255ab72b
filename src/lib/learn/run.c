/* A `parley learn` run as the library offers it: options, running the
 * pipeline end to end, the promotion gate, the rows it trained on. */
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "learn/run.h"

void parley_learn_train_options_default(parley_nlu_train_options *o)
{
    parley_nlu_train_options_default(o);
    o->buffer_entries = PARLEY_LEARN_TRAIN_BUFFER;
}

void parley_learn_options_default(parley_learn_options *o)
{
    memset(o, 0, sizeof(*o));
    o->test_share = 0.2;
    o->work_dir = ".";
    o->curve_points = 2;
}

static int language_ok(const char *l)
{
    size_t n = strlen(l);
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= 'A' && l[i] <= 'Z') ||
              (l[i] >= '0' && l[i] <= '9') || l[i] == '-' || l[i] == '_'))
            return 0;
    return 1;
}

static void who_am_i(char *buf, size_t size)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];
    if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res)
        (void)snprintf(buf, size, "%s", pw.pw_name);
    else
        (void)snprintf(buf, size, "uid %ld", (long)geteuid());
}

static parley_err describe_params(parley_learn_run *r, const parley_learn_options *o)
{
    const parley_nlu_train_options *t = o->train;
    struct parley_buf b = PARLEY_BUF_INIT(0);
    parley_err rc = parley__buf_printf(
        &b,
        "{\"epochs\":%u,\"lr\":%g,\"dropout\":%g,\"l2\":%g,\"threads\":%u,\"seed\":%llu,"
        "\"word_ngrams\":%u,\"char_ngrams\":[%u,%u],\"hash_bits\":%u,\"min_count\":%u,"
        "\"buffer_entries\":%zu,\"test_share\":%g,\"curve_points\":%u,\"min_gain\":%g}",
        t->epochs, t->lr, t->dropout, t->l2, t->threads, (unsigned long long)t->seed,
        t->features.word_ngrams, t->features.char_min, t->features.char_max, t->features.hash_bits,
        t->min_count, t->buffer_entries, o->test_share, o->curve_points, o->min_gain);
    if (rc == PARLEY_OK)
        r->params = parley__buf_detach(&b, NULL);
    return rc;
}

/* Names what was dropped, for the error when nothing is left. */
static void dropped_list(const parley_learn_summary *s, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT && used < size; d++)
        if (s->dropped[d])
            used += (size_t)snprintf(buf + used, size - used, "%s%llu %s", used ? ", " : "",
                                     (unsigned long long)s->dropped[d],
                                     parley_learn_drop_name((parley_learn_drop)d));
    if (!buf[0])
        (void)snprintf(buf, size, "nothing was read");
}

parley_err learn_run_new(const parley_learn_options *o, parley_learn_options *opt,
                         parley_learn_run **out, parley_error *err)
{
    parley_learn_run *r = NULL;
    *out = NULL;
    if (!o || !o->language || !language_ok(o->language))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "a language code is needed (letters, digits, '-', at most 32)");
    if (!o->n_inputs && !o->base_data && !o->review)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no interaction logs to learn from");
    if (!(o->test_share >= 0.05 && o->test_share <= 0.5))
        return parley_error_set(err, PARLEY_ERR_INVALID, "held-out share %g is outside 0.05..0.5",
                                o->test_share);
    if (!(o->min_gain >= 0.0 && o->min_gain < 1.0))
        return parley_error_set(err, PARLEY_ERR_INVALID, "minimum gain %g is outside 0..1",
                                o->min_gain);
    *opt = *o;
    if (!opt->work_dir || !*opt->work_dir)
        opt->work_dir = ".";
    if (!(r = parley__calloc(1, sizeof(*r))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    /* The training options, resolved once for every training of the run. */
    if (!opt->train) {
        parley_learn_train_options_default(&r->train_default);
        opt->train = &r->train_default;
    }
    r->pid = getpid();
    if ((size_t)snprintf(r->train_path, sizeof(r->train_path), "%s/.learn-train.%ld.jsonl",
                         opt->work_dir, (long)r->pid) >= sizeof(r->train_path) ||
        (size_t)snprintf(r->test_path, sizeof(r->test_path), "%s/.learn-test.%ld.jsonl",
                         opt->work_dir, (long)r->pid) >= sizeof(r->test_path)) {
        parley__free(r);
        return parley_error_set(err, PARLEY_ERR_LIMIT, "work folder path too long");
    }
    (void)snprintf(r->language, sizeof(r->language), "%s", opt->language);
    time_t now = time(NULL);
    struct tm tm;
    (void)gmtime_r(&now, &tm);
    (void)strftime(r->created, sizeof(r->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    who_am_i(r->who, sizeof(r->who));
    r->sum.language = r->language;
    r->sum.created = r->created;
    r->sum.who = r->who;
    r->sum.version = r->version;
    r->sum.decision = r->decision;
    if (describe_params(r, opt) != PARLEY_OK) {
        parley_learn_run_free(r);
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    }
    r->sum.params = r->params;
    *out = r;
    return PARLEY_OK;
}

parley_err parley_learn_run_pipeline(const parley_learn_options *o, parley_learn_run **out,
                                     parley_error *err)
{
    parley_learn_run *r = NULL;
    parley_learn_options opt;
    const double t0 = parley__now();
    parley_err rc = learn_run_new(o, &opt, &r, err);

    *out = NULL;
    if (rc != PARLEY_OK)
        return rc;
    if (!r) /* learn_run_new sets it on success; said for the analyzer */
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    if ((rc = learn_prepare(r, &opt, 0, err)) != PARLEY_OK)
        goto out;
    r->sum.seconds_prepare = parley__now() - t0;
    if (!r->sum.train_rows) {
        char why[400];
        dropped_list(&r->sum, why, sizeof(why));
        rc = parley_error_set(err, PARLEY_ERR_EMPTY,
                              "no conversation is left to train on (%llu read: %s)",
                              (unsigned long long)r->sum.conversations, why);
        goto out;
    }
    if (!r->sum.test_rows) {
        rc = parley_error_set(err, PARLEY_ERR_EMPTY,
                              "no conversation could be held out to evaluate on: every intent "
                              "needs at least two distinct customer conversations");
        goto out;
    }
    if ((rc = learn_train_and_evaluate(r, &opt, err)) != PARLEY_OK)
        goto out;
    r->sum.seconds_total = parley__now() - t0;
    r->sum.peak_rss_mb = learn_peak_rss_mb();
out:
    if (rc != PARLEY_OK) {
        parley_learn_run_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

size_t learn_peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (size_t)ru.ru_maxrss / 1024; /* Linux: kilobytes */
}

parley_learn_summary *parley_learn_run_summary(parley_learn_run *r)
{
    return &r->sum;
}

const parley_nlu_model *parley_learn_run_model(const parley_learn_run *r)
{
    return r->model;
}

const char *parley_learn_run_first_error(const parley_learn_run *r)
{
    return r->first_error[0] ? r->first_error : NULL;
}

parley_err parley_learn_run_write_rows(const parley_learn_run *r, int test, const char *path,
                                       parley_error *err)
{
    const char *from = test ? r->test_path : r->train_path;
    char *data = NULL;
    size_t len = 0;
    /* The rows are small next to the logs (one short text per kept
     * conversation); reading them whole keeps the write atomic. */
    parley_err rc = parley__read_file(from, (size_t)1 << 34, &data, &len, err);
    if (rc == PARLEY_OK)
        rc = parley__write_file_atomic(path, data ? data : "", len, err);
    parley__free(data);
    return rc;
}

void parley_learn_decide(parley_learn_run *r, double min_gain)
{
    parley_learn_summary *s = &r->sum;
    if (!s->has_current) {
        s->promoted = 1;
        (void)snprintf(r->decision, sizeof(r->decision),
                       "promoted: there is no current model to compare with");
        return;
    }
    const double gain = s->fresh.macro_f1 - s->current.macro_f1;
    if (gain <= min_gain) {
        s->promoted = 0;
        (void)snprintf(r->decision, sizeof(r->decision),
                       "kept the current model: macro-F1 %.4f does not beat the current %.4f by "
                       "more than %.4f",
                       s->fresh.macro_f1, s->current.macro_f1, min_gain);
    } else if (s->fresh.accuracy < s->current.accuracy) {
        s->promoted = 0;
        (void)snprintf(r->decision, sizeof(r->decision),
                       "kept the current model: macro-F1 is better (%.4f vs %.4f) but accuracy "
                       "is lower (%.4f vs %.4f)",
                       s->fresh.macro_f1, s->current.macro_f1, s->fresh.accuracy,
                       s->current.accuracy);
    } else {
        s->promoted = 1;
        (void)snprintf(r->decision, sizeof(r->decision),
                       "promoted: macro-F1 %.4f vs %.4f, accuracy %.4f vs %.4f on the same %zu "
                       "held-out conversations",
                       s->fresh.macro_f1, s->current.macro_f1, s->fresh.accuracy,
                       s->current.accuracy, s->test_rows);
    }
}

void parley_learn_run_free(parley_learn_run *r)
{
    if (!r)
        return;
    if (r->train_path[0])
        (void)unlink(r->train_path);
    if (r->test_path[0])
        (void)unlink(r->test_path);
    parley_nlu_model_free(r->model);
    parley__free(r->params);
    learn_strings_release(&r->intents);
    parley__free(r->train_counts);
    parley__free(r->intent_rows);
    for (size_t i = 0; i < r->n_contra; i++) {
        parley__free(r->contra_text[i]);
        parley__free(r->contra_labels[i]);
    }
    parley__free(r->contra_text);
    parley__free(r->contra_labels);
    parley__free(r->conf_labels);
    parley__free(r->confusion);
    for (size_t i = 0; i < r->n_found; i++)
        parley__free(r->found[i].text);
    parley__free(r->found);
    parley__free(r);
}
