"""deploy_common: what the deploy/ tests share — the six services, their production
configs (deploy/config), and a stand-in for /etc/arrears and /var/lib/arrears in a short
temporary directory, laid out the way deploy/README.md tells an operator to lay them:
keys from `arrears keygen`, the keys files, the at-rest secrets made with the README's
own command, the policy files copied from the examples the services ship."""
import os
import re
import shutil
import subprocess

from harness import fail

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(REPO, "deploy")

# service -> (config file, systemd state directory under /var/lib/arrears, metrics port)
SERVICES = {
    "intake": ("intake.conf", "intake", 9101),
    "staging": ("staging.conf", "staging-0", 9102),
    "outreach-broker": ("outreach-broker.conf", "outreach-broker", 9103),
    "outreach-worker": ("outreach-worker.conf", "outreach-worker", 9104),
    "legal": ("legal.conf", "legal", 9105),
    "sale": ("sale.conf", "sale", 9106),
}
# Who each service admits (deploy/README.md "Keys").
ALLOWED = {
    "intake": [("platform-a", "platform"), ("staging", "service")],
    "staging": [("intake", "service"), ("outreach-broker", "service"), ("legal", "service"),
                ("sale", "service"), ("operator", "operator")],
    "outreach-broker": [("staging", "service"), ("legal", "service"),
                        ("outreach-worker", "worker"), ("operator", "operator")],
    "legal": [("staging", "service"), ("operator", "operator")],
    "sale": [("staging", "service"), ("operator", "operator")],
}
POLICY = {
    "strategy.cny.conf": "services/staging/strategy.example.conf",
    "strategy.usd.conf": "services/staging/strategy.usd.example.conf",
    "strategy.gbp.conf": "services/staging/strategy.gbp.example.conf",
    "strategy.jpy.conf": "services/staging/strategy.jpy.example.conf",
    "limitation.conf": "services/staging/limitation.example.conf",
    "profiles.conf": "services/outreach/profiles.conf",
    "templates.conf": "services/outreach/templates.conf",
}
# The README's command for an at-rest key: 32 random bytes in hex, mode 0600.
SECRET_COMMAND = "(umask 077; { od -An -tx1 -N32 /dev/urandom | tr -d ' \\n'; echo; } > %s)"


def config_text(service):
    with open(os.path.join(DEPLOY, "config", SERVICES[service][0])) as f:
        return f.read()


def public_z85(path):
    with open(path) as f:
        return re.search(r'public = "([^"]+)"', f.read()).group(1)


def lay_out_install(root, arrears):
    """root/etc stands for /etc/arrears, root/var for /var/lib/arrears."""
    etc, keys, policy = os.path.join(root, "etc"), os.path.join(root, "etc", "keys"), \
        os.path.join(root, "etc", "policy")
    os.makedirs(keys, 0o700)
    os.makedirs(policy)
    os.makedirs(os.path.join(root, "var"), 0o755)
    for name in list(SERVICES) + ["operator", "platform-a"]:
        out = subprocess.run([arrears, "keygen", name, keys], capture_output=True, text=True)
        if out.returncode != 0:
            fail("arrears keygen %s: %s%s" % (name, out.stdout, out.stderr))
    for service, rows in ALLOWED.items():
        with open(os.path.join(keys, service + ".allowed"), "w") as f:
            f.write("keys = (\n%s\n);\n" % ",\n".join(
                '  { principal = "%s"; role = "%s"; public = "%s"; }'
                % (p, role, public_z85(os.path.join(keys, p + ".pub"))) for p, role in rows))
        secret = os.path.join(keys, service + ".secret")
        subprocess.run(["sh", "-c", SECRET_COMMAND % secret], check=True)
    for name, source in POLICY.items():
        shutil.copy(os.path.join(REPO, source), os.path.join(policy, name))
    for service, (_, state, _) in SERVICES.items():   # what systemd's StateDirectory= makes
        os.mkdir(os.path.join(root, "var", state), 0o700)
    return etc


def endpoint_for(root, port):
    return "ipc://%s/%s.sock" % (root, port)


def rewrite(text, root, metrics_port, metrics_live=False):
    """The production file with /etc/arrears and /var/lib/arrears moved under root and
    every tcp:// endpoint (bound or connected) on an ipc:// socket named by its port. A
    live metrics line listens on 127.0.0.1:metrics_port instead; metrics_live makes the
    commented one live too."""
    live = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    for line in live:   # every path is one the rewrite moves: nothing reaches the real /etc
        for path in re.findall(r'"(/[^"]*)"', line):
            if not (path.startswith("/etc/arrears/") or path.startswith("/var/lib/arrears/")):
                fail("a path outside /etc/arrears and /var/lib/arrears: %s" % path)
        for value in re.findall(r'= *"([^"]*)"', line):
            if "/" in value and not value.startswith("/") and "://" not in value:
                fail("a relative path in a production config: %s" % value)
    out = text.replace('"/etc/arrears/', '"%s/etc/' % root)
    out = out.replace('"/var/lib/arrears/', '"%s/var/' % root)
    out = re.sub(r'"tcp://[^":]+:(\d+)"', lambda m: '"%s"' % endpoint_for(root, m.group(1)), out)
    prefix = r"^(# )?" if metrics_live else r"^()"
    out, n = re.subn(prefix + r'metrics = \{ listen = "0\.0\.0\.0:\d+"; \};$',
                     'metrics = { listen = "127.0.0.1:%d"; };' % metrics_port, out, flags=re.M)
    if metrics_live and n != 1:
        fail("no metrics line to make live")
    return out
