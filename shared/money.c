/* money: overflow-checked integer arithmetic on minor units, the ISO 4217 exponent
 * table, half-even rounding, and the text form of amounts. See money.h for the rules. */
#include "money.h"

#include <assert.h>
#include <string.h>

/* 128-bit intermediates make amount * rate exact for every pair of int64 inputs. */
__extension__ typedef __int128 i128;

#define INT64_MAX_128 ((i128)INT64_MAX)
#define INT64_MIN_128 ((i128)INT64_MIN)

/* ISO 4217 list one (active codes) with their minor units, as published by the
 * maintenance agency in 2025, cross-checked against Debian's iso-codes code list.
 * Left out: codes whose minor unit is "N.A." (precious metals XAU XAG XPD XPT, bond
 * units XBA-XBD, XDR, XSU, XUA, test XTS, no-currency XXX) and HRK (withdrawn when
 * Croatia adopted the euro). Kept while still listed: ANG beside its successor XCG,
 * SLL beside SLE, ZWL beside ZWG, CUC, so old accounts in them still validate. */
static const struct {
    char code[4];
    unsigned char exponent;
} s_currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2},
    {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2},
    {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2},
    {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2},
    {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2},
    {"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0},
    {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2},
    {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2},
    {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2},
    {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2},
    {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2},
    {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2},
    {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2},
    {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2},
    {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2},
    {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2},
    {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2},
    {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
    {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2},
    {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2},
    {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2},
    {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2},
    {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2},
    {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
    {"ZWL", 2},
};

#define CURRENCY_COUNT (sizeof s_currencies / sizeof s_currencies[0])

static bool is_code_shape(const char *code)
{
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return false;
    return code[3] == '\0';
}

int money_currency_exponent(const char *code, int *exponent)
{
    assert(exponent);
    if (!code || !is_code_shape(code))
        return MONEY_ECURRENCY;
    /* A linear scan of 169 three-byte keys: cheap, and no sorted-order invariant for
     * the next editor of the table to break. */
    for (size_t i = 0; i < CURRENCY_COUNT; i++) {
        if (memcmp(s_currencies[i].code, code, 3) == 0) {
            *exponent = s_currencies[i].exponent;
            return MONEY_OK;
        }
    }
    return MONEY_ECURRENCY;
}

bool money_currency_known(const char *code)
{
    int exponent;
    return money_currency_exponent(code, &exponent) == MONEY_OK;
}

int money_add(int64_t a_minor, int64_t b_minor, int64_t *out_minor)
{
    assert(out_minor);
    int64_t sum;
    if (__builtin_add_overflow(a_minor, b_minor, &sum))
        return MONEY_EOVERFLOW;
    *out_minor = sum;
    return MONEY_OK;
}

int money_sub(int64_t a_minor, int64_t b_minor, int64_t *out_minor)
{
    assert(out_minor);
    int64_t diff;
    if (__builtin_sub_overflow(a_minor, b_minor, &diff))
        return MONEY_EOVERFLOW;
    *out_minor = diff;
    return MONEY_OK;
}

int money_mul(int64_t amount_minor, int64_t count, int64_t *out_minor)
{
    assert(out_minor);
    int64_t product;
    if (__builtin_mul_overflow(amount_minor, count, &product))
        return MONEY_EOVERFLOW;
    *out_minor = product;
    return MONEY_OK;
}

static bool fits_int64(i128 value)
{
    return value >= INT64_MIN_128 && value <= INT64_MAX_128;
}

int money_mul_div(int64_t amount_minor, int64_t num, int64_t den, int64_t *quotient,
                  int64_t *remainder)
{
    assert(quotient && remainder);
    if (den <= 0)
        return MONEY_EINVALID;
    /* |amount * num| <= 2^126: the product cannot overflow 128 bits. */
    i128 product = (i128)amount_minor * num;
    i128 q = product / den;
    if (!fits_int64(q))
        return MONEY_EOVERFLOW;
    *quotient = (int64_t)q;
    *remainder = (int64_t)(product % den); /* |r| < den <= INT64_MAX */
    return MONEY_OK;
}

int money_mul_div_carry(int64_t amount_minor, int64_t num, int64_t den, int64_t *carry,
                        int64_t *out_minor)
{
    assert(carry && out_minor);
    if (den <= 0)
        return MONEY_EINVALID;
    if (*carry <= -den || *carry >= den)
        return MONEY_EINVALID;
    /* |product| <= 2^126 and |carry| < 2^63: the sum stays inside 128 bits. */
    i128 total = (i128)amount_minor * num + *carry;
    i128 q = total / den;
    if (!fits_int64(q))
        return MONEY_EOVERFLOW;
    *out_minor = (int64_t)q;
    *carry = (int64_t)(total % den);
    return MONEY_OK;
}

int money_mul_div_round(int64_t amount_minor, int64_t num, int64_t den,
                        int64_t *out_minor)
{
    assert(out_minor);
    if (den <= 0)
        return MONEY_EINVALID;
    i128 product = (i128)amount_minor * num;
    i128 q = product / den;
    i128 r = product % den;
    i128 twice_abs_r = 2 * (r < 0 ? -r : r);
    int direction = product < 0 ? -1 : 1;
    /* Truncation went toward zero; step away from zero past the half, and on an exact
     * half only when that lands on an even quotient. */
    if (twice_abs_r > den || (twice_abs_r == den && (q & 1) != 0))
        q += direction;
    if (!fits_int64(q))
        return MONEY_EOVERFLOW;
    *out_minor = (int64_t)q;
    return MONEY_OK;
}

int money_apply_bps(int64_t amount_minor, int64_t rate_bps, int64_t *out_minor)
{
    return money_mul_div_round(amount_minor, rate_bps, MONEY_BPS_ONE, out_minor);
}

uint32_t money_rate_bps(int64_t part, int64_t whole)
{
    if (whole <= 0 || part <= 0)
        return 0;
    __int128 bps = (__int128)part * MONEY_BPS_ONE / whole;
    return bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
}

/* Accumulates one decimal digit into a NEGATIVE running value, so that INT64_MIN,
 * whose magnitude has no positive int64, parses like any other amount. */
static int push_digit(int64_t *neg_value, int digit)
{
    int64_t shifted;
    if (__builtin_mul_overflow(*neg_value, 10, &shifted)
        || __builtin_sub_overflow(shifted, digit, neg_value))
        return MONEY_EOVERFLOW;
    return MONEY_OK;
}

int money_parse(const char *text, const char *currency, int64_t *out_minor)
{
    assert(text && out_minor);
    int exponent;
    if (money_currency_exponent(currency, &exponent) != MONEY_OK)
        return MONEY_ECURRENCY;

    const char *p = text;
    bool negative = (*p == '-');
    if (negative)
        p++;
    if (*p < '0' || *p > '9')
        return MONEY_EPARSE;

    /* Scan the whole text for shape first, so junk is MONEY_EPARSE even when the
     * digits before it would have overflowed. */
    const char *int_start = p;
    while (*p >= '0' && *p <= '9')
        p++;
    const char *int_end = p;
    const char *frac_start = NULL;
    const char *frac_end = NULL;
    if (*p == '.') {
        frac_start = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        frac_end = p;
        if (frac_end == frac_start || frac_end - frac_start > exponent)
            return MONEY_EPARSE;
    }
    if (*p != '\0')
        return MONEY_EPARSE;

    int64_t neg_value = 0;
    int decimals = 0;
    for (p = int_start; p < int_end; p++)
        if (push_digit(&neg_value, *p - '0') != MONEY_OK)
            return MONEY_EOVERFLOW;
    for (p = frac_start; frac_start && p < frac_end; p++, decimals++)
        if (push_digit(&neg_value, *p - '0') != MONEY_OK)
            return MONEY_EOVERFLOW;
    for (; decimals < exponent; decimals++)
        if (push_digit(&neg_value, 0) != MONEY_OK)
            return MONEY_EOVERFLOW;

    if (!negative) {
        if (neg_value == INT64_MIN)
            return MONEY_EOVERFLOW;
        neg_value = -neg_value;
    }
    *out_minor = neg_value;
    return MONEY_OK;
}

int money_format(int64_t amount_minor, const char *currency, char *buf, size_t len)
{
    assert(buf && len > 0);
    buf[0] = '\0';
    int exponent;
    if (money_currency_exponent(currency, &exponent) != MONEY_OK)
        return MONEY_ECURRENCY;

    /* The magnitude as unsigned, so INT64_MIN needs no special case. */
    uint64_t magnitude = amount_minor < 0 ? 0 - (uint64_t)amount_minor
                                          : (uint64_t)amount_minor;
    char digits[MONEY_FORMAT_MAX];
    int n = 0;
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude > 0 || n <= exponent); /* at least one integer digit */

    size_t needed = (size_t)n + (amount_minor < 0) + (exponent > 0) + 1;
    if (needed > len)
        return MONEY_EINVALID;
    char *out = buf;
    if (amount_minor < 0)
        *out++ = '-';
    for (int i = n - 1; i >= 0; i--) {
        *out++ = digits[i];
        if (i == exponent && exponent > 0)
            *out++ = '.';
    }
    *out = '\0';
    return MONEY_OK;
}

const char *money_strerror(int code)
{
    switch (code) {
    case MONEY_OK:
        return "success";
    case MONEY_EOVERFLOW:
        return "amount out of the int64 minor-unit range";
    case MONEY_ECURRENCY:
        return "unknown currency (not an active ISO 4217 code with a minor unit)";
    case MONEY_EINVALID:
        return "invalid argument";
    case MONEY_EPARSE:
        return "not an amount in that currency";
    default:
        return "unknown money error";
    }
}
