/* remit: commission, recovery matching and statement totals (see remit.h). */
#include "remit.h"

#include "money.h"

recovery_match_t recovery_match(bool known, int64_t known_minor, int64_t reported_minor)
{
    if (!known)
        return RECOVERY_NEW;
    return known_minor == reported_minor ? RECOVERY_REPEAT : RECOVERY_CONFLICT;
}

int remit_commission(int64_t recovery_minor, int64_t rate_bps, int64_t *commission_minor)
{
    if (recovery_minor < 0 || rate_bps < 0 || rate_bps > REMIT_MAX_COMMISSION_BPS)
        return MONEY_EINVALID;
    return money_apply_bps(recovery_minor, rate_bps, commission_minor);
}

int remit_add(remit_totals_t *t, int64_t recovery_minor, int64_t commission_minor,
              int64_t costs_minor)
{
    remit_totals_t next;
    int rc = money_add(t->recovered_minor, recovery_minor, &next.recovered_minor);
    if (rc == MONEY_OK)
        rc = money_add(t->commission_minor, commission_minor, &next.commission_minor);
    if (rc == MONEY_OK)
        rc = money_add(t->costs_minor, costs_minor, &next.costs_minor);
    if (rc == MONEY_OK)
        *t = next;
    return rc;
}

int remit_net(const remit_totals_t *t, int64_t *net_minor)
{
    /* In sequence, not commission + costs first: that sum may overflow when the net fits. */
    int64_t after_commission;
    int rc = money_sub(t->recovered_minor, t->commission_minor, &after_commission);
    return rc == MONEY_OK ? money_sub(after_commission, t->costs_minor, net_minor) : rc;
}
