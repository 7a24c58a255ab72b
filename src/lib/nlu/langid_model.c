/* The language model file ("PARLEYLI", layout in langid_internal.h):
 * building an image from trained weights (int8 quantization per
 * language), checking an image section by section, atomic save, mmap
 * load, and the model's facts. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "nlu/langid_internal.h"

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void wr64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static size_t align64(size_t v)
{
    return (v + 63) & ~(size_t)63;
}

/* Loaded images live in anonymous memory in whole, aligned 2 MB pages:
 * scoring reads rows all over the weights, and with 4 KB pages nearly
 * every row read missed the TLB (huge pages: about 10% faster predict). */
#define LID_HUGE ((size_t)2 << 20)

static size_t huge_len(size_t len)
{
    return (len + LID_HUGE - 1) & ~(LID_HUGE - 1);
}

static void release_image(unsigned char *image, size_t len, int mapped)
{
    if (!image)
        return;
    if (mapped)
        (void)munmap(image, huge_len(len));
    else
        parley__free(image);
}

/* An anonymous, 2 MB-aligned region of huge_len(len) bytes, asking for
 * transparent huge pages; NULL when mmap fails. */
static unsigned char *map_huge(size_t len)
{
    size_t want = huge_len(len);
    unsigned char *p =
        mmap(NULL, want + LID_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    size_t head = (LID_HUGE - ((uintptr_t)p & (LID_HUGE - 1))) & (LID_HUGE - 1);
    if (head)
        (void)munmap(p, head);
    if (LID_HUGE - head)
        (void)munmap(p + head + want, LID_HUGE - head);
#ifdef MADV_HUGEPAGE
    (void)madvise(p + head, want, MADV_HUGEPAGE); /* a hint: fine if refused */
#endif
    return p + head;
}

static parley_err corrupt(parley_error *err, const char *what)
{
    return parley_error_set(err, PARLEY_ERR_CORRUPT, "language model file is corrupt: %s", what);
}

/* Checks the header fields that do not depend on the sections. */
static parley_err check_header(const unsigned char *img, size_t len, parley_error *err)
{
    if (len < 8 || memcmp(img, LID_MAGIC, 8) != 0) {
        if (len >= 8 && memcmp(img, "PARLEYNL", 8) == 0)
            return parley_error_set(err, PARLEY_ERR_CORRUPT,
                                    "this is an intent model, not a language model (train one "
                                    "with 'parley langid train')");
        return parley_error_set(err, PARLEY_ERR_CORRUPT, "not a Parley language model");
    }
    if (len < LID_HEADER_SIZE)
        return corrupt(err, "truncated header");
    if (rd32(img + 8) != LID_VERSION)
        return parley_error_set(err, PARLEY_ERR_VERSION,
                                "language model format version %u is not supported (this build "
                                "reads %u)",
                                rd32(img + 8), LID_VERSION);
    if (rd32(img + 12) != LID_HEADER_SIZE)
        return corrupt(err, "bad header size");
    if (rd64(img + 16) != len)
        return parley_error_set(err, PARLEY_ERR_CORRUPT,
                                "language model file is truncated or padded: %zu bytes, header "
                                "says %llu",
                                len, (unsigned long long)rd64(img + 16));
    if (XXH64(img + 32, len - 32, 0) != rd64(img + 24))
        return corrupt(err, "checksum mismatch");
    return PARLEY_OK;
}

/* Parses and checks an image; takes ownership of it in every case. */
static parley_err from_image(unsigned char *img, size_t len, int mapped, parley_langid **out,
                             parley_error *err)
{
    parley_langid *m = NULL;
    parley_err rc;
    uint64_t nl, stride, rows, labels_off, scale_off, weights_off, s2_off, weights_end;
    const char *p, *end;

    if ((rc = check_header(img, len, err)) != PARLEY_OK)
        goto fail;
    nl = rd32(img + 32);
    stride = rd32(img + 36);
    struct lid_cfg cfg = {rd32(img + 44), rd32(img + 48), rd32(img + 52), rd32(img + 40)};
    labels_off = rd64(img + 80);
    scale_off = rd64(img + 88);
    weights_off = rd64(img + 96);
    s2_off = rd64(img + 104);
    rc = PARLEY_ERR_CORRUPT;
    for (size_t i = 112; i < LID_HEADER_SIZE; i++) {
        if (img[i]) {
            corrupt(err, "reserved header bytes are not zero");
            goto fail;
        }
    }
    if (nl < 1 || nl > PARLEY_LANGID_MAX_LANGUAGES || stride != LID_STRIDE(nl)) {
        corrupt(err, "bad language count");
        goto fail;
    }
    if (parley__lid_cfg_bad(&cfg)) {
        corrupt(err, "bad feature configuration");
        goto fail;
    }
    rows = (uint64_t)1 << cfg.hash_bits;
    if (labels_off != LID_HEADER_SIZE || scale_off < labels_off + 2 * nl || scale_off > len ||
        (scale_off & 63) || weights_off != align64(scale_off + stride * 8) || weights_off > len ||
        len - weights_off < rows * stride) {
        corrupt(err, "section bounds do not match the counts");
        goto fail;
    }
    /* The weights end the file, or stage 2 follows them and ends it. */
    weights_end = weights_off + rows * stride;
    if (s2_off ? s2_off != align64(weights_end) || s2_off >= len : weights_end != len) {
        corrupt(err, "section bounds do not match the counts");
        goto fail;
    }
    m = parley__calloc(1, sizeof(*m));
    if (!m || !(m->labels = parley__calloc(nl, sizeof(char *)))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load language model: out of memory");
        goto fail;
    }
    p = (const char *)img + labels_off;
    end = (const char *)img + scale_off;
    for (uint64_t i = 0; i < nl; i++) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        if (!z || z == p || (size_t)(z - p) > LID_MAX_LABEL ||
            (i > 0 && strcmp(m->labels[i - 1], p) >= 0)) {
            corrupt(err, "bad language table");
            goto fail;
        }
        for (const char *c = p; c < z; c++) {
            if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f) {
                corrupt(err, "bad language code");
                goto fail;
            }
        }
        m->labels[i] = p;
        p = z + 1;
    }
    m->bias = (const float *)(const void *)(img + scale_off);
    m->scale = m->bias + stride;
    for (uint64_t c = 0; c < stride; c++) {
        /* Bounds far above any trained value keep every score finite. */
        if (!(m->bias[c] > -1e4f && m->bias[c] < 1e4f) ||
            !(m->scale[c] >= 0.0f && m->scale[c] < 1e4f) ||
            (c >= nl && (m->bias[c] != 0.0f || m->scale[c] != 0.0f))) {
            corrupt(err, "bad bias or scale");
            goto fail;
        }
    }
    /* Scoring adds LID_GROUP weights in int8: each must be within
     * LID_QMAX. One pass over the weights, folded into an OR of flags. */
    {
        const int8_t *qw = (const int8_t *)(img + weights_off);
        unsigned out_of_range = 0;
        for (size_t i = 0; i < (size_t)(rows * stride); i++)
            out_of_range |= (unsigned)(uint8_t)(qw[i] + LID_QMAX) > 2u * LID_QMAX;
        if (out_of_range) {
            corrupt(err, "weight out of range");
            goto fail;
        }
    }
    memcpy(&m->temperature, img + 56, 4);
    if (!(m->temperature >= 1e-2f && m->temperature <= 1e2f)) {
        corrupt(err, "bad temperature");
        goto fail;
    }
    m->cfg = cfg;
    m->n_labels = (uint32_t)nl;
    m->stride = (uint32_t)stride;
    m->q = (const int8_t *)(img + weights_off);
    m->train_rows = rd64(img + 64);
    m->created = rd64(img + 72);
    if (s2_off && (rc = parley__lid_s2_load(m, img, (size_t)s2_off, len, err)) != PARLEY_OK)
        goto fail;
    m->image = img;
    m->image_len = len;
    m->mapped = mapped;
    *out = m;
    return PARLEY_OK;
fail:
    if (m) {
        parley__free((void *)m->labels);
        parley__free(m->groups);
        parley__free(m->group_of);
        parley__free(m);
    }
    release_image(img, len, mapped);
    return rc;
}

parley_err parley__lid_build(const struct lid_cfg *cfg, const char *const *labels,
                             uint32_t n_labels, const float *w, const float *bias,
                             float temperature, uint64_t train_rows, const unsigned char *s2,
                             size_t s2_len, parley_langid **out, parley_error *err)
{
    const size_t stride = LID_STRIDE(n_labels), rows = (size_t)1 << cfg->hash_bits;
    size_t labels_len = 0, scale_off, weights_off, len;
    unsigned char *img;
    float *bs;
    int8_t *q;

    for (uint32_t i = 0; i < n_labels; i++)
        labels_len += strlen(labels[i]) + 1;
    scale_off = align64(LID_HEADER_SIZE + labels_len);
    weights_off = align64(scale_off + stride * 8);
    len = weights_off + rows * stride;
    size_t s2_off = s2 && s2_len ? align64(len) : 0;
    if (s2_off)
        len = s2_off + s2_len;
    img = parley__calloc(1, len);
    if (!img)
        return parley_error_set(err, PARLEY_ERR_NOMEM,
                                "cannot build language model: out of memory");
    static const char magic[8] = LID_MAGIC; /* no NUL: exactly the 8 magic bytes */
    memcpy(img, magic, sizeof(magic));
    wr32(img + 8, LID_VERSION);
    wr32(img + 12, LID_HEADER_SIZE);
    wr64(img + 16, len);
    wr32(img + 32, n_labels);
    wr32(img + 36, (uint32_t)stride);
    wr32(img + 40, cfg->hash_bits);
    wr32(img + 44, cfg->char_min);
    wr32(img + 48, cfg->char_max);
    wr32(img + 52, cfg->word_ngrams);
    memcpy(img + 56, &temperature, 4);
    wr64(img + 64, train_rows);
    wr64(img + 72, (uint64_t)time(NULL));
    wr64(img + 80, LID_HEADER_SIZE);
    wr64(img + 88, scale_off);
    wr64(img + 96, weights_off);
    wr64(img + 104, s2_off);
    if (s2_off)
        memcpy(img + s2_off, s2, s2_len);
    for (size_t i = 0, at = LID_HEADER_SIZE; i < n_labels; i++) {
        size_t l = strlen(labels[i]) + 1;
        memcpy(img + at, labels[i], l);
        at += l;
    }
    bs = (float *)(void *)(img + scale_off);
    q = (int8_t *)(img + weights_off);
    /* Symmetric per language: the largest weight of a language maps to
     * LID_QMAX. */
    for (uint32_t c = 0; c < n_labels; c++) {
        float max = 0.0f;
        for (size_t r = 0; r < rows; r++) {
            float a = fabsf(w[r * n_labels + c]);
            max = a > max ? a : max;
        }
        bs[c] = bias[c];
        bs[stride + c] = max / (float)LID_QMAX;
        float inv = max > 0.0f ? (float)LID_QMAX / max : 0.0f;
        for (size_t r = 0; r < rows; r++) {
            long v = lrintf(w[r * n_labels + c] * inv);
            q[r * stride + c] = (int8_t)(v > LID_QMAX ? LID_QMAX : v < -LID_QMAX ? -LID_QMAX : v);
        }
    }
    wr64(img + 24, XXH64(img + 32, len - 32, 0));
    return from_image(img, len, 0, out, err);
}

void parley_langid_free(parley_langid *m)
{
    if (!m)
        return;
    release_image(m->image, m->image_len, m->mapped);
    parley__free((void *)m->labels);
    parley__free(m->groups);
    parley__free(m->group_of);
    parley__free(m);
}

parley_err parley_langid_load_memory(const void *buf, size_t len, parley_langid **out,
                                     parley_error *err)
{
    unsigned char *copy;
    if (!buf || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load language model: no buffer");
    copy = parley__malloc(len ? len : 1);
    if (!copy)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load language model: out of memory");
    if (len)
        memcpy(copy, buf, len);
    return from_image(copy, len, 0, out, err);
}

parley_err parley_langid_load(const char *path, parley_langid **out, parley_error *err)
{
    struct stat st;
    unsigned char *map;
    size_t len;
    parley_err rc;
    int fd;

    if (!path || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load language model: no path");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot open language model '%s': %s", path,
                                strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        (void)close(fd);
        return parley_error_set(err, PARLEY_ERR_IO,
                                "cannot read language model '%s': not a regular file", path);
    }
    if (st.st_size < (off_t)LID_HEADER_SIZE) {
        (void)close(fd);
        return parley_error_set(err, PARLEY_ERR_CORRUPT,
                                "language model file '%s' is corrupt: truncated (%lld bytes)", path,
                                (long long)st.st_size);
    }
    len = (size_t)st.st_size;
    map = map_huge(len);
    if (!map) {
        (void)close(fd);
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load language model '%s': %s", path,
                                strerror(errno));
    }
    for (size_t got = 0; got < len;) {
        ssize_t r = read(fd, map + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            (void)close(fd);
            release_image(map, len, 1);
            return parley_error_set(err, PARLEY_ERR_IO, "cannot read language model '%s': %s", path,
                                    e ? strerror(e) : "file shrank while reading");
        }
        got += (size_t)r;
    }
    (void)close(fd);
    rc = from_image(map, len, 1, out, err);
    if (rc != PARLEY_OK)
        parley_error_prefix(err, "cannot load '%s'", path);
    return rc;
}

parley_err parley_langid_save(const parley_langid *m, const char *path, parley_error *err)
{
    if (!m || !path)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot save language model: no model");
    return parley__write_file_atomic(path, m->image, m->image_len, err);
}

size_t parley_langid_language_count(const parley_langid *m)
{
    return m ? m->n_labels : 0;
}

const char *parley_langid_language(const parley_langid *m, size_t i)
{
    return m && i < m->n_labels ? m->labels[i] : NULL;
}

void parley_langid_get_info(const parley_langid *m, parley_langid_info *info)
{
    memset(info, 0, sizeof(*info));
    info->format_version = LID_VERSION;
    info->n_languages = m->n_labels;
    info->char_min = m->cfg.char_min;
    info->char_max = m->cfg.char_max;
    info->word_ngrams = m->cfg.word_ngrams;
    info->hash_bits = m->cfg.hash_bits;
    info->temperature = m->temperature;
    info->train_rows = m->train_rows;
    info->created_unix = m->created;
    info->file_bytes = m->image_len;
    info->n_groups = m->n_groups;
}

int32_t parley__lid_label_index(const parley_langid *m, const char *code)
{
    int32_t lo = 0, hi = (int32_t)m->n_labels - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->labels[mid], code);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}
