/* test_valuation: the recovery curve at and between its points, a portfolio valued by
 * hand (each account half to even, the lines that keep the inputs), the reserve at
 * margins 0, ordinary and a tie, curves refused at load, an unknown band, and an
 * overflow that leaves the valuation as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "valuation.h"

static curves_t curves_fixture(void)
{
    curves_t c = {.version = "2026-q4", .margin_bps = 1500, .curve_count = 2};
    c.curves[0] = (curve_t){.balance_band = "small", .point_count = 3,
                            .points = {{0, 2000}, {180, 1200}, {360, 500}}};
    c.curves[1] = (curve_t){.balance_band = "large", .point_count = 1, .points = {{0, 800}}};
    return c;
}

static int64_t share_at(const curves_t *c, const char *band, int32_t dpd, int32_t want_from)
{
    int64_t bps = -1;
    int32_t from = -1;
    assert_int_equal(valuation_recovery_bps(c, band, dpd, &bps, &from), VALUATION_OK);
    assert_int_equal(from, want_from);
    return bps;
}

static void test_curve(void **state)
{
    (void)state;
    curves_t c = curves_fixture();
    assert_int_equal(share_at(&c, "small", 0, 0), 2000);
    assert_int_equal(share_at(&c, "small", 179, 0), 2000);
    assert_int_equal(share_at(&c, "small", 180, 180), 1200);
    assert_int_equal(share_at(&c, "small", 359, 180), 1200);
    assert_int_equal(share_at(&c, "small", 360, 360), 500);
    assert_int_equal(share_at(&c, "small", 4000, 360), 500);
    assert_int_equal(share_at(&c, "large", 700, 0), 800);
    int64_t bps;
    int32_t from;
    assert_int_equal(valuation_recovery_bps(&c, "medium", 200, &bps, &from), VALUATION_ENOCURVE);
}

static void test_value_and_reserve(void **state)
{
    (void)state;
    curves_t c = curves_fixture();
    valuation_t v;
    valuation_start(&v, &c);
    /* small, DPD 200 -> 1200 bps: 12345 * 0.12 = 1481.4 -> 1481;
     * small, DPD 250 -> 1200 bps: 1250 * 0.12 = 150;
     * small, DPD 100 -> 2000 bps: 2 * 0.2 = 0.4 -> 0;
     * large, DPD 400 -> 800 bps: 1000000 * 0.08 = 80000;
     * large, DPD 90 -> 800 bps: 6250 * 0.08 = 500. */
    assert_int_equal(valuation_add(&v, &c, "small", 200, 12345), VALUATION_OK);
    assert_int_equal(valuation_add(&v, &c, "small", 250, 1250), VALUATION_OK);
    assert_int_equal(valuation_add(&v, &c, "small", 100, 2), VALUATION_OK);
    assert_int_equal(valuation_add(&v, &c, "large", 400, 1000000), VALUATION_OK);
    assert_int_equal(valuation_add(&v, &c, "large", 90, 6250), VALUATION_OK);
    assert_int_equal(valuation_finish(&v), VALUATION_OK);
    assert_string_equal(v.version, "2026-q4");
    assert_int_equal(v.accounts, 5);
    assert_int_equal(v.outstanding_minor, 12345 + 1250 + 2 + 1000000 + 6250);
    assert_int_equal(v.value_minor, 1481 + 150 + 0 + 80000 + 500);
    /* reserve = 82131 - 15% of it (12319.65 -> 12320) = 69811. */
    assert_int_equal(v.reserve_minor, 82131 - 12320);
    /* Three lines: (small, 180), (small, 0), (large, 0), in the order first met. */
    assert_int_equal(v.line_count, 3);
    assert_string_equal(v.lines[0].balance_band, "small");
    assert_int_equal(v.lines[0].from_dpd, 180);
    assert_int_equal(v.lines[0].recovery_bps, 1200);
    assert_int_equal(v.lines[0].accounts, 2);
    assert_int_equal(v.lines[0].outstanding_minor, 13595);
    assert_int_equal(v.lines[0].expected_minor, 1631);
    assert_int_equal(v.lines[1].from_dpd, 0);
    assert_int_equal(v.lines[1].expected_minor, 0);
    assert_string_equal(v.lines[2].balance_band, "large");
    assert_int_equal(v.lines[2].accounts, 2);
    assert_int_equal(v.lines[2].expected_minor, 80500);
    /* The lines add up to the value: the inputs redo the sum. */
    int64_t sum = 0;
    for (size_t i = 0; i < v.line_count; i++)
        sum += v.lines[i].expected_minor;
    assert_int_equal(sum, v.value_minor);
}

static void test_reserve_rounding(void **state)
{
    (void)state;
    curves_t c = curves_fixture();
    valuation_t v;
    /* margin 0: the reserve is the value. */
    c.margin_bps = 0;
    valuation_start(&v, &c);
    assert_int_equal(valuation_add(&v, &c, "large", 0, 12500), VALUATION_OK);   /* 1000 */
    assert_int_equal(valuation_finish(&v), VALUATION_OK);
    assert_int_equal(v.reserve_minor, 1000);
    /* 5 bps of 1000 = 0.5 -> 0 (half to even): reserve 1000; of 3000 = 1.5 -> 2. */
    c.margin_bps = 5;
    valuation_start(&v, &c);
    assert_int_equal(valuation_add(&v, &c, "large", 0, 12500), VALUATION_OK);
    assert_int_equal(valuation_finish(&v), VALUATION_OK);
    assert_int_equal(v.reserve_minor, 1000);
    valuation_start(&v, &c);
    assert_int_equal(valuation_add(&v, &c, "large", 0, 37500), VALUATION_OK);   /* 3000 */
    assert_int_equal(valuation_finish(&v), VALUATION_OK);
    assert_int_equal(v.reserve_minor, 2998);
}

static void test_errors_change_nothing(void **state)
{
    (void)state;
    curves_t c = curves_fixture();
    valuation_t v, before;
    valuation_start(&v, &c);
    assert_int_equal(valuation_add(&v, &c, "small", 10, INT64_MAX - 10), VALUATION_OK);
    memcpy(&before, &v, sizeof v);
    assert_int_equal(valuation_add(&v, &c, "small", 10, 100), VALUATION_EOVERFLOW);
    assert_memory_equal(&v, &before, sizeof v);
    assert_int_equal(valuation_add(&v, &c, "medium", 10, 100), VALUATION_ENOCURVE);
    assert_memory_equal(&v, &before, sizeof v);
    /* A new line refused by overflow is not left half-made either. */
    assert_int_equal(valuation_add(&v, &c, "small", 400, 100), VALUATION_EOVERFLOW);
    assert_int_equal(v.line_count, 1);
}

static void assert_curves_refused(curves_t c, const char *want_prefix)
{
    char why[200] = "";
    assert_int_equal(valuation_curves_check(&c, why, sizeof why), VALUATION_EINVALID);
    assert_memory_equal(why, want_prefix, strlen(want_prefix));
}

static void test_curves_check(void **state)
{
    (void)state;
    char why[200];
    curves_t c = curves_fixture();
    assert_int_equal(valuation_curves_check(&c, why, sizeof why), VALUATION_OK);
    c.version[0] = '\0';
    assert_curves_refused(c, "the curves need a version");
    c = curves_fixture();
    c.margin_bps = VALUATION_MAX_MARGIN_BPS + 1;
    assert_curves_refused(c, "margin_bps is 0 .. 9000");
    c.margin_bps = -1;
    assert_curves_refused(c, "margin_bps is 0 .. 9000");
    c = curves_fixture();
    c.curves[0].points[0].from_dpd = 30;
    assert_curves_refused(c, "a curve's first point is at DPD 0: small");
    c = curves_fixture();
    c.curves[0].points[2].from_dpd = 180;
    assert_curves_refused(c, "a curve's points rise strictly by DPD: small");
    c = curves_fixture();
    c.curves[1].points[0].recovery_bps = 10001;
    assert_curves_refused(c, "a recovery share is 0 .. 10000 bps: large");
    c = curves_fixture();
    strcpy(c.curves[1].balance_band, "small");
    assert_curves_refused(c, "two curves for one balance band: small");
    c = curves_fixture();
    c.curves[1].point_count = 0;
    assert_curves_refused(c, "a curve needs 1 to 16 points: large");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curve),
        cmocka_unit_test(test_value_and_reserve),
        cmocka_unit_test(test_reserve_rounding),
        cmocka_unit_test(test_errors_change_nothing),
        cmocka_unit_test(test_curves_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
