/* render: what the three forms of `arrears report` share (render.h) — every figure of
 * the gathered reports as a named row, walked in one order, and one writer for a row as
 * CSV or as an HTML element's data attributes. The keys are the proto fields' own names,
 * read through protobuf-c's descriptors, so a field added to a report is reported
 * without a change here and its name cannot drift between the CSV and the page. */
#include "render.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    figure_fn fn;
    void *arg;
} emit_t;

void figure_start(figure_t *fig, const char *section, const char *platform,
                  const char *currency)
{
    memset(fig, 0, sizeof *fig);
    fig->section = section;
    fig->platform = nz(platform);
    fig->currency = nz(currency);
    fig->key = "";
}

void figure_group(figure_t *fig, const char *a, const char *b, const char *c)
{
    const char *parts[3] = { a, b, c };
    size_t used = 0;
    fig->group[0] = '\0';
    for (int i = 0; i < 3 && parts[i]; i++) {
        int n = snprintf(fig->group + used, sizeof fig->group - used, "%s%s", i ? "|" : "",
                         parts[i]);
        if (n < 0 || (size_t)n >= sizeof fig->group - used)
            break;   /* names far shorter than the bound: the service caps them */
        used += (size_t)n;
    }
}

void figure_key(figure_t *fig, const char *key, int64_t value)
{
    fig->key = key;
    fig->value = value;
}

void figure_roll(figure_t *fig, const Arrears__ReportSection *s, const Arrears__RollCell *c)
{
    figure_start(fig, "roll", s->platform, s->currency);
    figure_group(fig, nz(c->month), nz(c->from_stage), nz(c->to_stage));
    figure_key(fig, "accounts", (int64_t)c->accounts);
}

void figure_curve(figure_t *fig, const Arrears__ReportSection *s, const char *arm,
                  const Arrears__CurvePoint *p, const char *key)
{
    char month[16];
    snprintf(month, sizeof month, "%u", p->month);
    figure_start(fig, "curve", s->platform, s->currency);
    figure_group(fig, nz(arm), month, NULL);
    figure_key(fig, key, pbfield_named(&p->base, key));
}

void figure_rule(figure_t *fig, const Arrears__OutreachSection *o,
                 const Arrears__OutreachRuleFigures *r, const char *key)
{
    figure_start(fig, "conduct_rule", o->platform, o->currency);
    figure_group(fig, nz(r->rule), NULL, NULL);
    figure_key(fig, key, pbfield_named(&r->base, key));
}

/* One row per integer field of m, in the proto's field order, except skip (a field the
 * group already names). m NULL (an absent sub-message): its fields as zeros. */
static void emit_fields(const emit_t *e, figure_t *fig, const ProtobufCMessageDescriptor *desc,
                        const ProtobufCMessage *m, const char *skip)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *d = &desc->fields[i];
        int64_t v;
        if ((skip && strcmp(d->name, skip) == 0) || pbfield_value(d, m, &v) != 0)
            continue;
        figure_key(fig, d->name, v);
        e->fn(fig, e->arg);
    }
}

/* One row group per repeated message named by its `name` field (ReportGroup,
 * RecoveryGroup): the group is the name, the keys are the message's integer fields. */
static void emit_named(const emit_t *e, const char *section, const Arrears__ReportSection *s,
                       const ProtobufCMessageDescriptor *d, void *const *items, size_t n)
{
    const ProtobufCFieldDescriptor *name = protobuf_c_message_descriptor_get_field_by_name(d, "name");
    assert(name && name->type == PROTOBUF_C_TYPE_STRING);
    figure_t fig;
    figure_start(&fig, section, s->platform, s->currency);
    for (size_t i = 0; i < n; i++) {
        const ProtobufCMessage *m = items[i];
        figure_group(&fig, nz(*(char *const *)((const char *)m + name->offset)), NULL, NULL);
        emit_fields(e, &fig, d, m, NULL);
    }
}

static void emit_staging_series(const emit_t *e, const Arrears__ReportSection *s)
{
    figure_t fig;
    for (size_t i = 0; i < s->n_roll_rates; i++) {
        figure_roll(&fig, s, s->roll_rates[i]);
        e->fn(&fig, e->arg);
    }
    for (size_t i = 0; i < s->n_recovery_curves; i++) {
        const Arrears__RecoveryCurve *c = s->recovery_curves[i];
        for (size_t k = 0; k < c->n_points; k++) {
            figure_curve(&fig, s, c->arm, c->points[k], "");
            emit_fields(e, &fig, &arrears__curve_point__descriptor, &c->points[k]->base, "month");
        }
    }
    emit_named(e, "channel", s, &arrears__recovery_group__descriptor,
               (void *const *)s->recovery_by_channel, s->n_recovery_by_channel);
    emit_named(e, "stage_recovery", s, &arrears__recovery_group__descriptor,
               (void *const *)s->recovery_by_stage, s->n_recovery_by_stage);
    figure_start(&fig, "complaints", s->platform, s->currency);
    figure_group(&fig, "all", NULL, NULL);
    emit_fields(e, &fig, &arrears__complaint_figures__descriptor,
                (const ProtobufCMessage *)s->complaint_figures, NULL);
    figure_start(&fig, "remittance", s->platform, s->currency);
    for (size_t i = 0; i < s->n_remittance; i++) {
        figure_group(&fig, nz(s->remittance[i]->month), NULL, NULL);
        emit_fields(e, &fig, &arrears__remittance_month__descriptor, &s->remittance[i]->base, NULL);
    }
}

static void emit_staging(const emit_t *e, const Arrears__ReportSection *s)
{
    figure_t fig;
    figure_start(&fig, "book", s->platform, s->currency);
    figure_group(&fig, "all", NULL, NULL);
    emit_fields(e, &fig, &arrears__report_group__descriptor, (const ProtobufCMessage *)s->total,
                NULL);
    emit_fields(e, &fig, &arrears__report_section__descriptor, &s->base, NULL);
    emit_named(e, "stage", s, &arrears__report_group__descriptor, (void *const *)s->by_stage,
               s->n_by_stage);
    emit_named(e, "segment", s, &arrears__report_group__descriptor, (void *const *)s->by_segment,
               s->n_by_segment);
    emit_named(e, "arm", s, &arrears__report_group__descriptor, (void *const *)s->by_arm,
               s->n_by_arm);
    emit_staging_series(e, s);
}

static void emit_outreach(const emit_t *e, const Arrears__OutreachSection *o)
{
    figure_t fig;
    figure_start(&fig, "outreach_channel", o->platform, o->currency);
    for (size_t i = 0; i < o->n_channels; i++) {
        figure_group(&fig, nz(o->channels[i]->channel), NULL, NULL);
        emit_fields(e, &fig, &arrears__outreach_channel_figures__descriptor,
                    &o->channels[i]->base, NULL);
    }
    for (size_t i = 0; i < o->n_rules; i++) {
        figure_rule(&fig, o, o->rules[i], "");
        emit_fields(e, &fig, &arrears__outreach_rule_figures__descriptor, &o->rules[i]->base, NULL);
    }
    figure_start(&fig, "conduct_profile", o->platform, o->currency);
    for (size_t i = 0; i < o->n_profiles; i++) {
        const Arrears__OutreachProfileFigures *p = o->profiles[i];
        figure_group(&fig, nz(p->profile), "all", NULL);
        emit_fields(e, &fig, &arrears__outreach_profile_figures__descriptor, &p->base, NULL);
        for (size_t k = 0; k < p->n_rules; k++) {
            figure_group(&fig, nz(p->profile), nz(p->rules[k]->rule), NULL);
            emit_fields(e, &fig, &arrears__outreach_rule_figures__descriptor, &p->rules[k]->base,
                        NULL);
        }
    }
}

/* "time_barred=3": reason and count (anything else is left out: not a figure). */
static void emit_declined(const emit_t *e, const Arrears__LegalReport *l)
{
    figure_t fig;
    figure_start(&fig, "legal_declined", "", "");
    for (size_t i = 0; i < l->n_declined_by_reason; i++) {
        const char *text = nz(l->declined_by_reason[i]), *eq = strchr(text, '=');
        char reason[FIGURE_GROUP_MAX], *end;
        if (!eq || (size_t)(eq - text) >= sizeof reason)
            continue;
        long long n = strtoll(eq + 1, &end, 10);
        if (end == eq + 1 || *end)
            continue;
        snprintf(reason, sizeof reason, "%.*s", (int)(eq - text), text);
        figure_group(&fig, reason, NULL, NULL);
        figure_key(&fig, "declined", n);
        e->fn(&fig, e->arg);
    }
}

static void emit_legal_sale(const emit_t *e, const Arrears__LegalReport *l,
                            const Arrears__SaleReport *s)
{
    figure_t fig;
    for (size_t i = 0; i < l->n_assignees; i++) {
        const Arrears__AssigneeFigures *a = l->assignees[i];
        figure_start(&fig, "legal_assignee", "", a->currency);
        figure_group(&fig, nz(a->assignee), NULL, NULL);
        emit_fields(e, &fig, &arrears__assignee_figures__descriptor, &a->base, NULL);
    }
    figure_start(&fig, "legal", "", "");
    figure_group(&fig, "all", NULL, NULL);
    emit_fields(e, &fig, &arrears__legal_report__descriptor, &l->base, NULL);
    emit_declined(e, l);
    figure_start(&fig, "sale", "", "");
    figure_group(&fig, "all", NULL, NULL);
    emit_fields(e, &fig, &arrears__sale_report__descriptor, &s->base, NULL);
    for (size_t i = 0; i < s->n_proceeds; i++) {
        figure_start(&fig, "sale_proceeds", "", s->proceeds[i]->currency);
        figure_group(&fig, "all", NULL, NULL);
        emit_fields(e, &fig, &arrears__sale_proceeds__descriptor, &s->proceeds[i]->base, NULL);
    }
}

void figures_each(const gather_t *g, figure_fn fn, void *arg)
{
    emit_t e = { fn, arg };
    const Arrears__Report *r = g->staging->report;
    const Arrears__OutreachReport *o = g->outreach->outreach_report;
    for (size_t i = 0; i < r->n_sections; i++)
        emit_staging(&e, r->sections[i]);
    for (size_t i = 0; i < o->n_sections; i++)
        emit_outreach(&e, o->sections[i]);
    figure_t fig;
    figure_start(&fig, "outreach", "", "");
    figure_group(&fig, "all", NULL, NULL);
    emit_fields(&e, &fig, &arrears__outreach_report__descriptor, &o->base, "as_of_ms");
    emit_legal_sale(&e, g->legal->legal_report, g->sale->sale_report);
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. Only
 * platform names (from outside) and service-given names can need it. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void figure_write(FILE *f, const figure_t *fig, figure_form_t form)
{
    const char *names[5] = { "section", "platform", "currency", "group", "key" };
    const char *values[5] = { fig->section, fig->platform, fig->currency, fig->group, fig->key };
    for (int i = 0; i < 5; i++) {
        if (form == FIGURE_CSV_ROW) {
            csv_field(f, values[i]);
            fputc(',', f);
        } else {
            fprintf(f, " data-%s=\"", names[i]);
            html_text(f, values[i]);
            fputc('"', f);
        }
    }
    if (form == FIGURE_CSV_ROW)
        fprintf(f, "%lld\n", (long long)fig->value);
    else
        fprintf(f, " data-value=\"%lld\"", (long long)fig->value);
}
