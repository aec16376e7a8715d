"""intake_rig: what the intake process tests share — a short temporary directory with
CURVE keys (`arrears keygen`) for intake, staging, the platforms and a stranger; intake's
config and keys file; the intake process, `intake dump`, the staging stand-in
(tests/clients/python/staging_standin.py) and reference-client Streams; and a seeded
generator of realistic platform data (accounts, payments, complaints, contact updates,
recalls).

Every process a test starts is registered and killed in close(); the directory goes
too. Waits poll with a timeout (harness.wait_for), never a bare sleep."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness import fail, wait_for

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                "..", "clients", "python")))
from portfolio import Portfolio  # noqa: E402,F401  (re-exported for the tests)

CLIENT_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                           "..", "clients", "python"))
STANDIN = os.path.join(CLIENT_DIR, "staging_standin.py")
CLIENT = os.path.join(CLIENT_DIR, "arrears_client.py")


def import_client(proto_dir):
    """The reference client module, with the generated protobuf modules on the path.
    A missing module is an ImportError: the test fails (it never skips)."""
    os.environ["ARREARS_PROTO_PYTHON"] = proto_dir
    for d in (proto_dir, CLIENT_DIR):
        if d not in sys.path:
            sys.path.insert(0, d)
    import arrears_client
    return arrears_client


class IntakeRig:
    def __init__(self, arrears, intake, proto_dir, prefix="itk", platforms=("p1",),
                 feed=None, limits=None, extra_conf=""):
        self.arrears, self.intake_bin, self.proto_dir = arrears, intake, proto_dir
        self.ac = import_client(proto_dir)
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.procs = []
        self.streams = []
        self.platforms = list(platforms)
        os.mkdir(self.path("keys"), 0o700)
        for name in ["intake", "staging", "stranger"] + self.platforms:
            self.run([arrears, "keygen", name, self.path("keys")])
        self.listen = "ipc://%s/in.sock" % self.dir
        self.staging_endpoint = "ipc://%s/st.sock" % self.dir
        self.write_allowed()
        conf = [
            'data_dir = "data";',
            'durability = "durable";',
            'keys = { own = "keys/intake.key"; allowed = "keys/allowed.conf"; '
            'secret = "keys/intake.secret"; };',
            'create_secret = true;',
            'listen = "%s";' % self.listen,
            'staging = { endpoint = "%s"; public_key = "keys/staging.pub"; };' % self.staging_endpoint,
        ]
        if feed:
            conf.append("feed = { %s };" % " ".join("%s = %d;" % kv for kv in feed.items()))
        if limits:
            conf.append("limits = { %s };" % " ".join("%s = %d;" % kv for kv in limits.items()))
        conf.append(extra_conf)
        with open(self.path("intake.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")
        self.intake = None
        self.standin = None

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run(self, argv, check=True):
        out = subprocess.run(argv, capture_output=True, text=True)
        if check and out.returncode != 0:
            fail("%s: exit %d\n%s%s" % (" ".join(argv), out.returncode, out.stdout, out.stderr))
        return out

    def public_key(self, name):
        return self.ac.load_public(self.path("keys", name + ".pub")).decode()

    def write_allowed(self):
        rows = ['  { principal = "%s"; role = "platform"; public = "%s"; }' % (p, self.public_key(p))
                for p in self.platforms]
        rows.append('  { principal = "staging"; role = "service"; public = "%s"; }'
                    % self.public_key("staging"))
        with open(self.path("keys", "allowed.conf"), "w") as f:
            f.write("keys = (\n%s\n);\n" % ",\n".join(rows))

    # -- processes --

    def spawn(self, argv, log_name, stdout=None):
        log = open(self.path(log_name), "ab")
        proc = subprocess.Popen(argv, stdout=stdout or subprocess.DEVNULL, stderr=log)
        log.close()
        self.procs.append(proc)
        return proc

    def start_intake(self):
        sock = self.listen[len("ipc://"):]
        if os.path.exists(sock):
            os.unlink(sock)   # a SIGKILLed intake leaves its socket file behind
        self.intake = self.spawn([self.intake_bin, "--config", self.path("intake.conf")], "intake.log")
        wait_for(lambda: os.path.exists(sock) or self.intake.poll() is not None, 30,
                 "intake to bind " + sock)
        if self.intake.poll() is not None:
            fail("intake exited at start (%d): %s" % (self.intake.returncode, self.log_text("intake.log")[-2000:]))
        return self.intake

    def kill(self, proc, sig=signal.SIGKILL, timeout=60):
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            fail("a process did not stop on signal %d within %d s" % (sig, timeout))
        return proc.returncode

    def stop_intake(self):
        rc = self.kill(self.intake, signal.SIGTERM)
        if rc != 0:
            fail("intake stopped with exit %d: %s" % (rc, self.log_text("intake.log")[-3000:]))
        self.check_sanitizers()

    def check_sanitizers(self):
        """Sanitizer reports in intake's log fail the test even when intake survived."""
        log = self.log_text("intake.log")
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            at = log.find(marker)
            if at >= 0:
                fail("intake's log has a sanitizer report:\n" + log[max(0, at - 200):at + 3000])

    def start_standin(self, status=True, log="standin.jsonl", state="standin.state"):
        sock = self.staging_endpoint[len("ipc://"):]
        if os.path.exists(sock):
            os.unlink(sock)
        argv = [sys.executable, STANDIN, "--proto-dir", self.proto_dir,
                "--endpoint", self.staging_endpoint, "--key", self.path("keys", "staging.key"),
                "--allow", self.path("keys", "intake.pub"), "--log", self.path(log),
                "--resend-timeout", "1"]
        if status:
            argv += ["--status", "--intake-endpoint", self.listen, "--state", self.path(state)]
        self.standin = self.spawn(argv, "standin.err")
        wait_for(lambda: os.path.exists(sock) or self.standin.poll() is not None, 30,
                 "the stand-in to bind " + sock)
        if self.standin.poll() is not None:
            fail("the stand-in exited at start: " + self.log_text("standin.err")[-2000:])
        return self.standin

    def stop_standin(self):
        rc = self.kill(self.standin, signal.SIGTERM)
        if rc != 0:
            fail("the stand-in stopped with exit %d: %s" % (rc, self.log_text("standin.err")[-3000:]))

    def stream(self, platform, state=None, **kw):
        s = self.ac.Stream(self.listen, self.ac.load_public(self.path("keys", "intake.pub")),
                           self.ac.load_keypair(self.path("keys", platform + ".key")),
                           state_path=self.path(state) if state else None, **kw)
        self.streams.append(s)
        return s

    def close_stream(self, s, save=True):
        if s in self.streams:
            self.streams.remove(s)
            s.close(save=save)

    def dump(self):
        """intake's logical content: a list of (kind, dict) in the order printed."""
        out = self.run([self.intake_bin, "dump", "--config", self.path("intake.conf")])
        rows = []
        for line in out.stdout.splitlines():
            obj = json.loads(line)
            (kind, value), = obj.items()
            rows.append((kind, value))
        return rows, out.stdout

    def log_text(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def standin_log(self, name="standin.jsonl"):
        with open(self.path(name)) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    def close(self):
        for s in self.streams:
            try:
                s.close(save=False)
            except Exception:
                pass
        self.streams = []
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Stopwatch:
    def __init__(self, name):
        self.name, self.t0, self.last = name, time.monotonic(), time.monotonic()

    def lap(self, what):
        now = time.monotonic()
        print("  [%s %6.1f s, +%5.1f s] %s" % (self.name, now - self.t0, now - self.last, what),
              flush=True)
        self.last = now


# ---- seeded data ---------------------------------------------------------------------

# currency: (exponent, principal range in major units, zones, country, language, phone)
