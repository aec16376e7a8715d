/* embedded: the embedded default — every service of arrears on this machine, in one
 * folder: CURVE keys made at first start (keys/), each service's configuration file
 * (DIR/<service>.conf, written from the shipped example settings), its store
 * (DIR/<service>/), its ipc:// socket and pid file (DIR/run/) and its log (DIR/log/).
 * The principals outside arrears that the examples name — the demonstration platform,
 * an operator, the example law firms, agencies and debt buyers — get keys too, so the
 * demonstration can act for them through the real API.
 *
 * Staging runs in 1 .. SHARDS_MAX shards (DESIGN.md section 7; shared/shards.h): shard 0
 * is "staging" as with one, shard k is "staging-k", each an ordinary staging with its own
 * configuration, store, key (principal "staging-k", role "service" in the keys files),
 * socket (st.sock, st-k.sock), log and pid file. The count is the folder's, kept in
 * run/shards like the simulated clock in run/clock: a later command reads it there. */
#ifndef ARREARS_EMBEDDED_H
#define ARREARS_EMBEDDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shards.h"

#define EMBEDDED_PATH_MAX 512
#define EMBEDDED_PROGRAMS 6        /* intake, staging, outreach, worker, legal, sale */
#define EMBEDDED_SERVICES_MAX (EMBEDDED_PROGRAMS - 1 + SHARDS_MAX)
#define EMBEDDED_NAME_MAX 16       /* "staging-7" */

typedef struct {
    char name[EMBEDDED_NAME_MAX];   /* "staging-1": its .conf, data folder, log and pid file */
    const char *program;    /* "staging" for every shard; the others their name */
    const char *binary;     /* resolved at run time (ARREARS_<PROGRAM> overrides the build's) */
    char socket[EMBEDDED_NAME_MAX]; /* "st-1.sock" in run/; "": binds nothing (the worker) */
} embedded_service_t;

typedef struct {
    char dir[EMBEDDED_PATH_MAX];    /* absolute */
    char keys[EMBEDDED_PATH_MAX + 8];
    char run[EMBEDDED_PATH_MAX + 8];
    char log[EMBEDDED_PATH_MAX + 8];
    uint32_t shards;                /* staging's: 1 .. SHARDS_MAX */
    /* In start order: who receives from others is up before them; the shards where
     * staging is, in shard order (service[shard0 + k] is shard k). */
    embedded_service_t service[EMBEDDED_SERVICES_MAX];
    size_t count, shard0;
} embedded_t;

typedef struct {
    bool simulated;         /* the simulated clock, moved by `arrears simulate` */
    const char *start;      /* its first day, "YYYY-MM-DD" */
    const char *durability; /* "durable" or "relaxed" */
    uint64_t worker_seed;   /* the worker's voice robot */
} embedded_options_t;

/* Resolves dir (made if missing), its folders, its shard count (run/shards, 1 when
 * none) and every key; 0 or an errno/link code, with err saying what to do. */
int embedded_open(const char *dir, embedded_t *self, char *err, size_t err_len);
/* Staging in `shards` shards from now on: kept in run/shards, their keys made. The
 * caller checks that it may (a shard is never removed: its accounts live there). */
int embedded_set_shards(embedded_t *self, uint32_t shards, char *err, size_t err_len);
/* Writes every service's configuration and keys files. */
int embedded_write(const embedded_t *self, const embedded_options_t *o, char *err,
                   size_t err_len);
/* Paths of one service's pieces. */
void embedded_path(const embedded_t *self, const char *service, const char *suffix,
                   char *out, size_t len);
void embedded_endpoint(const embedded_t *self, const char *service, char *out, size_t len);
void embedded_key(const embedded_t *self, const char *principal, const char *ext, char *out,
                  size_t len);
const embedded_service_t *embedded_find(const embedded_t *self, const char *name);
/* Shard k's service (k < self->shards). */
const embedded_service_t *embedded_shard(const embedded_t *self, uint32_t k);
/* The services' names joined by ", " ("intake, staging, staging-1, ..."), the worker's
 * too unless stores_only: what a command that takes SERVICE accepts. */
void embedded_names(const embedded_t *self, bool stores_only, char *out, size_t len);
/* The binary to run for a service (environment override, else the build's). */
const char *embedded_binary(const embedded_service_t *s);

#endif
