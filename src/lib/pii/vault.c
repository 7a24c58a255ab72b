/* The token vault: values replaced by the tokenize operator, each stored
 * once, encrypted with XChaCha20-Poly1305 under a key the vault does not
 * hold, in its own SQLite file, so that an administrator with the key can
 * get a value back and anyone else, the database included, cannot.
 *
 * Three keys are derived from the vault key with keyed BLAKE2b: one names
 * tokens (a keyed hash of the type and the normalised value: one value,
 * one row, and a token says nothing about its value), one encrypts (a
 * random nonce per record; the type and the token are associated data, so
 * a record cannot be moved to another token), and one gives the check
 * value stored at creation, so that a wrong key is refused at open rather
 * than by mixing rows of two keys. */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pii/operators.h"

#define VAULT_SCHEMA_VERSION 1
#define TOKEN_BYTES          12 /* 96 bits: "tok_" and 24 hex digits */
#define NONCE_BYTES          crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES            crypto_aead_xchacha20poly1305_ietf_ABYTES

struct parley_pii_vault {
    sqlite3 *db;
    sqlite3_stmt *find, *insert, *get;
    pthread_mutex_t lock;
    uint8_t tok_key[PARLEY_PII_KEY_SIZE];
    uint8_t enc_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER PRIMARY KEY,"
    " applied INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS pii_vault_meta (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " key_check BLOB NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS pii_tokens (token TEXT PRIMARY KEY, type TEXT NOT NULL,"
    " nonce BLOB NOT NULL, value BLOB NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;";

static parley_err sqlfail(sqlite3 *db, const char *what, parley_error *err)
{
    return parley_error_set(err, PARLEY_ERR_IO, "vault: cannot %s: %s", what,
                            db ? sqlite3_errmsg(db) : "out of memory");
}

/* One of the keys derived from the vault key, by purpose. */
static void derive(const uint8_t key[PARLEY_PII_KEY_SIZE], const char *purpose, uint8_t *out,
                   size_t n)
{
    (void)crypto_generichash(out, n, (const unsigned char *)purpose, strlen(purpose), key,
                             PARLEY_PII_KEY_SIZE);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Creates the schema of a new file, or checks the version and the key of
 * an existing one, in one transaction (two processes may open at once). */
static parley_err setup(parley_pii_vault *v, const uint8_t check[32], parley_error *err)
{
    sqlite3_stmt *st = NULL;
    parley_err rc = PARLEY_OK;
    int r;

    if (sqlite3_exec(v->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_exec(v->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqlfail(v->db, "open", err);
    if (sqlite3_exec(v->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        rc = sqlfail(v->db, "create its tables (is it a vault?)", err);
        goto out;
    }
    if (sqlite3_prepare_v2(v->db,
                           "SELECT (SELECT MAX(version) FROM parley_schema),"
                           " (SELECT key_check FROM pii_vault_meta WHERE id = 1)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = sqlfail(v->db, "read its schema", err);
        goto out;
    }
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        char sql[160];
        sqlite3_stmt *ins = NULL;
        (void)snprintf(sql, sizeof(sql),
                       "INSERT INTO parley_schema (version, applied) VALUES (%d, %lld)",
                       VAULT_SCHEMA_VERSION, (long long)now_ms());
        if (sqlite3_exec(v->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(v->db,
                               "INSERT INTO pii_vault_meta (id, key_check, created) VALUES (1, "
                               "?, ?)",
                               -1, &ins, NULL) != SQLITE_OK) {
            rc = sqlfail(v->db, "create its schema", err);
            goto out;
        }
        (void)sqlite3_bind_blob(ins, 1, check, 32, SQLITE_STATIC);
        (void)sqlite3_bind_int64(ins, 2, now_ms());
        r = sqlite3_step(ins);
        (void)sqlite3_finalize(ins);
        if (r != SQLITE_DONE)
            rc = sqlfail(v->db, "create its schema", err);
        goto out;
    }
    if (sqlite3_column_int64(st, 0) > VAULT_SCHEMA_VERSION) {
        rc = parley_error_set(err, PARLEY_ERR_VERSION,
                              "vault schema version %lld is newer than this build supports (%d); "
                              "upgrade parley",
                              (long long)sqlite3_column_int64(st, 0), VAULT_SCHEMA_VERSION);
        goto out;
    }
    if (sqlite3_column_bytes(st, 1) != 32) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT, "vault has no key check value: not a vault");
        goto out;
    }
    if (sodium_memcmp(sqlite3_column_blob(st, 1), check, 32) != 0)
        rc = parley_error_set(err, PARLEY_ERR_CORRUPT,
                              "vault was made with another key: check the vault key setting");
out:
    (void)sqlite3_finalize(st);
    if (sqlite3_exec(v->db, rc == PARLEY_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) !=
            SQLITE_OK &&
        rc == PARLEY_OK)
        rc = sqlfail(v->db, "create its schema", err);
    return rc;
}

void parley_pii_vault_close(parley_pii_vault *v)
{
    if (!v)
        return;
    (void)sqlite3_finalize(v->find);
    (void)sqlite3_finalize(v->insert);
    (void)sqlite3_finalize(v->get);
    (void)sqlite3_close(v->db);
    (void)pthread_mutex_destroy(&v->lock);
    parley__free_secure(v, sizeof(*v));
}

parley_err parley_pii_vault_open(const char *path, const uint8_t key[PARLEY_PII_KEY_SIZE],
                                 parley_pii_vault **out, parley_error *err)
{
    parley_pii_vault *v = NULL;
    uint8_t check[32];
    parley_err rc = PARLEY_OK;

    if (!path || !*path || !key || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "vault: no file or no key given");
    if (sodium_init() < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot initialise libsodium");
    if (!(v = parley__calloc(1, sizeof(*v))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    if (pthread_mutex_init(&v->lock, NULL) != 0) {
        parley__free(v);
        return parley_error_set(err, PARLEY_ERR_NOMEM, "vault: cannot make a mutex");
    }
    derive(key, "parley-pii-vault-token-v1", v->tok_key, sizeof(v->tok_key));
    derive(key, "parley-pii-vault-encrypt-v1", v->enc_key, sizeof(v->enc_key));
    derive(key, "parley-pii-vault-check-v1", check, sizeof(check));
    /* Encrypted values are still nobody else's business: a new vault (and
     * so its -wal and -shm files, which SQLite makes alike) is owner-only.
     * Only a new file: closing a descriptor of one SQLite has open in this
     * process would drop SQLite's locks on it. */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        (void)close(fd);
    if (sqlite3_open_v2(path, &v->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot open vault '%s': %s", path,
                              v->db ? sqlite3_errmsg(v->db) : "out of memory");
        goto out;
    }
    (void)sqlite3_busy_timeout(v->db, 5000);
    if ((rc = setup(v, check, err)) != PARLEY_OK) {
        parley_error_prefix(err, "cannot open vault '%s'", path);
        goto out;
    }
    if (sqlite3_prepare_v3(v->db, "SELECT 1 FROM pii_tokens WHERE token = ?", -1,
                           SQLITE_PREPARE_PERSISTENT, &v->find, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(v->db,
                           "INSERT OR IGNORE INTO pii_tokens (token, type, nonce, value, created)"
                           " VALUES (?, ?, ?, ?, ?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &v->insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(v->db, "SELECT type, nonce, value FROM pii_tokens WHERE token = ?", -1,
                           SQLITE_PREPARE_PERSISTENT, &v->get, NULL) != SQLITE_OK)
        rc = sqlfail(v->db, "prepare its statements", err);
out:
    sodium_memzero(check, sizeof(check));
    if (rc != PARLEY_OK)
        parley_pii_vault_close(v);
    else
        *out = v;
    return rc;
}

/* The associated data of a record: its type name, a NUL, its token. */
static size_t make_ad(char *ad, size_t size, const char *type, const char *token)
{
    int n = snprintf(ad, size, "%s%c%s", type, '\0', token);
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

parley_err parley_pii_vault_tokenize(parley_pii_vault *v, parley_pii_type type, const char *value,
                                     size_t len, char token[PARLEY_PII_TOKEN_SIZE],
                                     parley_error *err)
{
    crypto_generichash_state st;
    uint8_t h[TOKEN_BYTES], nonce[NONCE_BYTES];
    char tok[PARLEY_PII_TOKEN_SIZE], ad[64];
    unsigned char *ct = NULL;
    unsigned long long ct_len = 0;
    parley_err rc = PARLEY_OK;
    const char *tname = parley_pii_type_name(type);

    if (!v || (unsigned)type >= PARLEY_PII_N_TYPES || (!value && len) || !token)
        return parley_error_set(err, PARLEY_ERR_INVALID, "vault tokenize: bad argument");
    if (len > PARLEY_PII_MAX_TEXT)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "vault tokenize: value too long");
    (void)crypto_generichash_init(&st, v->tok_key, sizeof(v->tok_key), sizeof(h));
    pii_hash_value(&st, type, value, len);
    (void)crypto_generichash_final(&st, h, sizeof(h));
    tok[0] = 't';
    tok[1] = 'o';
    tok[2] = 'k';
    tok[3] = '_';
    (void)sodium_bin2hex(tok + 4, sizeof(tok) - 4, h, sizeof(h));

    (void)pthread_mutex_lock(&v->lock);
    (void)sqlite3_bind_text(v->find, 1, tok, -1, SQLITE_STATIC);
    int r = sqlite3_step(v->find);
    (void)sqlite3_reset(v->find);
    if (r == SQLITE_ROW)
        goto out;
    if (r != SQLITE_DONE) {
        rc = sqlfail(v->db, "look a token up", err);
        goto out;
    }
    if (!(ct = parley__malloc(len + TAG_BYTES))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    randombytes_buf(nonce, sizeof(nonce));
    size_t ad_len = make_ad(ad, sizeof(ad), tname, tok);
    (void)crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, (const unsigned char *)value, len,
                                                     (const unsigned char *)ad, ad_len, NULL, nonce,
                                                     v->enc_key);
    (void)sqlite3_bind_text(v->insert, 1, tok, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(v->insert, 2, tname, -1, SQLITE_STATIC);
    (void)sqlite3_bind_blob(v->insert, 3, nonce, sizeof(nonce), SQLITE_STATIC);
    (void)sqlite3_bind_blob(v->insert, 4, ct, (int)ct_len, SQLITE_STATIC);
    (void)sqlite3_bind_int64(v->insert, 5, now_ms());
    r = sqlite3_step(v->insert);
    (void)sqlite3_reset(v->insert);
    (void)sqlite3_clear_bindings(v->insert);
    if (r != SQLITE_DONE)
        rc = sqlfail(v->db, "store a token", err);
out:
    (void)pthread_mutex_unlock(&v->lock);
    parley__free(ct);
    if (rc == PARLEY_OK)
        memcpy(token, tok, strlen(tok) + 1);
    return rc;
}

/* The "tok_<hex>" inside `s` ("tok_..." or "[PHONE#tok_...]") into `tok`. */
static int parse_token(const char *s, char tok[PARLEY_PII_TOKEN_SIZE])
{
    const char *hash = strchr(s, '#');
    size_t n;
    if (s[0] == '[' && hash)
        s = hash + 1;
    n = strlen(s);
    if (n > 0 && s[n - 1] == ']' && hash)
        n--;
    if (n != 4 + 2 * TOKEN_BYTES || strncmp(s, "tok_", 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    memcpy(tok, s, n);
    tok[n] = '\0';
    return 1;
}

parley_err parley_pii_vault_detokenize(parley_pii_vault *v, const char *token, char **value_out,
                                       parley_pii_type *type_out, parley_error *err)
{
    char tok[PARLEY_PII_TOKEN_SIZE], ad[64];
    char *value = NULL;
    parley_pii_type type = PARLEY_PII_N_TYPES;
    unsigned long long len = 0;
    parley_err rc = PARLEY_OK;

    if (!v || !token || !value_out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "vault detokenize: bad argument");
    if (!parse_token(token, tok))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "'%.80s' is not a vault token (tok_ and 24 hex digits)", token);
    (void)pthread_mutex_lock(&v->lock);
    (void)sqlite3_bind_text(v->get, 1, tok, -1, SQLITE_STATIC);
    int r = sqlite3_step(v->get);
    if (r == SQLITE_DONE) {
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "token '%s' is not in the vault", tok);
        goto out;
    }
    if (r != SQLITE_ROW) {
        rc = sqlfail(v->db, "read a token", err);
        goto out;
    }
    const char *tname = (const char *)sqlite3_column_text(v->get, 0);
    const unsigned char *nonce = sqlite3_column_blob(v->get, 1);
    const unsigned char *ct = sqlite3_column_blob(v->get, 2);
    int nonce_len = sqlite3_column_bytes(v->get, 1), ct_len = sqlite3_column_bytes(v->get, 2);
    if (!tname || !parley_pii_type_parse(tname, &type) || !nonce || nonce_len != NONCE_BYTES ||
        !ct || ct_len < (int)TAG_BYTES) {
        rc =
            parley_error_set(err, PARLEY_ERR_CORRUPT, "vault record of token '%s' is damaged", tok);
        goto out;
    }
    if (!(value = parley__malloc((size_t)ct_len - TAG_BYTES + 1))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t ad_len = make_ad(ad, sizeof(ad), tname, tok);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (unsigned char *)value, &len, NULL, ct, (unsigned long long)ct_len,
            (const unsigned char *)ad, ad_len, nonce, v->enc_key) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_CORRUPT,
                              "vault record of token '%s' fails authentication: another key, or "
                              "the record was altered",
                              tok);
        goto out;
    }
    value[len] = '\0';
out:
    (void)sqlite3_reset(v->get);
    (void)sqlite3_clear_bindings(v->get);
    (void)pthread_mutex_unlock(&v->lock);
    if (rc != PARLEY_OK) {
        parley__free(value);
        return rc;
    }
    *value_out = value;
    if (type_out)
        *type_out = type;
    return PARLEY_OK;
}
