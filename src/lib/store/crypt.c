/* Encryption at rest for the store, independent of the backend: master
 * keys (loaded from a file or the environment, fingerprinted by a keyed
 * BLAKE2b), the keyring a handle keeps in locked memory, data keys wrapped
 * by a master key, and content values sealed with XChaCha20-Poly1305 under
 * a data key, bound by associated data to their conversation, column and
 * row so that no value can be moved to another place. Formats are in
 * docs/internals/store-encryption.md. */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

/* Format of a sealed value: version, data key id (4 bytes, little endian),
 * nonce, then ciphertext and tag. */
#define SEAL_VERSION 1
#define SEAL_HEADER  5
#define NONCE_BYTES  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES    crypto_aead_xchacha20poly1305_ietf_ABYTES
/* Associated data: a label, the conversation id, the column, a number. */
#define AD_MAX (32 + PARLEY_STORE_MAX_ID + 32 + 8 + SEAL_HEADER)

_Static_assert(PARLEY__WRAPPED_BYTES == NONCE_BYTES + PARLEY__DEK_BYTES + TAG_BYTES,
               "wrapped data key size");
_Static_assert(PARLEY__SEAL_OVERHEAD == SEAL_HEADER + NONCE_BYTES + TAG_BYTES, "seal overhead");
_Static_assert(PARLEY_STORE_MASTER_KEY_BYTES == PARLEY__KEY32, "master keys are 32-byte secrets");

static parley_err sodium_ready(parley_error *err)
{
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot initialise libsodium");
    return PARLEY_OK;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Builds the associated data of a value; returns its length. */
static size_t make_ad(unsigned char ad[AD_MAX], const char *label, const char *conv,
                      const char *column, int64_t n, const unsigned char header[SEAL_HEADER])
{
    size_t len = 0, l;
    const char *parts[] = {label, conv, column};
    for (size_t i = 0; i < 3; i++) {
        l = strnlen(parts[i], PARLEY_STORE_MAX_ID);
        memcpy(ad + len, parts[i], l);
        len += l;
        ad[len++] = '\0';
    }
    for (int i = 0; i < 8; i++)
        ad[len++] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(ad + len, header, SEAL_HEADER);
    return len + SEAL_HEADER;
}

/* ---- master keys ------------------------------------------------------- */

static void key_id(const unsigned char key[PARLEY_STORE_MASTER_KEY_BYTES],
                   char id[PARLEY_STORE_MASTER_KEY_ID_SIZE])
{
    static const char label[] = "parley store master key id";
    unsigned char h[16];
    /* Keyed by the master key itself: the id is a MAC of a constant, so it
     * names the key without revealing anything about it. */
    (void)crypto_generichash(h, sizeof(h), (const unsigned char *)label, sizeof(label) - 1, key,
                             PARLEY_STORE_MASTER_KEY_BYTES);
    (void)sodium_bin2hex(id, PARLEY_STORE_MASTER_KEY_ID_SIZE, h, 4);
}

parley_err parley_store_master_key_load(const char *spec, parley_store_master_key *out,
                                        parley_error *err)
{
    parley_store_master_key k;
    parley_err rc;

    if (!spec || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load master key: no key given");
    memset(&k, 0, sizeof(k));
    rc = parley__key32_load(spec, 0, "master key", "parley store keygen FILE", k.key, err);
    if (rc == PARLEY_OK) {
        key_id(k.key, k.id);
        *out = k;
    }
    sodium_memzero(&k, sizeof(k));
    return rc;
}

parley_err parley_store_master_key_generate(const char *path, parley_error *err)
{
    return parley__key32_generate(path, "master key", err);
}

parley_err parley_store_keyring_load(const char *current, const char *older,
                                     parley_store_master_key keys[PARLEY_STORE_MAX_MASTER_KEYS],
                                     size_t *n, parley_error *err)
{
    char spec[4200];
    size_t count = 0;
    parley_err rc = PARLEY_OK;

    if (!keys || !n)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load master keys: no output");
    if (!current || !current[0]) {
        if (older && older[0])
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "old master keys are given without a current master key");
        *n = 0;
        return PARLEY_OK;
    }
    if ((rc = parley_store_master_key_load(current, &keys[count], err)) != PARLEY_OK)
        return rc;
    count++;
    for (const char *p = older ? older : ""; *p && rc == PARLEY_OK;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof(spec)) {
            rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                  "old master keys: expected specs separated by commas");
        } else if (count == PARLEY_STORE_MAX_MASTER_KEYS) {
            rc = parley_error_set(err, PARLEY_ERR_INVALID, "more than %d master keys given",
                                  PARLEY_STORE_MAX_MASTER_KEYS);
        } else {
            memcpy(spec, p, len);
            spec[len] = '\0';
            if ((rc = parley_store_master_key_load(spec, &keys[count], err)) == PARLEY_OK)
                count++;
        }
        p += len + (comma != NULL);
    }
    if (rc != PARLEY_OK) {
        for (size_t i = 0; i < count; i++)
            parley_store_master_key_clear(&keys[i]);
        return rc;
    }
    *n = count;
    return PARLEY_OK;
}

void parley_store_master_key_clear(parley_store_master_key *key)
{
    if (key)
        sodium_memzero(key, sizeof(*key));
}

/* ---- the keyring --------------------------------------------------------- */

parley_err parley__keyring_new(const parley_store_master_key *keys, size_t n,
                               struct parley__keyring **out, parley_error *err)
{
    struct parley__keyring *kr;
    parley_err rc;

    if (n == 0 || n > PARLEY_STORE_MAX_MASTER_KEYS || !keys)
        return parley_error_set(err, PARLEY_ERR_INVALID, "give 1 to %d master keys (got %zu)",
                                PARLEY_STORE_MAX_MASTER_KEYS, n);
    if ((rc = sodium_ready(err)) != PARLEY_OK)
        return rc;
    if (!(kr = parley__calloc(1, sizeof(*kr))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    /* Keep the keys out of swap where the system lets us; without that
     * they are still wiped at close. */
    kr->locked = sodium_mlock(kr, sizeof(*kr)) == 0;
    for (size_t i = 0; i < n; i++) {
        kr->keys[i] = keys[i];
        /* Recompute: an id is never trusted from the caller. */
        key_id(kr->keys[i].key, kr->keys[i].id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(kr->keys[j].id, kr->keys[i].id) == 0) {
                parley__keyring_free(kr);
                return parley_error_set(err, PARLEY_ERR_INVALID, "master key %s is given twice",
                                        keys[i].id);
            }
    }
    kr->n = n;
    *out = kr;
    return PARLEY_OK;
}

void parley__keyring_free(struct parley__keyring *kr)
{
    if (!kr)
        return;
    if (kr->locked)
        (void)sodium_munlock(kr, sizeof(*kr)); /* wipes too */
    else
        sodium_memzero(kr, sizeof(*kr));
    parley__free(kr);
}

const parley_store_master_key *parley__keyring_find(const struct parley__keyring *kr,
                                                    const char *id)
{
    for (size_t i = 0; kr && id && i < kr->n; i++)
        if (strcmp(kr->keys[i].id, id) == 0)
            return &kr->keys[i];
    return NULL;
}

/* ---- data keys ------------------------------------------------------------ */

parley_err parley__dek_new(struct parley__dek *dek, parley_error *err)
{
    parley_err rc = sodium_ready(err);
    if (rc != PARLEY_OK)
        return rc;
    randombytes_buf(dek->key, sizeof(dek->key));
    /* Never 0, so a zeroed struct is never mistaken for a key. */
    do
        dek->id = randombytes_random();
    while (dek->id == 0);
    return PARLEY_OK;
}

void parley__dek_wrap(const struct parley__keyring *kr, const char *conv,
                      const struct parley__dek *dek, unsigned char out[PARLEY__WRAPPED_BYTES])
{
    unsigned char header[SEAL_HEADER] = {SEAL_VERSION}, ad[AD_MAX];
    put_le32(header + 1, dek->id);
    size_t adlen = make_ad(ad, "parley-dek", conv, "", 0, header);
    randombytes_buf(out, NONCE_BYTES);
    (void)crypto_aead_xchacha20poly1305_ietf_encrypt(
        out + NONCE_BYTES, NULL, dek->key, sizeof(dek->key), ad, adlen, NULL, out, kr->keys[0].key);
}

parley_err parley__dek_unwrap(const struct parley__keyring *kr, const char *master_id,
                              const char *conv, uint32_t dek_id, const unsigned char *wrapped,
                              size_t len, struct parley__dek *dek, parley_error *err)
{
    const parley_store_master_key *mk = parley__keyring_find(kr, master_id);
    unsigned char header[SEAL_HEADER] = {SEAL_VERSION}, ad[AD_MAX];

    if (!mk)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "its data key is wrapped by master key %.16s, which is not "
                                "configured",
                                master_id ? master_id : "?");
    put_le32(header + 1, dek_id);
    size_t adlen = make_ad(ad, "parley-dek", conv, "", 0, header);
    if (len != PARLEY__WRAPPED_BYTES || crypto_aead_xchacha20poly1305_ietf_decrypt(
                                            dek->key, NULL, NULL, wrapped + NONCE_BYTES,
                                            len - NONCE_BYTES, ad, adlen, wrapped, mk->key) != 0)
        return parley_error_set(err, PARLEY_ERR_CORRUPT,
                                "its data key fails its integrity check (key store damaged or "
                                "tampered with)");
    dek->id = dek_id;
    return PARLEY_OK;
}

/* ---- content values ------------------------------------------------------- */

parley_err parley__seal(const struct parley__dek *dek, const char *conv, const char *column,
                        int64_t n, const char *text, unsigned char **out, size_t *out_len,
                        parley_error *err)
{
    size_t len = strlen(text), total = PARLEY__SEAL_OVERHEAD + len;
    unsigned char *buf = parley__malloc(total), ad[AD_MAX];

    if (!buf)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    buf[0] = SEAL_VERSION;
    put_le32(buf + 1, dek->id);
    size_t adlen = make_ad(ad, "parley-value", conv, column, n, buf);
    randombytes_buf(buf + SEAL_HEADER, NONCE_BYTES);
    (void)crypto_aead_xchacha20poly1305_ietf_encrypt(buf + SEAL_HEADER + NONCE_BYTES, NULL,
                                                     (const unsigned char *)text, len, ad, adlen,
                                                     NULL, buf + SEAL_HEADER, dek->key);
    *out = buf;
    *out_len = total;
    return PARLEY_OK;
}

int parley__sealed_dek_id(const unsigned char *blob, size_t len, uint32_t *dek_id)
{
    if (len < PARLEY__SEAL_OVERHEAD || blob[0] != SEAL_VERSION)
        return -1;
    *dek_id = get_le32(blob + 1);
    return 0;
}

parley_err parley__unseal(const struct parley__dek *dek, const char *conv, const char *column,
                          int64_t n, const unsigned char *blob, size_t len, char **out,
                          parley_error *err)
{
    unsigned char ad[AD_MAX];
    uint32_t id = 0;
    char *text = NULL;

    if (parley__sealed_dek_id(blob, len, &id) != 0)
        return parley_error_set(
            err, len >= 1 && blob[0] != SEAL_VERSION ? PARLEY_ERR_VERSION : PARLEY_ERR_CORRUPT,
            "stored %s is not a sealed value this build can read", column);
    if (id != dek->id)
        return parley_error_set(err, PARLEY_ERR_CORRUPT,
                                "stored %s was sealed under data key %08x, not the "
                                "conversation's (%08x)",
                                column, (unsigned)id, (unsigned)dek->id);
    size_t plain = len - PARLEY__SEAL_OVERHEAD;
    if (!(text = parley__malloc(plain + 1)))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    size_t adlen = make_ad(ad, "parley-value", conv, column, n, blob);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (unsigned char *)text, NULL, NULL, blob + SEAL_HEADER + NONCE_BYTES,
            len - SEAL_HEADER - NONCE_BYTES, ad, adlen, blob + SEAL_HEADER, dek->key) != 0) {
        parley__free_secure(text, plain + 1);
        return parley_error_set(err, PARLEY_ERR_CORRUPT,
                                "stored %s fails its integrity check (damaged, tampered with or "
                                "moved from elsewhere)",
                                column);
    }
    text[plain] = '\0';
    *out = text;
    return PARLEY_OK;
}
