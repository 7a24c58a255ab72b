/* The connector against the real telco-sim on a loopback ephemeral port:
 * the carrier connector definition's operations, refusals classified with
 * the backend's reason, and the exactly-once bar: thousands of mixed
 * writes under 30% injected errors and dropped responses leave the
 * backend in exactly the state the successful operations imply. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "parley/connect.h"

static pid_t sim_pid = -1;
static char base_url[64];
static parley_connect_def *def;
static parley_connector *conn;

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* Starts telco-sim with a throwaway database and reads its port. */
static int start_sim(void **state)
{
    (void)state;
    char bin[2048], seed[2048], line[256];
    int fds[2];
    const char *build = env_or("PARLEY_BUILD_DIR", ".");
    const char *src = env_or("PARLEY_SOURCE_DIR", ".");
    char defaults[1024];

    (void)snprintf(defaults, sizeof(defaults), "%s/../shared/datasets", src);
    (void)snprintf(bin, sizeof(bin), "%s/tools/telco-sim/telco-sim", build);
    (void)snprintf(seed, sizeof(seed), "%s/tau2-telecom/db.toml",
                   env_or("PARLEY_DATASETS", defaults));
    if (access(seed, R_OK) != 0) {
        fprintf(stderr, "telco-sim seed '%s' not found (set PARLEY_DATASETS)\n", seed);
        return -1;
    }
    if (pipe(fds) != 0)
        return -1;
    sim_pid = fork();
    if (sim_pid == 0) {
        (void)dup2(fds[1], STDOUT_FILENO);
        (void)close(fds[0]);
        (void)close(fds[1]);
        execl(bin, bin, "--port", "0", "--db", ":memory:", "--seed", seed, (char *)NULL);
        _exit(127);
    }
    (void)close(fds[1]);
    FILE *out = fdopen(fds[0], "r");
    if (!out || !fgets(line, sizeof(line), out)) {
        fprintf(stderr, "telco-sim did not start ('%s')\n", bin);
        return -1;
    }
    /* Keep reading nothing more; the pipe stays open until the end. */
    const char *at = strstr(line, "http://127.0.0.1:");
    if (!at)
        return -1;
    (void)snprintf(base_url, sizeof(base_url), "%.40s", at);
    base_url[strcspn(base_url, "\r\n")] = '\0';

    /* The reference definition, pointed at this server, with fast retries
     * and a short breaker cool-down so the soak spends its time working. */
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/bots/carrier/connectors/telco-sim.yml", src);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static char yml[65536], patched[70000];
    size_t n = fread(yml, 1, sizeof(yml) - 1, f);
    (void)fclose(f);
    yml[n] = '\0';
    const struct {
        const char *from, *to;
    } subst[] = {
        {"http://127.0.0.1:8089", base_url},        {"max_attempts: 3", "max_attempts: 10"},
        {"base_delay_ms: 200", "base_delay_ms: 1"}, {"max_delay_ms: 2000", "max_delay_ms: 4"},
        {"cooldown_ms: 30000", "cooldown_ms: 5"},
    };
    for (size_t i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
        char *hit = strstr(yml, subst[i].from);
        if (!hit)
            return -1;
        size_t pre = (size_t)(hit - yml);
        (void)snprintf(patched, sizeof(patched), "%.*s%s%s", (int)pre, yml, subst[i].to,
                       hit + strlen(subst[i].from));
        memcpy(yml, patched, strlen(patched) + 1);
    }
    parley_error err = PARLEY_ERROR_INIT;
    if (parley_connect_def_load_memory("telco-sim.yml", yml, strlen(yml), &def, &err) !=
            PARLEY_OK ||
        parley_connector_new(def, &conn, &err) != PARLEY_OK) {
        fprintf(stderr, "connector: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int stop_sim(void **state)
{
    (void)state;
    int status = 0;
    parley_connector_free(conn);
    parley_connect_def_free(def);
    if (sim_pid > 0) {
        (void)kill(sim_pid, SIGTERM);
        (void)waitpid(sim_pid, &status, 0);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Sends a raw request to the simulation endpoints (not part of the
 * connector's contract). */
static void sim_request(const char *method, const char *path, const char *body)
{
    char url[256];
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    assert_non_null(h);
    (void)snprintf(url, sizeof(url), "%s%s", base_url, path);
    (void)curl_easy_setopt(h, CURLOPT_URL, url);
    (void)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (body)
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *null = fopen("/dev/null", "w");
    (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, null);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_true(status >= 200 && status < 300);
    (void)fclose(null);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
}

static parley_connect_result *call(const char *op, const char *key, ...)
{
    parley_connect_param p[8];
    size_t n = 0;
    va_list ap;
    va_start(ap, key);
    for (const char *name; (name = va_arg(ap, const char *)) != NULL && n < 8; n++) {
        p[n].name = name;
        p[n].value = va_arg(ap, const char *);
    }
    va_end(ap);
    parley_connect_result *r = NULL;
    parley_error err = PARLEY_ERROR_INIT;
    if (parley_connect_call_keyed(conn, op, p, n, key, &r, &err) != PARLEY_OK)
        fail_msg("call %s: %s", op, err.msg);
    return r;
}

static const parley_connect_fact *fact(const parley_connect_result *r, const char *name)
{
    const parley_connect_fact *f = parley_connect_result_find(r, name);
    if (!f || !f->present)
        fail_msg("fact '%s' missing", name);
    return f;
}

static void test_operations(void **state)
{
    (void)state;
    parley_connect_result *r = call("health", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
    parley_connect_result_free(r);

    r = call("get_line", NULL, "line_id", "L1001", NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
    assert_string_equal(fact(r, "status")->text, "active");
    assert_int_equal(fact(r, "phone_number")->sensitivity, PARLEY_CONNECT_SENSITIVE);
    parley_connect_result_free(r);

    r = call("list_plans", NULL, NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
    assert_int_equal(fact(r, "plan_ids")->is_list, 1);
    parley_connect_result_free(r);

    /* A policy refusal comes back classified, with the backend's reason. */
    r = call("refuel_data", NULL, "line_id", "L1001", "gb", "5", NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_REJECTED);
    assert_string_equal(parley_connect_result_backend_code(r), "refuel_too_large");
    parley_connect_result_free(r);

    r = call("get_line", NULL, "line_id", "L9999", NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_REJECTED);
    assert_int_equal(parley_connect_result_http_status(r), 404);
    parley_connect_result_free(r);
}

/* Repeats one write with one key until the backend gives a definite answer:
 * the backend deduplicates on the key, so it applies at most once. */
static parley_connect_code write_once(const char *op, const char *key, const char *k1,
                                      const char *v1, const char *k2, const char *v2,
                                      unsigned *attempts)
{
    for (int tries = 0; tries < 200; tries++) {
        parley_connect_result *r = call(op, key, k1, v1, k2, v2, NULL);
        parley_connect_code code = parley_connect_result_code(r);
        *attempts += parley_connect_result_attempts(r);
        parley_connect_result_free(r);
        if (code == PARLEY_CONNECT_OK || code == PARLEY_CONNECT_REJECTED)
            return code;
        if (code == PARLEY_CONNECT_CIRCUIT_OPEN)
            (void)usleep(6000);
    }
    fail_msg("'%s' never got a definite answer", op);
    return PARLEY_CONNECT_UNAVAILABLE;
}

static void test_exactly_once_under_faults(void **state)
{
    (void)state;
    long ops = strtol(env_or("PARLEY_SOAK_OPS", "10000"), NULL, 10);
    unsigned attempts = 0;
    long refuels = 0;
    int roaming = -1;
    const char *plan = NULL;
    char key[40];

    parley_connect_result *r = call("get_line", NULL, "line_id", "L1001", NULL);
    double refuel_gb = fact(r, "data_refueling_gb")->number;
    parley_connect_result_free(r);

    /* 15% of requests fail before the write; of the rest 18% are applied
     * and then dropped without a response: 30.3% faulty in all. */
    sim_request("POST", "/sim/faults", "{\"route\":\"*\",\"error_rate\":0.15,\"drop_rate\":0.18}");
    for (long i = 0; i < ops; i++) {
        (void)snprintf(key, sizeof(key), "soak-%08ld", i);
        switch (i % 4) {
        case 0:
        case 1:
            if (write_once("refuel_data", key, "line_id", "L1001", "gb", "0.25", &attempts) ==
                PARLEY_CONNECT_OK)
                refuels++;
            break;
        case 2: {
            const char *on = (i / 4) % 2 ? "true" : "false";
            if (write_once("set_roaming", key, "line_id", "L1002", "enabled", on, &attempts) ==
                PARLEY_CONNECT_OK)
                roaming = on[0] == 't';
            break;
        }
        default: {
            const char *p = (i / 4) % 2 ? "P1002" : "P1003";
            if (write_once("change_plan", key, "line_id", "L1004", "plan_id", p, &attempts) ==
                PARLEY_CONNECT_OK)
                plan = p;
            break;
        }
        }
    }
    sim_request("DELETE", "/sim/faults", NULL);

    /* Faults really happened: many calls needed more than one attempt. */
    assert_true(attempts > (unsigned)ops + (unsigned)ops / 5);
    r = call("get_line", NULL, "line_id", "L1001", NULL);
    assert_int_equal(parley_connect_result_code(r), PARLEY_CONNECT_OK);
    /* Quarter-gigabyte steps are exact in binary: equality is exact. */
    double want = refuel_gb + 0.25 * (double)refuels;
    if (fact(r, "data_refueling_gb")->number != want)
        fail_msg("refuelled %.2f GB, successful calls imply %.2f GB (%ld refuels)",
                 fact(r, "data_refueling_gb")->number, want, refuels);
    parley_connect_result_free(r);
    if (roaming >= 0) {
        r = call("get_line", NULL, "line_id", "L1002", NULL);
        assert_int_equal(fact(r, "roaming_enabled")->boolean, roaming);
        parley_connect_result_free(r);
    }
    if (plan) {
        r = call("get_line", NULL, "line_id", "L1004", NULL);
        assert_string_equal(fact(r, "plan_id")->text, plan);
        parley_connect_result_free(r);
    }
    printf("soak: %ld operations, %u HTTP attempts, %ld refuels applied once each\n", ops, attempts,
           refuels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operations),
        cmocka_unit_test(test_exactly_once_under_faults),
    };
    return cmocka_run_group_tests(tests, start_sim, stop_sim);
}
