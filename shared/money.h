/* money: amounts as int64 minor units of an ISO 4217 currency, and the only arithmetic
 * the project does on them. No floating point anywhere: a balance must come out the
 * same on every machine, in every report and in court.
 *
 * Every operation checks overflow and says so (MONEY_EOVERFLOW) instead of wrapping.
 * Rates are basis points (1 bps = 1/10000).
 *
 * Rounding. Where a result must be rounded to a minor unit there is ONE rule:
 * round half to even ("banker's rounding"): 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2.
 * Half-up would push every tie the same way, so over millions of accounts the book
 * would drift upward by a systematic amount; half-even sends ties up and down equally
 * often, so rounding errors cancel instead of accumulating. Where a total must be
 * exact (daily penalty accrual) do not round at all: use money_mul_div() or
 * money_mul_div_carry() and carry the remainder to the next step. */
#ifndef ARREARS_MONEY_H
#define ARREARS_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    MONEY_OK = 0,
    MONEY_EOVERFLOW = -30801, /* the result does not fit in int64 minor units */
    MONEY_ECURRENCY = -30802, /* not an active ISO 4217 code with a minor unit */
    MONEY_EINVALID = -30803,  /* an argument out of its domain (den <= 0, small buffer) */
    MONEY_EPARSE = -30804,    /* text that is not an amount in that currency */
};

/* Basis points in one whole: rate_bps / MONEY_BPS_ONE is the fraction. */
#define MONEY_BPS_ONE 10000

/* Longest currency exponent in ISO 4217 (CLF, UYW). */
#define MONEY_EXPONENT_MAX 4

/* Bytes money_format() may need: "-9223372036854775808" with a '.' and a NUL. */
#define MONEY_FORMAT_MAX 24

/* The minor-unit exponent of an active ISO 4217 currency: 2 for USD/EUR/CNY, 0 for
 * JPY/KRW/VND, 3 for KWD/BHD, 4 for CLF. The code must be exactly three uppercase
 * letters. Codes without a minor unit (gold XAU, SDR XDR, test XTS, ...) are not
 * currencies a debt can be in: MONEY_ECURRENCY. */
int money_currency_exponent(const char *code, int *exponent);
bool money_currency_known(const char *code);

/* Overflow-checked a + b, a - b, amount * count. *out is written only on MONEY_OK. */
int money_add(int64_t a_minor, int64_t b_minor, int64_t *out_minor);
int money_sub(int64_t a_minor, int64_t b_minor, int64_t *out_minor);
int money_mul(int64_t amount_minor, int64_t count, int64_t *out_minor);

/* Exact amount * num / den through a 128-bit product, truncated toward zero, with
 * amount * num == quotient * den + remainder (the remainder takes the sign of the
 * product, |remainder| < den). den <= 0: MONEY_EINVALID; a quotient beyond int64:
 * MONEY_EOVERFLOW. Outputs are written only on MONEY_OK. */
int money_mul_div(int64_t amount_minor, int64_t num, int64_t den, int64_t *quotient,
                  int64_t *remainder);

/* One step of an accrual that never drifts: (amount * num + *carry) / den truncated,
 * and *carry becomes the new remainder. Summed over days it equals the one-shot
 * computation, e.g. 365 daily steps of P*r/den == P*r*365/den (same-sign inputs).
 * *carry must satisfy |*carry| < den (start it at 0), else MONEY_EINVALID. */
int money_mul_div_carry(int64_t amount_minor, int64_t num, int64_t den, int64_t *carry,
                        int64_t *out_minor);

/* amount * num / den rounded half to even (see the top of this file). */
int money_mul_div_round(int64_t amount_minor, int64_t num, int64_t den,
                        int64_t *out_minor);

/* amount * rate_bps / 10000 rounded half to even. */
int money_apply_bps(int64_t amount_minor, int64_t rate_bps, int64_t *out_minor);

/* A reported rate, part / whole in basis points, truncated toward zero (a rate is never
 * reported higher than it is; 1 of 3 is 3333). 0 when whole or part is not positive;
 * UINT32_MAX at most. Every *_rate_bps of the reports is this (proto/staging.proto), so
 * a figure merged from shards and recomputed is the one a single staging would give. */
uint32_t money_rate_bps(int64_t part, int64_t whole);

/* Parses "1234.56" in a currency into minor units (123456 for a 2-exponent currency).
 * Grammar: optional '-', one or more ASCII digits, then optionally '.' and 1..exponent
 * digits (no '.' at all for a 0-exponent currency). No '+', spaces, thousands
 * separators or exponents. Fewer decimals than the exponent are fine ("12.5" ->
 * 1250); more are refused (MONEY_EPARSE) rather than silently rounded. */
int money_parse(const char *text, const char *currency, int64_t *out_minor);

/* Formats minor units as "1234.56" / "-0.05" / "1234" (JPY): the exact inverse of
 * money_parse. len >= MONEY_FORMAT_MAX always suffices; a smaller buffer that cannot
 * hold the text gets "" and MONEY_EINVALID. */
int money_format(int64_t amount_minor, const char *currency, char *buf, size_t len);

const char *money_strerror(int code);

#endif
