/* spool: the file-spool channel and call log (see spool.h). */
#include "spool.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "letter.h"
#include "log.h"
#include "pbjson.h"
#include "tz.h"

#define DAY_MS INT64_C(86400000)

static const char *const channel_dirs[] = {"sms", "email", "letter", "call", "visit"};

struct spool {
    char dir[SPOOL_PATH_MAX];
    unsigned dirty;   /* channel folders with names not yet synced */
    uint64_t seed;
    tz_cache_t *zones;
};

spool_t *spool_new(const char *dir, uint64_t seed)
{
    spool_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    self->seed = seed;
    self->zones = tz_cache_new(NULL, 256);
    int ok = self->zones && (mkdir(dir, 0700) == 0 || errno == EEXIST);
    for (int c = 0; ok && c < 5; c++) {
        char path[SPOOL_PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", dir, channel_dirs[c]);
        ok = mkdir(path, 0700) == 0 || errno == EEXIST;
    }
    if (!ok)
        spool_destroy(&self);
    return self;
}

void spool_destroy(spool_t **self_p)
{
    assert(self_p);
    if (*self_p)
        tz_cache_destroy(&(*self_p)->zones);
    free(*self_p);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- outcomes */

static uint64_t mix(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;   /* FNV-1a */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static void promise_in_a_week(const spool_t *self, const Arrears__Task *t, int64_t at_ms,
                              spool_outcome_t *out)
{
    const tz_zone_t *zone;
    if (!t->time_zone || tz_cache_get(self->zones, t->time_zone, &zone) != TZ_OK ||
        !t->has_outstanding_minor || t->outstanding_minor <= 0) {
        out->result = ARREARS__CONTACT_RESULT__RIGHT_PARTY_CONTACT;
        return;
    }
    out->promise_amount_minor = t->outstanding_minor;
    tz_date_format(tz_local_day(zone, at_ms / 1000) + 7, out->promise_date);
}

void spool_outcome(const spool_t *self, const Arrears__Task *t, int64_t at_ms,
                   spool_outcome_t *out)
{
    memset(out, 0, sizeof *out);
    uint64_t h = mix(mix(self->seed * 0x9e3779b97f4a7c15ULL, t->account_ref), t->contact_id);
    unsigned r = (unsigned)(h % 1000);
    if (t->channel != ARREARS__CHANNEL__CALL && t->channel != ARREARS__CHANNEL__VISIT) {
        out->result = r < 970 || t->channel == ARREARS__CHANNEL__LETTER
                          ? ARREARS__CONTACT_RESULT__DELIVERED : ARREARS__CONTACT_RESULT__FAILED;
        out->opt_out_reply = t->channel == ARREARS__CHANNEL__SMS && (h >> 20) % 1000 < 20;
        return;
    }
    static const struct { unsigned below; Arrears__ContactResult result; } table[] = {
        {450, ARREARS__CONTACT_RESULT__NO_ANSWER},       {620, ARREARS__CONTACT_RESULT__RIGHT_PARTY_CONTACT},
        {780, ARREARS__CONTACT_RESULT__PROMISE_TO_PAY},  {830, ARREARS__CONTACT_RESULT__REFUSAL},
        {860, ARREARS__CONTACT_RESULT__WRONG_NUMBER},    {875, ARREARS__CONTACT_RESULT__DISPUTED},
        {890, ARREARS__CONTACT_RESULT__COMPLAINED},      {900, ARREARS__CONTACT_RESULT__OPTED_OUT},
        {1000, ARREARS__CONTACT_RESULT__NO_ANSWER},
    };
    size_t i = 0;
    while (r >= table[i].below)
        i++;
    out->result = table[i].result;
    if (out->result == ARREARS__CONTACT_RESULT__PROMISE_TO_PAY)
        promise_in_a_week(self, t, at_ms, out);
}

/* ---------------------------------------------------------------- the record */

static int record_path(const spool_t *self, const Arrears__Task *t, char *out, size_t cap)
{
    int c = t->channel >= 1 && t->channel <= 5 ? t->channel - 1 : 0;
    int n = snprintf(out, cap, "%s/%s/", self->dir, channel_dirs[c]);
    for (const char *k = t->idempotency_key ? t->idempotency_key : ""; n > 0 && *k; k++) {
        unsigned char ch = (unsigned char)*k;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        n += plain ? snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, "%c", ch)
                   : snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, "%%%02X", ch);
    }
    n += snprintf(out + n, cap > (size_t)n ? cap - (size_t)n : 0, ".json");
    return n > 0 && (size_t)n < cap ? 0 : SPOOL_ENAME;
}

static int write_record(FILE *f, const Arrears__Task *t, int64_t at_ms, const char *worker,
                        const spool_outcome_t *o)
{
    fprintf(f, "{\"sent_at_ms\":%lld,\"result\":%d,\"worker\":\"%s\"", (long long)at_ms,
            (int)o->result, worker);
    if (o->result == ARREARS__CONTACT_RESULT__PROMISE_TO_PAY)
        fprintf(f, ",\"promise_amount_minor\":%lld,\"promise_date\":\"%s\"",
                (long long)o->promise_amount_minor, o->promise_date);
    fputs(",\"task\":", f);
    int rc = pbjson_print(f, &t->base);
    fputs("}\n", f);
    return rc == 0 && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : SPOOL_EIO;
}

/* <record>.pdf beside the record: rendered to a temporary name, synced, renamed. */
static int print_letter(const Arrears__Task *t, int64_t at_ms, const char *record)
{
    char pdf[SPOOL_PATH_MAX + 16], tmp[SPOOL_PATH_MAX + 48];
    snprintf(pdf, sizeof pdf, "%.*s.pdf", (int)(strlen(record) - strlen(".json")), record);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", pdf, (long)getpid());
    int rc = letter_render_pdf(tmp, t, at_ms) == LETTER_OK ? 0 : SPOOL_EIO;
    int fd = rc == 0 ? open(tmp, O_RDONLY) : -1;
    if (rc == 0 && (fd < 0 || fsync(fd) != 0 || rename(tmp, pdf) != 0))
        rc = SPOOL_EIO;
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int spool_deliver(spool_t *self, const Arrears__Task *t, int64_t at_ms, const char *worker,
                  const spool_outcome_t *o, char *ref, size_t ref_cap)
{
    char path[SPOOL_PATH_MAX], tmp[SPOOL_PATH_MAX + 32];
    int rc = record_path(self, t, path, sizeof path);
    if (rc != 0)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (t->channel == ARREARS__CHANNEL__LETTER && (rc = print_letter(t, at_ms, path)) != 0)
        return rc;   /* the printable letter is in place before the record says it went */
    FILE *f = fopen(tmp, "w");
    if (!f)
        return SPOOL_EIO;
    rc = write_record(f, t, at_ms, worker, o);
    if (fclose(f) != 0)
        rc = SPOOL_EIO;
    /* link() refuses an existing name: one delivery per key, whoever races. */
    if (rc == 0 && link(tmp, path) != 0)
        rc = errno == EEXIST ? SPOOL_EEXISTS : SPOOL_EIO;
    unlink(tmp);
    if (rc == 0)
        self->dirty |= 1u << (t->channel >= 1 && t->channel <= 5 ? t->channel - 1 : 0);
    snprintf(ref, ref_cap, "%s", path);
    return rc;
}

int spool_commit(spool_t *self)
{
    int rc = 0;
    for (int c = 0; c < 5; c++) {
        if (!((self->dirty >> c) & 1))
            continue;
        char folder[SPOOL_PATH_MAX + 16];
        snprintf(folder, sizeof folder, "%s/%s", self->dir, channel_dirs[c]);
        int fd = open(folder, O_RDONLY | O_DIRECTORY);
        if (fd < 0 || fsync(fd) != 0)
            rc = SPOOL_EIO;
        if (fd >= 0)
            close(fd);
    }
    self->dirty = rc == 0 ? 0 : self->dirty;
    return rc;
}

static int marker_path(const spool_t *self, const Arrears__Task *t, char *out, size_t cap)
{
    int rc = record_path(self, t, out, cap);
    size_t n = strlen(out);
    if (rc != 0 || n + 8 >= cap)
        return rc ? rc : SPOOL_ENAME;
    memcpy(out + n, ".attempt", 9);
    return 0;
}

int spool_mark(spool_t *self, const Arrears__Task *t)
{
    char path[SPOOL_PATH_MAX + 16];
    int rc = marker_path(self, t, path, sizeof path);
    if (rc != 0)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    if (fd < 0 || fsync(fd) != 0)
        rc = SPOOL_EIO;
    if (fd >= 0)
        close(fd);
    self->dirty |= 1u << (t->channel >= 1 && t->channel <= 5 ? t->channel - 1 : 0);
    return rc ? rc : spool_commit(self);   /* the marker must be there before the send */
}

int spool_unmark(spool_t *self, const Arrears__Task *t)
{
    char path[SPOOL_PATH_MAX + 16];
    int rc = marker_path(self, t, path, sizeof path);
    return rc ? rc : unlink(path) == 0 || errno == ENOENT ? 0 : SPOOL_EIO;
}

int spool_marked(spool_t *self, const Arrears__Task *t, bool *yes)
{
    char path[SPOOL_PATH_MAX + 16];
    int rc = marker_path(self, t, path, sizeof path);
    *yes = rc == 0 && access(path, F_OK) == 0;
    return rc ? rc : *yes || errno == ENOENT ? 0 : SPOOL_EIO;
}

int spool_lookup(spool_t *self, const Arrears__Task *t, bool *found,
                 Arrears__ContactResult *result, int64_t *at_ms)
{
    char path[SPOOL_PATH_MAX];
    *found = false;
    int rc = record_path(self, t, path, sizeof path);
    if (rc != 0)
        return rc;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : SPOOL_EIO;
    long long at = 0;
    int r = 0;
    int got = fscanf(f, "{\"sent_at_ms\":%lld,\"result\":%d", &at, &r);
    fclose(f);
    if (got != 2)
        return SPOOL_EIO;   /* a record not ours: the caller leaves it to a person */
    *found = true;
    *result = (Arrears__ContactResult)r;
    *at_ms = at;
    return 0;
}

const char *spool_strerror(int code)
{
    switch (code) {
    case SPOOL_EIO: return "the spool cannot be written or read";
    case SPOOL_EEXISTS: return "this idempotency key was delivered before";
    case SPOOL_ENAME: return "the spool path is too long";
    default: return "unknown spool error";
    }
}
