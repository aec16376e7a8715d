"""deploy_common: what the deploy/ tests share — the six services, their production
configs (deploy/config: one per service, one per staging shard), and a stand-in for
/etc/arrears and /var/lib/arrears in a short temporary directory, laid out the way
deploy/README.md tells an operator to lay them: keys from `arrears keygen`, the keys
files, the at-rest secrets made with the README's own command, the policy files copied
from the examples the services ship."""
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
    "staging-0": ("staging", "staging-0", 9102, "arrears-staging-0.arrears-staging"),
    "staging-1": ("staging", "staging-1", 9102, "arrears-staging-1.arrears-staging"),
    "outreach-broker": ("outreach-broker", "outreach-broker", 9103, "arrears-outreach-broker"),
    "outreach-worker": ("outreach-worker", "outreach-worker", 9104, None),
    "legal": ("legal", "legal", 9105, "arrears-legal"),
    "sale": ("sale", "sale", 9106, "arrears-sale"),
}
# The staging shards in shard order: (config, principal and key name). Shard 0 keeps the
# name of a one-staging install (deploy/README.md "Staging shards").
SHARDS = [("staging-0", "staging"), ("staging-1", "staging-1")]
SHARD_PRINCIPALS = [(principal, "service") for _, principal in SHARDS]
# The key pairs and at-rest keys deploy/README.md "Keys" makes.
KEY_PAIRS = ["intake", "staging", "staging-1", "outreach-broker", "outreach-worker", "legal", "sale"]
SECRETS = ["intake", "staging", "staging-1", "outreach-broker", "legal", "sale"]
# Who each keys file admits (deploy/README.md "Keys"); staging.allowed serves every shard.
ALLOWED = {
    "intake": [("platform-a", "platform")] + SHARD_PRINCIPALS,
    "staging": [("intake", "service"), ("outreach-broker", "service"), ("legal", "service"),
                ("sale", "service"), ("operator", "operator")],
    "outreach-broker": SHARD_PRINCIPALS + [("legal", "service"), ("outreach-worker", "worker"),
                                           ("operator", "operator")],
    "legal": SHARD_PRINCIPALS + [("operator", "operator")],
    "sale": SHARD_PRINCIPALS + [("operator", "operator")],
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
    for name in KEY_PAIRS + ["operator", "platform-a"]:
        out = subprocess.run([arrears, "keygen", name, keys], capture_output=True, text=True)
        if out.returncode != 0:
            fail("arrears keygen %s: %s%s" % (name, out.stdout, out.stderr))
    for service, rows in ALLOWED.items():
        with open(os.path.join(keys, service + ".allowed"), "w") as f:
            f.write("keys = (\n%s\n);\n" % ",\n".join(
                '  { principal = "%s"; role = "%s"; public = "%s"; }'
                % (p, role, public_z85(os.path.join(keys, p + ".pub"))) for p, role in rows))
    for name in SECRETS:
        subprocess.run(["sh", "-c", SECRET_COMMAND % os.path.join(keys, name + ".secret")], check=True)
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


def staging_list(text):
    """The `staging` setting of a config as a list of {endpoint, principal, public_key}
    (a one-group setting is a list of one), or None when the config has none."""
    m = re.search(r"^staging = (\((.*?)^\);|\{.*?\};)$", text, re.M | re.S)
    if not m:
        return None
    groups = re.findall(r"\{(.*?)\}", m.group(2) if m.group(2) is not None else m.group(1), re.S)
    return [dict(re.findall(r'(\w+) = "([^"]*)";', g)) for g in groups]


def check_shard_lists():
    """Every config that names staging lists the same shards, in SHARDS' order: each on its
    shard config's host and listen port, with that shard's public key and principal."""
    wanted = [{"endpoint": "tcp://%s:%d" % (CONFIGS[conf][3], listen_port(conf)),
               "principal": principal, "public_key": "/etc/arrears/keys/%s.pub" % principal}
              for conf, principal in SHARDS]
    for conf, principal in SHARDS:
        own = re.search(r'^  own = "([^"]+)";', config_text(conf), re.M).group(1)
        if own != "/etc/arrears/keys/%s.key" % principal:
            fail("%s: its key is %s, the shard lists give it %s.pub" % (conf, own, principal))
    naming = [name for name in CONFIGS if staging_list(config_text(name)) is not None]
    if sorted(naming) != sorted(["intake", "outreach-broker", "legal", "sale"]):
        fail("the configs naming staging are %s" % naming)
    for name in naming:
        if staging_list(config_text(name)) != wanted:
            fail("%s: its staging shards are %s, wanted %s" % (name, staging_list(config_text(name)),
                                                                wanted))
        for principal, role in SHARD_PRINCIPALS:
            if (principal, role) not in ALLOWED[CONFIGS[name][0]]:
                fail("%s.allowed does not admit shard %s" % (CONFIGS[name][0], principal))
    return naming
