/* erase: an account's personal data leaves sale at the end of its retention
 * (account.proto PersonalDataErased; sale.h sale_erase). What sale keeps is the
 * anonymized record its report and tapes are made from: the listed record (state,
 * bands, amounts, portfolio, price, buyer) and the listing's figures, dates and
 * country. What it erases:
 *   - the listing's file: the borrower and the record's free text (erasure.h);
 *   - a put-back's reason, the buyer's own words about the account;
 *   - the winner's sealed file of the portfolio the account was sold in: it is sealed
 *     to the buyer's key, so sale cannot take one account out of it, and the buyer had
 *     it from the award on. An earlier portfolio the account was sold in and put back
 *     from is not known from the account (only its latest portfolio is kept).
 * Pseudonyms map a buyer's name for an account to its reference, nothing personal:
 * they stay, so a later put-back is still understood. */
#include <stdlib.h>
#include <string.h>

#include "erasure.h"
#include "log.h"
#include "sale.h"

static int erase_listing(sale_t *self, MDB_txn *txn, const char *key, bool *changed)
{
    SaleListing *l = NULL;
    int rc = sales_listing_get(self->sales, txn, key, &l);
    int scrubbed = rc == 0 && l && l->file ? erasure_scrub_statement(l->file) : 0;
    rc = rc ? rc : scrubbed < 0 ? ENOMEM : 0;
    *changed = scrubbed > 0;
    rc = rc || !*changed ? rc : sales_listing_put(self->sales, txn, key, l);
    arrears__sale_listing__free_unpacked(l, NULL);
    return rc;
}

/* The put-back's reason, and the file of the portfolio the account was sold in. */
static int erase_listed(sale_t *self, MDB_txn *txn, const char *key, bool *changed,
                        bool *dropped)
{
    StoredListed *before = NULL;
    int rc = sales_listed_get(self->sales, txn, key, &before);
    if (rc != 0 || !before)
        return rc;
    bool put_back = before->state == ARREARS__LISTED_STATE__LISTED_PUT_BACK;
    bool sold = put_back || before->state == ARREARS__LISTED_STATE__LISTED_SOLD;
    *changed = put_back && before->detail && strcmp(before->detail, ERASURE_MARKER) != 0;
    if (*changed) {
        StoredListed after = *before;   /* shallow: before keeps owning the strings */
        after.detail = ERASURE_MARKER;
        rc = sales_listed_put(self->sales, txn, before, &after);
    }
    if (rc == 0 && sold && before->portfolio_id)
        rc = sales_file_drop(self->sales, txn, before->portfolio_id, dropped);
    arrears__stored_listed__free_unpacked(before, NULL);
    return rc;
}

int sale_erase(sale_t *self, MDB_txn *txn, const Arrears__PersonalDataErased *m,
               reject_t *reject)
{
    if (erasure_check(m, reject) != 0)
        return APPLY_REJECTED;
    char key[SALES_ACCOUNT_KEY_MAX + 1];
    bool listing = false, listed = false, dropped = false;
    int rc = sales_account_key(m->platform, m->account_ref, key);
    rc = rc ? rc : erase_listing(self, txn, key, &listing);
    rc = rc ? rc : erase_listed(self, txn, key, &listed, &dropped);
    log_event(LOG_INFO, "erased", "platform=%s account=%s jurisdiction=%s listing=%d "
              "put_back_reason=%d file_dropped=%d error=%d", m->platform, m->account_ref,
              m->jurisdiction ? m->jurisdiction : "-", listing, listed, dropped, rc);
    return rc;
}
