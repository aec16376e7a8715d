/* test_store: the LMDB environment wrapper (shared/store.c).
 * Proves: the default store is durable (no MDB_NOSYNC, MDB_NOMETASYNC, MDB_WRITEMAP,
 * MDB_MAPASYNC) and `relaxed` is not; options out of range are refused before anything
 * is created; a table past max_tables is refused; every store_strerror code reads right;
 * a work function's own non-zero return aborts its transaction (nothing written).
 * The acceptance line: a store opened with a tiny map, while a read transaction held by
 * another process pins old pages, hits MDB_MAP_FULL at a put AND at a commit
 * (store_stats), grows, replays, keeps accepting writes, and at the hard cap answers
 * STORE_EFULL with every committed record intact; raising the cap lets the same write
 * through. And a map grown by another process (MDB_MAP_RESIZED) is adopted by both
 * store_read and store_write here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)
#define WAIT_MS 60000          /* longest wait for a child's signal (never reached) */
#define MAX_RECORDS 20000
#define PROBE_MAX 8192

/* ---- temporary directories and child processes ---- */

typedef struct {
    pid_t pid;
    int to_child;     /* parent writes: 'G' = go on */
    int from_child;   /* parent reads: the child's signals; EOF when it exits */
} child_t;

typedef struct {
    char dir[64];
    child_t child;
} fixture_t;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/t3storeXXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    f->child.pid = -1;
    *state = f;
    return 0;
}

static void child_reap(child_t *c)
{
    if (c->pid <= 0)
        return;
    close(c->to_child);
    close(c->from_child);
    kill(c->pid, SIGKILL);   /* only reached when a test failed with the child alive */
    waitpid(c->pid, NULL, 0);
    c->pid = -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    child_reap(&f->child);
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

/* One byte from fd within WAIT_MS; -1 on timeout or EOF. */
static int read_signal(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, WAIT_MS) != 1)
        return -1;
    char b;
    return read(fd, &b, 1) == 1 ? (unsigned char)b : -1;
}

static int send_signal(int fd, char b)
{
    return write(fd, &b, 1) == 1 ? 0 : -1;
}

typedef int (child_body_fn)(const char *dir, int in, int out, const void *arg);

static void child_start(fixture_t *f, child_body_fn *body, const void *arg)
{
    int down[2], up[2];
    assert_int_equal(pipe(down), 0);
    assert_int_equal(pipe(up), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        _exit(body(f->dir, down[0], up[1], arg));
    }
    close(down[0]);
    close(up[1]);
    f->child = (child_t){ .pid = pid, .to_child = down[1], .from_child = up[0] };
}

/* Waits for the child to close its end (it exits) and returns its exit status. */
static int child_finish(fixture_t *f)
{
    child_t *c = &f->child;
    close(c->to_child);
    while (read_signal(c->from_child) >= 0)
        ;   /* drain until EOF */
    struct pollfd p = { .fd = c->from_child, .events = POLLIN };
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);   /* EOF, not a timeout */
    close(c->from_child);
    int status = 0;
    assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
    c->pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- records: key = id (big-endian), value = len bytes derived from id ---- */

static void record_value(uint64_t id, uint32_t len, uint8_t *out)
{
    for (uint32_t i = 0; i < len; i++)
        out[i] = (uint8_t)(id * 131 + i * 7 + (i >> 8));
}

static int record_put(MDB_txn *txn, MDB_dbi dbi, uint64_t id, uint32_t len)
{
    uint8_t key[8], value[8192];
    assert_true(len <= sizeof value);
    store_put_u64(key, id);
    record_value(id, len, value);
    MDB_val k = { 8, key }, v = { len, value };
    return mdb_put(txn, dbi, &k, &v, 0);
}

/* 0 when the record is there with exactly its bytes; MDB_NOTFOUND or -1 otherwise. */
static int record_check(MDB_txn *txn, MDB_dbi dbi, uint64_t id, uint32_t len)
{
    uint8_t key[8], want[8192];
    store_put_u64(key, id);
    MDB_val k = { 8, key }, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0)
        return rc;
    record_value(id, len, want);
    return v.mv_size == len && memcmp(v.mv_data, want, len) == 0 ? 0 : -1;
}

typedef struct {
    uint64_t id;
    uint32_t len;
} rec_t;

typedef struct {
    MDB_dbi dbi;
    size_t count;
    rec_t recs[MAX_RECORDS];
} ledger_t;   /* every record the test saw committed */

static void ledger_add(ledger_t *l, uint64_t id, uint32_t len)
{
    assert_true(l->count < MAX_RECORDS);
    l->recs[l->count++] = (rec_t){ id, len };
}

static int ledger_check(MDB_txn *txn, void *arg)
{
    ledger_t *l = arg;
    for (size_t i = 0; i < l->count; i++) {
        int rc = record_check(txn, l->dbi, l->recs[i].id, l->recs[i].len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct {
    MDB_dbi dbi;
    uint64_t first;
    unsigned count;
    uint32_t len;
    unsigned runs;   /* how often store_write ran the work (replays after a grow) */
} batch_t;

static int batch_put(MDB_txn *txn, void *arg)
{
    batch_t *b = arg;
    b->runs++;
    for (unsigned i = 0; i < b->count; i++) {
        int rc = record_put(txn, b->dbi, b->first + i, b->len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int batch_check(MDB_txn *txn, void *arg)
{
    batch_t *b = arg;
    for (unsigned i = 0; i < b->count; i++) {
        int rc = record_check(txn, b->dbi, b->first + i, b->len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void ledger_add_batch(ledger_t *l, const batch_t *b)
{
    for (unsigned i = 0; i < b->count; i++)
        ledger_add(l, b->first + i, b->len);
}

static store_options_t tiny_options(size_t map, size_t max)
{
    store_options_t o = store_default_options();
    o.map_size_bytes = map;
    o.map_max_bytes = max;
    return o;
}

static unsigned page_size(store_t *s)
{
    MDB_stat st;
    assert_int_equal(mdb_env_stat(store_env(s), &st), 0);
    return st.ms_psize;
}

/* ---- flags, options, tables, strings ---- */

#define UNSAFE_FLAGS (MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC)

static void test_default_is_durable(void **state)
{
    fixture_t *f = *state;
    store_options_t o = store_default_options();
    store_t *s = NULL;
    assert_int_equal(store_open(&s, f->dir, &o), STORE_OK);
    assert_true(store_is_durable(s));
    unsigned flags = 0;
    assert_int_equal(mdb_env_get_flags(store_env(s), &flags), 0);
    assert_int_equal(flags & UNSAFE_FLAGS, 0);
    assert_int_equal(store_env_flags(s) & UNSAFE_FLAGS, 0);
    assert_int_equal(store_map_size(s), 64 * MIB);
    store_stats_t st = store_stats(s);
    assert_int_equal(st.map_size_bytes, 64 * MIB);
    assert_int_equal(st.grow_count, 0);
    assert_int_equal(st.full_at_work, 0);
    assert_int_equal(st.full_at_commit, 0);
    store_destroy(&s);
    assert_null(s);
    store_destroy(&s);   /* harmless on NULL */
}

static void test_relaxed_is_not_durable(void **state)
{
    fixture_t *f = *state;
    store_options_t o = store_default_options();
    o.relaxed = true;
    store_t *s = NULL;
    assert_int_equal(store_open(&s, f->dir, &o), STORE_OK);
    assert_false(store_is_durable(s));
    unsigned flags = 0;
    assert_int_equal(mdb_env_get_flags(store_env(s), &flags), 0);
    assert_int_equal(flags & (MDB_NOSYNC | MDB_NOMETASYNC), MDB_NOSYNC | MDB_NOMETASYNC);
    assert_int_equal(flags & MDB_WRITEMAP, 0);
    store_destroy(&s);
}

static void expect_options_refused(const char *dir, store_options_t o)
{
    store_t *s = (store_t *)&o;   /* any non-NULL value: open must reset it */
    assert_int_equal(store_open(&s, dir, &o), STORE_EOPTIONS);
    assert_null(s);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), -1);   /* refused before anything was created */
    assert_int_equal(errno, ENOENT);
}

static void test_invalid_options(void **state)
{
    fixture_t *f = *state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/never", f->dir);
    store_options_t o = store_default_options();
    o.map_size_bytes = 4095;
    expect_options_refused(dir, o);
    o = store_default_options();
    o.map_max_bytes = o.map_size_bytes - 1;
    expect_options_refused(dir, o);
    o = store_default_options();
    o.max_tables = 0;
    expect_options_refused(dir, o);
    o.max_tables = 257;
    expect_options_refused(dir, o);
    o = store_default_options();
    o.max_readers = 0;
    expect_options_refused(dir, o);
    o = store_default_options();
    o.max_tables = 256;   /* the largest accepted */
    store_t *s = NULL;
    assert_int_equal(store_open(&s, dir, &o), STORE_OK);
    store_destroy(&s);
}

static int put_one(MDB_txn *txn, void *arg)
{
    return record_put(txn, *(MDB_dbi *)arg, 1, 16);
}

static int check_one(MDB_txn *txn, void *arg)
{
    return record_check(txn, *(MDB_dbi *)arg, 1, 16);
}

static void test_too_many_tables(void **state)
{
    fixture_t *f = *state;
    store_options_t o = store_default_options();
    o.max_tables = 2;
    store_t *s = NULL;
    assert_int_equal(store_open(&s, f->dir, &o), STORE_OK);
    MDB_dbi a, b, c = 12345;
    assert_int_equal(store_table(s, "a", 0, &a), STORE_OK);
    assert_int_equal(store_table(s, "b", 0, &b), STORE_OK);
    assert_int_equal(store_table(s, "c", 0, &c), STORE_ETABLES);
    assert_int_equal(c, 12345);
    assert_int_equal(store_write(s, put_one, &b), STORE_OK);   /* the open ones still work */
    assert_int_equal(store_read(s, check_one, &b), 0);
    assert_int_equal(store_read(s, check_one, &a), MDB_NOTFOUND);
    store_destroy(&s);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(store_strerror(STORE_EFULL),
                        "store full: the map reached its configured hard cap");
    assert_string_equal(store_strerror(STORE_ETABLES), "more tables than the store's max_tables");
    assert_string_equal(store_strerror(STORE_EOPTIONS), "store options out of range");
    assert_string_equal(store_strerror(MDB_MAP_FULL), mdb_strerror(MDB_MAP_FULL));
    assert_memory_equal(store_strerror(MDB_MAP_FULL), "MDB_MAP_FULL", 12);
    assert_string_equal(store_strerror(MDB_MAP_RESIZED), mdb_strerror(MDB_MAP_RESIZED));
    assert_string_equal(store_strerror(ENOENT), strerror(ENOENT));
    assert_string_equal(store_strerror(STORE_OK), mdb_strerror(0));
}

typedef struct {
    MDB_dbi dbi;
    int code;
} failing_t;

static int put_then_fail(MDB_txn *txn, void *arg)
{
    failing_t *w = arg;
    int rc = record_put(txn, w->dbi, 1, 16);
    return rc != 0 ? rc : w->code;
}

static void test_work_error_aborts(void **state)
{
    fixture_t *f = *state;
    store_options_t o = store_default_options();
    store_t *s = NULL;
    assert_int_equal(store_open(&s, f->dir, &o), STORE_OK);
    failing_t w = { .code = 4242 };
    assert_int_equal(store_table(s, "t", 0, &w.dbi), STORE_OK);
    assert_int_equal(store_write(s, put_then_fail, &w), 4242);
    assert_int_equal(store_read(s, check_one, &w.dbi), MDB_NOTFOUND);
    w.code = MDB_NOTFOUND;   /* an LMDB code from the work aborts just the same */
    assert_int_equal(store_write(s, put_then_fail, &w), MDB_NOTFOUND);
    assert_int_equal(store_read(s, check_one, &w.dbi), MDB_NOTFOUND);
    store_stats_t st = store_stats(s);
    assert_int_equal(st.grow_count, 0);
    assert_int_equal(st.full_at_work + st.full_at_commit, 0);
    assert_int_equal(store_write(s, put_one, &w.dbi), STORE_OK);
    assert_int_equal(store_read(s, check_one, &w.dbi), 0);
    store_destroy(&s);
}

/* A store reopened after growing maps only the pages in use: creating a table a new
 * release adds must grow the map rather than fail the start. */
static int put_big_values(MDB_txn *txn, void *arg)
{
    static uint8_t value[3000];
    for (uint64_t i = 0; i < 100; i++) {
        uint8_t key[8];
        store_put_u64(key, i);
        MDB_val k = { 8, key }, v = { sizeof value, value };
        int rc = mdb_put(txn, *(MDB_dbi *)arg, &k, &v, 0);
        if (rc)
            return rc;
    }
    return 0;
}

static void test_new_table_after_reopen(void **state)
{
    fixture_t *f = *state;
    store_options_t o = store_default_options();
    o.map_size_bytes = 64 * 1024;
    o.map_max_bytes = 64 * MIB;
    store_t *s = NULL;
    MDB_dbi dbi;
    assert_int_equal(store_open(&s, f->dir, &o), STORE_OK);
    assert_int_equal(store_table(s, "t", 0, &dbi), STORE_OK);
    assert_int_equal(store_write(s, put_big_values, &dbi), STORE_OK);
    store_destroy(&s);
    assert_int_equal(store_open(&s, f->dir, &o), STORE_OK);
    assert_int_equal(store_table(s, "t", 0, &dbi), STORE_OK);
    assert_int_equal(store_table(s, "new", 0, &dbi), STORE_OK);
    store_destroy(&s);
}

/* ---- the map-full acceptance test ---- */

/* Child: holds a read transaction open until the parent says go. */
typedef struct {
    int in, out;
    uint64_t base_id;
    uint32_t base_len;
    MDB_dbi dbi;
} pin_t;

static int hold_snapshot(MDB_txn *txn, void *arg)
{
    pin_t *p = arg;
    if (record_check(txn, p->dbi, p->base_id, p->base_len) != 0)
        return 3;
    if (send_signal(p->out, 'R') != 0)
        return 4;
    int b = read_signal(p->in);
    return b == 'G' ? 0 : 5;
}

static int reader_child(const char *dir, int in, int out, const void *arg)
{
    pin_t p = *(const pin_t *)arg;
    p.in = in;
    p.out = out;
    store_options_t o = tiny_options(64 * KIB, 64 * KIB);
    store_t *s = NULL;
    if (store_open(&s, dir, &o) != STORE_OK)
        return 1;
    int rc = store_table(s, "records", 0, &p.dbi);
    if (rc == 0)
        rc = store_read(s, hold_snapshot, &p);
    store_destroy(&s);
    return rc == 0 ? 0 : rc > 0 && rc < 100 ? rc : 2;
}

/* Counts the reader-table rows that belong to pid. */
typedef struct {
    pid_t pid;
    int rows;
} readers_t;

static int reader_row(const char *msg, void *ctx)
{
    readers_t *r = ctx;
    char *end;
    long pid = strtol(msg, &end, 10);
    if (end != msg && pid == r->pid)
        r->rows++;
    return 0;
}

/* The probe aims a transaction at the map's exact edge: after one ordinary put it fills
 * the map inside nested transactions (a nested put that hits MDB_MAP_FULL is aborted
 * alone, the outer transaction stays usable) until neither a one-page overflow value
 * nor a small value fits. The work then returns 0, so whatever the commit must still
 * allocate (the freelist record of the pages this transaction replaced) finds no room:
 * MDB_MAP_FULL at the commit. A replay after the grow writes only the first record. */
typedef struct {
    MDB_env *env;
    MDB_dbi dbi;
    uint64_t first;
    uint32_t big, small;
    unsigned runs;
    unsigned filled;
    uint32_t lens[PROBE_MAX];   /* the lengths of the records after the first, last run */
} probe_t;

static int nested_put(MDB_txn *txn, probe_t *p, uint64_t id, uint32_t len)
{
    MDB_txn *inner;
    int rc = mdb_txn_begin(p->env, txn, 0, &inner);
    if (rc != 0)
        return rc;
    rc = record_put(inner, p->dbi, id, len);
    if (rc != 0) {
        mdb_txn_abort(inner);
        return rc;
    }
    return mdb_txn_commit(inner);
}

static int probe_work(MDB_txn *txn, void *arg)
{
    probe_t *p = arg;
    p->runs++;
    p->filled = 0;
    int rc = record_put(txn, p->dbi, p->first, p->big);
    if (rc != 0 || p->runs > 1)
        return rc;
    while (p->filled < PROBE_MAX) {
        uint64_t id = p->first + 1 + p->filled;
        uint32_t len = p->big;
        rc = nested_put(txn, p, id, len);
        if (rc == MDB_MAP_FULL)
            rc = nested_put(txn, p, id, len = p->small);
        if (rc == MDB_MAP_FULL)
            return 0;   /* at the edge: commit now */
        if (rc != 0)
            return rc;
        p->lens[p->filled++] = len;
    }
    return -1;   /* the map never filled: the test's arithmetic is wrong */
}

typedef struct {
    store_t *s;
    ledger_t *ledger;
    uint64_t next_id;
    uint32_t big, small;
    uint64_t efull;   /* writes answered STORE_EFULL (counted as full, not grown) */
} rig_t;

static store_stats_t stats(const rig_t *r) { return store_stats(r->s); }

static void assert_counts_add_up(const rig_t *r)
{
    store_stats_t st = stats(r);
    assert_int_equal(st.full_at_work + st.full_at_commit, st.grow_count + r->efull);
}

/* One batch that is larger than the whole tiny map: MDB_MAP_FULL at a put, for sure. */
static void overflow_at_work(rig_t *r)
{
    size_t pages = store_map_size(r->s) / page_size(r->s);
    batch_t b = { r->ledger->dbi, r->next_id, (unsigned)(2 * pages), r->big, 0 };
    assert_int_equal(store_write(r->s, batch_put, &b), STORE_OK);
    assert_true(b.runs >= 2);   /* replayed after growing */
    ledger_add_batch(r->ledger, &b);
    r->next_id += b.count;
    store_stats_t st = stats(r);
    assert_true(st.full_at_work >= 1);
    assert_int_equal(st.grow_count, b.runs - 1);
    assert_int_equal(store_read(r->s, batch_check, &b), 0);
}

/* Runs probes until one commit hits MDB_MAP_FULL; returns the number of probes. */
static unsigned overflow_at_commit(rig_t *r, unsigned max_probes)
{
    static probe_t p;
    unsigned n = 0;
    while (stats(r).full_at_commit == 0 && n < max_probes) {
        memset(&p, 0, sizeof p);
        p.env = store_env(r->s);
        p.dbi = r->ledger->dbi;
        p.first = r->next_id;
        p.big = r->big;
        p.small = r->small;
        int rc = store_write(r->s, probe_work, &p);
        if (rc == STORE_EFULL)
            break;
        assert_int_equal(rc, STORE_OK);
        ledger_add(r->ledger, p.first, p.big);
        for (unsigned i = 0; p.runs == 1 && i < p.filled; i++)
            ledger_add(r->ledger, p.first + 1 + i, p.lens[i]);
        r->next_id += 1 + PROBE_MAX;
        n++;
    }
    return n;
}

/* Writes batches until the hard cap answers STORE_EFULL; returns the refused batch. */
static batch_t fill_to_cap(rig_t *r, unsigned *accepted)
{
    *accepted = 0;
    for (unsigned i = 0; i < 100000; i++) {
        batch_t b = { r->ledger->dbi, r->next_id, 8, r->big, 0 };
        r->next_id += b.count;
        int rc = store_write(r->s, batch_put, &b);
        if (rc == STORE_EFULL) {
            r->efull++;
            return b;
        }
        assert_int_equal(rc, STORE_OK);
        ledger_add_batch(r->ledger, &b);
        (*accepted)++;
    }
    fail_msg("the hard cap was never reached");
    return (batch_t){ 0 };
}

static void write_base(const char *dir, ledger_t *ledger, const pin_t *pin)
{
    store_options_t o = tiny_options(64 * KIB, 64 * KIB);
    store_t *s = NULL;
    assert_int_equal(store_open(&s, dir, &o), STORE_OK);
    assert_int_equal(store_table(s, "records", 0, &ledger->dbi), STORE_OK);
    batch_t b = { ledger->dbi, pin->base_id, 1, pin->base_len, 0 };
    assert_int_equal(store_write(s, batch_put, &b), STORE_OK);
    ledger_add_batch(ledger, &b);
    store_destroy(&s);   /* closed before the fork: the child inherits no open env */
}

static void test_map_full_grows_then_caps(void **state)
{
    fixture_t *f = *state;
    static ledger_t ledger;
    memset(&ledger, 0, sizeof ledger);
    pin_t pin = { .base_id = 1, .base_len = 100 };
    write_base(f->dir, &ledger, &pin);

    child_start(f, reader_child, &pin);
    assert_int_equal(read_signal(f->child.from_child), 'R');   /* its snapshot is open */

    const size_t cap = 3 * MIB;   /* not a power-of-two multiple of 64 KiB: clamped */
    store_options_t o = tiny_options(64 * KIB, cap);
    rig_t r = { .ledger = &ledger, .next_id = 1000, .small = 64 };
    assert_int_equal(store_open(&r.s, f->dir, &o), STORE_OK);
    assert_int_equal(store_table(r.s, "records", 0, &ledger.dbi), STORE_OK);
    r.big = page_size(r.s) - 1024;   /* one overflow page each */
    assert_int_equal(store_map_size(r.s), 64 * KIB);

    readers_t readers = { f->child.pid, 0 };
    assert_int_equal(mdb_reader_list(store_env(r.s), reader_row, &readers), 0);
    assert_int_equal(readers.rows, 1);

    overflow_at_work(&r);
    assert_counts_add_up(&r);
    store_stats_t after_work = stats(&r);

    unsigned probes = overflow_at_commit(&r, 64);
    store_stats_t after_commit = stats(&r);
    assert_true(after_commit.full_at_commit > 0);
    assert_true(after_commit.grow_count > after_work.grow_count);
    assert_counts_add_up(&r);
    assert_int_equal(store_read(r.s, ledger_check, &ledger), 0);

    unsigned accepted = 0;
    batch_t refused = fill_to_cap(&r, &accepted);
    assert_true(accepted > 0);   /* kept accepting after growing */
    store_stats_t at_cap = stats(&r);
    assert_int_equal(at_cap.map_size_bytes, cap);
    assert_int_equal(store_map_size(r.s), cap);
    assert_counts_add_up(&r);
    assert_int_equal(store_read(r.s, ledger_check, &ledger), 0);   /* base record included */
    assert_int_equal(store_read(r.s, batch_check, &refused), MDB_NOTFOUND);

    store_set_map_max(r.s, 2 * cap);
    refused.runs = 0;
    assert_int_equal(store_write(r.s, batch_put, &refused), STORE_OK);
    ledger_add_batch(&ledger, &refused);
    assert_int_equal(store_map_size(r.s), 2 * cap);
    assert_int_equal(stats(&r).grow_count, at_cap.grow_count + 1);
    assert_int_equal(store_read(r.s, ledger_check, &ledger), 0);

    printf("map-full: after the oversize batch full_at_work=%llu grow_count=%llu; after %u "
           "probe(s) full_at_commit=%llu grow_count=%llu map_bytes=%zu\n",
           (unsigned long long)after_work.full_at_work, (unsigned long long)after_work.grow_count,
           probes, (unsigned long long)after_commit.full_at_commit,
           (unsigned long long)after_commit.grow_count, after_commit.map_size_bytes);
    printf("map-full: final full_at_work=%llu full_at_commit=%llu grow_count=%llu efull=%llu "
           "batches_accepted_after_commit_full=%u records=%zu map_bytes=%zu\n",
           (unsigned long long)stats(&r).full_at_work,
           (unsigned long long)stats(&r).full_at_commit,
           (unsigned long long)stats(&r).grow_count, (unsigned long long)r.efull, accepted, ledger.count, store_map_size(r.s));
    store_destroy(&r.s);
    assert_int_equal(send_signal(f->child.to_child, 'G'), 0);   /* let the reader go */
    assert_int_equal(child_finish(f), 0);   /* its snapshot still held the base record */
}

/* ---- a map grown by another process ---- */

typedef struct {
    size_t map;
    uint64_t first;
    unsigned count;
    uint32_t len;
} grower_t;

static int grower_child(const char *dir, int in, int out, const void *arg)
{
    const grower_t *g = arg;
    if (read_signal(in) != 'G')
        return 1;
    store_options_t o = tiny_options(g->map, g->map);
    store_t *s = NULL;
    if (store_open(&s, dir, &o) != STORE_OK)
        return 2;
    batch_t b = { 0, g->first, g->count, g->len, 0 };
    int rc = store_table(s, "records", 0, &b.dbi);
    if (rc == 0)
        rc = store_write(s, batch_put, &b);
    int grew = store_grow_count(s) != 0;
    store_destroy(&s);
    if (rc != 0 || grew)
        return 3;
    return send_signal(out, 'D') == 0 ? 0 : 4;
}

static void grow_elsewhere(fixture_t *f, const grower_t *g)
{
    child_start(f, grower_child, g);
    assert_int_equal(send_signal(f->child.to_child, 'G'), 0);
    assert_int_equal(read_signal(f->child.from_child), 'D');
    assert_int_equal(child_finish(f), 0);
}

static void test_map_resized_elsewhere(void **state)
{
    fixture_t *f = *state;
    store_options_t o = tiny_options(64 * KIB, 1024 * MIB);
    store_t *s = NULL;
    assert_int_equal(store_open(&s, f->dir, &o), STORE_OK);
    batch_t mine = { 0, 1, 1, 100, 0 };
    assert_int_equal(store_table(s, "records", 0, &mine.dbi), STORE_OK);
    assert_int_equal(store_write(s, batch_put, &mine), STORE_OK);
    uint32_t big = page_size(s) - 1024;

    /* The child writes ~1 MiB through an 8 MiB map while this env has 64 KiB mapped. */
    grower_t g1 = { 8 * MIB, 100, 256, big };
    grow_elsewhere(f, &g1);
    batch_t theirs = { mine.dbi, g1.first, g1.count, g1.len, 0 };
    assert_int_equal(store_read(s, batch_check, &theirs), 0);   /* read adopts the map */
    assert_int_equal(store_map_size(s), 8 * MIB);
    assert_int_equal(store_read(s, batch_check, &mine), 0);

    grower_t g2 = { 32 * MIB, 1000, 2560, big };   /* ~10 MiB: past 8 MiB */
    grow_elsewhere(f, &g2);
    batch_t more = { mine.dbi, 5000, 4, 100, 0 };
    assert_int_equal(store_write(s, batch_put, &more), STORE_OK);   /* write adopts too */
    assert_int_equal(store_map_size(s), 32 * MIB);
    batch_t theirs2 = { mine.dbi, g2.first, g2.count, g2.len, 0 };
    assert_int_equal(store_read(s, batch_check, &theirs2), 0);
    assert_int_equal(store_read(s, batch_check, &more), 0);
    store_stats_t st = store_stats(s);
    assert_int_equal(st.grow_count, 0);   /* adopted, never grown here */
    assert_int_equal(st.full_at_work + st.full_at_commit, 0);
    printf("map-resized: adopted map_bytes=%zu after the other process grew it\n",
           store_map_size(s));
    store_destroy(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);   /* a child that already exited must not kill the runner */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_is_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relaxed_is_not_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_tables, setup, teardown),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test_setup_teardown(test_work_error_aborts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_table_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_grows_then_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_resized_elsewhere, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
