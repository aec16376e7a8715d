/* health: see health.h. */
#include "health.h"

#include "envelope.h"

size_t health_reply(const health_t *h, MDB_txn *txn, uint64_t request_id, uint8_t *buf,
                    size_t cap)
{
    Arrears__Health m = ARREARS__HEALTH__INIT;
    m.service = (char *)h->service;
    m.has_uptime_ms = m.has_outbox_unacked = 1;
    m.uptime_ms = (uint64_t)(aclock_monotonic_ms() - h->started_ms);
    m.outbox_unacked = h->unacked;
    m.has_dead_letters = m.has_outbox_appended = 1;
    for (size_t i = 0; i < h->outbox_count; i++) {
        outbox_state_t o;
        if (outbox_state(h->outboxes[i], txn, &o) != 0) {
            m.has_dead_letters = m.has_outbox_appended = 0;   /* unknown, not zero */
            break;
        }
        m.dead_letters += o.dead_letters;
        m.outbox_appended += o.last_seq;
    }
    if (h->next_due_ms != INT64_MAX) {
        int64_t now = aclock_now_ms(h->clock);
        m.has_next_work_ms = 1;
        m.next_work_ms = h->next_due_ms > now ? h->next_due_ms : now;
    }
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_HEALTH;
    env.health = &m;
    return envelope_pack_reply(&env, request_id, buf, cap);
}
