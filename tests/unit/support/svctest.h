/* svctest: what a service's in-process test needs around its apply and query functions
 * — a temporary directory with a store and an at-rest key, work run inside write and
 * read transactions as the receiver runs it, a digest of tables (a refusal must change
 * nothing), the peer a message comes from, a refusal checked by code and field, the
 * messages an outbox got since the last look, and a configuration file to load. cmocka
 * asserts inside: a failure fails the test that called. */
#ifndef ARREARS_SVCTEST_H
#define ARREARS_SVCTEST_H

#include <stddef.h>
#include <stdint.h>

#include "crypt.h"
#include "envelope.h"
#include "outbox.h"
#include "receiver.h"
#include "store.h"

#define SVCTEST_DIR_MAX 64
#define SVCTEST_DIGEST_BYTES 32

/* mkdtemp("/tmp/<prefix>XXXXXX"), a store there (relaxed, 64 tables) and a new key. */
int svctest_open(const char *prefix, char dir[SVCTEST_DIR_MAX], store_t **store, crypt_t **crypt);
/* Closes both and removes the directory. */
int svctest_close(const char *dir, store_t **store, crypt_t **crypt);

/* text in a new file /tmp/<prefix>XXXXXX, for the loaders that take a configuration
 * file's path; the caller removes it. */
void svctest_text_file(const char *prefix, const char *text, char path[SVCTEST_DIR_MAX]);

typedef void (svctest_fn)(MDB_txn *txn, void *arg);
/* Runs fn in a write transaction that commits (a refusal commits too, as the receiver
 * commits a batch: the service must decide before it writes). */
void svctest_write(store_t *store, svctest_fn *fn, void *arg);
void svctest_read(store_t *store, svctest_fn *fn, void *arg);

/* SHA-256 over every key and value of the named tables. */
void svctest_digest(store_t *store, const char *const *tables, size_t n,
                    uint8_t out[SVCTEST_DIGEST_BYTES]);

receiver_peer_t svctest_peer(const char *principal, const char *role);

/* rc is APPLY_REJECTED with code (and field, unless NULL), permanent or retry-later as
 * the code says. */
void svctest_assert_refused(int rc, const reject_t *reject, Arrears__Reject__Code code,
                            const char *field);

/* The messages appended to ob after *mark (at most max): unpacked into got[0 .. n),
 * *mark moved past them. Free with svctest_free_got. */
size_t svctest_news(store_t *store, outbox_t *ob, uint64_t *mark, Arrears__Envelope **got,
                    size_t max);
void svctest_free_got(Arrears__Envelope **got, size_t n);

/* staging's news that an account's retention ended (account.proto PersonalDataErased),
 * built in *m and wrapped in *env; platform or account NULL or "" to test a refusal. */
void svctest_erasure(Arrears__PersonalDataErased *m, Arrears__Envelope *env,
                     const char *platform, const char *account, const char *jurisdiction,
                     int64_t at_ms);

#endif
