/* report: `arrears report` — the figures gathered from every service (gather.h) printed
 * as a terminal table, or written as CSV or an HTML page (render.h). */
#include <stdio.h>
#include <string.h>

#include "embedded.h"
#include "gather.h"
#include "ops.h"
#include "render.h"

#define ERR_MAX 1024

int ops_report_main(const ops_options_t *o)
{
    embedded_t e;
    gather_t g;
    char err[ERR_MAX];
    if (strcmp(o->format, "table") != 0) {
        fprintf(stderr, "arrears report: --format table (csv and html: see `arrears help`)\n");
        return 2;
    }
    if (embedded_open(o->dir, &e, err, sizeof err) != 0 ||
        gather_reports(&e, o->platform, &g, err, sizeof err) != 0) {
        fprintf(stderr, "arrears report: %s\n", err);
        return 1;
    }
    FILE *f = o->out ? fopen(o->out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "arrears report: cannot write %s\n", o->out);
        gather_free(&g);
        return 1;
    }
    render_table(f, &g);
    gather_free(&g);
    return f != stdout && fclose(f) != 0 ? 1 : 0;
}
