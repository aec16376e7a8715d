/* test_validate: intake's field checks, one row per rule.
 *
 * Each table row starts from a valid message, breaks exactly one thing and expects a
 * PERMANENT INVALID_FIELD reject naming the exact field path; the "valid" rows sit on
 * the boundaries (a 64-byte ref, 8 phones, a 200-byte name, paid == owed, a leap day,
 * an instant exactly at now + slack) and must pass. A fully valid account carries the
 * maximum 600 instalments. Messages are built from the generated protobuf-c structs,
 * as the decoder would hand them over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "receiver.h"
#include "validate.h"

#define MAX_INSTALMENTS 600
#define SLOTS (MAX_INSTALMENTS + 1)   /* one more than allowed, for the "too many" row */
#define CONTACT_SLOTS 9               /* one more than allowed */
#define SCRATCH_BYTES 5000
#define NOW_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define SLACK_MS INT64_C(300000)

/* Every message the tests build, with storage for the strings they point at. */
typedef struct {
    tz_cache_t *zones;
    validate_limits_t lim;
    reject_t reject;

    Arrears__AccountUpsert account;
    Arrears__Borrower borrower;
    Arrears__Address address;
    Arrears__ContractRates rates;
    Arrears__AccountFlags flags;
    Arrears__Mandate mandate;
    Arrears__ContactPoint phone_points[CONTACT_SLOTS], email_points[CONTACT_SLOTS];
    Arrears__ContactPoint *phones[CONTACT_SLOTS], *emails[CONTACT_SLOTS];
    Arrears__Instalment instalments[SLOTS];
    Arrears__Instalment *schedule[SLOTS];
    char due_dates[SLOTS][16];
    char phone_text[CONTACT_SLOTS][24], email_text[CONTACT_SLOTS][40];
    uint8_t id_hash[33];

    Arrears__PaymentPosted payment;
    Arrears__ContactUpdate contact;
    Arrears__Complaint complaint;
    Arrears__Recall recall;
    Arrears__StatusEvent status;
    Arrears__FeedEvent feed_event;
    Arrears__FeedQuery feed_query;

    char scratch[2][SCRATCH_BYTES];   /* long strings made for one row */
} fixture_t;

/* ---- building valid messages ---------------------------------------------------- */

static void build_contact_points(fixture_t *f)
{
    for (size_t i = 0; i < CONTACT_SLOTS; i++) {
        snprintf(f->phone_text[i], sizeof f->phone_text[i], "+86138001380%02zu", i);
        snprintf(f->email_text[i], sizeof f->email_text[i], "borrower%zu@example.com", i);
        f->phone_points[i] = (Arrears__ContactPoint)ARREARS__CONTACT_POINT__INIT;
        f->phone_points[i].value = f->phone_text[i];
        f->phone_points[i].has_verified = 1;
        f->phone_points[i].verified = 1;
        f->email_points[i] = (Arrears__ContactPoint)ARREARS__CONTACT_POINT__INIT;
        f->email_points[i].value = f->email_text[i];
        f->phones[i] = &f->phone_points[i];
        f->emails[i] = &f->email_points[i];
    }
}

/* Monthly instalments due on the 15th from 2026-01-15, 100.00 principal + 5.00 interest. */
static void build_schedule(fixture_t *f)
{
    for (size_t i = 0; i < SLOTS; i++) {
        int year = 2026 + (int)(i / 12), month = (int)(i % 12) + 1;
        snprintf(f->due_dates[i], sizeof f->due_dates[i], "%04d-%02d-15", year, month);
        Arrears__Instalment *it = &f->instalments[i];
        *it = (Arrears__Instalment)ARREARS__INSTALMENT__INIT;
        it->due_date = f->due_dates[i];
        it->has_principal_minor = 1;
        it->principal_minor = 10000;
        it->has_interest_minor = 1;
        it->interest_minor = 500;
        it->has_fees_minor = 1;
        it->fees_minor = 0;
        it->has_paid_minor = 1;
        it->paid_minor = 0;
        f->schedule[i] = it;
    }
}

static void build_borrower(fixture_t *f)
{
    memset(f->id_hash, 0xAB, sizeof f->id_hash);
    f->address = (Arrears__Address)ARREARS__ADDRESS__INIT;
    f->address.line1 = "88 Century Avenue";
    f->address.city = "Shanghai";
    f->address.postal_code = "200120";
    f->address.country = "CN";

    f->borrower = (Arrears__Borrower)ARREARS__BORROWER__INIT;
    f->borrower.name = "张伟 Zhang Wei";
    f->borrower.has_id_number_hash = 1;
    f->borrower.id_number_hash.data = f->id_hash;
    f->borrower.id_number_hash.len = 32;
    f->borrower.n_phones = 2;
    f->borrower.phones = f->phones;
    f->borrower.n_emails = 1;
    f->borrower.emails = f->emails;
    f->borrower.address = &f->address;
    f->borrower.time_zone = "Asia/Shanghai";
    f->borrower.language = "zh-CN";
}

static void build_account(fixture_t *f, size_t instalments)
{
    build_contact_points(f);
    build_schedule(f);
    build_borrower(f);
    f->rates = (Arrears__ContractRates)ARREARS__CONTRACT_RATES__INIT;
    f->rates.has_interest_bps = 1;
    f->rates.interest_bps = 2400;
    f->rates.has_interest_period = 1;
    f->rates.interest_period = ARREARS__RATE_PERIOD__PER_YEAR;
    f->rates.has_penalty_bps = 1;
    f->rates.penalty_bps = 5;
    f->rates.has_penalty_period = 1;
    f->rates.penalty_period = ARREARS__RATE_PERIOD__PER_DAY;
    f->rates.has_penalty_cap_bps = 1;
    f->rates.penalty_cap_bps = 240000;
    f->flags = (Arrears__AccountFlags)ARREARS__ACCOUNT_FLAGS__INIT;
    f->mandate = (Arrears__Mandate)ARREARS__MANDATE__INIT;

    f->account = (Arrears__AccountUpsert)ARREARS__ACCOUNT_UPSERT__INIT;
    f->account.account_ref = "ACC-2026:0001.a_b";
    f->account.has_product = 1;
    f->account.product = ARREARS__PRODUCT__INSTALMENT_LOAN;
    f->account.currency = "CNY";
    f->account.borrower = &f->borrower;
    f->account.n_schedule = instalments;
    f->account.schedule = f->schedule;
    f->account.rates = &f->rates;
    f->account.flags = &f->flags;
    f->account.mandate = &f->mandate;
    f->account.opened_date = "2025-12-01";
}

static void build_other_messages(fixture_t *f)
{
    f->payment = (Arrears__PaymentPosted)ARREARS__PAYMENT_POSTED__INIT;
    f->payment.account_ref = "ACC-1";
    f->payment.payment_ref = "PAY-1";
    f->payment.has_amount_minor = 1;
    f->payment.amount_minor = 10500;
    f->payment.currency = "CNY";
    f->payment.has_paid_at_ms = 1;
    f->payment.paid_at_ms = NOW_MS - 60000;
    f->payment.has_channel = 1;
    f->payment.channel = ARREARS__PAYMENT_CHANNEL__BANK_TRANSFER;

    f->contact = (Arrears__ContactUpdate)ARREARS__CONTACT_UPDATE__INIT;
    f->contact.account_ref = "ACC-1";
    f->contact.n_phones = 1;
    f->contact.phones = f->phones;
    f->contact.n_emails = 1;
    f->contact.emails = f->emails;
    f->contact.address = &f->address;

    f->complaint = (Arrears__Complaint)ARREARS__COMPLAINT__INIT;
    f->complaint.account_ref = "ACC-1";
    f->complaint.complaint_ref = "CMP-1";
    f->complaint.has_kind = 1;
    f->complaint.kind = ARREARS__COMPLAINT_KIND__DISPUTE;
    f->complaint.category = "amount";
    f->complaint.text = "I paid this in March.\nSee the receipt.\t(attached)";
    f->complaint.has_received_at_ms = 1;
    f->complaint.received_at_ms = NOW_MS - 3600000;

    f->recall = (Arrears__Recall)ARREARS__RECALL__INIT;
    f->recall.account_ref = "ACC-1";
    f->recall.reason = "settled with the borrower directly";

    f->feed_event = (Arrears__FeedEvent)ARREARS__FEED_EVENT__INIT;
    f->feed_event.account_ref = "ACC-1";
    f->feed_event.has_kind = 1;
    f->feed_event.kind = ARREARS__FEED_EVENT_KIND__STAGE_CHANGED;
    f->feed_event.stage = "early";
    f->feed_event.currency = "CNY";
    f->feed_event.has_at_ms = 1;
    f->feed_event.at_ms = NOW_MS;
    f->status = (Arrears__StatusEvent)ARREARS__STATUS_EVENT__INIT;
    f->status.platform = "lender-a.prod_1";
    f->status.event = &f->feed_event;

    f->feed_query = (Arrears__FeedQuery)ARREARS__FEED_QUERY__INIT;
}

/* A fresh valid set of messages; rows use a short schedule to stay quick. */
static void reset(fixture_t *f)
{
    build_account(f, 3);
    build_other_messages(f);
    memset(&f->reject, 0, sizeof f->reject);
}

/* n copies of c, NUL-terminated, in scratch buffer slot. */
static char *repeated(fixture_t *f, int slot, char c, size_t n)
{
    assert_true(n < SCRATCH_BYTES);
    memset(f->scratch[slot], c, n);
    f->scratch[slot][n] = '\0';
    return f->scratch[slot];
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->zones = tz_cache_new(NULL, 64);
    if (!f->zones) return -1;
    f->lim = validate_default_limits();
    reset(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tz_cache_destroy(&f->zones);
    free(f);
    return 0;
}

/* ---- expectations --------------------------------------------------------------- */

static void expect_accepted(int rc, const reject_t *r, const char *row)
{
    if (rc != 0) {
        print_error("row '%s': refused, field '%s': %s\n", row, r->field, r->reason);
        fail();
    }
}

static void expect_refused(int rc, const reject_t *r, const char *field, const char *row)
{
    if (rc != APPLY_REJECTED || r->klass != ARREARS__REJECT__CLASS__PERMANENT ||
        r->code != ARREARS__REJECT__CODE__INVALID_FIELD || strcmp(r->field, field) != 0) {
        print_error("row '%s': rc %d class %d code %d field '%s' (want '%s'): %s\n", row,
                    rc, (int)r->klass, (int)r->code, r->field, field, r->reason);
        fail();
    }
    if (r->reason[0] == '\0') {
        print_error("row '%s': no reason given\n", row);
        fail();
    }
}

/* A row: what to break (or to set on a boundary), and the field a refusal must name;
 * NULL field: the row must be accepted. */
typedef void (*mutate_fn)(fixture_t *f);
typedef struct {
    const char *name;
    mutate_fn mutate;
    const char *field;
} row_t;

#define ROW(fn, field) {#fn, fn, field}
#define OK NULL
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

typedef int (*validate_fn)(fixture_t *f);

static void run_rows(fixture_t *f, const row_t *rows, size_t count, validate_fn validate)
{
    for (size_t i = 0; i < count; i++) {
        reset(f);
        rows[i].mutate(f);
        int rc = validate(f);
        if (rows[i].field) expect_refused(rc, &f->reject, rows[i].field, rows[i].name);
        else expect_accepted(rc, &f->reject, rows[i].name);
    }
}

static int validate_the_account(fixture_t *f)
{
    return validate_account_upsert(&f->account, &f->lim, f->zones, &f->reject);
}
static int validate_the_payment(fixture_t *f)
{
    return validate_payment(&f->payment, NOW_MS, &f->lim, &f->reject);
}
static int validate_the_contact_update(fixture_t *f)
{
    return validate_contact_update(&f->contact, &f->lim, &f->reject);
}
static int validate_the_complaint(fixture_t *f)
{
    return validate_complaint(&f->complaint, NOW_MS, &f->lim, &f->reject);
}
static int validate_the_recall(fixture_t *f)
{
    return validate_recall(&f->recall, &f->reject);
}
static int validate_the_status_event(fixture_t *f)
{
    return validate_status_event(&f->status, &f->reject);
}
static int validate_the_feed_query(fixture_t *f)
{
    return validate_feed_query(&f->feed_query, &f->reject);
}

/* ---- account: top level and borrower --------------------------------------------- */

static void ref_missing(fixture_t *f) { f->account.account_ref = NULL; }
static void ref_empty(fixture_t *f) { f->account.account_ref = ""; }
static void ref_64_bytes(fixture_t *f) { f->account.account_ref = repeated(f, 0, 'r', 64); }
static void ref_65_bytes(fixture_t *f) { f->account.account_ref = repeated(f, 0, 'r', 65); }
static void ref_with_space(fixture_t *f) { f->account.account_ref = "ACC 1"; }
static void ref_with_slash(fixture_t *f) { f->account.account_ref = "ACC/1"; }
static void ref_with_utf8(fixture_t *f) { f->account.account_ref = "ACC-é"; }
static void product_missing(fixture_t *f) { f->account.has_product = 0; }
static void product_unspecified(fixture_t *f)
{
    f->account.product = ARREARS__PRODUCT__PRODUCT_UNSPECIFIED;
}
static void product_unknown_number(fixture_t *f)
{
    f->account.product = (Arrears__Product)99;
}
static void product_bnpl(fixture_t *f) { f->account.product = ARREARS__PRODUCT__BNPL; }
static void currency_missing(fixture_t *f) { f->account.currency = NULL; }
static void currency_gold(fixture_t *f) { f->account.currency = "XAU"; }
static void currency_lowercase(fixture_t *f) { f->account.currency = "cny"; }
static void currency_yen(fixture_t *f) { f->account.currency = "JPY"; }
static void borrower_missing(fixture_t *f) { f->account.borrower = NULL; }
static void name_missing(fixture_t *f) { f->borrower.name = NULL; }
static void name_empty(fixture_t *f) { f->borrower.name = ""; }
static void name_200_bytes(fixture_t *f) { f->borrower.name = repeated(f, 0, 'n', 200); }
static void name_201_bytes(fixture_t *f) { f->borrower.name = repeated(f, 0, 'n', 201); }
static void name_overlong_slash(fixture_t *f) { f->borrower.name = "Li \xC0\xAF"; }
static void name_overlong_3_bytes(fixture_t *f) { f->borrower.name = "Li \xE0\x80\xAF"; }
static void name_overlong_4_bytes(fixture_t *f)
{
    f->borrower.name = "Li \xF0\x80\x80\xAF";
}
static void name_surrogate(fixture_t *f) { f->borrower.name = "Li \xED\xA0\x80"; }
static void name_above_max_code_point(fixture_t *f)
{
    f->borrower.name = "Li \xF4\x90\x80\x80";
}
static void name_lead_byte_f5(fixture_t *f) { f->borrower.name = "Li \xF5\x80\x80\x80"; }
static void name_cut_short(fixture_t *f) { f->borrower.name = "Li \xE5\xBC"; }
static void name_lone_continuation(fixture_t *f) { f->borrower.name = "Li \x80"; }
static void name_newline(fixture_t *f) { f->borrower.name = "Li\nWei"; }
static void name_c1_control(fixture_t *f) { f->borrower.name = "Li \xC2\x85"; }
static void name_emoji_and_max_code_point(fixture_t *f)
{
    f->borrower.name = "Li \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
}
static void id_hash_missing(fixture_t *f) { f->borrower.has_id_number_hash = 0; }
static void id_hash_31_bytes(fixture_t *f) { f->borrower.id_number_hash.len = 31; }
static void id_hash_33_bytes(fixture_t *f) { f->borrower.id_number_hash.len = 33; }
static void time_zone_missing(fixture_t *f) { f->borrower.time_zone = NULL; }
static void time_zone_unknown(fixture_t *f) { f->borrower.time_zone = "Mars/Olympus_Mons"; }
static void time_zone_path_escape(fixture_t *f)
{
    f->borrower.time_zone = "../../etc/passwd";
}
static void time_zone_not_a_zone_file(fixture_t *f) { f->borrower.time_zone = "Europe"; }
static void time_zone_london(fixture_t *f) { f->borrower.time_zone = "Europe/London"; }
static void language_missing(fixture_t *f) { f->borrower.language = NULL; }
static void language_one_byte(fixture_t *f) { f->borrower.language = "e"; }
static void language_35_bytes(fixture_t *f)
{
    f->borrower.language = repeated(f, 0, 'x', 35);
}
static void language_36_bytes(fixture_t *f)
{
    f->borrower.language = repeated(f, 0, 'x', 36);
}
static void language_underscore(fixture_t *f) { f->borrower.language = "zh_CN"; }

static const row_t account_top_rows[] = {
    ROW(ref_missing, "account_ref"),          ROW(ref_empty, "account_ref"),
    ROW(ref_64_bytes, OK),                    ROW(ref_65_bytes, "account_ref"),
    ROW(ref_with_space, "account_ref"),       ROW(ref_with_slash, "account_ref"),
    ROW(ref_with_utf8, "account_ref"),        ROW(product_missing, "product"),
    ROW(product_unspecified, "product"),      ROW(product_unknown_number, "product"),
    ROW(product_bnpl, OK),                    ROW(currency_missing, "currency"),
    ROW(currency_gold, "currency"),           ROW(currency_lowercase, "currency"),
    ROW(currency_yen, OK),                    ROW(borrower_missing, "borrower"),
    ROW(name_missing, "borrower.name"),       ROW(name_empty, "borrower.name"),
    ROW(name_200_bytes, OK),                  ROW(name_201_bytes, "borrower.name"),
    ROW(name_overlong_slash, "borrower.name"), ROW(name_overlong_3_bytes, "borrower.name"),
    ROW(name_overlong_4_bytes, "borrower.name"), ROW(name_surrogate, "borrower.name"),
    ROW(name_above_max_code_point, "borrower.name"),
    ROW(name_lead_byte_f5, "borrower.name"),
    ROW(name_cut_short, "borrower.name"),     ROW(name_lone_continuation, "borrower.name"),
    ROW(name_newline, "borrower.name"),       ROW(name_c1_control, "borrower.name"),
    ROW(name_emoji_and_max_code_point, OK),
    ROW(id_hash_missing, "borrower.id_number_hash"),
    ROW(id_hash_31_bytes, "borrower.id_number_hash"),
    ROW(id_hash_33_bytes, "borrower.id_number_hash"),
    ROW(time_zone_missing, "borrower.time_zone"),
    ROW(time_zone_unknown, "borrower.time_zone"),
    ROW(time_zone_path_escape, "borrower.time_zone"),
    ROW(time_zone_not_a_zone_file, "borrower.time_zone"),
    ROW(time_zone_london, OK),                ROW(language_missing, OK),
    ROW(language_one_byte, "borrower.language"), ROW(language_35_bytes, OK),
    ROW(language_36_bytes, "borrower.language"),
    ROW(language_underscore, "borrower.language"),
};

static void test_account_top_level_and_borrower(void **state)
{
    fixture_t *f = *state;
    run_rows(f, account_top_rows, COUNT(account_top_rows), validate_the_account);
}

/* ---- account: phones, e-mails, address ------------------------------------------- */

static void phones_8(fixture_t *f) { f->borrower.n_phones = 8; }
static void phones_9(fixture_t *f) { f->borrower.n_phones = 9; }
static void phone_without_plus(fixture_t *f)
{
    f->phone_points[2].value = "8613800138000";
    f->borrower.n_phones = 3;
}
static void phone_country_code_0(fixture_t *f)
{
    f->phone_points[1].value = "+0613800138000";
}
static void phone_7_digits(fixture_t *f) { f->phone_points[1].value = "+4412345"; }
static void phone_8_digits(fixture_t *f) { f->phone_points[1].value = "+44123456"; }
static void phone_15_digits(fixture_t *f) { f->phone_points[1].value = "+441234567890123"; }
static void phone_16_digits(fixture_t *f)
{
    f->phone_points[1].value = "+4412345678901234";
}
static void phone_with_space(fixture_t *f) { f->phone_points[1].value = "+86 13800138000"; }
static void phone_value_missing(fixture_t *f) { f->phone_points[1].value = NULL; }
static void emails_8(fixture_t *f) { f->borrower.n_emails = 8; }
static void emails_9(fixture_t *f) { f->borrower.n_emails = 9; }
static void email_no_at(fixture_t *f) { f->email_points[0].value = "borrower.example.com"; }
static void email_two_ats(fixture_t *f) { f->email_points[0].value = "a@b@example.com"; }
static void email_empty_local(fixture_t *f) { f->email_points[0].value = "@example.com"; }
static void email_no_dot_in_domain(fixture_t *f)
{
    f->email_points[0].value = "a@localhost";
}
static void email_domain_starts_with_dot(fixture_t *f)
{
    f->email_points[0].value = "a@.com";
}
static void email_domain_ends_with_dot(fixture_t *f)
{
    f->email_points[0].value = "a@example.com.";
}
static void email_with_space(fixture_t *f) { f->email_points[0].value = "a b@example.com"; }
static void email_with_tab(fixture_t *f) { f->email_points[0].value = "a\tb@example.com"; }
static void email_bad_utf8(fixture_t *f)
{
    f->email_points[0].value = "a\xC0\xAF@example.com";
}
static void email_unicode(fixture_t *f) { f->email_points[0].value = "伟@例子.中国"; }
static void email_value_missing(fixture_t *f)
{
    f->email_points[1].value = NULL;
    f->borrower.n_emails = 2;
}

/* local part of local_len 'a's, '@', then 'b's and ".com" up to total bytes. */
static char *email_of(fixture_t *f, size_t local_len, size_t total)
{
    char *s = repeated(f, 0, 'a', local_len);
    s[local_len] = '@';
    memset(s + local_len + 1, 'b', total - local_len - 1 - 4);
    memcpy(s + total - 4, ".com", 5);
    return s;
}
static void email_local_64(fixture_t *f)
{
    f->email_points[0].value = email_of(f, 64, 100);
}
static void email_local_65(fixture_t *f)
{
    f->email_points[0].value = email_of(f, 65, 100);
}
static void email_254_bytes(fixture_t *f)
{
    f->email_points[0].value = email_of(f, 64, 254);
}
static void email_255_bytes(fixture_t *f)
{
    f->email_points[0].value = email_of(f, 64, 255);
}

static void address_missing(fixture_t *f) { f->borrower.address = NULL; }
static void address_country_only(fixture_t *f)
{
    f->address = (Arrears__Address)ARREARS__ADDRESS__INIT;
    f->address.country = "GB";
}
static void address_empty(fixture_t *f)
{
    f->address = (Arrears__Address)ARREARS__ADDRESS__INIT;
}
static void line1_200(fixture_t *f) { f->address.line1 = repeated(f, 0, 'l', 200); }
static void line1_201(fixture_t *f) { f->address.line1 = repeated(f, 0, 'l', 201); }
static void line2_201(fixture_t *f) { f->address.line2 = repeated(f, 0, 'l', 201); }
static void city_101(fixture_t *f) { f->address.city = repeated(f, 0, 'c', 101); }
static void region_100(fixture_t *f) { f->address.region = repeated(f, 0, 'r', 100); }
static void region_101(fixture_t *f) { f->address.region = repeated(f, 0, 'r', 101); }
static void postal_code_20(fixture_t *f)
{
    f->address.postal_code = repeated(f, 0, 'p', 20);
}
static void postal_code_21(fixture_t *f)
{
    f->address.postal_code = repeated(f, 0, 'p', 21);
}
static void city_bad_utf8(fixture_t *f) { f->address.city = "Shang\xEDhai"; }
static void country_lowercase(fixture_t *f) { f->address.country = "cn"; }
static void country_three_letters(fixture_t *f) { f->address.country = "CHN"; }
static void country_missing_with_city(fixture_t *f)
{
    f->address.country = NULL;
    f->address.line1 = NULL;
    f->address.postal_code = NULL;
}
static void country_empty_with_lines(fixture_t *f) { f->address.country = ""; }

static const row_t account_contact_rows[] = {
    ROW(phones_8, OK),                       ROW(phones_9, "borrower.phones"),
    ROW(phone_without_plus, "borrower.phones[2].value"),
    ROW(phone_country_code_0, "borrower.phones[1].value"),
    ROW(phone_7_digits, "borrower.phones[1].value"), ROW(phone_8_digits, OK),
    ROW(phone_15_digits, OK),
    ROW(phone_16_digits, "borrower.phones[1].value"),
    ROW(phone_with_space, "borrower.phones[1].value"),
    ROW(phone_value_missing, "borrower.phones[1].value"),
    ROW(emails_8, OK),                       ROW(emails_9, "borrower.emails"),
    ROW(email_no_at, "borrower.emails[0].value"),
    ROW(email_two_ats, "borrower.emails[0].value"),
    ROW(email_empty_local, "borrower.emails[0].value"),
    ROW(email_no_dot_in_domain, "borrower.emails[0].value"),
    ROW(email_domain_starts_with_dot, "borrower.emails[0].value"),
    ROW(email_domain_ends_with_dot, "borrower.emails[0].value"),
    ROW(email_with_space, "borrower.emails[0].value"),
    ROW(email_with_tab, "borrower.emails[0].value"),
    ROW(email_bad_utf8, "borrower.emails[0].value"), ROW(email_unicode, OK),
    ROW(email_value_missing, "borrower.emails[1].value"),
    ROW(email_local_64, OK),
    ROW(email_local_65, "borrower.emails[0].value"),
    ROW(email_254_bytes, OK),
    ROW(email_255_bytes, "borrower.emails[0].value"),
    ROW(address_missing, OK),                ROW(address_country_only, OK),
    ROW(address_empty, OK),                  ROW(line1_200, OK),
    ROW(line1_201, "borrower.address.line1"), ROW(line2_201, "borrower.address.line2"),
    ROW(city_101, "borrower.address.city"),  ROW(region_100, OK),
    ROW(region_101, "borrower.address.region"), ROW(postal_code_20, OK),
    ROW(postal_code_21, "borrower.address.postal_code"),
    ROW(city_bad_utf8, "borrower.address.city"),
    ROW(country_lowercase, "borrower.address.country"),
    ROW(country_three_letters, "borrower.address.country"),
    ROW(country_missing_with_city, "borrower.address.country"),
    ROW(country_empty_with_lines, "borrower.address.country"),
};

static void test_account_contact_points_and_address(void **state)
{
    fixture_t *f = *state;
    run_rows(f, account_contact_rows, COUNT(account_contact_rows), validate_the_account);
}

/* ---- account: schedule, rates, opened date --------------------------------------- */

static void schedule_empty(fixture_t *f) { f->account.n_schedule = 0; }
static void schedule_600(fixture_t *f) { f->account.n_schedule = 600; }
static void schedule_601(fixture_t *f) { f->account.n_schedule = 601; }
static void due_date_missing(fixture_t *f) { f->instalments[1].due_date = NULL; }
static void due_date_not_leap(fixture_t *f) { f->instalments[1].due_date = "2027-02-29"; }
static void due_date_leap_day(fixture_t *f)
{
    f->instalments[1].due_date = "2028-02-29";
    f->instalments[2].due_date = "2028-03-01";
}
static void due_date_century_not_leap(fixture_t *f)
{
    f->instalments[1].due_date = "2100-02-29";
}
static void due_date_month_13(fixture_t *f) { f->instalments[1].due_date = "2026-13-01"; }
static void due_date_day_0(fixture_t *f) { f->instalments[1].due_date = "2026-02-00"; }
static void due_date_april_31(fixture_t *f) { f->instalments[1].due_date = "2026-04-31"; }
static void due_date_short_form(fixture_t *f) { f->instalments[1].due_date = "2026-2-15"; }
static void due_date_with_time(fixture_t *f)
{
    f->instalments[1].due_date = "2026-02-15T00:00";
}
static void due_date_slashes(fixture_t *f) { f->instalments[1].due_date = "2026/02/15"; }
static void due_date_1969(fixture_t *f)
{
    f->instalments[0].due_date = "1969-12-31";
    f->account.opened_date = NULL;
}
static void due_date_1970(fixture_t *f)
{
    f->instalments[0].due_date = "1970-01-01";
    f->account.opened_date = NULL;
}
static void due_date_2200(fixture_t *f) { f->instalments[2].due_date = "2200-12-31"; }
static void due_date_2201(fixture_t *f) { f->instalments[2].due_date = "2201-01-01"; }
static void due_dates_equal(fixture_t *f) { f->instalments[2].due_date = f->due_dates[1]; }
static void due_dates_decrease(fixture_t *f) { f->instalments[2].due_date = "2026-01-31"; }
static void principal_negative(fixture_t *f) { f->instalments[1].principal_minor = -1; }
static void interest_negative(fixture_t *f) { f->instalments[1].interest_minor = -1; }
static void fees_negative(fixture_t *f) { f->instalments[1].fees_minor = -1; }
static void paid_negative(fixture_t *f) { f->instalments[1].paid_minor = -1; }
static void owes_nothing(fixture_t *f)
{
    f->instalments[1].principal_minor = 0;
    f->instalments[1].interest_minor = 0;
}
static void amounts_absent(fixture_t *f)
{
    f->instalments[1].has_principal_minor = 0;
    f->instalments[1].has_interest_minor = 0;
    f->instalments[1].has_fees_minor = 0;
}
static void fees_only(fixture_t *f)
{
    f->instalments[1].principal_minor = 0;
    f->instalments[1].interest_minor = 0;
    f->instalments[1].fees_minor = 1;
}
static void principal_plus_interest_overflows(fixture_t *f)
{
    f->instalments[1].principal_minor = INT64_MAX;
    f->instalments[1].interest_minor = 1;
}
static void plus_fees_overflows(fixture_t *f)
{
    f->instalments[1].principal_minor = INT64_MAX - 1;
    f->instalments[1].interest_minor = 1;
    f->instalments[1].fees_minor = 1;
}
static void owed_int64_max(fixture_t *f)
{
    f->account.n_schedule = 1;
    f->instalments[0].principal_minor = INT64_MAX - 1;
    f->instalments[0].interest_minor = 1;
}
static void schedule_total_overflows(fixture_t *f)
{
    f->instalments[0].principal_minor = INT64_MAX - 500;
}
static void paid_equals_owed(fixture_t *f) { f->instalments[1].paid_minor = 10500; }
static void paid_above_owed(fixture_t *f) { f->instalments[1].paid_minor = 10501; }

static const row_t schedule_rows[] = {
    ROW(schedule_empty, "schedule"),           ROW(schedule_600, OK),
    ROW(schedule_601, "schedule"),
    ROW(due_date_missing, "schedule[1].due_date"),
    ROW(due_date_not_leap, "schedule[1].due_date"), ROW(due_date_leap_day, OK),
    ROW(due_date_century_not_leap, "schedule[1].due_date"),
    ROW(due_date_month_13, "schedule[1].due_date"),
    ROW(due_date_day_0, "schedule[1].due_date"),
    ROW(due_date_april_31, "schedule[1].due_date"),
    ROW(due_date_short_form, "schedule[1].due_date"),
    ROW(due_date_with_time, "schedule[1].due_date"),
    ROW(due_date_slashes, "schedule[1].due_date"),
    ROW(due_date_1969, "schedule[0].due_date"), ROW(due_date_1970, OK),
    ROW(due_date_2200, OK),                    ROW(due_date_2201, "schedule[2].due_date"),
    ROW(due_dates_equal, "schedule[2].due_date"),
    ROW(due_dates_decrease, "schedule[2].due_date"),
    ROW(principal_negative, "schedule[1].principal_minor"),
    ROW(interest_negative, "schedule[1].interest_minor"),
    ROW(fees_negative, "schedule[1].fees_minor"),
    ROW(paid_negative, "schedule[1].paid_minor"),
    ROW(owes_nothing, "schedule[1]"),          ROW(amounts_absent, "schedule[1]"),
    ROW(fees_only, OK),
    ROW(principal_plus_interest_overflows, "schedule[1].interest_minor"),
    ROW(plus_fees_overflows, "schedule[1].fees_minor"), ROW(owed_int64_max, OK),
    ROW(schedule_total_overflows, "schedule[1]"), ROW(paid_equals_owed, OK),
    ROW(paid_above_owed, "schedule[1].paid_minor"),
};

static void test_account_schedule(void **state)
{
    fixture_t *f = *state;
    run_rows(f, schedule_rows, COUNT(schedule_rows), validate_the_account);
}

static void rates_missing(fixture_t *f) { f->account.rates = NULL; }
static void rates_all_absent(fixture_t *f)
{
    f->rates = (Arrears__ContractRates)ARREARS__CONTRACT_RATES__INIT;
}
static void interest_bps_negative(fixture_t *f) { f->rates.interest_bps = -1; }
static void interest_bps_max(fixture_t *f) { f->rates.interest_bps = 1000000; }
static void interest_bps_above_max(fixture_t *f) { f->rates.interest_bps = 1000001; }
static void interest_period_missing(fixture_t *f) { f->rates.has_interest_period = 0; }
static void interest_period_unknown(fixture_t *f)
{
    f->rates.interest_period = (Arrears__RatePeriod)3;
}
static void interest_zero_period_unspecified(fixture_t *f)
{
    f->rates.interest_bps = 0;
    f->rates.interest_period = ARREARS__RATE_PERIOD__RATE_PERIOD_UNSPECIFIED;
}
static void interest_zero_period_unknown(fixture_t *f)
{
    f->rates.interest_bps = 0;
    f->rates.interest_period = (Arrears__RatePeriod)-1;
}
static void penalty_bps_above_max(fixture_t *f) { f->rates.penalty_bps = 1000001; }
static void penalty_period_unspecified(fixture_t *f)
{
    f->rates.penalty_period = ARREARS__RATE_PERIOD__RATE_PERIOD_UNSPECIFIED;
}
static void penalty_period_missing(fixture_t *f) { f->rates.has_penalty_period = 0; }
static void penalty_bps_absent_period_absent(fixture_t *f)
{
    f->rates.has_penalty_bps = 0;
    f->rates.has_penalty_period = 0;
}
static void cap_negative(fixture_t *f) { f->rates.penalty_cap_bps = -1; }
static void cap_max(fixture_t *f) { f->rates.penalty_cap_bps = 1000000; }
static void cap_above_max(fixture_t *f) { f->rates.penalty_cap_bps = 1000001; }
static void opened_missing(fixture_t *f) { f->account.opened_date = NULL; }
static void opened_on_first_due(fixture_t *f) { f->account.opened_date = "2026-01-15"; }
static void opened_after_first_due(fixture_t *f) { f->account.opened_date = "2026-01-16"; }
static void opened_not_a_date(fixture_t *f) { f->account.opened_date = "2025-02-30"; }

static const row_t rates_rows[] = {
    ROW(rates_missing, OK),                    ROW(rates_all_absent, OK),
    ROW(interest_bps_negative, "rates.interest_bps"), ROW(interest_bps_max, OK),
    ROW(interest_bps_above_max, "rates.interest_bps"),
    ROW(interest_period_missing, "rates.interest_period"),
    ROW(interest_period_unknown, "rates.interest_period"),
    ROW(interest_zero_period_unspecified, OK),
    ROW(interest_zero_period_unknown, "rates.interest_period"),
    ROW(penalty_bps_above_max, "rates.penalty_bps"),
    ROW(penalty_period_unspecified, "rates.penalty_period"),
    ROW(penalty_period_missing, "rates.penalty_period"),
    ROW(penalty_bps_absent_period_absent, OK),
    ROW(cap_negative, "rates.penalty_cap_bps"), ROW(cap_max, OK),
    ROW(cap_above_max, "rates.penalty_cap_bps"), ROW(opened_missing, OK),
    ROW(opened_on_first_due, OK),              ROW(opened_after_first_due, "opened_date"),
    ROW(opened_not_a_date, "opened_date"),
};

static void test_account_rates_and_opened_date(void **state)
{
    fixture_t *f = *state;
    run_rows(f, rates_rows, COUNT(rates_rows), validate_the_account);
}

/* The account a platform would really send, at the maximum schedule length. */
static void test_full_account_with_600_instalments(void **state)
{
    fixture_t *f = *state;
    build_account(f, 600);
    f->borrower.n_phones = 8;
    f->borrower.n_emails = 8;
    int rc = validate_account_upsert(&f->account, &f->lim, f->zones, &f->reject);
    expect_accepted(rc, &f->reject, "600 instalments");
    assert_string_equal(f->due_dates[599], "2075-12-15");
}

/* The reasons a platform engineer reads: what is wrong, with the values that matter,
 * and never the borrower's personal data. */
static void test_reasons_say_what_is_wrong(void **state)
{
    fixture_t *f = *state;
    reset(f);
    f->instalments[2].due_date = "2026-02-15";
    assert_int_equal(validate_the_account(f), APPLY_REJECTED);
    assert_string_equal(f->reject.reason,
                        "due dates must increase: 2026-02-15 is not after 2026-02-15");

    reset(f);
    f->instalments[1].due_date = "2027-02-29";
    assert_int_equal(validate_the_account(f), APPLY_REJECTED);
    assert_string_equal(f->reject.reason,
                        "2027-02-29 is not a calendar date: 2027-02 has 28 days");

    reset(f);
    f->phone_points[1].value = "+86 13800138000";
    assert_int_equal(validate_the_account(f), APPLY_REJECTED);
    assert_null(strstr(f->reject.reason, "13800138000"));

    reset(f);
    f->borrower.name = "Wang \xED\xA0\x80";
    assert_int_equal(validate_the_account(f), APPLY_REJECTED);
    assert_string_equal(f->reject.reason, "not valid UTF-8: a UTF-16 surrogate at byte 5");
    assert_null(strstr(f->reject.reason, "Wang"));

    reset(f);
    f->account.product = ARREARS__PRODUCT__PRODUCT_UNSPECIFIED;
    assert_int_equal(validate_the_account(f), APPLY_REJECTED);
    assert_string_equal(f->reject.reason,
                        "PRODUCT_UNSPECIFIED is refused: send one of ONLINE_LOAN, "
                        "CREDIT_CARD, INSTALMENT_LOAN, BNPL");
}

/* A zone we cannot load for our own reasons (here a full cache) must not dead-letter
 * a valid account: RETRY_LATER, not PERMANENT. */
static void test_time_zone_cache_full_is_retry_later(void **state)
{
    fixture_t *f = *state;
    reset(f);
    tz_cache_t *small = tz_cache_new(NULL, 1);
    assert_non_null(small);
    assert_int_equal(validate_account_upsert(&f->account, &f->lim, small, &f->reject), 0);
    f->borrower.time_zone = "Europe/London";
    assert_int_equal(validate_account_upsert(&f->account, &f->lim, small, &f->reject),
                     APPLY_REJECTED);
    assert_int_equal(f->reject.klass, ARREARS__REJECT__CLASS__RETRY_LATER);
    assert_int_equal(f->reject.code, ARREARS__REJECT__CODE__BUSY);
    assert_string_equal(f->reject.field, "borrower.time_zone");
    tz_cache_destroy(&small);
}

/* ---- payment, contact update ------------------------------------------------------ */

static void valid_as_built(fixture_t *f) { (void)f; }
static void pay_account_ref_missing(fixture_t *f) { f->payment.account_ref = NULL; }
static void pay_ref_missing(fixture_t *f) { f->payment.payment_ref = ""; }
static void pay_ref_64(fixture_t *f) { f->payment.payment_ref = repeated(f, 0, 'p', 64); }
static void pay_ref_65(fixture_t *f) { f->payment.payment_ref = repeated(f, 0, 'p', 65); }
static void amount_missing(fixture_t *f) { f->payment.has_amount_minor = 0; }
static void amount_zero(fixture_t *f) { f->payment.amount_minor = 0; }
static void amount_negative(fixture_t *f) { f->payment.amount_minor = -100; }
static void amount_one(fixture_t *f) { f->payment.amount_minor = 1; }
static void pay_currency_missing(fixture_t *f) { f->payment.currency = NULL; }
static void pay_currency_unknown(fixture_t *f) { f->payment.currency = "ABC"; }
static void paid_at_missing(fixture_t *f) { f->payment.has_paid_at_ms = 0; }
static void paid_at_before_2000(fixture_t *f)
{
    f->payment.paid_at_ms = INT64_C(946684799999);
}
static void paid_at_2000(fixture_t *f) { f->payment.paid_at_ms = INT64_C(946684800000); }
static void paid_at_in_seconds(fixture_t *f) { f->payment.paid_at_ms = NOW_MS / 1000; }
static void paid_at_now_plus_slack(fixture_t *f)
{
    f->payment.paid_at_ms = NOW_MS + SLACK_MS;
}
static void paid_at_past_slack(fixture_t *f)
{
    f->payment.paid_at_ms = NOW_MS + SLACK_MS + 1;
}
static void paid_at_int64_max(fixture_t *f) { f->payment.paid_at_ms = INT64_MAX; }
static void channel_missing(fixture_t *f) { f->payment.has_channel = 0; }
static void channel_unspecified(fixture_t *f)
{
    f->payment.channel = ARREARS__PAYMENT_CHANNEL__PAYMENT_CHANNEL_UNSPECIFIED;
}
static void channel_unknown_number(fixture_t *f)
{
    f->payment.channel = (Arrears__PaymentChannel)7;
}
static void channel_other(fixture_t *f)
{
    f->payment.channel = ARREARS__PAYMENT_CHANNEL__OTHER_CHANNEL;
}

static const row_t payment_rows[] = {
    ROW(valid_as_built, OK),                   ROW(pay_account_ref_missing, "account_ref"),
    ROW(pay_ref_missing, "payment_ref"),       ROW(pay_ref_64, OK),
    ROW(pay_ref_65, "payment_ref"),            ROW(amount_missing, "amount_minor"),
    ROW(amount_zero, "amount_minor"),          ROW(amount_negative, "amount_minor"),
    ROW(amount_one, OK),                       ROW(pay_currency_missing, "currency"),
    ROW(pay_currency_unknown, "currency"),     ROW(paid_at_missing, "paid_at_ms"),
    ROW(paid_at_before_2000, "paid_at_ms"),    ROW(paid_at_2000, OK),
    ROW(paid_at_in_seconds, "paid_at_ms"),     ROW(paid_at_now_plus_slack, OK),
    ROW(paid_at_past_slack, "paid_at_ms"),     ROW(paid_at_int64_max, "paid_at_ms"),
    ROW(channel_missing, "channel"),           ROW(channel_unspecified, "channel"),
    ROW(channel_unknown_number, "channel"),    ROW(channel_other, OK),
};

static void test_payment(void **state)
{
    fixture_t *f = *state;
    run_rows(f, payment_rows, COUNT(payment_rows), validate_the_payment);
}

static void cu_account_ref_missing(fixture_t *f) { f->contact.account_ref = NULL; }
static void cu_nothing_given(fixture_t *f)
{
    f->contact.n_phones = 0;
    f->contact.n_emails = 0;
    f->contact.address = NULL;
}
static void cu_phones_8(fixture_t *f) { f->contact.n_phones = 8; }
static void cu_phones_9(fixture_t *f) { f->contact.n_phones = 9; }
static void cu_emails_9(fixture_t *f) { f->contact.n_emails = 9; }
static void cu_phone_bad(fixture_t *f) { f->phone_points[0].value = "+86-138-0013-8000"; }
static void cu_email_bad(fixture_t *f)
{
    f->contact.n_emails = 2;
    f->email_points[1].value = "nobody";
}
static void cu_country_missing(fixture_t *f) { f->address.country = NULL; }
static void cu_clear_phones_alone(fixture_t *f)
{
    f->contact.n_phones = 0;
    f->contact.has_clear_phones = 1;
    f->contact.clear_phones = 1;
}
static void cu_clear_phones_with_phones(fixture_t *f)
{
    f->contact.has_clear_phones = 1;
    f->contact.clear_phones = 1;
}
static void cu_clear_phones_false_with_phones(fixture_t *f)
{
    f->contact.has_clear_phones = 1;
    f->contact.clear_phones = 0;
}
static void cu_clear_emails_alone(fixture_t *f)
{
    f->contact.n_emails = 0;
    f->contact.has_clear_emails = 1;
    f->contact.clear_emails = 1;
}
static void cu_clear_emails_with_emails(fixture_t *f)
{
    f->contact.has_clear_emails = 1;
    f->contact.clear_emails = 1;
}

static const row_t contact_update_rows[] = {
    ROW(valid_as_built, OK),                   ROW(cu_account_ref_missing, "account_ref"),
    ROW(cu_nothing_given, OK),                 ROW(cu_phones_8, OK),
    ROW(cu_phones_9, "phones"),                ROW(cu_emails_9, "emails"),
    ROW(cu_phone_bad, "phones[0].value"),      ROW(cu_email_bad, "emails[1].value"),
    ROW(cu_country_missing, "address.country"), ROW(cu_clear_phones_alone, OK),
    ROW(cu_clear_phones_with_phones, "clear_phones"),
    ROW(cu_clear_phones_false_with_phones, OK), ROW(cu_clear_emails_alone, OK),
    ROW(cu_clear_emails_with_emails, "clear_emails"),
};

static void test_contact_update(void **state)
{
    fixture_t *f = *state;
    run_rows(f, contact_update_rows, COUNT(contact_update_rows),
             validate_the_contact_update);
}

/* ---- complaint, recall, status event, feed query ---------------------------------- */

static void cp_account_ref_bad(fixture_t *f) { f->complaint.account_ref = "ACC#1"; }
static void cp_ref_missing(fixture_t *f) { f->complaint.complaint_ref = NULL; }
static void cp_kind_missing(fixture_t *f) { f->complaint.has_kind = 0; }
static void cp_kind_unspecified(fixture_t *f)
{
    f->complaint.kind = ARREARS__COMPLAINT_KIND__COMPLAINT_KIND_UNSPECIFIED;
}
static void cp_kind_unknown(fixture_t *f) { f->complaint.kind = (Arrears__ComplaintKind)3; }
static void cp_category_missing(fixture_t *f) { f->complaint.category = NULL; }
static void cp_category_64(fixture_t *f)
{
    f->complaint.category = repeated(f, 0, 'k', 64);
}
static void cp_category_65(fixture_t *f)
{
    f->complaint.category = repeated(f, 0, 'k', 65);
}
static void cp_category_bad_utf8(fixture_t *f) { f->complaint.category = "fee\xFF"; }
static void cp_text_missing(fixture_t *f) { f->complaint.text = NULL; }
static void cp_text_4000(fixture_t *f) { f->complaint.text = repeated(f, 0, 't', 4000); }
static void cp_text_4001(fixture_t *f) { f->complaint.text = repeated(f, 0, 't', 4001); }
static void cp_text_bad_utf8(fixture_t *f) { f->complaint.text = "he said \xC0\x80"; }
static void cp_text_escape_char(fixture_t *f) { f->complaint.text = "bell\x07"; }
static void cp_received_missing(fixture_t *f) { f->complaint.has_received_at_ms = 0; }
static void cp_received_future(fixture_t *f)
{
    f->complaint.received_at_ms = NOW_MS + SLACK_MS + 1;
}
static void cp_received_at_slack(fixture_t *f)
{
    f->complaint.received_at_ms = NOW_MS + SLACK_MS;
}
static void cp_received_1999(fixture_t *f)
{
    f->complaint.received_at_ms = INT64_C(946684799999);
}

static const row_t complaint_rows[] = {
    ROW(valid_as_built, OK),                   ROW(cp_account_ref_bad, "account_ref"),
    ROW(cp_ref_missing, "complaint_ref"),      ROW(cp_kind_missing, "kind"),
    ROW(cp_kind_unspecified, "kind"),          ROW(cp_kind_unknown, "kind"),
    ROW(cp_category_missing, "category"),      ROW(cp_category_64, OK),
    ROW(cp_category_65, "category"),           ROW(cp_category_bad_utf8, "category"),
    ROW(cp_text_missing, OK),                  ROW(cp_text_4000, OK),
    ROW(cp_text_4001, "text"),                 ROW(cp_text_bad_utf8, "text"),
    ROW(cp_text_escape_char, "text"),          ROW(cp_received_missing, "received_at_ms"),
    ROW(cp_received_future, "received_at_ms"), ROW(cp_received_at_slack, OK),
    ROW(cp_received_1999, "received_at_ms"),
};

static void test_complaint(void **state)
{
    fixture_t *f = *state;
    run_rows(f, complaint_rows, COUNT(complaint_rows), validate_the_complaint);
}

static void rc_account_ref_missing(fixture_t *f) { f->recall.account_ref = NULL; }
static void rc_reason_missing(fixture_t *f) { f->recall.reason = NULL; }
static void rc_reason_500(fixture_t *f) { f->recall.reason = repeated(f, 0, 'w', 500); }
static void rc_reason_501(fixture_t *f) { f->recall.reason = repeated(f, 0, 'w', 501); }
static void rc_reason_lines(fixture_t *f) { f->recall.reason = "paid in full\r\nclosed"; }
static void rc_reason_bad_utf8(fixture_t *f) { f->recall.reason = "\xE2\x82"; }

static const row_t recall_rows[] = {
    ROW(valid_as_built, OK),                   ROW(rc_account_ref_missing, "account_ref"),
    ROW(rc_reason_missing, OK),                ROW(rc_reason_500, OK),
    ROW(rc_reason_501, "reason"),              ROW(rc_reason_lines, OK),
    ROW(rc_reason_bad_utf8, "reason"),
};

static void test_recall(void **state)
{
    fixture_t *f = *state;
    run_rows(f, recall_rows, COUNT(recall_rows), validate_the_recall);
}

static void se_platform_missing(fixture_t *f) { f->status.platform = NULL; }
static void se_platform_uppercase(fixture_t *f) { f->status.platform = "Lender-A"; }
static void se_platform_64(fixture_t *f) { f->status.platform = repeated(f, 1, 'p', 64); }
static void se_platform_65(fixture_t *f) { f->status.platform = repeated(f, 1, 'p', 65); }
static void se_event_missing(fixture_t *f) { f->status.event = NULL; }
static void se_account_ref_missing(fixture_t *f) { f->feed_event.account_ref = NULL; }
static void se_kind_missing(fixture_t *f) { f->feed_event.has_kind = 0; }
static void se_kind_unspecified(fixture_t *f)
{
    f->feed_event.kind = ARREARS__FEED_EVENT_KIND__FEED_EVENT_KIND_UNSPECIFIED;
}
static void se_kind_unknown(fixture_t *f)
{
    f->feed_event.kind = (Arrears__FeedEventKind)99;   /* no such kind */
}
static void se_stage_32(fixture_t *f) { f->feed_event.stage = repeated(f, 0, 's', 32); }
static void se_stage_33(fixture_t *f) { f->feed_event.stage = repeated(f, 0, 's', 33); }
static void se_currency_absent(fixture_t *f) { f->feed_event.currency = NULL; }
static void se_currency_unknown(fixture_t *f) { f->feed_event.currency = "XXX"; }
static void se_reference_64(fixture_t *f)
{
    f->feed_event.reference = repeated(f, 0, 'f', 64);
}
static void se_reference_65(fixture_t *f)
{
    f->feed_event.reference = repeated(f, 0, 'f', 65);
}
static void se_detail_200(fixture_t *f) { f->feed_event.detail = repeated(f, 0, 'd', 200); }
static void se_detail_201(fixture_t *f) { f->feed_event.detail = repeated(f, 0, 'd', 201); }
static void se_at_missing(fixture_t *f) { f->feed_event.has_at_ms = 0; }
static void se_at_in_seconds(fixture_t *f) { f->feed_event.at_ms = NOW_MS / 1000; }
static void se_at_far_ahead(fixture_t *f) { f->feed_event.at_ms = NOW_MS + 365LL * 86400000; }
static void se_detail_bad_utf8(fixture_t *f)
{
    f->feed_event.detail = "\xF8\x88\x80\x80\x80";
}

static const row_t status_event_rows[] = {
    ROW(valid_as_built, OK),                   ROW(se_platform_missing, "platform"),
    ROW(se_platform_uppercase, "platform"),    ROW(se_platform_64, OK),
    ROW(se_platform_65, "platform"),           ROW(se_event_missing, "event"),
    ROW(se_account_ref_missing, "event.account_ref"), ROW(se_kind_missing, "event.kind"),
    ROW(se_kind_unspecified, "event.kind"),    ROW(se_kind_unknown, "event.kind"),
    ROW(se_stage_32, OK),                      ROW(se_stage_33, "event.stage"),
    ROW(se_currency_absent, OK),               ROW(se_currency_unknown, "event.currency"),
    ROW(se_reference_64, OK),                  ROW(se_reference_65, "event.reference"),
    ROW(se_detail_200, OK),                    ROW(se_detail_201, "event.detail"),
    ROW(se_detail_bad_utf8, "event.detail"),   ROW(se_at_missing, "event.at_ms"),
    ROW(se_at_in_seconds, "event.at_ms"),      ROW(se_at_far_ahead, OK),   /* simulated clocks */
};

static void test_status_event(void **state)
{
    fixture_t *f = *state;
    run_rows(f, status_event_rows, COUNT(status_event_rows), validate_the_status_event);
}

static void fq_max_0(fixture_t *f)
{
    f->feed_query.has_max_events = 1;
    f->feed_query.max_events = 0;
}
static void fq_max_1000(fixture_t *f)
{
    f->feed_query.has_max_events = 1;
    f->feed_query.max_events = 1000;
}
static void fq_max_1001(fixture_t *f)
{
    f->feed_query.has_max_events = 1;
    f->feed_query.max_events = 1001;
}
static void fq_after_cursor_huge(fixture_t *f)
{
    f->feed_query.has_after_cursor = 1;
    f->feed_query.after_cursor = UINT64_MAX;
}

static const row_t feed_query_rows[] = {
    ROW(valid_as_built, OK),  ROW(fq_max_0, OK),           ROW(fq_max_1000, OK),
    ROW(fq_max_1001, "max_events"), ROW(fq_after_cursor_huge, OK),
};

static void test_feed_query(void **state)
{
    fixture_t *f = *state;
    run_rows(f, feed_query_rows, COUNT(feed_query_rows), validate_the_feed_query);
}

/* ---- the two public helpers ------------------------------------------------------ */

static void test_validate_ref(void **state)
{
    (void)state;
    char ref[70];
    memset(ref, 'A', sizeof ref);
    ref[64] = '\0';
    assert_true(validate_ref(ref));
    ref[64] = 'A';
    ref[65] = '\0';
    assert_false(validate_ref(ref));
    assert_true(validate_ref("a"));
    assert_true(validate_ref("Az09._:-"));
    assert_false(validate_ref(NULL));
    assert_false(validate_ref(""));
    const char *bad[] = {" ", "a b", "a/b", "a+b", "a@b", "a\tb", "é", "a\x7f", NULL};
    for (int i = 0; bad[i]; i++) assert_false(validate_ref(bad[i]));
}

static void test_validate_date(void **state)
{
    (void)state;
    int64_t days = -7;
    assert_int_equal(validate_date("1970-01-01", &days), 0);
    assert_int_equal(days, 0);
    assert_int_equal(validate_date("2028-02-29", &days), 0);
    assert_int_equal(days, tz_days_from_civil(2028, 2, 29));
    assert_int_equal(validate_date("2000-02-29", &days), 0);   /* divisible by 400 */
    assert_int_equal(validate_date("2200-12-31", &days), 0);
    assert_int_equal(days, tz_days_from_civil(2200, 12, 31));

    days = -7;
    const char *bad[] = {"2027-02-29", "2100-02-29", "1969-12-31", "2201-01-01",
                         "2026-00-10", "2026-12-32", "2026-06-31", "2026-1-01",
                         "2026-01-01 ", " 2026-01-01", "+026-01-01", "2026_01_01",
                         "20260101", "", "2026-0a-01", NULL};
    for (int i = 0; i < (int)(COUNT(bad)); i++) {
        if (validate_date(bad[i], &days) != -1) {
            print_error("accepted '%s'\n", bad[i] ? bad[i] : "(null)");
            fail();
        }
    }
    assert_int_equal(days, -7);   /* untouched on refusal */
}

static void test_default_limits(void **state)
{
    (void)state;
    validate_limits_t lim = validate_default_limits();
    assert_int_equal(lim.max_instalments, 600);
    assert_int_equal(lim.max_contact_points, 8);
    assert_int_equal(lim.max_rate_bps, 1000000);
    assert_int_equal(lim.future_slack_ms, 300000);
}

#define WITH_FIXTURE(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_limits),
        cmocka_unit_test(test_validate_ref),
        cmocka_unit_test(test_validate_date),
        WITH_FIXTURE(test_full_account_with_600_instalments),
        WITH_FIXTURE(test_account_top_level_and_borrower),
        WITH_FIXTURE(test_account_contact_points_and_address),
        WITH_FIXTURE(test_account_schedule),
        WITH_FIXTURE(test_account_rates_and_opened_date),
        WITH_FIXTURE(test_reasons_say_what_is_wrong),
        WITH_FIXTURE(test_time_zone_cache_full_is_retry_later),
        WITH_FIXTURE(test_payment),
        WITH_FIXTURE(test_contact_update),
        WITH_FIXTURE(test_complaint),
        WITH_FIXTURE(test_recall),
        WITH_FIXTURE(test_status_event),
        WITH_FIXTURE(test_feed_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
