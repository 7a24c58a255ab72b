/* The problem report of a bot definition check: a growable list of
 * FILE:LINE:COLUMN problems, capped, sorted for printing. */
#include <stdlib.h>
#include <string.h>

#include "bot/internal.h"

void parley__bot_report_add(parley_bot_report *r, const char *file, unsigned long line,
                            unsigned long column, const char *msg)
{
    parley_bot_problem *p;
    r->total++;
    if (r->n >= PARLEY_BOT_MAX_PROBLEMS)
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        parley_bot_problem *np = parley__realloc(r->problems, cap * sizeof(*np));
        if (!np) {
            r->nomem = 1;
            return;
        }
        r->problems = np;
        r->cap = cap;
    }
    p = &r->problems[r->n];
    p->file = parley__strdup(file ? file : "");
    p->message = parley__strdup(msg);
    p->line = line;
    p->column = column;
    if (!p->file || !p->message) {
        parley__free((void *)p->file);
        parley__free((void *)p->message);
        r->nomem = 1;
        return;
    }
    r->n++;
}

struct sortable {
    const parley_bot_problem *p;
    size_t order;
};

static int cmp_problem(const void *a, const void *b)
{
    const struct sortable *x = a, *y = b;
    int c = strcmp(x->p->file, y->p->file);
    if (c)
        return c;
    if (x->p->line != y->p->line)
        return x->p->line < y->p->line ? -1 : 1;
    if (x->p->column != y->p->column)
        return x->p->column < y->p->column ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

void parley__bot_report_sort(parley_bot_report *r)
{
    struct sortable *s;
    parley_bot_problem *sorted;
    if (r->n < 2)
        return;
    s = parley__mallocarray(r->n, sizeof(*s));
    sorted = parley__mallocarray(r->n, sizeof(*sorted));
    if (!s || !sorted) {
        parley__free(s);
        parley__free(sorted);
        return; /* unsorted is still a complete report */
    }
    for (size_t i = 0; i < r->n; i++) {
        s[i].p = &r->problems[i];
        s[i].order = i;
    }
    qsort(s, r->n, sizeof(*s), cmp_problem);
    for (size_t i = 0; i < r->n; i++)
        sorted[i] = *s[i].p;
    memcpy(r->problems, sorted, r->n * sizeof(*sorted));
    parley__free(s);
    parley__free(sorted);
}

size_t parley_bot_report_count(const parley_bot_report *r)
{
    return r ? r->n : 0;
}

size_t parley_bot_report_total(const parley_bot_report *r)
{
    return r ? r->total : 0;
}

const parley_bot_problem *parley_bot_report_problem(const parley_bot_report *r, size_t i)
{
    return r && i < r->n ? &r->problems[i] : NULL;
}

void parley_bot_report_free(parley_bot_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        parley__free((void *)r->problems[i].file);
        parley__free((void *)r->problems[i].message);
    }
    parley__free(r->problems);
    parley__free(r);
}
