/* shards: see shards.h. */
#include "shards.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static int load_shard(const conf_t *c, const char *path, shard_peer_t *out, char *err,
                      size_t len)
{
    static const char *const shard_keys[] = {"endpoint", "public_key", "principal", NULL};
    char setting[96];
    const char *principal = NULL;
    int rc = conf_check_keys(c, path, shard_keys, err, len);
    snprintf(setting, sizeof setting, "%s.endpoint", path);
    rc = rc ? rc : svcconf_endpoint(c, setting, out->endpoint, err, len);
    snprintf(setting, sizeof setting, "%s.public_key", path);
    rc = rc ? rc : svcconf_path(c, setting, NULL, out->public_path, err, len);
    snprintf(setting, sizeof setting, "%s.principal", path);
    rc = rc ? rc : conf_string(c, setting, "staging", INBOX_PRINCIPAL_MAX, &principal, err, len);
    if (rc == 0 && principal[0] == '\0')
        rc = conf_error_at(c, conf_lookup(c, setting), CONF_ERANGE, err, len,
                           "%s must name the shard's key in the keys file", setting);
    if (rc == 0)
        snprintf(out->principal, sizeof out->principal, "%s", principal);
    return rc;
}

/* Two shards under one principal could not be told apart when they answer. */
static int check_distinct(const conf_t *c, const char *name, const shards_t *s, char *err,
                          size_t len)
{
    for (uint32_t i = 1; i < s->count; i++)
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(s->shard[i].principal, s->shard[k].principal) == 0) {
                char path[64];
                snprintf(path, sizeof path, "%s.[%u]", name, i);
                return conf_error_at(c, conf_lookup(c, path), CONF_ERANGE, err, len,
                                     "%s and %s.[%u] have the same principal \"%s\"; each "
                                     "shard has its own key", path, name, k,
                                     s->shard[i].principal);
            }
    return 0;
}

int shards_load(const conf_t *c, const char *name, shards_t *out, char *err, size_t len)
{
    const config_setting_t *s = conf_lookup(c, name);
    memset(out, 0, sizeof *out);
    if (s && config_setting_is_group(s)) {
        out->count = 1;
        return load_shard(c, name, &out->shard[0], err, len);
    }
    if (!s) {
        snprintf(err, len, "%s: `%s` is required: { endpoint; public_key; } or a list of "
                 "them, one per shard", conf_name(c), name);
        return CONF_ETYPE;
    }
    if (!config_setting_is_list(s))
        return conf_error_at(c, s, CONF_ETYPE, err, len,
                             "%s must be { endpoint; public_key; } or a list of them, one per "
                             "shard", name);
    int n = config_setting_length(s);
    if (n < 1 || n > SHARDS_MAX)
        return conf_error_at(c, s, CONF_ERANGE, err, len, "%s must list 1 .. %d shards, got %d",
                             name, SHARDS_MAX, n);
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s.[%d]", name, i);
        int rc = load_shard(c, path, &out->shard[i], err, len);
        if (rc != 0)
            return rc;
        out->count = (uint32_t)i + 1;
    }
    return check_distinct(c, name, out, err, len);
}

uint32_t shard_of_person(const char *platform, const uint8_t *id_number_hash,
                         size_t id_hash_len, uint32_t count)
{
    assert(count >= 1 && count <= SHARDS_MAX);
    crypto_generichash_state st;
    uint8_t digest[16];
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    crypto_generichash_update(&st, (const uint8_t *)platform, strlen(platform) + 1);
    crypto_generichash_update(&st, id_number_hash, id_hash_len);
    crypto_generichash_final(&st, digest, sizeof digest);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | digest[i];
    return (uint32_t)(h % count);
}

bool shards_same(const shards_t *a, const shards_t *b)
{
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->count; i++)
        if (strcmp(a->shard[i].endpoint, b->shard[i].endpoint) != 0 ||
            strcmp(a->shard[i].public_path, b->shard[i].public_path) != 0 ||
            strcmp(a->shard[i].principal, b->shard[i].principal) != 0)
            return false;
    return true;
}

int shards_find(const shards_t *self, const char *principal)
{
    for (uint32_t i = 0; i < self->count; i++)
        if (strcmp(self->shard[i].principal, principal) == 0)
            return (int)i;
    return -1;
}

int shards_of_sender(const shards_t *self, const char *principal, const char *service,
                     uint32_t *shard, reject_t *reject)
{
    int found = shards_find(self, principal);
    if (found < 0)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, NULL,
                               "principal \"%s\" is not a staging shard of %s: add it to "
                               "`staging` (endpoint, public_key, principal) to take its messages",
                               principal, service);
    *shard = (uint32_t)found;
    return 0;
}

void shards_outbox_name(uint32_t i, char out[SHARDS_OUTBOX_NAME_MAX])
{
    if (i == 0)
        snprintf(out, SHARDS_OUTBOX_NAME_MAX, "to_staging");
    else
        snprintf(out, SHARDS_OUTBOX_NAME_MAX, "to_staging.%u", i);
}

int shards_open_outboxes(const shards_t *self, store_t *store, const outbox_limits_t *limits,
                         crypt_t *seal_with, outbox_t *out[SHARDS_MAX])
{
    for (uint32_t i = 0; i < self->count; i++) {
        char name[SHARDS_OUTBOX_NAME_MAX];
        shards_outbox_name(i, name);
        int rc = outbox_open(store, name, limits, &out[i]);
        if (rc == 0 && seal_with)
            rc = outbox_seal_with(out[i], seal_with);
        if (rc != 0) {
            shards_close_outboxes(out);
            return rc;
        }
    }
    return 0;
}

void shards_close_outboxes(outbox_t *out[SHARDS_MAX])
{
    for (uint32_t i = 0; i < SHARDS_MAX; i++)
        outbox_destroy(&out[i]);
}

int shards_add_peers(const shards_t *self, outbox_t *const out[SHARDS_MAX], svcnet_spec_t *spec)
{
    if (spec->peer_count + self->count > SVCNET_MAX_PEERS)
        return SHARDS_ETOO_MANY;
    for (uint32_t i = 0; i < self->count; i++)
        spec->peers[spec->peer_count++] = (svcnet_peer_t){
            self->shard[i].endpoint, self->shard[i].public_path, out[i]};
    return 0;
}

const char *shards_strerror(int code)
{
    if (code == SHARDS_ETOO_MANY)
        return "more shards and peers than a service connects to (SVCNET_MAX_PEERS)";
    return outbox_strerror(code);
}
