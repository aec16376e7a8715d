/* tape: pseudonyms, masked rows and the sealed full file (tape.h). */
#include "tape.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

_Static_assert(TAPE_SEAL_OVERHEAD == crypto_box_SEALBYTES, "crypto_box_SEALBYTES changed");
_Static_assert(crypto_box_PUBLICKEYBYTES == 32, "a CURVE key is a crypto_box key");

int tape_pseudonym(const uint8_t key[TAPE_KEY_BYTES], const char *buyer, const char *platform,
                   const char *account_ref, char out[TAPE_PSEUDONYM_LEN + 1])
{
    crypto_generichash_state st;
    uint8_t hash[TAPE_PSEUDONYM_BYTES];
    /* NUL-separated, so ("ab", "c") and ("a", "bc") hash apart. */
    if (crypto_generichash_init(&st, key, TAPE_KEY_BYTES, sizeof hash) != 0 ||
        crypto_generichash_update(&st, (const uint8_t *)buyer, strlen(buyer) + 1) != 0 ||
        crypto_generichash_update(&st, (const uint8_t *)platform, strlen(platform) + 1) != 0 ||
        crypto_generichash_update(&st, (const uint8_t *)account_ref, strlen(account_ref) + 1) != 0 ||
        crypto_generichash_final(&st, hash, sizeof hash) != 0)
        return TAPE_ESODIUM;
    sodium_bin2hex(out, TAPE_PSEUDONYM_LEN + 1, hash, sizeof hash);
    return TAPE_OK;
}

/* "YYYY-MM" of a "YYYY-MM-DD" date, or "" when there is none. */
static void month_of(const char *date, char out[TAPE_MONTH_LEN + 1])
{
    out[0] = '\0';
    if (date && strlen(date) >= TAPE_MONTH_LEN)
        snprintf(out, TAPE_MONTH_LEN + 1, "%.7s", date);
}

/* The country of "CN" or "CN-31": two letters, nothing finer. */
static void country_of(const char *region, char out[TAPE_COUNTRY_LEN + 1])
{
    out[0] = '\0';
    if (region && strlen(region) >= TAPE_COUNTRY_LEN)
        snprintf(out, TAPE_COUNTRY_LEN + 1, "%.2s", region);
}

static void tape_amounts(const Arrears__SaleListing *l, Arrears__TapeRow *row)
{
    row->has_product = l->has_product;
    row->product = l->product;
    row->has_outstanding_minor = row->has_principal_minor = row->has_interest_minor = 1;
    row->has_penalty_minor = row->has_fees_minor = row->has_days_past_due = 1;
    row->outstanding_minor = l->outstanding_minor;
    row->principal_minor = l->principal_minor;
    row->interest_minor = l->interest_minor;
    row->penalty_minor = l->penalty_minor;
    row->fees_minor = l->fees_minor;
    row->days_past_due = l->days_past_due;
}

void tape_row_of(const Arrears__SaleListing *listing, const char *pseudonym,
                 const char *dpd_band, const char *balance_band, tape_text_t *text,
                 Arrears__TapeRow *row)
{
    arrears__tape_row__init(row);
    memset(text, 0, sizeof *text);
    snprintf(text->pseudonym, sizeof text->pseudonym, "%s", pseudonym);
    snprintf(text->currency, sizeof text->currency, "%.3s", listing->currency ? listing->currency : "");
    country_of(listing->region, text->country);
    month_of(listing->charged_off_date, text->charged_off_month);
    month_of(listing->last_payment_date, text->last_payment_month);
    snprintf(text->dpd_band, sizeof text->dpd_band, "%s", dpd_band);
    snprintf(text->balance_band, sizeof text->balance_band, "%s", balance_band);
    tape_amounts(listing, row);
    row->pseudonym = text->pseudonym;
    row->currency = text->currency;
    row->country = text->country;
    row->charged_off_month = text->charged_off_month[0] ? text->charged_off_month : NULL;
    row->last_payment_month = text->last_payment_month[0] ? text->last_payment_month : NULL;
    row->dpd_band = text->dpd_band;
    row->balance_band = text->balance_band;
}

int tape_seal(const uint8_t buyer_public[32], const uint8_t *plain, size_t len, uint8_t *sealed,
              size_t cap)
{
    if (cap < len || cap - len < crypto_box_SEALBYTES)
        return TAPE_ESPACE;
    if (sodium_init() < 0 || crypto_box_seal(sealed, plain, len, buyer_public) != 0)
        return TAPE_ESODIUM;
    return TAPE_OK;
}

const char *tape_strerror(int code)
{
    switch (code) {
    case TAPE_OK: return "ok";
    case TAPE_ESPACE: return "the output buffer is too small";
    case TAPE_ESODIUM: return "libsodium refused";
    default: return "unknown tape error";
    }
}
