/* Unit tests of the `parley learn` report (src/lib/learn/report_*.c): the
 * JSON summary holds the exact figures, the HTML page has every section,
 * escapes what customers wrote and never shows NaN, and both fail cleanly
 * on write errors and out of memory. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "parley/learn.h"

#include "failing_alloc.h"

#define EVIL "<script>alert(\"x\")</script> & co"

static const parley_learn_intent intents3[] = {
    {"billing", 40, 10, 0.9, 0.8, 0.847, 0.8},
    {EVIL, 12, 3, 0.5, 0.25, 1.0 / 3, -1},
    {"roaming_eu", 30, 8, 0.75, 0.75, 0.75, 0.7},
};
static const char *const labels3[] = {"billing", EVIL, "roaming_eu"};
static const size_t confusion3[] = {8, 1, 1, 2, 1, 0, 1, 1, 6};
static const parley_learn_curve_point curve3[] = {
    {300, 0.81, 0.74},
    {30, 0.52, 0.41},
    {120, 0.7, 0.6},
};
static const char *const texts[] = {"my bill <b>doubled</b>", "roaming & data"};
static const char *const text_labels[] = {"billing (3), roaming_eu (2)",
                                          "roaming_eu (2), " EVIL " (1)"};

/* Bins 3-9 hold b rows (b + 4 for the current model), of mean confidence
 * b/10 + 0.05 and accuracy b/10 (0.08 less for the current model). */
static parley_learn_metrics metrics(double acc, double f1, double ece, int cur)
{
    parley_learn_metrics m = {acc, f1, ece, {0}, {0}, {0}};
    for (int b = 3; b < 10; b++) {
        m.bin_rows[b] = (size_t)(b + 4 * cur);
        m.bin_confidence[b] = b / 10.0 + 0.05;
        m.bin_accuracy[b] = b / 10.0 - 0.08 * cur;
    }
    return m;
}

/* A small run, with or without a current model. */
static parley_learn_summary sample(int has_current)
{
    parley_learn_summary s;
    memset(&s, 0, sizeof(s));
    s.language = "en";
    s.version = "en-7";
    s.created = "2025-03-01T09:30:00Z";
    s.who = "ana";
    s.fingerprint = 0x00c0ffee12345678u;
    s.params = "{\"epochs\": 25, \"lr\": 0.5, \"ngrams\": [1, 2]}";
    s.conversations = 1000;
    s.turns = 5400;
    s.bytes = 1234567;
    s.kept = 700;
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT; d++)
        s.dropped[d] = (uint64_t)(10 * d);
    s.pii_findings = 321;
    s.authored = 50;
    s.train_rows = 560;
    s.test_rows = 140;
    s.n_contradictions = 2;
    s.contradiction_text = texts;
    s.contradiction_labels = text_labels;
    s.n_intents = 3;
    s.intents = intents3;
    s.fresh = metrics(0.82, 0.64, 0.031, 0);
    s.has_current = has_current;
    s.current = metrics(0.79, 0.6, 0.055, 1);
    s.confusion_k = 3;
    s.confusion_labels = labels3;
    s.confusion = confusion3;
    s.n_curve = 3;
    s.curve = curve3;
    s.promoted = has_current;
    s.decision = "macro-F1 0.640 > 0.600 + 0.010 & no intent lost more than 0.05";
    s.seconds_prepare = 1.5;
    s.seconds_train = 12.25;
    s.seconds_eval = 0.75;
    s.seconds_total = 14.5;
    s.peak_rss_mb = 212;
    return s;
}

/* The whole of `f`, NUL-terminated; caller frees. */
static char *slurp(FILE *f)
{
    long n;
    char *p;
    assert_int_equal(fflush(f), 0);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    return p;
}

static char *render(const parley_learn_summary *s, int html)
{
    parley_error e = PARLEY_ERROR_INIT;
    FILE *f = tmpfile();
    char *text;
    assert_non_null(f);
    if (html)
        assert_int_equal(parley_learn_report_html(s, f, &e), PARLEY_OK);
    else
        assert_int_equal(parley_learn_report_json(s, f, &e), PARLEY_OK);
    text = slurp(f);
    assert_int_equal(fclose(f), 0);
    return text;
}

static json_t *render_json(const parley_learn_summary *s)
{
    json_error_t jerr;
    char *text = render(s, 0);
    json_t *v = json_loads(text, 0, &jerr);
    if (!v)
        fail_msg("invalid JSON: %s at line %d:\n%s", jerr.text, jerr.line, text);
    free(text);
    return v;
}

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* `word` standing alone (not inside "information"), any case. */
static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p; p++) {
        if (strncasecmp(p, word, n) != 0)
            continue;
        int before = p > text && ((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'));
        int after = (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z');
        if (!before && !after)
            return 1;
    }
    return 0;
}

static double num(json_t *o, const char *path)
{
    json_t *v = json_object_get(o, path);
    if (!json_is_number(v))
        fail_msg("'%s' is not a number", path);
    return json_number_value(v);
}

static void test_drop_names(void **state)
{
    static const char *const want[] = {"malformed",     "language", "no_consent", "no_text",
                                       "unmapped",      "ignored",  "duplicate",  "near_duplicate",
                                       "contradictory", "labelled"};
    (void)state;
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT; d++)
        assert_string_equal(parley_learn_drop_name((parley_learn_drop)d), want[d]);
    assert_string_equal(parley_learn_drop_name(PARLEY_LEARN_DROP_COUNT), "unknown");
    assert_string_equal(parley_learn_drop_name((parley_learn_drop)-1), "unknown");
}

static void test_json_values(void **state)
{
    parley_learn_summary s = sample(1);
    json_t *doc, *o, *a, *v;
    (void)state;
    doc = render_json(&s);
    assert_string_equal(json_string_value(json_object_get(doc, "language")), "en");
    assert_string_equal(json_string_value(json_object_get(doc, "version")), "en-7");
    assert_string_equal(json_string_value(json_object_get(doc, "created")), "2025-03-01T09:30:00Z");
    assert_string_equal(json_string_value(json_object_get(doc, "who")), "ana");
    assert_string_equal(json_string_value(json_object_get(doc, "fingerprint")), "00c0ffee12345678");
    o = json_object_get(doc, "params");
    assert_true(json_is_object(o));
    assert_int_equal(json_integer_value(json_object_get(o, "epochs")), 25);
    assert_int_equal(json_array_size(json_object_get(o, "ngrams")), 2);

    o = json_object_get(doc, "counts");
    assert_int_equal(json_integer_value(json_object_get(o, "conversations")), 1000);
    assert_int_equal(json_integer_value(json_object_get(o, "turns")), 5400);
    assert_int_equal(json_integer_value(json_object_get(o, "bytes")), 1234567);
    assert_int_equal(json_integer_value(json_object_get(o, "kept")), 700);
    assert_int_equal(json_integer_value(json_object_get(o, "authored")), 50);
    assert_int_equal(json_integer_value(json_object_get(o, "pii_findings")), 321);
    assert_int_equal(json_integer_value(json_object_get(o, "train_rows")), 560);
    assert_int_equal(json_integer_value(json_object_get(o, "test_rows")), 140);
    o = json_object_get(o, "dropped");
    assert_int_equal(json_object_size(o), PARLEY_LEARN_DROP_COUNT);
    assert_int_equal(json_integer_value(json_object_get(o, "malformed")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "no_consent")), 20);
    assert_int_equal(json_integer_value(json_object_get(o, "contradictory")), 80);

    a = json_object_get(doc, "contradictions");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "text")),
                        "my bill <b>doubled</b>");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "labels")),
                        "roaming_eu (2), " EVIL " (1)");

    a = json_object_get(doc, "intents");
    assert_int_equal(json_array_size(a), 3);
    o = json_array_get(a, 1);
    assert_string_equal(json_string_value(json_object_get(o, "intent")), EVIL);
    assert_int_equal(json_integer_value(json_object_get(o, "train_rows")), 12);
    assert_int_equal(json_integer_value(json_object_get(o, "test_rows")), 3);
    assert_true(num(o, "precision") == 0.5);
    assert_true(fabs(num(o, "f1") - 1.0 / 3) < 1e-14);
    assert_true(json_is_null(json_object_get(o, "f1_current")));
    assert_true(num(json_array_get(a, 0), "f1_current") == 0.8);

    o = json_object_get(doc, "fresh");
    assert_true(num(o, "accuracy") == 0.82);
    assert_true(num(o, "macro_f1") == 0.64);
    assert_true(num(o, "ece") == 0.031);
    a = json_object_get(o, "calibration");
    assert_int_equal(json_array_size(a), 10);
    v = json_array_get(a, 0);
    assert_int_equal(json_integer_value(json_object_get(v, "bin")), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "rows")), 0);
    assert_true(json_is_null(json_object_get(v, "confidence")));
    v = json_array_get(a, 7);
    assert_int_equal(json_integer_value(json_object_get(v, "bin")), 7);
    assert_int_equal(json_integer_value(json_object_get(v, "rows")), 7);
    assert_true(num(v, "confidence") == 0.75);
    assert_true(num(v, "accuracy") == 0.7);
    assert_true(num(json_object_get(doc, "current"), "ece") == 0.055);

    o = json_object_get(doc, "confusion");
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "labels"), 1)), EVIL);
    a = json_object_get(o, "matrix");
    assert_int_equal(json_array_size(a), 3);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            assert_int_equal(json_integer_value(json_array_get(json_array_get(a, i), j)),
                             confusion3[i * 3 + j]);

    a = json_object_get(doc, "learning_curve");
    assert_int_equal(json_array_size(a), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 1), "train_rows")), 30);
    assert_true(num(json_array_get(a, 1), "macro_f1") == 0.41);

    o = json_object_get(doc, "decision");
    assert_true(json_is_true(json_object_get(o, "promoted")));
    assert_string_equal(json_string_value(json_object_get(o, "reason")), s.decision);
    o = json_object_get(doc, "timings");
    assert_true(num(o, "prepare_s") == 1.5);
    assert_true(num(o, "train_s") == 12.25);
    assert_true(num(o, "eval_s") == 0.75);
    assert_true(num(o, "total_s") == 14.5);
    assert_int_equal(json_integer_value(json_object_get(doc, "peak_rss_mb")), 212);
    json_decref(doc);
}

/* No current model, non-finite figures, bad params, invalid UTF-8. */
static void test_json_edges(void **state)
{
    parley_learn_summary s = sample(0);
    parley_learn_intent odd[] = {{"bad\xff\xfe name", 1, 1, NAN, INFINITY, -INFINITY, 0.5}};
    json_t *doc, *o;
    (void)state;
    s.params = "epochs=25";
    s.intents = odd;
    s.n_intents = 1;
    s.fresh.accuracy = NAN;
    s.seconds_total = INFINITY;
    doc = render_json(&s);
    assert_true(json_is_null(json_object_get(doc, "current")));
    assert_string_equal(json_string_value(json_object_get(doc, "params")), "epochs=25");
    o = json_array_get(json_object_get(doc, "intents"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "intent")),
                        "bad\xef\xbf\xbd\xef\xbf\xbd name");
    assert_true(json_is_null(json_object_get(o, "precision")));
    assert_true(json_is_null(json_object_get(o, "recall")));
    assert_true(json_is_null(json_object_get(o, "f1")));
    assert_true(num(o, "f1_current") == 0.5);
    assert_true(json_is_null(json_object_get(json_object_get(doc, "fresh"), "accuracy")));
    assert_true(json_is_null(json_object_get(json_object_get(doc, "timings"), "total_s")));
    assert_true(json_is_false(json_object_get(json_object_get(doc, "decision"), "promoted")));
    json_decref(doc);

    /* Valid JSON that is not an object stays a string; NULL is null. */
    s.params = "[1, 2]";
    doc = render_json(&s);
    assert_string_equal(json_string_value(json_object_get(doc, "params")), "[1, 2]");
    json_decref(doc);
    s.params = NULL;
    doc = render_json(&s);
    assert_true(json_is_null(json_object_get(doc, "params")));
    json_decref(doc);
}

static void assert_clean_html(const char *html)
{
    /* Every chart is closed; nothing from the data became markup. */
    assert_int_equal(occurrences(html, "<svg"), occurrences(html, "</svg>"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<b>"));
    assert_false(has_word(html, "nan"));
    assert_false(has_word(html, "inf"));
    assert_false(has_word(html, "infinity"));
    assert_null(strstr(html, "=\"-")); /* no negative size or coordinate */
    assert_null(strstr(html, "http")); /* nothing fetched: read offline */
    assert_null(strstr(html, "src="));
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "</html>\n"));
}

static void test_html_sections(void **state)
{
    parley_learn_summary s = sample(1);
    char *html;
    (void)state;
    html = render(&s, 1);
    assert_clean_html(html);
    for (const char *const *id =
             (const char *const[]){"\"data\"", "\"intents\"", "\"confusion\"", "\"calibration\"",
                                   "\"curve\"", "\"contradictions\"", "\"run\"", NULL};
         *id; id++)
        assert_non_null(strstr(html, *id));
    /* drops, F1, heat map, reliability, learning curve */
    assert_int_equal(occurrences(html, "<svg"), 5);
    assert_non_null(strstr(html, "Promoted"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"));
    assert_non_null(strstr(html, "my bill &lt;b&gt;doubled&lt;/b&gt;"));
    assert_non_null(strstr(html, "roaming &amp; data"));
    assert_non_null(strstr(html, "+ 0.010 &amp; no intent lost"));
    assert_non_null(strstr(html, "near_duplicate"));
    assert_non_null(strstr(html, "1,234,567"));
    assert_non_null(strstr(html, "00c0ffee12345678"));
    assert_non_null(strstr(html, "0.820"));  /* accuracy new */
    assert_non_null(strstr(html, "+0.030")); /* its change */
    assert_non_null(strstr(html, "rotate(-50)"));
    assert_non_null(strstr(html, "log scale"));
    assert_non_null(strstr(html, "212 MB"));
    /* Weakest first: the intent with F1 1/3 is drawn above billing. */
    assert_true(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co: F1") <
                strstr(html, "billing: F1"));
    free(html);

    s = sample(0);
    html = render(&s, 1);
    assert_clean_html(html);
    assert_non_null(strstr(html, "Not promoted"));
    assert_non_null(strstr(html, "No current model"));
    assert_null(strstr(html, "current model</text>"));
    free(html);
}

/* Nothing at all: every section says so instead of drawing a broken chart. */
static void test_html_empty(void **state)
{
    parley_learn_summary s;
    char *html, *json;
    json_t *doc;
    (void)state;
    memset(&s, 0, sizeof(s));
    s.confusion_k = 4; /* without labels or matrix: nothing to draw */
    html = render(&s, 1);
    assert_clean_html(html);
    assert_int_equal(occurrences(html, "<svg"), 0);
    assert_true(occurrences(html, "class=\"none\"") >= 6);
    assert_non_null(strstr(html, "model not registered"));
    free(html);
    json = render(&s, 0);
    doc = json_loads(json, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "intents")), 0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "confusion"), "matrix")),
                     0);
    assert_true(json_is_null(json_object_get(doc, "params")));
    json_decref(doc);
    free(json);
}

/* Non-finite figures show as a dash and never reach a coordinate. */
static void test_html_non_finite(void **state)
{
    parley_learn_summary s = sample(1);
    parley_learn_intent odd[] = {{"x\x01y\xc3", 1, 1, NAN, INFINITY, NAN, -INFINITY},
                                 {"ok", 1, 1, 2.0, -1.0, 1.5, NAN}};
    parley_learn_curve_point pts[] = {{0, NAN, NAN}, {10, NAN, 0.5}, {10, 0.6, INFINITY}};
    char *html;
    (void)state;
    s.intents = odd;
    s.n_intents = 2;
    s.curve = pts;
    s.n_curve = 3;
    s.fresh.accuracy = NAN;
    s.current.ece = INFINITY;
    s.fresh.bin_confidence[5] = NAN;
    s.seconds_eval = NAN;
    html = render(&s, 1);
    assert_clean_html(html);
    assert_non_null(strstr(html, "\xe2\x80\x93"));
    assert_non_null(strstr(html, "x\xef\xbf\xbdy\xef\xbf\xbd"));
    assert_int_equal(occurrences(html, "<svg"), 5);
    free(html);
}

/* ~300 intents: the F1 chart grows with them, long names are cut. */
static void test_html_many(void **state)
{
    enum { N = 300, K = 20 };
    static parley_learn_intent many[N];
    static char names[N][64];
    static const char *labels[K];
    static size_t conf[K * K];
    parley_learn_summary s = sample(1);
    const char *example = getenv("PARLEY_LEARN_REPORT_EXAMPLE");
    char *html, *svg;
    (void)state;
    for (int i = 0; i < N; i++) {
        (void)snprintf(names[i], sizeof(names[i]), "%s_%03d",
                       i % 7 ? "intent" : "a_really_long_intent_name_about_something", i);
        many[i] = (parley_learn_intent){names[i],
                                        (size_t)(10 + i % 50),
                                        (size_t)(2 + i % 13),
                                        0.5 + (i % 10) / 20.0,
                                        0.4 + (i % 7) / 12.0,
                                        0.45 + (i % 11) / 20.0,
                                        i % 5 ? 0.4 + (i % 9) / 16.0 : -1};
    }
    for (int i = 0; i < K; i++) {
        labels[i] = names[i * 3];
        for (int j = 0; j < K; j++)
            conf[i * K + j] = i == j ? 40 + (size_t)i : (size_t)((i * 7 + j * 3) % 9 == 0) * 3;
    }
    s.intents = many;
    s.n_intents = N;
    s.confusion_k = K;
    s.confusion_labels = labels;
    s.confusion = conf;
    html = render(&s, 1);
    assert_clean_html(html);
    svg = strstr(strstr(html, "id=\"intents\""), "<svg width=\"");
    assert_non_null(svg);
    assert_true(atof(strstr(svg, "height=\"") + 8) > N * 20);
    assert_non_null(strstr(html, "</title>a_really_long_intent_name_about_\xe2\x80\xa6</text>"));
    if (example) {
        FILE *f = fopen(example, "w");
        assert_non_null(f);
        assert_int_equal(fputs(html, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
    }
    free(html);
}

static void test_write_errors(void **state)
{
    parley_learn_summary s = sample(1);
    parley_error e = PARLEY_ERROR_INIT;
    char small[64];
    FILE *f;
    (void)state;
    /* A stream opened for reading only. */
    f = fopen("/dev/null", "r");
    assert_non_null(f);
    assert_int_equal(parley_learn_report_html(&s, f, &e), PARLEY_ERR_IO);
    assert_int_equal(e.code, PARLEY_ERR_IO);
    assert_non_null(strstr(e.msg, "cannot write the learning report"));
    parley_error_clear(&e);
    assert_int_equal(parley_learn_report_json(&s, f, &e), PARLEY_ERR_IO);
    assert_non_null(strstr(e.msg, "cannot write the learning summary"));
    assert_int_equal(fclose(f), 0);
    /* A full one. */
    for (int html = 0; html < 2; html++) {
        parley_error_clear(&e);
        f = fmemopen(small, sizeof(small), "w");
        assert_non_null(f);
        assert_int_equal(html ? parley_learn_report_html(&s, f, &e)
                              : parley_learn_report_json(&s, f, &e),
                         PARLEY_ERR_IO);
        assert_true(strlen(e.msg) > 40);
        (void)fclose(f);
    }
    /* Bad arguments. */
    assert_int_equal(parley_learn_report_html(NULL, stdout, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_learn_report_json(&s, NULL, &e), PARLEY_ERR_INVALID);
}

static void test_oom_sweep(void **state)
{
    parley_learn_summary s = sample(1);
    const char *const bad_texts[] = {"caf\xe9 <b>", "ok"};
    (void)state;
    s.contradiction_text = bad_texts; /* the UTF-8 repair allocates */
    for (int html = 0; html < 2; html++) {
        long n;
        for (n = 0; n < 100000; n++) {
            parley_error e = PARLEY_ERROR_INIT;
            FILE *f = tmpfile();
            parley_err rc;
            assert_non_null(f);
            failing_alloc_start(n);
            /* jansson's allocations fail in the sweep too. */
            json_set_alloc_funcs(t_malloc, t_free);
            rc = html ? parley_learn_report_html(&s, f, &e) : parley_learn_report_json(&s, f, &e);
            json_set_alloc_funcs(malloc, free);
            assert_int_equal(failing_alloc_stop(), 0);
            assert_int_equal(fclose(f), 0);
            if (rc == PARLEY_OK)
                break;
            assert_int_equal(rc, PARLEY_ERR_NOMEM);
            assert_non_null(strstr(e.msg, "out of memory"));
        }
        /* HTML: the two sorted views and a scratch array; JSON: every value. */
        assert_true(n >= (html ? 3 : 100));
        assert_true(n < 100000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_names), cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_json_edges), cmocka_unit_test(test_html_sections),
        cmocka_unit_test(test_html_empty), cmocka_unit_test(test_html_non_finite),
        cmocka_unit_test(test_html_many),  cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_oom_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
