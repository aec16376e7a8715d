/* svcloop: the condition every service process loops on — go on while the last step
 * succeeded and no stop was asked for; on SIGHUP re-read the keys file first and say in
 * the log whether it took (a bad keys file keeps the keys in force, and says why). */
#ifndef ARREARS_SVCLOOP_H
#define ARREARS_SVCLOOP_H

#include <stdbool.h>

#include "zap.h"

/* while (svcloop_continue(zap, rc)) rc = step(...); */
bool svcloop_continue(zap_t *zap, int last_rc);

#endif
