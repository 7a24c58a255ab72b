/* Unit tests of the intent engine: training on small synthetic sets,
 * reproducibility, streaming through a small shuffle buffer, calibration
 * and the out-of-scope threshold, the model file (round trip, corrupt and
 * truncated files), prediction and evaluation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "parley/nlu.h"

/* Three intents with varied wording, plus out-of-scope rows. */
static const char *const intents[3][8] = {
    {"what is my balance", "show me my account balance", "how much money do i have",
     "balance please", "tell me the balance of my account", "check my balance",
     "how much is left on my account", "current balance"},
    {"i lost my card", "my card was stolen", "block my card please", "freeze my lost card",
     "someone stole my credit card", "i can't find my card", "report a lost card",
     "card missing need to block it"},
    {"set an alarm for 7 am", "wake me up at six", "alarm at 5 tomorrow", "set my alarm",
     "create an alarm for noon", "i need an alarm at 8", "please wake me at 9",
     "new alarm for 6:30"},
};
static const char *const labels[3] = {"balance", "lost_card", "alarm"};
static const char *const oos_rows[4] = {"what is the capital of peru", "tell me a joke",
                                        "who won the world cup", "how tall is mount everest"};

/* Builds fastText lines: every intent row `copies` times, plus oos rows if
 * asked. Caller frees. */
static char *make_data(int copies, int with_oos)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (int c = 0; c < copies; c++) {
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < 8; k++) {
                len += (size_t)snprintf(buf + len, cap - len, "__label__%s %s\n", labels[i],
                                        intents[i][k]);
            }
        }
    }
    for (int k = 0; with_oos && k < 4; k++)
        len += (size_t)snprintf(buf + len, cap - len, "__label__oos %s\n", oos_rows[k]);
    assert_true(len < cap);
    return buf;
}

static parley_nlu_data *open_mem(const char *text)
{
    parley_nlu_data *d = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    assert_int_equal(parley_nlu_data_open_memory("mem.txt", text, strlen(text),
                                                 PARLEY_NLU_FORMAT_FASTTEXT, 0, &d, &err),
                     PARLEY_OK);
    return d;
}

static parley_nlu_model *train_on(const char *text, const char *valid_text,
                                  const parley_nlu_train_options *o)
{
    parley_nlu_data *d = open_mem(text), *v = valid_text ? open_mem(valid_text) : NULL;
    parley_nlu_model *m = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_err rc = parley_nlu_train(o, d, v, &m, &err);
    if (rc != PARLEY_OK)
        fail_msg("train failed: %s", err.msg);
    parley_nlu_data_free(d);
    parley_nlu_data_free(v);
    return m;
}

static const char *predict1(const parley_nlu_model *m, const char *text, float *conf)
{
    static parley_nlu_prediction pr;
    parley_nlu_ctx *c = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    assert_int_equal(parley_nlu_ctx_new(&c), PARLEY_OK);
    assert_int_equal(parley_nlu_predict(m, c, text, strlen(text), 3, &pr, &err), PARLEY_OK);
    parley_nlu_ctx_free(c);
    if (conf)
        *conf = pr.confidence;
    return pr.intent;
}

static void test_train_and_predict(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    char *data = make_data(2, 0);
    parley_nlu_model *m = train_on(data, NULL, &o);
    parley_nlu_model_info info;

    parley_nlu_model_get_info(m, &info);
    assert_int_equal(info.n_labels, 3);
    assert_true(info.n_features > 50);
    assert_int_equal(info.train_rows, 48);
    /* Labels come out sorted. */
    assert_string_equal(parley_nlu_model_label(m, 0), "alarm");
    assert_string_equal(parley_nlu_model_label(m, 2), "lost_card");
    assert_null(parley_nlu_model_label(m, 3));
    /* Unseen phrasings of each intent. */
    assert_string_equal(predict1(m, "what's my account balance?", NULL), "balance");
    assert_string_equal(predict1(m, "My CARD got stolen!!", NULL), "lost_card");
    assert_string_equal(predict1(m, "wake me up at 7 please", NULL), "alarm");
    parley_nlu_model_free(m);
    free(data);
}

static void test_top_k_and_probabilities(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    char *data = make_data(2, 0);
    parley_nlu_model *m = train_on(data, NULL, &o);
    parley_nlu_ctx *c = NULL;
    parley_nlu_prediction pr;
    parley_error err = PARLEY_ERROR_INIT;

    assert_int_equal(parley_nlu_ctx_new(&c), PARLEY_OK);
    assert_int_equal(parley_nlu_predict(m, c, "block my card", 13, 16, &pr, &err), PARLEY_OK);
    assert_int_equal(pr.n_top, 3); /* capped at the number of labels */
    float sum = 0.0f;
    for (size_t i = 0; i < pr.n_top; i++) {
        sum += pr.top[i].confidence;
        if (i)
            assert_true(pr.top[i - 1].confidence >= pr.top[i].confidence);
    }
    assert_true(sum > 0.999f && sum < 1.001f);
    assert_string_equal(pr.top[0].intent, "lost_card");
    /* k out of range and invalid UTF-8 are clean errors. */
    assert_int_equal(parley_nlu_predict(m, c, "x", 1, 0, &pr, &err), PARLEY_ERR_INVALID);
    assert_int_equal(parley_nlu_predict(m, c, "ab\xff", 3, 1, &pr, &err), PARLEY_ERR_UTF8);
    assert_non_null(strstr(err.msg, "byte 2"));
    /* Empty text still answers (from the bias alone). */
    assert_int_equal(parley_nlu_predict(m, c, "", 0, 1, &pr, &err), PARLEY_OK);
    parley_nlu_ctx_free(c);
    parley_nlu_model_free(m);
    free(data);
}

static void save_to(const parley_nlu_model *m, char *path, size_t cap)
{
    parley_error err = PARLEY_ERROR_INIT;
    (void)snprintf(path, cap, "/tmp/parley-test-%ld-%d.model", (long)getpid(), rand());
    assert_int_equal(parley_nlu_model_save(m, path, &err), PARLEY_OK);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    unsigned char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    (void)fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_reproducible(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    o.seed = 7;
    char *data = make_data(3, 1);
    char p1[256], p2[256];
    size_t l1, l2;

    parley_nlu_model *a = train_on(data, data, &o), *b = train_on(data, data, &o);
    save_to(a, p1, sizeof(p1));
    save_to(b, p2, sizeof(p2));
    unsigned char *x = slurp(p1, &l1), *y = slurp(p2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(x, y, l1);
    /* A different seed gives different weights. */
    o.seed = 8;
    parley_nlu_model *c = train_on(data, data, &o);
    char p3[256];
    size_t l3;
    save_to(c, p3, sizeof(p3));
    unsigned char *z = slurp(p3, &l3);
    assert_int_equal(l1, l3);
    assert_true(memcmp(x, z, l1) != 0);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    free(x);
    free(y);
    free(z);
    parley_nlu_model_free(a);
    parley_nlu_model_free(b);
    parley_nlu_model_free(c);
    free(data);
}

static void test_model_round_trip(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    char *data = make_data(2, 1);
    parley_nlu_model *m = train_on(data, data, &o), *l = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    parley_nlu_model_info a, b;
    char path[256];
    float c1, c2;

    save_to(m, path, sizeof(path));
    assert_int_equal(parley_nlu_model_load(path, &l, &err), PARLEY_OK);
    parley_nlu_model_get_info(m, &a);
    parley_nlu_model_get_info(l, &b);
    assert_int_equal(a.n_labels, b.n_labels);
    assert_int_equal(a.n_features, b.n_features);
    assert_int_equal(a.data_fingerprint, b.data_fingerprint);
    assert_true(a.temperature == b.temperature);
    assert_string_equal(b.oos_label, "oos");
    assert_int_equal(b.oos_trained, 1);
    assert_string_equal(predict1(m, "check my balance now", &c1),
                        predict1(l, "check my balance now", &c2));
    assert_true(c1 == c2);
    /* No temporary file is left behind. */
    char tmp[300];
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    unlink(path);
    parley_nlu_model_free(l);
    parley_nlu_model_free(m);
    free(data);
}

static void test_corrupt_models(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    char *data = make_data(1, 0);
    parley_nlu_model *m = train_on(data, NULL, &o), *l = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    char path[256];
    size_t len;

    save_to(m, path, sizeof(path));
    unsigned char *img = slurp(path, &len);
    unsigned char *bad = malloc(len);
    assert_non_null(bad);

    /* Every truncation is rejected. */
    for (size_t cut = 0; cut < len; cut += (cut < 256 ? 1 : 997)) {
        assert_int_not_equal(parley_nlu_model_load_memory(img, cut, &l, &err), PARLEY_OK);
        assert_true(err.code == PARLEY_ERR_CORRUPT);
    }
    /* A flipped byte anywhere after the fixed prefix fails the checksum. */
    for (size_t at = 32; at < len; at += 101) {
        memcpy(bad, img, len);
        bad[at] ^= 0x5a;
        assert_int_equal(parley_nlu_model_load_memory(bad, len, &l, &err), PARLEY_ERR_CORRUPT);
    }
    memcpy(bad, img, len);
    bad[0] = 'X';
    assert_int_equal(parley_nlu_model_load_memory(bad, len, &l, &err), PARLEY_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "not a Parley intent model"));
    memcpy(bad, img, len);
    bad[8] = 99; /* version */
    assert_int_equal(parley_nlu_model_load_memory(bad, len, &l, &err), PARLEY_ERR_VERSION);
    assert_non_null(strstr(err.msg, "version 99"));
    /* A truncated file on disk names the file. */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len / 2, f), len / 2);
    (void)fclose(f);
    assert_int_equal(parley_nlu_model_load(path, &l, &err), PARLEY_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(parley_nlu_model_load("/nonexistent/x.model", &l, &err), PARLEY_ERR_IO);
    unlink(path);
    free(bad);
    free(img);
    parley_nlu_model_free(m);
    free(data);
}

static void test_streaming_small_buffer(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    o.buffer_entries = 1024; /* forces many refills per epoch */
    char *data = make_data(20, 0);
    parley_nlu_model *m = train_on(data, NULL, &o);
    assert_string_equal(predict1(m, "what's my account balance?", NULL), "balance");
    assert_string_equal(predict1(m, "my card was stolen yesterday", NULL), "lost_card");
    assert_string_equal(predict1(m, "set an alarm at 10", NULL), "alarm");
    parley_nlu_model_free(m);
    free(data);
}

static void test_threads(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    o.threads = 4;
    char *data = make_data(10, 0);
    parley_nlu_model *m = train_on(data, NULL, &o);
    assert_string_equal(predict1(m, "how much money is in my account", NULL), "balance");
    parley_nlu_model_free(m);
    free(data);
}

static void test_oos_threshold_from_validation(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    o.oos_max_loss = 0.5;
    char *train = make_data(2, 0); /* no oos in training */
    char *valid = make_data(1, 1); /* oos rows in validation */
    parley_nlu_model *m = train_on(train, valid, &o);
    parley_nlu_model_info info;

    parley_nlu_model_get_info(m, &info);
    assert_int_equal(info.oos_trained, 0);
    assert_string_equal(info.oos_label, "oos");
    assert_true(info.oos_threshold > 0.0f);
    assert_true(info.temperature > 0.0f);
    /* Gibberish with no known feature falls below the threshold. */
    assert_string_equal(predict1(m, "zzqx vvkw", NULL), "oos");
    parley_nlu_model_free(m);
    free(train);
    free(valid);
}

static int cancel_at_train(const parley_nlu_progress *p, void *ud)
{
    int *calls = ud;
    (*calls)++;
    return strcmp(p->phase, "train") == 0;
}

static void test_cancel_and_bad_options(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    char *data = make_data(2, 0);
    parley_nlu_data *d = open_mem(data);
    parley_nlu_model *m = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    int calls = 0;

    o.progress = cancel_at_train;
    o.progress_userdata = &calls;
    o.progress_interval_s = 0.0;
    assert_int_not_equal(parley_nlu_train(&o, d, NULL, &m, &err), PARLEY_OK);
    assert_non_null(strstr(err.msg, "cancelled"));
    assert_null(m);
    assert_true(calls > 0);

    parley_nlu_train_options_default(&o);
    o.epochs = 0;
    assert_int_equal(parley_nlu_train(&o, d, NULL, &m, &err), PARLEY_ERR_INVALID);
    parley_nlu_train_options_default(&o);
    o.features.char_min = 6;
    o.features.char_max = 3;
    assert_int_equal(parley_nlu_train(&o, d, NULL, &m, &err), PARLEY_ERR_INVALID);
    parley_nlu_data_free(d);

    /* One label only, and no rows at all. */
    parley_nlu_train_options_default(&o);
    d = open_mem("__label__a hello\n__label__a hi there\n");
    assert_int_equal(parley_nlu_train(&o, d, NULL, &m, &err), PARLEY_ERR_EMPTY);
    assert_non_null(strstr(err.msg, "one label"));
    parley_nlu_data_free(d);
    d = open_mem("\n\n");
    assert_int_equal(parley_nlu_train(&o, d, NULL, &m, &err), PARLEY_ERR_EMPTY);
    parley_nlu_data_free(d);
    free(data);
}

static void test_eval_report(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    char *data = make_data(2, 1);
    parley_nlu_model *m = train_on(data, NULL, &o);
    parley_nlu_data *d = open_mem(data);
    parley_nlu_report *r = NULL;
    parley_error err = PARLEY_ERROR_INIT;

    assert_int_equal(parley_nlu_eval(m, d, &r, &err), PARLEY_OK);
    assert_int_equal(r->rows, 52);
    assert_int_equal(r->oos_rows, 4);
    assert_int_equal(r->in_scope_rows, 48);
    /* Training rows are learnt exactly. */
    assert_true(r->in_scope_accuracy > 0.99);
    assert_true(r->macro_f1 > 0.9);
    assert_true(r->ece >= 0.0 && r->ece < 0.5);
    assert_int_equal(r->n_labels, 4);
    size_t support = 0;
    for (size_t i = 0; i < r->n_labels; i++)
        support += r->labels[i].support;
    assert_int_equal(support, 52);
    parley_nlu_report_free(r);
    parley_nlu_data_free(d);

    /* Unknown gold labels count as errors and are reported. */
    d = open_mem("__label__weather is it raining\n__label__balance my balance\n");
    assert_int_equal(parley_nlu_eval(m, d, &r, &err), PARLEY_OK);
    assert_int_equal(r->unknown_labels, 1);
    assert_true(r->accuracy <= 0.5 + 1e-9);
    parley_nlu_report_free(r);
    parley_nlu_data_free(d);
    parley_nlu_model_free(m);
    free(data);
}

static void test_calibration_lowers_overconfidence(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    char *train = make_data(4, 0);
    /* Validation with deliberately confusable rows: temperature must rise
     * above 1 to soften the overconfident training fit. */
    const char *valid = "__label__balance my card balance\n"
                        "__label__lost_card card balance lost\n"
                        "__label__alarm alarm for my card\n"
                        "__label__balance how much on card\n"
                        "__label__lost_card my balance card missing\n"
                        "__label__alarm balance alarm\n";
    parley_nlu_model *m = train_on(train, valid, &o);
    parley_nlu_model_info info;
    parley_nlu_model_get_info(m, &info);
    assert_true(info.temperature > 1.0f);
    parley_nlu_model_free(m);
    free(train);
}

static void test_holdout_without_validation(void **state)
{
    (void)state;
    parley_nlu_train_options o;
    parley_nlu_train_options_default(&o);
    char *data = make_data(10, 0); /* 240 rows: enough to hold some out */
    parley_nlu_model *m = train_on(data, NULL, &o);
    parley_nlu_model_info info;

    parley_nlu_model_get_info(m, &info);
    assert_true(info.train_rows < 240 && info.train_rows > 190);
    assert_true(info.temperature != 1.0f);
    parley_nlu_model_free(m);

    o.holdout = 0.0;
    m = train_on(data, NULL, &o);
    parley_nlu_model_get_info(m, &info);
    assert_int_equal(info.train_rows, 240);
    assert_true(info.temperature == 1.0f);
    parley_nlu_model_free(m);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_and_predict),
        cmocka_unit_test(test_top_k_and_probabilities),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_model_round_trip),
        cmocka_unit_test(test_corrupt_models),
        cmocka_unit_test(test_streaming_small_buffer),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_oos_threshold_from_validation),
        cmocka_unit_test(test_cancel_and_bad_options),
        cmocka_unit_test(test_eval_report),
        cmocka_unit_test(test_calibration_lowers_overconfidence),
        cmocka_unit_test(test_holdout_without_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
