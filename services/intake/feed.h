/* feed: each platform's ordered log of status events (stage changes, payments applied,
 * promises, legal status, sale, closure), which the platform pulls after a cursor.
 * Cursors are per platform, start at 1 and grow by 1. Retention is by count per
 * platform and by age; a cursor older than what is retained is refused with
 * CURSOR_EXPIRED and the earliest cursor still held, so a platform knows it missed
 * events rather than silently skipping them.
 * An event is held once: staging restored from a backup derives its events again and
 * sends them on a new stream, so a repeat (the same natural key: feed.c, seen_key) is
 * recognised and not appended twice, for as long as the original is held.
 * Tables: "feed.events" (platform NUL cursor(be64) -> packed FeedEvent), "feed.meta"
 * (platform -> last cursor(be64) earliest cursor(be64)) and "feed.seen" (at_ms(be64)
 * BLAKE2b-256 of the natural key -> nothing; only a hash, deleted with its event). */
#ifndef ARREARS_FEED_H
#define ARREARS_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "envelope.h"
#include "store.h"

#define FEED_PAGE_MAX 1000
#define FEED_PAGE_DEFAULT 100
#define FEED_EVENT_MAX_BYTES 2048   /* a stored event, packed */

typedef struct {
    uint64_t retain_events;   /* per platform */
    int64_t retain_ms;        /* by the event's at_ms */
} feed_limits_t;

typedef struct feed feed_t;

feed_limits_t feed_default_limits(void);
int feed_open(store_t *store, const feed_limits_t *limits, feed_t **self_p);
void feed_destroy(feed_t **self_p);

/* Gives the event the platform's next cursor and stores it, unless the feed holds the
 * same event already: then nothing changes and *cursor (if given) is 0. */
int feed_append(feed_t *self, MDB_txn *txn, const char *platform, Arrears__FeedEvent *event,
                uint64_t *cursor);
/* Packs a FeedPage reply (request_id echoed) into buf; returns its length, or 0 with
 * *reject filled (CURSOR_EXPIRED) or *error set (LMDB). */
size_t feed_page(feed_t *self, MDB_txn *txn, const char *platform, uint64_t after_cursor,
                 uint32_t max_events, uint64_t request_id, uint8_t *buf, size_t cap,
                 reject_t *reject, int *error);
/* Deletes at most max_deletes events past retention, across platforms. */
int feed_prune(feed_t *self, MDB_txn *txn, int64_t now_ms, size_t max_deletes, size_t *deleted);
/* Every event held, one JSON line each in (platform, cursor) order, at_ms left out. */
int feed_dump(feed_t *self, MDB_txn *txn, FILE *out);

#endif
