/* deadletters: see deadletters.h. */
#include "deadletters.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define TABLE_NAME_MAX (OUTBOX_NAME_MAX + 8)
#define AUDIT_LINE_MAX 640
#define NAMES_TEXT_MAX (DEADLETTERS_OUTBOXES_MAX * (OUTBOX_NAME_MAX + 2) + 1)

struct deadletters {
    size_t count;
    outbox_t *outbox[DEADLETTERS_OUTBOXES_MAX];
    MDB_dbi dead[DEADLETTERS_OUTBOXES_MAX];
    MDB_dbi audit;
    const crypt_t *crypt;
};

/* A NAME.dead value as outbox.h lays it out. */
typedef struct {
    uint8_t klass, code;
    const char *reason;
    const uint8_t *stored;
    size_t stored_len;
} record_t;

/* ---------------------------------------------------------------- opening */

/* The outboxes opened their dead tables already: LMDB hands back the same handles,
 * so reading them here adds no table to the store's count. */
static int resolve_tables(MDB_txn *txn, void *arg)
{
    deadletters_t *self = arg;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->count; i++) {
        char name[TABLE_NAME_MAX];
        snprintf(name, sizeof name, "%s.dead", outbox_name(self->outbox[i]));
        rc = mdb_dbi_open(txn, name, 0, &self->dead[i]);
    }
    return rc;
}

int deadletters_new(store_t *store, outbox_t *const *outboxes, size_t count,
                    const crypt_t *crypt, deadletters_t **self_p)
{
    assert(store && self_p && (outboxes || count == 0));
    assert(count <= DEADLETTERS_OUTBOXES_MAX);
    *self_p = NULL;
    deadletters_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    self->count = count;
    self->crypt = crypt;
    for (size_t i = 0; i < count; i++)
        self->outbox[i] = outboxes[i];
    int rc = store_table(store, DEADLETTERS_AUDIT_TABLE, 0, &self->audit);
    rc = rc ? rc : store_read(store, resolve_tables, self);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return DEADLETTERS_OK;
}

void deadletters_destroy(deadletters_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

size_t deadletters_outbox_count(const deadletters_t *self) { return self->count; }

const char *deadletters_outbox_name(const deadletters_t *self, size_t i)
{
    assert(i < self->count);
    return outbox_name(self->outbox[i]);
}

int deadletters_outbox_index(const deadletters_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->count; i++)
        if (strcmp(outbox_name(self->outbox[i]), name) == 0)
            return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- reading */

static int parse_record(const MDB_val *v, record_t *r)
{
    const uint8_t *p = v->mv_data;
    const uint8_t *nul = v->mv_size >= 3 ? memchr(p + 2, 0, v->mv_size - 2) : NULL;
    if (!nul)
        return MDB_CORRUPTED;
    r->klass = p[0];
    r->code = p[1];
    r->reason = (const char *)p + 2;
    r->stored = nul + 1;
    r->stored_len = v->mv_size - (size_t)(r->stored - p);
    return 0;
}

/* The stored bytes as the packed Envelope, in *out (malloc'd): opened when the outbox
 * seals (a clear message never authenticates, so trying is safe), else as stored. */
static int open_stored(const deadletters_t *self, const record_t *r, uint8_t **out,
                       size_t *len)
{
    *out = malloc(r->stored_len ? r->stored_len : 1);
    if (!*out)
        return ENOMEM;
    if (self->crypt && r->stored_len > CRYPT_OVERHEAD_BYTES &&
        crypt_open(self->crypt, r->stored, r->stored_len, *out, r->stored_len, len) == CRYPT_OK)
        return 0;
    memcpy(*out, r->stored, r->stored_len);
    *len = r->stored_len;
    return 0;
}

static const char *body_type(const Arrears__Envelope *env)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&arrears__envelope__descriptor, env->body_case);
    return f ? f->name : "";
}

/* Fills d from the record; the opened bytes go to *opened when asked for (else freed),
 * the decoded Envelope to *env when asked for (else freed). Unreadable is no error. */
static int describe(const deadletters_t *self, int ob, uint64_t seq, const MDB_val *v,
                    deadletter_t *d, uint8_t **opened, size_t *opened_len,
                    Arrears__Envelope **env_out)
{
    record_t r;
    int rc = parse_record(v, &r);
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = rc ? rc : open_stored(self, &r, &bytes, &len);
    if (rc != 0)
        return rc;
    *d = (deadletter_t){ .outbox = outbox_name(self->outbox[ob]), .seq = seq,
                         .klass = (Arrears__Reject__Class)r.klass,
                         .code = (Arrears__Reject__Code)r.code, .reason = r.reason,
                         .body_type = "" };
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, len, bytes);
    d->unreadable = !env || env->body_case == ARREARS__ENVELOPE__BODY__NOT_SET;
    if (!d->unreadable) {
        d->body_type = body_type(env);
        d->size_bytes = len;
        d->has_sent_at = env->has_sent_at_ms;
        d->sent_at_ms = env->sent_at_ms;
    }
    if (env_out && !d->unreadable)
        *env_out = env;
    else if (env)
        arrears__envelope__free_unpacked(env, NULL);
    if (opened && !d->unreadable) {
        *opened = bytes;
        *opened_len = len;
    } else {
        free(bytes);
    }
    return 0;
}

static int get_record(const deadletters_t *self, MDB_txn *txn, int ob, uint64_t seq,
                      uint8_t key[8], MDB_val *v)
{
    assert(ob >= 0 && (size_t)ob < self->count);
    store_put_u64(key, seq);
    MDB_val k = { 8, key };
    int rc = mdb_get(txn, self->dead[ob], &k, v);
    return rc == MDB_NOTFOUND ? DEADLETTERS_ESEQ : rc;
}

/* One outbox's dead letters from seq `from` on. */
static int each_in(deadletters_t *self, MDB_txn *txn, int ob, uint64_t from,
                   deadletters_visit_fn *visit, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->dead[ob], &cur);
    if (rc != 0)
        return rc;
    uint8_t key[8];
    store_put_u64(key, from);
    MDB_val k = { 8, key }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        deadletter_t d;
        rc = k.mv_size == 8 ? describe(self, ob, store_get_u64(k.mv_data), &v, &d, NULL, NULL,
                                       NULL)
                            : MDB_CORRUPTED;
        rc = rc ? rc : visit(&d, arg);
        rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int deadletters_each(deadletters_t *self, MDB_txn *txn, int only, int after_outbox,
                     uint64_t after_seq, deadletters_visit_fn *visit, void *arg)
{
    assert(self && txn && visit);
    int rc = 0;
    for (int ob = after_outbox > 0 ? after_outbox : 0; rc == 0 && (size_t)ob < self->count; ob++) {
        if (only >= 0 && ob != only)
            continue;
        bool resume = ob == after_outbox;
        if (resume && after_seq == UINT64_MAX)
            continue;   /* nothing can follow the last seq */
        rc = each_in(self, txn, ob, resume ? after_seq + 1 : 1, visit, arg);
    }
    return rc == STORE_STOP ? 0 : rc;
}

int deadletters_count(deadletters_t *self, MDB_txn *txn, int only, uint64_t *count)
{
    *count = 0;
    for (size_t ob = 0; ob < self->count; ob++) {
        MDB_stat st;
        if (only >= 0 && (int)ob != only)
            continue;
        int rc = mdb_stat(txn, self->dead[ob], &st);
        if (rc != 0)
            return rc;
        *count += st.ms_entries;
    }
    return 0;
}

int deadletters_read(deadletters_t *self, MDB_txn *txn, int outbox, uint64_t seq,
                     deadletter_t *letter, uint8_t **envelope, size_t *envelope_len)
{
    uint8_t key[8];
    MDB_val v;
    *envelope = NULL;
    *envelope_len = 0;
    int rc = get_record(self, txn, outbox, seq, key, &v);
    return rc ? rc : describe(self, outbox, seq, &v, letter, envelope, envelope_len, NULL);
}

/* ---------------------------------------------------------------- acting */

/* The audit table keeps the last DEADLETTERS_AUDIT_MAX lines under rising numbers. */
static int audit(deadletters_t *self, MDB_txn *txn, const char *line)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->audit, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    uint64_t last = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8)
        last = store_get_u64(k.mv_data);
    MDB_stat st;
    rc = rc == 0 || rc == MDB_NOTFOUND ? mdb_stat(txn, self->audit, &st) : rc;
    if (rc == 0 && st.ms_entries >= DEADLETTERS_AUDIT_MAX) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        rc = rc ? rc : mdb_cursor_del(cur, 0);
    }
    mdb_cursor_close(cur);
    uint8_t key[8];
    store_put_u64(key, last + 1);
    k = (MDB_val){ 8, key };
    v = (MDB_val){ strlen(line), (void *)line };
    return rc ? rc : mdb_put(txn, self->audit, &k, &v, 0);
}

/* Logs the event and stores its line (with at_ms) in the audit table. */
static int record(deadletters_t *self, MDB_txn *txn, const char *event, int ob, uint64_t seq,
                  const uint64_t *new_seq, int64_t now_ms, const char *by, const char *reason)
{
    char qby[INBOX_PRINCIPAL_MAX + 8], qreason[DEADLETTERS_ACTION_REASON_MAX * 4 + 8];
    char fields[AUDIT_LINE_MAX], line[AUDIT_LINE_MAX + 64], renew[32] = "";
    if (new_seq)
        snprintf(renew, sizeof renew, " new_seq=%llu", (unsigned long long)*new_seq);
    snprintf(fields, sizeof fields, "outbox=%s seq=%llu%s by=%s reason=%s",
             outbox_name(self->outbox[ob]), (unsigned long long)seq, renew,
             log_quote(by, qby, sizeof qby), log_quote(reason, qreason, sizeof qreason));
    snprintf(line, sizeof line, "at_ms=%lld event=%s %s", (long long)now_ms, event, fields);
    int rc = audit(self, txn, line);
    if (rc == 0)   /* a batch replayed after a map growth may log it twice: the table counts */
        log_event(LOG_INFO, event, "%s", fields);
    return rc;
}

int deadletters_replay(deadletters_t *self, MDB_txn *txn, int outbox, uint64_t seq,
                       int64_t now_ms, const char *by, const char *reason, uint64_t *new_seq)
{
    uint8_t key[8];
    MDB_val v;
    deadletter_t d;
    Arrears__Envelope *env = NULL;
    int rc = get_record(self, txn, outbox, seq, key, &v);
    rc = rc ? rc : describe(self, outbox, seq, &v, &d, NULL, NULL, &env);
    if (rc == 0 && d.unreadable)
        rc = DEADLETTERS_EUNREADABLE;
    uint64_t room = 0;
    rc = rc ? rc : outbox_room(self->outbox[outbox], txn, &room);
    if (rc == 0 && room == 0)
        rc = OUTBOX_EFULL;
    /* Decided: the append is the first write, and it fails without writing. */
    rc = rc ? rc : outbox_append(self->outbox[outbox], txn, env, now_ms, new_seq);
    if (env)
        arrears__envelope__free_unpacked(env, NULL);
    MDB_val k = { 8, key };
    rc = rc ? rc : mdb_del(txn, self->dead[outbox], &k, NULL);
    return rc ? rc : record(self, txn, "dead_letter_replayed", outbox, seq, new_seq, now_ms, by,
                            reason);
}

int deadletters_discard(deadletters_t *self, MDB_txn *txn, int outbox, uint64_t seq,
                        int64_t now_ms, const char *by, const char *reason)
{
    uint8_t key[8];
    MDB_val v;
    int rc = get_record(self, txn, outbox, seq, key, &v);
    MDB_val k = { 8, key };
    rc = rc ? rc : mdb_del(txn, self->dead[outbox], &k, NULL);
    return rc ? rc : record(self, txn, "dead_letter_discarded", outbox, seq, NULL, now_ms, by,
                            reason);
}

/* ---------------------------------------------------------------- the wire */

static bool is_operator(const receiver_peer_t *from)
{
    return strcmp(from->role, "operator") == 0;
}

/* "to_outreach, to_legal, ..." for a reason that says what there is. */
static const char *names_text(const deadletters_t *self, char *buf, size_t len)
{
    buf[0] = 0;
    for (size_t i = 0, used = 0; i < self->count && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 outbox_name(self->outbox[i]));
    return self->count ? buf : "none";
}

/* The index of a named outbox, or a refusal naming the ones there are. */
static int outbox_or_refuse(const deadletters_t *self, const char *name, const char *field,
                            reject_t *reject)
{
    int ob = deadletters_outbox_index(self, name);
    if (ob >= 0)
        return ob;
    char names[NAMES_TEXT_MAX];
    (void)receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, field,
                          "no outbox \"%.*s\" here; this service's outboxes: %s",
                          OUTBOX_NAME_MAX, name ? name : "", names_text(self, names, sizeof names));
    return -1;
}

static void to_message(const deadletter_t *d, Arrears__DeadLetter *m)
{
    *m = (Arrears__DeadLetter)ARREARS__DEAD_LETTER__INIT;
    m->outbox = (char *)d->outbox;
    m->has_seq = m->has_reject_class = m->has_code = m->has_size_bytes = m->has_unreadable = 1;
    m->seq = d->seq;
    m->reject_class = d->klass;
    m->code = d->code;
    m->reason = (char *)d->reason;
    m->body_type = (char *)d->body_type;
    m->size_bytes = d->size_bytes;
    m->unreadable = d->unreadable;
    m->has_sent_at_ms = d->has_sent_at;
    m->sent_at_ms = d->sent_at_ms;
}

/* A page being filled: it stops at its limit or at the reply's byte budget. */
typedef struct {
    Arrears__DeadLetter *items;
    Arrears__DeadLetter **ptrs;
    size_t n, limit, bytes, budget;
    bool more;
} page_t;

static int page_visit(const deadletter_t *d, void *arg)
{
    page_t *p = arg;
    Arrears__DeadLetter m;
    to_message(d, &m);
    size_t bytes = arrears__dead_letter__get_packed_size(&m) + 8;   /* + tag and length */
    if (p->n == p->limit || (p->n > 0 && p->bytes + bytes > p->budget)) {
        p->more = true;
        return STORE_STOP;
    }
    p->items[p->n] = m;
    p->ptrs[p->n] = &p->items[p->n];
    p->n++;
    p->bytes += bytes;
    return 0;
}

static size_t pack_list(deadletters_t *self, const page_t *p, uint64_t total,
                        uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject)
{
    Arrears__DeadLetterList list = ARREARS__DEAD_LETTER_LIST__INIT;
    const char *names[DEADLETTERS_OUTBOXES_MAX];
    for (size_t i = 0; i < self->count; i++)
        names[i] = outbox_name(self->outbox[i]);
    list.n_outboxes = self->count;
    list.outboxes = (char **)names;
    list.n_letters = p->n;
    list.letters = p->ptrs;
    list.has_more = list.has_total = 1;
    list.more = p->more && p->n > 0;
    list.total = total;
    if (list.more) {
        list.next_outbox = p->items[p->n - 1].outbox;
        list.has_next_after_seq = 1;
        list.next_after_seq = p->items[p->n - 1].seq;
    }
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_DEAD_LETTER_LIST;
    env.dead_letter_list = &list;
    size_t len = envelope_pack_reply(&env, request_id, buf, cap);
    return len ? len : receiver_refuse_query(reject, ARREARS__REJECT__CODE__TOO_LARGE, "limit",
                                             "the page does not fit in a reply: ask for fewer");
}

static size_t list(deadletters_t *self, MDB_txn *txn, const Arrears__DeadLetterQuery *q,
                   int only, uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject)
{
    if (q->has_limit && (q->limit < 1 || q->limit > DEADLETTERS_PAGE_MAX))
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "limit",
                                     "1 to 500 dead letters a page");
    int after = -1;
    if (q->after_outbox && *q->after_outbox &&
        (after = outbox_or_refuse(self, q->after_outbox, "after_outbox", reject)) < 0)
        return 0;
    page_t p = { .limit = q->has_limit ? q->limit : DEADLETTERS_PAGE_DEFAULT,
                 .budget = cap > 2 * ENVELOPE_REPLY_MAX_BYTES ? cap - 2 * ENVELOPE_REPLY_MAX_BYTES : 0 };
    p.items = calloc(p.limit, sizeof *p.items);
    p.ptrs = calloc(p.limit, sizeof *p.ptrs);
    uint64_t total = 0;
    int rc = p.items && p.ptrs ? 0 : ENOMEM;
    rc = rc ? rc : deadletters_count(self, txn, only, &total);
    rc = rc ? rc : deadletters_each(self, txn, only, after, q->after_seq, page_visit, &p);
    size_t len = rc == 0 ? pack_list(self, &p, total, request_id, buf, cap, reject) : 0;
    if (rc != 0)
        (void)receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, NULL, "cannot read the "
                              "dead letters now: %s", deadletters_strerror(rc));
    free(p.items);
    free(p.ptrs);
    return len;
}

static size_t inspect(deadletters_t *self, MDB_txn *txn, int ob, uint64_t seq,
                      uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject)
{
    deadletter_t d;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = deadletters_read(self, txn, ob, seq, &d, &bytes, &len);
    if (rc == DEADLETTERS_ESEQ)
        (void)receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "seq",
                              "outbox %s holds no dead letter %llu (never dead, or replayed or "
                              "discarded since): list them first", outbox_name(self->outbox[ob]),
                              (unsigned long long)seq);
    else if (rc != 0)
        (void)receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, NULL, "cannot read it now: %s",
                              deadletters_strerror(rc));
    if (rc != 0)
        return 0;
    Arrears__DeadLetter m;
    to_message(&d, &m);
    m.has_envelope = bytes != NULL;
    m.envelope = (ProtobufCBinaryData){ len, bytes };
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_DEAD_LETTER;
    env.dead_letter = &m;
    size_t out = envelope_pack_reply(&env, request_id, buf, cap);
    free(bytes);
    if (out == 0)
        (void)receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "inspect_seq",
                              "the dead letter (%zu bytes) does not fit in this service's reply "
                              "limit of %zu bytes", len, cap);
    return out;
}

size_t deadletters_query(deadletters_t *self, MDB_txn *txn, const receiver_peer_t *from,
                         const Arrears__Envelope *env, uint8_t *buf, size_t cap,
                         reject_t *reject)
{
    assert(env->body_case == ARREARS__ENVELOPE__BODY_DEAD_LETTER_QUERY);
    const Arrears__DeadLetterQuery *q = env->dead_letter_query;
    if (!is_operator(from))
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, NULL,
                                     "dead letters are for operators (a key with role operator)");
    bool inspecting = q->has_inspect_seq && q->inspect_seq > 0;
    int ob = -1;
    if ((inspecting || (q->outbox && *q->outbox)) &&
        (ob = outbox_or_refuse(self, q->outbox, "outbox", reject)) < 0)
        return 0;
    if (inspecting)
        return inspect(self, txn, ob, q->inspect_seq, env->request_id, buf, cap, reject);
    return list(self, txn, q, ob, env->request_id, buf, cap, reject);
}

/* 1 to DEADLETTERS_ACTION_REASON_MAX bytes, no control characters: it goes to the log
 * and the audit table as one value. */
static int check_reason(const char *reason, reject_t *reject)
{
    size_t len = reason ? strlen(reason) : 0;
    if (len == 0)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "reason",
                               "required: why, for the audit (1 to %d bytes)",
                               DEADLETTERS_ACTION_REASON_MAX);
    if (len > DEADLETTERS_ACTION_REASON_MAX)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "reason",
                               "at most %d bytes", DEADLETTERS_ACTION_REASON_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
            return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "reason",
                                   "one line of text: no control characters");
    return APPLY_OK;
}

/* What a failed replay or discard says to the operator; store errors stay errors. */
static int refusal(const deadletters_t *self, int rc, int ob, uint64_t seq, reject_t *reject)
{
    const char *name = outbox_name(self->outbox[ob]);
    switch (rc) {
    case DEADLETTERS_ESEQ:
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "seq",
                               "outbox %s holds no dead letter %llu (never dead, or replayed or "
                               "discarded already): list them first", name, (unsigned long long)seq);
    case DEADLETTERS_EUNREADABLE:
        return receiver_refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "seq",
                               "dead letter %llu of %s does not open or decode: it can only be "
                               "discarded", (unsigned long long)seq, name);
    case OUTBOX_EFULL:
        return receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, "outbox",
                               "outbox %s is at its bound: replay when its peer has caught up", name);
    case OUTBOX_ETOO_LARGE:
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "seq",
                               "dead letter %llu no longer fits the outbox's message limit",
                               (unsigned long long)seq);
    default:
        return rc;
    }
}

int deadletters_apply(deadletters_t *self, MDB_txn *txn, const receiver_peer_t *from,
                      const Arrears__Envelope *env, int64_t now_ms, reject_t *reject)
{
    assert(env->body_case == ARREARS__ENVELOPE__BODY_DEAD_LETTER_ACTION);
    const Arrears__DeadLetterAction *a = env->dead_letter_action;
    if (!is_operator(from))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, NULL,
                               "dead letters are for operators (a key with role operator)");
    bool replay = a->kind == ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY;
    if (!a->has_kind || (!replay && a->kind != ARREARS__DEAD_LETTER_ACTION__KIND__DISCARD))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "kind",
                               "REPLAY or DISCARD");
    int rc = check_reason(a->reason, reject);
    if (rc != APPLY_OK)
        return rc;
    int ob = outbox_or_refuse(self, a->outbox, "outbox", reject);
    if (ob < 0)
        return APPLY_REJECTED;
    if (!a->has_seq || a->seq == 0)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "seq",
                               "required: the dead letter's seq (>= 1)");
    uint64_t new_seq = 0;
    rc = replay ? deadletters_replay(self, txn, ob, a->seq, now_ms, from->principal, a->reason,
                                     &new_seq)
                : deadletters_discard(self, txn, ob, a->seq, now_ms, from->principal, a->reason);
    return rc == 0 ? APPLY_OK : refusal(self, rc, ob, a->seq, reject);
}

const char *deadletters_strerror(int code)
{
    switch (code) {
    case DEADLETTERS_EOUTBOX: return "the service has no outbox of that name";
    case DEADLETTERS_ESEQ: return "no dead letter with that seq in the outbox";
    case DEADLETTERS_EUNREADABLE: return "the dead letter does not open or decode: discard it";
    default: return outbox_strerror(code);
    }
}
