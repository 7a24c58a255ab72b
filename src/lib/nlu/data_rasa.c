/* Reads Rasa NLU training data (nlu.yml, version 3) with libyaml's event
 * parser: one "nlu:" item at a time, examples from a block string or the
 * metadata list form, entity annotations stripped down to their text. */
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "nlu/data_internal.h"

/* Deepest YAML nesting accepted; Rasa data needs about six levels. */
#define MAX_DEPTH 64

/* Where the walker is in the document. */
enum { W_STREAM, W_DOC, W_TOP, W_NLU, W_END };

/* An item's rows, queued until the whole item is read (its keys may come
 * in any order): a header, then `len` bytes of text for REC_TEXT. */
enum { REC_TEXT, REC_ERROR };
struct rec {
    int kind;
    size_t line;     /* 0: the intent's line */
    const char *msg; /* REC_ERROR */
    size_t len;      /* REC_TEXT */
};

struct parley__nlu_rasa {
    yaml_parser_t parser;
    int live; /* parser initialized */
    int where;
    int depth;
    /* The current "nlu:" item. */
    int item_ready, item_checked;
    size_t item_line, intent_line;
    int has_intent, has_examples, skip;
    parley_err ierr; /* first item-level error */
    size_t ierr_line;
    const char *ierr_msg;
    struct parley_buf intent;
    struct parley_buf recs;
    size_t rec_pos;
    struct parley_buf scratch;
};

static size_t line_of_offset(const parley_nlu_data *d, size_t off, size_t *col)
{
    size_t line = 1, start = 0;

    if (off > d->mem_len)
        off = d->mem_len;
    for (size_t i = 0; i < off; i++) {
        if (d->mem[i] == '\n') {
            line++;
            start = i + 1;
        }
    }
    if (col)
        *col = off - start;
    return line;
}

static parley_err nomem(parley_nlu_data *d, parley_error *err)
{
    d->row_bad = 0;
    return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot read '%s': out of memory", d->name);
}

static parley_err yaml_fail(parley_nlu_data *d, parley_error *err)
{
    const yaml_parser_t *y = &d->rasa->parser;
    const char *problem = y->problem ? y->problem : "syntax error";
    size_t line, col;

    switch (y->error) {
    case YAML_MEMORY_ERROR:
        return nomem(d, err);
    case YAML_READER_ERROR:
        line = line_of_offset(d, y->problem_offset, &col);
        return parley__nlu_data_fatal(d, PARLEY_ERR_FORMAT, line, err,
                                      "invalid YAML at column %zu: %s", col + 1, problem);
    default:
        break;
    }
    return parley__nlu_data_fatal(d, PARLEY_ERR_FORMAT, y->problem_mark.line + 1, err,
                                  "invalid YAML at column %zu: %s%s%s",
                                  (size_t)y->problem_mark.column + 1, problem,
                                  y->context ? " " : "", y->context ? y->context : "");
}

/* The next event, tracking nesting. The caller deletes it. */
static parley_err ev_next(parley_nlu_data *d, yaml_event_t *ev, parley_error *err)
{
    struct parley__nlu_rasa *r = d->rasa;
    size_t line;

    if (!yaml_parser_parse(&r->parser, ev))
        return yaml_fail(d, err);
    switch (ev->type) {
    case YAML_NO_EVENT:
        return parley__nlu_data_fatal(d, PARLEY_ERR_FORMAT, r->parser.mark.line + 1, err,
                                      "unexpected end of YAML");
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (++r->depth > MAX_DEPTH) {
            line = ev->start_mark.line + 1;
            yaml_event_delete(ev);
            return parley__nlu_data_fatal(d, PARLEY_ERR_FORMAT, line, err,
                                          "YAML nested deeper than %d levels", MAX_DEPTH);
        }
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        r->depth--;
        break;
    default:
        break;
    }
    return PARLEY_OK;
}

static int is_start(yaml_event_type_t t)
{
    return t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT;
}

static int is_end(yaml_event_type_t t)
{
    return t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT;
}

/* Consumes the rest of a node whose first event had type `t`. */
static parley_err skip_node(parley_nlu_data *d, yaml_event_type_t t, parley_error *err)
{
    int level = is_start(t);

    while (level > 0) {
        yaml_event_t ev;
        parley_err rc = ev_next(d, &ev, err);
        if (rc != PARLEY_OK)
            return rc;
        if (is_start(ev.type))
            level++;
        else if (is_end(ev.type))
            level--;
        yaml_event_delete(&ev);
    }
    return PARLEY_OK;
}

/* Consumes one whole node. */
static parley_err skip_value(parley_nlu_data *d, parley_error *err)
{
    yaml_event_t ev;
    yaml_event_type_t t;
    parley_err rc = ev_next(d, &ev, err);

    if (rc != PARLEY_OK)
        return rc;
    t = ev.type;
    yaml_event_delete(&ev);
    return skip_node(d, t, err);
}

static int scalar_is(const yaml_event_t *ev, const char *s)
{
    size_t n = strlen(s);
    return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.length == n &&
           memcmp(ev->data.scalar.value, s, n) == 0;
}

static int scalar_is_null(const yaml_event_t *ev)
{
    return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (ev->data.scalar.length == 0 || scalar_is(ev, "~") || scalar_is(ev, "null") ||
            scalar_is(ev, "Null") || scalar_is(ev, "NULL"));
}

/* The line where a scalar's content starts: block scalars begin on the
 * line after their "|" or ">" indicator. */
static size_t content_line(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t line = ev->start_mark.line + 1;

    if (ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE) {
        line++;
        for (size_t i = 0;
             i < ev->data.scalar.length && parley__nlu_data_isspace((unsigned char)s[i]); i++)
            line += s[i] == '\n';
    } else if (ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE) {
        line++;
    }
    return line;
}

static void item_error(struct parley__nlu_rasa *r, size_t line, const char *msg)
{
    if (r->ierr == PARLEY_OK) {
        r->ierr = PARLEY_ERR_FORMAT;
        r->ierr_line = line;
        r->ierr_msg = msg;
    }
}

static parley_err add_rec(parley_nlu_data *d, int kind, size_t line, const char *msg,
                          const char *text, size_t len, parley_error *err)
{
    struct parley__nlu_rasa *r = d->rasa;
    struct rec h = {kind, line, msg, len};

    if (parley__buf_add(&r->recs, &h, sizeof(h)) != PARLEY_OK ||
        parley__buf_add(&r->recs, text, len) != PARLEY_OK)
        return nomem(d, err);
    return PARLEY_OK;
}

/* Splits an "examples:" string into its "- example" lines. Only literal
 * block scalars keep a line-for-line mapping to the file. */
static parley_err split_block(parley_nlu_data *d, const yaml_event_t *ev, parley_error *err)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length, i = 0, k = 0;
    size_t base = ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ? ev->start_mark.line + 2 : 0;
    parley_err rc = PARLEY_OK;

    while (i < n && rc == PARLEY_OK) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
        size_t line = base ? base + k : 0;
        size_t j = 0;
        while (j < len && parley__nlu_data_isspace((unsigned char)s[i + j]))
            j++;
        if (j < len && s[i + j] != '-')
            rc = add_rec(d, REC_ERROR, line, "example does not start with '- '", "", 0, err);
        else if (j < len)
            rc = add_rec(d, REC_TEXT, line, NULL, s + i + j + 1, len - j - 1, err);
        i += len + 1;
        k++;
    }
    return rc;
}

/* Reads one mapping of the metadata form: {text: ..., metadata: ...}. */
static parley_err read_example_map(parley_nlu_data *d, size_t line, parley_error *err)
{
    int found = 0;
    parley_err rc;

    for (;;) {
        yaml_event_t key, val;
        yaml_event_type_t t;
        int is_text;
        if ((rc = ev_next(d, &key, err)) != PARLEY_OK)
            return rc;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            break;
        }
        is_text = scalar_is(&key, "text");
        t = key.type;
        yaml_event_delete(&key);
        if ((rc = skip_node(d, t, err)) != PARLEY_OK)
            return rc;
        if (!is_text) {
            if ((rc = skip_value(d, err)) != PARLEY_OK)
                return rc;
            continue;
        }
        if ((rc = ev_next(d, &val, err)) != PARLEY_OK)
            return rc;
        if (!found && val.type == YAML_SCALAR_EVENT)
            rc = add_rec(d, REC_TEXT, content_line(&val), NULL, (const char *)val.data.scalar.value,
                         val.data.scalar.length, err);
        else if (!found)
            rc = add_rec(d, REC_ERROR, val.start_mark.line + 1, "\"text\" must be a string", "", 0,
                         err);
        found = 1;
        t = val.type;
        yaml_event_delete(&val);
        if (rc != PARLEY_OK || (rc = skip_node(d, t, err)) != PARLEY_OK)
            return rc;
    }
    if (!found)
        return add_rec(d, REC_ERROR, line, "example has no \"text\"", "", 0, err);
    return PARLEY_OK;
}

/* Reads the list form of "examples:", after its start event. */
static parley_err read_example_list(parley_nlu_data *d, parley_error *err)
{
    for (;;) {
        yaml_event_t ev;
        yaml_event_type_t t;
        size_t line;
        parley_err rc = ev_next(d, &ev, err);
        if (rc != PARLEY_OK)
            return rc;
        t = ev.type;
        line = ev.start_mark.line + 1;
        if (t == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return PARLEY_OK;
        }
        if (t == YAML_SCALAR_EVENT)
            rc = add_rec(d, REC_TEXT, content_line(&ev), NULL, (const char *)ev.data.scalar.value,
                         ev.data.scalar.length, err);
        yaml_event_delete(&ev);
        if (rc != PARLEY_OK)
            return rc;
        if (t == YAML_MAPPING_START_EVENT)
            rc = read_example_map(d, line, err);
        else if (t == YAML_ALIAS_EVENT)
            rc = add_rec(d, REC_ERROR, line, "aliases are not supported", "", 0, err);
        else if (t != YAML_SCALAR_EVENT)
            rc = add_rec(d, REC_ERROR, line, "example must be a string or a mapping with \"text\"",
                         "", 0, err);
        if (rc == PARLEY_OK && t == YAML_SEQUENCE_START_EVENT)
            rc = skip_node(d, t, err);
        if (rc != PARLEY_OK)
            return rc;
    }
}

static void item_reset(struct parley__nlu_rasa *r, size_t line)
{
    r->item_line = line;
    r->intent_line = line;
    r->has_intent = r->has_examples = r->skip = 0;
    r->ierr = PARLEY_OK;
    r->ierr_msg = NULL;
    parley__buf_reset(&r->intent);
    parley__buf_reset(&r->recs);
    r->rec_pos = 0;
}

/* Reads the value of the key `key` of an "nlu:" item. */
static parley_err read_item_value(parley_nlu_data *d, const char *key, parley_error *err)
{
    struct parley__nlu_rasa *r = d->rasa;
    yaml_event_t ev;
    yaml_event_type_t t;
    parley_err rc;

    if (strcmp(key, "synonym") == 0 || strcmp(key, "regex") == 0 || strcmp(key, "lookup") == 0)
        r->skip = 1;
    if (strcmp(key, "intent") != 0 && strcmp(key, "examples") != 0)
        return skip_value(d, err);
    if ((rc = ev_next(d, &ev, err)) != PARLEY_OK)
        return rc;
    t = ev.type;
    if (strcmp(key, "intent") == 0) {
        if (t == YAML_SCALAR_EVENT) {
            parley__buf_reset(&r->intent);
            if (parley__buf_add(&r->intent, ev.data.scalar.value, ev.data.scalar.length) !=
                PARLEY_OK) {
                yaml_event_delete(&ev);
                return nomem(d, err);
            }
            r->has_intent = 1;
            r->intent_line = ev.start_mark.line + 1;
        } else {
            item_error(r, ev.start_mark.line + 1, "\"intent\" must be a string");
        }
    } else {
        r->has_examples = 1;
        if (t == YAML_SCALAR_EVENT)
            rc = split_block(d, &ev, err);
        else if (t != YAML_SEQUENCE_START_EVENT)
            item_error(r, ev.start_mark.line + 1, "\"examples\" must be a string or a list");
    }
    yaml_event_delete(&ev);
    if (rc != PARLEY_OK)
        return rc;
    if (t == YAML_SEQUENCE_START_EVENT && strcmp(key, "examples") == 0)
        return read_example_list(d, err);
    return skip_node(d, t, err);
}

/* Reads an "nlu:" item, after its mapping start event. */
static parley_err read_item(parley_nlu_data *d, parley_error *err)
{
    for (;;) {
        yaml_event_t ev;
        yaml_event_type_t t;
        char key[16] = "";
        parley_err rc = ev_next(d, &ev, err);
        if (rc != PARLEY_OK)
            return rc;
        t = ev.type;
        if (t == YAML_SCALAR_EVENT && ev.data.scalar.length < sizeof(key) &&
            !memchr(ev.data.scalar.value, '\0', ev.data.scalar.length))
            memcpy(key, ev.data.scalar.value, ev.data.scalar.length);
        yaml_event_delete(&ev);
        if (t == YAML_MAPPING_END_EVENT)
            return PARLEY_OK;
        if ((rc = skip_node(d, t, err)) != PARLEY_OK ||
            (rc = read_item_value(d, key, err)) != PARLEY_OK)
            return rc;
    }
}

static parley_err check_version(parley_nlu_data *d, parley_error *err)
{
    yaml_event_t ev;
    parley_err rc = ev_next(d, &ev, err);
    const char *v;
    size_t n, line;

    if (rc != PARLEY_OK)
        return rc;
    line = ev.start_mark.line + 1;
    if (ev.type != YAML_SCALAR_EVENT) {
        yaml_event_delete(&ev);
        return parley__nlu_data_fatal(d, PARLEY_ERR_FORMAT, line, err,
                                      "\"version\" must be a string");
    }
    v = (const char *)ev.data.scalar.value;
    n = ev.data.scalar.length;
    if (!(n >= 1 && v[0] == '3' && (n == 1 || v[1] == '.')))
        rc = parley__nlu_data_fatal(d, PARLEY_ERR_FORMAT, line, err,
                                    "unsupported Rasa version '%.*s' (expected \"3.x\")",
                                    (int)(n < 32 ? n : 32), v);
    yaml_event_delete(&ev);
    return rc;
}

/* Handles one event of the top-level mapping. */
static parley_err top_event(parley_nlu_data *d, const yaml_event_t *ev, parley_error *err)
{
    struct parley__nlu_rasa *r = d->rasa;
    yaml_event_t val;
    parley_err rc;

    if (ev->type == YAML_MAPPING_END_EVENT) {
        r->where = W_DOC;
        return PARLEY_OK;
    }
    if (scalar_is(ev, "version"))
        return check_version(d, err);
    if (!scalar_is(ev, "nlu")) {
        if ((rc = skip_node(d, ev->type, err)) != PARLEY_OK)
            return rc;
        return skip_value(d, err);
    }
    if ((rc = ev_next(d, &val, err)) != PARLEY_OK)
        return rc;
    if (val.type == YAML_SEQUENCE_START_EVENT)
        r->where = W_NLU;
    else if (!scalar_is_null(&val))
        rc = parley__nlu_data_fatal(d, PARLEY_ERR_FORMAT, val.start_mark.line + 1, err,
                                    "\"nlu\" must be a list");
    yaml_event_delete(&val);
    return rc;
}

/* Advances to the next "nlu:" item and reads it whole; `*has` is 0 at the
 * end of the stream. */
static parley_err next_item(parley_nlu_data *d, int *has, parley_error *err)
{
    struct parley__nlu_rasa *r = d->rasa;

    *has = 0;
    while (r->where != W_END) {
        yaml_event_t ev;
        yaml_event_type_t t;
        size_t line;
        parley_err rc = ev_next(d, &ev, err);
        if (rc != PARLEY_OK)
            return rc;
        t = ev.type;
        line = ev.start_mark.line + 1;
        switch (r->where) {
        case W_STREAM:
            if (t == YAML_STREAM_END_EVENT)
                r->where = W_END;
            else if (t == YAML_DOCUMENT_START_EVENT)
                r->where = W_DOC;
            break;
        case W_DOC:
            if (t == YAML_DOCUMENT_END_EVENT)
                r->where = W_STREAM;
            else if (t == YAML_MAPPING_START_EVENT)
                r->where = W_TOP;
            else if (!scalar_is_null(&ev))
                rc = parley__nlu_data_fatal(d, PARLEY_ERR_FORMAT, line, err,
                                            "expected a mapping with \"nlu:\" at the top level");
            break;
        case W_TOP:
            rc = top_event(d, &ev, err);
            break;
        case W_NLU:
            if (t == YAML_SEQUENCE_END_EVENT) {
                r->where = W_TOP;
                break;
            }
            item_reset(r, line);
            *has = 1;
            if (t != YAML_MAPPING_START_EVENT)
                item_error(r, line, "\"nlu\" item must be a mapping with \"intent\"");
            break;
        }
        yaml_event_delete(&ev);
        if (rc != PARLEY_OK)
            return rc;
        if (*has)
            return t == YAML_MAPPING_START_EVENT ? read_item(d, err) : skip_node(d, t, err);
    }
    return PARLEY_OK;
}

static parley_err parser_start(parley_nlu_data *d, parley_error *err)
{
    struct parley__nlu_rasa *r = d->rasa;

    if (r->live)
        yaml_parser_delete(&r->parser);
    r->live = 0;
    if (!yaml_parser_initialize(&r->parser))
        return nomem(d, err);
    r->live = 1;
    yaml_parser_set_input_string(&r->parser, (const unsigned char *)d->mem, d->mem_len);
    r->where = W_STREAM;
    r->depth = 0;
    r->item_ready = 0;
    return PARLEY_OK;
}

parley_err parley__nlu_data_rasa_open(parley_nlu_data *d, parley_error *err)
{
    size_t off, line, col;
    parley_err rc;
    int has;

    d->rasa = parley__calloc(1, sizeof(*d->rasa));
    if (!d->rasa)
        return nomem(d, err);
    if (parley_text_validate(d->mem, d->mem_len, &off, NULL) != PARLEY_OK) {
        line = line_of_offset(d, off, &col);
        return parley__nlu_data_fatal(d, PARLEY_ERR_UTF8, line, err,
                                      "invalid UTF-8 at byte %zu of the line (0x%02x)", col,
                                      (unsigned)(unsigned char)d->mem[off]);
    }
    /* A first pass finds syntax errors and a wrong layout or version. */
    if ((rc = parser_start(d, err)) != PARLEY_OK)
        return rc;
    do {
        if ((rc = next_item(d, &has, err)) != PARLEY_OK)
            return rc;
    } while (has);
    return parser_start(d, err);
}

parley_err parley__nlu_data_rasa_rewind(parley_nlu_data *d, parley_error *err)
{
    return parser_start(d, err);
}

parley_err parley__nlu_data_rasa_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                      parley_error *err)
{
    struct parley__nlu_rasa *r = d->rasa;
    parley_err rc;

    for (;;) {
        struct rec h;
        const char *text;
        if (!r->item_ready) {
            int got;
            if ((rc = next_item(d, &got, err)) != PARLEY_OK)
                return rc;
            if (!got) {
                *has = 0;
                return PARLEY_OK;
            }
            r->item_ready = 1;
            r->item_checked = 0;
        }
        if (!r->item_checked) {
            r->item_checked = 1;
            r->item_ready = 0; /* unless it has rows to give */
            if (r->ierr != PARLEY_OK)
                return parley__nlu_data_bad(d, r->ierr, r->ierr_line, err, "%s", r->ierr_msg);
            if (r->skip)
                continue;
            if (!r->has_intent)
                return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, r->item_line, err,
                                            "item has no \"intent\"");
            if (!r->has_examples)
                return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, r->intent_line, err,
                                            "intent has no \"examples\"");
            if ((rc = parley__nlu_data_check_label(d, r->intent.data ? r->intent.data : "",
                                                   r->intent.len, r->intent_line, err)) !=
                PARLEY_OK)
                return rc;
            r->item_ready = 1;
        }
        if (r->rec_pos >= r->recs.len) {
            r->item_ready = 0;
            continue;
        }
        memcpy(&h, r->recs.data + r->rec_pos, sizeof(h));
        text = r->recs.data + r->rec_pos + sizeof(h);
        r->rec_pos += sizeof(h) + h.len;
        if (!h.line)
            h.line = r->intent_line;
        if (h.kind == REC_ERROR)
            return parley__nlu_data_bad(d, PARLEY_ERR_FORMAT, h.line, err, "%s", h.msg);
        parley__buf_reset(&r->scratch);
        if (parley__nlu_data_strip_entities(text, h.len, &r->scratch) != PARLEY_OK)
            return nomem(d, err);
        *has = 1;
        return parley__nlu_data_finish(d, r->scratch.data ? r->scratch.data : "", r->scratch.len,
                                       r->intent.data ? r->intent.data : "", r->intent.len, "", 0,
                                       h.line, ex, err);
    }
}

void parley__nlu_data_rasa_free(parley_nlu_data *d)
{
    struct parley__nlu_rasa *r = d->rasa;

    if (!r)
        return;
    if (r->live)
        yaml_parser_delete(&r->parser);
    parley__nlu_data_buf_wipe(&r->intent);
    parley__nlu_data_buf_wipe(&r->recs);
    parley__nlu_data_buf_wipe(&r->scratch);
    parley__free(r);
    d->rasa = NULL;
}

/* Finds the first `ch` at or after `from` in s[0..n), n if none. Searches
 * only move forward, so that a whole strip is linear in n even for inputs
 * like "[[[[..." that make Rasa's pattern backtrack. */
struct finder {
    char ch;
    size_t from, at; /* the first `ch` at or after `from` is at `at` */
};

static size_t find(struct finder *f, const char *s, size_t n, size_t from)
{
    const char *q;

    if (from >= f->from && from <= f->at)
        return f->at;
    q = from < n ? memchr(s + from, f->ch, n - from) : NULL;
    f->from = from;
    f->at = q ? (size_t)(q - s) : n;
    return f->at;
}

struct finders {
    struct finder close, paren, colon, brace, nl;
};

/* Matches the annotation after the "[text]" that ends at s[i - 1]:
 * "(entity)", "(entity:value)", "{...}" or "[...]", as Rasa's own pattern
 * does. Returns the end of the match, 0 if none. */
static size_t annotation_end(struct finders *f, const char *s, size_t n, size_t i)
{
    size_t a, b;

    if (i + 1 >= n)
        return 0;
    switch (s[i]) {
    case '(':
        a = find(&f->paren, s, n, i + 1);
        b = find(&f->colon, s, n, i + 1);
        if (a == n || a == i + 1 || b == i + 1)
            return 0;
        if (b > a)
            return a + 1;             /* (entity) */
        return a > b + 1 ? a + 1 : 0; /* (entity:value) */
    case '{':
        a = find(&f->brace, s, n, i + 1);
        return a < n && a > i + 1 ? a + 1 : 0;
    case '[':
        a = find(&f->close, s, n, i + 1);
        b = find(&f->nl, s, n, i + 1);
        return a < n && a < b ? a + 1 : 0;
    default:
        return 0;
    }
}

parley_err parley__nlu_data_strip_entities(const char *s, size_t n, struct parley_buf *out)
{
    struct finders f = {{']', 1, 0}, {')', 1, 0}, {':', 1, 0}, {'}', 1, 0}, {'\n', 1, 0}};
    size_t i = 0, from = 0;
    parley_err rc;

    while (i < n) {
        size_t close, end;
        if (s[i] != '[' || i + 1 >= n || s[i + 1] == ']') {
            i++;
            continue;
        }
        close = find(&f.close, s, n, i + 1);
        if (close == n)
            break; /* no "]" left: nothing more can match */
        end = annotation_end(&f, s, n, close + 1);
        if (!end) {
            /* Every "[" before `close` would end at it too, and fail. */
            i = close;
            continue;
        }
        if ((rc = parley__buf_add(out, s + from, i - from)) != PARLEY_OK ||
            (rc = parley__buf_add(out, s + i + 1, close - (i + 1))) != PARLEY_OK)
            return rc;
        i = from = end;
    }
    return parley__buf_add(out, s + from, n - from);
}
