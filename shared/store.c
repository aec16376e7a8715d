/* store: the LMDB environment of one service. See store.h for the grow-and-replay
 * contract. Durable by default: LMDB's default sync flags, never MDB_WRITEMAP (a full
 * disk would become SIGBUS instead of an error we can answer). */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

#define STORE_MAX_TABLES_LIMIT 256u

struct store {
    MDB_env *env;
    size_t map_size_bytes;
    size_t map_max_bytes;
    unsigned env_flags;
    unsigned tables_open;
    unsigned max_tables;
    uint64_t grow_count;
    uint64_t full_at_work;     /* MDB_MAP_FULL from a put inside the work */
    uint64_t full_at_commit;   /* MDB_MAP_FULL from the commit itself */
};

store_options_t store_default_options(void)
{
    return (store_options_t){
        .map_size_bytes = (size_t)64 << 20,
        .map_max_bytes = (size_t)16 << 30,
        /* staging opens 35 (each of its four outboxes counts five, the restore marker's
         * table among them); room to grow. */
        .max_tables = 64,
        .max_readers = 126,
        .relaxed = false,
    };
}

static bool options_valid(const store_options_t *o)
{
    return o->map_size_bytes >= 4096 && o->map_max_bytes >= o->map_size_bytes
        && o->max_tables >= 1 && o->max_tables <= STORE_MAX_TABLES_LIMIT
        && o->max_readers >= 1;
}

static int env_configure(MDB_env *env, const store_options_t *o)
{
    int rc = mdb_env_set_mapsize(env, o->map_size_bytes);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(env, o->max_tables);
    if (rc == 0)
        rc = mdb_env_set_maxreaders(env, o->max_readers);
    return rc;
}

int store_open(store_t **self_p, const char *dir, const store_options_t *options)
{
    assert(self_p && dir && options);
    *self_p = NULL;
    if (!options_valid(options))
        return STORE_EOPTIONS;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return errno;
    store_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    /* MDB_NOTLS: reader slots follow transactions, not threads, so a service may hand
     * read work to a helper thread without exhausting slots. */
    self->env_flags = MDB_NOTLS | (options->relaxed ? MDB_NOSYNC | MDB_NOMETASYNC : 0);
    int rc = mdb_env_create(&self->env);
    if (rc == 0)
        rc = env_configure(self->env, options);
    if (rc == 0)
        rc = mdb_env_open(self->env, dir, self->env_flags, 0600);
    if (rc != 0) {
        if (self->env)
            mdb_env_close(self->env);
        free(self);
        return rc;
    }
    int stale = 0;
    mdb_reader_check(self->env, &stale);   /* slots left by crashed processes */
    MDB_envinfo info;
    mdb_env_info(self->env, &info);
    /* LMDB maps at least the pages in use, which may differ from the configured start. */
    self->map_size_bytes = info.me_mapsize;
    self->map_max_bytes = options->map_max_bytes;
    self->max_tables = options->max_tables;
    unsigned flags = 0;
    mdb_env_get_flags(self->env, &flags);
    log_event(LOG_INFO, "store_open", "path=%s map_size_bytes=%zu map_max_bytes=%zu "
              "env_flags=0x%x durable=%s stale_readers_cleared=%d", dir,
              self->map_size_bytes, self->map_max_bytes, flags,
              store_is_durable(self) ? "yes" : "no", stale);
    *self_p = self;
    return STORE_OK;
}

void store_destroy(store_t **self_p)
{
    assert(self_p);
    store_t *self = *self_p;
    if (!self)
        return;
    mdb_env_close(self->env);
    free(self);
    *self_p = NULL;
}

typedef struct {
    const char *name;
    unsigned flags;
    MDB_dbi *dbi;
} table_call_t;

static int open_table(MDB_txn *txn, void *arg)
{
    table_call_t *c = arg;
    return mdb_dbi_open(txn, c->name, c->flags | MDB_CREATE, c->dbi);
}

int store_table(store_t *self, const char *name, unsigned flags, MDB_dbi *dbi)
{
    assert(self && name && dbi);
    if (self->tables_open >= self->max_tables)
        return STORE_ETABLES;
    /* Through store_write: on reopen LMDB maps only the pages in use, so creating a
     * table a new release adds may need the map to grow. */
    table_call_t c = { name, flags, dbi };
    int rc = store_write(self, open_table, &c);
    if (rc == 0)
        self->tables_open++;
    return rc;
}

/* Another process grew the map: adopt its size before beginning. */
static int txn_begin(store_t *self, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(self->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize(self->env, 0);
        if (rc == 0)
            rc = mdb_txn_begin(self->env, NULL, flags, txn);
        MDB_envinfo info;
        mdb_env_info(self->env, &info);
        self->map_size_bytes = info.me_mapsize;
    }
    return rc;
}

/* Called with no transaction open in this process, as LMDB requires. */
static int map_grow(store_t *self)
{
    if (self->map_size_bytes >= self->map_max_bytes)
        return STORE_EFULL;
    size_t next = self->map_size_bytes * 2;
    if (next < self->map_size_bytes || next > self->map_max_bytes)
        next = self->map_max_bytes;
    int rc = mdb_env_set_mapsize(self->env, next);
    if (rc != 0)
        return rc;
    log_event(LOG_WARN, "store_grow", "from_bytes=%zu to_bytes=%zu max_bytes=%zu",
              self->map_size_bytes, next, self->map_max_bytes);
    self->map_size_bytes = next;
    self->grow_count++;
    return STORE_OK;
}

static int write_once(store_t *self, store_work_fn *work, void *arg)
{
    MDB_txn *txn;
    int rc = txn_begin(self, 0, &txn);
    if (rc != 0)
        return rc;
    rc = work(txn, arg);
    if (rc != 0) {
        mdb_txn_abort(txn);
        self->full_at_work += rc == MDB_MAP_FULL;
        return rc;
    }
    rc = mdb_txn_commit(txn);   /* frees the txn even when it fails */
    self->full_at_commit += rc == MDB_MAP_FULL;
    return rc;
}

int store_write(store_t *self, store_work_fn *work, void *arg)
{
    assert(self && work);
    for (;;) {
        int rc = write_once(self, work, arg);
        if (rc != MDB_MAP_FULL)
            return rc;
        rc = map_grow(self);
        if (rc != STORE_OK)
            return rc;
    }
}

int store_read(store_t *self, store_work_fn *work, void *arg)
{
    assert(self && work);
    MDB_txn *txn;
    int rc = txn_begin(self, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    rc = work(txn, arg);
    mdb_txn_abort(txn);
    return rc;
}

void store_set_map_max(store_t *self, size_t map_max_bytes)
{
    assert(self);
    self->map_max_bytes = map_max_bytes;
}

size_t store_map_size(const store_t *self) { return self->map_size_bytes; }
unsigned store_env_flags(const store_t *self) { return self->env_flags; }
uint64_t store_grow_count(const store_t *self) { return self->grow_count; }

store_stats_t store_stats(const store_t *self)
{
    return (store_stats_t){ .map_size_bytes = self->map_size_bytes,
                            .grow_count = self->grow_count,
                            .full_at_work = self->full_at_work,
                            .full_at_commit = self->full_at_commit };
}
MDB_env *store_env(store_t *self) { return self->env; }

bool store_is_durable(const store_t *self)
{
    unsigned flags = 0;
    mdb_env_get_flags(self->env, &flags);
    return (flags & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC)) == 0;
}

bool store_is_fatal(int code)
{
    return code == MDB_PANIC || code == MDB_CORRUPTED || code == MDB_INVALID ||
           code == MDB_VERSION_MISMATCH || code == EIO;
}

const char *store_strerror(int code)
{
    switch (code) {
    case STORE_EFULL: return "store full: the map reached its configured hard cap";
    case STORE_ETABLES: return "more tables than the store's max_tables";
    case STORE_EOPTIONS: return "store options out of range";
    default: return mdb_strerror(code);   /* LMDB codes and errno values */
    }
}

int store_get_named_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t dflt,
                        uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    *out = rc == 0 && v.mv_size == 8 ? store_get_u64(v.mv_data) : dflt;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_put_named_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t value)
{
    uint8_t b[8];
    store_put_u64(b, value);
    MDB_val k = {strlen(name), (void *)name}, v = {sizeof b, b};
    return mdb_put(txn, dbi, &k, &v, 0);
}

int store_scan(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t prefix_len,
               const void *from, size_t from_len, store_visit_fn *visit, void *arg)
{
    uint8_t seek[512];
    if (prefix_len + from_len > sizeof seek)
        return EINVAL;
    if (prefix_len)
        memcpy(seek, prefix, prefix_len);
    if (from_len)
        memcpy(seek + prefix_len, from, from_len);
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    MDB_val k = {prefix_len + from_len, seek}, v;
    MDB_cursor_op op = k.mv_size ? MDB_SET_RANGE : MDB_FIRST;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, op); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (prefix_len && (k.mv_size < prefix_len || memcmp(k.mv_data, prefix, prefix_len) != 0))
            break;   /* past the prefix */
        rc = visit(&k, &v, arg);
        if (rc != 0)
            break;
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == STORE_STOP ? 0 : rc;
}
