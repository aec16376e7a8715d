"""deploy_k8s: the manifests in deploy/k8s pass the offline Kubernetes schema validator
(deploy/validate: the API schemas come installed with its pinned npm packages), run
with the network cut off (`unshare -n`, as root) so that nothing can be fetched; then
what the manifests promise is checked on the documents the validator parsed, pod by pod
as the kubelet would expand each command (the staging StatefulSet: one replica per shard
of the peers' lists, pod N reading staging-N.conf, reached at the host name the lists
give shard N, its keys init container, run here on stand-in files, installing shard N's
keys and no other's); then doctored copies (a misspelled field, a string for an integer,
a value outside an enum, a kind without a schema; a wrong replica count, every shard on
one config, every shard taking every key) must each be refused, so neither the
validation nor the checks can pass vacuously.

usage: deploy_k8s.py                  the test
       deploy_k8s.py --write-config   rewrite deploy/k8s/config.yaml from deploy/config"""
import contextlib
import copy as copy_module
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from deploy_common import CONFIGS, DEPLOY, SHARDS, config_text
from harness import fail

K8S = os.path.join(DEPLOY, "k8s")
VALIDATOR = os.path.join(DEPLOY, "validate")
STATEFUL = ["intake", "staging", "outreach-broker", "legal", "sale"]
POLICY_USERS = {"staging", "outreach-broker", "legal"}
# The label the StatefulSet controller gives each pod with its ordinal (Kubernetes 1.28+).
POD_INDEX = "metadata.labels['apps.kubernetes.io/pod-index']"


def config_map_text():
    out = ["# Generated from deploy/config by `tests/integration/deploy_k8s.py --write-config`:",
           "# the same files, byte for byte (integration.deploy_k8s checks it).",
           "---", "apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: arrears-config",
           "  namespace: arrears", "  labels:", "    app.kubernetes.io/name: arrears", "data:"]
    for name in CONFIGS:
        out.append("  %s.conf: |" % name)
        out.extend(("    " + line).rstrip() for line in config_text(name).splitlines())
    return "\n".join(out) + "\n"


def network_cut():
    """The command prefix that runs node without a network, when this user may."""
    if os.geteuid() == 0 and shutil.which("unshare"):
        if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
            return ["unshare", "-n"]
    return []


def run_validator(files, prefix):
    out = subprocess.run(prefix + ["node", os.path.join(VALIDATOR, "validate.js"), "--json"] + files,
                         capture_output=True, text=True, cwd=VALIDATOR)
    return out.returncode, out.stdout, out.stderr


def containers(doc):
    spec = doc["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"], spec


def pods(doc):
    """(name, ordinal) of each pod the workload runs: every ordinal of a StatefulSet, and
    one for a Deployment's interchangeable pods (no ordinal)."""
    name = doc["metadata"]["name"]
    if doc["kind"] == "StatefulSet":
        return [("%s-%d" % (name, i), i) for i in range(doc["spec"].get("replicas", 1))]
    return [(name + "-x", None)]


def container_env(where, c, pod, ordinal):
    """The environment the kubelet gives container c in that pod, from the values and the
    downward-API fields the manifests use."""
    env = {}
    for e in c.get("env", []):
        path = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if "value" in e:
            env[e["name"]] = e["value"]
        elif path == "metadata.name":
            env[e["name"]] = pod
        elif path == POD_INDEX and ordinal is not None:
            env[e["name"]] = str(ordinal)
        else:
            fail("%s/%s: %s from %s, which this check cannot resolve" % (where, c["name"], e["name"], path))
    return env


def expand(arg, env):
    """The kubelet's expansion of a command argument: $(NAME) from env, $$ a literal $."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), arg)


def key_files(text):
    """The basenames of the key pair and at-rest key a config names under /etc/arrears/keys."""
    return [os.path.basename(p) for p in
            re.findall(r'\b(?:own|secret) = "(/etc/arrears/keys/[^"]+)";', text)]


def check_keys_init(where, init, env, secret_files, wanted):
    """Runs the keys init container's command, its paths moved under a temporary
    directory, with the Secret holding secret_files and one public file: exactly wanted
    (and the public file) must land in the keys directory, mode 0600."""
    work = tempfile.mkdtemp(prefix="dki", dir="/tmp")
    try:
        for d in ("run/own", "run/public", "keys"):
            os.makedirs(os.path.join(work, d))
        for f in secret_files:
            open(os.path.join(work, "run/own", f), "w").close()
        open(os.path.join(work, "run/public", "peer.pub"), "w").close()
        command = [expand(a, env).replace("/run/arrears-keys/", work + "/run/")
                   .replace("/etc/arrears/keys/", work + "/keys/") for a in init["command"]]
        out = subprocess.run(command, env=dict(os.environ, **env), capture_output=True, text=True)
        got = sorted(os.listdir(os.path.join(work, "keys")))
        if out.returncode != 0 or got != sorted(wanted + ["peer.pub"]):
            fail("%s: the keys init container installed %s (exit %d: %s), wanted %s"
                 % (where, got, out.returncode, out.stderr.strip(), sorted(wanted + ["peer.pub"])))
        for f in got:
            if os.stat(os.path.join(work, "keys", f)).st_mode & 0o777 != 0o600:
                fail("%s: the keys init container left %s readable beyond its owner" % (where, f))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_workload(doc, services, config_keys):
    """Checks one StatefulSet or Deployment against deploy/config; returns the configs
    its pods read."""
    kind, name = doc["kind"], doc["metadata"]["name"]
    service = name[len("arrears-"):]
    every, pod = containers(doc)
    sc = pod.get("securityContext", {})
    if not (sc.get("runAsNonRoot") and sc.get("runAsUser", 0) > 0 and sc.get("fsGroup")):
        fail("%s: the pod must run as a non-root user with an fsGroup" % name)
    for c in every:
        csc = c.get("securityContext", {})
        if not (csc.get("readOnlyRootFilesystem") and csc.get("allowPrivilegeEscalation") is False
                and csc.get("capabilities", {}).get("drop") == ["ALL"]):
            fail("%s/%s: wants a read-only root, no privilege escalation, no capabilities" % (name, c["name"]))
        res = c.get("resources", {})
        if not (res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory")
                and res.get("limits", {}).get("cpu") and res.get("limits", {}).get("memory")):
            fail("%s/%s: wants cpu and memory requests and limits" % (name, c["name"]))
    main = pod["containers"][0]
    if main["command"][:1] != ["/opt/arrears/bin/" + service] or main["command"][1] != "--config":
        fail("%s: runs %s" % (name, main["command"]))
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = main.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") != "metrics":
            fail("%s: wants a %s on the metrics port's %s" % (name, probe, path))
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    if mounts.get("/etc/arrears/keys") != "keys" or \
            volumes["own-keys"]["secret"]["secretName"] != "arrears-%s-keys" % service:
        fail("%s: wants its keys from Secret arrears-%s-keys at /etc/arrears/keys" % (name, service))
    if (service in POLICY_USERS) != (mounts.get("/etc/arrears/policy") == "policy"):
        fail("%s: the policy files are mounted where they are needed, and only there" % name)
    if service in STATEFUL:
        if kind != "StatefulSet":
            fail("%s: a stateful service runs as a StatefulSet" % name)
        claims = [t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])]
        if claims != ["data"] or doc["spec"]["serviceName"] != name or name not in services:
            fail("%s: wants a volumeClaimTemplate `data` and its headless Service" % name)
        if services[name]["spec"].get("clusterIP") != "None":
            fail("%s: its Service is not headless" % name)
    else:
        if kind != "Deployment" or "volumeClaimTemplates" in doc["spec"]:
            fail("%s: workers are a Deployment without volumeClaimTemplates" % name)
        if "emptyDir" in volumes["data"] or "persistentVolumeClaim" not in volumes["data"]:
            fail("%s: the spool must be a shared volume, not a pod's own" % name)

    # Each pod: the config it reads, as the kubelet expands its command.
    read = []
    for pod_name, ordinal in pods(doc):
        where = "%s pod %s" % (name, pod_name)
        conf = expand(main["command"][2], container_env(name, main, pod_name, ordinal))
        conf_name = conf.split("/")[-1][:-len(".conf")]
        if not conf.startswith("/etc/arrears/conf/") or conf.split("/")[-1] not in config_keys \
                or CONFIGS.get(conf_name, ("",))[0] != service:
            fail("%s: reads %s, which arrears-config does not hold for %s" % (where, conf, service))
        text = config_text(conf_name)
        if ports.get("metrics") != CONFIGS[conf_name][2] or \
                'listen = "0.0.0.0:%d"' % ports["metrics"] not in text:
            fail("%s: metrics port %s is not %s.conf's" % (where, ports.get("metrics"), conf_name))
        data = re.search(r'^(data_dir|spool) = "([^"]+)";', text, re.M).group(2)
        data_mount = [p for p, v in mounts.items() if v == "data"]
        if len(data_mount) != 1 or not data.startswith(data_mount[0] + "/"):
            fail("%s: %s.conf keeps data at %s, outside its data volume %s"
                 % (where, conf_name, data, data_mount))
        if service in STATEFUL:
            if 'listen = "tcp://0.0.0.0:%d";' % ports.get("zmq") not in text:
                fail("%s: its zmq port %s is not %s.conf's listen" % (where, ports.get("zmq"), conf_name))
            # The host name the peers give this config is this pod's (or, for a
            # one-replica set, its Service's).
            hosts = ["%s.%s" % (pod_name, name)] + ([name] if len(pods(doc)) == 1 else [])
            if CONFIGS[conf_name][3] not in hosts:
                fail("%s: the peers reach %s.conf at %s, not at %s"
                     % (where, conf_name, CONFIGS[conf_name][3], " or ".join(hosts)))
        read.append((conf_name, pod.get("initContainers", []), pod_name, ordinal))

    # The Secret holds the keys of every config the workload runs (deploy/README.md);
    # each pod's init container installs its own config's, and no other pod's.
    secret_files = sorted({f for conf_name, _, _, _ in read for f in key_files(config_text(conf_name))})
    for conf_name, inits, pod_name, ordinal in read:
        init = [c for c in inits if c["name"] == "keys"]
        if len(init) != 1:
            fail("%s: wants one keys init container" % name)
        check_keys_init("%s pod %s" % (name, pod_name), init[0],
                        container_env(name, init[0], pod_name, ordinal), secret_files,
                        key_files(config_text(conf_name)))
    if service == "staging" and [c for c, _, _, _ in read] != [conf for conf, _ in SHARDS]:
        fail("staging: its pods read %s, wanted one per shard in order: %s"
             % ([c for c, _, _, _ in read], [conf for conf, _ in SHARDS]))
    return [c for c, _, _, _ in read]


def check_manifests(docs):
    """Checks the parsed manifests against deploy/config; returns the staging StatefulSet."""
    config_maps = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "arrears-config"]
    if len(config_maps) != 1:
        fail("one ConfigMap arrears-config is wanted")
    for name in CONFIGS:
        if config_maps[0]["data"].get(name + ".conf") != config_text(name):
            fail("arrears-config's %s.conf is not deploy/config's, byte for byte" % name)
    for d in docs:
        if d["kind"] == "Secret":
            fail("a Secret in deploy/k8s: keys are referenced, never committed")
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != "arrears":
            fail("%s/%s: not in namespace arrears" % (d["kind"], d["metadata"]["name"]))
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    workloads = [d for d in docs if d["kind"] in ("StatefulSet", "Deployment")]
    seen = sorted(c for d in workloads for c in check_workload(d, services, config_maps[0]["data"]))
    if seen != sorted(CONFIGS):
        fail("the pods read %s, wanted each of %s once" % (seen, sorted(CONFIGS)))
    # Every host name a config connects to is a Service's, or a StatefulSet pod's under
    # its governing Service, offering the port.
    pod_hosts = {"%s.%s" % (p, d["spec"]["serviceName"]): d["spec"]["serviceName"]
                 for d in workloads if d["kind"] == "StatefulSet" for p, _ in pods(d)}
    for name in CONFIGS:
        for host, port in re.findall(r'"tcp://([a-z0-9.-]+):(\d+)"', config_text(name)):
            if host == "0.0.0.0":
                continue
            service = pod_hosts.get(host, host)
            ports = [p["port"] for p in services.get(service, {}).get("spec", {}).get("ports", [])]
            if int(port) not in ports:
                fail("%s connects to %s:%s, which no Service or StatefulSet pod offers"
                     % (name, host, port))
    return [d for d in workloads if d["metadata"]["name"] == "arrears-staging"][0]


def refused(check, *args):
    """What check said when it failed (harness.fail prints and exits), or None."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            check(*args)
    except SystemExit:
        return said.getvalue().strip()
    return None


def main():
    if sys.argv[1:] == ["--write-config"]:
        with open(os.path.join(K8S, "config.yaml"), "w") as f:
            f.write(config_map_text())
        return
    if len(sys.argv) != 1:
        fail(__doc__)
    if not shutil.which("node"):
        fail("node is missing (Debian package nodejs: scripts/install-deps)")
    if not os.path.isdir(os.path.join(VALIDATOR, "node_modules", "kubernetes-models")):
        fail("deploy/validate/node_modules is missing: scripts/install-deps runs "
             "`npm ci --prefix deploy/validate`")
    files = sorted(os.path.join(K8S, f) for f in os.listdir(K8S) if f.endswith(".yaml"))
    prefix = network_cut()
    rc, out, err = run_validator(files, prefix)
    if rc != 0:
        fail("the manifests do not validate (exit %d):\n%s" % (rc, err))
    print(err.strip().splitlines()[-1] + (" (network cut off: unshare -n)" if prefix else
                                          " (network NOT cut off: not root or no unshare)"),
          flush=True)
    docs = [d["doc"] for d in json.loads(out)]

    with open(os.path.join(K8S, "config.yaml")) as f:
        if f.read() != config_map_text():
            fail("deploy/k8s/config.yaml differs from deploy/config: run "
                 "`python3 tests/integration/deploy_k8s.py --write-config`")
    staging = check_manifests(docs)
    print("manifests: %d pods reading the %d configs (staging: %d replicas, one per shard); "
          "headless Services, host names, keys, configs and probes agree with deploy/config"
          % (sum(len(pods(d)) for d in docs if d["kind"] in ("StatefulSet", "Deployment")),
             len(CONFIGS), staging["spec"]["replicas"]), flush=True)

    # What the schemas cannot see, doctored on the parsed documents: each must be refused.
    def staging_set(docs):
        return [d for d in docs if d["metadata"]["name"] == "arrears-staging" and d["kind"] == "StatefulSet"][0]

    def set_replicas(n):
        return lambda docs: staging_set(docs)["spec"].update(replicas=n)

    def own_command(command):
        return lambda docs: staging_set(docs)["spec"]["template"]["spec"]["containers"][0].update(command=command)

    def init_command(command):
        return lambda docs: staging_set(docs)["spec"]["template"]["spec"]["initContainers"][0].update(command=command)

    semantic = [
        ("staging with 3 replicas", set_replicas(3), "arrears-config does not hold"),
        ("staging with 1 replica", set_replicas(1), "wanted one per shard"),
        ("every shard reading staging-0.conf",
         own_command(["/opt/arrears/bin/staging", "--config", "/etc/arrears/conf/staging-0.conf"]),
         "the peers reach staging-0.conf at arrears-staging-0.arrears-staging, not at "
         "arrears-staging-1"),
        ("every shard taking every shard's keys",
         init_command(["/bin/sh", "-c", "install -m 0600 /run/arrears-keys/own/* "
                       "/run/arrears-keys/public/* /etc/arrears/keys/"]),
         "the keys init container installed"),
    ]
    for what, doctor, expected in semantic:
        copy = copy_module.deepcopy(docs)
        doctor(copy)
        said = refused(check_manifests, copy)
        if said is None or expected not in said:
            fail("%s was not refused as expected: %s" % (what, said))
        print("negative: %s refused: %s" % (what, said.split(": ", 1)[1]), flush=True)

    # The negatives: each doctored copy must be refused, naming what is wrong.
    doctored = [
        ("staging.yaml", "  replicas: 2\n", "  replica: 2\n", 'unknown field "replica"'),
        ("intake.yaml", "containerPort: 7401", 'containerPort: "7401"', "must be integer"),
        ("legal.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true",
         'unknown field "readOnlyRootFileSystem"'),
        ("sale.yaml", '["ReadWriteOnce"]', '["ReadWriteSometimes"]', "allowed values"),
        ("namespace.yaml", "kind: Namespace", "kind: Namespaces", "no schema"),
    ]
    work = tempfile.mkdtemp(prefix="dk8", dir="/tmp")
    try:
        for source, old, new, expected in doctored:
            with open(os.path.join(K8S, source)) as f:
                text = f.read()
            if old not in text:
                fail("the negative case for %s finds no `%s` to doctor" % (source, old.strip()))
            path = os.path.join(work, source)
            with open(path, "w") as f:
                f.write(text.replace(old, new, 1))
            rc, _, err = run_validator([path], prefix)
            if rc == 0 or expected not in err:
                fail("a doctored %s (%s -> %s) was not refused as expected (exit %d):\n%s"
                     % (source, old.strip(), new.strip(), rc, err))
            print("negative: %s refused: %s" % (source, err.strip().splitlines()[0].split(": ", 1)[1]),
                  flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("deploy_k8s: ok", flush=True)


if __name__ == "__main__":
    main()
