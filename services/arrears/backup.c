/* backup: `arrears backup` and `arrears restore` for the embedded default's stores.
 *
 * A backup is LMDB's own consistent copy (mdb_env_copy2, what mdb_copy does): taken
 * from a read transaction, so the services keep running and the copy is one committed
 * state of each store. It holds no keys: the at-rest secrets (keys/<service>.secret)
 * are kept apart, as a backup's reader must not get both by taking one folder.
 *
 * A restore puts one service's copy back while that service is stopped; the store it
 * replaces is kept beside it (data.mdb.replaced-<time>), never deleted.
 *
 * Restore one service and realign (the operator's procedure):
 *   1. arrears backup [--out DIR]             (regularly; keys/ is kept apart)
 *   2. arrears stop SERVICE
 *   3. arrears restore SERVICE --from DIR     (puts DIR/SERVICE/data.mdb back and marks
 *                                              the store restored)
 *   4. arrears up                              (starts SERVICE again; on the simulated
 *                                              clock settles the present, ops.c)
 * Nothing else: the streams realign on their own, each step logged.
 *   - As a sender: at its start each outbox of the marked store moves to a new stream
 *     (log: event=stream_realigned why=restored old_stream= old_last_seq= old_acked=
 *     new_stream= carried=), carrying what was not acknowledged to seqs 1.. of it. Its
 *     receivers take the new stream from seq 1; what the restored service derives again
 *     is recognized there by natural key (the broker's contact id; legal's referrals and
 *     notices and sale's listings by staging's instant).
 *   - As a receiver: its inbox marks are behind; each peer's sender, probing an idle
 *     stream every second, gets GAP and rewinds from its retained log (log on the peer:
 *     event=receiver_behind acked= expected=), each message with when the receiver first
 *     applied it (Envelope.replay). The retained log must still hold what the backup
 *     lacks: restore from a backup younger than the senders' retain_days. staging uses
 *     the replays to catch up in its first order (services/staging/catchup.h: log
 *     event=catchup_applied, event=caught_up).
 * A store restored by other means (no marker) realigns when a receiver acks beyond the
 * outbox's last seq (event=receiver_ahead, then stream_realigned why=peer_ahead); messages
 * re-derived before that ack arrives may be taken for those the receiver already had. */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "embedded.h"
#include "outbox.h"
#include "store.h"
#include "fleet.h"
#include "ops.h"
#include "rig.h"

#define FILE_MAX (EMBEDDED_PATH_MAX * 2 + 64)
#define BACKUP_MAX_TABLES 64

static bool has_store(const embedded_service_t *s)
{
    return *s->socket != '\0';   /* every service but the worker keeps a store */
}

static int copy_store(const char *from_dir, const char *to_dir)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc != 0)
        return rc;
    mdb_env_set_maxdbs(env, BACKUP_MAX_TABLES);
    rc = mdb_env_open(env, from_dir, MDB_RDONLY, 0600);
    rc = rc ? rc : mdb_env_copy2(env, to_dir, MDB_CP_COMPACT);
    mdb_env_close(env);
    return rc;
}

static void utc_stamp(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, len, "%Y%m%dT%H%M%SZ", &tm);
}

int ops_backup_main(const ops_options_t *o)
{
    embedded_t e;
    char err[1024], out[FILE_MAX], stamp[32];
    if (embedded_open(o->dir, &e, err, sizeof err) != 0) {
        fprintf(stderr, "arrears backup: %s\n", err);
        return 1;
    }
    utc_stamp(stamp, sizeof stamp);
    if (o->out)
        snprintf(out, sizeof out, "%s", o->out);
    else
        snprintf(out, sizeof out, "%s/backups/%s", e.dir, stamp);
    int failed = 0;
    for (size_t i = 0; i < e.count; i++) {
        const embedded_service_t *s = &e.service[i];
        char from[FILE_MAX], to[FILE_MAX + 64];
        embedded_path(&e, s->name, "", from, sizeof from);
        snprintf(to, sizeof to, "%s/%s", out, s->name);
        if (!has_store(s) || access(from, F_OK) != 0)
            continue;
        int rc = rig_make_dir(to);
        rc = rc ? rc : copy_store(from, to);
        if (rc != 0)
            fprintf(stderr, "arrears backup: %s: %s\n", s->name, mdb_strerror(rc));
        else
            printf("arrears backup: %s -> %s/data.mdb\n", s->name, to);
        failed += rc != 0;
    }
    if (failed)
        return 1;
    printf("arrears backup: done in %s (the at-rest keys in %s are not in it: keep them apart)\n",
           out, e.keys);
    return 0;
}

/* Copies a file whole (the restored store), refusing to overwrite. */
static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return errno;
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FILE *outf = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int rc = outf ? 0 : errno;
    char buf[1 << 16];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, outf) != n)
            rc = errno ? errno : EIO;
    if (rc == 0 && ferror(in))
        rc = EIO;
    if (rc == 0 && (fflush(outf) != 0 || fsync(fileno(outf)) != 0))
        rc = errno;
    fclose(in);
    if (outf && fclose(outf) != 0 && rc == 0)
        rc = errno;
    else if (!outf && fd >= 0)
        close(fd);
    return rc;
}

/* Tells the restored store's outboxes that they were put back (outbox.h): at the
 * service's start each moves to a new stream, so its receivers, which applied seqs this
 * copy never appended, take what it sends from now on as new, by natural key. */
static int mark_restored(const char *dir, uint64_t marker)
{
    MDB_env *env;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    int rc = mdb_env_create(&env);
    if (rc != 0)
        return rc;
    mdb_env_set_maxdbs(env, BACKUP_MAX_TABLES);
    rc = mdb_env_open(env, dir, 0, 0600);
    rc = rc ? rc : mdb_txn_begin(env, NULL, 0, &txn);
    rc = rc ? rc : mdb_dbi_open(txn, OUTBOX_RESTORED_TABLE, MDB_CREATE, &dbi);
    uint8_t value[8];
    store_put_u64(value, marker);
    MDB_val k = { strlen(OUTBOX_RESTORED_KEY), (void *)OUTBOX_RESTORED_KEY }, v = { 8, value };
    rc = rc ? rc : mdb_put(txn, dbi, &k, &v, 0);
    if (txn)
        rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
    mdb_env_close(env);
    return rc;
}

static int restore_store(const embedded_t *e, const char *service, const char *from_dir)
{
    char live[FILE_MAX], src[FILE_MAX + 64], kept[FILE_MAX + 64], fresh[FILE_MAX + 16], stamp[32];
    embedded_path(e, service, "/data.mdb", live, sizeof live);
    snprintf(src, sizeof src, "%s/%s/data.mdb", from_dir, service);
    snprintf(fresh, sizeof fresh, "%s.restoring", live);
    utc_stamp(stamp, sizeof stamp);
    snprintf(kept, sizeof kept, "%s.replaced-%s", live, stamp);
    unlink(fresh);
    int rc = copy_file(src, fresh);
    if (rc != 0)
        return rc;
    if (access(live, F_OK) == 0 && rename(live, kept) != 0)
        return errno;
    if (rename(fresh, live) != 0)
        return errno;
    embedded_path(e, service, "/lock.mdb", live, sizeof live);
    unlink(live);   /* the readers' table of the store it replaced */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t marker = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    embedded_path(e, service, "", live, sizeof live);
    rc = mark_restored(live, marker);
    if (rc != 0)
        return rc;
    printf("arrears restore: %s marked restored (restore_ms=%llu): at its start each of its "
           "outboxes moves to a new stream\n", service, (unsigned long long)marker);
    printf("arrears restore: %s restored from %s (the store it replaced is kept as %s)\n",
           service, src, kept);
    return 0;
}

/* The folder and its service by name; 0, 1 (said why) or 2 (a usage error, said). */
static int open_service(const ops_options_t *o, const char *cmd, const char *service,
                        bool stores_only, embedded_t *e, const embedded_service_t **s)
{
    char err[1024], names[512];
    if (embedded_open(o->dir, e, err, sizeof err) != 0) {
        fprintf(stderr, "arrears %s: %s\n", cmd, err);
        return 1;
    }
    *s = embedded_find(e, service);
    if (*s && (!stores_only || has_store(*s)))
        return 0;
    embedded_names(e, stores_only, names, sizeof names);
    fprintf(stderr, "arrears %s: no service %s here: SERVICE is one of %s\n", cmd, service,
            names);
    return 2;
}

int ops_restore_main(const ops_options_t *o, const char *service)
{
    embedded_t e;
    const embedded_service_t *s;
    if (!o->from) {
        fprintf(stderr, "arrears restore: SERVICE --from BACKUP_FOLDER (a folder `arrears "
                "backup` wrote)\n");
        return 2;
    }
    int rc = open_service(o, "restore", service, true, &e, &s);
    if (rc != 0)
        return rc;
    if (fleet_running(&e, s)) {
        fprintf(stderr, "arrears restore: %s is running: `arrears stop %s` first, then "
                "`arrears up` after the restore\n", service, service);
        return 1;
    }
    rc = restore_store(&e, service, o->from);
    if (rc != 0) {
        fprintf(stderr, "arrears restore: %s: %s\n", service, rc > 0 ? strerror(rc) : mdb_strerror(rc));
        return 1;
    }
    printf("arrears restore: `arrears up` starts %s again; its peers resend what it lost\n",
           service);
    return 0;
}

int ops_stop_main(const ops_options_t *o, const char *service)
{
    embedded_t e;
    const embedded_service_t *s;
    int rc = open_service(o, "stop", service, false, &e, &s);
    if (rc != 0)
        return rc;
    rc = fleet_stop(&e, s);
    printf("arrears stop: %s %s\n", service, rc == 0 ? "stopped" : "killed after the timeout");
    return rc == 0 ? 0 : 1;
}
