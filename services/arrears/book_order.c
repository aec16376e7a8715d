/* book_order: see book_order.h. */
#include "book_order.h"

#include <stddef.h>
#include <string.h>

static int rank_in(const char *const *order, const char *name)
{
    int i = 0;
    while (order[i] && strcmp(order[i], name) != 0)
        i++;
    return i;
}

int book_stage_rank(const char *name)
{
    static const char *const order[] = { "current", "pre_due", "early", "middle", "late",
                                         "charged_off", "legal", "sale", "paid", "settled",
                                         "recalled", "sold", "written_off", NULL };
    return rank_in(order, name ? name : "");
}

int book_channel_rank(const char *name)
{
    /* proto/staging.proto ReportSection.recovery_by_channel: staging's channel order,
     * then "none" (REPORT_CHANNEL_NONE, after the last channel). */
    static const char *const order[] = { "sms", "email", "letter", "call", "visit", "none",
                                         NULL };
    return rank_in(order, name ? name : "");
}
