/* test_erasure: the steps every service shares when an account's personal data is
 * erased (shared/erasure.h), one rule per test:
 *   - the message check: platform and account required, a jurisdiction a rule's name;
 *   - which words of a timeline entry are free text: an operator's after staging's
 *     prefix (a write-off's whole reason), an agent's, a firm's and a buyer's after the
 *     first ": ", never staging's own; a second pass changes nothing;
 *   - a statement loses its borrower and its record's free text, keeps the rest; a
 *     second pass changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "erasure.h"
#include "receiver.h"

static void test_check_names_the_field(void **state)
{
    (void)state;
    reject_t r;
    Arrears__PersonalDataErased m = ARREARS__PERSONAL_DATA_ERASED__INIT;
    m.account_ref = "A-1";
    assert_int_equal(erasure_check(&m, &r), APPLY_REJECTED);
    assert_string_equal(r.field, "platform");
    assert_int_equal(r.code, ARREARS__REJECT__CODE__INVALID_FIELD);
    m.platform = "p1";
    m.account_ref = "";
    assert_int_equal(erasure_check(&m, &r), APPLY_REJECTED);
    assert_string_equal(r.field, "account_ref");
    m.account_ref = "A-1";
    m.jurisdiction = "GB\nevent=forged";
    assert_int_equal(erasure_check(&m, &r), APPLY_REJECTED);
    assert_string_equal(r.field, "jurisdiction");
    m.jurisdiction = "CN-31";
    assert_int_equal(erasure_check(&m, &r), 0);
    m.jurisdiction = NULL;
    assert_int_equal(erasure_check(&m, &r), 0);
}

/* The reason erasure_entry_reason makes of (actor, kind, reason), or NULL for none. */
static const char *scrubbed(const char *actor, const char *kind, const char *reason)
{
    static char out[256];
    return erasure_entry_reason(actor, kind, reason, out, sizeof out) ? out : NULL;
}

static void test_entry_free_text(void **state)
{
    (void)state;
    assert_string_equal(scrubbed("op-alice", "hold", "manual hold: Mrs X is ill"),
                        "manual hold: " ERASURE_MARKER);
    assert_string_equal(scrubbed("op-alice", "hold_lifted",
                                 "complaint resolved after its deadline: called Mrs X"),
                        "complaint resolved after its deadline: " ERASURE_MARKER);
    assert_string_equal(scrubbed("op-alice", "written_off", "note: Mrs X emigrated"),
                        ERASURE_MARKER);
    assert_string_equal(scrubbed("outreach", "outcome", "PROMISE_TO_PAY by CALL: wife said"),
                        "PROMISE_TO_PAY by CALL: " ERASURE_MARKER);
    assert_string_equal(scrubbed("legal", "legal", "case FILED: at Mr X's home court"),
                        "case FILED: " ERASURE_MARKER);
    assert_string_equal(scrubbed("sale", "put_back", ": Mr X deceased"), ": " ERASURE_MARKER);
    assert_null(scrubbed("outreach", "outcome", "DELIVERED by SMS"));   /* no detail */
    assert_null(scrubbed("staging", "erased", "personal data erased: retention of 40 days"));
    assert_null(scrubbed("platform", "hold", "complaint received: C-1"));
    assert_null(scrubbed("outreach", "promise", "promise: 100 by 2026-05-01"));
    assert_null(scrubbed("op-alice", "hold", "manual hold: " ERASURE_MARKER));   /* again */
    assert_null(scrubbed("op-alice", "written_off", ERASURE_MARKER));
    assert_null(scrubbed("op-alice", "hold", NULL));
}

static Arrears__TimelineEntry *entry(const char *actor, const char *kind, const char *reason)
{
    Arrears__TimelineEntry *e = malloc(sizeof *e);
    assert_non_null(e);
    arrears__timeline_entry__init(e);
    e->actor = strdup(actor);
    e->kind = strdup(kind);
    e->reason = strdup(reason);
    e->has_amount_minor = 1;
    e->amount_minor = 500;
    return e;
}

static void test_statement_loses_the_borrower(void **state)
{
    (void)state;
    Arrears__CaseStatement *s = malloc(sizeof *s);
    assert_non_null(s);
    arrears__case_statement__init(s);
    s->as_of_date = strdup("2026-03-02");
    s->borrower = malloc(sizeof *s->borrower);
    arrears__borrower__init(s->borrower);
    s->borrower->name = strdup("Li Si");
    s->borrower->language = strdup("zh-CN");
    s->n_record = 2;
    s->record = malloc(2 * sizeof *s->record);
    s->record[0] = entry("op-alice", "hold", "manual hold: Li Si is ill");
    s->record[1] = entry("staging", "payment", "payment of 500");
    assert_int_equal(erasure_scrub_statement(s), 1);
    assert_string_equal(s->borrower->name, ERASURE_MARKER);
    assert_null(s->borrower->language);
    assert_string_equal(s->record[0]->reason, "manual hold: " ERASURE_MARKER);
    assert_string_equal(s->record[0]->actor, "op-alice");
    assert_int_equal(s->record[0]->amount_minor, 500);
    assert_string_equal(s->record[1]->reason, "payment of 500");
    assert_string_equal(s->as_of_date, "2026-03-02");
    assert_int_equal(erasure_scrub_statement(s), 0);   /* nothing left to erase */
    arrears__case_statement__free_unpacked(s, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_names_the_field),
        cmocka_unit_test(test_entry_free_text),
        cmocka_unit_test(test_statement_loses_the_borrower),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
