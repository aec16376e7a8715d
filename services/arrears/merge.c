/* merge: see merge.h. Walks the report messages through protobuf-c's descriptors: every
 * integer is a count or a sum unless the rate table below recomputes it, and every list
 * has a rule saying which fields name its elements and where a new one goes. The merged
 * tree is built of unpacked copies (protobuf_c_message_unpack with the system allocator)
 * and arrays grown with realloc, so protobuf-c's free_unpacked frees all of it. */
#include "merge.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "book_order.h"
#include "money.h"
#include "pbfield.h"

#define KEYS_MAX 3

typedef int (*order_fn)(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* A list of the report: the fields that name an element (the same names on two shards:
 * the same element) and the order a new element is placed in (NULL: the shards'). */
typedef struct {
    const ProtobufCMessageDescriptor *in;
    const char *list;
    const char *key[KEYS_MAX + 1];
    order_fn order;
} list_rule_t;

/* A rate, part / (whole + also) in basis points (proto/staging.proto, Rates). */
typedef struct {
    const ProtobufCMessageDescriptor *in;
    const char *rate;
    const char *part, *whole, *also;
} rate_rule_t;

static const char *text_of(const ProtobufCMessage *m, const char *field)
{
    const ProtobufCFieldDescriptor *d =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, field);
    const char *s = d && d->type == PROTOBUF_C_TYPE_STRING
                        ? *(char *const *)(const void *)((const char *)m + d->offset)
                        : NULL;
    return s ? s : "";
}

static int by_stage(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    return book_stage_rank(text_of(a, "name")) - book_stage_rank(text_of(b, "name"));
}

static int by_channel(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    return book_channel_rank(text_of(a, "name")) - book_channel_rank(text_of(b, "name"));
}

static int by_month_text(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    return strcmp(text_of(a, "month"), text_of(b, "month"));
}

static int by_month_number(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    int64_t x = pbfield_named(a, "month"), y = pbfield_named(b, "month");
    return (x > y) - (x < y);
}

/* Staging's roll cells: month by month, each a from x to matrix in stage order. */
static int by_roll_cell(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    int c = by_month_text(a, b);
    if (c == 0)
        c = book_stage_rank(text_of(a, "from_stage")) - book_stage_rank(text_of(b, "from_stage"));
    if (c == 0)
        c = book_stage_rank(text_of(a, "to_stage")) - book_stage_rank(text_of(b, "to_stage"));
    return c;
}

static int by_platform_currency(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    int c = strcmp(text_of(a, "platform"), text_of(b, "platform"));
    return c ? c : strcmp(text_of(a, "currency"), text_of(b, "currency"));
}

static const list_rule_t lists[] = {
    { &arrears__report__descriptor, "sections", { "platform", "currency" }, by_platform_currency },
    { &arrears__report_section__descriptor, "by_stage", { "name" }, by_stage },
    { &arrears__report_section__descriptor, "by_segment", { "name" }, NULL },
    { &arrears__report_section__descriptor, "by_arm", { "name" }, NULL },
    { &arrears__report_section__descriptor, "roll_rates", { "month", "from_stage", "to_stage" },
      by_roll_cell },
    { &arrears__report_section__descriptor, "recovery_curves", { "arm" }, NULL },
    { &arrears__recovery_curve__descriptor, "points", { "month" }, by_month_number },
    { &arrears__report_section__descriptor, "recovery_by_channel", { "name" }, by_channel },
    { &arrears__report_section__descriptor, "recovery_by_stage", { "name" }, by_stage },
    { &arrears__report_section__descriptor, "remittance", { "month" }, by_month_text },
};

static const rate_rule_t rates[] = {
    { &arrears__report_group__descriptor, "collection_rate_bps", "collected_minor",
      "overdue_at_entry_minor", NULL },
    { &arrears__report_section__descriptor, "promise_kept_rate_bps", "promises_kept",
      "promises_kept", "promises_broken" },
    { &arrears__report_section__descriptor, "cure_rate_bps", "accounts_cured",
      "accounts_delinquent", NULL },
    { &arrears__curve_point__descriptor, "recovery_rate_bps", "collected_minor",
      "overdue_at_entry_minor", NULL },
};

#define MS_PER_HOUR 3600000
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const list_rule_t *list_rule(const ProtobufCMessageDescriptor *in, const char *list)
{
    for (size_t i = 0; i < COUNT(lists); i++)
        if (lists[i].in == in && strcmp(lists[i].list, list) == 0)
            return &lists[i];
    return NULL;
}

static bool is_rate(const ProtobufCMessageDescriptor *in, const char *field)
{
    for (size_t i = 0; i < COUNT(rates); i++)
        if (rates[i].in == in && strcmp(rates[i].rate, field) == 0)
            return true;
    return false;
}

static bool is_key(const char *const *keys, const char *field)
{
    for (size_t i = 0; keys && keys[i]; i++)
        if (strcmp(keys[i], field) == 0)
            return true;
    return false;
}

/* A whole copy of m (through its wire form: the copy is protobuf-c's own). */
static int copy_message(const ProtobufCMessage *m, ProtobufCMessage **out)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return MERGE_ENOMEM;
    protobuf_c_message_pack(m, buf);
    *out = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
    free(buf);
    return *out ? 0 : MERGE_ENOMEM;
}

static bool same_element(const list_rule_t *rule, const ProtobufCMessage *a,
                         const ProtobufCMessage *b)
{
    for (size_t i = 0; rule->key[i]; i++) {
        const ProtobufCFieldDescriptor *d =
            protobuf_c_message_descriptor_get_field_by_name(a->descriptor, rule->key[i]);
        bool same = d->type == PROTOBUF_C_TYPE_STRING
                        ? strcmp(text_of(a, d->name), text_of(b, d->name)) == 0
                        : pbfield_named(a, d->name) == pbfield_named(b, d->name);
        if (!same)
            return false;
    }
    return true;
}

/* The index of the element of list[0 .. n) named as x, or n. */
static size_t find(const list_rule_t *rule, ProtobufCMessage *const *list, size_t n,
                   const ProtobufCMessage *x)
{
    size_t i = 0;
    while (i < n && !same_element(rule, list[i], x))
        i++;
    return i;
}

/* Where from[i], new to the merged list to[0 .. n), goes: by the rule's order, or before
 * the first element that its own shard lists after it. */
static size_t place(const list_rule_t *rule, ProtobufCMessage *const *to, size_t n,
                    ProtobufCMessage *const *from, size_t n_from, size_t i)
{
    if (rule->order) {
        size_t k = 0;
        while (k < n && rule->order(to[k], from[i]) <= 0)
            k++;
        return k;
    }
    size_t at = n;
    for (size_t j = i + 1; j < n_from; j++) {
        size_t k = find(rule, to, n, from[j]);
        at = k < at ? k : at;
    }
    return at;
}

static int merge_message(ProtobufCMessage *dst, const ProtobufCMessage *src,
                         const char *const *keys);

/* The list field f of src into dst's. */
static int merge_list(ProtobufCMessage *dst, const ProtobufCMessage *src,
                      const ProtobufCFieldDescriptor *f)
{
    const list_rule_t *rule = list_rule(dst->descriptor, f->name);
    if (!rule)
        return MERGE_EFIELD;
    size_t *n = (size_t *)(void *)((char *)dst + f->quantifier_offset);
    ProtobufCMessage ***to = (ProtobufCMessage ***)(void *)((char *)dst + f->offset);
    size_t n_from = *(const size_t *)(const void *)((const char *)src + f->quantifier_offset);
    ProtobufCMessage *const *from =
        *(ProtobufCMessage **const *)(const void *)((const char *)src + f->offset);
    for (size_t i = 0; i < n_from; i++) {
        size_t at = find(rule, *to, *n, from[i]);
        if (at < *n) {
            int rc = merge_message((*to)[at], from[i], rule->key);
            if (rc != 0)
                return rc;
            continue;
        }
        at = place(rule, *to, *n, from, n_from, i);
        ProtobufCMessage *copy = NULL, **grown = realloc(*to, (*n + 1) * sizeof *grown);
        if (!grown)
            return MERGE_ENOMEM;
        *to = grown;
        int rc = copy_message(from[i], &copy);
        if (rc != 0)
            return rc;
        memmove(&grown[at + 1], &grown[at], (*n - at) * sizeof *grown);
        grown[at] = copy;
        (*n)++;
    }
    return 0;
}

/* An optional message field (a section's total, its complaint figures). */
static int merge_child(ProtobufCMessage *dst, const ProtobufCMessage *src,
                       const ProtobufCFieldDescriptor *f)
{
    ProtobufCMessage **to = (ProtobufCMessage **)(void *)((char *)dst + f->offset);
    const ProtobufCMessage *from =
        *(ProtobufCMessage *const *)(const void *)((const char *)src + f->offset);
    if (!from)
        return 0;
    return *to ? merge_message(*to, from, NULL) : copy_message(from, to);
}

/* dst's integer field f plus src's, checked: money and the other int64s through money_add
 * (shared/money.h), counts as unsigned. */
static int add_integer(ProtobufCMessage *dst, const ProtobufCMessage *src,
                       const ProtobufCFieldDescriptor *f)
{
    void *to = (char *)dst + f->offset;
    const void *from = (const char *)src + f->offset;
    bool over;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        over = __builtin_add_overflow(*(int32_t *)to, *(const int32_t *)from, (int32_t *)to);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        over = __builtin_add_overflow(*(uint32_t *)to, *(const uint32_t *)from, (uint32_t *)to);
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        over = money_add(*(int64_t *)to, *(const int64_t *)from, (int64_t *)to) != MONEY_OK;
        break;
    default:
        over = __builtin_add_overflow(*(uint64_t *)to, *(const uint64_t *)from, (uint64_t *)to);
        break;
    }
    return over ? MERGE_EOVERFLOW : 0;
}

/* Every field of src into dst but the keys (equal by the match) and names (the first
 * shard's): lists and children merged, integers added, rates only marked present. */
static int merge_message(ProtobufCMessage *dst, const ProtobufCMessage *src,
                         const char *const *keys)
{
    const ProtobufCMessageDescriptor *d = dst->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        int64_t ignored;
        int rc = 0;
        if (is_key(keys, f->name))
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            rc = f->type == PROTOBUF_C_TYPE_MESSAGE ? merge_list(dst, src, f) : MERGE_EFIELD;
        else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            rc = merge_child(dst, src, f);
        else if (pbfield_value(f, src, &ignored) != 0 || !pbfield_present(src, f))
            continue;   /* a name, or a figure this shard does not state */
        else if (!is_rate(d, f->name))
            rc = add_integer(dst, src, f);
        if (rc != 0)
            return rc;
        if (f->label != PROTOBUF_C_LABEL_REPEATED && f->type != PROTOBUF_C_TYPE_MESSAGE)
            pbfield_set_present(dst, f);
    }
    return 0;
}

/* Complaint response hours from the exact milliseconds every shard stated. */
static void recompute_hours(ProtobufCMessage *m)
{
    Arrears__ComplaintFigures *c = (Arrears__ComplaintFigures *)m;
    int64_t hours = 0;
    if (!c->has_response_ms_total || c->response_ms_total > INT64_MAX ||
        money_mul_div_round((int64_t)c->response_ms_total, 1, MS_PER_HOUR, &hours) != MONEY_OK)
        return;
    c->has_response_hours_total = 1;
    c->response_hours_total = (uint64_t)hours;
}

/* The rates of m and of every message under it, from the merged counts. */
static void recompute_rates(ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (d == &arrears__complaint_figures__descriptor)
        recompute_hours(m);
    for (size_t i = 0; i < COUNT(rates); i++) {
        if (rates[i].in != d)
            continue;
        int64_t whole = pbfield_named(m, rates[i].whole);
        if (rates[i].also && __builtin_add_overflow(whole, pbfield_named(m, rates[i].also), &whole))
            whole = INT64_MAX;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(d, rates[i].rate);
        *(uint32_t *)(void *)((char *)m + f->offset) =
            money_rate_bps(pbfield_named(m, rates[i].part), whole);
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *at = (const char *)m + f->offset;
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            ProtobufCMessage *child = *(ProtobufCMessage *const *)(const void *)at;
            if (child)
                recompute_rates(child);
            continue;
        }
        size_t n = *(const size_t *)(const void *)((const char *)m + f->quantifier_offset);
        ProtobufCMessage *const *list = *(ProtobufCMessage **const *)(const void *)at;
        for (size_t k = 0; k < n; k++)
            recompute_rates(list[k]);
    }
}

static int merge_report(Arrears__Report *dst, const Arrears__Report *src)
{
    const ProtobufCFieldDescriptor *sections =
        protobuf_c_message_descriptor_get_field_by_name(&arrears__report__descriptor, "sections");
    int rc = merge_list(&dst->base, &src->base, sections);
    if (rc == 0 && src->has_as_of_ms && (!dst->has_as_of_ms || src->as_of_ms < dst->as_of_ms)) {
        dst->has_as_of_ms = 1;
        dst->as_of_ms = src->as_of_ms;
    }
    return rc;
}

int merge_reports(const Arrears__Report *const *in, size_t n, Arrears__Report **out)
{
    assert(n >= 1);
    ProtobufCMessage *merged = NULL;
    int rc = copy_message(&in[0]->base, &merged);
    for (size_t i = 1; rc == 0 && i < n; i++)
        rc = merge_report((Arrears__Report *)merged, in[i]);
    if (rc == 0)
        recompute_rates(merged);
    else if (merged)
        protobuf_c_message_free_unpacked(merged, NULL);
    *out = rc == 0 ? (Arrears__Report *)merged : NULL;
    return rc;
}

const char *merge_strerror(int code)
{
    switch (code) {
    case MERGE_ENOMEM: return "out of memory merging the shards' reports";
    case MERGE_EOVERFLOW:
        return "a figure summed over the shards is beyond its type: ask per platform "
               "(--platform)";
    case MERGE_EFIELD:
        return "staging's report has a list this arrears does not know how to merge: use an "
               "arrears CLI built with this staging";
    default: return "unknown merge error";
    }
}
