/* Unit tests for services/arrears/merge: the reports of staging's shards merged into the
 * report of one staging. Two shards' reports (A and B) and the whole book's (W) are
 * written out by hand the way staging fills them (services/staging/report.c: a rate only
 * where its whole is positive, net = collected + sale proceeds - legal costs), with W's
 * counts and sums the sums of A's and B's. Merging one report gives it back unchanged;
 * merging A and B gives W field for field, rates included (1 of 3 kept and 1 of 3 kept
 * is 2 of 6: 3333 bps, not 6666; collected 100 of 300 and 200 of 400 is 300 of 700:
 * 4285, not the 4166 of the average); new elements go where staging lists them (stages,
 * channels, months) or where the shards' own lists put them (sections, segments, arms);
 * an overflowing sum is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "merge.h"
#include "money.h"
#include "pbjson.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- building reports */

/* Everything malloc'd, as protobuf-c's unpack makes it: free_unpacked frees it. */
static void *zalloc(size_t size)
{
    void *p = calloc(1, size);
    assert_non_null(p);
    return p;
}

static char *dup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static void *pointers(void *const *items, size_t n)
{
    void **out = zalloc(n * sizeof *out);
    memcpy(out, items, n * sizeof *out);
    return out;
}

/* msg->field = the listed elements, msg->n_field their count. */
#define SET_LIST(msg, field, ...)                                        \
    do {                                                                 \
        void *items_[] = { __VA_ARGS__ };                                \
        (msg)->n_##field = COUNT(items_);                                \
        (msg)->field = pointers(items_, COUNT(items_));                  \
    } while (0)

static Arrears__ReportGroup *group(const char *name, uint64_t accounts, int64_t overdue,
                                   int64_t collected, int64_t outstanding)
{
    Arrears__ReportGroup *g = zalloc(sizeof *g);
    arrears__report_group__init(g);
    g->name = dup(name);
    g->has_accounts = g->has_overdue_at_entry_minor = g->has_collected_minor = 1;
    g->has_outstanding_minor = 1;
    g->accounts = accounts;
    g->overdue_at_entry_minor = overdue;
    g->collected_minor = collected;
    g->outstanding_minor = outstanding;
    g->has_collection_rate_bps = overdue > 0;
    g->collection_rate_bps = money_rate_bps(collected, overdue);
    return g;
}

static Arrears__RollCell *cell(const char *month, const char *from, const char *to,
                               uint64_t accounts)
{
    Arrears__RollCell *c = zalloc(sizeof *c);
    arrears__roll_cell__init(c);
    c->month = dup(month);
    c->from_stage = dup(from);
    c->to_stage = dup(to);
    c->has_accounts = 1;
    c->accounts = accounts;
    return c;
}

static Arrears__CurvePoint *point(uint32_t month, uint64_t accounts, int64_t overdue,
                                  int64_t collected)
{
    Arrears__CurvePoint *p = zalloc(sizeof *p);
    arrears__curve_point__init(p);
    p->has_month = p->has_accounts = p->has_overdue_at_entry_minor = 1;
    p->has_collected_minor = p->has_recovery_rate_bps = 1;
    p->month = month;
    p->accounts = accounts;
    p->overdue_at_entry_minor = overdue;
    p->collected_minor = collected;
    p->recovery_rate_bps = money_rate_bps(collected, overdue);
    return p;
}

static Arrears__RecoveryCurve *curve(const char *arm)
{
    Arrears__RecoveryCurve *c = zalloc(sizeof *c);
    arrears__recovery_curve__init(c);
    c->arm = dup(arm);
    return c;
}

static Arrears__RecoveryGroup *paid(const char *name, uint64_t payments, uint64_t accounts,
                                    int64_t collected)
{
    Arrears__RecoveryGroup *g = zalloc(sizeof *g);
    arrears__recovery_group__init(g);
    g->name = dup(name);
    g->has_payments = g->has_accounts = g->has_collected_minor = 1;
    g->payments = payments;
    g->accounts = accounts;
    g->collected_minor = collected;
    return g;
}

static Arrears__RemittanceMonth *remit(const char *month, int64_t collected, int64_t legal,
                                       int64_t costs, int64_t sale)
{
    Arrears__RemittanceMonth *m = zalloc(sizeof *m);
    arrears__remittance_month__init(m);
    m->month = dup(month);
    m->has_collected_minor = m->has_legal_recovered_minor = m->has_legal_costs_minor = 1;
    m->has_sale_proceeds_minor = m->has_net_minor = 1;
    m->collected_minor = collected;
    m->legal_recovered_minor = legal;
    m->legal_costs_minor = costs;
    m->sale_proceeds_minor = sale;
    m->net_minor = collected + sale - costs;
    return m;
}

typedef struct {
    uint64_t made, kept, broken, cures, closed;
    int64_t cycle_days;
    uint64_t contacts, delinquent, cured;
    uint64_t received, on_time, late, open, open_overdue, response_ms;
} counts_t;

#define HOUR_MS 3600000u

static Arrears__ComplaintFigures *complaints(const counts_t *c)
{
    Arrears__ComplaintFigures *m = zalloc(sizeof *m);
    arrears__complaint_figures__init(m);
    m->has_received = m->has_answered_on_time = m->has_answered_late = 1;
    m->has_open = m->has_open_overdue = m->has_response_hours_total = 1;
    m->received = c->received;
    m->answered_on_time = c->on_time;
    m->answered_late = c->late;
    m->open = c->open;
    m->open_overdue = c->open_overdue;
    m->has_response_ms_total = 1;
    m->response_ms_total = c->response_ms;
    /* staging's rounding: whole hours, half to even (exact halves do not occur here) */
    m->response_hours_total = (c->response_ms + HOUR_MS / 2) / HOUR_MS;
    return m;
}

/* A section with its counters, as report.c's finish_section and finish_figures set them;
 * the caller adds the lists. */
static Arrears__ReportSection *section(const char *platform, const char *currency,
                                       Arrears__ReportGroup *total, const counts_t *c)
{
    Arrears__ReportSection *s = zalloc(sizeof *s);
    arrears__report_section__init(s);
    s->platform = dup(platform);
    s->currency = dup(currency);
    s->total = total;
    s->has_promises_made = s->has_promises_kept = s->has_promises_broken = s->has_cured = 1;
    s->has_closed = s->has_cycle_days_total = s->has_complaints = 1;
    s->has_complaints_answered_late = s->has_contacts_requested = s->has_referrals = 1;
    s->has_listings = s->has_sold = s->has_accounts_delinquent = s->has_accounts_cured = 1;
    s->promises_made = c->made;
    s->promises_kept = c->kept;
    s->promises_broken = c->broken;
    s->has_promise_kept_rate_bps = c->kept + c->broken > 0;
    s->promise_kept_rate_bps = money_rate_bps((int64_t)c->kept, (int64_t)(c->kept + c->broken));
    s->cured = c->cures;
    s->closed = c->closed;
    s->cycle_days_total = c->cycle_days;
    s->complaints = c->received;
    s->complaints_answered_late = c->late;
    s->contacts_requested = c->contacts;
    s->accounts_delinquent = c->delinquent;
    s->accounts_cured = c->cured;
    s->has_cure_rate_bps = c->delinquent > 0;
    s->cure_rate_bps = money_rate_bps((int64_t)c->cured, (int64_t)c->delinquent);
    s->complaint_figures = complaints(c);
    return s;
}

static Arrears__Report *report(int64_t as_of_ms)
{
    Arrears__Report *r = zalloc(sizeof *r);
    arrears__report__init(r);
    r->has_as_of_ms = 1;
    r->as_of_ms = as_of_ms;
    return r;
}

/* ---------------------------------------------------------------- the book */

/* Shard A: p1/CNY only. */
static Arrears__Report *shard_a(void)
{
    counts_t c = { .made = 4, .kept = 1, .broken = 2, .cures = 1, .closed = 1, .cycle_days = 40,
                   .contacts = 9, .delinquent = 3, .cured = 1, .received = 2, .on_time = 1,
                   .open = 1, .response_ms = 5 * HOUR_MS + HOUR_MS * 2 / 5 };
    Arrears__ReportSection *s = section("p1", "CNY", group("all", 3, 300, 100, 500), &c);
    SET_LIST(s, by_stage, group("early", 2, 200, 100, 300), group("legal", 1, 100, 0, 200));
    SET_LIST(s, by_segment, group("young", 2, 200, 50, 300), group("old", 1, 100, 50, 200));
    SET_LIST(s, by_arm, group("champion", 3, 300, 100, 500));
    SET_LIST(s, roll_rates, cell("2026-01", "early", "early", 2),
             cell("2026-02", "early", "legal", 1));
    Arrears__RecoveryCurve *champion = curve("champion");
    SET_LIST(champion, points, point(0, 3, 300, 50), point(1, 2, 200, 100));
    SET_LIST(s, recovery_curves, champion);
    SET_LIST(s, recovery_by_channel, paid("sms", 2, 1, 60), paid("none", 1, 1, 40));
    SET_LIST(s, recovery_by_stage, paid("early", 3, 2, 100));
    SET_LIST(s, remittance, remit("2026-01", 100, 0, 0, 0), remit("2026-03", 0, 0, 10, 0));
    Arrears__Report *r = report(2000);
    SET_LIST(r, sections, s);
    return r;
}

/* Shard B: p1/CNY, and a p2/USD section A has not (after it: by platform, currency). */
static Arrears__Report *shard_b(void)
{
    counts_t usd = { .contacts = 1 };
    Arrears__ReportSection *u = section("p2", "USD", group("all", 1, 0, 0, 70), &usd);
    SET_LIST(u, by_stage, group("current", 1, 0, 0, 70));
    counts_t c = { .made = 3, .kept = 1, .broken = 2, .closed = 1, .cycle_days = 15,
                   .contacts = 4, .received = 1, .late = 1, .response_ms = 47 * HOUR_MS + HOUR_MS * 2 / 5 };
    Arrears__ReportSection *s = section("p1", "CNY", group("all", 2, 400, 200, 100), &c);
    SET_LIST(s, by_stage, group("current", 1, 300, 200, 0), group("early", 1, 100, 0, 100));
    SET_LIST(s, by_segment, group("mid", 1, 300, 200, 0), group("old", 1, 100, 0, 100));
    SET_LIST(s, by_arm, group("champion", 1, 100, 0, 100), group("challenger", 1, 300, 200, 0));
    SET_LIST(s, roll_rates, cell("2026-01", "current", "early", 1),
             cell("2026-01", "early", "early", 1));
    Arrears__RecoveryCurve *champion = curve("champion"), *challenger = curve("challenger");
    SET_LIST(champion, points, point(0, 1, 100, 20));
    SET_LIST(challenger, points, point(0, 1, 300, 0), point(1, 1, 300, 200));
    SET_LIST(s, recovery_curves, champion, challenger);
    SET_LIST(s, recovery_by_channel, paid("email", 1, 1, 150), paid("none", 1, 1, 50));
    SET_LIST(s, recovery_by_stage, paid("current", 2, 1, 200));
    SET_LIST(s, remittance, remit("2026-02", 200, 50, 0, 30));
    Arrears__Report *r = report(1000);
    SET_LIST(r, sections, s, u);
    return r;
}

/* The whole book, as one staging holding A's and B's accounts reports it. */
static Arrears__Report *whole(void)
{
    counts_t usd = { .contacts = 1 };
    Arrears__ReportSection *u = section("p2", "USD", group("all", 1, 0, 0, 70), &usd);
    SET_LIST(u, by_stage, group("current", 1, 0, 0, 70));
    counts_t c = { .made = 7, .kept = 2, .broken = 4, .cures = 1, .closed = 2, .cycle_days = 55,
                   .contacts = 13, .delinquent = 3, .cured = 1, .received = 3, .on_time = 1,
                   .late = 1, .open = 1, .response_ms = 52 * HOUR_MS + HOUR_MS * 4 / 5 };
    Arrears__ReportSection *s = section("p1", "CNY", group("all", 5, 700, 300, 600), &c);
    SET_LIST(s, by_stage, group("current", 1, 300, 200, 0), group("early", 3, 300, 100, 400),
             group("legal", 1, 100, 0, 200));
    SET_LIST(s, by_segment, group("young", 2, 200, 50, 300), group("mid", 1, 300, 200, 0),
             group("old", 2, 200, 50, 300));
    SET_LIST(s, by_arm, group("champion", 4, 400, 100, 600), group("challenger", 1, 300, 200, 0));
    SET_LIST(s, roll_rates, cell("2026-01", "current", "early", 1),
             cell("2026-01", "early", "early", 3), cell("2026-02", "early", "legal", 1));
    Arrears__RecoveryCurve *champion = curve("champion"), *challenger = curve("challenger");
    SET_LIST(champion, points, point(0, 4, 400, 70), point(1, 2, 200, 100));
    SET_LIST(challenger, points, point(0, 1, 300, 0), point(1, 1, 300, 200));
    SET_LIST(s, recovery_curves, champion, challenger);
    SET_LIST(s, recovery_by_channel, paid("sms", 2, 1, 60), paid("email", 1, 1, 150),
             paid("none", 2, 2, 90));
    SET_LIST(s, recovery_by_stage, paid("current", 2, 1, 200), paid("early", 3, 2, 100));
    SET_LIST(s, remittance, remit("2026-01", 100, 0, 0, 0), remit("2026-02", 200, 50, 0, 30),
             remit("2026-03", 0, 0, 10, 0));
    Arrears__Report *r = report(1000);
    SET_LIST(r, sections, s, u);
    return r;
}

/* ---------------------------------------------------------------- comparing */

/* The report as JSON (every present field): a difference reads as one. */
static char *json_of(const Arrears__Report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(pbjson_print(f, &r->base), 0);
    fclose(f);
    return text;
}

static void assert_same_report(const Arrears__Report *got, const Arrears__Report *want)
{
    char *a = json_of(got), *b = json_of(want);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* and on the wire, presence and all */
    size_t n = arrears__report__get_packed_size(got);
    assert_int_equal(n, arrears__report__get_packed_size(want));
    uint8_t *x = zalloc(n + 1), *y = zalloc(n + 1);
    arrears__report__pack(got, x);
    arrears__report__pack(want, y);
    assert_memory_equal(x, y, n);
    free(x);
    free(y);
}

static Arrears__Report *merged(Arrears__Report *const *in, size_t n)
{
    Arrears__Report *out = NULL;
    assert_int_equal(merge_reports((const Arrears__Report *const *)in, n, &out), 0);
    assert_non_null(out);
    return out;
}

static void free_all(Arrears__Report **r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        arrears__report__free_unpacked(r[i], NULL);
}

/* ---------------------------------------------------------------- tests */

static void test_one_report_is_itself(void **state)
{
    (void)state;
    Arrears__Report *r[] = { shard_a(), shard_b(), whole() };
    for (size_t i = 0; i < COUNT(r); i++) {
        Arrears__Report *m = merged(&r[i], 1);
        assert_same_report(m, r[i]);
        assert_ptr_not_equal(m, r[i]);   /* a copy: the input stays the caller's */
        arrears__report__free_unpacked(m, NULL);
    }
    free_all(r, COUNT(r));
}

static void test_two_halves_are_the_whole(void **state)
{
    (void)state;
    Arrears__Report *r[] = { shard_a(), shard_b(), whole() };
    Arrears__Report *m = merged(r, 2);
    assert_same_report(m, r[2]);
    const Arrears__ReportSection *s = m->sections[0];
    assert_string_equal(s->platform, "p1");
    /* 1 of 3 and 1 of 3 kept: 2 of 6, not the sum (6666) of the shards' rates */
    assert_int_equal(s->promise_kept_rate_bps, 3333);
    /* 100 of 300 and 200 of 400: 300 of 700, not the mean (4166) of 3333 and 5000 */
    assert_int_equal(s->total->collection_rate_bps, 4285);
    /* A's cure rate stands (B has no delinquent account: no rate, not a zero one) */
    assert_true(s->has_cure_rate_bps);
    assert_int_equal(s->cure_rate_bps, 3333);
    /* nothing overdue at entry on p2/USD: no collection rate, on either shard or merged */
    assert_false(m->sections[1]->total->has_collection_rate_bps);
    assert_int_equal(m->as_of_ms, 1000);
    /* 5.4 and 47.4 hours: 53 from the exact sum, not the 5 + 47 of the rounded ones */
    assert_int_equal(s->complaint_figures->response_hours_total, 53);
    arrears__report__free_unpacked(m, NULL);
    free_all(r, COUNT(r));
}

static void test_more_shards_and_an_empty_one(void **state)
{
    (void)state;
    Arrears__Report *r[] = { shard_a(), report(5000), shard_b(), whole() };
    Arrears__Report *m = merged(r, 3);
    assert_same_report(m, r[3]);
    arrears__report__free_unpacked(m, NULL);
    free_all(r, COUNT(r));
}

static void test_an_overflowing_sum_is_refused(void **state)
{
    (void)state;
    Arrears__Report *r[] = { shard_a(), shard_a() };
    r[1]->sections[0]->total->collected_minor = INT64_MAX;
    Arrears__Report *out = (Arrears__Report *)&out;
    assert_int_equal(merge_reports((const Arrears__Report *const *)r, 2, &out), MERGE_EOVERFLOW);
    assert_null(out);
    assert_non_null(strstr(merge_strerror(MERGE_EOVERFLOW), "--platform"));
    free_all(r, COUNT(r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_report_is_itself),
        cmocka_unit_test(test_two_halves_are_the_whole),
        cmocka_unit_test(test_more_shards_and_an_empty_one),
        cmocka_unit_test(test_an_overflowing_sum_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
