/* Unit tests of the training-data readers (src/lib/nlu/data*.c): every
 * format's happy path, malformed rows, skip-bad, rewind and detection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlu/data_internal.h"
#include "parley/nlu.h"

#define MAX_ROWS 64

struct row {
    char text[256];
    char label[64];
    char lang[16];
    size_t line;
};

struct rows {
    struct row r[MAX_ROWS];
    size_t n;
};

static parley_nlu_data *open_mem(const char *name, const char *s, size_t len, parley_nlu_format fmt,
                                 unsigned flags)
{
    parley_nlu_data *d = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_err rc = parley_nlu_data_open_memory(name, s, len, fmt, flags, &d, &err);
    if (rc != PARLEY_OK)
        fail_msg("open '%s' failed: %s", name, err.msg);
    return d;
}

static parley_nlu_data *open_str(const char *name, const char *s, parley_nlu_format fmt,
                                 unsigned flags)
{
    return open_mem(name, s, strlen(s), fmt, flags);
}

static void check_example(const parley_nlu_example *ex)
{
    assert_non_null(ex->text);
    assert_non_null(ex->label);
    assert_non_null(ex->language);
    assert_int_equal(strlen(ex->text), ex->text_len);
    assert_int_equal(strlen(ex->label), ex->label_len);
    assert_true(ex->text_len > 0);
    assert_true(ex->label_len > 0);
    assert_int_equal(parley_text_validate(ex->text, ex->text_len, NULL, NULL), PARLEY_OK);
}

/* Reads every row; stops at the first error, returning it. */
static parley_err read_all(parley_nlu_data *d, struct rows *out, parley_error *err)
{
    out->n = 0;
    for (;;) {
        parley_nlu_example ex;
        int has = -1;
        parley_err rc = parley_nlu_data_next(d, &ex, &has, err);
        if (rc != PARLEY_OK)
            return rc;
        if (!has)
            return PARLEY_OK;
        check_example(&ex);
        assert_true(out->n < MAX_ROWS);
        (void)snprintf(out->r[out->n].text, sizeof(out->r[0].text), "%s", ex.text);
        (void)snprintf(out->r[out->n].label, sizeof(out->r[0].label), "%s", ex.label);
        (void)snprintf(out->r[out->n].lang, sizeof(out->r[0].lang), "%s", ex.language);
        out->r[out->n].line = ex.line;
        out->n++;
    }
}

static void read_ok(parley_nlu_data *d, struct rows *out)
{
    parley_error err = PARLEY_ERROR_INIT;
    if (read_all(d, out, &err) != PARLEY_OK)
        fail_msg("read failed: %s", err.msg);
}

static void assert_row(const struct rows *rs, size_t i, const char *text, const char *label,
                       const char *lang, size_t line)
{
    if (i >= rs->n) {
        fail_msg("row %zu missing: only %zu rows", i, rs->n);
        return;
    }
    assert_string_equal(rs->r[i].text, text);
    assert_string_equal(rs->r[i].label, label);
    assert_string_equal(rs->r[i].lang, lang);
    assert_int_equal(rs->r[i].line, line);
}

/* The first row error of `s` in format `fmt`: its code and message. */
static parley_err first_error(const char *name, const char *s, size_t len, parley_nlu_format fmt,
                              parley_error *err)
{
    struct rows rs;
    parley_nlu_data *d = open_mem(name, s, len, fmt, 0);
    parley_err rc = read_all(d, &rs, err);
    parley_nlu_data_free(d);
    return rc;
}

static void expect_error(const char *name, const char *s, parley_nlu_format fmt, parley_err code,
                         const char *msg)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_err rc = first_error(name, s, strlen(s), fmt, &err);
    if (rc != code || !strstr(err.msg, msg))
        fail_msg("input %s: got %d '%s', expected %d '%s'", name, (int)rc, err.msg, (int)code, msg);
}

static void test_format_names(void **state)
{
    parley_nlu_format f = PARLEY_NLU_FORMAT_AUTO;
    parley_error err = PARLEY_ERROR_INIT;
    (void)state;

    for (int i = PARLEY_NLU_FORMAT_AUTO; i <= PARLEY_NLU_FORMAT_RASA; i++) {
        const char *name = parley_nlu_format_name((parley_nlu_format)i);
        assert_int_equal(parley_nlu_format_parse(name, &f, &err), PARLEY_OK);
        assert_int_equal(f, i);
    }
    assert_string_equal(parley_nlu_format_name(PARLEY_NLU_FORMAT_JSONL), "jsonl");
    assert_int_equal(parley_nlu_format_parse("CSV", &f, &err), PARLEY_OK);
    assert_int_equal(f, PARLEY_NLU_FORMAT_CSV);
    assert_int_equal(parley_nlu_format_parse("xml", &f, &err), PARLEY_ERR_INVALID);
    assert_non_null(strstr(err.msg, "'xml'"));
    assert_non_null(strstr(err.msg, "rasa"));
    assert_int_equal(parley_nlu_format_parse(NULL, &f, &err), PARLEY_ERR_INVALID);
    assert_string_equal(parley_nlu_format_name((parley_nlu_format)99), "unknown");
}

static void test_open_args(void **state)
{
    parley_nlu_data *d = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    (void)state;

    assert_int_equal(parley_nlu_data_open_memory("x", "a", 1, PARLEY_NLU_FORMAT_CSV, 0, NULL, &err),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_nlu_data_open_memory("x", NULL, 3, PARLEY_NLU_FORMAT_CSV, 0, &d, &err),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_nlu_data_open_memory("x", "a", 1, (parley_nlu_format)42, 0, &d, &err),
                     PARLEY_ERR_INVALID);
    assert_int_equal(
        parley_nlu_data_open_memory("x", "a", 1, PARLEY_NLU_FORMAT_CSV, 0x80, &d, &err),
        PARLEY_ERR_INVALID);
    assert_null(d);
    assert_int_equal(parley_nlu_data_open(NULL, PARLEY_NLU_FORMAT_AUTO, 0, &d, &err),
                     PARLEY_ERR_INVALID);
    parley_nlu_data_free(NULL);
    assert_int_equal(parley_nlu_data_skipped(NULL), 0);
    assert_null(parley_nlu_data_first_skip(NULL));

    /* A NULL name and an empty buffer are fine. */
    assert_int_equal(
        parley_nlu_data_open_memory(NULL, NULL, 0, PARLEY_NLU_FORMAT_AUTO, 0, &d, &err), PARLEY_OK);
    assert_string_equal(parley_nlu_data_name(d), "<memory>");
    assert_int_equal(parley_nlu_data_format(d), PARLEY_NLU_FORMAT_FASTTEXT);
    parley_nlu_data_free(d);
}

static void test_empty_inputs(void **state)
{
    (void)state;
    for (int f = PARLEY_NLU_FORMAT_FASTTEXT; f <= PARLEY_NLU_FORMAT_RASA; f++) {
        struct rows rs;
        parley_nlu_data *d = open_str("empty", "", (parley_nlu_format)f, 0);
        read_ok(d, &rs);
        assert_int_equal(rs.n, 0);
        parley_nlu_data_free(d);
        d = open_str("blank", "\n  \n\r\n", (parley_nlu_format)f, 0);
        read_ok(d, &rs);
        assert_int_equal(rs.n, 0);
        parley_nlu_data_free(d);
    }
}

static void test_fasttext(void **state)
{
    struct rows rs;
    parley_nlu_data *d = open_str("ft.txt",
                                  "__label__greet hello there\n"
                                  "\n"
                                  "__label__bye __label__farewell\tgood  bye \r\n"
                                  "  __label__thanks thank you",
                                  PARLEY_NLU_FORMAT_FASTTEXT, 0);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 3);
    assert_row(&rs, 0, "hello there", "greet", "", 1);
    assert_row(&rs, 1, "good  bye", "bye", "", 3);
    assert_row(&rs, 2, "thank you", "thanks", "", 4);
    parley_nlu_data_free(d);
}

static void test_fasttext_bom(void **state)
{
    struct rows rs;
    parley_nlu_data *d =
        open_str("bom.txt", "\xEF\xBB\xBF__label__greet hi\n", PARLEY_NLU_FORMAT_FASTTEXT, 0);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 1);
    assert_row(&rs, 0, "hi", "greet", "", 1);
    parley_nlu_data_free(d);
    /* Only the first line may carry a byte order mark. */
    expect_error("bom.txt", "__label__a x\n\xEF\xBB\xBF__label__b y\n", PARLEY_NLU_FORMAT_FASTTEXT,
                 PARLEY_ERR_FORMAT, "bom.txt:2: line does not start with");
}

static void test_fasttext_errors(void **state)
{
    (void)state;
    expect_error("ft.txt", "__label__a ok\nhello world\n", PARLEY_NLU_FORMAT_FASTTEXT,
                 PARLEY_ERR_FORMAT, "ft.txt:2: line does not start with '__label__'");
    expect_error("ft.txt", "__label__greet\n", PARLEY_NLU_FORMAT_FASTTEXT, PARLEY_ERR_FORMAT,
                 "ft.txt:1: missing text");
    expect_error("ft.txt", "__label__greet   \n", PARLEY_NLU_FORMAT_FASTTEXT, PARLEY_ERR_FORMAT,
                 "ft.txt:1: missing text");
    expect_error("ft.txt", "__label__ hello\n", PARLEY_NLU_FORMAT_FASTTEXT, PARLEY_ERR_FORMAT,
                 "ft.txt:1: empty label");
    expect_error("ft.txt", "\n\n__label__a hi \xC3\x28 there\n", PARLEY_NLU_FORMAT_FASTTEXT,
                 PARLEY_ERR_UTF8, "ft.txt:3: invalid UTF-8 in text at byte 3 (0xc3)");
    expect_error("ft.txt", "__label__a\x01 hi\n", PARLEY_NLU_FORMAT_FASTTEXT, PARLEY_ERR_FORMAT,
                 "ft.txt:1: label contains a control character");
}

static void test_error_then_continue(void **state)
{
    parley_nlu_data *d =
        open_str("ft.txt", "__label__a one\nbad\n__label__b two\n", PARLEY_NLU_FORMAT_FASTTEXT, 0);
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_example ex;
    int has = 0;
    (void)state;

    assert_int_equal(parley_nlu_data_next(d, &ex, &has, &err), PARLEY_OK);
    assert_int_equal(has, 1);
    assert_int_equal(parley_nlu_data_next(d, &ex, &has, &err), PARLEY_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "ft.txt:2:"));
    /* The bad row is consumed; reading goes on after it. */
    assert_int_equal(parley_nlu_data_next(d, &ex, &has, &err), PARLEY_OK);
    assert_int_equal(has, 1);
    assert_string_equal(ex.label, "b");
    assert_int_equal(ex.line, 3);
    assert_int_equal(parley_nlu_data_next(d, &ex, &has, &err), PARLEY_OK);
    assert_int_equal(has, 0);
    assert_int_equal(parley_nlu_data_next(d, &ex, &has, &err), PARLEY_OK);
    assert_int_equal(has, 0);
    assert_int_equal(parley_nlu_data_skipped(d), 0);
    parley_nlu_data_free(d);
}

static void test_csv_quoting(void **state)
{
    struct rows rs;
    parley_nlu_data *d = open_str("q.csv",
                                  "text,intent\r\n"
                                  "\"hello, world\",greet\r\n"
                                  "\"she said \"\"hi\"\"\",greet\r\n"
                                  "\"multi\r\n"
                                  "line\",\"bye\"\r\n"
                                  "\n"
                                  "  padded  ,  thanks  \n"
                                  "\"\",\"\"\"\"\n"
                                  "last,bye",
                                  PARLEY_NLU_FORMAT_CSV, PARLEY_NLU_DATA_SKIP_BAD);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 5);
    assert_row(&rs, 0, "hello, world", "greet", "", 2);
    assert_row(&rs, 1, "she said \"hi\"", "greet", "", 3);
    assert_row(&rs, 2, "multi\nline", "bye", "", 4);
    assert_row(&rs, 3, "padded", "thanks", "", 7);
    assert_row(&rs, 4, "last", "bye", "", 9);
    /* The row with an empty text was skipped. */
    assert_int_equal(parley_nlu_data_skipped(d), 1);
    assert_non_null(strstr(parley_nlu_data_first_skip(d), "q.csv:8: empty text"));
    parley_nlu_data_free(d);
}

static void test_csv_positional(void **state)
{
    struct rows rs;
    parley_nlu_data *d =
        open_str("p.csv", "hi there,greet,en\nbye,bye\n\"text\",x\n", PARLEY_NLU_FORMAT_CSV, 0);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 3);
    assert_row(&rs, 0, "hi there", "greet", "en", 1);
    assert_row(&rs, 1, "bye", "bye", "", 2);
    assert_row(&rs, 2, "text", "x", "", 3);
    parley_nlu_data_free(d);
}

static void test_csv_header(void **state)
{
    struct rows rs;
    parley_nlu_data *d = open_str("h.csv",
                                  "id, Intent ,UTTERANCE,Lang,notes\n"
                                  "1,greet,hello,en,x\n"
                                  "2,greet,hallo\n"
                                  "3,bye,\"tschüss, bis bald\",de,\"a,b\"\n",
                                  PARLEY_NLU_FORMAT_CSV, 0);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 3);
    assert_row(&rs, 0, "hello", "greet", "en", 2);
    assert_row(&rs, 1, "hallo", "greet", "", 3);
    assert_row(&rs, 2, "tschüss, bis bald", "bye", "de", 4);
    parley_nlu_data_free(d);

    /* A header needs both a text and a label column. */
    d = open_str("h2.csv", "text,lang\nhi,greet\n", PARLEY_NLU_FORMAT_CSV, 0);
    read_ok(d, &rs);
    assert_int_equal(rs.n, 2);
    assert_row(&rs, 0, "text", "lang", "", 1);
    parley_nlu_data_free(d);
    expect_error("h3.csv", "a,b,text,label\nx,y,hello\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "h3.csv:2: expected at least 4 columns, found 3");
}

static void test_csv_errors(void **state)
{
    (void)state;
    expect_error("b.csv", "ok,greet\n\"abc\"def,greet\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "b.csv:2: unexpected text after the closing quote of column 1");
    expect_error("b.csv", "ok,greet\n\"abc,greet\nmore\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "b.csv:2: unterminated quoted field in column 1");
    expect_error("b.csv", "a,b,c,d\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "b.csv:1: expected 2 or 3 columns (text, label, language), found 4");
    expect_error("b.csv", "\n\njust text\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "b.csv:3: expected 2 or 3 columns");
    expect_error("b.csv", "hi,book flight\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "b.csv:1: label 'book flight' contains whitespace");
    expect_error("b.csv", "hi,greet,en us\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "b.csv:1: language 'en us' contains whitespace");
    expect_error("b.csv", "hi,,en\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "b.csv:1: empty label");
    expect_error("b.csv", "hi,gr\xff\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_UTF8,
                 "b.csv:1: invalid UTF-8 in label at byte 2 (0xff)");
}

static void test_csv_skip_bad(void **state)
{
    struct rows rs;
    parley_nlu_data *d = open_str("s.csv",
                                  "text,label\n"
                                  "one,a\n"
                                  "\"broken\"x,a\n"
                                  "two,b\n"
                                  ",c\n"
                                  "three,c\n"
                                  "\"never closed,d\n"
                                  "four,d\n",
                                  PARLEY_NLU_FORMAT_CSV, PARLEY_NLU_DATA_SKIP_BAD);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 3);
    assert_row(&rs, 0, "one", "a", "", 2);
    assert_row(&rs, 1, "two", "b", "", 4);
    assert_row(&rs, 2, "three", "c", "", 6);
    assert_int_equal(parley_nlu_data_skipped(d), 3);
    assert_non_null(strstr(parley_nlu_data_first_skip(d), "s.csv:3:"));

    /* Another pass skips the same rows; they are counted once. */
    assert_int_equal(parley_nlu_data_rewind(d, NULL), PARLEY_OK);
    read_ok(d, &rs);
    assert_int_equal(rs.n, 3);
    assert_int_equal(parley_nlu_data_skipped(d), 3);
    parley_nlu_data_free(d);
}

static void test_tsv(void **state)
{
    struct rows rs;
    parley_nlu_data *d =
        open_str("xsid.tsv",
                 "lang\tsplit\tid\tintent\ttext\ttext_en\n"
                 "de\ttest\t1\tweather/find\twie wird das \"Wetter\"\thow is the weather\n"
                 "en\ttest\t2\talarm/set_alarm\twake me up, please\twake me up, please\r\n",
                 PARLEY_NLU_FORMAT_TSV, 0);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 2);
    assert_row(&rs, 0, "wie wird das \"Wetter\"", "weather/find", "de", 2);
    assert_row(&rs, 1, "wake me up, please", "alarm/set_alarm", "en", 3);
    parley_nlu_data_free(d);

    d = open_str("p.tsv", "hello, you\tgreet\n", PARLEY_NLU_FORMAT_TSV, 0);
    read_ok(d, &rs);
    assert_int_equal(rs.n, 1);
    assert_row(&rs, 0, "hello, you", "greet", "", 1);
    parley_nlu_data_free(d);
}

static void test_jsonl(void **state)
{
    struct rows rs;
    parley_nlu_data *d =
        open_str("d.jsonl",
                 "{\"text\": \"hello\", \"intent\": \"greet\", \"language\": \"en\"}\n"
                 "\n"
                 "{\"label\": \"bye\", \"text\": \" ciao \", \"lang\": \"it\", "
                 "\"extra\": [1, {\"x\": null}]}\r\n"
                 "{\"text\": \"caf\\u00e9\", \"intent\": \"order\", "
                 "\"language\": null}",
                 PARLEY_NLU_FORMAT_JSONL, 0);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 3);
    assert_row(&rs, 0, "hello", "greet", "en", 1);
    assert_row(&rs, 1, "ciao", "bye", "it", 3);
    assert_row(&rs, 2, "caf\xC3\xA9", "order", "", 4);
    parley_nlu_data_free(d);
}

static void test_jsonl_errors(void **state)
{
    char deep[512];
    size_t n = 0;
    (void)state;

    expect_error("data.jsonl",
                 "{\"text\": \"a\", \"intent\": \"x\"}\n"
                 "{\"text\": \"hi\", \"intent\": 7}\n",
                 PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT,
                 "data.jsonl:2: \"intent\" must be a string");
    expect_error("data.jsonl", "{\"intent\": \"x\"}\n", PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT,
                 "data.jsonl:1: missing \"text\"");
    expect_error("data.jsonl", "{\"text\": \"x\"}\n", PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT,
                 "data.jsonl:1: missing \"intent\" or \"label\"");
    expect_error("data.jsonl", "{\"text\": [\"x\"], \"label\": \"a\"}\n", PARLEY_NLU_FORMAT_JSONL,
                 PARLEY_ERR_FORMAT, "data.jsonl:1: \"text\" must be a string");
    expect_error("data.jsonl", "{\"text\": \"x\", \"label\": \"a\", \"lang\": 1}\n",
                 PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT,
                 "data.jsonl:1: \"lang\" must be a string");
    expect_error("data.jsonl", "{\"text\": \"hi\", \"intent\": \"gr", PARLEY_NLU_FORMAT_JSONL,
                 PARLEY_ERR_FORMAT, "data.jsonl:1: invalid JSON at column");
    expect_error("data.jsonl", "[\"hi\", \"greet\"]\n", PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT,
                 "data.jsonl:1: expected a JSON object");
    expect_error("data.jsonl", "{\"text\": \"a\", \"text\": \"b\", \"intent\": \"x\"}\n",
                 PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT, "data.jsonl:1: invalid JSON");
    expect_error("data.jsonl", "{\"text\": \"a\\u0000b\", \"intent\": \"x\"}\n",
                 PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT,
                 "data.jsonl:1: text contains a NUL byte at byte 1");
    expect_error("data.jsonl", "{\"text\": \"a\xC0\xAF\", \"intent\": \"x\"}\n",
                 PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_UTF8,
                 "data.jsonl:1: invalid UTF-8 at byte 11 of the line (0xc0)");
    expect_error("data.jsonl", "{\"text\": \"\\ud800\", \"intent\": \"x\"}\n",
                 PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT, "data.jsonl:1: invalid JSON");
    n += (size_t)snprintf(deep + n, sizeof(deep) - n,
                          "{\"text\": \"a\", \"intent\": \"b\", \"x\": ");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    expect_error("data.jsonl", deep, PARLEY_NLU_FORMAT_JSONL, PARLEY_ERR_FORMAT,
                 "data.jsonl:1: JSON nested deeper than 64 levels");
}

static const char rasa_doc[] =
    "version: \"3.1\"\n"                                               /* 1 */
    "nlu:\n"                                                           /* 2 */
    "- intent: greet\n"                                                /* 3 */
    "  examples: |\n"                                                  /* 4 */
    "    - hey\n"                                                      /* 5 */
    "    - hello [Sara](name) and [Bob](person:robert)\n"              /* 6 */
    "\n"                                                               /* 7 */
    "    - good [morning]{\"entity\": \"time\", \"value\": \"am\"}!\n" /* 8 */
    "- synonym: savings\n"                                             /* 9 */
    "  examples: |\n"                                                  /* 10 */
    "    - pink pig\n"                                                 /* 11 */
    "- regex: zip\n"                                                   /* 12 */
    "  examples: |\n"                                                  /* 13 */
    "    - \\d{5}\n"                                                   /* 14 */
    "- lookup: city\n"                                                 /* 15 */
    "  examples: |\n"                                                  /* 16 */
    "    - Paris\n"                                                    /* 17 */
    "- examples: |\n"                                                  /* 18 */
    "    - see you [later](time)\n"                                    /* 19 */
    "  intent: goodbye\n"                                              /* 20 */
    "  metadata: {sentiment: neutral}\n"                               /* 21 */
    "- intent: \"check_balance\"\n"                                    /* 22 */
    "  examples:\n"                                                    /* 23 */
    "  - text: |\n"                                                    /* 24 */
    "      how much is in my [savings](account) account\n"             /* 25 */
    "    metadata:\n"                                                  /* 26 */
    "      sentiment: neutral\n"                                       /* 27 */
    "  - text: what's my balance?\n"                                   /* 28 */
    "  - plain [list](x) item\n"                                       /* 29 */
    "responses:\n"                                                     /* 30 */
    "  utter_greet:\n"                                                 /* 31 */
    "  - text: \"Hey!\"\n";                                            /* 32 */

static void test_rasa(void **state)
{
    struct rows rs;
    parley_nlu_data *d = open_str("nlu.yml", rasa_doc, PARLEY_NLU_FORMAT_RASA, 0);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 7);
    assert_row(&rs, 0, "hey", "greet", "", 5);
    assert_row(&rs, 1, "hello Sara and Bob", "greet", "", 6);
    assert_row(&rs, 2, "good morning!", "greet", "", 8);
    assert_row(&rs, 3, "see you later", "goodbye", "", 19);
    assert_row(&rs, 4, "how much is in my savings account", "check_balance", "", 25);
    assert_row(&rs, 5, "what's my balance?", "check_balance", "", 28);
    assert_row(&rs, 6, "plain list item", "check_balance", "", 29);
    parley_nlu_data_free(d);
}

static void test_rasa_lines_fallback(void **state)
{
    struct rows rs;
    parley_nlu_data *d = open_str("f.yml",
                                  "nlu:\n"
                                  "- intent: a\n"
                                  "  examples: \"- one\\n- two\\n\"\n"
                                  "- intent: b\n"
                                  "  examples: >\n"
                                  "    - three\n",
                                  PARLEY_NLU_FORMAT_RASA, 0);
    (void)state;

    read_ok(d, &rs);
    assert_int_equal(rs.n, 3);
    assert_row(&rs, 0, "one", "a", "", 2);
    assert_row(&rs, 1, "two", "a", "", 2);
    assert_row(&rs, 2, "three", "b", "", 4);
    parley_nlu_data_free(d);
}

static void expect_open_error(const char *name, const char *s, parley_nlu_format fmt,
                              parley_err code, const char *msg)
{
    parley_nlu_data *d = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_err rc = parley_nlu_data_open_memory(name, s, strlen(s), fmt, 0, &d, &err);
    if (rc != code || !strstr(err.msg, msg))
        fail_msg("open %s: got %d '%s', expected %d '%s'", name, (int)rc, err.msg, (int)code, msg);
    assert_null(d);
}

static void test_rasa_document_errors(void **state)
{
    (void)state;
    expect_open_error("v.yml", "version: \"2.0\"\nnlu:\n- intent: a\n  examples: |\n    - x\n",
                      PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                      "v.yml:1: unsupported Rasa version '2.0' (expected \"3.x\")");
    expect_open_error("v.yml", "version: [3]\n", PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                      "v.yml:1: \"version\" must be a string");
    expect_open_error("s.yml", "nlu:\n- intent: a\n  examples: |\n    - x\n - intent: b\n",
                      PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                      "s.yml:5: invalid YAML at column 2:");
    expect_open_error("s.yml", "nlu: [\n", PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                      "s.yml:2: invalid YAML at column 1: did not find expected node content");
    expect_open_error("t.yml", "- intent: a\n", PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                      "t.yml:1: expected a mapping with \"nlu:\" at the top level");
    expect_open_error("n.yml", "nlu: {intent: a}\n", PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                      "n.yml:1: \"nlu\" must be a list");
    expect_open_error("u.yml", "nlu:\n- intent: a\n  examples: |\n    - caf\xE9\n",
                      PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_UTF8,
                      "u.yml:4: invalid UTF-8 at byte 9 of the line (0xe9)");
    expect_open_error("c.yml", "nlu:\n- intent: a\x01\n", PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                      "c.yml:2: invalid YAML");
    {
        char deep[400];
        size_t n = (size_t)snprintf(deep, sizeof(deep), "nlu: ");
        for (int i = 0; i < 100; i++)
            deep[n++] = '[';
        deep[n] = '\0';
        expect_open_error("d.yml", deep, PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                          "d.yml:1: YAML nested deeper than 64 levels");
    }
}

static void test_rasa_row_errors(void **state)
{
    struct rows rs;
    parley_nlu_data *d;
    (void)state;

    expect_error("r.yml", "nlu:\n- examples: |\n    - x\n", PARLEY_NLU_FORMAT_RASA,
                 PARLEY_ERR_FORMAT, "r.yml:2: item has no \"intent\"");
    expect_error("r.yml", "nlu:\n- intent: a\n", PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                 "r.yml:2: intent has no \"examples\"");
    expect_error("r.yml", "nlu:\n- intent: [a]\n  examples: |\n    - x\n", PARLEY_NLU_FORMAT_RASA,
                 PARLEY_ERR_FORMAT, "r.yml:2: \"intent\" must be a string");
    expect_error("r.yml", "nlu:\n- intent: a b\n  examples: |\n    - x\n", PARLEY_NLU_FORMAT_RASA,
                 PARLEY_ERR_FORMAT, "r.yml:2: label 'a b' contains whitespace");
    expect_error("r.yml", "nlu:\n- intent: a\n  examples: |\n    - x\n    y\n",
                 PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                 "r.yml:5: example does not start with '- '");
    expect_error("r.yml", "nlu:\n- intent: a\n  examples: {x: 1}\n", PARLEY_NLU_FORMAT_RASA,
                 PARLEY_ERR_FORMAT, "r.yml:3: \"examples\" must be a string or a list");
    expect_error("r.yml", "nlu:\n- intent: a\n  examples:\n  - metadata: {}\n",
                 PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT, "r.yml:4: example has no \"text\"");
    expect_error("r.yml", "nlu:\n- hello\n", PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT,
                 "r.yml:2: \"nlu\" item must be a mapping");
    expect_error("r.yml", "nlu:\n- intent: a\n  examples:\n  - &x hi\n  - *x\n",
                 PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT, "r.yml:5: aliases are not supported");
    expect_error("r.yml", "nlu:\n- intent: a\n  examples:\n  - text: \"a\\0b\"\n",
                 PARLEY_NLU_FORMAT_RASA, PARLEY_ERR_FORMAT, "r.yml:4: text contains a NUL byte");
    expect_error("r.yml", "nlu:\n- intent: a\n  examples: |\n    -\n", PARLEY_NLU_FORMAT_RASA,
                 PARLEY_ERR_FORMAT, "r.yml:4: empty text");
    expect_error("r.yml", "nlu:\n- intent: a\n  examples:\n  - text: [x]\n", PARLEY_NLU_FORMAT_RASA,
                 PARLEY_ERR_FORMAT, "r.yml:4: \"text\" must be a string");
    expect_error("r.yml", "nlu:\n- intent: a\n  examples:\n  - [x, y]\n", PARLEY_NLU_FORMAT_RASA,
                 PARLEY_ERR_FORMAT, "r.yml:4: example must be a string or a mapping");

    /* An empty "nlu:" and empty documents have no rows. */
    d = open_str("e.yml", "version: '3.1'\nnlu: ~\n---\n", PARLEY_NLU_FORMAT_RASA, 0);
    read_ok(d, &rs);
    assert_int_equal(rs.n, 0);
    parley_nlu_data_free(d);

    /* Block scalars in the metadata form: the line of the text itself. */
    d = open_str("m.yml",
                 "nlu:\n- intent: a\n  examples:\n  - text: |\n\n      first\n  - text: >\n"
                 "      second\n      part\n",
                 PARLEY_NLU_FORMAT_RASA, 0);
    read_ok(d, &rs);
    assert_int_equal(rs.n, 2);
    assert_row(&rs, 0, "first", "a", "", 6);
    assert_row(&rs, 1, "second part", "a", "", 8);
    parley_nlu_data_free(d);

    /* Skipping: the good items around bad ones survive. */
    d = open_str("r.yml",
                 "version: '3.0'\n"
                 "nlu:\n"
                 "- intent: a\n"
                 "  examples: |\n"
                 "    - one\n"
                 "    oops\n"
                 "    - two\n"
                 "- intent: bad label\n"
                 "  examples: |\n"
                 "    - three\n"
                 "    - four\n"
                 "- intent: c\n"
                 "  examples: |\n"
                 "    - five\n",
                 PARLEY_NLU_FORMAT_RASA, PARLEY_NLU_DATA_SKIP_BAD);
    read_ok(d, &rs);
    assert_int_equal(rs.n, 3);
    assert_row(&rs, 0, "one", "a", "", 5);
    assert_row(&rs, 1, "two", "a", "", 7);
    assert_row(&rs, 2, "five", "c", "", 14);
    assert_int_equal(parley_nlu_data_skipped(d), 2);
    assert_non_null(strstr(parley_nlu_data_first_skip(d), "r.yml:6: example does not start"));
    parley_nlu_data_free(d);
}

static void test_strip_entities(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"[Berlin](city)", "Berlin"},
        {"to [NYC](city:New York) now", "to NYC now"},
        {"[x]{\"entity\": \"a\", \"role\": \"b\"}", "x"},
        {"[a][{\"entity\": \"e\"}]", "a"},
        {"[]()", "[]()"},
        {"[a]()", "[a]()"},
        {"[a](:v)", "[a](:v)"},
        {"[a](e:)", "[a](e:)"},
        {"[a]{}", "[a]{}"},
        {"[a](e", "[a](e"},
        {"[a] (e)", "[a] (e)"},
        {"[[a](b)", "[a"},
        {"[a](b)[c](d)", "ac"},
        {"[unclosed", "[unclosed"},
        {"[a]", "[a]"},
        {"[a](b:c:d) x", "a x"},
        {"[a](b)(c)", "a(c)"},
        {"[a][b\n]", "[a][b\n]"},
        {"[a]{b}}", "a}"},
        {"x [a](b [c](d)", "x a"},
    };

    static const char *const slow[] = {"[", "[a](", "[a](b:", "[a]{", "[a][", "[a]x", "[a](:"};
    (void)state;

    /* Inputs that make a backtracking matcher quadratic stay linear. */
    for (size_t k = 0; k < sizeof(slow) / sizeof(slow[0]); k++) {
        size_t unit = strlen(slow[k]), n = (1u << 20) / unit * unit;
        char *big = malloc(n);
        struct parley_buf b = PARLEY_BUF_INIT(0);
        assert_non_null(big);
        for (size_t i = 0; i < n; i += unit)
            memcpy(big + i, slow[k], unit);
        assert_int_equal(parley__nlu_data_strip_entities(big, n, &b), PARLEY_OK);
        assert_true(b.len <= n);
        parley__buf_release(&b);
        free(big);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct parley_buf b = PARLEY_BUF_INIT(0);
        assert_int_equal(parley__nlu_data_strip_entities(cases[i].in, strlen(cases[i].in), &b),
                         PARLEY_OK);
        if (strcmp(b.data, cases[i].out) != 0)
            fail_msg("strip '%s': got '%s', expected '%s'", cases[i].in, b.data, cases[i].out);
        parley__buf_release(&b);
    }
}

static void test_validation(void **state)
{
    char *big;
    struct rows rs;
    parley_nlu_data *d;
    parley_error err = PARLEY_ERROR_INIT;
    (void)state;

    /* Trimming, including Unicode spaces, then a non-empty check. */
    d = open_str("v.csv", "\xC2\xA0 hi \xE3\x80\x80,\tgreet \xEF\xBB\xBF\n", PARLEY_NLU_FORMAT_CSV,
                 0);
    read_ok(d, &rs);
    assert_row(&rs, 0, "hi", "greet", "", 1);
    parley_nlu_data_free(d);
    expect_error("v.csv", "\xC2\xA0,greet\n", PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "v.csv:1: empty text");

    /* NUL bytes. */
    assert_int_equal(first_error("n.csv", "a\0b,greet\n", 10, PARLEY_NLU_FORMAT_CSV, &err),
                     PARLEY_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "n.csv:1: text contains a NUL byte at byte 1"));
    assert_int_equal(
        first_error("n.txt", "__label__a x\0y\n", 15, PARLEY_NLU_FORMAT_FASTTEXT, &err),
        PARLEY_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "n.txt:1: text contains a NUL byte"));

    /* Length limits: exactly the limit passes, one more byte fails. */
    big = malloc(PARLEY_NLU_MAX_TEXT + 64);
    assert_non_null(big);
    memset(big, 'a', PARLEY_NLU_MAX_TEXT);
    memcpy(big + PARLEY_NLU_MAX_TEXT, ",x\n", 4);
    d = open_str("l.csv", big, PARLEY_NLU_FORMAT_CSV, 0);
    read_ok(d, &rs);
    assert_int_equal(rs.n, 1);
    parley_nlu_data_free(d);
    memset(big, 'a', PARLEY_NLU_MAX_TEXT + 1);
    memcpy(big + PARLEY_NLU_MAX_TEXT + 1, ",x\n", 4);
    expect_error("l.csv", big, PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "l.csv:1: text longer than 8192 bytes");
    memcpy(big, "hi,", 3);
    memset(big + 3, 'b', PARLEY_NLU_MAX_LABEL + 1);
    memcpy(big + 3 + PARLEY_NLU_MAX_LABEL + 1, "\n", 2);
    expect_error("l.csv", big, PARLEY_NLU_FORMAT_CSV, PARLEY_ERR_FORMAT,
                 "l.csv:1: label longer than 256 bytes");
    free(big);
}

static void test_overlong(void **state)
{
    size_t n = PARLEY__NLU_DATA_MAX_LINE + 100;
    char *buf = malloc(n + 64);
    struct rows rs;
    parley_nlu_data *d;
    size_t len;
    (void)state;

    assert_non_null(buf);
    len = (size_t)snprintf(buf, 64, "__label__a ");
    memset(buf + len, 'x', n);
    len += n;
    len += (size_t)snprintf(buf + len, 64, "\n__label__b fine\n");
    d = open_mem("o.txt", buf, len, PARLEY_NLU_FORMAT_FASTTEXT, PARLEY_NLU_DATA_SKIP_BAD);
    read_ok(d, &rs);
    assert_int_equal(rs.n, 1);
    assert_row(&rs, 0, "fine", "b", "", 2);
    assert_int_equal(parley_nlu_data_skipped(d), 1);
    assert_non_null(strstr(parley_nlu_data_first_skip(d), "o.txt:1: line longer than 1048576"));
    parley_nlu_data_free(d);

    /* A quoted CSV field that never closes stops at the record limit. */
    memset(buf, '\n', n);
    buf[0] = '"';
    (void)snprintf(buf + n - 12, 12, "\nok,greet\n");
    d = open_mem("o.csv", buf, n - 2, PARLEY_NLU_FORMAT_CSV, PARLEY_NLU_DATA_SKIP_BAD);
    read_ok(d, &rs);
    assert_int_equal(parley_nlu_data_skipped(d), 1);
    assert_non_null(strstr(parley_nlu_data_first_skip(d), "o.csv:1: record longer than"));
    parley_nlu_data_free(d);
    free(buf);
}

/* Reads `d` twice around a rewind and checks both passes agree. */
static void check_rewind(parley_nlu_data *d, size_t expect)
{
    static struct rows a, b;
    parley_error err = PARLEY_ERROR_INIT;

    read_ok(d, &a);
    assert_int_equal(a.n, expect);
    assert_int_equal(parley_nlu_data_rewind(d, &err), PARLEY_OK);
    read_ok(d, &b);
    assert_int_equal(b.n, a.n);
    for (size_t i = 0; i < a.n; i++)
        assert_row(&b, i, a.r[i].text, a.r[i].label, a.r[i].lang, a.r[i].line);
    /* Rewinding in the middle of a pass works too. */
    assert_int_equal(parley_nlu_data_rewind(d, &err), PARLEY_OK);
    if (expect) {
        parley_nlu_example ex;
        int has;
        assert_int_equal(parley_nlu_data_next(d, &ex, &has, &err), PARLEY_OK);
        assert_int_equal(parley_nlu_data_rewind(d, &err), PARLEY_OK);
    }
    read_ok(d, &b);
    assert_int_equal(b.n, a.n);
}

static void test_rewind(void **state)
{
    parley_nlu_data *d;
    (void)state;

    d = open_str("r.txt", "__label__a one\n__label__b two\n", PARLEY_NLU_FORMAT_FASTTEXT, 0);
    check_rewind(d, 2);
    parley_nlu_data_free(d);
    d = open_str("r.csv", "text,label\n\"x\ny\",a\nz,b\n", PARLEY_NLU_FORMAT_CSV, 0);
    check_rewind(d, 2);
    parley_nlu_data_free(d);
    d = open_str("r.tsv", "x\ta\n", PARLEY_NLU_FORMAT_TSV, 0);
    check_rewind(d, 1);
    parley_nlu_data_free(d);
    d = open_str("r.jsonl", "{\"text\":\"x\",\"intent\":\"a\"}\n", PARLEY_NLU_FORMAT_JSONL, 0);
    check_rewind(d, 1);
    parley_nlu_data_free(d);
    d = open_str("r.yml", rasa_doc, PARLEY_NLU_FORMAT_RASA, 0);
    check_rewind(d, 7);
    parley_nlu_data_free(d);
}

/* Files in a scratch directory. */
struct tmpdir {
    char path[64];
    char files[8][128];
    int n;
};

static const char *write_file(struct tmpdir *t, const char *name, const char *data, size_t len)
{
    char *p = t->files[t->n++];
    char full[sizeof(t->files[0])];
    FILE *f;

    (void)snprintf(full, sizeof(full), "%s/%s", t->path, name);
    memcpy(p, full, sizeof(full));
    f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return p;
}

static void tmpdir_remove(struct tmpdir *t)
{
    for (int i = 0; i < t->n; i++)
        (void)unlink(t->files[i]);
    (void)rmdir(t->path);
}

static void test_files_auto(void **state)
{
    static const struct {
        const char *name, *data;
        parley_nlu_format fmt;
    } files[] = {
        {"a.csv", "text,intent\nhello,greet\n", PARLEY_NLU_FORMAT_CSV},
        {"a.TSV", "hello\tgreet\n", PARLEY_NLU_FORMAT_TSV},
        {"a.jsonl", "{\"text\":\"hello\",\"intent\":\"greet\"}\n", PARLEY_NLU_FORMAT_JSONL},
        {"a.json", "{\"text\":\"hello\",\"intent\":\"greet\"}\n", PARLEY_NLU_FORMAT_JSONL},
        {"a.yml", "nlu:\n- intent: greet\n  examples: |\n    - hello\n", PARLEY_NLU_FORMAT_RASA},
        {"a.train", "__label__greet hello\n", PARLEY_NLU_FORMAT_FASTTEXT},
    };
    struct tmpdir t = {.n = 0};
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_data *d = NULL;
    struct rows rs;
    (void)state;

    (void)snprintf(t.path, sizeof(t.path), "/tmp/parley-data-XXXXXX");
    assert_non_null(mkdtemp(t.path));
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const char *p = write_file(&t, files[i].name, files[i].data, strlen(files[i].data));
        assert_int_equal(parley_nlu_data_open(p, PARLEY_NLU_FORMAT_AUTO, 0, &d, &err), PARLEY_OK);
        assert_int_equal(parley_nlu_data_format(d), files[i].fmt);
        assert_string_equal(parley_nlu_data_name(d), p);
        read_ok(d, &rs);
        assert_int_equal(rs.n, 1);
        assert_row(&rs, 0, "hello", "greet", "",
                   files[i].fmt == PARLEY_NLU_FORMAT_CSV    ? 2
                   : files[i].fmt == PARLEY_NLU_FORMAT_RASA ? 4
                                                            : 1);
        parley_nlu_data_free(d);
        d = NULL;
    }

    /* Missing files and directories are I/O errors, named. */
    assert_int_equal(
        parley_nlu_data_open("/nonexistent/x.csv", PARLEY_NLU_FORMAT_AUTO, 0, &d, &err),
        PARLEY_ERR_IO);
    assert_non_null(strstr(err.msg, "'/nonexistent/x.csv'"));
    assert_int_equal(
        parley_nlu_data_open("/nonexistent/x.yml", PARLEY_NLU_FORMAT_AUTO, 0, &d, &err),
        PARLEY_ERR_IO);
    assert_int_equal(parley_nlu_data_open(t.path, PARLEY_NLU_FORMAT_CSV, 0, &d, &err),
                     PARLEY_ERR_IO);
    assert_null(d);
    tmpdir_remove(&t);
}

/* A file bigger than the read chunk, with an overlong line and a line
 * across chunk boundaries, read from disk twice. */
static void test_file_streaming(void **state)
{
    struct tmpdir t = {.n = 0};
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_data *d = NULL;
    size_t cap = 4u << 20, len = 0, rows = 0, pass_rows[2] = {0, 0};
    char *buf = malloc(cap);
    const char *p;
    (void)state;

    assert_non_null(buf);
    (void)snprintf(t.path, sizeof(t.path), "/tmp/parley-data-XXXXXX");
    assert_non_null(mkdtemp(t.path));
    len += (size_t)snprintf(buf, cap, "text\tintent\r\n");
    while (len < 300000) {
        len += (size_t)snprintf(buf + len, cap - len, "utterance number %zu\tl%zu\r\n", rows,
                                rows % 7);
        rows++;
    }
    memset(buf + len, 'z', PARLEY__NLU_DATA_MAX_LINE + 5);
    len += PARLEY__NLU_DATA_MAX_LINE + 5;
    buf[len++] = '\n';
    len += (size_t)snprintf(buf + len, cap - len, "last one\tend");
    rows++;
    p = write_file(&t, "big.tsv", buf, len);

    assert_int_equal(
        parley_nlu_data_open(p, PARLEY_NLU_FORMAT_AUTO, PARLEY_NLU_DATA_SKIP_BAD, &d, &err),
        PARLEY_OK);
    for (int pass = 0; pass < 2; pass++) {
        parley_nlu_example ex;
        int has;
        size_t i = 0;
        while (parley_nlu_data_next(d, &ex, &has, &err) == PARLEY_OK && has) {
            check_example(&ex);
            if (i + 1 < rows) {
                char want[64];
                (void)snprintf(want, sizeof(want), "utterance number %zu", i);
                assert_string_equal(ex.text, want);
                assert_int_equal(ex.line, i + 2);
            } else {
                assert_string_equal(ex.text, "last one");
                assert_int_equal(ex.line, rows + 2);
            }
            i++;
        }
        pass_rows[pass] = i;
        assert_int_equal(parley_nlu_data_skipped(d), 1);
        assert_non_null(strstr(parley_nlu_data_first_skip(d), "line longer than"));
        assert_int_equal(parley_nlu_data_rewind(d, &err), PARLEY_OK);
    }
    assert_int_equal(pass_rows[0], rows);
    assert_int_equal(pass_rows[1], rows);
    parley_nlu_data_free(d);
    free(buf);
    tmpdir_remove(&t);
}

/* The failing allocator: allocation number `fail_at` (0-based) fails. */
static long fail_at = -1, alloc_count;

static void *oom_malloc(size_t n)
{
    return alloc_count++ == fail_at ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    return alloc_count++ == fail_at ? NULL : realloc(p, n);
}

static void *oom_calloc(size_t c, size_t n)
{
    return alloc_count++ == fail_at ? NULL : calloc(c, n);
}

/* Opens and reads (twice) with allocation `fail_at` failing; returns the
 * first error and the rows read. */
static parley_err oom_run(const char *name, const char *path, const char *data,
                          parley_nlu_format fmt, size_t *rows)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_data *d = NULL;
    static struct rows rs;
    parley_err rc;

    *rows = 0;
    alloc_count = 0;
    parley_set_allocator(oom_malloc, oom_realloc, oom_calloc, free);
    if (path)
        rc = parley_nlu_data_open(path, fmt, PARLEY_NLU_DATA_SKIP_BAD, &d, &err);
    else
        rc = parley_nlu_data_open_memory(name, data, strlen(data), fmt, PARLEY_NLU_DATA_SKIP_BAD,
                                         &d, &err);
    if (rc == PARLEY_OK && (rc = read_all(d, &rs, &err)) == PARLEY_OK &&
        (rc = parley_nlu_data_rewind(d, &err)) == PARLEY_OK &&
        (rc = read_all(d, &rs, &err)) == PARLEY_OK)
        *rows = rs.n;
    parley_nlu_data_free(d);
    parley_set_allocator(NULL, NULL, NULL, NULL);
    return rc;
}

/* Every allocation failure gives PARLEY_ERR_NOMEM, never a crash or leak
 * (the sanitizer build checks leaks). */
static void test_oom(void **state)
{
    static const struct {
        const char *name, *data;
        parley_nlu_format fmt;
        size_t rows;
    } inputs[] = {
        {"o.txt", "__label__a one\n__label__b two\nbad\n", PARLEY_NLU_FORMAT_FASTTEXT, 2},
        {"o.csv", "id,text,label\n1,\"multi\nline, quoted\",a\n2,x,b\n", PARLEY_NLU_FORMAT_CSV, 2},
        {"o.tsv", "x\ta\ty\tz\nx\tb\n", PARLEY_NLU_FORMAT_TSV, 1},
        {"o.jsonl", "{\"text\":\"x\",\"intent\":\"a\"}\n[1]\n", PARLEY_NLU_FORMAT_JSONL, 1},
        {"o.yml",
         "nlu:\n- intent: a\n  examples: |\n    - [x](y) one\n    - two\n- intent: b\n"
         "  examples:\n  - text: three\n  - metadata: {}\n",
         PARLEY_NLU_FORMAT_RASA, 3},
    };
    struct tmpdir t = {.n = 0};
    (void)state;

    (void)snprintf(t.path, sizeof(t.path), "/tmp/parley-data-XXXXXX");
    assert_non_null(mkdtemp(t.path));
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        const char *path = write_file(&t, inputs[i].name, inputs[i].data, strlen(inputs[i].data));
        for (int from_file = 0; from_file < 2; from_file++) {
            for (fail_at = 0;; fail_at++) {
                size_t rows;
                parley_err rc = oom_run(inputs[i].name, from_file ? path : NULL, inputs[i].data,
                                        inputs[i].fmt, &rows);
                if (alloc_count <= fail_at) {
                    /* Nothing failed: the full result. */
                    assert_int_equal(rc, PARLEY_OK);
                    assert_int_equal(rows, inputs[i].rows);
                    break;
                }
                if (rc != PARLEY_OK && rc != PARLEY_ERR_NOMEM)
                    fail_msg("%s: allocation %ld failing gave error %d", inputs[i].name, fail_at,
                             (int)rc);
                assert_true(fail_at < 1000);
            }
        }
    }
    fail_at = -1;
    tmpdir_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_open_args),
        cmocka_unit_test(test_empty_inputs),
        cmocka_unit_test(test_fasttext),
        cmocka_unit_test(test_fasttext_bom),
        cmocka_unit_test(test_fasttext_errors),
        cmocka_unit_test(test_error_then_continue),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_positional),
        cmocka_unit_test(test_csv_header),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_skip_bad),
        cmocka_unit_test(test_tsv),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jsonl_errors),
        cmocka_unit_test(test_rasa),
        cmocka_unit_test(test_rasa_lines_fallback),
        cmocka_unit_test(test_rasa_document_errors),
        cmocka_unit_test(test_rasa_row_errors),
        cmocka_unit_test(test_strip_entities),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_rewind),
        cmocka_unit_test(test_files_auto),
        cmocka_unit_test(test_file_streaming),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
