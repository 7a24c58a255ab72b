/* Duplicate keys of a text for the learn pipeline, and the small hash map
 * and string table it counts with. */
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "learn/pipeline.h"
#include "parley/text.h"

/* Words that say nothing about why a customer writes, in the four
 * languages of the reference bot (accents already stripped). */
static const char *const courtesy[] = {
    "abend",  "afternoon", "bitte",   "bonjour", "bonsoir", "buenas", "buenos",  "danke",
    "dear",   "dias",      "evening", "favor",   "gracias", "guten",  "hallo",   "hello",
    "hey",    "hi",        "hola",    "madam",   "merci",   "moin",   "morning", "noches",
    "ok",     "okay",      "plait",   "please",  "pls",     "plz",    "porfa",   "salut",
    "servus", "sir",       "stp",     "svp",     "tardes",  "thank",  "thanks",  "thx",
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int learn_word_listed(const char *const *list, size_t n, const char *w, size_t len)
{
    char buf[16];
    const char *key = buf;
    if (len >= sizeof(buf))
        return 0;
    memcpy(buf, w, len);
    buf[len] = '\0';
    return bsearch(&key, list, n, sizeof(*list), cmp_str) != NULL;
}

int learn_is_courtesy(const char *w, size_t n)
{
    return learn_word_listed(courtesy, sizeof(courtesy) / sizeof(courtesy[0]), w, n);
}

/* A byte that belongs to a word: ASCII letters and digits, and every byte
 * of a multi-byte UTF-8 sequence (letters of other scripts; punctuation
 * outside ASCII was mapped to ASCII by the normalizer). */
static int word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

parley_err learn_text_keys(const char *text, size_t len, learn_keys *out, parley_error *err)
{
    char *norm = NULL;
    size_t nlen = 0, nwords = 0, cap = 0;
    uint64_t *words = NULL, stack[64];
    parley_err rc = parley_text_normalize(
        text, len, PARLEY_TEXT_CASEFOLD | PARLEY_TEXT_STRIP_ACCENTS, &norm, &nlen, err);
    if (rc != PARLEY_OK)
        return rc;
    XXH3_state_t st;
    (void)XXH3_64bits_reset(&st);
    words = stack;
    cap = sizeof(stack) / sizeof(stack[0]);
    for (size_t i = 0; i < nlen;) {
        /* The exact key hashes the text with runs of white space as one. */
        if (norm[i] == ' ' || norm[i] == '\t' || norm[i] == '\n' || norm[i] == '\r') {
            size_t j = i;
            while (j < nlen &&
                   (norm[j] == ' ' || norm[j] == '\t' || norm[j] == '\n' || norm[j] == '\r'))
                j++;
            if (i > 0 && j < nlen)
                (void)XXH3_64bits_update(&st, " ", 1);
            i = j;
            continue;
        }
        if (!word_byte((unsigned char)norm[i])) {
            (void)XXH3_64bits_update(&st, norm + i, 1);
            i++;
            continue;
        }
        size_t j = i;
        int digits = 1;
        while (j < nlen && word_byte((unsigned char)norm[j])) {
            if (norm[j] < '0' || norm[j] > '9')
                digits = 0;
            j++;
        }
        (void)XXH3_64bits_update(&st, norm + i, j - i);
        if (!learn_is_courtesy(norm + i, j - i)) {
            if (nwords == cap) {
                uint64_t *grown = parley__mallocarray(cap * 2, sizeof(*grown));
                if (!grown) {
                    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                    goto out;
                }
                memcpy(grown, words, nwords * sizeof(*words));
                if (words != stack)
                    parley__free(words);
                words = grown;
                cap *= 2;
            }
            words[nwords++] = digits ? 0x30 : XXH3_64bits(norm + i, j - i);
        }
        i = j;
    }
    out->exact = XXH3_64bits_digest(&st);
    qsort(words, nwords, sizeof(*words), cmp_u64);
    size_t uniq = 0;
    for (size_t i = 0; i < nwords; i++)
        if (uniq == 0 || words[uniq - 1] != words[i])
            words[uniq++] = words[i];
    out->near = XXH3_64bits(words, uniq * sizeof(*words)) ^ 0x6e656172ULL;
    out->words = uniq;
out:
    if (words != stack)
        parley__free(words);
    parley_free(norm);
    return rc;
}

/* ---- the map -------------------------------------------------------------- */

static size_t slot_of(uint64_t key, size_t cap)
{
    return (size_t)(key * 0x9E3779B97F4A7C15ULL >> 17) & (cap - 1);
}

struct learn_map_slot *learn_map_get(const struct learn_map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    key = key ? key : 1;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == key)
            return &m->slots[i];
        if (!m->slots[i].key)
            return NULL;
    }
}

struct learn_map_slot *learn_map_put(struct learn_map *m, uint64_t key, int *added)
{
    key = key ? key : 1;
    *added = 0;
    if ((m->len + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        struct learn_map_slot *s = parley__calloc(cap, sizeof(*s));
        if (!s)
            return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key)
                continue;
            size_t j = slot_of(m->slots[i].key, cap);
            while (s[j].key)
                j = (j + 1) & (cap - 1);
            s[j] = m->slots[i];
        }
        parley__free(m->slots);
        m->slots = s;
        m->cap = cap;
    }
    size_t i = slot_of(key, m->cap);
    while (m->slots[i].key && m->slots[i].key != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].key) {
        m->slots[i].key = key;
        m->slots[i].a = m->slots[i].b = 0;
        m->len++;
        *added = 1;
    }
    return &m->slots[i];
}

void learn_map_release(struct learn_map *m)
{
    parley__free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* ---- the string table ------------------------------------------------------ */

long learn_strings_find(const struct learn_strings *t, const char *s)
{
    uint64_t h = XXH3_64bits(s, strlen(s));
    const struct learn_map_slot *sl = learn_map_get(&t->index, h);
    /* Distinct strings with one 64-bit hash are not a practical concern for
     * intent names and customer ids; the check keeps a collision harmless. */
    if (!sl || strcmp(t->v[sl->a], s) != 0)
        return -1;
    return (long)sl->a;
}

long learn_strings_id(struct learn_strings *t, const char *s)
{
    int added = 0;
    long id = learn_strings_find(t, s);
    if (id >= 0)
        return id;
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **v = parley__realloc(t->v, cap * sizeof(*v));
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    char *dup = parley__strdup(s);
    struct learn_map_slot *sl =
        dup ? learn_map_put(&t->index, XXH3_64bits(s, strlen(s)), &added) : NULL;
    if (!sl || !added) { /* out of memory, or another string with the same hash */
        parley__free(dup);
        return -1;
    }
    sl->a = (uint32_t)t->len;
    t->v[t->len] = dup;
    return (long)t->len++;
}

void learn_strings_release(struct learn_strings *t)
{
    for (size_t i = 0; i < t->len; i++)
        parley__free(t->v[i]);
    parley__free(t->v);
    learn_map_release(&t->index);
    memset(t, 0, sizeof(*t));
}
