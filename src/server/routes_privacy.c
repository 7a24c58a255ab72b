/* Privacy requests over HTTP: a customer's data as JSON (export), opting
 * out of training use (the training_use scope revoked), and erasure of
 * everything stored about them; each is recorded in the audit log, which
 * holds no personal data and so still verifies after an erasure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/trust.h"
#include "server/internal.h"

static void audit_privacy(struct req *r, const char *cust, const char *request)
{
    parley_audit_record rec = {0};
    parley_error e = PARLEY_ERROR_INIT;
    char body[96];
    if (!r->s->audit)
        return;
    (void)snprintf(body, sizeof(body), "{\"request\":\"%s\",\"channel\":\"api\"}", request);
    rec.kind = "privacy";
    rec.customer = cust;
    rec.body = body;
    if (parley_audit_append(r->s->audit, &rec, NULL, &e) != PARLEY_OK)
        PARLEY_LOG(PARLEY_LOG_ERROR, "server: audit privacy record: %s", e.msg);
}

void h_customer_export(struct req *r)
{
    const char *cust = r->params[0], *conv;
    parley_error e = PARLEY_ERROR_INIT;
    char *text = NULL;
    if (!customer_access(r, cust, &conv))
        return;
    parley_err rc = parley_trust_export(r->s->store, cust, (int64_t)time(NULL) * 1000, &text, &e);
    if (rc == PARLEY_OK && !(r->json = json_loads(text, 0, NULL)))
        rc = parley_error_set(&e, PARLEY_ERR_NOMEM, "out of memory");
    parley_trust_free(text);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        return;
    }
    audit_privacy(r, cust, "export");
    r->status = 200;
}

void h_customer_erase(struct req *r)
{
    const char *cust = r->params[0], *conv;
    parley_error e = PARLEY_ERROR_INIT;
    size_t n = 0;
    if (!customer_access(r, cust, &conv))
        return;
    parley_err rc = parley_store_customer_erase(r->s->store, cust, &n, &e);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        return;
    }
    audit_privacy(r, cust, "erase");
    r->status = 200;
    r->json =
        json_pack("{s:s, s:{s:I}}", "customer_id", cust, "erased", "conversations", (json_int_t)n);
}

void h_customer_opt_out(struct req *r)
{
    const char *cust = r->params[0], *conv;
    parley_error e = PARLEY_ERROR_INIT;
    size_t n = 0;
    if (!customer_access(r, cust, &conv))
        return;
    parley_err rc = parley_store_consent_revoke(r->s->store, cust, "scope:training_use", &n, &e);
    if (rc != PARLEY_OK && rc != PARLEY_ERR_NOTFOUND) {
        req_fail(r, rc, &e);
        return;
    }
    if (r->s->audit) {
        parley_audit_record rec = {0};
        rec.kind = "consent";
        rec.customer = cust;
        rec.conversation = conv;
        rec.body = "{\"op\":\"revoked\",\"scope\":\"training_use\",\"channel\":\"api\"}";
        if (parley_audit_append(r->s->audit, &rec, NULL, &e) != PARLEY_OK)
            PARLEY_LOG(PARLEY_LOG_ERROR, "server: audit opt-out record: %s", e.msg);
    }
    audit_privacy(r, cust, "opt_out");
    r->status = 200;
    r->json = json_pack("{s:s, s:s, s:I}", "customer_id", cust, "training_use", "revoked",
                        "grants_revoked", (json_int_t)n);
}
