/* The training-data reader: format names and detection, opening files and
 * memory, the streaming line source, row validation and skip-bad handling
 * shared by every format (the parsers are in data_lines.c, data_rasa.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "nlu/data_internal.h"
#include "text/internal.h"

#define CHUNK_SIZE 65536

static const char *const format_names[] = {"auto", "fasttext", "csv", "tsv", "jsonl", "rasa"};
#define N_FORMATS (sizeof(format_names) / sizeof(format_names[0]))

const char *parley_nlu_format_name(parley_nlu_format fmt)
{
    if ((unsigned)fmt >= N_FORMATS)
        return "unknown";
    return format_names[fmt];
}

parley_err parley_nlu_format_parse(const char *name, parley_nlu_format *out, parley_error *err)
{
    if (!out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no place to store the data format");
    if (name) {
        for (size_t i = 0; i < N_FORMATS; i++) {
            if (strcasecmp(name, format_names[i]) == 0) {
                *out = (parley_nlu_format)i;
                return PARLEY_OK;
            }
        }
    }
    return parley_error_set(err, PARLEY_ERR_INVALID,
                            "unknown data format '%.64s' (expected auto, fasttext, csv, tsv, "
                            "jsonl or rasa)",
                            name ? name : "");
}

/* The format AUTO stands for, from the extension of `name`. */
static parley_nlu_format format_from_name(const char *name)
{
    static const struct {
        const char *ext;
        parley_nlu_format fmt;
    } exts[] = {
        {"csv", PARLEY_NLU_FORMAT_CSV},      {"tsv", PARLEY_NLU_FORMAT_TSV},
        {"jsonl", PARLEY_NLU_FORMAT_JSONL},  {"json", PARLEY_NLU_FORMAT_JSONL},
        {"ndjson", PARLEY_NLU_FORMAT_JSONL}, {"yml", PARLEY_NLU_FORMAT_RASA},
        {"yaml", PARLEY_NLU_FORMAT_RASA},
    };
    const char *base = strrchr(name, '/');
    const char *dot = strrchr(base ? base + 1 : name, '.');

    if (dot) {
        for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
            if (strcasecmp(dot + 1, exts[i].ext) == 0)
                return exts[i].fmt;
        }
    }
    return PARLEY_NLU_FORMAT_FASTTEXT;
}

static parley_err check_args(parley_nlu_format fmt, unsigned flags, parley_error *err)
{
    if ((unsigned)fmt >= N_FORMATS)
        return parley_error_set(err, PARLEY_ERR_INVALID, "unknown data format %d", (int)fmt);
    if (flags & ~(unsigned)PARLEY_NLU_DATA_SKIP_BAD)
        return parley_error_set(err, PARLEY_ERR_INVALID, "unknown data reader flags 0x%x", flags);
    return PARLEY_OK;
}

static parley_err data_new(const char *name, parley_nlu_format fmt, unsigned flags,
                           parley_nlu_data **out, parley_error *err)
{
    parley_nlu_data *d = parley__calloc(1, sizeof(*d));

    if (!d || !(d->name = parley__strdup(name))) {
        parley__free(d);
        (void)parley_error_set(err, PARLEY_ERR_NOMEM, "cannot open '%s': out of memory", name);
        return PARLEY_ERR_NOMEM;
    }
    d->fmt = fmt == PARLEY_NLU_FORMAT_AUTO ? format_from_name(name) : fmt;
    d->flags = flags;
    d->lines.line.max = PARLEY__NLU_DATA_MAX_LINE + 1;
    for (int i = 0; i < 3; i++)
        d->csv.slot[i].max = PARLEY__NLU_DATA_MAX_LINE + 1;
    parley__nlu_data_csv_reset(d);
    *out = d;
    return PARLEY_OK;
}

parley_err parley_nlu_data_open(const char *path, parley_nlu_format fmt, unsigned flags,
                                parley_nlu_data **out, parley_error *err)
{
    parley_nlu_data *d = NULL;
    struct stat st;
    parley_err rc;

    if (!path || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no data file given");
    if ((rc = check_args(fmt, flags, err)) != PARLEY_OK)
        return rc;
    if ((rc = data_new(path, fmt, flags, &d, err)) != PARLEY_OK)
        return rc;
    if (d->fmt == PARLEY_NLU_FORMAT_RASA) {
        rc = parley__read_file(path, PARLEY__NLU_DATA_MAX_RASA, &d->mem, &d->mem_len, err);
        if (rc == PARLEY_OK)
            rc = parley__nlu_data_rasa_open(d, err);
        goto out;
    }
    d->lines.f = fopen(path, "rb");
    if (!d->lines.f) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fileno(d->lines.f), &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot read '%s': is a directory", path);
        goto out;
    }
    d->lines.chunk = parley__malloc(CHUNK_SIZE);
    if (!d->lines.chunk)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot open '%s': out of memory", path);
out:
    if (rc != PARLEY_OK) {
        parley_nlu_data_free(d);
        return rc;
    }
    *out = d;
    return PARLEY_OK;
}

parley_err parley_nlu_data_open_memory(const char *name, const void *buf, size_t len,
                                       parley_nlu_format fmt, unsigned flags, parley_nlu_data **out,
                                       parley_error *err)
{
    parley_nlu_data *d = NULL;
    parley_err rc;

    if (!name)
        name = "<memory>";
    if (!out || (!buf && len))
        return parley_error_set(err, PARLEY_ERR_INVALID, "no data given for '%s'", name);
    if ((rc = check_args(fmt, flags, err)) != PARLEY_OK)
        return rc;
    if ((rc = data_new(name, fmt, flags, &d, err)) != PARLEY_OK)
        return rc;
    d->mem = parley__strndup(len ? buf : "", len);
    if (!d->mem) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot open '%s': out of memory", name);
        goto out;
    }
    d->mem_len = len;
    if (d->fmt == PARLEY_NLU_FORMAT_RASA) {
        rc = parley__nlu_data_rasa_open(d, err);
    } else {
        d->lines.mem = d->mem;
        d->lines.mem_len = len;
    }
out:
    if (rc != PARLEY_OK) {
        parley_nlu_data_free(d);
        return rc;
    }
    *out = d;
    return PARLEY_OK;
}

/* Formats "NAME:LINE: what" into `err`. */
static parley_err report(const parley_nlu_data *d, parley_err code, size_t line, parley_error *err,
                         const char *what)
{
    return parley_error_set(err, code, "%s:%zu: %s", d->name, line, what);
}

parley_err parley__nlu_data_bad(parley_nlu_data *d, parley_err code, size_t line, parley_error *err,
                                const char *fmt, ...)
{
    char what[sizeof(err->msg)];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    d->row_bad = 1;
    return report(d, code, line, err, what);
}

parley_err parley__nlu_data_fatal(parley_nlu_data *d, parley_err code, size_t line,
                                  parley_error *err, const char *fmt, ...)
{
    char what[sizeof(err->msg)];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    d->row_bad = 0;
    return report(d, code, line, err, what);
}

parley_err parley__nlu_data_read_line(parley_nlu_data *d, const char **line, size_t *len,
                                      int *overlong, int *has, parley_error *err)
{
    struct parley__nlu_lines *l = &d->lines;
    const char *p;
    size_t n;

    *overlong = 0;
    if (!l->f) {
        const char *nl;
        if (l->mem_pos >= l->mem_len) {
            *has = 0;
            return PARLEY_OK;
        }
        p = l->mem + l->mem_pos;
        nl = memchr(p, '\n', l->mem_len - l->mem_pos);
        n = nl ? (size_t)(nl - p) : l->mem_len - l->mem_pos;
        l->mem_pos += n + (nl != NULL);
        if (n > PARLEY__NLU_DATA_MAX_LINE) {
            n = PARLEY__NLU_DATA_MAX_LINE;
            *overlong = 1;
        }
    } else {
        int got = 0;
        parley__buf_reset(&l->line);
        for (;;) {
            const char *c, *nl;
            size_t avail, take;
            if (l->chunk_pos == l->chunk_len) {
                size_t r = l->eof ? 0 : fread(l->chunk, 1, CHUNK_SIZE, l->f);
                if (r == 0) {
                    if (!l->eof && ferror(l->f)) {
                        d->row_bad = 0;
                        return parley_error_set(err, PARLEY_ERR_IO, "cannot read '%s': %s", d->name,
                                                strerror(errno));
                    }
                    l->eof = 1;
                    break;
                }
                l->chunk_pos = 0;
                l->chunk_len = r;
            }
            got = 1;
            c = l->chunk + l->chunk_pos;
            avail = l->chunk_len - l->chunk_pos;
            nl = memchr(c, '\n', avail);
            take = nl ? (size_t)(nl - c) : avail;
            l->chunk_pos += take + (nl != NULL);
            if (!*overlong) {
                size_t room = PARLEY__NLU_DATA_MAX_LINE - l->line.len;
                if (take > room) {
                    take = room;
                    *overlong = 1;
                }
                if (parley__buf_add(&l->line, c, take) != PARLEY_OK) {
                    d->row_bad = 0;
                    return parley_error_set(err, PARLEY_ERR_NOMEM,
                                            "cannot read '%s': out of memory", d->name);
                }
            }
            if (nl)
                break;
        }
        if (!got) {
            *has = 0;
            return PARLEY_OK;
        }
        p = l->line.data ? l->line.data : "";
        n = l->line.len;
    }
    l->lineno++;
    if (!*overlong && n && p[n - 1] == '\r')
        n--;
    if (l->lineno == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    *line = p;
    *len = n;
    *has = 1;
    return PARLEY_OK;
}

int parley__nlu_data_isspace(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Unicode White_Space, plus the zero-width no-break space (a stray BOM). */
static int is_space_cp(int32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

static int is_control_cp(int32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Trims Unicode whitespace from both ends of valid UTF-8. */
static void trim(const char **s, size_t *n)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t len = *n;
    int32_t cp;

    while (len) {
        size_t k = parley__utf8_decode(p, len, &cp);
        if (!is_space_cp(cp))
            break;
        p += k;
        len -= k;
    }
    while (len) {
        size_t k = 1;
        /* Step back to the start of the last character. */
        while (k < len && k < 4 && (p[len - k] & 0xC0) == 0x80)
            k++;
        if (parley__utf8_decode(p + len - k, k, &cp) != k || !is_space_cp(cp))
            break;
        len -= k;
    }
    *s = (const char *)p;
    *n = len;
}

enum { FIELD_NAME = 1 << 0, FIELD_EMPTY_OK = 1 << 1 };

/* Checks one field, trims it and copies it to `dst` (max + 1 bytes; may be
 * NULL). Names (labels, languages) may not hold whitespace or controls. */
static parley_err check_field(parley_nlu_data *d, const char *what, const char *s, size_t n,
                              size_t max, unsigned kind, size_t line, char *dst, size_t *dst_len,
                              parley_error *err)
{
    const char *nul = memchr(s, '\0', n);
    size_t off;

    *dst_len = 0;
    if (nul)
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err,
                                    "%s contains a NUL byte at byte %zu", what, (size_t)(nul - s));
    if (parley_text_validate(s, n, &off, NULL) != PARLEY_OK)
        return parley__nlu_data_bad(d, PARLEY_ERR_UTF8, line, err,
                                    "invalid UTF-8 in %s at byte %zu (0x%02x)", what, off,
                                    (unsigned)(unsigned char)s[off]);
    trim(&s, &n);
    if (n == 0 && !(kind & FIELD_EMPTY_OK))
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err, "empty %s", what);
    if (n > max)
        return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err, "%s longer than %zu bytes",
                                    what, max);
    if (kind & FIELD_NAME) {
        const unsigned char *p = (const unsigned char *)s;
        int space = 0;
        size_t i = 0;
        while (i < n) {
            int32_t cp;
            i += parley__utf8_decode(p + i, n - i, &cp);
            if (is_control_cp(cp))
                return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err,
                                            "%s contains a control character", what);
            space |= is_space_cp(cp);
        }
        if (space)
            return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, line, err,
                                        "%s '%.*s' contains whitespace", what, (int)n, s);
    }
    if (dst) {
        memcpy(dst, s, n);
        dst[n] = '\0';
    }
    *dst_len = n;
    return PARLEY_OK;
}

parley_err parley__nlu_data_check_label(parley_nlu_data *d, const char *label, size_t len,
                                        size_t line, parley_error *err)
{
    size_t n;
    return check_field(d, "label", label, len, PARLEY_NLU_MAX_LABEL, FIELD_NAME, line, NULL, &n,
                       err);
}

parley_err parley__nlu_data_finish(parley_nlu_data *d, const char *text, size_t text_len,
                                   const char *label, size_t label_len, const char *lang,
                                   size_t lang_len, size_t line, parley_nlu_example *ex,
                                   parley_error *err)
{
    size_t tn = 0, ln = 0, gn = 0;
    parley_err rc;

    if ((rc = check_field(d, "text", text, text_len, PARLEY_NLU_MAX_TEXT, 0, line, d->text, &tn,
                          err)) != PARLEY_OK ||
        (rc = check_field(d, "label", label, label_len, PARLEY_NLU_MAX_LABEL, FIELD_NAME, line,
                          d->label, &ln, err)) != PARLEY_OK ||
        (rc = check_field(d, "language", lang, lang_len, PARLEY__NLU_DATA_MAX_LANG,
                          FIELD_NAME | FIELD_EMPTY_OK, line, d->lang, &gn, err)) != PARLEY_OK)
        return rc;
    ex->text = d->text;
    ex->text_len = tn;
    ex->label = d->label;
    ex->label_len = ln;
    ex->language = d->lang;
    ex->line = line;
    return PARLEY_OK;
}

static parley_err next_row(parley_nlu_data *d, parley_nlu_example *ex, int *has, parley_error *err)
{
    switch (d->fmt) {
    case PARLEY_NLU_FORMAT_FASTTEXT:
        return parley__nlu_data_fasttext_next(d, ex, has, err);
    case PARLEY_NLU_FORMAT_CSV:
    case PARLEY_NLU_FORMAT_TSV:
        return parley__nlu_data_csv_next(d, ex, has, err);
    case PARLEY_NLU_FORMAT_JSONL:
        return parley__nlu_data_jsonl_next(d, ex, has, err);
    case PARLEY_NLU_FORMAT_RASA:
        return parley__nlu_data_rasa_next(d, ex, has, err);
    case PARLEY_NLU_FORMAT_AUTO:
        break;
    }
    PARLEY_BUG("data reader without a format");
}

parley_err parley_nlu_data_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                parley_error *err)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_nlu_example row;
    int got = 0;
    parley_err rc;

    if (!d || !ex || !has)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no data reader given");
    if (d->fatal != PARLEY_OK)
        return parley_error_set(err, d->fatal, "%s", d->fatal_msg);
    for (;;) {
        d->row_bad = 0;
        rc = next_row(d, &row, &got, &e);
        if (rc == PARLEY_OK)
            break;
        if (!d->row_bad) {
            d->fatal = rc;
            memcpy(d->fatal_msg, e.msg, sizeof(d->fatal_msg));
        } else if (d->flags & PARLEY_NLU_DATA_SKIP_BAD) {
            d->skipped_pass++;
            if (!d->has_first_skip) {
                memcpy(d->first_skip, e.msg, sizeof(d->first_skip));
                d->has_first_skip = 1;
            }
            continue;
        }
        return parley_error_set(err, rc, "%s", e.msg);
    }
    if (got)
        *ex = row;
    *has = got;
    return PARLEY_OK;
}

parley_err parley_nlu_data_rewind(parley_nlu_data *d, parley_error *err)
{
    parley_error e = PARLEY_ERROR_INIT;
    struct parley__nlu_lines *l;
    parley_err rc = PARLEY_OK;

    if (!d)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no data reader given");
    l = &d->lines;
    /* A later pass re-reads the same rows: count each bad row once. */
    if (d->skipped_pass > d->skipped_max)
        d->skipped_max = d->skipped_pass;
    d->skipped_pass = 0;
    d->fatal = PARLEY_OK;
    if (d->fmt == PARLEY_NLU_FORMAT_RASA) {
        rc = parley__nlu_data_rasa_rewind(d, &e);
    } else if (l->f) {
        if (fseek(l->f, 0, SEEK_SET) != 0)
            rc = parley_error_set(&e, PARLEY_ERR_IO, "cannot rewind '%s': %s", d->name,
                                  strerror(errno));
        clearerr(l->f);
        l->chunk_pos = l->chunk_len = 0;
        l->eof = 0;
    } else {
        l->mem_pos = 0;
    }
    l->lineno = 0;
    parley__nlu_data_csv_reset(d);
    if (rc != PARLEY_OK) {
        d->fatal = rc;
        memcpy(d->fatal_msg, e.msg, sizeof(d->fatal_msg));
        return parley_error_set(err, rc, "%s", e.msg);
    }
    return PARLEY_OK;
}

size_t parley_nlu_data_skipped(const parley_nlu_data *d)
{
    if (!d)
        return 0;
    return d->skipped_pass > d->skipped_max ? d->skipped_pass : d->skipped_max;
}

const char *parley_nlu_data_first_skip(const parley_nlu_data *d)
{
    return d && d->has_first_skip ? d->first_skip : NULL;
}

parley_nlu_format parley_nlu_data_format(const parley_nlu_data *d)
{
    return d ? d->fmt : PARLEY_NLU_FORMAT_AUTO;
}

const char *parley_nlu_data_name(const parley_nlu_data *d)
{
    return d ? d->name : NULL;
}

void parley__nlu_data_buf_wipe(struct parley_buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    parley__buf_release(b);
}

void parley_nlu_data_free(parley_nlu_data *d)
{
    if (!d)
        return;
    parley__nlu_data_rasa_free(d);
    parley__nlu_data_csv_release(d);
    if (d->lines.f)
        (void)fclose(d->lines.f);
    parley__free_secure(d->lines.chunk, d->lines.chunk ? CHUNK_SIZE : 0);
    parley__nlu_data_buf_wipe(&d->lines.line);
    parley__free_secure(d->mem, d->mem ? d->mem_len + 1 : 0);
    parley__free(d->name);
    parley__free_secure(d, sizeof(*d));
}
