/* account_fx: what account.c, outcome.c and evaluate.c share inside the account module:
 * building effects, and re-deciding the stage after something changed the book. Not
 * for use outside the module. */
#ifndef ARREARS_STAGING_ACCOUNT_FX_H
#define ARREARS_STAGING_ACCOUNT_FX_H

#include "account.h"

effect_t *fx_push(effects_t *fx, effect_kind_t kind, const account_t *self, int32_t day,
                  const char *actor);
/* A timeline entry; what is a static string (the entry's kind). */
void fx_entry(effects_t *fx, const account_t *self, int32_t day, const char *actor,
              const char *what, int64_t amount_minor, const char *reference,
              const char *fmt, ...) __attribute__((format(printf, 8, 9)));
void fx_status(effects_t *fx, const account_t *self, int32_t day, int feed_kind,
               int64_t amount_minor, const char *reference, const char *detail);
/* News for the peer that held the account before the change (stage_was legal: legal,
 * a CaseNotice; stage_was sale: sale, a SaleNotice), in that peer's kind. Nothing when
 * no peer held it, when actor is that peer (a peer is never told its own news), or when
 * the peer has no word for the news (sale hears of no complaint, legal of no
 * ineligibility: legal re-checks at referral only). */
void fx_notice(effects_t *fx, const account_t *self, stage_t stage_was, int32_t day,
               const char *actor, news_t news, int64_t amount_minor, const char *reference,
               const char *detail);
/* A ContactCancel, when requests are out. */
void fx_cancel(effects_t *fx, account_t *self, int32_t day, const char *reason);
/* A ContactRequest for action (it lives as long as the strategy, or is static), with
 * the account's next contact id as its reference; the caller writes the entry. */
effect_t *fx_contact(effects_t *fx, account_t *self, int32_t day,
                     const strategy_action_t *action);

/* DPD and the stage it gives, after a payment, a new schedule or a returned case:
 * moves a DPD stage (or closes a paid account), with its entry and status event. */
void account_restage(account_t *self, const account_policy_t *policy, int32_t today_day,
                     int64_t now_ms, effects_t *fx);
/* Moves the account by event (a stage.h event), with an entry of kind what. false when
 * the move is illegal (reason then says why). */
bool account_move(account_t *self, const account_policy_t *policy, stage_event_kind_t kind,
                  int32_t today_day, int64_t now_ms, const char *actor, const char *what,
                  effects_t *fx, char *reason, size_t reason_len);
/* The timeline entries of an arrangement decision: the lapse it found first (named by
 * before, the kind the arrangement had before the call), then the decision as what
 * (NULL: the lapse only). */
void account_note_decision(account_t *self, arrangement_kind_t before,
                           const arrangement_decision_t *decision, int32_t today_day,
                           const char *actor, const char *what, int64_t amount_minor,
                           effects_t *fx);

#endif
