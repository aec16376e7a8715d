/* merge: one staging Report from the Reports of staging's shards — the report one staging
 * holding every account would give. Staging shards by the person (DESIGN.md section 7),
 * so each account, with its payments and timeline, is on exactly one shard, and every
 * count and sum of the book is the sum of the shards' (proto/staging.proto, Rates).
 *
 *  - Sections are matched by (platform, currency); their groups by name (by_stage,
 *    by_segment, by_arm, recovery_by_channel, recovery_by_stage), roll cells by (month,
 *    from_stage, to_stage), curves by arm and their points by month, remittance by
 *    month. Every integer of matched elements is added (overflow is an error, never a
 *    wrap), present when a shard had it present; an element only one shard has is taken
 *    whole.
 *  - Every *_rate_bps is computed again from the merged counts with money_rate_bps (1 of
 *    3 plus 1 of 3 is 2 of 6: 3333, not 6666), present when a shard had it present: a
 *    rate is present in staging's report when its whole is positive, and a sum of wholes
 *    is positive when one of them is.
 *  - as_of_ms is the earliest shard's: every figure is complete up to it.
 *  - Order, as staging gives it: stages (by_stage, recovery_by_stage, roll cells) in the
 *    book's order and channels in the strategy's (book_order.h), months ascending.
 *    Sections by platform, then currency. Segments and arms (in the strategy file's
 *    order) are in an order the CLI cannot see: they keep the shards' order, a name one
 *    shard lacks put before the first name its own shard lists after it — the order of
 *    one staging whenever the shards' lists tell it.
 *
 *  - complaint_figures.response_hours_total is each shard's total rounded to the hour,
 *    so it is recomputed, half-even, from the exact response_ms_total the shards add up
 *    (added as given when a shard's staging predates that field). */
#ifndef ARREARS_MERGE_H
#define ARREARS_MERGE_H

#include <stddef.h>

#include "staging.pb-c.h"

enum {
    MERGE_ENOMEM = -33901,     /* out of memory */
    MERGE_EOVERFLOW = -33902,  /* a merged count or sum beyond its type */
    MERGE_EFIELD = -33903,     /* a list in the report that merge.c does not know how to match */
};

/* The shards' reports in[0 .. n) (n >= 1; in[0] is shard 0's) into a new *out, the
 * caller's: arrears__report__free_unpacked(*out, NULL). The inputs are left as they are.
 * Merging one report gives it back unchanged. */
int merge_reports(const Arrears__Report *const *in, size_t n, Arrears__Report **out);
const char *merge_strerror(int code);

#endif
