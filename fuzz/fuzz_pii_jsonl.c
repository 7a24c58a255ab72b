/* libFuzzer target for JSON-lines redaction: any bytes as one line, under
 * each operator, with the invariants checked (a result is one JSON object
 * again, with the same member names at the top; a refusal is a format
 * error for input that is not an object; the same input gives the same
 * output with a keyed hash). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/pii.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (void)fprintf(stderr, "fuzz_pii_jsonl: invariant failed at line %d: %s\n", __LINE__,   \
                          #cond);                                                                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Same member names in the same order at the top level. */
static int same_keys(json_t *a, json_t *b)
{
    void *ia = json_object_iter(a), *ib = json_object_iter(b);
    for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib))
        if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0)
            return 0;
    return !ia && !ib;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static parley_pii *p;
    static parley_pii_scratch *s;
    static const uint8_t key[PARLEY_PII_KEY_SIZE] = {42};
    static const char *const fields[] = {"text", "turns.*.text", "a.b.c", "*", "x.0", "*.*"};
    static const parley_pii_operator ops[] = {PARLEY_PII_OP_REDACT, PARLEY_PII_OP_MASK,
                                              PARLEY_PII_OP_HASH, PARLEY_PII_OP_KEEP};
    parley_error e = PARLEY_ERROR_INIT;

    if (!p) {
        CHECK(parley_pii_create(NULL, &p, &e) == PARLEY_OK);
        CHECK(parley_pii_scratch_create(p, &s, &e) == PARLEY_OK);
    }
    json_t *in = json_loadb((const char *)data, size, 0, NULL);
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        parley_pii_policy pol;
        char *out = NULL, *again = NULL;
        size_t len = 0, len2 = 0;
        parley_pii_policy_redact_all(&pol);
        for (int t = 0; t < PARLEY_PII_N_TYPES; t++)
            pol.op[t] = ops[o];
        pol.hash_key = key;
        parley_err rc =
            parley_pii_redact_json(p, s, &pol, (const char *)data, size, fields,
                                   sizeof(fields) / sizeof(fields[0]), NULL, NULL, &out, &len, &e);
        if (rc != PARLEY_OK) {
            CHECK(out == NULL);
            CHECK(rc == PARLEY_ERR_FORMAT || rc == PARLEY_ERR_LIMIT);
            CHECK(rc != PARLEY_ERR_FORMAT || !json_is_object(in));
            continue;
        }
        CHECK(json_is_object(in));
        CHECK(out && strlen(out) == len);
        json_t *back = json_loadb(out, len, 0, NULL);
        CHECK(json_is_object(back));
        CHECK(same_keys(in, back));
        if (ops[o] == PARLEY_PII_OP_KEEP)
            CHECK(json_equal(in, back));
        CHECK(parley_pii_redact_json(p, s, &pol, (const char *)data, size, fields,
                                     sizeof(fields) / sizeof(fields[0]), NULL, NULL, &again, &len2,
                                     &e) == PARLEY_OK);
        CHECK(len == len2 && memcmp(out, again, len) == 0);
        json_decref(back);
        parley_pii_free(out);
        parley_pii_free(again);
    }
    json_decref(in);
    return 0;
}
