/* report: the broker's figures for the operators' report (DESIGN.md section 7; proto
 * OutreachReportQuery / OutreachReport): per platform and currency, tasks by channel
 * and by what became of them, and the conduct gate's refusals and deferrals by rule,
 * overall and per jurisdiction profile.
 *
 * outreach_report_add is pure (one stored task into the figures); broker_report walks
 * the task table in the query's read transaction and packs the reply. Bounded: at most
 * OUTREACH_REPORT_SECTIONS sections (further platform and currency pairs are counted,
 * not reported) and OUTREACH_REPORT_PROFILES profiles a section (the rest under
 * "other"). */
#ifndef ARREARS_OUTREACH_REPORT_H
#define ARREARS_OUTREACH_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "conduct.h"
#include "tasks.h"

#define OUTREACH_REPORT_SECTIONS 64
#define OUTREACH_REPORT_PROFILES 16
#define OUTREACH_REPORT_PLATFORM_MAX 64
#define OUTREACH_REPORT_CURRENCY_MAX 8

typedef struct {
    uint64_t refused, deferred;
} outreach_rule_figures_t;

/* proto OutreachChannelFigures: tasks = delivered + failed + not_attempted +
 * cancelled + refused + open. */
typedef struct {
    uint64_t tasks, delivered, failed, not_attempted, cancelled, refused, open, deferrals;
} outreach_channel_figures_t;

typedef struct {
    char name[CONDUCT_NAME_MAX + 1];
    uint64_t tasks, refused, deferrals;
    outreach_rule_figures_t rules[CONDUCT_RULE_COUNT];
} outreach_profile_figures_t;

typedef struct {
    char platform[OUTREACH_REPORT_PLATFORM_MAX + 1];
    char currency[OUTREACH_REPORT_CURRENCY_MAX + 1];
    outreach_channel_figures_t channels[CONDUCT_CHANNELS];
    outreach_rule_figures_t rules[CONDUCT_RULE_COUNT];
    outreach_profile_figures_t profiles[OUTREACH_REPORT_PROFILES + 1];   /* + "other" */
    size_t profile_count;
} outreach_section_figures_t;

typedef struct {
    outreach_section_figures_t *sections;   /* OUTREACH_REPORT_SECTIONS of them */
    size_t count;
    uint64_t unreported;                    /* tasks of sections past the bound */
    char only[OUTREACH_REPORT_PLATFORM_MAX + 1];   /* "" : every platform */
} outreach_report_t;

/* Empty figures for platform (NULL or "": every platform); ENOMEM. */
int outreach_report_init(outreach_report_t *self, const char *platform);
void outreach_report_free(outreach_report_t *self);

/* One stored task into the figures (tasks of another platform than asked are skipped). */
void outreach_report_add(outreach_report_t *self, const StoredTask *t);

/* The figures as an Envelope holding an OutreachReport answering request_id, packed
 * into buf; 0 when they do not fit in cap (or memory ran out). */
size_t outreach_report_pack(const outreach_report_t *self, int64_t as_of_ms,
                            uint64_t request_id, uint8_t *buf, size_t cap);

/* The reply to an OutreachReportQuery (role operator or service; broker_query checks). */
size_t broker_report(broker_t *self, MDB_txn *txn, const Arrears__OutreachReportQuery *q,
                     uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject);

#endif
