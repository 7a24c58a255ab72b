/* Unit tests of the interaction-log reader (src/lib/learn/reader*.c): each
 * format's conversations, every kind of malformed one with its message,
 * going on after them, progress, and out-of-memory failures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "failing_alloc.h"
#include "parley/learn.h"
#include "parley/text.h"
#include "temp_dir.h"

#define T0 1767348000000LL /* 2026-01-02T10:00:00Z */

static int setup_dir(void **state)
{
    (void)state;
    return temp_dir_make("learn");
}

static int teardown_dir(void **state)
{
    (void)state;
    return temp_dir_remove();
}

/* Writes `len` bytes to file `name` in the temporary folder; the path is
 * in static storage, valid until the next call. */
static const char *write_bytes(const char *name, const char *data, size_t len)
{
    static char path[512];
    FILE *f;

    db_path(path, sizeof(path), name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *write_file(const char *name, const char *data)
{
    return write_bytes(name, data, strlen(data));
}

/* What a read gave, one line per conversation or error, so that a test
 * compares the whole outcome at once. */
struct outcome {
    char text[8192];
    size_t len;
    size_t conversations, errors;
};

static void out_add(struct outcome *o, const char *fmt, ...) PARLEY_PRINTF(2, 3);

static void out_add(struct outcome *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(o->text + o->len, sizeof(o->text) - o->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(o->text) - o->len);
    o->len += (size_t)n;
}

static const char *const speaker_names[] = {"customer", "agent", "system"};

static void check_conversation(const parley_learn_conversation *c)
{
    assert_non_null(c->id);
    assert_non_null(c->customer_id);
    assert_non_null(c->language);
    assert_non_null(c->disposition);
    assert_non_null(c->outcome);
    assert_true(c->n_turns >= 1);
    assert_true(c->line >= 1);
    for (size_t i = 0; i < c->n_turns; i++) {
        const parley_learn_turn *t = &c->turns[i];
        assert_non_null(t->text);
        assert_int_equal(strlen(t->text), t->text_len);
        assert_true((unsigned)t->speaker <= PARLEY_LEARN_SYSTEM);
        assert_int_equal(parley_text_validate(t->text, t->text_len, NULL, NULL), PARLEY_OK);
    }
}

/* Reads `r` to the end, going on after malformed conversations. Turn texts
 * longer than 64 bytes are shown by their length, and turns after the
 * fourth only counted. */
static void read_rest(parley_learn_reader *r, struct outcome *o)
{
    for (;;) {
        parley_error err = PARLEY_ERROR_INIT;
        parley_learn_conversation c;
        int has = -1;
        parley_err rc = parley_learn_reader_next(r, &c, &has, &err);
        if (rc != PARLEY_OK) {
            assert_true(rc == PARLEY_ERR_FORMAT || rc == PARLEY_ERR_UTF8);
            assert_int_equal(err.code, rc);
            assert_int_equal(has, -1);
            out_add(o, "error %d: %s\n", (int)rc, err.msg);
            o->errors++;
            continue;
        }
        if (!has)
            break;
        check_conversation(&c);
        out_add(o, "%s cust=%s lang=%s disp=%s out=%s auth=%d line=%zu:", c.id, c.customer_id,
                c.language, c.disposition, c.outcome, c.authored, c.line);
        for (size_t i = 0; i < c.n_turns; i++) {
            const parley_learn_turn *t = &c.turns[i];
            if (i == 4) {
                out_add(o, " +%zu", c.n_turns - i);
                break;
            }
            if (t->text_len > 64)
                out_add(o, " %s@%lld[%zu bytes]", speaker_names[t->speaker], (long long)t->time_ms,
                        t->text_len);
            else
                out_add(o, " %s@%lld[%s]", speaker_names[t->speaker], (long long)t->time_ms,
                        t->text);
        }
        out_add(o, "\n");
        o->conversations++;
    }
}

/* Opens `path` in `fmt` and reads it all into `o`. */
static void read_path(const char *path, parley_learn_log_format fmt, struct outcome *o)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_learn_reader *r = NULL;
    parley_err rc = parley_learn_reader_open(path, fmt, &r, &err);

    memset(o, 0, sizeof(*o));
    if (rc != PARLEY_OK)
        fail_msg("opening '%s' failed: %s", path, err.msg);
    read_rest(r, o);
    parley_learn_reader_free(r);
}

/* Writes `len` bytes to `name`, reads them all and checks the outcome;
 * `expect` holds "~" where the file's path goes. */
static void check_read_bytes(const char *name, parley_learn_log_format fmt, const char *data,
                             size_t len, const char *expect)
{
    static struct outcome o;
    static char want[8192];
    const char *path = write_bytes(name, data, len);
    size_t w = 0;

    for (const char *p = expect; *p && w + 512 < sizeof(want); p++) {
        if (*p == '~') {
            size_t n = strlen(path);
            memcpy(want + w, path, n);
            w += n;
        } else {
            want[w++] = *p;
        }
    }
    want[w] = '\0';
    read_path(path, fmt, &o);
    if (strcmp(o.text, want) != 0)
        fprintf(stderr, "got:\n%s", o.text);
    assert_string_equal(o.text, want);
}

static void check_read(const char *name, parley_learn_log_format fmt, const char *data,
                       const char *expect)
{
    check_read_bytes(name, fmt, data, strlen(data), expect);
}

/* Opening must fail with `code` and the message `expect` ("~": the path). */
static void check_open_fails(const char *path, parley_learn_log_format fmt, parley_err code,
                             const char *expect)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_learn_reader *r = (parley_learn_reader *)&err; /* must stay as it is */
    char want[1024];
    const char *at = strchr(expect, '~');

    if (at)
        (void)snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - expect), expect, path, at + 1);
    else
        (void)snprintf(want, sizeof(want), "%s", expect);
    assert_int_equal(parley_learn_reader_open(path, fmt, &r, &err), code);
    assert_ptr_equal(r, (parley_learn_reader *)&err);
    assert_int_equal(err.code, code);
    assert_string_equal(err.msg, want);
}

static void test_jsonl(void **state)
{
    (void)state;
    /* A byte order mark, CRLF endings, blank lines, unknown members, null
     * optional fields, times in both forms. */
    check_read("a.jsonl", PARLEY_LEARN_LOG_AUTO,
               "\xEF\xBB\xBF{\"id\":\"c-1\",\"customer_id\":\"cust-42\",\"language\":\"en\","
               "\"disposition\":\"BILL_DISPUTE\",\"outcome\":\"resolved\",\"channel\":\"chat\","
               "\"turns\":[{\"speaker\":\"customer\",\"text\":\"my bill is wrong\","
               "\"time\":\"2026-01-02T10:00:00Z\"},{\"speaker\":\"agent\",\"text\":\"sorry\","
               "\"time\":1767348001500,\"extra\":[1,{}]},{\"speaker\":\"system\",\"text\":\"\"}]}"
               "\r\n"
               "\n"
               "   \t\n"
               "{\"id\":\"c-2\",\"customer_id\":\"cust-7\",\"language\":null,\"turns\":["
               "{\"speaker\":\"User\",\"text\":\"h\\u00e9llo \\\"you\\\"\",\"time\":null},"
               "{\"speaker\":\"bot\",\"text\":\"hi\",\"time\":\"2026-01-02T11:00:00.250+01:00\"},"
               "{\"speaker\":\"ASSISTANT\",\"text\":\"x\"}]}",
               "c-1 cust=cust-42 lang=en disp=BILL_DISPUTE out=resolved auth=0 line=1: "
               "customer@1767348000000[my bill is wrong] agent@1767348001500[sorry] system@0[]\n"
               "c-2 cust=cust-7 lang= disp= out= auth=0 line=4: customer@0[h\xc3\xa9llo \"you\"] "
               "agent@1767348000250[hi] agent@0[x]\n");
}

static void test_jsonl_errors(void **state)
{
    (void)state;
    /* Each bad line is consumed and the next good one still read. */
    check_read(
        "bad.jsonl", PARLEY_LEARN_LOG_JSONL,
        "{\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"a\"}]}\n"
        "{\"id\":7,\"customer_id\":\"x\",\"turns\":[]}\n"
        "{\"id\":\"\",\"customer_id\":\"x\",\"turns\":[]}\n"
        "{\"id\":\"c\",\"turns\":[]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\"}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":{}}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"a\"},"
        "{\"speaker\":\"agent\",\"text\":\"b\"},{\"speaker\":1,\"text\":\"c\"}]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"robot\",\"text\":\"a\"}]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\"}]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":null}]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[\"hello\"]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"a\","
        "\"time\":\"yesterday\"}]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"a\","
        "\"time\":1.5}]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"language\":[],\"turns\":[]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"language\":\"abcdefghijklmnopqrstuvwxyz0123456\","
        "\"turns\":[]}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"a\\u0000"
        "b\"}]}\n"
        "{\"id\":\"c\",\"id\":\"d\"}\n"
        "{\"id\":\"c\",\"customer_id\":\"x\",\"turns\":[\n"
        "[{\"id\":\"c\"}]\n"
        "{\"id\":\"c\",\"customer_id\":\"x\xff\"}\n"
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"
        "]]"
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
        "{\"id\":\"ok\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"customer\",\"text\":"
        "\"fine\"}]}",
        "error 4: ~:1: missing field 'id'\n"
        "error 4: ~:2: field 'id' must be a string (got a number)\n"
        "error 4: ~:3: field 'id' must not be empty\n"
        "error 4: ~:4: missing field 'customer_id'\n"
        "error 4: ~:5: missing field 'turns'\n"
        "error 4: ~:6: field 'turns' must be an array (got an object)\n"
        "error 4: ~:7: field 'turns' must not be empty\n"
        "error 4: ~:8: turn 3: field 'speaker' must be a string (got a number)\n"
        "error 4: ~:9: turn 1: unknown speaker 'robot' (expected customer, user, agent, bot, "
        "assistant or system)\n"
        "error 4: ~:10: turn 1: missing field 'text'\n"
        "error 4: ~:11: turn 1: field 'text' must be a string (got null)\n"
        "error 4: ~:12: turn 1 must be an object (got a string)\n"
        "error 4: ~:13: turn 1: field 'time' is not an RFC 3339 time like 2026-01-02T10:00:00Z: "
        "'yesterday'\n"
        "error 4: ~:14: turn 1: field 'time' must be an RFC 3339 string or an integer of Unix "
        "milliseconds (got a number with a fraction)\n"
        "error 4: ~:15: field 'language' must be a string (got an array)\n"
        "error 4: ~:16: field 'language' is longer than 32 bytes\n"
        "error 4: ~:17: turn 1: field 'text' contains a NUL character\n"
        "error 4: ~:18: invalid JSON at column 14: duplicate object key\n"
        "error 4: ~:19: invalid JSON at column 37: ']' expected\n"
        "error 4: ~:20: expected a JSON object (got an array)\n"
        "error 5: ~:21: invalid UTF-8 at byte 27 of the line (0xff)\n"
        "error 4: ~:22: JSON nested deeper than 64 levels\n"
        "ok cust=x lang= disp= out= auth=0 line=23: customer@0[fine]\n");
}

/* Builds a JSONL line with `n` turns; caller frees. */
static char *many_turns(size_t n)
{
    static const char head[] = "{\"id\":\"many\",\"customer_id\":\"x\",\"turns\":[";
    static const char turn[] = "{\"speaker\":\"customer\",\"text\":\"t\"},";
    size_t len = sizeof(head) + n * (sizeof(turn) - 1) + 8;
    char *s = malloc(len), *p;

    assert_non_null(s);
    memcpy(s, head, sizeof(head) - 1);
    p = s + sizeof(head) - 1;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, turn, sizeof(turn) - 1);
        p += sizeof(turn) - 1;
    }
    memcpy(p - 1, "]}\n", 4);
    return s;
}

static void test_jsonl_limits(void **state)
{
    static struct outcome o;
    size_t big = (16u << 20) + 10;
    char *s = many_turns(10001), *ok = many_turns(10000), *line;
    const char *path;
    size_t n;
    (void)state;

    /* Too many turns; exactly the limit is fine. */
    n = strlen(s) + strlen(ok);
    line = malloc(n + 1);
    assert_non_null(line);
    memcpy(line, s, strlen(s));
    memcpy(line + strlen(s), ok, strlen(ok) + 1);
    path = write_bytes("turns.jsonl", line, n);
    read_path(path, PARLEY_LEARN_LOG_JSONL, &o);
    assert_int_equal(o.errors, 1);
    assert_int_equal(o.conversations, 1);
    assert_non_null(strstr(o.text, ":1: field 'turns' has 10001 turns, more than 10000\n"));
    assert_non_null(strstr(o.text, "many cust=x lang= disp= out= auth=0 line=2: customer@0[t]"));
    free(line);
    free(s);
    free(ok);

    /* A line over 16 MiB is consumed and reported, the next one read. */
    line = malloc(big + 200);
    assert_non_null(line);
    memcpy(line, "{\"id\":\"", 7);
    memset(line + 7, 'a', big);
    n = 7 + big;
    n += (size_t)snprintf(line + n, 200,
                          "\"}\n{\"id\":\"after\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":"
                          "\"agent\",\"text\":\"t\"}]}\n");
    path = write_bytes("long.jsonl", line, n);
    read_path(path, PARLEY_LEARN_LOG_JSONL, &o);
    {
        char want[1024];
        (void)snprintf(want, sizeof(want),
                       "error 4: %s:1: line longer than 16 MiB\n"
                       "after cust=x lang= disp= out= auth=0 line=2: agent@0[t]\n",
                       path);
        assert_string_equal(o.text, want);
    }
    free(line);
}

static void test_csv(void **state)
{
    (void)state;
    /* Columns in any order plus one unknown; a quoted text over two lines
     * with a comma and doubled quotes; CRLF; conversation-level values
     * from the first row that has them; times in both forms. */
    check_read(
        "a.csv", PARLEY_LEARN_LOG_AUTO,
        "\xEF\xBB\xBFtext,Speaker, conversation_id ,customer_id,time,channel,language,"
        "disposition,outcome\r\n"
        "\"hello, \"\"agent\"\"\r\nsecond line\",customer,c-1,cust-1,2026-01-02T10:00:00Z,chat,"
        "en,,\r\n"
        "hi,agent,c-1,,1767348001500,chat,,BILL_DISPUTE,resolved\r\n"
        "\r\n"
        "\"\",System,c-1,cust-1,,,en,BILL_DISPUTE,\r\n"
        "need help,user,c-2,cust-2, 1767348000000 ,,,,\n"
        "\"x\",bot,\"c-2\",,,,,,escalated",
        "c-1 cust=cust-1 lang=en disp=BILL_DISPUTE out=resolved auth=0 line=2: "
        "customer@1767348000000[hello, \"agent\"\r\nsecond line] agent@1767348001500[hi] "
        "system@0[]\n"
        "c-2 cust=cust-2 lang= disp= out=escalated auth=0 line=7: customer@1767348000000[need "
        "help] agent@0[x]\n");
    /* Only the required columns; an id that comes back later starts a new
     * conversation. */
    check_read("b.csv", PARLEY_LEARN_LOG_CSV,
               "conversation_id,customer_id,speaker,text\n"
               "a,x,customer,one\n"
               "b,y,customer,two\n"
               "a,x,agent,three\n",
               "a cust=x lang= disp= out= auth=0 line=2: customer@0[one]\n"
               "b cust=y lang= disp= out= auth=0 line=3: customer@0[two]\n"
               "a cust=x lang= disp= out= auth=0 line=4: agent@0[three]\n");
}

static void test_csv_errors(void **state)
{
    (void)state;
    /* A malformed row drops its whole conversation (all its rows read);
     * the conversations around it are read. */
    check_read(
        "bad.csv", PARLEY_LEARN_LOG_CSV,
        "conversation_id,customer_id,speaker,text,disposition,time\n"
        "ok1,x,customer,fine,A,\n"
        "c1,x,customer,one,BILL_DISPUTE,\n"
        "c1,x,agent,two,,\n"
        "c1,x,agent,three,REFUND,\n"
        "c1,x,agent,four,OTHER,\n"
        "c2,x,robot,one,,\n"
        "c3,x,customer,\"caf\xe9\",,\n"
        "c4,,customer,one,,\n"
        "c5,x,customer,one,,tomorrow\n"
        "c6,x,customer,one\n"
        "c7,x,customer,\"one\"two,,\n"
        ",x,customer,one,,\n"
        "c8,x,,one,,\n"
        "c10,x,customer,\"line one\n"
        "line two\"\"\",,\n"
        "c11,x,agent,\"never closed,,\n"
        "c11,x,agent,more,,\n",
        "ok1 cust=x lang= disp=A out= auth=0 line=2: customer@0[fine]\n"
        "error 4: ~:5: conversation 'c1': disposition 'REFUND' differs from 'BILL_DISPUTE' on "
        "line 3\n"
        "error 4: ~:7: unknown speaker 'robot' (expected customer, user, agent, bot, assistant "
        "or system)\n"
        "error 5: ~:8: invalid UTF-8 in column 'text' at byte 4 (0xe9)\n"
        "error 4: ~:9: conversation 'c4' has no customer_id\n"
        "error 4: ~:10: column 'time' is neither an RFC 3339 time like 2026-01-02T10:00:00Z nor "
        "Unix milliseconds: 'tomorrow'\n"
        "error 4: ~:11: row has 4 fields, the header has 6\n"
        "error 4: ~:12: unexpected text after the closing quote of field 4\n"
        "error 4: ~:13: column 'conversation_id' is empty\n"
        "error 4: ~:14: column 'speaker' is empty (expected customer, user, agent, bot, "
        "assistant or system)\n"
        "c10 cust=x lang= disp= out= auth=0 line=15: customer@0[line one\nline two\"]\n"
        "error 4: ~:17: unterminated quoted field 4 (its closing quote is missing)\n");
    {
        static const char nul[] = "conversation_id,customer_id,speaker,text\n"
                                  "c9,x,customer,\"a\0z\"\n"
                                  "c9,x\0,agent,b\n"
                                  "c10\0,x,agent,b\n"
                                  "c11,x,agent,b\n";
        check_read_bytes("nul.csv", PARLEY_LEARN_LOG_CSV, nul, sizeof(nul) - 1,
                         "error 4: ~:2: column 'text' contains a NUL byte\n"
                         "error 4: ~:4: column 'conversation_id' contains a NUL byte\n"
                         "c11 cust=x lang= disp= out= auth=0 line=5: agent@0[b]\n");
    }
}

static void test_csv_header(void **state)
{
    char path[512];
    (void)state;

    check_open_fails(write_file("h1.csv", "conversation_id,customer_id,text\nc,x,hi\n"),
                     PARLEY_LEARN_LOG_CSV, PARLEY_ERR_FORMAT,
                     "~:1: the header has no column 'speaker' (required: conversation_id, "
                     "customer_id, speaker, text)");
    check_open_fails(write_file("h2.csv", "\n\nconversation_id,customer_id,speaker\n"),
                     PARLEY_LEARN_LOG_CSV, PARLEY_ERR_FORMAT,
                     "~:3: the header has no column 'text' (required: conversation_id, "
                     "customer_id, speaker, text)");
    check_open_fails(write_file("h3.csv", "conversation_id,customer_id,speaker,text,TEXT\n"),
                     PARLEY_LEARN_LOG_CSV, PARLEY_ERR_FORMAT,
                     "~:1: column 'text' appears twice in the header (fields 4 and 5)");
    check_open_fails(write_file("h4.csv", ""), PARLEY_LEARN_LOG_AUTO, PARLEY_ERR_FORMAT,
                     "~:1: no header row: the first row must name the columns (conversation_id, "
                     "customer_id, speaker, text, ...)");
    check_open_fails(write_file("h5.csv", "\"conversation_id,customer_id,speaker,text\n"),
                     PARLEY_LEARN_LOG_CSV, PARLEY_ERR_FORMAT,
                     "~:1: unterminated quoted field 1 (its closing quote is missing)");
    /* A header alone: no conversations. */
    check_read("h6.csv", PARLEY_LEARN_LOG_CSV, "conversation_id,customer_id,speaker,text", "");
    db_path(path, sizeof(path), "missing.csv");
    check_open_fails(path, PARLEY_LEARN_LOG_CSV, PARLEY_ERR_IO,
                     "cannot open '~': No such file or directory");
}

static void test_csv_limits(void **state)
{
    static const char head[] = "conversation_id,customer_id,speaker,text\n";
    size_t mib = 1u << 20, n = 0, cap = 40 * mib;
    char *buf = malloc(cap), want[2048];
    static struct outcome o;
    const char *path;
    (void)state;

    assert_non_null(buf);
    /* 10,001 turns: too many; then a conversation of 17 rows of 1 MiB:
     * too long; then a row over 16 MiB. Each is consumed whole. */
    memcpy(buf, head, sizeof(head) - 1);
    n = sizeof(head) - 1;
    for (int i = 0; i < 10001; i++)
        n += (size_t)snprintf(buf + n, cap - n, "many,x,customer,t\n");
    for (int i = 0; i < 17; i++) {
        n += (size_t)snprintf(buf + n, cap - n, "big,x,agent,");
        memset(buf + n, 'b', mib);
        n += mib;
        buf[n++] = '\n';
    }
    n += (size_t)snprintf(buf + n, cap - n, "huge,x,agent,\"");
    memset(buf + n, 'h', 17 * mib);
    n += 17 * mib;
    n += (size_t)snprintf(buf + n, cap - n, "\"\nlast,x,agent,t\n");
    path = write_bytes("limits.csv", buf, n);
    read_path(path, PARLEY_LEARN_LOG_CSV, &o);
    (void)snprintf(want, sizeof(want),
                   "error 4: %s:10002: conversation 'many' has more than 10000 turns\n"
                   "error 4: %s:10019: conversation 'big' is longer than 16 MiB\n"
                   "error 4: %s:10020: row longer than 16 MiB\n"
                   "last cust=x lang= disp= out= auth=0 line=10021: agent@0[t]\n",
                   path, path, path);
    assert_string_equal(o.text, want);

    /* Exactly 10,000 turns is fine. */
    n = sizeof(head) - 1;
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(buf + n, cap - n, "many,x,customer,t\n");
    read_path(write_bytes("limits.csv", buf, n), PARLEY_LEARN_LOG_CSV, &o);
    assert_int_equal(o.conversations, 1);
    assert_int_equal(o.errors, 0);
    free(buf);
}

/* The code block after the first line of docs/interaction-logs.md that
 * starts with `fence`, into `buf`. */
static void doc_block(const char *fence, char *buf, size_t size)
{
    const char *src = getenv("PARLEY_SOURCE_DIR");
    char path[1024], line[4096];
    size_t n = 0;
    int in = 0;
    FILE *f;

    assert_non_null(src);
    (void)snprintf(path, sizeof(path), "%s/docs/interaction-logs.md", src);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        if (!in) {
            in = strncmp(line, fence, strlen(fence)) == 0;
            continue;
        }
        if (strncmp(line, "```", 3) == 0)
            break;
        assert_true(n + strlen(line) < size);
        memcpy(buf + n, line, strlen(line) + 1);
        n += strlen(line);
    }
    assert_int_equal(fclose(f), 0);
    assert_true(in && n > 0);
}

/* The examples of the documentation read as it says. */
static void test_doc_examples(void **state)
{
    char buf[4096];
    (void)state;

    doc_block("```json", buf, sizeof(buf));
    check_read("doc.jsonl", PARLEY_LEARN_LOG_AUTO, buf,
               "c-1 cust=cust-42 lang=en disp=BILL_DISPUTE out=resolved auth=0 line=1: "
               "customer@1767348000000[My bill is twice what it was] "
               "agent@1767348041000[Let me check that for you]\n"
               "c-2 cust=cust-7 lang= disp= out= auth=0 line=2: customer@0[Where is my order?] "
               "agent@0[Could you give me the order number?]\n");
    doc_block("```csv", buf, sizeof(buf));
    check_read("doc.csv", PARLEY_LEARN_LOG_AUTO, buf,
               "c-1 cust=cust-42 lang=en disp=BILL_DISPUTE out=resolved auth=0 line=2: "
               "customer@1767348000000[My bill is twice what it was, why?] "
               "agent@1767348041000[Let me check that for you.\nOne moment please.]\n"
               "c-2 cust=cust-7 lang=en disp=WISMO out=escalated auth=0 line=5: "
               "customer@1767348000000[Where is my order?] "
               "agent@1767348002000[Could you give me the order number?]\n");
}

static void test_training(void **state)
{
    struct outcome o;
    char want[2048];
    const char *path;
    (void)state;

    /* fastText (any other extension), each example its own conversation. */
    path = write_file("intents.txt", "__label__greet hello there\n"
                                     "no label here\n"
                                     "\n"
                                     "__label__bill my bill is wrong\n");
    read_path(path, PARLEY_LEARN_LOG_AUTO, &o);
    (void)snprintf(want, sizeof(want),
                   "intents.txt:1 cust= lang= disp=greet out= auth=1 line=1: "
                   "customer@0[hello there]\n"
                   "error 4: %s:2: line does not start with '__label__'\n"
                   "intents.txt:4 cust= lang= disp=bill out= auth=1 line=4: "
                   "customer@0[my bill is wrong]\n",
                   path);
    assert_string_equal(o.text, want);

    /* A CSV training file, named so. */
    path = write_file("train.csv", "text,intent,language\n\"bonjour, toi\",greet,fr\n");
    read_path(path, PARLEY_LEARN_LOG_TRAINING, &o);
    assert_string_equal(o.text, "train.csv:2 cust= lang=fr disp=greet out= auth=1 line=2: "
                                "customer@0[bonjour, toi]\n");

    /* Missing file: the intent engine's message. */
    check_open_fails("/nonexistent/x.txt", PARLEY_LEARN_LOG_AUTO, PARLEY_ERR_IO,
                     "cannot open '~': No such file or directory");
}

static void test_open(void **state)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_learn_reader *r = NULL;
    char dir[512];
    static const struct {
        const char *name;
        parley_learn_log_format want;
    } autos[] = {
        {"x.jsonl", PARLEY_LEARN_LOG_JSONL},  {"x.NDJSON", PARLEY_LEARN_LOG_JSONL},
        {"x.json", PARLEY_LEARN_LOG_JSONL},   {"x.CSV", PARLEY_LEARN_LOG_CSV},
        {"x.tsv", PARLEY_LEARN_LOG_TRAINING}, {"x", PARLEY_LEARN_LOG_TRAINING},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(autos) / sizeof(autos[0]); i++) {
        const char *path = write_file(autos[i].name, "conversation_id,customer_id,speaker,text\n");
        assert_int_equal(parley_learn_reader_open(path, PARLEY_LEARN_LOG_AUTO, &r, &err),
                         PARLEY_OK);
        assert_int_equal(parley_learn_reader_format(r), autos[i].want);
        parley_learn_reader_free(r);
    }
    /* Standard input: JSONL unless told CSV; never training data. */
    assert_int_equal(parley_learn_reader_open("-", PARLEY_LEARN_LOG_AUTO, &r, &err), PARLEY_OK);
    assert_int_equal(parley_learn_reader_format(r), PARLEY_LEARN_LOG_JSONL);
    parley_learn_reader_free(r);
    check_open_fails("-", PARLEY_LEARN_LOG_TRAINING, PARLEY_ERR_INVALID,
                     "cannot read training data from standard input: give its file");

    check_open_fails("", PARLEY_LEARN_LOG_AUTO, PARLEY_ERR_INVALID, "no interaction log given");
    check_open_fails("x.jsonl", (parley_learn_log_format)9, PARLEY_ERR_INVALID,
                     "unknown interaction log format 9");
    assert_int_equal(parley_learn_reader_open(NULL, PARLEY_LEARN_LOG_AUTO, &r, &err),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_learn_reader_open("x.jsonl", PARLEY_LEARN_LOG_AUTO, NULL, &err),
                     PARLEY_ERR_INVALID);
    (void)snprintf(dir, sizeof(dir), "%s", tmpdir);
    check_open_fails(dir, PARLEY_LEARN_LOG_JSONL, PARLEY_ERR_IO, "cannot read '~': is a directory");

    /* NULL everywhere does nothing harmful. */
    parley_learn_reader_free(NULL);
    assert_int_equal(parley_learn_reader_format(NULL), PARLEY_LEARN_LOG_AUTO);
    assert_int_equal(parley_learn_reader_progress(NULL, NULL), 0);
    assert_int_equal(parley_learn_reader_next(NULL, NULL, NULL, &err), PARLEY_ERR_INVALID);
}

static void test_progress(void **state)
{
    static const char jsonl[] =
        "{\"id\":\"a\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"t\"}]}\n"
        "{\"id\":\"b\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"t\"}]}\n";
    static const char csv[] = "conversation_id,customer_id,speaker,text\n"
                              "a,x,agent,one\n"
                              "a,x,agent,two\n"
                              "b,x,agent,three\n";
    parley_error err = PARLEY_ERROR_INIT;
    parley_learn_conversation c;
    parley_learn_reader *r = NULL;
    uint64_t total = 1;
    int has;
    (void)state;

    assert_int_equal(
        parley_learn_reader_open(write_file("p.jsonl", jsonl), PARLEY_LEARN_LOG_AUTO, &r, &err),
        PARLEY_OK);
    assert_int_equal(parley_learn_reader_progress(r, &total), 0);
    assert_int_equal(total, sizeof(jsonl) - 1);
    assert_int_equal(parley_learn_reader_next(r, &c, &has, &err), PARLEY_OK);
    assert_int_equal(parley_learn_reader_progress(r, &total), (sizeof(jsonl) - 1) / 2);
    assert_int_equal(parley_learn_reader_next(r, &c, &has, &err), PARLEY_OK);
    assert_int_equal(parley_learn_reader_next(r, &c, &has, &err), PARLEY_OK);
    assert_int_equal(has, 0);
    assert_int_equal(parley_learn_reader_progress(r, NULL), sizeof(jsonl) - 1);
    parley_learn_reader_free(r);

    /* CSV reads the header at open and one row ahead. */
    assert_int_equal(
        parley_learn_reader_open(write_file("p.csv", csv), PARLEY_LEARN_LOG_AUTO, &r, &err),
        PARLEY_OK);
    assert_int_equal(parley_learn_reader_progress(r, &total), 41);
    assert_int_equal(total, sizeof(csv) - 1);
    assert_int_equal(parley_learn_reader_next(r, &c, &has, &err), PARLEY_OK);
    assert_int_equal(c.n_turns, 2);
    assert_int_equal(parley_learn_reader_progress(r, &total), sizeof(csv) - 1);
    assert_int_equal(parley_learn_reader_next(r, &c, &has, &err), PARLEY_OK);
    assert_int_equal(has, 1);
    assert_int_equal(parley_learn_reader_next(r, &c, &has, &err), PARLEY_OK);
    assert_int_equal(has, 0);
    parley_learn_reader_free(r);

    /* Training data: known at the end. */
    assert_int_equal(parley_learn_reader_open(write_file("p.txt", "__label__a b\n"),
                                              PARLEY_LEARN_LOG_AUTO, &r, &err),
                     PARLEY_OK);
    assert_int_equal(parley_learn_reader_progress(r, &total), 0);
    assert_int_equal(total, 13);
    assert_int_equal(parley_learn_reader_next(r, &c, &has, &err), PARLEY_OK);
    assert_int_equal(parley_learn_reader_next(r, &c, &has, &err), PARLEY_OK);
    assert_int_equal(has, 0);
    assert_int_equal(parley_learn_reader_progress(r, &total), 13);
    parley_learn_reader_free(r);
}

/* Opens and reads `path`, counting conversations; the first error other
 * than a malformed conversation ends it and is returned. */
static parley_err oom_round(const char *path, size_t *convs)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_learn_reader *r = NULL;
    parley_err rc = parley_learn_reader_open(path, PARLEY_LEARN_LOG_AUTO, &r, &err);

    *convs = 0;
    while (rc == PARLEY_OK) {
        parley_learn_conversation c;
        int has = 0;
        rc = parley_learn_reader_next(r, &c, &has, &err);
        if (rc == PARLEY_ERR_FORMAT || rc == PARLEY_ERR_UTF8) {
            rc = PARLEY_OK;
            continue;
        }
        if (rc != PARLEY_OK) {
            /* Memory errors stick. */
            parley_error again = PARLEY_ERROR_INIT;
            assert_int_equal(parley_learn_reader_next(r, &c, &has, &again), rc);
            assert_string_equal(again.msg, err.msg);
            break;
        }
        if (!has)
            break;
        (*convs)++;
    }
    if (rc != PARLEY_OK)
        assert_int_equal(err.code, rc);
    parley_learn_reader_free(r);
    return rc;
}

static void test_oom(void **state)
{
    static const struct {
        const char *name, *data;
        size_t convs;
    } inputs[] = {
        {"o.jsonl",
         "{\"id\":\"a\",\"customer_id\":\"x\",\"language\":\"en\",\"turns\":[{\"speaker\":"
         "\"agent\","
         "\"text\":\"t\"},{\"speaker\":\"customer\",\"text\":\"u\"}]}\nbad\n"
         "{\"id\":\"b\",\"customer_id\":\"x\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"t\"}]}"
         "\n",
         2},
        {"o.csv",
         "conversation_id,customer_id,speaker,text,disposition\n"
         "a,x,customer,\"multi\nline\",D\na,x,agent,two,\nb,x,robot,t,\nc,y,agent,t,\n",
         2},
        {"o.txt", "__label__a one\nbad\n__label__b two\n", 2},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        const char *path = write_file(inputs[i].name, inputs[i].data);
        long n;
        for (n = 0; n < 1000; n++) {
            size_t convs;
            parley_err rc;
            failing_alloc_start(n);
            rc = oom_round(path, &convs);
            assert_int_equal(failing_alloc_stop(), 0);
            if (rc == PARLEY_OK) {
                assert_int_equal(convs, inputs[i].convs);
                break;
            }
            assert_int_equal(rc, PARLEY_ERR_NOMEM);
        }
        assert_true(n >= 3); /* the reader, its name, a buffer */
        assert_true(n < 1000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl),        cmocka_unit_test(test_jsonl_errors),
        cmocka_unit_test(test_jsonl_limits), cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_errors),   cmocka_unit_test(test_csv_header),
        cmocka_unit_test(test_csv_limits),   cmocka_unit_test(test_training),
        cmocka_unit_test(test_open),         cmocka_unit_test(test_progress),
        cmocka_unit_test(test_doc_examples), cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
