/* Interaction logs as JSON Lines: one conversation object per line, its
 * turns in an array. Members the reader does not know are ignored, so
 * exports may carry more than it needs. */
#include <jansson.h>
#include <stdarg.h>
#include <string.h>

#include "learn/reader_internal.h"
#include "parley/text.h"

/* Deepest JSON nesting handed to jansson, whose parser recurses. */
#define MAX_JSON_DEPTH 64

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\f' && p[i] != '\v')
            return 0;
    }
    return 1;
}

/* Where a field is: the line, and "turn N: " inside the turns. */
struct at {
    const parley_learn_reader *r;
    size_t line;
    size_t turn; /* 1-based; 0 for the conversation's own members */
    parley_error *err;
};

static parley_err field_bad(const struct at *at, parley_err code, const char *fmt, ...)
    PARLEY_PRINTF(3, 4);

static parley_err field_bad(const struct at *at, parley_err code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (at->turn)
        return parley__learn_bad(at->r, code, at->line, at->err, "turn %zu: %s", at->turn, msg);
    return parley__learn_bad(at->r, code, at->line, at->err, "%s", msg);
}

enum { REQUIRED = 1 << 0, NONEMPTY = 1 << 1 };

/* String member `key` of `o`, at most `max` bytes. An optional one that is
 * absent or null gives "". */
static parley_err get_string(const struct at *at, json_t *o, const char *key, unsigned flags,
                             size_t max, const char **s, size_t *n)
{
    json_t *v = json_object_get(o, key);

    *s = "";
    *n = 0;
    if (!v || (json_is_null(v) && !(flags & REQUIRED))) {
        if (flags & REQUIRED)
            return field_bad(at, PARLEY_ERR_FORMAT, "missing field '%s'", key);
        return PARLEY_OK;
    }
    if (!json_is_string(v))
        return field_bad(at, PARLEY_ERR_FORMAT, "field '%s' must be a string (got %s)", key,
                         parley__json_type_name(v));
    *s = json_string_value(v);
    *n = json_string_length(v);
    if (memchr(*s, '\0', *n))
        return field_bad(at, PARLEY_ERR_FORMAT, "field '%s' contains a NUL character", key);
    if (*n == 0 && (flags & NONEMPTY))
        return field_bad(at, PARLEY_ERR_FORMAT, "field '%s' must not be empty", key);
    if (*n > max)
        return field_bad(at, PARLEY_ERR_FORMAT, "field '%s' is longer than %zu bytes", key, max);
    return PARLEY_OK;
}

/* A conversation-level string member into its buffer. */
static parley_err copy_string(const struct at *at, json_t *o, const char *key, unsigned flags,
                              char *dst, size_t size)
{
    const char *s = "";
    size_t n = 0;
    parley_err rc = get_string(at, o, key, flags, size - 1, &s, &n);

    if (rc == PARLEY_OK)
        parley__learn_set(dst, size, s, n);
    return rc;
}

/* The optional "time": RFC 3339, or an integer of Unix milliseconds. */
static parley_err get_time(const struct at *at, json_t *turn, int64_t *ms)
{
    json_t *v = json_object_get(turn, "time");
    const char *what;

    *ms = 0;
    if (!v || json_is_null(v))
        return PARLEY_OK;
    if (json_is_integer(v)) {
        *ms = (int64_t)json_integer_value(v);
        return PARLEY_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strlen(s) == n && parley_time_parse(s, ms) == 0)
            return PARLEY_OK;
        return field_bad(at, PARLEY_ERR_FORMAT,
                         "field 'time' is not an RFC 3339 time like 2026-01-02T10:00:00Z: '%.*s'",
                         parley__learn_clip(s, n), s);
    }
    what = json_is_real(v) ? "a number with a fraction" : parley__json_type_name(v);
    return field_bad(at, PARLEY_ERR_FORMAT,
                     "field 'time' must be an RFC 3339 string or an integer of Unix "
                     "milliseconds (got %s)",
                     what);
}

static parley_err read_turn(parley_learn_reader *r, const struct at *at, json_t *turn)
{
    const char *speaker, *text;
    size_t speaker_len, text_len;
    parley_learn_speaker who;
    int64_t ms;
    parley_err rc;

    if (!json_is_object(turn))
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, at->line, at->err,
                                 "turn %zu must be an object (got %s)", at->turn,
                                 parley__json_type_name(turn));
    if ((rc = get_string(at, turn, "speaker", REQUIRED, SIZE_MAX, &speaker, &speaker_len)) !=
            PARLEY_OK ||
        (rc = get_string(at, turn, "text", REQUIRED, SIZE_MAX, &text, &text_len)) != PARLEY_OK ||
        (rc = get_time(at, turn, &ms)) != PARLEY_OK)
        return rc;
    if (parley__learn_speaker(speaker, speaker_len, &who) != 0)
        return parley__learn_bad(
            r, PARLEY_ERR_FORMAT, at->line, at->err,
            "turn %zu: unknown speaker '%.*s' (expected " PARLEY__LEARN_SPEAKERS ")", at->turn,
            parley__learn_clip(speaker, speaker_len), speaker);
    rc = parley__learn_add_turn(r, who, text, text_len, ms);
    if (rc == PARLEY_ERR_LIMIT) /* cannot be: the line holds it all */
        PARLEY_BUG("JSONL conversation over the size limits");
    return rc == PARLEY_OK ? PARLEY_OK : parley__learn_nomem(r, at->err);
}

static parley_err read_conversation(parley_learn_reader *r, json_t *root, const struct at *conv)
{
    struct at at = *conv;
    json_t *turns;
    size_t n;
    parley_err rc;

    if (!json_is_object(root))
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, at.line, at.err,
                                 "expected a JSON object (got %s)", parley__json_type_name(root));
    parley__learn_conv_reset(r);
    if ((rc = copy_string(&at, root, "id", REQUIRED | NONEMPTY, r->id, sizeof(r->id))) !=
            PARLEY_OK ||
        (rc = copy_string(&at, root, "customer_id", REQUIRED | NONEMPTY, r->customer_id,
                          sizeof(r->customer_id))) != PARLEY_OK ||
        (rc = copy_string(&at, root, "language", 0, r->language, sizeof(r->language))) !=
            PARLEY_OK ||
        (rc = copy_string(&at, root, "disposition", 0, r->disposition, sizeof(r->disposition))) !=
            PARLEY_OK ||
        (rc = copy_string(&at, root, "outcome", 0, r->outcome, sizeof(r->outcome))) != PARLEY_OK)
        return rc;
    turns = json_object_get(root, "turns");
    if (!turns)
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, at.line, at.err, "missing field 'turns'");
    if (!json_is_array(turns))
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, at.line, at.err,
                                 "field 'turns' must be an array (got %s)",
                                 parley__json_type_name(turns));
    n = json_array_size(turns);
    if (n == 0)
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, at.line, at.err,
                                 "field 'turns' must not be empty");
    if (n > PARLEY__LEARN_MAX_TURNS)
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, at.line, at.err,
                                 "field 'turns' has %zu turns, more than %u", n,
                                 PARLEY__LEARN_MAX_TURNS);
    for (size_t i = 0; i < n; i++) {
        at.turn = i + 1;
        if ((rc = read_turn(r, &at, json_array_get(turns, i))) != PARLEY_OK)
            return rc;
    }
    return PARLEY_OK;
}

parley_err parley__learn_jsonl_next(parley_learn_reader *r, parley_learn_conversation *c, int *has,
                                    parley_error *err)
{
    struct at at = {r, 0, 0, err};
    const char *p;
    size_t n, off;
    int overlong;
    json_error_t je;
    json_t *root;
    parley_err rc;

    for (;;) {
        if ((rc = parley__learn_read_line(r, &p, &n, &overlong, has, err)) != PARLEY_OK || !*has)
            return rc;
        if (overlong)
            return parley__learn_bad(r, PARLEY_ERR_FORMAT, r->lineno, err,
                                     "line longer than %u MiB", PARLEY__LEARN_MAX_BYTES >> 20);
        if (!is_blank(p, n))
            break;
    }
    at.line = r->lineno;
    if (parley_text_validate(p, n, &off, NULL) != PARLEY_OK)
        return parley__learn_bad(r, PARLEY_ERR_UTF8, at.line, err,
                                 "invalid UTF-8 at byte %zu of the line (0x%02x)", off + 1,
                                 (unsigned)(unsigned char)p[off]);
    if (parley__json_depth(p, n) > MAX_JSON_DEPTH)
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, at.line, err,
                                 "JSON nested deeper than %d levels", MAX_JSON_DEPTH);
    root = json_loadb(p, n, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        char *near;
        if (json_error_code(&je) == json_error_out_of_memory)
            return parley__learn_nomem(r, err);
        /* jansson quotes the input ("... near 'text'"), which may be a
         * customer's words: the quote is cut from the message. */
        near = strstr(je.text, " near ");
        if (near)
            *near = '\0';
        return parley__learn_bad(r, PARLEY_ERR_FORMAT, at.line, err,
                                 "invalid JSON at column %d: %s", je.column, je.text);
    }
    rc = read_conversation(r, root, &at);
    json_decref(root);
    if (rc != PARLEY_OK)
        return rc;
    parley__learn_conv_finish(r, at.line, c);
    *has = 1;
    return PARLEY_OK;
}
