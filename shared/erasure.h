/* erasure: what every service does the same way when an account's personal data is
 * erased at the end of its retention (account.proto PersonalDataErased): the marker
 * erased text is replaced with, the check of the message, and the scrubbing of the two
 * things several services keep a copy of — a collection record's free text and a case
 * statement (the borrower). Pure: messages in memory; each service stores the result.
 *
 * Free text on the record. Staging writes an entry's reason itself, except for words
 * it only passes on: an operator's reason (every entry whose actor is an operator's
 * principal: "manual hold: <reason>", "complaint resolved: <reason>", a write-off's
 * bare reason), an agent's or channel's detail on an outcome ("PROMISE_TO_PAY by CALL:
 * <detail>"), a firm's on a case step ("case FILED: <detail>") and a buyer's reason for
 * a put-back. That text may name or describe the person; the part staging wrote before
 * it (which the reports parse) is kept. */
#ifndef ARREARS_SHARED_ERASURE_H
#define ARREARS_SHARED_ERASURE_H

#include <stdbool.h>
#include <stddef.h>

#include "account.pb-c.h"
#include "envelope.h"
#include "legal.pb-c.h"

/* What an erased field reads from then on. */
#define ERASURE_MARKER "(erased)"

/* 0 when the message names a platform (1 to 64 bytes) and an account (validate_ref),
 * and its jurisdiction, when present, is a rule's name (1 to 32 of [A-Za-z0-9_-]);
 * else APPLY_REJECTED with *reject filled (INVALID_FIELD): the receiver changes nothing. */
int erasure_check(const Arrears__PersonalDataErased *m, reject_t *reject);

/* The entry's reason with its free text replaced by ERASURE_MARKER, into out (cap
 * bytes); false (out untouched) when the entry carries no free text or it is erased
 * already, so a second pass changes nothing. */
bool erasure_entry_reason(const char *actor, const char *kind, const char *reason, char *out,
                          size_t cap);

/* Erases the personal data of a statement unpacked by protobuf-c with the default
 * allocator (its parts are freed and replaced in place): the borrower becomes one whose
 * name is ERASURE_MARKER and nothing else, and the record's free text is replaced
 * (erasure_entry_reason). The book, schedule, penalty lines and the record's kinds,
 * actors, days and amounts stay. Returns whether anything changed; ENOMEM as -1. */
int erasure_scrub_statement(Arrears__CaseStatement *s);

/* Replaces *text (a malloc'ed string of an unpacked message, or NULL) with a copy of
 * ERASURE_MARKER when it holds anything else. Returns 1 when it changed, 0 when not,
 * -1 when out of memory. */
int erasure_replace(char **text);

#endif
