/* libFuzzer target for the interaction-log reader: each input is written to
 * a temporary file and read to the end as JSONL, as CSV and as training
 * data, going on after malformed conversations; aborts if the reader
 * breaks a promise of include/parley/learn.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parley/learn.h"
#include "parley/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char paths[3][96];
static const parley_learn_log_format formats[3] = {PARLEY_LEARN_LOG_JSONL, PARLEY_LEARN_LOG_CSV,
                                                   PARLEY_LEARN_LOG_TRAINING};

static void check(int ok)
{
    if (!ok)
        abort();
}

static void cleanup(void)
{
    for (int i = 0; i < 3; i++)
        (void)unlink(paths[i]);
    (void)rmdir(dir);
}

/* One folder for the whole run, holding log.jsonl, log.csv and log.txt
 * (the extension picks the training-data format). */
static void make_paths(void)
{
    static const char *const names[3] = {"log.jsonl", "log.csv", "log.txt"};

    if (dir[0])
        return;
    (void)snprintf(dir, sizeof(dir), "/tmp/parley-fuzz-learn-XXXXXX");
    check(mkdtemp(dir) != NULL);
    for (int i = 0; i < 3; i++)
        (void)snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, names[i]);
    check(atexit(cleanup) == 0);
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

static void check_string(const char *s, size_t max)
{
    size_t n;

    check(s != NULL);
    n = strlen(s);
    check(n <= max);
    check(parley_text_validate(s, n, NULL, NULL) == PARLEY_OK);
}

/* A message "PATH:LINE: ..." and a code a caller may count and go on. */
static void check_error(const char *path, const parley_error *e, parley_err rc)
{
    size_t n = strlen(path);

    check(rc == PARLEY_ERR_FORMAT || rc == PARLEY_ERR_UTF8);
    check(e->code == rc);
    check(strncmp(e->msg, path, n) == 0 && e->msg[n] == ':');
    check(e->msg[n + 1] >= '1' && e->msg[n + 1] <= '9');
}

static void check_conversation(const parley_learn_conversation *c, parley_learn_log_format fmt,
                               size_t *last_line)
{
    int authored = fmt == PARLEY_LEARN_LOG_TRAINING;

    check_string(c->id, 512);
    check(c->id[0] != '\0');
    check_string(c->customer_id, 256);
    check((c->customer_id[0] != '\0') != authored);
    check(c->authored == authored);
    check_string(c->language, 64);
    check_string(c->disposition, 256);
    check_string(c->outcome, 64);
    check(c->n_turns >= 1 && c->n_turns <= 10000 && c->turns != NULL);
    check(!authored || c->n_turns == 1);
    for (size_t i = 0; i < c->n_turns; i++) {
        const parley_learn_turn *t = &c->turns[i];
        check((unsigned)t->speaker <= PARLEY_LEARN_SYSTEM);
        check(t->text != NULL && strlen(t->text) == t->text_len);
        check(parley_text_validate(t->text, t->text_len, NULL, NULL) == PARLEY_OK);
    }
    /* Conversations come in file order, each from its own lines. */
    check(c->line > *last_line);
    *last_line = c->line;
}

/* Reads the whole file; returns a hash of what was read. */
static uint64_t read_all(int f, size_t size)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_learn_reader *r = NULL;
    uint64_t h = 0xcbf29ce484222325ULL, total = 1, done;
    size_t calls = 0, last_line = 0;
    parley_err rc = parley_learn_reader_open(paths[f], formats[f], &r, &e);

    if (rc != PARLEY_OK) {
        /* CSV refuses a file without a good header; the intent engine's
         * reader refuses a broken Rasa document (not reached here). */
        check(r == NULL);
        check_error(paths[f], &e, rc);
        return h ^ (uint64_t)rc;
    }
    check(parley_learn_reader_format(r) == formats[f]);
    for (;;) {
        parley_learn_conversation c;
        int has = -1;
        check(++calls <= size + 16);
        rc = parley_learn_reader_next(r, &c, &has, &e);
        if (rc != PARLEY_OK) {
            check_error(paths[f], &e, rc);
            check(has == -1);
            h = mix(h, e.msg, strlen(e.msg));
            continue;
        }
        if (!has)
            break;
        check_conversation(&c, formats[f], &last_line);
        h = mix(h, c.id, strlen(c.id) + 1);
        h = mix(h, c.disposition, strlen(c.disposition) + 1);
        for (size_t i = 0; i < c.n_turns; i++) {
            h = mix(h, &c.turns[i].speaker, sizeof(c.turns[i].speaker));
            h = mix(h, c.turns[i].text, c.turns[i].text_len + 1);
            h = mix(h, &c.turns[i].time_ms, sizeof(c.turns[i].time_ms));
        }
        done = parley_learn_reader_progress(r, &total);
        check(total == size && done <= size);
    }
    /* The end stays the end, and every byte has been read. */
    {
        parley_learn_conversation c;
        int has = -1;
        check(parley_learn_reader_next(r, &c, &has, &e) == PARLEY_OK && has == 0);
    }
    check(parley_learn_reader_progress(r, &total) == size && total == size);
    parley_learn_reader_free(r);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    make_paths();
    for (int f = 0; f < 3; f++) {
        FILE *out = fopen(paths[f], "wb");
        check(out != NULL);
        check(fwrite(data, 1, size, out) == size);
        check(fclose(out) == 0);
        /* The same bytes read twice give the same conversations. */
        check(read_all(f, size) == read_all(f, size));
    }
    return 0;
}
