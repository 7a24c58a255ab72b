/* Private declarations of the language identifier: the "PARLEYLI" file
 * layout, the loaded model, and feature extraction shared by training and
 * prediction. */
#ifndef PARLEY_NLU_LANGID_INTERNAL_H
#define PARLEY_NLU_LANGID_INTERNAL_H

#include "common/internal.h"
#include "parley/nlu.h"

/* Model file layout, version 2 (all integers little-endian):
 *   0  magic "PARLEYLI"          8  u32 version     12 u32 header size (128)
 *   16 u64 file size             24 u64 XXH64 of bytes [32, file size)
 *   32 u32 languages             36 u32 stride (languages rounded up to 64)
 *   40 u32 hash bits             44 u32 char min    48 u32 char max
 *   52 u32 word n-grams          56 f32 temperature 60 u32 reserved (0)
 *   64 u64 training rows         72 u64 created (unix seconds)
 *   80 u64 labels offset         88 u64 scale offset 96 u64 weights offset
 *   104..127 reserved (0)
 * Sections, 64-byte aligned: labels = `languages` NUL-terminated codes,
 * sorted, distinct; scale = f32 bias[stride] then f32 scale[stride];
 * weights = i8 q[2^hash bits][stride], |q| <= LID_QMAX, zero past
 * `languages`. (Version 1 had |q| <= 127.)
 * score(c) = bias[c] + scale[c] * (C[c] / sqrt(n_c) + W[c] / sqrt(n_w)),
 * with C and W the sums of q[f][c] over the text's n_c character n-grams
 * and n_w words; probability = softmax(score / temperature). */
#define LID_MAGIC       "PARLEYLI"
#define LID_VERSION     2u
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

/* Feature settings: what featurization needs. */
struct lid_cfg {
    unsigned char_min, char_max, word_ngrams, hash_bits;
};

/* Upper bound of the features of one text: every character (and the two
 * padding spaces) ends at most char_max n-grams, every word two. */
#define LID_MAX_FEATURES ((PARLEY_LANGID_MAX_CHARS + 2) * (LID_MAX_ORDER + 2))

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
};

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
 * that owns it. */
parley_err parley__lid_build(const struct lid_cfg *cfg, const char *const *labels,
                             uint32_t n_labels, const float *w, const float *bias,
                             float temperature, uint64_t train_rows, parley_langid **out,
                             parley_error *err);

/* Raw scores of `n_char` character then `n_word` word features at `feat`:
 * scores[c] = bias[c] + scale[c] * (sum of q[f][c] over each group times
 * that group's norm); `scores` has room for the model's languages. */
void parley__lid_scores(const parley_langid *m, const uint32_t *feat, size_t n_char, size_t n_word,
                        float *scores);

/* Index of `code` among the model's sorted labels, or -1. */
int32_t parley__lid_label_index(const parley_langid *m, const char *code);

#endif
