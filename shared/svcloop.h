/* svcloop: the condition every service process loops on — go on while the last step
 * succeeded and no stop was asked for; on SIGHUP re-read the configuration file (when
 * the service can) and the keys file first, and say in the log whether each took (a
 * refused file keeps what is in force, and says why with file:line). */
#ifndef ARREARS_SVCLOOP_H
#define ARREARS_SVCLOOP_H

#include <stdbool.h>
#include <stddef.h>

#include "svcnet.h"
#include "zap.h"

/* Re-reads the service's configuration file and applies what may change while it runs.
 * Returns 0 with msg holding what it did as key=value pairs ("log_level=debug
 * ignored=listen"), or an error with msg saying why the file was refused (file:line):
 * then every setting in force stays. */
typedef int (svcloop_reload_fn)(void *svc, char *msg, size_t len);

/* while (svcloop_next(net, reload, svc, rc)) rc = step(...);  reload may be NULL (keys
 * only); reloads are counted in net's metrics. */
bool svcloop_next(svcnet_t *net, svcloop_reload_fn *reload, void *svc, int last_rc);

/* The same for a loop with keys and no configuration reload or metrics. */
bool svcloop_continue(zap_t *zap, int last_rc);

#endif
