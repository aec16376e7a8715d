/* render_text: how a figure reads in the table and on the page (render.h) — money in its
 * currency's exponent with thousands separators, rates as percentages, counts; HTML
 * escaping; legal's commission per currency and whether it belongs to one platform. */
#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "book_order.h"
#include "money.h"

/* "-1234567.89" -> "-1,234,567.89": the integer part grouped by three. */
static const char *group_digits(const char *in, char *buf, size_t len)
{
    const char *digits = in + (*in == '-'), *dot = strchr(digits, '.');
    size_t whole = dot ? (size_t)(dot - digits) : strlen(digits), used = 0;
    if (len < strlen(in) + whole / 3 + 2) {
        snprintf(buf, len, "%s", in);
        return buf;
    }
    if (*in == '-')
        buf[used++] = '-';
    for (size_t i = 0; i < whole; i++) {
        if (i && (whole - i) % 3 == 0)
            buf[used++] = ',';
        buf[used++] = digits[i];
    }
    snprintf(buf + used, len - used, "%s", dot ? dot : "");
    return buf;
}

const char *render_money(int64_t minor, const char *currency, char *buf, size_t len)
{
    char plain[MONEY_FORMAT_MAX];
    if (money_format(minor, nz(currency), plain, sizeof plain) != 0)
        snprintf(plain, sizeof plain, "%" PRId64, minor);   /* no exponent known: minor units */
    return group_digits(plain, buf, len);
}

const char *render_pct(int64_t bps, char *buf, size_t len)
{
    const char *sign = bps < 0 ? "-" : "";
    uint64_t a = bps < 0 ? (uint64_t)0 - (uint64_t)bps : (uint64_t)bps;
    snprintf(buf, len, "%s%" PRIu64 ".%02" PRIu64 "%%", sign, a / 100, a % 100);
    return buf;
}

const char *render_count(int64_t n, char *buf, size_t len)
{
    char plain[32];
    snprintf(plain, sizeof plain, "%" PRId64, n);
    return group_digits(plain, buf, len);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

const char *figure_text(const figure_t *fig, char *buf, size_t len)
{
    if (ends_with(fig->key, "_minor"))
        return render_money(fig->value, fig->currency, buf, len);
    if (ends_with(fig->key, "_bps"))
        return render_pct(fig->value, buf, len);
    return render_count(fig->value, buf, len);
}

int render_commission(const gather_t *g, const char *currency, int64_t *out)
{
    const Arrears__LegalReport *l = g->legal->legal_report;
    const Arrears__Report *r = g->staging->report;
    int found = 0;
    size_t sections = 0;
    *out = 0;
    for (size_t i = 0; i < l->n_assignees; i++)
        if (strcmp(nz(l->assignees[i]->currency), nz(currency)) == 0) {
            *out += l->assignees[i]->commission_minor;
            found = 1;
        }
    for (size_t i = 0; i < r->n_sections; i++)
        sections += strcmp(nz(r->sections[i]->currency), nz(currency)) == 0;
    if (!found)
        return -1;
    return sections == 1 ? 1 : 0;
}

const char *render_instant(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(buf, len, "unknown");
    return buf;
}

const Arrears__OutreachSection *render_outreach_of(const gather_t *g, const char *platform,
                                                   const char *currency)
{
    const Arrears__OutreachReport *o = g->outreach->outreach_report;
    for (size_t i = 0; i < o->n_sections; i++)
        if (strcmp(nz(o->sections[i]->platform), nz(platform)) == 0 &&
            strcmp(nz(o->sections[i]->currency), nz(currency)) == 0)
            return o->sections[i];
    return NULL;
}

bool render_has_book(const gather_t *g, const Arrears__OutreachSection *o)
{
    const Arrears__Report *r = g->staging->report;
    for (size_t i = 0; i < r->n_sections; i++)
        if (strcmp(nz(r->sections[i]->platform), nz(o->platform)) == 0 &&
            strcmp(nz(r->sections[i]->currency), nz(o->currency)) == 0)
            return true;
    return false;
}

static void escape(FILE *f, const char *s, bool words)
{
    for (s = nz(s); *s; s++) {
        switch (*s) {
        case '_': fputc(words ? ' ' : '_', f); break;
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

void html_text(FILE *f, const char *s)
{
    escape(f, s, false);
}

void html_words(FILE *f, const char *s)
{
    escape(f, s, true);
}

void render_sort_stages(const char **names, size_t n)
{
    for (size_t i = 1; i < n; i++)   /* a handful of names: insertion sort, stable */
        for (size_t k = i; k > 0 && book_stage_rank(names[k - 1]) > book_stage_rank(names[k]); k--) {
            const char *t = names[k - 1];
            names[k - 1] = names[k];
            names[k] = t;
        }
}

size_t render_add_name(const char **names, size_t n, size_t max, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return n;
    if (n < max)
        names[n++] = name;
    return n;
}
