/* gather: `arrears report`'s inputs — each service's own report, asked as a query by the
 * operator (no process reads another's files): staging's book, outreach's channels and
 * conduct refusals, legal's firms and agencies, sale's outcomes. Staging's is asked of
 * every shard and merged into one book (merge.h); the other replies are kept as they
 * came. render.h prints them. */
#ifndef ARREARS_GATHER_H
#define ARREARS_GATHER_H

#include <stddef.h>

#include "embedded.h"
#include "envelope.h"

typedef struct {
    Arrears__Envelope *staging;   /* body report: every shard's, merged */
    Arrears__Envelope *outreach;  /* body outreach_report (the broker's) */
    Arrears__Envelope *legal;     /* body legal_report */
    Arrears__Envelope *sale;      /* body sale_report */
} gather_t;

/* Asks every service; platform NULL: every platform. err names the one that failed. */
int gather_reports(const embedded_t *e, const char *platform, gather_t *out, char *err,
                   size_t err_len);
void gather_free(gather_t *self);

#endif
