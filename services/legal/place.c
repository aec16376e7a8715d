/* place: offering cases to firms and agencies, and taking them back — an offer not
 * accepted by its deadline, a recall after too long without progress, a case handed
 * back — then placing them again (the rules are assign.c's). */
#include "legal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static int set_string(char **field, const char *value)
{
    char *copy = strdup(value ? value : "");
    if (!copy)
        return ENOMEM;
    free(*field);   /* unpacked strings are the case's own */
    *field = copy;
    return 0;
}

/* Offers the case to the assignee assign_choose picked. */
static int offer(legal_t *self, MDB_txn *txn, StoredCase *c, const assignee_t *a,
                 const char *why, int64_t now_ms)
{
    int rc = set_string(&c->assignee, a->principal);
    rc = rc ? rc : set_string(&c->waiting_reason, "");
    c->has_offered_ms = c->has_due_ms = 1;
    c->offered_ms = now_ms;
    c->due_ms = now_ms + (int64_t)a->accept_deadline_days * ASSIGN_DAY_MS;
    StoredStep s = legal_step(now_ms, c->status, "legal", "offered", a->principal, why);
    rc = rc ? rc : legal_add_step(c, &s);
    rc = rc ? rc : legal_tell_staging(self, txn, c, &s, false);
    log_event(LOG_INFO, "case_offered", "case=%s assignee=%s error=%d", c->case_id,
              a->principal, rc);
    return rc;
}

/* Records why nobody can take the case now; false when that was already on record. */
static bool note_waiting(legal_t *self, MDB_txn *txn, StoredCase *c, const char *why,
                         int64_t now_ms, int *rc)
{
    if (c->waiting_reason && strcmp(c->waiting_reason, why) == 0)
        return false;
    *rc = set_string(&c->waiting_reason, why);
    StoredStep s = legal_step(now_ms, c->status, "legal", "waiting", NULL, why);
    *rc = *rc ? *rc : legal_add_step(c, &s);
    *rc = *rc ? *rc : legal_tell_staging(self, txn, c, &s, false);
    log_event(LOG_WARN, "case_waiting", "case=%s error=%d", c->case_id, *rc);
    return true;
}

int legal_place(legal_t *self, MDB_txn *txn, StoredCase *before, StoredCase *after)
{
    const legal_config_t *cfg = self->cfg;
    uint32_t open[ASSIGN_MAX_ASSIGNEES];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < cfg->assignee_count; i++)
        rc = cases_open_count(self->cases, txn, cfg->assignees[i].principal, &open[i]);
    if (rc != 0)
        return rc;
    assign_case_t ac = {
        .jurisdiction = after->jurisdiction, .product = after->product,
        .outstanding_minor = after->outstanding_minor,
        .firm_from_minor = legal_firm_from_minor(cfg, after->currency),
        .tried_count = after->n_tried, .tried = (const char *const *)after->tried,
    };
    char why[ASSIGN_REASON_MAX];
    int chosen = assign_choose(cfg->assignees, cfg->assignee_count, open, &ac, why, sizeof why);
    int64_t now = aclock_now_ms(self->clock);
    if (chosen >= 0)
        rc = offer(self, txn, after, &cfg->assignees[chosen], why, now);
    else if (!note_waiting(self, txn, after, why, now, &rc) && before)
        return rc;   /* still waiting for the same reason: nothing to save */
    return rc ? rc : cases_save(self->cases, txn, before, after);
}

/* The assignee loses the case (what: "deadline_passed", "recalled", "handed_back"); the
 * case is REFERRED and without an assignee again, ready for legal_place. */
int legal_take_back(legal_t *self, MDB_txn *txn, StoredCase *c, const char *what,
                    const char *detail)
{
    char *had = c->assignee;
    int rc = 0;
    if (c->status != ARREARS__CASE_STATUS__REFERRED)   /* accepted: it held the account */
        rc = legal_tell_outreach(self, txn, c, had, false);
    if (c->n_tried >= ASSIGN_MAX_TRIED) {   /* forget the oldest: it may be asked again */
        free(c->tried[0]);
        memmove(c->tried, c->tried + 1, (c->n_tried - 1) * sizeof *c->tried);
        c->n_tried--;
    }
    char **tried = rc ? NULL : realloc(c->tried, (c->n_tried + 1) * sizeof *tried);
    if (!tried)
        return rc ? rc : ENOMEM;
    c->tried = tried;
    c->tried[c->n_tried++] = had;   /* the string moves from assignee to tried */
    c->assignee = NULL;
    c->status = ARREARS__CASE_STATUS__REFERRED;
    StoredStep s = legal_step(aclock_now_ms(self->clock), c->status, "legal", what, had, detail);
    c->has_recalls = c->has_due_ms = 1;
    c->recalls += strcmp(what, "handed_back") != 0;
    c->due_ms = 0;
    c->accepted_ms = 0;
    rc = set_string(&c->assignee, "");
    rc = rc ? rc : legal_add_step(c, &s);
    rc = rc ? rc : legal_tell_staging(self, txn, c, &s, false);
    log_event(LOG_INFO, "case_taken_back", "case=%s assignee=%s what=%s error=%d", c->case_id,
              had, what, rc);
    return rc;
}

/* ---------------------------------------------------------------- the sweep */

/* One case whose due instant came: an offer's deadline or a recall check. */
static int sweep_due(legal_t *self, MDB_txn *txn, const char *id, int64_t now_ms, bool *moved)
{
    StoredCase *before = NULL, *after = NULL;
    int rc = cases_get(self->cases, txn, id, &before);
    rc = rc ? rc : cases_get(self->cases, txn, id, &after);
    if (rc == 0 && (!before || !after))
        rc = CASES_ECORRUPT;
    const assignee_t *a = rc ? NULL : legal_assignee(self, after->assignee);
    placement_t p = {.status = rc ? 0 : (case_status_t)after->status};
    int64_t due = INT64_MAX;
    placement_action_t act = PLACEMENT_RECALL;   /* an assignee no longer configured */
    if (a) {
        p.offered_ms = after->offered_ms;
        p.last_progress_ms = after->last_progress_ms;
        act = assign_due(a, &p, now_ms, &due);
    }
    char detail[160];
    snprintf(detail, sizeof detail, "%s", !a ? "the assignee is no longer configured"
                                     : act == PLACEMENT_DEADLINE_PASSED ? "not accepted by the deadline"
                                                                        : "no progress within the recall period");
    /* Taking the case back tells its shard (and outreach): while their outboxes are
     * full it stays due, for a later sweep. */
    bool room = rc == 0 && act != PLACEMENT_KEEP &&
                legal_has_room(self, txn, after->staging_shard, &rc);
    if (rc == 0 && act == PLACEMENT_KEEP) {   /* progress moved the check: file it again */
        after->due_ms = due == INT64_MAX ? 0 : due;
        rc = cases_save(self->cases, txn, before, after);
    } else if (room) {
        rc = legal_take_back(self, txn, after,
                             act == PLACEMENT_DEADLINE_PASSED ? "deadline_passed" : "recalled",
                             detail);
        rc = rc ? rc : legal_place(self, txn, before, after);
        *moved = true;
    }
    arrears__stored_case__free_unpacked(before, NULL);
    arrears__stored_case__free_unpacked(after, NULL);
    return rc;
}

/* Tries waiting cases from where the last sweep stopped, so none is starved behind
 * cases nobody can take. */
static int sweep_waiting(legal_t *self, MDB_txn *txn, size_t max, size_t *moved)
{
    uint64_t cursor = 0;
    int rc = cases_meta_get(self->cases, txn, "waiting_cursor", 0, &cursor);
    char after_id[CASES_ID_MAX + 1] = "";
    if (cursor > 0 && !cases_id_of(cursor, after_id))
        after_id[0] = '\0';   /* a cursor past every id: start again at the oldest */
    char (*ids)[CASES_ID_MAX + 1] = malloc((max ? max : 1) * sizeof *ids);
    size_t n = 0;
    rc = rc ? rc : ids ? cases_waiting(self->cases, txn, after_id, max, ids, &n) : ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        StoredCase *before = NULL, *after = NULL;
        rc = cases_get(self->cases, txn, ids[i], &before);
        rc = rc ? rc : cases_get(self->cases, txn, ids[i], &after);
        rc = rc ? rc : (!before || !after) ? CASES_ECORRUPT : 0;
        /* Placing tells the case's shard: while its outbox is full the case waits on. */
        if (rc == 0 && legal_has_room(self, txn, after->staging_shard, &rc))
            rc = legal_place(self, txn, before, after);
        *moved += rc == 0 && after->assignee && *after->assignee ? 1 : 0;
        arrears__stored_case__free_unpacked(before, NULL);
        arrears__stored_case__free_unpacked(after, NULL);
        cursor = strtoull(ids[i] + 1, NULL, 10);
    }
    if (rc == 0)   /* a short page reached the end: the next sweep starts at the oldest */
        rc = cases_meta_put(self->cases, txn, "waiting_cursor", n < max ? 0 : cursor);
    free(ids);
    return rc;
}

int legal_sweep(legal_t *self, MDB_txn *txn, size_t *moved)
{
    size_t max = self->limits.sweep_max, n = 0;
    *moved = 0;
    char (*ids)[CASES_ID_MAX + 1] = malloc(max * sizeof *ids);
    int64_t now = aclock_now_ms(self->clock);
    int rc = ids ? cases_due(self->cases, txn, now, max, ids, &n) : ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool changed = false;
        rc = sweep_due(self, txn, ids[i], now, &changed);
        *moved += changed;
    }
    free(ids);
    return rc ? rc : sweep_waiting(self, txn, max > n ? max - n : 0, moved);
}
