/* embedded: the embedded default — every service of arrears on this machine, in one
 * folder: CURVE keys made at first start (keys/), each service's configuration file
 * (DIR/<service>.conf, written from the shipped example settings), its store
 * (DIR/<service>/), its ipc:// socket and pid file (DIR/run/) and its log (DIR/log/).
 * The principals outside arrears that the examples name — the demonstration platform,
 * an operator, the example law firms, agencies and debt buyers — get keys too, so the
 * demonstration can act for them through the real API. */
#ifndef ARREARS_EMBEDDED_H
#define ARREARS_EMBEDDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMBEDDED_PATH_MAX 512
#define EMBEDDED_SERVICES 6

typedef struct {
    const char *name;       /* "staging": its .conf, data folder, log and pid file */
    const char *binary;     /* resolved at run time (ARREARS_<NAME> overrides the build's) */
    const char *socket;     /* "st.sock" in run/; NULL: binds nothing (the worker) */
} embedded_service_t;

typedef struct {
    char dir[EMBEDDED_PATH_MAX];    /* absolute */
    char keys[EMBEDDED_PATH_MAX + 8];
    char run[EMBEDDED_PATH_MAX + 8];
    char log[EMBEDDED_PATH_MAX + 8];
} embedded_t;

typedef struct {
    bool simulated;         /* the simulated clock, moved by `arrears simulate` */
    const char *start;      /* its first day, "YYYY-MM-DD" */
    const char *durability; /* "durable" or "relaxed" */
    uint64_t worker_seed;   /* the worker's voice robot */
} embedded_options_t;

/* In start order: who receives from others is up before them. */
extern const embedded_service_t embedded_services[EMBEDDED_SERVICES];

/* Resolves dir (made if missing), its folders and every key; 0 or an errno/link code,
 * with err saying what to do. */
int embedded_open(const char *dir, embedded_t *self, char *err, size_t err_len);
/* Writes every service's configuration and keys files. */
int embedded_write(const embedded_t *self, const embedded_options_t *o, char *err,
                   size_t err_len);
/* Paths of one service's pieces. */
void embedded_path(const embedded_t *self, const char *service, const char *suffix,
                   char *out, size_t len);
void embedded_endpoint(const embedded_t *self, const char *service, char *out, size_t len);
void embedded_key(const embedded_t *self, const char *principal, const char *ext, char *out,
                  size_t len);
const embedded_service_t *embedded_find(const char *name);
/* The binary to run for a service (environment override, else the build's). */
const char *embedded_binary(const embedded_service_t *s);

#endif
