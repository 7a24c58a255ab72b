/* Private declarations shared by the files of the `parley learn` report:
 * the HTML page writer (report_html.c), its SVG charts (report_svg.c) and
 * the calibration bins the JSON summary (report_json.c) also lists. */
#ifndef PARLEY_LEARN_REPORT_INTERNAL_H
#define PARLEY_LEARN_REPORT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "common/internal.h"
#include "parley/learn.h"

/* Writes to a FILE and remembers the first failure, so the page code can
 * write on without checking each call; the caller checks once at the end.
 * Numbers are written by printf in the C locale (libparley never calls
 * setlocale), so SVG coordinates always use '.'. */
struct learn_html {
    FILE *out;
    int failed;
    int errnum; /* errno of the first failed write, 0 if unknown */
};

void parley__learn_html_puts(struct learn_html *h, const char *s);
void parley__learn_html_printf(struct learn_html *h, const char *fmt, ...) PARLEY_PRINTF(2, 3);
/* `s` (NULL: nothing) HTML-escaped for element text and double-quoted
 * attributes alike, invalid UTF-8 and control characters written as
 * U+FFFD. At most `max_chars` code points (0: no limit) then an ellipsis. */
void parley__learn_html_text(struct learn_html *h, const char *s, size_t max_chars);
/* `v` with thousands separated by commas ("1,234,567"). */
void parley__learn_html_count(struct learn_html *h, uint64_t v);
/* `v` with `decimals` digits, or an en dash when it is NaN or infinite. */
void parley__learn_html_num(struct learn_html *h, double v, int decimals);

/* The charts. Each writes one <svg> element, or a "none" paragraph when it
 * has nothing to draw. `order` lists intent indices by new F1, weakest
 * first; `curve` lists curve point indices by training rows. */
void parley__learn_svg_drops(struct learn_html *h, const parley_learn_summary *s);
void parley__learn_svg_f1(struct learn_html *h, const parley_learn_summary *s, const size_t *order);
void parley__learn_svg_confusion(struct learn_html *h, const parley_learn_summary *s);
void parley__learn_svg_calibration(struct learn_html *h, const parley_learn_summary *s);
void parley__learn_svg_curve(struct learn_html *h, const parley_learn_summary *s,
                             const size_t *curve);

/* Calibration bins of parley_learn_metrics, b covering [b/10, (b+1)/10). */
#define PARLEY_LEARN_BINS 10
_Static_assert(sizeof(((parley_learn_metrics *)0)->bin_rows) == PARLEY_LEARN_BINS * sizeof(size_t),
               "parley_learn_metrics has PARLEY_LEARN_BINS bins");

/* Largest confusion matrix drawn; the JSON summary has all of it. */
#define PARLEY_LEARN_CONFUSION_DRAWN 60

#endif
