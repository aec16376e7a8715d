/* svcloop: see svcloop.h. */
#include "svcloop.h"

#include "log.h"
#include "signals.h"

bool svcloop_continue(zap_t *zap, int last_rc)
{
    if (last_rc != 0 || signals_stop_requested())
        return false;
    if (signals_take_reload() && zap) {
        char err[512] = "";
        int rc = zap_reload(zap, err, sizeof err);
        char quoted[1100];
        log_event(rc ? LOG_ERROR : LOG_INFO, "keys_reload", "error=%d reason=%s", rc,
                  log_quote(rc ? err : "reloaded", quoted, sizeof quoted));
    }
    return true;
}
