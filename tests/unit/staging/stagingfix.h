/* stagingfix: staging in process, as its unit tests drive it — a staging_t with one
 * policy (a strategy and a limitation rule from text, the usual test waterfall, cap and
 * response days), a tz cache, a simulated clock, and its book and outboxes on a store in
 * a temporary directory (svctest), the outboxes to legal, sale and outreach sealed as
 * staging's main seals them. A test adds what is its own (a retention rule on
 * app.policies[0], the outbox marks it reads from) around it. */
#ifndef ARREARS_STAGINGFIX_H
#define ARREARS_STAGINGFIX_H

#include <stdint.h>

#include "conf.h"
#include "staging.h"
#include "svctest.h"

typedef struct {
    char dir[SVCTEST_DIR_MAX];
    store_t *store;
    crypt_t *crypt;
    conf_t *conf;
    strategy_t *strategy;
    limitation_rules_t limitation;
    staging_t app;
    reject_t reject;
} stagingfix_t;

/* The outboxes' names, in staging_outbox_t order. */
extern const char *const stagingfix_outboxes[STAGING_OUTBOXES];

/* 0, or -1 with what failed on stderr; stagingfix_close cleans up either way. */
int stagingfix_open(stagingfix_t *self, const char *name, const char *strategy,
                    const char *limitation, int64_t now_ms);
/* Everything open; the directory removed. */
int stagingfix_close(stagingfix_t *self);
/* staging_apply in a write transaction, from principal with role; a refusal (its reason
 * in self->reject) commits nothing of its own. The apply's code. */
int stagingfix_apply(stagingfix_t *self, const char *principal, const char *role,
                     const Arrears__Envelope *env);
/* intake's upload of account A-1 of platform-a: CNY, opened 2025-06-01, one instalment
 * of 100000 due 2026-03-20; its borrower in Asia/Shanghai with a verified, consented
 * phone and the address when not NULL. Fails the test when staging refuses it. */
void stagingfix_upload(stagingfix_t *self, const char *phone, Arrears__Address *address);

#endif
