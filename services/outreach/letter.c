/* letter: see letter.h. */
#include "letter.h"

#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tz.h"

#define A4_WIDTH_PT 595.0
#define A4_HEIGHT_PT 842.0
#define MARGIN_PT 56.0

/* Lays text out at (x, y) within width; returns the height it took. */
static double put_text(cairo_t *cr, const char *text, const char *font, double x, double y,
                       double width)
{
    PangoLayout *layout = pango_cairo_create_layout(cr);
    PangoFontDescription *desc = pango_font_description_from_string(font);
    pango_layout_set_font_description(layout, desc);
    pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout, text ? text : "", -1);
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, layout);
    int w = 0, h = 0;
    pango_layout_get_pixel_size(layout, &w, &h);
    pango_font_description_free(desc);
    g_object_unref(layout);
    return h;
}

/* The date of the letter, in the borrower's zone. */
static void letter_date(const Arrears__Task *t, int64_t at_ms, char out[TZ_DATE_LEN + 1])
{
    tz_cache_t *zones = tz_cache_new(NULL, 4);
    const tz_zone_t *zone = NULL;
    int64_t day = at_ms / 86400000;
    if (zones && t->time_zone && tz_cache_get(zones, t->time_zone, &zone) == TZ_OK)
        day = tz_local_day(zone, at_ms / 1000);
    tz_date_format(day, out);
    tz_cache_destroy(&zones);
}

static void address_block(const Arrears__Task *t, char *out, size_t cap)
{
    const Arrears__Address *a = t->address;
    snprintf(out, cap, "%s\n%s%s%s%s%s%s%s%s%s", t->borrower_name ? t->borrower_name : "",
             a && a->line1 ? a->line1 : "", a && a->line2 && *a->line2 ? "\n" : "",
             a && a->line2 ? a->line2 : "", a && a->city ? "\n" : "", a && a->city ? a->city : "",
             a && a->region && *a->region ? ", " : "", a && a->region ? a->region : "",
             a && a->postal_code ? "  " : "", a && a->postal_code ? a->postal_code : "");
}

static void draw(cairo_t *cr, const Arrears__Task *t, int64_t at_ms)
{
    char date[TZ_DATE_LEN + 1], address[1200], footer[400];
    double width = A4_WIDTH_PT - 2 * MARGIN_PT, y = MARGIN_PT;
    letter_date(t, at_ms, date);
    address_block(t, address, sizeof address);
    snprintf(footer, sizeof footer, "Reference %s · template %s v%d · %s",
             t->contact_id ? t->contact_id : "", t->template_id ? t->template_id : "",
             t->template_version, t->platform ? t->platform : "");
    cairo_set_source_rgb(cr, 0, 0, 0);
    y += put_text(cr, t->platform ? t->platform : "", "Sans Bold 14", MARGIN_PT, y, width) + 6;
    y += put_text(cr, date, "Sans 10", MARGIN_PT, y, width) + 30;
    y += put_text(cr, address, "Sans 11", MARGIN_PT, y, width / 2) + 36;
    if (t->subject && *t->subject)
        y += put_text(cr, t->subject, "Sans Bold 12", MARGIN_PT, y, width) + 14;
    put_text(cr, t->text, "Sans 11", MARGIN_PT, y, width);
    put_text(cr, footer, "Sans 8", MARGIN_PT, A4_HEIGHT_PT - MARGIN_PT, width);
}

int letter_render_pdf(const char *path, const Arrears__Task *t, int64_t at_ms)
{
    cairo_surface_t *surface = cairo_pdf_surface_create(path, A4_WIDTH_PT, A4_HEIGHT_PT);
    cairo_t *cr = cairo_create(surface);
    draw(cr, t, at_ms);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    cairo_status_t status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        log_event(LOG_ERROR, "letter_failed", "task=%s cairo=\"%s\"", t->task_id,
                  cairo_status_to_string(status));
        return LETTER_ECAIRO;
    }
    return LETTER_OK;
}

void letter_shutdown(void)
{
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    FcFini();
}
