/* svcloop: see svcloop.h. */
#include "svcloop.h"

#include "log.h"
#include "signals.h"

static void reload_config(svcnet_t *net, svcloop_reload_fn *reload, void *svc)
{
    char msg[1024] = "";
    int rc = reload(svc, msg, sizeof msg);
    svcnet_reloaded(net, rc == 0);
    if (rc == 0) {
        log_event(LOG_INFO, "config_reload", "%s", msg);
        return;
    }
    char quoted[2100];
    log_event(LOG_ERROR, "config_reload_failed", "error=%d reason=%s kept=\"the settings in force\"",
              rc, log_quote(msg, quoted, sizeof quoted));
}

static void reload_keys(zap_t *zap)
{
    char err[512] = "";
    int rc = zap_reload(zap, err, sizeof err);
    char quoted[1100];
    log_event(rc ? LOG_ERROR : LOG_INFO, "keys_reload", "error=%d reason=%s", rc,
              log_quote(rc ? err : "reloaded", quoted, sizeof quoted));
}

static bool go_on(int last_rc)
{
    return last_rc == 0 && !signals_stop_requested();
}

bool svcloop_next(svcnet_t *net, svcloop_reload_fn *reload, void *svc, int last_rc)
{
    if (!go_on(last_rc))
        return false;
    if (signals_take_reload()) {
        if (reload)
            reload_config(net, reload, svc);
        if (svcnet_zap(net))
            reload_keys(svcnet_zap(net));
    }
    return true;
}

bool svcloop_continue(zap_t *zap, int last_rc)
{
    if (!go_on(last_rc))
        return false;
    if (signals_take_reload() && zap)
        reload_keys(zap);
    return true;
}
