/* Runs one conversation test: a fresh telco-sim and engine, setup calls,
 * turns with their expectations on a fixed clock, then the final backend
 * state; writes the ok/FAIL report with the transcript. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend.h"
#include "cli.h"
#include "convtest.h"
#include "parley/dialog.h"

/* 2025-02-25T09:00:00Z, telco-sim's default "today": every run sees the
 * same clock. Each message comes one second after the previous one. */
#define START_MS   1740474000000LL
#define MESSAGE_MS 1000

struct run {
    const struct ct_test *t;
    const struct ct_run_options *o;
    struct backend sim;
    parley_dialog *d;
    char conv[PARLEY_STORE_ID_SIZE];
    int64_t now;
    FILE *log; /* the transcript so far */
    char *log_text;
    size_t log_len;
    char failure[1536]; /* the first failing expectation, "" while none */
};

PARLEY_PRINTF(3, 4)
static void fail(struct run *r, unsigned long line, const char *fmt, ...)
{
    char msg[1280];
    va_list ap;
    if (r->failure[0])
        return;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    (void)snprintf(r->failure, sizeof(r->failure), "%s:%lu: %s", r->t->file, line, msg);
}

/* Sends a setup or sim call; anything but 2xx fails the test. */
static void send_call(struct run *r, const struct ct_call *c, const char *what)
{
    char err[512];
    char *body = NULL;
    long status = 0;
    if (backend_request(r->sim.url, c->method, c->path, c->body, &status, &body, err,
                        sizeof(err)) != 0)
        fail(r, c->line, "%s: %s", what, err);
    else if (status < 200 || status > 299)
        fail(r, c->line, "%s: %s %s answered %ld: %.300s", what, c->method, c->path, status,
             body ? body : "");
    free(body);
}

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Compares a reply with the step's expectations, in the documented order. */
static void check_reply(struct run *r, const struct ct_step *s, size_t turn,
                        const parley_dialog_reply *rep)
{
    unsigned long l = s->line;
    const char *text = rep->text ? rep->text : "";
    if (s->intent && !same(rep->intent, s->intent))
        fail(r, l, "turn %zu: intent: expected '%s', got '%s' (confidence %.2f)", turn, s->intent,
             rep->intent ? rep->intent : "", rep->confidence);
    if (s->language && !same(rep->language, s->language))
        fail(r, l, "turn %zu: language: expected '%s', got '%s'", turn, s->language,
             rep->language ? rep->language : "");
    if (s->reply && regexec(&s->reply_re, text, 0, NULL, 0) != 0)
        fail(r, l, "turn %zu: reply does not match /%s/", turn, s->reply);
    if (s->not_reply && regexec(&s->not_reply_re, text, 0, NULL, 0) == 0)
        fail(r, l, "turn %zu: reply matches /%s/, which it must not", turn, s->not_reply);
    if (s->step && !same(rep->step, s->step))
        fail(r, l, "turn %zu: step: expected '%s', got '%s'", turn, s->step,
             rep->step ? rep->step : "");
    if (s->flow && !same(rep->flow, s->flow))
        fail(r, l, "turn %zu: flow: expected '%s', got '%s'", turn, s->flow,
             rep->flow ? rep->flow : "");
    if (s->handoff >= 0 && (rep->handoff != 0) != s->handoff)
        fail(r, l, "turn %zu: handoff: expected %s, got %s", turn, s->handoff ? "true" : "false",
             rep->handoff ? "true" : "false");
    for (size_t i = 0; i < s->n_actions; i++) {
        const struct ct_action *want = &s->actions[i];
        const char *seen = NULL;
        for (size_t k = 0; k < rep->n_actions; k++) {
            if (!same(rep->actions[k].name, want->name))
                continue;
            seen = rep->actions[k].status ? rep->actions[k].status : "";
            if (!want->status || same(seen, want->status))
                break;
        }
        if (!seen)
            fail(r, l, "turn %zu: action '%s' was not taken", turn, want->name);
        else if (want->status && !same(seen, want->status))
            fail(r, l, "turn %zu: action '%s': expected status '%s', got '%s'", turn, want->name,
                 want->status, seen);
    }
    for (size_t i = 0; i < s->n_no_actions; i++)
        for (size_t k = 0; k < rep->n_actions; k++)
            if (same(rep->actions[k].name, s->no_actions[i]))
                fail(r, l, "turn %zu: action '%s' was taken, which it must not", turn,
                     s->no_actions[i]);
}

static void log_reply(struct run *r, const parley_dialog_reply *rep)
{
    fprintf(r->log, "    bot> %s\n", rep->text ? rep->text : "");
    for (size_t i = 0; i < rep->n_choices; i++)
        fprintf(r->log, "           [%zu] %s\n", i + 1, rep->choices[i]);
    fprintf(r->log, "         (intent %s %.2f, flow '%s', step '%s'",
            rep->intent && *rep->intent ? rep->intent : "-", rep->confidence,
            rep->flow ? rep->flow : "", rep->step ? rep->step : "");
    for (size_t i = 0; i < rep->n_actions; i++)
        fprintf(r->log, ", %s %s%s%s", rep->actions[i].name, rep->actions[i].status,
                rep->actions[i].backend_code ? "/" : "",
                rep->actions[i].backend_code ? rep->actions[i].backend_code : "");
    fprintf(r->log, "%s)\n", rep->handoff ? ", handoff" : "");
}

static void run_say(struct run *r, const struct ct_step *s, size_t turn)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_dialog_reply *rep = NULL;

    fprintf(r->log, "    you> %s\n", s->say);
    if (parley_dialog_turn(r->d, r->conv, s->say, strlen(s->say), r->now, &rep, &err) !=
        PARLEY_OK) {
        fail(r, s->line, "turn %zu: the engine failed: %s", turn, err.msg);
        return;
    }
    r->now += MESSAGE_MS;
    log_reply(r, rep);
    check_reply(r, s, turn, rep);
    parley_dialog_reply_free(rep);
}

/* Follows a dot path ("line_items.0.amount") into `root`; NULL if absent. */
static json_t *follow(json_t *root, const char *path)
{
    char seg[256];
    json_t *v = root;
    while (v && path && *path) {
        size_t len = strcspn(path, ".");
        if (len >= sizeof(seg))
            return NULL;
        memcpy(seg, path, len);
        seg[len] = '\0';
        path += len + (path[len] == '.');
        if (json_is_object(v)) {
            v = json_object_get(v, seg);
        } else if (json_is_array(v) && len && strspn(seg, "0123456789") == len) {
            v = json_array_get(v, strtoul(seg, NULL, 10));
        } else {
            return NULL;
        }
    }
    return v;
}

/* The value as text: a string itself, anything else as compact JSON.
 * Caller frees. */
static char *as_text(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

static int equal_values(const json_t *v, const struct ct_expect *e)
{
    char *end;
    double want = e->value_quoted ? 0 : strtod(e->value, &end);
    int eq;
    if (!e->value_quoted && *e->value && *end == '\0' && json_is_number(v)) {
        double got = json_number_value(v);
        return fabs(got - want) <= 1e-9 * fmax(1.0, fmax(fabs(got), fabs(want)));
    }
    char *text = as_text(v);
    eq = text && strcmp(text, e->value) == 0;
    free(text);
    return eq;
}

static void check_expect(struct run *r, const struct ct_expect *e, size_t index)
{
    char err[512];
    char *body = NULL, *got = NULL;
    long status = 0;
    json_error_t je;
    json_t *root = NULL, *v;
    const char *field = e->field ? e->field : "";

    if (backend_request(r->sim.url, "GET", e->get, NULL, &status, &body, err, sizeof(err)) != 0) {
        fail(r, e->line, "expect %zu: %s", index, err);
        goto out;
    }
    if (status < 200 || status > 299) {
        fail(r, e->line, "expect %zu: GET %s answered %ld: %.300s", index, e->get, status, body);
        goto out;
    }
    if (!(root = json_loads(body, JSON_DECODE_ANY, &je))) {
        fail(r, e->line, "expect %zu: GET %s: the answer is not JSON: %s", index, e->get, je.text);
        goto out;
    }
    if (!(v = follow(root, e->field))) {
        fail(r, e->line, "expect %zu: GET %s has no field '%s'", index, e->get, field);
        goto out;
    }
    got = as_text(v);
    switch (e->op) {
    case CT_EQUALS:
        if (!equal_values(v, e))
            fail(r, e->line, "expect %zu: GET %s field '%s': expected %s, got %.300s", index,
                 e->get, field, e->value, got ? got : "?");
        break;
    case CT_NOT_EQUALS:
        if (equal_values(v, e))
            fail(r, e->line, "expect %zu: GET %s field '%s': must not be %s", index, e->get, field,
                 e->value);
        break;
    case CT_COUNT:
        if (!json_is_array(v))
            fail(r, e->line, "expect %zu: GET %s field '%s' is not a list: %.300s", index, e->get,
                 field, got ? got : "?");
        else if (json_array_size(v) != e->count)
            fail(r, e->line, "expect %zu: GET %s field '%s': expected %lu elements, got %zu", index,
                 e->get, field, e->count, json_array_size(v));
        break;
    }
out:
    free(got);
    json_decref(root);
    free(body);
}

/* Sets up the backend and the engine, then runs every step and check,
 * stopping at the first failure. */
static void run_steps(struct run *r)
{
    const struct ct_test *t = r->t;
    struct backend_options bo = {0};
    parley_dialog_options opts = {0};
    parley_error err = PARLEY_ERROR_INIT;
    char msg[1024];

    if (backend_start(&bo, &r->sim, msg, sizeof(msg)) != 0) {
        fail(r, t->line, "%s", msg);
        return;
    }
    opts.bot_dir = r->o->bot_dir;
    opts.models_dir = r->o->models_dir;
    opts.backend_url = r->sim.url;
    if (parley_dialog_open(&opts, &r->d, &err) != PARLEY_OK ||
        parley_dialog_start(r->d, "test", r->conv, &err) != PARLEY_OK) {
        fail(r, t->line, "cannot start the conversation: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < t->n_setup && !r->failure[0]; i++) {
        (void)snprintf(msg, sizeof(msg), "setup %zu", i + 1);
        send_call(r, &t->setup[i], msg);
    }
    for (size_t i = 0; i < t->n_steps && !r->failure[0]; i++) {
        const struct ct_step *s = &t->steps[i];
        if (r->o->stop && *r->o->stop) {
            fail(r, s->line, "interrupted");
            break;
        }
        switch (s->kind) {
        case CT_SAY:
            run_say(r, s, i + 1);
            break;
        case CT_WAIT:
            fprintf(r->log, "    ~ wait %s\n", s->wait_text);
            r->now += s->wait_ms;
            break;
        case CT_SIM:
            fprintf(r->log, "    ~ sim %s %s%s%s\n", s->sim.method, s->sim.path,
                    s->sim.body ? " " : "", s->sim.body ? s->sim.body : "");
            (void)snprintf(msg, sizeof(msg), "turn %zu: sim", i + 1);
            send_call(r, &s->sim, msg);
            break;
        }
    }
    for (size_t i = 0; i < t->n_expects && !r->failure[0]; i++)
        check_expect(r, &t->expects[i], i + 1);
}

int ct_run(const struct ct_test *t, const struct ct_run_options *o, FILE *out)
{
    struct run r;
    double start = cli_now();
    int passed;

    memset(&r, 0, sizeof(r));
    r.t = t;
    r.o = o;
    r.sim.pid = -1;
    r.sim.out_fd = r.sim.err_fd = -1;
    r.now = START_MS;
    r.log = open_memstream(&r.log_text, &r.log_len);
    if (!r.log) {
        fprintf(out, "FAIL %s (out of memory)\n", t->name);
        return 0;
    }
    run_steps(&r);
    parley_dialog_close(r.d);
    (void)backend_stop(&r.sim);
    passed = !r.failure[0];
    (void)fclose(r.log);
    fprintf(out, "%s %s (%.2f s)\n", passed ? "ok  " : "FAIL", t->name, cli_now() - start);
    if (!passed)
        fprintf(out, "  %s\n", r.failure);
    if ((!passed || o->verbose) && r.log_len)
        fprintf(out, "%s", r.log_text);
    free(r.log_text);
    return passed;
}
