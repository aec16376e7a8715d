/* report: the legal report (DESIGN.md section 7) computed from legal's own records —
 * per firm and agency and currency: cases placed, open, judgments, recalls, the balance
 * placed and what was recovered (the recovery rate), costs, commission, the median days
 * from acceptance to judgment, complaints; and the referrals declined by reason. */
#ifndef ARREARS_LEGAL_REPORT_H
#define ARREARS_LEGAL_REPORT_H

#include "legal.h"

size_t legal_report(legal_t *self, MDB_txn *txn, const Arrears__LegalReportQuery *q,
                    uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject);

#endif
