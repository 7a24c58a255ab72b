/* Unit tests for the proactive engine's batches (src/lib/proactive/batch.c)
 * with tests/fixtures/bots/proactive_min (one rule messaging the event's
 * customer, at most once a day): a decision stays pending until the batch
 * commits (not in the effects ledger, not in the audit log, the event not
 * settled), yet later runs in the batch see it (a duplicate, a cap); a
 * batch freed uncommitted leaves nothing and the event is decided again;
 * a commit records the effects, settles the events and appends audit
 * records of kind "proactive" naming the effect; a batch of more than
 * 2048 decisions commits by itself; parley_proactive_run() (a batch of
 * one) records at once; the engine counts its decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "parley/proactive.h"

#define T0   1740477600000LL /* 2025-02-25T10:00:00Z */
#define RULE "usage_notice"

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-pbatch-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    (void)state;
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* What a test works with: the bot, a store and an audit log in files of
 * their own, the bot's (never reached) SMS connector and an engine that
 * delivers every message to an open conversation. */
struct fx {
    parley_bot *bot;
    parley_store *store;
    parley_audit *audit;
    parley_connector *conn;
    parley_proactive_engine *en;
    int delivered;
};

static int deliver(void *userdata, const parley_proactive_delivery *m)
{
    struct fx *f = userdata;
    assert_non_null(strstr(m->text, "Your usage is at"));
    f->delivered++;
    return 1;
}

static void fx_open(struct fx *f, const char *name, int with_audit)
{
    char path[256];
    const char *src = getenv("PARLEY_SOURCE_DIR");
    parley_error e = PARLEY_ERROR_INIT;
    parley_proactive_options o;
    memset(f, 0, sizeof(*f));
    if (!src)
        fail_msg("PARLEY_SOURCE_DIR is not set");
    (void)snprintf(path, sizeof(path), "%s/tests/fixtures/bots/proactive_min", src);
    if (parley_bot_load(path, &f->bot, NULL, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    assert_int_equal(parley_bot_connector_count(f->bot), 1);
    if (parley_connector_new(parley_bot_connector(f->bot, 0), &f->conn, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    (void)snprintf(path, sizeof(path), "%s/%s.db", tmpdir, name);
    if (parley_store_open(path, &f->store, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    if (with_audit) {
        parley_audit_options ao = {NULL, 0, 0};
        (void)snprintf(path, sizeof(path), "%s/%s-audit.db", tmpdir, name);
        if (parley_audit_open(path, &ao, &f->audit, &e) != PARLEY_OK)
            fail_msg("%s", e.msg);
    }
    memset(&o, 0, sizeof(o));
    o.bot = f->bot;
    o.store = f->store;
    o.connectors = &f->conn;
    o.n_connectors = 1;
    o.audit = f->audit;
    o.deliver = deliver;
    o.deliver_userdata = f;
    if (parley_proactive_engine_new(&o, &f->en, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
}

static void fx_close(struct fx *f)
{
    parley_proactive_engine_free(f->en);
    parley_audit_close(f->audit);
    parley_store_close(f->store);
    parley_connector_free(f->conn);
    parley_bot_free(f->bot);
}

/* A proactive_outreach grant for `customer`: its messages may go. */
static void grant(struct fx *f, const char *customer)
{
    parley_store_consent c;
    parley_error e = PARLEY_ERROR_INIT;
    char id[24];
    memset(&c, 0, sizeof(c));
    c.customer_id = customer;
    c.scope = "proactive_outreach";
    c.limits = "{}";
    c.channel = "api";
    if (parley_store_consent_add(f->store, &c, id, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
}

/* A usage_90 event of `customer`, recorded in the ledger; strings live in
 * `buf`. */
struct event {
    parley_proactive_event ev;
    char id[32], doc[128];
};

static void make_event(struct event *x, const char *id, const char *customer)
{
    (void)snprintf(x->id, sizeof(x->id), "%s", id);
    (void)snprintf(x->doc, sizeof(x->doc),
                   "{\"id\":\"%s\",\"type\":\"usage_90\",\"customer_id\":\"%s\","
                   "\"percent_used\":91}",
                   id, customer);
    x->ev.id = x->id;
    x->ev.type = "usage_90";
    x->ev.at = T0;
    x->ev.doc = x->doc;
}

static void ledger(struct fx *f, const struct event *x)
{
    parley_store_event se;
    parley_error e = PARLEY_ERROR_INIT;
    memset(&se, 0, sizeof(se));
    se.id = x->ev.id;
    se.type = x->ev.type;
    se.at = x->ev.at;
    se.doc = x->ev.doc;
    if (parley_store_events_record(f->store, &se, 1, T0, NULL, NULL, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
}

/* The effect key the engine gives event `ev`, rule and customer: "pe-" and
 * the XXH3 of the three, each with its terminating NUL. Checked against the
 * audit record's "effect" field in test_pending. */
static const char *effect_key(const char *ev, const char *customer)
{
    static char key[24];
    const char *parts[] = {ev, RULE, customer};
    XXH3_state_t *st = XXH3_createState();
    assert_non_null(st);
    assert_int_equal(XXH3_64bits_reset(st), XXH_OK);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(XXH3_64bits_update(st, parts[i], strlen(parts[i]) + 1), XXH_OK);
    (void)snprintf(key, sizeof(key), "pe-%016llx", (unsigned long long)XXH3_64bits_digest(st));
    XXH3_freeState(st);
    return key;
}

/* The outcome recorded for event `ev` and `customer`, or "" for none. */
static const char *stored(struct fx *f, const char *ev, const char *customer)
{
    static char out[16];
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc = parley_store_effect_find(f->store, effect_key(ev, customer), out, &e);
    if (rc == PARLEY_ERR_NOTFOUND)
        return "";
    if (rc != PARLEY_OK)
        fail_msg("%s", e.msg);
    return out;
}

static int64_t audit_count(struct fx *f)
{
    parley_error e = PARLEY_ERROR_INIT;
    int64_t n = -1;
    if (parley_audit_count(f->audit, &n, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    return n;
}

struct ledger_row {
    char status[16], outcome[256];
    int64_t attempts;
};

static int on_event(const parley_store_event *ev, void *userdata)
{
    struct ledger_row *r = userdata;
    (void)snprintf(r->status, sizeof(r->status), "%s", ev->status);
    (void)snprintf(r->outcome, sizeof(r->outcome), "%s", ev->outcome ? ev->outcome : "(null)");
    r->attempts = ev->attempts;
    return 0;
}

/* The ledger row of the only event recorded after seq `after`. */
static struct ledger_row ledger_row(struct fx *f, int64_t after)
{
    struct ledger_row r;
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_event_query q = {after, 1, 0, NULL};
    memset(&r, 0, sizeof(r));
    if (parley_store_events_list(f->store, &q, on_event, &r, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    return r;
}

/* The decisions reported to the callback. */
struct reported {
    int n;
    char outcome[8][16], detail[8][240], channel[8][16], customer[8][16];
};

static void on_outcome(const parley_proactive_outcome *o, void *userdata)
{
    struct reported *r = userdata;
    assert_string_equal(o->rule, RULE);
    if (r->n < 8) {
        (void)snprintf(r->outcome[r->n], sizeof(r->outcome[0]), "%s", o->outcome);
        (void)snprintf(r->detail[r->n], sizeof(r->detail[0]), "%s", o->detail);
        (void)snprintf(r->channel[r->n], sizeof(r->channel[0]), "%s", o->channel);
        (void)snprintf(r->customer[r->n], sizeof(r->customer[0]), "%s", o->customer);
    }
    r->n++;
}

static void run(parley_proactive_batch *b, const struct event *x, struct reported *r)
{
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_proactive_batch_run(b, &x->ev, T0 + 1000, on_outcome, r, &e) != PARLEY_OK)
        fail_msg("run '%s': %s", x->ev.id, e.msg);
}

/* The audit records of `customer`. */
struct audited {
    int n;
    char kind[4][32], body[4][1024];
};

static int on_record(const parley_audit_record *rec, void *userdata)
{
    struct audited *a = userdata;
    if (a->n < 4) {
        (void)snprintf(a->kind[a->n], sizeof(a->kind[0]), "%s", rec->kind);
        (void)snprintf(a->body[a->n], sizeof(a->body[0]), "%s", rec->body);
    }
    a->n++;
    return 0;
}

static struct audited audited(struct fx *f, const char *customer)
{
    struct audited a;
    parley_error e = PARLEY_ERROR_INIT;
    parley_audit_filter flt = {NULL, customer};
    memset(&a, 0, sizeof(a));
    if (parley_audit_list(f->audit, &flt, on_record, &a, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    return a;
}

static void test_pending(void **state)
{
    struct fx f;
    struct event e1, e2, e3;
    struct reported r;
    parley_proactive_batch *b = NULL;
    parley_proactive_stats stats;
    parley_error e = PARLEY_ERROR_INIT;
    char want[64];
    (void)state;
    fx_open(&f, "pending", 1);
    grant(&f, "C1");
    make_event(&e1, "ev-1", "C1");
    make_event(&e2, "ev-2", "C1");
    make_event(&e3, "ev-3", "C2"); /* no grant */
    ledger(&f, &e1);
    ledger(&f, &e2);
    ledger(&f, &e3);
    memset(&r, 0, sizeof(r));
    assert_int_equal(parley_proactive_batch_new(f.en, &b, &e), PARLEY_OK);

    /* Decided and reported at once, but pending: not in the store or the
     * audit log yet. */
    run(b, &e1, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.outcome[0], "done");
    assert_string_equal(r.channel[0], "conversation");
    assert_string_equal(r.customer[0], "C1");
    assert_int_equal(f.delivered, 1);
    assert_string_equal(stored(&f, "ev-1", "C1"), "");
    assert_int_equal(audit_count(&f), 0);

    /* The same event again in the batch: the pending decision is seen. */
    run(b, &e1, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.outcome[1], "duplicate");
    assert_non_null(strstr(r.detail[1], "already decided: done"));
    assert_int_equal(f.delivered, 1);
    /* Another event of the customer: the pending message counts towards
     * the rule's cap of one a day. */
    run(b, &e2, &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.outcome[2], "capped");
    assert_int_equal(f.delivered, 1);
    /* A customer without a grant is denied. */
    run(b, &e3, &r);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.outcome[3], "denied");

    assert_int_equal(parley_proactive_batch_settle(b, "ev-1", "done", "[{\"x\":1}]", &e),
                     PARLEY_OK);
    assert_int_equal(parley_proactive_batch_settle(b, "ev-2", "done", NULL, &e), PARLEY_OK);
    assert_int_equal(parley_proactive_batch_settle(b, NULL, "done", NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_proactive_batch_settle(NULL, "ev-1", "done", NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_string_equal(ledger_row(&f, 0).status, "received");
    assert_string_equal(stored(&f, "ev-2", "C1"), "");
    assert_string_equal(stored(&f, "ev-3", "C2"), "");
    assert_int_equal(audit_count(&f), 0);

    /* Committed: effects, settlings and audit records, together. */
    assert_int_equal(parley_proactive_batch_commit(b, &e), PARLEY_OK);
    assert_string_equal(stored(&f, "ev-1", "C1"), "done");
    assert_string_equal(stored(&f, "ev-2", "C1"), "capped");
    assert_string_equal(stored(&f, "ev-3", "C2"), "denied");
    struct ledger_row row = ledger_row(&f, 0);
    assert_string_equal(row.status, "done");
    assert_string_equal(row.outcome, "[{\"x\":1}]");
    assert_int_equal(row.attempts, 1);
    row = ledger_row(&f, 1);
    assert_string_equal(row.status, "done");
    assert_string_equal(row.outcome, "(null)");
    assert_string_equal(ledger_row(&f, 2).status, "received");
    /* Three decisions recorded (the duplicate repeats nothing). */
    assert_int_equal(audit_count(&f), 3);
    struct audited a = audited(&f, "C1");
    assert_int_equal(a.n, 2);
    assert_string_equal(a.kind[0], "proactive");
    (void)snprintf(want, sizeof(want), "\"effect\":\"%s\"", effect_key("ev-1", "C1"));
    if (!strstr(a.body[0], want) || !strstr(a.body[0], "\"outcome\":\"done\"") ||
        !strstr(a.body[0], "\"event\":\"ev-1\""))
        fail_msg("audit body %s lacks %s", a.body[0], want);
    (void)snprintf(want, sizeof(want), "\"effect\":\"%s\"", effect_key("ev-2", "C1"));
    if (!strstr(a.body[1], want) || !strstr(a.body[1], "\"outcome\":\"capped\""))
        fail_msg("audit body %s lacks %s", a.body[1], want);
    /* Opaque ids only: the message's text stays out of the log. */
    assert_null(strstr(a.body[0], "Your usage"));
    a = audited(&f, "C2");
    assert_int_equal(a.n, 1);
    assert_string_equal(a.kind[0], "proactive");
    parley_audit_report rep;
    assert_int_equal(parley_audit_verify(f.audit, NULL, &rep, &e), PARLEY_OK);
    assert_true(rep.ok);

    /* The batch is empty again: a commit adds nothing; a new run of ev-1
     * finds the stored decision. */
    assert_int_equal(parley_proactive_batch_commit(b, &e), PARLEY_OK);
    assert_int_equal(audit_count(&f), 3);
    run(b, &e1, &r);
    assert_string_equal(r.outcome[4], "duplicate");
    assert_int_equal(parley_proactive_batch_commit(b, &e), PARLEY_OK);
    assert_int_equal(audit_count(&f), 3);

    /* Every decision counted, duplicates included. */
    parley_proactive_stats_get(f.en, &stats);
    assert_int_equal(stats.decisions, 5);
    assert_int_equal(stats.backend_calls, 0);
    parley_proactive_stats_get(NULL, &stats);
    assert_int_equal(stats.decisions, 0);

    parley_proactive_batch_free(b);
    fx_close(&f);
}

/* Freed uncommitted: nothing stays; the event is decided again later, and
 * parley_proactive_run() records at once. */
static void test_free_and_run(void **state)
{
    struct fx f;
    struct event e1, e2;
    struct reported r;
    parley_proactive_batch *b = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    fx_open(&f, "free", 1);
    grant(&f, "C1");
    make_event(&e1, "ev-1", "C1");
    make_event(&e2, "ev-2", "C2");
    ledger(&f, &e1);
    memset(&r, 0, sizeof(r));

    assert_int_equal(parley_proactive_batch_new(f.en, &b, &e), PARLEY_OK);
    run(b, &e1, &r);
    run(b, &e2, &r);
    assert_string_equal(r.outcome[0], "done");
    assert_int_equal(parley_proactive_batch_settle(b, "ev-1", "done", "[]", &e), PARLEY_OK);
    parley_proactive_batch_free(b);
    assert_string_equal(stored(&f, "ev-1", "C1"), "");
    assert_string_equal(stored(&f, "ev-2", "C2"), "");
    struct ledger_row row = ledger_row(&f, 0);
    assert_string_equal(row.status, "received");
    assert_int_equal(row.attempts, 0);
    assert_int_equal(audit_count(&f), 0);

    /* Decided again, by parley_proactive_run(): stored and audited as soon
     * as it returns. The grant's use was counted under the decision's key
     * the first time, so the message may go again (the SMS, had it gone by
     * SMS, would carry the same idempotency key). */
    assert_int_equal(parley_proactive_run(f.en, &e1.ev, T0 + 1000, on_outcome, &r, &e), PARLEY_OK);
    assert_string_equal(r.outcome[2], "done");
    assert_string_equal(stored(&f, "ev-1", "C1"), "done");
    assert_int_equal(audit_count(&f), 1);
    assert_int_equal(parley_proactive_run(f.en, &e1.ev, T0 + 2000, on_outcome, &r, &e), PARLEY_OK);
    assert_string_equal(r.outcome[3], "duplicate");
    assert_int_equal(audit_count(&f), 1);
    assert_int_equal(parley_proactive_run(f.en, &e2.ev, 0, NULL, NULL, &e), PARLEY_OK);
    assert_string_equal(stored(&f, "ev-2", "C2"), "denied");
    assert_int_equal(audit_count(&f), 2);

    /* Bad arguments. */
    assert_int_equal(parley_proactive_batch_new(NULL, &b, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_proactive_batch_new(f.en, NULL, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_proactive_batch_run(NULL, &e1.ev, 0, NULL, NULL, &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_proactive_batch_commit(NULL, &e), PARLEY_ERR_INVALID);
    parley_proactive_batch_free(NULL);
    fx_close(&f);
}

/* More than 2048 pending decisions commit by themselves, with the
 * settlings queued before them; the rest wait for the commit. No audit
 * log here: the store alone. */
static void test_auto_commit(void **state)
{
    enum { N = 2100, FLUSH = 2048 };
    struct fx f;
    struct event x;
    parley_proactive_batch *b = NULL;
    parley_proactive_stats stats;
    parley_error e = PARLEY_ERROR_INIT;
    char id[32], cust[32];
    struct reported r;
    (void)state;
    fx_open(&f, "flush", 0);
    make_event(&x, "ev-0", "D0");
    ledger(&f, &x);
    memset(&r, 0, sizeof(r));
    assert_int_equal(parley_proactive_batch_new(f.en, &b, &e), PARLEY_OK);
    assert_int_equal(parley_proactive_batch_settle(b, "ev-0", "done", "[]", &e), PARLEY_OK);
    for (int i = 0; i < N; i++) {
        (void)snprintf(id, sizeof(id), "ev-%d", i);
        (void)snprintf(cust, sizeof(cust), "D%d", i);
        make_event(&x, id, cust);
        run(b, &x, &r);
        if (i == FLUSH - 2) {
            /* One short of the flush: all pending. */
            assert_string_equal(stored(&f, "ev-0", "D0"), "");
            assert_string_equal(ledger_row(&f, 0).status, "received");
        }
    }
    assert_int_equal(r.n, N);
    assert_string_equal(r.outcome[0], "denied");
    /* The first 2048 went by themselves; the rest are pending. */
    assert_string_equal(stored(&f, "ev-0", "D0"), "denied");
    assert_string_equal(stored(&f, "ev-2047", "D2047"), "denied");
    assert_string_equal(stored(&f, "ev-2048", "D2048"), "");
    assert_string_equal(stored(&f, "ev-2099", "D2099"), "");
    assert_string_equal(ledger_row(&f, 0).status, "done");
    assert_int_equal(parley_proactive_batch_commit(b, &e), PARLEY_OK);
    assert_string_equal(stored(&f, "ev-2048", "D2048"), "denied");
    assert_string_equal(stored(&f, "ev-2099", "D2099"), "denied");
    assert_int_equal(ledger_row(&f, 0).attempts, 1);
    parley_proactive_stats_get(f.en, &stats);
    assert_int_equal(stats.decisions, N);
    parley_proactive_batch_free(b);
    fx_close(&f);
}

/* A customer id the store takes but the audit log does not (a space, a
 * byte beyond ASCII): its decision is still recorded and audited, and it
 * does not hold up the other decisions of the batch. */
static void test_odd_customer(void **state)
{
    struct fx f;
    struct event e1, e2, e3;
    struct reported r;
    parley_proactive_batch *b = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    fx_open(&f, "odd", 1);
    grant(&f, "C1");
    make_event(&e1, "ev-1", "C1");
    make_event(&e2, "ev-2", "C 9");
    make_event(&e3, "ev-3", "C\u00e99");
    memset(&r, 0, sizeof(r));
    assert_int_equal(parley_proactive_batch_new(f.en, &b, &e), PARLEY_OK);
    run(b, &e1, &r);
    run(b, &e2, &r);
    run(b, &e3, &r);
    assert_string_equal(r.outcome[1], "denied");
    assert_string_equal(r.customer[1], "C 9");
    if (parley_proactive_batch_commit(b, &e) != PARLEY_OK)
        fail_msg("commit: %s", e.msg);
    assert_string_equal(stored(&f, "ev-1", "C1"), "done");
    assert_string_equal(stored(&f, "ev-2", "C 9"), "denied");
    assert_string_equal(stored(&f, "ev-3",
                               "C\xc3\xa9"
                               "9"),
                        "denied");
    assert_int_equal(audit_count(&f), 3);
    assert_int_equal(audited(&f, "C1").n, 1);
    /* A batch of one, likewise. */
    make_event(&e2, "ev-4", "C 9");
    if (parley_proactive_run(f.en, &e2.ev, T0, NULL, NULL, &e) != PARLEY_OK)
        fail_msg("run: %s", e.msg);
    assert_string_equal(stored(&f, "ev-4", "C 9"), "denied");
    assert_int_equal(audit_count(&f), 4);
    parley_proactive_batch_free(b);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending),
        cmocka_unit_test(test_free_and_run),
        cmocka_unit_test(test_auto_commit),
        cmocka_unit_test(test_odd_customer),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
