/* render_svg: the HTML page's charts, drawn as inline SVG by hand — the roll-rate heat
 * map, the recovery curve by strategy arm and conduct decisions by rule. Every element
 * that draws a figure (rect.cell, circle.point, rect.bar) carries that figure's CSV row
 * as data attributes (figure_write), so a test can match the picture to the numbers.
 * Geometry is in whole pixels; only the curve's scale divides. */
#include "render.h"

#include <stdio.h>
#include <string.h>

#define SVG_STAGES 16
#define CELL_W 74
#define CELL_H 40
#define LABEL_W 104
#define HEAD_H 30
#define CURVE_W 760
#define CURVE_H 300
#define BAR_ROW 30
#define BAR_LABEL_W 200
#define BAR_AREA_W 470

typedef char num_t[RENDER_NUMBER_MAX];

static const char *const palette[] = { "#1f4e79", "#e07a2f", "#2a9d8f", "#b5405a", "#7b5ea7",
                                       "#8c8c2f", "#3d7dca", "#6b4f3a" };
#define PALETTE (sizeof palette / sizeof *palette)

static void label(FILE *f, int x, int y, const char *anchor, const char *cls, const char *text)
{
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
    html_words(f, text);
    fputs("</text>\n", f);
}

/* Ends an element with its tooltip (escaped) and closing tag. */
static void tip_end(FILE *f, const char *tag, const char *text)
{
    fputs("><title>", f);
    html_text(f, text);
    fprintf(f, "</title></%s>\n", tag);
}

/* A rate as a fill from pale to deep blue, eased so that small shares still show. */
static void heat_colour(int64_t bps, char *buf, size_t len)
{
    static const int lo[3] = { 0xee, 0xf3, 0xf9 }, hi[3] = { 0x0e, 0x3a, 0x66 };
    int64_t t = bps < 0 ? 0 : bps > 10000 ? 10000 : bps;
    t = 10000 - (10000 - t) * (10000 - t) / 10000;
    int c[3];
    for (int i = 0; i < 3; i++)
        c[i] = lo[i] + (int)((hi[i] - lo[i]) * t / 10000);
    snprintf(buf, len, "#%02x%02x%02x", c[0], c[1], c[2]);
}

static const Arrears__RollCell *find_cell(const Arrears__ReportSection *s, const char *month,
                                          const char *from, const char *to, uint64_t *row)
{
    const Arrears__RollCell *hit = NULL;
    *row = 0;
    for (size_t i = 0; i < s->n_roll_rates; i++) {
        const Arrears__RollCell *c = s->roll_rates[i];
        if (strcmp(nz(c->month), month) != 0 || strcmp(nz(c->from_stage), from) != 0)
            continue;
        *row += c->accounts;
        if (strcmp(nz(c->to_stage), to) == 0)
            hit = c;
    }
    return hit;
}

static void heat_cell(FILE *f, const Arrears__ReportSection *s, const char *month,
                      const char *from, const char *to, int x, int y)
{
    uint64_t row;
    const Arrears__RollCell *c = find_cell(s, month, from, to, &row);
    if (!c || row == 0) {
        fprintf(f, "<rect class=\"empty\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", x, y,
                CELL_W - 2, CELL_H - 2);
        return;
    }
    int64_t bps = (int64_t)(c->accounts * 10000 / row);
    char fill[16];
    num_t pct, n;
    figure_t fig;
    heat_colour(bps, fill, sizeof fill);
    figure_roll(&fig, s, c);
    fprintf(f, "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"", x,
            y, CELL_W - 2, CELL_H - 2, fill);
    figure_write(f, &fig, FIGURE_HTML_ATTRS);
    char tip[FIGURE_GROUP_MAX + 64];
    snprintf(tip, sizeof tip, "%s to %s: %llu of %llu accounts", from, to,
             (unsigned long long)c->accounts, (unsigned long long)row);
    fprintf(f, " data-rate-bps=\"%lld\"", (long long)bps);
    tip_end(f, "rect", tip);
    const char *ink = bps > 4500 ? "on-dark" : "on-light";
    label(f, x + CELL_W / 2 - 1, y + 17, "middle", ink, render_pct(bps, pct, sizeof pct));
    label(f, x + CELL_W / 2 - 1, y + 31, "middle", ink, render_count((int64_t)c->accounts, n, sizeof n));
}

/* The stages the section's cells name, in the book's order: rows (from) of one month,
 * or columns (to) of every month so that months line up. */
static size_t roll_stages(const Arrears__ReportSection *s, const char *month, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_roll_rates; i++) {
        const Arrears__RollCell *c = s->roll_rates[i];
        if (!month)
            n = render_add_name(out, n, SVG_STAGES, nz(c->to_stage));
        else if (strcmp(nz(c->month), month) == 0)
            n = render_add_name(out, n, SVG_STAGES, nz(c->from_stage));
    }
    render_sort_stages(out, n);
    return n;
}

void svg_roll_map(FILE *f, const Arrears__ReportSection *s, const char *month)
{
    const char *from[SVG_STAGES], *to[SVG_STAGES];
    size_t nfrom = roll_stages(s, month, from), nto = roll_stages(s, NULL, to);
    int w = LABEL_W + (int)nto * CELL_W + 90, h = HEAD_H + (int)nfrom * CELL_H + 8;
    fprintf(f, "<svg class=\"chart heat\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "role=\"img\">\n", w, h, w, h);
    label(f, 4, 18, "start", "axis-title", "from \\ to");
    for (size_t k = 0; k < nto; k++)
        label(f, LABEL_W + (int)k * CELL_W + CELL_W / 2, 20, "middle", "axis", to[k]);
    label(f, LABEL_W + (int)nto * CELL_W + 82, 20, "end", "axis", "accounts");
    for (size_t i = 0; i < nfrom; i++) {
        int y = HEAD_H + (int)i * CELL_H;
        uint64_t row = 0;
        num_t n;
        label(f, LABEL_W - 10, y + CELL_H / 2 + 4, "end", "axis", from[i]);
        for (size_t k = 0; k < nto; k++)
            heat_cell(f, s, month, from[i], to[k], LABEL_W + (int)k * CELL_W, y);
        find_cell(s, month, from[i], "", &row);
        label(f, LABEL_W + (int)nto * CELL_W + 82, y + CELL_H / 2 + 4, "end", "num",
              render_count((int64_t)row, n, sizeof n));
    }
    fputs("</svg>\n", f);
}

/* The highest point reached, rounded up to a step of 5, 10 or 20 %, so gridlines are
 * round numbers. */
static int64_t curve_top(const Arrears__ReportSection *s, int64_t *step, size_t *months)
{
    int64_t top = 0;
    *months = 1;
    for (size_t i = 0; i < s->n_recovery_curves; i++)
        for (size_t k = 0; k < s->recovery_curves[i]->n_points; k++) {
            const Arrears__CurvePoint *p = s->recovery_curves[i]->points[k];
            if (!p->accounts)
                continue;
            top = p->recovery_rate_bps > top ? p->recovery_rate_bps : top;
            *months = p->month + 1 > *months ? p->month + 1 : *months;
        }
    *step = top <= 2500 ? 500 : top <= 5000 ? 1000 : 2000;
    return top <= 0 ? *step : (top + *step - 1) / *step * *step;
}

static void curve_axes(FILE *f, int64_t top, int64_t step, size_t months, int x0, int y0,
                       int pw, int ph)
{
    num_t t;
    for (int64_t v = 0; v <= top; v += step) {
        int y = y0 + ph - (int)(v * ph / top);
        fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", x0, y, x0 + pw, y);
        label(f, x0 - 8, y + 4, "end", "axis", render_pct(v, t, sizeof t));
    }
    size_t span = months > 1 ? months - 1 : 1;
    for (size_t k = 0; k < months; k++) {
        snprintf(t, sizeof t, "%zu", k);
        label(f, x0 + (int)(k * (size_t)pw / span), y0 + ph + 18, "middle", "axis", t);
    }
    label(f, x0 + pw / 2, y0 + ph + 36, "middle", "axis-title", "months since entry");
}

static void curve_line(FILE *f, const Arrears__ReportSection *s, const Arrears__RecoveryCurve *c,
                       const char *colour, int64_t top, size_t months, const int box[4])
{
    size_t span = months > 1 ? months - 1 : 1;
    fprintf(f, "<polyline class=\"line\" stroke=\"%s\" points=\"", colour);
    for (size_t k = 0; k < c->n_points; k++)
        if (c->points[k]->accounts)
            fprintf(f, "%d,%d ", box[0] + (int)(c->points[k]->month * (size_t)box[2] / span),
                    box[1] + box[3] - (int)(c->points[k]->recovery_rate_bps * box[3] / top));
    fputs("\"/>\n", f);
    for (size_t k = 0; k < c->n_points; k++) {
        const Arrears__CurvePoint *p = c->points[k];
        figure_t fig;
        num_t t;
        if (!p->accounts)
            continue;
        figure_curve(&fig, s, c->arm, p, "recovery_rate_bps");
        fprintf(f, "<circle class=\"point\" r=\"4\" fill=\"%s\" cx=\"%d\" cy=\"%d\"", colour,
                box[0] + (int)(p->month * (size_t)box[2] / span),
                box[1] + box[3] - (int)(p->recovery_rate_bps * box[3] / top));
        figure_write(f, &fig, FIGURE_HTML_ATTRS);
        char tip[FIGURE_GROUP_MAX + 96];
        snprintf(tip, sizeof tip, "%s, month %u: %s of overdue at entry, %llu accounts",
                 nz(c->arm), p->month, render_pct(p->recovery_rate_bps, t, sizeof t),
                 (unsigned long long)p->accounts);
        tip_end(f, "circle", tip);
    }
}

void svg_curves(FILE *f, const Arrears__ReportSection *s)
{
    int64_t step;
    size_t months;
    int64_t top = curve_top(s, &step, &months);
    const int box[4] = { 64, 16, CURVE_W - 64 - 170, CURVE_H - 16 - 48 };
    fprintf(f, "<svg class=\"chart curve\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "role=\"img\">\n", CURVE_W, CURVE_H, CURVE_W, CURVE_H);
    curve_axes(f, top, step, months, box[0], box[1], box[2], box[3]);
    for (size_t i = 0; i < s->n_recovery_curves; i++) {
        const char *colour = palette[i % PALETTE];
        int y = box[1] + 10 + (int)i * 22;
        curve_line(f, s, s->recovery_curves[i], colour, top, months, box);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>\n",
                CURVE_W - 156, y - 5, colour);
        label(f, CURVE_W - 136, y, "start", "legend", nz(s->recovery_curves[i]->arm));
    }
    fputs("</svg>\n", f);
}

static void rule_bar(FILE *f, const Arrears__OutreachSection *o, const Arrears__OutreachRuleFigures *r,
                     const char *key, const char *cls, int y, uint64_t max)
{
    figure_t fig;
    num_t t;
    figure_rule(&fig, o, r, key);
    int w = max ? (int)((uint64_t)fig.value * BAR_AREA_W / max) : 0;
    fprintf(f, "<rect class=\"bar %s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"10\"", cls,
            BAR_LABEL_W, y, w > 0 ? w : 1);
    figure_write(f, &fig, FIGURE_HTML_ATTRS);
    char tip[FIGURE_GROUP_MAX + 64];
    snprintf(tip, sizeof tip, "%s: %lld %s", nz(r->rule), (long long)fig.value, key);
    tip_end(f, "rect", tip);
    label(f, BAR_LABEL_W + w + 6, y + 9, "start", "num", render_count(fig.value, t, sizeof t));
}

void svg_rules(FILE *f, const Arrears__OutreachSection *o)
{
    uint64_t max = 0;
    for (size_t i = 0; i < o->n_rules; i++) {
        max = o->rules[i]->refused > max ? o->rules[i]->refused : max;
        max = o->rules[i]->deferred > max ? o->rules[i]->deferred : max;
    }
    int h = 34 + (int)o->n_rules * BAR_ROW, w = BAR_LABEL_W + BAR_AREA_W + 70;
    fprintf(f, "<svg class=\"chart bars\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "role=\"img\">\n", w, h, w, h);
    fprintf(f, "<rect class=\"key refused\" x=\"%d\" y=\"6\" width=\"12\" height=\"10\"/>\n",
            BAR_LABEL_W);
    label(f, BAR_LABEL_W + 18, 15, "start", "legend", "refused (tasks)");
    fprintf(f, "<rect class=\"key deferred\" x=\"%d\" y=\"6\" width=\"12\" height=\"10\"/>\n",
            BAR_LABEL_W + 140);
    label(f, BAR_LABEL_W + 158, 15, "start", "legend", "deferred (decisions kept)");
    for (size_t i = 0; i < o->n_rules; i++) {
        int y = 30 + (int)i * BAR_ROW;
        label(f, BAR_LABEL_W - 10, y + 15, "end", "axis", nz(o->rules[i]->rule));
        rule_bar(f, o, o->rules[i], "refused", "refused", y + 2, max);
        rule_bar(f, o, o->rules[i], "deferred", "deferred", y + 14, max);
    }
    fputs("</svg>\n", f);
}
