/* Private pieces of the learn pipeline shared by its files: the text keys
 * used to find duplicates, a hash map of 64-bit keys, a string table. */
#ifndef PARLEY_LEARN_PIPELINE_H
#define PARLEY_LEARN_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "parley/learn.h"

/* The two keys of a text. `exact`: the text case-folded with its white
 * space collapsed. `near`: its words, accents and punctuation set aside,
 * numbers as one digit, greetings and courtesy words dropped, each word
 * once and in sorted order, so "Hi, I want to pay my bill!!" and "i want
 * to pay my bill please" share it. */
typedef struct learn_keys {
    uint64_t exact, near;
    size_t words; /* content words counted for `near` */
} learn_keys;

parley_err learn_text_keys(const char *text, size_t len, learn_keys *out, parley_error *err);

/* 1 when the word `w[0..n)` (case-folded, accents stripped) is a greeting
 * or courtesy word ("hello", "merci", "bitte"...). */
int learn_is_courtesy(const char *w, size_t n);

/* 1 when `w[0..len)` is in `list[0..n)`, sorted by strcmp, of words
 * shorter than 16 bytes. */
int learn_word_listed(const char *const *list, size_t n, const char *w, size_t len);

/* Open-addressing map from a 64-bit key to two 32-bit values. Key 0 is
 * stored as 1 (keys are hashes; the collision is harmless). */
struct learn_map_slot {
    uint64_t key;
    uint32_t a, b;
};
struct learn_map {
    struct learn_map_slot *slots;
    size_t cap, len; /* cap a power of two */
};
/* The slot of `key`, inserted with a = b = 0 when `*added`; NULL when out
 * of memory. */
struct learn_map_slot *learn_map_put(struct learn_map *m, uint64_t key, int *added);
struct learn_map_slot *learn_map_get(const struct learn_map *m, uint64_t key);
void learn_map_release(struct learn_map *m);

/* Interned strings with dense ids, in order of first sight. */
struct learn_strings {
    char **v;
    size_t len, cap;
    struct learn_map index; /* hash -> id + 1 */
};
/* The id of `s` (interned if new); -1 when out of memory. */
long learn_strings_id(struct learn_strings *t, const char *s);
/* The id of `s`, or -1 when it was never interned. */
long learn_strings_find(const struct learn_strings *t, const char *s);
void learn_strings_release(struct learn_strings *t);

#endif
