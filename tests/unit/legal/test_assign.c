/* test_assign: choosing a law firm or agency for a case and the placement deadlines,
 * each against values worked out by hand: region matching (the exact jurisdiction
 * "CN-31" and its country part "CN"; never "CNX" nor an empty jurisdiction), the
 * product bitmask, capacity at its boundary, the least loaded by share of capacity
 * (then fewer open, then the principal's name), the law-firm threshold at its boundary
 * (firms first from it, agencies only one minor unit below, agencies when every firm is
 * full), no assignee offered a case it already had, the reasons given when nobody can
 * take a case; the acceptance deadline and the recall at their instants, no recall from
 * filing on nor when recall_after_days is 0, and the action names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "assign.h"

/* proto Product */
#define ONLINE_LOAN 1
#define CREDIT_CARD 2
#define INSTALMENT_LOAN 3
#define BNPL 4

#define DAY_MS INT64_C(86400000)
/* 2026-01-01T00:00:00Z */
#define T0 INT64_C(1767225600000)

/* An assignee serving one region for online loans and credit cards, accepting within
 * 5 days, recalled after 30 days without progress. */
static assignee_t make(const char *principal, assignee_kind_t kind, const char *region,
                       uint32_t capacity)
{
    assignee_t a;
    memset(&a, 0, sizeof a);
    strcpy(a.principal, principal);
    a.kind = kind;
    a.region_count = 1;
    strcpy(a.regions[0], region);
    a.products = (UINT32_C(1) << ONLINE_LOAN) | (UINT32_C(1) << CREDIT_CARD);
    a.capacity = capacity;
    a.commission_bps = kind == ASSIGNEE_AGENCY ? 1500 : 0;
    a.accept_deadline_days = 5;
    a.recall_after_days = 30;
    return a;
}

/* An online loan in Shanghai of 10000.00 CNY; law firms from 5000.00 CNY. */
static assign_case_t a_case(void)
{
    return (assign_case_t){
        .jurisdiction = "CN-31", .product = ONLINE_LOAN, .outstanding_minor = 1000000,
        .firm_from_minor = 500000, .tried_count = 0, .tried = NULL,
    };
}

static void test_region_exact_and_country(void **state)
{
    (void)state;
    assignee_t exact = make("firm-exact", ASSIGNEE_FIRM, "CN-31", 10);
    assignee_t country = make("firm-country", ASSIGNEE_FIRM, "CN", 10);

    assert_true(assignee_serves_region(&exact, "CN-31"));
    assert_false(assignee_serves_region(&exact, "CN-32"));   /* another province */
    assert_false(assignee_serves_region(&exact, "CN"));      /* a province is not the country */

    assert_true(assignee_serves_region(&country, "CN-31"));  /* "CN" is the part before '-' */
    assert_true(assignee_serves_region(&country, "CN-44"));
    assert_true(assignee_serves_region(&country, "CN"));
    assert_false(assignee_serves_region(&country, "CNX"));   /* prefix of a longer code */
    assert_false(assignee_serves_region(&country, "CNX-31"));
    assert_false(assignee_serves_region(&country, "C"));
    assert_false(assignee_serves_region(&country, "US-NY"));
    assert_false(assignee_serves_region(&country, ""));
    assert_false(assignee_serves_region(&country, NULL));

    /* Any of several regions. */
    assignee_t many = make("agency-many", ASSIGNEE_AGENCY, "US-NY", 10);
    many.region_count = 3;
    strcpy(many.regions[1], "GB");
    strcpy(many.regions[2], "CN-31");
    assert_true(assignee_serves_region(&many, "CN-31"));
    assert_true(assignee_serves_region(&many, "GB-ENG"));
    assert_true(assignee_serves_region(&many, "US-NY"));
    assert_false(assignee_serves_region(&many, "US-CA"));
    assert_false(assignee_serves_region(&many, "CN-32"));

    /* Through assign_choose: only the "CN" firm serves "CN-31" besides the exact one;
     * with the exact one full, the country one takes it. */
    assignee_t as[2] = {exact, country};
    uint32_t open[2] = {10, 0};
    assign_case_t c = a_case();
    char why[ASSIGN_REASON_MAX];
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), 1);

    /* "CNX" and "" are served by neither. */
    open[0] = 0;
    c.jurisdiction = "CNX";
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "no "));
    assert_non_null(strstr(why, "serves"));
    c.jurisdiction = "";
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "serves"));
}

static void test_product_bitmask(void **state)
{
    (void)state;
    assignee_t a = make("agency-a", ASSIGNEE_AGENCY, "CN", 10);
    a.products = (UINT32_C(1) << CREDIT_CARD) | (UINT32_C(1) << BNPL);   /* 0x14 */
    assert_true(assignee_serves_product(&a, CREDIT_CARD));
    assert_true(assignee_serves_product(&a, BNPL));
    assert_false(assignee_serves_product(&a, ONLINE_LOAN));
    assert_false(assignee_serves_product(&a, INSTALMENT_LOAN));
    assert_false(assignee_serves_product(&a, 0));     /* PRODUCT_UNSPECIFIED */
    assert_false(assignee_serves_product(&a, -1));
    assert_false(assignee_serves_product(&a, 32));
    /* Every bit set still serves no unspecified or out-of-range product. */
    a.products = UINT32_MAX;
    assert_true(assignee_serves_product(&a, ONLINE_LOAN));
    assert_true(assignee_serves_product(&a, 31));
    assert_false(assignee_serves_product(&a, 0));
    assert_false(assignee_serves_product(&a, -1));
    assert_false(assignee_serves_product(&a, 32));

    /* A firm that does not serve online loans is passed over for an agency that does,
     * even above the law-firm threshold. */
    assignee_t firm = make("firm-cards", ASSIGNEE_FIRM, "CN", 10);
    firm.products = UINT32_C(1) << CREDIT_CARD;
    assignee_t agency = make("agency-loans", ASSIGNEE_AGENCY, "CN", 10);
    agency.products = UINT32_C(1) << ONLINE_LOAN;
    assignee_t as[2] = {firm, agency};
    uint32_t open[2] = {0, 0};
    assign_case_t c = a_case();
    char why[ASSIGN_REASON_MAX];
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), 1);
    c.product = CREDIT_CARD;
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), 0);
    c.product = INSTALMENT_LOAN;
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "serves"));
    assert_non_null(strstr(why, "product 3"));
}

/* Capacity 10: 10 open is full, 9 open has room for one more. */
static void test_capacity_boundary(void **state)
{
    (void)state;
    assignee_t as[1] = {make("firm-a", ASSIGNEE_FIRM, "CN-31", 10)};
    uint32_t open[1] = {10};
    assign_case_t c = a_case();
    char why[ASSIGN_REASON_MAX];
    assert_int_equal(assign_choose(as, 1, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "unavailable"));
    assert_non_null(strstr(why, "1 at capacity"));
    assert_non_null(strstr(why, "0 already had the case"));

    open[0] = 9;
    assert_int_equal(assign_choose(as, 1, open, &c, why, sizeof why), 0);

    /* Over capacity (capacity lowered after cases were placed) is full too. */
    open[0] = 11;
    assert_int_equal(assign_choose(as, 1, open, &c, why, sizeof why), -1);

    /* A full one is skipped for the one with room, though that one is busier in count. */
    assignee_t two[2] = {make("firm-small", ASSIGNEE_FIRM, "CN", 2),
                         make("firm-big", ASSIGNEE_FIRM, "CN", 100)};
    uint32_t open2[2] = {2, 99};
    assert_int_equal(assign_choose(two, 2, open2, &c, why, sizeof why), 1);
    open2[1] = 100;
    assert_int_equal(assign_choose(two, 2, open2, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "2 at capacity"));
}

/* 5 of 10 (0.5) is less loaded than 3 of 5 (0.6), though 5 open > 3 open:
 * 5 * 5 = 25 < 3 * 10 = 30. Whichever order they are listed in. */
static void test_least_loaded_by_share(void **state)
{
    (void)state;
    assign_case_t c = a_case();
    char why[ASSIGN_REASON_MAX];

    assignee_t as[2] = {make("firm-b", ASSIGNEE_FIRM, "CN", 5),
                        make("firm-a", ASSIGNEE_FIRM, "CN", 10)};
    uint32_t open[2] = {3, 5};
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), 1);

    assignee_t rev[2] = {make("firm-a", ASSIGNEE_FIRM, "CN", 10),
                         make("firm-b", ASSIGNEE_FIRM, "CN", 5)};
    uint32_t open_rev[2] = {5, 3};
    assert_int_equal(assign_choose(rev, 2, open_rev, &c, why, sizeof why), 0);

    /* Names chosen so that name order alone would pick the other: "firm-a" at 3/5 (0.6)
     * loses to "firm-z" at 5/10 (0.5). */
    assignee_t named[2] = {make("firm-a", ASSIGNEE_FIRM, "CN", 5),
                           make("firm-z", ASSIGNEE_FIRM, "CN", 10)};
    uint32_t open_named[2] = {3, 5};
    assert_int_equal(assign_choose(named, 2, open_named, &c, why, sizeof why), 1);

    /* Three: 7/10 (0.7), 1/2 (0.5), 2/3 (0.667): the 1/2 one. */
    assignee_t three[3] = {make("firm-a", ASSIGNEE_FIRM, "CN", 10),
                           make("firm-b", ASSIGNEE_FIRM, "CN", 2),
                           make("firm-c", ASSIGNEE_FIRM, "CN", 3)};
    uint32_t open3[3] = {7, 1, 2};
    assert_int_equal(assign_choose(three, 3, open3, &c, why, sizeof why), 1);

    /* Large capacities: 999999 of 1000000 vs 999998 of 999999. Shares 0.999999 vs
     * 0.999998999..., cross products 999999 * 999999 = 999998000001 and
     * 999998 * 1000000 = 999998000000: the second is less loaded. */
    assignee_t big[2] = {make("firm-a", ASSIGNEE_FIRM, "CN", 1000000),
                         make("firm-b", ASSIGNEE_FIRM, "CN", 999999)};
    uint32_t open_big[2] = {999999, 999998};
    assert_int_equal(assign_choose(big, 2, open_big, &c, why, sizeof why), 1);
}

/* Equal shares: 4/10 and 2/5 are both 0.4 (4 * 5 = 2 * 10 = 20): fewer open wins. */
static void test_equal_share_fewer_open(void **state)
{
    (void)state;
    assign_case_t c = a_case();
    char why[ASSIGN_REASON_MAX];
    assignee_t as[2] = {make("firm-a", ASSIGNEE_FIRM, "CN", 10),
                        make("firm-b", ASSIGNEE_FIRM, "CN", 5)};
    uint32_t open[2] = {4, 2};
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), 1);

    /* Both empty (0/10 and 0/5): equal share, equal count, name order: firm-a. */
    open[0] = 0;
    open[1] = 0;
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), 0);
}

/* Equal share and count: the principal's name in byte order. */
static void test_equal_load_name_order(void **state)
{
    (void)state;
    assign_case_t c = a_case();
    char why[ASSIGN_REASON_MAX];
    assignee_t as[3] = {make("firm-c", ASSIGNEE_FIRM, "CN", 10),
                        make("firm-b", ASSIGNEE_FIRM, "CN", 10),
                        make("firm-ba", ASSIGNEE_FIRM, "CN", 10)};
    uint32_t open[3] = {3, 3, 3};
    assert_int_equal(assign_choose(as, 3, open, &c, why, sizeof why), 1);   /* "firm-b" */
    /* "Firm-z" < "firm-b" in byte order ('F' 0x46 < 'f' 0x66). */
    strcpy(as[2].principal, "Firm-z");
    assert_int_equal(assign_choose(as, 3, open, &c, why, sizeof why), 2);
}

/* Exactly at the threshold, law firms first: a firm at 9/10 is chosen over an idle
 * agency. */
static void test_threshold_exact_firm_first(void **state)
{
    (void)state;
    assignee_t as[2] = {make("agency-a", ASSIGNEE_AGENCY, "CN", 10),
                        make("firm-a", ASSIGNEE_FIRM, "CN", 10)};
    uint32_t open[2] = {0, 9};
    assign_case_t c = a_case();
    c.outstanding_minor = 500000;
    c.firm_from_minor = 500000;
    char why[ASSIGN_REASON_MAX];
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), 1);
    assert_non_null(strstr(why, "law firm"));
    assert_non_null(strstr(why, "firm-a"));
    assert_non_null(strstr(why, "9 of 10"));
}

/* One minor unit below the threshold: agencies only, though a firm has room. */
static void test_below_threshold_agencies_only(void **state)
{
    (void)state;
    assignee_t as[2] = {make("firm-a", ASSIGNEE_FIRM, "CN", 10),
                        make("agency-a", ASSIGNEE_AGENCY, "CN", 10)};
    uint32_t open[2] = {0, 9};
    assign_case_t c = a_case();
    c.outstanding_minor = 499999;
    c.firm_from_minor = 500000;
    char why[ASSIGN_REASON_MAX];
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), 1);
    assert_non_null(strstr(why, "agency"));
    assert_non_null(strstr(why, "agency-a"));

    /* The agency full: nobody, though the firm is idle. */
    open[1] = 10;
    assert_int_equal(assign_choose(as, 2, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "below the law-firm threshold"));
    assert_non_null(strstr(why, "1 at capacity"));

    /* Only a firm serves: "no agency ... serves". */
    assert_int_equal(assign_choose(as, 1, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "no agency"));
    assert_non_null(strstr(why, "serves"));
    assert_non_null(strstr(why, "CN-31"));
}

/* Above the threshold with every firm full: an agency. */
static void test_firms_full_go_to_agency(void **state)
{
    (void)state;
    assignee_t as[4] = {make("firm-a", ASSIGNEE_FIRM, "CN", 10),
                        make("agency-a", ASSIGNEE_AGENCY, "CN", 10),
                        make("firm-b", ASSIGNEE_FIRM, "CN-31", 3),
                        make("agency-b", ASSIGNEE_AGENCY, "CN-31", 10)};
    uint32_t open[4] = {10, 6, 3, 4};
    assign_case_t c = a_case();
    c.outstanding_minor = 900000;
    char why[ASSIGN_REASON_MAX];
    /* Agencies: 6/10 vs 4/10: agency-b. */
    assert_int_equal(assign_choose(as, 4, open, &c, why, sizeof why), 3);
    assert_non_null(strstr(why, "agency"));
    assert_non_null(strstr(why, "agency-b"));

    /* Everyone full: the count covers the firms and the agencies. */
    open[1] = 10;
    open[3] = 10;
    assert_int_equal(assign_choose(as, 4, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "law firm or agency"));
    assert_non_null(strstr(why, "4 at capacity"));

    /* One firm with room again takes it. */
    open[2] = 2;
    assert_int_equal(assign_choose(as, 4, open, &c, why, sizeof why), 2);
}

/* An assignee that had the case is not offered it again, even when least loaded. */
static void test_tried_not_chosen_again(void **state)
{
    (void)state;
    assignee_t as[3] = {make("firm-a", ASSIGNEE_FIRM, "CN", 10),
                        make("firm-b", ASSIGNEE_FIRM, "CN", 10),
                        make("agency-a", ASSIGNEE_AGENCY, "CN", 10)};
    uint32_t open[3] = {0, 8, 0};
    const char *tried[3] = {"firm-a", "firm-b", "agency-a"};
    assign_case_t c = a_case();
    char why[ASSIGN_REASON_MAX];

    assert_int_equal(assign_choose(as, 3, open, &c, why, sizeof why), 0);
    c.tried = tried;
    c.tried_count = 1;
    assert_int_equal(assign_choose(as, 3, open, &c, why, sizeof why), 1);   /* firm-b, 8/10 */
    c.tried_count = 2;
    assert_int_equal(assign_choose(as, 3, open, &c, why, sizeof why), 2);   /* the agency */
    c.tried_count = 3;
    assert_int_equal(assign_choose(as, 3, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "already had the case"));
    assert_non_null(strstr(why, "3 already had the case"));
    assert_non_null(strstr(why, "0 at capacity"));

    /* One tried, the other full: both counted. */
    const char *tried_b[1] = {"firm-b"};
    c.tried = tried_b;
    c.tried_count = 1;
    open[0] = 10;
    open[2] = 10;
    assert_int_equal(assign_choose(as, 3, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "2 at capacity"));
    assert_non_null(strstr(why, "1 already had the case"));

    /* A name that only shares a prefix is a different assignee. */
    const char *tried_prefix[1] = {"firm"};
    c.tried = tried_prefix;
    open[0] = 0;
    assert_int_equal(assign_choose(as, 3, open, &c, why, sizeof why), 0);
}

static void test_no_one_serves_reason(void **state)
{
    (void)state;
    assignee_t as[1] = {make("firm-gb", ASSIGNEE_FIRM, "GB", 10)};
    uint32_t open[1] = {0};
    assign_case_t c = a_case();
    char why[ASSIGN_REASON_MAX];
    assert_int_equal(assign_choose(as, 1, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "no law firm or agency serves"));
    assert_non_null(strstr(why, "CN-31"));
    assert_non_null(strstr(why, "product 1"));
    assert_null(strstr(why, "capacity"));

    /* No assignees at all, and no jurisdiction. */
    assert_int_equal(assign_choose(as, 0, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "serves"));
    c.jurisdiction = NULL;
    assert_int_equal(assign_choose(as, 1, open, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "serves"));
}

/* Offered at T0 with a 5-day deadline: due at T0 + 5 * 86400000 = 1767657600000
 * (2026-01-06T00:00Z). One ms before: keep; at that instant: deadline passed. */
static void test_deadline_passed_at_its_instant(void **state)
{
    (void)state;
    assignee_t a = make("firm-a", ASSIGNEE_FIRM, "CN", 10);
    placement_t p = {.status = CASE_REFERRED, .offered_ms = T0, .last_progress_ms = 0};
    int64_t due = 0;
    const int64_t deadline = INT64_C(1767657600000);
    assert_int_equal(T0 + 5 * DAY_MS, deadline);

    assert_int_equal(assign_due(&a, &p, T0, &due), PLACEMENT_KEEP);
    assert_int_equal(due, deadline);
    assert_int_equal(assign_due(&a, &p, deadline - 1, &due), PLACEMENT_KEEP);
    assert_int_equal(due, deadline);
    due = 0;
    assert_int_equal(assign_due(&a, &p, deadline, &due), PLACEMENT_DEADLINE_PASSED);
    assert_int_equal(due, deadline);
    assert_int_equal(assign_due(&a, &p, deadline + 40 * DAY_MS, &due),
                     PLACEMENT_DEADLINE_PASSED);
    assert_int_equal(due, deadline);

    /* A 1-day deadline: T0 + 86400000 = 1767312000000. */
    a.accept_deadline_days = 1;
    assert_int_equal(assign_due(&a, &p, INT64_C(1767311999999), &due), PLACEMENT_KEEP);
    assert_int_equal(due, INT64_C(1767312000000));
    assert_int_equal(assign_due(&a, &p, INT64_C(1767312000000), &due),
                     PLACEMENT_DEADLINE_PASSED);

    /* Not yet accepted is never a recall, however old the last progress. */
    a.accept_deadline_days = 5;
    p.last_progress_ms = T0 - 365 * DAY_MS;
    assert_int_equal(assign_due(&a, &p, deadline - 1, &due), PLACEMENT_KEEP);
    assert_int_equal(due, deadline);
}

/* Accepted, last progress at T0, recall after 30 days: due at T0 + 30 * 86400000 =
 * 1769817600000 (2026-01-31T00:00Z). The acceptance deadline no longer matters. */
static void test_recall_at_its_instant(void **state)
{
    (void)state;
    assignee_t a = make("agency-a", ASSIGNEE_AGENCY, "CN", 10);
    placement_t p = {.status = CASE_ACCEPTED, .offered_ms = T0 - 2 * DAY_MS,
                     .last_progress_ms = T0};
    int64_t due = 0;
    const int64_t recall = INT64_C(1769817600000);
    assert_int_equal(T0 + 30 * DAY_MS, recall);

    /* Past the acceptance deadline (offered + 5 days) but accepted: keep. */
    assert_int_equal(assign_due(&a, &p, T0 + 10 * DAY_MS, &due), PLACEMENT_KEEP);
    assert_int_equal(due, recall);
    assert_int_equal(assign_due(&a, &p, recall - 1, &due), PLACEMENT_KEEP);
    assert_int_equal(due, recall);
    due = 0;
    assert_int_equal(assign_due(&a, &p, recall, &due), PLACEMENT_RECALL);
    assert_int_equal(due, recall);

    /* Progress moves the recall: last progress at T0 + 10 days, due T0 + 40 days. */
    p.last_progress_ms = T0 + 10 * DAY_MS;
    assert_int_equal(assign_due(&a, &p, recall, &due), PLACEMENT_KEEP);
    assert_int_equal(due, T0 + 40 * DAY_MS);

    /* Still recallable after a demand letter and in mediation (both before filing). */
    p.last_progress_ms = T0;
    p.status = CASE_DEMAND_LETTER;
    assert_int_equal(assign_due(&a, &p, recall, &due), PLACEMENT_RECALL);
    assert_int_equal(due, recall);
    p.status = CASE_MEDIATION;
    assert_int_equal(assign_due(&a, &p, recall - 1, &due), PLACEMENT_KEEP);
    assert_int_equal(assign_due(&a, &p, recall, &due), PLACEMENT_RECALL);
    assert_int_equal(due, recall);
}

/* From filing on (and in any ended state) the assignee stays: keep, never due. Nor is
 * anyone recalled when recall_after_days is 0. */
static void test_no_recall_after_filing_or_when_off(void **state)
{
    (void)state;
    assignee_t a = make("firm-a", ASSIGNEE_FIRM, "CN", 10);
    placement_t p = {.status = CASE_FILED, .offered_ms = T0, .last_progress_ms = T0};
    const int64_t far = T0 + 3000 * DAY_MS;
    const case_status_t stays[] = {CASE_FILED,   CASE_HEARING,   CASE_JUDGMENT,
                                   CASE_ENFORCEMENT, CASE_SETTLED, CASE_WITHDRAWN,
                                   CASE_CLOSED,  CASE_DECLINED};
    for (size_t i = 0; i < sizeof stays / sizeof stays[0]; i++) {
        p.status = stays[i];
        int64_t due = 0;
        assert_int_equal(assign_due(&a, &p, far, &due), PLACEMENT_KEEP);
        assert_true(due == INT64_MAX);
    }

    a.recall_after_days = 0;
    p.status = CASE_ACCEPTED;
    int64_t due = 0;
    assert_int_equal(assign_due(&a, &p, far, &due), PLACEMENT_KEEP);
    assert_true(due == INT64_MAX);
    p.status = CASE_DEMAND_LETTER;
    due = 0;
    assert_int_equal(assign_due(&a, &p, far, &due), PLACEMENT_KEEP);
    assert_true(due == INT64_MAX);

    /* recall_after_days 0 does not switch off the acceptance deadline. */
    p.status = CASE_REFERRED;
    assert_int_equal(assign_due(&a, &p, T0 + 5 * DAY_MS, &due), PLACEMENT_DEADLINE_PASSED);
    assert_int_equal(due, T0 + 5 * DAY_MS);
}

static void test_placement_action_names(void **state)
{
    (void)state;
    assert_string_equal(placement_action_name(PLACEMENT_KEEP), "keep");
    assert_string_equal(placement_action_name(PLACEMENT_DEADLINE_PASSED), "deadline_passed");
    assert_string_equal(placement_action_name(PLACEMENT_RECALL), "recall");
    assert_string_equal(placement_action_name((placement_action_t)3), "unknown");
    assert_string_equal(placement_action_name((placement_action_t)-1), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_exact_and_country),
        cmocka_unit_test(test_product_bitmask),
        cmocka_unit_test(test_capacity_boundary),
        cmocka_unit_test(test_least_loaded_by_share),
        cmocka_unit_test(test_equal_share_fewer_open),
        cmocka_unit_test(test_equal_load_name_order),
        cmocka_unit_test(test_threshold_exact_firm_first),
        cmocka_unit_test(test_below_threshold_agencies_only),
        cmocka_unit_test(test_firms_full_go_to_agency),
        cmocka_unit_test(test_tried_not_chosen_again),
        cmocka_unit_test(test_no_one_serves_reason),
        cmocka_unit_test(test_deadline_passed_at_its_instant),
        cmocka_unit_test(test_recall_at_its_instant),
        cmocka_unit_test(test_no_recall_after_filing_or_when_off),
        cmocka_unit_test(test_placement_action_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
