/* fleet: see fleet.h. */
#include "fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aclock.h"

#define FILE_MAX (EMBEDDED_PATH_MAX + 64)
#define POLL_MS 20

static void pid_path(const embedded_t *e, const char *service, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.pid", e->run, service);
}

static void log_path(const embedded_t *e, const char *service, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.log", e->log, service);
}

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

/* Whether pid runs with `--config <this service's file>` on its command line. */
static bool runs_config(pid_t pid, const char *config)
{
    char path[64], cmdline[4096];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(cmdline, 1, sizeof cmdline - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i += strlen(cmdline + i) + 1) {
        cmdline[n] = 0;
        if (strcmp(cmdline + i, config) == 0)
            return true;
    }
    return false;
}

pid_t fleet_running(const embedded_t *e, const embedded_service_t *s)
{
    char path[FILE_MAX], config[FILE_MAX];
    pid_path(e, s->name, path, sizeof path);
    embedded_path(e, s->name, ".conf", config, sizeof config);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    /* A child of ours that exited is a zombie until reaped: reap it, it does not run. */
    if (pid > 0 && waitpid((pid_t)pid, NULL, WNOHANG) == (pid_t)pid)
        return 0;
    return pid > 0 && runs_config((pid_t)pid, config) ? (pid_t)pid : 0;
}

static pid_t spawn_detached(const char *binary, const char *config, const char *log)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setsid();   /* its own session: a terminal's Ctrl-C is for the CLI, not the service */
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(126);
    char *argv[] = { (char *)binary, "--config", (char *)config, NULL };
    execv(binary, argv);
    fprintf(stderr, "arrears: cannot run %s: %s\n", binary, strerror(errno));
    _exit(127);
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Bound (its socket file exists) or, for the worker, started (its log says so). */
static bool ready(const embedded_t *e, const embedded_service_t *s, const char *log)
{
    char path[FILE_MAX];
    struct stat st;
    if (*s->socket) {
        snprintf(path, sizeof path, "%s/%s", e->run, s->socket);
        return stat(path, &st) == 0;
    }
    return file_has(log, "worker_start");
}

static int wait_ready(const embedded_t *e, const embedded_service_t *s, pid_t pid,
                      const char *log, char *err, size_t err_len)
{
    int64_t deadline = aclock_monotonic_ms() + FLEET_START_TIMEOUT_MS;
    while (!ready(e, s, log)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            snprintf(err, err_len, "%s exited at start (status %d): see %s", s->name,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, log);
            return -1;
        }
        if (aclock_monotonic_ms() > deadline) {
            snprintf(err, err_len, "%s did not become ready in %d s: see %s", s->name,
                     FLEET_START_TIMEOUT_MS / 1000, log);
            return -1;
        }
        pause_ms(POLL_MS);
    }
    return 0;
}

int fleet_start(const embedded_t *e, const embedded_service_t *s, char *err, size_t err_len)
{
    char config[FILE_MAX], log[FILE_MAX], pidfile[FILE_MAX], sock[FILE_MAX];
    embedded_path(e, s->name, ".conf", config, sizeof config);
    log_path(e, s->name, log, sizeof log);
    pid_path(e, s->name, pidfile, sizeof pidfile);
    if (*s->socket) {   /* a killed process leaves its socket file: it is not readiness */
        snprintf(sock, sizeof sock, "%s/%s", e->run, s->socket);
        unlink(sock);
    } else {
        unlink(log);   /* the worker's readiness is read from its log */
    }
    pid_t pid = spawn_detached(embedded_binary(s), config, log);
    FILE *f = pid > 0 ? fopen(pidfile, "w") : NULL;
    if (!f) {
        snprintf(err, err_len, "cannot start %s: %s", s->name, strerror(errno));
        return -1;
    }
    fprintf(f, "%d\n", (int)pid);
    fclose(f);
    return wait_ready(e, s, pid, log, err, err_len);
}

int fleet_stop(const embedded_t *e, const embedded_service_t *s)
{
    pid_t pid = fleet_running(e, s);
    char pidfile[FILE_MAX];
    pid_path(e, s->name, pidfile, sizeof pidfile);
    if (pid == 0) {
        unlink(pidfile);
        return 0;
    }
    kill(pid, SIGTERM);
    int64_t deadline = aclock_monotonic_ms() + FLEET_STOP_TIMEOUT_MS;
    int status = 0, code = -1;
    while (aclock_monotonic_ms() < deadline) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {   /* our child: its exit status is known */
            code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        if (done < 0 && kill(pid, 0) != 0) {   /* not our child, and gone */
            code = 0;
            break;
        }
        pause_ms(POLL_MS);
    }
    if (aclock_monotonic_ms() >= deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        code = -1;
    }
    unlink(pidfile);
    return code;
}

int fleet_up(const embedded_t *e, char *err, size_t err_len)
{
    for (size_t i = 0; i < e->count; i++) {
        const embedded_service_t *s = &e->service[i];
        if (fleet_running(e, s))
            continue;
        if (fleet_start(e, s, err, err_len) != 0) {
            fleet_down(e);
            return -1;
        }
    }
    return 0;
}

int fleet_down(const embedded_t *e)
{
    int unclean = 0;
    for (size_t i = e->count; i-- > 0;)
        unclean += fleet_stop(e, &e->service[i]) != 0;
    return unclean;
}
