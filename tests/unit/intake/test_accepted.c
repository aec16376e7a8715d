/* test_accepted: intake's book of what each platform sent (services/intake/accepted.c and
 * accepted_dump.c), on a real store with a real key.
 *
 * Proves: an upsert is version 1 NEW, the same content again is SAME with the version
 * unchanged, changed content is NEW version 2, and platforms' accounts are separate; the
 * stored account and complaint are sealed (the borrower's name, phone, e-mail, street,
 * id hash and the complaint text appear nowhere in the raw LMDB tables nor in the data
 * file); a payment for an unknown ref, or for another platform's ref, is REFUSED
 * INVALID_FIELD "account_ref", one in another currency INVALID_FIELD "currency"; a
 * payment or complaint ref is idempotent (same content: SAME; different content:
 * CONFLICT); payments_received counts distinct payments; a contact update replaces the
 * lists it gives (clear_phones empties them), keeps the others, makes a new version, and
 * is SAME when repeated; a recall is NEW then SAME and survives a later version;
 * accepted_note_status folds stage, days past due, outstanding, hold and closed into
 * the status reply, each field kept until a later event says otherwise; an account the
 * platform never sent is known=false; accepted_dump prints the decrypted content, one
 * well-formed JSON line per record. Every outcome other than NEW leaves the four
 * tables byte for byte as they were (checked on every call). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <ftw.h>

#include "accepted.h"

#define REPLY_CAP 4096
#define NOW_MS INT64_C(1772323200000)   /* 2026-03-01T00:00:00Z */

/* The borrower's personal data, searched for in the raw store. */
#define NAME "Wilhelmina Quarterbottom"
#define PHONE "+447700900123"
#define PHONE2 "+447700900456"
#define EMAIL "wilhelmina.q@example.org"
#define STREET "17 Larkspur Crescent"
#define COMPLAINT_TEXT "They rang me at midnight about the Larkspur loan"

typedef struct {
    char dir[256];
    store_t *store;
    crypt_t *crypt;
    accepted_t *acc;
} fixture_t;

/* ---- fixture ----------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    char key[300];
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/arrears-ut-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(key, sizeof key, "%s/intake.key", f->dir);
    store_options_t o = store_default_options();
    if (crypt_key_create(key) != CRYPT_OK || crypt_load(key, &f->crypt) != CRYPT_OK ||
        store_open(&f->store, f->dir, &o) != STORE_OK ||
        accepted_open(f->store, f->crypt, &f->acc) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    accepted_destroy(&f->acc);
    store_destroy(&f->store);
    crypt_destroy(&f->crypt);
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

/* ---- messages ---------------------------------------------------------------------- */

typedef struct {
    Arrears__AccountUpsert upsert;
    Arrears__Borrower borrower;
    Arrears__Address address;
    Arrears__ContactPoint phone_points[2], email_point;
    Arrears__ContactPoint *phones[2], *emails[1];
    Arrears__Instalment instalments[2];
    Arrears__Instalment *schedule[2];
    uint8_t id_hash[32];
} account_msg_t;

static const uint8_t ID_HASH[32] = { 0x5e, 0x11, 0xa7, 0x42, 0x9c, 0x03, 0xd8, 0x6b,
                                     0x21, 0xf0, 0x7e, 0x94, 0x3a, 0xc5, 0x18, 0x8d,
                                     0xb6, 0x2f, 0x60, 0xe3, 0x09, 0x57, 0xaa, 0x14,
                                     0xcd, 0x71, 0x3e, 0x88, 0x06, 0xfb, 0x92, 0x4d };

static void borrower_build(account_msg_t *a)
{
    a->address = (Arrears__Address)ARREARS__ADDRESS__INIT;
    a->address.line1 = STREET;
    a->address.city = "London";
    a->address.country = "GB";
    for (int i = 0; i < 2; i++) {
        a->phone_points[i] = (Arrears__ContactPoint)ARREARS__CONTACT_POINT__INIT;
        a->phone_points[i].value = i == 0 ? PHONE : "+447700900999";
        a->phone_points[i].has_verified = 1;
        a->phone_points[i].verified = 1;
        a->phones[i] = &a->phone_points[i];
    }
    a->email_point = (Arrears__ContactPoint)ARREARS__CONTACT_POINT__INIT;
    a->email_point.value = EMAIL;
    a->emails[0] = &a->email_point;
    memcpy(a->id_hash, ID_HASH, sizeof a->id_hash);
    a->borrower = (Arrears__Borrower)ARREARS__BORROWER__INIT;
    a->borrower.name = NAME;
    a->borrower.has_id_number_hash = 1;
    a->borrower.id_number_hash = (ProtobufCBinaryData){ 32, a->id_hash };
    a->borrower.n_phones = 2;
    a->borrower.phones = a->phones;
    a->borrower.n_emails = 1;
    a->borrower.emails = a->emails;
    a->borrower.address = &a->address;
    a->borrower.time_zone = "Europe/London";
    a->borrower.language = "en-GB";
}

static void account_build(account_msg_t *a, const char *ref, const char *currency)
{
    borrower_build(a);
    for (int i = 0; i < 2; i++) {
        a->instalments[i] = (Arrears__Instalment)ARREARS__INSTALMENT__INIT;
        a->instalments[i].due_date = i == 0 ? "2026-01-15" : "2026-02-15";
        a->instalments[i].has_principal_minor = 1;
        a->instalments[i].principal_minor = 50000;
        a->schedule[i] = &a->instalments[i];
    }
    a->upsert = (Arrears__AccountUpsert)ARREARS__ACCOUNT_UPSERT__INIT;
    a->upsert.account_ref = (char *)ref;
    a->upsert.has_product = 1;
    a->upsert.product = ARREARS__PRODUCT__ONLINE_LOAN;
    a->upsert.currency = (char *)currency;
    a->upsert.borrower = &a->borrower;
    a->upsert.n_schedule = 2;
    a->upsert.schedule = a->schedule;
    a->upsert.opened_date = "2025-12-01";
}

static Arrears__PaymentPosted payment_build(const char *account_ref, const char *payment_ref,
                                            int64_t amount, const char *currency)
{
    Arrears__PaymentPosted p = ARREARS__PAYMENT_POSTED__INIT;
    p.account_ref = (char *)account_ref;
    p.payment_ref = (char *)payment_ref;
    p.has_amount_minor = 1;
    p.amount_minor = amount;
    p.currency = (char *)currency;
    p.has_paid_at_ms = 1;
    p.paid_at_ms = NOW_MS - 60000;
    p.has_channel = 1;
    p.channel = ARREARS__PAYMENT_CHANNEL__CARD;
    return p;
}

static Arrears__Complaint complaint_build(const char *account_ref, const char *ref,
                                          const char *text)
{
    Arrears__Complaint c = ARREARS__COMPLAINT__INIT;
    c.account_ref = (char *)account_ref;
    c.complaint_ref = (char *)ref;
    c.has_kind = 1;
    c.kind = ARREARS__COMPLAINT_KIND__COMPLAINT;
    c.category = "contact_hours";
    c.text = (char *)text;
    c.has_received_at_ms = 1;
    c.received_at_ms = NOW_MS - 3600000;
    return c;
}

static Arrears__Recall recall_build(const char *account_ref)
{
    Arrears__Recall r = ARREARS__RECALL__INIT;
    r.account_ref = (char *)account_ref;
    r.reason = "taken back in house";
    return r;
}

/* ---- raw tables ---------------------------------------------------------------------- */

typedef struct {
    char *bytes;
    size_t len;
} snapshot_t;

typedef struct {
    accepted_t *acc;
    FILE *out;
} snap_call_t;

static int snap_table(MDB_txn *txn, MDB_dbi dbi, FILE *out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    MDB_val k, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        fwrite(&k.mv_size, sizeof k.mv_size, 1, out);
        fwrite(k.mv_data, 1, k.mv_size, out);
        fwrite(&v.mv_size, sizeof v.mv_size, 1, out);
        fwrite(v.mv_data, 1, v.mv_size, out);
    }
    mdb_cursor_close(cur);
    fputc('|', out);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int snap_work(MDB_txn *txn, void *arg)
{
    snap_call_t *c = arg;
    accepted_tables_t t = accepted_tables(c->acc);
    int rc = snap_table(txn, t.accounts, c->out);
    rc = rc ? rc : snap_table(txn, t.payments, c->out);
    rc = rc ? rc : snap_table(txn, t.complaints, c->out);
    return rc ? rc : snap_table(txn, t.status, c->out);
}

/* Every key and value of the four tables, byte for byte. */
static snapshot_t snapshot(fixture_t *f)
{
    snapshot_t s = { NULL, 0 };
    snap_call_t c = { f->acc, open_memstream(&s.bytes, &s.len) };
    assert_non_null(c.out);
    assert_int_equal(store_read(f->store, snap_work, &c), 0);
    assert_int_equal(fclose(c.out), 0);
    return s;
}

static void assert_snapshot_equal(const snapshot_t *a, const snapshot_t *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->bytes, b->bytes, a->len);
}

typedef struct {
    const char *table;
    const void *needle;
    size_t needle_len;
    size_t records, hits;
} search_call_t;

/* Opens the table by name, as a stranger with the data file would. */
static int search_work(MDB_txn *txn, void *arg)
{
    search_call_t *c = arg;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_dbi_open(txn, c->table, 0, &dbi);
    rc = rc ? rc : mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        c->records++;
        c->hits += memmem(k.mv_data, k.mv_size, c->needle, c->needle_len) != NULL;
        c->hits += memmem(v.mv_data, v.mv_size, c->needle, c->needle_len) != NULL;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* How many keys and values of the table hold needle; *records: how many records. */
static size_t raw_hits(fixture_t *f, const char *table, const void *needle, size_t len,
                       size_t *records)
{
    search_call_t c = { table, needle, len, 0, 0 };
    assert_int_equal(store_read(f->store, search_work, &c), 0);
    if (records)
        *records = c.records;
    return c.hits;
}

static int file_holds(const char *path, const void *needle, size_t len)
{
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    char *data = NULL;
    size_t size = 0, n;
    FILE *copy = open_memstream(&data, &size);
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
        fwrite(chunk, 1, n, copy);
    fclose(in);
    assert_int_equal(fclose(copy), 0);
    int found = memmem(data, size, needle, len) != NULL;
    free(data);
    return found;
}

/* ---- calls ------------------------------------------------------------------------- */

typedef enum { OP_UPSERT, OP_PAYMENT, OP_CONTACT, OP_COMPLAINT, OP_RECALL } op_t;

typedef struct {
    accepted_t *acc;
    op_t op;
    const char *platform;
    const void *msg;
    uint64_t version;
    accepted_outcome_t outcome;
    reject_t reject;
} call_t;

static int call_work(MDB_txn *txn, void *arg)
{
    call_t *c = arg;
    c->version = 0;
    c->outcome = (accepted_outcome_t)-1;
    memset(&c->reject, 0, sizeof c->reject);
    switch (c->op) {
    case OP_UPSERT:
        return accepted_upsert(c->acc, txn, c->platform, c->msg, 0, &c->version, &c->outcome,
                               &c->reject);
    case OP_PAYMENT:
        return accepted_payment(c->acc, txn, c->platform, c->msg, &c->outcome, &c->reject);
    case OP_CONTACT:
        return accepted_contact(c->acc, txn, c->platform, c->msg, &c->version, &c->outcome, &c->reject);
    case OP_COMPLAINT:
        return accepted_complaint(c->acc, txn, c->platform, c->msg, &c->outcome, &c->reject);
    case OP_RECALL:
        return accepted_recall(c->acc, txn, c->platform, c->msg, &c->outcome, &c->reject);
    }
    return EINVAL;
}

/* Runs one call in its own committed write; any outcome but NEW must change nothing. */
static call_t run(fixture_t *f, op_t op, const char *platform, const void *msg)
{
    call_t c = { .acc = f->acc, .op = op, .platform = platform, .msg = msg };
    snapshot_t before = snapshot(f);
    assert_int_equal(store_write(f->store, call_work, &c), 0);
    snapshot_t after = snapshot(f);
    if (c.outcome != ACCEPTED_NEW)
        assert_snapshot_equal(&before, &after);
    else
        assert_true(before.len != after.len || memcmp(before.bytes, after.bytes, before.len) != 0);
    free(before.bytes);
    free(after.bytes);
    return c;
}

static void expect_new(fixture_t *f, op_t op, const char *platform, const void *msg,
                       uint64_t version)
{
    call_t c = run(f, op, platform, msg);
    assert_int_equal(c.outcome, ACCEPTED_NEW);
    assert_int_equal(c.version, version);
}

static void expect_same(fixture_t *f, op_t op, const char *platform, const void *msg,
                        uint64_t version)
{
    call_t c = run(f, op, platform, msg);
    assert_int_equal(c.outcome, ACCEPTED_SAME);
    assert_int_equal(c.version, version);
}

static void expect_refused(fixture_t *f, op_t op, const char *platform, const void *msg,
                           Arrears__Reject__Code code, const char *field)
{
    call_t c = run(f, op, platform, msg);
    assert_int_equal(c.outcome, ACCEPTED_REFUSED);
    assert_int_equal(c.reject.klass, ARREARS__REJECT__CLASS__PERMANENT);
    assert_int_equal(c.reject.code, code);
    assert_string_equal(c.reject.field, field);
    assert_true(c.reject.reason[0] != 0);
}

/* ---- status replies and dumps ------------------------------------------------------ */

typedef struct {
    accepted_t *acc;
    const char *platform, *ref;
    uint64_t request_id;
    uint8_t buf[REPLY_CAP];
    size_t len;
    int error;
} status_call_t;

static int status_work(MDB_txn *txn, void *arg)
{
    status_call_t *c = arg;
    c->len = accepted_status_reply(c->acc, txn, c->platform, c->ref, c->request_id, c->buf,
                                   sizeof c->buf, &c->error);
    return 0;
}

/* The decoded AccountStatus reply (free the envelope it hangs from with status_free). */
static Arrears__AccountStatus *status_of(fixture_t *f, const char *platform, const char *ref)
{
    status_call_t c = { .acc = f->acc, .platform = platform, .ref = ref, .request_id = 31337,
                         .error = -1 };
    assert_int_equal(store_read(f->store, status_work, &c), 0);
    assert_int_equal(c.error, 0);
    assert_true(c.len > 0);
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, c.len, c.buf);
    assert_non_null(env);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS);
    assert_true(env->has_request_id);
    assert_int_equal(env->request_id, 31337);
    Arrears__AccountStatus *s = env->account_status;
    assert_non_null(s);
    assert_string_equal(s->account_ref, ref);
    assert_true(s->has_known);
    env->account_status = NULL;   /* detached: the envelope goes, the status stays */
    env->body_case = ARREARS__ENVELOPE__BODY__NOT_SET;
    arrears__envelope__free_unpacked(env, NULL);
    return s;
}

static void status_free(Arrears__AccountStatus *s)
{
    arrears__account_status__free_unpacked(s, NULL);
}

static uint64_t payments_received(fixture_t *f, const char *platform, const char *ref)
{
    Arrears__AccountStatus *s = status_of(f, platform, ref);
    uint64_t n = s->has_payments_received ? s->payments_received : 0;
    status_free(s);
    return n;
}

static uint64_t version_of(fixture_t *f, const char *platform, const char *ref)
{
    Arrears__AccountStatus *s = status_of(f, platform, ref);
    assert_true(s->known);
    assert_true(s->has_version);
    uint64_t v = s->version;
    status_free(s);
    return v;
}

typedef struct {
    accepted_t *acc;
    FILE *out;
} dump_call_t;

static int dump_work(MDB_txn *txn, void *arg)
{
    dump_call_t *c = arg;
    return accepted_dump(c->acc, txn, c->out);
}

static char *dump(fixture_t *f)
{
    char *text = NULL;
    size_t len = 0;
    dump_call_t c = { f->acc, open_memstream(&text, &len) };
    assert_non_null(c.out);
    assert_int_equal(store_read(f->store, dump_work, &c), 0);
    assert_int_equal(fclose(c.out), 0);
    return text;
}

/* The dump line of one record ("account", "payment", ...), malloc'd; NULL if none. */
static char *dump_line(fixture_t *f, const char *kind, const char *platform, const char *ref)
{
    char head[256], *text = dump(f), *line = NULL;
    snprintf(head, sizeof head, "{\"%s\":{\"platform\":\"%s\",\"ref\":\"%s\"", kind, platform, ref);
    char *at = strstr(text, head);
    if (at)
        line = strndup(at, strcspn(at, "\n"));
    free(text);
    return line;
}

/* ---- a small JSON syntax check for the dump lines ------------------------------------ */

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (; *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
    }
    return p + 1;
}

static const char *json_number(const char *p)
{
    if (*p == '-')
        p++;
    const char *start = p;
    while (isdigit((unsigned char)*p))
        p++;
    if (p == start || (*start == '0' && p - start > 1))
        return NULL;
    return p;   /* the dumps hold integers only */
}

/* Members (object) or elements (array) up to the closing bracket. */
static const char *json_items(const char *p, char close, int object, int depth)
{
    p = json_ws(p);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (object) {
            p = json_string(json_ws(p));
            if (!p || *(p = json_ws(p)) != ':')
                return NULL;
            p++;
        }
        p = json_value(p, depth + 1);
        if (!p)
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p, int depth)
{
    p = json_ws(p);
    if (depth > 40)
        return NULL;
    if (*p == '{')
        return json_items(p + 1, '}', 1, depth);
    if (*p == '[')
        return json_items(p + 1, ']', 0, depth);
    if (*p == '"')
        return json_string(p);
    static const char *const literals[] = { "true", "false", "null" };
    for (size_t i = 0; i < 3; i++)
        if (strncmp(p, literals[i], strlen(literals[i])) == 0)
            return p + strlen(literals[i]);
    return json_number(p);
}

/* The line is exactly one JSON object. */
static void assert_json_line(const char *line, size_t len)
{
    char *copy = strndup(line, len);
    const char *end = json_value(copy, 0);
    if (!end || *json_ws(end) != 0 || copy[0] != '{')
        fail_msg("not one JSON object: %s", copy);
    free(copy);
}

/* ---- upserts ------------------------------------------------------------------------ */

static void test_upsert_versions(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    expect_same(f, OP_UPSERT, "p1", &a.upsert, 1);

    account_msg_t copy;   /* equal content built afresh: still the same */
    account_build(&copy, "ACC-1", "GBP");
    expect_same(f, OP_UPSERT, "p1", &copy.upsert, 1);

    a.instalments[1].principal_minor = 45000;
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 2);
    expect_same(f, OP_UPSERT, "p1", &a.upsert, 2);
    expect_new(f, OP_UPSERT, "p1", &copy.upsert, 3);   /* back to v1's content: a new version */
    assert_int_equal(version_of(f, "p1", "ACC-1"), 3);
}

static void test_upsert_platforms_separate(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    a.borrower.language = "cy-GB";
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 2);
    expect_new(f, OP_UPSERT, "p2", &a.upsert, 1);   /* p2's ACC-1 is another account */
    expect_new(f, OP_UPSERT, "p1x", &a.upsert, 1);
    assert_int_equal(version_of(f, "p1", "ACC-1"), 2);
    assert_int_equal(version_of(f, "p2", "ACC-1"), 1);
}

/* ---- sealed at rest ------------------------------------------------------------------- */

static void assert_nowhere(fixture_t *f, const char *table, const void *needle, size_t len)
{
    char path[300];
    assert_int_equal(raw_hits(f, table, needle, len, NULL), 0);
    snprintf(path, sizeof path, "%s/data.mdb", f->dir);
    assert_false(file_holds(path, needle, len));
}

static void test_sealed_at_rest(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    Arrears__Complaint c = complaint_build("ACC-1", "CMP-1", COMPLAINT_TEXT);
    expect_new(f, OP_COMPLAINT, "p1", &c, 0);

    size_t records = 0;
    assert_int_equal(raw_hits(f, "accounts", "ACC-1", 5, &records), 1);   /* the key: found */
    assert_int_equal(records, 1);
    assert_int_equal(raw_hits(f, "complaints", "CMP-1", 5, &records), 1);
    assert_int_equal(records, 1);
    assert_nowhere(f, "accounts", NAME, strlen(NAME));
    assert_nowhere(f, "accounts", "Quarterbottom", strlen("Quarterbottom"));
    assert_nowhere(f, "accounts", PHONE, strlen(PHONE));
    assert_nowhere(f, "accounts", EMAIL, strlen(EMAIL));
    assert_nowhere(f, "accounts", STREET, strlen(STREET));
    assert_nowhere(f, "accounts", ID_HASH, sizeof ID_HASH);
    assert_nowhere(f, "complaints", COMPLAINT_TEXT, strlen(COMPLAINT_TEXT));

    /* ... yet the key opens it: the dump shows the content. */
    char *line = dump_line(f, "account", "p1", "ACC-1");
    assert_non_null(line);
    assert_non_null(strstr(line, NAME));
    assert_non_null(strstr(line, PHONE));
    free(line);
    line = dump_line(f, "complaint", "p1", "CMP-1");
    assert_non_null(line);
    assert_non_null(strstr(line, COMPLAINT_TEXT));
    free(line);
}

/* ---- payments ---------------------------------------------------------------------------- */

static void test_payment_unknown_account(void **state)
{
    fixture_t *f = *state;
    Arrears__PaymentPosted p = payment_build("NO-SUCH", "PAY-1", 100, "GBP");
    expect_refused(f, OP_PAYMENT, "p1", &p, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
}

static void test_payment_other_platforms_ref(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1", 100, "GBP");
    expect_refused(f, OP_PAYMENT, "p2", &p, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
    assert_int_equal(payments_received(f, "p1", "ACC-1"), 0);
    Arrears__AccountStatus *s = status_of(f, "p2", "ACC-1");
    assert_false(s->known);
    status_free(s);
    expect_new(f, OP_PAYMENT, "p1", &p, 0);   /* the ref was not burnt for p1 */
}

static void test_payment_currency(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1", 100, "EUR");
    expect_refused(f, OP_PAYMENT, "p1", &p, ARREARS__REJECT__CODE__INVALID_FIELD, "currency");
    p.currency = "GBP";
    expect_new(f, OP_PAYMENT, "p1", &p, 0);
}

static void test_payment_idempotent_by_ref(void **state)
{
    fixture_t *f = *state;
    account_msg_t a, b;
    account_build(&a, "ACC-1", "GBP");
    account_build(&b, "ACC-2", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    expect_new(f, OP_UPSERT, "p1", &b.upsert, 1);
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1", 2500, "GBP");
    expect_new(f, OP_PAYMENT, "p1", &p, 0);
    assert_int_equal(payments_received(f, "p1", "ACC-1"), 1);
    Arrears__PaymentPosted again = payment_build("ACC-1", "PAY-1", 2500, "GBP");
    expect_same(f, OP_PAYMENT, "p1", &again, 0);
    again.amount_minor = 2600;
    expect_refused(f, OP_PAYMENT, "p1", &again, ARREARS__REJECT__CODE__CONFLICT, "");
    Arrears__PaymentPosted elsewhere = payment_build("ACC-2", "PAY-1", 2500, "GBP");
    expect_refused(f, OP_PAYMENT, "p1", &elsewhere, ARREARS__REJECT__CODE__CONFLICT, "");
    assert_int_equal(payments_received(f, "p1", "ACC-1"), 1);

    Arrears__PaymentPosted second = payment_build("ACC-1", "PAY-2", 2500, "GBP");
    expect_new(f, OP_PAYMENT, "p1", &second, 0);
    expect_same(f, OP_PAYMENT, "p1", &second, 0);
    assert_int_equal(payments_received(f, "p1", "ACC-1"), 2);
    assert_int_equal(payments_received(f, "p1", "ACC-2"), 0);
}

/* ---- contact updates ----------------------------------------------------------------- */

static Arrears__ContactUpdate contact_phones(const char *ref, Arrears__ContactPoint **phones,
                                            size_t n)
{
    Arrears__ContactUpdate u = ARREARS__CONTACT_UPDATE__INIT;
    u.account_ref = (char *)ref;
    u.n_phones = n;
    u.phones = phones;
    return u;
}

static void assert_account_line(fixture_t *f, const char *has, const char *lacks)
{
    char *line = dump_line(f, "account", "p1", "ACC-1");
    assert_non_null(line);
    if (has && !strstr(line, has))
        fail_msg("expected %s in %s", has, line);
    if (lacks && strstr(line, lacks))
        fail_msg("did not expect %s in %s", lacks, line);
    free(line);
}

static void test_contact_update(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);

    Arrears__ContactPoint point = ARREARS__CONTACT_POINT__INIT, *list[1] = { &point };
    point.value = PHONE2;
    point.has_verified = point.verified = 1;
    Arrears__ContactUpdate u = contact_phones("ACC-1", list, 1);
    expect_new(f, OP_CONTACT, "p1", &u, 2);
    assert_account_line(f, PHONE2, PHONE);
    assert_account_line(f, EMAIL, "+447700900999");   /* e-mails kept, the 2nd phone gone */
    expect_same(f, OP_CONTACT, "p1", &u, 2);
    assert_int_equal(version_of(f, "p1", "ACC-1"), 2);

    Arrears__ContactUpdate clear = contact_phones("ACC-1", NULL, 0);
    clear.has_clear_phones = clear.clear_phones = 1;
    expect_new(f, OP_CONTACT, "p1", &clear, 3);
    assert_account_line(f, EMAIL, "\"phones\"");
    expect_same(f, OP_CONTACT, "p1", &clear, 3);

    Arrears__ContactUpdate nothing = contact_phones("ACC-1", NULL, 0);   /* absent: kept */
    expect_same(f, OP_CONTACT, "p1", &nothing, 3);
    assert_int_equal(version_of(f, "p1", "ACC-1"), 3);
}

static void test_contact_emails_and_address(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    Arrears__Address addr = ARREARS__ADDRESS__INIT;
    addr.line1 = "2 Quay Street";
    addr.country = "GB";
    Arrears__ContactUpdate u = contact_phones("ACC-1", NULL, 0);
    u.address = &addr;
    u.has_clear_emails = u.clear_emails = 1;
    expect_new(f, OP_CONTACT, "p1", &u, 2);
    assert_account_line(f, "2 Quay Street", STREET);
    assert_account_line(f, PHONE, EMAIL);   /* phones kept, e-mails cleared */
    expect_same(f, OP_CONTACT, "p1", &u, 2);

    Arrears__ContactUpdate other = contact_phones("ACC-1", NULL, 0);
    expect_refused(f, OP_CONTACT, "p2", &other, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
}

/* ---- complaints and recalls ------------------------------------------------------------ */

static void test_complaint_idempotent_by_ref(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    Arrears__Complaint c = complaint_build("ACC-1", "CMP-1", COMPLAINT_TEXT);
    expect_refused(f, OP_COMPLAINT, "p1", &c, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    expect_new(f, OP_COMPLAINT, "p1", &c, 0);
    expect_same(f, OP_COMPLAINT, "p1", &c, 0);
    Arrears__Complaint changed = complaint_build("ACC-1", "CMP-1", "something else");
    expect_refused(f, OP_COMPLAINT, "p1", &changed, ARREARS__REJECT__CODE__CONFLICT, "");
    changed.complaint_ref = "CMP-2";
    expect_new(f, OP_COMPLAINT, "p1", &changed, 0);
    assert_int_equal(version_of(f, "p1", "ACC-1"), 1);   /* complaints make no version */
}

static void test_recall(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    Arrears__Recall r = recall_build("ACC-1");
    expect_refused(f, OP_RECALL, "p1", &r, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    assert_account_line(f, "\"recalled\":false", NULL);
    expect_new(f, OP_RECALL, "p1", &r, 0);
    expect_same(f, OP_RECALL, "p1", &r, 0);
    assert_account_line(f, "\"recalled\":true", NULL);
    assert_int_equal(version_of(f, "p1", "ACC-1"), 1);
    expect_refused(f, OP_RECALL, "p2", &r, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");

    a.borrower.language = "cy-GB";   /* a later version does not undo the recall */
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 2);
    assert_account_line(f, "\"recalled\":true", NULL);
    expect_same(f, OP_RECALL, "p1", &r, 0);
}

/* ---- status -------------------------------------------------------------------------- */

typedef struct {
    accepted_t *acc;
    const Arrears__StatusEvent *m;
} note_call_t;

static int note_work(MDB_txn *txn, void *arg)
{
    note_call_t *c = arg;
    return accepted_note_status(c->acc, txn, c->m);
}

static void note(fixture_t *f, const Arrears__StatusEvent *m)
{
    note_call_t c = { f->acc, m };
    assert_int_equal(store_write(f->store, note_work, &c), 0);
}

static void test_note_status(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1", 100, "GBP");
    expect_new(f, OP_PAYMENT, "p1", &p, 0);

    Arrears__FeedEvent e = ARREARS__FEED_EVENT__INIT;
    e.account_ref = "ACC-1";
    e.has_kind = 1;
    e.kind = ARREARS__FEED_EVENT_KIND__STAGE_CHANGED;
    e.has_at_ms = 1;
    e.at_ms = NOW_MS + 1000;
    e.stage = "early";
    e.has_days_past_due = 1;
    e.days_past_due = 5;
    e.has_outstanding_minor = 1;
    e.outstanding_minor = 99900;
    e.currency = "GBP";
    Arrears__StatusEvent m = ARREARS__STATUS_EVENT__INIT;
    m.platform = "p1";
    m.event = &e;
    m.has_contact_on_hold = m.contact_on_hold = 1;
    note(f, &m);

    Arrears__AccountStatus *s = status_of(f, "p1", "ACC-1");
    assert_true(s->known);
    assert_int_equal(s->version, 1);
    assert_string_equal(s->stage, "early");
    assert_true(s->has_days_past_due);
    assert_int_equal(s->days_past_due, 5);
    assert_true(s->has_outstanding_minor);
    assert_int_equal(s->outstanding_minor, 99900);
    assert_string_equal(s->currency, "GBP");
    assert_true(s->has_contact_on_hold && s->contact_on_hold);
    assert_false(s->closed);
    assert_int_equal(s->updated_at_ms, NOW_MS + 1000);
    assert_int_equal(s->payments_received, 1);   /* kept through the fold */
    status_free(s);

    /* Closed: only what the event says changes. */
    Arrears__FeedEvent closed = ARREARS__FEED_EVENT__INIT;
    closed.account_ref = "ACC-1";
    closed.has_kind = 1;
    closed.kind = ARREARS__FEED_EVENT_KIND__CLOSED;
    closed.has_at_ms = 1;
    closed.at_ms = NOW_MS + 2000;
    closed.stage = "paid";
    closed.has_outstanding_minor = 1;
    closed.outstanding_minor = 0;
    Arrears__StatusEvent m2 = ARREARS__STATUS_EVENT__INIT;
    m2.platform = "p1";
    m2.event = &closed;
    m2.has_closed = m2.closed = 1;
    note(f, &m2);

    s = status_of(f, "p1", "ACC-1");
    assert_string_equal(s->stage, "paid");
    assert_int_equal(s->days_past_due, 5);
    assert_true(s->has_outstanding_minor);
    assert_int_equal(s->outstanding_minor, 0);
    assert_string_equal(s->currency, "GBP");
    assert_true(s->contact_on_hold);
    assert_true(s->has_closed && s->closed);
    assert_int_equal(s->updated_at_ms, NOW_MS + 2000);
    status_free(s);

    /* Released; and a payment counted afterwards keeps the status. */
    Arrears__FeedEvent hold = ARREARS__FEED_EVENT__INIT;
    hold.account_ref = "ACC-1";
    hold.has_kind = 1;
    hold.kind = ARREARS__FEED_EVENT_KIND__HOLD_CHANGED;
    hold.has_at_ms = 1;
    hold.at_ms = NOW_MS + 3000;
    Arrears__StatusEvent m3 = ARREARS__STATUS_EVENT__INIT;
    m3.platform = "p1";
    m3.event = &hold;
    m3.has_contact_on_hold = 1;
    m3.contact_on_hold = 0;
    note(f, &m3);
    Arrears__PaymentPosted p2 = payment_build("ACC-1", "PAY-2", 100, "GBP");
    expect_new(f, OP_PAYMENT, "p1", &p2, 0);

    s = status_of(f, "p1", "ACC-1");
    assert_string_equal(s->stage, "paid");
    assert_true(s->has_contact_on_hold);
    assert_false(s->contact_on_hold);
    assert_true(s->closed);
    assert_int_equal(s->payments_received, 2);
    assert_int_equal(s->updated_at_ms, NOW_MS + 3000);
    status_free(s);

    s = status_of(f, "p2", "ACC-1");   /* nothing of p1's leaks to p2 */
    assert_false(s->known);
    assert_null(s->stage);
    assert_false(s->has_payments_received);
    status_free(s);
}

static void test_status_unknown_account(void **state)
{
    fixture_t *f = *state;
    Arrears__AccountStatus *s = status_of(f, "p1", "NEVER-SENT");
    assert_false(s->known);
    assert_false(s->has_version);
    assert_null(s->stage);
    assert_false(s->closed);
    status_free(s);

    account_msg_t a;
    account_build(&a, "ACC-1", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    s = status_of(f, "p1", "ACC-1");   /* known, nothing reported yet */
    assert_true(s->known);
    assert_int_equal(s->version, 1);
    assert_null(s->stage);
    status_free(s);
}

/* ---- dump ------------------------------------------------------------------------------ */

static void test_dump(void **state)
{
    fixture_t *f = *state;
    account_msg_t a, b;
    account_build(&a, "ACC-1", "GBP");
    account_build(&b, "ACC-2", "GBP");
    expect_new(f, OP_UPSERT, "p1", &a.upsert, 1);
    expect_new(f, OP_UPSERT, "p2", &b.upsert, 1);
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1", 100, "GBP");
    expect_new(f, OP_PAYMENT, "p1", &p, 0);
    Arrears__Complaint c = complaint_build("ACC-1", "CMP-1", "line one\nline \"two\"");
    expect_new(f, OP_COMPLAINT, "p1", &c, 0);

    char *text = dump(f);
    const char *prefixes[] = { "{\"account\":{\"platform\":\"p1\",\"ref\":\"ACC-1\",\"version\":1,",
                               "{\"account\":{\"platform\":\"p2\",\"ref\":\"ACC-2\",\"version\":1,",
                               "{\"payment\":{\"platform\":\"p1\",\"ref\":\"PAY-1\",",
                               "{\"complaint\":{\"platform\":\"p1\",\"ref\":\"CMP-1\",",
                               "{\"status\":{\"platform\":\"p1\",\"ref\":\"ACC-1\"," };
    size_t lines = 0;
    for (const char *line = text; *line; lines++) {
        size_t len = strcspn(line, "\n");
        assert_int_equal(line[len], '\n');
        assert_true(lines < 5);
        assert_memory_equal(line, prefixes[lines], strlen(prefixes[lines]));
        assert_json_line(line, len);
        line += len + 1;
    }
    assert_int_equal(lines, 5);
    assert_non_null(strstr(text, NAME));
    assert_non_null(strstr(text, "line one\\u000aline \\\"two\\\""));
    assert_null(strstr(text, "updated_at_ms"));
    free(text);
}

static void test_dump_empty(void **state)
{
    fixture_t *f = *state;
    char *text = dump(f);
    assert_string_equal(text, "");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upsert_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_platforms_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_at_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_unknown_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_other_platforms_ref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_currency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_idempotent_by_ref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_emails_and_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complaint_idempotent_by_ref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_unknown_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_empty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
