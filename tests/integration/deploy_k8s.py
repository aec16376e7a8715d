"""deploy_k8s: the manifests in deploy/k8s pass the offline Kubernetes schema validator
(deploy/validate: the API schemas come installed with its pinned npm packages), run
with the network cut off (`unshare -n`, as root) so that nothing can be fetched; then
what the manifests promise is checked on the documents the validator parsed; then
doctored copies (a misspelled field, a string for an integer, a value outside an enum, a
kind without a schema) must each be refused, so the validation cannot pass vacuously.

usage: deploy_k8s.py                  the test
       deploy_k8s.py --write-config   rewrite deploy/k8s/config.yaml from deploy/config"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from deploy_common import CONFIGS, DEPLOY, SERVICES, config_text
from harness import fail

K8S = os.path.join(DEPLOY, "k8s")
VALIDATOR = os.path.join(DEPLOY, "validate")
STATEFUL = ["intake", "staging", "outreach-broker", "legal", "sale"]
POLICY_USERS = {"staging", "outreach-broker", "legal"}


def config_map_text():
    out = ["# Generated from deploy/config by `tests/integration/deploy_k8s.py --write-config`:",
           "# the same six files, byte for byte (integration.deploy_k8s checks it).",
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


def check_workload(doc, services, config_keys):
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
    conf = main["command"][2]
    if not conf.startswith("/etc/arrears/conf/") or conf.split("/")[-1] not in config_keys:
        fail("%s: reads %s, which arrears-config does not hold" % (name, conf))
    text = config_text(service)
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    if ports.get("metrics") != CONFIGS[service][2] or \
            'listen = "0.0.0.0:%d"' % ports["metrics"] not in text:
        fail("%s: metrics port %s is not its config's" % (name, ports.get("metrics")))
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = main.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") != "metrics":
            fail("%s: wants a %s on the metrics port's %s" % (name, probe, path))
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    data = re.search(r'^(data_dir|spool) = "([^"]+)";', text, re.M).group(2)
    data_mount = [p for p, v in mounts.items() if v == "data"]
    if len(data_mount) != 1 or not data.startswith(data_mount[0] + "/"):
        fail("%s: its config keeps data at %s, outside its data volume %s" % (name, data, data_mount))
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
        zmq = ports.get("zmq")
        if 'listen = "tcp://0.0.0.0:%d";' % zmq not in text or \
                services[name]["spec"].get("clusterIP") != "None":
            fail("%s: its zmq port %s is not its config's listen, or its Service is not headless" % (name, zmq))
        if service == "staging" and doc["spec"]["replicas"] != 1:
            fail("staging: one replica until intake routes shards")
    else:
        if kind != "Deployment" or "volumeClaimTemplates" in doc["spec"]:
            fail("%s: workers are a Deployment without volumeClaimTemplates" % name)
        if "emptyDir" in volumes["data"] or "persistentVolumeClaim" not in volumes["data"]:
            fail("%s: the spool must be a shared volume, not a pod's own" % name)
    return service


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
    seen = sorted(check_workload(d, services, config_maps[0]["data"]) for d in workloads)
    if seen != sorted(SERVICES):
        fail("workloads for %s, wanted one for each of %s" % (seen, sorted(SERVICES)))
    for service in SERVICES:   # every host name a config connects to is a Service's
        for host, port in re.findall(r'"tcp://([a-z-]+):(\d+)"', config_text(service)):
            if host == "0.0.0.0":
                continue
            ports = [p["port"] for p in services.get(host, {}).get("spec", {}).get("ports", [])]
            if int(port) not in ports:
                fail("%s connects to %s:%s, which no Service offers" % (service, host, port))
    print("manifests: %d workloads, headless Services, configs and probes agree with deploy/config"
          % len(workloads), flush=True)

    # The negatives: each doctored copy must be refused, naming what is wrong.
    doctored = [
        ("staging.yaml", "  replicas: 1\n", "  replica: 1\n", 'unknown field "replica"'),
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
