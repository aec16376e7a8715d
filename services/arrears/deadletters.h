/* deadletters (CLI): `arrears dead-letters` — an operator's view of every service's
 * dead-letter tables and the two things to do with one (envelope.proto DeadLetterQuery,
 * DeadLetterAction), on the operator's key (or --as NAME: keys/NAME.key):
 *
 *   dead-letters [SERVICE]                        list (every service when none named):
 *                                                 service, outbox, seq, code, body type,
 *                                                 reason — never a body
 *   dead-letters SERVICE inspect OUTBOX SEQ       the whole message decoded, personal
 *                                                 data in clear
 *   dead-letters SERVICE replay|discard OUTBOX SEQ --reason WHY
 *                                                 audited with who and why
 *
 * Exit codes: 0 done; 1 refused or a service not answering (the message says what to
 * do); 2 a usage error (unknown service or action, a SEQ that is not a number, no
 * --reason). */
#ifndef ARREARS_CLI_DEADLETTERS_H
#define ARREARS_CLI_DEADLETTERS_H

#include "ops.h"

/* pos: the positional arguments after `dead-letters`. */
int dead_letters_main(const ops_options_t *o, int npos, char **pos);

#endif
