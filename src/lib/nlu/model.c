/* The versioned model file: parsing and checking an image (magic, version,
 * sizes, checksum, section bounds), atomic save, mmap load, and model
 * facts. The layout is documented in nlu/internal.h and docs. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "nlu/internal.h"

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

static float rdf(const unsigned char *p)
{
    float v;
    memcpy(&v, p, 4);
    return v;
}

static void release_image(unsigned char *image, size_t len, int mapped)
{
    if (!image)
        return;
    if (mapped)
        (void)munmap(image, len);
    else
        parley__free(image);
}

int parley__nlu_is_oos_name(const char *label)
{
    return strcmp(label, "oos") == 0 || strcmp(label, "out_of_scope") == 0;
}

static parley_err corrupt(parley_error *err, const char *what)
{
    return parley_error_set(err, PARLEY_ERR_CORRUPT, "model file is corrupt: %s", what);
}

parley_err parley__nlu_model_from_image(unsigned char *img, size_t len, int mapped,
                                        parley_nlu_model **out, parley_error *err)
{
    parley_nlu_model *m = NULL;
    parley_err rc = PARLEY_OK;
    uint64_t labels_off, table_off, weights_off, slots, rows, nl;
    const char *p, *end;

    if (len < NLU_HEADER_SIZE || memcmp(img, NLU_MAGIC, 8) != 0) {
        rc = len < 8 || memcmp(img, NLU_MAGIC, 8) != 0
                 ? parley_error_set(err, PARLEY_ERR_CORRUPT, "not a Parley intent model")
                 : corrupt(err, "truncated header");
        goto out;
    }
    if (rd32(img + 8) != NLU_VERSION) {
        rc = parley_error_set(err, PARLEY_ERR_VERSION,
                              "model format version %u is not supported (this build reads %u)",
                              rd32(img + 8), NLU_VERSION);
        goto out;
    }
    if (rd32(img + 12) != NLU_HEADER_SIZE) {
        rc = corrupt(err, "bad header size");
        goto out;
    }
    if (rd64(img + 16) != len) {
        rc = parley_error_set(err, PARLEY_ERR_CORRUPT,
                              "model file is truncated or padded: %zu bytes, header says %llu", len,
                              (unsigned long long)rd64(img + 16));
        goto out;
    }
    if (XXH64(img + 32, len - 32, 0) != rd64(img + 24)) {
        rc = corrupt(err, "checksum mismatch");
        goto out;
    }
    nl = rd32(img + 32);
    rows = rd32(img + 36);
    slots = rd32(img + 40);
    labels_off = rd64(img + 104);
    table_off = rd64(img + 112);
    weights_off = rd64(img + 120);
    if (nl < 1 || nl > NLU_MAX_LABELS || slots == 0 || (slots & (slots - 1)) != 0 || slots < rows ||
        slots > (1u << 30)) {
        rc = corrupt(err, "bad label or feature counts");
        goto out;
    }
    if (labels_off < NLU_HEADER_SIZE || table_off < labels_off || weights_off < table_off ||
        table_off - labels_off < nl + 1 || (table_off & 3) || (weights_off & 3) ||
        weights_off - table_off != slots * 8 + rows * 4 || weights_off > len ||
        len - weights_off != rows * NLU_STRIDE(nl) + nl * 4 + rows * 4) {
        rc = corrupt(err, "section bounds do not match the counts");
        goto out;
    }
    m = parley__calloc(1, sizeof(*m));
    if (!m || !(m->labels = parley__calloc(nl + 1, sizeof(char *)))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load model: out of memory");
        goto out;
    }
    p = (const char *)img + labels_off;
    end = (const char *)img + table_off;
    for (uint64_t i = 0; i <= nl; i++) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        if (!z || z == p || parley_text_validate(p, (size_t)(z - p), NULL, NULL) != PARLEY_OK) {
            rc = corrupt(err, "bad label table");
            goto out;
        }
        m->labels[i] = p;
        p = z + 1;
    }
    for (uint64_t i = 1; i < nl; i++) {
        if (strcmp(m->labels[i - 1], m->labels[i]) >= 0) {
            rc = corrupt(err, "labels out of order");
            goto out;
        }
    }
    m->fv.slots = (const struct nlu_slot *)(const void *)(img + table_off);
    m->fv.idf = (const float *)(const void *)(img + table_off + slots * 8);
    for (uint64_t i = 0; i < slots; i++) {
        if (m->fv.slots[i].key != NLU_EMPTY_KEY && m->fv.slots[i].row >= rows) {
            rc = corrupt(err, "feature table points outside the weights");
            goto out;
        }
    }
    m->fv.mask = (uint32_t)(slots - 1);
    m->fv.n_rows = (uint32_t)rows;
    m->fv.cfg.hash_bits = rd32(img + 44);
    m->fv.cfg.word_ngrams = rd32(img + 48);
    m->fv.cfg.char_min = rd32(img + 52);
    m->fv.cfg.char_max = rd32(img + 56);
    m->fv.norm_flags = rd32(img + 60);
    if (parley_text_features_check(&m->fv.cfg, NULL) != PARLEY_OK ||
        (m->fv.norm_flags & ~3u) != 0) {
        rc = corrupt(err, "bad feature configuration");
        goto out;
    }
    m->temperature = rdf(img + 64);
    m->oos_threshold = rdf(img + 68);
    m->oos_index = (int32_t)rd32(img + 72);
    if (!(m->temperature >= 1e-3f && m->temperature <= 1e3f) ||
        !(m->oos_threshold >= 0.0f && m->oos_threshold <= 1.0f) || m->oos_index < -1 ||
        m->oos_index >= (int32_t)nl) {
        rc = corrupt(err, "bad calibration values");
        goto out;
    }
    m->fingerprint = rd64(img + 80);
    m->train_rows = rd64(img + 88);
    m->created = rd64(img + 96);
    m->n_labels = (uint32_t)nl;
    m->bias = (const float *)(const void *)(img + weights_off);
    m->scale = m->bias + nl;
    m->q = (const int8_t *)(img + weights_off + nl * 4 + rows * 4);
    for (uint64_t i = 0; i < rows; i++) {
        /* Bounds far above any trained value keep every score finite. */
        if (!(m->scale[i] >= 0.0f && m->scale[i] < 1e6f) ||
            !(m->fv.idf[i] >= 1e-3f && m->fv.idf[i] < 1e3f)) {
            rc = corrupt(err, "bad weight scale or idf");
            goto out;
        }
    }
    for (uint64_t c = 0; c < nl; c++) {
        if (!(m->bias[c] > -1e6f && m->bias[c] < 1e6f)) {
            rc = corrupt(err, "bad bias");
            goto out;
        }
    }
    m->image = img;
    m->image_len = len;
    m->mapped = mapped;
    *out = m;
    return PARLEY_OK;
out:
    if (m) {
        parley__free(m->labels);
        parley__free(m);
    }
    release_image(img, len, mapped);
    return rc;
}

void parley_nlu_model_free(parley_nlu_model *m)
{
    if (!m)
        return;
    release_image(m->image, m->image_len, m->mapped);
    parley__free(m->labels);
    parley__free(m);
}

parley_err parley_nlu_model_load_memory(const void *buf, size_t len, parley_nlu_model **out,
                                        parley_error *err)
{
    unsigned char *copy = parley__malloc(len);
    if (!copy)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load model: out of memory");
    memcpy(copy, buf, len);
    return parley__nlu_model_from_image(copy, len, 0, out, err);
}

parley_err parley_nlu_model_load(const char *path, parley_nlu_model **out, parley_error *err)
{
    struct stat st;
    void *map;
    parley_err rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot open model '%s': %s", path,
                                strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        (void)close(fd);
        return parley_error_set(err, PARLEY_ERR_IO, "cannot read model '%s': not a regular file",
                                path);
    }
    if (st.st_size < (off_t)NLU_HEADER_SIZE) {
        (void)close(fd);
        return parley_error_set(err, PARLEY_ERR_CORRUPT,
                                "model file '%s' is corrupt: truncated (%lld bytes)", path,
                                (long long)st.st_size);
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    (void)close(fd);
    if (map == MAP_FAILED)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot map model '%s': %s", path,
                                strerror(errno));
    rc = parley__nlu_model_from_image(map, (size_t)st.st_size, 1, out, err);
    if (rc != PARLEY_OK)
        parley_error_prefix(err, "cannot load '%s'", path);
    return rc;
}

parley_err parley_nlu_model_save(const parley_nlu_model *m, const char *path, parley_error *err)
{
    return parley__write_file_atomic(path, m->image, m->image_len, err);
}

void parley_nlu_model_get_info(const parley_nlu_model *m, parley_nlu_model_info *info)
{
    memset(info, 0, sizeof(*info));
    info->format_version = NLU_VERSION;
    info->n_labels = m->n_labels;
    info->n_features = m->fv.n_rows;
    info->features = m->fv.cfg;
    info->norm_flags = m->fv.norm_flags;
    info->temperature = m->temperature;
    info->oos_threshold = m->oos_threshold;
    info->oos_label = m->labels[m->n_labels];
    info->oos_trained = m->oos_index >= 0;
    info->data_fingerprint = m->fingerprint;
    info->train_rows = m->train_rows;
    info->created_unix = m->created;
    info->file_bytes = m->image_len;
}

const char *parley_nlu_model_label(const parley_nlu_model *m, size_t i)
{
    return i < m->n_labels ? m->labels[i] : NULL;
}

int32_t parley__nlu_find_label(const char *const *labels, uint32_t n, const char *label)
{
    int32_t lo = 0, hi = (int32_t)n - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(labels[mid], label);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int32_t parley__nlu_label_index(const parley_nlu_model *m, const char *label)
{
    return parley__nlu_find_label(m->labels, m->n_labels, label);
}
