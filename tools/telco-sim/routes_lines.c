/* telco-sim: line routes — line state, resume/refuel/plan/roaming rules,
 * the phone's device state, diagnostics, speed test and remote fixes. */
#include "telco.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int no_line(json_t **out, const char *id)
{
    return telco_err(out, 404, "line_not_found", "no line '%.64s'", id);
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Fraction of the plan's data (limit + refuelled) used; 0 when unknown. */
static double used_fraction(json_t *line, json_t *plan)
{
    double limit = json_number_value(json_object_get(plan, "data_limit_gb")) +
                   json_number_value(json_object_get(line, "data_refueling_gb"));
    if (limit <= 0)
        return 0;
    return json_number_value(json_object_get(line, "data_used_gb")) / limit;
}

static int get_line(struct telco_req *r, json_t **out)
{
    *out = telco_doc_get("lines", r->segs[1]);
    if (!*out)
        return no_line(out, r->segs[1]);
    return 200;
}

static int save_line(json_t **out, json_t *line, const char *id)
{
    if (telco_doc_put("lines", id, line))
        return telco_err(out, 500, "internal", "cannot store line '%.64s'", id);
    *out = json_incref(line);
    return 200;
}

static int resume_line(struct telco_req *r, json_t **out)
{
    json_t *line = telco_doc_get("lines", r->segs[1]);
    if (!line)
        return no_line(out, r->segs[1]);
    int st;
    if (strcmp(str(line, "status"), "suspended") != 0)
        st = telco_err(out, 409, "line_not_suspended", "line '%.64s' is %s", r->segs[1],
                       str(line, "status"));
    else if (telco_customer_has_overdue(str(line, "customer_id")))
        st = telco_err(out, 409, "overdue_bill",
                       "the customer has an overdue bill; it must be paid first");
    else if (strcmp(str(line, "contract_end_date"), telco_today) < 0)
        st = telco_err(out, 409, "contract_ended", "the line's contract ended on %s",
                       str(line, "contract_end_date"));
    else {
        json_object_set_new(line, "status", json_string("active"));
        json_object_del(line, "suspension_start_date");
        json_object_del(line, "suspension_reason");
        st = save_line(out, line, r->segs[1]);
    }
    json_decref(line);
    return st;
}

static int refuel(struct telco_req *r, json_t **out)
{
    double gb;
    int st = telco_body_number(r, out, "gb", &gb);
    if (st)
        return st;
    if (!isfinite(gb) || gb <= 0 || gb > 2.0)
        return telco_err(out, 422, "refuel_too_large",
                         "a refuel must be more than 0 and at most 2 GB");
    json_t *line = telco_doc_get("lines", r->segs[1]);
    if (!line)
        return no_line(out, r->segs[1]);
    json_t *plan = telco_doc_get("plans", str(line, "plan_id"));
    if (strcmp(str(line, "status"), "active") != 0) {
        st = telco_err(out, 409, "line_not_active", "line '%.64s' is %s", r->segs[1],
                       str(line, "status"));
    } else if (!plan) {
        st = telco_err(out, 409, "plan_not_found", "the line's plan is unknown");
    } else {
        double price = json_number_value(json_object_get(plan, "data_refueling_price_per_gb"));
        double charged = round(gb * price * 100.0) / 100.0;
        json_object_set_new(
            line, "data_refueling_gb",
            json_real(json_number_value(json_object_get(line, "data_refueling_gb")) + gb));
        st = save_line(out, line, r->segs[1]);
        if (st == 200) {
            json_decref(*out);
            *out = json_pack("{s:O, s:f, s:f}", "line", line, "charged", charged, "gb", gb);
        }
    }
    json_decref(plan);
    json_decref(line);
    return st;
}

static int change_plan(struct telco_req *r, json_t **out)
{
    const char *plan_id;
    int st = telco_body_string(r, out, "plan_id", 1, &plan_id);
    if (st)
        return st;
    json_t *line = telco_doc_get("lines", r->segs[1]);
    if (!line)
        return no_line(out, r->segs[1]);
    json_t *plan = telco_doc_get("plans", plan_id);
    json_t *old = telco_doc_get("plans", str(line, "plan_id"));
    if (!plan) {
        st = telco_err(out, 404, "plan_not_found", "no plan '%.64s'", plan_id);
    } else if (strcmp(str(line, "status"), "closed") == 0) {
        st = telco_err(out, 409, "line_not_active", "line '%.64s' is closed", r->segs[1]);
    } else {
        double before = used_fraction(line, old);
        json_object_set_new(line, "plan_id", json_string(plan_id));
        json_object_set_new(line, "last_plan_change_date", json_string(telco_today));
        telco_usage_events(r->segs[1], str(line, "customer_id"), before, used_fraction(line, plan));
        st = save_line(out, line, r->segs[1]);
    }
    json_decref(old);
    json_decref(plan);
    json_decref(line);
    return st;
}

static int set_roaming(struct telco_req *r, json_t **out)
{
    int enabled;
    int st = telco_body_bool(r, out, "enabled", &enabled);
    if (st)
        return st;
    json_t *line = telco_doc_get("lines", r->segs[1]);
    if (!line)
        return no_line(out, r->segs[1]);
    json_object_set_new(line, "roaming_enabled", json_boolean(enabled));
    st = save_line(out, line, r->segs[1]);
    json_decref(line);
    return st;
}

/* The phone's state: stored per line once changed, else the seed defaults. */
static json_t *device_get(const char *line_id)
{
    json_t *d = telco_doc_get("device_state", line_id);
    if (!d) {
        d = telco_device_defaults();
        json_object_set_new(d, "line_id", json_string(line_id));
    }
    return d;
}

static int get_device(struct telco_req *r, json_t **out)
{
    json_t *line = telco_doc_get("lines", r->segs[1]);
    if (!line)
        return no_line(out, r->segs[1]);
    json_decref(line);
    *out = device_get(r->segs[1]);
    return 200;
}

static int in_outage(const char *city)
{
    json_t *all = telco_docs_query("SELECT doc FROM outages", NULL);
    size_t i, j;
    json_t *o, *c;
    int hit = 0;
    json_array_foreach(all, i, o)
    {
        if (strcmp(str(o, "status"), "open") != 0)
            continue;
        json_array_foreach(json_object_get(o, "cities"), j,
                           c) if (json_is_string(c) && strcasecmp(json_string_value(c), city) == 0)
            hit = 1;
    }
    json_decref(all);
    return hit;
}

/* The APN is right when its name and MMSC URL are the seed's. */
static int apn_is_default(json_t *dev, json_t *defaults)
{
    json_t *apn = json_object_get(dev, "apn_settings");
    json_t *dapn = json_object_get(defaults, "apn_settings");
    return strcmp(str(apn, "apn_name"), str(dapn, "apn_name")) == 0 &&
           strcmp(str(apn, "mmsc_url"), str(dapn, "mmsc_url")) == 0;
}

static const char *const levels[] = {"no_service", "very_poor", "poor",
                                     "fair",       "good",      "excellent"};
static const double level_mbps[] = {0, 0.5, 2, 8, 40, 250};

/* Derives service, data and speed from the line, plan, phone and outages. */
static json_t *diagnose(json_t *line, json_t *dev, int *level)
{
    json_t *issues = json_array();
    json_t *plan = telco_doc_get("plans", str(line, "plan_id"));
    json_t *cust = telco_doc_get("customers", str(line, "customer_id"));
    json_t *defaults = telco_device_defaults();
    int service = 1, data = 1;
    char code[64];
    if (strcmp(str(line, "status"), "active") != 0) {
        service = 0;
        (void)snprintf(code, sizeof(code), "line_%s", str(line, "status"));
        json_array_append_new(issues, json_string(code));
    }
    if (json_is_true(json_object_get(dev, "airplane_mode"))) {
        service = 0;
        json_array_append_new(issues, json_string("airplane_mode_on"));
    }
    const char *sim = str(dev, "sim_status");
    if (strcmp(sim, "active") != 0) {
        service = 0;
        (void)snprintf(code, sizeof(code), "sim_%s", sim);
        json_array_append_new(issues, json_string(code));
    }
    int outage = in_outage(str(json_object_get(cust, "address"), "city"));
    if (outage) {
        service = 0;
        json_array_append_new(issues, json_string("network_outage"));
    }
    const char *mode = str(dev, "network_mode_preference");
    const char *tech = "4G";
    int base = 4;
    if (strcmp(mode, "2g_only") == 0) {
        tech = "2G";
        base = 2;
        json_array_append_new(issues, json_string("network_mode_2g"));
    } else if (strcmp(mode, "3g_only") == 0 || strcmp(mode, "3g_2g") == 0) {
        tech = "3G";
        base = 3;
        json_array_append_new(issues, json_string("network_mode_3g"));
    } else if (strcmp(mode, "4g_5g_preferred") == 0 || strcmp(mode, "5g_only") == 0) {
        tech = "5G";
        base = 5;
    }
    const char *signal = service ? str(dev, "signal_strength") : "none";
    if (service && base == 2)
        signal = "poor";
    if (strcmp(signal, "poor") == 0 && base > 2)
        base = 2;
    else if (strcmp(signal, "fair") == 0 && base > 3)
        base = 3;
    data = service;
    if (!json_is_true(json_object_get(dev, "mobile_data"))) {
        data = 0;
        json_array_append_new(issues, json_string("mobile_data_off"));
    }
    int apn_ok = apn_is_default(dev, defaults);
    if (!apn_ok) {
        data = 0;
        json_array_append_new(issues, json_string("apn_incorrect"));
    }
    if (plan && used_fraction(line, plan) >= 1.0) {
        data = 0;
        json_array_append_new(issues, json_string("data_limit_reached"));
    }
    int abroad = json_is_true(json_object_get(dev, "abroad"));
    if (abroad && !json_is_true(json_object_get(line, "roaming_enabled"))) {
        data = 0;
        json_array_append_new(issues, json_string("roaming_not_enabled_on_line"));
    }
    if (abroad && !json_is_true(json_object_get(dev, "roaming_setting"))) {
        data = 0;
        json_array_append_new(issues, json_string("roaming_off_on_device"));
    }
    if (json_is_true(json_object_get(dev, "data_saver"))) {
        json_array_append_new(issues, json_string("data_saver_on"));
        if (base > 2)
            base = 2;
    }
    if (json_is_true(json_object_get(json_object_get(dev, "vpn"), "connected"))) {
        json_array_append_new(issues, json_string("vpn_connected"));
        base = base > 2 ? base - 2 : 1;
    }
    *level = data ? base : 0;
    json_t *d = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:b, s:b, s:b, s:b, s:b, s:f, s:f, s:o}",
        "line_id", str(line, "line_id"), "line_status", str(line, "status"), "signal", signal,
        "network_status", service ? "connected" : "no_service", "network_technology",
        service ? tech : "none", "mobile_data_working", data, "airplane_mode",
        json_is_true(json_object_get(dev, "airplane_mode")), "sim_status", sim, "apn_ok", apn_ok,
        "abroad", abroad, "line_roaming_enabled",
        json_is_true(json_object_get(line, "roaming_enabled")), "device_roaming_setting",
        json_is_true(json_object_get(dev, "roaming_setting")), "outage", outage, "data_used_gb",
        json_number_value(json_object_get(line, "data_used_gb")), "data_limit_gb",
        json_number_value(json_object_get(plan, "data_limit_gb")) +
            json_number_value(json_object_get(line, "data_refueling_gb")),
        "issues", issues);
    json_decref(plan);
    json_decref(cust);
    json_decref(defaults);
    return d;
}

static int diagnostics(struct telco_req *r, json_t **out)
{
    json_t *line = telco_doc_get("lines", r->segs[1]);
    if (!line)
        return no_line(out, r->segs[1]);
    json_t *dev = device_get(r->segs[1]);
    int level;
    *out = diagnose(line, dev, &level);
    json_decref(dev);
    json_decref(line);
    return 200;
}

static int speedtest(struct telco_req *r, json_t **out)
{
    json_t *line = telco_doc_get("lines", r->segs[1]);
    if (!line)
        return no_line(out, r->segs[1]);
    json_t *dev = device_get(r->segs[1]);
    int level;
    json_t *d = diagnose(line, dev, &level);
    *out = json_pack("{s:s, s:f, s:O}", "result", levels[level], "mbps", level_mbps[level],
                     "issues", json_object_get(d, "issues"));
    json_decref(d);
    json_decref(dev);
    json_decref(line);
    return 200;
}

/* toggle_* flips the flag, or sets it to the optional "enabled". */
static int toggle(struct telco_req *r, json_t **out, json_t *obj, const char *key)
{
    json_t *en = json_object_get(r->body, "enabled");
    if (en && !json_is_boolean(en))
        return telco_err(out, 400, "invalid_field", "'enabled' must be true or false");
    int v = en ? json_is_true(en) : !json_is_true(json_object_get(obj, key));
    json_object_set_new(obj, key, json_boolean(v));
    return 0;
}

static int apply_action(struct telco_req *r, json_t **out, json_t *dev, const char *action)
{
    static const char *const modes[] = {"2g_only", "3g_only",         "3g_2g",
                                        "4g_only", "4g_5g_preferred", "5g_only"};
    if (strcmp(action, "toggle_airplane_mode") == 0)
        return toggle(r, out, dev, "airplane_mode");
    if (strcmp(action, "toggle_data_saver") == 0)
        return toggle(r, out, dev, "data_saver");
    if (strcmp(action, "toggle_roaming_setting") == 0)
        return toggle(r, out, dev, "roaming_setting");
    if (strcmp(action, "toggle_mobile_data") == 0)
        return toggle(r, out, dev, "mobile_data");
    if (strcmp(action, "toggle_wifi_calling") == 0)
        return toggle(r, out, dev, "wifi_calling");
    if (strcmp(action, "connect_vpn") == 0 || strcmp(action, "disconnect_vpn") == 0) {
        int on = action[0] == 'c';
        json_t *vpn = json_object_get(dev, "vpn");
        if (!json_is_object(vpn))
            json_object_set_new(dev, "vpn", vpn = json_object());
        json_object_set_new(vpn, "connected", json_boolean(on));
        if (on)
            json_object_set_new(vpn, "enabled", json_true());
        return 0;
    }
    if (strcmp(action, "reset_apn") == 0) {
        json_t *defaults = telco_device_defaults();
        json_object_set(dev, "apn_settings", json_object_get(defaults, "apn_settings"));
        json_decref(defaults);
        return 0;
    }
    if (strcmp(action, "set_apn") == 0) {
        const char *name, *mmsc, *mms;
        int st = telco_body_string(r, out, "apn_name", 1, &name);
        if (!st)
            st = telco_body_string(r, out, "mmsc_url", 0, &mmsc);
        if (!st)
            st = telco_body_string(r, out, "mms_apn", 0, &mms);
        if (st)
            return st;
        json_t *apn = json_object_get(dev, "apn_settings");
        if (!json_is_object(apn))
            json_object_set_new(dev, "apn_settings", apn = json_object());
        json_object_set_new(apn, "apn_name", json_string(name));
        if (mmsc)
            json_object_set_new(apn, "mmsc_url", json_string(mmsc));
        if (mms)
            json_object_set_new(apn, "mms_apn", json_string(mms));
        return 0;
    }
    if (strcmp(action, "set_network_mode") == 0) {
        const char *mode;
        int st = telco_body_string(r, out, "mode", 1, &mode);
        if (st)
            return st;
        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
            if (strcmp(modes[i], mode) == 0) {
                json_object_set_new(dev, "network_mode_preference", json_string(mode));
                return 0;
            }
        return telco_err(out, 422, "invalid_network_mode",
                         "mode must be 2g_only, 3g_only, 3g_2g, 4g_only, 4g_5g_preferred or "
                         "5g_only");
    }
    if (strcmp(action, "reseat_sim") == 0) {
        if (strcmp(str(dev, "sim_status"), "missing") == 0)
            json_object_set_new(dev, "sim_status", json_string("active"));
        return 0;
    }
    if (strcmp(action, "reboot") == 0)
        return 0;
    return telco_err(out, 422, "unknown_action", "unknown device action '%.64s'", action);
}

static int save_device(json_t **out, json_t *dev, const char *line_id)
{
    if (telco_doc_put("device_state", line_id, dev))
        return telco_err(out, 500, "internal", "cannot store the device state");
    *out = json_incref(dev);
    return 200;
}

static int device_action(struct telco_req *r, json_t **out)
{
    const char *action;
    int st = telco_body_string(r, out, "action", 1, &action);
    if (st)
        return st;
    json_t *line = telco_doc_get("lines", r->segs[1]);
    if (!line)
        return no_line(out, r->segs[1]);
    json_decref(line);
    json_t *dev = device_get(r->segs[1]);
    st = apply_action(r, out, dev, action);
    if (!st)
        st = save_device(out, dev, r->segs[1]);
    json_decref(dev);
    return st;
}

/* ---- /sim/lines/...: the simulator's own levers ---- */

static int sim_usage(struct telco_req *r, json_t **out)
{
    double gb;
    int st = telco_body_number(r, out, "gb", &gb);
    if (st)
        return st;
    if (!isfinite(gb) || gb <= 0 || gb > 1000)
        return telco_err(out, 422, "invalid_usage", "'gb' must be more than 0 and at most 1000");
    json_t *line = telco_doc_get("lines", r->segs[2]);
    if (!line)
        return no_line(out, r->segs[2]);
    json_t *plan = telco_doc_get("plans", str(line, "plan_id"));
    double before = used_fraction(line, plan);
    json_object_set_new(line, "data_used_gb",
                        json_real(json_number_value(json_object_get(line, "data_used_gb")) + gb));
    telco_usage_events(r->segs[2], str(line, "customer_id"), before, used_fraction(line, plan));
    st = save_line(out, line, r->segs[2]);
    json_decref(plan);
    json_decref(line);
    return st;
}

static int sim_suspend(struct telco_req *r, json_t **out)
{
    const char *reason;
    int st = telco_body_string(r, out, "reason", 0, &reason);
    if (st)
        return st;
    json_t *line = telco_doc_get("lines", r->segs[2]);
    if (!line)
        return no_line(out, r->segs[2]);
    if (strcmp(str(line, "status"), "active") != 0) {
        st = telco_err(out, 409, "line_not_active", "line '%.64s' is %s", r->segs[2],
                       str(line, "status"));
    } else {
        json_object_set_new(line, "status", json_string("suspended"));
        json_object_set_new(line, "suspension_start_date", json_string(telco_today));
        json_object_set_new(line, "suspension_reason", json_string(reason ? reason : "other"));
        (void)telco_event_emit("line_suspended", json_pack("{s:s, s:s, s:s}", "line_id", r->segs[2],
                                                           "customer_id", str(line, "customer_id"),
                                                           "reason", reason ? reason : "other"));
        st = save_line(out, line, r->segs[2]);
    }
    json_decref(line);
    return st;
}

/* Sets a line's contract end date (a test lever: no seeded line has an
 * ended contract). */
static int sim_contract(struct telco_req *r, json_t **out)
{
    const char *end;
    int st = telco_body_string(r, out, "contract_end_date", 1, &end);
    if (st)
        return st;
    if (strlen(end) != 10 || end[4] != '-' || end[7] != '-')
        return telco_err(out, 400, "invalid_field", "contract_end_date must be YYYY-MM-DD");
    json_t *line = telco_doc_get("lines", r->segs[2]);
    if (!line)
        return no_line(out, r->segs[2]);
    json_object_set_new(line, "contract_end_date", json_string(end));
    st = save_line(out, line, r->segs[2]);
    json_decref(line);
    return st;
}

static int sim_travel(struct telco_req *r, json_t **out)
{
    int abroad;
    const char *country;
    int st = telco_body_bool(r, out, "abroad", &abroad);
    if (!st)
        st = telco_body_string(r, out, "country", 0, &country);
    if (st)
        return st;
    json_t *line = telco_doc_get("lines", r->segs[2]);
    if (!line)
        return no_line(out, r->segs[2]);
    json_t *dev = device_get(r->segs[2]);
    json_object_set_new(dev, "abroad", json_boolean(abroad));
    if (abroad)
        (void)telco_event_emit("roaming_detected",
                               json_pack("{s:s, s:s, s:s, s:b}", "line_id", r->segs[2],
                                         "customer_id", str(line, "customer_id"), "country",
                                         country ? country : "unknown", "roaming_enabled",
                                         json_is_true(json_object_get(line, "roaming_enabled"))));
    st = save_device(out, dev, r->segs[2]);
    json_decref(dev);
    json_decref(line);
    return st;
}

/* Misconfigurations that a remote fix (reset_apn, toggle_data_saver) can
 * repair, as bits: the device_misconfigured event names each one. */
enum { MISCONF_APN = 1 << 0, MISCONF_DATA_SAVER = 1 << 1 };

static unsigned misconfigurations(json_t *dev, json_t *defaults)
{
    unsigned m = 0;
    if (!apn_is_default(dev, defaults))
        m |= MISCONF_APN;
    if (json_is_true(json_object_get(dev, "data_saver")))
        m |= MISCONF_DATA_SAVER;
    return m;
}

/* Overwrites device fields that already exist, with a value of the same type.
 * Only this lever emits device_misconfigured: it stands for the phone going
 * wrong on its own, while /lines/{id}/device/actions is the fix path. */
static int sim_device(struct telco_req *r, json_t **out)
{
    static const struct {
        unsigned bit;
        const char *problem;
    } problems[] = {{MISCONF_APN, "apn_incorrect"}, {MISCONF_DATA_SAVER, "data_saver_on"}};
    json_t *line = telco_doc_get("lines", r->segs[2]);
    if (!line)
        return no_line(out, r->segs[2]);
    json_t *dev = device_get(r->segs[2]);
    json_t *defaults = telco_device_defaults();
    unsigned before = misconfigurations(dev, defaults);
    const char *k;
    json_t *v;
    int st = 0;
    json_object_foreach(r->body, k, v)
    {
        json_t *cur = json_object_get(dev, k);
        int same = cur && (json_typeof(cur) == json_typeof(v) ||
                           (json_is_boolean(cur) && json_is_boolean(v)) ||
                           (json_is_number(cur) && json_is_number(v)));
        if (!same || strcmp(k, "line_id") == 0) {
            st = telco_err(out, 400, "invalid_field", "'%.64s' is not a settable device field", k);
            break;
        }
        json_object_set(dev, k, v);
    }
    unsigned appeared = st ? 0 : misconfigurations(dev, defaults) & ~before;
    for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]) && !st; i++)
        if ((appeared & problems[i].bit) &&
            telco_event_emit("device_misconfigured",
                             json_pack("{s:s, s:s, s:s}", "line_id", r->segs[2], "customer_id",
                                       str(line, "customer_id"), "problem", problems[i].problem)))
            st = telco_err(out, 500, "internal", "cannot store the event");
    if (!st)
        st = save_device(out, dev, r->segs[2]);
    json_decref(defaults);
    json_decref(dev);
    json_decref(line);
    return st;
}

const struct telco_route telco_line_routes[] = {
    {"GET", "/lines/*", get_line},
    {"POST", "/lines/*/resume", resume_line},
    {"POST", "/lines/*/refuel", refuel},
    {"POST", "/lines/*/plan", change_plan},
    {"POST", "/lines/*/roaming", set_roaming},
    {"GET", "/lines/*/device", get_device},
    {"GET", "/lines/*/diagnostics", diagnostics},
    {"GET", "/lines/*/speedtest", speedtest},
    {"POST", "/lines/*/device/actions", device_action},
    {"POST", "/sim/lines/*/usage", sim_usage},
    {"POST", "/sim/lines/*/suspend", sim_suspend},
    {"POST", "/sim/lines/*/contract", sim_contract},
    {"POST", "/sim/lines/*/travel", sim_travel},
    {"POST", "/sim/lines/*/device", sim_device},
    {NULL, NULL, NULL},
};
