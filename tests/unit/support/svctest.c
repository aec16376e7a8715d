/* svctest: see svctest.h. */
#include "svctest.h"

#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int svctest_open(const char *prefix, char dir[SVCTEST_DIR_MAX], store_t **store, crypt_t **crypt)
{
    char key[SVCTEST_DIR_MAX + 16];
    snprintf(dir, SVCTEST_DIR_MAX, "/tmp/%sXXXXXX", prefix);
    if (!mkdtemp(dir))
        return -1;
    store_options_t o = store_default_options();
    o.relaxed = true;
    o.max_tables = 64;
    snprintf(key, sizeof key, "%s/secret", dir);
    int rc = crypt_key_create(key) == CRYPT_OK && crypt_load(key, crypt) == CRYPT_OK ? 0 : -1;
    return rc ? rc : store_open(store, dir, &o);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int svctest_close(const char *dir, store_t **store, crypt_t **crypt)
{
    store_destroy(store);
    crypt_destroy(crypt);
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void svctest_text_file(const char *prefix, const char *text, char path[SVCTEST_DIR_MAX])
{
    snprintf(path, SVCTEST_DIR_MAX, "/tmp/%sXXXXXX", prefix);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

typedef struct {
    svctest_fn *fn;
    void *arg;
} work_t;

static int run_work(MDB_txn *txn, void *arg)
{
    work_t *w = arg;
    w->fn(txn, w->arg);
    return 0;
}

void svctest_write(store_t *store, svctest_fn *fn, void *arg)
{
    work_t w = {fn, arg};
    assert_int_equal(store_write(store, run_work, &w), 0);
}

void svctest_read(store_t *store, svctest_fn *fn, void *arg)
{
    work_t w = {fn, arg};
    assert_int_equal(store_read(store, run_work, &w), 0);
}

typedef struct {
    store_t *store;
    const char *const *tables;
    size_t n;
    uint8_t *out;
} digest_t;

static void digest_work(MDB_txn *txn, void *arg)
{
    digest_t *d = arg;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < d->n; i++) {
        MDB_dbi dbi;
        MDB_cursor *cur = NULL;
        MDB_val k, v;
        assert_int_equal(mdb_dbi_open(txn, d->tables[i], 0, &dbi), 0);
        assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            uint64_t sizes[2] = {k.mv_size, v.mv_size};
            crypto_hash_sha256_update(&st, (const uint8_t *)sizes, sizeof sizes);
            crypto_hash_sha256_update(&st, k.mv_data, k.mv_size);
            crypto_hash_sha256_update(&st, v.mv_data, v.mv_size);
        }
        mdb_cursor_close(cur);
        crypto_hash_sha256_update(&st, (const uint8_t *)d->tables[i], strlen(d->tables[i]) + 1);
    }
    crypto_hash_sha256_final(&st, d->out);
}

void svctest_digest(store_t *store, const char *const *tables, size_t n,
                    uint8_t out[SVCTEST_DIGEST_BYTES])
{
    digest_t d = {store, tables, n, out};
    svctest_read(store, digest_work, &d);
}

receiver_peer_t svctest_peer(const char *principal, const char *role)
{
    receiver_peer_t p;
    memset(&p, 0, sizeof p);
    snprintf(p.principal, sizeof p.principal, "%s", principal);
    snprintf(p.role, sizeof p.role, "%s", role);
    return p;
}

void svctest_assert_refused(int rc, const reject_t *reject, Arrears__Reject__Code code,
                            const char *field)
{
    if (rc != APPLY_REJECTED || reject->code != code) {
        print_error("rc %d code %d (%s: %s), expected code %d\n", rc, (int)reject->code,
                    reject->field, reject->reason, (int)code);
        fail();
    }
    bool later = code == ARREARS__REJECT__CODE__BUSY || code == ARREARS__REJECT__CODE__STORE_FULL;
    assert_int_equal(reject->klass, later ? ARREARS__REJECT__CLASS__RETRY_LATER
                                          : ARREARS__REJECT__CLASS__PERMANENT);
    if (field)
        assert_string_equal(reject->field, field);
}

typedef struct {
    outbox_t *ob;
    uint64_t *mark;
    Arrears__Envelope **got;
    size_t max, n;
} news_t;

static int collect(uint64_t seq, const uint8_t *env, size_t len, void *arg)
{
    news_t *w = arg;
    if (w->n == w->max)
        return 1;
    w->got[w->n] = arrears__envelope__unpack(NULL, len, env);
    if (!w->got[w->n])
        return 2;
    w->n++;
    *w->mark = seq;
    return 0;
}

static void news_work(MDB_txn *txn, void *arg)
{
    news_t *w = arg;
    int rc = outbox_each(w->ob, txn, *w->mark + 1, w->max, collect, w);
    assert_true(rc == 0 || rc == 1);
}

size_t svctest_news(store_t *store, outbox_t *ob, uint64_t *mark, Arrears__Envelope **got,
                    size_t max)
{
    news_t w = {ob, mark, got, max, 0};
    svctest_read(store, news_work, &w);
    return w.n;
}

void svctest_free_got(Arrears__Envelope **got, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        arrears__envelope__free_unpacked(got[i], NULL);
        got[i] = NULL;
    }
}

void svctest_erasure(Arrears__PersonalDataErased *m, Arrears__Envelope *env,
                     const char *platform, const char *account, const char *jurisdiction,
                     int64_t at_ms)
{
    *m = (Arrears__PersonalDataErased)ARREARS__PERSONAL_DATA_ERASED__INIT;
    m->platform = (char *)platform;
    m->account_ref = (char *)account;
    m->jurisdiction = (char *)jurisdiction;
    m->has_erased_at_ms = 1;
    m->erased_at_ms = at_ms;
    *env = (Arrears__Envelope)ARREARS__ENVELOPE__INIT;
    env->body_case = ARREARS__ENVELOPE__BODY_PERSONAL_DATA_ERASED;
    env->personal_data_erased = m;
}
