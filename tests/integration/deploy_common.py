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

# The binaries, in the order the tests take them on the command line.
SERVICES = ["intake", "staging", "outreach-broker", "outreach-worker", "legal", "sale"]
# deploy/config/NAME.conf -> (its service, its systemd state directory under
# /var/lib/arrears, its metrics port, the host name its peers connect to).
CONFIGS = {
    "intake": ("intake", "intake", 9101, "arrears-intake"),
    "staging": ("staging", "staging-0", 9102, "arrears-staging"),
    "outreach-broker": ("outreach-broker", "outreach-broker", 9103, "arrears-outreach-broker"),
    "outreach-worker": ("outreach-worker", "outreach-worker", 9104, None),
    "legal": ("legal", "legal", 9105, "arrears-legal"),
    "sale": ("sale", "sale", 9106, "arrears-sale"),
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


def config_text(name):
    with open(os.path.join(DEPLOY, "config", name + ".conf")) as f:
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
    for name in SERVICES + ["operator", "platform-a"]:
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
    for _, state, _, _ in CONFIGS.values():   # what systemd's StateDirectory= makes
        os.mkdir(os.path.join(root, "var", state), 0o700)
    return etc


def endpoint_for(root, name):
    return "ipc://%s/%s.sock" % (root, name)


def listen_port(name):
    m = re.search(r'^listen = "tcp://0\.0\.0\.0:(\d+)";', config_text(name), re.M)
    return int(m.group(1)) if m else None


def config_of_host(host):
    """The config whose service peers reach at host, or None."""
    return next((name for name, c in CONFIGS.items() if c[3] == host), None)


def rewrite(text, root, name, metrics_port, metrics_live=False):
    """The production file NAME with /etc/arrears and /var/lib/arrears moved under root
    and every tcp:// endpoint on an ipc:// socket named after the config that binds it:
    its own listen address, and each peer's by the host name it connects to (which must
    be a config's, on that config's listen port). A live metrics line listens on
    127.0.0.1:metrics_port instead; metrics_live makes the commented one live too."""
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

    def endpoint(m):
        host, port = m.group(1), int(m.group(2))
        peer = name if host == "0.0.0.0" else config_of_host(host)
        if peer is None or listen_port(peer) != port:
            fail("%s: %s is no config's host and listen port" % (name, m.group(0)))
        return '"%s"' % endpoint_for(root, peer)
    out = re.sub(r'"tcp://([^":]+):(\d+)"', endpoint, out)
    prefix = r"^(# )?" if metrics_live else r"^()"
    out, n = re.subn(prefix + r'metrics = \{ listen = "0\.0\.0\.0:\d+"; \};$',
                     'metrics = { listen = "127.0.0.1:%d"; };' % metrics_port, out, flags=re.M)
    if metrics_live and n != 1:
        fail("no metrics line to make live")
    return out
