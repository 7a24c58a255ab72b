/* Unit tests of the language identifier's second stage: training with
 * validation data finds the confusable groups and stores specialists,
 * which survive a save/load round trip, and the loader refuses every kind
 * of damaged stage-2 section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "parley/nlu.h"

#define N_LANGS 5
#define N_TRAIN 300
#define N_VALID 80
#define N_TEST  80
/* Stated floor on the held-out rows; chance is 20%, and two pairs are
 * hard (Indonesian/Malay, Danish/Bokmål). */
#define FLOOR 0.80

static const char *const langs[N_LANGS] = {"dan", "deu", "ind", "nob", "zsm"};

struct text_buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct text_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        assert_non_null(p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* Every fifth sentence of a language validates, every fifth (shifted)
 * tests, the rest train; all as fastText lines. */
static void slice(struct text_buf *train, struct text_buf *valid, struct text_buf *test)
{
    char defaults[2048], path[4096], line[16384];
    size_t seen[N_LANGS] = {0}, n[3][N_LANGS] = {{0}};
    const size_t cap[3] = {N_TRAIN, N_VALID, N_TEST};
    struct text_buf *out[3] = {train, valid, test};
    FILE *f;

    (void)snprintf(defaults, sizeof(defaults), "%s/../shared/datasets",
                   env_or("PARLEY_SOURCE_DIR", "."));
    (void)snprintf(path, sizeof(path), "%s/langid/tatoeba_laser_112.tsv",
                   env_or("PARLEY_DATASETS", defaults));
    f = fopen(path, "r");
    if (!f)
        fail_msg("dataset '%s' not found: set PARLEY_DATASETS (docs/datasets.md)", path);
    while (fgets(line, sizeof(line), f)) {
        char *tab = strchr(line, '\t');
        int lang = -1;
        line[strcspn(line, "\r\n")] = '\0';
        if (!tab || tab[1] == '\0')
            continue;
        *tab = '\0';
        for (int i = 0; i < N_LANGS; i++)
            if (strcmp(line, langs[i]) == 0)
                lang = i;
        if (lang < 0)
            continue;
        size_t r = seen[lang]++ % 5, which = r == 3 ? 1 : r == 4 ? 2 : 0;
        if (n[which][lang]++ >= cap[which])
            continue;
        buf_add(out[which], "__label__");
        buf_add(out[which], line);
        buf_add(out[which], " ");
        buf_add(out[which], tab + 1);
        buf_add(out[which], "\n");
    }
    (void)fclose(f);
    for (int i = 0; i < N_LANGS; i++)
        if (n[2][i] < N_TEST)
            fail_msg("dataset '%s' has too few '%s' sentences", path, langs[i]);
}

static parley_langid *staged, *plain, *refitted;
static size_t n_train_rows, n_valid_rows; /* lines */
static struct text_buf test_rows;

static parley_langid *train(const struct text_buf *tr, const struct text_buf *va, unsigned groups,
                            int refit)
{
    parley_nlu_data *d = NULL, *v = NULL;
    parley_langid *m = NULL;
    parley_langid_options o;
    parley_error err = PARLEY_ERROR_INIT;

    assert_int_equal(parley_nlu_data_open_memory("train.txt", tr->p, tr->len,
                                                 PARLEY_NLU_FORMAT_FASTTEXT, 0, &d, &err),
                     PARLEY_OK);
    assert_int_equal(parley_nlu_data_open_memory("valid.txt", va->p, va->len,
                                                 PARLEY_NLU_FORMAT_FASTTEXT, 0, &v, &err),
                     PARLEY_OK);
    parley_langid_options_default(&o);
    o.hash_bits = 14;
    o.epochs = 20;
    o.groups = groups;
    o.refit = refit;
    if (parley_langid_train(&o, d, v, &m, &err) != PARLEY_OK) {
        fprintf(stderr, "train failed: %s\n", err.msg);
        m = NULL;
    }
    parley_nlu_data_free(d);
    parley_nlu_data_free(v);
    return m;
}

static int setup(void **state)
{
    (void)state;
    struct text_buf tr = {0}, va = {0};
    slice(&tr, &va, &test_rows);
    staged = train(&tr, &va, 16, 0);
    plain = train(&tr, &va, 0, 0);
    refitted = train(&tr, &va, 16, 1);
    for (size_t i = 0; i < tr.len; i++)
        n_train_rows += tr.p[i] == '\n';
    for (size_t i = 0; i < va.len; i++)
        n_valid_rows += va.p[i] == '\n';
    free(tr.p);
    free(va.p);
    return staged && plain && refitted ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    parley_langid_free(staged);
    parley_langid_free(plain);
    parley_langid_free(refitted);
    free(test_rows.p);
    return 0;
}

/* Accuracy of m on the held-out rows. */
static double accuracy(const parley_langid *m)
{
    char *rows = strdup(test_rows.p), *save = NULL;
    size_t n = 0, right = 0;
    parley_error err = PARLEY_ERROR_INIT;
    parley_langid_result r;

    assert_non_null(rows);
    for (char *line = strtok_r(rows, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        assert_non_null(sp);
        *sp = '\0';
        assert_int_equal(parley_langid_predict(m, sp + 1, strlen(sp + 1), 3, &r, &err), PARLEY_OK);
        float sum = 0.0f;
        for (size_t i = 0; i < r.n_top; i++)
            sum += r.top[i].probability;
        assert_true(sum <= 1.0001f && r.probability > 0.0f);
        n++;
        right += strcmp(r.language, line + 9) == 0;
    }
    free(rows);
    return (double)right / (double)n;
}

static void test_groups_found(void **state)
{
    (void)state;
    parley_langid_info info;
    parley_langid_get_info(staged, &info);
    assert_int_equal(info.format_version, 3);
    assert_true(info.n_groups >= 1);
    parley_langid_get_info(plain, &info);
    assert_int_equal(info.n_groups, 0);
    double a = accuracy(staged), b = accuracy(plain);
    fprintf(stderr, "held out: %.1f%% with stage 2, %.1f%% without\n", 100 * a, 100 * b);
    assert_true(a >= FLOOR);
    assert_true(b >= FLOOR);
}

static void test_among_with_stage2(void **state)
{
    (void)state;
    static const char *const among[] = {"ind", "zsm"};
    static const char text[] = "Saya tidak tahu apa yang harus saya lakukan.";
    parley_error err = PARLEY_ERROR_INIT;
    parley_langid_result r;

    assert_int_equal(parley_langid_predict_among(staged, text, strlen(text), among, 2, &r, &err),
                     PARLEY_OK);
    assert_int_equal(r.n_top, 2);
    assert_true(strcmp(r.language, "ind") == 0 || strcmp(r.language, "zsm") == 0);
    assert_true(r.top[0].probability + r.top[1].probability > 0.999f);
}

/* Refit (training and validation rows, temperature, groups and
 * thresholds kept): every row counted, groups kept, accuracy at the
 * floor. */
static void test_refit(void **state)
{
    (void)state;
    parley_langid_info a, b;
    parley_langid_get_info(staged, &a);
    parley_langid_get_info(refitted, &b);
    assert_true(a.train_rows > 0 && a.train_rows <= n_train_rows);
    assert_true(b.train_rows > a.train_rows && b.train_rows <= a.train_rows + n_valid_rows);
    assert_true(b.n_groups >= 1);
    assert_true(b.temperature > 0.0f);
    double acc = accuracy(refitted);
    fprintf(stderr, "held out: %.1f%% refitted\n", 100 * acc);
    assert_true(acc >= FLOOR);
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Loads `copy` after fixing its checksum; expects a corrupt error. */
static void expect_corrupt(unsigned char *copy, size_t len, const char *what)
{
    parley_langid *m = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    uint64_t sum = XXH64(copy + 32, len - 32, 0);
    memcpy(copy + 24, &sum, 8);
    assert_int_equal(parley_langid_load_memory(copy, len, &m, &err), PARLEY_ERR_CORRUPT);
    assert_null(m);
    if (!strstr(err.msg, what))
        fail_msg("expected '%s' in '%s'", what, err.msg);
}

static void test_stage2_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/parley-langid3-XXXXXX", path[512];
    parley_error err = PARLEY_ERROR_INIT;
    parley_langid *m = NULL;
    parley_langid_result r1, r2;
    static const char text[] = "Jeg vet ikke hva jeg skal gjøre.";

    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/m.model", dir);
    assert_int_equal(parley_langid_save(staged, path, &err), PARLEY_OK);
    assert_int_equal(parley_langid_load(path, &m, &err), PARLEY_OK);
    assert_int_equal(parley_langid_predict(m, text, strlen(text), 3, &r1, &err), PARLEY_OK);
    assert_int_equal(parley_langid_predict(staged, text, strlen(text), 3, &r2, &err), PARLEY_OK);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(r1.top[i].language, r2.top[i].language);
        assert_true(r1.top[i].probability == r2.top[i].probability);
    }
    parley_langid_free(m);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size_t len = (size_t)ftell(f);
    rewind(f);
    unsigned char *img = malloc(len), *copy = malloc(len);
    assert_non_null(img);
    assert_non_null(copy);
    assert_int_equal(fread(img, 1, len, f), len);
    (void)fclose(f);
    (void)unlink(path);
    (void)rmdir(dir);

    const size_t s2 = (size_t)rd64(img + 104), rec = s2 + 64;
    assert_true(s2 > 0 && s2 < len && s2 % 64 == 0);
    uint32_t bits;
    memcpy(&bits, img + rec + 4, 4);
    const size_t table = s2 + (size_t)rd64(img + rec + 16), cap = (size_t)1 << bits;
    size_t full = table;
    while (rd64(img + full) == 0)
        full += 16;
    assert_true(full < table + cap * 16);

    memcpy(copy, img, len);
    copy[104] ^= 8; /* stage-2 offset */
    expect_corrupt(copy, len, "section bounds");
    memcpy(copy, img, len);
    copy[120] = 1;
    expect_corrupt(copy, len, "reserved header");
    memcpy(copy, img, len);
    copy[s2] = 40; /* group count */
    expect_corrupt(copy, len, "group count");
    memcpy(copy, img, len);
    copy[s2 + 8] = 7; /* specialist character n-grams up to 7 */
    expect_corrupt(copy, len, "features");
    memcpy(copy, img, len);
    copy[rec] = 9; /* group size */
    expect_corrupt(copy, len, "group size");
    memcpy(copy, img, len);
    copy[rec + 8] ^= 1; /* entries */
    expect_corrupt(copy, len, "");
    memcpy(copy, img, len);
    copy[rec + 16] ^= 64; /* table offset */
    expect_corrupt(copy, len, "table bounds");
    memcpy(copy, img, len);
    memcpy(copy + rec + 40 + 2, copy + rec + 40, 2); /* a language twice */
    expect_corrupt(copy, len, "group language");
    memcpy(copy, img, len);
    memset(copy + rec + 32, 0xff, 4); /* temperature NaN */
    expect_corrupt(copy, len, "temperature");
    memcpy(copy, img, len);
    copy[full] &= 0xfe; /* an even key */
    expect_corrupt(copy, len, "key table");
    memcpy(copy, img, len);
    copy[full + 8] = 0x80; /* weight -128 */
    expect_corrupt(copy, len, "weight out of range");
    memcpy(copy, img, len);
    copy[full + 15] = 1; /* a weight past the group's languages */
    expect_corrupt(copy, len, "weight out of range");
    /* Cut to stage 1 only: the section is missing. */
    memcpy(copy, img, len);
    uint64_t cut = s2;
    memcpy(copy + 16, &cut, 8);
    expect_corrupt(copy, (size_t)s2, "section bounds");

    free(img);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_found),
        cmocka_unit_test(test_among_with_stage2),
        cmocka_unit_test(test_refit),
        cmocka_unit_test(test_stage2_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
