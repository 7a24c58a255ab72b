/* Unit tests of the learn pipeline: duplicate keys, consent (a customer
 * without an active training_use grant never reaches a training set),
 * scrubbing, mapping, contradictions, the stratified split, the promotion
 * gate and the registry's promote and rollback. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn/pipeline.h"
#include "parley/learn.h"
#include "parley/nlu.h"
#include "parley/store.h"
#include "temp_dir.h"

/* Removes what the registry tests leave in subfolders; the folder itself
 * goes with temp_dir_remove(). */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    return ftw->level ? remove(path) : 0;
}

static int setup(void **state)
{
    (void)state;
    return temp_dir_make("learn");
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? temp_dir_remove() : -1;
}

static void path_in(char *buf, size_t n, const char *name)
{
    (void)snprintf(buf, n, "%s/%s", tmpdir, name);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_keys(void **state)
{
    (void)state;
    learn_keys a, b, c, d;
    parley_error e = PARLEY_ERROR_INIT;
    assert_int_equal(learn_text_keys("Hi, I want to PAY my bill!!", 27, &a, &e), PARLEY_OK);
    assert_int_equal(learn_text_keys("i want to pay my bill please", 28, &b, &e), PARLEY_OK);
    assert_int_equal(learn_text_keys("hi,  I want to pay my BILL!!", 28, &c, &e), PARLEY_OK);
    assert_int_equal(learn_text_keys("I want to cancel my plan", 24, &d, &e), PARLEY_OK);
    assert_true(a.near == b.near);   /* courtesy words and punctuation aside */
    assert_true(a.exact != b.exact); /* but not the same text */
    assert_true(a.exact == c.exact); /* case and white space only */
    assert_true(a.near != d.near);
    assert_int_equal(a.words, 6);
    learn_keys h;
    assert_int_equal(learn_text_keys("hello thanks", 12, &h, &e), PARLEY_OK);
    assert_int_equal(h.words, 0);
}

static void test_strings(void **state)
{
    (void)state;
    struct learn_strings t = {0};
    char name[32];
    for (int i = 0; i < 500; i++) {
        (void)snprintf(name, sizeof(name), "intent_%d", i);
        assert_int_equal(learn_strings_id(&t, name), i);
    }
    assert_int_equal(learn_strings_id(&t, "intent_7"), 7);
    assert_int_equal(learn_strings_find(&t, "intent_499"), 499);
    assert_int_equal(learn_strings_find(&t, "nope"), -1);
    learn_strings_release(&t);
}

/* Writes a log: `per` conversations per intent and customer, texts that
 * differ by a word from a small vocabulary, with personal values. */
static const char *const phrases[] = {"i want to pay my bill", "please cancel my plan now",
                                      "is roaming on for my trip abroad"};
static const char *const extra[] = {"today",  "asap",   "quickly", "tonight", "again",
                                    "online", "please", "at once", "soon",    "monthly"};

static void write_log(const char *path, int per)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    int conv = 0;
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < per; k++, conv++)
                fprintf(f,
                        "{\"id\":\"c%d\",\"customer_id\":\"cust-%d\",\"language\":\"en\","
                        "\"disposition\":\"RC_%d\",\"turns\":[{\"speaker\":\"agent\",\"text\":"
                        "\"hello\"},{\"speaker\":\"customer\",\"text\":\"%s %s %s w%d mail "
                        "jane.roe%d@example.com marker%d\"}]}\n",
                        conv, c, i, phrases[i], extra[k % 10], extra[(k / 10) % 10], k, k, c);
    /* The same text under two codes: a contradiction. */
    fputs("{\"id\":\"x1\",\"customer_id\":\"cust-0\",\"disposition\":\"RC_0\",\"turns\":[{"
          "\"speaker\":\"customer\",\"text\":\"my phone does weird things\"}]}\n",
          f);
    fputs("{\"id\":\"x2\",\"customer_id\":\"cust-1\",\"disposition\":\"RC_2\",\"turns\":[{"
          "\"speaker\":\"customer\",\"text\":\"My phone does weird things!\"}]}\n",
          f);
    /* An exact duplicate, and a code mapped to no intent. */
    fputs("{\"id\":\"d1\",\"customer_id\":\"cust-0\",\"disposition\":\"RC_0\",\"turns\":[{"
          "\"speaker\":\"customer\",\"text\":\"i want to pay my bill today today w0 mail "
          "jane.roe0@example.com marker0\"}]}\n",
          f);
    fputs("{\"id\":\"s1\",\"customer_id\":\"cust-0\",\"disposition\":\"RC_SPAM\",\"turns\":[{"
          "\"speaker\":\"customer\",\"text\":\"buy cheap stuff\"}]}\n",
          f);
    fclose(f);
}

static void write_map(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# code\tintent\n\nRC_0\tpay_bill\nRC_1\tcancel_plan\nRC_2\troaming\nRC_SPAM\t-\n", f);
    fclose(f);
}

/* A store where cust-0 and cust-1 hold training_use, cust-2 held it and
 * revoked it, and cust-3 never gave it. */
static parley_store *consent_store(void)
{
    char db[512], url[600], id[24];
    parley_store *s = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    db_path(db, sizeof(db), "consent.db");
    (void)snprintf(url, sizeof(url), "sqlite:%s", db);
    assert_int_equal(parley_store_open(url, &s, &e), PARLEY_OK);
    for (int c = 0; c < 3; c++) {
        char cust[16];
        (void)snprintf(cust, sizeof(cust), "cust-%d", c);
        parley_store_consent g = {0};
        g.customer_id = cust;
        g.scope = "training_use";
        g.limits = "{}";
        g.channel = "api";
        g.conversation_id = "";
        assert_int_equal(parley_store_consent_add(s, &g, id, &e), PARLEY_OK);
    }
    size_t n = 0;
    assert_int_equal(parley_store_consent_revoke(s, "cust-2", "scope:training_use", &n, &e),
                     PARLEY_OK);
    assert_int_equal(n, 1);
    return s;
}

/* Options for one English log `*in` with mapping `map` and consent from
 * `s`, training `epochs` passes (with `to`, which must outlive `o`). */
static void options_for(parley_learn_options *o, const char **in, const char *map, parley_store *s,
                        parley_nlu_train_options *to, unsigned epochs)
{
    parley_learn_options_default(o);
    parley_nlu_train_options_default(to);
    to->epochs = epochs;
    o->language = "en";
    o->inputs = in;
    o->n_inputs = 1;
    o->mapping = map;
    o->consent = s;
    o->work_dir = tmpdir;
    o->train = to;
}

static parley_learn_run *run_on(const char *log, const char *map, parley_store *s)
{
    parley_learn_options o;
    parley_learn_run *r = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    parley_nlu_train_options to;
    const char *in[1] = {log};
    options_for(&o, in, map, s, &to, 10);
    o.curve_points = 1;
    parley_err rc = parley_learn_run_pipeline(&o, &r, &e);
    if (rc != PARLEY_OK)
        fail_msg("pipeline: %s", e.msg);
    return r;
}

static void test_pipeline_consent_and_scrub(void **state)
{
    (void)state;
    char log[512], map[512], rows[512], test_rows[512];
    parley_error e = PARLEY_ERROR_INIT;
    path_in(log, sizeof(log), "log.jsonl");
    path_in(map, sizeof(map), "map.tsv");
    path_in(rows, sizeof(rows), "train-out.jsonl");
    path_in(test_rows, sizeof(test_rows), "test-out.jsonl");
    write_log(log, 20);
    write_map(map);
    parley_store *s = consent_store();
    parley_learn_run *r = run_on(log, map, s);
    const parley_learn_summary *sum = parley_learn_run_summary(r);
    /* 4 customers x 3 intents x 20, plus 4 extra lines. */
    assert_int_equal(sum->conversations, 244);
    assert_int_equal(sum->dropped[PARLEY_LEARN_DROP_NO_CONSENT], 120); /* cust-2 and cust-3 */
    assert_int_equal(sum->dropped[PARLEY_LEARN_DROP_IGNORED], 1);
    assert_int_equal(sum->dropped[PARLEY_LEARN_DROP_DUPLICATE], 1);
    assert_int_equal(sum->dropped[PARLEY_LEARN_DROP_CONTRADICTORY], 2); /* both rows */
    assert_int_equal(sum->n_contradictions, 1);
    assert_non_null(strstr(sum->contradiction_labels[0], "pay_bill (1)"));
    assert_non_null(strstr(sum->contradiction_labels[0], "roaming (1)"));
    assert_int_equal(sum->train_rows + sum->test_rows, 120);
    assert_int_equal(sum->kept, 120);
    assert_true(sum->pii_findings >= 120);
    assert_int_equal(sum->n_intents, 3);
    /* Stratified: each intent's 40 conversations give 8 held out. */
    for (size_t i = 0; i < sum->n_intents; i++)
        assert_int_equal(sum->intents[i].test_rows, 8);
    assert_true(sum->fresh.accuracy > 0.9);
    assert_int_equal(sum->has_current, 0);
    assert_int_equal(sum->n_curve, 2);

    assert_int_equal(parley_learn_run_write_rows(r, 0, rows, &e), PARLEY_OK);
    assert_int_equal(parley_learn_run_write_rows(r, 1, test_rows, &e), PARLEY_OK);
    char *t = slurp(rows);
    assert_null(strstr(t, "marker2"));
    assert_null(strstr(t, "marker3"));
    assert_null(strstr(t, "example.com"));
    assert_non_null(strstr(t, "marker0"));
    assert_non_null(strstr(t, "[EMAIL]"));
    t = slurp(test_rows);
    assert_null(strstr(t, "marker2"));
    assert_null(strstr(t, "marker3"));
    assert_null(strstr(t, "example.com"));

    parley_learn_decide(r, 0.0);
    assert_int_equal(sum->promoted, 1);
    assert_non_null(strstr(sum->decision, "no current model"));
    parley_learn_run_free(r);
    parley_store_close(s);
}

static void test_pipeline_errors(void **state)
{
    (void)state;
    char log[512], map[512];
    parley_learn_options o;
    parley_learn_run *r = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const char *in[1];
    path_in(log, sizeof(log), "log2.jsonl");
    path_in(map, sizeof(map), "map2.tsv");
    write_log(log, 3);
    in[0] = log;
    parley_learn_options_default(&o);
    o.inputs = in;
    o.n_inputs = 1;
    o.work_dir = tmpdir;
    assert_int_equal(parley_learn_run_pipeline(&o, &r, &e), PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "language"));
    o.language = "en";
    /* No consent source: every customer is dropped, and the error says so. */
    assert_int_equal(parley_learn_run_pipeline(&o, &r, &e), PARLEY_ERR_EMPTY);
    assert_non_null(strstr(e.msg, "no_consent"));
    assert_null(r);
    FILE *f = fopen(map, "w");
    fputs("RC_0\tpay_bill\nRC_0\troaming\n", f);
    fclose(f);
    o.mapping = map;
    assert_int_equal(parley_learn_run_pipeline(&o, &r, &e), PARLEY_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "map2.tsv:2: reason code 'RC_0' is mapped twice"));
    const char *bot_intents[] = {"pay_bill"};
    f = fopen(map, "w");
    fputs("RC_0\tpay_bill\nRC_1\tcancel\n", f);
    fclose(f);
    o.intents = bot_intents;
    o.n_intents = 1;
    assert_int_equal(parley_learn_run_pipeline(&o, &r, &e), PARLEY_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "map2.tsv:2: 'cancel' is not an intent of the bot"));
    o.intents = NULL;
    o.n_intents = 0;
    o.mapping = NULL;
    o.test_share = 0.7;
    assert_int_equal(parley_learn_run_pipeline(&o, &r, &e), PARLEY_ERR_INVALID);
}

static void test_registry(void **state)
{
    (void)state;
    char log[512], map[512], reg[512], models[512], installed[600], v1m[600];
    char v[PARLEY_LEARN_VERSION_SIZE], v2[PARLEY_LEARN_VERSION_SIZE],
        back[PARLEY_LEARN_VERSION_SIZE];
    parley_error e = PARLEY_ERROR_INIT;
    path_in(log, sizeof(log), "log3.jsonl");
    path_in(map, sizeof(map), "map3.tsv");
    path_in(reg, sizeof(reg), "registry");
    path_in(models, sizeof(models), "models");
    write_log(log, 10);
    write_map(map);
    parley_store *s = consent_store();
    parley_learn_run *r = run_on(log, map, s);
    assert_int_equal(parley_learn_registry_current(reg, "en", v, &e), PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_learn_registry_add(reg, r, v, &e), PARLEY_OK);
    assert_string_equal(v, "v000001");
    assert_string_equal(parley_learn_run_summary(r)->version, "v000001");
    assert_int_equal(parley_learn_registry_add(reg, r, v2, &e), PARLEY_OK);
    assert_string_equal(v2, "v000002");
    assert_int_equal(parley_learn_registry_rollback(reg, "en", models, "t", back, &e),
                     PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_learn_registry_promote(reg, "en", "v000001", models, "t", &e),
                     PARLEY_OK);
    assert_int_equal(parley_learn_registry_promote(reg, "en", "v000002", models, "t", &e),
                     PARLEY_OK);
    assert_int_equal(parley_learn_registry_current(reg, "en", v, &e), PARLEY_OK);
    assert_string_equal(v, "v000002");
    (void)snprintf(installed, sizeof(installed), "%s/intent-en.model", models);
    parley_nlu_model *m = NULL;
    assert_int_equal(parley_nlu_model_load(installed, &m, &e), PARLEY_OK);
    parley_nlu_model_free(m);
    assert_int_equal(parley_learn_registry_rollback(reg, "en", models, "t", back, &e), PARLEY_OK);
    assert_string_equal(back, "v000001");
    assert_int_equal(parley_learn_registry_current(reg, "en", v, &e), PARLEY_OK);
    assert_string_equal(v, "v000001");
    assert_int_equal(parley_learn_registry_rollback(reg, "en", models, "t", back, &e),
                     PARLEY_ERR_NOTFOUND);
    assert_int_equal(parley_learn_registry_promote(reg, "en", "v000009", models, "t", &e),
                     PARLEY_ERR_IO);
    assert_int_equal(parley_learn_registry_promote(reg, "en", "../x", models, "t", &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_learn_registry_model_path(reg, "v000001", v1m, sizeof(v1m), &e),
                     PARLEY_OK);
    assert_non_null(strstr(v1m, "versions/v000001/model.bin"));
    parley_learn_run_free(r);
    parley_store_close(s);
}

/* Three themes nobody coded, among coded rows and customers without
 * consent: discovery finds the three, names them from their words and
 * shows scrubbed examples. */
static void test_discover(void **state)
{
    (void)state;
    static const char *const themes[][3] = {
        {"where is my refund for the returned", "", "refund"},
        {"cannot reset the password of my", " account", "password"},
        {"the parcel delivery with my", " is late", "delivery"},
    };
    static const char *const things[] = {"shoes", "laptop", "phone", "book",  "lamp",
                                         "chair", "watch",  "bike",  "shirt", "camera"};
    char log[512], map[512], text[200];
    parley_learn_options o;
    parley_learn_discovery *d = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const char *in[1];
    path_in(log, sizeof(log), "disc.jsonl");
    path_in(map, sizeof(map), "disc-map.tsv");
    write_map(map);
    write_log(log, 2); /* coded conversations, and one RC_SPAM */
    FILE *f = fopen(log, "a");
    assert_non_null(f);
    for (int t = 0, conv = 0; t < 3; t++)
        for (int i = 0; i < 20; i++, conv++) {
            static const char *const code[] = {"\"disposition\":\"\",",
                                               "\"disposition\":\"RC_SPAM\",", ""};
            (void)snprintf(text, sizeof(text), "%s %s%s", themes[t][0], things[i % 10],
                           themes[t][1]);
            /* Half of them from customers without consent (cust-2, cust-3). */
            fprintf(f,
                    "{\"id\":\"u%d\",\"customer_id\":\"cust-%d\",%s\"turns\":[{\"speaker\":"
                    "\"customer\",\"text\":\"%s%s mail ann%d@example.com\"}]}\n",
                    conv, i % 4, code[i % 3], text, i >= 10 ? " again" : "", i);
        }
    fclose(f);
    parley_store *s = consent_store();
    parley_nlu_train_options to;
    in[0] = log;
    options_for(&o, in, map, s, &to, 1);
    assert_int_equal(parley_learn_discover(&o, 3, 5, &d, &e), PARLEY_OK);
    size_t n = 0;
    const parley_learn_cluster *c = parley_learn_discovery_clusters(d, &n);
    const parley_learn_summary *sum = parley_learn_discovery_summary(d);
    assert_int_equal(n, 3);
    assert_true(sum->dropped[PARLEY_LEARN_DROP_LABELLED] > 0);
    assert_true(sum->dropped[PARLEY_LEARN_DROP_NO_CONSENT] > 0);
    int seen[3] = {0, 0, 0};
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += c[i].messages;
        for (int t = 0; t < 3; t++)
            if (strstr(c[i].terms, themes[t][2]))
                seen[t]++;
        assert_true(c[i].n_examples > 0 && c[i].n_examples <= 5);
        for (size_t j = 0; j < c[i].n_examples; j++) {
            assert_null(strstr(c[i].examples[j], "example.com"));
            assert_non_null(strstr(c[i].examples[j], "[EMAIL]"));
        }
        assert_true(c[i].cohesion > 0.0 && c[i].cohesion <= 1.0001);
        if (i)
            assert_true(c[i - 1].messages >= c[i].messages);
    }
    assert_int_equal(seen[0] * seen[1] * seen[2], 1);
    /* 30 of the 60 themed rows, and the one RC_SPAM row of write_log. */
    assert_int_equal(total, 31);
    parley_learn_discovery_free(d);
    /* Nothing to group is an error that says so. */
    o.mapping = NULL;
    o.consent = NULL;
    assert_int_equal(parley_learn_discover(&o, 0, 1, &d, &e), PARLEY_ERR_EMPTY);
    assert_non_null(strstr(e.msg, "no message without an intent"));
    parley_store_close(s);
}

struct got {
    int n;
    char text[128], intent[64], customer[32], status[16];
    int64_t id;
};

static int got_item(const parley_store_review *r, void *userdata)
{
    struct got *g = userdata;
    g->n++;
    g->id = r->id;
    (void)snprintf(g->text, sizeof(g->text), "%s", r->text);
    (void)snprintf(g->intent, sizeof(g->intent), "%s", r->intent);
    (void)snprintf(g->customer, sizeof(g->customer), "%s", r->customer_id);
    (void)snprintf(g->status, sizeof(g->status), "%s", r->status);
    return 0;
}

/* The review queue: a customer turn queued once (never a bot's), listed
 * with its text and customer, labelled, learnt from under consent, and
 * gone with its conversation. */
static void test_review_queue(void **state)
{
    (void)state;
    char id[PARLEY_STORE_ID_SIZE], out[512], log[512];
    parley_error e = PARLEY_ERROR_INIT;
    int64_t seq = 0;
    parley_store *s = consent_store();
    assert_int_equal(parley_store_conversation_create(s, "web", "en", "{}", id, &e), PARLEY_OK);
    parley_store_turn turns[2];
    memset(turns, 0, sizeof(turns));
    turns[0].role = PARLEY_ROLE_CUSTOMER;
    turns[0].text = "my pony wants roaming in [CITY] now";
    turns[1].role = PARLEY_ROLE_BOT;
    turns[1].text = "Sorry, I did not get that.";
    parley_store_outcome oc;
    memset(&oc, 0, sizeof(oc));
    oc.customer_turns = 1;
    oc.customer_id = "cust-0";
    assert_int_equal(parley_store_commit_outcome(s, id, 1, "{}", turns, 2, &oc, &seq, &e),
                     PARLEY_OK);
    parley_store_review r;
    memset(&r, 0, sizeof(r));
    r.conversation_id = id;
    r.seq = seq;
    r.reason = "out_of_scope";
    r.language = "en";
    r.predicted = "pay_bill";
    r.confidence = 0.31;
    assert_int_equal(parley_store_review_add(s, &r, &e), PARLEY_OK);
    assert_int_equal(parley_store_review_add(s, &r, &e), PARLEY_OK); /* once */
    r.seq = seq + 1;                                                 /* the bot's turn */
    assert_int_equal(parley_store_review_add(s, &r, &e), PARLEY_OK);
    r.reason = "bored";
    assert_int_equal(parley_store_review_add(s, &r, &e), PARLEY_ERR_INVALID);
    struct got g = {0};
    assert_int_equal(parley_store_review_list(s, "open", 0, 0, got_item, &g, &e), PARLEY_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text, "my pony wants roaming in [CITY] now");
    assert_string_equal(g.customer, "cust-0");
    assert_string_equal(g.status, "open");
    assert_int_equal(parley_store_review_list(s, "closed", 0, 0, got_item, &g, &e),
                     PARLEY_ERR_INVALID);
    /* Discovery over the queue alone groups what still waits there. */
    parley_learn_options dopt;
    parley_nlu_train_options dto;
    parley_learn_discovery *disc = NULL;
    options_for(&dopt, NULL, NULL, s, &dto, 1);
    dopt.n_inputs = 0;
    dopt.review = 1;
    assert_int_equal(parley_learn_discover(&dopt, 1, 1, &disc, &e), PARLEY_OK);
    size_t nc = 0;
    const parley_learn_cluster *cl = parley_learn_discovery_clusters(disc, &nc);
    assert_int_equal(nc, 1);
    assert_int_equal(cl[0].messages, 1);
    assert_string_equal(cl[0].examples[0], "my pony wants roaming in [CITY] now");
    parley_learn_discovery_free(disc);
    assert_int_equal(parley_store_review_label(s, g.id, "roaming", "key k1", &e), PARLEY_OK);
    assert_int_equal(parley_store_review_label(s, g.id + 100, "roaming", "key k1", &e),
                     PARLEY_ERR_NOTFOUND);
    memset(&g, 0, sizeof(g));
    assert_int_equal(parley_store_review_list(s, "labelled", 0, 0, got_item, &g, &e), PARLEY_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.intent, "roaming");

    /* parley learn --review: the labelled turn is a row of its customer. */
    path_in(log, sizeof(log), "review-log.jsonl");
    write_log(log, 5);
    char map[512];
    path_in(map, sizeof(map), "review-map.tsv");
    write_map(map);
    parley_learn_options o;
    parley_learn_run *run = NULL;
    const char *in[1] = {log};
    parley_nlu_train_options to;
    options_for(&o, in, map, s, &to, 5);
    o.review = 1;
    o.curve_points = 0;
    assert_int_equal(parley_learn_run_pipeline(&o, &run, &e), PARLEY_OK);
    path_in(out, sizeof(out), "review-rows.jsonl");
    char both[1 << 12];
    assert_int_equal(parley_learn_run_write_rows(run, 0, out, &e), PARLEY_OK);
    (void)snprintf(both, sizeof(both), "%s", strstr(slurp(out), "pony") ? "train" : "");
    assert_int_equal(parley_learn_run_write_rows(run, 1, out, &e), PARLEY_OK);
    if (!both[0] && strstr(slurp(out), "pony"))
        (void)snprintf(both, sizeof(both), "test");
    assert_true(both[0] != '\0');
    parley_learn_run_free(run);

    /* Erasing the customer takes the queue's item with the conversation. */
    size_t n = 0;
    assert_int_equal(parley_store_customer_erase(s, "cust-0", &n, &e), PARLEY_OK);
    memset(&g, 0, sizeof(g));
    assert_int_equal(parley_store_review_list(s, NULL, 0, 0, got_item, &g, &e), PARLEY_OK);
    assert_int_equal(g.n, 0);
    parley_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_pipeline_consent_and_scrub),
        cmocka_unit_test(test_pipeline_errors),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_discover),
        cmocka_unit_test(test_review_queue),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
