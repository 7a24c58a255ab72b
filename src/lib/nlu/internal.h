/* Private declarations of the intent engine: the model image layout, the
 * feature view shared by training and prediction, and helpers. */
#ifndef PARLEY_NLU_INTERNAL_H
#define PARLEY_NLU_INTERNAL_H

#include "common/internal.h"
#include "parley/nlu.h"
#include "text/internal.h"

/* Model file layout, version 1 (all integers little-endian):
 *   0  magic "PARLEYNL"          8  u32 version    12 u32 header size (128)
 *   16 u64 file size             24 u64 XXH64 of bytes [32, file size)
 *   32 u32 labels                36 u32 features (rows)
 *   40 u32 table slots (2^k)     44 u32 hash bits
 *   48 u32 word n-grams          52 u32 char min   56 u32 char max
 *   60 u32 normalization flags   64 f32 temperature
 *   68 f32 oos threshold         72 i32 trained oos class or -1
 *   76 u32 reserved              80 u64 data fingerprint
 *   88 u64 training rows         96 u64 created (unix seconds)
 *   104 u64 labels offset        112 u64 table offset  120 u64 weights offset
 * Sections (64-byte aligned): labels = n+1 NUL-terminated strings, the last
 * being the out-of-scope decision label; table = slots x {u32 key, u32 row}
 * (key 0xffffffff = empty; key = group << 31 | bucket) then f32 idf[rows];
 * weights = f32 bias[labels], f32 scale[rows], then i8 q[rows][stride]
 * with stride = labels rounded up to 16 (zero padding, for whole vector
 * loads): weight(r, c) = scale[r] * q[r][c] (symmetric per-row
 * quantization keeps models small and prediction memory-light). */
#define NLU_STRIDE(labels) (((size_t)(labels) + 15) & ~(size_t)15)
#define NLU_MAGIC          "PARLEYNL"
#define NLU_VERSION        1u
#define NLU_HEADER_SIZE    128u
#define NLU_EMPTY_KEY      0xffffffffu
#define NLU_MAX_LABELS     65535u

struct nlu_slot {
    uint32_t key;
    uint32_t row;
};

/* What featurization needs: shared by the trainer (before a model exists)
 * and by a loaded model. */
struct nlu_featview {
    parley_text_features_config cfg;
    unsigned norm_flags;
    const struct nlu_slot *slots;
    uint32_t mask; /* slots - 1 */
    const float *idf;
    uint32_t n_rows;
};

struct parley_nlu_model {
    unsigned char *image; /* the whole file image */
    size_t image_len;
    int mapped; /* 1: munmap on free; 0: parley__free */
    struct nlu_featview fv;
    uint32_t n_labels;
    const char **labels; /* n_labels + 1, pointing into the image */
    const int8_t *q;
    const float *scale;
    const float *bias;
    float temperature;
    float oos_threshold;
    int32_t oos_index;
    uint64_t fingerprint, train_rows, created;
};

/* A sparse vector entry: feature row and weight. */
struct nlu_entry {
    uint32_t row;
    float value;
};

/* Scratch for turning text into a weighted sparse vector. */
struct nlu_vectorizer {
    struct parley_text_scratch norm;
    parley_text_features feats;
    struct nlu_entry *entries;
    uint32_t *rows_tmp; /* same capacity as entries */
    size_t entries_cap;
    uint32_t *stamp; /* per row: generation when last seen */
    uint32_t *slot;  /* per row: index into entries */
    uint32_t rows_cap;
    uint32_t gen;
};

void parley__nlu_vectorizer_init(struct nlu_vectorizer *v);
void parley__nlu_vectorizer_release(struct nlu_vectorizer *v);

/* Normalizes, featurizes and weights `s[0..n)` (sublinear tf x idf, each
 * group scaled to unit L2 norm). `*out` is borrowed from `v`. */
parley_err parley__nlu_vectorize(struct nlu_vectorizer *v, const struct nlu_featview *fv,
                                 const char *s, size_t n, const struct nlu_entry **out,
                                 size_t *count, parley_error *err);

/* Slot lookup; returns the row or UINT32_MAX. */
uint32_t parley__nlu_lookup(const struct nlu_featview *fv, uint32_t key);
uint32_t parley__nlu_slot_start(uint32_t key, uint32_t mask);

/* scores[c] = bias[c] + sum_e value_e * W[row_e][c]. */
void parley__nlu_scores(const float *weights, const float *bias, uint32_t n_labels,
                        const struct nlu_entry *e, size_t n, float *scores);
/* The same over quantized weights: W[r][c] = scale[r] * q[r][c]; `scores`
 * has room for NLU_STRIDE(n_labels) floats. */
void parley__nlu_scores_q8(const int8_t *q, const float *scale, const float *bias,
                           uint32_t n_labels, const struct nlu_entry *e, size_t n, float *scores);
/* Quantizes float rows [rows][n_labels] into q [rows][stride] and scale. */
void parley__nlu_quantize(const float *w, uint32_t rows, uint32_t n_labels, int8_t *q,
                          float *scale);
/* In-place softmax of scores / temperature; returns index of the max. */
uint32_t parley__nlu_softmax(float *p, uint32_t n, float temperature);

/* Parses and checks a model image; takes ownership of `image` on success
 * and on failure (freed per `mapped`). */
parley_err parley__nlu_model_from_image(unsigned char *image, size_t len, int mapped,
                                        parley_nlu_model **out, parley_error *err);

/* Index of `label` in `n` labels sorted by strcmp, or -1. */
int32_t parley__nlu_find_label(const char *const *labels, uint32_t n, const char *label);

/* Index of `label` in the model's sorted labels, or -1. */
int32_t parley__nlu_label_index(const parley_nlu_model *m, const char *label);

/* Is `label` a conventional out-of-scope label ("oos", "out_of_scope")? */
int parley__nlu_is_oos_name(const char *label);

#endif
