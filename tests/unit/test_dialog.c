/* Unit tests of the conversation engine (src/lib/dialog) that need no
 * backend: opening errors, a conversation that survives closing and
 * reopening the engine mid-flow, what the transcript keeps (redacted), a
 * backend that cannot be reached, bad input, and reply JSON. End-to-end
 * behaviour against telco-sim is in tests/conversations (parley test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "parley/dialog.h"

static char tmpdir[64], models[128], bot[1024];

static int setup(void **state)
{
    const char *src = getenv("PARLEY_SOURCE_DIR"), *build = getenv("PARLEY_BUILD_DIR");
    char cmd[4096];
    (void)state;
    if (!src || !build)
        return -1;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-dialog-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    (void)snprintf(models, sizeof(models), "%s/models", tmpdir);
    (void)snprintf(bot, sizeof(bot), "%s/bots/carrier", src);
    (void)snprintf(cmd, sizeof(cmd), "'%s/parley' bot train '%s' --out '%s' -q", build, bot,
                   models);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[256];
    (void)state;
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static parley_dialog *open_engine(const char *store)
{
    parley_dialog_options o = {0};
    parley_dialog *d = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    o.bot_dir = bot;
    o.models_dir = models;
    o.store_url = store;
    o.backend_url = "http://127.0.0.1:9"; /* nothing listens there */
    if (parley_dialog_open(&o, &d, &e) != PARLEY_OK)
        fail_msg("open: %s", e.msg);
    return d;
}

static parley_dialog_reply *say(parley_dialog *d, const char *id, const char *text)
{
    parley_dialog_reply *r = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_dialog_turn(d, id, text, strlen(text), 0, &r, &e) != PARLEY_OK)
        fail_msg("turn '%s': %s", text, e.msg);
    return r;
}

static int collect(const parley_store_turn *t, void *ud)
{
    char *all = ud;
    size_t n = strlen(all);
    (void)snprintf(all + n, 4096 - n, "%s|", t->text);
    return 0;
}

static void test_open_errors(void **state)
{
    parley_dialog_options o = {0};
    parley_dialog *d = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    assert_int_equal(parley_dialog_open(&o, &d, &e), PARLEY_ERR_INVALID);
    o.bot_dir = bot;
    o.models_dir = "/nonexistent/models";
    assert_int_not_equal(parley_dialog_open(&o, &d, &e), PARLEY_OK);
    assert_non_null(strstr(e.msg, "parley bot train"));
    assert_null(d);
    o.models_dir = models;
    o.backend_url = "not a url";
    assert_int_equal(parley_dialog_open(&o, &d, &e), PARLEY_ERR_INVALID);
    assert_null(d);
}

static void test_survives_restart(void **state)
{
    char store[256], id[PARLEY_STORE_ID_SIZE], all[4096] = "";
    parley_dialog *d;
    parley_dialog_reply *r;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    (void)snprintf(store, sizeof(store), "%s/conv.db", tmpdir);
    d = open_engine(store);
    assert_int_equal(parley_dialog_start(d, "test", id, &e), PARLEY_OK);
    r = say(d, id, "I want to add some data please");
    assert_string_equal(r->intent, "refuel_data");
    assert_string_equal(r->flow, "refuel_data");
    assert_string_equal(r->step, "verify");
    assert_int_equal(r->n_actions, 0);
    parley_dialog_reply_free(r);
    parley_dialog_close(d);

    /* A new process would see the same: the flow goes on at its step. A
     * phone number alone starts nothing; here it answers the identity
     * question, and the unreachable backend hands off. */
    d = open_engine(store);
    r = say(d, id, "555-123-2002");
    assert_int_equal(r->n_actions, 1);
    assert_string_equal(r->actions[0].name, "identity.lookup");
    assert_string_not_equal(r->actions[0].status, "ok");
    assert_int_equal(r->handoff, 1);
    assert_non_null(strstr(r->summary, "refuel_data"));
    parley_dialog_reply_free(r);
    assert_int_equal(parley_store_turns_list(parley_dialog_store(d), id, collect, all, &e),
                     PARLEY_OK);
    /* Four turns; the number is not kept in clear. */
    assert_non_null(strstr(all, "[PHONE]"));
    assert_null(strstr(all, "555-123-2002"));
    assert_null(strstr(all, "2002"));
    parley_dialog_close(d);
}

static void test_language_follows_customer(void **state)
{
    char id[PARLEY_STORE_ID_SIZE];
    parley_dialog *d = open_engine(NULL);
    parley_dialog_reply *r;
    parley_error e = PARLEY_ERROR_INIT;
    (void)state;
    assert_int_equal(parley_dialog_start(d, "test", id, &e), PARLEY_OK);
    r = say(d, id, "bonjour, je voudrais recharger des données");
    assert_string_equal(r->language, "fr");
    assert_string_equal(r->intent, "refuel_data");
    parley_dialog_reply_free(r);
    r = say(d, id, "hola, quiero pagar mi factura");
    assert_string_equal(r->language, "es");
    parley_dialog_reply_free(r);
    r = say(d, id, "ok"); /* too short to tell: stays Spanish */
    assert_string_equal(r->language, "es");
    parley_dialog_reply_free(r);
    parley_dialog_close(d);
}

static void test_bad_input(void **state)
{
    char id[PARLEY_STORE_ID_SIZE], big[PARLEY_DIALOG_MAX_MESSAGE + 2];
    parley_dialog *d = open_engine(NULL);
    parley_dialog_reply *r = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char *json;
    (void)state;
    assert_int_equal(parley_dialog_start(d, "test", id, &e), PARLEY_OK);
    assert_int_equal(parley_dialog_turn(d, id, "\xff\xfe", 2, 0, &r, &e), PARLEY_ERR_UTF8);
    memset(big, 'a', sizeof(big));
    assert_int_equal(parley_dialog_turn(d, id, big, sizeof(big), 0, &r, &e), PARLEY_ERR_LIMIT);
    assert_int_equal(parley_dialog_turn(d, "nope", "hi", 2, 0, &r, &e), PARLEY_ERR_NOTFOUND);
    assert_null(r);
    r = say(d, id, "");
    json = parley_dialog_reply_json(r);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"text\""));
    free(json);
    parley_dialog_reply_free(r);
    parley_dialog_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_survives_restart),
        cmocka_unit_test(test_language_follows_customer),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
