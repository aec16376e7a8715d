/* test_svcloop: the service loop's condition — it stops on a failed step and on a stop
 * request, and a reload request is taken (once) on the way, without stopping. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "signals.h"
#include "svcloop.h"

static void test_goes_on_until_a_step_fails(void **state)
{
    (void)state;
    signals_install();
    assert_true(svcloop_continue(NULL, 0));
    assert_false(svcloop_continue(NULL, -1));
}

static void test_reload_is_taken_without_stopping(void **state)
{
    (void)state;
    signals_install();
    raise(SIGHUP);
    assert_true(svcloop_continue(NULL, 0));
    assert_false(signals_take_reload());   /* taken by the loop, once */
}

static void test_stops_when_asked(void **state)
{
    (void)state;
    signals_install();
    raise(SIGTERM);
    assert_false(svcloop_continue(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goes_on_until_a_step_fails),
        cmocka_unit_test(test_reload_is_taken_without_stopping),
        cmocka_unit_test(test_stops_when_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
