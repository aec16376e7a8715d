/* erasure: the shared steps of erasing an account's personal data (see erasure.h). */
#include "erasure.h"

#include <stdlib.h>
#include <string.h>

#include "receiver.h"
#include "validate.h"

#define CODE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

int erasure_check(const Arrears__PersonalDataErased *m, reject_t *reject)
{
    if (!m->platform || !*m->platform || strlen(m->platform) > 64)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "platform",
                               "an erasure names the platform, 1 to 64 bytes");
    if (!m->account_ref || !validate_ref(m->account_ref))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref",
                               "an erasure names the account");
    size_t n = m->jurisdiction ? strlen(m->jurisdiction) : 0;
    if (m->jurisdiction && (n == 0 || n > 32 || strspn(m->jurisdiction, CODE_CHARS) != n))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "jurisdiction",
                               "a rule's name, 1 to 32 letters, digits, '-' or '_'");
    return 0;
}

/* The actors staging writes for itself and its peers (staging.proto TimelineEntry);
 * any other actor is an operator's principal. */
static bool is_operator(const char *actor)
{
    static const char *const system[] = {"staging", "platform", "outreach", "legal", "sale"};
    for (size_t i = 0; i < sizeof system / sizeof *system; i++)
        if (actor && strcmp(actor, system[i]) == 0)
            return false;
    return true;
}

/* Entries of a peer whose reason ends with words staging passed on from outside, after
 * the first ": " (staging's outcome.c): an agent's or channel's detail on an outcome, a
 * firm's on a case step, a buyer's reason for a put-back. */
static bool passes_words_on(const char *actor, const char *kind)
{
    static const char *const entries[][2] = {
        {"outreach", "outcome"}, {"legal", "legal"}, {"sale", "put_back"}};
    for (size_t i = 0; actor && kind && i < sizeof entries / sizeof *entries; i++)
        if (strcmp(actor, entries[i][0]) == 0 && strcmp(kind, entries[i][1]) == 0)
            return true;
    return false;
}

bool erasure_entry_reason(const char *actor, const char *kind, const char *reason, char *out,
                          size_t cap)
{
    bool passed_on = passes_words_on(actor, kind);
    if (!reason || !*reason || (!passed_on && !is_operator(actor)))
        return false;
    /* A write-off's reason is the operator's text alone (outcome.c); the others start
     * with staging's words up to the first ": ". */
    bool bare = !passed_on && kind && strcmp(kind, "written_off") == 0;
    const char *colon = bare ? NULL : strstr(reason, ": ");
    if (!colon && passed_on)
        return false;   /* nothing passed on: all staging's words */
    size_t keep = colon ? (size_t)(colon - reason) + 2 : 0;
    if (strcmp(reason + keep, ERASURE_MARKER) == 0 || keep + sizeof ERASURE_MARKER > cap)
        return false;   /* erased already (a prefix that long is never written) */
    memcpy(out, reason, keep);
    memcpy(out + keep, ERASURE_MARKER, sizeof ERASURE_MARKER);
    return true;
}

int erasure_replace(char **text)
{
    if (*text && strcmp(*text, ERASURE_MARKER) == 0)
        return 0;
    char *marker = strdup(ERASURE_MARKER);
    if (!marker)
        return -1;
    free(*text);
    *text = marker;
    return 1;
}

/* The borrower as an erased statement names it: the marker, nothing else. */
static int erase_borrower(Arrears__CaseStatement *s)
{
    Arrears__Borrower *b = s->borrower;
    if (b && b->name && strcmp(b->name, ERASURE_MARKER) == 0 && !b->has_id_number_hash &&
        b->n_phones == 0 && b->n_emails == 0 && !b->address && !b->time_zone && !b->language)
        return 0;
    Arrears__Borrower *erased = malloc(sizeof *erased);
    if (!erased)
        return -1;
    arrears__borrower__init(erased);
    erased->name = strdup(ERASURE_MARKER);
    if (!erased->name) {
        free(erased);
        return -1;
    }
    if (b)
        arrears__borrower__free_unpacked(b, NULL);
    s->borrower = erased;
    return 1;
}

int erasure_scrub_statement(Arrears__CaseStatement *s)
{
    int changed = erase_borrower(s);
    for (size_t i = 0; changed >= 0 && i < s->n_record; i++) {
        Arrears__TimelineEntry *e = s->record[i];
        size_t cap = (e->reason ? strlen(e->reason) : 0) + sizeof ERASURE_MARKER;
        char *reason = malloc(cap);
        if (!reason)
            return -1;
        if (erasure_entry_reason(e->actor, e->kind, e->reason, reason, cap)) {
            free(e->reason);
            e->reason = reason;
            changed = 1;
        } else {
            free(reason);
        }
    }
    return changed;
}
