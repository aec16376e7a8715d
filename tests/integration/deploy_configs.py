"""deploy_configs: every production config in deploy/config is accepted by its real
service. The services have no check-only mode, so each file is rewritten (only its
/etc/arrears and /var/lib/arrears prefixes, its tcp:// endpoints onto ipc:// sockets in
a short temporary directory, one per config that binds, and its metrics address onto a
free local port) and all of them, both staging shards among them, are started together
on an install laid out as deploy/README.md says: each must bind its endpoint (the
worker: say it started), open its store in its state directory (the worker: make its
spool), answer /healthz on its metrics port, and stop with exit 0 on SIGTERM. Before
that, the peers' staging shard lists must agree with each other, with the shard configs
and with the keys files.

usage: deploy_configs.py ARREARS INTAKE STAGING BROKER WORKER LEGAL SALE"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from deploy_common import (CONFIGS, DEPLOY, SERVICES, check_shard_lists, config_text, endpoint_for,
                           lay_out_install, listen_port, rewrite, staging_list)
from harness import fail, wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    def __init__(self, root, binaries):
        self.root, self.binaries, self.procs = root, binaries, {}

    def log(self, name):
        try:
            with open(os.path.join(self.root, name + ".log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def socket_path(self, name):
        return endpoint_for(self.root, name)[len("ipc://"):]

    def start(self, name, conf_path):
        """Starts the service of config NAME on conf_path."""
        if listen_port(name) and os.path.exists(self.socket_path(name)):
            os.unlink(self.socket_path(name))   # so that its presence means this run bound it
        log = open(os.path.join(self.root, name + ".log"), "wb")
        proc = subprocess.Popen([self.binaries[CONFIGS[name][0]], "--config", conf_path],
                                stdout=subprocess.DEVNULL, stderr=log, cwd="/")
        log.close()
        self.procs[name] = proc
        return proc

    def wait_up(self, name):
        """Bound (its listen socket is there) or, for the worker, started; None when it
        exited instead, with its exit code left in the process."""
        proc = self.procs[name]
        if listen_port(name) is None:
            up = lambda: "worker_start" in self.log(name)
        else:
            up = lambda: os.path.exists(self.socket_path(name))
        wait_for(lambda: up() or proc.poll() is not None, 30, "%s to start" % name)
        return proc if proc.poll() is None else None

    def stop(self, name):
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            fail("%s did not stop within 30 s of SIGTERM" % name)
        if rc != 0:
            fail("%s stopped with exit %d on SIGTERM:\n%s" % (name, rc, self.log(name)[-2000:]))
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in self.log(name):
                fail("%s's log has a sanitizer report:\n%s" % (name, self.log(name)[-3000:]))

    def close(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.procs = {}


def start_all(run, etc, root, texts, order, make_live):
    """Starts every config's service from its rewritten file (make_live: those whose
    commented metrics line is made live; one of them may refuse exactly that setting),
    checks each started one, then stops them all with SIGTERM. Returns the configs that
    started."""
    paths, ports, up = {}, {}, []

    def write(name, text):
        with open(paths[name], "w") as f:
            f.write(rewrite(text, root, name, ports[name], name in make_live))

    def attempt(name, text):
        """Started from text: True; else False with its log and exit code left."""
        write(name, text)
        run.start(name, paths[name])
        if run.wait_up(name):
            return True
        attempt.err, attempt.rc = run.log(name), run.procs.pop(name).returncode
        return False

    for name in order:
        ports[name] = free_port()
        paths[name] = os.path.join(etc, ("live-" if make_live else "") + name + ".conf")
    # Downstream first, as an operator would; the worker after its broker.
    for name in order:
        if attempt(name, texts[name]):
            up.append(name)
            continue
        if name in make_live and "metrics is not a known setting" in attempt.err and attempt.rc != 0:
            continue
        fail("%s refused deploy/config/%s.conf (exit %d):\n%s" % (CONFIGS[name][0], name, attempt.rc,
                                                                 attempt.err[-2000:]))
    for name in up:
        if CONFIGS[name][0] == "outreach-worker":
            spool = os.path.join(root, "var", "outreach-worker", "spool")
            if not os.path.isdir(spool):
                fail("the worker made no spool at %s" % spool)
        else:
            store = os.path.join(root, "var", CONFIGS[name][1], "data.mdb")
            wait_for(lambda: os.path.exists(store), 10, "%s's store at %s" % (name, store))
        if name in make_live or re.search(r"^metrics = ", texts[name], re.M):
            def healthz():
                try:
                    url = "http://127.0.0.1:%d/healthz" % ports[name]
                    with urllib.request.urlopen(url, timeout=2) as r:
                        return r.status == 200
                except OSError:
                    return False
            wait_for(healthz, 30, "%s's /healthz (its config's metrics line)" % name)
    for name in reversed(up):
        run.stop(name)
    return up


def check_text(name, text):
    """What a production file must say, beyond being accepted."""
    service, state, port, _ = CONFIGS[name]
    if service != "outreach-worker":
        for needed in ('durability = "durable";', "create_secret = false;"):
            if needed not in text:
                fail("%s: wants `%s`" % (name, needed))
    if service in ("staging", "outreach-broker", "legal", "sale") and \
            'clock = { kind = "wall"; };' not in text:
        fail("%s: wants the wall clock" % name)
    if not re.search(r'^(# )?metrics = \{ listen = "0\.0\.0\.0:%d"; \};$' % port, text, re.M):
        fail("%s: no metrics line on port %d" % (name, port))
    if "/var/lib/arrears/%s" % state not in text:
        fail("%s: nothing under its state directory /var/lib/arrears/%s" % (name, state))


def main():
    if len(sys.argv) != 8:
        fail(__doc__)
    arrears = os.path.abspath(sys.argv[1])
    binaries = dict(zip(SERVICES, [os.path.abspath(p) for p in sys.argv[2:8]]))
    present = sorted(os.listdir(os.path.join(DEPLOY, "config")))
    if present != sorted(name + ".conf" for name in CONFIGS):
        fail("deploy/config holds %s; deploy_common.CONFIGS knows %s" % (present, sorted(CONFIGS)))
    root = tempfile.mkdtemp(prefix="dcf", dir="/tmp")
    run = Run(root, binaries)
    started = time.monotonic()
    try:
        etc = lay_out_install(root, arrears)
        order = ["sale", "legal", "outreach-broker", "outreach-worker", "staging-0", "staging-1",
                 "intake"]
        texts = {name: config_text(name) for name in order}
        for name in order:
            check_text(name, texts[name])
        naming = check_shard_lists()
        print("staging shard lists agree in %s: %s" % (", ".join(naming), ", ".join(
            "%s at %s" % (s["principal"], s["endpoint"]) for s in staging_list(texts["intake"]))),
            flush=True)
        live = [s for s in order if re.search(r"^metrics = ", texts[s], re.M)]
        up = start_all(run, etc, root, texts, order, set())
        if up != order:
            fail("started %s of %s" % (up, order))
        print("accepted, stores open, /healthz answered by %s, stopped cleanly on SIGTERM: %s"
              % (live, ", ".join(order)), flush=True)
        # A metrics line still commented out (the service did not accept the setting when
        # the file was written) is made live: refused by name, or accepted and healthy.
        commented = [s for s in order if s not in live]
        if commented:
            up = start_all(run, etc, root, texts, order, set(commented))
            accepted = [s for s in commented if s in up]
            refused = [s for s in commented if s not in up]
            print("commented metrics line made live: refused as unknown by %s; accepted and "
                  "healthy by %s%s" % (refused, accepted, " (uncomment it there)" if accepted else ""),
                  flush=True)
        print("deploy_configs: ok in %.1f s" % (time.monotonic() - started), flush=True)
    finally:
        run.close()
        if os.environ.get("ARREARS_KEEP_TMP"):
            print("kept " + root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
