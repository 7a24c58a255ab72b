/* telco-sim: SQLite state (WAL) — schema, seeding from the tau2 TOML files,
 * deterministic synthetic customers, and the JSON document helpers. */
#include "telco.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

sqlite3 *telco_db;
const char *telco_today = "2025-02-25";
static pthread_mutex_t db_mu = PTHREAD_MUTEX_INITIALIZER;

void telco_lock(void)
{
    pthread_mutex_lock(&db_mu);
}

void telco_unlock(void)
{
    pthread_mutex_unlock(&db_mu);
}

int telco_exec(const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(telco_db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        (void)fprintf(stderr, "telco-sim: sql error: %s\n", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT);"
    "CREATE TABLE IF NOT EXISTS plans(id TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS devices(id TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS customers(id TEXT PRIMARY KEY, phone TEXT, name_dob TEXT,"
    " doc TEXT NOT NULL, language TEXT, time_zone TEXT);"
    "CREATE INDEX IF NOT EXISTS customers_phone ON customers(phone);"
    "CREATE INDEX IF NOT EXISTS customers_name_dob ON customers(name_dob);"
    "CREATE TABLE IF NOT EXISTS lines(id TEXT PRIMARY KEY, phone TEXT, customer_id TEXT,"
    " doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS lines_phone ON lines(phone);"
    "CREATE TABLE IF NOT EXISTS bills(id TEXT PRIMARY KEY, customer_id TEXT, doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS bills_customer ON bills(customer_id);"
    "CREATE TABLE IF NOT EXISTS device_state(id TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS outages(id TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sms(seq INTEGER PRIMARY KEY AUTOINCREMENT, phone TEXT,"
    " doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS sms_phone ON sms(phone);"
    "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS idem(key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
    " status INTEGER NOT NULL, body TEXT NOT NULL);";

void telco_phone_norm(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (; in && *in && n + 1 < outlen; in++)
        if (isdigit((unsigned char)*in))
            out[n++] = *in;
    out[n] = '\0';
    if (n == 11 && out[0] == '1')
        memmove(out, out + 1, n);
}

void telco_snake(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (; in && *in && n + 1 < outlen; in++)
        out[n++] = (*in == ' ' || *in == '-') ? '_' : (char)tolower((unsigned char)*in);
    out[n] = '\0';
}

void telco_now_iso(char *out, size_t outlen)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && outlen)
        out[0] = '\0';
}

void telco_name_dob_key(const char *name, const char *dob, char *out, size_t outlen)
{
    size_t n = 0;
    for (; name && *name && n + 1 < outlen; name++)
        if (!isspace((unsigned char)*name) || (n > 0 && out[n - 1] != ' '))
            out[n++] = isspace((unsigned char)*name) ? ' ' : (char)tolower((unsigned char)*name);
    while (n > 0 && out[n - 1] == ' ')
        n--;
    (void)snprintf(out + n, outlen - n, "|%s", dob ? dob : "");
}

json_t *telco_doc_get(const char *table, const char *id)
{
    char sql[128];
    (void)snprintf(sql, sizeof(sql), "SELECT doc FROM %s WHERE id=?", table);
    sqlite3_stmt *st = NULL;
    json_t *doc = NULL;
    if (sqlite3_prepare_v2(telco_db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        doc = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
    sqlite3_finalize(st);
    return doc;
}

int telco_doc_put(const char *table, const char *id, json_t *doc)
{
    char sql[160];
    (void)snprintf(sql, sizeof(sql),
                   "INSERT INTO %s(id,doc) VALUES(?,?) ON CONFLICT(id) DO UPDATE SET "
                   "doc=excluded.doc",
                   table);
    char *text = json_dumps(doc, TELCO_JSON);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (text && sqlite3_prepare_v2(telco_db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    free(text);
    return rc;
}

/* 1 when table has column col. */
static int has_column(const char *table, const char *col)
{
    char sql[96];
    (void)snprintf(sql, sizeof(sql), "SELECT 1 FROM pragma_table_info('%s') WHERE name=?", table);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(telco_db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

/* Brings a database made by an older telco-sim up to the current schema.
 * Columns are added empty (NULL): readers fall back to the deterministic
 * defaults, so a million-row table migrates without rewriting a row. */
static int migrate(void)
{
    static const char *const adds[][2] = {
        {"language", "ALTER TABLE customers ADD COLUMN language TEXT"},
        {"time_zone", "ALTER TABLE customers ADD COLUMN time_zone TEXT"},
    };
    for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++)
        if (!has_column("customers", adds[i][0]) && telco_exec(adds[i][1]))
            return -1;
    return 0;
}

static const char *const languages[] = {"en", "fr", "es", "de"};

int telco_valid_language(const char *s)
{
    for (size_t i = 0; s && i < sizeof(languages) / sizeof(languages[0]); i++)
        if (strcmp(s, languages[i]) == 0)
            return 1;
    return 0;
}

int telco_valid_time_zone(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 64 || !strchr(s, '/'))
        return 0;
    /* "Area/City[/More]": each part starts with a letter, then letters, '_' or '-'. */
    for (size_t i = 0; i < n; i++) {
        int start = i == 0 || s[i - 1] == '/';
        if (start ? !isalpha((unsigned char)s[i])
                  : !(isalpha((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '/'))
            return 0;
    }
    return s[n - 1] != '/';
}

/* US state -> IANA zone for the seed's customers (the rest of the US, and an
 * unknown state, get New York). */
static const char *us_zone(const char *state)
{
    static const char *const map[][2] = {
        {"CA", "America/Los_Angeles"}, {"WA", "America/Los_Angeles"}, {"OR", "America/Los_Angeles"},
        {"NV", "America/Los_Angeles"}, {"AZ", "America/Phoenix"},     {"CO", "America/Denver"},
        {"UT", "America/Denver"},      {"NM", "America/Denver"},      {"MT", "America/Denver"},
        {"WY", "America/Denver"},      {"ID", "America/Boise"},       {"TX", "America/Chicago"},
        {"IL", "America/Chicago"},     {"MN", "America/Chicago"},     {"WI", "America/Chicago"},
        {"IA", "America/Chicago"},     {"MO", "America/Chicago"},     {"AR", "America/Chicago"},
        {"LA", "America/Chicago"},     {"MS", "America/Chicago"},     {"AL", "America/Chicago"},
        {"OK", "America/Chicago"},     {"KS", "America/Chicago"},     {"NE", "America/Chicago"},
        {"SD", "America/Chicago"},     {"ND", "America/Chicago"},     {"TN", "America/Chicago"},
        {"AK", "America/Anchorage"},   {"HI", "Pacific/Honolulu"},
    };
    for (size_t i = 0; state && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(state, map[i][0]) == 0)
            return map[i][1];
    return "America/New_York";
}

void telco_customer_locale_defaults(json_t *customer, const char **language, const char **time_zone)
{
    static const char *const en_zones[] = {"America/New_York", "America/Chicago", "America/Denver",
                                           "America/Los_Angeles"};
    static const char *const zones[] = {NULL, "Europe/Paris", "Europe/Madrid", "Europe/Berlin"};
    const char *id = json_string_value(json_object_get(customer, "customer_id"));
    char *end = NULL;
    /* Synthetic customers CSnnnnnnn: the number spreads them over the four
     * languages (and English speakers over four US zones). */
    if (id && strncmp(id, "CS", 2) == 0 && isdigit((unsigned char)id[2])) {
        unsigned long i = strtoul(id + 2, &end, 10);
        if (end && !*end) {
            *language = languages[i % 4];
            *time_zone = i % 4 ? zones[i % 4] : en_zones[(i / 4) % 4];
            return;
        }
    }
    *language = "en";
    *time_zone =
        us_zone(json_string_value(json_object_get(json_object_get(customer, "address"), "state")));
}

static char *meta_get(const char *k)
{
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    if (sqlite3_prepare_v2(telco_db, "SELECT v FROM meta WHERE k=?", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static int meta_set(const char *k, const char *v)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(telco_db, "INSERT OR REPLACE INTO meta(k,v) VALUES(?,?)", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

json_t *telco_device_defaults(void)
{
    char *v = meta_get("device_defaults");
    json_t *d = v ? json_loads(v, 0, NULL) : NULL;
    free(v);
    return d ? d : json_object();
}

/* Inserts one row through a prepared statement with up to 4 text columns. */
static int insert_row(sqlite3_stmt *st, const char *a, const char *b, const char *c, const char *d)
{
    const char *vals[4] = {a, b, c, d};
    sqlite3_reset(st);
    for (int i = 0; i < sqlite3_bind_parameter_count(st) && i < 4; i++)
        sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        (void)fprintf(stderr, "telco-sim: insert failed: %s\n", sqlite3_errmsg(telco_db));
        return -1;
    }
    return 0;
}

struct inserters {
    sqlite3_stmt *plan, *device, *customer, *line, *bill;
};

static int prepare_inserters(struct inserters *in)
{
    int rc = 0;
    rc |=
        sqlite3_prepare_v2(telco_db, "INSERT INTO plans(id,doc) VALUES(?,?)", -1, &in->plan, NULL);
    rc |= sqlite3_prepare_v2(telco_db, "INSERT INTO devices(id,doc) VALUES(?,?)", -1, &in->device,
                             NULL);
    rc |=
        sqlite3_prepare_v2(telco_db, "INSERT INTO customers(id,doc,phone,name_dob) VALUES(?,?,?,?)",
                           -1, &in->customer, NULL);
    rc |=
        sqlite3_prepare_v2(telco_db, "INSERT INTO lines(id,doc,phone,customer_id) VALUES(?,?,?,?)",
                           -1, &in->line, NULL);
    rc |= sqlite3_prepare_v2(telco_db, "INSERT INTO bills(id,doc,customer_id) VALUES(?,?,?)", -1,
                             &in->bill, NULL);
    return rc == SQLITE_OK ? 0 : -1;
}

static void finalize_inserters(struct inserters *in)
{
    sqlite3_finalize(in->plan);
    sqlite3_finalize(in->device);
    sqlite3_finalize(in->customer);
    sqlite3_finalize(in->line);
    sqlite3_finalize(in->bill);
}

static int insert_doc(sqlite3_stmt *st, json_t *doc, const char *idkey, const char *c,
                      const char *d)
{
    const char *id = json_string_value(json_object_get(doc, idkey));
    if (!id) {
        (void)fprintf(stderr, "telco-sim: seed record without a string '%s'\n", idkey);
        return -1;
    }
    char *text = json_dumps(doc, TELCO_JSON);
    int rc = text ? insert_row(st, id, text, c, d) : -1;
    free(text);
    return rc;
}

static void snake_field(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v)
        return;
    char buf[64];
    telco_snake(v, buf, sizeof(buf));
    json_object_set_new(o, key, json_string(buf));
}

/* Only the last four digits of a payment method ever leave the store. */
static json_t *clean_payment_methods(json_t *pms, const char *cid)
{
    json_t *out = json_array();
    size_t i;
    json_t *pm;
    json_array_foreach(pms, i, pm)
    {
        const char *l4 = json_string_value(json_object_get(pm, "account_number_last_4"));
        const char *num = json_string_value(json_object_get(pm, "account_number"));
        char last4[8] = "";
        if (l4)
            (void)snprintf(last4, sizeof(last4), "%.4s", l4);
        else if (num && strlen(num) >= 4)
            (void)snprintf(last4, sizeof(last4), "%s", num + strlen(num) - 4);
        char id[64];
        (void)snprintf(id, sizeof(id), "PM-%s-%zu", cid, i + 1);
        json_array_append_new(
            out, json_pack("{s:s, s:O, s:s, s:O}", "payment_method_id", id, "method_type",
                           json_object_get(pm, "method_type") ? json_object_get(pm, "method_type")
                                                              : json_null(),
                           "last4", last4, "expiration_date",
                           json_object_get(pm, "expiration_date")
                               ? json_object_get(pm, "expiration_date")
                               : json_null()));
    }
    return out;
}

static json_t *device_defaults_from(json_t *user)
{
    json_t *d = json_object_get(user, "device");
    json_t *apn = json_object_get(d, "active_apn_settings");
    json_t *apps = json_object_get(d, "app_statuses");
    json_t *perms = json_object();
    const char *k;
    json_t *app;
    json_object_foreach(apps, k, app)
    {
        json_t *p = json_object_get(app, "permissions");
        json_object_set(perms, k, p ? p : json_object());
    }
    int missing = json_is_true(json_object_get(d, "sim_card_missing"));
    const char *sim = json_string_value(json_object_get(d, "sim_card_status"));
    return json_pack(
        "{s:b, s:s, s:b, s:b, s:b, s:O, s:s, s:b, s:{s:b, s:b}, s:o, s:I, s:s, s:b, s:b}",
        "airplane_mode", json_is_true(json_object_get(d, "airplane_mode")), "sim_status",
        missing ? "missing" : (sim ? sim : "active"), "mobile_data",
        !json_is_false(json_object_get(d, "data_enabled")), "data_saver",
        json_is_true(json_object_get(d, "data_saver_mode")), "roaming_setting",
        json_is_true(json_object_get(d, "roaming_enabled")), "apn_settings",
        apn ? apn : json_object(), "network_mode_preference",
        json_string_value(json_object_get(d, "network_mode_preference"))
            ? json_string_value(json_object_get(d, "network_mode_preference"))
            : "4g_5g_preferred",
        "wifi_calling", json_is_true(json_object_get(d, "wifi_calling_enabled")), "vpn", "enabled",
        json_is_true(json_object_get(d, "vpn_enabled_setting")), "connected",
        json_is_true(json_object_get(d, "vpn_connected")), "app_permissions", perms,
        "battery_level", (json_int_t)json_integer_value(json_object_get(d, "battery_level")),
        "signal_strength",
        json_string_value(json_object_get(d, "network_signal_strength"))
            ? json_string_value(json_object_get(d, "network_signal_strength"))
            : "good",
        "abroad", 0, "wifi_enabled", json_is_true(json_object_get(d, "wifi_enabled")));
}

/* A seed customer may carry "language" and "time_zone"; they must be valid
 * (a bad one is a seed error) and move to their columns on insert. */
static int seed_locale(json_t *c)
{
    const char *cid = json_string_value(json_object_get(c, "customer_id"));
    json_t *l = json_object_get(c, "language");
    json_t *z = json_object_get(c, "time_zone");
    if (l && !telco_valid_language(json_string_value(l))) {
        (void)fprintf(stderr, "telco-sim: customer '%s': language must be en, fr, es or de\n",
                      cid ? cid : "?");
        return -1;
    }
    if (z && !telco_valid_time_zone(json_string_value(z))) {
        (void)fprintf(stderr, "telco-sim: customer '%s': time_zone is not an IANA 'Area/City'\n",
                      cid ? cid : "?");
        return -1;
    }
    return 0;
}

static int store_locale(json_t *c)
{
    const char *cid = json_string_value(json_object_get(c, "customer_id"));
    const char *l = json_string_value(json_object_get(c, "language"));
    const char *z = json_string_value(json_object_get(c, "time_zone"));
    return cid && (l || z) ? telco_customer_set_locale(cid, l, z) : 0;
}

static int seed(const struct telco_config *cfg, struct inserters *in)
{
    char err[512];
    json_t *db = telco_toml_load(cfg->seed_path, err, sizeof(err));
    if (!db) {
        (void)fprintf(stderr, "telco-sim: %s\n", err);
        return -1;
    }
    json_t *user = telco_toml_load(cfg->user_db_path, err, sizeof(err));
    if (!user) {
        (void)fprintf(stderr, "telco-sim: %s\n", err);
        json_decref(db);
        return -1;
    }
    int rc = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(db, "plans"), i, v) rc |=
        insert_doc(in->plan, v, "plan_id", NULL, NULL);
    json_array_foreach(json_object_get(db, "devices"), i, v) rc |=
        insert_doc(in->device, v, "device_id", NULL, NULL);
    /* line -> owning customer, from the customers' line_ids */
    json_t *owner = json_object();
    json_array_foreach(json_object_get(db, "customers"), i, v)
    {
        const char *cid = json_string_value(json_object_get(v, "customer_id"));
        size_t j;
        json_t *l;
        json_array_foreach(json_object_get(v, "line_ids"), j, l) if (cid && json_is_string(l))
            json_object_set_new(owner, json_string_value(l), json_string(cid));
    }
    json_array_foreach(json_object_get(db, "lines"), i, v)
    {
        char phone[32];
        telco_phone_norm(json_string_value(json_object_get(v, "phone_number")), phone,
                         sizeof(phone));
        snake_field(v, "status");
        const char *lid = json_string_value(json_object_get(v, "line_id"));
        const char *cid = lid ? json_string_value(json_object_get(owner, lid)) : NULL;
        if (cid)
            json_object_set_new(v, "customer_id", json_string(cid));
        rc |= insert_doc(in->line, v, "line_id", phone, cid);
    }
    json_array_foreach(json_object_get(db, "customers"), i, v)
    {
        char phone[32], key[256];
        const char *cid = json_string_value(json_object_get(v, "customer_id"));
        telco_phone_norm(json_string_value(json_object_get(v, "phone_number")), phone,
                         sizeof(phone));
        telco_name_dob_key(json_string_value(json_object_get(v, "full_name")),
                           json_string_value(json_object_get(v, "date_of_birth")), key,
                           sizeof(key));
        snake_field(v, "account_status");
        json_object_set_new(
            v, "payment_methods",
            clean_payment_methods(json_object_get(v, "payment_methods"), cid ? cid : "?"));
        rc |= seed_locale(v);
        rc |= insert_doc(in->customer, v, "customer_id", phone, key);
        rc |= store_locale(v);
    }
    json_array_foreach(json_object_get(db, "bills"), i, v)
    {
        snake_field(v, "status");
        if (!json_object_get(v, "line_items"))
            json_object_set_new(v, "line_items", json_array());
        rc |= insert_doc(in->bill, v, "bill_id",
                         json_string_value(json_object_get(v, "customer_id")), NULL);
    }
    json_t *dev = device_defaults_from(user);
    char *devtext = json_dumps(dev, TELCO_JSON);
    rc |= devtext ? meta_set("device_defaults", devtext) : -1;
    free(devtext);
    json_decref(dev);
    json_decref(owner);
    json_decref(db);
    json_decref(user);
    return rc ? -1 : 0;
}

static const char *const first_names[] = {"Alex", "Maria", "Wei",   "Fatima", "Liam",
                                          "Noor", "Pedro", "Yuki",  "Olga",   "Kwame",
                                          "Ines", "Ravi",  "Chloe", "Omar",   "Hana"};
static const char *const last_names[] = {"Garcia", "Chen",  "Okafor", "Novak",  "Silva",
                                         "Kim",    "Patel", "Muller", "Rossi",  "Haddad",
                                         "Larsen", "Ito",   "Dubois", "Mendes", "Walker"};
static const char *const cities[] = {"Anytown", "Springfield", "Denver", "Austin", "Portland"};

/* Customer i gets one line (status/plan/contract vary with i) and two bills;
 * every 10th has an overdue bill, every 20th line is suspended, every 50th
 * contract has ended. */
static int synth_one(struct inserters *in, long i)
{
    char cid[32], lid[32], did[32], b1[32], b2[32], phone[32], norm[32], name[96], dob[16],
        email[128], key[160], pm[48];
    (void)snprintf(cid, sizeof(cid), "CS%07ld", i);
    (void)snprintf(lid, sizeof(lid), "LS%07ld", i);
    (void)snprintf(did, sizeof(did), "D1001");
    (void)snprintf(b1, sizeof(b1), "BS%07ld-1", i);
    (void)snprintf(b2, sizeof(b2), "BS%07ld-2", i);
    (void)snprintf(phone, sizeof(phone), "%03ld-%03ld-%04ld", 700 + i / 10000000,
                   (i / 10000) % 1000, i % 10000);
    (void)snprintf(name, sizeof(name), "%s %s %ld", first_names[i % 15], last_names[(i / 15) % 15],
                   i);
    (void)snprintf(dob, sizeof(dob), "%04ld-%02ld-%02ld", 1950 + i % 50, 1 + i % 12, 1 + i % 28);
    (void)snprintf(email, sizeof(email), "user%ld@example.com", i);
    (void)snprintf(pm, sizeof(pm), "PM-%s-1", cid);
    telco_phone_norm(phone, norm, sizeof(norm));
    telco_name_dob_key(name, dob, key, sizeof(key));
    const char *plan = i % 3 == 0 ? "P1001" : (i % 3 == 1 ? "P1002" : "P1003");
    double price = i % 3 == 0 ? 40.0 : (i % 3 == 1 ? 65.0 : 85.0);
    int overdue = i % 10 == 0;
    int suspended = i % 20 == 0;
    const char *contract = i % 50 == 0 ? "2024-12-31" : "2026-12-31";
    char l4[8];
    (void)snprintf(l4, sizeof(l4), "%04ld", i % 10000);
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:[{s:s, s:s, s:s, s:s}], "
        "s:[s], s:[s, s]}",
        "customer_id", cid, "full_name", name, "date_of_birth", dob, "email", email, "phone_number",
        phone, "address", "street", "1 Synthetic Way", "city", cities[i % 5], "state", "CA",
        "zip_code", "90000", "account_status", "active", "payment_methods", "payment_method_id", pm,
        "method_type", "Credit Card", "last4", l4, "expiration_date", "12/2027", "line_ids", lid,
        "bill_ids", b1, b2);
    json_t *l = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:b, s:s, s:s}", "line_id", lid,
                          "phone_number", phone, "status", suspended ? "suspended" : "active",
                          "plan_id", plan, "device_id", did, "customer_id", cid, "data_used_gb",
                          (double)(i % 7), "data_refueling_gb", 0.0, "roaming_enabled", 0,
                          "contract_end_date", contract, "last_plan_change_date", "2025-01-10");
    json_t *bill1 =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:s, s:[{s:s, s:f, s:s, s:s}]}", "bill_id",
                  b1, "customer_id", cid, "period_start", "2025-01-01", "period_end", "2025-01-31",
                  "issue_date", "2025-01-05", "total_due", price, "due_date", "2025-01-19",
                  "status", "paid", "line_items", "description", "Plan Charge", "amount", price,
                  "date", "2025-01-05", "item_type", "Plan Charge");
    json_t *bill2 =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:s, s:[{s:s, s:f, s:s, s:s}]}", "bill_id",
                  b2, "customer_id", cid, "period_start", "2025-02-01", "period_end", "2025-02-28",
                  "issue_date", "2025-02-05", "total_due", price, "due_date", "2025-02-19",
                  "status", overdue ? "overdue" : "issued", "line_items", "description",
                  "Plan Charge", "amount", price, "date", "2025-02-05", "item_type", "Plan Charge");
    int rc = -1;
    if (c && l && bill1 && bill2)
        rc = insert_doc(in->customer, c, "customer_id", norm, key) |
             insert_doc(in->line, l, "line_id", norm, cid) |
             insert_doc(in->bill, bill1, "bill_id", cid, NULL) |
             insert_doc(in->bill, bill2, "bill_id", cid, NULL);
    json_decref(c);
    json_decref(l);
    json_decref(bill1);
    json_decref(bill2);
    return rc ? -1 : 0;
}

int telco_store_open(const struct telco_config *cfg)
{
    if (sqlite3_open_v2(cfg->db_path, &telco_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        (void)fprintf(stderr, "telco-sim: cannot open database '%s': %s\n", cfg->db_path,
                      telco_db ? sqlite3_errmsg(telco_db) : "out of memory");
        return -1;
    }
    sqlite3_busy_timeout(telco_db, 5000);
    if (telco_exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;") || telco_exec(schema) ||
        migrate())
        return -1;
    char *seeded = meta_get("seeded");
    int already = seeded != NULL;
    free(seeded);
    if (already) {
        if (cfg->synthetic > 0)
            (void)fprintf(stderr, "telco-sim: '%s' is already seeded; ignoring --synthetic\n",
                          cfg->db_path);
        return 0;
    }
    struct inserters in = {0};
    if (telco_exec("BEGIN") || prepare_inserters(&in)) {
        finalize_inserters(&in);
        return -1;
    }
    int rc = seed(cfg, &in);
    for (long i = 1; rc == 0 && i <= cfg->synthetic; i++) {
        rc = synth_one(&in, i);
        if (i % 100000 == 0 || i == cfg->synthetic)
            (void)fprintf(stderr, "telco-sim: synthetic customers %ld/%ld\n", i, cfg->synthetic);
    }
    finalize_inserters(&in);
    if (rc == 0)
        rc = meta_set("seeded", telco_today);
    if (rc || telco_exec("COMMIT")) {
        (void)telco_exec("ROLLBACK");
        return -1;
    }
    /* A big seed leaves a WAL as large as the database; fold it in now. */
    return telco_exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

void telco_store_close(void)
{
    sqlite3_close(telco_db);
    telco_db = NULL;
}

int telco_customer_set_locale(const char *id, const char *language, const char *time_zone)
{
    /* COALESCE keeps the column a NULL argument does not set. */
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(telco_db,
                           "UPDATE customers SET language=COALESCE(?,language),"
                           " time_zone=COALESCE(?,time_zone) WHERE id=?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, language, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, time_zone, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

json_t *telco_customer_get(const char *id)
{
    sqlite3_stmt *st = NULL;
    json_t *doc = NULL;
    if (sqlite3_prepare_v2(telco_db, "SELECT doc,language,time_zone FROM customers WHERE id=?", -1,
                           &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        doc = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
    if (json_is_object(doc)) {
        const char *language, *time_zone;
        telco_customer_locale_defaults(doc, &language, &time_zone);
        if (sqlite3_column_text(st, 1))
            language = (const char *)sqlite3_column_text(st, 1);
        if (sqlite3_column_text(st, 2))
            time_zone = (const char *)sqlite3_column_text(st, 2);
        json_object_set_new(doc, "language", json_string(language));
        json_object_set_new(doc, "time_zone", json_string(time_zone));
    }
    sqlite3_finalize(st);
    return doc;
}

json_t *telco_docs_query(const char *sql, const char *param)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(telco_db, sql, -1, &st, NULL) != SQLITE_OK)
        return arr;
    if (param)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *doc = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        if (doc)
            json_array_append_new(arr, doc);
    }
    sqlite3_finalize(st);
    return arr;
}
