/* signals: the two requests an operator sends a running service — stop (SIGTERM,
 * SIGINT) and reload config and keys (SIGHUP) — turned into flags the service loop
 * reads between batches, so no work is ever cut in half by a handler. */
#ifndef ARREARS_SIGNALS_H
#define ARREARS_SIGNALS_H

#include <stdbool.h>

void signals_install(void);
bool signals_stop_requested(void);
/* True once per SIGHUP received since the last call. */
bool signals_take_reload(void);

#endif
