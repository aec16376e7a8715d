"""harness: what the process-level tests share — a short temporary directory (unix
socket paths must stay under 100 bytes), CURVE keys made by `arrears keygen`, the demo
receiver and sender started as real processes, polling with a timeout (never sleeping
"to calm things down"), and cleanup of every process a test started."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def _stop_on_term(signum, frame):
    """SIGTERM (a person's kill, a runner's timeout) unwinds like a failure, so every
    `finally` that closes a rig still kills the processes the test started."""
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _stop_on_term)


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    fail("timed out after %.0f s waiting for %s" % (timeout_s, what))


class Rig:
    """A temporary directory with keys, and the processes started in it."""

    def __init__(self, arrears, prefix="arr"):
        self.arrears = arrears
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.procs = []
        os.mkdir(os.path.join(self.dir, "keys"), 0o700)
        for name in ("receiver", "sender", "other"):
            self.run_cli("keygen", name, self.path("keys"))
        self.endpoint = "ipc://%s/r.sock" % self.dir
        self.write_allowed(["sender", "other"])

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run_cli(self, *args):
        out = subprocess.run([self.arrears] + list(args), capture_output=True, text=True)
        if out.returncode != 0:
            fail("arrears %s: %s%s" % (" ".join(args), out.stdout, out.stderr))
        return out.stdout

    def public_key(self, name):
        text = open(self.path("keys", name + ".pub")).read()
        return re.search(r'public = "([^"]+)"', text).group(1)

    def secret_key(self, name):
        text = open(self.path("keys", name + ".key")).read()
        return re.search(r'secret = "([^"]+)"', text).group(1)

    def write_allowed(self, names):
        with open(self.path("keys", "allowed.conf"), "w") as f:
            f.write("keys = (\n%s\n);\n" % ",\n".join(
                '  { principal = "%s"; role = "service"; public = "%s"; }'
                % (n, self.public_key(n)) for n in names))

    def start(self, args, log_name):
        log = open(self.path(log_name), "ab")
        proc = subprocess.Popen([self.arrears] + args, stdout=subprocess.PIPE, stderr=log)
        self.procs.append(proc)
        return proc

    def start_receiver(self, extra=()):
        return self.start(["demo-receiver", "--data", self.path("receiver"), "--endpoint",
                           self.endpoint, "--keys", self.path("keys", "allowed.conf"),
                           "--key", self.path("keys", "receiver.key")] + list(extra),
                          "receiver.log")

    def start_sender(self, count, extra=()):
        return self.start(["demo-sender", "--data", self.path("sender"), "--endpoint",
                           self.endpoint, "--server-key", self.path("keys", "receiver.pub"),
                           "--key", self.path("keys", "sender.key"), "--count", str(count),
                           "--progress", "1000"] + list(extra), "sender.log")

    def wait_socket(self):
        sock = self.endpoint[len("ipc://"):]
        wait_for(lambda: os.path.exists(sock), 20, "the receiver to bind " + sock)

    def kill(self, proc, sig=signal.SIGKILL):
        if proc.poll() is None:
            proc.send_signal(sig)
        proc.wait(timeout=30)

    def log_text(self, name):
        with open(self.path(name), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def read_progress(proc, at_least, timeout_s):
    """Reads the sender's `progress acked=N` lines until N >= at_least; returns N."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            fail("the sender exited before acked reached %d" % at_least)
        m = re.match(rb"progress acked=(\d+)", line)
        if m and int(m.group(1)) >= at_least:
            return int(m.group(1))
    fail("timed out waiting for acked >= %d" % at_least)


def assert_durable(log):
    opens = re.findall(r"event=store_open .*", log)
    if not opens:
        fail("no store_open line in the log")
    for line in opens:
        if "durable=yes" not in line:
            fail("a store was opened without durable flags: " + line)


def processes_of(folder):
    """The pids of every process whose command line names the run's folder: a run of the
    embedded default starts each service with its configuration file inside it."""
    out = subprocess.run(["pgrep", "-f", folder], capture_output=True, text=True).stdout
    return out.split()


def assert_none_left(folder):
    left = processes_of(folder)
    if left:
        fail("processes of the run are still alive: " + " ".join(left))


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def assert_no_sanitizer_report(log_dir):
    """Every log in log_dir free of sanitizer reports: a process that survived one still
    fails the test."""
    for name in sorted(os.listdir(log_dir)):
        with open(os.path.join(log_dir, name), errors="replace") as f:
            text = f.read()
        for marker in SANITIZER_MARKERS:
            at = text.find(marker)
            if at >= 0:
                fail("%s has a sanitizer report:\n%s" % (name, text[max(0, at - 200):at + 3000]))


def kill_leftovers(folder):
    """SIGKILLs whatever a run left behind (by its folder); the pids killed."""
    left = processes_of(folder)
    for pid in left:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    return left


def remove_run(folder):
    """Kills what a failed run left behind and removes its folder."""
    kill_leftovers(folder)
    shutil.rmtree(folder, ignore_errors=True)


def arrears_cli(arrears, folder, *args, want=0, timeout=600):
    """Runs `arrears ARGS --dir FOLDER`; fails the test unless it exits with want (None:
    any). The finished process, its output captured."""
    out = subprocess.run([arrears, *args, "--dir", folder], capture_output=True, text=True,
                         timeout=timeout)
    if want is not None and out.returncode != want:
        fail("arrears %s --dir %s: exit %d (wanted %d)\n%s%s" % (
            " ".join(args), folder, out.returncode, want, out.stdout[-3000:], out.stderr[-3000:]))
    return out
