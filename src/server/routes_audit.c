/* The audit log over HTTP: records of a conversation or a customer, the
 * chain's verification, and the plain-language explanation of a
 * conversation's decisions. Agents may read conversations only (they
 * handle conversations, not customers); admins everything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

static int no_log(struct req *r)
{
    if (r->s->audit)
        return 0;
    req_error(r, 503, "unavailable", "no audit log is configured");
    return 1;
}

static int add_record(const parley_audit_record *rec, void *userdata)
{
    char when[32];
    iso_time(rec->time, when);
    json_t *body = json_loads(rec->body, 0, NULL);
    return json_array_append_new(
               userdata, json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:o}", "seq",
                                   (json_int_t)rec->seq, "time", when, "kind", rec->kind,
                                   "conversation_id", rec->conversation ? rec->conversation : "",
                                   "customer_id", rec->customer ? rec->customer : "", "turn",
                                   (json_int_t)rec->turn, "body", body ? body : json_object())) !=
           0;
}

void h_audit_list(struct req *r)
{
    const char *conv = req_query(r, "conversation_id"), *cust = req_query(r, "customer_id");
    parley_audit_filter f = {conv, cust};
    parley_error e = PARLEY_ERROR_INIT;
    json_t *list;
    if (no_log(r))
        return;
    if (!conv == !cust)
        return (void)req_error(r, 400, "bad_field",
                               "give exactly one of ?conversation_id= and ?customer_id=");
    if (cust && r->role != ROLE_ADMIN)
        return (void)req_error(r, 403, "forbidden", "only admin keys read a customer's records");
    list = json_array();
    parley_err rc = parley_audit_list(r->s->audit, &f, add_record, list, &e);
    if (rc != PARLEY_OK) {
        json_decref(list);
        req_fail(r, rc, &e);
        return;
    }
    r->status = 200;
    r->json = json_pack("{s:o}", "records", list);
}

void h_audit_verify(struct req *r)
{
    parley_audit_report rep;
    parley_error e = PARLEY_ERROR_INIT;
    if (no_log(r))
        return;
    memset(&rep, 0, sizeof(rep));
    parley_err rc = parley_audit_verify(r->s->audit, NULL, &rep, &e);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        return;
    }
    r->status = 200;
    if (rep.ok)
        r->json =
            json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "ok", 1, "records", (json_int_t)rep.records,
                      "checkpoints", (json_int_t)rep.checkpoints, "signed_checkpoints",
                      (json_int_t)rep.signed_checkpoints, "first_seq", (json_int_t)rep.first_seq,
                      "pruned_through", (json_int_t)rep.pruned_through);
    else
        r->json = json_pack("{s:b, s:I, s:I, s:s, s:s}", "ok", 0, "records",
                            (json_int_t)rep.records, "seq", (json_int_t)rep.seq, "kind",
                            parley_audit_break_name(rep.kind), "detail", rep.detail);
}

static void add_line(const char *line, void *userdata)
{
    (void)json_array_append_new(userdata, json_string(line));
}

void h_audit_explain(struct req *r)
{
    const char *conv = req_query(r, "conversation_id"), *turn = req_query(r, "turn");
    long long tn = 0;
    parley_error e = PARLEY_ERROR_INIT;
    if (no_log(r))
        return;
    if (!conv || !conv[0])
        return (void)req_error(r, 400, "bad_field", "?conversation_id= is required");
    if (turn) {
        char *end = NULL;
        tn = strtoll(turn, &end, 10);
        if (!turn[0] || *end || tn < 1)
            return (void)req_error(r, 400, "bad_field", "'turn' must be a turn number from 1");
    }
    json_t *lines = json_array();
    parley_err rc = parley_audit_explain(r->s->audit, conv, tn, 1, add_line, lines, &e);
    if (rc != PARLEY_OK) {
        json_decref(lines);
        req_fail(r, rc, &e);
        return;
    }
    r->status = 200;
    r->json = json_pack("{s:s, s:o}", "conversation_id", conv, "lines", lines);
}
