/* Replies: a response text in the customer's language with its
 * {placeholders} filled from the conversation's slots and fetched facts,
 * numbers, dates and lists written the way that language writes them.
 * Account data reaches a reply only through here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dialog/internal.h"

static int comma_decimal(const char *lang)
{
    return strcmp(lang, "en") != 0;
}

void dlg_format_number(char *out, size_t size, double v, const char *lang)
{
    char *dot;
    size_t n;
    if (v == (double)(long long)v && v > -1e15 && v < 1e15) {
        (void)snprintf(out, size, "%lld", (long long)v);
        return;
    }
    (void)snprintf(out, size, "%.2f", v);
    n = strlen(out);
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    dot = strchr(out, '.');
    if (dot && comma_decimal(lang))
        *dot = ',';
}

static const char *const months[4][12] = {
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"},
    {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
     "octobre", "novembre", "décembre"},
    {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
     "octubre", "noviembre", "diciembre"},
    {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
     "November", "Dezember"},
};

/* Writes an ISO date (YYYY-MM-DD, optionally followed by a time) as the
 * language writes dates; 0 when `s` is not one. */
static int format_date(char *out, size_t size, const char *s, const char *lang)
{
    int y, m, d, li;
    if (strlen(s) < 10 || s[4] != '-' || s[7] != '-' || (s[10] != '\0' && s[10] != 'T'))
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    li = strcmp(lang, "fr") == 0   ? 1
         : strcmp(lang, "es") == 0 ? 2
         : strcmp(lang, "de") == 0 ? 3
                                   : 0;
    switch (li) {
    case 1:
        (void)snprintf(out, size, "%d %s %d", d, months[1][m - 1], y);
        break;
    case 2:
        (void)snprintf(out, size, "%d de %s de %d", d, months[2][m - 1], y);
        break;
    case 3:
        (void)snprintf(out, size, "%d. %s %d", d, months[3][m - 1], y);
        break;
    default:
        (void)snprintf(out, size, "%s %d, %d", months[0][m - 1], d, y);
    }
    return 1;
}

/* Writes one scalar value (text of a fact or slot) in the language. */
static void format_value(struct parley_buf *b, const char *s, const char *lang)
{
    char tmp[128], *end;
    double v;
    if (format_date(tmp, sizeof(tmp), s, lang)) {
        (void)parley__buf_add(b, tmp, strlen(tmp));
        return;
    }
    v = strtod(s, &end);
    /* "0020" (the last digits of a card) is a code, not a number. */
    if (*s && *end == '\0' && end != s && strspn(s, "0123456789.-") == strlen(s) &&
        !(s[0] == '0' && s[1] >= '0' && s[1] <= '9')) {
        dlg_format_number(tmp, sizeof(tmp), v, lang);
        (void)parley__buf_add(b, tmp, strlen(tmp));
        return;
    }
    (void)parley__buf_add(b, s, strlen(s));
}

static void format_json_item(struct parley_buf *b, json_t *v, const char *lang)
{
    char tmp[64];
    if (json_is_string(v)) {
        format_value(b, json_string_value(v), lang);
    } else if (json_is_number(v)) {
        dlg_format_number(tmp, sizeof(tmp), json_number_value(v), lang);
        (void)parley__buf_add(b, tmp, strlen(tmp));
    } else if (json_is_true(v) || json_is_false(v)) {
        (void)parley__buf_add(b, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (i)
                (void)parley__buf_add(b, ", ", 2);
            format_json_item(b, e, lang);
        }
    }
}

static const char *and_word(const char *lang)
{
    return strcmp(lang, "fr") == 0   ? " et "
           : strcmp(lang, "es") == 0 ? " y "
           : strcmp(lang, "de") == 0 ? " und "
                                     : " and ";
}

/* Appends list `a` (optionally zipped with `z`: "a1 (z1), a2 (z2)"). */
static void format_list(struct parley_buf *b, const char *a, const char *z, const char *lang)
{
    json_t *ja = json_loads(a, 0, NULL), *jz = z ? json_loads(z, 0, NULL) : NULL;
    size_t n = json_array_size(ja);
    for (size_t i = 0; i < n; i++) {
        if (i)
            (void)parley__buf_add(b, i + 1 == n ? and_word(lang) : ", ",
                                  i + 1 == n ? strlen(and_word(lang)) : 2);
        format_json_item(b, json_array_get(ja, i), lang);
        if (jz && i < json_array_size(jz)) {
            (void)parley__buf_add(b, " (", 2);
            format_json_item(b, json_array_get(jz, i), lang);
            (void)parley__buf_addc(b, ')');
        }
    }
    json_decref(ja);
    json_decref(jz);
}

/* Fills one placeholder `name[0..n)`; a fact the customer may not see yet
 * (account data before verification) renders as "—". */
static void fill(struct dlg_turn *t, struct parley_buf *b, const char *name, size_t n,
                 const char *const *xn, const char *const *xv, size_t nx)
{
    char key[DLG_MAX_NAME], zip[DLG_MAX_NAME] = "";
    const char *colon = memchr(name, ':', n), *slot;
    const struct dlg_fact *f, *fz = NULL;
    if (colon) {
        (void)snprintf(zip, sizeof(zip), "%.*s", (int)(n - (size_t)(colon - name) - 1), colon + 1);
        n = (size_t)(colon - name);
    }
    (void)snprintf(key, sizeof(key), "%.*s", (int)n, name);
    for (size_t i = 0; i < nx; i++)
        if (strcmp(xn[i], key) == 0) {
            (void)parley__buf_add(b, xv[i], strlen(xv[i]));
            return;
        }
    if ((slot = dlg_slot_get(t->st, key)) != NULL) {
        format_value(b, slot, t->lang);
        return;
    }
    f = dlg_fact_get(t->st, key);
    if (zip[0])
        fz = dlg_fact_get(t->st, zip);
    /* Whatever the flow says: an account fact needs a verified customer,
     * a sensitive one a strongly verified one; a zipped list counts as
     * the more sensitive of the two. */
    if (f && fz && fz->sensitivity > f->sensitivity &&
        dlg_level(t->st) < parley_trust_level_for(fz->sensitivity)) {
        f = fz;
        (void)snprintf(key, sizeof(key), "%s", zip);
    }
    if (!f || dlg_level(t->st) < parley_trust_level_for(f->sensitivity)) {
        (void)parley__buf_add(b, "\xe2\x80\x94", 3);
        if (f) {
            PARLEY_LOG(PARLEY_LOG_WARN, "dialog: refused to render fact '%s' at identity %s", key,
                       dlg_identity_level(t->st));
            if (t->refused_disclosures < 4)
                (void)snprintf(t->refused[t->refused_disclosures], DLG_MAX_NAME, "%s", key);
            t->refused_disclosures++;
        }
        return;
    }
    if (f->is_list || f->json[0] == '[')
        format_list(b, f->json, fz ? fz->json : NULL, t->lang);
    else
        format_value(b, f->text, t->lang);
}

int dlg_render(struct dlg_turn *t, const char *key, const char *const *names,
               const char *const *values, size_t n, struct parley_buf *out)
{
    const char *s = parley_bot_response(t->d->bot, key, t->lang);
    struct parley_buf b = PARLEY_BUF_INIT(64 * 1024);
    if (!s)
        return 0;
    while (*s) {
        const char *open = strchr(s, '{'), *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            (void)parley__buf_add(&b, s, strlen(s));
            break;
        }
        (void)parley__buf_add(&b, s, (size_t)(open - s));
        fill(t, &b, open + 1, (size_t)(close - open - 1), names, values, n);
        s = close + 1;
    }
    *out = b;
    return 1;
}

int dlg_say_with(struct dlg_turn *t, const char *key, const char *const *names,
                 const char *const *values, size_t n)
{
    struct parley_buf b = PARLEY_BUF_INIT(64 * 1024);
    if (!dlg_render(t, key, names, values, n, &b))
        return 0;
    if (b.len)
        dlg_say_text(t, b.data, b.len);
    parley__buf_release(&b);
    return 1;
}

int dlg_say(struct dlg_turn *t, const char *key)
{
    return dlg_say_with(t, key, NULL, NULL, 0);
}

void dlg_say_text(struct dlg_turn *t, const char *s, size_t n)
{
    if (t->out.len && parley__buf_addc(&t->out, ' ') != PARLEY_OK)
        t->failed = 1;
    if (parley__buf_add(&t->out, s, n) != PARLEY_OK)
        t->failed = 1;
}
