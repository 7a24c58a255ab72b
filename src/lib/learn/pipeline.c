/* The first half of `parley learn`: read interaction logs, scrub them,
 * keep only consenting customers, map reason codes, drop duplicates and
 * contradictions, and split by conversation, stratified by intent, into
 * training and held-out JSONL files. Training and evaluation follow in
 * evaluate.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "learn/run.h"
#include "parley/nlu.h"
#include "parley/pii.h"
#include "parley/store.h"

/* A conversation's text for training: its first customer turns, joined,
 * until they say something (three words) or three turns were taken. */
#define TEXT_TURNS 3
#define TEXT_WORDS 3
/* Longest training text kept, in bytes (cut at a space after scrubbing,
 * so no value is cut in two before the scrubber sees it whole). */
#define TEXT_MAX 4000

/* Marks in a mapping: the code is known and means "not an intent". */
#define CODE_IGNORED (-2L)

struct contra {
    char *text; /* scrubbed */
    size_t n;
    struct {
        uint32_t intent;
        uint64_t count;
    } labels[8]; /* the first 8 intents seen; later ones only counted */
    uint64_t more;
};

struct pass1 {
    const parley_learn_options *o;
    int discover;    /* keep what no intent covers, drop the rest as labelled */
    int from_review; /* reading the review queue: labels are intents already */
    parley_err review_rc;
    parley_error *review_err;
    long unlabelled; /* discovery's one "intent" */
    parley_learn_run *r;
    parley_pii *pii;
    parley_pii_scratch *scr;
    parley_pii_policy pol;
    struct learn_strings consent; /* customers with an active training_use grant */
    struct learn_strings codes;   /* reason codes of the mapping */
    long *code_intent;            /* per code: intent id or CODE_IGNORED */
    struct learn_map exact;       /* exact key -> seen */
    struct learn_map near;        /* near key -> a: intent id + 1, with 0x80000000 once
                                     contradictory; b: rows of that intent, then (once
                                     contradictory) the contradiction's index + 1 */
    struct contra *contras;
    size_t n_contras, cap_contras;
    FILE *spool;
    struct parley_buf text;
    double started, last_progress;
};

static int lang_matches(const char *want, const char *got)
{
    size_t n = strlen(want);
    if (!*got)
        return 1; /* unknown: taken as the run's language */
    for (size_t i = 0; i < n; i++)
        if (got[i] == '\0' || (got[i] | 0x20) != (want[i] | 0x20))
            return 0;
    return got[n] == '\0' || got[n] == '-' || got[n] == '_';
}

static int add_holder(const char *id, void *userdata)
{
    return learn_strings_id(userdata, id) < 0; /* stop when out of memory */
}

/* Reads the mapping: "CODE<TAB>INTENT" per line, '#' comments, "-" for a
 * code that is not an intent. */
static parley_err load_mapping(struct pass1 *p, parley_error *err)
{
    char *data = NULL;
    size_t len = 0, line = 0;
    parley_err rc = parley__read_file(p->o->mapping, 16u << 20, &data, &len, err);
    if (rc != PARLEY_OK) {
        parley_error_prefix(err, "mapping");
        return rc;
    }
    for (char *ln = data, *end = data + len, *nl; ln < end; ln = nl + 1) {
        if (!(nl = memchr(ln, '\n', (size_t)(end - ln))))
            nl = end;
        *nl = '\0';
        line++;
        size_t n = strlen(ln);
        while (n && (ln[n - 1] == '\r' || ln[n - 1] == ' '))
            ln[--n] = '\0';
        if (!n || ln[0] == '#')
            continue;
        char *tab = strchr(ln, '\t');
        if (!tab || tab == ln || !tab[1]) {
            rc =
                parley_error_set(err, PARLEY_ERR_FORMAT,
                                 "%s:%zu: expected 'REASON_CODE<tab>intent' (or '-' for no intent)",
                                 p->o->mapping, line);
            goto out;
        }
        *tab = '\0';
        const char *intent = tab + 1;
        long iid = CODE_IGNORED;
        if (strcmp(intent, "-") != 0) {
            int known = !p->o->n_intents;
            for (size_t i = 0; i < p->o->n_intents && !known; i++)
                known = strcmp(p->o->intents[i], intent) == 0;
            if (!known) {
                rc = parley_error_set(err, PARLEY_ERR_FORMAT,
                                      "%s:%zu: '%s' is not an intent of the bot", p->o->mapping,
                                      line, intent);
                goto out;
            }
            if ((iid = learn_strings_id(&p->r->intents, intent)) < 0)
                goto nomem;
        }
        long before = (long)p->codes.len, cid = learn_strings_id(&p->codes, ln);
        if (cid < 0)
            goto nomem;
        if (cid < before && p->code_intent[cid] != iid) {
            rc = parley_error_set(err, PARLEY_ERR_FORMAT,
                                  "%s:%zu: reason code '%s' is mapped twice, differently",
                                  p->o->mapping, line, ln);
            goto out;
        }
        long *grown = parley__realloc(p->code_intent, p->codes.len * sizeof(*grown));
        if (!grown)
            goto nomem;
        p->code_intent = grown;
        p->code_intent[cid] = iid;
    }
    goto out;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory reading the mapping");
out:
    parley__free(data);
    return rc;
}

/* The intent of `c`, or a drop reason (returned negated minus one). */
static long intent_of(struct pass1 *p, const parley_learn_conversation *c);

/* Discovery turns intent_of around: what has an intent is dropped, what
 * has none (no code, an unmapped one, one mapped to "-") is kept. */
static long discovery_class(struct pass1 *p, const parley_learn_conversation *c)
{
    long id = intent_of(p, c);
    if (id >= 0)
        return -1 - PARLEY_LEARN_DROP_LABELLED;
    if (id == -1 - (long)PARLEY_LEARN_DROP_UNMAPPED || id == -1 - (long)PARLEY_LEARN_DROP_IGNORED)
        return p->unlabelled;
    return id;
}

static long intent_of(struct pass1 *p, const parley_learn_conversation *c)
{
    long id;
    if (c->authored || !p->o->mapping || p->from_review) {
        if (!*c->disposition)
            return -1 - PARLEY_LEARN_DROP_UNMAPPED;
        int known = !p->o->n_intents;
        for (size_t i = 0; i < p->o->n_intents && !known; i++)
            known = strcmp(p->o->intents[i], c->disposition) == 0;
        if (!known)
            return -1 - PARLEY_LEARN_DROP_UNMAPPED;
        id = learn_strings_id(&p->r->intents, c->disposition);
        return id < 0 ? -1 - (long)PARLEY_LEARN_DROP_COUNT : id;
    }
    long cid = learn_strings_find(&p->codes, c->disposition);
    if (cid < 0)
        return -1 - PARLEY_LEARN_DROP_UNMAPPED;
    if (p->code_intent[cid] == CODE_IGNORED)
        return -1 - PARLEY_LEARN_DROP_IGNORED;
    return p->code_intent[cid];
}

static size_t count_words(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && (i == 0 || s[i - 1] == ' '))
            w++;
    return w;
}

/* Joins the first customer turns into p->text, turns' line breaks and
 * tabs as spaces (a row is one line of the training file). */
static parley_err gather_text(struct pass1 *p, const parley_learn_conversation *c,
                              parley_error *err)
{
    size_t taken = 0, words = 0;
    parley__buf_reset(&p->text);
    for (size_t i = 0; i < c->n_turns && taken < TEXT_TURNS && words < TEXT_WORDS; i++) {
        const parley_learn_turn *t = &c->turns[i];
        if (t->speaker != PARLEY_LEARN_CUSTOMER || !t->text_len)
            continue;
        if (p->text.len && parley__buf_addc(&p->text, ' ') != PARLEY_OK)
            goto nomem;
        size_t start = p->text.len;
        if (parley__buf_add(&p->text, t->text, t->text_len) != PARLEY_OK)
            goto nomem;
        for (size_t j = start; j < p->text.len; j++)
            if (p->text.data[j] == '\n' || p->text.data[j] == '\r' || p->text.data[j] == '\t')
                p->text.data[j] = ' ';
        words += count_words(t->text, t->text_len);
        taken++;
    }
    return PARLEY_OK;
nomem:
    return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
}

/* Scrubs p->text: every personal value the detectors find is replaced
 * ("[PHONE]"). `*out` is the caller's (parley_pii_free). */
static parley_err scrub(struct pass1 *p, char **out, size_t *out_len, parley_error *err)
{
    const parley_pii_finding *f = NULL;
    size_t n = 0;
    parley_err rc = parley_pii_detect(p->pii, p->scr, p->text.data ? p->text.data : "", p->text.len,
                                      NULL, 0, &f, &n, err);
    if (rc == PARLEY_OK)
        rc = parley_pii_apply(&p->pol, p->text.data ? p->text.data : "", p->text.len, f, n, out,
                              out_len, err);
    if (rc == PARLEY_OK)
        p->r->sum.pii_findings += n;
    /* The raw text is not needed any more: wipe it, as the engine does. */
    if (p->text.data)
        memset(p->text.data, 0, p->text.len);
    return rc;
}

static parley_err note_contradiction(struct pass1 *p, struct learn_map_slot *sl, uint32_t intent,
                                     const char *text, parley_error *err)
{
    struct contra *c;
    if (!(sl->a & 0x80000000u)) {
        if (p->n_contras == p->cap_contras) {
            size_t cap = p->cap_contras ? p->cap_contras * 2 : 64;
            struct contra *g = parley__realloc(p->contras, cap * sizeof(*g));
            if (!g)
                return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            p->contras = g;
            p->cap_contras = cap;
        }
        c = &p->contras[p->n_contras];
        memset(c, 0, sizeof(*c));
        if (!(c->text = parley__strdup(text)))
            return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        c->labels[0].intent = (sl->a & 0x7fffffffu) - 1;
        c->labels[0].count = sl->b; /* rows of the first intent so far */
        c->n = 1;
        sl->b = (uint32_t)++p->n_contras;
        sl->a |= 0x80000000u;
    }
    c = &p->contras[sl->b - 1];
    for (size_t i = 0; i < c->n; i++)
        if (c->labels[i].intent == intent) {
            c->labels[i].count++;
            return PARLEY_OK;
        }
    if (c->n < sizeof(c->labels) / sizeof(c->labels[0])) {
        c->labels[c->n].intent = intent;
        c->labels[c->n++].count = 1;
    } else {
        c->more++;
    }
    return PARLEY_OK;
}

/* One row for the spool: hash of the conversation, near key, intent,
 * flags, text. */
struct spool_row {
    uint64_t conv, near;
    uint32_t intent, flags, len;
};
#define ROW_TRAIN_ONLY 1u

static parley_err spool_write(struct pass1 *p, const struct spool_row *row, const char *text,
                              parley_error *err)
{
    if (fwrite(row, sizeof(*row), 1, p->spool) != 1 ||
        fwrite(text, 1, row->len, p->spool) != row->len)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot write the spool file in '%s'",
                                p->o->work_dir);
    return PARLEY_OK;
}

/* Takes one conversation through consent, mapping, scrubbing and the
 * duplicate checks; kept ones go to the spool. */
static parley_err take(struct pass1 *p, const parley_learn_conversation *c, unsigned flags,
                       parley_error *err)
{
    parley_learn_summary *s = &p->r->sum;
    char *clean = NULL;
    size_t clen = 0;
    learn_keys k;
    parley_err rc = PARLEY_OK;
    long intent;
    int drop = -1;

    if (!lang_matches(p->o->language, c->language)) {
        drop = PARLEY_LEARN_DROP_LANGUAGE;
        goto out;
    }
    if (!c->authored && learn_strings_find(&p->consent, c->customer_id) < 0) {
        drop = PARLEY_LEARN_DROP_NO_CONSENT;
        goto out;
    }
    if ((intent = p->discover ? discovery_class(p, c) : intent_of(p, c)) < 0) {
        if (intent == -1 - (long)PARLEY_LEARN_DROP_COUNT)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        drop = (int)(-1 - intent);
        goto out;
    }
    if ((rc = gather_text(p, c, err)) != PARLEY_OK ||
        (rc = scrub(p, &clean, &clen, err)) != PARLEY_OK)
        goto out;
    if (clen > TEXT_MAX) {
        clen = TEXT_MAX;
        while (clen > 0 && clean[clen] != ' ')
            clen--;
        clean[clen] = '\0';
    }
    if ((rc = learn_text_keys(clean, clen, &k, err)) != PARLEY_OK)
        goto out;
    if (!k.words) {
        drop = PARLEY_LEARN_DROP_NO_TEXT;
        goto out;
    }
    int added = 0;
    struct learn_map_slot *sl = learn_map_put(&p->near, k.near, &added);
    if (!sl) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!added) {
        const uint32_t first = (sl->a & 0x7fffffffu) - 1;
        if ((sl->a & 0x80000000u) || first != (uint32_t)intent) {
            rc = note_contradiction(p, sl, (uint32_t)intent, clean, err);
            drop = PARLEY_LEARN_DROP_CONTRADICTORY;
        } else {
            sl->b++;
            drop = learn_map_get(&p->exact, k.exact) ? PARLEY_LEARN_DROP_DUPLICATE
                                                     : PARLEY_LEARN_DROP_NEAR_DUPLICATE;
        }
        goto out;
    }
    sl->a = (uint32_t)intent + 1;
    sl->b = 1;
    if (!learn_map_put(&p->exact, k.exact, &added)) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    struct spool_row row = {XXH3_64bits(c->id, strlen(c->id)), k.near, (uint32_t)intent, flags,
                            (uint32_t)clen};
    rc = spool_write(p, &row, clean, err);
    if (rc == PARLEY_OK) {
        s->kept++;
        s->authored += c->authored ? 1 : 0;
    }
out:
    if (drop >= 0)
        s->dropped[drop]++;
    parley_pii_free(clean);
    return rc;
}

static int report(struct pass1 *p, const char *step, uint64_t bytes, uint64_t total, int force)
{
    double now = parley__now();
    if (!p->o->progress || (!force && now - p->last_progress < 0.25))
        return 0;
    p->last_progress = now;
    parley_learn_progress pr = {step,
                                p->r->sum.conversations,
                                bytes,
                                total,
                                total ? (double)bytes / (double)total : -1.0,
                                now - p->started};
    return p->o->progress(&pr, p->o->userdata);
}

static parley_err read_input(struct pass1 *p, const char *path, parley_learn_log_format fmt,
                             unsigned flags, parley_error *err)
{
    parley_learn_reader *rd = NULL;
    parley_learn_conversation c;
    parley_learn_summary *s = &p->r->sum;
    int has = 1;
    parley_err rc = parley_learn_reader_open(path, fmt, &rd, err);
    while (rc == PARLEY_OK) {
        parley_error e = PARLEY_ERROR_INIT;
        parley_err r2 = parley_learn_reader_next(rd, &c, &has, &e);
        if (r2 == PARLEY_ERR_FORMAT || r2 == PARLEY_ERR_UTF8 || r2 == PARLEY_ERR_LIMIT) {
            s->conversations++;
            s->dropped[PARLEY_LEARN_DROP_MALFORMED]++;
            if (!p->r->first_error[0])
                (void)snprintf(p->r->first_error, sizeof(p->r->first_error), "%s", e.msg);
            continue;
        }
        if (r2 != PARLEY_OK) {
            if (err)
                *err = e;
            rc = r2;
            break;
        }
        if (!has)
            break;
        s->conversations++;
        s->turns += c.n_turns;
        rc = take(p, &c, flags, err);
        uint64_t total = 0, bytes = parley_learn_reader_progress(rd, &total);
        if (rc == PARLEY_OK && report(p, "read", bytes, total, 0))
            rc = parley_error_set(err, PARLEY_ERR_INVALID, "cancelled");
    }
    if (rd) {
        uint64_t total = 0;
        s->bytes += parley_learn_reader_progress(rd, &total);
        (void)report(p, "read", total, total, 1);
    }
    parley_learn_reader_free(rd);
    return rc;
}

/* ---- the second pass: contradictions out, split ------------------------- */

static int read_row(FILE *f, struct spool_row *row, struct parley_buf *text, parley_error *err,
                    parley_err *rc)
{
    if (fread(row, sizeof(*row), 1, f) != 1)
        return 0;
    parley__buf_reset(text);
    if (row->len > TEXT_MAX) {
        *rc = parley_error_set(err, PARLEY_ERR_CORRUPT, "the spool file is damaged");
        return 0;
    }
    char chunk[TEXT_MAX + 1];
    if (fread(chunk, 1, row->len, f) != row->len || parley__buf_add(text, chunk, row->len)) {
        *rc = parley_error_set(err, PARLEY_ERR_IO, "cannot read back the spool file");
        return 0;
    }
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Appends `s` as a JSON string. */
static parley_err json_str(struct parley_buf *b, const char *s, size_t n)
{
    parley_err rc = parley__buf_addc(b, '"');
    for (size_t i = 0; i < n && rc == PARLEY_OK; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            rc = parley__buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            rc = parley__buf_printf(b, "\\u%04x", ch);
        else
            rc = parley__buf_addc(b, (char)ch);
    }
    return rc == PARLEY_OK ? parley__buf_addc(b, '"') : rc;
}

parley_err learn_row_line(struct parley_buf *b, const char *text, size_t len, const char *intent,
                          const char *language)
{
    parley__buf_reset(b);
    parley_err rc = parley__buf_add(b, "{\"text\":", 8);
    if (rc == PARLEY_OK)
        rc = json_str(b, text, len);
    if (rc == PARLEY_OK)
        rc = parley__buf_add(b, ",\"intent\":", 10);
    if (rc == PARLEY_OK)
        rc = json_str(b, intent, strlen(intent));
    if (rc == PARLEY_OK)
        rc = parley__buf_add(b, ",\"language\":", 12);
    if (rc == PARLEY_OK)
        rc = json_str(b, language, strlen(language));
    if (rc == PARLEY_OK)
        rc = parley__buf_add(b, "}\n", 2);
    return rc;
}

static parley_err split(struct pass1 *p, parley_error *err)
{
    parley_learn_run *r = p->r;
    const size_t n_int = r->intents.len;
    uint64_t **hashes = parley__calloc(n_int ? n_int : 1, sizeof(*hashes));
    size_t *counts = parley__calloc(n_int ? n_int : 1, sizeof(*counts));
    uint64_t *thr = parley__calloc(n_int ? n_int : 1, sizeof(*thr));
    size_t *caps = parley__calloc(n_int ? n_int : 1, sizeof(*caps));
    struct parley_buf text = PARLEY_BUF_INIT(0), line = PARLEY_BUF_INIT(0);
    FILE *train = NULL, *test = NULL;
    struct spool_row row;
    parley_err rc = PARLEY_OK;

    r->train_counts = parley__calloc(n_int ? n_int : 1, sizeof(size_t));
    if (!hashes || !counts || !thr || !caps || !r->train_counts) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* First read: the conversations of each intent that may be held out. */
    rewind(p->spool);
    while (read_row(p->spool, &row, &text, err, &rc)) {
        const struct learn_map_slot *sl = learn_map_get(&p->near, row.near);
        if ((sl && (sl->a & 0x80000000u)) || (row.flags & ROW_TRAIN_ONLY) || row.intent >= n_int)
            continue;
        if (counts[row.intent] == caps[row.intent]) {
            size_t cap = caps[row.intent] ? caps[row.intent] * 2 : 16;
            uint64_t *g = parley__realloc(hashes[row.intent], cap * sizeof(*g));
            if (!g) {
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                goto out;
            }
            hashes[row.intent] = g;
            caps[row.intent] = cap;
        }
        hashes[row.intent][counts[row.intent]++] = row.conv;
    }
    if (rc != PARLEY_OK)
        goto out;
    /* Per intent, the conversations with the smallest hashes are held out:
     * exactly the share asked for, and a conversation keeps its side when
     * more logs arrive (its hash does not change). An intent needs two
     * conversations to be held out at all. */
    for (size_t i = 0; i < n_int; i++) {
        size_t k = (size_t)llround((double)counts[i] * p->o->test_share);
        if (counts[i] >= 2 && k == 0)
            k = 1;
        if (k >= counts[i])
            k = counts[i] ? counts[i] - 1 : 0;
        thr[i] = 0;
        if (k) {
            qsort(hashes[i], counts[i], sizeof(uint64_t), cmp_u64);
            thr[i] = hashes[i][k - 1];
        }
        parley__free(hashes[i]);
        hashes[i] = NULL;
    }
    if (!(train = fopen(r->train_path, "w")) || !(test = fopen(r->test_path, "w"))) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write the training files in '%s'",
                              p->o->work_dir);
        goto out;
    }
    rewind(p->spool);
    while (read_row(p->spool, &row, &text, err, &rc)) {
        const struct learn_map_slot *sl = learn_map_get(&p->near, row.near);
        if (sl && (sl->a & 0x80000000u)) {
            r->sum.dropped[PARLEY_LEARN_DROP_CONTRADICTORY]++;
            r->sum.kept--;
            continue;
        }
        const int held =
            !(row.flags & ROW_TRAIN_ONLY) && thr[row.intent] && row.conv <= thr[row.intent];
        if ((rc = learn_row_line(&line, text.data, row.len, r->intents.v[row.intent],
                                 p->o->language)) != PARLEY_OK) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (fwrite(line.data, 1, line.len, held ? test : train) != line.len) {
            rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write the training files in '%s'",
                                  p->o->work_dir);
            goto out;
        }
        if (held) {
            r->sum.test_rows++;
        } else {
            r->sum.train_rows++;
            r->train_counts[row.intent]++;
        }
    }
out:
    if (train && fclose(train) != 0 && rc == PARLEY_OK)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s'", r->train_path);
    if (test && fclose(test) != 0 && rc == PARLEY_OK)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s'", r->test_path);
    for (size_t i = 0; hashes && i < n_int; i++)
        parley__free(hashes[i]);
    parley__free(hashes);
    parley__free(counts);
    parley__free(thr);
    parley__free(caps);
    parley__buf_release(&text);
    parley__buf_release(&line);
    return rc;
}

/* The contradictions for the summary, most rows first. */
static int cmp_contra(const void *a, const void *b)
{
    uint64_t x = 0, y = 0;
    const struct contra *ca = a, *cb = b;
    for (size_t i = 0; i < ca->n; i++)
        x += ca->labels[i].count;
    for (size_t i = 0; i < cb->n; i++)
        y += cb->labels[i].count;
    return x > y ? -1 : x < y;
}

static parley_err keep_contradictions(struct pass1 *p, parley_error *err)
{
    parley_learn_run *r = p->r;
    if (p->n_contras)
        qsort(p->contras, p->n_contras, sizeof(*p->contras), cmp_contra);
    size_t n = p->n_contras < LEARN_MAX_CONTRADICTIONS ? p->n_contras : LEARN_MAX_CONTRADICTIONS;
    r->contra_text = parley__calloc(n ? n : 1, sizeof(char *));
    r->contra_labels = parley__calloc(n ? n : 1, sizeof(char *));
    if (!r->contra_text || !r->contra_labels)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct parley_buf b = PARLEY_BUF_INIT(0);
        const struct contra *c = &p->contras[i];
        parley_err rc = PARLEY_OK;
        for (size_t j = 0; j < c->n && rc == PARLEY_OK; j++)
            rc = parley__buf_printf(&b, "%s%s (%llu)", j ? ", " : "",
                                    r->intents.v[c->labels[j].intent],
                                    (unsigned long long)c->labels[j].count);
        if (rc == PARLEY_OK && c->more)
            rc = parley__buf_printf(&b, ", others (%llu)", (unsigned long long)c->more);
        if (rc != PARLEY_OK)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        r->contra_labels[i] = parley__buf_detach(&b, NULL);
        r->contra_text[i] = c->text;
        p->contras[i].text = NULL;
        r->n_contra++;
    }
    r->sum.n_contradictions = r->n_contra;
    r->sum.contradiction_text = (const char *const *)r->contra_text;
    r->sum.contradiction_labels = (const char *const *)r->contra_labels;
    return PARLEY_OK;
}

/* One labelled turn of the review queue, as a one-turn conversation of
 * its customer (consent applies as to any other). */
static int take_review(const parley_store_review *it, void *userdata)
{
    struct pass1 *p = userdata;
    char id[PARLEY_STORE_MAX_ID + 24];
    parley_learn_turn turn = {PARLEY_LEARN_CUSTOMER, it->text, strlen(it->text), it->created};
    parley_learn_conversation c;
    (void)snprintf(id, sizeof(id), "%s#%lld", it->conversation_id, (long long)it->seq);
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.customer_id = it->customer_id;
    c.language = it->language;
    c.disposition = it->intent;
    c.outcome = "";
    c.n_turns = 1;
    c.turns = &turn;
    p->r->sum.conversations++;
    p->r->sum.turns++;
    p->review_rc = take(p, &c, 0, p->review_err);
    return p->review_rc != PARLEY_OK;
}

/* Discovery's second pass: every distinct text with how often it came. */
static parley_err collect(struct pass1 *p, parley_error *err)
{
    parley_learn_run *r = p->r;
    struct parley_buf text = PARLEY_BUF_INIT(0);
    struct spool_row row;
    parley_err rc = PARLEY_OK;
    size_t cap = 0;
    rewind(p->spool);
    while (read_row(p->spool, &row, &text, err, &rc)) {
        const struct learn_map_slot *sl = learn_map_get(&p->near, row.near);
        if (r->n_found == cap) {
            cap = cap ? cap * 2 : 1024;
            struct learn_found *g = parley__realloc(r->found, cap * sizeof(*g));
            if (!g) {
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
                break;
            }
            r->found = g;
        }
        struct learn_found *f = &r->found[r->n_found];
        f->count = sl ? sl->b : 1;
        if (!(f->text = parley__strndup(text.data, row.len))) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            break;
        }
        r->n_found++;
    }
    parley__buf_release(&text);
    return rc;
}

parley_err learn_prepare(parley_learn_run *r, const parley_learn_options *o, int discover,
                         parley_error *err)
{
    struct pass1 p;
    char spool_path[4200];
    parley_err rc = PARLEY_OK;
    parley_pii_options po;

    memset(&p, 0, sizeof(p));
    p.o = o;
    p.r = r;
    p.discover = discover;
    p.text.max = 64u << 20;
    p.started = p.last_progress = parley__now();
    parley_pii_policy_redact_all(&p.pol);
    memset(&po, 0, sizeof(po));
    if ((size_t)snprintf(spool_path, sizeof(spool_path), "%s/.learn-spool.%ld", o->work_dir,
                         (long)r->pid) >= sizeof(spool_path))
        return parley_error_set(err, PARLEY_ERR_LIMIT, "work folder path too long");
    if ((rc = parley_pii_create(NULL, &p.pii, err)) != PARLEY_OK ||
        (rc = parley_pii_scratch_create(p.pii, &p.scr, err)) != PARLEY_OK)
        goto out;
    if (o->mapping && (rc = load_mapping(&p, err)) != PARLEY_OK)
        goto out;
    if (discover && (p.unlabelled = learn_strings_id(&r->intents, "?")) < 0) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (o->consent &&
        (rc = parley_store_consent_holders(o->consent, "training_use", o->now_ms, add_holder,
                                           &p.consent, err)) != PARLEY_OK) {
        parley_error_prefix(err, "reading training_use consent");
        goto out;
    }
    if (!(p.spool = fopen(spool_path, "w+b"))) {
        rc =
            parley_error_set(err, PARLEY_ERR_IO, "cannot create a spool file in '%s'", o->work_dir);
        goto out;
    }
    (void)remove(spool_path); /* gone with the process, whatever happens */
    /* The bot's own examples first: they are kept whole, for training only,
     * and a customer row repeating one is a duplicate, never a test row the
     * model has already seen. */
    if (o->base_data && !discover &&
        (rc = read_input(&p, o->base_data, PARLEY_LEARN_LOG_TRAINING, ROW_TRAIN_ONLY, err)) !=
            PARLEY_OK)
        goto out;
    for (size_t i = 0; i < o->n_inputs && rc == PARLEY_OK; i++)
        rc = read_input(&p, o->inputs[i], o->format, 0, err);
    /* Training takes what agents labelled; discovery what still waits. */
    if (rc == PARLEY_OK && o->review && o->consent) {
        p.from_review = 1;
        p.review_err = err;
        rc = parley_store_review_list(o->consent, discover ? "open" : "labelled", 0, 0, take_review,
                                      &p, err);
        if (rc == PARLEY_OK)
            rc = p.review_rc;
        p.from_review = 0;
    }
    if (rc == PARLEY_OK)
        rc = report(&p, "split", 0, 0, 1) ? parley_error_set(err, PARLEY_ERR_INVALID, "cancelled")
                                          : PARLEY_OK;
    if (rc == PARLEY_OK)
        rc = discover ? collect(&p, err) : split(&p, err);
    if (rc == PARLEY_OK && !discover)
        rc = keep_contradictions(&p, err);
out:
    if (p.spool)
        (void)fclose(p.spool);
    parley_pii_scratch_destroy(p.scr);
    parley_pii_destroy(p.pii);
    learn_strings_release(&p.consent);
    learn_strings_release(&p.codes);
    parley__free(p.code_intent);
    learn_map_release(&p.exact);
    learn_map_release(&p.near);
    for (size_t i = 0; i < p.n_contras; i++)
        parley__free(p.contras[i].text);
    parley__free(p.contras);
    parley__buf_release(&p.text);
    return rc;
}
