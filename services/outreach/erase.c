/* erase: an account's personal data leaves the broker at the end of its retention
 * (account.proto PersonalDataErased; broker.h broker_erase). What the broker keeps is
 * the anonymized record its report and the conduct rules are made from: each task's
 * state, channel, template, stage, figures, gate decisions and result, the contact
 * ledger and what it knows of a person (flags and instants, keyed by staging's person
 * key hash). What it erases is in the tasks: the request's borrower (name, phones,
 * e-mails, address, language), the point an attempt used and the detail reported.
 *
 * Not erased here: the contact point index (outreach.points) holds hashes of points,
 * linked to the person: it is how an opt-out by text or e-mail is honoured for the
 * person's other accounts, which a hash-only link serves without the point itself. A
 * worker's spool (spool.h) is the channel's own record of what was delivered — as an
 * SMS gateway's or a mail server's log is — and keeps its own retention: workers hold
 * no state per account, so the broker has nothing to tell them. */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "erasure.h"
#include "log.h"

#define ERASE_PAGE 32   /* task ids read at a time */

static void drop_points(ContactPoint ***points, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        arrears__contact_point__free_unpacked((*points)[i], NULL);
    free(*points);
    *points = NULL;
    *n = 0;
}

/* The borrower out of the request as staging sent it; whether anything was left. */
static int erase_request(ContactRequest *r)
{
    bool had = r->n_phones || r->n_emails || r->address || r->language;
    drop_points(&r->phones, &r->n_phones);
    drop_points(&r->emails, &r->n_emails);
    arrears__address__free_unpacked(r->address, NULL);
    r->address = NULL;
    free(r->language);
    r->language = NULL;
    int name = erasure_replace(&r->borrower_name);
    return name < 0 ? -1 : had || name > 0;
}

/* Replaces text with the marker when it holds any. */
static int erase_text(char **text)
{
    return *text && **text ? erasure_replace(text) : 0;
}

static int erase_task(broker_t *self, MDB_txn *txn, const char *id, const char *account_ref,
                      bool *changed)
{
    StoredTask *before = NULL, *after = NULL;
    int rc = tasks_get(self->tasks, txn, id, &before);
    rc = rc ? rc : tasks_get(self->tasks, txn, id, &after);
    /* The prefix of account "A" also finds account "A#1"'s tasks: they are not its. */
    bool its = rc == 0 && after && after->request && after->request->account_ref &&
               strcmp(after->request->account_ref, account_ref) == 0;
    int request = its ? erase_request(after->request) : 0;
    int point = its ? erase_text(&after->point) : 0;
    int detail = its ? erase_text(&after->detail) : 0;
    if (rc == 0 && (request < 0 || point < 0 || detail < 0))
        rc = ENOMEM;
    *changed = rc == 0 && (request > 0 || point > 0 || detail > 0);
    rc = rc || !*changed ? rc : tasks_save(self->tasks, txn, id, before, after);
    arrears__stored_task__free_unpacked(before, NULL);
    arrears__stored_task__free_unpacked(after, NULL);
    return rc;
}

/* Every task of the account, a page of ids at a time; *seen and *erased counted. */
static int erase_tasks(broker_t *self, MDB_txn *txn, const Arrears__PersonalDataErased *m,
                       size_t *seen, size_t *erased)
{
    char prefix[TASKS_ID_MAX + 1], after[TASKS_ID_MAX + 1] = "";
    char (*ids)[TASKS_ID_MAX + 1] = malloc(ERASE_PAGE * sizeof *ids);
    size_t n = ERASE_PAGE;
    snprintf(prefix, sizeof prefix, "%s/%s#", m->platform, m->account_ref);
    int rc = ids ? 0 : ENOMEM;
    while (rc == 0 && n == ERASE_PAGE) {
        rc = tasks_ids_after(self->tasks, txn, prefix, after, ERASE_PAGE, ids, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            bool changed = false;
            rc = erase_task(self, txn, ids[i], m->account_ref, &changed);
            *erased += changed;
        }
        *seen += n;
        if (n > 0)
            memcpy(after, ids[n - 1], sizeof after);
    }
    free(ids);
    return rc;
}

int broker_erase(broker_t *self, MDB_txn *txn, const Arrears__PersonalDataErased *m,
                 reject_t *reject)
{
    if (erasure_check(m, reject) != 0)
        return APPLY_REJECTED;
    /* A closed account's contact was cancelled when it closed; what may be left (a
     * cancel lost to a restore) is never delivered now. */
    Arrears__ContactCancel cancel = ARREARS__CONTACT_CANCEL__INIT;
    cancel.platform = m->platform;
    cancel.account_ref = m->account_ref;
    cancel.reason = "personal data erased";
    size_t seen = 0, erased = 0;
    int rc = broker_cancel(self, txn, &cancel, aclock_now_ms(self->clock), reject);
    rc = rc ? rc : erase_tasks(self, txn, m, &seen, &erased);
    log_event(LOG_INFO, "erased", "platform=%s account=%s jurisdiction=%s tasks=%zu "
              "tasks_changed=%zu error=%d", m->platform, m->account_ref,
              m->jurisdiction ? m->jurisdiction : "-", seen, erased, rc);
    return rc;
}
