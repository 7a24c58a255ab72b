/* Loads a knowledge base folder: KB/LANG/ID.md, one article per file. The
 * folder is listed first, entries are sorted (language, then id) so the
 * index never depends on readdir order, then each file is read, checked
 * (size, UTF-8, "# Title", optional "tags:", non-empty body) and indexed
 * into its sorted term table. Problems are reported as FILE:LINE. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libstemmer.h>

#include "kb/internal.h"
#include "parley/text.h"

#define KB_PATH_MAX 4096
#define KB_NAME_MAX 64

/* A file found while listing, before it is read. */
struct entry {
    char *lang, *id;
};

struct listing {
    struct entry *v;
    size_t n, cap;
};

/* Language folders and ids: lowercase ASCII letters, digits, '-' and '_',
 * so they are safe in paths, URLs and logs. */
static int valid_name(const char *s, size_t len)
{
    if (len == 0 || len > KB_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void listing_release(struct listing *l)
{
    for (size_t i = 0; i < l->n; i++) {
        parley__free(l->v[i].lang);
        parley__free(l->v[i].id);
    }
    parley__free(l->v);
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = strcmp(a->lang, b->lang);
    return c != 0 ? c : strcmp(a->id, b->id);
}

/* Adds the *.md files of DIR/LANG to `l`. */
static parley_err list_lang(const char *dir, const char *lang, struct listing *l, parley_error *err)
{
    char path[KB_PATH_MAX];
    struct dirent *de;
    parley_err rc = PARLEY_OK;
    DIR *d;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, lang);
    d = opendir(path);
    if (!d)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        size_t len = strlen(name);
        struct entry e = {NULL, NULL};

        if (name[0] == '.' || len < 4 || strcmp(name + len - 3, ".md") != 0)
            continue;
        if (!valid_name(name, len - 3)) {
            rc = parley_error_set(err, PARLEY_ERR_FORMAT,
                                  "%s/%s: bad article id: use a-z, 0-9, '-' and '_' (at most %d)",
                                  path, name, KB_NAME_MAX);
            goto out;
        }
        if (l->n == PARLEY_KB_MAX_ARTICLES) {
            rc = parley_error_set(err, PARLEY_ERR_LIMIT, "cannot load '%s': more than %u articles",
                                  dir, PARLEY_KB_MAX_ARTICLES);
            goto out;
        }
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 64;
            struct entry *v = parley__realloc(l->v, cap * sizeof(*v));
            if (!v)
                goto nomem;
            l->v = v;
            l->cap = cap;
        }
        e.lang = parley__strdup(lang);
        e.id = parley__strndup(name, len - 3);
        if (!e.lang || !e.id) {
            parley__free(e.lang);
            parley__free(e.id);
            goto nomem;
        }
        l->v[l->n++] = e;
    }
    goto out;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load '%s': out of memory", path);
out:
    (void)closedir(d);
    return rc;
}

static parley_err list_kb(const char *dir, struct listing *l, parley_error *err)
{
    char path[KB_PATH_MAX];
    struct dirent *de;
    parley_err rc = PARLEY_OK;
    DIR *d = opendir(dir);

    if (!d)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot open knowledge base '%s': %s", dir,
                                strerror(errno));
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        int w;

        if (name[0] == '.')
            continue;
        w = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (w < 0 || (size_t)w >= sizeof(path) - KB_NAME_MAX - 8) {
            rc = parley_error_set(err, PARLEY_ERR_LIMIT, "cannot load '%s': path too long", dir);
            goto out;
        }
        if (!is_dir(path))
            continue; /* a README next to the language folders */
        if (!valid_name(name, strlen(name))) {
            rc = parley_error_set(err, PARLEY_ERR_FORMAT,
                                  "cannot load '%s': bad language folder name: use a language "
                                  "code such as 'en' or 'pt-br'",
                                  path);
            goto out;
        }
        rc = list_lang(dir, name, l, err);
        if (rc != PARLEY_OK)
            goto out;
    }
out:
    (void)closedir(d);
    return rc;
}

/* 1-based line number of byte `off` in `s`. */
static size_t line_of(const char *s, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off; i++)
        line += s[i] == '\n';
    return line;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Trims ASCII spaces at both ends of s[*start..*end). */
static void trim(const char *s, size_t *start, size_t *end)
{
    while (*start < *end && (s[*start] == ' ' || s[*start] == '\t' || s[*start] == '\r'))
        (*start)++;
    while (*end > *start && (s[*end - 1] == ' ' || s[*end - 1] == '\t' || s[*end - 1] == '\r' ||
                             s[*end - 1] == '\n'))
        (*end)--;
}

/* Terms gathered while indexing one article, before sorting. The bytes go
 * to `buf`; `off` is turned into pointers once the buffer stops moving. */
struct raw_term {
    size_t off;
    const char *s;
    uint32_t len;
    uint8_t field;
};

struct indexer {
    struct parley_buf buf;
    struct raw_term *v;
    size_t n, cap;
    uint8_t field;
    uint32_t flen[KB_FIELDS];
};

static parley_err add_term(const char *term, size_t len, void *ud)
{
    struct indexer *ix = ud;
    parley_err rc;

    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? 2 * ix->cap : 256;
        struct raw_term *v = parley__realloc(ix->v, cap * sizeof(*v));
        if (!v)
            return PARLEY_ERR_NOMEM;
        ix->v = v;
        ix->cap = cap;
    }
    ix->v[ix->n].off = ix->buf.len;
    ix->v[ix->n].s = NULL;
    ix->v[ix->n].len = (uint32_t)len;
    ix->v[ix->n].field = ix->field;
    rc = parley__buf_add(&ix->buf, term, len);
    if (rc != PARLEY_OK)
        return rc;
    ix->n++;
    ix->flen[ix->field]++;
    return PARLEY_OK;
}

static int raw_cmp(const void *pa, const void *pb)
{
    const struct raw_term *a = pa, *b = pb;
    return parley__kb_term_cmp(a->s, a->len, b->s, b->len);
}

/* Builds the sorted term table of `a` from its title, tags and body. */
static parley_err index_article(struct kb_article *a, struct sb_stemmer *st, const char *tags,
                                size_t tags_len, parley_error *err)
{
    struct indexer ix = {PARLEY_BUF_INIT(0), NULL, 0, 0, 0, {0, 0, 0}};
    const char *text[KB_FIELDS] = {a->title, tags, a->body};
    size_t len[KB_FIELDS] = {strlen(a->title), tags_len, strlen(a->body)};
    parley_err rc = PARLEY_OK;
    size_t k = 0;

    for (int f = 0; f < KB_FIELDS; f++) {
        ix.field = (uint8_t)f;
        if (len[f] == 0)
            continue;
        rc = parley__kb_analyze(st, parley__kb_stopwords(a->lang), text[f], len[f], add_term, &ix,
                                err);
        if (rc != PARLEY_OK) {
            if (rc == PARLEY_ERR_NOMEM)
                rc = parley_error_set(err, rc, "out of memory");
            goto out;
        }
    }
    if (ix.n == 0) /* the body had text, but no words: only punctuation */
        goto out;
    for (size_t i = 0; i < ix.n; i++)
        ix.v[i].s = ix.buf.data + ix.v[i].off;
    qsort(ix.v, ix.n, sizeof(*ix.v), raw_cmp);
    a->terms = parley__mallocarray(ix.n, sizeof(*a->terms));
    if (!a->terms) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ix.n; i++) {
        if (k == 0 || parley__kb_term_cmp(a->terms[k - 1].s, a->terms[k - 1].len, ix.v[i].s,
                                          ix.v[i].len) != 0) {
            struct kb_term t = {ix.v[i].s, ix.v[i].len, {0, 0, 0}};
            a->terms[k++] = t;
        }
        a->terms[k - 1].tf[ix.v[i].field]++;
    }
    a->n_terms = k;
    memcpy(a->flen, ix.flen, sizeof(a->flen));
    a->terms_buf = parley__buf_detach(&ix.buf, NULL);
out:
    parley__buf_release(&ix.buf);
    parley__free(ix.v);
    return rc;
}

/* Reads, checks and indexes DIR/LANG/ID.md into `a` (whose lang and id are
 * already set). */
static parley_err load_article(const char *dir, struct kb_article *a, struct sb_stemmer *st,
                               parley_error *err)
{
    char path[KB_PATH_MAX];
    char *text = NULL;
    size_t len = 0, bad = 0, pos, eol, ts, te, tags_s = 0, tags_e = 0, body_line;
    parley_err rc;

    (void)snprintf(path, sizeof(path), "%s/%s/%s.md", dir, a->lang, a->id);
    rc = parley__read_file(path, PARLEY_KB_MAX_ARTICLE, &text, &len, err);
    if (rc == PARLEY_ERR_LIMIT)
        return parley_error_set(err, rc, "%s: article larger than %u KiB", path,
                                PARLEY_KB_MAX_ARTICLE / 1024);
    if (rc != PARLEY_OK)
        return rc;
    if (parley_text_validate(text, len, &bad, NULL) != PARLEY_OK) {
        rc = parley_error_set(err, PARLEY_ERR_UTF8, "%s:%zu: invalid UTF-8 at byte %zu", path,
                              line_of(text, bad), bad);
        goto out;
    }
    pos = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* byte order mark from some editors */

    /* Line 1: "# Title". */
    eol = pos;
    while (eol < len && text[eol] != '\n')
        eol++;
    ts = pos + 2;
    te = eol;
    if (eol - pos < 2 || text[pos] != '#' || text[pos + 1] != ' ' ||
        (trim(text, &ts, &te), ts == te)) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT,
                              "%s:1: missing title: the first line must be '# Title'", path);
        goto out;
    }
    a->title = parley__strndup(text + ts, te - ts);
    if (!a->title)
        goto nomem;

    /* Optional "tags: a, b" on the first non-blank line after the title. */
    pos = eol < len ? eol + 1 : len;
    while (pos < len) {
        eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        if (!is_blank(text + pos, eol - pos))
            break;
        pos = eol < len ? eol + 1 : len;
    }
    if (len - pos >= 5 && strncmp(text + pos, "tags:", 5) == 0) {
        eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        tags_s = pos + 5;
        tags_e = eol;
        trim(text, &tags_s, &tags_e);
        pos = eol < len ? eol + 1 : len;
    }
    body_line = line_of(text, pos);
    ts = pos;
    te = len;
    trim(text, &ts, &te);
    while (ts < te && (text[ts] == '\n' || text[ts] == ' ' || text[ts] == '\t' || text[ts] == '\r'))
        ts++;
    if (ts == te) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT,
                              "%s:%zu: empty body: write the answer "
                              "after the title%s",
                              path, body_line, tags_e > tags_s ? " and tags lines" : " line");
        goto out;
    }
    a->body = parley__strndup(text + ts, te - ts);
    if (!a->body)
        goto nomem;
    rc = index_article(a, st, text + tags_s, tags_e - tags_s, err);
    if (rc != PARLEY_OK)
        (void)parley_error_prefix(err, "cannot index '%s'", path);
    goto out;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load '%s': out of memory", path);
out:
    parley__free(text);
    return rc;
}

static void article_release(struct kb_article *a)
{
    parley__free(a->lang);
    parley__free(a->id);
    parley__free(a->title);
    parley__free(a->body);
    parley__free(a->terms_buf);
    parley__free(a->terms);
}

void parley_kb_free(parley_kb *kb)
{
    if (!kb)
        return;
    for (size_t i = 0; i < kb->n; i++)
        article_release(&kb->arts[i]);
    parley__free(kb->arts);
    parley__free(kb->langs);
    parley__free(kb);
}

/* Groups the sorted articles by language and computes field averages. */
static parley_err build_langs(parley_kb *kb)
{
    size_t n_langs = 0;

    for (size_t i = 0; i < kb->n; i++)
        n_langs += i == 0 || strcmp(kb->arts[i].lang, kb->arts[i - 1].lang) != 0;
    kb->langs = parley__calloc(n_langs, sizeof(*kb->langs));
    if (!kb->langs)
        return PARLEY_ERR_NOMEM;
    for (size_t i = 0; i < kb->n; i++) {
        struct kb_lang *l;
        if (i == 0 || strcmp(kb->arts[i].lang, kb->arts[i - 1].lang) != 0) {
            l = &kb->langs[kb->n_langs++];
            l->lang = kb->arts[i].lang;
            l->first = i;
        }
        l = &kb->langs[kb->n_langs - 1];
        l->count++;
        for (int f = 0; f < KB_FIELDS; f++)
            l->avglen[f] += kb->arts[i].flen[f];
    }
    for (size_t j = 0; j < kb->n_langs; j++)
        for (int f = 0; f < KB_FIELDS; f++)
            kb->langs[j].avglen[f] /= (double)kb->langs[j].count;
    return PARLEY_OK;
}

parley_err parley_kb_load(const char *dir, parley_kb **out, parley_error *err)
{
    struct listing l = {NULL, 0, 0};
    struct sb_stemmer *st = NULL;
    parley_kb *kb = NULL;
    parley_err rc;

    rc = list_kb(dir, &l, err);
    if (rc != PARLEY_OK)
        goto out;
    if (l.n == 0) {
        rc = parley_error_set(err, PARLEY_ERR_EMPTY,
                              "cannot load knowledge base '%s': no LANG/ID.md articles", dir);
        goto out;
    }
    qsort(l.v, l.n, sizeof(*l.v), entry_cmp);
    kb = parley__calloc(1, sizeof(*kb));
    if (!kb || !(kb->arts = parley__calloc(l.n, sizeof(*kb->arts))))
        goto nomem;
    for (size_t i = 0; i < l.n; i++) {
        struct kb_article *a = &kb->arts[kb->n++];
        a->lang = l.v[i].lang;
        a->id = l.v[i].id;
        l.v[i].lang = l.v[i].id = NULL;
        if (i == 0 || strcmp(a->lang, kb->arts[i - 1].lang) != 0) {
            if (st)
                sb_stemmer_delete(st);
            if (parley__kb_stemmer_new(a->lang, &st) != PARLEY_OK)
                goto nomem;
        }
        rc = load_article(dir, a, st, err);
        if (rc != PARLEY_OK)
            goto out;
    }
    if (build_langs(kb) != PARLEY_OK)
        goto nomem;
    *out = kb;
    kb = NULL;
    goto out;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load knowledge base '%s': out of memory",
                          dir);
out:
    if (st)
        sb_stemmer_delete(st);
    parley_kb_free(kb);
    listing_release(&l);
    return rc;
}
