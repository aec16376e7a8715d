/* test_casefile: the case file an assignee pulls (services/legal/casefile.c), built
 * from a referral with staging's statement:
 *   - the HTML escapes everything that came from outside (a borrower named with
 *     <script>, quotes and an ampersand; a timeline reason with markup): no raw tag;
 *   - it states each figure as money ("1234.56"), the schedule, the brought-forward
 *     penalty, each penalty line, and a total that is brought-forward plus the lines;
 *   - the machine form unpacks (CaseFile) back to the same referral and statement;
 *   - a max_bytes below either form's size is CASEFILE_ETOO_LARGE, nothing left held;
 *   - a referral without a statement still builds, and says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casefile.h"
#include "money.h"

#define CASE_ID "L000000042"
#define BUILT_MS INT64_C(1772424000000)      /* 2026-03-02 04:00 UTC */
#define REFERRED_MS INT64_C(1772420400000)   /* 2026-03-02 03:00 UTC */
#define NAME "Zhang \"San\" <script>alert('x')</script> & Co"
#define REASON "dpd 120 <b>and</b> 2 broken promises"

/* A referral with its statement; every pointer into this struct. */
typedef struct {
    Arrears__LegalReferral r;
    Arrears__CaseStatement st;
    Arrears__Borrower b;
    Arrears__Address addr;
    Arrears__ContractRates rates;
    Arrears__StatementInstalment inst[2];
    Arrears__StatementInstalment *inst_p[2];
    Arrears__PenaltyLine pen[2];
    Arrears__PenaltyLine *pen_p[2];
    Arrears__TimelineEntry rec[2];
    Arrears__TimelineEntry *rec_p[2];
} referral_t;

static void instalment(Arrears__StatementInstalment *in, const char *due, int64_t principal,
                       int64_t interest, int64_t fees, int64_t penalty, int64_t paid)
{
    arrears__statement_instalment__init(in);
    in->due_date = (char *)due;
    in->has_principal_minor = in->has_interest_minor = in->has_fees_minor = 1;
    in->has_penalty_minor = in->has_paid_minor = in->has_outstanding_minor = 1;
    in->principal_minor = principal;
    in->interest_minor = interest;
    in->fees_minor = fees;
    in->penalty_minor = penalty;
    in->paid_minor = paid;
    in->outstanding_minor = principal + interest + fees + penalty - paid;
}

static void penalty_line(Arrears__PenaltyLine *l, const char *due, const char *from,
                         const char *to, int64_t base, int64_t accrued, int capped)
{
    arrears__penalty_line__init(l);
    l->instalment_due_date = (char *)due;
    l->from_date = (char *)from;
    l->to_date = (char *)to;
    l->has_base_minor = l->has_rate_bps = l->has_period = l->has_accrued_minor = 1;
    l->base_minor = base;
    l->rate_bps = 5;
    l->period = ARREARS__RATE_PERIOD__PER_DAY;
    l->accrued_minor = accrued;
    l->has_capped = 1;
    l->capped = capped;
}

static void statement(referral_t *x)
{
    Arrears__CaseStatement *st = &x->st;
    arrears__case_statement__init(st);
    arrears__borrower__init(&x->b);
    arrears__address__init(&x->addr);
    arrears__contract_rates__init(&x->rates);
    x->b.name = NAME;
    x->addr.line1 = "1 Nanjing Rd <apt 3>";
    x->addr.city = "Shanghai";
    x->addr.country = "CN";
    x->b.address = &x->addr;
    x->rates.has_interest_bps = x->rates.has_penalty_bps = x->rates.has_penalty_cap_bps = 1;
    x->rates.interest_bps = 1500;
    x->rates.interest_period = ARREARS__RATE_PERIOD__PER_YEAR;
    x->rates.has_interest_period = x->rates.has_penalty_period = 1;
    x->rates.penalty_bps = 5;
    x->rates.penalty_period = ARREARS__RATE_PERIOD__PER_DAY;
    x->rates.penalty_cap_bps = 2400;
    st->as_of_date = "2026-03-02";
    st->borrower = &x->b;
    st->rates = &x->rates;
    instalment(&x->inst[0], "2025-11-01", 50000, 5000, 456, 9000, 0);
    instalment(&x->inst[1], "2025-12-01", 50000, 5000, 0, 4000, 0);
    x->inst_p[0] = &x->inst[0], x->inst_p[1] = &x->inst[1];
    st->n_schedule = 2;
    st->schedule = x->inst_p;
    st->has_penalty_brought_forward_minor = 1;
    st->penalty_brought_forward_minor = 777;
    penalty_line(&x->pen[0], "2025-11-01", "2025-11-02", "2026-03-01", 55000, 8223, 0);
    penalty_line(&x->pen[1], "2025-12-01", "2025-12-02", "2026-03-01", 55000, 4000, 1);
    x->pen_p[0] = &x->pen[0], x->pen_p[1] = &x->pen[1];
    st->n_penalty = 2;
    st->penalty = x->pen_p;
    for (int i = 0; i < 2; i++) {
        arrears__timeline_entry__init(&x->rec[i]);
        x->rec[i].has_seq = 1;
        x->rec[i].seq = 7 + i;
        x->rec_p[i] = &x->rec[i];
    }
    x->rec[0].day = "2025-12-15";
    x->rec[0].actor = "platform";
    x->rec[0].kind = "payment";
    x->rec[0].reason = "partial payment <img src=x onerror=alert(1)>";
    x->rec[0].has_amount_minor = 1;
    x->rec[0].amount_minor = 2500;
    x->rec[0].reference = "PAY-9";
    x->rec[1].day = "2026-03-01";
    x->rec[1].actor = "staging";
    x->rec[1].kind = "referral";
    x->rec[1].reason = REASON;
    st->n_record = 2;
    st->record = x->rec_p;
    st->has_record_first_seq = 1;
    st->record_first_seq = 7;
}

/* CNY 1234.56 outstanding = 1000.00 principal + 100.00 interest + 130.00 penalty + 4.56
 * fees; the penalty is 7.77 brought forward + 82.23 + 40.00. */
static void referral(referral_t *x, int with_statement)
{
    memset(x, 0, sizeof *x);
    Arrears__LegalReferral *r = &x->r;
    arrears__legal_referral__init(r);
    r->platform = "p1";
    r->account_ref = "ACC-1";
    r->has_referred_at_ms = r->has_product = r->has_outstanding_minor = 1;
    r->referred_at_ms = REFERRED_MS;
    r->product = ARREARS__PRODUCT__ONLINE_LOAN;
    r->currency = "CNY";
    r->outstanding_minor = 123456;
    r->has_principal_minor = r->has_interest_minor = r->has_penalty_minor = 1;
    r->has_fees_minor = r->has_days_past_due = 1;
    r->principal_minor = 100000;
    r->interest_minor = 10000;
    r->penalty_minor = 13000;
    r->fees_minor = 456;
    r->days_past_due = 121;
    r->first_missed_due_date = "2025-11-01";
    r->last_payment_date = "2025-12-15";
    r->time_zone = "Asia/Shanghai";
    r->jurisdiction = "CN";
    r->reason = REASON;
    if (with_statement) {
        statement(x);
        r->statement = &x->st;
    }
}

static char *money(int64_t minor)
{
    static char text[4][MONEY_FORMAT_MAX];
    static int next;
    char *t = text[next++ % 4];
    assert_int_equal(money_format(minor, "CNY", t, MONEY_FORMAT_MAX), MONEY_OK);
    return t;
}

/* Whether the HTML has an amount cell with this figure. */
static int has_amount(const char *html, int64_t minor)
{
    char cell[64];
    snprintf(cell, sizeof cell, "<td class=\"amount\">%s</td>", money(minor));
    return strstr(html, cell) != NULL;
}

static void assert_contains(const char *html, const char *s)
{
    if (!strstr(html, s)) {
        print_error("the HTML lacks \"%s\"\n", s);
        fail();
    }
}

/* ---------------------------------------------------------------- tests */

static void test_escape_writes_entities(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    casefile_escape(out, "a&b<c>d\"e'f");
    casefile_escape(out, NULL);
    assert_int_equal(fclose(out), 0);
    assert_string_equal(text, "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    free(text);
}

static void test_html_escapes_outside_text(void **state)
{
    (void)state;
    referral_t x;
    referral(&x, 1);
    casefile_t f;
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, 1 << 20, &f), CASEFILE_OK);
    assert_non_null(f.html);
    assert_int_equal(strlen(f.html), f.html_len);
    assert_null(strstr(f.html, "<script"));
    assert_null(strstr(f.html, "<img"));
    assert_null(strstr(f.html, "<b>"));
    assert_null(strstr(f.html, "<apt"));
    assert_contains(f.html, "Zhang &quot;San&quot; &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
                            "&amp; Co");
    assert_contains(f.html, "dpd 120 &lt;b&gt;and&lt;/b&gt; 2 broken promises");
    assert_contains(f.html, "partial payment &lt;img src=x onerror=alert(1)&gt;");
    assert_contains(f.html, "1 Nanjing Rd &lt;apt 3&gt;");
    assert_contains(f.html, "<title>Case file " CASE_ID "</title>");
    casefile_free(&f);
    assert_null(f.html);
    assert_null(f.machine);
}

static void test_html_states_each_figure(void **state)
{
    (void)state;
    referral_t x;
    referral(&x, 1);
    casefile_t f;
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, 1 << 20, &f), CASEFILE_OK);
    assert_string_equal(money(123456), "1234.56");
    /* What is owed, by component. */
    assert_true(has_amount(f.html, x.r.outstanding_minor));
    assert_true(has_amount(f.html, x.r.principal_minor));
    assert_true(has_amount(f.html, x.r.interest_minor));
    assert_true(has_amount(f.html, x.r.penalty_minor));
    assert_true(has_amount(f.html, x.r.fees_minor));
    /* The schedule: each instalment's figures. */
    for (size_t i = 0; i < x.st.n_schedule; i++) {
        const Arrears__StatementInstalment *in = x.st.schedule[i];
        assert_contains(f.html, in->due_date);
        assert_true(has_amount(f.html, in->principal_minor));
        assert_true(has_amount(f.html, in->penalty_minor));
        assert_true(has_amount(f.html, in->outstanding_minor));
    }
    /* The penalty: brought forward, each line, the record's payment. */
    assert_true(has_amount(f.html, x.st.penalty_brought_forward_minor));
    for (size_t i = 0; i < x.st.n_penalty; i++) {
        assert_true(has_amount(f.html, x.st.penalty[i]->accrued_minor));
        assert_true(has_amount(f.html, x.st.penalty[i]->base_minor));
    }
    assert_true(has_amount(f.html, x.rec[0].amount_minor));
    assert_contains(f.html, "5 bps per day");
    assert_contains(f.html, "1500 bps per year (ACT/365)");
    assert_contains(f.html, "cut by the annual cap");
    assert_contains(f.html, "<td>121</td>");                   /* days past due */
    assert_contains(f.html, "2026-03-02 04:00 UTC");           /* built */
    assert_contains(f.html, "2026-03-02 03:00 UTC");           /* referred */
    assert_contains(f.html, "Entries from 7 on");
    casefile_free(&f);
}

/* The total row's figure, parsed back from the HTML. */
static int64_t penalty_total_in(const char *html)
{
    const char *row = "Total penalty accrued</td><td class=\"amount\">";
    const char *at = strstr(html, row);
    assert_non_null(at);
    at += strlen(row);
    const char *end = strchr(at, '<');
    assert_non_null(end);
    char text[MONEY_FORMAT_MAX];
    assert_true((size_t)(end - at) < sizeof text);
    memcpy(text, at, (size_t)(end - at));
    text[end - at] = '\0';
    int64_t minor = 0;
    assert_int_equal(money_parse(text, "CNY", &minor), MONEY_OK);
    return minor;
}

static void test_penalty_total_is_brought_forward_plus_lines(void **state)
{
    (void)state;
    referral_t x;
    referral(&x, 1);
    casefile_t f;
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, 1 << 20, &f), CASEFILE_OK);
    int64_t expected = x.st.penalty_brought_forward_minor;
    for (size_t i = 0; i < x.st.n_penalty; i++)
        expected += x.st.penalty[i]->accrued_minor;
    assert_int_equal(expected, 13000);   /* the referral's penalty, to the minor unit */
    assert_int_equal(penalty_total_in(f.html), expected);
    casefile_free(&f);

    /* Nothing brought forward: the lines alone. */
    x.st.penalty_brought_forward_minor = 0;
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, 1 << 20, &f), CASEFILE_OK);
    assert_null(strstr(f.html, "brought forward"));
    assert_int_equal(penalty_total_in(f.html), 12223);
    casefile_free(&f);
}

static void test_machine_form_unpacks_to_the_referral(void **state)
{
    (void)state;
    referral_t x;
    referral(&x, 1);
    casefile_t f;
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, 1 << 20, &f), CASEFILE_OK);
    Arrears__CaseFile *m = arrears__case_file__unpack(NULL, f.machine_len, f.machine);
    assert_non_null(m);
    assert_string_equal(m->case_id, CASE_ID);
    assert_int_equal(m->built_at_ms, BUILT_MS);
    const Arrears__LegalReferral *r = m->referral;
    assert_non_null(r);
    assert_string_equal(r->platform, "p1");
    assert_string_equal(r->account_ref, "ACC-1");
    assert_int_equal(r->referred_at_ms, REFERRED_MS);
    assert_int_equal(r->product, ARREARS__PRODUCT__ONLINE_LOAN);
    assert_string_equal(r->currency, "CNY");
    assert_int_equal(r->outstanding_minor, 123456);
    assert_int_equal(r->penalty_minor, 13000);
    assert_string_equal(r->first_missed_due_date, "2025-11-01");
    assert_string_equal(r->time_zone, "Asia/Shanghai");
    assert_non_null(r->statement);
    assert_string_equal(r->statement->borrower->name, NAME);   /* raw in the machine form */
    assert_int_equal(r->statement->n_schedule, 2);
    assert_int_equal(r->statement->schedule[1]->outstanding_minor, x.inst[1].outstanding_minor);
    assert_int_equal(r->statement->penalty_brought_forward_minor, 777);
    assert_int_equal(r->statement->n_penalty, 2);
    assert_int_equal(r->statement->penalty[0]->accrued_minor, 8223);
    assert_true(r->statement->penalty[1]->capped);
    assert_int_equal(r->statement->n_record, 2);
    assert_string_equal(r->statement->record[0]->reference, "PAY-9");
    /* Packed again, the same bytes. */
    Arrears__CaseFile again = ARREARS__CASE_FILE__INIT;
    again.case_id = CASE_ID;
    again.has_built_at_ms = 1;
    again.built_at_ms = BUILT_MS;
    again.referral = &x.r;
    assert_int_equal(arrears__case_file__get_packed_size(&again), f.machine_len);
    arrears__case_file__free_unpacked(m, NULL);
    casefile_free(&f);
}

static void test_max_bytes_below_a_form_is_too_large(void **state)
{
    (void)state;
    referral_t x;
    referral(&x, 1);
    casefile_t f;
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, 1 << 20, &f), CASEFILE_OK);
    size_t html = f.html_len, machine = f.machine_len;
    casefile_free(&f);
    assert_true(html > machine);

    /* Exactly the HTML's size fits; a byte less does not. */
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, html, &f), CASEFILE_OK);
    casefile_free(&f);
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, html - 1, &f), CASEFILE_ETOO_LARGE);
    assert_null(f.html);
    assert_null(f.machine);
    assert_int_equal(f.html_len, 0);
    /* Below the machine form too. */
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, machine - 1, &f), CASEFILE_ETOO_LARGE);
    assert_null(f.html);
    assert_null(f.machine);
}

static void test_referral_without_statement_builds(void **state)
{
    (void)state;
    referral_t x;
    referral(&x, 0);
    casefile_t f;
    assert_int_equal(casefile_build(CASE_ID, &x.r, BUILT_MS, 1 << 20, &f), CASEFILE_OK);
    assert_contains(f.html, "Staging sent no statement with this referral.");
    assert_contains(f.html, "(not in the statement)");
    assert_true(has_amount(f.html, 123456));
    assert_null(strstr(f.html, "Total penalty accrued"));
    assert_contains(f.html, "</body></html>");
    Arrears__CaseFile *m = arrears__case_file__unpack(NULL, f.machine_len, f.machine);
    assert_non_null(m);
    assert_non_null(m->referral);
    assert_null(m->referral->statement);
    assert_string_equal(m->referral->account_ref, "ACC-1");
    arrears__case_file__free_unpacked(m, NULL);
    casefile_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_writes_entities),
        cmocka_unit_test(test_html_escapes_outside_text),
        cmocka_unit_test(test_html_states_each_figure),
        cmocka_unit_test(test_penalty_total_is_brought_forward_plus_lines),
        cmocka_unit_test(test_machine_form_unpacks_to_the_referral),
        cmocka_unit_test(test_max_bytes_below_a_form_is_too_large),
        cmocka_unit_test(test_referral_without_statement_builds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
