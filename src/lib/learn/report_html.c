/* The report of `parley learn` as one self-contained HTML page: the
 * decision, headline metrics, what was kept and dropped, per-intent F1,
 * the most confused intents, calibration, the learning curve,
 * contradictions and timings. No script and no external resource: the
 * page is read offline, often as a mail attachment. Charts are in
 * report_svg.c. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "learn/report_internal.h"
#include "parley/text.h"

#define EN_DASH  "\xe2\x80\x93"
#define ELLIPSIS "\xe2\x80\xa6"
#define FFFD     "\xef\xbf\xbd"
/* Contradictions shown on the page; the JSON summary has them all. */
#define MAX_CONTRADICTIONS 50

static void write_failed(struct learn_html *h)
{
    if (!h->failed)
        h->errnum = errno;
    h->failed = 1;
}

static void put(struct learn_html *h, const char *s, size_t n)
{
    if (!h->failed && n && fwrite(s, 1, n, h->out) != n)
        write_failed(h);
}

void parley__learn_html_puts(struct learn_html *h, const char *s)
{
    put(h, s, strlen(s));
}

void parley__learn_html_printf(struct learn_html *h, const char *fmt, ...)
{
    va_list ap;
    if (h->failed)
        return;
    va_start(ap, fmt);
    if (vfprintf(h->out, fmt, ap) < 0)
        write_failed(h);
    va_end(ap);
}

/* Escapes valid UTF-8 s[0..n), counting code points in `*chars` and
 * stopping at `max` (0: none); returns 0 when it stopped early. */
static int escape_valid(struct learn_html *h, const char *s, size_t n, size_t *chars, size_t max)
{
    size_t run = 0; /* start of the bytes not written yet */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        if ((c & 0xC0) != 0x80 && max && (*chars)++ == max) {
            put(h, s + run, i - run);
            return 0;
        }
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\t':
        case '\n':
        case '\r':
            break;
        default:
            /* Other controls are parse errors in HTML and invisible anyway. */
            if (c < 0x20 || c == 0x7F)
                rep = FFFD;
        }
        if (rep) {
            put(h, s + run, i - run);
            parley__learn_html_puts(h, rep);
            run = i + 1;
        }
    }
    put(h, s + run, n - run);
    return 1;
}

void parley__learn_html_text(struct learn_html *h, const char *s, size_t max_chars)
{
    size_t n = s ? strlen(s) : 0, chars = 0, bad;
    while (n && !h->failed) {
        int whole = parley_text_validate(s, n, &bad, NULL) == PARLEY_OK;
        size_t good = whole ? n : bad;
        if (!escape_valid(h, s, good, &chars, max_chars) ||
            (!whole && max_chars && chars++ == max_chars)) {
            parley__learn_html_puts(h, ELLIPSIS);
            return;
        }
        if (whole)
            return;
        /* One replacement per bad byte keeps the rest of the string. */
        parley__learn_html_puts(h, FFFD);
        s += bad + 1;
        n -= bad + 1;
    }
}

void parley__learn_html_num(struct learn_html *h, double v, int decimals)
{
    if (isfinite(v))
        parley__learn_html_printf(h, "%.*f", decimals, v);
    else
        parley__learn_html_puts(h, EN_DASH);
}

/* 1234567 as "1,234,567". */
void parley__learn_html_count(struct learn_html *h, uint64_t v)
{
    char digits[24], out[32];
    int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    parley__learn_html_puts(h, out);
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* A value of the run, or a dash when the pipeline left it empty. */
static void field(struct learn_html *h, const char *s)
{
    if (s && s[0])
        parley__learn_html_text(h, s, 0);
    else
        parley__learn_html_puts(h, EN_DASH);
}

static const char STYLE[] =
    "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1a202c;"
    "max-width:1040px;margin:0 auto;padding:16px 24px}\n"
    "h1{font-size:24px;margin:8px 0}\n"
    "h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}\n"
    "nav a{margin-right:12px}\n"
    ".meta,.note{color:#4a5568}\n.note{font-size:13px}\n"
    ".decision{border-radius:6px;padding:12px 16px;margin:16px 0;font-size:16px}\n"
    ".promoted{background:#e6ffed;border:2px solid #2f855a}\n"
    ".kept{background:#fffbea;border:2px solid #b7791f}\n"
    ".decision p{margin:4px 0 0}\n"
    "table{border-collapse:collapse;margin:8px 0}\n"
    "th,td{border:1px solid #e2e8f0;padding:3px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#f7fafc}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.t{max-width:640px;overflow-wrap:anywhere}\n"
    "svg{display:block;margin:8px 0;max-width:100%;height:auto}\n"
    "svg text{font:11px system-ui,sans-serif;fill:#1a202c}\n"
    /* Classes, not attributes: the rule above outranks presentation ones. */
    "svg text.a{fill:#4a5568}\nsvg text.s{font-size:9px}\nsvg text.w{fill:#fff}\n"
    ".none{color:#718096;font-style:italic}\n"
    ".key{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 "
    "12px}\n"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7fafc;padding:8px}\n"
    ".flex{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}\n";

static void metric_row(struct learn_html *h, const char *name, double fresh, double cur, int has)
{
    parley__learn_html_printf(h, "<tr><th>%s</th><td class=\"n\">", name);
    parley__learn_html_num(h, fresh, 3);
    parley__learn_html_puts(h, "</td><td class=\"n\">");
    parley__learn_html_num(h, has ? cur : NAN, 3);
    parley__learn_html_puts(h, "</td><td class=\"n\">");
    if (has && isfinite(fresh) && isfinite(cur))
        parley__learn_html_printf(h, "%+.3f", fresh - cur);
    else
        parley__learn_html_puts(h, EN_DASH);
    parley__learn_html_puts(h, "</td></tr>\n");
}

static void header(struct learn_html *h, const parley_learn_summary *s)
{
    const char *version = or_empty(s->version);
    parley__learn_html_puts(h, "<header>\n<h1>Learning report: ");
    field(h, s->language);
    parley__learn_html_puts(h, ", ");
    if (version[0]) {
        parley__learn_html_puts(h, "model ");
        parley__learn_html_text(h, version, 0);
    } else {
        parley__learn_html_puts(h, "model not registered");
    }
    parley__learn_html_puts(h, "</h1>\n<p class=\"meta\">Run ");
    field(h, s->created);
    parley__learn_html_puts(h, " by ");
    field(h, s->who);
    parley__learn_html_printf(h, "; training split fingerprint <code>%016" PRIx64 "</code></p>\n",
                              s->fingerprint);
    if (s->promoted)
        parley__learn_html_puts(h, "<div class=\"decision promoted\"><strong>Promoted: the new "
                                   "model is now the current one</strong>\n<p>");
    else
        parley__learn_html_printf(h, "<div class=\"decision kept\"><strong>%s</strong>\n<p>",
                                  s->has_current ? "Kept the current model: the new one was not "
                                                   "promoted"
                                                 : "Not promoted");
    parley__learn_html_text(h, s->decision, 0);
    parley__learn_html_puts(h, "</p></div>\n<table>\n<tr><th>on the held-out split</th>"
                               "<th>new</th><th>current</th><th>change</th></tr>\n");
    metric_row(h, "accuracy", s->fresh.accuracy, s->current.accuracy, s->has_current);
    metric_row(h, "macro-F1", s->fresh.macro_f1, s->current.macro_f1, s->has_current);
    metric_row(h, "ECE (lower is better)", s->fresh.ece, s->current.ece, s->has_current);
    parley__learn_html_printf(h, "</table>\n%s</header>\n",
                              s->has_current ? ""
                                             : "<p class=\"note\">No current model to compare "
                                               "with.</p>\n");
    parley__learn_html_puts(
        h, "<nav><a href=\"#data\">Data</a><a href=\"#intents\">Per-intent F1</a>"
           "<a href=\"#confusion\">Confusions</a><a href=\"#calibration\">Calibration</a>"
           "<a href=\"#curve\">Learning curve</a><a href=\"#contradictions\">Contradictions</a>"
           "<a href=\"#run\">Run</a></nav>\n");
}

static void count_row(struct learn_html *h, const char *what, uint64_t v)
{
    parley__learn_html_printf(h, "<tr><th>%s</th><td class=\"n\">", what);
    parley__learn_html_count(h, v);
    parley__learn_html_puts(h, "</td></tr>\n");
}

static void data(struct learn_html *h, const parley_learn_summary *s)
{
    static const char *const meaning[PARLEY_LEARN_DROP_COUNT] = {
        "the reader refused it (see the warnings of the run)",
        "another language than the run's",
        "customer without an active training_use consent",
        "no customer text left after scrubbing",
        "reason code the mapping does not name",
        "reason code mapped to \"-\" (not an intent)",
        "the same text was already kept",
        "almost the same text was already kept",
        "the same text was seen with other intents",
        "it has an intent (intent discovery looks at the rest)",
    };
    uint64_t dropped = 0;
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT; d++)
        dropped += s->dropped[d];
    parley__learn_html_puts(h, "<section id=\"data\">\n<h2>Data</h2>\n<div class=\"flex\">\n"
                               "<table>\n");
    count_row(h, "conversations read", s->conversations);
    count_row(h, "turns read", s->turns);
    parley__learn_html_puts(h, "<tr><th>bytes read</th><td class=\"n\">");
    parley__learn_html_count(h, s->bytes);
    parley__learn_html_printf(h, " (%.1f MB)</td></tr>\n", (double)s->bytes / 1e6);
    count_row(h, "conversations kept", s->kept);
    count_row(h, "of which authored examples", s->authored);
    count_row(h, "conversations dropped", dropped);
    count_row(h, "personal data values scrubbed", s->pii_findings);
    count_row(h, "training rows", s->train_rows);
    count_row(h, "held-out (test) rows", s->test_rows);
    parley__learn_html_puts(h, "</table>\n<table>\n<tr><th>dropped because</th><th>"
                               "conversations</th><th>meaning</th></tr>\n");
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT; d++) {
        parley__learn_html_printf(h, "<tr><td><code>%s</code></td><td class=\"n\">",
                                  parley_learn_drop_name((parley_learn_drop)d));
        parley__learn_html_count(h, s->dropped[d]);
        parley__learn_html_printf(h, "</td><td>%s</td></tr>\n", meaning[d]);
    }
    parley__learn_html_puts(h, "</table>\n</div>\n");
    parley__learn_svg_drops(h, s);
    parley__learn_html_puts(h, "</section>\n");
}

static void intents(struct learn_html *h, const parley_learn_summary *s, const size_t *order)
{
    size_t n = s->intents ? s->n_intents : 0;
    parley__learn_html_printf(h,
                              "<section id=\"intents\">\n<h2>Per-intent F1</h2>\n"
                              "<p class=\"note\">On the held-out split, weakest first; n is the "
                              "intent's number of test rows (its support). "
                              "<span class=\"key\" style=\"background:#2b6cb0\"></span>new"
                              "%s</p>\n",
                              s->has_current ? "<span class=\"key\" style=\"background:#dd6b20\">"
                                               "</span>current"
                                             : "");
    parley__learn_svg_f1(h, s, order);
    if (n)
        parley__learn_html_puts(h, "<details><summary>Table</summary>\n<table>\n<tr><th>intent"
                                   "</th><th>train rows</th><th>test rows</th><th>precision</th>"
                                   "<th>recall</th><th>F1</th><th>F1 current</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        const parley_learn_intent *it = &s->intents[order[i]];
        parley__learn_html_puts(h, "<tr><td class=\"t\">");
        parley__learn_html_text(h, it->intent, 0);
        parley__learn_html_puts(h, "</td><td class=\"n\">");
        parley__learn_html_count(h, it->train_rows);
        parley__learn_html_puts(h, "</td><td class=\"n\">");
        parley__learn_html_count(h, it->test_rows);
        parley__learn_html_puts(h, "</td><td class=\"n\">");
        parley__learn_html_num(h, it->precision, 3);
        parley__learn_html_puts(h, "</td><td class=\"n\">");
        parley__learn_html_num(h, it->recall, 3);
        parley__learn_html_puts(h, "</td><td class=\"n\">");
        parley__learn_html_num(h, it->f1, 3);
        parley__learn_html_puts(h, "</td><td class=\"n\">");
        parley__learn_html_num(h, it->f1_current >= 0 ? it->f1_current : NAN, 3);
        parley__learn_html_puts(h, "</td></tr>\n");
    }
    parley__learn_html_puts(h, n ? "</table></details>\n</section>\n" : "</section>\n");
}

static void bins_rows(struct learn_html *h, const char *model, const parley_learn_metrics *m)
{
    for (int b = 0; b < PARLEY_LEARN_BINS; b++) {
        if (!m->bin_rows[b])
            continue;
        parley__learn_html_printf(h, "<tr><td>%s</td><td>%.1f%s%.1f</td><td class=\"n\">", model,
                                  b / 10.0, EN_DASH, (b + 1) / 10.0);
        parley__learn_html_count(h, m->bin_rows[b]);
        parley__learn_html_puts(h, "</td><td class=\"n\">");
        parley__learn_html_num(h, m->bin_confidence[b], 3);
        parley__learn_html_puts(h, "</td><td class=\"n\">");
        parley__learn_html_num(h, m->bin_accuracy[b], 3);
        parley__learn_html_puts(h, "</td></tr>\n");
    }
}

static void calibration(struct learn_html *h, const parley_learn_summary *s)
{
    size_t rows = 0;
    parley__learn_html_puts(h, "<section id=\"calibration\">\n<h2>Calibration</h2>\n"
                               "<p class=\"note\">Reliability diagram: held-out rows grouped by "
                               "the model's top probability in ten bins; each point is a bin's "
                               "mean confidence against its accuracy, its area in proportion to "
                               "its rows. A calibrated model stays on the diagonal; below it, the "
                               "model is overconfident. ECE is the rows-weighted mean distance "
                               "to the diagonal.</p>\n");
    parley__learn_svg_calibration(h, s);
    for (int b = 0; b < PARLEY_LEARN_BINS; b++)
        rows |= s->fresh.bin_rows[b] | (s->has_current ? s->current.bin_rows[b] : 0);
    if (!rows) {
        parley__learn_html_puts(h, "</section>\n");
        return;
    }
    parley__learn_html_puts(h, "<details><summary>Table</summary>\n<table>\n<tr><th>model</th>"
                               "<th>top probability</th><th>rows</th><th>mean confidence</th>"
                               "<th>accuracy</th></tr>\n");
    bins_rows(h, "new", &s->fresh);
    if (s->has_current)
        bins_rows(h, "current", &s->current);
    parley__learn_html_puts(h, "</table></details>\n</section>\n");
}

static void contradictions(struct learn_html *h, const parley_learn_summary *s)
{
    size_t n = s->contradiction_text && s->contradiction_labels ? s->n_contradictions : 0;
    size_t shown = n < MAX_CONTRADICTIONS ? n : MAX_CONTRADICTIONS;
    parley__learn_html_puts(h, "<section id=\"contradictions\">\n<h2>Contradictions</h2>\n"
                               "<p class=\"note\">Texts seen with several intents, most frequent "
                               "first, as scrubbed. Fix their reason codes or the mapping: they "
                               "were left out of training.</p>\n");
    if (!n) {
        parley__learn_html_puts(h, "<p class=\"none\">none</p>\n</section>\n");
        return;
    }
    parley__learn_html_puts(h, "<table>\n<tr><th>text</th><th>intents (times)</th></tr>\n");
    for (size_t i = 0; i < shown; i++) {
        parley__learn_html_puts(h, "<tr><td class=\"t\">");
        parley__learn_html_text(h, s->contradiction_text[i], 0);
        parley__learn_html_puts(h, "</td><td class=\"t\">");
        parley__learn_html_text(h, s->contradiction_labels[i], 0);
        parley__learn_html_puts(h, "</td></tr>\n");
    }
    parley__learn_html_puts(h, "</table>\n");
    if (n > shown)
        parley__learn_html_printf(h, "<p class=\"note\">and %zu more, in the JSON summary.</p>\n",
                                  n - shown);
    parley__learn_html_puts(h, "</section>\n");
}

static void seconds_row(struct learn_html *h, const char *what, double v)
{
    parley__learn_html_printf(h, "<tr><th>%s</th><td class=\"n\">", what);
    parley__learn_html_num(h, v, 1);
    parley__learn_html_puts(h, " s</td></tr>\n");
}

static void run(struct learn_html *h, const parley_learn_summary *s)
{
    parley__learn_html_puts(h, "<section id=\"run\">\n<h2>Run</h2>\n<table>\n");
    seconds_row(h, "read, scrub, filter, de-duplicate, split", s->seconds_prepare);
    seconds_row(h, "train", s->seconds_train);
    seconds_row(h, "evaluate", s->seconds_eval);
    seconds_row(h, "total", s->seconds_total);
    parley__learn_html_puts(h, "<tr><th>peak memory</th><td class=\"n\">");
    parley__learn_html_count(h, s->peak_rss_mb);
    parley__learn_html_puts(h, " MB</td></tr>\n</table>\n<p>Training options:</p>\n<pre>");
    parley__learn_html_text(h, s->params ? s->params : EN_DASH, 0);
    parley__learn_html_puts(h, "</pre>\n</section>\n");
}

static double f1_key(const parley_learn_intent *it)
{
    return isfinite(it->f1) ? it->f1 : -INFINITY;
}

/* Weakest first, unknown F1 before any; ties by name for a stable page. */
static int by_f1(const void *a, const void *b)
{
    const parley_learn_intent *x = *(const parley_learn_intent *const *)a;
    const parley_learn_intent *y = *(const parley_learn_intent *const *)b;
    double fx = f1_key(x), fy = f1_key(y);
    if (fx != fy)
        return fx < fy ? -1 : 1;
    return strcmp(or_empty(x->intent), or_empty(y->intent));
}

static int by_rows(const void *a, const void *b)
{
    const parley_learn_curve_point *x = *(const parley_learn_curve_point *const *)a;
    const parley_learn_curve_point *y = *(const parley_learn_curve_point *const *)b;
    return (x->train_rows > y->train_rows) - (x->train_rows < y->train_rows);
}

/* The sorted views: qsort has no context argument, so pointers are sorted
 * and turned back into indices. */
static parley_err sort_views(const parley_learn_summary *s, size_t **order, size_t **curve)
{
    size_t ni = s->intents ? s->n_intents : 0, nc = s->curve ? s->n_curve : 0;
    const void **p = parley__mallocarray(ni > nc ? ni : nc, sizeof(*p));
    parley_err rc = PARLEY_ERR_NOMEM;
    if (!p || !(*order = parley__mallocarray(ni, sizeof(**order))) ||
        !(*curve = parley__mallocarray(nc, sizeof(**curve))))
        goto out;
    for (size_t i = 0; i < ni; i++)
        p[i] = &s->intents[i];
    qsort(p, ni, sizeof(*p), by_f1);
    for (size_t i = 0; i < ni; i++)
        (*order)[i] = (size_t)((const parley_learn_intent *)p[i] - s->intents);
    for (size_t i = 0; i < nc; i++)
        p[i] = &s->curve[i];
    qsort(p, nc, sizeof(*p), by_rows);
    for (size_t i = 0; i < nc; i++)
        (*curve)[i] = (size_t)((const parley_learn_curve_point *)p[i] - s->curve);
    rc = PARLEY_OK;
out:
    parley__free(p);
    return rc;
}

parley_err parley_learn_report_html(const parley_learn_summary *s, FILE *out, parley_error *err)
{
    struct learn_html h = {out, 0, 0};
    size_t *order = NULL, *curve = NULL;
    parley_err rc;

    if (!s || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot write the learning report: bad argument");
    if ((rc = sort_views(s, &order, &curve)) != PARLEY_OK) {
        (void)parley_error_set(err, rc, "cannot write the learning report: out of memory");
        goto out;
    }
    errno = 0;
    parley__learn_html_puts(&h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                                "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                                "content=\"width=device-width, initial-scale=1\">\n<title>");
    parley__learn_html_text(&h, s->language, 0);
    parley__learn_html_puts(&h, " ");
    parley__learn_html_text(&h, s->version, 0);
    parley__learn_html_printf(
        &h, " learning report</title>\n<style>\n%s</style>\n</head>\n<body>\n", STYLE);
    header(&h, s);
    data(&h, s);
    intents(&h, s, order);
    parley__learn_html_puts(&h, "<section id=\"confusion\">\n<h2>Most confused intents</h2>\n");
    parley__learn_svg_confusion(&h, s);
    parley__learn_html_puts(&h, "</section>\n");
    calibration(&h, s);
    parley__learn_html_puts(&h, "<section id=\"curve\">\n<h2>Learning curve</h2>\n"
                                "<p class=\"note\">The new model trained on a share of the "
                                "training split, scored on the whole held-out split: if the "
                                "scores still climb at the right, more data would help.</p>\n");
    parley__learn_svg_curve(&h, s, curve);
    parley__learn_html_puts(&h, "</section>\n");
    contradictions(&h, s);
    run(&h, s);
    parley__learn_html_puts(&h, "</body>\n</html>\n");
    if (!h.failed && fflush(out) != 0)
        write_failed(&h);
    if (h.failed || ferror(out))
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write the learning report: %s",
                              h.errnum ? strerror(h.errnum) : "write error");
out:
    parley__free(order);
    parley__free(curve);
    return rc;
}
