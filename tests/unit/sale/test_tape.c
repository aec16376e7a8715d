/* test_tape: pseudonyms (32 hex characters, stable, different per buyer, per account and
 * per key, and not fooled by moving a byte between fields); a masked row that carries
 * the balances, bands, product, country and months of a listing whose every personal
 * field holds a planted value, none of which appears anywhere in the packed row; and a
 * file sealed to a buyer's CURVE key that only that buyer's secret key opens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "tape.h"

static const uint8_t key_a[TAPE_KEY_BYTES] = {1, 2, 3};
static const uint8_t key_b[TAPE_KEY_BYTES] = {9, 8, 7};

static void pseudonym(const uint8_t *key, const char *buyer, const char *platform,
                      const char *ref, char out[TAPE_PSEUDONYM_LEN + 1])
{
    assert_int_equal(tape_pseudonym(key, buyer, platform, ref, out), TAPE_OK);
    assert_int_equal(strlen(out), TAPE_PSEUDONYM_LEN);
    assert_int_equal(strspn(out, "0123456789abcdef"), TAPE_PSEUDONYM_LEN);
}

static void test_pseudonyms(void **state)
{
    (void)state;
    char p1[TAPE_PSEUDONYM_LEN + 1], p2[TAPE_PSEUDONYM_LEN + 1];
    pseudonym(key_a, "buyer-1", "p1", "AC-1", p1);
    pseudonym(key_a, "buyer-1", "p1", "AC-1", p2);
    assert_string_equal(p1, p2);                      /* stable */
    pseudonym(key_a, "buyer-2", "p1", "AC-1", p2);
    assert_string_not_equal(p1, p2);                  /* per buyer */
    pseudonym(key_a, "buyer-1", "p1", "AC-2", p2);
    assert_string_not_equal(p1, p2);                  /* per account */
    pseudonym(key_a, "buyer-1", "p2", "AC-1", p2);
    assert_string_not_equal(p1, p2);                  /* per platform */
    pseudonym(key_b, "buyer-1", "p1", "AC-1", p2);
    assert_string_not_equal(p1, p2);                  /* per key */
    pseudonym(key_a, "buyer-1", "p1A", "C-1", p2);
    assert_string_not_equal(p1, p2);                  /* fields do not run together */
    assert_null(strstr(p1, "AC-1"));
}

/* A listing whose every personal field holds its own planted value. */
static const char *const planted[] = {
    "PLANTED-ACCOUNT-REF-77", "Planted Name Qx", "planted-id-hash-bytes-0123456789",
    "+8613900000077", "planted.mail@example.org", "77 Planted Street", "Planted Flat 2",
    "Plantedville", "Planted Province", "PL7 7NT", "Asia/Planted_Zone", "pk-planted-key!!",
    "2025-03-17", "2026-07-21",
};

static void build_listing(Arrears__SaleListing *l, Arrears__CaseStatement *file,
                          Arrears__Borrower *b, Arrears__Address *addr,
                          Arrears__ContactPoint *phone, Arrears__ContactPoint *email,
                          Arrears__ContactPoint **phones, Arrears__ContactPoint **emails)
{
    arrears__sale_listing__init(l);
    arrears__case_statement__init(file);
    arrears__borrower__init(b);
    arrears__address__init(addr);
    arrears__contact_point__init(phone);
    arrears__contact_point__init(email);
    l->platform = "p1";
    l->account_ref = (char *)planted[0];
    b->name = (char *)planted[1];
    b->has_id_number_hash = 1;
    b->id_number_hash.data = (uint8_t *)planted[2];
    b->id_number_hash.len = strlen(planted[2]);
    phone->value = (char *)planted[3];
    email->value = (char *)planted[4];
    phones[0] = phone;
    emails[0] = email;
    b->n_phones = b->n_emails = 1;
    b->phones = phones;
    b->emails = emails;
    addr->line1 = (char *)planted[5];
    addr->line2 = (char *)planted[6];
    addr->city = (char *)planted[7];
    addr->region = (char *)planted[8];
    addr->postal_code = (char *)planted[9];
    addr->country = "CN";
    b->address = addr;
    b->time_zone = l->time_zone = (char *)planted[10];
    l->has_person_key = 1;
    l->person_key.data = (uint8_t *)planted[11];
    l->person_key.len = strlen(planted[11]);
    l->charged_off_date = (char *)planted[12];
    l->last_payment_date = (char *)planted[13];
    file->borrower = b;
    l->file = file;
    l->currency = "CNY";
    l->region = "CN";
    l->has_product = l->has_outstanding_minor = l->has_days_past_due = 1;
    l->product = 2;
    l->outstanding_minor = 654321;
    l->principal_minor = 600000;
    l->interest_minor = 40000;
    l->penalty_minor = 14321;
    l->days_past_due = 222;
}

static void test_masked_row(void **state)
{
    (void)state;
    Arrears__SaleListing l;
    Arrears__CaseStatement file;
    Arrears__Borrower b;
    Arrears__Address addr;
    Arrears__ContactPoint phone, email, *phones[1], *emails[1];
    build_listing(&l, &file, &b, &addr, &phone, &email, phones, emails);
    tape_text_t text;
    Arrears__TapeRow row;
    tape_row_of(&l, "00112233445566778899aabbccddeeff", "d180-359", "large", &text, &row);
    assert_string_equal(row.pseudonym, "00112233445566778899aabbccddeeff");
    assert_int_equal(row.outstanding_minor, 654321);
    assert_int_equal(row.principal_minor, 600000);
    assert_int_equal(row.penalty_minor, 14321);
    assert_int_equal(row.days_past_due, 222);
    assert_int_equal(row.product, 2);
    assert_string_equal(row.currency, "CNY");
    assert_string_equal(row.country, "CN");
    assert_string_equal(row.charged_off_month, "2025-03");
    assert_string_equal(row.last_payment_month, "2026-07");
    assert_string_equal(row.dpd_band, "d180-359");
    assert_string_equal(row.balance_band, "large");
    /* Nothing planted appears in the packed row, byte for byte. */
    uint8_t packed[1024];
    size_t n = arrears__tape_row__pack(&row, packed);
    assert_true(n > 0 && n < sizeof packed);
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++)
        assert_null(memmem(packed, n, planted[i], strlen(planted[i])));
    /* Never paid: no month rather than an empty one. */
    l.last_payment_date = NULL;
    tape_row_of(&l, "00", "d", "b", &text, &row);
    assert_null(row.last_payment_month);
}

static void test_seal(void **state)
{
    (void)state;
    char pub[41], sec[41], other_pub[41], other_sec[41];
    assert_int_equal(zmq_curve_keypair(pub, sec), 0);
    assert_int_equal(zmq_curve_keypair(other_pub, other_sec), 0);
    const uint8_t plain[] = "the full file of portfolio P-1";
    uint8_t sealed[sizeof plain + TAPE_SEAL_OVERHEAD], opened[sizeof plain];
    uint8_t pk[32], sk[32], osk[32], opk[32];
    assert_non_null(zmq_z85_decode(pk, pub));
    assert_int_equal(tape_seal(pk, plain, sizeof plain, sealed, sizeof sealed), TAPE_OK);
    assert_null(memmem(sealed, sizeof sealed, "portfolio", 9));
    assert_non_null(zmq_z85_decode(sk, sec));
    assert_non_null(zmq_z85_decode(opk, other_pub));
    assert_non_null(zmq_z85_decode(osk, other_sec));
    assert_int_equal(crypto_box_seal_open(opened, sealed, sizeof sealed, pk, sk), 0);
    assert_memory_equal(opened, plain, sizeof plain);
    /* Another buyer's key does not open it. */
    assert_int_not_equal(crypto_box_seal_open(opened, sealed, sizeof sealed, opk, osk), 0);
    /* A short buffer is refused, nothing written past it. */
    assert_int_equal(tape_seal(pk, plain, sizeof plain, sealed, sizeof sealed - 1), TAPE_ESPACE);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pseudonyms),
        cmocka_unit_test(test_masked_row),
        cmocka_unit_test(test_seal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
