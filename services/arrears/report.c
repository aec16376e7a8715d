/* report: `arrears report` — the figures gathered from every service (gather.h) printed
 * as a terminal table, or written as CSV or an HTML page (render.h). The format is
 * checked before anything is asked; a file is written whole or removed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "embedded.h"
#include "gather.h"
#include "ops.h"
#include "render.h"

#define ERR_MAX 1024

static int render(FILE *f, const char *format, const gather_t *g)
{
    if (strcmp(format, "csv") == 0)
        return render_csv(f, g);
    if (strcmp(format, "html") == 0)
        return render_html(f, g);
    render_table(f, g);
    return ferror(f) ? -1 : 0;
}

int ops_report_main(const ops_options_t *o)
{
    embedded_t e;
    gather_t g;
    char err[ERR_MAX];
    if (strcmp(o->format, "table") != 0 && strcmp(o->format, "csv") != 0 &&
        strcmp(o->format, "html") != 0) {
        fprintf(stderr, "arrears report: no format \"%s\": --format table (the default), csv "
                "or html, e.g. `arrears report --format html --out report.html`\n", o->format);
        return 2;
    }
    if (embedded_open(o->dir, &e, err, sizeof err) != 0 ||
        gather_reports(&e, o->platform, &g, err, sizeof err) != 0) {
        fprintf(stderr, "arrears report: %s\n", err);
        return 1;
    }
    FILE *f = o->out ? fopen(o->out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "arrears report: cannot write %s: check the folder exists and is "
                "writable\n", o->out);
        gather_free(&g);
        return 1;
    }
    int rc = render(f, o->format, &g);
    gather_free(&g);
    if ((f == stdout ? fflush(f) : fclose(f)) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "arrears report: writing %s failed (disk full?)\n",
                o->out ? o->out : "standard output");
        if (o->out)
            unlink(o->out);
        return 1;
    }
    return 0;
}
