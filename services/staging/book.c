/* book: the account book, its payments by waterfall and days past due. See book.h. */
#include "book.h"

#include <assert.h>
#include <string.h>

#include "money.h"

static const char *const component_names[BOOK_COMPONENTS] = {
    [BOOK_FEES] = "fees",
    [BOOK_PENALTY] = "penalty",
    [BOOK_INTEREST] = "interest",
    [BOOK_PRINCIPAL] = "principal",
};

const char *book_strerror(int code)
{
    switch (code) {
    case BOOK_OK: return "ok";
    case BOOK_EOVERFLOW: return "amount beyond int64 minor units";
    case BOOK_EINVALID: return "amount, day or setting out of its domain";
    case BOOK_EFULL: return "the book is full of instalments";
    case BOOK_EORDER: return "due days must be strictly increasing";
    default: return "unknown error";
    }
}

const char *book_component_name(book_component_t component)
{
    if ((int)component < 0 || (int)component >= BOOK_COMPONENTS)
        return NULL;
    return component_names[component];
}

int book_component_from_name(const char *name, book_component_t *out)
{
    assert(out);
    for (int c = 0; name && c < BOOK_COMPONENTS; c++) {
        if (strcmp(name, component_names[c]) == 0) {
            *out = (book_component_t)c;
            return BOOK_OK;
        }
    }
    return BOOK_EINVALID;
}

book_waterfall_t book_waterfall_default(void)
{
    book_waterfall_t w = {
        .order = { BOOK_FEES, BOOK_PENALTY, BOOK_INTEREST, BOOK_PRINCIPAL },
        .sweep = BOOK_BY_INSTALMENT,
    };
    return w;
}

bool book_waterfall_valid(const book_waterfall_t *waterfall)
{
    if (!waterfall)
        return false;
    if (waterfall->sweep != BOOK_BY_INSTALMENT && waterfall->sweep != BOOK_BY_COMPONENT)
        return false;
    bool seen[BOOK_COMPONENTS] = { false };
    for (int k = 0; k < BOOK_COMPONENTS; k++) {
        int c = (int)waterfall->order[k];
        if (c < 0 || c >= BOOK_COMPONENTS || seen[c])
            return false;
        seen[c] = true;
    }
    return true;
}

int book_init(book_t *book, book_instalment_t *storage, size_t capacity)
{
    assert(book);
    if (!storage || capacity == 0 || capacity > BOOK_MAX_INSTALMENTS)
        return BOOK_EINVALID;
    memset(book, 0, sizeof *book);
    book->instalments = storage;
    book->capacity = capacity;
    book->penalty_next_day = BOOK_DAY_NONE;
    book->cap_window_start_day = BOOK_DAY_NONE;
    return BOOK_OK;
}

static bool day_valid(int64_t day)
{
    return day >= BOOK_DAY_MIN && day <= BOOK_DAY_MAX;
}

static int64_t outstanding_of(const book_instalment_t *in, int component)
{
    /* Cannot overflow: 0 <= paid <= owed is an invariant of the book. */
    return in->owed_minor[component] - in->paid_minor[component];
}

int book_instalment_make(int64_t due_day, int64_t principal_minor, int64_t interest_minor,
                         int64_t fees_minor, int64_t paid_minor,
                         const book_waterfall_t *waterfall, book_instalment_t *out)
{
    assert(out);
    if (!day_valid(due_day) || !book_waterfall_valid(waterfall))
        return BOOK_EINVALID;
    if (principal_minor < 0 || interest_minor < 0 || fees_minor < 0 || paid_minor < 0)
        return BOOK_EINVALID;
    int64_t sum = 0;
    if (money_add(principal_minor, interest_minor, &sum) != MONEY_OK ||
        money_add(sum, fees_minor, &sum) != MONEY_OK)
        return BOOK_EOVERFLOW;
    if (paid_minor > sum)
        return BOOK_EINVALID;

    book_instalment_t in = { .due_day = due_day };
    in.owed_minor[BOOK_PRINCIPAL] = principal_minor;
    in.owed_minor[BOOK_INTEREST] = interest_minor;
    in.owed_minor[BOOK_FEES] = fees_minor;
    /* What was paid before arrears is spread the way a payment would have been. */
    int64_t left = paid_minor;
    for (int k = 0; k < BOOK_COMPONENTS && left > 0; k++) {
        int c = (int)waterfall->order[k];
        int64_t take = in.owed_minor[c] < left ? in.owed_minor[c] : left;
        in.paid_minor[c] = take;
        left -= take;
    }
    *out = in;
    return BOOK_OK;
}

static bool instalment_valid(const book_instalment_t *in)
{
    if (!day_valid(in->due_day))
        return false;
    if (in->penalty_carry < 0 || in->penalty_carry >= BOOK_CARRY_DEN)
        return false;
    for (int c = 0; c < BOOK_COMPONENTS; c++) {
        if (in->owed_minor[c] < 0 || in->paid_minor[c] < 0 ||
            in->paid_minor[c] > in->owed_minor[c])
            return false;
    }
    return true;
}

int book_add_instalment(book_t *book, const book_instalment_t *instalment)
{
    assert(book && book->instalments && instalment);
    if (!instalment_valid(instalment))
        return BOOK_EINVALID;
    if (book->count > 0 &&
        instalment->due_day <= book->instalments[book->count - 1].due_day)
        return BOOK_EORDER;
    if (book->count >= book->capacity)
        return BOOK_EFULL;
    book->instalments[book->count++] = *instalment;
    return BOOK_OK;
}

/* One sweep of the waterfall. With apply false it only says where the money would go,
 * so a payment whose credit would overflow is refused before anything changes. */
typedef struct {
    book_t *book;
    bool apply;
    int64_t left_minor;
    book_allocation_t *allocation;
    uint8_t touched[(BOOK_MAX_INSTALMENTS + 7) / 8];
} sweep_t;

static void pay_one(sweep_t *s, size_t i, int component)
{
    book_instalment_t *in = &s->book->instalments[i];
    int64_t owing = outstanding_of(in, component);
    int64_t take = owing < s->left_minor ? owing : s->left_minor;
    if (take <= 0)
        return;
    if (s->apply)
        in->paid_minor[component] += take; /* <= owed: no overflow */
    book_allocation_t *a = s->allocation;
    a->component_minor[component] += take; /* the total never exceeds the payment */
    s->left_minor -= take;
    if (!(s->touched[i / 8] & (1u << (i % 8)))) {
        s->touched[i / 8] |= (uint8_t)(1u << (i % 8));
        a->instalments_touched++;
    }
    if (a->oldest_touched == SIZE_MAX || i < a->oldest_touched)
        a->oldest_touched = i;
    if (a->newest_touched == SIZE_MAX || i > a->newest_touched)
        a->newest_touched = i;
}

static int64_t sweep(book_t *book, const book_waterfall_t *w, int64_t amount_minor, bool apply,
                     book_allocation_t *allocation)
{
    sweep_t s = { .book = book, .apply = apply, .left_minor = amount_minor,
                  .allocation = allocation };
    memset(allocation, 0, sizeof *allocation);
    allocation->oldest_touched = allocation->newest_touched = SIZE_MAX;
    if (w->sweep == BOOK_BY_INSTALMENT) {
        for (size_t i = 0; i < book->count && s.left_minor > 0; i++)
            for (int k = 0; k < BOOK_COMPONENTS && s.left_minor > 0; k++)
                pay_one(&s, i, (int)w->order[k]);
    } else {
        for (int k = 0; k < BOOK_COMPONENTS && s.left_minor > 0; k++)
            for (size_t i = 0; i < book->count && s.left_minor > 0; i++)
                pay_one(&s, i, (int)w->order[k]);
    }
    return s.left_minor;
}

int book_apply_payment(book_t *book, const book_waterfall_t *waterfall, int64_t amount_minor,
                       book_allocation_t *allocation)
{
    assert(book);
    if (!book_waterfall_valid(waterfall) || amount_minor <= 0)
        return BOOK_EINVALID;
    book_allocation_t a;
    int64_t left = sweep(book, waterfall, amount_minor, false, &a);
    int64_t credit = 0;
    if (money_add(book->credit_minor, left, &credit) != MONEY_OK)
        return BOOK_EOVERFLOW;
    sweep(book, waterfall, amount_minor, true, &a);
    book->credit_minor = credit;
    a.credit_minor = left;
    if (allocation)
        *allocation = a;
    return BOOK_OK;
}

int book_apply_credit(book_t *book, const book_waterfall_t *waterfall,
                      book_allocation_t *allocation)
{
    assert(book);
    if (!book_waterfall_valid(waterfall))
        return BOOK_EINVALID;
    book_allocation_t a;
    /* What is not allocated stays credit: nothing can overflow here. */
    book->credit_minor = sweep(book, waterfall, book->credit_minor, true, &a);
    if (allocation)
        *allocation = a;
    return BOOK_OK;
}

int book_waive_outstanding(book_t *book, book_component_t component, int64_t *waived_minor)
{
    assert(book);
    if ((int)component < 0 || (int)component >= BOOK_COMPONENTS)
        return BOOK_EINVALID;
    int64_t total = 0;
    int rc = book_outstanding(book, component, &total);
    if (rc != BOOK_OK)
        return rc; /* an unreportable total: change nothing */
    for (size_t i = 0; i < book->count; i++)
        book->instalments[i].owed_minor[component] = book->instalments[i].paid_minor[component];
    if (waived_minor)
        *waived_minor = total;
    return BOOK_OK;
}

int book_outstanding(const book_t *book, book_component_t component, int64_t *out_minor)
{
    assert(book && out_minor);
    if ((int)component < 0 || (int)component >= BOOK_COMPONENTS)
        return BOOK_EINVALID;
    int64_t total = 0;
    for (size_t i = 0; i < book->count; i++) {
        if (money_add(total, outstanding_of(&book->instalments[i], (int)component), &total) !=
            MONEY_OK)
            return BOOK_EOVERFLOW;
    }
    *out_minor = total;
    return BOOK_OK;
}

/* Outstanding of every component of instalments due before before_day. */
static int outstanding_due_before(const book_t *book, int64_t before_day, int64_t *out_minor)
{
    int64_t total = 0;
    for (size_t i = 0; i < book->count && book->instalments[i].due_day < before_day; i++) {
        for (int c = 0; c < BOOK_COMPONENTS; c++) {
            if (money_add(total, outstanding_of(&book->instalments[i], c), &total) != MONEY_OK)
                return BOOK_EOVERFLOW;
        }
    }
    *out_minor = total;
    return BOOK_OK;
}

int book_outstanding_total(const book_t *book, int64_t *out_minor)
{
    assert(book && out_minor);
    return outstanding_due_before(book, INT64_MAX, out_minor);
}

int book_overdue_total(const book_t *book, int64_t today_day, int64_t *out_minor)
{
    assert(book && out_minor);
    if (!day_valid(today_day))
        return BOOK_EINVALID;
    return outstanding_due_before(book, today_day, out_minor);
}

bool book_instalment_unpaid(const book_instalment_t *instalment)
{
    assert(instalment);
    for (int c = 0; c < BOOK_COMPONENTS; c++) {
        if (outstanding_of(instalment, c) > 0)
            return true;
    }
    return false;
}

int64_t book_dpd(const book_t *book, int64_t today_day)
{
    assert(book);
    assert(day_valid(today_day)); /* tz_local_day() clamps into this range */
    for (size_t i = 0; i < book->count; i++) {
        const book_instalment_t *in = &book->instalments[i];
        if (in->due_day >= today_day)
            return 0; /* due days increase: nothing older is unpaid */
        if (book_instalment_unpaid(in))
            return today_day - in->due_day;
    }
    return 0;
}
