/* spool: the file-spool channel adapter (the embedded default) — and the channel's own
 * record, which is what makes "never twice" checkable. Every delivery is one file,
 *   <dir>/<channel>/<idempotency key, percent-encoded>.json
 * holding the task as the broker leased it (its JSON form: to, text, template, profile,
 * time zone...), the instant it was sent (the lease clock in a simulation), the worker
 * and the result. The file is written to a temporary name, synced and then linked into
 * place, which fails if the key is already there: so a key is delivered at most once
 * whatever workers race, and a look-up by key (after a lost lease) says for sure whether
 * it went. spool_commit() syncs the folders once for a lease's worth of deliveries,
 * before the worker reports them.
 *
 * A letter is also rendered beside its record as <key>.pdf (letter.h), the print spool a
 * person prints from; it is in place before the record is linked.
 *
 * Calls and visits go to the same spool as the call log: on a simulated clock (and as
 * the scripted voice robot for first contact) the outcome is drawn from (seed, account,
 * contact id) — the same whatever worker takes it (DESIGN.md "Time"). */
#ifndef ARREARS_OUTREACH_SPOOL_H
#define ARREARS_OUTREACH_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "envelope.h"

#define SPOOL_PATH_MAX 1024

enum {
    SPOOL_OK = 0,
    SPOOL_EIO = -31401,        /* the spool cannot be written or read (errno in the log) */
    SPOOL_EEXISTS = -31402,    /* the key was delivered before: nothing written */
    SPOOL_ENAME = -31403,      /* the path would exceed SPOOL_PATH_MAX */
};

typedef struct {
    Arrears__ContactResult result;
    int64_t promise_amount_minor;   /* PROMISE_TO_PAY */
    char promise_date[11];          /* "YYYY-MM-DD" */
    bool opt_out_reply;             /* an SMS answered STOP */
} spool_outcome_t;

typedef struct spool spool_t;

/* Creates the folders when missing. NULL with errno when it cannot. */
spool_t *spool_new(const char *dir, uint64_t seed);
void spool_destroy(spool_t **self_p);

/* What comes of sending task at at_ms: a delivery, or the call's or visit's outcome. */
void spool_outcome(const spool_t *self, const Arrears__Task *task, int64_t at_ms,
                   spool_outcome_t *out);

/* Writes the delivery record of task, sent at at_ms by worker with outcome. The record's
 * path goes to ref (for the report's channel_ref). SPOOL_EEXISTS when the key is there. */
int spool_deliver(spool_t *self, const Arrears__Task *task, int64_t at_ms, const char *worker,
                  const spool_outcome_t *outcome, char *ref, size_t ref_cap);

/* Makes the names of the records delivered since the last commit durable (one sync of
 * each channel folder written): call before reporting them. */
int spool_commit(spool_t *self);

/* The journal of an attempt on an external channel (channel.h): a durable marker named
 * by the key, written before the send; removed when the channel surely took nothing. */
int spool_mark(spool_t *self, const Arrears__Task *task);
int spool_unmark(spool_t *self, const Arrears__Task *task);
int spool_marked(spool_t *self, const Arrears__Task *task, bool *yes);

/* Whether the key of task was delivered: *found, with the recorded result and instant. */
int spool_lookup(spool_t *self, const Arrears__Task *task, bool *found,
                 Arrears__ContactResult *result, int64_t *at_ms);

const char *spool_strerror(int code);

#endif
