/* telco-sim: account routes — health, plans, customer lookup, bills,
 * payment requests and payments (one awaiting payment per customer). */
#include "telco.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const no_params[] = {NULL};

static int healthz(struct telco_req *r, json_t **out)
{
    (void)r;
    *out = json_pack("{s:b}", "ok", 1);
    return 200;
}

static int list_plans(struct telco_req *r, json_t **out)
{
    int st = telco_query_only(r, out, no_params);
    if (st)
        return st;
    *out = json_pack("{s:o}", "plans", telco_docs_query("SELECT doc FROM plans ORDER BY id", NULL));
    return 200;
}

static int get_plan(struct telco_req *r, json_t **out)
{
    *out = telco_doc_get("plans", r->segs[1]);
    if (!*out)
        return telco_err(out, 404, "plan_not_found", "no plan '%.64s'", r->segs[1]);
    return 200;
}

static int valid_date(const char *s)
{
    int y, m, d;
    char tail;
    return s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 &&
           m <= 12 && d >= 1 && d <= 31;
}

/* First column of the first row, or NULL. */
static char *lookup_id(const char *sql, const char *param)
{
    sqlite3_stmt *st = NULL;
    char *id = NULL;
    if (sqlite3_prepare_v2(telco_db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        id = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return id;
}

static int find_customer(struct telco_req *r, json_t **out)
{
    static const char *const allowed[] = {"phone", "full_name", "date_of_birth", NULL};
    int st = telco_query_only(r, out, allowed);
    if (st)
        return st;
    const char *phone = telco_query(r, "phone");
    const char *name = telco_query(r, "full_name");
    const char *dob = telco_query(r, "date_of_birth");
    char *id = NULL;
    if (phone && !name && !dob) {
        char norm[32];
        telco_phone_norm(phone, norm, sizeof(norm));
        if (strlen(norm) < 7 || strlen(norm) > 15)
            return telco_err(out, 400, "invalid_query", "'phone' is not a phone number");
        id = lookup_id("SELECT id FROM customers WHERE phone=? ORDER BY id LIMIT 1", norm);
        if (!id)
            id = lookup_id("SELECT customer_id FROM lines WHERE phone=? ORDER BY id LIMIT 1", norm);
    } else if (name && dob && !phone) {
        if (!valid_date(dob))
            return telco_err(out, 400, "invalid_query", "'date_of_birth' must be YYYY-MM-DD");
        if (strlen(name) == 0 || strlen(name) > 200)
            return telco_err(out, 400, "invalid_query", "'full_name' must be 1-200 characters");
        char key[512];
        telco_name_dob_key(name, dob, key, sizeof(key));
        id = lookup_id("SELECT id FROM customers WHERE name_dob=? ORDER BY id LIMIT 1", key);
    } else {
        return telco_err(out, 400, "invalid_query",
                         "give either 'phone', or 'full_name' with 'date_of_birth'");
    }
    if (id)
        *out = telco_customer_get(id);
    free(id);
    if (!*out)
        return telco_err(out, 404, "customer_not_found", "no customer matches");
    return 200;
}

static int get_customer(struct telco_req *r, json_t **out)
{
    *out = telco_customer_get(r->segs[1]);
    if (!*out)
        return telco_err(out, 404, "customer_not_found", "no customer '%.64s'", r->segs[1]);
    return 200;
}

/* Simulator lever: sets the customer's language and/or time zone (what
 * Parley's proactive care uses to pick the message language and quiet
 * hours). Unknown fields are refused so a typo does not pass silently. */
static int sim_profile(struct telco_req *r, json_t **out)
{
    const char *language, *time_zone, *k;
    json_t *v;
    json_object_foreach(r->body, k, v)
    {
        if (strcmp(k, "language") != 0 && strcmp(k, "time_zone") != 0)
            return telco_err(out, 400, "invalid_field", "'%.64s' is not a profile field", k);
    }
    int st = telco_body_string(r, out, "language", 0, &language);
    if (!st)
        st = telco_body_string(r, out, "time_zone", 0, &time_zone);
    if (st)
        return st;
    if (!language && !time_zone)
        return telco_err(out, 400, "invalid_field", "give 'language', 'time_zone' or both");
    if (language && !telco_valid_language(language))
        return telco_err(out, 400, "invalid_field", "'language' must be en, fr, es or de");
    if (time_zone && !telco_valid_time_zone(time_zone))
        return telco_err(out, 400, "invalid_field",
                         "'time_zone' must be an IANA name like 'Europe/Paris'");
    json_t *c = telco_doc_get("customers", r->segs[2]);
    if (!c)
        return telco_err(out, 404, "customer_not_found", "no customer '%.64s'", r->segs[2]);
    json_decref(c);
    if (telco_customer_set_locale(r->segs[2], language, time_zone))
        return telco_err(out, 500, "internal", "cannot store the profile");
    *out = telco_customer_get(r->segs[2]);
    if (!*out)
        return telco_err(out, 500, "internal", "cannot read the customer back");
    return 200;
}

static int customer_bills(struct telco_req *r, json_t **out)
{
    json_t *c = telco_doc_get("customers", r->segs[1]);
    if (!c)
        return telco_err(out, 404, "customer_not_found", "no customer '%.64s'", r->segs[1]);
    json_decref(c);
    *out = json_pack(
        "{s:o}", "bills",
        telco_docs_query("SELECT doc FROM bills WHERE customer_id=? ORDER BY id", r->segs[1]));
    return 200;
}

static int get_bill(struct telco_req *r, json_t **out)
{
    *out = telco_doc_get("bills", r->segs[1]);
    if (!*out)
        return telco_err(out, 404, "bill_not_found", "no bill '%.64s'", r->segs[1]);
    return 200;
}

static int has_bill_with_status(const char *cid, const char *status)
{
    json_t *bills = telco_docs_query("SELECT doc FROM bills WHERE customer_id=?", cid);
    size_t i;
    json_t *b;
    int found = 0;
    json_array_foreach(bills, i, b)
    {
        const char *s = json_string_value(json_object_get(b, "status"));
        if (s && strcmp(s, status) == 0)
            found = 1;
    }
    json_decref(bills);
    return found;
}

int telco_customer_has_overdue(const char *cid)
{
    return has_bill_with_status(cid, "overdue");
}

static int send_sms(const char *phone, const char *text)
{
    json_t *b = json_pack("{s:s, s:s}", "phone", phone, "text", text);
    int rc = telco_sms_store(b);
    json_decref(b);
    return rc;
}

static int payment_request(struct telco_req *r, json_t **out)
{
    const char *bill_id;
    int st = telco_body_string(r, out, "bill_id", 1, &bill_id);
    if (st)
        return st;
    json_t *c = telco_doc_get("customers", r->segs[1]);
    if (!c)
        return telco_err(out, 404, "customer_not_found", "no customer '%.64s'", r->segs[1]);
    json_t *bill = telco_doc_get("bills", bill_id);
    const char *owner = json_string_value(json_object_get(bill, "customer_id"));
    if (!bill || !owner || strcmp(owner, r->segs[1]) != 0) {
        st = telco_err(out, 404, "bill_not_found", "customer '%.64s' has no bill '%.64s'",
                       r->segs[1], bill_id);
        goto done;
    }
    if (has_bill_with_status(r->segs[1], "awaiting_payment")) {
        st = telco_err(out, 409, "payment_request_pending",
                       "the customer already has a bill awaiting payment");
        goto done;
    }
    const char *status = json_string_value(json_object_get(bill, "status"));
    if (!status || (strcmp(status, "overdue") != 0 && strcmp(status, "issued") != 0)) {
        st = telco_err(out, 409, "bill_not_payable", "bill '%.64s' is %s", bill_id,
                       status ? status : "in an unknown state");
        goto done;
    }
    json_object_set(bill, "status_before_request", json_object_get(bill, "status"));
    json_object_set_new(bill, "status", json_string("awaiting_payment"));
    json_object_set_new(bill, "payment_requested_on", json_string(telco_today));
    char text[256];
    (void)snprintf(text, sizeof(text), "Payment request for bill %s: %.2f due. Reply in the app.",
                   bill_id, json_number_value(json_object_get(bill, "total_due")));
    const char *phone = json_string_value(json_object_get(c, "phone_number"));
    if (telco_doc_put("bills", bill_id, bill) || (phone && send_sms(phone, text))) {
        st = telco_err(out, 500, "internal", "cannot store the payment request");
        goto done;
    }
    *out = json_incref(bill);
    st = 200;
done:
    json_decref(bill);
    json_decref(c);
    return st;
}

/* "MM/YYYY" before the simulation month. */
static int expired(const char *exp)
{
    int m, y, ty, tm;
    if (!exp || sscanf(exp, "%d/%d", &m, &y) != 2 || sscanf(telco_today, "%d-%d", &ty, &tm) != 2)
        return 0;
    return y * 12 + m < ty * 12 + tm;
}

static int pay_bill(struct telco_req *r, json_t **out)
{
    const char *pm_id;
    int st = telco_body_string(r, out, "payment_method_id", 0, &pm_id);
    if (st)
        return st;
    json_t *bill = telco_doc_get("bills", r->segs[1]);
    if (!bill)
        return telco_err(out, 404, "bill_not_found", "no bill '%.64s'", r->segs[1]);
    const char *cid = json_string_value(json_object_get(bill, "customer_id"));
    json_t *c = cid ? telco_doc_get("customers", cid) : NULL;
    const char *status = json_string_value(json_object_get(bill, "status"));
    json_t *pm = NULL;
    if (!status || strcmp(status, "awaiting_payment") != 0) {
        st = telco_err(out, 409, "no_payment_request",
                       "bill '%.64s' has no payment request (status %s)", r->segs[1],
                       status ? status : "unknown");
        goto done;
    }
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(c, "payment_methods"), i, m)
    {
        const char *id = json_string_value(json_object_get(m, "payment_method_id"));
        if (!pm && (!pm_id || (id && strcmp(id, pm_id) == 0)))
            pm = m;
    }
    if (!pm) {
        st = pm_id ? telco_err(out, 404, "payment_method_not_found",
                               "customer has no payment method '%.64s'", pm_id)
                   : telco_err(out, 409, "no_payment_method", "customer has no payment method");
        goto done;
    }
    if (expired(json_string_value(json_object_get(pm, "expiration_date")))) {
        (void)telco_event_emit("payment_failed",
                               json_pack("{s:s, s:s, s:O, s:s}", "customer_id", cid, "bill_id",
                                         r->segs[1], "payment_method_id",
                                         json_object_get(pm, "payment_method_id"), "reason",
                                         "card_expired"));
        st = telco_err(out, 402, "payment_failed", "the payment method has expired");
        goto done;
    }
    json_object_set_new(bill, "status", json_string("paid"));
    json_object_del(bill, "status_before_request");
    json_object_set_new(bill, "paid_on", json_string(telco_today));
    json_object_set(bill, "paid_with", json_object_get(pm, "payment_method_id"));
    if (telco_doc_put("bills", r->segs[1], bill)) {
        st = telco_err(out, 500, "internal", "cannot store the payment");
        goto done;
    }
    *out = json_incref(bill);
    st = 200;
done:
    json_decref(c);
    json_decref(bill);
    return st;
}

const struct telco_route telco_account_routes[] = {
    {"GET", "/healthz", healthz},
    {"GET", "/plans", list_plans},
    {"GET", "/plans/*", get_plan},
    {"GET", "/customers", find_customer},
    {"GET", "/customers/*", get_customer},
    {"GET", "/customers/*/bills", customer_bills},
    {"POST", "/customers/*/payment-requests", payment_request},
    {"GET", "/bills/*", get_bill},
    {"POST", "/bills/*/pay", pay_bill},
    {"POST", "/sim/customers/*/profile", sim_profile},
    {NULL, NULL, NULL},
};
