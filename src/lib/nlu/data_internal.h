/* Private declarations shared by the training-data reader's files: the
 * reader object, the line source, row validation and the format parsers. */
#ifndef PARLEY_NLU_DATA_INTERNAL_H
#define PARLEY_NLU_DATA_INTERNAL_H

#include <stdio.h>

#include "common/internal.h"
#include "parley/nlu.h"

/* Longest physical line (and CSV record) a line format accepts. */
#define PARLEY__NLU_DATA_MAX_LINE (1u << 20)
/* Longest language tag, in bytes. */
#define PARLEY__NLU_DATA_MAX_LANG 64
/* Largest Rasa document read whole. */
#define PARLEY__NLU_DATA_MAX_RASA (64u << 20)

/* Where the line formats get their bytes: a file read in chunks, or the
 * reader's private copy of a memory buffer. */
struct parley__nlu_lines {
    FILE *f;         /* NULL for memory */
    const char *mem; /* memory source */
    size_t mem_len, mem_pos;
    char *chunk; /* file read buffer */
    size_t chunk_pos, chunk_len;
    struct parley_buf line; /* the assembled line (file source) */
    size_t lineno;          /* 1-based number of the last line returned */
    int eof;
};

/* CSV/TSV state: which columns hold what, and the current record. */
struct parley__nlu_csv {
    int header_pending; /* the first record may still be a header */
    int header;         /* columns were named by a header */
    size_t col[3];      /* text, label, language; SIZE_MAX: none */
    struct parley_buf slot[3];
    int have[3];
    char name[24]; /* first bytes of the current field, for header names */
    size_t name_len;
    size_t hdr[3]; /* columns whose name matched, in the first record */
};

struct parley__nlu_rasa;

struct parley_nlu_data {
    char *name;
    parley_nlu_format fmt;
    unsigned flags;
    char *mem; /* memory copy, or the whole Rasa document */
    size_t mem_len;
    struct parley__nlu_lines lines;
    struct parley__nlu_csv csv;
    struct parley__nlu_rasa *rasa;
    int row_bad;      /* the error being returned is a malformed row */
    parley_err fatal; /* sticky error that ends reading until a rewind */
    char fatal_msg[sizeof(((parley_error *)0)->msg)];
    size_t skipped_pass, skipped_max;
    int has_first_skip;
    char first_skip[sizeof(((parley_error *)0)->msg)];
    /* The current example's strings. */
    char text[PARLEY_NLU_MAX_TEXT + 1];
    char label[PARLEY_NLU_MAX_LABEL + 1];
    char lang[PARLEY__NLU_DATA_MAX_LANG + 1];
};

/* Fails the current row: formats "NAME:LINE: message" into `err` with
 * `code`, marks the row skippable, and returns `code`. */
parley_err parley__nlu_data_bad(parley_nlu_data *d, parley_err code, size_t line, parley_error *err,
                                const char *fmt, ...) PARLEY_PRINTF(5, 6);

/* Like parley__nlu_data_bad for an error that cannot be skipped. */
parley_err parley__nlu_data_fatal(parley_nlu_data *d, parley_err code, size_t line,
                                  parley_error *err, const char *fmt, ...) PARLEY_PRINTF(5, 6);

/* Reads the next physical line without its "\n" or "\r\n" (and without a
 * UTF-8 byte order mark on line 1). `*line` is valid until the next call.
 * Sets `*overlong` when the line exceeds PARLEY__NLU_DATA_MAX_LINE (then
 * only a prefix is returned), `*has` to 0 at the end. */
parley_err parley__nlu_data_read_line(parley_nlu_data *d, const char **line, size_t *len,
                                      int *overlong, int *has, parley_error *err);

/* Validates one row (text, label and language, untrimmed), copies the
 * trimmed strings into the reader and fills `ex`. Every failure is a
 * malformed row. */
parley_err parley__nlu_data_finish(parley_nlu_data *d, const char *text, size_t text_len,
                                   const char *label, size_t label_len, const char *lang,
                                   size_t lang_len, size_t line, parley_nlu_example *ex,
                                   parley_error *err);

/* Checks a label alone (as parley__nlu_data_finish would). */
parley_err parley__nlu_data_check_label(parley_nlu_data *d, const char *label, size_t len,
                                        size_t line, parley_error *err);

/* 1 if `c` is ASCII whitespace. */
int parley__nlu_data_isspace(unsigned char c);

/* Line formats (data_lines.c). */
parley_err parley__nlu_data_fasttext_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                          parley_error *err);
parley_err parley__nlu_data_csv_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                     parley_error *err);
parley_err parley__nlu_data_jsonl_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                       parley_error *err);
void parley__nlu_data_csv_reset(parley_nlu_data *d);
void parley__nlu_data_csv_release(parley_nlu_data *d);

/* Rasa YAML (data_rasa.c). Open checks the whole document (syntax,
 * version, layout) so that such errors surface before any example. */
parley_err parley__nlu_data_rasa_open(parley_nlu_data *d, parley_error *err);
parley_err parley__nlu_data_rasa_next(parley_nlu_data *d, parley_nlu_example *ex, int *has,
                                      parley_error *err);
parley_err parley__nlu_data_rasa_rewind(parley_nlu_data *d, parley_error *err);
void parley__nlu_data_rasa_free(parley_nlu_data *d);

/* Replaces each Rasa entity annotation in `s[0..n)` ("[text](entity)",
 * "[text](entity:value)", "[text]{...}", "[text][...]") by its text,
 * appending the result to `out`. */
parley_err parley__nlu_data_strip_entities(const char *s, size_t n, struct parley_buf *out);

/* Wipes a buffer's allocation, then frees it. */
void parley__nlu_data_buf_wipe(struct parley_buf *b);

#endif
