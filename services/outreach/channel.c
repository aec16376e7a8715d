/* channel: SMTP and HTTP adapters through libcurl (see channel.h). */
#include "channel.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define BODY_MAX (16 * 1024)

struct channels {
    spool_t *spool;
    channel_config_t config[5];
    CURL *curl;
    char body[BODY_MAX];
    size_t body_len, body_sent;
    char answer[512];
    size_t answer_len;
};

const char *channel_kind_name(channel_kind_t kind)
{
    static const char *const names[] = {"spool", "smtp", "http"};
    return (unsigned)kind < 3 ? names[kind] : "unknown";
}

channels_t *channels_new(spool_t *spool, const channel_config_t config[5])
{
    channels_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->spool = spool;
    memcpy(self->config, config, sizeof self->config);
    self->curl = curl_easy_init();
    if (!self->curl)
        channels_destroy(&self);
    return self;
}

void channels_destroy(channels_t **self_p)
{
    assert(self_p);
    if (*self_p && (*self_p)->curl)
        curl_easy_cleanup((*self_p)->curl);
    free(*self_p);
    *self_p = NULL;
}

bool channels_external(const channels_t *self, int channel)
{
    return channel >= 1 && channel <= 5 && self->config[channel - 1].kind != CHANNEL_KIND_SPOOL;
}

/* ---------------------------------------------------------------- libcurl plumbing */

static size_t read_body(char *out, size_t size, size_t n, void *arg)
{
    channels_t *self = arg;
    size_t left = self->body_len - self->body_sent, take = size * n < left ? size * n : left;
    memcpy(out, self->body + self->body_sent, take);
    self->body_sent += take;
    return take;
}

static size_t keep_answer(char *in, size_t size, size_t n, void *arg)
{
    channels_t *self = arg;
    size_t room = sizeof self->answer - 1 - self->answer_len, take = size * n < room ? size * n : room;
    memcpy(self->answer + self->answer_len, in, take);
    self->answer_len += take;
    self->answer[self->answer_len] = '\0';
    return size * n;   /* the rest is not needed: the status says what happened */
}

/* A fresh request on the kept handle (its connections are reused) to url, or c's. */
static void reset(channels_t *self, const channel_config_t *c, const char *url)
{
    curl_easy_reset(self->curl);
    curl_easy_setopt(self->curl, CURLOPT_URL, url ? url : c->url);
    curl_easy_setopt(self->curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(self->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(self->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(self->curl, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(self->curl, CURLOPT_WRITEDATA, self);
    self->answer_len = 0;
    self->answer[0] = '\0';
    self->body_sent = 0;
}

/* A failure before anything could be accepted: nothing went. */
static bool nothing_sent(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_URL_MALFORMAT;
}

/* ---------------------------------------------------------------- bodies */

static void hex_of(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 3 <= cap; in++, n += 2)
        snprintf(out + n, cap - n, "%02x", (unsigned char)*in);
    out[n] = '\0';
}

/* The Message-ID carries the idempotency key (hex), so the receiving side can tell. */
static int smtp_body(channels_t *self, const channel_config_t *c, const Arrears__Task *t,
                     char *message_id, size_t id_cap)
{
    char hex[400], date[64];
    hex_of(t->idempotency_key ? t->idempotency_key : "", hex, sizeof hex);
    snprintf(message_id, id_cap, "<%s@arrears.invalid>", hex);
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
    int n = snprintf(self->body, sizeof self->body,
                     "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n"
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
                     c->from, t->to ? t->to : "", t->subject ? t->subject : "", date, message_id,
                     t->text ? t->text : "");
    if (n < 0 || (size_t)n >= sizeof self->body)
        return -1;
    self->body_len = (size_t)n;
    return 0;
}

static size_t json_string(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (out[n++] = '"'; s && *s && n + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            out[n++] = '\\', out[n++] = (char)ch;
        else if (ch < 0x20)
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
        else
            out[n++] = (char)ch;
    }
    out[n++] = '"';
    out[n] = '\0';
    return n;
}

static int http_body(channels_t *self, const Arrears__Task *t)
{
    char key[512], to[600], text[BODY_MAX / 2];
    json_string(key, sizeof key, t->idempotency_key);
    json_string(to, sizeof to, t->to);
    json_string(text, sizeof text, t->text);
    int n = snprintf(self->body, sizeof self->body, "{\"key\":%s,\"to\":%s,\"text\":%s}", key, to, text);
    if (n < 0 || (size_t)n >= sizeof self->body)
        return -1;
    self->body_len = (size_t)n;
    return 0;
}

/* ---------------------------------------------------------------- sends */

static channel_send_t smtp_send(channels_t *self, const channel_config_t *c, const Arrears__Task *t,
                                char *ref, size_t ref_cap, char *why, size_t why_cap)
{
    char message_id[512];
    if (smtp_body(self, c, t, message_id, sizeof message_id) != 0) {
        snprintf(why, why_cap, "the message does not fit in %d bytes", BODY_MAX);
        return CHANNEL_REFUSED;
    }
    reset(self, c, NULL);
    struct curl_slist *rcpt = curl_slist_append(NULL, t->to ? t->to : "");
    curl_easy_setopt(self->curl, CURLOPT_MAIL_FROM, c->from);
    curl_easy_setopt(self->curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(self->curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(self->curl, CURLOPT_READDATA, self);
    curl_easy_setopt(self->curl, CURLOPT_UPLOAD, 1L);
    CURLcode rc = curl_easy_perform(self->curl);
    long code = 0;
    curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    snprintf(ref, ref_cap, "%s", message_id);
    if (rc == CURLE_OK)
        return CHANNEL_SENT;
    snprintf(why, why_cap, "smtp: %s (reply %ld)", curl_easy_strerror(rc), code);
    /* A 4xx or 5xx reply, at any step up to the end of DATA, means not accepted. */
    if (nothing_sent(rc) || (code >= 400 && code < 500))
        return CHANNEL_DOWN;
    return code >= 500 ? CHANNEL_REFUSED : CHANNEL_UNKNOWN;
}

/* The gateway keeps the idempotency key: a second POST of one key is not a second SMS,
 * which is what makes a 5xx safe to retry (DOWN) rather than a person's question. */
static channel_send_t http_send(channels_t *self, const channel_config_t *c, const Arrears__Task *t,
                                char *ref, size_t ref_cap, char *why, size_t why_cap)
{
    if (http_body(self, t) != 0) {
        snprintf(why, why_cap, "the message does not fit in %d bytes", BODY_MAX);
        return CHANNEL_REFUSED;
    }
    reset(self, c, NULL);
    char key_header[400];
    snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", t->idempotency_key);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, key_header);
    curl_easy_setopt(self->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(self->curl, CURLOPT_POSTFIELDS, self->body);
    curl_easy_setopt(self->curl, CURLOPT_POSTFIELDSIZE, (long)self->body_len);
    CURLcode rc = curl_easy_perform(self->curl);
    long code = 0;
    curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    snprintf(ref, ref_cap, "http %ld %.100s", code, self->answer);
    if (rc != CURLE_OK) {
        snprintf(why, why_cap, "http: %s", curl_easy_strerror(rc));
        return nothing_sent(rc) ? CHANNEL_DOWN : CHANNEL_UNKNOWN;
    }
    snprintf(why, why_cap, "http: status %ld", code);
    if (code >= 200 && code < 300)
        return CHANNEL_SENT;
    if (code == 408 || code == 429 || code >= 500)
        return CHANNEL_DOWN;
    return code >= 400 ? CHANNEL_REFUSED : CHANNEL_UNKNOWN;
}

channel_send_t channels_send(channels_t *self, const Arrears__Task *t, char *ref, size_t ref_cap,
                             char *why, size_t why_cap)
{
    assert(channels_external(self, t->channel));
    const channel_config_t *c = &self->config[t->channel - 1];
    ref[0] = why[0] = '\0';
    if (spool_mark(self->spool, t) != 0) {
        snprintf(why, why_cap, "the spool journal cannot be written");
        return CHANNEL_DOWN;   /* nothing was sent */
    }
    channel_send_t r = c->kind == CHANNEL_KIND_SMTP ? smtp_send(self, c, t, ref, ref_cap, why, why_cap)
                                                     : http_send(self, c, t, ref, ref_cap, why, why_cap);
    if (r == CHANNEL_DOWN && spool_unmark(self->spool, t) != 0)
        r = CHANNEL_UNKNOWN;   /* the journal would say "maybe": let the look-up say so too */
    return r;
}

/* ---------------------------------------------------------------- look-ups */

/* The gateway's own record: 200 it has the key, 404 it never took it. */
static int http_status(channels_t *self, const channel_config_t *c, const Arrears__Task *t,
                       bool *found, bool *unknown)
{
    char *key = curl_easy_escape(self->curl, t->idempotency_key, 0);
    char url[CHANNEL_URL_MAX + 600];
    snprintf(url, sizeof url, "%s?key=%s", c->status_url, key ? key : "");
    curl_free(key);
    reset(self, c, url);
    CURLcode rc = curl_easy_perform(self->curl);
    long code = 0;
    curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &code);
    *found = rc == CURLE_OK && code == 200;
    *unknown = !(rc == CURLE_OK && (code == 200 || code == 404));
    return 0;
}

int channels_lookup(channels_t *self, const Arrears__Task *t, bool *found, bool *unknown,
                    Arrears__ContactResult *result, int64_t *at_ms)
{
    *unknown = false;
    int rc = spool_lookup(self->spool, t, found, result, at_ms);
    bool marked = false;
    if (rc != 0 || *found || !channels_external(self, t->channel))
        return rc;
    if ((rc = spool_marked(self->spool, t, &marked)) != 0 || !marked)
        return rc;   /* never started on the channel: surely not sent */
    const channel_config_t *c = &self->config[t->channel - 1];
    if (c->kind == CHANNEL_KIND_HTTP && c->status_url[0]) {
        rc = http_status(self, c, t, found, unknown);
        *result = ARREARS__CONTACT_RESULT__DELIVERED;
        return rc;
    }
    *unknown = true;   /* SMTP cannot be asked whether a message went */
    return 0;
}
