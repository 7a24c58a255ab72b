/* Conversation tests (docs/conversation-tests.md): the parsed form of a
 * test file, its parser (libyaml) and its runner (a fresh telco-sim and
 * engine per test), shared by `parley test`. */
#ifndef PARLEY_CLI_CONVTEST_H
#define PARLEY_CLI_CONVTEST_H

#include <regex.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A request to the backend: setup calls and `sim` steps. */
struct ct_call {
    unsigned long line;
    char *method;
    char *path;
    char *body; /* JSON text, or NULL */
};

/* An action that must have been taken during a turn. */
struct ct_action {
    char *name;
    char *status; /* NULL: any */
};

enum ct_kind { CT_SAY, CT_WAIT, CT_SIM, CT_NEW };

/* One step of `turns`. Expectations left NULL (handoff: -1) are not checked. */
struct ct_step {
    enum ct_kind kind;
    unsigned long line;
    char *say;
    char *intent, *language, *step, *flow;
    char *reply, *not_reply; /* the patterns, as written */
    regex_t reply_re, not_reply_re;
    char *attachment; /* a file must come with the reply and match this */
    regex_t attachment_re;
    int handoff;
    struct ct_action *actions;
    size_t n_actions;
    char **no_actions;
    size_t n_no_actions;
    int64_t wait_ms;
    char *wait_text;
    struct ct_call sim;
    char *channel; /* new_conversation: the next says go to a new conversation */
};

enum ct_op { CT_EQUALS, CT_NOT_EQUALS, CT_COUNT };

/* One final-state assertion: GET `get`, then `field` (dot path, NULL: the
 * whole answer). */
struct ct_expect {
    unsigned long line;
    char *get;
    char *field;
    enum ct_op op;
    char *value;      /* equals/not_equals: the expected scalar as written */
    int value_quoted; /* written as a quoted string: always compared as text */
    unsigned long count;
};

/* One `where` condition of an audit assertion: body field = value. */
struct ct_where {
    char *field;
    char *value;
    int value_quoted;
};

/* One audit-log assertion, checked after the turns on the records of the
 * test's conversation: those of `kind` whose body `field` (dot path, NULL:
 * any) compares as `op` says with `value` and that meet every `where`.
 * By default at least one must exist; `absent`: none; `count` >= 0:
 * exactly that many. */
struct ct_audit {
    unsigned long line;
    char *kind;
    struct ct_where *where;
    size_t n_where;
    char *field;
    int has_op; /* 0: only the kind (and the field's presence) matters */
    enum ct_op op;
    char *value;
    int value_quoted;
    int absent;
    long count; /* -1: not given */
};

struct ct_test {
    char *file;
    unsigned long line;
    char *name;
    struct ct_call *setup;
    size_t n_setup;
    struct ct_step *steps;
    size_t n_steps;
    struct ct_expect *expects;
    size_t n_expects;
    struct ct_audit *audits;
    size_t n_audits;
};

struct ct_suite {
    struct ct_test *tests;
    size_t n_tests;
};

/* Parses one test file (one test per YAML document) and appends its tests
 * to `suite`. Every problem is printed on stderr as FILE:LINE:COLUMN:
 * message; returns the number of problems (0: the file is valid). */
size_t ct_parse_file(const char *path, struct ct_suite *suite);

/* Reports tests sharing a name (FILE:LINE:COLUMN on stderr); returns how many. */
size_t ct_check_unique(const struct ct_suite *suite);

void ct_suite_free(struct ct_suite *suite);

/* What a run needs besides the test. */
struct ct_run_options {
    const char *bot_dir;
    const char *models_dir;
    int verbose;
    volatile sig_atomic_t *stop; /* set by a signal: give up between steps */
};

/* Runs one test against a fresh telco-sim and engine and writes its report
 * (the ok/FAIL line, the failure and transcript) to `out`. Returns 1 when
 * it passed, 0 otherwise. */
int ct_run(const struct ct_test *t, const struct ct_run_options *o, FILE *out);

#endif
