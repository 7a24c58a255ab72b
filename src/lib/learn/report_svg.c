/* The inline SVG charts of the `parley learn` report: dropped conversations
 * per reason, per-intent F1, the confusion heat map, the reliability
 * diagram and the learning curve. Coordinates come only from clamped,
 * finite values, so a NaN in the summary cannot reach the markup; the
 * exact figures are in each mark's <title> (a tooltip, no script). */
#include <math.h>
#include <string.h>

#include "learn/report_internal.h"

#define NEW_COLOR  "#2b6cb0"
#define CUR_COLOR  "#dd6b20"
#define F1_COLOR   "#6b46c1"
#define BAD_COLOR  "#c53030"
#define GRID_COLOR "#e2e8f0"
#define EN_DASH    "\xe2\x80\x93"
/* Labels longer than this many characters are cut, whole in the tooltip. */
#define LABEL_CHARS 32

static double unit(double v)
{
    if (!isfinite(v) || v < 0)
        return 0;
    return v > 1 ? 1 : v;
}

static void svg_open(struct learn_html *h, double w, double ht, const char *label)
{
    parley__learn_html_printf(h,
                              "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                              "role=\"img\" aria-label=\"%s\">\n",
                              w, ht, w, ht, label);
}

static void none(struct learn_html *h, const char *what)
{
    parley__learn_html_printf(h, "<p class=\"none\">%s</p>\n", what);
}

/* A text label ending at `x` (right-aligned), cut to `chars`, whole in its
 * tooltip. */
static void label_end(struct learn_html *h, double x, double y, const char *s, size_t chars)
{
    parley__learn_html_printf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\"><title>", x, y);
    parley__learn_html_text(h, s, 0);
    parley__learn_html_puts(h, "</title>");
    parley__learn_html_text(h, s, chars);
    parley__learn_html_puts(h, "</text>\n");
}

void parley__learn_svg_drops(struct learn_html *h, const parley_learn_summary *s)
{
    const double left = 120, width = 380, row = 22, top = 6;
    uint64_t max = 0;
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT; d++)
        max = s->dropped[d] > max ? s->dropped[d] : max;
    if (!max) {
        none(h, "none dropped");
        return;
    }
    svg_open(h, left + width + 160, 2 * top + row * PARLEY_LEARN_DROP_COUNT,
             "conversations dropped per reason");
    for (int d = 0; d < PARLEY_LEARN_DROP_COUNT; d++) {
        double y = top + d * row, w = width * (double)s->dropped[d] / (double)max;
        parley__learn_html_printf(h,
                                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n"
                                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                                  "fill=\"" BAD_COLOR "\"/>\n<text x=\"%.1f\" y=\"%.1f\">",
                                  left - 6, y + row / 2 + 4,
                                  parley_learn_drop_name((parley_learn_drop)d), left, y + 3, w,
                                  row - 6, left + w + 6, y + row / 2 + 4);
        parley__learn_html_count(h, s->dropped[d]);
        if (s->conversations)
            parley__learn_html_printf(h, " (%.1f%%)",
                                      100.0 * (double)s->dropped[d] / (double)s->conversations);
        parley__learn_html_puts(h, "</text>\n");
    }
    parley__learn_html_puts(h, "</svg>\n");
}

/* Vertical grid lines and their labels, top and bottom, for a 0..1 axis. */
static void unit_grid_x(struct learn_html *h, double left, double plot, double top, double bottom)
{
    for (int t = 0; t <= 5; t++) {
        double x = left + plot * t / 5;
        parley__learn_html_printf(h,
                                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                  "stroke=\"" GRID_COLOR "\"/>\n"
                                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                                  "class=\"a\">%.1f</text>\n"
                                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                                  "class=\"a\">%.1f</text>\n",
                                  x, top - 4, x, bottom, x, top - 8, t / 5.0, x, bottom + 14,
                                  t / 5.0);
    }
}

static int has_f1_current(const parley_learn_intent *it)
{
    return isfinite(it->f1_current) && it->f1_current >= 0;
}

void parley__learn_svg_f1(struct learn_html *h, const parley_learn_summary *s, const size_t *order)
{
    const double left = 230, plot = 440, right = 170, top = 24;
    size_t n = s->intents ? s->n_intents : 0;
    int cur = 0;
    for (size_t i = 0; i < n; i++)
        cur |= has_f1_current(&s->intents[i]);
    if (!n) {
        none(h, "none: no intent in the held-out split");
        return;
    }
    /* Two bars a row with a current model to compare with, else one: ~300
     * intents make a page-long chart that scrolls with the text. */
    const double row = cur ? 22 : 16, bar = cur ? 8 : 10, bottom = top + (double)n * row;
    svg_open(h, left + plot + right, bottom + 24, "F1 per intent, weakest first");
    unit_grid_x(h, left, plot, top, bottom);
    for (size_t i = 0; i < n; i++) {
        const parley_learn_intent *it = &s->intents[order[i]];
        double y = top + (double)i * row, by = cur ? y + 2 : y + (row - bar) / 2;
        parley__learn_html_puts(h, "<g><title>");
        parley__learn_html_text(h, it->intent, 0);
        parley__learn_html_puts(h, ": F1 ");
        parley__learn_html_num(h, it->f1, 3);
        if (has_f1_current(it)) {
            parley__learn_html_puts(h, ", current ");
            parley__learn_html_num(h, it->f1_current, 3);
        }
        parley__learn_html_printf(h, "; %zu test rows, %zu training rows</title>\n", it->test_rows,
                                  it->train_rows);
        label_end(h, left - 6, y + row / 2 + 4, it->intent, LABEL_CHARS);
        parley__learn_html_printf(h,
                                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                                  "fill=\"" NEW_COLOR "\"/>\n",
                                  left, by, plot * unit(it->f1), bar);
        if (has_f1_current(it))
            parley__learn_html_printf(h,
                                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                      "height=\"%.1f\" fill=\"" CUR_COLOR "\"/>\n",
                                      left, by + bar + 1, plot * unit(it->f1_current), bar);
        parley__learn_html_printf(h, "<text x=\"%.1f\" y=\"%.1f\">", left + plot + 6,
                                  y + row / 2 + 4);
        parley__learn_html_num(h, it->f1, 3);
        if (has_f1_current(it)) {
            parley__learn_html_puts(h, " / ");
            parley__learn_html_num(h, it->f1_current, 3);
        }
        parley__learn_html_printf(h, "  n=%zu</text>\n</g>\n", it->test_rows);
    }
    parley__learn_html_puts(h, "</svg>\n");
}

void parley__learn_svg_confusion(struct learn_html *h, const parley_learn_summary *s)
{
    const size_t K = s->confusion_k;
    const double left = 200, top = 150;
    size_t k = K < PARLEY_LEARN_CONFUSION_DRAWN ? K : PARLEY_LEARN_CONFUSION_DRAWN;
    double cell;
    if (!K || !s->confusion_labels || !s->confusion) {
        none(h, "none: no confusions to show");
        return;
    }
    cell = floor(600.0 / (double)k);
    cell = cell < 16 ? 16 : cell > 36 ? 36 : cell;
    parley__learn_html_printf(h,
                              "<p class=\"note\">Rows: the right intent; columns: the predicted "
                              "one. Cells are shaded by their share of the row among these %zu "
                              "intents (square-root scale): blue on the diagonal (right), red "
                              "elsewhere (wrong).</p>\n",
                              K);
    svg_open(h, left + (double)k * cell + 40, top + (double)k * cell + 10,
             "confusion heat map of the most confused intents");
    for (size_t j = 0; j < k; j++) {
        double x = left + ((double)j + 0.5) * cell;
        parley__learn_html_printf(h, "<text transform=\"translate(%.1f,%.1f) rotate(-50)\"><title>",
                                  x + 3, top - 6);
        parley__learn_html_text(h, s->confusion_labels[j], 0);
        parley__learn_html_puts(h, "</title>");
        parley__learn_html_text(h, s->confusion_labels[j], 24);
        parley__learn_html_puts(h, "</text>\n");
    }
    for (size_t i = 0; i < k; i++) {
        const size_t *r = s->confusion + i * K;
        double y = top + (double)i * cell, total = 0;
        for (size_t j = 0; j < K; j++)
            total += (double)r[j];
        label_end(h, left - 6, y + cell / 2 + 4, s->confusion_labels[i], 28);
        for (size_t j = 0; j < k; j++) {
            /* Shaded by the square root of the share: errors are a few
             * percent of a row and would hardly show on a linear scale. */
            double x = left + (double)j * cell, share = total > 0 ? (double)r[j] / total : 0;
            if (r[j])
                parley__learn_html_printf(h,
                                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                          "height=\"%.1f\" fill=\"%s\" fill-opacity=\"%.3f\">",
                                          x, y, cell - 1, cell - 1, i == j ? NEW_COLOR : BAD_COLOR,
                                          0.1 + 0.9 * sqrt(share));
            else
                parley__learn_html_printf(h,
                                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                          "height=\"%.1f\" fill=\"#f7fafc\">",
                                          x, y, cell - 1, cell - 1);
            parley__learn_html_puts(h, "<title>");
            parley__learn_html_text(h, s->confusion_labels[i], 0);
            parley__learn_html_puts(h, " \xe2\x86\x92 ");
            parley__learn_html_text(h, s->confusion_labels[j], 0);
            parley__learn_html_printf(h, ": %zu (%.1f%% of the row)</title></rect>\n", r[j],
                                      100 * share);
            /* Counts only where they fit; the tooltip has them all. */
            if (r[j] && cell >= 20) {
                parley__learn_html_printf(h,
                                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                                          "class=\"s%s\">",
                                          x + cell / 2, y + cell / 2 + 3, share > 0.3 ? " w" : "");
                parley__learn_html_count(h, r[j]);
                parley__learn_html_puts(h, "</text>\n");
            }
        }
    }
    parley__learn_html_puts(h, "</svg>\n");
    if (k < K)
        parley__learn_html_printf(h,
                                  "<p class=\"note\">The first %zu of the %zu intents are drawn; "
                                  "the JSON summary has the whole matrix.</p>\n",
                                  k, K);
}

/* Horizontal grid lines and labels for a y axis from y0 to y1. */
static void grid_y(struct learn_html *h, double ox, double oy, double w, double ht, double y0,
                   double y1, double step)
{
    int steps = (int)floor((y1 - y0) / step + 1e-6);
    for (int t = 0; t <= steps; t++) {
        double v = y0 + t * step, y = oy + ht * (1 - (v - y0) / (y1 - y0));
        parley__learn_html_printf(h,
                                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                  "stroke=\"" GRID_COLOR "\"/>\n"
                                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                                  "class=\"a\">%.1f</text>\n",
                                  ox, y, ox + w, y, ox - 6, y + 4, v);
    }
}

static void axis_titles(struct learn_html *h, double ox, double oy, double w, double ht,
                        const char *x_title, const char *y_title)
{
    parley__learn_html_printf(h,
                              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                              "fill=\"none\" stroke=\"#a0aec0\"/>\n"
                              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n"
                              "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" "
                              "text-anchor=\"middle\">%s</text>\n",
                              ox, oy, w, ht, ox + w / 2, oy + ht + 36, x_title, ox - 38,
                              oy + ht / 2, y_title);
}

static void legend(struct learn_html *h, double x, double y, const char *color, const char *dash,
                   const char *name)
{
    parley__learn_html_printf(h,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"%s\" stroke-width=\"2\"%s/>\n"
                              "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                              x, y, x + 22, y, color, dash, x + 28, y + 4, name);
}

static void reliability(struct learn_html *h, const parley_learn_metrics *m, const char *color,
                        const char *model, double max_rows, double ox, double oy, double size)
{
    parley__learn_html_printf(h,
                              "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                              "points=\"",
                              color);
    for (int b = 0; b < PARLEY_LEARN_BINS; b++)
        if (m->bin_rows[b] && isfinite(m->bin_confidence[b]) && isfinite(m->bin_accuracy[b]))
            parley__learn_html_printf(h, "%.1f,%.1f ", ox + size * unit(m->bin_confidence[b]),
                                      oy + size * (1 - unit(m->bin_accuracy[b])));
    parley__learn_html_puts(h, "\"/>\n");
    for (int b = 0; b < PARLEY_LEARN_BINS; b++) {
        if (!m->bin_rows[b] || !isfinite(m->bin_confidence[b]) || !isfinite(m->bin_accuracy[b]))
            continue;
        /* Area in proportion to the rows. */
        double r = 2.5 + 7.5 * sqrt((double)m->bin_rows[b] / max_rows);
        parley__learn_html_printf(h,
                                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
                                  "fill-opacity=\"0.6\" stroke=\"%s\"><title>%s model, top "
                                  "probability %.1f" EN_DASH "%.1f: %zu rows, mean confidence "
                                  "%.3f, accuracy %.3f</title></circle>\n",
                                  ox + size * unit(m->bin_confidence[b]),
                                  oy + size * (1 - unit(m->bin_accuracy[b])), r, color, color,
                                  model, b / 10.0, (b + 1) / 10.0, m->bin_rows[b],
                                  m->bin_confidence[b], m->bin_accuracy[b]);
    }
}

void parley__learn_svg_calibration(struct learn_html *h, const parley_learn_summary *s)
{
    const double ox = 56, oy = 12, size = 300;
    double max_rows = 0;
    for (int b = 0; b < PARLEY_LEARN_BINS; b++) {
        max_rows = fmax(max_rows, (double)s->fresh.bin_rows[b]);
        if (s->has_current)
            max_rows = fmax(max_rows, (double)s->current.bin_rows[b]);
    }
    if (max_rows == 0) {
        none(h, "none: no held-out rows");
        return;
    }
    svg_open(h, ox + size + 150, oy + size + 48, "reliability diagram");
    grid_y(h, ox, oy, size, size, 0, 1, 0.2);
    for (int t = 0; t <= 5; t++)
        parley__learn_html_printf(h,
                                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                  "stroke=\"" GRID_COLOR "\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                                  "text-anchor=\"middle\" class=\"a\">%.1f</text>\n",
                                  ox + size * t / 5, oy, ox + size * t / 5, oy + size,
                                  ox + size * t / 5, oy + size + 16, t / 5.0);
    parley__learn_html_printf(h,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"#718096\" stroke-dasharray=\"4 4\"/>\n",
                              ox, oy + size, ox + size, oy);
    axis_titles(h, ox, oy, size, size, "mean confidence", "accuracy");
    /* The new model is drawn last, on top. */
    if (s->has_current)
        reliability(h, &s->current, CUR_COLOR, "current", max_rows, ox, oy, size);
    reliability(h, &s->fresh, NEW_COLOR, "new", max_rows, ox, oy, size);
    legend(h, ox + size + 16, oy + 10, NEW_COLOR, "", "new model");
    if (s->has_current)
        legend(h, ox + size + 16, oy + 30, CUR_COLOR, "", "current model");
    legend(h, ox + size + 16, oy + 50, "#718096", " stroke-dasharray=\"4 4\"", "calibrated");
    parley__learn_html_puts(h, "</svg>\n");
}

/* The learning curve's plot box and axes: x is log10 of training rows. */
struct scale {
    double ox, oy, w, ht;
    double lx0, lx1; /* x range, log10 rows */
    double y0;       /* y range is y0..1 */
};

static double log_rows(size_t rows)
{
    return log10(rows ? (double)rows : 1);
}

static double sx(const struct scale *sc, double lx)
{
    return sc->ox + sc->w * (lx - sc->lx0) / (sc->lx1 - sc->lx0);
}

static double sy(const struct scale *sc, double v)
{
    return sc->oy + sc->ht * (1 - unit((v - sc->y0) / (1 - sc->y0)));
}

/* 2000 as "2k", for the ticks of a 1-2-5 axis. */
static void tick_label(struct learn_html *h, double v)
{
    if (v >= 1e6)
        parley__learn_html_printf(h, "%gM", v / 1e6);
    else if (v >= 1e3)
        parley__learn_html_printf(h, "%gk", v / 1e3);
    else
        parley__learn_html_printf(h, "%g", v);
}

static void tick_x(struct learn_html *h, const struct scale *sc, double v)
{
    double x = sx(sc, log10(v));
    parley__learn_html_printf(h,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"" GRID_COLOR "\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                              "text-anchor=\"middle\" class=\"a\">",
                              x, sc->oy, x, sc->oy + sc->ht, x, sc->oy + sc->ht + 16);
    tick_label(h, v);
    parley__learn_html_puts(h, "</text>\n");
}

static void curve_line(struct learn_html *h, const parley_learn_curve_point *points, size_t n,
                       const size_t *curve, const struct scale *sc, int f1, const char *color,
                       const char *dash)
{
    parley__learn_html_printf(h,
                              "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
                              "points=\"",
                              color, dash);
    for (size_t i = 0; i < n; i++) {
        const parley_learn_curve_point *c = &points[curve[i]];
        double v = f1 ? c->macro_f1 : c->accuracy;
        if (isfinite(v))
            parley__learn_html_printf(h, "%.1f,%.1f ", sx(sc, log_rows(c->train_rows)), sy(sc, v));
    }
    parley__learn_html_puts(h, "\"/>\n");
    for (size_t i = 0; i < n; i++) {
        const parley_learn_curve_point *c = &points[curve[i]];
        double v = f1 ? c->macro_f1 : c->accuracy;
        if (isfinite(v))
            parley__learn_html_printf(h,
                                      "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">"
                                      "<title>%zu training rows: %s %.3f</title></circle>\n",
                                      sx(sc, log_rows(c->train_rows)), sy(sc, v), color,
                                      c->train_rows, f1 ? "macro-F1" : "accuracy", v);
    }
}

void parley__learn_svg_curve(struct learn_html *h, const parley_learn_summary *s,
                             const size_t *curve)
{
    struct scale sc = {60, 12, 480, 240, 0, 0, 0};
    double lo = HUGE_VAL, dmin = HUGE_VAL, dmax = -HUGE_VAL, pad;
    int ticks = 0;
    size_t n = s->curve ? s->n_curve : 0;
    for (size_t i = 0; i < n; i++) {
        const parley_learn_curve_point *c = &s->curve[i];
        if (!isfinite(c->accuracy) && !isfinite(c->macro_f1))
            continue;
        dmin = fmin(dmin, log_rows(c->train_rows));
        dmax = fmax(dmax, log_rows(c->train_rows));
        lo = fmin(lo, isfinite(c->accuracy) ? c->accuracy : HUGE_VAL);
        lo = fmin(lo, isfinite(c->macro_f1) ? c->macro_f1 : HUGE_VAL);
    }
    if (!isfinite(lo)) {
        none(h, "none: no learning curve points");
        return;
    }
    /* A single size is drawn between half and twice itself; a margin keeps
     * the end points off the frame. */
    pad = dmax - dmin < 0.1 ? 0.3 : 0.04 * (dmax - dmin);
    sc.lx0 = dmin - pad;
    sc.lx1 = dmax + pad;
    /* The y axis starts a step below the lowest score, not at 0: the scores
     * of a curve differ by a few points and would look flat on 0..1. */
    sc.y0 = fmin(floor(unit(lo) * 10) / 10, 0.9);
    if (1 - sc.y0 > 0.5)
        sc.y0 = floor(sc.y0 * 5) / 5;
    svg_open(h, sc.ox + sc.w + 150, sc.oy + sc.ht + 48, "learning curve");
    grid_y(h, sc.ox, sc.oy, sc.w, sc.ht, sc.y0, 1, 1 - sc.y0 <= 0.5 ? 0.1 : 0.2);
    for (int e = (int)floor(sc.lx0); e <= (int)ceil(sc.lx1); e++) {
        static const double steps[] = {1, 2, 5};
        for (int d = 0; d < 3; d++) {
            double v = steps[d] * pow(10, e);
            if (log10(v) >= sc.lx0 && log10(v) <= sc.lx1) {
                tick_x(h, &sc, v);
                ticks++;
            }
        }
    }
    if (ticks < 2) {
        /* Narrower than one 1-2-5 step: the data's own sizes mark the axis. */
        tick_x(h, &sc, round(pow(10, dmin)));
        if (dmax > dmin)
            tick_x(h, &sc, round(pow(10, dmax)));
    }
    axis_titles(h, sc.ox, sc.oy, sc.w, sc.ht, "training rows (log scale)",
                "score on the held-out split");
    curve_line(h, s->curve, n, curve, &sc, 1, F1_COLOR, " stroke-dasharray=\"6 3\"");
    curve_line(h, s->curve, n, curve, &sc, 0, NEW_COLOR, "");
    legend(h, sc.ox + sc.w + 16, sc.oy + 10, NEW_COLOR, "", "accuracy");
    legend(h, sc.ox + sc.w + 16, sc.oy + 30, F1_COLOR, " stroke-dasharray=\"6 3\"", "macro-F1");
    parley__learn_html_puts(h, "</svg>\n");
}
