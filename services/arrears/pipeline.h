/* pipeline: `arrears demo`, the main job on the embedded default (see pipeline.c). */
#ifndef ARREARS_PIPELINE_H
#define ARREARS_PIPELINE_H

#include <stdint.h>

typedef struct {
    const char *dir;      /* the run's folder: keys, stores, sockets, logs */
    uint64_t accounts;    /* size of the demonstration portfolio */
    uint64_t seed;        /* the portfolio and everything random in it */
} pipeline_options_t;

int pipeline_demo_main(const pipeline_options_t *o);

#endif
