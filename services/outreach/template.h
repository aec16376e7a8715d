/* template: the catalogue of vetted, versioned message templates outreach may send, and
 * their rendering for one account (DESIGN.md section 4).
 *
 * staging asks for "template T by channel C" (ContactRequest.template_id, .channel); it
 * never sends text. The text lives here, in one file compliance signs off: each entry is
 * an id staging names, a channel, a language, a version bumped on every change of text,
 * and flags the conduct gate reads (vetted, mentions_legal). A vulnerable borrower gets
 * the gentle variant of a template where the catalogue has one. The rendered text is
 * what the conduct gate then checks (banned language) and what the channel sends; a call
 * or visit template is the agent's script.
 *
 * Catalogue file (libconfig, read through shared/conf.h; every mistake is refused at
 * load time with "file:line: why"):
 *
 *   default_language = "en";             # optional, "en" when absent
 *   templates = (                        # 1 .. TEMPLATE_MAX groups
 *     { id = "early_sms_v1";             # required: letters, digits, '_', '-', '.'; <= 64 bytes
 *       version = 1;                     # required: 1 .. 2147483647
 *       channel = "sms";                 # required: sms, email, letter, call, visit
 *       language = "en";                 # required: BCP 47 tag, "en", "zh", "en-GB" (< 16 bytes)
 *       gentle = false;                  # optional: the variant for vulnerable borrowers
 *       vetted = true;                   # optional, false: loaded, but the gate refuses it
 *       mentions_legal = false;          # optional: the text speaks of legal action
 *       subject = "...";                 # optional, "": e-mail subject or letter heading
 *       text = "{name}, ... Reply STOP to opt out."; },   # required, non-empty
 *     ...
 *   );
 *
 * Adjacent string literals join ("a" "b" is "ab"), so long texts can span lines. Refused:
 * an unknown key, a missing required one, a wrong type, version < 1, a subject or text
 * over TEMPLATE_TEXT_MAX bytes, an unknown {placeholder} or an unbalanced brace, and two
 * entries with the same (id, channel, language, gentle) (languages compare without case).
 *
 * Placeholders in subject and text:
 *   {name}       borrower_name          {platform}   the lending platform
 *   {amount}     outstanding, "USD 1,234.56", "CNY 1,234.56", "JPY 12,345" (the
 *                currency's ISO 4217 exponent, thousands grouped by ',')
 *   {currency}   the ISO 4217 code      {dpd}        days past due
 *   {stage}      staging's stage name   {account}    account_ref
 *   {reference}  contact_id, the attempt's idempotency key
 * "{{" is a literal '{' and "}}" a literal '}'; a lone '}' is an unbalanced brace.
 *
 * A book is read-only once loaded: pick and render may run from several threads. */
#ifndef ARREARS_OUTREACH_TEMPLATE_H
#define ARREARS_OUTREACH_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEMPLATE_ID_MAX 64
#define TEMPLATE_TEXT_MAX 4096
#define TEMPLATE_MAX 1024

typedef struct {
    char id[TEMPLATE_ID_MAX + 1];      /* the id staging names, e.g. "early_sms_v1" */
    int32_t version;                    /* >= 1; bumped on every text change */
    int channel;                        /* 0 sms, 1 email, 2 letter, 3 call, 4 visit (proto Channel - 1) */
    char language[16];                  /* "en", "zh", "en-GB" */
    bool gentle;                        /* from the gentler set, for vulnerable borrowers */
    bool vetted;                        /* approved by compliance; an unvetted one is loaded but the gate refuses it */
    bool mentions_legal;                /* speaks of legal action */
    const char *subject;                /* e-mail subject / letter heading, may be "" */
    const char *text;                   /* with {placeholders} */
} template_t;

typedef struct template_book template_book_t;

/* Loads a catalogue file. NULL with "file:line: why" in err on any mistake (see the top
 * of this file), "file: cannot open: ..." when it cannot be read. */
template_book_t *template_book_load(const char *path, char *err, size_t err_len);

/* The same from text (tests, embedded defaults); name_for_errors stands for the file
 * name in messages ("<test>:3: ..."), NULL means "<string>". */
template_book_t *template_book_parse(const char *text, const char *name_for_errors,
                                     char *err, size_t err_len);

void template_book_destroy(template_book_t **self_p);

size_t template_book_count(const template_book_t *self);

/* The i-th template in file order, i < template_book_count() (for listings and checks
 * over the whole catalogue). */
const template_t *template_book_at(const template_book_t *self, size_t i);

/* The template for (id, channel) in the language: exact tag, then primary subtag, then the
 * book's default_language; the gentle variant when vulnerable and one exists (else the
 * standard one — the gate refuses it where the profile requires gentle). NULL when the id
 * has no template for that channel at all.
 *
 * The language is settled first, then the variant: a vulnerable zh borrower gets the
 * standard zh text rather than a gentle English one. A borrower who is not vulnerable
 * gets the standard variant, or the gentle one when the language has only that. Tags
 * compare without case ("zh-cn" is "zh-CN"); '_' separates subtags like '-'. When none
 * of the three languages has the (id, channel), the first such template in file order
 * is picked. language may be NULL or "" (the default language). */
const template_t *template_book_pick(const template_book_t *self, const char *id, int channel,
                                     const char *language, bool vulnerable);

typedef struct {
    const char *name;            /* borrower_name */
    const char *platform;
    const char *account_ref;
    int64_t outstanding_minor;
    const char *currency;        /* ISO 4217, formats the amount with its exponent */
    int32_t days_past_due;
    const char *stage;
    const char *contact_id;      /* the idempotency key, may be quoted as a reference */
} template_vars_t;              /* a NULL string renders as "" */

enum {
    TEMPLATE_OK = 0,
    TEMPLATE_ETOO_LONG = -50101,    /* the rendered text does not fit in the buffer */
    TEMPLATE_EPLACEHOLDER = -50102, /* an unknown {placeholder} or an unbalanced brace */
    TEMPLATE_ECURRENCY = -50103,    /* {amount} with a currency money.h does not know */
};

/* Renders text (or subject) with vars into out (NUL-terminated). TEMPLATE_ETOO_LONG when
 * it does not fit (cap must exceed the rendered length by one for the NUL). A text from
 * a loaded book has only known placeholders, so its render fails only on length (or on a
 * currency the request validation should already have refused). On failure out is "",
 * never a truncated message. */
int template_render(const char *text, const template_vars_t *vars, char *out, size_t cap);

const char *template_strerror(int code);

#endif
