/* One conversation's state: slots, facts, the flow position, identity and
 * what the bot waits for; read from and written to the JSON the store
 * keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dialog/internal.h"

void dlg_state_clear(struct dlg_state *st)
{
    for (size_t i = 0; i < st->nfacts; i++) {
        parley__free(st->facts[i].text);
        parley__free(st->facts[i].json);
    }
    memset(st, 0, sizeof(*st));
    st->step = -1;
    st->susp_step = -1;
}

const char *dlg_slot_get(const struct dlg_state *st, const char *name)
{
    for (size_t i = 0; i < st->nslots; i++)
        if (strcmp(st->slots[i].name, name) == 0)
            return st->slots[i].value;
    return NULL;
}

int dlg_slot_set(struct dlg_state *st, const char *name, const char *value)
{
    size_t i;
    for (i = 0; i < st->nslots && strcmp(st->slots[i].name, name) != 0; i++)
        ;
    if (i == st->nslots) {
        if (st->nslots == DLG_MAX_SLOTS || strlen(name) >= DLG_MAX_NAME)
            return 0;
        st->nslots++;
    }
    (void)snprintf(st->slots[i].name, sizeof(st->slots[i].name), "%s", name);
    (void)snprintf(st->slots[i].value, sizeof(st->slots[i].value), "%s", value);
    return 1;
}

const struct dlg_fact *dlg_fact_get(const struct dlg_state *st, const char *name)
{
    for (size_t i = 0; i < st->nfacts; i++)
        if (strcmp(st->facts[i].name, name) == 0)
            return &st->facts[i];
    return NULL;
}

int dlg_fact_set(struct dlg_state *st, const char *name, const char *text, const char *json,
                 int sensitivity, int is_list)
{
    size_t i;
    char *t, *j;
    if (strlen(name) >= DLG_MAX_NAME)
        return 0;
    for (i = 0; i < st->nfacts && strcmp(st->facts[i].name, name) != 0; i++)
        ;
    if (i == st->nfacts && st->nfacts == DLG_MAX_FACTS)
        return 0;
    t = parley__strdup(text);
    j = parley__strdup(json);
    if (!t || !j) {
        parley__free(t);
        parley__free(j);
        return 0;
    }
    if (i == st->nfacts) {
        st->nfacts++;
        memset(&st->facts[i], 0, sizeof(st->facts[i]));
        (void)snprintf(st->facts[i].name, sizeof(st->facts[i].name), "%s", name);
    }
    parley__free(st->facts[i].text);
    parley__free(st->facts[i].json);
    st->facts[i].text = t;
    st->facts[i].json = j;
    st->facts[i].sensitivity = sensitivity;
    st->facts[i].is_list = is_list;
    return 1;
}

static void copy_str(char *dst, size_t size, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    (void)snprintf(dst, size, "%s", s ? s : "");
}

static long get_int(json_t *o, const char *key, long dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

parley_err dlg_state_read(struct dlg_state *st, const char *json, parley_error *err)
{
    json_error_t je;
    json_t *root = json_loads(json ? json : "{}", 0, &je), *v, *id;
    const char *key;
    size_t i;
    dlg_state_clear(st);
    if (!json_is_object(root)) {
        json_decref(root);
        return parley_error_set(err, PARLEY_ERR_FORMAT, "cannot read conversation state: %s",
                                je.text[0] ? je.text : "not an object");
    }
    copy_str(st->lang, sizeof(st->lang), root, "lang");
    copy_str(st->flow, sizeof(st->flow), root, "flow");
    st->step = get_int(root, "step", -1);
    st->wait = (int)get_int(root, "wait", WAIT_NONE);
    st->reprompts = (int)get_int(root, "reprompts", 0);
    copy_str(st->susp_flow, sizeof(st->susp_flow), root, "susp_flow");
    st->susp_step = get_int(root, "susp_step", -1);
    st->misses = (int)get_int(root, "misses", 0);
    st->handoff = (int)get_int(root, "handoff", 0);
    st->last_ms = (int64_t)get_int(root, "last_ms", 0);
    st->turns = (int64_t)get_int(root, "turns", 0);
    json_array_foreach(json_object_get(root, "visits"), i, v)
    {
        if (i < sizeof(st->visits))
            st->visits[i] = (unsigned char)json_integer_value(v);
    }
    json_object_foreach(json_object_get(root, "slots"), key, v)
    {
        if (json_is_string(v))
            (void)dlg_slot_set(st, key, json_string_value(v));
    }
    json_object_foreach(json_object_get(root, "facts"), key, v)
    {
        const char *t = json_string_value(json_object_get(v, "t")),
                   *j = json_string_value(json_object_get(v, "j"));
        if (t && j)
            (void)dlg_fact_set(st, key, t, j, (int)get_int(v, "s", 1), (int)get_int(v, "l", 0));
    }
    json_array_foreach(json_object_get(root, "choices"), i, v)
    {
        if (st->nchoices < DLG_MAX_CHOICES && json_is_string(v))
            (void)snprintf(st->choices[st->nchoices++], DLG_MAX_NAME, "%s", json_string_value(v));
    }
    dlg_offer_read(&st->offer, json_object_get(root, "offer"));
    st->offer_seen = (int64_t)get_int(root, "offer_seen", 0);
    id = json_object_get(root, "id");
    if (json_is_object(id)) {
        const char *h = json_string_value(json_object_get(id, "code_hash"));
        st->id.stage = (int)get_int(id, "stage", 0);
        st->id.verified = (int)get_int(id, "verified", 0);
        st->id.identified = (int)get_int(id, "identified", 0);
        st->id.strong = (int)get_int(id, "strong", 0);
        st->id.attempts = (int)get_int(id, "attempts", 0);
        st->id.codes_sent = (int)get_int(id, "codes_sent", 0);
        st->id.name_ok = (int)get_int(id, "name_ok", 0);
        st->id.dob_ok = (int)get_int(id, "dob_ok", 0);
        copy_str(st->id.customer_id, sizeof(st->id.customer_id), id, "customer_id");
        copy_str(st->id.line_id, sizeof(st->id.line_id), id, "line_id");
        copy_str(st->id.phone, sizeof(st->id.phone), id, "phone");
        st->id.code_hash = h ? strtoull(h, NULL, 16) : 0;
        st->id.code_expires = (int64_t)get_int(id, "code_expires", 0);
    }
    json_decref(root);
    return PARLEY_OK;
}

char *dlg_state_write(const struct dlg_state *st)
{
    json_t *root = json_object(), *slots = json_object(), *facts = json_object(),
           *visits = json_array(), *choices = json_array(), *id = json_object();
    char hash[32], *out = NULL, *s;
    if (!root || !slots || !facts || !visits || !choices || !id) {
        json_decref(slots);
        json_decref(facts);
        json_decref(visits);
        json_decref(choices);
        json_decref(id);
        goto out;
    }
    (void)json_object_set_new(root, "v", json_integer(1));
    (void)json_object_set_new(root, "lang", json_string(st->lang));
    (void)json_object_set_new(root, "flow", json_string(st->flow));
    (void)json_object_set_new(root, "step", json_integer(st->step));
    (void)json_object_set_new(root, "wait", json_integer(st->wait));
    (void)json_object_set_new(root, "reprompts", json_integer(st->reprompts));
    (void)json_object_set_new(root, "susp_flow", json_string(st->susp_flow));
    (void)json_object_set_new(root, "susp_step", json_integer(st->susp_step));
    (void)json_object_set_new(root, "misses", json_integer(st->misses));
    (void)json_object_set_new(root, "handoff", json_integer(st->handoff));
    (void)json_object_set_new(root, "last_ms", json_integer(st->last_ms));
    (void)json_object_set_new(root, "turns", json_integer(st->turns));
    for (size_t i = 0; i < sizeof(st->visits); i++)
        (void)json_array_append_new(visits, json_integer(st->visits[i]));
    (void)json_object_set_new(root, "visits", visits);
    for (size_t i = 0; i < st->nslots; i++)
        (void)json_object_set_new(slots, st->slots[i].name, json_string(st->slots[i].value));
    (void)json_object_set_new(root, "slots", slots);
    for (size_t i = 0; i < st->nfacts; i++) {
        const struct dlg_fact *f = &st->facts[i];
        if (f->sensitivity >= PARLEY_CONNECT_SENSITIVE)
            continue;
        (void)json_object_set_new(facts, f->name,
                                  json_pack("{s:s, s:s, s:i, s:i}", "t", f->text, "j", f->json, "s",
                                            f->sensitivity, "l", f->is_list));
    }
    (void)json_object_set_new(root, "facts", facts);
    for (size_t i = 0; i < st->nchoices; i++)
        (void)json_array_append_new(choices, json_string(st->choices[i]));
    (void)json_object_set_new(root, "choices", choices);
    (void)snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)st->id.code_hash);
    (void)json_object_set_new(id, "stage", json_integer(st->id.stage));
    (void)json_object_set_new(id, "verified", json_integer(st->id.verified));
    (void)json_object_set_new(id, "identified", json_integer(st->id.identified));
    (void)json_object_set_new(id, "strong", json_integer(st->id.strong));
    (void)json_object_set_new(id, "attempts", json_integer(st->id.attempts));
    (void)json_object_set_new(id, "codes_sent", json_integer(st->id.codes_sent));
    (void)json_object_set_new(id, "name_ok", json_integer(st->id.name_ok));
    (void)json_object_set_new(id, "dob_ok", json_integer(st->id.dob_ok));
    (void)json_object_set_new(id, "customer_id", json_string(st->id.customer_id));
    (void)json_object_set_new(id, "line_id", json_string(st->id.line_id));
    (void)json_object_set_new(id, "phone", json_string(st->id.phone));
    (void)json_object_set_new(id, "code_hash", json_string(hash));
    (void)json_object_set_new(id, "code_expires", json_integer(st->id.code_expires));
    (void)json_object_set_new(root, "id", id);
    if (st->offer.at)
        (void)json_object_set_new(root, "offer", dlg_offer_json(&st->offer));
    if (st->offer_seen)
        (void)json_object_set_new(root, "offer_seen", json_integer(st->offer_seen));
    s = json_dumps(root, JSON_COMPACT);
    if (s) {
        out = parley__strdup(s);
        free(s);
    }
out:
    json_decref(root);
    return out;
}

json_t *dlg_offer_json(const struct dlg_offer *o)
{
    json_t *slots = json_object();
    for (size_t i = 0; slots && i < o->nslots; i++)
        (void)json_object_set_new(slots, o->slots[i].name, json_string(o->slots[i].value));
    return json_pack("{s:s, s:s, s:s, s:s, s:o*, s:I}", "rule", o->rule, "message", o->message,
                     "intent", o->intent, "event", o->event, "slots", slots, "at",
                     (json_int_t)o->at);
}

void dlg_offer_read(struct dlg_offer *o, json_t *v)
{
    const char *key;
    json_t *s;
    memset(o, 0, sizeof(*o));
    if (!json_is_object(v))
        return;
    copy_str(o->rule, sizeof(o->rule), v, "rule");
    copy_str(o->message, sizeof(o->message), v, "message");
    copy_str(o->intent, sizeof(o->intent), v, "intent");
    copy_str(o->event, sizeof(o->event), v, "event");
    o->at = (int64_t)get_int(v, "at", 0);
    json_object_foreach(json_object_get(v, "slots"), key, s)
    {
        if (o->nslots < DLG_OFFER_SLOTS && json_is_string(s) && strlen(key) < DLG_MAX_NAME) {
            (void)snprintf(o->slots[o->nslots].name, DLG_MAX_NAME, "%s", key);
            (void)snprintf(o->slots[o->nslots].value, DLG_MAX_VALUE, "%s", json_string_value(s));
            o->nslots++;
        }
    }
}
