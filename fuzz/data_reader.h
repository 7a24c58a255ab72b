/* Shared checks of the training-data fuzz targets: reads an input to the
 * end with and without skip-bad, then again after a rewind, and aborts if
 * the reader breaks a promise of include/parley/nlu.h. */
#ifndef PARLEY_FUZZ_DATA_READER_H
#define PARLEY_FUZZ_DATA_READER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley/nlu.h"

struct pass {
    size_t rows, errors;
    uint64_t hash;
};

static void check(int ok)
{
    if (!ok)
        abort();
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

static void check_error(const char *name, const parley_error *e, parley_err rc)
{
    check(rc == PARLEY_ERR_FORMAT || rc == PARLEY_ERR_UTF8 || rc == PARLEY_ERR_LIMIT);
    check(e->code == rc);
    check(strncmp(e->msg, name, strlen(name)) == 0 && e->msg[strlen(name)] == ':');
}

static void check_example(const parley_nlu_example *ex, int ordered, size_t *last_line)
{
    check(ex->text && ex->label && ex->language);
    check(ex->text_len > 0 && ex->text_len <= PARLEY_NLU_MAX_TEXT);
    check(ex->label_len > 0 && ex->label_len <= PARLEY_NLU_MAX_LABEL);
    check(strlen(ex->text) == ex->text_len && strlen(ex->label) == ex->label_len);
    check(parley_text_validate(ex->text, ex->text_len, NULL, NULL) == PARLEY_OK);
    check(parley_text_validate(ex->label, ex->label_len, NULL, NULL) == PARLEY_OK);
    check(parley_text_validate(ex->language, strlen(ex->language), NULL, NULL) == PARLEY_OK);
    check(ex->line >= 1);
    check(!ordered || ex->line > *last_line);
    *last_line = ex->line;
}

/* Reads to the end, going on after malformed rows; bounded so that a
 * reader that stops making progress is caught. */
static void read_pass(const char *name, int ordered, parley_nlu_data *d, size_t size,
                      struct pass *p)
{
    size_t calls = 0, last_line = 0;

    memset(p, 0, sizeof(*p));
    p->hash = 0xcbf29ce484222325ULL;
    for (;;) {
        parley_error e = PARLEY_ERROR_INIT;
        parley_nlu_example ex;
        int has = 0;
        parley_err rc = parley_nlu_data_next(d, &ex, &has, &e);
        check(++calls <= 2 * size + 16);
        if (rc != PARLEY_OK) {
            check_error(name, &e, rc);
            p->errors++;
            continue;
        }
        if (!has)
            break;
        check_example(&ex, ordered, &last_line);
        p->rows++;
        p->hash = mix(p->hash, ex.text, ex.text_len + 1);
        p->hash = mix(p->hash, ex.label, ex.label_len + 1);
        p->hash = mix(p->hash, ex.language, strlen(ex.language) + 1);
        p->hash = mix(p->hash, &ex.line, sizeof(ex.line));
    }
}

/* Checks one format on one input. `ordered`: rows come in line order. */
static void fuzz_reader(const char *name, int ordered, const uint8_t *data, size_t size,
                        parley_nlu_format fmt)
{
    parley_nlu_data *d = NULL, *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    struct pass strict, skip, again;
    parley_err rc;

    rc = parley_nlu_data_open_memory(name, data, size, fmt, 0, &d, &e);
    if (rc != PARLEY_OK) {
        check_error(name, &e, rc);
        check(d == NULL);
        /* Skipping bad rows does not hide a broken document. */
        check(parley_nlu_data_open_memory(name, data, size, fmt, PARLEY_NLU_DATA_SKIP_BAD, &s,
                                          &e) == rc);
        return;
    }
    check(parley_nlu_data_format(d) == fmt);
    read_pass(name, ordered, d, size, &strict);
    check(parley_nlu_data_skipped(d) == 0 && parley_nlu_data_first_skip(d) == NULL);

    check(parley_nlu_data_open_memory(name, data, size, fmt, PARLEY_NLU_DATA_SKIP_BAD, &s, &e) ==
          PARLEY_OK);
    read_pass(name, ordered, s, size, &skip);
    /* The same rows, and every malformed one skipped and counted. */
    check(skip.errors == 0);
    check(skip.rows == strict.rows && skip.hash == strict.hash);
    check(parley_nlu_data_skipped(s) == strict.errors);
    check((parley_nlu_data_first_skip(s) != NULL) == (strict.errors > 0));

    /* Rewinding gives the same sequence again. */
    check(parley_nlu_data_rewind(s, &e) == PARLEY_OK);
    read_pass(name, ordered, s, size, &again);
    check(again.rows == skip.rows && again.hash == skip.hash && again.errors == 0);
    check(parley_nlu_data_skipped(s) == strict.errors);
    parley_nlu_data_free(d);
    parley_nlu_data_free(s);
}

#endif
