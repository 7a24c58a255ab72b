/* Unit tests for src/lib/bot: the carrier's bot.yml loads clean with its
 * accessors filled, and each broken fixture under tests/fixtures/bots is
 * rejected with the expected problem at the expected FILE:LINE:COLUMN,
 * every problem reported rather than the first only; the trust warnings
 * and the connector accessors they rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parley/bot.h"

static void path_of(char *out, size_t size, const char *rel)
{
    const char *src = getenv("PARLEY_SOURCE_DIR");
    if (!src)
        fail_msg("PARLEY_SOURCE_DIR is not set");
    (void)snprintf(out, size, "%s/%s", src, rel);
}

static void test_carrier_is_clean(void **state)
{
    char dir[1024];
    parley_bot *bot = NULL;
    parley_bot_report *rep = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    int has_refuel = 0;
    (void)state;
    path_of(dir, sizeof(dir), "bots/carrier");
    if (parley_bot_load(dir, &bot, &rep, &e) != PARLEY_OK) {
        for (size_t i = 0; i < parley_bot_report_count(rep); i++) {
            const parley_bot_problem *p = parley_bot_report_problem(rep, i);
            print_error("%s:%lu:%lu: %s\n", p->file, p->line, p->column, p->message);
        }
        fail_msg("carrier bot does not load: %s", e.msg);
    }
    assert_non_null(rep);
    assert_int_equal(parley_bot_report_count(rep), 0);
    assert_string_equal(parley_bot_name(bot), "carrier");
    assert_int_equal(parley_bot_language_count(bot), 4);
    assert_string_equal(parley_bot_language(bot, 1), "fr");
    assert_null(parley_bot_language(bot, 4));
    assert_non_null(parley_bot_nlu_file(bot, "de"));
    assert_null(parley_bot_nlu_file(bot, "it"));
    assert_int_equal(parley_bot_intent_count(bot), 23);
    assert_string_equal(parley_bot_intent(bot, 0), "greet");
    assert_true(parley_bot_confidence(bot) > 0 && parley_bot_confidence(bot) < 1);
    assert_true(parley_bot_flow_count(bot) >= 3);
    for (size_t i = 0; i < parley_bot_flow_count(bot); i++)
        if (strcmp(parley_bot_flow_intent(bot, i), "refuel_data") == 0) {
            has_refuel = 1;
            assert_true(parley_bot_flow_step_count(bot, i) >= 6);
        }
    assert_true(has_refuel);
    /* No flow shows account data or changes the account too early. */
    for (size_t i = 0; i < parley_bot_warning_count(bot); i++)
        print_error("%s\n", parley_bot_warning(bot, i));
    assert_int_equal(parley_bot_warning_count(bot), 0);
    assert_null(parley_bot_warning(bot, 0));
    parley_bot_free(bot);
    parley_bot_report_free(rep);
}

/* The connector accessors the trust warnings rely on: each fact's
 * sensitivity and whether an operation writes. */
static void test_connect_def_accessors(void **state)
{
    char path[1024];
    parley_connect_def *d = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    path_of(path, sizeof(path), "tests/fixtures/bots/ok/connectors/sim.yml");
    if (parley_connect_def_load(path, &d, &e) != PARLEY_OK)
        fail_msg("%s", e.msg);
    assert_string_equal(parley_connect_def_fact_name(d, "get_line", 0), "data_used_gb");
    assert_int_equal(parley_connect_def_fact_sensitivity(d, "get_line", 0), PARLEY_CONNECT_ACCOUNT);
    assert_int_equal(parley_connect_def_fact_sensitivity(d, "get_line", 1),
                     PARLEY_CONNECT_SENSITIVE);
    /* Out of range, unknown operation, no definition: public, as nothing. */
    assert_int_equal(parley_connect_def_fact_sensitivity(d, "get_line", 2), PARLEY_CONNECT_PUBLIC);
    assert_int_equal(parley_connect_def_fact_sensitivity(d, "nope", 0), PARLEY_CONNECT_PUBLIC);
    assert_int_equal(parley_connect_def_fact_sensitivity(NULL, "get_line", 0),
                     PARLEY_CONNECT_PUBLIC);
    assert_int_equal(parley_connect_def_fact_sensitivity(d, NULL, 0), PARLEY_CONNECT_PUBLIC);
    assert_true(parley_connect_def_op_is_write(d, "refuel_data"));
    assert_false(parley_connect_def_op_is_write(d, "get_line"));
    assert_false(parley_connect_def_op_is_write(d, "nope"));
    assert_false(parley_connect_def_op_is_write(d, NULL));
    assert_false(parley_connect_def_op_is_write(NULL, "refuel_data"));
    parley_connect_def_free(d);

    /* A POST without `write:` is a write; `write: false` makes it a read. */
    {
        static const char def[] = "name: t\nbase_url: http://127.0.0.1:1\nauth: {type: none}\n"
                                  "operations:\n"
                                  "  a: {method: POST, path: /a}\n"
                                  "  b: {method: POST, path: /b, write: false}\n";
        assert_int_equal(parley_connect_def_load_memory("t.yml", def, sizeof(def) - 1, &d, &e),
                         PARLEY_OK);
        assert_true(parley_connect_def_op_is_write(d, "a"));
        assert_false(parley_connect_def_op_is_write(d, "b"));
        parley_connect_def_free(d);
    }
}

/* Loads fixture `name`, which must load, and returns it. */
static parley_bot *load_fixture(const char *name)
{
    char rel[256], dir[1024];
    parley_bot *bot = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)snprintf(rel, sizeof(rel), "tests/fixtures/bots/%s", name);
    path_of(dir, sizeof(dir), rel);
    if (parley_bot_load(dir, &bot, NULL, &e) != PARLEY_OK)
        fail_msg("%s: %s", name, e.msg);
    return bot;
}

/* Has warning `i` of `bot` the position `pos` ("bot.yml:20:9") and
 * `text` in its message? */
static int warning_is(const parley_bot *bot, size_t i, const char *pos, const char *text)
{
    const char *w = parley_bot_warning(bot, i);
    if (w && strstr(w, pos) && strstr(w, ": warning: ") && strstr(w, text))
        return 1;
    print_error("warning %zu is '%s', wanted %s and '%s'\n", i, w ? w : "(none)", pos, text);
    return 0;
}

static void test_warnings(void **state)
{
    parley_bot *bot;
    (void)state;
    bot = load_fixture("warn_disclosure");
    assert_int_equal(parley_bot_warning_count(bot), 3);
    /* Sorted by position; 'tell' shows its facts in the order of the
     * languages' texts. */
    assert_true(warning_is(bot, 0, "warn_disclosure/bot.yml:20:9",
                           "step 'tell' of flow 'balance' would show account fact "
                           "'first_balance' before identity is verified"));
    assert_true(warning_is(bot, 1, "bot.yml:20:9", "account fact 'balance_due'"));
    assert_true(warning_is(bot, 2, "bot.yml:23:9",
                           "step 'bye' of flow 'balance' would show "
                           "sensitive fact 'full_name'"));
    assert_null(parley_bot_warning(bot, 3));
    parley_bot_free(bot);

    bot = load_fixture("warn_write");
    assert_int_equal(parley_bot_warning_count(bot), 2);
    assert_true(warning_is(bot, 0, "bot.yml:19:9",
                           "calls 'pay', which changes the account, without a confirm step"));
    assert_true(warning_is(bot, 1, "bot.yml:25:9",
                           "flow 'quick' calls 'pay', which changes "
                           "the account, before identity is verified"));
    parley_bot_free(bot);

    bot = load_fixture("trust_ok");
    assert_int_equal(parley_bot_warning_count(bot), 0);
    parley_bot_free(bot);
    bot = load_fixture("ok");
    assert_int_equal(parley_bot_warning_count(bot), 0);
    parley_bot_free(bot);
    assert_int_equal(parley_bot_warning_count(NULL), 0);
    assert_null(parley_bot_warning(NULL, 0));
}

/* Loads fixture `name`, expects failure, and finds a problem whose file
 * ends in `file`, at `line`:`col`, whose message contains `text`. Returns
 * the number of problems. */
static size_t expect_problem(const char *name, const char *file, unsigned long line,
                             unsigned long col, const char *text)
{
    char rel[256], dir[1024];
    parley_bot *bot = NULL;
    parley_bot_report *rep = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    size_t n, found = 0;
    (void)snprintf(rel, sizeof(rel), "tests/fixtures/bots/%s", name);
    path_of(dir, sizeof(dir), rel);
    assert_int_equal(parley_bot_load(dir, &bot, &rep, &e), PARLEY_ERR_FORMAT);
    assert_null(bot);
    assert_non_null(rep);
    assert_non_null(strstr(e.msg, "problem"));
    n = parley_bot_report_count(rep);
    for (size_t i = 0; i < n; i++) {
        const parley_bot_problem *p = parley_bot_report_problem(rep, i);
        size_t fl = strlen(p->file), wl = strlen(file);
        if (fl >= wl && strcmp(p->file + fl - wl, file) == 0 && p->line == line &&
            p->column == col && strstr(p->message, text))
            found = 1;
    }
    if (!found) {
        for (size_t i = 0; i < n; i++) {
            const parley_bot_problem *p = parley_bot_report_problem(rep, i);
            print_error("%s:%lu:%lu: %s\n", p->file, p->line, p->column, p->message);
        }
        fail_msg("%s: no problem %s:%lu:%lu containing '%s'", name, file, line, col, text);
    }
    assert_null(parley_bot_report_problem(rep, n));
    parley_bot_report_free(rep);
    return n;
}

static void test_ok_fixture(void **state)
{
    char dir[1024];
    parley_bot *bot = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    path_of(dir, sizeof(dir), "tests/fixtures/bots/ok/"); /* trailing slash is fine */
    assert_int_equal(parley_bot_load(dir, &bot, NULL, &e), PARLEY_OK);
    assert_string_equal(parley_bot_flow_name(bot, 0), "refuel");
    assert_int_equal(parley_bot_flow_step_count(bot, 0), 7);
    assert_string_equal(parley_bot_nlu_file(bot, "en") + strlen(dir), "nlu/en.yml");
    parley_bot_free(bot);
}

static void test_unknown_intent(void **state)
{
    (void)state;
    assert_int_equal(
        expect_problem("unknown_intent", "bot.yml", 16, 13, "serves unknown intent 'refuel'"), 1);
}

static void test_unknown_step(void **state)
{
    (void)state;
    (void)expect_problem("unknown_step", "bot.yml", 21, 55, "unknown step 'aply'");
}

static void test_missing_language(void **state)
{
    (void)state;
    assert_int_equal(expect_problem("missing_language", "bot.yml", 27, 3,
                                    "response 'quote' has no text in 'fr'"),
                     1);
}

static void test_bad_placeholder(void **state)
{
    (void)state;
    assert_int_equal(expect_problem("bad_placeholder", "bot.yml", 28, 14, "placeholder '{charge}'"),
                     1);
}

static void test_unknown_operation(void **state)
{
    (void)state;
    (void)expect_problem("unknown_operation", "bot.yml", 13, 23,
                         "connector 'sim' has no operation 'refuel_dat'");
}

static void test_unreachable(void **state)
{
    (void)state;
    assert_int_equal(expect_problem("unreachable", "bot.yml", 23, 9,
                                    "step 'done' in flow 'refuel' is unreachable"),
                     1);
}

static void test_no_nlu_file(void **state)
{
    (void)state;
    assert_int_equal(
        expect_problem("no_nlu_file", "bot.yml", 4, 17, "language 'fr' has no nlu file"), 1);
}

static void test_yaml_error(void **state)
{
    (void)state;
    assert_int_equal(expect_problem("yaml_error", "bot.yml", 5, 8, "invalid yaml"), 1);
}

static void test_unknown_keys_all_reported(void **state)
{
    (void)state;
    (void)expect_problem("unknown_key", "bot.yml", 7, 1, "unknown key 'intens'");
    /* The second one, deep in a step, is in the same report. */
    assert_true(expect_problem("unknown_key", "bot.yml", 24, 31, "unknown key 'sayy'") >= 2);
    /* Examples of intents bot.yml does not declare are flagged in the nlu file. */
    (void)expect_problem("unknown_key", "nlu/en.yml", 5, 1, "intent 'greet' has examples");
}

static void test_duplicate_step(void **state)
{
    (void)state;
    (void)expect_problem("duplicate_step", "bot.yml", 23, 14, "duplicate step id 'apply'");
}

static void test_missing_dir(void **state)
{
    parley_bot *bot = NULL;
    parley_bot_report *rep = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    assert_int_equal(parley_bot_load("/nonexistent/bot", &bot, &rep, &e), PARLEY_ERR_IO);
    assert_null(bot);
    assert_int_equal(parley_bot_report_count(rep), 1);
    assert_non_null(strstr(e.msg, "/nonexistent/bot"));
    parley_bot_report_free(rep);
    assert_int_equal(parley_bot_load(NULL, &bot, NULL, &e), PARLEY_ERR_INVALID);
    parley_bot_free(NULL);
    parley_bot_report_free(NULL);
    assert_null(parley_bot_name(NULL));
}

static void test_bad_pick(void **state)
{
    (void)state;
    assert_int_equal(
        expect_problem("bad_pick", "bot.yml", 25, 39, "fact 'plan_names' is not provided"), 1);
}

static void test_no_identity(void **state)
{
    (void)state;
    assert_int_equal(expect_problem("no_identity", "bot.yml", 2, 1, "no 'identity' section"), 1);
}

static void test_no_fallback(void **state)
{
    (void)state;
    assert_int_equal(expect_problem("no_fallback", "bot.yml", 2, 1, "missing response 'fallback'"),
                     1);
}

static void test_runtime_model(void **state)
{
    char dir[1024];
    parley_bot *bot = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const parley_bot_flow *f;
    (void)state;
    path_of(dir, sizeof(dir), "tests/fixtures/bots/ok");
    assert_int_equal(parley_bot_load(dir, &bot, NULL, &e), PARLEY_OK);
    f = parley_bot_flow_for(bot, "refuel_data");
    assert_non_null(f);
    assert_int_equal(f->n_steps, 7);
    assert_int_equal(f->steps[0].type, PARLEY_STEP_VERIFY);
    assert_int_equal(f->steps[0].next, 1);
    assert_int_equal(f->steps[3].type, PARLEY_STEP_CONFIRM);
    assert_int_equal(f->steps[3].yes, 4);
    assert_int_equal(f->steps[3].no, 6);
    assert_int_equal(f->steps[6].next, -1);
    assert_string_equal(parley_bot_find_slot(bot, "amount")->entity, "data_amount");
    assert_true(parley_bot_find_slot(bot, "amount")->unit_gb);
    assert_string_equal(parley_bot_find_action(bot, "refuel")->operation, "refuel_data");
    assert_string_equal(parley_bot_response(bot, "quote", "fr"), "Ajouter {amount} Go ?");
    assert_null(parley_bot_response(bot, "quote", "de"));
    assert_string_equal(parley_bot_identity_ops(bot)->by_phone, "find_customer_by_phone");
    assert_int_equal(parley_bot_connector_count(bot), 1);
    parley_bot_free(bot);
}

/* The carrier declares telco-sim's event types; a bot without an events
 * section has none; the broken fixture's problems are each reported. */
static void test_event_types(void **state)
{
    char dir[1024];
    parley_bot *bot = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    const parley_bot_event_type *t;
    const parley_bot_event_field *f;
    size_t n = 99;
    (void)state;
    path_of(dir, sizeof(dir), "bots/carrier");
    assert_int_equal(parley_bot_load(dir, &bot, NULL, &e), PARLEY_OK);
    assert_int_equal(parley_bot_event_type_count(bot), 9);
    assert_non_null(parley_bot_event_types(bot, &n));
    assert_int_equal(n, 9);
    assert_string_equal(parley_bot_event_type_at(bot, 0)->name, "usage_80");
    assert_null(parley_bot_event_type_at(bot, 9));
    t = parley_bot_find_event_type(bot, "outage_opened");
    assert_non_null(t);
    f = parley_bot_find_event_field(t, "cities");
    assert_non_null(f);
    assert_int_equal(f->kind, PARLEY_FIELD_LIST);
    assert_false(f->optional);
    f = parley_bot_find_event_field(t, "expected_end");
    assert_int_equal(f->kind, PARLEY_FIELD_STRING);
    assert_true(f->optional);
    assert_null(parley_bot_find_event_field(t, "id"));
    t = parley_bot_find_event_type(bot, "roaming_detected");
    assert_int_equal(parley_bot_find_event_field(t, "roaming_enabled")->kind, PARLEY_FIELD_BOOLEAN);
    t = parley_bot_find_event_type(bot, "usage_90");
    assert_string_equal(t->fields[0].name, "line_id");
    assert_int_equal(parley_bot_find_event_field(t, "percent_used")->kind, PARLEY_FIELD_NUMBER);
    assert_null(parley_bot_find_event_type(bot, "usage_95"));
    assert_null(parley_bot_find_event_type(bot, NULL));
    assert_string_equal(parley_bot_field_kind_name(PARLEY_FIELD_BOOLEAN), "boolean");
    parley_bot_free(bot);

    bot = load_fixture("ok");
    assert_int_equal(parley_bot_event_type_count(bot), 0);
    assert_null(parley_bot_event_types(bot, &n));
    assert_int_equal(n, 0);
    parley_bot_free(bot);
    assert_int_equal(parley_bot_event_type_count(NULL), 0);

    assert_int_equal(expect_problem("bad_events", "bot.yml", 49, 3, "bad event type name"), 6);
    (void)expect_problem("bad_events", "bot.yml", 50, 27, "unknown kind 'lists'");
    (void)expect_problem("bad_events", "bot.yml", 51, 3, "duplicate event type 'usage_90'");
    (void)expect_problem("bad_events", "bot.yml", 52, 20, "field 'id' of event type");
    (void)expect_problem("bad_events", "bot.yml", 53, 39, "duplicate field 'line_id'");
    (void)expect_problem("bad_events", "bot.yml", 54, 19, "must be a mapping");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_carrier_is_clean),
        cmocka_unit_test(test_ok_fixture),
        cmocka_unit_test(test_connect_def_accessors),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_unknown_intent),
        cmocka_unit_test(test_bad_pick),
        cmocka_unit_test(test_no_identity),
        cmocka_unit_test(test_no_fallback),
        cmocka_unit_test(test_runtime_model),
        cmocka_unit_test(test_unknown_step),
        cmocka_unit_test(test_missing_language),
        cmocka_unit_test(test_bad_placeholder),
        cmocka_unit_test(test_unknown_operation),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_no_nlu_file),
        cmocka_unit_test(test_yaml_error),
        cmocka_unit_test(test_unknown_keys_all_reported),
        cmocka_unit_test(test_duplicate_step),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_event_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
