/* Interaction logs as CSV (RFC 4180): a header naming the columns, then one
 * row per turn, the rows of a conversation together. A conversation ends
 * where a row's conversation_id differs, so one row is read ahead. */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "learn/reader_internal.h"
#include "parley/text.h"

enum col {
    COL_ID,
    COL_CUSTOMER,
    COL_SPEAKER,
    COL_TEXT,
    COL_TIME,
    COL_LANGUAGE,
    COL_DISPOSITION,
    COL_OUTCOME,
    N_COLS
};
/* The first N_REQUIRED columns must be in the header. */
#define N_REQUIRED 4

static const char *const col_names[N_COLS] = {
    "conversation_id", "customer_id", "speaker", "text", "time",
    "language",        "disposition", "outcome",
};

/* Longest value of each column in bytes; 0: no limit of its own. */
static const size_t col_max[N_COLS] = {
    PARLEY__LEARN_MAX_ID,          PARLEY__LEARN_MAX_ID,      0, 0, 0, PARLEY__LEARN_MAX_LANGUAGE,
    PARLEY__LEARN_MAX_DISPOSITION, PARLEY__LEARN_MAX_OUTCOME,
};

/* The conversation-level columns, and where the reader keeps each. */
static const enum col conv_cols[] = {COL_CUSTOMER, COL_LANGUAGE, COL_DISPOSITION, COL_OUTCOME};
#define N_CONV_COLS (sizeof(conv_cols) / sizeof(conv_cols[0]))

static char *conv_value(parley_learn_reader *r, enum col k, size_t *size)
{
    switch (k) {
    case COL_CUSTOMER:
        *size = sizeof(r->customer_id);
        return r->customer_id;
    case COL_LANGUAGE:
        *size = sizeof(r->language);
        return r->language;
    case COL_DISPOSITION:
        *size = sizeof(r->disposition);
        return r->disposition;
    case COL_OUTCOME:
        *size = sizeof(r->outcome);
        return r->outcome;
    default:
        break;
    }
    PARLEY_BUG("not a conversation-level column");
}

struct parley__learn_csv {
    size_t col[N_COLS]; /* field index of each column; SIZE_MAX: not there */
    size_t n_header;    /* fields in the header */
    int header;         /* the record being read is the header */
    char name[32];      /* header: first bytes of the current field */
    size_t name_len;
    /* The record read last; `pending` while it waits to be used. */
    int pending;
    struct parley_buf field[N_COLS];
    unsigned ended; /* bit k: column k was read whole */
    int cur;        /* column of the field being read; -1: not kept */
    size_t line, nfields, bytes;
    int overlong;
    parley_err bad; /* the record's first error, which `bad_msg` says */
    char bad_msg[256];
    /* The conversation being gathered: where each of its values was set. */
    size_t first_line[N_COLS];
};

/* Notes the record's first error. */
static void rec_bad(struct parley__learn_csv *c, const char *fmt, ...) PARLEY_PRINTF(2, 3);

static void rec_bad(struct parley__learn_csv *c, const char *fmt, ...)
{
    va_list ap;

    if (c->bad != PARLEY_OK)
        return;
    c->bad = PARLEY_ERR_FORMAT;
    va_start(ap, fmt);
    (void)vsnprintf(c->bad_msg, sizeof(c->bad_msg), fmt, ap);
    va_end(ap);
}

static void field_begin(struct parley__learn_csv *c, size_t idx)
{
    c->cur = -1;
    c->name_len = 0;
    for (int k = 0; k < N_COLS; k++) {
        if (c->col[k] == idx)
            c->cur = k;
    }
}

/* Adds bytes to the current field, counting them against the record's
 * limit; past it the record is kept no further but still read to its end. */
static parley_err field_add(parley_learn_reader *r, const char *p, size_t n, parley_error *err)
{
    struct parley__learn_csv *c = r->csv;

    if (c->overlong)
        return PARLEY_OK;
    if (n > PARLEY__LEARN_MAX_BYTES - c->bytes) {
        c->overlong = 1;
        rec_bad(c, "row longer than %u MiB", PARLEY__LEARN_MAX_BYTES >> 20);
        return PARLEY_OK;
    }
    c->bytes += n;
    if (c->header) {
        if (c->name_len < sizeof(c->name))
            memcpy(c->name + c->name_len, p,
                   n < sizeof(c->name) - c->name_len ? n : sizeof(c->name) - c->name_len);
        c->name_len += n; /* at most the record's limit: no overflow */
        return PARLEY_OK;
    }
    if (c->cur >= 0 && parley__buf_add(&c->field[c->cur], p, n) != PARLEY_OK)
        return parley__learn_nomem(r, err);
    return PARLEY_OK;
}

/* Ends field `idx`; in the header, notes which column it names. */
static void field_end(struct parley__learn_csv *c, size_t idx)
{
    const char *s = c->name;
    size_t n = c->name_len;

    if (!c->header) {
        if (c->cur >= 0 && !c->overlong)
            c->ended |= 1u << c->cur;
        return;
    }
    if (n > sizeof(c->name))
        return;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    for (int k = 0; k < N_COLS; k++) {
        if (strlen(col_names[k]) != n || strncasecmp(s, col_names[k], n) != 0)
            continue;
        if (c->col[k] != SIZE_MAX)
            rec_bad(c, "column '%s' appears twice in the header (fields %zu and %zu)", col_names[k],
                    c->col[k] + 1, idx + 1);
        else
            c->col[k] = idx;
    }
}

static size_t count_newlines(const char *p, size_t n)
{
    size_t count = 0;
    const char *q;

    while (n && (q = memchr(p, '\n', n)) != NULL) {
        count++;
        n -= (size_t)(q - p) + 1;
        p = q + 1;
    }
    return count;
}

enum { F_START, F_PLAIN, F_QUOTED, F_QUOTE };

/* Reads one record, blank or not; `*has` 0 at the end of the input. Only
 * I/O and memory errors are returned: what is wrong with the record is in
 * c->bad. `*blank`: the record holds nothing but spaces. */
static parley_err read_record(parley_learn_reader *r, int *has, int *blank, parley_error *err)
{
    struct parley__learn_csv *c = r->csv;
    int state = F_START, cr = 0, started = 0;
    size_t idx = 0;
    parley_err rc;

    for (int k = 0; k < N_COLS; k++)
        parley__buf_reset(&c->field[k]);
    c->ended = 0;
    c->bytes = 0;
    c->overlong = 0;
    c->bad = PARLEY_OK;
    *blank = 1;
    field_begin(c, 0);
    for (;;) {
        const char *p;
        size_t avail, run;

        if ((rc = parley__learn_fill(r, err)) != PARLEY_OK)
            return rc;
        if (r->chunk_pos == r->chunk_len)
            break;
        p = r->chunk + r->chunk_pos;
        avail = r->chunk_len - r->chunk_pos;
        if (!started) {
            started = 1;
            c->line = r->lineno + 1;
        }
        if (cr) {
            /* A carriage return outside quotes not followed by a line
             * feed is part of the field. */
            cr = 0;
            if (*p == '\n') {
                r->chunk_pos++;
                r->lineno++;
                goto done;
            }
            if (state == F_QUOTE)
                rec_bad(c, "unexpected text after the closing quote of field %zu", idx + 1);
            state = F_PLAIN;
            *blank = 0;
            if ((rc = field_add(r, "\r", 1, err)) != PARLEY_OK)
                return rc;
            continue;
        }
        if (state == F_QUOTED) {
            const char *q = memchr(p, '"', avail);
            run = q ? (size_t)(q - p) : avail;
            r->lineno += count_newlines(p, run);
            if ((rc = field_add(r, p, run, err)) != PARLEY_OK)
                return rc;
            r->chunk_pos += run + (q != NULL);
            if (q)
                state = F_QUOTE;
            continue;
        }
        if (state == F_QUOTE && *p == '"') {
            /* A doubled quote inside a quoted field stands for one. */
            if ((rc = field_add(r, "\"", 1, err)) != PARLEY_OK)
                return rc;
            r->chunk_pos++;
            state = F_QUOTED;
            continue;
        }
        if (state == F_QUOTE && *p != ',' && *p != '\r' && *p != '\n') {
            rec_bad(c, "unexpected text after the closing quote of field %zu", idx + 1);
            state = F_PLAIN;
        }
        if (*p == ',') {
            field_end(c, idx);
            field_begin(c, ++idx);
            state = F_START;
            *blank = 0;
            r->chunk_pos++;
            continue;
        }
        if (*p == '\r' || *p == '\n') {
            r->chunk_pos++;
            if (*p == '\r') {
                cr = 1;
                continue;
            }
            r->lineno++;
            goto done;
        }
        if (*p == '"' && state == F_START) {
            state = F_QUOTED;
            *blank = 0;
            r->chunk_pos++;
            continue;
        }
        /* Unquoted text, where a quote is an ordinary character. */
        for (run = 0; run < avail && p[run] != ',' && p[run] != '\r' && p[run] != '\n'; run++) {
            if (p[run] != ' ' && p[run] != '\t')
                *blank = 0;
        }
        if ((rc = field_add(r, p, run, err)) != PARLEY_OK)
            return rc;
        r->chunk_pos += run;
        state = F_PLAIN;
    }
    if (!started) {
        *has = 0;
        return PARLEY_OK;
    }
    if (state == F_QUOTED)
        rec_bad(c, "unterminated quoted field %zu (its closing quote is missing)", idx + 1);
done:
    field_end(c, idx);
    c->nfields = idx + 1;
    *has = 1;
    return PARLEY_OK;
}

/* Reads the next record that is not blank. */
static parley_err next_record(parley_learn_reader *r, int *has, parley_error *err)
{
    struct parley__learn_csv *c = r->csv;
    int blank;
    parley_err rc;

    do {
        if ((rc = read_record(r, has, &blank, err)) != PARLEY_OK || !*has)
            return rc;
    } while (blank);
    if (!c->header && c->nfields != c->n_header)
        rec_bad(c, "row has %zu fields, the header has %zu", c->nfields, c->n_header);
    return PARLEY_OK;
}

parley_err parley__learn_csv_open(parley_learn_reader *r, parley_error *err)
{
    struct parley__learn_csv *c = parley__calloc(1, sizeof(*c));
    int has;
    parley_err rc;

    if (!c)
        return parley__learn_nomem(r, err);
    r->csv = c;
    for (int k = 0; k < N_COLS; k++)
        c->col[k] = SIZE_MAX;
    c->header = 1;
    if ((rc = next_record(r, &has, err)) != PARLEY_OK)
        return rc;
    c->header = 0;
    if (!has)
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, 1, err,
                                 "no header row: the first row must name the columns "
                                 "(conversation_id, customer_id, speaker, text, ...)");
    if (c->bad != PARLEY_OK)
        return parley__learn_bad(r, c->bad, c->line, err, "%s", c->bad_msg);
    for (int k = 0; k < N_REQUIRED; k++) {
        if (c->col[k] == SIZE_MAX)
            return parley__learn_bad(r, PARLEY_ERR_FORMAT, c->line, err,
                                     "the header has no column '%s' (required: conversation_id, "
                                     "customer_id, speaker, text)",
                                     col_names[k]);
    }
    c->n_header = c->nfields;
    return PARLEY_OK;
}

void parley__learn_csv_free(parley_learn_reader *r)
{
    if (!r->csv)
        return;
    for (int k = 0; k < N_COLS; k++)
        parley__learn_buf_wipe(&r->csv->field[k]);
    parley__free(r->csv);
    r->csv = NULL;
}

static const char *value(const struct parley__learn_csv *c, enum col k, size_t *n)
{
    *n = c->field[k].len;
    return c->field[k].data ? c->field[k].data : "";
}

/* Checks column `k` of the row: no NUL, valid UTF-8, within its limit. */
static parley_err check_value(const parley_learn_reader *r, enum col k, parley_error *err)
{
    const struct parley__learn_csv *c = r->csv;
    size_t n, off;
    const char *s = value(c, k, &n);

    if (memchr(s, '\0', n))
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, c->line, err,
                                 "column '%s' contains a NUL byte", col_names[k]);
    if (parley_text_validate(s, n, &off, NULL) != PARLEY_OK)
        return parley__learn_bad(r, PARLEY_ERR_UTF8, c->line, err,
                                 "invalid UTF-8 in column '%s' at byte %zu (0x%02x)", col_names[k],
                                 off + 1, (unsigned)(unsigned char)s[off]);
    if (col_max[k] && n > col_max[k])
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, c->line, err,
                                 "column '%s' is longer than %zu bytes", col_names[k], col_max[k]);
    return PARLEY_OK;
}

/* 1 if the row's conversation_id can be used to group it. */
static int id_usable(const parley_learn_reader *r)
{
    const struct parley__learn_csv *c = r->csv;
    size_t n, off;
    const char *s = value(c, COL_ID, &n);

    return (c->ended & (1u << COL_ID)) && n > 0 && n <= PARLEY__LEARN_MAX_ID &&
           !memchr(s, '\0', n) && parley_text_validate(s, n, &off, NULL) == PARLEY_OK;
}

/* The error of a row that has no usable conversation_id. */
static parley_err row_alone(const parley_learn_reader *r, parley_error *err)
{
    const struct parley__learn_csv *c = r->csv;
    parley_err rc;

    if (c->bad != PARLEY_OK)
        return parley__learn_bad(r, c->bad, c->line, err, "%s", c->bad_msg);
    if ((rc = check_value(r, COL_ID, err)) != PARLEY_OK)
        return rc;
    return parley__learn_bad(r, PARLEY_ERR_FORMAT, c->line, err,
                             "column 'conversation_id' is empty");
}

/* `s[0..n)` without the spaces and tabs around it. */
static const char *trim(const char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

/* The row's time: empty, Unix milliseconds or RFC 3339. */
static parley_err row_time(const parley_learn_reader *r, int64_t *ms, parley_error *err)
{
    const struct parley__learn_csv *c = r->csv;
    size_t n, i = 0;
    const char *s = value(c, COL_TIME, &n);
    char buf[64];

    s = trim(s, &n);
    *ms = 0;
    if (n == 0)
        return PARLEY_OK;
    if (s[0] == '-')
        i = 1;
    if (n > i && n - i <= 18 && strspn(s + i, "0123456789") >= n - i) {
        for (size_t k = i; k < n; k++)
            *ms = *ms * 10 + (s[k] - '0');
        if (i)
            *ms = -*ms;
        return PARLEY_OK;
    }
    if (n < sizeof(buf)) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (parley_time_parse(buf, ms) == 0)
            return PARLEY_OK;
    }
    return parley__learn_bad(r, PARLEY_ERR_FORMAT, c->line, err,
                             "column 'time' is neither an RFC 3339 time like "
                             "2026-01-02T10:00:00Z nor Unix milliseconds: '%.*s'",
                             parley__learn_clip(s, n), s);
}

/* Adds the row to the conversation. A malformed row gives PARLEY_ERR_FORMAT
 * or PARLEY_ERR_UTF8; anything else stops the reader. */
static parley_err add_row(parley_learn_reader *r, parley_error *err)
{
    struct parley__learn_csv *c = r->csv;
    parley_learn_speaker who;
    const char *s;
    size_t n;
    int64_t ms;
    parley_err rc;

    if (c->bad != PARLEY_OK)
        return parley__learn_bad(r, c->bad, c->line, err, "%s", c->bad_msg);
    for (int k = COL_CUSTOMER; k < N_COLS; k++) {
        if ((rc = check_value(r, (enum col)k, err)) != PARLEY_OK)
            return rc;
    }
    s = value(c, COL_SPEAKER, &n);
    s = trim(s, &n);
    if (n == 0)
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, c->line, err,
                                 "column 'speaker' is empty (expected " PARLEY__LEARN_SPEAKERS ")");
    if (parley__learn_speaker(s, n, &who) != 0)
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, c->line, err,
                                 "unknown speaker '%.*s' (expected " PARLEY__LEARN_SPEAKERS ")",
                                 parley__learn_clip(s, n), s);
    if ((rc = row_time(r, &ms, err)) != PARLEY_OK)
        return rc;
    for (size_t i = 0; i < N_CONV_COLS; i++) {
        enum col k = conv_cols[i];
        size_t size;
        char *dst = conv_value(r, k, &size);
        s = value(c, k, &n);
        if (n == 0)
            continue;
        if (!dst[0]) {
            parley__learn_set(dst, size, s, n);
            c->first_line[k] = c->line;
        } else if (strlen(dst) != n || memcmp(dst, s, n) != 0) {
            return parley__learn_bad(r, PARLEY_ERR_FORMAT, c->line, err,
                                     "conversation '%.*s': %s '%.*s' differs from '%.*s' on "
                                     "line %zu",
                                     parley__learn_clip(r->id, strlen(r->id)), r->id, col_names[k],
                                     parley__learn_clip(s, n), s,
                                     parley__learn_clip(dst, strlen(dst)), dst, c->first_line[k]);
        }
    }
    s = value(c, COL_TEXT, &n);
    rc = parley__learn_add_turn(r, who, s, n, ms);
    if (rc == PARLEY_ERR_LIMIT && r->n_turns == PARLEY__LEARN_MAX_TURNS)
        return parley__learn_bad(
            r, PARLEY_ERR_FORMAT, c->line, err, "conversation '%.*s' has more than %u turns",
            parley__learn_clip(r->id, strlen(r->id)), r->id, PARLEY__LEARN_MAX_TURNS);
    if (rc == PARLEY_ERR_LIMIT)
        return parley__learn_bad(
            r, PARLEY_ERR_FORMAT, c->line, err, "conversation '%.*s' is longer than %u MiB",
            parley__learn_clip(r->id, strlen(r->id)), r->id, PARLEY__LEARN_MAX_BYTES >> 20);
    if (rc != PARLEY_OK)
        return parley__learn_nomem(r, err);
    return PARLEY_OK;
}

parley_err parley__learn_csv_next(parley_learn_reader *r, parley_learn_conversation *conv, int *has,
                                  parley_error *err)
{
    struct parley__learn_csv *c = r->csv;
    parley_error first = PARLEY_ERROR_INIT;
    size_t line;
    int got;
    parley_err rc;

    if (!c->pending) {
        if ((rc = next_record(r, &got, err)) != PARLEY_OK)
            return rc;
        if (!got) {
            *has = 0;
            return PARLEY_OK;
        }
        c->pending = 1;
    }
    line = c->line;
    if (!id_usable(r)) {
        /* Without its id the row belongs to no conversation: it is
         * reported alone, and ends the one before it. */
        c->pending = 0;
        return row_alone(r, err);
    }
    parley__learn_conv_reset(r);
    memset(c->first_line, 0, sizeof(c->first_line));
    parley__learn_set(r->id, sizeof(r->id), c->field[COL_ID].data, c->field[COL_ID].len);
    for (;;) {
        /* After a malformed row the rest of its conversation is read and
         * dropped, so that the next call starts on another conversation. */
        if (first.code == PARLEY_OK) {
            parley_error e = PARLEY_ERROR_INIT;
            rc = add_row(r, &e);
            if (rc != PARLEY_OK && rc != PARLEY_ERR_FORMAT && rc != PARLEY_ERR_UTF8)
                return parley_error_set(err, rc, "%s", e.msg);
            first = e;
        }
        c->pending = 0;
        if ((rc = next_record(r, &got, err)) != PARLEY_OK)
            return rc;
        if (!got)
            break;
        c->pending = 1;
        if (!id_usable(r) || c->field[COL_ID].len != strlen(r->id) ||
            memcmp(c->field[COL_ID].data, r->id, c->field[COL_ID].len) != 0)
            break;
    }
    if (first.code != PARLEY_OK)
        return parley_error_set(err, first.code, "%s", first.msg);
    if (!r->customer_id[0])
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, line, err,
                                 "conversation '%.*s' has no customer_id",
                                 parley__learn_clip(r->id, strlen(r->id)), r->id);
    parley__learn_conv_finish(r, line, conv);
    *has = 1;
    return PARLEY_OK;
}
