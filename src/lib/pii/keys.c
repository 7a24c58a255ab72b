/* The keys of the hash operator and of the token vault: 32 random bytes
 * written as 64 hex digits, read from a file only its owner can read or
 * from an environment variable, so they live in configuration and never
 * beside the data they protect. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pii/internal.h"

#define HEX_LEN (2 * PARLEY_PII_KEY_SIZE)

/* Decodes exactly 64 hex digits followed by optional white space. */
static parley_err parse_hex(const char *text, size_t len, const char *what,
                            uint8_t key[PARLEY_PII_KEY_SIZE], parley_error *err)
{
    size_t bin_len = 0;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' ||
                       text[len - 1] == '\t'))
        len--;
    if (len != HEX_LEN ||
        sodium_hex2bin(key, PARLEY_PII_KEY_SIZE, text, len, NULL, &bin_len, NULL) != 0 ||
        bin_len != PARLEY_PII_KEY_SIZE)
        return parley_error_set(err, PARLEY_ERR_FORMAT,
                                "%s does not hold a key: wanted %d hex digits (make one with "
                                "parley vault keygen)",
                                what, HEX_LEN);
    return PARLEY_OK;
}

static parley_err load_env(const char *name, uint8_t key[PARLEY_PII_KEY_SIZE], parley_error *err)
{
    char what[160];
    const char *v = *name ? getenv(name) : NULL;
    if (!*name)
        return parley_error_set(err, PARLEY_ERR_INVALID, "key 'env:' names no variable");
    if (!v)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "environment variable '%s' is not set (it should hold the key)",
                                name);
    (void)snprintf(what, sizeof(what), "environment variable '%s'", name);
    return parse_hex(v, strlen(v), what, key, err);
}

static parley_err load_file(const char *path, uint8_t key[PARLEY_PII_KEY_SIZE], parley_error *err)
{
    char text[HEX_LEN + 16], what[160];
    size_t len = 0;
    struct stat st;
    parley_err rc = PARLEY_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot read key file '%s': %s", path,
                                strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot read key file '%s': %s", path,
                              strerror(errno));
        goto out;
    }
    if (st.st_mode & 077) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "key file '%s' can be read by others (mode %04o); chmod 600 it", path,
                              (unsigned)(st.st_mode & 07777));
        goto out;
    }
    for (;;) {
        ssize_t got = read(fd, text + len, sizeof(text) - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = parley_error_set(err, PARLEY_ERR_IO, "cannot read key file '%s': %s", path,
                                  strerror(errno));
            goto out;
        }
        if (got == 0 || (len += (size_t)got) == sizeof(text))
            break;
    }
    (void)snprintf(what, sizeof(what), "key file '%s'", path);
    rc = parse_hex(text, len, what, key, err);
out:
    sodium_memzero(text, sizeof(text));
    (void)close(fd);
    return rc;
}

parley_err parley_pii_key_load(const char *spec, uint8_t key[PARLEY_PII_KEY_SIZE],
                               parley_error *err)
{
    uint8_t k[PARLEY_PII_KEY_SIZE];
    parley_err rc;

    if (!spec || !*spec)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "no key given (a key file, or env:VARIABLE)");
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot initialise libsodium");
    if (strncmp(spec, "env:", 4) == 0)
        rc = load_env(spec + 4, k, err);
    else
        rc = load_file(strncmp(spec, "file:", 5) == 0 ? spec + 5 : spec, k, err);
    if (rc == PARLEY_OK)
        memcpy(key, k, sizeof(k));
    sodium_memzero(k, sizeof(k));
    return rc;
}

parley_err parley_pii_key_generate(const char *path, parley_error *err)
{
    uint8_t k[PARLEY_PII_KEY_SIZE];
    char text[HEX_LEN + 2];
    parley_err rc = PARLEY_OK;
    int fd;

    if (!path || !*path)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot make key: no file given");
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot initialise libsodium");
    randombytes_buf(k, sizeof(k));
    (void)sodium_bin2hex(text, sizeof(text), k, sizeof(k));
    text[HEX_LEN] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot create key file '%s': %s", path,
                              strerror(errno));
        goto out;
    }
    if (write(fd, text, HEX_LEN + 1) != HEX_LEN + 1 || fsync(fd) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write key file '%s': %s", path,
                              strerror(errno));
        (void)unlink(path);
    }
    (void)close(fd);
out:
    sodium_memzero(k, sizeof(k));
    sodium_memzero(text, sizeof(text));
    return rc;
}
