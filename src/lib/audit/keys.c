/* Checkpoint signing keys: an Ed25519 key pair made by libsodium, the
 * secret half in a file only its owner can read and the public half in
 * FILE.pub, so that verifying needs nothing secret. Both are one header
 * line and the key in hex. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/internal.h"

static const char secret_header[] = "parley-audit-secret-key-v1\n";
static const char public_header[] = "parley-audit-public-key-v1\n";

static parley_err sodium_ready(parley_error *err)
{
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot initialise libsodium");
    return PARLEY_OK;
}

/* Writes header + hex(key) + "\n" to a new file of mode `mode`. */
static parley_err write_key(const char *path, const char *header, const unsigned char *key,
                            size_t n, mode_t mode, parley_error *err)
{
    char text[64 + 2 * crypto_sign_SECRETKEYBYTES + 2];
    size_t hl = strlen(header);
    parley_err rc = PARLEY_OK;

    memcpy(text, header, hl + 1);
    (void)sodium_bin2hex(text + hl, sizeof(text) - hl, key, n);
    size_t len = hl + 2 * n;
    text[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot create key file '%s': %s", path,
                              strerror(errno));
        goto out;
    }
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write key file '%s': %s", path,
                              strerror(errno));
        (void)unlink(path);
    }
    (void)close(fd);
out:
    sodium_memzero(text, sizeof(text));
    return rc;
}

parley_err parley_audit_keygen(const char *path, parley_error *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char pub[4200];
    parley_err rc;

    if (!path || !path[0])
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot make audit key: no file given");
    if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub))
        return parley_error_set(err, PARLEY_ERR_LIMIT, "cannot make audit key: path too long");
    if ((rc = sodium_ready(err)) != PARLEY_OK)
        return rc;
    if (crypto_sign_keypair(pk, sk) != 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot make audit key: libsodium failed");
    if ((rc = write_key(path, secret_header, sk, sizeof(sk), 0600, err)) == PARLEY_OK &&
        (rc = write_key(pub, public_header, pk, sizeof(pk), 0644, err)) != PARLEY_OK)
        (void)unlink(path);
    sodium_memzero(sk, sizeof(sk));
    return rc;
}

/* Reads a key file of `n` bytes of key under `header` into `key`. */
static parley_err load_key(const char *path, const char *header, int secret, unsigned char *key,
                           size_t n, parley_error *err)
{
    char text[64 + 2 * crypto_sign_SECRETKEYBYTES + 8];
    size_t hl = strlen(header), len = 0, bin_len = 0;
    parley_err rc = PARLEY_OK;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot read key file '%s': %s", path,
                                strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot read key file '%s': %s", path,
                              strerror(errno));
        goto out;
    }
    if (secret && (st.st_mode & 077)) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "secret key file '%s' can be read by others (mode %04o); "
                              "chmod 600 it",
                              path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    for (;;) {
        ssize_t got = read(fd, text + len, sizeof(text) - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len == sizeof(text) - 1)
            break;
    }
    text[len] = '\0';
    while (len > hl && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    if (len != hl + 2 * n || memcmp(text, header, hl) != 0 ||
        sodium_hex2bin(key, n, text + hl, 2 * n, NULL, &bin_len, NULL) != 0 || bin_len != n)
        rc = parley_error_set(err, PARLEY_ERR_FORMAT,
                              "'%s' is not a parley audit %s key file (made by parley audit "
                              "keygen)",
                              path, secret ? "secret" : "public");
out:
    sodium_memzero(text, sizeof(text));
    (void)close(fd);
    return rc;
}

parley_err parley__audit_load_secret(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES],
                                     parley_error *err)
{
    parley_err rc = sodium_ready(err);
    return rc != PARLEY_OK ? rc
                           : load_key(path, secret_header, 1, sk, crypto_sign_SECRETKEYBYTES, err);
}

parley_err parley__audit_load_public(const char *path, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                                     parley_error *err)
{
    parley_err rc = sodium_ready(err);
    return rc != PARLEY_OK ? rc
                           : load_key(path, public_header, 0, pk, crypto_sign_PUBLICKEYBYTES, err);
}
