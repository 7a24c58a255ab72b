/* Private declarations shared by the entity extractor's files: the token
 * stream it scans and the matcher passes (entities.c drives them, the
 * number-shaped ones live in entities_parse.c). */
#ifndef PARLEY_NLU_ENTITIES_INTERNAL_H
#define PARLEY_NLU_ENTITIES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "parley/nlu.h"

enum ent_tok_kind { ENT_WORD, ENT_NUM, ENT_PUNCT };

/* Languages, as parsed from the `lang` argument. */
enum ent_lang { ENT_ANY = 0, ENT_EN, ENT_FR, ENT_ES, ENT_DE };

/* One token of the raw text: a run of letters, a run of ASCII digits, or
 * one other character. Whitespace separates tokens and is dropped. */
struct ent_tok {
    size_t start, end;
    enum ent_tok_kind kind;
    unsigned cp; /* PUNCT: its code point */
    char f[32];  /* WORD: folded (lowercase, accents dropped), NUM: digits; truncated */
    size_t flen; /* length of f */
    size_t ndig; /* NUM: number of digits (may exceed flen) */
    bool used;   /* claimed by an entity */
};

struct ent_ctx {
    const char *s;
    size_t n;
    struct ent_tok *t;
    size_t nt;
    enum ent_lang lang;
    const parley_entity_lexicon *lex;
    parley_entity *found;
    size_t nfound, capfound;
};

/* Word token i equals `w`. */
bool parley__ent_is(const struct ent_ctx *c, size_t i, const char *w);
/* Punctuation token i is code point `cp`. */
bool parley__ent_punct(const struct ent_ctx *c, size_t i, unsigned cp);
/* Token i starts right where token i-1 ends. */
bool parley__ent_adjacent(const struct ent_ctx *c, size_t i);
/* Records an entity over tokens [from, to) and claims them. */
void parley__ent_emit(struct ent_ctx *c, parley_entity_kind kind, size_t from, size_t to,
                      const char *value, double number);
/* Tokens [from, to) are all unclaimed and inside the stream. */
bool parley__ent_free_span(const struct ent_ctx *c, size_t from, size_t to);

/* Matcher passes, in the order they run (earlier ones win overlaps). */
void parley__ent_dates(struct ent_ctx *c);
void parley__ent_phones(struct ent_ctx *c);
void parley__ent_money(struct ent_ctx *c);
void parley__ent_data(struct ent_ctx *c);

#endif
