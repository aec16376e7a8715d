/* Unit tests for shared/aclock: the wall clock tracks CLOCK_REALTIME and refuses to
 * be advanced; the simulated clock moves only forward and only when told; the
 * monotonic clock moves on its own. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "aclock.h"

/* 2026-11-24T00:00:00Z */
#define START_MS INT64_C(1795478400000)

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void test_wall(void **state)
{
    (void)state;
    aclock_t *clock = aclock_new_wall();
    assert_non_null(clock);
    assert_false(aclock_is_simulated(clock));

    int64_t before_s = time(NULL);
    int64_t now_ms = aclock_now_ms(clock);
    int64_t after_s = time(NULL);
    assert_true(now_ms >= before_s * 1000 && now_ms < (after_s + 1) * 1000);

    int64_t t0 = aclock_now_ms(clock);
    sleep_ms(20);
    assert_true(aclock_now_ms(clock) >= t0 + 15); /* the wall may be slewed a little */

    assert_int_equal(aclock_advance_to(clock, now_ms + 3600000), ACLOCK_EWALL);
    assert_true(aclock_now_ms(clock) < now_ms + 3600000);

    aclock_destroy(&clock);
    assert_null(clock);
    aclock_destroy(&clock); /* destroying a nulled handle is harmless */
}

static void test_simulated(void **state)
{
    (void)state;
    aclock_t *clock = aclock_new_simulated(START_MS);
    assert_non_null(clock);
    assert_true(aclock_is_simulated(clock));
    assert_true(aclock_now_ms(clock) == START_MS);

    /* Real time passing does not move it. */
    sleep_ms(5);
    assert_true(aclock_now_ms(clock) == START_MS);

    assert_int_equal(aclock_advance_to(clock, START_MS + 3600000), ACLOCK_OK);
    assert_true(aclock_now_ms(clock) == START_MS + 3600000);
    /* Equal: an OK no-op. */
    assert_int_equal(aclock_advance_to(clock, START_MS + 3600000), ACLOCK_OK);
    assert_true(aclock_now_ms(clock) == START_MS + 3600000);
    /* Backwards, even by one millisecond: refused, the clock stays. */
    assert_int_equal(aclock_advance_to(clock, START_MS + 3599999), ACLOCK_EBACKWARDS);
    assert_int_equal(aclock_advance_to(clock, INT64_MIN), ACLOCK_EBACKWARDS);
    assert_true(aclock_now_ms(clock) == START_MS + 3600000);
    assert_int_equal(aclock_advance_to(clock, INT64_MAX), ACLOCK_OK);
    assert_true(aclock_now_ms(clock) == INT64_MAX);

    aclock_destroy(&clock);
    assert_null(clock);
}

static void test_simulated_before_epoch(void **state)
{
    (void)state;
    aclock_t *clock = aclock_new_simulated(-86400000);
    assert_true(aclock_now_ms(clock) == -86400000);
    assert_int_equal(aclock_advance_to(clock, 0), ACLOCK_OK);
    assert_true(aclock_now_ms(clock) == 0);
    aclock_destroy(&clock);
}

static void test_monotonic(void **state)
{
    (void)state;
    int64_t t0 = aclock_monotonic_ms();
    assert_true(t0 >= 0);
    sleep_ms(20);
    int64_t t1 = aclock_monotonic_ms();
    assert_true(t1 - t0 >= 20);
    assert_true(t1 - t0 < 10000);
    for (int i = 0; i < 1000; i++) {
        int64_t t = aclock_monotonic_ms();
        assert_true(t >= t1);
        t1 = t;
    }
}

enum { ADVANCES = 20000 };

static void *advance_thread(void *arg)
{
    aclock_t *clock = arg;
    for (int64_t i = 1; i <= ADVANCES; i++)
        if (aclock_advance_to(clock, START_MS + i) != ACLOCK_OK)
            return (void *)1;
    return NULL;
}

/* A reader on another thread must see time only move forward. */
static void test_concurrent_readers(void **state)
{
    (void)state;
    aclock_t *clock = aclock_new_simulated(START_MS);
    pthread_t driver;
    assert_int_equal(pthread_create(&driver, NULL, advance_thread, clock), 0);
    int64_t last = START_MS;
    while (last < START_MS + ADVANCES) {
        int64_t now = aclock_now_ms(clock);
        assert_true(now >= last && now <= START_MS + ADVANCES);
        last = now;
    }
    void *result = (void *)2;
    assert_int_equal(pthread_join(driver, &result), 0);
    assert_null(result);
    aclock_destroy(&clock);
}

static void test_for_service_resumes_at_the_later_instant(void **state)
{
    (void)state;
    aclock_t *c = aclock_new_for_service(true, 1000, 5000);   /* restarted after 5000 */
    assert_true(aclock_is_simulated(c));
    assert_true(aclock_now_ms(c) == 5000);
    aclock_destroy(&c);
    c = aclock_new_for_service(true, 1000, 0);                /* first start */
    assert_true(aclock_now_ms(c) == 1000);
    aclock_destroy(&c);
    c = aclock_new_for_service(false, 1000, 5000);
    assert_false(aclock_is_simulated(c));
    aclock_destroy(&c);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(aclock_strerror(ACLOCK_OK), "success");
    assert_string_equal(aclock_strerror(ACLOCK_EWALL), "the wall clock cannot be advanced");
    assert_string_equal(aclock_strerror(ACLOCK_EBACKWARDS),
                        "the clock cannot go back in time");
    assert_string_equal(aclock_strerror(-1), "unknown clock error");
    assert_int_equal(ACLOCK_EWALL, -31101);
    assert_int_equal(ACLOCK_EBACKWARDS, -31102);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wall),
        cmocka_unit_test(test_simulated),
        cmocka_unit_test(test_simulated_before_epoch),
        cmocka_unit_test(test_monotonic),
        cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_for_service_resumes_at_the_later_instant),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
