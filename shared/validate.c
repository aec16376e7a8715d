/* validate: the field-by-field checks of platform messages (see validate.h).
 *
 * Layout: small checkers for one kind of value (text, ref, date, amount, instant, enum,
 * phone, e-mail), then one checker per sub-message (contact list, address, borrower,
 * instalment, schedule, rates), then the public function per message. Every checker
 * returns 0 or APPLY_REJECTED with *reject filled, so a message check reads as a chain
 * `check_a(...) || check_b(...)` that stops at the first refusal. Fields are checked in
 * their .proto order, so the first bad field is the one reported. */
#include "validate.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "money.h"
#include "receiver.h"

/* The limits written in platform.proto / account.proto comments. */
#define NAME_MAX_BYTES 200
#define ID_NUMBER_HASH_BYTES 32             /* SHA-256 */
#define PHONE_MIN_DIGITS 8                  /* E.164: '+' then 8..15 digits */
#define PHONE_MAX_DIGITS 15
#define EMAIL_MAX_BYTES 254                 /* RFC 5321 path limit */
#define EMAIL_LOCAL_MAX_BYTES 64
#define ADDRESS_LINE_MAX_BYTES 200
#define ADDRESS_CITY_MAX_BYTES 100
#define ADDRESS_REGION_MAX_BYTES 100
#define ADDRESS_POSTAL_CODE_MAX_BYTES 20
#define LANGUAGE_MIN_BYTES 2                /* BCP 47: "en" .. 35 bytes */
#define LANGUAGE_MAX_BYTES 35
#define CATEGORY_MAX_BYTES 64
#define COMPLAINT_TEXT_MAX_BYTES 4000
#define RECALL_REASON_MAX_BYTES 500
#define PLATFORM_MAX_BYTES 64
#define STAGE_MAX_BYTES 32
#define FEED_REFERENCE_MAX_BYTES 64
#define FEED_DETAIL_MAX_BYTES 200
#define FEED_MAX_EVENTS 1000
/* No platform has a payment or complaint from before 2000: such an instant is a unit
 * mistake (seconds for milliseconds) or an unset clock. */
#define EARLIEST_INSTANT_MS INT64_C(946684800000)   /* 2000-01-01T00:00:00Z */

#define REF_RULE "1 to 64 bytes of A-Z a-z 0-9 . _ : -"
#define PLATFORM_RULE "1 to 64 bytes of a-z 0-9 . _ -"
#define LANGUAGE_RULE "a BCP 47 tag, 2 to 35 bytes of A-Z a-z 0-9 -"

validate_limits_t validate_default_limits(void)
{
    return (validate_limits_t){
        .max_instalments = 600,
        .max_contact_points = 8,
        .max_rate_bps = 1000000,
        .future_slack_ms = 300000,
    };
}

/* ---- refusals and field paths ---------------------------------------------------- */

static int refuse(reject_t *reject, const char *field, const char *reason_fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(reject_t *reject, const char *field, const char *reason_fmt, ...)
{
    char reason[REJECT_REASON_MAX];
    va_list args;
    va_start(args, reason_fmt);
    vsnprintf(reason, sizeof reason, reason_fmt, args);
    va_end(args);
    reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT,
               ARREARS__REJECT__CODE__INVALID_FIELD, field, "%s", reason);
    return APPLY_REJECTED;
}

/* A field path built on the stack: "borrower.phones[2].value". The longest we build
 * ("borrower.address.postal_code", "schedule[599].principal_minor") fits with room. */
typedef struct {
    char text[REJECT_FIELD_MAX];
} field_path_t;

/* Paths built without printf: validation builds one per checked field, and the printf
 * family showed as a tenth of intake's profile. index < 0: no "[i]"; name NULL:
 * no ".name". Cut at the buffer's end like snprintf. */
static const char *path_join(field_path_t *path, const char *prefix, long index, const char *name)
{
    char digits[24], *d = digits + sizeof digits;
    size_t used = 0, cap = sizeof path->text - 1;
    const char *parts[5] = { prefix, NULL, NULL, NULL, NULL };
    if (index >= 0) {
        *--d = 0;
        do {
            *--d = (char)('0' + index % 10);
            index /= 10;
        } while (index > 0);
        parts[1] = "[";
        parts[2] = d;
        parts[3] = "]";
    }
    for (int i = 0; i < 5; i++) {
        const char *part = i == 4 ? name : parts[i];
        if (i == 4 && name && used < cap)
            path->text[used++] = '.';
        for (; part && *part && used < cap; part++)
            path->text[used++] = *part;
    }
    path->text[used] = 0;
    return path->text;
}

static bool is_given(const char *text)
{
    return text && text[0] != '\0';
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }

/* ---- text: UTF-8 and control characters ------------------------------------------ */

typedef enum {
    ONE_LINE,    /* names, refs, address lines: no control characters at all */
    FREE_TEXT,   /* what a person wrote: tabs and line breaks allowed */
} text_form_t;

/* Decodes the character at *pos and advances past it. Refuses what RFC 3629 forbids:
 * overlong forms (a second spelling of the same character slips past filters that
 * compare bytes), UTF-16 surrogates and anything above U+10FFFF. */
static bool utf8_next(const unsigned char *s, size_t len, size_t *pos, uint32_t *cp,
                      const char **why)
{
    unsigned char lead = s[*pos];
    size_t follow;
    uint32_t value, smallest;
    if (lead < 0x80) {
        *cp = lead;
        *pos += 1;
        return true;
    }
    if (lead < 0xC0) {
        *why = "a continuation byte where a character should start";
        return false;
    }
    if (lead < 0xE0) { follow = 1; value = lead & 0x1Fu; smallest = 0x80; }
    else if (lead < 0xF0) { follow = 2; value = lead & 0x0Fu; smallest = 0x800; }
    else if (lead < 0xF8) { follow = 3; value = lead & 0x07u; smallest = 0x10000; }
    else {
        *why = "a byte that never occurs in UTF-8";
        return false;
    }
    for (size_t k = 1; k <= follow; k++) {
        if (*pos + k >= len || (s[*pos + k] & 0xC0u) != 0x80u) {
            *why = "a multi-byte sequence cut short";
            return false;
        }
        value = (value << 6) | (s[*pos + k] & 0x3Fu);
    }
    if (value < smallest) *why = "an overlong encoding";
    else if (value >= 0xD800 && value <= 0xDFFF) *why = "a UTF-16 surrogate";
    else if (value > 0x10FFFF) *why = "a code point above U+10FFFF";
    else {
        *cp = value;
        *pos += follow + 1;
        return true;
    }
    return false;
}

static bool is_control_character(uint32_t cp, text_form_t form)
{
    if (form == FREE_TEXT && (cp == '\t' || cp == '\n' || cp == '\r')) return false;
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);   /* C0, DEL, C1 */
}

/* 0 when text[0..len) is well-formed UTF-8 with no forbidden control character. */
static int check_characters(const char *text, size_t len, text_form_t form,
                            const char *field, reject_t *reject)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t pos = 0;
    while (pos < len) {
        size_t start = pos;
        uint32_t cp = 0;
        const char *why = NULL;
        if (!utf8_next(s, len, &pos, &cp, &why))
            return refuse(reject, field, "not valid UTF-8: %s at byte %zu", why, start);
        if (is_control_character(cp, form))
            return refuse(reject, field,
                          "control character U+%04X at byte %zu is not allowed",
                          (unsigned)cp, start);
    }
    return 0;
}

/* A text field of min_bytes..max_bytes; min_bytes 0 makes it optional. */
static int check_text(const char *text, size_t min_bytes, size_t max_bytes,
                      text_form_t form, const char *field, reject_t *reject)
{
    size_t len = text ? strlen(text) : 0;
    if (len == 0 && min_bytes > 0)
        return refuse(reject, field, "missing (required: %zu to %zu bytes of UTF-8 text)",
                      min_bytes, max_bytes);
    if (len > max_bytes)
        return refuse(reject, field, "too long: %zu byte%s, at most %zu", len, plural(len),
                      max_bytes);
    if (len < min_bytes)
        return refuse(reject, field, "too short: %zu byte%s, at least %zu", len,
                      plural(len), min_bytes);
    return check_characters(text, len, form, field, reject);
}

/* ---- tokens: refs, platform names, language tags --------------------------------- */

typedef bool (*byte_allowed_fn)(unsigned char c);

static bool is_ref_byte(unsigned char c)
{
    return is_digit(c) || is_upper(c) || is_lower(c) || c == '.' || c == '_' || c == ':' ||
           c == '-';
}

static bool is_platform_byte(unsigned char c)
{
    return is_digit(c) || is_lower(c) || c == '.' || c == '_' || c == '-';
}

static bool is_language_byte(unsigned char c)
{
    return is_digit(c) || is_upper(c) || is_lower(c) || c == '-';
}

static bool token_fits(const char *text, size_t min_bytes, size_t max_bytes,
                       byte_allowed_fn allowed)
{
    if (!text) return false;
    size_t len = strnlen(text, max_bytes + 1);
    if (len < min_bytes || len > max_bytes) return false;
    for (size_t i = 0; i < len; i++)
        if (!allowed((unsigned char)text[i])) return false;
    return true;
}

/* Says which rule a token breaks. Printing the offending byte in hex, not as text,
 * keeps the reason printable whatever the platform sent. */
static int check_token(const char *text, size_t min_bytes, size_t max_bytes,
                       byte_allowed_fn allowed, const char *rule, const char *field,
                       reject_t *reject)
{
    size_t len = text ? strlen(text) : 0;
    if (len == 0) return refuse(reject, field, "missing (required: %s)", rule);
    if (len < min_bytes || len > max_bytes)
        return refuse(reject, field, "%zu byte%s; must be %s", len, plural(len), rule);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!allowed(c))
            return refuse(reject, field, "byte %zu (0x%02X) is not allowed; must be %s", i,
                          c, rule);
    }
    return 0;
}

static int check_ref(const char *ref, const char *field, reject_t *reject)
{
    return check_token(ref, 1, VALIDATE_REF_MAX_BYTES, is_ref_byte, REF_RULE, field,
                       reject);
}

bool validate_ref(const char *ref)
{
    return token_fits(ref, 1, VALIDATE_REF_MAX_BYTES, is_ref_byte);
}

/* ---- dates, instants, amounts, currencies, enums --------------------------------- */

int validate_date(const char *text, int64_t *days)
{
    char why[96];
    return tz_date_parse(text, VALIDATE_YEAR_MIN, VALIDATE_YEAR_MAX, days, why, sizeof why) ? 0 : -1;
}

static int check_date(const char *text, const char *field, int64_t *days, reject_t *reject)
{
    char why[96];
    if (!is_given(text))
        return refuse(reject, field, "missing (required: a date YYYY-MM-DD)");
    if (!tz_date_parse(text, VALIDATE_YEAR_MIN, VALIDATE_YEAR_MAX, days, why, sizeof why)) return refuse(reject, field, "%s", why);
    return 0;
}

/* An instant the platform saw happen: not before 2000, not past now by more than the
 * clock skew we tolerate. */
static int check_instant(bool has, int64_t at_ms, int64_t now_ms, int64_t slack_ms,
                         const char *field, reject_t *reject)
{
    assert(slack_ms >= 0);
    if (!has) return refuse(reject, field, "missing (required: Unix milliseconds, UTC)");
    if (at_ms < EARLIEST_INSTANT_MS)
        return refuse(reject, field,
                      "%lld is before 2000-01-01T00:00:00Z (%lld): milliseconds expected",
                      (long long)at_ms, (long long)EARLIEST_INSTANT_MS);
    if (at_ms <= now_ms) return 0;
    /* at_ms > now_ms, so the unsigned difference is exact even near INT64_MAX. */
    uint64_t ahead_ms = (uint64_t)at_ms - (uint64_t)now_ms;
    if (ahead_ms > (uint64_t)slack_ms)
        return refuse(reject, field,
                      "%lld is in the future: %llu ms after now, at most %lld",
                      (long long)at_ms, (unsigned long long)ahead_ms, (long long)slack_ms);
    return 0;
}

/* An optional amount: absent counts as 0; amounts are never negative. */
static int check_amount(bool has, int64_t value, const char *field, int64_t *out,
                        reject_t *reject)
{
    *out = has ? value : 0;
    if (*out < 0)
        return refuse(reject, field, "%lld is negative; amounts are never negative",
                      (long long)*out);
    return 0;
}

static int check_currency(const char *code, bool required, const char *field,
                          reject_t *reject)
{
    if (!is_given(code)) {
        if (!required) return 0;
        return refuse(reject, field,
                      "missing (required: an ISO 4217 code such as CNY, GBP)");
    }
    if (money_currency_known(code)) return 0;
    if (token_fits(code, 3, 3, is_upper))
        return refuse(reject, field, "%s is not an ISO 4217 currency with a minor unit",
                      code);
    return refuse(reject, field, "not an ISO 4217 code (three uppercase letters)");
}

/* "A, B, C": the values a platform may send, for the reason text. */
static void list_enum_choices(const ProtobufCEnumDescriptor *d, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < d->n_values; i++) {
        if (d->values[i].value == 0) continue;   /* *_UNSPECIFIED is never a choice */
        const char *name = d->values[i].name;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
        if (n < 0 || (size_t)n >= len - used) return;
        used += (size_t)n;
    }
}

/* protobuf-c stores an enum number it does not know as it came: look it up in the
 * compiled contract. */
static bool enum_known(const ProtobufCEnumDescriptor *d, int value)
{
    return protobuf_c_enum_descriptor_get_value(d, value) != NULL;
}

static int check_required_enum(bool has, int value, const ProtobufCEnumDescriptor *d,
                               const char *field, reject_t *reject)
{
    char choices[192];
    list_enum_choices(d, choices, sizeof choices);
    if (!has) return refuse(reject, field, "missing (required: one of %s)", choices);
    if (value == 0)
        return refuse(reject, field, "%s is refused: send one of %s",
                      protobuf_c_enum_descriptor_get_value(d, 0)->name, choices);
    if (!enum_known(d, value))
        return refuse(reject, field, "unknown value %d (known: %s)", value, choices);
    return 0;
}

/* ---- contact points and address -------------------------------------------------- */

static int check_phone(const char *value, const char *field, reject_t *reject)
{
    size_t len = value ? strlen(value) : 0;
    if (len == 0)
        return refuse(reject, field, "missing (required: E.164, '+' then 8 to 15 digits)");
    if (value[0] != '+') return refuse(reject, field, "not E.164: must start with '+'");
    for (size_t i = 1; i < len; i++)
        if (!is_digit((unsigned char)value[i]))
            return refuse(reject, field, "not E.164: byte %zu is not a digit", i);
    size_t digits = len - 1;
    if (digits < PHONE_MIN_DIGITS || digits > PHONE_MAX_DIGITS)
        return refuse(reject, field, "not E.164: %zu digits after '+', must be %d to %d",
                      digits, PHONE_MIN_DIGITS, PHONE_MAX_DIGITS);
    if (value[1] == '0')
        return refuse(reject, field, "not E.164: a country code never starts with 0");
    return 0;
}

/* The domain needs a dot and no empty label ("a@.com", "a@b..com", "a@b.com."). */
static int check_email_domain(const char *domain, const char *field, reject_t *reject)
{
    size_t len = strlen(domain);
    if (len == 0) return refuse(reject, field, "not an e-mail address: nothing after '@'");
    if (!strchr(domain, '.'))
        return refuse(reject, field, "not an e-mail address: no dot in the domain");
    if (domain[0] == '.' || domain[len - 1] == '.' || strstr(domain, ".."))
        return refuse(reject, field, "not an e-mail address: an empty label in the domain");
    return 0;
}

static int check_email(const char *value, const char *field, reject_t *reject)
{
    if (!is_given(value))
        return refuse(reject, field, "missing (required: an e-mail address)");
    if (check_text(value, 1, EMAIL_MAX_BYTES, ONE_LINE, field, reject))
        return APPLY_REJECTED;
    if (strchr(value, ' '))
        return refuse(reject, field, "not an e-mail address: it holds a space");
    const char *at = strchr(value, '@');
    if (!at) return refuse(reject, field, "not an e-mail address: no '@'");
    if (strchr(at + 1, '@'))
        return refuse(reject, field, "not an e-mail address: more than one '@'");
    size_t local_len = (size_t)(at - value);
    if (local_len == 0)
        return refuse(reject, field, "not an e-mail address: nothing before '@'");
    if (local_len > EMAIL_LOCAL_MAX_BYTES)
        return refuse(reject, field, "the part before '@' is %zu bytes, at most %d",
                      local_len, EMAIL_LOCAL_MAX_BYTES);
    return check_email_domain(at + 1, field, reject);
}

typedef enum { PHONE_LIST, EMAIL_LIST } contact_kind_t;

/* list_path: "borrower.phones" in an account, "phones" in a contact update. */
static int check_contact_points(Arrears__ContactPoint *const *points, size_t count,
                                contact_kind_t kind, const char *list_path,
                                const validate_limits_t *lim, reject_t *reject)
{
    if (count > lim->max_contact_points)
        return refuse(reject, list_path, "%zu entries, at most %zu", count,
                      lim->max_contact_points);
    for (size_t i = 0; i < count; i++) {
        field_path_t path;
        const char *field = path_join(&path, list_path, (long)i, "value");
        const char *value = points[i] ? points[i]->value : NULL;
        int rc = kind == PHONE_LIST ? check_phone(value, field, reject)
                                    : check_email(value, field, reject);
        if (rc) return rc;
    }
    return 0;
}

static int check_address(const Arrears__Address *a, const char *prefix, reject_t *reject)
{
    if (!a) return 0;   /* optional */
    const struct {
        const char *name, *value;
        size_t max_bytes;
    } lines[] = {
        {"line1", a->line1, ADDRESS_LINE_MAX_BYTES},
        {"line2", a->line2, ADDRESS_LINE_MAX_BYTES},
        {"city", a->city, ADDRESS_CITY_MAX_BYTES},
        {"region", a->region, ADDRESS_REGION_MAX_BYTES},
        {"postal_code", a->postal_code, ADDRESS_POSTAL_CODE_MAX_BYTES},
    };
    field_path_t p;
    bool any_line = false;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const char *field = path_join(&p, prefix, -1, lines[i].name);
        if (check_text(lines[i].value, 0, lines[i].max_bytes, ONE_LINE, field, reject))
            return APPLY_REJECTED;
        any_line = any_line || is_given(lines[i].value);
    }
    const char *country_field = path_join(&p, prefix, -1, "country");
    if (is_given(a->country)) {
        if (!token_fits(a->country, 2, 2, is_upper))
            return refuse(reject, country_field,
                          "not ISO 3166-1 alpha-2: two uppercase letters such as CN, GB");
        return 0;
    }
    /* A letter cannot be sent to lines without a country. */
    if (any_line)
        return refuse(reject, country_field,
                      "missing: required when any other address field is set");
    return 0;
}

/* ---- borrower -------------------------------------------------------------------- */

/* The zone must load: every due date and contact window of the account is computed
 * in it. A failure that is ours, not the platform's, is not a permanent refusal. */
static int check_time_zone(const char *name, tz_cache_t *zones, reject_t *reject)
{
    const char *field = "borrower.time_zone";
    if (!is_given(name))
        return refuse(reject, field,
                      "missing (required: an IANA zone such as Asia/Shanghai)");
    if (!tz_name_valid(name))
        return refuse(reject, field,
                      "not an IANA zone name: 1 to 64 bytes of A-Z a-z 0-9 / _ + -");
    const tz_zone_t *zone = NULL;
    int rc = tz_cache_get(zones, name, &zone);
    switch (rc) {
    case TZ_OK:
        return 0;
    case TZ_EFULL:
    case TZ_ENOMEM:
    case TZ_EIO:
        reject_set(reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY,
                   field, "cannot load the time zone now: %s", tz_strerror(rc));
        return APPLY_REJECTED;
    default:   /* unknown, not a zone file, leap-second (right/) data */
        return refuse(reject, field, "%s is not a time zone this system can use: %s", name,
                      tz_strerror(rc));
    }
}

static int check_borrower(const Arrears__Borrower *b, const validate_limits_t *lim,
                          tz_cache_t *zones, reject_t *reject)
{
    if (!b) return refuse(reject, "borrower", "missing (required: the person who owes)");
    if (check_text(b->name, 1, NAME_MAX_BYTES, ONE_LINE, "borrower.name", reject))
        return APPLY_REJECTED;
    if (!b->has_id_number_hash || b->id_number_hash.len == 0)
        return refuse(reject, "borrower.id_number_hash",
                      "missing (required: SHA-256 of the national id number, 32 bytes)");
    if (b->id_number_hash.len != ID_NUMBER_HASH_BYTES)
        return refuse(reject, "borrower.id_number_hash",
                      "%zu byte%s; a SHA-256 is %d bytes", b->id_number_hash.len,
                      plural(b->id_number_hash.len), ID_NUMBER_HASH_BYTES);
    if (check_contact_points(b->phones, b->n_phones, PHONE_LIST, "borrower.phones", lim,
                             reject) ||
        check_contact_points(b->emails, b->n_emails, EMAIL_LIST, "borrower.emails", lim,
                             reject) ||
        check_address(b->address, "borrower.address", reject) ||
        check_time_zone(b->time_zone, zones, reject))
        return APPLY_REJECTED;
    if (is_given(b->language) &&
        check_token(b->language, LANGUAGE_MIN_BYTES, LANGUAGE_MAX_BYTES, is_language_byte,
                    LANGUAGE_RULE, "borrower.language", reject))
        return APPLY_REJECTED;
    return 0;
}

/* ---- schedule -------------------------------------------------------------------- */

/* One instalment; *owed = principal + interest + fees, computed without overflow. */
static int check_instalment(const Arrears__Instalment *it, size_t index, int64_t *due_day,
                            int64_t *owed, reject_t *reject)
{
    field_path_t p;
    if (!it)
        return refuse(reject, path_join(&p, "schedule", (long)index, NULL), "missing instalment");
    int64_t principal, interest, fees, paid;
    if (check_date(it->due_date, path_join(&p, "schedule", (long)index, "due_date"), due_day,
                   reject) ||
        check_amount(it->has_principal_minor, it->principal_minor,
                     path_join(&p, "schedule", (long)index, "principal_minor"), &principal,
                     reject) ||
        check_amount(it->has_interest_minor, it->interest_minor,
                     path_join(&p, "schedule", (long)index, "interest_minor"), &interest,
                     reject) ||
        check_amount(it->has_fees_minor, it->fees_minor,
                     path_join(&p, "schedule", (long)index, "fees_minor"), &fees, reject) ||
        check_amount(it->has_paid_minor, it->paid_minor,
                     path_join(&p, "schedule", (long)index, "paid_minor"), &paid, reject))
        return APPLY_REJECTED;
    if (money_add(principal, interest, owed) != MONEY_OK)
        return refuse(reject, path_join(&p, "schedule", (long)index, "interest_minor"),
                      "principal + interest overflows int64 minor units");
    if (money_add(*owed, fees, owed) != MONEY_OK)
        return refuse(reject, path_join(&p, "schedule", (long)index, "fees_minor"),
                      "principal + interest + fees overflows int64 minor units");
    if (*owed == 0)
        return refuse(reject, path_join(&p, "schedule", (long)index, NULL),
                      "owes nothing: principal + interest + fees must be above 0");
    if (paid > *owed)
        return refuse(reject, path_join(&p, "schedule", (long)index, "paid_minor"),
                      "%lld is more than the instalment's %lld "
                      "(principal + interest + fees)",
                      (long long)paid, (long long)*owed);
    return 0;
}

/* Due dates strictly increase, and the whole schedule's total must fit in int64 too:
 * staging sums it into the account's balance. */
static int check_schedule(Arrears__Instalment *const *items, size_t count,
                          const validate_limits_t *lim, int64_t *first_due_day,
                          reject_t *reject)
{
    if (count == 0)
        return refuse(reject, "schedule", "empty: at least 1 instalment required");
    if (count > lim->max_instalments)
        return refuse(reject, "schedule", "%zu instalments, at most %zu", count,
                      lim->max_instalments);
    int64_t previous_day = 0, total = 0;
    for (size_t i = 0; i < count; i++) {
        int64_t day = 0, owed = 0;
        if (check_instalment(items[i], i, &day, &owed, reject)) return APPLY_REJECTED;
        field_path_t p;
        if (i > 0 && day <= previous_day)
            return refuse(reject, path_join(&p, "schedule", (long)i, "due_date"),
                          "due dates must increase: %s is not after %s", items[i]->due_date,
                          items[i - 1]->due_date);
        if (money_add(total, owed, &total) != MONEY_OK)
            return refuse(reject, path_join(&p, "schedule", (long)i, NULL),
                          "the schedule's total overflows int64 minor units here");
        if (i == 0) *first_due_day = day;
        previous_day = day;
    }
    return 0;
}

/* ---- rates ----------------------------------------------------------------------- */

static int check_rate(bool has_bps, int64_t bps, bool has_period, int period,
                      const char *bps_field, const char *period_field,
                      const validate_limits_t *lim, reject_t *reject)
{
    int64_t value = has_bps ? bps : 0;
    if (value < 0 || value > lim->max_rate_bps)
        return refuse(reject, bps_field, "%lld bps is outside 0 to %lld", (long long)value,
                      (long long)lim->max_rate_bps);
    if (has_period && !enum_known(&arrears__rate_period__descriptor, period))
        return refuse(reject, period_field, "unknown value %d (known: PER_DAY, PER_YEAR)",
                      period);
    bool period_set = has_period && period != ARREARS__RATE_PERIOD__RATE_PERIOD_UNSPECIFIED;
    if (value > 0 && !period_set)
        return refuse(reject, period_field,
                      "missing: a rate above 0 needs PER_DAY or PER_YEAR");
    return 0;
}

static int check_rates(const Arrears__ContractRates *r, const validate_limits_t *lim,
                       reject_t *reject)
{
    if (!r) return 0;   /* no rates: nothing accrues beyond the schedule */
    if (check_rate(r->has_interest_bps, r->interest_bps, r->has_interest_period,
                   (int)r->interest_period, "rates.interest_bps", "rates.interest_period",
                   lim, reject) ||
        check_rate(r->has_penalty_bps, r->penalty_bps, r->has_penalty_period,
                   (int)r->penalty_period, "rates.penalty_bps", "rates.penalty_period", lim,
                   reject))
        return APPLY_REJECTED;
    int64_t cap = r->has_penalty_cap_bps ? r->penalty_cap_bps : 0;
    if (cap < 0 || cap > lim->max_rate_bps)
        return refuse(reject, "rates.penalty_cap_bps", "%lld bps is outside 0 to %lld",
                      (long long)cap, (long long)lim->max_rate_bps);
    return 0;
}

/* ---- messages -------------------------------------------------------------------- */

static int check_opened_date(const char *text, int64_t first_due_day, const char *first_due,
                             reject_t *reject)
{
    int64_t opened_day = 0;
    if (!is_given(text)) return 0;   /* optional */
    if (check_date(text, "opened_date", &opened_day, reject)) return APPLY_REJECTED;
    if (opened_day > first_due_day)
        return refuse(reject, "opened_date", "%s is after the first due date %s", text,
                      first_due);
    return 0;
}

int validate_account_upsert(const Arrears__AccountUpsert *m, const validate_limits_t *lim,
                            tz_cache_t *zones, reject_t *reject)
{
    assert(m && lim && zones && reject);
    int64_t first_due_day = 0;
    if (check_ref(m->account_ref, "account_ref", reject) ||
        check_required_enum(m->has_product, (int)m->product, &arrears__product__descriptor,
                            "product", reject) ||
        check_currency(m->currency, true, "currency", reject) ||
        check_borrower(m->borrower, lim, zones, reject) ||
        check_schedule(m->schedule, m->n_schedule, lim, &first_due_day, reject) ||
        check_rates(m->rates, lim, reject) ||
        check_opened_date(m->opened_date, first_due_day, m->schedule[0]->due_date, reject))
        return APPLY_REJECTED;
    return 0;
}

int validate_payment(const Arrears__PaymentPosted *m, int64_t now_ms,
                     const validate_limits_t *lim, reject_t *reject)
{
    assert(m && lim && reject);
    if (check_ref(m->account_ref, "account_ref", reject) ||
        check_ref(m->payment_ref, "payment_ref", reject))
        return APPLY_REJECTED;
    if (!m->has_amount_minor)
        return refuse(reject, "amount_minor",
                      "missing (required: above 0, in minor units)");
    if (m->amount_minor <= 0)
        return refuse(reject, "amount_minor", "must be above 0, got %lld",
                      (long long)m->amount_minor);
    if (check_currency(m->currency, true, "currency", reject) ||
        check_instant(m->has_paid_at_ms, m->paid_at_ms, now_ms, lim->future_slack_ms,
                      "paid_at_ms", reject) ||
        check_required_enum(m->has_channel, (int)m->channel,
                            &arrears__payment_channel__descriptor, "channel", reject))
        return APPLY_REJECTED;
    return 0;
}

/* An absent repeated field cannot say "none", hence the clear flags; both at once
 * contradict each other and we will not guess which one the platform meant. */
static int check_clear_flag(bool clear, size_t given, const char *flag, const char *list,
                            reject_t *reject)
{
    if (clear && given > 0)
        return refuse(reject, flag,
                      "%s is set, yet %s are given too (%zu): send one or the other", flag,
                      list, given);
    return 0;
}

int validate_contact_update(const Arrears__ContactUpdate *m, const validate_limits_t *lim,
                            reject_t *reject)
{
    assert(m && lim && reject);
    if (check_ref(m->account_ref, "account_ref", reject) ||
        check_contact_points(m->phones, m->n_phones, PHONE_LIST, "phones", lim, reject) ||
        check_contact_points(m->emails, m->n_emails, EMAIL_LIST, "emails", lim, reject) ||
        check_address(m->address, "address", reject) ||
        check_clear_flag(m->has_clear_phones && m->clear_phones, m->n_phones,
                         "clear_phones", "phones", reject) ||
        check_clear_flag(m->has_clear_emails && m->clear_emails, m->n_emails,
                         "clear_emails", "emails", reject))
        return APPLY_REJECTED;
    return 0;
}

int validate_complaint(const Arrears__Complaint *m, int64_t now_ms,
                       const validate_limits_t *lim, reject_t *reject)
{
    assert(m && lim && reject);
    if (check_ref(m->account_ref, "account_ref", reject) ||
        check_ref(m->complaint_ref, "complaint_ref", reject) ||
        check_required_enum(m->has_kind, (int)m->kind, &arrears__complaint_kind__descriptor,
                            "kind", reject) ||
        check_text(m->category, 1, CATEGORY_MAX_BYTES, ONE_LINE, "category", reject) ||
        check_text(m->text, 0, COMPLAINT_TEXT_MAX_BYTES, FREE_TEXT, "text", reject) ||
        check_instant(m->has_received_at_ms, m->received_at_ms, now_ms,
                      lim->future_slack_ms, "received_at_ms", reject))
        return APPLY_REJECTED;
    return 0;
}

int validate_recall(const Arrears__Recall *m, reject_t *reject)
{
    assert(m && reject);
    if (check_ref(m->account_ref, "account_ref", reject) ||
        check_text(m->reason, 0, RECALL_REASON_MAX_BYTES, FREE_TEXT, "reason", reject))
        return APPLY_REJECTED;
    return 0;
}

int validate_status_event(const Arrears__StatusEvent *m, reject_t *reject)
{
    assert(m && reject);
    if (check_token(m->platform, 1, PLATFORM_MAX_BYTES, is_platform_byte, PLATFORM_RULE,
                    "platform", reject))
        return APPLY_REJECTED;
    const Arrears__FeedEvent *e = m->event;
    if (!e) return refuse(reject, "event", "missing (required: the feed event)");
    if (check_ref(e->account_ref, "event.account_ref", reject) ||
        check_required_enum(e->has_kind, (int)e->kind,
                            &arrears__feed_event_kind__descriptor, "event.kind", reject) ||
        /* Required: retention is by age. No upper bound: a simulated clock runs ahead. */
        check_instant(e->has_at_ms, e->at_ms, INT64_MAX, 0, "event.at_ms", reject) ||
        check_text(e->stage, 0, STAGE_MAX_BYTES, ONE_LINE, "event.stage", reject) ||
        check_currency(e->currency, false, "event.currency", reject) ||
        check_text(e->reference, 0, FEED_REFERENCE_MAX_BYTES, ONE_LINE, "event.reference",
                   reject) ||
        check_text(e->detail, 0, FEED_DETAIL_MAX_BYTES, ONE_LINE, "event.detail", reject))
        return APPLY_REJECTED;
    return 0;
}

int validate_feed_query(const Arrears__FeedQuery *m, reject_t *reject)
{
    assert(m && reject);
    if (m->has_max_events && m->max_events > FEED_MAX_EVENTS)
        return refuse(reject, "max_events",
                      "%u is above %d (0 or absent: the default page)",
                      (unsigned)m->max_events, FEED_MAX_EVENTS);
    return 0;
}
