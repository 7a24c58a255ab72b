/* API keys: "pk_" + a public id + "_" + a random secret. Only a BLAKE2b
 * hash of the secret is stored (libsodium); checking compares hashes in
 * constant time. Keys are random 256-bit values, so a fast hash is enough
 * (a password hash would cost every request milliseconds). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "server/server.h"

#define ID_HEX     12
#define SECRET_RAW 32
#define HASH_LEN   32

static const char *const roles[] = {"channel", "agent", "admin", "events", NULL};

static int valid_role(const char *role)
{
    for (size_t i = 0; roles[i]; i++)
        if (role && strcmp(role, roles[i]) == 0)
            return 1;
    return 0;
}

/* The stored hash of a key's secret, bound to its id. */
static void hash_secret(const char *id, const char *secret, unsigned char out[HASH_LEN])
{
    crypto_generichash_state st;
    (void)crypto_generichash_init(&st, NULL, 0, HASH_LEN);
    (void)crypto_generichash_update(&st, (const unsigned char *)id, strlen(id));
    (void)crypto_generichash_update(&st, (const unsigned char *)":", 1);
    (void)crypto_generichash_update(&st, (const unsigned char *)secret, strlen(secret));
    (void)crypto_generichash_final(&st, out, HASH_LEN);
}

parley_err parley_server_key_create(parley_store *store, const char *role, const char *label,
                                    char key_out[PARLEY_KEY_TEXT_SIZE], parley_error *err)
{
    unsigned char raw_id[ID_HEX / 2], secret[SECRET_RAW], hash[HASH_LEN];
    char id[ID_HEX + 1],
        text[sodium_base64_ENCODED_LEN(SECRET_RAW, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    parley_store_key k;
    parley_err rc;

    if (!valid_role(role))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot create key: role '%.32s' is not channel, agent, admin or "
                                "events",
                                role ? role : "");
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot create key: libsodium failed to start");
    randombytes_buf(raw_id, sizeof(raw_id));
    randombytes_buf(secret, sizeof(secret));
    (void)sodium_bin2hex(id, sizeof(id), raw_id, sizeof(raw_id));
    (void)sodium_bin2base64(text, sizeof(text), secret, sizeof(secret),
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    hash_secret(id, text, hash);
    memset(&k, 0, sizeof(k));
    k.id = id;
    k.role = role;
    k.hash = hash;
    k.hash_len = sizeof(hash);
    k.label = label ? label : "";
    rc = parley_store_key_add(store, &k, err);
    if (rc == PARLEY_OK)
        (void)snprintf(key_out, PARLEY_KEY_TEXT_SIZE, "pk_%s_%s", id, text);
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(text, sizeof(text));
    return rc;
}

struct found {
    char role[16];
    unsigned char hash[HASH_LEN];
    int ok;
};

static int on_key(const parley_store_key *k, void *userdata)
{
    struct found *f = userdata;
    if (k->revoked || k->hash_len != HASH_LEN || strlen(k->role) >= sizeof(f->role))
        return 0;
    memcpy(f->hash, k->hash, HASH_LEN);
    (void)snprintf(f->role, sizeof(f->role), "%s", k->role);
    f->ok = 1;
    return 0;
}

parley_err parley_server_key_check(parley_store *store, const char *key, char role_out[16],
                                   parley_error *err)
{
    char id[ID_HEX + 1];
    unsigned char hash[HASH_LEN];
    struct found f;
    parley_error e = PARLEY_ERROR_INIT;

    memset(&f, 0, sizeof(f));
    if (!key || strncmp(key, "pk_", 3) != 0 || strlen(key) < 3 + ID_HEX + 2 ||
        strlen(key) >= PARLEY_KEY_TEXT_SIZE || key[3 + ID_HEX] != '_')
        return parley_error_set(err, PARLEY_ERR_NOTFOUND, "malformed API key");
    memcpy(id, key + 3, ID_HEX);
    id[ID_HEX] = '\0';
    for (size_t i = 0; i < ID_HEX; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return parley_error_set(err, PARLEY_ERR_NOTFOUND, "malformed API key");
    parley_err rc = parley_store_key_find(store, id, on_key, &f, &e);
    if (rc == PARLEY_ERR_NOTFOUND || (rc == PARLEY_OK && !f.ok))
        return parley_error_set(err, PARLEY_ERR_NOTFOUND, "unknown or revoked API key");
    if (rc != PARLEY_OK)
        return parley_error_set(err, rc, "%s", e.msg);
    hash_secret(id, key + 3 + ID_HEX + 1, hash);
    if (sodium_memcmp(hash, f.hash, HASH_LEN) != 0)
        return parley_error_set(err, PARLEY_ERR_NOTFOUND, "unknown or revoked API key");
    memcpy(role_out, f.role, sizeof(f.role));
    return PARLEY_OK;
}
