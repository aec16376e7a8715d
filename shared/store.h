/* store: a service's LMDB environment — opened with durable flags, its named tables,
 * and write transactions that survive a full map by growing it and replaying the work.
 *
 * Every write goes through store_write(): the caller's work function runs inside one
 * write transaction; if LMDB answers MDB_MAP_FULL (from a put or from the commit) the
 * transaction is aborted, the map grows with no transaction open, and the work runs
 * again from the start. So a work function must keep all its effects inside the
 * transaction (or reset what it collects in memory at its start). At the hard cap the
 * write returns STORE_EFULL and the caller answers `store full` to its senders. */
#ifndef ARREARS_STORE_H
#define ARREARS_STORE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    STORE_OK = 0,
    STORE_EFULL = -30701,     /* the map reached its hard cap */
    STORE_ETABLES = -30702,   /* more tables than max_tables */
    STORE_EOPTIONS = -30703,  /* options out of range */
};

typedef struct {
    size_t map_size_bytes;   /* initial map size */
    size_t map_max_bytes;    /* hard cap: a write that needs more gets STORE_EFULL */
    unsigned max_tables;     /* named tables the service may open */
    unsigned max_readers;    /* concurrent read transactions (processes + threads) */
    bool relaxed;            /* durability = relaxed: MDB_NOSYNC|MDB_NOMETASYNC */
} store_options_t;

typedef struct store store_t;

typedef struct {
    size_t map_size_bytes;
    uint64_t grow_count;
    uint64_t full_at_work;     /* MDB_MAP_FULL answered by a put (then grown, replayed) */
    uint64_t full_at_commit;   /* MDB_MAP_FULL answered by the commit (likewise) */
} store_stats_t;

/* Work run inside a transaction. Returns 0, an LMDB code or the caller's own code;
 * anything but 0 aborts the transaction (MDB_MAP_FULL grows and replays it). */
typedef int (store_work_fn)(MDB_txn *txn, void *arg);

store_options_t store_default_options(void);
int store_open(store_t **self_p, const char *dir, const store_options_t *options);
void store_destroy(store_t **self_p);

/* Opens (creating) a named table; call at start-up, before any other transaction. */
int store_table(store_t *self, const char *name, unsigned flags, MDB_dbi *dbi);

int store_write(store_t *self, store_work_fn *work, void *arg);
int store_read(store_t *self, store_work_fn *work, void *arg);

/* Raises the hard cap (e.g. after an operator grants more disk on reload). */
void store_set_map_max(store_t *self, size_t map_max_bytes);
size_t store_map_size(const store_t *self);
unsigned store_env_flags(const store_t *self);
bool store_is_durable(const store_t *self);
uint64_t store_grow_count(const store_t *self);
store_stats_t store_stats(const store_t *self);
MDB_env *store_env(store_t *self);

/* Whether an error means the store itself is broken (stop the process) rather than
 * something a later attempt may get past (full map, an oversize record, memory). */
bool store_is_fatal(int code);

const char *store_strerror(int code);

/* A named counter or instant in a service's meta table (8 bytes big-endian): dflt when
 * absent. */
int store_get_named_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t dflt,
                        uint64_t *out);
int store_put_named_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t value);

/* Visits the entries whose keys start with prefix, in key order, from the first key
 * at or after prefix + from (from_len 0: the first of the prefix). visit returns 0 to
 * go on, STORE_STOP to stop early (store_scan then returns 0), anything else to stop
 * with that error. */
#define STORE_STOP 1
typedef int (store_visit_fn)(const MDB_val *key, const MDB_val *value, void *arg);
int store_scan(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t prefix_len,
               const void *from, size_t from_len, store_visit_fn *visit, void *arg);

/* Keys in big-endian so LMDB's byte order is numeric order. */
static inline void store_put_u64(uint8_t out[8], uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)value;
        value >>= 8;
    }
}

static inline uint64_t store_get_u64(const uint8_t in[8])
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | in[i];
    return value;
}

#endif
