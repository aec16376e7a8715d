#!/usr/bin/env python3
"""multihost: every service on a host of its own (issue 9, acceptance 2) — network
namespaces this test creates, joined by veth pairs to a bridge in a namespace of its own
(the machine's real network is never touched), the services talking TCP with CURVE —
runs the seeded demonstration on the simulated clock and must give the same report as
the embedded default on one host, while hosts' processes are SIGKILLed and restarted.

  (a) one host: `arrears up --simulated --relaxed`, demo_world.py for DAYS days,
      `arrears report --format csv`, each service's report message, `arrears down`;
  (b) the hosts below (10.88.0.0/24 on the bridge): each service runs inside its host
      (`nsenter --net=/run/netns/NS BINARY --config FILE`), its store in the run's temporary folder,
      listening on tcp://ADDRESS:PORT; its configuration is the one (a) ran with (the
      embedded default's, written by `arrears up`) with only the wiring changed — the
      folder, fresh keys from `arrears keygen`, the keys files with the same principals
      and roles (the one worker's key replaced by one per worker), tcp:// for ipc://;
      three workers, two on workers-a and one on workers-b. The world (demo_world.py
      --endpoints) runs on the "ops" host and talks TCP to every service. The clock is
      moved, and the report gathered, by the real `arrears simulate` and `arrears
      report`: on the ops host a small forwarder (this script, --forward) serves the
      embedded default's run/*.sock paths and carries each connection's bytes to the
      service's TCP endpoint, so the CLI's ZMTP/CURVE session is end to end with the
      service on its host. (Reusing the CLI's driver keeps the settle instants exactly
      those of (a): a re-implemented driver stepping differently would not be the same
      demonstration.)
  During (b): the broker host's process is SIGKILLed mid-run and restarted, then both
  workers of workers-a, then staging; the run goes on.
  Compared: the CSV report of (a) and (b) row for row, and the staging, legal and sale
  report messages (queried by this script as the operator over TCP in (b), over ipc in
  (a)) field by field, as_of_ms included (the same simulated instant); the world's own
  tally (payments, cases, bids...); the broker's report on its tasks by channel and their
  fates — not its deferral counts and rule and profile breakdowns, which differ between
  two runs on one host already (OUTREACH_CSV below says why): they are printed, not judged.

Staging shards: (a) runs one staging, (b) two shards on two hosts (`arrears up --shards
2` writes the configurations (b) is wired from): intake places each account on its
person's shard, the broker, legal and sale answer on the shard that sent, and `arrears
report` merges the shards' reports. Besides the CSV, staging's report of (a) is compared
with the shards' reports of (b) added up here, field by field (rates, which do not add,
left to the CSV, where the CLI recomputes them).

Needs root and CAP_NET_ADMIN (`ip netns`, iproute2 from scripts/install-deps): without
them the test FAILS saying so — unless given --or-skip (CI, whose container may not grant
them), when it says why and exits 77, which ctest reports as skipped. Everything it makes — processes in
every namespace, the namespaces (their veths go with them), temporary folders — is
removed in a `finally`.

usage: multihost.py [--or-skip] ARREARS INTAKE STAGING BROKER WORKER LEGAL SALE PROTO_DIR
                    [ACCOUNTS [DAYS [SEED]]]
       multihost.py --forward SOCKET=ADDRESS:PORT ...     (the forwarder, on the ops host)
       multihost.py --health|--reports PROTO_DIR KEYS ENDPOINTS_JSON [OUT]"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from harness import arrears_cli, fail   # harness also turns SIGTERM into SystemExit

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = os.path.join(os.path.dirname(HERE), "clients", "python", "demo_world.py")
PY = sys.executable or "/usr/bin/python3"
DAY_MS = 86400000
START = "2026-01-01"
START_MS = 1767225600000   # 2026-01-01T00:00:00Z
SUBNET = "10.88.0"
# Each service: its socket's name in the embedded default's run/ and its TCP port.
SOCKET = {"intake": "in", "staging": "st", "staging-1": "st-1", "outreach": "or", "legal": "lg",
          "sale": "sa"}
PORT = {"intake": 7401, "staging": 7402, "staging-1": 7402, "outreach": 7403, "legal": 7404,
        "sale": 7405}
SHARDS = ["staging", "staging-1"]
# The hosts: name, last octet, what runs there.
HOSTS = [
    ("ops", 10, []),                       # the world, the forwarder, the CLI
    ("intake", 11, ["intake"]),
    ("staging-0", 12, ["staging"]),
    ("staging-1", 13, ["staging-1"]),
    ("broker", 14, ["outreach"]),
    ("legal", 15, ["legal"]),
    ("sale", 16, ["sale"]),
    ("workers-a", 21, ["worker-1", "worker-2"]),
    ("workers-b", 22, ["worker-3"]),
]
WORKERS = ["worker-1", "worker-2", "worker-3"]
# The kills of (b): at this fraction of the run (simulated time, plus half a day so that
# it falls inside a day's `arrears simulate`), every process of this host.
KILLS = [(0.3, "broker"), (0.55, "workers-a"), (0.7, "staging-1"), (0.8, "staging-0")]


def sh(*args, check=True, timeout=60):
    out = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        fail("%s: exit %d: %s%s" % (" ".join(args), out.returncode, out.stdout[-2000:],
                                     out.stderr[-2000:]))
    return out


def address(host):
    return "%s.%d" % (SUBNET, dict((h, n) for h, n, _ in HOSTS)[host])


def host_of(service):
    return next(h for h, _, runs in HOSTS if service in runs)


def tcp_endpoints():
    return {SOCKET[s]: "tcp://%s:%d" % (address(host_of(s)), PORT[s]) for s in SOCKET}


# ---- the clients' modes (run on a host: `nsenter --net=... multihost.py --...`) ------

def forward_main(specs):
    """Serves each SOCKET path and pipes every connection to ADDRESS:PORT, both ways;
    one side closing closes the other (a killed service's clients reconnect)."""
    import asyncio

    async def pipe(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def handler(host, port):
        async def handle(r1, w1):
            try:
                r2, w2 = await asyncio.open_connection(host, port)
            except OSError:
                w1.close()
                return
            await asyncio.gather(pipe(r1, w2), pipe(r2, w1))
        return handle

    async def serve():
        servers = []
        for spec in specs:
            path, target = spec.split("=")
            host, port = target.rsplit(":", 1)
            if os.path.exists(path):
                os.unlink(path)
            servers.append(await asyncio.start_unix_server(handler(host, int(port)), path))
        print("forwarding", flush=True)
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(serve())


def client_modules(proto):
    os.environ["ARREARS_PROTO_PYTHON"] = proto
    sys.path.insert(0, proto)
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "clients", "python"))
    import arrears_client as ac
    return ac


def operator_streams(ac, keys, endpoints, services):
    me = ac.load_keypair(os.path.join(keys, "operator.key"))
    return {s: ac.Stream(endpoints[SOCKET[s]], ac.load_public(os.path.join(keys, s + ".pub")), me)
            for s in services}


def health_main(proto, keys, endpoints_json):
    """Every service answers a Health query as the operator (60 s at most)."""
    ac = client_modules(proto)
    with open(endpoints_json) as f:
        endpoints = json.load(f)
    streams = operator_streams(ac, keys, endpoints, [s for s in SOCKET if SOCKET[s] in endpoints])
    try:
        for s, st in streams.items():
            st.health(timeout=60)
    finally:
        for st in streams.values():
            st.close(save=False)
    print("healthy", flush=True)


def reports_main(proto, keys, endpoints_json, out):
    """Each service's report message, as JSON (field names as in the .proto)."""
    ac = client_modules(proto)
    import legal_pb2
    import outreach_pb2
    import sale_pb2
    import staging_pb2
    from google.protobuf import json_format
    with open(endpoints_json) as f:
        endpoints = json.load(f)
    queries = {s: staging_pb2.ReportQuery(platform="") for s in SHARDS if SOCKET[s] in endpoints}
    queries.update({"outreach": outreach_pb2.OutreachReportQuery(platform=""),
                    "legal": legal_pb2.LegalReportQuery(platform=""),
                    "sale": sale_pb2.SaleReportQuery()})
    streams = operator_streams(ac, keys, endpoints, list(queries))
    try:
        got = {s: json_format.MessageToDict(streams[s].query(q, 120),
                                            preserving_proto_field_name=True)
               for s, q in queries.items()}
    finally:
        for st in streams.values():
            st.close(save=False)
    with open(out, "w") as f:
        json.dump(got, f, indent=1, sort_keys=True)


# ---- (a): one host -------------------------------------------------------------------

def cli(arrears, folder, *args, timeout=600):
    return arrears_cli(arrears, folder, *args, timeout=timeout).stdout


def world_args(arrears, folder, proto, accounts, days, seed):
    return [PY, WORLD, "--dir", folder, "--arrears", arrears, "--accounts", str(accounts),
            "--seed", str(seed), "--days", str(days), "--start", START, "--proto-dir", proto]


def world_tally(stdout):
    """The world's summary lines: what it sent, was offered, won."""
    at = stdout.find("=== the world's side ===")
    if at < 0:
        fail("the world printed no summary:\n" + stdout[-3000:])
    return [l.strip() for l in stdout[at:].splitlines()[1:] if l.strip()]


def one_host(arrears, folder, proto, accounts, days, seed):
    cli(arrears, folder, "up", "--simulated", "--start", START, "--relaxed")
    t0 = time.monotonic()
    world = subprocess.run(world_args(arrears, folder, proto, accounts, days, seed),
                           capture_output=True, text=True, timeout=900)
    if world.returncode != 0:
        fail("(a) the world failed: %s%s" % (world.stdout[-3000:], world.stderr[-3000:]))
    print("(a) one host: %d days in %.0f s" % (days, time.monotonic() - t0), flush=True)
    csv = cli(arrears, folder, "report", "--format", "csv")
    endpoints = os.path.join(folder, "endpoints.json")
    with open(endpoints, "w") as f:
        json.dump({s: "ipc://%s/run/%s.sock" % (folder, s) for s in SOCKET.values() if s != "st-1"}, f)
    out = os.path.join(folder, "reports.json")
    reports = subprocess.run([PY, __file__, "--reports", proto, os.path.join(folder, "keys"),
                              endpoints, out], capture_output=True, text=True, timeout=300)
    if reports.returncode != 0:
        fail("(a) the report queries failed: %s%s" % (reports.stdout, reports.stderr[-3000:]))
    cli(arrears, folder, "down")
    with open(out) as f:
        return csv, json.load(f), world_tally(world.stdout)


# ---- (b): the hosts ------------------------------------------------------------------

class Net:
    """The namespaces: one per host, each with eth0 on a veth whose other end is on a
    bridge in the namespace `lan`. Names carry this process's id: runs never share."""

    def __init__(self, or_skip):
        self.prefix = "amh%d-" % os.getpid()
        self.or_skip = or_skip   # no namespaces here: skip (exit 77), not fail
        self.made = []

    def ns(self, host):
        return self.prefix + host

    @staticmethod
    def inside(name):
        """The command prefix that runs in namespace name. nsenter joins the network
        namespace only: `ip netns exec` and `ip -n` also remount /sys in a mount
        namespace of their own, which a chroot without a shared / refuses ("mount
        --make-rslave / failed"), as in fresh-check's clean root."""
        return ["nsenter", "--net=/run/netns/" + name]

    def unavailable(self, why):
        """No namespaces here: a failure, or with --or-skip a skip (exit 77) saying why."""
        if self.or_skip:
            print("SKIP: %s" % why, flush=True)
            sys.exit(77)
        fail(why + "; it does not skip without --or-skip")

    def add(self, name):
        out = sh("ip", "netns", "add", name, check=False)
        if out.returncode != 0:
            self.unavailable("cannot create a network namespace (`ip netns add %s`: %s). This "
                             "test needs root with CAP_NET_ADMIN and iproute2 "
                             "(scripts/install-deps)" % (name, out.stderr.strip()))
        self.made.append(name)
        sh(*self.inside(name), "ip", "link", "set", "lo", "up")

    def build(self):
        if os.geteuid() != 0:
            self.unavailable("multihost needs root (it creates network namespaces with `ip netns`)")
        if not shutil.which("ip"):
            fail("no `ip` command: install iproute2 (scripts/install-deps)")
        lan = self.ns("lan")
        self.add(lan)
        sh(*self.inside(lan), "ip", "link", "add", "br0", "type", "bridge")
        sh(*self.inside(lan), "ip", "link", "set", "br0", "up")
        for host, _, _ in HOSTS:
            ns, veth = self.ns(host), ("v" + host)[:15]
            self.add(ns)
            sh(*self.inside(lan), "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            sh(*self.inside(lan), "ip", "link", "set", veth, "master", "br0", "up")
            sh(*self.inside(ns), "ip", "addr", "add", address(host) + "/24", "dev", "eth0")
            sh(*self.inside(ns), "ip", "link", "set", "eth0", "up")
        # Every host reaches every other over the bridge.
        ping = sh(*self.inside(self.ns("ops")), "ping", "-c", "1", "-W", "5",
                  address("workers-b"), check=False) if shutil.which("ping") else None
        if ping is not None and ping.returncode != 0:
            fail("the hosts do not reach each other over the bridge: " + ping.stdout + ping.stderr)

    def pids(self, name):
        out = sh("ip", "netns", "pids", name, check=False)
        return [int(p) for p in out.stdout.split()]

    def kill_all(self, name):
        for pid in self.pids(name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def destroy(self):
        for name in self.made:
            self.kill_all(name)
        for name in reversed(self.made):
            deadline = time.monotonic() + 10
            while self.pids(name) and time.monotonic() < deadline:
                self.kill_all(name)
                time.sleep(0.05)
            sh("ip", "netns", "del", name, check=False)
        left = [n for n in self.made if os.path.exists("/run/netns/" + n)]
        self.made = []
        if left:
            print("multihost: namespaces left behind: " + " ".join(left), flush=True)


def allowed_rows(path):
    with open(path) as f:
        return re.findall(r'principal = "([^"]+)"; role = "([^"]+)";', f.read())


def public_z85(path):
    with open(path) as f:
        return re.search(r'public = "([^"]+)"', f.read()).group(1)


class Hosts:
    """(b)'s folder, its configurations and its processes."""

    def __init__(self, net, folder, template, binaries, arrears):
        """template: a folder `arrears up --shards 2` wrote (and `down` stopped)."""
        self.net, self.dir, self.a, self.arrears = net, folder, template, arrears
        self.binaries = binaries
        self.keys, self.log = os.path.join(folder, "keys"), os.path.join(folder, "log")
        self.procs = {}    # process name -> Popen
        self.events = []

    def conf(self, name):
        return os.path.join(self.dir, name + ".conf")

    def wire(self, text):
        """(a)'s file with (b)'s folder and every ipc:// socket on its TCP endpoint."""
        text = text.replace(self.a, self.dir)
        eps = tcp_endpoints()
        return re.sub(r'"ipc://%s/run/([\w-]+)\.sock"' % re.escape(self.dir),
                      lambda m: '"%s"' % eps[m.group(1)], text)

    def lay_out(self):
        for d in (self.keys, self.log, os.path.join(self.dir, "run")):
            os.makedirs(d, 0o700)
        names = sorted(f[:-4] for f in os.listdir(os.path.join(self.a, "keys"))
                       if f.endswith(".pub") and f != "worker.pub") + WORKERS
        for name in names:
            sh(self.arrears, "keygen", name, self.keys)
        for f in os.listdir(os.path.join(self.a, "keys")):
            if not f.endswith("-allowed.conf"):
                continue
            rows = []
            for principal, role in allowed_rows(os.path.join(self.a, "keys", f)):
                rows += [(w, role) for w in WORKERS] if principal == "worker" else [(principal, role)]
            with open(os.path.join(self.keys, f), "w") as out:
                out.write("# Who may connect, as whom (multihost: (a)'s principals, (b)'s keys).\n"
                          "keys = (\n%s\n);\n" % ",\n".join(
                              '  { principal = "%s"; role = "%s"; public = "%s"; }'
                              % (p, r, public_z85(os.path.join(self.keys, p + ".pub")))
                              for p, r in rows))
        for f in os.listdir(self.a):   # the strategies (staging-1.conf is a shard's own)
            if re.fullmatch(r"staging-\D.*\.conf", f):
                shutil.copy(os.path.join(self.a, f), os.path.join(self.dir, f))
        shutil.copy(os.path.join(self.a, "run", "shards"), os.path.join(self.dir, "run", "shards"))
        for service in SOCKET:
            with open(os.path.join(self.a, service + ".conf")) as f:
                text = self.wire(f.read())
            if 'listen = "tcp://%s:%d"' % (address(host_of(service)), PORT[service]) not in text:
                fail("%s's configuration does not listen on its host's address:\n%s" % (service, text))
            with open(self.conf(service), "w") as f:
                f.write(text)
        with open(os.path.join(self.a, "worker.conf")) as f:
            worker = self.wire(f.read())
        for w in WORKERS:
            text = worker.replace("/keys/worker.key", "/keys/%s.key" % w)
            text = text.replace('name = "worker";', 'name = "%s";' % w)
            text = text.replace('/spool"', '/spool-%s"' % w)
            if text.count(w) != 3 or "ipc://" in text:
                fail("the worker's configuration did not take its name, key and spool:\n" + text)
            with open(self.conf(w), "w") as f:
                f.write(text)
        with open(os.path.join(self.dir, "run", "clock"), "w") as f:
            f.write("%d\n" % START_MS)   # what `arrears up --simulated` writes
        with open(os.path.join(self.dir, "endpoints.json"), "w") as f:
            json.dump(tcp_endpoints(), f, indent=1)

    def binary(self, name):
        return self.binaries["worker" if name.startswith("worker") else name]

    def start(self, name):
        host = next(h for h, _, runs in HOSTS if name in runs)
        log = open(os.path.join(self.log, name + ".log"), "ab")
        self.procs[name] = subprocess.Popen(
            [*self.net.inside(self.net.ns(host)), self.binary(name), "--config", self.conf(name)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/", start_new_session=True)
        log.close()

    def log_text(self, name):
        with open(os.path.join(self.log, name + ".log"), errors="replace") as f:
            return f.read()

    def wait_workers(self, names, since):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(self.log_text(n).count("worker_start") > since.get(n, 0) for n in names):
                return
            for n in names:
                if self.procs[n].poll() is not None:
                    fail("%s exited at start: %s" % (n, self.log_text(n)[-2000:]))
            time.sleep(0.05)
        fail("workers %s did not start in 60 s" % names)

    def in_ops(self, *args, timeout=300):
        return subprocess.run([*self.net.inside(self.net.ns("ops")), *args],
                              capture_output=True, text=True, timeout=timeout)

    def wait_healthy(self, proto):
        out = self.in_ops(PY, __file__, "--health", proto, self.keys,
                          os.path.join(self.dir, "endpoints.json"), timeout=120)
        if out.returncode != 0:
            fail("(b) the services do not answer over TCP: %s%s\n%s" % (
                out.stdout, out.stderr[-3000:],
                "\n".join("%s: %s" % (s, self.log_text(s)[-800:]) for s in SOCKET)))

    def up(self, proto):
        self.lay_out()
        for s in ["outreach", "legal", "sale", "staging", "staging-1", "intake"]:
            self.start(s)
        self.wait_healthy(proto)
        for w in WORKERS:
            self.start(w)
        self.wait_workers(WORKERS, {})
        run = os.path.join(self.dir, "run")
        specs = ["%s/%s.sock=%s:%d" % (run, SOCKET[s], address(host_of(s)), PORT[s]) for s in SOCKET]
        log = open(os.path.join(self.log, "forward.log"), "ab")
        self.procs["forward"] = subprocess.Popen(
            [*self.net.inside(self.net.ns("ops")), PY, __file__, "--forward", *specs],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while not all(os.path.exists(s.split("=")[0]) for s in specs):
            if time.monotonic() > deadline or self.procs["forward"].poll() is not None:
                fail("the forwarder did not start: " + self.log_text("forward"))
            time.sleep(0.05)

    def crash(self, host):
        """SIGKILL every process of the host, then start them again in it."""
        names = [n for h, _, runs in HOSTS if h == host for n in runs]
        before = {n: self.log_text(n).count("worker_start") for n in names}
        pids = self.net.pids(self.net.ns(host))
        self.net.kill_all(self.net.ns(host))
        for n in names:
            rc = self.procs[n].wait(timeout=30)
            if rc != -signal.SIGKILL:
                fail("%s on %s ended with %s, not by the SIGKILL" % (n, host, rc))
        with open(os.path.join(self.dir, "run", "clock")) as f:
            at = (int(f.read()) - START_MS) / DAY_MS
        self.events.append("SIGKILL host %s (pids %s: %s) at simulated day %.2f; restarted"
                           % (host, " ".join(map(str, pids)), ", ".join(names), at))
        print("(b) " + self.events[-1], flush=True)
        for n in names:
            self.start(n)
        workers = [n for n in names if n.startswith("worker")]
        if workers:
            self.wait_workers(workers, before)

    def stop_all(self):
        """SIGTERM, and each must exit 0 (a clean stop after the run)."""
        unclean = []
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in list(self.procs.items()):
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = "timeout"
            if rc != 0 and name != "forward":
                unclean.append("%s: %s" % (name, rc))
        return unclean


def run_hosts(hosts, arrears, proto, accounts, days, seed):
    hosts.up(proto)
    print("(b) hosts up: %s" % ", ".join("%s=%s" % (h, address(h)) for h, _, _ in HOSTS), flush=True)
    t0 = time.monotonic()
    world = subprocess.Popen([*hosts.net.inside(hosts.net.ns("ops")),
                              *world_args(arrears, hosts.dir, proto, accounts, days, seed),
                              "--endpoints", os.path.join(hosts.dir, "endpoints.json")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    output = []
    reader = threading.Thread(target=lambda: output.extend(world.stdout), daemon=True)
    reader.start()
    clock = os.path.join(hosts.dir, "run", "clock")
    kills = [(START_MS + int((frac * days + 0.5) * DAY_MS), host) for frac, host in KILLS]
    deadline = time.monotonic() + 900
    try:
        while world.poll() is None:
            if time.monotonic() > deadline:
                fail("(b) the world did not finish in 900 s")
            try:
                with open(clock) as f:
                    now = int(f.read() or 0)
            except (OSError, ValueError):
                now = 0
            if kills and now >= kills[0][0]:
                hosts.crash(kills.pop(0)[1])
            time.sleep(0.02)
    finally:
        if world.poll() is None:
            world.kill()
        world.wait()
        reader.join(10)
    stdout = "".join(output)
    if world.returncode != 0:
        fail("(b) the world failed: %s" % stdout[-4000:])
    if kills:
        fail("(b) the run ended before every kill: %s left" % [h for _, h in kills])
    print("(b) %d hosts: %d days in %.0f s" % (len(HOSTS), days, time.monotonic() - t0), flush=True)
    csv = hosts.in_ops(arrears, "report", "--format", "csv", "--dir", hosts.dir)
    if csv.returncode != 0:
        fail("(b) arrears report: %s%s" % (csv.stdout[-2000:], csv.stderr[-2000:]))
    out = os.path.join(hosts.dir, "reports.json")
    reports = hosts.in_ops(PY, __file__, "--reports", proto, hosts.keys,
                           os.path.join(hosts.dir, "endpoints.json"), out)
    if reports.returncode != 0:
        fail("(b) the report queries over TCP failed: %s%s" % (reports.stdout, reports.stderr[-3000:]))
    unclean = hosts.stop_all()
    if unclean:
        fail("(b) services did not stop cleanly on SIGTERM: %s" % unclean)
    with open(out) as f:
        return csv.stdout, json.load(f), world_tally(stdout)


# ---- the comparison ------------------------------------------------------------------

def flatten(value, path="", out=None):
    out = {} if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(v, path + "." + k if path else k, out)
    elif isinstance(value, list):
        out[path + "#len"] = len(value)
        for i, v in enumerate(value):
            flatten(v, "%s[%d]" % (path, i), out)
    else:
        out[path] = value
    return out


# The outreach figures that are not the same from one run to the next even on one host
# (two embedded runs, same seed, differ in them): the gate's deferrals and a task's fate
# depend on when a worker happened to pull it between two steps of the simulated clock
# — the driver settles the services, not the workers (they poll on the wall clock) — so
# a deferral more or less, a task screened and refused or cancelled first, a call still
# open at the end or already failed; and with them the breakdowns by rule and profile
# (a task never screened is under profile ""). Compared: each section's channels, the
# tasks queued on each (staging's requests), and their fates up to those swaps: not
# attempted; cancelled + refused; delivered and failed (when no task is open on either
# side; else delivered + failed + open).
OUTREACH_CSV = ("outreach_channel", "conduct_rule", "conduct_profile", "outreach")


def outreach_substance(report, other):
    def fates(c, open_somewhere):
        n = lambda k: int(c.get(k, 0))
        done = ([n("delivered"), n("failed")] if not open_somewhere
                else [n("delivered") + n("failed") + n("open")])
        return [c.get("channel"), n("tasks"), n("not_attempted"), n("cancelled") + n("refused")] + done
    opened = lambda r: any(int(c.get("open", 0)) for s in r.get("sections", [])
                           for c in s.get("channels", []))
    somewhere = opened(report) or opened(other)
    return [(s.get("platform", ""), s.get("currency", ""),
             [fates(c, somewhere) for c in s.get("channels", [])])
            for s in report.get("sections", [])] + [report.get("as_of_ms"),
                                                    report.get("tasks_unreported")]


# The fields that name a list element (a section, group, cell, curve or point).
NAMING = ("platform", "currency", "name", "arm", "month", "from_stage", "to_stage")


def summed(reports):
    """The shards' staging reports added up, here and not by the CLI's merge: every
    integer by its path, list elements by their naming fields rather than their place;
    rates (which do not add) and the instant left out."""
    out = {}

    def walk(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                if not k.endswith("_bps") and k != "as_of_ms" and k not in NAMING:
                    walk(v, path + "." + k)
        elif isinstance(value, list):
            for v in value:
                walk(v, "%s[%s]" % (path, "|".join(str(v.get(k, "")) for k in NAMING
                                                   if isinstance(v, dict) and k in v)))
        elif isinstance(value, (int, str)) and str(value).lstrip("-").isdigit():
            out[path] = out.get(path, 0) + int(value)   # int64s come as strings in JSON
    for r in reports:
        walk(r, "")
    return out


def compare_staging(a_rep, b_rep):
    a = summed([a_rep.pop(s) for s in SHARDS if s in a_rep])
    b = summed([b_rep.pop(s) for s in SHARDS if s in b_rep])
    fields = [k for k in sorted(set(a) | set(b)) if a.get(k, 0) != b.get(k, 0)]
    if not fields:
        return [], len(a)
    return ["staging's report (one staging) and its shards' added up differ in %d fields:\n%s"
            % (len(fields), "\n".join("  %s: one host %r, hosts %r" % (k, a.get(k), b.get(k))
                                      for k in fields[:40]))], len(a)


def compare(a, b):
    diffs = []
    a_csv, a_rep, a_world = a
    b_csv, b_rep, b_world = b
    keep = lambda lines: [l for l in lines if l.split(",")[0] not in OUTREACH_CSV]
    a_lines, b_lines = keep(a_csv.splitlines()), keep(b_csv.splitlines())
    if a_lines != b_lines:
        only_a = [l for l in a_lines if l not in set(b_lines)]
        only_b = [l for l in b_lines if l not in set(a_lines)]
        diffs.append("the CSV reports differ (%d rows on one host, %d on the hosts):\n  one host "
                     "only: %s\n  hosts only:    %s" % (len(a_lines), len(b_lines),
                                                        only_a[:20], only_b[:20]))
    a_rep, b_rep = dict(a_rep), dict(b_rep)
    staging_diffs, staging_fields = compare_staging(a_rep, b_rep)
    diffs += staging_diffs
    a_o, b_o = a_rep.pop("outreach"), b_rep.pop("outreach")
    a_out, b_out = outreach_substance(a_o, b_o), outreach_substance(b_o, a_o)
    if a_out != b_out:
        diffs.append("the broker's tasks or their fates differ (channel, tasks, not attempted, cancelled + refused, delivered, failed):\n  one host: %s\n  hosts:    %s"
                     % (a_out, b_out))
    fa, fb = flatten(a_rep), flatten(b_rep)
    fields = [k for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
    if fields:
        diffs.append("the report messages differ in %d fields:\n%s" % (len(fields), "\n".join(
            "  %s: one host %r, hosts %r" % (k, fa.get(k), fb.get(k)) for k in fields[:40])))
    if a_world != b_world:
        diffs.append("the world's tally differs:\n  one host: %s\n  hosts:    %s" % (a_world, b_world))
    return diffs, len(a_lines), len(fa) + staging_fields


def outreach_drift(a, b):
    """How many of the excluded outreach figures differ, and the channels' states where
    they do (printed, not judged)."""
    fa, fb = flatten(a[1]["outreach"]), flatten(b[1]["outreach"])
    states = ("delivered", "failed", "not_attempted", "cancelled", "refused", "open", "deferrals")
    table = lambda r: {(s.get("platform"), s.get("currency"), c.get("channel")):
                       [int(c.get(k, 0)) for k in states]
                       for s in r.get("sections", []) for c in s.get("channels", [])}
    ta, tb = table(a[1]["outreach"]), table(b[1]["outreach"])
    for k in sorted(set(ta) | set(tb), key=str):
        if ta.get(k) != tb.get(k):
            print("  outreach %s %s %s (%s): one host %s, hosts %s"
                  % (k + ("/".join(states), ta.get(k), tb.get(k))))
    return sum(fa.get(k) != fb.get(k) for k in set(fa) | set(fb)), len(fa)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--forward":
        return forward_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "--health":
        return health_main(*sys.argv[2:5])
    if len(sys.argv) > 1 and sys.argv[1] == "--reports":
        return reports_main(*sys.argv[2:6])
    or_skip = "--or-skip" in sys.argv
    if or_skip:
        sys.argv.remove("--or-skip")
    if len(sys.argv) < 9:
        fail(__doc__.split("usage:")[1])
    arrears, proto = sys.argv[1], sys.argv[8]
    binaries = dict(zip(["intake", "staging", "outreach", "worker", "legal", "sale"], sys.argv[2:8]))
    binaries["staging-1"] = binaries["staging"]
    accounts = int(sys.argv[9]) if len(sys.argv) > 9 else 150
    days = int(sys.argv[10]) if len(sys.argv) > 10 else 25
    seed = int(sys.argv[11]) if len(sys.argv) > 11 else 8
    print("multihost: seed %d, %d accounts, %d days from %s" % (seed, accounts, days, START), flush=True)
    net = Net(or_skip)
    one = tempfile.mkdtemp(prefix="mha", dir="/tmp")
    many = tempfile.mkdtemp(prefix="mhb", dir="/tmp")
    template = tempfile.mkdtemp(prefix="mht", dir="/tmp")
    hosts = None
    try:
        net.build()   # first: without namespaces there is nothing to test
        a = one_host(arrears, one, proto, accounts, days, seed)
        cli(arrears, template, "up", "--simulated", "--start", START, "--relaxed", "--shards", "2")
        cli(arrears, template, "down")
        hosts = Hosts(net, many, template, binaries, arrears)
        b = run_hosts(hosts, arrears, proto, accounts, days, seed)
        diffs, rows, fields = compare(a, b)
        if diffs:
            fail("the hosts' demonstration is not the one host's:\n" + "\n".join(diffs))
        drift, total = outreach_drift(a, b)
        print("same report: %d CSV rows, %d fields of staging's, legal's and sale's reports, the "
              "broker's tasks and their fates by channel, the world's %d tallies; after %s (the broker's %d other "
              "figures, not compared: %d differ)" % (rows, fields, len(a[2]), "; ".join(hosts.events),
                                                    total, drift))
        print("PASS")
    finally:
        if hosts:
            for proc in hosts.procs.values():
                if proc.poll() is None:
                    proc.kill()
        for folder in (one, template):
            subprocess.run([arrears, "down", "--dir", folder], capture_output=True, timeout=120)
        net.destroy()
        for folder in (one, many, template):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
