/* The record body checker: a strict RFC 8259 validator that allocates
 * nothing and reads each byte once, so appending stays cheap. It accepts a
 * top-level object only, checks UTF-8 (no overlongs, no surrogates, no
 * lone surrogate escapes, no \u0000) and caps nesting, and reports the
 * byte offset of the first fault. */
#include <string.h>

#include "audit/internal.h"

struct jv {
    const unsigned char *p, *end, *start;
    int depth;
    const char *why;
};

static int fail(struct jv *j, const char *why)
{
    j->why = why;
    return -1;
}

static void skip_ws(struct jv *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* One UTF-8 sequence at j->p of length >= 2; advances past it. */
static int utf8_seq(struct jv *j)
{
    const unsigned char *p = j->p;
    size_t left = (size_t)(j->end - p);
    unsigned c = p[0];
    int n;
    unsigned min, cp;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return fail(j, "invalid UTF-8");
    }
    if (left < (size_t)n)
        return fail(j, "invalid UTF-8");
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return fail(j, "invalid UTF-8");
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return fail(j, "invalid UTF-8");
    j->p += n;
    return 0;
}

static int hex4(struct jv *j, unsigned *out)
{
    unsigned v = 0;
    if (j->end - j->p < 4)
        return fail(j, "bad \\u escape");
    for (int i = 0; i < 4; i++) {
        unsigned c = j->p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return fail(j, "bad \\u escape");
        v = v << 4 | d;
    }
    j->p += 4;
    *out = v;
    return 0;
}

static int string(struct jv *j)
{
    j->p++; /* the opening quote */
    while (j->p < j->end) {
        unsigned c = *j->p;
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c < 0x20)
            return fail(j, "control character in string");
        if (c >= 0x80) {
            if (utf8_seq(j) != 0)
                return -1;
            continue;
        }
        j->p++;
        if (c != '\\')
            continue;
        if (j->p >= j->end)
            break;
        c = *j->p++;
        if (c == 'u') {
            unsigned u, lo;
            if (hex4(j, &u) != 0)
                return -1;
            if (u == 0)
                return fail(j, "\\u0000 in string");
            if (u >= 0xdc00 && u <= 0xdfff)
                return fail(j, "lone surrogate escape");
            if (u >= 0xd800 && u <= 0xdbff) {
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return fail(j, "lone surrogate escape");
                j->p += 2;
                if (hex4(j, &lo) != 0)
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return fail(j, "lone surrogate escape");
            }
        } else if (!strchr("\"\\/bfnrt", (int)c) || c == 0) {
            return fail(j, "bad escape");
        }
    }
    return fail(j, "unterminated string");
}

static int digits(struct jv *j)
{
    const unsigned char *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s ? 0 : fail(j, "bad number");
}

static int number(struct jv *j)
{
    if (*j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (digits(j) != 0)
        return -1;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (digits(j) != 0)
            return -1;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (digits(j) != 0)
            return -1;
    }
    return 0;
}

static int literal(struct jv *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return fail(j, "unexpected character");
    j->p += n;
    return 0;
}

static int value(struct jv *j);

/* An object or array at j->p ('{' or '['). */
static int container(struct jv *j)
{
    int obj = *j->p == '{';
    unsigned char close = obj ? '}' : ']';

    if (++j->depth > PARLEY_AUDIT_MAX_DEPTH)
        return fail(j, "nested too deep");
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return 0;
    }
    for (;;) {
        skip_ws(j);
        if (obj) {
            if (j->p >= j->end || *j->p != '"')
                return fail(j, "expected a member name");
            if (string(j) != 0)
                return -1;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return fail(j, "expected ':'");
            j->p++;
        }
        if (value(j) != 0)
            return -1;
        skip_ws(j);
        if (j->p >= j->end)
            return fail(j, "unexpected end");
        if (*j->p == close) {
            j->p++;
            j->depth--;
            return 0;
        }
        if (*j->p != ',')
            return fail(j, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        j->p++;
    }
}

static int value(struct jv *j)
{
    skip_ws(j);
    if (j->p >= j->end)
        return fail(j, "unexpected end");
    switch (*j->p) {
    case '{':
    case '[':
        return container(j);
    case '"':
        return string(j);
    case 't':
        return literal(j, "true");
    case 'f':
        return literal(j, "false");
    case 'n':
        return literal(j, "null");
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return number(j);
        return fail(j, "unexpected character");
    }
}

parley_err parley_audit_body_check(const char *body, size_t len, parley_error *err)
{
    struct jv j;

    if (!body)
        return parley_error_set(err, PARLEY_ERR_INVALID, "record body is missing");
    if (len > PARLEY_AUDIT_MAX_BODY)
        return parley_error_set(err, PARLEY_ERR_LIMIT,
                                "record body is %zu bytes, more than the %d allowed", len,
                                PARLEY_AUDIT_MAX_BODY);
    j.start = j.p = (const unsigned char *)body;
    j.end = j.p + len;
    j.depth = 0;
    j.why = NULL;
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{')
        return parley_error_set(err, PARLEY_ERR_INVALID, "record body is not a JSON object");
    if (container(&j) == 0) {
        skip_ws(&j);
        if (j.p == j.end)
            return PARLEY_OK;
        j.why = "text after the object";
    }
    return parley_error_set(
        err, strcmp(j.why, "nested too deep") == 0 ? PARLEY_ERR_LIMIT : PARLEY_ERR_INVALID,
        "record body is not valid JSON: %s at byte %zu", j.why, (size_t)(j.p - j.start));
}
