/* health: the Health reply a service with outboxes gives (envelope.proto Health): how
 * long it has run, what it sent that is not acknowledged, its dead letters, what it
 * ever appended (a simulation driver's "did anything move"), and when it next has work
 * of its own. */
#ifndef ARREARS_HEALTH_H
#define ARREARS_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "aclock.h"
#include "outbox.h"

typedef struct {
    const char *service;
    int64_t started_ms;            /* aclock_monotonic_ms() at start */
    uint64_t unacked;              /* sent and not yet acknowledged, every peer */
    outbox_t *const *outboxes;
    size_t outbox_count;
    int64_t next_due_ms;           /* the service's next work; INT64_MAX: none known */
    const aclock_t *clock;         /* next work is never before its now */
} health_t;

/* Packs the reply (request_id echoed) into buf; 0 when it does not fit. */
size_t health_reply(const health_t *h, MDB_txn *txn, uint64_t request_id, uint8_t *buf,
                    size_t cap);

#endif
