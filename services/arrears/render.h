/* render: the gathered reports (gather.h) for a person or a program — a terminal table
 * (render_table.c), long-form CSV, one figure a row (render_csv.c), and a self-contained
 * HTML page with SVG charts (render_html.c, render_svg.c). What they share is here
 * (render.c): every figure as a row (section, platform, currency, group, key, value)
 * named as in the CSV, so that a chart element or a table cell of the page can be
 * matched to its CSV row, and one writer for such a row in either form. */
#ifndef ARREARS_RENDER_H
#define ARREARS_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gather.h"
#include "pbfield.h"

/* A group joins up to three names with '|' (month|from_stage|to_stage); names come
 * from the services, bounded there far below this. */
#define FIGURE_GROUP_MAX 256
/* Text of one number as shown: money with its exponent and thousands separators,
 * a rate as a percentage, a count with separators. */
#define RENDER_NUMBER_MAX 48

typedef struct {
    const char *section;        /* "book", "roll", "conduct_rule", ... (render_csv.c) */
    const char *platform;       /* "" where the figure is not per platform */
    const char *currency;       /* "" where it has none */
    char group[FIGURE_GROUP_MAX];
    const char *key;            /* the proto field's name: "collected_minor" */
    int64_t value;              /* money in minor units, rates in basis points */
} figure_t;

typedef enum {
    FIGURE_CSV_ROW,     /* section,platform,currency,group,key,value and a newline */
    FIGURE_HTML_ATTRS,  /* data-section=".." ... data-value=".." (escaped), for an element */
} figure_form_t;

typedef void (*figure_fn)(const figure_t *fig, void *arg);

/* The three forms. The CSV and the page return 0, or -1 when the file could not be
 * written (ferror). */
void render_table(FILE *f, const gather_t *g);
int render_csv(FILE *f, const gather_t *g);
int render_html(FILE *f, const gather_t *g);

/* --- shared by the renderers (render.c, render_text.c, render_svg.c) --- */

/* The page's charts (render_svg.c): one month's roll-rate heat map, the recovery curve
 * by strategy arm, conduct decisions by rule. */
void svg_roll_map(FILE *f, const Arrears__ReportSection *s, const char *month);
void svg_curves(FILE *f, const Arrears__ReportSection *s);
void svg_rules(FILE *f, const Arrears__OutreachSection *o);

/* Every figure of the gathered reports, in the CSV's order (render_csv.c). */
void figures_each(const gather_t *g, figure_fn fn, void *arg);
void figure_write(FILE *f, const figure_t *fig, figure_form_t form);

/* A figure's naming; NULL strings are "". figure_group joins the non-NULL parts. */
void figure_start(figure_t *fig, const char *section, const char *platform,
                  const char *currency);
void figure_group(figure_t *fig, const char *a, const char *b, const char *c);
void figure_key(figure_t *fig, const char *key, int64_t value);
/* The figures the charts draw, named as figures_each names them. */
void figure_roll(figure_t *fig, const Arrears__ReportSection *s, const Arrears__RollCell *c);
void figure_curve(figure_t *fig, const Arrears__ReportSection *s, const char *arm,
                  const Arrears__CurvePoint *p, const char *key);
void figure_rule(figure_t *fig, const Arrears__OutreachSection *o,
                 const Arrears__OutreachRuleFigures *r, const char *key);

/* The figure as shown, by its key: *_minor money in fig->currency, *_bps a percentage,
 * anything else a count. */
const char *figure_text(const figure_t *fig, char *buf, size_t len);
const char *render_money(int64_t minor, const char *currency, char *buf, size_t len);
const char *render_pct(int64_t bps, char *buf, size_t len);
const char *render_count(int64_t n, char *buf, size_t len);
/* Legal's commission in a currency (LegalReport.assignees, since the start, every
 * month). 1: attributable to the one staging section of that currency; 0: shared by
 * several platforms; -1: legal reported none in it. */
int render_commission(const gather_t *g, const char *currency, int64_t *out);
/* "YYYY-MM-DD HH:MM UTC" of a service's clock. */
const char *render_instant(int64_t ms, char *buf, size_t len);
/* Adds name to names (at most max) once, keeping first-seen order; the new count. */
size_t render_add_name(const char **names, size_t n, size_t max, const char *name);
/* Stage names in the book's order (current .. written_off), unknown ones last. */
void render_sort_stages(const char **names, size_t n);
/* The outreach section of a platform and currency, or NULL; whether an outreach
 * section has a book (a staging section) of its platform and currency. */
const Arrears__OutreachSection *render_outreach_of(const gather_t *g, const char *platform,
                                                   const char *currency);
bool render_has_book(const gather_t *g, const Arrears__OutreachSection *o);
/* Text with & < > " ' as HTML entities; html_words also reads "charged_off" as
 * "charged off" (names shown as words). */
void html_text(FILE *f, const char *s);
void html_words(FILE *f, const char *s);

static inline const char *nz(const char *s)
{
    return s ? s : "";
}

#endif
