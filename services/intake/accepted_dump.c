/* accepted_dump: the decrypted logical content of intake's book, one JSON line per
 * record in key order, for an operator's inspection and for tests that compare two runs
 * (a crash run with a clean one). Instants that differ between runs are left out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accepted.h"
#include "inbox.h"
#include "pbjson.h"

#define HASH_BYTES 32
#define ACCOUNT_HEAD_BYTES (8 + 3 + 1 + HASH_BYTES)

/* Key layout shared by every table here: platform NUL ref. */
static void split_key(const MDB_val *k, char *platform, char *ref)
{
    const char *p = k->mv_data;
    size_t plen = strnlen(p, k->mv_size < INBOX_PRINCIPAL_MAX ? k->mv_size : INBOX_PRINCIPAL_MAX);
    memcpy(platform, p, plen);
    platform[plen] = 0;
    size_t rlen = k->mv_size > plen + 1 ? k->mv_size - plen - 1 : 0;
    rlen = rlen > 64 ? 64 : rlen;
    memcpy(ref, p + plen + 1, rlen);
    ref[rlen] = 0;
}

static void print_head(FILE *out, const char *kind, const char *platform, const char *ref)
{
    fprintf(out, "{\"%s\":{\"platform\":\"%s\",\"ref\":\"%s\"", kind, platform, ref);
}

static int open_sealed(crypt_t *crypt, const uint8_t *sealed, size_t len, uint8_t **plain,
                       size_t *plain_len)
{
    *plain = malloc(len);
    if (!*plain)
        return ENOMEM;
    return crypt_open(crypt, sealed, len, *plain, len, plain_len);
}

typedef int (row_fn)(FILE *out, crypt_t *crypt, const char *platform, const char *ref,
                     const MDB_val *v);

static int dump_account(FILE *out, crypt_t *crypt, const char *platform, const char *ref,
                        const MDB_val *v)
{
    const uint8_t *p = v->mv_data;
    uint8_t *plain;
    size_t len;
    if (v->mv_size < ACCOUNT_HEAD_BYTES)
        return MDB_CORRUPTED;
    int rc = open_sealed(crypt, p + ACCOUNT_HEAD_BYTES, v->mv_size - ACCOUNT_HEAD_BYTES, &plain, &len);
    Arrears__AccountUpsert *u = rc == 0 ? arrears__account_upsert__unpack(NULL, len, plain) : NULL;
    free(plain);
    if (!u)
        return rc ? rc : MDB_CORRUPTED;
    print_head(out, "account", platform, ref);
    fprintf(out, ",\"version\":%llu,\"recalled\":%s%s,\"upsert\":",
            (unsigned long long)store_get_u64(p), p[11] & 1 ? "true" : "false",
            p[11] & 2 ? ",\"erased\":true" : "");
    pbjson_print(out, &u->base);
    fputs("}}\n", out);
    arrears__account_upsert__free_unpacked(u, NULL);
    return 0;
}

/* A record of hash + sealed message, printed as {"kind":{platform, ref, "field":{...}}}. */
static int dump_sealed(FILE *out, crypt_t *crypt, const char *platform, const char *ref,
                       const MDB_val *v, const ProtobufCMessageDescriptor *d, const char *kind,
                       const char *field)
{
    uint8_t *plain;
    size_t len;
    if (v->mv_size < HASH_BYTES)
        return MDB_CORRUPTED;
    int rc = open_sealed(crypt, (const uint8_t *)v->mv_data + HASH_BYTES, v->mv_size - HASH_BYTES,
                         &plain, &len);
    ProtobufCMessage *m = rc == 0 ? protobuf_c_message_unpack(d, NULL, len, plain) : NULL;
    free(plain);
    if (!m)
        return rc ? rc : MDB_CORRUPTED;
    print_head(out, kind, platform, ref);
    fprintf(out, ",\"%s\":", field);
    pbjson_print(out, m);
    fputs("}}\n", out);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}

static int dump_payment(FILE *out, crypt_t *crypt, const char *platform, const char *ref,
                        const MDB_val *v)
{
    return dump_sealed(out, crypt, platform, ref, v, &arrears__payment_posted__descriptor,
                       "payment", "posted");
}

static int dump_complaint(FILE *out, crypt_t *crypt, const char *platform, const char *ref,
                          const MDB_val *v)
{
    return dump_sealed(out, crypt, platform, ref, v, &arrears__complaint__descriptor,
                       "complaint", "complaint");
}

static int dump_status(FILE *out, crypt_t *crypt, const char *platform, const char *ref,
                       const MDB_val *v)
{
    (void)crypt;
    Arrears__AccountStatus *s = arrears__account_status__unpack(NULL, v->mv_size, v->mv_data);
    if (!s)
        return MDB_CORRUPTED;
    s->has_updated_at_ms = 0;
    print_head(out, "status", platform, ref);
    fputs(",\"status\":", out);
    pbjson_print(out, &s->base);
    fputs("}}\n", out);
    arrears__account_status__free_unpacked(s, NULL);
    return 0;
}

static int dump_table(MDB_txn *txn, MDB_dbi dbi, FILE *out, crypt_t *crypt, row_fn *row)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    char platform[INBOX_PRINCIPAL_MAX + 1], ref[65];
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        split_key(&k, platform, ref);
        rc = row(out, crypt, platform, ref, &v);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int accepted_dump(accepted_t *self, MDB_txn *txn, FILE *out)
{
    accepted_tables_t t = accepted_tables(self);
    int rc = dump_table(txn, t.accounts, out, t.crypt, dump_account);
    rc = rc ? rc : dump_table(txn, t.payments, out, t.crypt, dump_payment);
    rc = rc ? rc : dump_table(txn, t.complaints, out, t.crypt, dump_complaint);
    return rc ? rc : dump_table(txn, t.status, out, t.crypt, dump_status);
}
