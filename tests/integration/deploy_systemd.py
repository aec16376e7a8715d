"""deploy_systemd: the units in deploy/systemd pass `systemd-analyze verify` (no running
systemd needed), with nothing to say: verify exits 0 on an unknown key or a bad value
and only prints a warning, so any line it prints about a unit fails the test. verify
wants every ExecStart binary to exist, so it runs on a temporary copy whose ExecStart
points at the built binaries (the rest of each unit unchanged).

Beyond verify, each unit is read for what deploy/README.md promises: the `arrears` user,
the hardening, Restart=on-failure, SIGHUP on reload, SIGTERM to stop, a state directory
that is exactly its config's data_dir, a config file from deploy/config, and membership
of arrears.target; a templated unit for every instance the README installs (staging@0
and staging@1, one per shard). A doctored copy (a misspelled key) must make the check fail, so the
check cannot pass by saying nothing.

usage: deploy_systemd.py INTAKE STAGING BROKER WORKER LEGAL SALE"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from deploy_common import CONFIGS, DEPLOY, SERVICES, config_text
from harness import fail

UNITS = {   # unit file -> (service, [(instance, the config it reads, from deploy/config)])
    "arrears-intake.service": ("intake", [(None, "/etc/arrears/intake.conf", "intake")]),
    "arrears-staging@.service": ("staging", [("0", "/etc/arrears/staging-0.conf", "staging-0"),
                                             ("1", "/etc/arrears/staging-1.conf", "staging-1")]),
    "arrears-outreach-broker.service": ("outreach-broker",
                                        [(None, "/etc/arrears/outreach-broker.conf", "outreach-broker")]),
    # deploy/README.md installs a copy of outreach-worker.conf per instance.
    "arrears-outreach-worker@.service": ("outreach-worker",
                                         [("1", "/etc/arrears/outreach-worker-1.conf", "outreach-worker")]),
    "arrears-legal.service": ("legal", [(None, "/etc/arrears/legal.conf", "legal")]),
    "arrears-sale.service": ("sale", [(None, "/etc/arrears/sale.conf", "sale")]),
}
REQUIRED = ["User=arrears", "Group=arrears", "ProtectSystem=strict", "NoNewPrivileges=yes",
            "PrivateTmp=yes", "ProtectHome=yes", "Restart=on-failure",
            "ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM", "StateDirectoryMode=0700",
            "PartOf=arrears.target", "WantedBy=arrears.target", "CapabilityBoundingSet="]


def settings(text):
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def check_unit(name, text):
    service, instances = UNITS[name]
    lines = set(text.splitlines())
    for needed in REQUIRED:
        if needed not in lines:
            fail("%s: wants `%s`" % (name, needed))
    s = settings(text)
    exec_start = s["ExecStart"][0].split()
    if exec_start[0] != "/opt/arrears/bin/" + service or exec_start[1:2] != ["--config"]:
        fail("%s: ExecStart should run /opt/arrears/bin/%s --config ...: %s" % (name, service, exec_start))
    for instance, installed, config in instances:
        unit = name.replace("@.", "@%s." % instance) if instance else name
        conf = exec_start[2].replace("%i", instance or "")
        if conf != installed:
            fail("%s: reads %s, deploy/README.md installs %s" % (unit, conf, installed))
        state = s["StateDirectory"][0].replace("%i", instance or "")
        if state != "arrears/" + CONFIGS[config][1]:
            fail("%s: StateDirectory=%s, not arrears/%s" % (unit, state, CONFIGS[config][1]))
        if s["ReadWritePaths"][0].replace("%i", instance or "") != "/var/lib/" + state:
            fail("%s: ReadWritePaths is not its state directory" % unit)
        # The config's store (or the worker's spool) lives in the unit's state directory.
        data = re.search(r'^(data_dir|spool) = "([^"]+)";', config_text(config), re.M).group(2)
        if not (data == "/var/lib/" + state or data.startswith("/var/lib/" + state + "/")):
            fail("%s: deploy/config/%s.conf keeps data at %s, outside /var/lib/%s"
                 % (unit, config, data, state))


def verify(unit_dir, binaries, names):
    """systemd-analyze verify on a copy with ExecStart on the built binaries: the lines it
    printed about the units, and its exit code."""
    work = tempfile.mkdtemp(prefix="dsd", dir="/tmp")
    try:
        for f in os.listdir(unit_dir):
            text = open(os.path.join(unit_dir, f)).read()
            for service, path in binaries.items():
                text = text.replace("ExecStart=/opt/arrears/bin/%s " % service, "ExecStart=%s " % path)
            with open(os.path.join(work, f), "w") as out:
                out.write(text)
        args = [os.path.join(work, n) for n in names]
        out = subprocess.run(["systemd-analyze", "verify", "--man=no", "--generators=no"] + args,
                             capture_output=True, text=True, cwd=work)
        said = [line for line in (out.stdout + out.stderr).splitlines()
                if work in line or re.search(r"arrears[-.@a-z0-9]*\.(service|target)", line)]
        return out.returncode, said
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) != 7:
        fail(__doc__)
    if not shutil.which("systemd-analyze"):
        fail("systemd-analyze is missing (Debian package systemd: scripts/install-deps)")
    binaries = dict(zip(SERVICES, [os.path.abspath(p) for p in sys.argv[1:7]]))
    unit_dir = os.path.join(DEPLOY, "systemd")
    present = sorted(f for f in os.listdir(unit_dir) if f.endswith((".service", ".target")))
    if present != sorted(list(UNITS) + ["arrears.target"]):
        fail("deploy/systemd holds %s" % present)
    for name in UNITS:
        check_unit(name, open(os.path.join(unit_dir, name)).read())
    names = [n.replace("@.", "@%s." % i) if i else n for n in UNITS for i, _, _ in UNITS[n][1]]
    names.append("arrears.target")
    rc, said = verify(unit_dir, binaries, names)
    if rc != 0 or said:
        fail("systemd-analyze verify (exit %d):\n%s" % (rc, "\n".join(said)))
    print("systemd-analyze verify: clean for %s" % ", ".join(names), flush=True)

    # The negative: a misspelled key, which verify itself lets through with exit 0.
    doctored = tempfile.mkdtemp(prefix="dsn", dir="/tmp")
    try:
        for f in os.listdir(unit_dir):
            shutil.copy(os.path.join(unit_dir, f), doctored)
        path = os.path.join(doctored, "arrears-intake.service")
        text = open(path).read().replace("ProtectSystem=strict", "ProtectSytem=strict")
        open(path, "w").write(text)
        rc, said = verify(doctored, binaries, ["arrears-intake.service"])
        if not any("ProtectSytem" in line for line in said):
            fail("a misspelled key went unnoticed (exit %d, said %r)" % (rc, said))
        print("negative: the misspelled key was caught: %s" % said[0].split("/")[-1], flush=True)
    finally:
        shutil.rmtree(doctored, ignore_errors=True)
    print("deploy_systemd: ok", flush=True)


if __name__ == "__main__":
    main()
