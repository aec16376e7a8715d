/* test_feed: each platform's ordered event feed (services/intake/feed.c).
 *
 * Proves: cursors are per platform, start at 1 and grow by 1 even when platforms'
 * appends interleave; a page after cursor 0 holds every event in order with the
 * feed's last and earliest cursors and the request id echoed; a page after N holds the
 * rest; max_events is honoured, 0 means 100 and anything above FEED_PAGE_MAX is capped;
 * another platform's events never appear, not even for a platform whose name is a
 * prefix of the other's; retention by count and by age (the event's at_ms, the limit
 * itself kept) moves the earliest cursor; a page after a cursor older than earliest-1
 * is refused CURSOR_EXPIRED with expected_seq = earliest, after exactly earliest-1 is
 * served, and after 0 ("from the earliest event held", platform.proto) is served from
 * the earliest; a cursor beyond the newest is an empty page, never CURSOR_EXPIRED;
 * feed_prune deletes at most max_deletes per call and resumes where it stopped;
 * feed_dump prints one JSON line per event in (platform, cursor) order without at_ms;
 * an event appended again is a repeat (cursor 0, nothing stored) for as long as the
 * original is held, and so is a repeat of an event held before the feed kept seen keys.
 * Every reply is decoded from the packed Envelope as a platform would decode it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>

#include "feed.h"
#include "receiver.h"

#define REPLY_CAP (1 << 20)
#define T0_MS INT64_C(1772323200000)   /* 2026-03-01T00:00:00Z */

typedef struct {
    char dir[256];
    store_t *store;
    feed_t *feed;
    uint8_t *buf;   /* REPLY_CAP bytes for packed replies */
} fixture_t;

/* ---- fixture ----------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/arrears-ut-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    store_options_t o = store_default_options();
    f->buf = malloc(REPLY_CAP);
    if (!f->buf || !mkdtemp(f->dir) || store_open(&f->store, f->dir, &o) != STORE_OK) {
        free(f->buf);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    feed_destroy(&f->feed);
    store_destroy(&f->store);
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f->buf);
    free(f);
    return rc;
}

static void open_feed(fixture_t *f, uint64_t retain_events, int64_t retain_ms)
{
    feed_limits_t lim = { .retain_events = retain_events, .retain_ms = retain_ms };
    assert_int_equal(feed_open(f->store, &lim, &f->feed), 0);
}

static void open_default_feed(fixture_t *f)
{
    feed_limits_t lim = feed_default_limits();
    open_feed(f, lim.retain_events, lim.retain_ms);
}

/* ---- appends --------------------------------------------------------------------- */

typedef struct {
    feed_t *feed;
    const char *platform;
    size_t count;
    int64_t at_ms, step_ms;   /* event i happens at at_ms + i * step_ms */
    uint64_t cursors[8];      /* the first ones given */
} append_call_t;

/* Event refs name the platform and the event's number: "<platform>:<n>". */
static int append_work(MDB_txn *txn, void *arg)
{
    append_call_t *c = arg;
    for (size_t i = 0; i < c->count; i++) {
        char ref[96];
        snprintf(ref, sizeof ref, "%s:%zu", c->platform, i);
        Arrears__FeedEvent e = ARREARS__FEED_EVENT__INIT;
        e.account_ref = ref;
        e.has_kind = 1;
        e.kind = ARREARS__FEED_EVENT_KIND__STAGE_CHANGED;
        e.has_at_ms = 1;
        e.at_ms = c->at_ms + (int64_t)i * c->step_ms;
        e.stage = "early";
        e.has_days_past_due = 1;
        e.days_past_due = (int32_t)i;
        uint64_t cursor = 0;
        int rc = feed_append(c->feed, txn, c->platform, &e, &cursor);
        if (rc != 0)
            return rc;
        assert_int_equal(e.cursor, cursor);
        if (i < 8)
            c->cursors[i] = cursor;
    }
    return 0;
}

/* Appends count events for platform in one transaction; returns the first cursor. */
static uint64_t append_n(fixture_t *f, const char *platform, size_t count, int64_t at_ms,
                         int64_t step_ms)
{
    append_call_t c = { f->feed, platform, count, at_ms, step_ms, { 0 } };
    assert_int_equal(store_write(f->store, append_work, &c), 0);
    return c.cursors[0];
}

static uint64_t append_one(fixture_t *f, const char *platform, int64_t at_ms)
{
    return append_n(f, platform, 1, at_ms, 0);
}

/* ---- pages ------------------------------------------------------------------------- */

typedef struct {
    fixture_t *f;
    const char *platform;
    uint64_t after;
    uint32_t max;
    uint64_t request_id;
    size_t len;
    int error;
    reject_t reject;
} page_call_t;

static int page_work(MDB_txn *txn, void *arg)
{
    page_call_t *c = arg;
    c->len = feed_page(c->f->feed, txn, c->platform, c->after, c->max, c->request_id, c->f->buf,
                       REPLY_CAP, &c->reject, &c->error);
    return 0;
}

/* A page that must be served: the decoded envelope (free with arrears__envelope__free_unpacked). */
static Arrears__Envelope *page_ok(fixture_t *f, const char *platform, uint64_t after,
                                  uint32_t max, uint64_t request_id)
{
    page_call_t c = { f, platform, after, max, request_id, 0, -1, { 0 } };
    assert_int_equal(store_read(f->store, page_work, &c), 0);
    assert_int_equal(c.error, 0);
    if (c.len == 0)
        fail_msg("feed_page after %llu refused: %s %s", (unsigned long long)after,
                 reject_code_name(c.reject.code), c.reject.reason);
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, c.len, f->buf);
    assert_non_null(env);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_FEED_PAGE);
    assert_non_null(env->feed_page);
    assert_true(env->has_request_id);
    assert_int_equal(env->request_id, request_id);
    assert_true(env->feed_page->has_last_cursor);
    assert_true(env->feed_page->has_earliest_cursor);
    return env;
}

/* A page that must be refused: the reject. */
static reject_t page_refused(fixture_t *f, const char *platform, uint64_t after)
{
    page_call_t c = { f, platform, after, 10, 77, 0, -1, { 0 } };
    assert_int_equal(store_read(f->store, page_work, &c), 0);
    assert_int_equal(c.error, 0);
    assert_int_equal(c.len, 0);
    return c.reject;
}

/* The page holds cursors first.., count of them, all of platform's, in order. */
static void assert_events(const Arrears__FeedPage *p, const char *platform, uint64_t first,
                          size_t count)
{
    assert_int_equal(p->n_events, count);
    size_t plen = strlen(platform);
    for (size_t i = 0; i < count; i++) {
        const Arrears__FeedEvent *e = p->events[i];
        assert_true(e->has_cursor);
        assert_int_equal(e->cursor, first + i);
        assert_non_null(e->account_ref);
        assert_memory_equal(e->account_ref, platform, plen);
        assert_int_equal(e->account_ref[plen], ':');
        assert_int_equal(e->kind, ARREARS__FEED_EVENT_KIND__STAGE_CHANGED);
    }
}

static void assert_marks(const Arrears__FeedPage *p, uint64_t earliest, uint64_t last)
{
    assert_int_equal(p->earliest_cursor, earliest);
    assert_int_equal(p->last_cursor, last);
}

/* Asks platform's page after `after` and checks the cursors and marks it holds. */
static void expect_page(fixture_t *f, const char *platform, uint64_t after, uint32_t max,
                        uint64_t first, size_t count, uint64_t earliest, uint64_t last)
{
    Arrears__Envelope *env = page_ok(f, platform, after, max, 4242);
    assert_events(env->feed_page, platform, first, count);
    assert_marks(env->feed_page, earliest, last);
    arrears__envelope__free_unpacked(env, NULL);
}

static void expect_expired(fixture_t *f, const char *platform, uint64_t after, uint64_t earliest)
{
    reject_t r = page_refused(f, platform, after);
    assert_int_equal(r.klass, ARREARS__REJECT__CLASS__PERMANENT);
    assert_int_equal(r.code, ARREARS__REJECT__CODE__CURSOR_EXPIRED);
    assert_int_equal(r.expected_seq, earliest);
    assert_true(r.reason[0] != 0);
}

/* ---- prune and dump ---------------------------------------------------------------- */

typedef struct {
    feed_t *feed;
    int64_t now_ms;
    size_t max_deletes, deleted;
} prune_call_t;

static int prune_work(MDB_txn *txn, void *arg)
{
    prune_call_t *c = arg;
    return feed_prune(c->feed, txn, c->now_ms, c->max_deletes, &c->deleted);
}

static size_t prune(fixture_t *f, int64_t now_ms, size_t max_deletes)
{
    prune_call_t c = { f->feed, now_ms, max_deletes, 999 };
    assert_int_equal(store_write(f->store, prune_work, &c), 0);
    return c.deleted;
}

typedef struct {
    feed_t *feed;
    FILE *out;
} dump_call_t;

static int dump_work(MDB_txn *txn, void *arg)
{
    dump_call_t *c = arg;
    return feed_dump(c->feed, txn, c->out);
}

/* The dump as one malloc'd string. */
static char *dump(fixture_t *f)
{
    char *text = NULL;
    size_t len = 0;
    dump_call_t c = { f->feed, open_memstream(&text, &len) };
    assert_non_null(c.out);
    assert_int_equal(store_read(f->store, dump_work, &c), 0);
    assert_int_equal(fclose(c.out), 0);
    return text;
}

/* ---- cursors and pages ---------------------------------------------------------------- */

static void test_cursors_per_platform(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    for (uint64_t n = 1; n <= 3; n++) {   /* each a new event: its own at_ms */
        assert_int_equal(append_one(f, "p1", T0_MS + (int64_t)n), n);
        assert_int_equal(append_one(f, "p2", T0_MS + (int64_t)n), n);
    }
    append_call_t c = { f->feed, "p1", 3, T0_MS, 1, { 0 } };   /* several in one txn */
    assert_int_equal(store_write(f->store, append_work, &c), 0);
    assert_int_equal(c.cursors[0], 4);
    assert_int_equal(c.cursors[2], 6);
    assert_int_equal(append_one(f, "p2", T0_MS), 4);
}

static void test_page_from_start_and_after(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    for (int i = 0; i < 3; i++) {
        append_one(f, "p1", T0_MS + i);
        append_one(f, "p2", T0_MS + i);
    }
    Arrears__Envelope *env = page_ok(f, "p1", 0, 0, 9001);
    assert_events(env->feed_page, "p1", 1, 3);
    assert_marks(env->feed_page, 1, 3);
    assert_int_equal(env->feed_page->events[2]->at_ms, T0_MS + 2);   /* served with at_ms */
    assert_string_equal(env->feed_page->events[0]->stage, "early");
    arrears__envelope__free_unpacked(env, NULL);

    expect_page(f, "p1", 1, 0, 2, 2, 1, 3);
    expect_page(f, "p1", 2, 0, 3, 1, 1, 3);
    expect_page(f, "p1", 3, 0, 4, 0, 1, 3);   /* caught up: empty, marks still given */
    expect_page(f, "p2", 0, 0, 1, 3, 1, 3);
}

static void test_page_empty_feed(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    expect_page(f, "nobody", 0, 0, 1, 0, 0, 0);
    append_one(f, "p1", T0_MS);
    expect_page(f, "nobody", 0, 0, 1, 0, 0, 0);
    expect_page(f, "nobody", 5, 0, 1, 0, 0, 0);
}

/* "p1" is a prefix of "p1x" and "p10": their keys must not bleed into p1's pages. */
static void test_platforms_never_mix(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    append_n(f, "p1x", 4, T0_MS, 1);
    append_n(f, "p1", 2, T0_MS, 1);
    append_n(f, "p10", 3, T0_MS, 1);
    append_n(f, "p", 1, T0_MS, 1);
    expect_page(f, "p1", 0, 0, 1, 2, 1, 2);
    expect_page(f, "p1x", 0, 0, 1, 4, 1, 4);
    expect_page(f, "p10", 1, 0, 2, 2, 1, 3);
    expect_page(f, "p", 0, 0, 1, 1, 1, 1);
    expect_page(f, "p1", 2, 0, 3, 0, 1, 2);
}

static void test_max_events(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    append_n(f, "p1", FEED_PAGE_MAX + 5, T0_MS, 1);
    append_n(f, "p2", 3, T0_MS, 1);
    uint64_t last = FEED_PAGE_MAX + 5;
    expect_page(f, "p1", 0, 0, 1, FEED_PAGE_DEFAULT, 1, last);   /* 0: the default, 100 */
    expect_page(f, "p1", 0, 1, 1, 1, 1, last);
    expect_page(f, "p1", 10, 7, 11, 7, 1, last);
    expect_page(f, "p1", 0, FEED_PAGE_MAX, 1, FEED_PAGE_MAX, 1, last);
    expect_page(f, "p1", 0, FEED_PAGE_MAX + 1, 1, FEED_PAGE_MAX, 1, last);   /* capped */
    expect_page(f, "p1", 0, UINT32_MAX, 1, FEED_PAGE_MAX, 1, last);
    expect_page(f, "p1", FEED_PAGE_MAX, FEED_PAGE_MAX, FEED_PAGE_MAX + 1, 5, 1, last);
    expect_page(f, "p1", last - 2, 100, last - 1, 2, 1, last);
}

/* A cursor beyond the newest is not past retention: nothing follows it. */
static void test_cursor_beyond_newest(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    append_n(f, "p1", 3, T0_MS, 1);
    expect_page(f, "p1", 4, 10, 5, 0, 1, 3);
    expect_page(f, "p1", UINT64_C(1) << 63, 10, 0, 0, 1, 3);
    expect_page(f, "p1", UINT64_MAX, 10, 0, 0, 1, 3);
}

/* ---- retention ------------------------------------------------------------------------ */

static void test_retention_by_count(void **state)
{
    fixture_t *f = *state;
    open_feed(f, 3, INT64_C(1) << 50);
    append_n(f, "p1", 5, T0_MS, 1);
    append_n(f, "p2", 2, T0_MS, 1);
    assert_int_equal(prune(f, T0_MS + 10, 100), 2);   /* p1: 5 held, 3 kept; p2: 2 <= 3 */
    assert_int_equal(prune(f, T0_MS + 10, 100), 0);

    expect_expired(f, "p1", 1, 3);   /* older than earliest-1 */
    expect_page(f, "p1", 2, 0, 3, 3, 3, 5);   /* exactly earliest-1 */
    expect_page(f, "p1", 3, 0, 4, 2, 3, 5);
    expect_page(f, "p2", 0, 0, 1, 2, 1, 2);   /* untouched */

    append_one(f, "p1", T0_MS);   /* cursor 6: 4 held */
    assert_int_equal(prune(f, T0_MS + 10, 100), 1);
    expect_expired(f, "p1", 2, 4);
    expect_page(f, "p1", 3, 0, 4, 3, 4, 6);
}

/* platform.proto, FeedQuery.after_cursor: "0: from the earliest event held". */
static void test_after_zero_serves_earliest_after_pruning(void **state)
{
    fixture_t *f = *state;
    open_feed(f, 3, INT64_C(1) << 50);
    append_n(f, "p1", 5, T0_MS, 1);
    assert_int_equal(prune(f, T0_MS, 100), 2);
    expect_page(f, "p1", 0, 0, 3, 3, 3, 5);
}

static void test_retention_by_age(void **state)
{
    fixture_t *f = *state;
    open_feed(f, 1000, 1000);
    append_one(f, "p1", T0_MS + 100);
    append_one(f, "p1", T0_MS + 200);
    append_one(f, "p1", T0_MS + 1500);
    append_one(f, "p1", T0_MS + 2000);
    append_one(f, "p2", T0_MS + 100);
    assert_int_equal(prune(f, T0_MS + 1100, 100), 0);   /* exactly retain_ms old: kept */
    assert_int_equal(prune(f, T0_MS + 1201, 100), 3);   /* p1: 100 and 200; p2: 100 ... */
    expect_page(f, "p1", 2, 0, 3, 2, 3, 4);
    expect_expired(f, "p1", 1, 3);
    expect_page(f, "p2", 1, 0, 2, 0, 2, 1);   /* ... its only event: nothing held */

    assert_int_equal(prune(f, T0_MS + 2600, 100), 1);   /* 1500 is 1100 old */
    expect_page(f, "p1", 3, 0, 4, 1, 4, 4);

    assert_int_equal(append_one(f, "p2", T0_MS + 2600), 2);   /* numbering goes on */
    expect_page(f, "p2", 1, 0, 2, 1, 2, 2);
}

static void test_prune_max_deletes(void **state)
{
    fixture_t *f = *state;
    open_feed(f, 1, INT64_C(1) << 50);
    append_n(f, "p1", 6, T0_MS, 1);
    append_n(f, "p2", 6, T0_MS, 1);
    assert_int_equal(prune(f, T0_MS, 0), 0);
    expect_page(f, "p1", 0, 0, 1, 6, 1, 6);
    assert_int_equal(prune(f, T0_MS, 3), 3);   /* p1 first, stopped after 3 */
    expect_page(f, "p1", 3, 0, 4, 3, 4, 6);
    expect_page(f, "p2", 0, 0, 1, 6, 1, 6);
    assert_int_equal(prune(f, T0_MS, 3), 3);   /* p1's last 2, then p2's first */
    expect_page(f, "p1", 5, 0, 6, 1, 6, 6);
    expect_page(f, "p2", 1, 0, 2, 5, 2, 6);
    assert_int_equal(prune(f, T0_MS, 100), 4);
    expect_page(f, "p2", 5, 0, 6, 1, 6, 6);
    assert_int_equal(prune(f, T0_MS, 100), 0);
}

/* ---- repeats --------------------------------------------------------------------------- */

/* Events append_one gives the same ref ("p1:0"): at_ms alone tells them apart. */
static void test_repeat_held_once_while_held(void **state)
{
    fixture_t *f = *state;
    open_feed(f, 1, INT64_C(1) << 50);
    assert_int_equal(append_one(f, "p1", T0_MS), 1);
    assert_int_equal(append_one(f, "p1", T0_MS), 0);   /* a repeat: nothing stored */
    assert_int_equal(append_one(f, "p1", T0_MS + 1), 2);
    expect_page(f, "p1", 0, 0, 1, 2, 1, 2);
    assert_int_equal(prune(f, T0_MS, 100), 1);   /* cursor 1 past retention ... */
    assert_int_equal(append_one(f, "p1", T0_MS), 3);   /* ... and forgotten with it */
    assert_int_equal(append_one(f, "p1", T0_MS + 1), 0);   /* still held */
    expect_page(f, "p1", 1, 0, 2, 2, 2, 3);
}

static int forget_seen_work(MDB_txn *txn, void *arg)
{
    MDB_dbi dbi;
    (void)arg;
    int rc = mdb_dbi_open(txn, "feed.seen", 0, &dbi);
    return rc ? rc : mdb_drop(txn, dbi, 0);
}

/* A feed the release before wrote holds events without seen keys: opened, it notes
 * them, and their repeats are recognised. */
static void test_repeat_of_an_event_from_before_seen_keys(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    assert_int_equal(append_one(f, "p1", T0_MS), 1);
    assert_int_equal(append_one(f, "p2", T0_MS), 1);
    assert_int_equal(store_write(f->store, forget_seen_work, NULL), 0);
    feed_destroy(&f->feed);
    open_default_feed(f);
    assert_int_equal(append_one(f, "p1", T0_MS), 0);
    assert_int_equal(append_one(f, "p2", T0_MS), 0);
    assert_int_equal(append_one(f, "p1", T0_MS + 1), 2);
}

/* ---- dump ------------------------------------------------------------------------------ */

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

static void test_dump(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    append_one(f, "p2", T0_MS);
    append_n(f, "p1", 2, T0_MS + 5, 1);
    char *text = dump(f);
    assert_int_equal(count_lines(text), 3);
    assert_null(strstr(text, "at_ms"));
    const char *want =
        "{\"feed\":{\"platform\":\"p1\",\"event\":{\"cursor\":1,\"account_ref\":\"p1:0\","
        "\"kind\":\"STAGE_CHANGED\",\"stage\":\"early\",\"days_past_due\":0}}}\n"
        "{\"feed\":{\"platform\":\"p1\",\"event\":{\"cursor\":2,\"account_ref\":\"p1:1\","
        "\"kind\":\"STAGE_CHANGED\",\"stage\":\"early\",\"days_past_due\":1}}}\n"
        "{\"feed\":{\"platform\":\"p2\",\"event\":{\"cursor\":1,\"account_ref\":\"p2:0\","
        "\"kind\":\"STAGE_CHANGED\",\"stage\":\"early\",\"days_past_due\":0}}}\n";
    assert_string_equal(text, want);
    free(text);
}

static void test_dump_empty(void **state)
{
    fixture_t *f = *state;
    open_default_feed(f);
    char *text = dump(f);
    assert_string_equal(text, "");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cursors_per_platform, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_from_start_and_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_empty_feed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_platforms_never_mix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_beyond_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_zero_serves_earliest_after_pruning, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retention_by_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_max_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_held_once_while_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_of_an_event_from_before_seen_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_empty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
