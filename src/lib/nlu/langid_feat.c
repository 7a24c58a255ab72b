/* Language identification features: one pass over UTF-8 text that
 * validates, case-folds (ASCII by table, common Latin, Greek, Cyrillic
 * and Armenian capitals by range), collapses spaces, and hashes character
 * n-grams and words into weight rows. Shared by training and prediction. */
#include <string.h>

#include "nlu/langid_internal.h"

#define HASH_MUL  0x9E3779B97F4A7C15ull
#define WORD_SEED 0x5851F42D4C957F2Dull
#define PAIR_SEED 0x14057B7EF767814Full

/* ASCII: capitals to small letters, digits to '0', controls and spaces to
 * ' ' (0x20); everything else as is. */
// clang-format off
static const unsigned char ascii_fold[128] = {
    ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
    ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
    ' ', '!', '"', '#', '$', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
    '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', ':', ';', '<', '=', '>', '?',
    '@', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '[', '\\', ']', '^', '_',
    '`', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '{', '|', '}', '~', ' ',
};
// clang-format on

/* Small letter of a code point >= 0x80 for the scripts of most languages
 * with case; others are returned unchanged (hashing needs consistency, not
 * full Unicode case folding). */
static uint32_t fold_cp(uint32_t c)
{
    if (c < 0x100) {
        if (c == 0xA0)
            return ' ';
        return c >= 0xC0 && c <= 0xDE && c != 0xD7 ? c + 0x20 : c;
    }
    if (c < 0x180) { /* Latin Extended-A: capital/small pairs */
        if (c <= 0x137 || (c >= 0x14A && c <= 0x177))
            return c | 1u;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1u) ? c + 1 : c;
        return c == 0x178 ? 0xFF : c;
    }
    if (c >= 0x386 && c <= 0x3AB) { /* Greek */
        static const uint16_t tonos[10] = {0x3AC, 0x387, 0x3AD, 0x3AE, 0x3AF,
                                           0x38B, 0x3CC, 0x38D, 0x3CD, 0x3CE};
        if (c <= 0x38F)
            return tonos[c - 0x386];
        return c >= 0x391 && c != 0x3A2 ? c + 0x20 : c;
    }
    if (c >= 0x400 && c <= 0x4BF) { /* Cyrillic */
        if (c <= 0x40F)
            return c + 0x50;
        if (c <= 0x42F)
            return c + 0x20;
        if ((c >= 0x460 && c <= 0x481) || c >= 0x48A)
            return c | 1u;
        return c;
    }
    if (c >= 0x531 && c <= 0x556) /* Armenian */
        return c + 0x30;
    if (c == 0x3000) /* ideographic space */
        return ' ';
    return c;
}

/* Decodes one UTF-8 sequence at s[*i..n) (s[*i] >= 0x80); returns the code
 * point and advances *i, or returns UINT32_MAX for an invalid sequence
 * (overlong, surrogate, out of range, truncated). */
static uint32_t decode(const unsigned char *s, size_t n, size_t *i)
{
    size_t at = *i;
    uint32_t b0 = s[at], c, min;
    unsigned len;

    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        c = b0 & 0x1F;
        min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        c = b0 & 0x0F;
        min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        c = b0 & 0x07;
        min = 0x10000;
    } else {
        return UINT32_MAX;
    }
    if (n - at < len)
        return UINT32_MAX;
    for (unsigned k = 1; k < len; k++) {
        uint32_t b = s[at + k];
        if ((b & 0xC0) != 0x80)
            return UINT32_MAX;
        c = (c << 6) | (b & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return UINT32_MAX;
    *i = at + len;
    return c;
}

/* Is this folded code point part of a word (not ASCII punctuation or
 * space)? Words carry letters and digits of any script. */
static int word_char(uint32_t c)
{
    return c >= 0x80 || (c >= 'a' && c <= 'z') || c == '0';
}

int parley__lid_cfg_bad(const struct lid_cfg *cfg)
{
    return cfg->hash_bits < LID_MIN_BITS || cfg->hash_bits > LID_MAX_BITS || cfg->char_max < 1 ||
           cfg->char_max > LID_MAX_ORDER || cfg->char_min < 1 || cfg->char_min > cfg->char_max ||
           cfg->word_ngrams > 2;
}

/* Hashes and row computations; state of one pass. In wide mode (stage 2)
 * each feature's full 64-bit hash goes to `sink` instead of a row index
 * into `out`: specialists look features up exactly, without collisions. */
struct walk {
    const struct lid_cfg *cfg;
    uint32_t *out;
    size_t nf; /* character n-grams, from the front of out */
    size_t nw; /* words and pairs, from the back of out */
    size_t cap;
    unsigned shift;
    uint32_t win[LID_MAX_ORDER]; /* last characters, win[0] newest */
    unsigned have;               /* characters in win */
    uint64_t word, prev_word;
    int in_word, has_prev;
    parley__lid_sink sink;
    void *ctx;
};

/* `wide` is a constant after inlining: the row path stays branch-free. */
static inline __attribute__((always_inline)) void emit(struct walk *w, uint64_t h, int is_word,
                                                       int wide)
{
    if (wide)
        w->sink(w->ctx, h, is_word);
    else if (is_word)
        w->out[w->cap - ++w->nw] = (uint32_t)(h >> w->shift);
    else
        w->out[w->nf++] = (uint32_t)(h >> w->shift);
}

static inline __attribute__((always_inline)) void end_word(struct walk *w, int wide)
{
    if (!w->in_word)
        return;
    emit(w, (w->word ^ WORD_SEED) * HASH_MUL, 1, wide);
    if (w->cfg->word_ngrams >= 2 && w->has_prev)
        emit(w, ((w->prev_word * PAIR_SEED) ^ w->word) * HASH_MUL, 1, wide);
    w->prev_word = w->word;
    w->has_prev = 1;
    w->in_word = 0;
}

/* Adds folded character `c`: the n-grams ending at it, and word state. */
static inline __attribute__((always_inline)) void push(struct walk *w, uint32_t c, int wide)
{
    const unsigned kmax = w->cfg->char_max, kmin = w->cfg->char_min;
    uint64_t h = 0;

    for (unsigned k = LID_MAX_ORDER - 1; k > 0; k--) /* unrolled: no memmove call */
        w->win[k] = w->win[k - 1];
    w->win[0] = c;
    if (w->have < kmax)
        w->have++;
    for (unsigned k = 1; k <= w->have; k++) {
        h = (h ^ w->win[k - 1]) * HASH_MUL + k;
        if (k >= kmin)
            emit(w, h, 0, wide);
    }
    if (w->cfg->word_ngrams == 0)
        return;
    if (word_char(c)) {
        w->word = w->in_word ? (w->word ^ c) * HASH_MUL : (c + 1) * HASH_MUL;
        w->in_word = 1;
    } else {
        end_word(w, wide);
    }
}

/* One pass over the text; returns the number of characters read, or
 * SIZE_MAX for invalid UTF-8 (offset in *bad_at). */
static inline __attribute__((always_inline)) size_t walk_text(struct walk *w, const char *s,
                                                              size_t n, size_t *bad_at, int wide)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, chars = 0;
    int space = 1; /* the text starts after a padding space */

    push(w, ' ', wide);
    while (i < n && chars < PARLEY_LANGID_MAX_CHARS) {
        uint32_t c = u[i];
        if (c < 0x80) {
            c = ascii_fold[c];
            i++;
        } else {
            c = decode(u, n, &i);
            if (c == UINT32_MAX) {
                *bad_at = i;
                return SIZE_MAX;
            }
            c = fold_cp(c);
        }
        if (c == ' ') {
            if (space)
                continue;
            space = 1;
        } else {
            space = 0;
        }
        push(w, c, wide);
        chars++;
    }
    if (!space)
        push(w, ' ', wide);
    end_word(w, wide);
    return chars;
}

parley_err parley__lid_features(const struct lid_cfg *cfg, const char *s, size_t n, uint32_t *out,
                                size_t *n_char, size_t *n_word, size_t *bad_at)
{
    struct walk w;

    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    w.out = out;
    w.cap = LID_MAX_FEATURES;
    w.shift = 64 - cfg->hash_bits;
    size_t chars = walk_text(&w, s, n, bad_at, 0);
    if (chars == SIZE_MAX)
        return PARLEY_ERR_UTF8;
    /* Only the padding space: no features (the model's prior decides). */
    if (chars == 0) {
        *n_char = *n_word = 0;
        return PARLEY_OK;
    }
    memmove(out + w.nf, out + w.cap - w.nw, w.nw * sizeof(*out));
    *n_char = w.nf;
    *n_word = w.nw;
    return PARLEY_OK;
}

int parley__lid_walk64(const struct lid_cfg *cfg, const char *s, size_t n, parley__lid_sink sink,
                       void *ctx)
{
    struct walk w;
    size_t bad = 0;

    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    w.sink = sink;
    w.ctx = ctx;
    size_t chars = walk_text(&w, s, n, &bad, 1);
    return chars == SIZE_MAX ? -1 : chars == 0 ? 0 : 1;
}
