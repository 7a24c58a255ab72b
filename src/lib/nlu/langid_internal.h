/* Private declarations of the language identifier: the "PARLEYLI" file
 * layout, the loaded model, and feature extraction shared by training and
 * prediction. */
#ifndef PARLEY_NLU_LANGID_INTERNAL_H
#define PARLEY_NLU_LANGID_INTERNAL_H

#include "common/internal.h"
#include "parley/nlu.h"

/* Model file layout, version 3 (all integers little-endian):
 *   0  magic "PARLEYLI"          8  u32 version     12 u32 header size (128)
 *   16 u64 file size             24 u64 XXH64 of bytes [32, file size)
 *   32 u32 languages             36 u32 stride (languages rounded up to 64)
 *   40 u32 hash bits             44 u32 char min    48 u32 char max
 *   52 u32 word n-grams          56 f32 temperature 60 u32 reserved (0)
 *   64 u64 training rows         72 u64 created (unix seconds)
 *   80 u64 labels offset         88 u64 scale offset 96 u64 weights offset
 *   104 u64 stage-2 offset (0: none)               112..127 reserved (0)
 * Sections, 64-byte aligned: labels = `languages` NUL-terminated codes,
 * sorted, distinct; scale = f32 bias[stride] then f32 scale[stride];
 * weights = i8 q[2^hash bits][stride], |q| <= LID_QMAX, zero past
 * `languages`. (Version 1 had |q| <= 127; version 2 had no stage 2.)
 * Without stage 2 the weights end the file; with it, the stage-2 section
 * follows them at the next 64-byte boundary and ends the file:
 *   0  u32 groups (1..LID_MAX_GROUPS)  4 u32 char min  8 u32 char max
 *   12 u32 word n-grams                16..63 reserved (0)
 *   64 one LID_GROUP_REC-byte record per group:
 *      0 u32 languages k (2..LID_GROUP_MAX)  4 u32 table bits
 *      8 u64 entries (< 2^table bits)        16 u64 table offset (relative
 *      to the section)  24 u64 0
 *      32 f32 temperature  36 f32 threshold  40 u16 language[LID_GROUP_MAX]
 *      56 f32 bias[LID_GROUP_MAX]  88 f32 scale[LID_GROUP_MAX]  120 u64 0
 *   then per group, 64-byte aligned and in order, its table of 2^bits
 *   16-byte slots {u64 key; i8 q[LID_GROUP_MAX]}: key 0 = empty (q all
 *   0), else odd (a 64-bit feature hash | 1), placed by linear probing
 *   from its top bits; |q| <= 127, 0 past k. Key and weights share a
 *   slot so that a lookup touches one cache line.
 * A group's specialist rescores its languages when stage 1's best
 * language is in it and that language's probability within the group is
 * below the threshold.
 * score(c) = bias[c] + scale[c] * (C[c] / sqrt(n_c) + W[c] / sqrt(n_w)),
 * with C and W the sums of q[f][c] over the text's n_c character n-grams
 * and n_w words; probability = softmax(score / temperature). */
#define LID_MAGIC       "PARLEYLI"
#define LID_VERSION     3u
#define LID_HEADER_SIZE 128u
#define LID_STRIDE(n)   (((size_t)(n) + 63) & ~(size_t)63)
#define LID_MAX_LABEL   32u
#define LID_MIN_BITS    8u
#define LID_MAX_BITS    22u
#define LID_MAX_ORDER   6u
/* Weights are 6-bit, |q| <= LID_QMAX, so that LID_GROUP rows add up in
 * int8 without overflow when scoring (4 * 31 = 124 <= 127). */
#define LID_QMAX  31
#define LID_GROUP 4
/* Stage 2: at most this many groups of 2..LID_GROUP_MAX languages. */
#define LID_MAX_GROUPS 32u
#define LID_GROUP_MAX  8u
#define LID_GROUP_REC  128u
#define LID_S2_HEADER  64u
#define LID_MIN_TBITS  4u
#define LID_MAX_TBITS  24u
#define LID_S2_QMAX    127

/* Feature settings: what featurization needs. */
struct lid_cfg {
    unsigned char_min, char_max, word_ngrams, hash_bits;
};

/* Upper bound of the features of one text: every character (and the two
 * padding spaces) ends at most char_max n-grams, every word two. */
#define LID_MAX_FEATURES ((PARLEY_LANGID_MAX_CHARS + 2) * (LID_MAX_ORDER + 2))

/* One slot of a specialist's table (see the layout above). */
struct lid_slot {
    uint64_t key;
    int8_t q[LID_GROUP_MAX];
};
_Static_assert(sizeof(struct lid_slot) == 16, "a stage-2 slot is 16 bytes in the file");

/* One loaded specialist: points into the image. */
struct lid_group {
    uint32_t k, bits;
    uint16_t lang[LID_GROUP_MAX];
    float bias[LID_GROUP_MAX], scale[LID_GROUP_MAX];
    float temperature, threshold;
    const struct lid_slot *slots;
};

struct parley_langid {
    unsigned char *image; /* the whole file image */
    size_t image_len;
    int mapped; /* 1: munmap on free (huge-page region); 0: parley__free */
    struct lid_cfg cfg;
    uint32_t n_labels, stride;
    const char **labels; /* n_labels, pointing into the image */
    const float *bias, *scale;
    const int8_t *q;
    float temperature;
    uint64_t train_rows, created;
    struct lid_cfg cfg2; /* stage-2 features (hash_bits unused) */
    uint32_t n_groups;
    struct lid_group *groups; /* n_groups */
    unsigned char *group_of;  /* n_labels: group index + 1, 0 = none */
};

/* Receives one 64-bit feature hash (is_word: a word or word pair). */
typedef void (*parley__lid_sink)(void *ctx, uint64_t h, int is_word);

/* Stage-2 featurization: feeds every feature hash of `s[0..n)` to `sink`.
 * Returns 1, 0 for a text without characters (discard what was fed), -1
 * for invalid UTF-8. */
int parley__lid_walk64(const struct lid_cfg *cfg, const char *s, size_t n, parley__lid_sink sink,
                       void *ctx);

/* Checks the stage-2 section img[off, len) against the model's labels and
 * fills m->cfg2, n_groups, groups, group_of (allocated). */
parley_err parley__lid_s2_load(parley_langid *m, const unsigned char *img, size_t off, size_t len,
                               parley_error *err);

/* Stage 2 for a text whose stage-1 scores are sc[] with best language
 * `best`: if `best` is in a group and below its threshold, rewrites the
 * group's scores so that softmax(sc / temperature) gives each member
 * P1(group) * P2(member) and returns 1; else 0. Allocates nothing. */
int parley__lid_s2_apply(const parley_langid *m, const char *s, size_t n, uint32_t best, float *sc);

/* Trains specialists for the most confused groups of stage-1 model `m`
 * (confusions counted on `valid`) and returns the stage-2 section bytes
 * in *blob (NULL, 0 when no group qualifies). */
parley_err parley__lid_s2_train(const parley_langid_options *o, const parley_langid *m,
                                parley_nlu_data *train, parley_nlu_data *valid,
                                unsigned char **blob, size_t *blob_len, parley_error *err);

/* Writes the hashed feature rows of UTF-8 text `s[0..n)` to `out` (room
 * for LID_MAX_FEATURES): `*n_char` character n-grams, then `*n_word` words
 * (and word pairs). Returns PARLEY_OK or PARLEY_ERR_UTF8 with the byte
 * offset of the bad sequence in `*bad_at`. */
parley_err parley__lid_features(const struct lid_cfg *cfg, const char *s, size_t n, uint32_t *out,
                                size_t *n_char, size_t *n_word, size_t *bad_at);

/* Checks a feature configuration; 0 when valid. */
int parley__lid_cfg_bad(const struct lid_cfg *cfg);

/* Builds a model image from trained float weights w[rows][n_labels] and
 * bias[n_labels] (quantizing them) and sorted labels; returns a model
 * that owns it; `s2` (may be NULL) is the stage-2 section. */
parley_err parley__lid_build(const struct lid_cfg *cfg, const char *const *labels,
                             uint32_t n_labels, const float *w, const float *bias,
                             float temperature, uint64_t train_rows, const unsigned char *s2,
                             size_t s2_len, parley_langid **out, parley_error *err);

/* Raw scores of `n_char` character then `n_word` word features at `feat`:
 * scores[c] = bias[c] + scale[c] * (sum of q[f][c] over each group times
 * that group's norm); `scores` has room for the model's languages. */
void parley__lid_scores(const parley_langid *m, const uint32_t *feat, size_t n_char, size_t n_word,
                        float *scores);

/* Index of `code` among the model's sorted labels, or -1. */
int32_t parley__lid_label_index(const parley_langid *m, const char *code);

#endif
