/* rig: see rig.h. */
#include "rig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aclock.h"
#include "link.h"

int rig_make_dir(const char *path)
{
    char partial[RIG_PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof partial)
        return ENAMETOOLONG;
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != 0)
            continue;
        memcpy(partial, path, i);
        partial[i] = 0;
        if (mkdir(partial, 0700) != 0 && errno != EEXIST)
            return errno;
    }
    return 0;
}

int rig_ensure_keypair(const char *dir, const char *name)
{
    char path[RIG_PATH_MAX], err[512];
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    if (access(path, R_OK) == 0)
        return 0;
    link_keypair_t keys;
    int rc = link_keypair_generate(&keys);
    rc = rc ? rc : link_keypair_save(dir, name, &keys, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "arrears: %s\n", err);
    return rc;
}

int rig_public_key(const char *dir, const char *name, char *out)
{
    char path[RIG_PATH_MAX], err[512];
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    int rc = link_public_load(path, out, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "arrears: %s\n", err);
    return rc;
}

int rig_write_allowed(const char *path, const char *keys_dir, const char *const *principals,
                      const char *const *roles, const char *const *key_names, size_t count)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return errno;
    fprintf(f, "# Who may connect, as whom (made by the arrears CLI).\nkeys = (\n");
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        char pub[LINK_KEY_Z85_LEN + 1];
        rc = rig_public_key(keys_dir, key_names[i], pub);
        if (rc == 0)
            fprintf(f, "  { principal = \"%s\"; role = \"%s\"; public = \"%s\"; }%s\n",
                    principals[i], roles[i], pub, i + 1 < count ? "," : "");
    }
    fprintf(f, ");\n");
    if (fclose(f) != 0 && rc == 0)
        rc = errno;
    return rc;
}

pid_t rig_spawn(const char *path, char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(path, argv);
        fprintf(stderr, "arrears: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    return pid;
}

static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int rig_wait(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return exit_code(status);
}

int rig_stop(pid_t pid)
{
    int status = 0;
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    int64_t deadline = aclock_monotonic_ms() + RIG_STOP_TIMEOUT_MS;
    while (aclock_monotonic_ms() < deadline) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return exit_code(status);
        struct timespec tick = { 0, 20 * 1000 * 1000 };   /* polling a child's exit */
        nanosleep(&tick, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

void rig_clear_store(const char *dir)
{
    char path[RIG_PATH_MAX];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
}
