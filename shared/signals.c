/* signals: see signals.h. */
#include "signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

static void on_stop(int sig) { (void)sig; stop_flag = 1; }
static void on_reload(int sig) { (void)sig; reload_flag = 1; }

static void install(int sig, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

void signals_install(void)
{
    install(SIGTERM, on_stop);
    install(SIGINT, on_stop);
    install(SIGHUP, on_reload);
    signal(SIGPIPE, SIG_IGN);
}

bool signals_stop_requested(void) { return stop_flag != 0; }

bool signals_take_reload(void)
{
    if (!reload_flag)
        return false;
    reload_flag = 0;
    return true;
}
