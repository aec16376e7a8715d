/* channel: the worker's channel adapters besides the file spool — e-mail over SMTP and
 * an SMS gateway (or any webhook) over HTTP, both through libcurl — and how an attempt
 * whose fate was lost is looked up afterwards (DESIGN.md section 4, "never twice").
 *
 * The spool stays the worker's journal for every channel: before an SMTP or HTTP attempt
 * a durable marker names its idempotency key; once the channel accepted it, the delivery
 * record is written as for the spool channel. A look-up after a lost lease then says:
 *   record present          it went (with its result);
 *   marker absent           it surely did not go: the broker may queue it again;
 *   marker without record   SMTP cannot be asked: a person decides; HTTP asks the
 *                           gateway's status URL by key (found, not found, or unknown).
 * A send's answer says what the worker may do next:
 *   SENT      the channel accepted it (SMTP 250 after DATA, HTTP 2xx);
 *   REFUSED   refused for good (SMTP 5xx, HTTP 4xx other than 408/429): FAILED;
 *   DOWN      nothing was accepted (cannot connect, SMTP 4xx, HTTP 408/429/5xx): the
 *             task goes back to the queue and the worker rests the channel (backoff);
 *   UNKNOWN   the answer was lost mid-way (timeout, dropped connection): it may have
 *             gone, so the worker reports nothing and the key is looked up later. */
#ifndef ARREARS_OUTREACH_CHANNEL_H
#define ARREARS_OUTREACH_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "spool.h"

#define CHANNEL_URL_MAX 512
#define CHANNEL_WHY_MAX 200

typedef enum { CHANNEL_KIND_SPOOL = 0, CHANNEL_KIND_SMTP, CHANNEL_KIND_HTTP } channel_kind_t;

typedef struct {
    channel_kind_t kind;
    char url[CHANNEL_URL_MAX];          /* smtp://host:port, http://host:port/path */
    char status_url[CHANNEL_URL_MAX];   /* http: GET <status_url>?key=<key>: 200 found, 404 not */
    char from[256];                     /* smtp: the sender address */
    int64_t timeout_ms;
} channel_config_t;

typedef enum { CHANNEL_SENT = 0, CHANNEL_REFUSED, CHANNEL_DOWN, CHANNEL_UNKNOWN } channel_send_t;

typedef struct channels channels_t;

/* One adapter per proto Channel - 1 (sms, email, letter, call, visit). NULL on no memory. */
channels_t *channels_new(spool_t *spool, const channel_config_t config[5]);
void channels_destroy(channels_t **self_p);

bool channels_external(const channels_t *self, int channel);   /* SMTP or HTTP */

/* Sends task through its channel's external adapter, its marker written first. ref
 * receives the channel's reference (Message-ID, gateway answer), why the reason of a
 * refusal or failure. */
channel_send_t channels_send(channels_t *self, const Arrears__Task *task, char *ref,
                             size_t ref_cap, char *why, size_t why_cap);

/* After a lost lease: *found with the result, or *unknown (a person decides). */
int channels_lookup(channels_t *self, const Arrears__Task *task, bool *found, bool *unknown,
                    Arrears__ContactResult *result, int64_t *at_ms);

const char *channel_kind_name(channel_kind_t kind);

#endif
