/* The model registry: every trained model kept as a numbered version with
 * its summary and report, which one is current per language, and a
 * history (history.jsonl) that promotion and rollback append to. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "learn/run.h"

#define PATH_SIZE 4300

static int version_ok(const char *v)
{
    if (v[0] != 'v' || strlen(v) != 7)
        return 0;
    for (int i = 1; i < 7; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return 1;
}

static parley_err make_dir(const char *path, parley_error *err)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot create '%s': %s", path,
                                strerror(errno));
    return PARLEY_OK;
}

static parley_err path_of(char *buf, const char *dir, const char *a, const char *b,
                          parley_error *err)
{
    int n = b ? snprintf(buf, PATH_SIZE, "%s/%s/%s", dir, a, b)
              : snprintf(buf, PATH_SIZE, "%s/%s", dir, a);
    if (n < 0 || n >= PATH_SIZE)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "registry path too long");
    return PARLEY_OK;
}

/* Appends one event to history.jsonl, flushed to disk before returning. */
static parley_err history_add(const char *dir, const char *action, const char *language,
                              const char *version, const char *previous, const char *who,
                              parley_error *err)
{
    char path[PATH_SIZE], at[32];
    time_t now = time(NULL);
    struct tm tm;
    parley_err rc = path_of(path, dir, "history.jsonl", NULL, err);
    if (rc != PARLEY_OK)
        return rc;
    (void)gmtime_r(&now, &tm);
    (void)strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "at", at, "who", who ? who : "", "action",
                  action, "language", language, "version", version, "previous", previous);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!line)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    FILE *f = fopen(path, "a");
    if (!f || fprintf(f, "%s\n", line) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot append to '%s': %s", path,
                              strerror(errno));
    if (f && fclose(f) != 0 && rc == PARLEY_OK)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s'", path);
    free(line); /* jansson's */
    return rc;
}

parley_err parley_learn_registry_model_path(const char *dir, const char *version, char *buf,
                                            size_t size, parley_error *err)
{
    if (!version_ok(version))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "'%s' is not a registry version (v000001, v000002...)", version);
    int n = snprintf(buf, size, "%s/versions/%s/model.bin", dir, version);
    if (n < 0 || (size_t)n >= size)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "registry path too long");
    return PARLEY_OK;
}

/* Writes a report into the version's folder through `fn`. */
static parley_err write_report(const char *path, const parley_learn_summary *s,
                               parley_err (*fn)(const parley_learn_summary *, FILE *,
                                                parley_error *),
                               parley_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    parley_err rc = fn(s, f, err);
    if (fclose(f) != 0 && rc == PARLEY_OK)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s'", path);
    return rc;
}

parley_err parley_learn_registry_add(const char *dir, parley_learn_run *r,
                                     char version_out[PARLEY_LEARN_VERSION_SIZE], parley_error *err)
{
    char versions[PATH_SIZE], vdir[PATH_SIZE], path[PATH_SIZE], version[PARLEY_LEARN_VERSION_SIZE];
    long next = 1;
    parley_err rc;
    DIR *d;

    if ((rc = make_dir(dir, err)) != PARLEY_OK ||
        (rc = path_of(versions, dir, "versions", NULL, err)) != PARLEY_OK ||
        (rc = make_dir(versions, err)) != PARLEY_OK)
        return rc;
    if (!(d = opendir(versions)))
        return parley_error_set(err, PARLEY_ERR_IO, "cannot read '%s': %s", versions,
                                strerror(errno));
    for (struct dirent *e; (e = readdir(d));)
        if (version_ok(e->d_name) && strtol(e->d_name + 1, NULL, 10) >= next)
            next = strtol(e->d_name + 1, NULL, 10) + 1;
    (void)closedir(d);
    /* mkdir is the claim: two runs registering at once get two versions. */
    for (;; next++) {
        if (next > 999999)
            return parley_error_set(err, PARLEY_ERR_LIMIT, "the registry '%s' is full", dir);
        (void)snprintf(version, sizeof(version), "v%06d", (int)(next % 1000000));
        if ((rc = path_of(vdir, versions, version, NULL, err)) != PARLEY_OK)
            return rc;
        if (mkdir(vdir, 0750) == 0)
            break;
        if (errno != EEXIST)
            return parley_error_set(err, PARLEY_ERR_IO, "cannot create '%s': %s", vdir,
                                    strerror(errno));
    }
    (void)snprintf(r->version, sizeof(r->version), "%s", version);
    if ((rc = path_of(path, vdir, "model.bin", NULL, err)) != PARLEY_OK ||
        (rc = parley_nlu_model_save(r->model, path, err)) != PARLEY_OK ||
        (rc = path_of(path, vdir, "summary.json", NULL, err)) != PARLEY_OK ||
        (rc = write_report(path, &r->sum, parley_learn_report_json, err)) != PARLEY_OK ||
        (rc = path_of(path, vdir, "report.html", NULL, err)) != PARLEY_OK ||
        (rc = write_report(path, &r->sum, parley_learn_report_html, err)) != PARLEY_OK ||
        (rc = history_add(dir, "register", r->language, version, NULL, r->who, err)) != PARLEY_OK)
        return rc;
    if (version_out)
        memcpy(version_out, version, sizeof(version));
    return PARLEY_OK;
}

parley_err parley_learn_registry_current(const char *dir, const char *language,
                                         char version_out[PARLEY_LEARN_VERSION_SIZE],
                                         parley_error *err)
{
    char path[PATH_SIZE], name[64], *data = NULL;
    size_t len = 0;
    (void)snprintf(name, sizeof(name), "current-%.40s", language);
    parley_err rc = path_of(path, dir, name, NULL, err);
    if (rc != PARLEY_OK)
        return rc;
    if (access(path, F_OK) != 0)
        return parley_error_set(err, PARLEY_ERR_NOTFOUND,
                                "the registry '%s' has no current model for '%s'", dir, language);
    if ((rc = parley__read_file(path, 64, &data, &len, err)) != PARLEY_OK)
        return rc;
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        data[--len] = '\0';
    if (!version_ok(data))
        rc = parley_error_set(err, PARLEY_ERR_CORRUPT, "'%s' does not name a version", path);
    else
        memcpy(version_out, data, len + 1);
    parley__free(data);
    return rc;
}

/* Copies the version's model to MODELS/intent-LANG.model atomically and
 * makes it current. */
static parley_err install(const char *dir, const char *language, const char *version,
                          const char *models_dir, parley_error *err)
{
    char src[PATH_SIZE], dst[PATH_SIZE], name[64], cur[PATH_SIZE], *data = NULL;
    size_t len = 0;
    parley_nlu_model *m = NULL;
    parley_err rc = parley_learn_registry_model_path(dir, version, src, sizeof(src), err);
    if (rc != PARLEY_OK)
        return rc;
    /* A model that does not load is never installed. */
    if ((rc = parley_nlu_model_load(src, &m, err)) != PARLEY_OK) {
        parley_error_prefix(err, "version %s", version);
        return rc;
    }
    parley_nlu_model_free(m);
    (void)snprintf(name, sizeof(name), "intent-%.40s.model", language);
    if (models_dir &&
        ((rc = make_dir(models_dir, err)) != PARLEY_OK ||
         (rc = path_of(dst, models_dir, name, NULL, err)) != PARLEY_OK ||
         (rc = parley__read_file(src, (size_t)1 << 32, &data, &len, err)) != PARLEY_OK ||
         (rc = parley__write_file_atomic(dst, data, len, err)) != PARLEY_OK))
        goto out;
    (void)snprintf(name, sizeof(name), "current-%.40s", language);
    char line[PARLEY_LEARN_VERSION_SIZE + 1];
    (void)snprintf(line, sizeof(line), "%s\n", version);
    if ((rc = path_of(cur, dir, name, NULL, err)) == PARLEY_OK)
        rc = parley__write_file_atomic(cur, line, strlen(line), err);
out:
    parley__free(data);
    return rc;
}

parley_err parley_learn_registry_promote(const char *dir, const char *language, const char *version,
                                         const char *models_dir, const char *who, parley_error *err)
{
    char previous[PARLEY_LEARN_VERSION_SIZE] = "";
    parley_error e2 = PARLEY_ERROR_INIT;
    parley_err rc = parley_learn_registry_current(dir, language, previous, &e2);
    if (rc != PARLEY_OK && rc != PARLEY_ERR_NOTFOUND) {
        if (err)
            *err = e2;
        return rc;
    }
    if ((rc = install(dir, language, version, models_dir, err)) != PARLEY_OK)
        return rc;
    return history_add(dir, "promote", language, version, previous[0] ? previous : NULL, who, err);
}

/* The versions that were current for `language`, oldest first, replaying
 * promotions (push) and rollbacks (pop) from history.jsonl. */
static parley_err current_stack(const char *dir, const char *language, char (**stack)[16],
                                size_t *n, parley_error *err)
{
    char path[PATH_SIZE], *data = NULL;
    size_t len = 0, cap = 0, line = 0;
    parley_err rc = path_of(path, dir, "history.jsonl", NULL, err);
    *stack = NULL;
    *n = 0;
    if (rc != PARLEY_OK)
        return rc;
    if (access(path, F_OK) != 0)
        return PARLEY_OK;
    if ((rc = parley__read_file(path, (size_t)1 << 30, &data, &len, err)) != PARLEY_OK)
        return rc;
    for (char *ln = data, *end = data + len, *nl; ln < end && rc == PARLEY_OK; ln = nl + 1) {
        if (!(nl = memchr(ln, '\n', (size_t)(end - ln))))
            nl = end;
        line++;
        if (nl == ln)
            continue;
        json_error_t je;
        json_t *o = json_loadb(ln, (size_t)(nl - ln), 0, &je);
        const char *action = NULL, *lang = NULL, *version = NULL;
        if (!o ||
            json_unpack(o, "{s:s, s:s, s:s}", "action", &action, "language", &lang, "version",
                        &version) != 0 ||
            !version || !version_ok(version)) {
            rc = parley_error_set(err, PARLEY_ERR_CORRUPT, "%s:%zu: not a history record", path,
                                  line);
        } else if (strcmp(lang, language) == 0 && strcmp(action, "promote") == 0) {
            if (*n == cap) {
                size_t c2 = cap ? cap * 2 : 16;
                char(*g)[16] = parley__realloc(*stack, c2 * sizeof(**stack));
                if (!g)
                    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                else {
                    *stack = g;
                    cap = c2;
                }
            }
            if (rc == PARLEY_OK && *stack)
                memcpy((*stack)[(*n)++], version, 8);
        } else if (strcmp(lang, language) == 0 && strcmp(action, "rollback") == 0 && *n) {
            (*n)--;
        }
        json_decref(o);
    }
    parley__free(data);
    return rc;
}

parley_err parley_learn_registry_rollback(const char *dir, const char *language,
                                          const char *models_dir, const char *who,
                                          char version_out[PARLEY_LEARN_VERSION_SIZE],
                                          parley_error *err)
{
    char(*stack)[16] = NULL;
    size_t n = 0;
    parley_err rc = current_stack(dir, language, &stack, &n, err);
    if (rc != PARLEY_OK)
        goto out;
    if (n < 2 || !stack) {
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND,
                              "no earlier model of '%s' to roll back to in '%s'", language, dir);
        goto out;
    }
    if ((rc = install(dir, language, stack[n - 2], models_dir, err)) != PARLEY_OK ||
        (rc = history_add(dir, "rollback", language, stack[n - 2], stack[n - 1], who, err)) !=
            PARLEY_OK)
        goto out;
    if (version_out)
        memcpy(version_out, stack[n - 2], 8);
out:
    parley__free(stack);
    return rc;
}
