/* The web pages (chat widget, chat page, agent console): the files of the
 * web folder, read once at start and served from memory with their
 * content types. Only plain names and one level of folders are served;
 * nothing outside the folder can be named. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "server/internal.h"

#define WEB_MAX_FILES 256
#define WEB_MAX_SIZE  (8u * 1024 * 1024)

struct webfile {
    char path[160]; /* "/chat.css", "/img/logo.png" */
    const char *type;
    char *data;
    size_t len;
};

struct webfiles {
    struct webfile f[WEB_MAX_FILES];
    size_t n;
};

static const char *type_of(const char *name)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(dot, map[i][0]) == 0)
            return map[i][1];
    return NULL; /* not served */
}

static int plain_name(const char *n)
{
    if (n[0] == '.' || strlen(n) > 64)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

static parley_err load_dir(struct webfiles *w, const char *root, const char *sub, parley_error *err)
{
    char dir[1200];
    DIR *d;
    struct dirent *de;
    parley_err rc = PARLEY_OK;
    (void)snprintf(dir, sizeof(dir), "%s%s%s", root, sub[0] ? "/" : "", sub);
    if (!(d = opendir(dir)))
        return parley_error_set(err, PARLEY_ERR_IO, "cannot read web folder '%s'", dir);
    while (rc == PARLEY_OK && (de = readdir(d))) {
        char path[1400];
        struct stat st;
        if (!plain_name(de->d_name))
            continue;
        (void)snprintf(path, sizeof(path), "%.1200s/%.64s", dir, de->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (!sub[0] && strcmp(de->d_name, "node_modules") != 0)
                rc = load_dir(w, root, de->d_name, err);
            continue;
        }
        const char *type = type_of(de->d_name);
        if (!S_ISREG(st.st_mode) || !type)
            continue;
        if (w->n == WEB_MAX_FILES) {
            rc = parley_error_set(err, PARLEY_ERR_LIMIT, "web folder '%s' has over %d files", root,
                                  WEB_MAX_FILES);
            break;
        }
        struct webfile *f = &w->f[w->n];
        (void)snprintf(f->path, sizeof(f->path), "%s%.64s/%.64s", sub[0] ? "/" : "", sub,
                       de->d_name);
        f->type = type;
        if ((rc = parley__read_file(path, WEB_MAX_SIZE, &f->data, &f->len, err)) != PARLEY_OK)
            break;
        w->n++;
    }
    (void)closedir(d);
    return rc;
}

parley_err web_load(const char *dir, struct webfiles **out, parley_error *err)
{
    struct webfiles *w = parley__calloc(1, sizeof(*w));
    if (!w)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    parley_err rc = load_dir(w, dir, "", err);
    if (rc != PARLEY_OK) {
        web_free(w);
        return rc;
    }
    *out = w;
    return PARLEY_OK;
}

void web_free(struct webfiles *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        parley__free(w->f[i].data);
    parley__free(w);
}

struct MHD_Response *web_response(struct webfiles *w, const char *path)
{
    if (!w)
        return NULL;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    else if (strcmp(path, "/console") == 0)
        path = "/console.html";
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->f[i].path, path) == 0) {
            struct MHD_Response *r =
                MHD_create_response_from_buffer(w->f[i].len, w->f[i].data, MHD_RESPMEM_PERSISTENT);
            if (r) {
                (void)MHD_add_response_header(r, "Content-Type", w->f[i].type);
                (void)MHD_add_response_header(r, "Cache-Control", "no-cache");
            }
            return r;
        }
    return NULL;
}
