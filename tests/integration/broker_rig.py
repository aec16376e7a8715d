"""broker_rig: the outreach broker on the wall clock with workers, fed directly by a
reliable stream in staging's role, its outcomes taken by a Recorder (recorder.py) that
acknowledges them as staging would (and keeps them). The profile is open around the
clock with no caps, so every task may go at once: for channel tests and the benchmark,
where the conduct rules are not what is measured. Every process is killed in close()."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import zmq
import zmq.auth.thread

from recorder import Recorder

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_DIR = os.path.join(HERE, "..", "clients", "python")
PROFILE = """default = "open";
profiles = ( { name = "open"; window = { start = "00:00"; end = "24:00"; };
               languages = ( { language = "en"; banned = ["arrest"]; } ); } );
"""


class BrokerRig:
    def __init__(self, broker, worker, arrears, proto_dir, templates, prefix="brk",
                 lease_ms=60000, log_level="info"):
        self.broker_bin, self.worker_bin = os.path.abspath(broker), os.path.abspath(worker)
        sys.path[:0] = [proto_dir, CLIENT_DIR]
        os.environ["ARREARS_PROTO_PYTHON"] = proto_dir
        import arrears_client
        self.ac = arrears_client
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.procs, self.ctx, self.workers = {}, zmq.Context(), 0
        self.auth = self.receiver = self.stream = None
        os.mkdir(self.path("keys"), 0o700)
        for name in ("outreach", "staging", "worker", "agent"):
            subprocess.run([arrears, "keygen", name, self.path("keys")], check=True,
                           capture_output=True)
        self.ep = {"broker": "ipc://%s/broker.sock" % self.dir,
                   "staging": "ipc://%s/staging.sock" % self.dir}
        self.write_configs(os.path.abspath(templates), lease_ms, log_level)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def public(self, name):
        return self.ac.load_public(self.path("keys", name + ".pub")).decode()

    def write_configs(self, templates, lease_ms, log_level):
        with open(self.path("profiles.conf"), "w") as f:
            f.write(PROFILE)
        with open(self.path("allowed.conf"), "w") as f:
            f.write('keys = ( { principal = "staging"; role = "service"; public = "%s"; },\n'
                    '         { principal = "worker"; role = "worker"; public = "%s"; },\n'
                    '         { principal = "agent"; role = "agent"; public = "%s"; } );\n'
                    % (self.public("staging"), self.public("worker"), self.public("agent")))
        with open(self.path("outreach.conf"), "w") as f:
            f.write('data_dir = "data"; durability = "durable"; log_level = "%s";\n'
                    'keys = { own = "keys/outreach.key"; allowed = "allowed.conf"; '
                    'secret = "keys/o.secret"; };\ncreate_secret = true; listen = "%s";\n'
                    'staging = { endpoint = "%s"; public_key = "keys/staging.pub"; };\n'
                    'profiles = "profiles.conf"; templates = "%s";\n'
                    'broker = { lease_ms = %d; };\n'
                    'limits = { outbox_max_unacked = 1000000; batch_max = 1000; };\n'
                    % (log_level, self.ep["broker"], self.ep["staging"], templates, lease_ms))

    def start(self):
        """The receiver of outcomes, then the broker; the feeding stream."""
        self.auth = zmq.auth.thread.ThreadAuthenticator(self.ctx)
        self.auth.start()
        self.auth.configure_curve_callback("*", credentials_provider=self.ac.AllowKeys(
            [self.ac.load_public(self.path("keys", "outreach.pub"))], "broker_rig"))
        self.receiver = Recorder(self.ac, self.ctx, self.ep["staging"],
                                 self.ac.load_keypair(self.path("keys", "staging.key")))
        self.receiver.start()
        self.spawn("broker", [self.broker_bin, "--config", self.path("outreach.conf")])
        self.wait(lambda: os.path.exists(self.path("broker.sock")), 30, "the broker to bind")
        self.stream = self.ac.Stream(self.ep["broker"], self.ac.load_public(self.path("keys", "outreach.pub")),
                                     self.ac.load_keypair(self.path("keys", "staging.key")),
                                     window=1000, context=self.ctx)

    def spawn(self, name, argv):
        log = open(self.path(name + ".log"), "ab")
        self.procs[name] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        return self.procs[name]

    def start_worker(self, extra_conf="", channels='"sms", "email", "letter", "call", "visit"'):
        name = "worker%d" % self.workers
        self.workers += 1
        conf = self.path(name + ".conf")
        with open(conf, "w") as f:
            f.write('broker = { endpoint = "%s"; public_key = "keys/outreach.pub"; };\n'
                    'keys = { own = "keys/worker.key"; }; name = "w";\n'
                    'channels = [%s]; spool = "spool";\n'
                    'max_tasks = 64; idle_poll_ms = 5;\n%s\n' % (self.ep["broker"], channels, extra_conf))
        return self.spawn(name, [self.worker_bin, "--config", conf])

    def feed(self, requests, timeout=600):
        for r in requests:
            self.stream.send(r)
        self.stream.flush(timeout)

    def wait(self, predicate, timeout_s, what):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.005)
        raise AssertionError("timed out after %.0f s waiting for %s" % (timeout_s, what))

    def log_text(self, name):
        try:
            with open(self.path(name + ".log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def dump(self):
        out = subprocess.run([self.broker_bin, "dump", "--config", self.path("outreach.conf")],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def close(self, keep=False):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()
        if self.stream:
            self.stream.close(save=False)
        if self.receiver:
            self.receiver.stop = True
            self.receiver.join()
        if self.auth:
            self.auth.stop()
        self.ctx.destroy(linger=0)
        if keep or os.environ.get("ARREARS_KEEP_TMP"):
            print("kept " + self.dir, flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
