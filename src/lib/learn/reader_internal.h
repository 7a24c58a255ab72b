/* Private declarations shared by the interaction-log reader's files: the
 * reader object, its byte source, the current conversation's storage and
 * the per-format parsers (reader_jsonl.c, reader_csv.c). */
#ifndef PARLEY_LEARN_READER_INTERNAL_H
#define PARLEY_LEARN_READER_INTERNAL_H

#include <stdio.h>

#include "common/internal.h"
#include "parley/learn.h"
#include "parley/nlu.h"

/* Longest JSONL line, CSV record and conversation (its turns' text). */
#define PARLEY__LEARN_MAX_BYTES (16u << 20)
#define PARLEY__LEARN_MAX_TURNS 10000
/* Longest conversation-level strings, in bytes. */
#define PARLEY__LEARN_MAX_ID          256
#define PARLEY__LEARN_MAX_LANGUAGE    32
#define PARLEY__LEARN_MAX_DISPOSITION 256
#define PARLEY__LEARN_MAX_OUTCOME     64
/* Longest value quoted in an error message, in bytes. */
#define PARLEY__LEARN_QUOTE 64

struct parley__learn_csv;

struct parley_learn_reader {
    char *name; /* for messages: the path, or "<stdin>" */
    parley_learn_log_format fmt;
    /* The byte source (JSONL, CSV). */
    FILE *f;
    int own_f;   /* 0 for standard input, which is not closed */
    char *chunk; /* read buffer */
    size_t chunk_pos, chunk_len;
    int eof;
    uint64_t read_total;    /* bytes read from `f` */
    uint64_t size;          /* of a regular file, else 0 */
    size_t lineno;          /* newlines consumed so far */
    struct parley_buf line; /* JSONL: the current line */
    struct parley__learn_csv *csv;
    /* Training data. */
    parley_nlu_data *nlu;
    int nlu_done;
    char train_id[288]; /* "BASENAME:LINE" */
    /* The current conversation. */
    char id[PARLEY__LEARN_MAX_ID + 1];
    char customer_id[PARLEY__LEARN_MAX_ID + 1];
    char language[PARLEY__LEARN_MAX_LANGUAGE + 1];
    char disposition[PARLEY__LEARN_MAX_DISPOSITION + 1];
    char outcome[PARLEY__LEARN_MAX_OUTCOME + 1];
    struct parley_buf texts; /* turn texts in order, each NUL-terminated */
    parley_learn_turn *turns;
    size_t n_turns, cap_turns;
    /* A sticky I/O or memory error, returned by every later call. */
    parley_err fatal;
    char fatal_msg[sizeof(((parley_error *)0)->msg)];
};

/* Formats "NAME:LINE: what" into `err` and returns `code`. */
parley_err parley__learn_bad(const parley_learn_reader *r, parley_err code, size_t line,
                             parley_error *err, const char *fmt, ...) PARLEY_PRINTF(5, 6);

/* "cannot read 'NAME': out of memory", PARLEY_ERR_NOMEM. */
parley_err parley__learn_nomem(const parley_learn_reader *r, parley_error *err);

/* Makes sure unread bytes are in the chunk, reading more when it is used
 * up; at the end of the input `r->chunk_pos == r->chunk_len` after the
 * call. A UTF-8 byte order mark at the start of the input is skipped. */
parley_err parley__learn_fill(parley_learn_reader *r, parley_error *err);

/* Reads the next line without its "\n" or "\r\n" into `*line` (valid until
 * the next call), `*has` 0 at the end. A line longer than
 * PARLEY__LEARN_MAX_BYTES is consumed whole and only `*overlong` set. */
parley_err parley__learn_read_line(parley_learn_reader *r, const char **line, size_t *len,
                                   int *overlong, int *has, parley_error *err);

/* Maps a speaker name ("customer", "agent", ... any case); -1 if unknown. */
int parley__learn_speaker(const char *s, size_t n, parley_learn_speaker *out);
#define PARLEY__LEARN_SPEAKERS "customer, user, agent, bot, assistant or system"

/* The length of the longest prefix of valid UTF-8 `s[0..n)` that is at most
 * PARLEY__LEARN_QUOTE bytes and ends on a character boundary, for "%.*s". */
int parley__learn_clip(const char *s, size_t n);

/* Starts a new conversation: no turns, every string "". */
void parley__learn_conv_reset(parley_learn_reader *r);

/* Copies `s[0..n)` (n <= size - 1) into a conversation string. */
void parley__learn_set(char *dst, size_t size, const char *s, size_t n);

/* Appends a turn. PARLEY_ERR_LIMIT: the conversation would hold more than
 * PARLEY__LEARN_MAX_TURNS turns or PARLEY__LEARN_MAX_BYTES of text (the
 * caller reports it); PARLEY_ERR_NOMEM. Sets no message. */
parley_err parley__learn_add_turn(parley_learn_reader *r, parley_learn_speaker speaker,
                                  const char *text, size_t len, int64_t time_ms);

/* Fills `c` with the current conversation, which starts on `line`. */
void parley__learn_conv_finish(parley_learn_reader *r, size_t line, parley_learn_conversation *c);

/* Wipes a buffer's allocation (it held customer text), then frees it. */
void parley__learn_buf_wipe(struct parley_buf *b);

/* JSON Lines (reader_jsonl.c). */
parley_err parley__learn_jsonl_next(parley_learn_reader *r, parley_learn_conversation *c, int *has,
                                    parley_error *err);

/* CSV (reader_csv.c). Open reads the header, so that a missing column is
 * reported before any conversation. */
parley_err parley__learn_csv_open(parley_learn_reader *r, parley_error *err);
parley_err parley__learn_csv_next(parley_learn_reader *r, parley_learn_conversation *c, int *has,
                                  parley_error *err);
void parley__learn_csv_free(parley_learn_reader *r);

#endif
