/* render: the gathered reports for a person — a terminal table (render.c). */
#ifndef ARREARS_RENDER_H
#define ARREARS_RENDER_H

#include <stdio.h>

#include "gather.h"

void render_table(FILE *f, const gather_t *g);

#endif
