/* Unit tests for shared/money: every operation at its int64 boundaries, the one
 * rounding rule (half to even), the carried remainder that keeps daily accrual exact,
 * ISO 4217 exponents, and the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "money.h"

static void test_currency_exponents(void **state)
{
    (void)state;
    int e = -1;
    assert_int_equal(money_currency_exponent("JPY", &e), MONEY_OK);
    assert_int_equal(e, 0);
    assert_int_equal(money_currency_exponent("KWD", &e), MONEY_OK);
    assert_int_equal(e, 3);
    assert_int_equal(money_currency_exponent("USD", &e), MONEY_OK);
    assert_int_equal(e, 2);
    assert_int_equal(money_currency_exponent("CNY", &e), MONEY_OK);
    assert_int_equal(e, 2);
    assert_int_equal(money_currency_exponent("CLF", &e), MONEY_OK);
    assert_int_equal(e, 4);

    const char *zero[] = {"KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "XPF", NULL};
    for (int i = 0; zero[i]; i++) {
        assert_int_equal(money_currency_exponent(zero[i], &e), MONEY_OK);
        assert_int_equal(e, 0);
    }
    const char *three[] = {"BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD", NULL};
    for (int i = 0; three[i]; i++) {
        assert_int_equal(money_currency_exponent(three[i], &e), MONEY_OK);
        assert_int_equal(e, 3);
    }
    /* First and last of the table, so a scan that stops early shows. */
    assert_true(money_currency_known("AED"));
    assert_true(money_currency_known("ZWL"));
    assert_true(money_currency_known("EUR"));
}

static void test_currency_refused(void **state)
{
    (void)state;
    int e = 42;
    const char *bad[] = {"usd", "US", "USDD", "", "U1D", "XAU", "XXX", "XTS",
                         "HRK", "ABC", "USD ", " USD", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(money_currency_exponent(bad[i], &e), MONEY_ECURRENCY);
        assert_false(money_currency_known(bad[i]));
    }
    assert_int_equal(money_currency_exponent(NULL, &e), MONEY_ECURRENCY);
    assert_false(money_currency_known(NULL));
    assert_int_equal(e, 42); /* untouched on error */
}

static void test_add_sub_mul_boundaries(void **state)
{
    (void)state;
    int64_t out = 7;
    assert_int_equal(money_add(INT64_MAX - 1, 1, &out), MONEY_OK);
    assert_true(out == INT64_MAX);
    out = 7;
    assert_int_equal(money_add(INT64_MAX, 1, &out), MONEY_EOVERFLOW);
    assert_true(out == 7);
    assert_int_equal(money_add(INT64_MIN, -1, &out), MONEY_EOVERFLOW);
    assert_int_equal(money_add(INT64_MIN, INT64_MAX, &out), MONEY_OK);
    assert_true(out == -1);

    assert_int_equal(money_sub(INT64_MIN + 1, 1, &out), MONEY_OK);
    assert_true(out == INT64_MIN);
    assert_int_equal(money_sub(INT64_MIN, 1, &out), MONEY_EOVERFLOW);
    assert_int_equal(money_sub(0, INT64_MIN, &out), MONEY_EOVERFLOW);
    assert_int_equal(money_sub(-1, INT64_MIN, &out), MONEY_OK);
    assert_true(out == INT64_MAX);

    assert_int_equal(money_mul(INT64_MAX, 1, &out), MONEY_OK);
    assert_true(out == INT64_MAX);
    assert_int_equal(money_mul(INT64_MIN, -1, &out), MONEY_EOVERFLOW);
    assert_int_equal(money_mul(INT64_MAX / 2 + 1, 2, &out), MONEY_EOVERFLOW);
    assert_int_equal(money_mul(INT64_MIN / 2, 2, &out), MONEY_OK);
    assert_true(out == INT64_MIN);
    assert_int_equal(money_mul(123456, 0, &out), MONEY_OK);
    assert_true(out == 0);
}

static void test_mul_div(void **state)
{
    (void)state;
    int64_t q = 0, r = 0;
    assert_int_equal(money_mul_div(1000, 7, 3, &q, &r), MONEY_OK);
    assert_true(q == 2333 && r == 1);
    /* Truncation toward zero; the remainder keeps the product's sign. */
    assert_int_equal(money_mul_div(-1000, 7, 3, &q, &r), MONEY_OK);
    assert_true(q == -2333 && r == -1);
    assert_int_equal(money_mul_div(1000, -7, 3, &q, &r), MONEY_OK);
    assert_true(q == -2333 && r == -1);

    /* The product is beyond int64 but the quotient is not: exact via 128 bits. */
    assert_int_equal(money_mul_div(INT64_MAX, INT64_MAX, INT64_MAX, &q, &r), MONEY_OK);
    assert_true(q == INT64_MAX && r == 0);
    assert_int_equal(money_mul_div(INT64_MIN, 3, 3, &q, &r), MONEY_OK);
    assert_true(q == INT64_MIN && r == 0);
    assert_int_equal(money_mul_div(INT64_MAX, 10000, 10001, &q, &r), MONEY_OK);
    assert_true(q == 9222449791875588248LL && r == 1752);

    q = 5;
    r = 5;
    assert_int_equal(money_mul_div(INT64_MAX, 2, 1, &q, &r), MONEY_EOVERFLOW);
    assert_int_equal(money_mul_div(INT64_MIN, -1, 1, &q, &r), MONEY_EOVERFLOW);
    assert_int_equal(money_mul_div(1, 1, 0, &q, &r), MONEY_EINVALID);
    assert_int_equal(money_mul_div(1, 1, -5, &q, &r), MONEY_EINVALID);
    assert_true(q == 5 && r == 5);
}

static void test_round_half_even(void **state)
{
    (void)state;
    int64_t out = 0;
    /* x / 2 for x = 1, 3, 5, 7: 0.5, 1.5, 2.5, 3.5 */
    int64_t expect_pos[] = {0, 2, 2, 4};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(money_mul_div_round(2 * i + 1, 1, 2, &out), MONEY_OK);
        assert_true(out == expect_pos[i]);
        assert_int_equal(money_mul_div_round(-(2 * i + 1), 1, 2, &out), MONEY_OK);
        assert_true(out == -expect_pos[i]);
    }
    /* Not ties: nearest wins. */
    assert_int_equal(money_mul_div_round(2, 1, 3, &out), MONEY_OK); /* 0.667 */
    assert_true(out == 1);
    assert_int_equal(money_mul_div_round(1, 1, 3, &out), MONEY_OK); /* 0.333 */
    assert_true(out == 0);
    assert_int_equal(money_mul_div_round(-2, 1, 3, &out), MONEY_OK);
    assert_true(out == -1);
    assert_int_equal(money_mul_div_round(-5, 1, 1, &out), MONEY_OK);
    assert_true(out == -5);

    /* Boundaries: exact at the edges, overflow once rounding steps past them. */
    assert_int_equal(money_mul_div_round(INT64_MAX, 1, 1, &out), MONEY_OK);
    assert_true(out == INT64_MAX);
    assert_int_equal(money_mul_div_round(INT64_MIN, 1, 1, &out), MONEY_OK);
    assert_true(out == INT64_MIN);
    /* INT64_MAX * 2 / 2 exact; (2*INT64_MAX + 1) / 2 = INT64_MAX + 0.5 -> ties to
     * the even INT64_MAX + 1: overflow. */
    assert_int_equal(money_mul_div_round(INT64_MAX, 2, 2, &out), MONEY_OK);
    assert_true(out == INT64_MAX);
    assert_int_equal(money_mul_div_round(INT64_MAX, 3, 2, &out), MONEY_EOVERFLOW);
    assert_int_equal(money_mul_div_round(1, 1, 0, &out), MONEY_EINVALID);
}

/* Reported rates truncate: 1 of 3 is 3333, 2 of 3 is 6666 (not 6667). */
static void test_rate_bps_truncates(void **state)
{
    (void)state;
    assert_int_equal(money_rate_bps(1, 3), 3333);
    assert_int_equal(money_rate_bps(2, 3), 6666);
    assert_int_equal(money_rate_bps(3, 3), 10000);
    assert_int_equal(money_rate_bps(0, 3), 0);
    assert_int_equal(money_rate_bps(5, 0), 0);
    assert_int_equal(money_rate_bps(-5, 10), 0);
    assert_int_equal(money_rate_bps(INT64_MAX, 1), UINT32_MAX);
    assert_int_equal(money_rate_bps(INT64_MAX / 2, INT64_MAX), 4999);
}

static void test_apply_bps(void **state)
{
    (void)state;
    int64_t out = 0;
    assert_int_equal(money_apply_bps(10000, 500, &out), MONEY_OK); /* 5% of 100.00 */
    assert_true(out == 500);
    /* 1 bps of 50 minor = 0.005 -> 0; 5000 bps of 1 = 0.5 -> 0, of 3 = 1.5 -> 2,
     * of 5 = 2.5 -> 2, of -5 = -2.5 -> -2, of -3 = -1.5 -> -2. */
    assert_int_equal(money_apply_bps(50, 1, &out), MONEY_OK);
    assert_true(out == 0);
    assert_int_equal(money_apply_bps(1, 5000, &out), MONEY_OK);
    assert_true(out == 0);
    assert_int_equal(money_apply_bps(3, 5000, &out), MONEY_OK);
    assert_true(out == 2);
    assert_int_equal(money_apply_bps(5, 5000, &out), MONEY_OK);
    assert_true(out == 2);
    assert_int_equal(money_apply_bps(-5, 5000, &out), MONEY_OK);
    assert_true(out == -2);
    assert_int_equal(money_apply_bps(-3, 5000, &out), MONEY_OK);
    assert_true(out == -2);
    assert_int_equal(money_apply_bps(INT64_MAX, 10000, &out), MONEY_OK);
    assert_true(out == INT64_MAX);
    assert_int_equal(money_apply_bps(INT64_MAX, 10001, &out), MONEY_EOVERFLOW);
    assert_int_equal(money_apply_bps(INT64_MIN, 10000, &out), MONEY_OK);
    assert_true(out == INT64_MIN);
    assert_int_equal(money_apply_bps(INT64_MIN, -10000, &out), MONEY_EOVERFLOW);
}

/* A year of daily penalty at an annual rate, ACT/365: each day is
 * principal * rate_bps / (10000 * 365), its remainder carried to the next day. The
 * sum must equal the one-shot year, to the minor unit. */
static void test_carried_remainder_365_days(void **state)
{
    (void)state;
    const int64_t principals[] = {1234567, 1, 99, 100000000000LL, 3, 987654321};
    const int64_t rates_bps[] = {1825, 1, 3333, 2400, 9999, 7};
    for (size_t k = 0; k < sizeof principals / sizeof principals[0]; k++) {
        int64_t den = 10000LL * 365;
        int64_t carry = 0, total = 0, q = 0, r = 0;
        int64_t truncated_sum = 0;
        for (int day = 0; day < 365; day++) {
            int64_t today = 0;
            assert_int_equal(money_mul_div_carry(principals[k], rates_bps[k], den, &carry,
                                                 &today),
                             MONEY_OK);
            assert_int_equal(money_add(total, today, &total), MONEY_OK);
            assert_int_equal(money_mul_div(principals[k], rates_bps[k], den, &q, &r),
                             MONEY_OK);
            truncated_sum += q;
        }
        int64_t year = 0;
        assert_int_equal(money_mul_div(principals[k], rates_bps[k] * 365, den, &year, &r),
                         MONEY_OK);
        assert_true(total == year);
        assert_true(carry == r);
        /* Without the carry the small accounts lose money every single day. */
        if (k == 0)
            assert_true(truncated_sum < year);
    }
    /* The same by hand with money_mul_div's remainder, as book code may do it. */
    int64_t carry = 0, total = 0;
    for (int day = 0; day < 365; day++) {
        int64_t q, r;
        assert_int_equal(money_mul_div(1234567, 1825, 3650000, &q, &r), MONEY_OK);
        carry += r;
        total += q + carry / 3650000;
        carry %= 3650000;
    }
    assert_true(total == (int64_t)1234567 * 1825 * 365 / 3650000);
}

static void test_carry_refused(void **state)
{
    (void)state;
    int64_t carry = 10, out = 0;
    assert_int_equal(money_mul_div_carry(1, 1, 10, &carry, &out), MONEY_EINVALID);
    carry = -10;
    assert_int_equal(money_mul_div_carry(1, 1, 10, &carry, &out), MONEY_EINVALID);
    carry = 0;
    assert_int_equal(money_mul_div_carry(1, 1, 0, &carry, &out), MONEY_EINVALID);
    carry = 0;
    assert_int_equal(money_mul_div_carry(INT64_MAX, 2, 1, &carry, &out), MONEY_EOVERFLOW);
    carry = 9;
    assert_int_equal(money_mul_div_carry(1, 1, 10, &carry, &out), MONEY_OK);
    assert_true(out == 1 && carry == 0);
}

static void test_parse(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(money_parse("1234.56", "USD", &v), MONEY_OK);
    assert_true(v == 123456);
    assert_int_equal(money_parse("-1234.56", "CNY", &v), MONEY_OK);
    assert_true(v == -123456);
    assert_int_equal(money_parse("12.5", "USD", &v), MONEY_OK);
    assert_true(v == 1250);
    assert_int_equal(money_parse("12", "USD", &v), MONEY_OK);
    assert_true(v == 1200);
    assert_int_equal(money_parse("0.001", "KWD", &v), MONEY_OK);
    assert_true(v == 1);
    assert_int_equal(money_parse("1500", "JPY", &v), MONEY_OK);
    assert_true(v == 1500);
    assert_int_equal(money_parse("-0", "USD", &v), MONEY_OK);
    assert_true(v == 0);
    assert_int_equal(money_parse("007.10", "USD", &v), MONEY_OK);
    assert_true(v == 710);
    assert_int_equal(money_parse("1.2345", "CLF", &v), MONEY_OK);
    assert_true(v == 12345);

    /* The int64 edges parse exactly; one minor unit past them overflows. */
    assert_int_equal(money_parse("92233720368547758.07", "USD", &v), MONEY_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(money_parse("-92233720368547758.08", "USD", &v), MONEY_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(money_parse("9223372036854775807", "JPY", &v), MONEY_OK);
    assert_true(v == INT64_MAX);
    v = 99;
    assert_int_equal(money_parse("92233720368547758.08", "USD", &v), MONEY_EOVERFLOW);
    assert_int_equal(money_parse("-92233720368547758.09", "USD", &v), MONEY_EOVERFLOW);
    assert_int_equal(money_parse("92233720368547758", "USD", &v), MONEY_OK);
    assert_true(v == 9223372036854775800LL);
    v = 99;
    assert_int_equal(money_parse("92233720368547759", "USD", &v), MONEY_EOVERFLOW);
    assert_int_equal(money_parse("99999999999999999999999999", "JPY", &v),
                     MONEY_EOVERFLOW);
    assert_true(v == 99);
}

static void test_parse_refused(void **state)
{
    (void)state;
    int64_t v = 99;
    const char *junk[] = {"",      "-",     ".5",    "1.",    "1.234", "+1",
                          " 1",    "1 ",    "1,000", "1e3",   "--1",   "1.2.3",
                          "0x10",  "1.-2",  "abc",   "1.5a",  "-.5",   NULL};
    for (int i = 0; junk[i]; i++)
        assert_int_equal(money_parse(junk[i], "USD", &v), MONEY_EPARSE);
    assert_int_equal(money_parse("1.0", "JPY", &v), MONEY_EPARSE); /* no decimals */
    assert_int_equal(money_parse("1.0001", "KWD", &v), MONEY_EPARSE);
    assert_int_equal(money_parse("1.00", "usd", &v), MONEY_ECURRENCY);
    assert_int_equal(money_parse("1.00", NULL, &v), MONEY_ECURRENCY);
    /* Junk wins over overflow: the text is refused for what it is. */
    assert_int_equal(money_parse("99999999999999999999999x", "USD", &v), MONEY_EPARSE);
    assert_true(v == 99);
}

static void test_format(void **state)
{
    (void)state;
    char buf[MONEY_FORMAT_MAX];
    assert_int_equal(money_format(123456, "USD", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "1234.56");
    assert_int_equal(money_format(-5, "USD", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "-0.05");
    assert_int_equal(money_format(0, "USD", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "0.00");
    assert_int_equal(money_format(1500, "JPY", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "1500");
    assert_int_equal(money_format(-1, "KWD", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "-0.001");
    assert_int_equal(money_format(1, "CLF", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "0.0001");
    assert_int_equal(money_format(INT64_MAX, "USD", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "92233720368547758.07");
    assert_int_equal(money_format(INT64_MIN, "USD", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "-92233720368547758.08");
    assert_int_equal(money_format(INT64_MIN, "JPY", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "-9223372036854775808");
    assert_int_equal(money_format(INT64_MIN, "CLF", buf, sizeof buf), MONEY_OK);
    assert_string_equal(buf, "-922337203685477.5808");

    /* Exactly fitting, then one byte short. */
    char small[8];
    assert_int_equal(money_format(123456, "USD", small, 8), MONEY_OK);
    assert_string_equal(small, "1234.56");
    assert_int_equal(money_format(123456, "USD", small, 7), MONEY_EINVALID);
    assert_string_equal(small, "");
    assert_int_equal(money_format(1, "XAU", buf, sizeof buf), MONEY_ECURRENCY);
    assert_string_equal(buf, "");
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *currencies[] = {"USD", "JPY", "KWD", "CLF", "CNY", NULL};
    const int64_t values[] = {0, 1, -1, 9, 10, 99, 100, 101, 123456789, -123456789,
                              INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
    char buf[MONEY_FORMAT_MAX];
    for (int c = 0; currencies[c]; c++) {
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
            int64_t back = 0;
            assert_int_equal(money_format(values[i], currencies[c], buf, sizeof buf),
                             MONEY_OK);
            assert_int_equal(money_parse(buf, currencies[c], &back), MONEY_OK);
            assert_true(back == values[i]);
        }
    }
}

static void test_strerror(void **state)
{
    (void)state;
    int codes[] = {MONEY_OK, MONEY_EOVERFLOW, MONEY_ECURRENCY, MONEY_EINVALID,
                   MONEY_EPARSE};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_non_null(money_strerror(codes[i]));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(money_strerror(codes[i]), money_strerror(codes[j]));
    }
    assert_string_equal(money_strerror(12345), "unknown money error");
    assert_int_equal(MONEY_EOVERFLOW, -30801);
    assert_int_equal(MONEY_EPARSE, -30804);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_currency_exponents),
        cmocka_unit_test(test_currency_refused),
        cmocka_unit_test(test_add_sub_mul_boundaries),
        cmocka_unit_test(test_mul_div),
        cmocka_unit_test(test_round_half_even),
        cmocka_unit_test(test_apply_bps),
        cmocka_unit_test(test_rate_bps_truncates),
        cmocka_unit_test(test_carried_remainder_365_days),
        cmocka_unit_test(test_carry_refused),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
