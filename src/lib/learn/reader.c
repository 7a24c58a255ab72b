/* The interaction-log reader: opening a log (file or standard input) and
 * guessing its format, the streaming byte and line source, the storage of
 * the conversation being returned, sticky errors, and training-data files
 * read through the intent engine's reader. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "learn/reader_internal.h"

#define CHUNK_SIZE 65536

/* The format AUTO stands for, from the extension of `path`. */
static parley_learn_log_format format_from_name(const char *path)
{
    static const char *const jsonl[] = {"jsonl", "ndjson", "json"};
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base + 1 : path, '.');

    if (strcmp(path, "-") == 0)
        return PARLEY_LEARN_LOG_JSONL;
    if (dot) {
        for (size_t i = 0; i < sizeof(jsonl) / sizeof(jsonl[0]); i++) {
            if (strcasecmp(dot + 1, jsonl[i]) == 0)
                return PARLEY_LEARN_LOG_JSONL;
        }
        if (strcasecmp(dot + 1, "csv") == 0)
            return PARLEY_LEARN_LOG_CSV;
    }
    return PARLEY_LEARN_LOG_TRAINING;
}

/* Opens the byte source: `path`, or standard input for "-". */
static parley_err open_source(parley_learn_reader *r, const char *path, parley_error *err)
{
    struct stat st;

    if (strcmp(path, "-") == 0) {
        r->f = stdin;
    } else {
        r->f = fopen(path, "rb");
        if (!r->f)
            return parley_error_set(err, PARLEY_ERR_IO, "cannot open '%s': %s", path,
                                    strerror(errno));
        r->own_f = 1;
    }
    if (fstat(fileno(r->f), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return parley_error_set(err, PARLEY_ERR_IO, "cannot read '%s': is a directory",
                                    r->name);
        if (S_ISREG(st.st_mode))
            r->size = (uint64_t)st.st_size;
    }
    r->chunk = parley__malloc(CHUNK_SIZE);
    if (!r->chunk)
        return parley__learn_nomem(r, err);
    return PARLEY_OK;
}

parley_err parley_learn_reader_open(const char *path, parley_learn_log_format fmt,
                                    parley_learn_reader **out, parley_error *err)
{
    parley_learn_reader *r = NULL;
    int is_stdin;
    parley_err rc = PARLEY_OK;

    if (!path || !*path || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no interaction log given");
    if ((unsigned)fmt > PARLEY_LEARN_LOG_TRAINING)
        return parley_error_set(err, PARLEY_ERR_INVALID, "unknown interaction log format %d",
                                (int)fmt);
    is_stdin = strcmp(path, "-") == 0;
    if (fmt == PARLEY_LEARN_LOG_AUTO)
        fmt = format_from_name(path);
    if (is_stdin && fmt == PARLEY_LEARN_LOG_TRAINING)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot read training data from standard input: give its file");
    r = parley__calloc(1, sizeof(*r));
    if (!r || !(r->name = parley__strdup(is_stdin ? "<stdin>" : path))) {
        parley__free(r);
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot open '%s': out of memory", path);
    }
    r->fmt = fmt;
    r->line.max = PARLEY__LEARN_MAX_BYTES + 1;
    /* Room for the largest conversation's text and each turn's NUL. */
    r->texts.max = PARLEY__LEARN_MAX_BYTES + PARLEY__LEARN_MAX_TURNS + 1;
    if (fmt == PARLEY_LEARN_LOG_TRAINING) {
        /* The intent engine's reader reports its own errors, path first. */
        rc = parley_nlu_data_open(path, PARLEY_NLU_FORMAT_AUTO, 0, &r->nlu, err);
        if (rc == PARLEY_OK) {
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                r->size = (uint64_t)st.st_size;
        }
        goto out;
    }
    if ((rc = open_source(r, path, err)) != PARLEY_OK)
        goto out;
    if (fmt == PARLEY_LEARN_LOG_CSV)
        rc = parley__learn_csv_open(r, err);
out:
    if (rc != PARLEY_OK) {
        parley_learn_reader_free(r);
        return rc;
    }
    *out = r;
    return PARLEY_OK;
}

parley_err parley__learn_bad(const parley_learn_reader *r, parley_err code, size_t line,
                             parley_error *err, const char *fmt, ...)
{
    char what[sizeof(err->msg)];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return parley_error_set(err, code, "%s:%zu: %s", r->name, line, what);
}

parley_err parley__learn_nomem(const parley_learn_reader *r, parley_error *err)
{
    return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot read '%s': out of memory", r->name);
}

parley_err parley__learn_fill(parley_learn_reader *r, parley_error *err)
{
    size_t n;

    if (r->chunk_pos < r->chunk_len || r->eof)
        return PARLEY_OK;
    r->chunk_pos = r->chunk_len = 0;
    n = fread(r->chunk, 1, CHUNK_SIZE, r->f);
    if (n == 0) {
        if (ferror(r->f))
            return parley_error_set(err, PARLEY_ERR_IO, "cannot read '%s': %s", r->name,
                                    strerror(errno));
        r->eof = 1;
        return PARLEY_OK;
    }
    if (r->read_total == 0 && n >= 3 && memcmp(r->chunk, "\xEF\xBB\xBF", 3) == 0)
        r->chunk_pos = 3;
    r->read_total += n;
    r->chunk_len = n;
    return PARLEY_OK;
}

parley_err parley__learn_read_line(parley_learn_reader *r, const char **line, size_t *len,
                                   int *overlong, int *has, parley_error *err)
{
    int got = 0;
    parley_err rc;

    *overlong = 0;
    parley__buf_reset(&r->line);
    for (;;) {
        const char *c, *nl;
        size_t avail, take;
        if ((rc = parley__learn_fill(r, err)) != PARLEY_OK)
            return rc;
        if (r->chunk_pos == r->chunk_len)
            break;
        got = 1;
        c = r->chunk + r->chunk_pos;
        avail = r->chunk_len - r->chunk_pos;
        nl = memchr(c, '\n', avail);
        take = nl ? (size_t)(nl - c) : avail;
        r->chunk_pos += take + (nl != NULL);
        if (!*overlong) {
            if (take > PARLEY__LEARN_MAX_BYTES - r->line.len) {
                /* The rest of the line is read and dropped: the next call
                 * starts on the next line. */
                *overlong = 1;
                parley__buf_reset(&r->line);
            } else if (parley__buf_add(&r->line, c, take) != PARLEY_OK) {
                return parley__learn_nomem(r, err);
            }
        }
        if (nl)
            break;
    }
    if (!got) {
        *has = 0;
        return PARLEY_OK;
    }
    r->lineno++;
    *line = r->line.data ? r->line.data : "";
    *len = r->line.len;
    if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
    *has = 1;
    return PARLEY_OK;
}

int parley__learn_speaker(const char *s, size_t n, parley_learn_speaker *out)
{
    static const struct {
        const char *name;
        parley_learn_speaker who;
    } names[] = {
        {"customer", PARLEY_LEARN_CUSTOMER}, {"user", PARLEY_LEARN_CUSTOMER},
        {"agent", PARLEY_LEARN_AGENT},       {"bot", PARLEY_LEARN_AGENT},
        {"assistant", PARLEY_LEARN_AGENT},   {"system", PARLEY_LEARN_SYSTEM},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == n && strncasecmp(s, names[i].name, n) == 0) {
            *out = names[i].who;
            return 0;
        }
    }
    return -1;
}

int parley__learn_clip(const char *s, size_t n)
{
    if (n <= PARLEY__LEARN_QUOTE)
        return (int)n;
    n = PARLEY__LEARN_QUOTE;
    /* Back off continuation bytes so no character is cut in two. */
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

void parley__learn_conv_reset(parley_learn_reader *r)
{
    parley__buf_reset(&r->texts);
    r->n_turns = 0;
    r->id[0] = r->customer_id[0] = r->language[0] = '\0';
    r->disposition[0] = r->outcome[0] = '\0';
}

void parley__learn_set(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        PARLEY_BUG("conversation string longer than its buffer");
    memcpy(dst, s, n);
    dst[n] = '\0';
}

parley_err parley__learn_add_turn(parley_learn_reader *r, parley_learn_speaker speaker,
                                  const char *text, size_t len, int64_t time_ms)
{
    parley_learn_turn *t;

    if (r->n_turns == PARLEY__LEARN_MAX_TURNS || len > PARLEY__LEARN_MAX_BYTES ||
        r->texts.len - r->n_turns > PARLEY__LEARN_MAX_BYTES - len)
        return PARLEY_ERR_LIMIT;
    if (r->n_turns == r->cap_turns) {
        size_t cap = r->cap_turns ? r->cap_turns * 2 : 16;
        if (cap > PARLEY__LEARN_MAX_TURNS)
            cap = PARLEY__LEARN_MAX_TURNS;
        t = parley__realloc(r->turns, cap * sizeof(*t));
        if (!t)
            return PARLEY_ERR_NOMEM;
        r->turns = t;
        r->cap_turns = cap;
    }
    /* The text goes in with its NUL; pointers are set once the arena has
     * stopped moving (parley__learn_conv_finish). */
    if (parley__buf_add(&r->texts, text, len) != PARLEY_OK ||
        parley__buf_add(&r->texts, "", 1) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    t = &r->turns[r->n_turns++];
    t->speaker = speaker;
    t->text = NULL;
    t->text_len = len;
    t->time_ms = time_ms;
    return PARLEY_OK;
}

void parley__learn_conv_finish(parley_learn_reader *r, size_t line, parley_learn_conversation *c)
{
    const char *p = r->texts.data;

    for (size_t i = 0; i < r->n_turns; i++) {
        r->turns[i].text = p;
        p += r->turns[i].text_len + 1;
    }
    c->id = r->id;
    c->customer_id = r->customer_id;
    c->language = r->language;
    c->disposition = r->disposition;
    c->outcome = r->outcome;
    c->authored = 0;
    c->n_turns = r->n_turns;
    c->turns = r->turns;
    c->line = line;
}

void parley__learn_buf_wipe(struct parley_buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    parley__buf_release(b);
}

/* The next example of a training-data file, as a one-turn conversation. */
static parley_err training_next(parley_learn_reader *r, parley_learn_conversation *c, int *has,
                                parley_error *err)
{
    const char *base = strrchr(r->name, '/');
    parley_nlu_example ex;
    int got = 0;
    parley_err rc;

    if (r->nlu_done) {
        *has = 0;
        return PARLEY_OK;
    }
    if ((rc = parley_nlu_data_next(r->nlu, &ex, &got, err)) != PARLEY_OK)
        return rc;
    if (!got) {
        r->nlu_done = 1;
        *has = 0;
        return PARLEY_OK;
    }
    (void)snprintf(r->train_id, sizeof(r->train_id), "%s:%zu", base ? base + 1 : r->name, ex.line);
    r->customer_id[0] = r->outcome[0] = '\0';
    r->n_turns = 1;
    if (!r->turns) {
        r->turns = parley__malloc(sizeof(*r->turns));
        if (!r->turns)
            return parley__learn_nomem(r, err);
        r->cap_turns = 1;
    }
    r->turns[0].speaker = PARLEY_LEARN_CUSTOMER;
    r->turns[0].text = ex.text;
    r->turns[0].text_len = ex.text_len;
    r->turns[0].time_ms = 0;
    c->id = r->train_id;
    c->customer_id = r->customer_id;
    c->language = ex.language;
    c->disposition = ex.label;
    c->outcome = r->outcome;
    c->authored = 1;
    c->n_turns = 1;
    c->turns = r->turns;
    c->line = ex.line;
    *has = 1;
    return PARLEY_OK;
}

parley_err parley_learn_reader_next(parley_learn_reader *r, parley_learn_conversation *c, int *has,
                                    parley_error *err)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_learn_conversation conv;
    int got = 0;
    parley_err rc = PARLEY_OK;

    if (!r || !c || !has)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no interaction log reader given");
    if (r->fatal != PARLEY_OK)
        return parley_error_set(err, r->fatal, "%s", r->fatal_msg);
    switch (r->fmt) {
    case PARLEY_LEARN_LOG_JSONL:
        rc = parley__learn_jsonl_next(r, &conv, &got, &e);
        break;
    case PARLEY_LEARN_LOG_CSV:
        rc = parley__learn_csv_next(r, &conv, &got, &e);
        break;
    case PARLEY_LEARN_LOG_TRAINING:
        rc = training_next(r, &conv, &got, &e);
        break;
    case PARLEY_LEARN_LOG_AUTO:
        PARLEY_BUG("interaction log reader without a format");
    }
    if (rc != PARLEY_OK) {
        /* A malformed conversation has been consumed; anything else (I/O,
         * memory) leaves the reader in no state to go on. */
        if (rc != PARLEY_ERR_FORMAT && rc != PARLEY_ERR_UTF8) {
            r->fatal = rc;
            memcpy(r->fatal_msg, e.msg, sizeof(r->fatal_msg));
        }
        return parley_error_set(err, rc, "%s", e.msg);
    }
    if (got)
        *c = conv;
    *has = got;
    return PARLEY_OK;
}

uint64_t parley_learn_reader_progress(const parley_learn_reader *r, uint64_t *total)
{
    if (total)
        *total = r ? r->size : 0;
    if (!r)
        return 0;
    /* The intent engine's reader does not say how far it is: its bytes are
     * counted when it is done. */
    if (r->fmt == PARLEY_LEARN_LOG_TRAINING)
        return r->nlu_done ? r->size : 0;
    return r->read_total - (r->chunk_len - r->chunk_pos);
}

parley_learn_log_format parley_learn_reader_format(const parley_learn_reader *r)
{
    return r ? r->fmt : PARLEY_LEARN_LOG_AUTO;
}

void parley_learn_reader_free(parley_learn_reader *r)
{
    if (!r)
        return;
    parley__learn_csv_free(r);
    parley_nlu_data_free(r->nlu);
    if (r->f && r->own_f)
        (void)fclose(r->f);
    parley__free_secure(r->chunk, r->chunk ? CHUNK_SIZE : 0);
    parley__learn_buf_wipe(&r->line);
    parley__learn_buf_wipe(&r->texts);
    parley__free(r->turns);
    parley__free(r->name);
    parley__free_secure(r, sizeof(*r));
}
