/* rig: what the CLI needs to run arrears processes on one machine (the embedded default
 * and the demonstrations): private folders, CURVE keys made on first use, keys files,
 * and child processes started and stopped cleanly (SIGTERM, then SIGKILL after a
 * bounded wait), so no run leaves a process behind. */
#ifndef ARREARS_RIG_H
#define ARREARS_RIG_H

#include <stddef.h>
#include <sys/types.h>

#define RIG_PATH_MAX 512
#define RIG_STOP_TIMEOUT_MS 10000

/* mkdir -p with mode 0700: only the service user may open an ipc:// folder. */
int rig_make_dir(const char *path);
/* DIR/NAME.key and .pub, made if missing. */
int rig_ensure_keypair(const char *dir, const char *name);
/* The public key in DIR/NAME.pub; out holds 41 bytes. */
int rig_public_key(const char *dir, const char *name, char *out);
/* Writes a keys file admitting each (principal, role, key name in keys_dir). */
int rig_write_allowed(const char *path, const char *keys_dir, const char *const *principals,
                      const char *const *roles, const char *const *key_names, size_t count);
pid_t rig_spawn(const char *path, char *const argv[]);
/* SIGTERM, wait up to RIG_STOP_TIMEOUT_MS, then SIGKILL. Returns the exit status. */
int rig_stop(pid_t pid);
/* Waits for pid to exit by itself; returns its exit code, or -1 if it died by a signal. */
int rig_wait(pid_t pid);
/* Removes DIR/data.mdb and DIR/lock.mdb: a run that must start from an empty store. */
void rig_clear_store(const char *dir);

#endif
