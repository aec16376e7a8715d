/* Unit tests for staging's penalty journal (journal.c) as penalty.c fills it: the lines
 * of an account worked by hand — a payment that changes the base mid-run, a second
 * instalment falling due, a frozen span that notes nothing, the annual cap cutting a
 * day (a capped line) and then leaving no room (a capped line of 0) — the same lines
 * whether the days are accrued one call each or in spans, the bound (the oldest lines
 * folded into the brought-forward total), and the journal through the stored record
 * (a record from before the journal brings its book's penalty forward).
 * Throughout: brought forward + the lines' sum == the penalty the book charged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "account.h"
#include "journal.h"
#include "penalty.h"
#include "record.h"
#include "staging_store.pb-c.h"
#include "tz.h"

static book_instalment_t storage[8];
static book_t book;
static journal_t journal;

static const int64_t due = 20463;   /* 2026-01-10 */

static void fresh(void)
{
    assert_int_equal(tz_days_from_civil(2026, 1, 10), due);
    assert_int_equal(book_init(&book, storage, 8), BOOK_OK);
    memset(&journal, 0, sizeof journal);
}

static void add(int64_t due_day, int64_t principal)
{
    book_waterfall_t w = book_waterfall_default();
    book_instalment_t in;
    assert_int_equal(book_instalment_make(due_day, principal, 0, 0, 0, &w, &in), BOOK_OK);
    assert_int_equal(book_add_instalment(&book, &in), BOOK_OK);
}

static void accrue(const penalty_terms_t *t, int64_t from, int64_t to)
{
    int64_t added = 0;
    assert_int_equal(penalty_accrue(&book, t, from, to, &journal, &added), PENALTY_OK);
}

static void accrue_day_by_day(const penalty_terms_t *t, int64_t from, int64_t to)
{
    for (int64_t d = from; d < to; d++)
        accrue(t, d, d + 1);
}

static int64_t book_penalty(void)
{
    int64_t total = 0;
    for (size_t i = 0; i < book.count; i++)
        total += book.instalments[i].owed_minor[BOOK_PENALTY];
    return total;
}

static void assert_sums_to_book(const journal_t *j)
{
    int64_t total = j->brought_forward_minor;
    for (size_t i = 0; i < j->count; i++)
        total += journal_line(j, i)->accrued_minor;
    assert_int_equal(total, book_penalty());
}

static void assert_same_line(const journal_line_t *a, const journal_line_t *b)
{
    assert_int_equal(a->due_day, b->due_day);
    assert_int_equal(a->from_day, b->from_day);
    assert_int_equal(a->to_day, b->to_day);
    assert_int_equal(a->base_minor, b->base_minor);
    assert_int_equal(a->rate_bps, b->rate_bps);
    assert_int_equal(a->period, b->period);
    assert_int_equal(a->capped, b->capped);
    assert_int_equal(a->accrued_minor, b->accrued_minor);
}

static void assert_line(size_t i, int64_t due_day, int64_t from, int64_t to, int64_t base,
                        bool capped, int64_t accrued)
{
    const journal_line_t *line = journal_line(&journal, i);
    assert_int_equal(line->due_day, due_day);
    assert_int_equal(line->from_day, from);
    assert_int_equal(line->to_day, to);
    assert_int_equal(line->base_minor, base);
    assert_int_equal(line->rate_bps, 10);
    assert_int_equal(line->period, PENALTY_PER_DAY);
    assert_int_equal(line->capped, capped);
    assert_int_equal(line->accrued_minor, accrued);
}

/* A = 100000 due D, B = 50000 due D+10; 10 bps a day (A: 100 a day; after the payment
 * 80, B 50: every day exact, no carry), cap 117 bps a year of the outstanding
 * principal with no interest counted: 150000 -> 1755 before the payment, 130000 ->
 * 1521 after.
 *   D+1..D+5    A on 100000: 500. Paid 20500 on D+5: penalty 500, principal 20000.
 *   D+6..D+10   A on 80000: 80 a day.
 *   D+11, D+12  A still 80 a day (its line runs on, 560 from D+6); B due D+10 accrues
 *               from D+11 on 50000: 100.
 *   D+13..D+15  frozen: no line; the runs break.
 *   D+16, D+17  A 160, B 100, each a new line. Window so far: 500 + 560 + 100 + 260 =
 *               1420, room 101.
 *   D+18        A 80 (its line runs on: 240); B wants 50, room 21: cut, capped, 21.
 *   D+19        no room: A capped at 0 (a new line), B's capped line runs on at 0.
 * Book: A 500 + 560 + 240 = 1300, B 221: 1521 = the cap, and the seven lines' sum. */
static void work_the_account(void (*accrue_span)(const penalty_terms_t *, int64_t, int64_t))
{
    fresh();
    add(due, 100000);
    add(due + 10, 50000);
    penalty_terms_t t = {.rate_bps = 10, .period = PENALTY_PER_DAY, .cap_bps = 117};
    accrue_span(&t, due + 1, due + 6);
    book_waterfall_t w = book_waterfall_default();
    assert_int_equal(book_apply_payment(&book, &w, 20500, NULL), BOOK_OK);
    accrue_span(&t, due + 6, due + 13);
    penalty_terms_t frozen = t;
    frozen.frozen = true;
    accrue_span(&frozen, due + 13, due + 16);
    accrue_span(&t, due + 16, due + 20);
}

static void test_lines_of_an_account(void **state)
{
    (void)state;
    work_the_account(accrue);
    assert_int_equal(journal.count, 7);
    assert_line(0, due, due + 1, due + 5, 100000, false, 500);
    assert_line(1, due, due + 6, due + 12, 80000, false, 560);
    assert_line(2, due + 10, due + 11, due + 12, 50000, false, 100);
    assert_line(3, due, due + 16, due + 18, 80000, false, 240);
    assert_line(4, due + 10, due + 16, due + 17, 50000, false, 100);
    assert_line(5, due + 10, due + 18, due + 19, 50000, true, 21);
    assert_line(6, due, due + 19, due + 19, 80000, true, 0);
    assert_int_equal(journal.brought_forward_minor, 0);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 1300);
    assert_int_equal(book.instalments[1].owed_minor[BOOK_PENALTY], 221);
    assert_sums_to_book(&journal);
}

/* The daily run accrues one day at a time, a catch-up many: the same lines. */
static void test_same_lines_day_by_day(void **state)
{
    (void)state;
    work_the_account(accrue);
    journal_t spans = journal;
    work_the_account(accrue_day_by_day);
    assert_int_equal(journal.count, spans.count);
    for (size_t i = 0; i < spans.count; i++)
        assert_same_line(journal_line(&journal, i), journal_line(&spans, i));
}

/* A day that fails books nothing and notes nothing: 100% a day on 4e18 books 4e18 on
 * D+1 and D+2; D+3 would take the penalty past int64 and is refused whole. */
static void test_failed_day_notes_nothing(void **state)
{
    (void)state;
    fresh();
    const int64_t base = INT64_C(4000000000000000000);
    add(due, base);
    penalty_terms_t t = {.rate_bps = 10000, .period = PENALTY_PER_DAY};
    int64_t added = 0;
    assert_int_equal(penalty_accrue(&book, &t, due + 1, due + 4, &journal, &added),
                     PENALTY_EOVERFLOW);
    assert_int_equal(book.penalty_next_day, due + 3);
    assert_int_equal(journal.count, 1);
    const journal_line_t *line = journal_line(&journal, 0);
    assert_int_equal(line->from_day, due + 1);
    assert_int_equal(line->to_day, due + 2);
    assert_int_equal(line->accrued_minor, 2 * base);
    assert_sums_to_book(&journal);
}

/* 7 bps a day on 123457 is 86.4199 a day (86 or 87 with the carry, which a frozen day
 * leaves alone). Every other day frozen: each accruing day is a line of its own. 300
 * days make 150 lines; the 22 oldest fold into the brought-forward total, floor(22 x
 * 86.4199) = 1901, and the sum holds after every day. */
static void test_bound_folds_the_oldest(void **state)
{
    (void)state;
    fresh();
    add(due, 123457);
    penalty_terms_t t = {.rate_bps = 7, .period = PENALTY_PER_DAY};
    penalty_terms_t frozen = t;
    frozen.frozen = true;
    for (int64_t d = due + 1; d < due + 301; d++) {
        accrue((d - due) % 2 ? &t : &frozen, d, d + 1);
        assert_sums_to_book(&journal);
    }
    assert_int_equal(journal.count, JOURNAL_MAX_LINES);
    const journal_line_t *oldest = journal_line(&journal, 0);
    assert_int_equal(oldest->from_day, due + 1 + 2 * 22);
    assert_int_equal(oldest->to_day, oldest->from_day);
    assert_int_equal(journal.brought_forward_minor, 1901);
    const journal_line_t *newest = journal_line(&journal, JOURNAL_MAX_LINES - 1);
    assert_int_equal(newest->from_day, due + 299);
}

/* The journal is part of the account's stored record, and reads back whole. */
static void test_stored_with_the_account(void **state)
{
    (void)state;
    static account_t acc, back;
    work_the_account(accrue);
    account_init(&acc);
    acc.penalty_journal = journal;
    acc.penalty_journal.brought_forward_minor = 777;
    record_t *rec = record_new();
    assert_non_null(rec);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(record_encode(rec, &acc, &bytes, &len), RECORD_OK);
    assert_int_equal(record_decode(rec, bytes, len, &back), RECORD_OK);
    assert_int_equal(back.penalty_journal.count, journal.count);
    assert_int_equal(back.penalty_journal.brought_forward_minor, 777);
    for (size_t i = 0; i < journal.count; i++)
        assert_same_line(journal_line(&back.penalty_journal, i), journal_line(&journal, i));
    record_destroy(&rec);
}

/* A record stored before the journal existed (no brought-forward total): what its book
 * had charged, 1300 + 221 here, is brought forward whole, so the sum still holds. */
static void test_record_from_before_the_journal(void **state)
{
    (void)state;
    static account_t acc, back;
    work_the_account(accrue);
    account_init(&acc);
    memcpy(acc.instalments, book.instalments, book.count * sizeof book.instalments[0]);
    acc.book.count = book.count;
    record_t *rec = record_new();
    assert_non_null(rec);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(record_encode(rec, &acc, &bytes, &len), RECORD_OK);
    Arrears__StoredAccount *m = arrears__stored_account__unpack(NULL, len, bytes);
    assert_non_null(m);
    m->has_penalty_brought_forward_minor = 0;   /* as an older build wrote it */
    uint8_t old[4096];
    assert_true(arrears__stored_account__get_packed_size(m) <= sizeof old);
    size_t old_len = arrears__stored_account__pack(m, old);
    arrears__stored_account__free_unpacked(m, NULL);
    assert_int_equal(record_decode(rec, old, old_len, &back), RECORD_OK);
    assert_int_equal(back.penalty_journal.count, 0);
    assert_int_equal(back.penalty_journal.brought_forward_minor, 1521);
    record_destroy(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_of_an_account),
        cmocka_unit_test(test_same_lines_day_by_day),
        cmocka_unit_test(test_failed_day_notes_nothing),
        cmocka_unit_test(test_bound_folds_the_oldest),
        cmocka_unit_test(test_stored_with_the_account),
        cmocka_unit_test(test_record_from_before_the_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
