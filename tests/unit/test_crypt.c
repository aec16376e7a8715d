/* test_crypt: sealing personal data at rest — a round trip, a fresh nonce each time,
 * tampering and a wrong key detected, short buffers refused, and key files that are
 * malformed, world-readable or already present refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypt.h"

static char dir[64];

static void key_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static crypt_t *new_key(const char *name)
{
    char path[128];
    key_path(path, sizeof path, name);
    assert_int_equal(crypt_key_create(path), CRYPT_OK);
    crypt_t *c = NULL;
    assert_int_equal(crypt_load(path, &c), CRYPT_OK);
    return c;
}

static void test_round_trip_and_fresh_nonce(void **state)
{
    (void)state;
    crypt_t *c = new_key("a.secret");
    const uint8_t plain[] = "Zhang Wei +8613800138000";
    uint8_t s1[128], s2[128], back[128];
    size_t n1, n2, nb;
    assert_int_equal(crypt_seal(c, plain, sizeof plain, s1, sizeof s1, &n1), CRYPT_OK);
    assert_int_equal(crypt_seal(c, plain, sizeof plain, s2, sizeof s2, &n2), CRYPT_OK);
    assert_int_equal(n1, sizeof plain + CRYPT_OVERHEAD_BYTES);
    assert_memory_not_equal(s1, s2, n1);   /* a fresh nonce: equal plaintexts look different */
    assert_null(memmem(s1, n1, "Zhang", 5));
    assert_int_equal(crypt_open(c, s1, n1, back, sizeof back, &nb), CRYPT_OK);
    assert_int_equal(nb, sizeof plain);
    assert_memory_equal(back, plain, nb);
    crypt_destroy(&c);
    assert_null(c);
}

static void test_tamper_and_wrong_key(void **state)
{
    (void)state;
    crypt_t *a = new_key("t1.secret"), *b = new_key("t2.secret");
    uint8_t sealed[64], back[64];
    size_t n, nb;
    assert_int_equal(crypt_seal(a, (const uint8_t *)"secret", 6, sealed, sizeof sealed, &n), CRYPT_OK);
    assert_int_equal(crypt_open(b, sealed, n, back, sizeof back, &nb), CRYPT_EFORGED);
    for (size_t i = 0; i < n; i++) {
        sealed[i] ^= 1;
        assert_int_equal(crypt_open(a, sealed, n, back, sizeof back, &nb), CRYPT_EFORGED);
        sealed[i] ^= 1;
    }
    assert_int_equal(crypt_open(a, sealed, CRYPT_OVERHEAD_BYTES - 1, back, sizeof back, &nb), CRYPT_EFORGED);
    assert_int_equal(crypt_open(a, sealed, n, back, 5, &nb), CRYPT_ESPACE);
    assert_int_equal(crypt_seal(a, (const uint8_t *)"secret", 6, sealed, 45, &n), CRYPT_ESPACE);
    crypt_destroy(&a);
    crypt_destroy(&b);
}

static void test_key_files_refused(void **state)
{
    (void)state;
    char path[128];
    crypt_t *c = NULL;
    key_path(path, sizeof path, "k.secret");
    assert_int_equal(crypt_key_create(path), CRYPT_OK);
    assert_int_equal(crypt_key_create(path), CRYPT_EEXISTS);
    chmod(path, 0644);
    assert_int_equal(crypt_load(path, &c), CRYPT_EKEYFILE);
    assert_null(c);
    key_path(path, sizeof path, "bad.secret");
    FILE *f = fopen(path, "w");
    fprintf(f, "not hex at all, not hex at all, not hex at all, not hex at all!!\n");
    fclose(f);
    chmod(path, 0600);
    assert_int_equal(crypt_load(path, &c), CRYPT_EKEYFILE);
    key_path(path, sizeof path, "missing.secret");
    assert_int_equal(crypt_load(path, &c), CRYPT_EKEYFILE);
    assert_non_null(strstr(crypt_strerror(CRYPT_EKEYFILE), "hex"));
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/cryptXXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_fresh_nonce),
        cmocka_unit_test(test_tamper_and_wrong_key),
        cmocka_unit_test(test_key_files_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
