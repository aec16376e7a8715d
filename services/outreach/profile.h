/* profile: the book of jurisdiction profiles — the conduct rules of each place
 * outreach contacts borrowers in, read from one libconfig file, so that a rule an
 * operator or a compliance officer must be able to read and change (a window, a cap, a
 * holiday, a banned phrase) is configuration rather than code (DESIGN.md section 4).
 * The broker picks a borrower's profile by jurisdiction and hands its rules and the
 * phrases of the message's language to the conduct gate (conduct.h).
 *
 * A bad file is refused as a whole at load with "file:line: why", never half-applied:
 * a contact rule silently defaulted is a breach waiting to happen. The shipped profiles
 * are services/outreach/profiles.conf; the unit tests load that very file.
 *
 * File format (libconfig; unknown keys are refused everywhere, so a typo is an error):
 *
 *   default = "us_reg_f";           # the profile of a jurisdiction no profile lists
 *   profiles = (                    # 1 .. PROFILE_MAX profiles
 *     { name = "us_reg_f";          # letters, digits, '_', '-', '.'; unique; required
 *       jurisdictions = ["US"];     # ISO 3166 alpha-2, upper case; each in one profile
 *       window = { start = "08:00"; end = "21:00"; };   # required; borrower-local
 *                                   # [start, end), "HH:MM"; end may be "24:00"
 *       rest_days = ["sun"];        # "sun" .. "sat"; no contact on these weekdays
 *       holidays = ["2026-12-25"];  # borrower-local dates, at most CONDUCT_MAX_HOLIDAYS
 *       caps = (                    # per channel, each channel at most once
 *         { channel = "call";       # "sms", "email", "letter", "call", "visit"
 *           person_per_day = 3;     # every cap: 1 .. 1000, absent = no cap (0 is
 *           person_per_7_days = 7;  # refused: it would defer forever); rolling 7 days
 *           account_per_day = 3;  account_per_7_days = 7;
 *           vulnerable_person_per_day = 1;  vulnerable_person_per_7_days = 3;
 *           wait_after_conversation_days = 7;   # 0 .. 365, absent = 0 (none)
 *         } );
 *       count_connected = false;    # caps count only attempts that reached the borrower
 *       opt_out_notice = ["sms", "email"];  # every text there must hold an opt_out phrase
 *       vulnerable_gentle_only = false;     # vulnerable borrowers: gentle templates only
 *       languages = (               # at most PROFILE_MAX_LANGUAGES, each tag once
 *         { language = "en";        # BCP 47 tag: "en", "zh", "en-GB"
 *           banned = ["jail"];      # refused in rendered text (case-insensitive match)
 *           opt_out = ["reply stop"];   # what counts as an opt-out instruction
 *         } );
 *     } );
 *
 * Phrases must be written in lower case: the gate lower-cases the text's ASCII letters
 * and compares bytes, so an upper-case phrase could never match; it is refused rather
 * than silently folded, so the operator sees exactly what is matched. Each phrase is
 * 1 .. PROFILE_PHRASE_MAX bytes, at most PROFILE_MAX_PHRASES per list. A profile with
 * opt_out_notice must give opt_out phrases in every language it lists (and list one),
 * else every message on those channels would be refused.
 *
 * Errors are returned (NULL and the message in err), never printed. Once loaded a book
 * never changes: any number of threads may read it. */
#ifndef ARREARS_OUTREACH_PROFILE_H
#define ARREARS_OUTREACH_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "conduct.h"

#define PROFILE_MAX 16
#define PROFILE_MAX_LANGUAGES 8
#define PROFILE_MAX_PHRASES 128
#define PROFILE_PHRASE_MAX 80
#define PROFILE_MAX_JURISDICTIONS 16

typedef struct {
    char language[16];                 /* BCP 47 primary or full tag, "en", "zh", "en-GB" */
    size_t banned_count;
    const char *banned[PROFILE_MAX_PHRASES];     /* lower case, owned by the book */
    size_t opt_out_count;
    const char *opt_out[PROFILE_MAX_PHRASES];
} profile_language_t;

typedef struct {
    conduct_profile_t rules;           /* rules.name is the profile's name */
    size_t jurisdiction_count;
    char jurisdictions[PROFILE_MAX_JURISDICTIONS][8];   /* ISO 3166 alpha-2, "US" */
    size_t language_count;
    profile_language_t languages[PROFILE_MAX_LANGUAGES];
} profile_t;

typedef struct profile_book profile_book_t;

/* NULL with "file:line: why" in err on any bad setting, unknown key, duplicate name,
 * unknown default... ("file: cannot open: ..." when the file cannot be read). */
profile_book_t *profile_book_load(const char *path, char *err, size_t err_len);
/* The same from text (tests); name_for_errors stands for the file name in messages. */
profile_book_t *profile_book_parse(const char *text, const char *name_for_errors, char *err,
                                   size_t err_len);
/* Frees the book and every phrase it owns; sets *self_p to NULL. */
void profile_book_destroy(profile_book_t **self_p);

size_t profile_book_count(const profile_book_t *self);
/* Profiles in file order; i < profile_book_count(). */
const profile_t *profile_book_at(const profile_book_t *self, size_t i);
/* NULL if none. */
const profile_t *profile_book_find(const profile_book_t *self, const char *name);
/* The profile listing this jurisdiction (ISO 3166 alpha-2, any case), else the book's
 * default profile (never NULL; a NULL jurisdiction gets the default too). */
const profile_t *profile_book_for(const profile_book_t *self, const char *jurisdiction);
/* The language entry for a BCP 47 tag (any case): exact match, then primary subtag
 * ("en-GB" -> "en"), else NULL. */
const profile_language_t *profile_language(const profile_t *self, const char *tag);

#endif
