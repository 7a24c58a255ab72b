/* Parsers for the line-oriented training-data formats: fastText, CSV
 * (RFC 4180, with header detection), TSV and JSON Lines. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "nlu/data_internal.h"

#define LABEL_PREFIX     "__label__"
#define LABEL_PREFIX_LEN (sizeof(LABEL_PREFIX) - 1)
/* Deepest JSON nesting handed to jansson. */
#define MAX_JSON_DEPTH 64

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!parley__nlu_data_isspace((unsigned char)p[i]))
            return 0;
    }
    return 1;
}

/* Reads the next line that is not blank; `*has` 0 at the end. An overlong
 * line is a malformed row. */
static parley_err next_nonblank(parley_nlu_data *d, const char **p, size_t *n, int *has,
                                parley_error *err)
{
    for (;;) {
        int overlong;
        parley_err rc = parley__nlu_data_read_line(d, p, n, &overlong, has, err);
        if (rc != PARLEY_OK || !*has)
            return rc;
        if (overlong)
            return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, d->lines.lineno, err,
                                        "line longer than %u bytes", PARLEY__NLU_DATA_MAX_LINE);
        if (!is_blank(*p, *n))
            return PARLEY_OK;
    }
}

static size_t skip_space(const char *p, size_t n, size_t i)
{
    while (i < n && parley__nlu_data_isspace((unsigned char)p[i]))
        i++;
    return i;
}

static size_t skip_word(const char *p, size_t n, size_t i)
{
    while (i < n && !parley__nlu_data_isspace((unsigned char)p[i]))
        i++;
    return i;
}

static int has_prefix(const char *p, size_t n, size_t i)
{
    return n - i >= LABEL_PREFIX_LEN && memcmp(p + i, LABEL_PREFIX, LABEL_PREFIX_LEN) == 0;
}

parley_err parley__nlu_data_fasttext_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                          parley_error *err)
{
    const char *p;
    size_t n, i, label, label_end, line;
    parley_err rc;

    if ((rc = next_nonblank(d, &p, &n, has, err)) != PARLEY_OK || !*has)
        return rc;
    line = d->lines.lineno;
    i = skip_space(p, n, 0);
    if (!has_prefix(p, n, i))
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err,
                                    "line does not start with '" LABEL_PREFIX "'");
    label = i + LABEL_PREFIX_LEN;
    label_end = skip_word(p, n, label);
    /* Further labels: fastText's multi-label rows; the first one wins. */
    i = skip_space(p, n, label_end);
    while (has_prefix(p, n, i))
        i = skip_space(p, n, skip_word(p, n, i));
    if (label_end == label)
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err, "empty label");
    if (i == n)
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err, "missing text after label");
    return parley__nlu_data_finish(d, p + i, n - i, p + label, label_end - label, "", 0, line, ex,
                                   err);
}

/* ---- CSV and TSV ---- */

static const char *const text_names[] = {"text", "utterance", "sentence", "example", "query"};
static const char *const label_names[] = {"label", "intent", "category"};
static const char *const lang_names[] = {"language", "lang"};

void parley__nlu_data_csv_reset(parley_nlu_data *d)
{
    struct parley__nlu_csv *c = &d->csv;

    c->header_pending = 1;
    c->header = 0;
    for (size_t k = 0; k < 3; k++) {
        c->col[k] = k;
        c->hdr[k] = SIZE_MAX;
        c->have[k] = 0;
        parley__buf_reset(&c->slot[k]);
    }
}

void parley__nlu_data_csv_release(parley_nlu_data *d)
{
    for (size_t k = 0; k < 3; k++)
        parley__nlu_data_buf_wipe(&d->csv.slot[k]);
}

static int name_in(const char *name, size_t n, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
            return 1;
    }
    return 0;
}

/* Starts field `idx`: returns the slot that keeps it, or NULL. */
static struct parley_buf *field_begin(struct parley__nlu_csv *c, size_t idx)
{
    c->name_len = 0;
    for (size_t k = 0; k < 3; k++) {
        if (c->col[k] == idx) {
            c->have[k] = 1;
            return &c->slot[k];
        }
    }
    return NULL;
}

static parley_err field_add(struct parley__nlu_csv *c, struct parley_buf *dst, const char *p,
                            size_t n)
{
    if (c->header_pending) {
        if (c->name_len < sizeof(c->name)) {
            size_t room = sizeof(c->name) - c->name_len;
            memcpy(c->name + c->name_len, p, n < room ? n : room);
        }
        c->name_len = n < SIZE_MAX - c->name_len ? c->name_len + n : SIZE_MAX;
    }
    return dst ? parley__buf_add(dst, p, n) : PARLEY_OK;
}

/* Ends field `idx`; in a possible header, notes which column it names. */
static void field_end(struct parley__nlu_csv *c, size_t idx)
{
    const char *name = c->name;
    size_t n = c->name_len;

    if (!c->header_pending || n > sizeof(c->name))
        return;
    while (n && parley__nlu_data_isspace((unsigned char)name[0])) {
        name++;
        n--;
    }
    while (n && parley__nlu_data_isspace((unsigned char)name[n - 1]))
        n--;
    if (c->hdr[0] == SIZE_MAX && name_in(name, n, text_names, 5))
        c->hdr[0] = idx;
    else if (c->hdr[1] == SIZE_MAX && name_in(name, n, label_names, 3))
        c->hdr[1] = idx;
    else if (c->hdr[2] == SIZE_MAX && name_in(name, n, lang_names, 2))
        c->hdr[2] = idx;
}

enum { F_START, F_PLAIN, F_QUOTED, F_QUOTE };

static parley_err nomem(parley_nlu_data *d, size_t line, parley_error *err)
{
    return parley__nlu_data_fatal(d, PARLEY_ERR_NOMEM, line, err, "out of memory");
}

/* Reads one record into the slots; `*nfields` is its field count. */
static parley_err read_record(parley_nlu_data *d, int *has, size_t *line, size_t *nfields,
                              parley_error *err)
{
    struct parley__nlu_csv *c = &d->csv;
    const char sep = d->fmt == PARLEY_NLU_FORMAT_TSV ? '\t' : ',';
    const int quoting = d->fmt == PARLEY_NLU_FORMAT_CSV;
    struct parley_buf *dst;
    const char *p;
    size_t n, total, idx = 0;
    int state = F_START;
    parley_err rc;

    if ((rc = next_nonblank(d, &p, &n, has, err)) != PARLEY_OK || !*has)
        return rc;
    *line = d->lines.lineno;
    for (size_t k = 0; k < 3; k++) {
        parley__buf_reset(&c->slot[k]);
        c->have[k] = 0;
        if (c->header_pending)
            c->hdr[k] = SIZE_MAX;
    }
    total = n;
    dst = field_begin(c, 0);
    for (;;) {
        size_t i = 0;
        while (i < n) {
            const char *q;
            size_t run;
            if (state == F_QUOTED) {
                q = memchr(p + i, '"', n - i);
                run = q ? (size_t)(q - (p + i)) : n - i;
                if (field_add(c, dst, p + i, run) != PARLEY_OK)
                    return nomem(d, *line, err);
                i += run;
                if (q) {
                    state = F_QUOTE;
                    i++;
                }
                continue;
            }
            if (state == F_QUOTE) {
                if (p[i] == '"') {
                    if (field_add(c, dst, "\"", 1) != PARLEY_OK)
                        return nomem(d, *line, err);
                    state = F_QUOTED;
                    i++;
                    continue;
                }
                if (p[i] != sep)
                    return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, *line, err,
                                                "unexpected text after the closing quote of "
                                                "column %zu",
                                                idx + 1);
            }
            if (state == F_START && quoting && p[i] == '"') {
                state = F_QUOTED;
                i++;
                continue;
            }
            if (p[i] == sep) {
                field_end(c, idx);
                dst = field_begin(c, ++idx);
                state = F_START;
                i++;
                continue;
            }
            q = memchr(p + i, sep, n - i);
            run = q ? (size_t)(q - (p + i)) : n - i;
            if (field_add(c, dst, p + i, run) != PARLEY_OK)
                return nomem(d, *line, err);
            i += run;
            state = F_PLAIN;
        }
        if (state != F_QUOTED)
            break;
        /* The quoted field goes on with the next line. */
        {
            int overlong, more;
            if ((rc = parley__nlu_data_read_line(d, &p, &n, &overlong, &more, err)) != PARLEY_OK)
                return rc;
            if (!more)
                return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, *line, err,
                                            "unterminated quoted field in column %zu", idx + 1);
            total += n + 1;
            if (overlong || total > PARLEY__NLU_DATA_MAX_LINE)
                return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, *line, err,
                                            "record longer than %u bytes",
                                            PARLEY__NLU_DATA_MAX_LINE);
            if (field_add(c, dst, "\n", 1) != PARLEY_OK)
                return nomem(d, *line, err);
        }
    }
    field_end(c, idx);
    *nfields = idx + 1;
    return PARLEY_OK;
}

static const char *slot_data(const struct parley_buf *b)
{
    return b->data ? b->data : "";
}

parley_err parley__nlu_data_csv_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                     parley_error *err)
{
    struct parley__nlu_csv *c = &d->csv;
    size_t line = 0, nf = 0;
    parley_err rc;

    for (;;) {
        if ((rc = read_record(d, has, &line, &nf, err)) != PARLEY_OK || !*has)
            return rc;
        if (c->header_pending) {
            c->header_pending = 0;
            if (c->hdr[0] != SIZE_MAX && c->hdr[1] != SIZE_MAX) {
                memcpy(c->col, c->hdr, sizeof(c->col));
                c->header = 1;
                continue;
            }
        }
        break;
    }
    if (c->header) {
        if (!c->have[0] || !c->have[1]) {
            size_t need = (c->col[0] > c->col[1] ? c->col[0] : c->col[1]) + 1;
            return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err,
                                        "expected at least %zu columns, found %zu", need, nf);
        }
    } else if (nf < 2 || nf > 3) {
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err,
                                    "expected 2 or 3 columns (text, label, language), found %zu",
                                    nf);
    }
    return parley__nlu_data_finish(d, slot_data(&c->slot[0]), c->slot[0].len,
                                   slot_data(&c->slot[1]), c->slot[1].len, slot_data(&c->slot[2]),
                                   c->slot[2].len, line, ex, err);
}

/* ---- JSON Lines ---- */

/* Finds string member `k1` (else `k2`) of `o`. Absent (or null, when
 * `required` is 0) gives "". */
static parley_err member(parley_nlu_data *d, json_t *o, const char *k1, const char *k2,
                         int required, size_t line, const char **s, size_t *n, parley_error *err)
{
    const char *key = k1;
    json_t *v = json_object_get(o, k1);

    if (!v && k2) {
        v = json_object_get(o, k2);
        key = k2;
    }
    if (!v || (!required && json_is_null(v))) {
        if (!required) {
            *s = "";
            *n = 0;
            return PARLEY_OK;
        }
        if (k2)
            return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err, "missing \"%s\" or \"%s\"",
                                        k1, k2);
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err, "missing \"%s\"", k1);
    }
    if (!json_is_string(v))
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err, "\"%s\" must be a string",
                                    key);
    *s = json_string_value(v);
    *n = json_string_length(v);
    return PARLEY_OK;
}

parley_err parley__nlu_data_jsonl_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                       parley_error *err)
{
    const char *p, *text = "", *label = "", *lang = "";
    size_t n, line, off, text_len = 0, label_len = 0, lang_len = 0;
    json_error_t je;
    json_t *root;
    parley_err rc;

    if ((rc = next_nonblank(d, &p, &n, has, err)) != PARLEY_OK || !*has)
        return rc;
    line = d->lines.lineno;
    if (parley_text_validate(p, n, &off, NULL) != PARLEY_OK)
        return parley__nlu_data_bad(d, PARLEY_ERR_UTF8, line, err,
                                    "invalid UTF-8 at byte %zu of the line (0x%02x)", off,
                                    (unsigned)(unsigned char)p[off]);
    if (parley__json_depth(p, n) > MAX_JSON_DEPTH)
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err,
                                    "JSON nested deeper than %d levels", MAX_JSON_DEPTH);
    root = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* jansson quotes the input ("... near 'text'"): training rows may
         * hold personal data, so the quote is cut from the message. */
        char *near = strstr(je.text, " near ");
        if (near)
            *near = '\0';
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err,
                                    "invalid JSON at column %d: %s", je.column, je.text);
    }
    if (!json_is_object(root)) {
        rc = parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err, "expected a JSON object");
        goto out;
    }
    if ((rc = member(d, root, "text", NULL, 1, line, &text, &text_len, err)) != PARLEY_OK ||
        (rc = member(d, root, "intent", "label", 1, line, &label, &label_len, err)) != PARLEY_OK ||
        (rc = member(d, root, "language", "lang", 0, line, &lang, &lang_len, err)) != PARLEY_OK)
        goto out;
    rc =
        parley__nlu_data_finish(d, text, text_len, label, label_len, lang, lang_len, line, ex, err);
out:
    json_decref(root);
    return rc;
}
