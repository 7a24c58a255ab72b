/* Unit tests of the trust layer: levels, limits, and the decision with
 * consent grants counted atomically in the store. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parley/trust.h"

static const parley_bot_consent refuel = {"auto_refuel",
                                          PARLEY_LIMIT_GB_PER_MONTH |
                                              PARLEY_LIMIT_AMOUNT_PER_MONTH | PARLEY_LIMIT_CHANNELS,
                                          "refuel_data", NULL};
static const parley_bot_consent outreach = {
    "proactive_outreach", PARLEY_LIMIT_COUNT_PER_MONTH | PARLEY_LIMIT_QUIET_HOURS, NULL, NULL};

static void test_levels(void **state)
{
    (void)state;
    assert_string_equal(parley_trust_level_name(PARLEY_TRUST_STRONG), "strong");
    assert_int_equal(parley_trust_level_for(0), PARLEY_TRUST_ANONYMOUS);
    assert_int_equal(parley_trust_level_for(1), PARLEY_TRUST_VERIFIED);
    assert_int_equal(parley_trust_level_for(2), PARLEY_TRUST_STRONG);
}

static void test_limits_check(void **state)
{
    (void)state;
    char *norm = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    assert_int_equal(parley_trust_limits_check(&refuel, "{\"max_gb_per_month\": 2}", &norm, &e),
                     PARLEY_OK);
    assert_string_equal(norm, "{\"max_gb_per_month\":2}");
    parley_trust_free(norm);
    assert_int_equal(parley_trust_limits_check(&refuel, "{\"max_count_per_month\": 2}", &norm, &e),
                     PARLEY_ERR_INVALID);
    assert_non_null(strstr(e.msg, "max_count_per_month"));
    assert_int_equal(parley_trust_limits_check(&refuel, "{\"max_gb_per_month\": -1}", &norm, &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(parley_trust_limits_check(&refuel, "[1]", &norm, &e), PARLEY_ERR_INVALID);
    assert_int_equal(parley_trust_limits_check(&refuel, "{\"channels\": []}", &norm, &e),
                     PARLEY_ERR_INVALID);
    assert_int_equal(
        parley_trust_limits_check(&outreach, "{\"quiet_hours\": \"25-08\"}", &norm, &e),
        PARLEY_ERR_INVALID);
    assert_int_equal(
        parley_trust_limits_check(&outreach, "{\"quiet_hours\": \"22-08\"}", &norm, &e), PARLEY_OK);
    parley_trust_free(norm);
}

static void test_limits_allow(void **state)
{
    (void)state;
    char why[160];
    parley_store_consent g = {0};
    g.limits = "{\"max_gb_per_month\":2,\"channels\":[\"web\"]}";
    g.used_quantity = 1.5;
    assert_true(parley_trust_limits_allow(&g, 0.5, 0, "web", 12, why, sizeof(why)));
    assert_false(parley_trust_limits_allow(&g, 1, 0, "web", 12, why, sizeof(why)));
    assert_non_null(strstr(why, "2 GB"));
    assert_false(parley_trust_limits_allow(&g, 0.5, 0, "sms", 12, why, sizeof(why)));
    g.limits = "{\"quiet_hours\":\"22-08\"}";
    assert_false(parley_trust_limits_allow(&g, 0, 0, "sms", 23, why, sizeof(why)));
    assert_false(parley_trust_limits_allow(&g, 0, 0, "sms", 3, why, sizeof(why)));
    assert_true(parley_trust_limits_allow(&g, 0, 0, "sms", 12, why, sizeof(why)));
}

static parley_store *with_grant(const char *limits, char id[24])
{
    parley_store *s = NULL;
    parley_store_consent c = {0};
    assert_int_equal(parley_store_open(":memory:", &s, NULL), PARLEY_OK);
    c.customer_id = "C1001";
    c.scope = "auto_refuel";
    c.limits = limits;
    c.channel = "web";
    assert_int_equal(parley_store_consent_add(s, &c, id, NULL), PARLEY_OK);
    return s;
}

static void test_decide(void **state)
{
    (void)state;
    char id[24];
    parley_store *s = with_grant("{\"max_gb_per_month\":2}", id);
    parley_trust_decision d;
    parley_trust_request r = {0};

    r.action = "refuel_data";
    r.level = PARLEY_TRUST_IDENTIFIED;
    r.asked = 1;
    assert_int_equal(parley_trust_decide(s, &r, &d, NULL), PARLEY_OK);
    assert_int_equal(d.verdict, PARLEY_TRUST_DENY); /* not verified */
    r.level = PARLEY_TRUST_VERIFIED;
    r.needs_confirmation = 1;
    assert_int_equal(parley_trust_decide(s, &r, &d, NULL), PARLEY_OK);
    assert_int_equal(d.verdict, PARLEY_TRUST_CONFIRM);
    r.confirmed = 1;
    assert_int_equal(parley_trust_decide(s, &r, &d, NULL), PARLEY_OK);
    assert_int_equal(d.verdict, PARLEY_TRUST_ALLOW);

    /* Proactive: needs a covering grant, counted against its limit. */
    r.asked = 0;
    r.customer_id = "C1001";
    r.scope = "auto_refuel";
    r.quantity = 1.5;
    assert_int_equal(parley_trust_decide(s, &r, &d, NULL), PARLEY_OK);
    assert_int_equal(d.verdict, PARLEY_TRUST_ALLOW);
    assert_string_equal(d.grant_id, id);
    assert_true(d.remaining_gb > 0.49 && d.remaining_gb < 0.51);
    assert_int_equal(parley_trust_decide(s, &r, &d, NULL), PARLEY_OK);
    assert_int_equal(d.verdict, PARLEY_TRUST_DENY); /* 3 GB > 2 */
    r.scope = "auto_roaming";
    assert_int_equal(parley_trust_decide(s, &r, &d, NULL), PARLEY_OK);
    assert_int_equal(d.verdict, PARLEY_TRUST_DENY);
    /* Revoked: denied at once. */
    r.scope = "auto_refuel";
    r.quantity = 0.1;
    assert_int_equal(parley_store_consent_revoke(s, "C1001", id, NULL, NULL), PARLEY_OK);
    assert_int_equal(parley_trust_decide(s, &r, &d, NULL), PARLEY_OK);
    assert_int_equal(d.verdict, PARLEY_TRUST_DENY);
    parley_store_close(s);
}

struct race {
    parley_store *s;
    int allowed;
};

static void *race_one(void *arg)
{
    struct race *rc = arg;
    parley_trust_request r = {0};
    parley_trust_decision d;
    r.action = "refuel_data";
    r.level = PARLEY_TRUST_VERIFIED;
    r.customer_id = "C1001";
    r.scope = "auto_refuel";
    r.quantity = 1;
    if (parley_trust_decide(rc->s, &r, &d, NULL) == PARLEY_OK && d.verdict == PARLEY_TRUST_ALLOW)
        __atomic_add_fetch(&rc->allowed, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Eight concurrent proactive refuels of 1 GB against a 2 GB grant: two
 * pass, never more. */
static void test_concurrent_uses(void **state)
{
    (void)state;
    char id[24];
    struct race rc = {with_grant("{\"max_gb_per_month\":2}", id), 0};
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_one, &rc), 0);
    for (int i = 0; i < 8; i++)
        (void)pthread_join(th[i], NULL);
    assert_int_equal(rc.allowed, 2);
    parley_store_close(rc.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),          cmocka_unit_test(test_limits_check),
        cmocka_unit_test(test_limits_allow),    cmocka_unit_test(test_decide),
        cmocka_unit_test(test_concurrent_uses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
