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
#include "parley/audit.h"
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
    char convs[8][PARLEY_STORE_ID_SIZE]; /* earlier conversations of the test */
    size_t nconvs;
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
    if (s->attachment && !rep->attachment)
        fail(r, l, "turn %zu: expected a file with the reply, got none", turn);
    else if (s->attachment && regexec(&s->attachment_re, rep->attachment, 0, NULL, 0) != 0)
        fail(r, l, "turn %zu: the file with the reply does not match /%s/", turn, s->attachment);
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

/* The 6-digit code in the latest (or `nth`, 1-based) SMS telco-sim sent to
 * `phone`, into `code`; 0 on success, else -1 with the test failed. */
static int sms_code(struct run *r, unsigned long line, const char *phone, long nth, char *code)
{
    char err[512], path[128];
    char *body = NULL;
    long status = 0;
    int rc = -1;
    json_t *root = NULL, *msgs, *m;
    const char *text;

    (void)snprintf(path, sizeof(path), "/sim/sms?phone=%s", phone);
    if (backend_request(r->sim.url, "GET", path, NULL, &status, &body, err, sizeof(err)) != 0 ||
        status != 200) {
        fail(r, line, "{sms_code:%s}: GET %s failed (%ld)", phone, path, status);
        goto out;
    }
    root = json_loads(body, 0, NULL);
    msgs = json_object_get(root, "messages");
    if (json_array_size(msgs) == 0 || (nth > 0 && (size_t)nth > json_array_size(msgs))) {
        fail(r, line, "{sms_code:%s}: %zu SMS sent to that phone, none to take the code from",
             phone, json_array_size(msgs));
        goto out;
    }
    m = json_array_get(msgs, nth > 0 ? (size_t)nth - 1 : json_array_size(msgs) - 1);
    text = json_string_value(json_object_get(m, "text"));
    for (size_t i = 0; text && text[i];) {
        size_t n = strspn(text + i, "0123456789");
        if (n == 6) {
            memcpy(code, text + i, 6);
            code[6] = '\0';
            rc = 0;
        }
        i += n ? n : 1;
    }
    if (rc != 0)
        fail(r, line, "{sms_code:%s}: no 6-digit code in the SMS", phone);
out:
    json_decref(root);
    free(body);
    return rc;
}

/* The message with every {sms_code:PHONE[#N]} filled in; caller frees.
 * NULL when a code cannot be had (the test has failed). */
static char *fill_sms_codes(struct run *r, const struct ct_step *s)
{
    static const char tag[] = "{sms_code:";
    size_t cap = strlen(s->say) + 1, len = 0;
    char *out = malloc(cap);
    const char *p = s->say;
    if (!out) {
        fail(r, s->line, "out of memory");
        return NULL;
    }
    while (*p) {
        const char *at = strstr(p, tag);
        size_t plain = at ? (size_t)(at - p) : strlen(p);
        char phone[40] = "", code[8];
        long nth = 0;
        memcpy(out + len, p, plain); /* codes are no longer than their tags */
        len += plain;
        p += plain;
        if (!at)
            break;
        p += sizeof(tag) - 1;
        size_t n = strspn(p, "0123456789-");
        (void)snprintf(phone, sizeof(phone), "%.*s", (int)(n < 39 ? n : 39), p);
        p += n;
        if (*p == '#') {
            char *end;
            nth = strtol(p + 1, &end, 10);
            p = end;
        }
        p += *p == '}'; /* the parser checked the syntax */
        if (sms_code(r, s->line, phone, nth, code) != 0) {
            free(out);
            return NULL;
        }
        memcpy(out + len, code, 6);
        len += 6;
    }
    out[len] = '\0';
    return out;
}

static void run_say(struct run *r, const struct ct_step *s, size_t turn)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_dialog_reply *rep = NULL;
    char *say = fill_sms_codes(r, s);

    if (!say)
        return;
    fprintf(r->log, "    you> %s\n", say);
    if (parley_dialog_turn(r->d, r->conv, say, strlen(say), r->now, &rep, &err) != PARLEY_OK) {
        fail(r, s->line, "turn %zu: the engine failed: %s", turn, err.msg);
        free(say);
        return;
    }
    free(say);
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

/* `value` as written in the test (`quoted`: always compared as text). */
static int equal_values(const json_t *v, const char *value, int quoted)
{
    char *end;
    double want = quoted ? 0 : strtod(value, &end);
    int eq;
    if (!quoted && *value && *end == '\0' && json_is_number(v)) {
        double got = json_number_value(v);
        return fabs(got - want) <= 1e-9 * fmax(1.0, fmax(fabs(got), fabs(want)));
    }
    char *text = as_text(v);
    eq = text && strcmp(text, value) == 0;
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
        if (!equal_values(v, e->value, e->value_quoted))
            fail(r, e->line, "expect %zu: GET %s field '%s': expected %s, got %.300s", index,
                 e->get, field, e->value, got ? got : "?");
        break;
    case CT_NOT_EQUALS:
        if (equal_values(v, e->value, e->value_quoted))
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

/* The conversation's audit records, read once after the turns. */
struct records {
    json_t *list; /* [{kind, turn, body}] */
};

static int collect(const parley_audit_record *rec, void *userdata)
{
    struct records *rs = userdata;
    json_t *body = json_loads(rec->body ? rec->body : "{}", 0, NULL);
    json_t *item = json_pack("{s:s, s:I, s:o}", "kind", rec->kind ? rec->kind : "", "turn",
                             (json_int_t)rec->turn, "body", body ? body : json_object());
    return !item || json_array_append_new(rs->list, item) != 0;
}

/* Whether record `item` is one expectation `a` is about. */
static int audit_matches(const json_t *item, const struct ct_audit *a)
{
    json_t *v;
    json_t *body = json_object_get(item, "body");
    if (strcmp(json_string_value(json_object_get(item, "kind")), a->kind) != 0)
        return 0;
    for (size_t i = 0; i < a->n_where; i++) {
        const struct ct_where *w = &a->where[i];
        if (!w->field || !w->value || !(v = follow(body, w->field)) ||
            !equal_values(v, w->value, w->value_quoted))
            return 0;
    }
    if (!a->field)
        return 1;
    if (!(v = follow(body, a->field)))
        return 0;
    if (!a->has_op)
        return 1;
    return equal_values(v, a->value, a->value_quoted) == (a->op == CT_EQUALS);
}

static void describe_audit(const struct ct_audit *a, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "'%s' record", a->kind);
    const char *sep = " with ";
    for (size_t i = 0; i < a->n_where && len < size; i++, sep = ", ")
        len += (size_t)snprintf(buf + len, size - len, "%s%s = %s", sep, a->where[i].field,
                                a->where[i].value);
    if (len >= size)
        return;
    if (a->has_op)
        (void)snprintf(buf + len, size - len, "%s%s %s %s", sep, a->field,
                       a->op == CT_EQUALS ? "=" : "!=", a->value);
    else if (a->field)
        (void)snprintf(buf + len, size - len, "%sa field %s", sep, a->field);
}

/* Adds the conversation's audit records to the transcript (printed on
 * failure or with -v), then checks the `audit:` expectations against them
 * unless something failed already. */
static void check_audits(struct run *r)
{
    const struct ct_test *t = r->t;
    struct records rs = {json_array()};
    parley_audit_filter filter = {r->conv, NULL};
    parley_error err = PARLEY_ERROR_INIT;
    parley_audit *log = r->d ? parley_dialog_audit(r->d) : NULL;
    unsigned long line = t->n_audits ? t->audits[0].line : t->line;
    char what[600];
    size_t i;
    json_t *item;

    parley_err rc = rs.list && log ? PARLEY_OK : PARLEY_ERR_NOMEM;
    /* Every conversation the test started, in order. */
    for (size_t c = 0; c <= r->nconvs && rc == PARLEY_OK; c++) {
        filter.conversation = c < r->nconvs ? r->convs[c] : r->conv;
        rc = parley_audit_list(log, &filter, collect, &rs, &err);
    }
    if (rc != PARLEY_OK) {
        fail(r, line, "audit: cannot read the log: %s", log ? err.msg : "no audit log");
        json_decref(rs.list);
        return;
    }
    for (i = 0; i < json_array_size(rs.list); i++) {
        item = json_array_get(rs.list, i);
        char *body = json_dumps(json_object_get(item, "body"), JSON_COMPACT);
        fprintf(r->log, "    audit> [turn %lld] %s %s\n",
                (long long)json_integer_value(json_object_get(item, "turn")),
                json_string_value(json_object_get(item, "kind")), body ? body : "?");
        free(body);
    }
    for (size_t k = 0; k < t->n_audits && !r->failure[0]; k++) {
        const struct ct_audit *a = &t->audits[k];
        long n = 0;
        for (i = 0; i < json_array_size(rs.list); i++)
            n += audit_matches(json_array_get(rs.list, i), a);
        describe_audit(a, what, sizeof(what));
        if (a->count >= 0 && n != a->count)
            fail(r, a->line, "audit %zu: expected %ld %s%s, found %ld", k + 1, a->count, what,
                 a->count == 1 ? "" : "s", n);
        else if (a->count < 0 && a->absent && n > 0)
            fail(r, a->line, "audit %zu: found %ld %s%s, expected none", k + 1, n, what,
                 n == 1 ? "" : "s");
        else if (a->count < 0 && !a->absent && n == 0)
            fail(r, a->line, "audit %zu: no %s", k + 1, what);
    }
    json_decref(rs.list);
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
    opts.audit_url = ":memory:"; /* each engine its own log: `audit:` reads it */
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
        case CT_NEW:
            fprintf(r->log, "    ~ new conversation on '%s'\n", s->channel ? s->channel : "");
            if (r->nconvs == sizeof(r->convs) / sizeof(r->convs[0])) {
                fail(r, s->line, "turn %zu: at most %zu conversations in one test", i + 1,
                     sizeof(r->convs) / sizeof(r->convs[0]) + 1);
                break;
            }
            memcpy(r->convs[r->nconvs++], r->conv, sizeof(r->conv));
            if (parley_dialog_start(r->d, s->channel, r->conv, &err) != PARLEY_OK)
                fail(r, s->line, "turn %zu: cannot start a new conversation: %s", i + 1, err.msg);
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
    if (r->d && (t->n_audits || r->failure[0] || r->o->verbose))
        check_audits(r);
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
