/* query: what legal answers without changing anything — an assignee's case list and its
 * case files in chunks (its own cases only), health, and the legal report (report.c). */
#include "legal.h"

#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "envelope.h"
#include "health.h"
#include "report.h"

/* Dead letters and what was appended: every shard's outbox and outreach's. */
static size_t health(legal_t *self, MDB_txn *txn, uint64_t request_id, uint8_t *buf, size_t cap)
{
    outbox_t *outboxes[SHARDS_MAX + 1];
    size_t n = self->cfg->staging.count;
    memcpy(outboxes, self->to_staging, n * sizeof *outboxes);
    outboxes[n++] = self->to_outreach;
    health_t h = {"legal", self->started_ms, self->unacked ? self->unacked(self->unacked_arg) : 0,
                  outboxes, n, INT64_MAX, self->clock};
    if (cases_next_due(self->cases, txn, &h.next_due_ms) != 0)
        h.next_due_ms = INT64_MAX;
    return health_reply(&h, txn, request_id, buf, cap);
}

static void summarize(const StoredCase *c, const char *principal, Arrears__CaseSummary *s,
                      char *last_step)
{
    s->case_id = c->case_id;
    s->platform = c->platform;
    s->account_ref = c->account_ref;
    s->has_status = s->has_offered_at_ms = s->has_outstanding_minor = s->has_product = 1;
    s->status = c->status;
    s->offered_at_ms = c->offered_ms;
    s->has_accept_by_ms = c->status == ARREARS__CASE_STATUS__REFERRED;
    s->accept_by_ms = c->due_ms;
    s->currency = c->currency;
    s->outstanding_minor = c->outstanding_minor;
    s->jurisdiction = c->jurisdiction;
    s->product = c->product;
    if (c->has_last_step_day)
        tz_date_format(c->last_step_day, last_step);
    s->last_step_date = c->has_last_step_day ? last_step : NULL;
    s->has_recovered_minor = 1;
    for (size_t i = 0; i < c->n_steps; i++)
        if (c->steps[i]->actor && strcmp(c->steps[i]->actor, principal) == 0)
            s->recovered_minor += c->steps[i]->recovery_minor;
    s->has_file_html_bytes = s->has_file_machine_bytes = 1;
    s->file_html_bytes = c->file_html_bytes;
    s->file_machine_bytes = c->file_machine_bytes;
}

static bool is_ended(const StoredCase *c)
{
    return case_status_terminal((case_status_t)c->status);
}

static size_t case_list(legal_t *self, MDB_txn *txn, const char *principal,
                        const Arrears__CaseListQuery *q, uint64_t request_id, uint8_t *buf,
                        size_t cap, reject_t *reject)
{
    size_t max = q->max_cases ? q->max_cases : 100;
    if (max > self->limits.list_max || (q->after_case_id && strlen(q->after_case_id) > CASES_ID_MAX))
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "max_cases",
                                     "max_cases 1 to 500, after_case_id a case id");
    char (*ids)[CASES_ID_MAX + 1] = malloc((max + 1) * sizeof *ids);
    Arrears__CaseSummary *rows = calloc(max, sizeof *rows);
    Arrears__CaseSummary **ptrs = calloc(max, sizeof *ptrs);
    StoredCase **held = calloc(max, sizeof *held);
    char (*days)[TZ_DATE_LEN + 1] = calloc(max, sizeof *days);
    Arrears__CaseList list = ARREARS__CASE_LIST__INIT;
    size_t n = 0, len = 0;
    int rc = ids && rows && ptrs && held && days ? 0 : ENOMEM;
    /* One id past the page says whether there is a next page. */
    rc = rc ? rc : cases_of_assignee(self->cases, txn, principal, q->after_case_id, max + 1, ids, &n);
    bool more = n > max;
    n = more ? max : n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = cases_get(self->cases, txn, ids[i], &held[i]);
        if (rc == 0 && held[i] && (q->include_ended || !is_ended(held[i]))) {
            rows[list.n_cases] = (Arrears__CaseSummary)ARREARS__CASE_SUMMARY__INIT;
            summarize(held[i], principal, &rows[list.n_cases], days[list.n_cases]);
            ptrs[list.n_cases] = &rows[list.n_cases];
            list.n_cases++;
        }
    }
    list.cases = ptrs;
    list.next_after = more ? ids[n - 1] : NULL;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_LIST;
    env.case_list = &list;
    if (rc == 0 && (len = envelope_pack_reply(&env, request_id, buf, cap)) == 0)
        receiver_refuse_query(reject, ARREARS__REJECT__CODE__TOO_LARGE,
                              "max_cases", "ask for fewer cases");
    else if (rc != 0)
        receiver_refuse_query(reject, ARREARS__REJECT__CODE__BUSY,
                              NULL, "the case list could not be read now");
    for (size_t i = 0; held && i < n; i++)
        arrears__stored_case__free_unpacked(held[i], NULL);
    free(ids), free(rows), free(ptrs), free(held), free(days);
    return len;
}

/* A chunk of the case's file, for its assignee alone. */
static size_t case_file(legal_t *self, MDB_txn *txn, const char *principal,
                        const Arrears__CaseFileQuery *q, uint64_t request_id, uint8_t *buf,
                        size_t cap, reject_t *reject)
{
    StoredCase *c = NULL;
    if (!q->case_id || strlen(q->case_id) > CASES_ID_MAX ||
        cases_get(self->cases, txn, q->case_id, &c) != 0 || !c ||
        !c->assignee || strcmp(c->assignee, principal) != 0) {
        arrears__stored_case__free_unpacked(c, NULL);
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "case_id",
                                     "no such case is placed with you");
    }
    arrears__stored_case__free_unpacked(c, NULL);
    if (q->form != ARREARS__CASE_FILE_FORM__CASE_FILE_HTML &&
        q->form != ARREARS__CASE_FILE_FORM__CASE_FILE_MACHINE)
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__INVALID_FIELD,
                                     "form", "html or machine");
    size_t total = 0;
    if (cases_file_get(self->cases, txn, q->case_id, q->form, self->file_buf, CASES_FILE_MAX,
                       &total) != 0)
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__BUSY,
                                     NULL, "the file could not be read now");
    chunk_t part;
    uint8_t digest[CHUNK_DIGEST_BYTES];
    if (chunk_slice(total, q->offset, q->max_bytes, self->limits.chunk_max_bytes, &part) != CHUNK_OK)
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "offset",
                                     "offset within the file, max_bytes at most 262144");
    chunk_digest(self->file_buf, total, digest);   /* a case file is at most 2 MiB */
    Arrears__CaseFileChunk m = ARREARS__CASE_FILE_CHUNK__INIT;
    m.case_id = q->case_id;
    m.has_form = m.has_total_bytes = m.has_offset = m.has_data = m.has_sha256 = 1;
    m.form = q->form;
    m.total_bytes = total;
    m.offset = part.offset;
    m.data = (ProtobufCBinaryData){part.len, self->file_buf + part.offset};
    m.sha256 = (ProtobufCBinaryData){sizeof digest, digest};
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_FILE_CHUNK;
    env.case_file_chunk = &m;
    size_t len = envelope_pack_reply(&env, request_id, buf, cap);
    return len ? len : receiver_refuse_query(reject, ARREARS__REJECT__CODE__TOO_LARGE,
                                             "max_bytes", "ask for less");
}

size_t legal_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                   const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject)
{
    legal_t *self = app;
    bool trusted = strcmp(from->role, "operator") == 0 || strcmp(from->role, "service") == 0;
    bool assignee = strcmp(from->role, "firm") == 0 || strcmp(from->role, "agency") == 0;
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_HEALTH_QUERY:
        return health(self, txn, env->request_id, buf, cap);
    case ARREARS__ENVELOPE__BODY_CASE_LIST_QUERY:
        if (assignee)
            return case_list(self, txn, from->principal, env->case_list_query, env->request_id,
                             buf, cap, reject);
        break;
    case ARREARS__ENVELOPE__BODY_CASE_FILE_QUERY:
        if (assignee)
            return case_file(self, txn, from->principal, env->case_file_query, env->request_id,
                             buf, cap, reject);
        break;
    case ARREARS__ENVELOPE__BODY_LEGAL_REPORT_QUERY:
        if (trusted)
            return legal_report(self, txn, env->legal_report_query, env->request_id, buf, cap,
                                reject);
        break;
    default:
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body",
                                     "legal answers health, case list, case file and legal report queries");
    }
    return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "body",
                                 "case lists and files are for firms and agencies; reports for operators");
}
