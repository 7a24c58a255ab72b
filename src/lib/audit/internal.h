/* Private to the audit module (audit.c: open, append, list; verify.c: the
 * chain check; prune.c: retention; json.c: the body checker; keys.c: key files; explain.c). */
#ifndef PARLEY_AUDIT_INTERNAL_H
#define PARLEY_AUDIT_INTERNAL_H

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>

#include "common/internal.h"
#include "parley/audit.h"

enum audit_stmt {
    AS_BEGIN,
    AS_COMMIT,
    AS_ROLLBACK,
    AS_INSERT,
    AS_TAIL,
    AS_CHECKPOINT,
    AS_HAS_CHECKPOINT,
    AS_BY_CONVERSATION,
    AS_BY_CUSTOMER,
    AS__COUNT
};

struct parley_audit {
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *stmt[AS__COUNT];
    char path[4096]; /* the file, "" for :memory: (verify reads it apart) */
    int64_t interval;
    int has_key;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    /* The chain's tail as this handle last saw it. */
    int64_t last_seq;
    unsigned char last_hash[PARLEY_AUDIT_HASH_SIZE];
};

/* hash_n = BLAKE2b-256(prev || canonical bytes of `r`) into `out`. */
void parley__audit_hash(const unsigned char prev[PARLEY_AUDIT_HASH_SIZE],
                        const parley_audit_record *r, size_t kind_len, size_t conv_len,
                        size_t cust_len, size_t body_len,
                        unsigned char out[PARLEY_AUDIT_HASH_SIZE]);

/* The bytes a checkpoint signature covers. */
#define AUDIT_SIGNED_SIZE (16 + 8 + 8 + PARLEY_AUDIT_HASH_SIZE)
void parley__audit_signed_bytes(int64_t seq, int64_t time,
                                const unsigned char hash[PARLEY_AUDIT_HASH_SIZE],
                                unsigned char out[AUDIT_SIGNED_SIZE]);

/* Key files: hex text after a header line. */
parley_err parley__audit_load_secret(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES],
                                     parley_error *err);
parley_err parley__audit_load_public(const char *path, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                                     parley_error *err);

/* parley_audit_append without the reserved-kind check: prune.c writes
 * "retention" records with it. */
parley_err parley__audit_append(parley_audit *a, const parley_audit_record *rec, int64_t *seq_out,
                                parley_error *err);

/* SQLite helpers shared by the files of the module. */
parley_err parley__audit_sqlfail(sqlite3 *db, int rc, parley_error *err);
sqlite3_stmt *parley__audit_stmt(parley_audit *a, enum audit_stmt id, parley_error *err);
void parley__audit_done(sqlite3_stmt *st);
void parley__audit_lock(parley_audit *a);
void parley__audit_unlock(parley_audit *a);

#endif
