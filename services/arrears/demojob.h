/* demojob: `arrears demo`, the main job on the embedded default (see demojob.c). */
#ifndef ARREARS_DEMOJOB_H
#define ARREARS_DEMOJOB_H

#include <stdint.h>

typedef struct {
    const char *dir;      /* the run's folder: keys, configurations, stores, sockets, logs */
    uint64_t accounts;    /* size of the demonstration portfolio */
    uint64_t seed;        /* the portfolio, the world's choices and the voice robot */
    uint64_t days;        /* simulated days */
    uint32_t shards;      /* staging's shards: 0 keeps the folder's count */
} demojob_options_t;

int demojob_main(const demojob_options_t *o);

#endif
