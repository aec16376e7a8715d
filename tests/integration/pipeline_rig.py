"""pipeline_rig: intake -> staging -> stand-ins for outreach, legal and sale, as real
processes on ipc:// endpoints in a short temporary directory, with staging on the
simulated clock, and the simulation driver (DESIGN.md "Time") that advances it. With
outreach=Outreach(...) the real outreach broker and its workers take the stand-in's
place for outreach; with legal=Legal(...) (which needs the real outreach) the real legal
service takes the stand-in's place for legal, with its firms and agencies' keys; with
sale=Sale(...) (likewise) the real sale service takes its place for sale, with its
buyers' keys.

Keys (`arrears keygen`): intake, staging, downstream (the stand-in's, for all three
endpoints), the platform p1 and an operator. intake admits p1 (platform) and staging
(service); staging admits intake and downstream (service) and operator (operator).

The driver's round for an instant T: the platform's messages are acknowledged by intake,
intake has nothing un-acknowledged for staging, then ClockAdvance(T) is sent to staging
(answered `busy` until its daily run reached T and its outboxes are drained), and the
round repeats while the stand-in's log still grows (its scripted replies make staging
move again). Every wait polls with a timeout. Every process is killed in close()."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from harness import fail, wait_for
from intake_rig import CLIENT_DIR, import_client

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(CLIENT_DIR, "downstream_standin.py")
DAY_MS = 86400000


class Outreach:
    """The real outreach: broker and worker binaries, the profile and template files,
    how many workers, their seed, and settings appended to the broker's file."""
    def __init__(self, broker, worker, profiles, templates, workers=1, seed=1, extra_conf="",
                 lease_ms=60000):
        self.broker, self.worker = os.path.abspath(broker), os.path.abspath(worker)
        self.profiles, self.templates = profiles, templates
        self.workers, self.seed, self.extra_conf, self.lease_ms = workers, seed, extra_conf, lease_ms


class Legal:
    """The real legal service: its binary and the assignees of its file (principal,
    role "firm" or "agency", and the rest of the entry, e.g. 'regions = ["CN"]; ...');
    limitation: the text of legal's own jurisdiction file (None: staging's)."""
    def __init__(self, binary, assignees, currencies, sweep_every_ms=100, limitation=None):
        self.binary = os.path.abspath(binary)
        self.assignees, self.currencies, self.sweep_every_ms = assignees, currencies, sweep_every_ms
        self.limitation = limitation

    def conf_text(self):
        rows = ",\n    ".join('{ principal = "%s"; kind = "%s"; %s }' % a for a in self.assignees)
        return 'legal = {\n  currencies = ( %s );\n  assignees = (\n    %s\n  );\n' \
               '  sweep_every_ms = %d;\n};\n' % (self.currencies, rows, self.sweep_every_ms)


class Sale:
    """The real sale service: its binary, its buyers (principals of role "buyer") and
    the text of its `sale = { ... };` group."""
    def __init__(self, binary, buyers, conf_text):
        self.binary = os.path.abspath(binary)
        self.buyers, self.conf_text = buyers, conf_text


class PipelineRig:
    def __init__(self, arrears, intake, staging, proto_dir, strategy, start_date="2026-01-01",
                 prefix="pip", script=None, extra_staging_conf="", extra_intake_conf="",
                 outreach=None, durability="durable", legal=None, sale=None):
        """extra_staging_conf, extra_intake_conf: settings appended to each service's
        configuration file, e.g. 'daily = { chunk_accounts = 2; };' for staging.
        durability: "relaxed" (no fsync; a crash may lose commits) for tests that kill
        nothing and want speed; "durable" otherwise."""
        self.outreach, self.legal, self.sale = outreach, legal, sale
        if (legal or sale) and not outreach:
            raise ValueError("the real legal and sale services work with the real outreach")
        self.durability = durability
        self.bins = dict(arrears=arrears, intake=intake, staging=staging)
        self.proto_dir = proto_dir
        self.ac = import_client(proto_dir)
        import outreach_pb2
        import staging_pb2
        self.outreach_pb2, self.staging_pb2 = outreach_pb2, staging_pb2
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.procs, self.streams = [], []
        self.proc = {}
        os.mkdir(self.path("keys"), 0o700)
        names = ["intake", "staging", "downstream", "p1", "operator"]
        names += ["outreach", "worker"] if outreach else []
        names += ["legal"] + [a[0] for a in legal.assignees] if legal else []
        names += ["sale"] + list(sale.buyers) if sale else []
        for name in names:
            self.run([arrears, "keygen", name, self.path("keys")])
        self.ep = {name: "ipc://%s/%s.sock" % (self.dir, name)
                   for name in ("intake", "staging", "outreach", "legal", "sale", "standin_outreach",
                                "standin_legal", "standin_sale")}
        self.write_keys()
        self.write_configs(strategy, start_date, extra_staging_conf, extra_intake_conf)
        if outreach:
            self.write_outreach_configs(start_date)
        if legal:
            self.write_legal_config(start_date)
        if sale:
            self.write_sale_config(start_date)
        with open(self.path("script.json"), "w") as f:
            json.dump(script or {}, f)
        self.platform = self.operator = None
        self.now_ms = None   # the instant the driver last settled

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run(self, argv, check=True):
        out = subprocess.run(argv, capture_output=True, text=True)
        if check and out.returncode != 0:
            fail("%s: exit %d\n%s%s" % (" ".join(argv), out.returncode, out.stdout, out.stderr))
        return out

    def public_key(self, name):
        return self.ac.load_public(self.path("keys", name + ".pub")).decode()

    def write_keys(self):
        def allowed(fname, rows):
            text = ",\n".join('  { principal = "%s"; role = "%s"; public = "%s"; }'
                              % (p, role, self.public_key(p)) for p, role in rows)
            with open(self.path("keys", fname), "w") as f:
                f.write("keys = (\n%s\n);\n" % text)
        allowed("intake_allowed.conf", [("p1", "platform"), ("staging", "service")])
        services = [("intake", "service"), ("downstream", "service"), ("operator", "operator")]
        assignees = [(a[0], a[1]) for a in self.legal.assignees] if self.legal else []
        if self.outreach:
            services.append(("outreach", "service"))
            allowed("outreach_allowed.conf", [("staging", "service"), ("worker", "worker"),
                                              ("operator", "operator")] +
                    ([("legal", "service")] if self.legal else []) + assignees)
        if self.legal:
            services.append(("legal", "service"))
            allowed("legal_allowed.conf", [("staging", "service"), ("operator", "operator")] + assignees)
        if self.sale:
            services.append(("sale", "service"))
            allowed("sale_allowed.conf", [("staging", "service"), ("operator", "operator")] +
                    [(b, "buyer") for b in self.sale.buyers])
        allowed("staging_allowed.conf", services)

    def service_conf(self, name):
        """The lines every service's file starts with: its store, keys and endpoint."""
        return ['data_dir = "%s_data";' % name, 'durability = "%s";' % self.durability,
                'keys = { own = "keys/%s.key"; allowed = "keys/%s_allowed.conf"; '
                'secret = "keys/%s.secret"; };' % (name, name, name), 'create_secret = true;',
                'listen = "%s";' % self.ep[name]]

    def write_configs(self, strategy, start_date, extra_staging_conf="", extra_intake_conf=""):
        shutil.copy(strategy, self.path("strategy.conf"))
        shutil.copy(os.path.join(HERE, "conf", "limitation.conf"), self.path("limitation.conf"))
        # intake keeps the wall clock: its feed's age rule would prune at once events dated
        # in a simulated past, so on the simulated clock the feed is kept by count.
        if "feed" not in extra_intake_conf:
            extra_intake_conf += "\nfeed = { retain_days = 3650; };"
        with open(self.path("intake.conf"), "w") as f:
            f.write("\n".join(self.service_conf("intake") + [
                'staging = { endpoint = "%s"; public_key = "keys/staging.pub"; };' % self.ep["staging"],
                'limits = { resend_timeout_ms = 500; };', extra_intake_conf, ""]))
        def peer_key(name):
            real = name == "intake" or (name == "outreach" and self.outreach) or \
                (name == "legal" and self.legal) or (name == "sale" and self.sale)
            return name if real else "downstream"
        peers = "\n".join('%s = { endpoint = "%s"; public_key = "keys/%s.pub"; };'
                          % (name, self.ep[name], peer_key(name))
                          for name in ("outreach", "legal", "sale", "intake"))
        with open(self.path("staging.conf"), "w") as f:
            f.write("\n".join(self.service_conf("staging") + [
                'strategy = "strategy.conf";', 'limitation = "limitation.conf";',
                'clock = { kind = "simulated"; start = "%s"; };' % start_date,
                peers, 'limits = { resend_timeout_ms = 500; };', extra_staging_conf, ""]))

    def write_outreach_configs(self, start_date):
        o = self.outreach
        with open(self.path("outreach.conf"), "w") as f:
            f.write("\n".join(self.service_conf("outreach") + [
                'staging = { endpoint = "%s"; public_key = "keys/staging.pub"; };' % self.ep["staging"],
                'profiles = "%s";' % o.profiles, 'templates = "%s";' % o.templates,
                'clock = { kind = "simulated"; start = "%s"; };' % start_date,
                'broker = { lease_ms = %d; };' % o.lease_ms,
                'limits = { resend_timeout_ms = 500; };', o.extra_conf, ""]))
        with open(self.path("worker.conf"), "w") as f:
            f.write("\n".join([
                'broker = { endpoint = "%s"; public_key = "keys/outreach.pub"; };' % self.ep["outreach"],
                'keys = { own = "keys/worker.key"; };', 'name = "w";',
                'channels = ["sms", "email", "letter", "call", "visit"];',
                'spool = "spool";', 'seed = %d;' % o.seed, 'idle_poll_ms = 5;',
                'reply_timeout_ms = 1000;', ""]))

    def write_legal_config(self, start_date):
        limitation = "limitation.conf"
        if self.legal.limitation is not None:
            limitation = "legal_limitation.conf"
            with open(self.path(limitation), "w") as f:
                f.write(self.legal.limitation)
        with open(self.path("legal.conf"), "w") as f:
            f.write("\n".join(self.service_conf("legal") + [
                'staging = { endpoint = "%s"; public_key = "keys/staging.pub"; };' % self.ep["staging"],
                'outreach = { endpoint = "%s"; public_key = "keys/outreach.pub"; };' % self.ep["outreach"],
                'limitation = "%s";' % limitation,
                'clock = { kind = "simulated"; start = "%s"; };' % start_date,
                'limits = { resend_timeout_ms = 500; };', self.legal.conf_text(), ""]))

    def write_sale_config(self, start_date):
        with open(self.path("sale.conf"), "w") as f:
            f.write("\n".join(self.service_conf("sale") + [
                'staging = { endpoint = "%s"; public_key = "keys/staging.pub"; };' % self.ep["staging"],
                'clock = { kind = "simulated"; start = "%s"; };' % start_date,
                'limits = { resend_timeout_ms = 500; };', self.sale.conf_text, ""]))

    # -- processes --

    def spawn(self, name, argv, sock):
        sock_path = sock[len("ipc://"):]
        if os.path.exists(sock_path):
            os.unlink(sock_path)   # a SIGKILLed process leaves its socket file behind
        log = open(self.path(name + ".log"), "ab")
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        self.procs.append(proc)
        self.proc[name] = proc
        wait_for(lambda: os.path.exists(sock_path) or proc.poll() is not None, 30,
                 "%s to bind %s" % (name, sock_path))
        if proc.poll() is not None:
            fail("%s exited at start (%d): %s" % (name, proc.returncode, self.log_text(name + ".log")[-2000:]))
        return proc

    def start_standin(self):
        return self.spawn("standin", [
            sys.executable, STANDIN, "--proto-dir", self.proto_dir,
            "--outreach-endpoint", self.ep["standin_outreach" if self.outreach else "outreach"],
            "--legal-endpoint", self.ep["standin_legal" if self.legal else "legal"],
            "--sale-endpoint", self.ep["standin_sale" if self.sale else "sale"],
            "--key", self.path("keys", "downstream.key"),
            "--allow", self.path("keys", "staging.pub"), "--log", self.path("standin.jsonl"),
            "--staging-endpoint", self.ep["staging"],
            "--staging-public", self.path("keys", "staging.pub"),
            "--state", self.path("standin.state"), "--script", self.path("script.json")],
            self.ep["standin_sale" if self.sale else "sale"])

    def start_staging(self):
        return self.spawn("staging", [self.bins["staging"], "--config", self.path("staging.conf")],
                          self.ep["staging"])

    def start_intake(self):
        return self.spawn("intake", [self.bins["intake"], "--config", self.path("intake.conf")],
                          self.ep["intake"])

    def start_broker(self):
        return self.spawn("broker", [self.outreach.broker, "--config", self.path("outreach.conf")],
                          self.ep["outreach"])

    def start_legal(self):
        return self.spawn("legal", [self.legal.binary, "--config", self.path("legal.conf")],
                          self.ep["legal"])

    def start_sale(self):
        return self.spawn("sale", [self.sale.binary, "--config", self.path("sale.conf")],
                          self.ep["sale"])

    def start_worker(self, i):
        """Workers bind nothing: started, they are up once their log says so."""
        name = "worker%d" % i
        log = open(self.path(name + ".log"), "ab")
        proc = subprocess.Popen([self.outreach.worker, "--config", self.path("worker.conf")],
                                stdout=subprocess.DEVNULL, stderr=log, cwd=self.dir)
        log.close()
        self.procs.append(proc)
        self.proc[name] = proc
        wait_for(lambda: "worker_start" in self.log_text(name + ".log") or proc.poll() is not None,
                 30, name + " to start")
        if proc.poll() is not None:
            fail("%s exited at start (%d): %s" % (name, proc.returncode, self.log_text(name + ".log")[-2000:]))
        return proc

    def start_all(self):
        self.start_standin()
        if self.outreach:
            self.start_broker()
            for i in range(self.outreach.workers):
                self.start_worker(i)
        if self.legal:
            self.start_legal()
        if self.sale:
            self.start_sale()
        self.start_staging()
        self.start_intake()
        self.platform = self.stream("intake", "p1", "p1.state")
        # The driver's busy answers last milliseconds (a daily run, a worker's pull): it
        # asks again soon rather than idling a client's usual back-off away.
        self.operator = self.stream("staging", "operator", "operator.state",
                                    backoff_initial=0.002, backoff_max=0.004)
        if self.outreach:
            self.broker_operator = self.stream("outreach", "operator", "broker_operator.state",
                                               backoff_initial=0.002, backoff_max=0.004)
        if self.legal:
            self.legal_operator = self.stream("legal", "operator", "legal_operator.state",
                                              backoff_initial=0.002, backoff_max=0.004)
        if self.sale:
            self.sale_operator = self.stream("sale", "operator", "sale_operator.state",
                                             backoff_initial=0.002, backoff_max=0.004)

    def stream(self, service, key, state, **kw):
        s = self.ac.Stream(self.ep[service], self.ac.load_public(self.path("keys", service + ".pub")),
                           self.ac.load_keypair(self.path("keys", key + ".key")),
                           state_path=self.path(state), resend_timeout=0.5, **kw)
        self.streams.append(s)
        return s

    def kill(self, name, sig=signal.SIGKILL, timeout=60):
        proc = self.proc[name]
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            fail("%s did not stop on signal %d within %d s" % (name, sig, timeout))
        return proc.returncode

    def stop(self, name):
        rc = self.kill(name, signal.SIGTERM)
        if rc != 0:
            fail("%s stopped with exit %d: %s" % (name, rc, self.log_text(name + ".log")[-3000:]))
        self.check_sanitizers(name)

    def check_sanitizers(self, name):
        log = self.log_text(name + ".log")
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            at = log.find(marker)
            if at >= 0:
                fail("%s's log has a sanitizer report:\n%s" % (name, log[max(0, at - 200):at + 3000]))

    # -- the simulation driver --

    def standin_log(self):
        try:
            with open(self.path("standin.jsonl")) as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except OSError:
            return []

    def settle_intake(self, timeout=60):
        """The platform's messages acknowledged and intake's outbox to staging drained."""
        self.platform.flush(timeout)
        wait_for(lambda: self.platform.health().outbox_unacked == 0, timeout,
                 "intake to deliver everything to staging")

    def advance(self, to_ms, timeout=120):
        """Settles the current instant (what was sent since the last round, and the
        stand-in's replies to it, all applied at that instant), then moves to to_ms and
        settles that: the daily run's requests and the replies they draw."""
        if self.now_ms is not None:
            self.settle(self.now_ms, timeout)
        self.settle(to_ms, timeout)
        self.now_ms = to_ms

    def start_advance(self, to_ms, timeout=120):
        """advance()'s first half: settles the current instant and sends ClockAdvance(to_ms)
        without waiting for it, so a test can act while staging's run is under way;
        advance(to_ms) then finishes the move."""
        if self.now_ms is not None:
            self.settle(self.now_ms, timeout)
        self.operator.send(self.ac.envelope_pb2.ClockAdvance(to_ms=to_ms))
        self.now_ms = to_ms

    def settle(self, at_ms, timeout=120):
        """Driver rounds at one instant until nothing new moves: intake delivered
        everything, staging acknowledged ClockAdvance(at_ms) (its run reached the instant
        and its outboxes are drained), the stand-in's replies are acknowledged and its
        log did not grow during the round."""
        while True:
            seen = (len(self.standin_log()), self.moved())
            self.settle_intake(timeout)
            self.operator.send(self.ac.envelope_pb2.ClockAdvance(to_ms=at_ms))
            self.operator.flush(timeout)
            if self.operator.rejected:
                fail("staging refused a clock advance: %r" % self.operator.rejected)
            for name, op in self.service_operators():
                op.send(self.ac.envelope_pb2.ClockAdvance(to_ms=at_ms))
                op.flush(timeout)
                if op.rejected:
                    fail("%s refused a clock advance: %r" % (name, op.rejected))
            if self.standin_settled() and (len(self.standin_log()), self.moved()) == seen:
                return

    def service_operators(self):
        """The operator streams of the services after staging, in pipeline order."""
        return ([("the broker", self.broker_operator)] if self.outreach else []) + \
            ([("legal", self.legal_operator)] if self.legal else []) + \
            ([("sale", self.sale_operator)] if self.sale else [])

    def next_work_ms(self):
        """The earliest instant staging, the broker or legal has work of its own (Health
        next_work_ms), None when none knows of any."""
        replies = [self.operator.health()] + [op.health() for _, op in self.service_operators()]
        times = [h.next_work_ms for h in replies if h.HasField("next_work_ms")]
        return min(times) if times else None

    def moved(self):
        """What staging, the broker and legal ever put in their outboxes: a round in which
        it did not grow moved nothing."""
        if not self.outreach:
            return 0
        return tuple([self.operator.health().outbox_appended] +
                     [op.health().outbox_appended for _, op in self.service_operators()])

    def standin_settled(self):
        """Every reply the stand-in sent was acknowledged by staging."""
        try:
            with open(self.path("standin.state")) as f:
                st = json.load(f)
        except (OSError, ValueError):
            return True
        return int(st.get("acked", 0)) >= int(st.get("last_seq", 0))

    def account(self, ref, after=0, max_entries=500):
        q = self.staging_pb2.AccountQuery(platform="p1", account_ref=ref, after_entry=after,
                                          max_entries=max_entries)
        return self.operator.query(q)

    def timeline(self, ref):
        entries, after = [], 0
        while True:
            view = self.account(ref, after)
            entries.extend(view.timeline)
            if not view.timeline or entries[-1].seq >= view.timeline_total:
                return view, entries
            after = entries[-1].seq

    def dump(self, service="staging"):
        binary = {"staging": self.bins["staging"], "legal": self.legal and self.legal.binary,
                  "outreach": self.outreach and self.outreach.broker,
                  "sale": self.sale and self.sale.binary}[service]
        return self.run([binary, "dump", "--config", self.path(service + ".conf")]).stdout

    def log_text(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

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
        if os.environ.get("ARREARS_KEEP_TMP"):   # for a person debugging a failure
            print("kept " + self.dir, flush=True)
            return
        shutil.rmtree(self.dir, ignore_errors=True)
