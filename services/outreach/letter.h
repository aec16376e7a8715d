/* letter: a letter rendered for the print spool — an A4 PDF a person can open and print:
 * the lender's heading, the date in the borrower's time zone, the borrower's name and
 * address in the window position, the subject, the vetted text, and a footer with the
 * reference and template version so a printed letter can be traced to its attempt.
 * Pango lays the text out (line breaks, any script: fontconfig falls back per glyph, so
 * Chinese letters print with a CJK font when one is installed); cairo writes the PDF. */
#ifndef ARREARS_OUTREACH_LETTER_H
#define ARREARS_OUTREACH_LETTER_H

#include <stdint.h>

#include "envelope.h"

enum {
    LETTER_OK = 0,
    LETTER_ECAIRO = -31501,   /* cairo could not write the PDF (status in the log) */
};

/* Writes the letter of task, sent at at_ms, to path (a PDF). */
int letter_render_pdf(const char *path, const Arrears__Task *task, int64_t at_ms);

/* Releases the font machinery's process-wide caches (pango, cairo, fontconfig), so a
 * process that rendered letters ends with nothing allocated: call once, at exit. */
void letter_shutdown(void);

#endif
