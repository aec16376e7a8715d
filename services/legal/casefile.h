/* casefile: the case file an assignee pulls — built once, at referral, from staging's
 * statement (staging owns the book, so it computed the figures) — in two forms: an HTML
 * document a person reads (the parties, what is owed by component, the contract, the
 * schedule, the penalty computation day by day with its total, the whole collection
 * record) and the machine form (a serialized CaseFile message). Pure: bytes in memory;
 * cases.c stores them sealed. */
#ifndef ARREARS_LEGAL_CASEFILE_H
#define ARREARS_LEGAL_CASEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "legal.pb-c.h"

enum {
    CASEFILE_OK = 0,
    CASEFILE_ENOMEM = -41301,
    CASEFILE_ETOO_LARGE = -41302,   /* a form over max_bytes */
};

typedef struct {
    char *html;
    size_t html_len;
    uint8_t *machine;
    size_t machine_len;
} casefile_t;

/* Builds both forms; each at most max_bytes. built_at_ms is stamped on both. */
int casefile_build(const char *case_id, const Arrears__LegalReferral *r, int64_t built_at_ms,
                   size_t max_bytes, casefile_t *out);
void casefile_free(casefile_t *file);

/* Writes s into out HTML-escaped (& < > " '). */
void casefile_escape(FILE *out, const char *s);

#endif
