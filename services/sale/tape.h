/* tape: what a buyer is shown of an account, before and after it wins (DESIGN.md
 * sections 5 and 6). Pure: no sockets, no storage.
 *
 * Pseudonyms. A buyer sees accounts under its own pseudonyms: a keyed BLAKE2b hash
 * (libsodium crypto_generichash, 16 bytes, as 32 hex characters) of (buyer, platform,
 * account ref) under sale's secret key. Two buyers see two unrelated names for one
 * account, so tapes cannot be joined; the key never leaves sale, so a pseudonym cannot
 * be turned back into an account by trying refs.
 *
 * The masked row. Only balances, bands, the product, the country and months: never a
 * name, id number, contact point, address, account ref, person key or exact date. A row
 * is built field by field from what may be shown, never by copying the listing and
 * blanking what may not (a field added to SaleListing later stays off the tape).
 *
 * The full file. The winner's file is sealed to its CURVE public key with
 * crypto_box_seal: sale holds no key that opens it again, and only the buyer's secret
 * key does. */
#ifndef ARREARS_SALE_TAPE_H
#define ARREARS_SALE_TAPE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.pb-c.h"

#define TAPE_KEY_BYTES 32
#define TAPE_PSEUDONYM_BYTES 16
#define TAPE_PSEUDONYM_LEN (2 * TAPE_PSEUDONYM_BYTES)
#define TAPE_MONTH_LEN 7   /* "YYYY-MM" */
#define TAPE_COUNTRY_LEN 2
#define TAPE_SEAL_OVERHEAD 48   /* crypto_box_SEALBYTES */

enum {
    TAPE_OK = 0,
    TAPE_ESPACE = -31402,   /* the output buffer is too small */
    TAPE_ESODIUM = -31403,  /* libsodium refused (a key that is no curve point) */
};

/* The buyer's pseudonym for an account: TAPE_PSEUDONYM_LEN hex characters and a NUL. */
int tape_pseudonym(const uint8_t key[TAPE_KEY_BYTES], const char *buyer, const char *platform,
                   const char *account_ref, char out[TAPE_PSEUDONYM_LEN + 1]);

/* The strings a masked row points into: they live with the row. */
typedef struct {
    char pseudonym[TAPE_PSEUDONYM_LEN + 1];
    char currency[4];
    char country[TAPE_COUNTRY_LEN + 1];
    char charged_off_month[TAPE_MONTH_LEN + 1];
    char last_payment_month[TAPE_MONTH_LEN + 1];
    char dpd_band[32];
    char balance_band[32];
} tape_text_t;

/* Fills row (initialised here) with the shown fields of listing; the row's strings
 * point into text, which the caller keeps as long as the row. */
void tape_row_of(const Arrears__SaleListing *listing, const char *pseudonym,
                 const char *dpd_band, const char *balance_band, tape_text_t *text,
                 Arrears__TapeRow *row);

/* sealed = crypto_box_seal(plain) to the buyer's CURVE public key (the 32 bytes its
 * z85 text decodes to). cap must hold len + TAPE_SEAL_OVERHEAD. */
int tape_seal(const uint8_t buyer_public[32], const uint8_t *plain, size_t len, uint8_t *sealed,
              size_t cap);

const char *tape_strerror(int code);

#endif
