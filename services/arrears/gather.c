/* gather: see gather.h. */
#include "gather.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "merge.h"
#include "opclient.h"

#define REPORT_TIMEOUT_MS 60000

static int ask(void *ctx, const embedded_t *e, const char *service, Arrears__Envelope *env,
               int reply_case, Arrears__Envelope **reply, char *err, size_t len)
{
    char key[EMBEDDED_PATH_MAX + 32], pub[EMBEDDED_PATH_MAX + 32], ep[EMBEDDED_PATH_MAX + 32];
    embedded_key(e, "operator", "key", key, sizeof key);
    embedded_key(e, service, "pub", pub, sizeof pub);
    embedded_endpoint(e, service, ep, sizeof ep);
    opclient_t *c = opclient_new(ctx, ep, pub, key, err, len);
    if (!c)
        return -1;
    reject_t reject;
    int rc = opclient_query(c, env, reply_case, reply, REPORT_TIMEOUT_MS, &reject);
    if (rc == OPCLIENT_EREJECTED)
        snprintf(err, len, "%s refused its report query: %s", service, reject.reason);
    else if (rc != 0)
        snprintf(err, len, "%s: %s", service, opclient_strerror(rc));
    opclient_destroy(&c);
    return rc;
}

/* Every shard's report, merged, as the envelope the renderers read (body report). */
static int ask_shards(void *ctx, const embedded_t *e, Arrears__Envelope *query,
                      Arrears__Envelope **out, char *err, size_t len)
{
    Arrears__Envelope *replies[SHARDS_MAX] = { 0 };
    const Arrears__Report *reports[SHARDS_MAX];
    int rc = 0;
    for (uint32_t k = 0; rc == 0 && k < e->shards; k++) {
        rc = ask(ctx, e, embedded_shard(e, k)->name, query, ARREARS__ENVELOPE__BODY_REPORT,
                 &replies[k], err, len);
        reports[k] = rc == 0 ? replies[k]->report : NULL;
    }
    Arrears__Report *merged = NULL;
    if (rc == 0 && (rc = merge_reports(reports, e->shards, &merged)) != 0)
        snprintf(err, len, "staging's shards: %s", merge_strerror(rc));
    if (rc == 0 && !(*out = malloc(sizeof **out))) {
        arrears__report__free_unpacked(merged, NULL);
        snprintf(err, len, "out of memory");
        rc = MERGE_ENOMEM;
    }
    if (rc == 0) {   /* freed as one envelope (envelope_free) */
        arrears__envelope__init(*out);
        (*out)->body_case = ARREARS__ENVELOPE__BODY_REPORT;
        (*out)->report = merged;
    }
    for (uint32_t k = 0; k < e->shards; k++)
        envelope_free(&replies[k]);
    return rc;
}

int gather_reports(const embedded_t *e, const char *platform, gather_t *out, char *err,
                   size_t err_len)
{
    memset(out, 0, sizeof *out);
    void *ctx = zmq_ctx_new();
    Arrears__ReportQuery sq = ARREARS__REPORT_QUERY__INIT;
    Arrears__LegalReportQuery lq = ARREARS__LEGAL_REPORT_QUERY__INIT;
    Arrears__SaleReportQuery aq = ARREARS__SALE_REPORT_QUERY__INIT;
    Arrears__OutreachReportQuery oq = ARREARS__OUTREACH_REPORT_QUERY__INIT;
    sq.platform = lq.platform = oq.platform = (char *)(platform ? platform : "");
    Arrears__Envelope s = ARREARS__ENVELOPE__INIT, l = ARREARS__ENVELOPE__INIT,
                      a = ARREARS__ENVELOPE__INIT, o = ARREARS__ENVELOPE__INIT;
    s.body_case = ARREARS__ENVELOPE__BODY_REPORT_QUERY;
    s.report_query = &sq;
    o.body_case = ARREARS__ENVELOPE__BODY_OUTREACH_REPORT_QUERY;
    o.outreach_report_query = &oq;
    l.body_case = ARREARS__ENVELOPE__BODY_LEGAL_REPORT_QUERY;
    l.legal_report_query = &lq;
    a.body_case = ARREARS__ENVELOPE__BODY_SALE_REPORT_QUERY;
    a.sale_report_query = &aq;
    int rc = ask_shards(ctx, e, &s, &out->staging, err, err_len);
    rc = rc ? rc : ask(ctx, e, "outreach", &o, ARREARS__ENVELOPE__BODY_OUTREACH_REPORT,
                       &out->outreach, err, err_len);
    rc = rc ? rc : ask(ctx, e, "legal", &l, ARREARS__ENVELOPE__BODY_LEGAL_REPORT, &out->legal, err,
                       err_len);
    rc = rc ? rc : ask(ctx, e, "sale", &a, ARREARS__ENVELOPE__BODY_SALE_REPORT, &out->sale, err,
                       err_len);
    zmq_ctx_term(ctx);
    if (rc != 0)
        gather_free(out);
    return rc;
}

void gather_free(gather_t *self)
{
    envelope_free(&self->staging);
    envelope_free(&self->outreach);
    envelope_free(&self->legal);
    envelope_free(&self->sale);
}
