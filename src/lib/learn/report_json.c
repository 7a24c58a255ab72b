/* The report of `parley learn` as one JSON object, for scripts and for
 * comparing runs: the same figures as the HTML page, contradictions and
 * the confusion matrix in full. Fields are in docs/learning.md. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "learn/report_internal.h"
#include "parley/text.h"

/* Indented: the file is read by people and diffed between runs as much as
 * parsed; 15 digits print 0.1 as 0.1 and keep every figure that matters. */
#define DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* jansson's setters take the value even when they fail (NULL included), so
 * the builders below only note a failure in `*bad` and go on; the caller
 * checks once. Strings are made valid UTF-8 first, so the one failure left
 * is running out of memory. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(o, key, v) != 0)
        *bad = 1;
}

static void push(json_t *a, json_t *v, int *bad)
{
    if (json_array_append_new(a, v) != 0)
        *bad = 1;
}

/* NaN and infinities have no JSON spelling (jansson refuses them). */
static json_t *real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *count(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* `s` (NULL: "") as a JSON string, each byte of invalid UTF-8 as U+FFFD:
 * jansson refuses invalid UTF-8, and one bad byte must not cost the run
 * its report. */
static json_t *str(const char *s)
{
    struct parley_buf b = PARLEY_BUF_INIT(0);
    size_t n = s ? strlen(s) : 0, bad;
    json_t *v;
    if (parley_text_validate(s ? s : "", n, &bad, NULL) == PARLEY_OK)
        return json_stringn(s ? s : "", n);
    do {
        if (parley__buf_add(&b, s, bad) != PARLEY_OK ||
            parley__buf_add(&b, "\xef\xbf\xbd", 3) != PARLEY_OK)
            return NULL; /* the buffer freed itself */
        s += bad + 1;
        n -= bad + 1;
    } while (parley_text_validate(s, n, &bad, NULL) != PARLEY_OK);
    v = parley__buf_add(&b, s, n) == PARLEY_OK ? json_stringn(b.data, b.len) : NULL;
    parley__buf_release(&b);
    return v;
}

/* The training options as the object they are, or as the string given
 * when that is not a JSON object. */
static json_t *params(const char *text)
{
    json_error_t jerr;
    json_t *v;
    if (!text)
        return json_null();
    v = json_loads(text, 0, &jerr);
    if (json_is_object(v))
        return v;
    json_decref(v);
    if (!v && json_error_code(&jerr) == json_error_out_of_memory)
        return NULL;
    return str(text);
}

static json_t *metrics(const parley_learn_metrics *m, int *bad)
{
    json_t *o = json_object(), *cal = json_array();
    put(o, "accuracy", real(m->accuracy), bad);
    put(o, "macro_f1", real(m->macro_f1), bad);
    put(o, "ece", real(m->ece), bad);
    for (int b = 0; b < PARLEY_LEARN_BINS; b++) {
        json_t *bin = json_object();
        int empty = m->bin_rows[b] == 0; /* a mean over no rows is no number */
        put(bin, "bin", json_integer((json_int_t)b), bad);
        put(bin, "rows", count(m->bin_rows[b]), bad);
        put(bin, "confidence", empty ? json_null() : real(m->bin_confidence[b]), bad);
        put(bin, "accuracy", empty ? json_null() : real(m->bin_accuracy[b]), bad);
        push(cal, bin, bad);
    }
    put(o, "calibration", cal, bad);
    return o;
}

static json_t *counts(const parley_learn_summary *s, int *bad)
{
    json_t *o = json_object(), *dropped = json_object();
    put(o, "conversations", count(s->conversations), bad);
    put(o, "turns", count(s->turns), bad);
    put(o, "bytes", count(s->bytes), bad);
    put(o, "kept", count(s->kept), bad);
    put(o, "authored", count(s->authored), bad);
    put(o, "pii_findings", count(s->pii_findings), bad);
    put(o, "train_rows", count(s->train_rows), bad);
    put(o, "test_rows", count(s->test_rows), bad);
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT; d++)
        put(dropped, parley_learn_drop_name((parley_learn_drop)d), count(s->dropped[d]), bad);
    put(o, "dropped", dropped, bad);
    return o;
}

static json_t *contradictions(const parley_learn_summary *s, int *bad)
{
    json_t *a = json_array();
    size_t n = s->contradiction_text && s->contradiction_labels ? s->n_contradictions : 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        put(o, "text", str(s->contradiction_text[i]), bad);
        put(o, "labels", str(s->contradiction_labels[i]), bad);
        push(a, o, bad);
    }
    return a;
}

static json_t *intents(const parley_learn_summary *s, int *bad)
{
    json_t *a = json_array();
    size_t n = s->intents ? s->n_intents : 0;
    for (size_t i = 0; i < n; i++) {
        const parley_learn_intent *it = &s->intents[i];
        json_t *o = json_object();
        put(o, "intent", str(it->intent), bad);
        put(o, "train_rows", count(it->train_rows), bad);
        put(o, "test_rows", count(it->test_rows), bad);
        put(o, "precision", real(it->precision), bad);
        put(o, "recall", real(it->recall), bad);
        put(o, "f1", real(it->f1), bad);
        /* -1 stands for "no current figure". */
        put(o, "f1_current", it->f1_current >= 0 ? real(it->f1_current) : json_null(), bad);
        push(a, o, bad);
    }
    return a;
}

static json_t *confusion(const parley_learn_summary *s, int *bad)
{
    json_t *o = json_object(), *labels = json_array(), *matrix = json_array();
    size_t k = s->confusion_labels && s->confusion ? s->confusion_k : 0;
    for (size_t i = 0; i < k; i++) {
        json_t *row = json_array();
        push(labels, str(s->confusion_labels[i]), bad);
        for (size_t j = 0; j < k; j++)
            push(row, count(s->confusion[i * k + j]), bad);
        push(matrix, row, bad);
    }
    put(o, "labels", labels, bad);
    put(o, "matrix", matrix, bad);
    return o;
}

static json_t *curve(const parley_learn_summary *s, int *bad)
{
    json_t *a = json_array();
    size_t n = s->curve ? s->n_curve : 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        put(o, "train_rows", count(s->curve[i].train_rows), bad);
        put(o, "accuracy", real(s->curve[i].accuracy), bad);
        put(o, "macro_f1", real(s->curve[i].macro_f1), bad);
        push(a, o, bad);
    }
    return a;
}

static json_t *summary(const parley_learn_summary *s, int *bad)
{
    char fingerprint[17];
    json_t *o = json_object(), *decision = json_object(), *timings = json_object();
    (void)snprintf(fingerprint, sizeof(fingerprint), "%016" PRIx64, s->fingerprint);
    put(o, "language", str(s->language), bad);
    put(o, "version", str(s->version), bad);
    put(o, "created", str(s->created), bad);
    put(o, "who", str(s->who), bad);
    put(o, "fingerprint", json_string(fingerprint), bad);
    put(o, "params", params(s->params), bad);
    put(o, "counts", counts(s, bad), bad);
    put(o, "contradictions", contradictions(s, bad), bad);
    put(o, "intents", intents(s, bad), bad);
    put(o, "fresh", metrics(&s->fresh, bad), bad);
    put(o, "current", s->has_current ? metrics(&s->current, bad) : json_null(), bad);
    put(o, "confusion", confusion(s, bad), bad);
    put(o, "learning_curve", curve(s, bad), bad);
    put(decision, "promoted", json_boolean(s->promoted), bad);
    put(decision, "reason", str(s->decision), bad);
    put(o, "decision", decision, bad);
    put(timings, "prepare_s", real(s->seconds_prepare), bad);
    put(timings, "train_s", real(s->seconds_train), bad);
    put(timings, "eval_s", real(s->seconds_eval), bad);
    put(timings, "total_s", real(s->seconds_total), bad);
    put(o, "timings", timings, bad);
    put(o, "peak_rss_mb", count(s->peak_rss_mb), bad);
    return o;
}

parley_err parley_learn_report_json(const parley_learn_summary *s, FILE *out, parley_error *err)
{
    parley_err rc = PARLEY_OK;
    json_t *doc = NULL;
    int bad = 0;

    if (!s || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot write the learning summary: bad argument");
    doc = summary(s, &bad);
    if (bad || !doc) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM,
                              "cannot write the learning summary: out of "
                              "memory");
        goto out;
    }
    errno = 0;
    if (json_dumpf(doc, out, DUMP_FLAGS) != 0 && !ferror(out)) {
        /* jansson failed without a write error: its own allocation. */
        rc = parley_error_set(err, PARLEY_ERR_NOMEM,
                              "cannot write the learning summary: out of "
                              "memory");
        goto out;
    }
    if (fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write the learning summary: %s",
                              errno ? strerror(errno) : "write error");
out:
    json_decref(doc);
    return rc;
}
