/* 32-byte secrets as configuration gives them (the store's master keys, the
 * hash and vault keys of the pii operators): 64 hex digits in a file only
 * its owner can read, or in an environment variable; never beside the data
 * they protect. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"

#define HEX_LEN (2 * PARLEY__KEY32)

/* Decodes 64 hex digits surrounded by optional white space. */
static parley_err parse_hex(const char *text, size_t len, const char *where, const char *what,
                            const char *keygen, unsigned char key[PARLEY__KEY32], parley_error *err)
{
    size_t bin_len = 0;
    while (len > 0 && isspace((unsigned char)*text)) {
        text++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len != HEX_LEN ||
        sodium_hex2bin(key, PARLEY__KEY32, text, len, NULL, &bin_len, NULL) != 0 ||
        bin_len != PARLEY__KEY32)
        return parley_error_set(err, PARLEY_ERR_FORMAT,
                                "%s does not hold a %s: wanted %d hex digits (make one with %s)",
                                where, what, HEX_LEN, keygen);
    return PARLEY_OK;
}

static parley_err load_file(const char *path, const char *what, const char *keygen,
                            unsigned char key[PARLEY__KEY32], parley_error *err)
{
    char text[256], where[160];
    size_t len = 0;
    struct stat st;
    parley_err rc = PARLEY_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot read %s file '%s': %s", what, path,
                                strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot read %s file '%s': %s", what, path,
                              strerror(errno));
        goto out;
    }
    if (st.st_mode & 077) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "%s file '%s' can be read by others (mode %04o); chmod 600 it", what,
                              path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    for (;;) {
        ssize_t got = read(fd, text + len, sizeof(text) - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = parley_error_set(err, PARLEY_ERR_IO, "cannot read %s file '%s': %s", what, path,
                                  strerror(errno));
            goto out;
        }
        if (got == 0 || (len += (size_t)got) == sizeof(text))
            break;
    }
    (void)snprintf(where, sizeof(where), "%s file '%.100s'", what, path);
    rc = parse_hex(text, len, where, what, keygen, key, err);
out:
    sodium_memzero(text, sizeof(text));
    (void)close(fd);
    return rc;
}

parley_err parley__key32_load(const char *spec, int bare_path, const char *what, const char *keygen,
                              unsigned char key[PARLEY__KEY32], parley_error *err)
{
    unsigned char k[PARLEY__KEY32];
    parley_err rc;

    if (!spec || !*spec)
        return parley_error_set(err, PARLEY_ERR_INVALID, "no %s given (file:PATH or env:NAME)",
                                what);
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot initialise libsodium");
    if (strncmp(spec, "env:", 4) == 0 && spec[4]) {
        const char *v = getenv(spec + 4);
        char where[160];
        (void)snprintf(where, sizeof(where), "environment variable '%.100s'", spec + 4);
        rc = v ? parse_hex(v, strlen(v), where, what, keygen, k, err)
               : parley_error_set(err, PARLEY_ERR_INVALID,
                                  "environment variable '%s' is not set (it should hold the %s)",
                                  spec + 4, what);
    } else if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
        rc = load_file(spec + 5, what, keygen, k, err);
    } else if (bare_path && strncmp(spec, "env:", 4) != 0 && strcmp(spec, "file:") != 0) {
        rc = load_file(spec, what, keygen, k, err);
    } else {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "cannot load %s '%.64s': expected file:PATH or env:NAME", what, spec);
    }
    if (rc == PARLEY_OK)
        memcpy(key, k, sizeof(k));
    sodium_memzero(k, sizeof(k));
    return rc;
}

parley_err parley__key32_generate(const char *path, const char *what, parley_error *err)
{
    unsigned char k[PARLEY__KEY32];
    char text[HEX_LEN + 2];
    parley_err rc = PARLEY_OK;
    int fd;

    if (!path || !*path)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot make %s: no file given", what);
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot initialise libsodium");
    randombytes_buf(k, sizeof(k));
    (void)sodium_bin2hex(text, sizeof(text), k, sizeof(k));
    text[HEX_LEN] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot create %s file '%s': %s", what, path,
                              strerror(errno));
        goto out;
    }
    if (write(fd, text, HEX_LEN + 1) != HEX_LEN + 1 || fsync(fd) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write %s file '%s': %s", what, path,
                              strerror(errno));
        (void)unlink(path);
    }
    (void)close(fd);
out:
    sodium_memzero(k, sizeof(k));
    sodium_memzero(text, sizeof(text));
    return rc;
}
