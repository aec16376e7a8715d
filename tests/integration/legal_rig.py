"""legal_rig: the legal service on a simulated clock, fed by a reliable stream in
staging's role, its messages to staging and outreach taken by Recorders (recorder.py),
with law firms and an agency as reference clients (tests/clients/python/case_client.py),
each with its own CURVE key. Every process is killed in close()."""
import os
import shutil
import subprocess
import sys
import tempfile

import zmq
import zmq.auth.thread

from harness import wait_for
from recorder import Recorder

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_DIR = os.path.join(HERE, "..", "clients", "python")
ASSIGNEES = (("firm-a", "firm"), ("firm-b", "firm"), ("agency-c", "agency"))
LIMITATION = 'limitation = { jurisdictions = ( { name = "CN"; years = 3; } ); };\n'
LEGAL = """data_dir = "legal_data"; durability = "durable"; log_level = "info";
keys = { own = "keys/legal.key"; allowed = "allowed.conf"; secret = "keys/legal.secret"; };
create_secret = true;
listen = "%(legal)s";
staging = { endpoint = "%(staging)s"; public_key = "keys/staging.pub"; };
outreach = { endpoint = "%(outreach)s"; public_key = "keys/outreach.pub"; };
limitation = "limitation.conf";
clock = { kind = "simulated"; start = "2026-03-01"; };
legal = {
  currencies = ( { currency = "CNY"; floor_minor = 100000; firm_from_minor = 500000; } );
  assignees = (
    { principal = "firm-a"; kind = "firm"; regions = ["CN"]; products = ["online_loan"];
      capacity = 10; accept_deadline_days = 3; },
    { principal = "firm-b"; kind = "firm"; regions = ["CN"]; products = ["online_loan"];
      capacity = 10; accept_deadline_days = 3; },
    { principal = "agency-c"; kind = "agency"; regions = ["CN"];
      products = ["online_loan", "credit_card"]; capacity = 10; commission_bps = 2000;
      accept_deadline_days = 3; recall_after_days = 30; }
  );
  sweep_every_ms = 100;
};
"""
DAY_MS = 86400000
START_MS = 1772323200000   # 2026-03-01 00:00 UTC, the simulated clock's start


class LegalRig:
    def __init__(self, legal_bin, arrears, proto_dir, prefix="lgl"):
        self.legal_bin = os.path.abspath(legal_bin)
        sys.path[:0] = [proto_dir, CLIENT_DIR]
        os.environ["ARREARS_PROTO_PYTHON"] = proto_dir
        import arrears_client
        import case_client
        self.ac, self.cc = arrears_client, case_client
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.ctx, self.proc, self.auth = zmq.Context(), None, None
        self.to_staging = self.to_outreach = self.staging = self.operator = None
        self.clients = {}
        os.mkdir(self.path("keys"), 0o700)
        for name in ("legal", "staging", "outreach", "operator", "stranger") + tuple(
                n for n, _ in ASSIGNEES):
            subprocess.run([arrears, "keygen", name, self.path("keys")], check=True,
                           capture_output=True)
        self.ep = {n: "ipc://%s/%s.sock" % (self.dir, n) for n in ("legal", "staging", "outreach")}
        self.write_configs()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def public(self, name):
        return self.ac.load_public(self.path("keys", name + ".pub")).decode()

    def keypair(self, name):
        return self.ac.load_keypair(self.path("keys", name + ".key"))

    def write_configs(self):
        rows = [("staging", "service"), ("operator", "operator")] + list(ASSIGNEES)
        with open(self.path("allowed.conf"), "w") as f:
            f.write("keys = (\n%s\n);\n" % ",\n".join(
                '  { principal = "%s"; role = "%s"; public = "%s"; }' % (n, r, self.public(n))
                for n, r in rows))
        with open(self.path("limitation.conf"), "w") as f:
            f.write(LIMITATION)
        with open(self.path("legal.conf"), "w") as f:
            f.write(LEGAL % self.ep)

    def start(self):
        """The recorders of staging's and outreach's side, legal, the clients."""
        self.auth = zmq.auth.thread.ThreadAuthenticator(self.ctx)
        self.auth.start()
        self.auth.configure_curve_callback("*", credentials_provider=self.ac.AllowKeys(
            [self.ac.load_public(self.path("keys", "legal.pub"))], "legal_rig"))
        self.to_staging = Recorder(self.ac, self.ctx, self.ep["staging"], self.keypair("staging"))
        self.to_outreach = Recorder(self.ac, self.ctx, self.ep["outreach"], self.keypair("outreach"))
        self.to_staging.start()
        self.to_outreach.start()
        self.start_legal()
        legal_pub = self.path("keys", "legal.pub")
        self.staging = self.ac.Stream(self.ep["legal"], self.ac.load_public(legal_pub),
                                      self.keypair("staging"), resend_timeout=1.0, context=self.ctx)
        self.operator = self.ac.Stream(self.ep["legal"], self.ac.load_public(legal_pub),
                                       self.keypair("operator"), resend_timeout=1.0, context=self.ctx)
        for name, _ in ASSIGNEES:
            self.clients[name] = self.cc.CaseClient(self.ep["legal"], legal_pub, self.keypair(name),
                                                    context=self.ctx)

    def start_legal(self):
        log = open(self.path("legal.log"), "ab")
        sock = self.path("legal.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        self.proc = subprocess.Popen([self.legal_bin, "--config", self.path("legal.conf")],
                                     stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        wait_for(lambda: os.path.exists(sock), 30, "legal to bind")

    def kill_legal(self):
        self.proc.kill()
        self.proc.wait()

    def advance(self, to_ms, timeout=60):
        """ClockAdvance as the operator, sent until legal acknowledges it (busy: again)."""
        m = self.ac.envelope_pb2.ClockAdvance(to_ms=to_ms)
        self.operator.send(m)
        self.operator.flush(timeout)

    def dump(self):
        out = subprocess.run([self.legal_bin, "dump", "--config", self.path("legal.conf")],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def log_text(self):
        with open(self.path("legal.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def close(self, keep=False):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for c in self.clients.values():
            c.stream.close(save=False)
        for s in (self.staging, self.operator):
            if s:
                s.close(save=False)
        for r in (self.to_staging, self.to_outreach):
            if r:
                r.stop = True
                r.join()
        if self.auth:
            self.auth.stop()
        self.ctx.destroy(linger=0)
        if keep or os.environ.get("ARREARS_KEEP_TMP"):
            print("kept " + self.dir, flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
