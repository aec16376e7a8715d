/* erase: an account's personal data leaves legal at the end of its retention
 * (account.proto PersonalDataErased; legal.h legal_erase). What legal keeps of a case
 * is the anonymized record its report is computed from: the StoredCase (ids, amounts,
 * states, dates, assignees, counts) and its history. What it erases is what names or
 * describes the person: the borrower and the record's free text in the sealed referral
 * (erasure.h), the case file built from them, and the details assignees wrote on the
 * case's steps (legal's and staging's own words stay). */
#include <stdlib.h>
#include <string.h>

#include "erasure.h"
#include "legal.h"
#include "log.h"

/* Cases of one account: an account goes to legal a few times at most. */
#define ERASE_CASES_MAX 64

/* Leaves the collection record to staging, as a referral too large for one message
 * does (record_first_seq past the last entry): for a file at its size limit that the
 * erasure marker, longer than some texts it replaces, would take over it. */
static void drop_record(Arrears__CaseStatement *s)
{
    uint32_t next = s->n_record ? s->record[s->n_record - 1]->seq + 1 : s->record_first_seq;
    for (size_t i = 0; i < s->n_record; i++)
        arrears__timeline_entry__free_unpacked(s->record[i], NULL);
    free(s->record);
    s->record = NULL;
    s->n_record = 0;
    s->has_record_first_seq = 1;
    s->record_first_seq = next;
}

/* Both forms of the case file again from the erased referral: the same build as at
 * referral, stamped with the instant the case opened, so a repeat builds the same
 * bytes. A declined case has no file. */
static int rebuild_file(legal_t *self, MDB_txn *txn, StoredCase *c, LegalReferral *r)
{
    casefile_t file = {0};
    int rc = casefile_build(c->case_id, r, c->opened_ms, CASES_FILE_MAX, &file);
    if (rc == CASEFILE_ETOO_LARGE) {
        drop_record(r->statement);
        rc = casefile_build(c->case_id, r, c->opened_ms, CASES_FILE_MAX, &file);
    }
    rc = rc == CASEFILE_ENOMEM ? ENOMEM : rc;
    rc = rc ? rc : legal_store_file(self, txn, c->case_id, &file);
    c->file_html_bytes = file.html_len;
    c->file_machine_bytes = file.machine_len;
    casefile_free(&file);
    return rc;
}

/* The referral's personal data, and the case file rebuilt from what is left. *changed
 * when the referral had anything left to erase. */
static int erase_referral(legal_t *self, MDB_txn *txn, StoredCase *c, bool *changed)
{
    LegalReferral *r = NULL;
    int rc = cases_referral_get(self->cases, txn, c->case_id, &r);
    int scrubbed = rc == 0 && r && r->statement ? erasure_scrub_statement(r->statement) : 0;
    rc = rc ? rc : scrubbed < 0 ? ENOMEM : 0;
    *changed = scrubbed > 0;
    if (rc == 0 && *changed && c->file_html_bytes > 0)
        rc = rebuild_file(self, txn, c, r);
    rc = rc || !*changed ? rc : cases_referral_put(self->cases, txn, c->case_id, r);
    arrears__legal_referral__free_unpacked(r, NULL);
    return rc;
}

/* The free text of the steps an assignee reported; *changed when any was left. */
static int erase_steps(StoredCase *c, bool *changed)
{
    for (size_t i = 0; i < c->n_steps; i++) {
        StoredStep *s = c->steps[i];
        if (!s->detail || !*s->detail || !s->actor || strcmp(s->actor, "legal") == 0 ||
            strcmp(s->actor, "staging") == 0)
            continue;
        int did = erasure_replace(&s->detail);
        if (did < 0)
            return ENOMEM;
        *changed |= did > 0;
    }
    return 0;
}

static int erase_case(legal_t *self, MDB_txn *txn, const char *id, bool *changed)
{
    StoredCase *before = NULL, *after = NULL;
    bool referral = false, steps = false;
    int rc = cases_get(self->cases, txn, id, &before);
    rc = rc ? rc : cases_get(self->cases, txn, id, &after);
    if (rc == 0 && (!before || !after))
        rc = CASES_ECORRUPT;   /* the index names a case that is not there */
    rc = rc ? rc : erase_referral(self, txn, after, &referral);
    rc = rc ? rc : erase_steps(after, &steps);
    *changed = referral || steps;
    rc = rc || !*changed ? rc : cases_save(self->cases, txn, before, after);
    arrears__stored_case__free_unpacked(before, NULL);
    arrears__stored_case__free_unpacked(after, NULL);
    return rc;
}

int legal_erase(legal_t *self, MDB_txn *txn, const Arrears__PersonalDataErased *m,
                reject_t *reject)
{
    if (erasure_check(m, reject) != 0)
        return APPLY_REJECTED;
    char (*ids)[CASES_ID_MAX + 1] = malloc(ERASE_CASES_MAX * sizeof *ids);
    size_t n = 0, erased = 0;
    int rc = ids ? cases_ever_of_account(self->cases, txn, m->platform, m->account_ref,
                                         ERASE_CASES_MAX, ids, &n)
                 : ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool changed = false;
        rc = erase_case(self, txn, ids[i], &changed);
        erased += changed;
    }
    log_event(LOG_INFO, "erased", "platform=%s account=%s jurisdiction=%s cases=%zu "
              "cases_changed=%zu error=%d", m->platform, m->account_ref,
              m->jurisdiction ? m->jurisdiction : "-", n, erased, rc);
    free(ids);
    return rc;
}
