/* libFuzzer target for entity extraction: any bytes, in every language
 * setting, against a small lexicon, with the output invariants checked
 * (spans inside the input, in order, not overlapping; values terminated;
 * a count independent of the output size; UTF-8 errors exactly when the
 * text layer says the input is invalid). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/nlu.h"
#include "parley/text.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (void)fprintf(stderr, "fuzz_entities: invariant failed at line %d: %s\n", __LINE__,    \
                          #cond);                                                                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static parley_entity_lexicon *lexicon(void)
{
    static parley_entity_lexicon *lex;
    static const char *const plans[] = {"Premium Plan", "Unlimited Plus", "Forfait Essentiel",
                                        "Basic"};
    static const char *const cities[] = {"New York", "Zürich", "Saint-Étienne", "Paris"};

    if (lex)
        return lex;
    CHECK(parley_entity_lexicon_new(&lex, NULL) == PARLEY_OK);
    for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++)
        CHECK(parley_entity_lexicon_add_plan(lex, NULL, plans[i], NULL) == PARLEY_OK);
    for (size_t i = 0; i < sizeof(cities) / sizeof(cities[0]); i++)
        CHECK(parley_entity_lexicon_add_city(lex, cities[i], NULL) == PARLEY_OK);
    return lex;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const langs[] = {NULL, "en", "fr", "es", "de"};
    static parley_entity out[PARLEY_ENTITY_MAX_TEXT];
    const char *in = (const char *)data;
    int valid = parley_text_validate(in, size, NULL, NULL) == PARLEY_OK;

    for (size_t l = 0; l < sizeof(langs) / sizeof(langs[0]); l++) {
        parley_error e = PARLEY_ERROR_INIT;
        parley_entity one[1];
        size_t count = 7, count2 = 0;
        parley_err rc = parley_nlu_entities(in, size, langs[l], lexicon(), out,
                                            PARLEY_ENTITY_MAX_TEXT, &count, &e);

        if (size > PARLEY_ENTITY_MAX_TEXT) {
            CHECK(rc == PARLEY_ERR_LIMIT && count == 7);
            continue;
        }
        if (!valid) {
            CHECK(rc == PARLEY_ERR_UTF8 && count == 7 && strstr(e.msg, "byte") != NULL);
            continue;
        }
        CHECK(rc == PARLEY_OK);
        CHECK(count <= size);
        for (size_t i = 0; i < count; i++) {
            const parley_entity *x = &out[i];
            CHECK(x->start < x->end && x->end <= size);
            CHECK(i == 0 || x->start >= out[i - 1].end);
            CHECK(memchr(x->value, '\0', sizeof(x->value)) != NULL && x->value[0] != '\0');
            CHECK((unsigned)x->kind <= PARLEY_ENTITY_CITY);
        }
        CHECK(parley_nlu_entities(in, size, langs[l], lexicon(), one, 1, &count2, NULL) ==
              PARLEY_OK);
        CHECK(count2 == count);
        CHECK(count == 0 || (one[0].kind == out[0].kind && one[0].start == out[0].start &&
                             one[0].end == out[0].end && strcmp(one[0].value, out[0].value) == 0));
    }
    return 0;
}
