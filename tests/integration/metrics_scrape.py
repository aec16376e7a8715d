#!/usr/bin/env python3
"""metrics_scrape: the metrics endpoints of real processes — intake, staging, the outreach
broker and one worker (pipeline_rig.py) on ipc:// endpoints, with `metrics.listen` on
127.0.0.1 port 0 for staging, the broker and the worker (each logs the port it bound as
metrics_listen port=N). Accounts go in through intake, the simulated clock moves three
days, an operator's action staging must refuse goes in; then each /metrics is scraped
with urllib and parsed with prometheus_client's parser (an independent reading of the
text format), and:

  - the counters moved as the traffic says: accounts applied, exactly the one refusal by
    its code, queries answered, tasks pulled and delivered by channel and result;
  - the outboxes drained (appended = acknowledged, nothing unacknowledged, no dead
    letters), the store's map in use within its size, the clock at the driver's instant;
  - every histogram is consistent: cumulative buckets never fall, +Inf = _count, and the
    delivery latencies are as many as the deliveries;
  - /healthz and /readyz answer 200 while serving, anything else 404;
  - SIGHUP with a changed log_level is applied (config_reload log_level=debug, counted)
    and a changed listen endpoint is named as ignored,
    SIGHUP with a broken file is refused with file:line (config_reload_failed, counted),
    the old settings stay and the process goes on serving;
  - every process stops cleanly on SIGTERM (sanitizer reports fail the test).

  metrics_scrape.py ARREARS INTAKE STAGING BROKER WORKER PROTO_DIR"""
import datetime
import os
import re
import signal
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import fail, wait_for  # noqa: E402
from pipeline_rig import DAY_MS, HERE, Outreach, PipelineRig  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
METRICS = 'metrics = { listen = "127.0.0.1:0"; };'
START = datetime.date(2026, 1, 1)
ACCOUNTS = 6


def day_ms(d):
    return (START - datetime.date(1970, 1, 1)).days * DAY_MS + d * DAY_MS + 4 * 3600 * 1000


def upsert(rig, n):
    pb = rig.ac.platform_pb2
    ref = "M-%d" % n
    return pb.AccountUpsert(
        account_ref=ref, product=pb.ONLINE_LOAN, currency="CNY", opened_date="2025-06-01",
        borrower=pb.Borrower(name="Borrower " + ref, id_number_hash=bytes([n]) * 32,
                             time_zone="Asia/Shanghai", language="zh-CN",
                             phones=[pb.ContactPoint(value="+861380013%04d" % n, verified=True,
                                                     consent=True)],
                             address=pb.Address(line1="1 Road", city="Shanghai", country="CN")),
        schedule=[pb.Instalment(due_date="2025-12-%02d" % (10 + n), principal_minor=90000,
                                interest_minor=10000)])


# ---- scraping ----------------------------------------------------------------------

def port_of(rig, log_name):
    found = wait_for(lambda: re.search(r"event=metrics_listen address=\S+ port=(\d+)",
                                       rig.log_text(log_name)), 30, "metrics_listen in " + log_name)
    return int(found.group(1))


def http(port, path):
    """(status, body) of a GET."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(port):
    """{(sample name, ((label, value), ...)): value} and the families' types."""
    status, text = http(port, "/metrics")
    if status != 200:
        fail("/metrics answered %d: %s" % (status, text))
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples, types


def value(samples, name, service, **labels):
    key = (name, tuple(sorted(dict(labels, service=service).items())))
    return samples.get(key)


def total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


def check_histograms(samples, types, service):
    """Cumulative buckets never fall, +Inf = _count, _sum >= 0; returns {name: count}."""
    counts = {}
    for family, kind in types.items():
        if kind != "histogram":
            continue
        buckets = sorted((float(dict(labels)["le"]), v) for (n, labels), v in samples.items()
                         if n == family + "_bucket")
        if not buckets or buckets[-1][0] != float("inf"):
            fail("%s %s: no +Inf bucket" % (service, family))
        for (_, a), (_, b) in zip(buckets, buckets[1:]):
            if b < a:
                fail("%s %s: buckets fall: %r" % (service, family, buckets))
        count = value(samples, family + "_count", service)
        if count != buckets[-1][1] or value(samples, family + "_sum", service) < 0:
            fail("%s %s: _count %r, +Inf %r" % (service, family, count, buckets[-1][1]))
        counts[family] = count
    return counts


def check_endpoints(port, service):
    wait_for(lambda: http(port, "/readyz")[0] == 200, 30, service + " to be ready")
    if http(port, "/healthz") != (200, "ok\n"):
        fail("%s /healthz: %r" % (service, http(port, "/healthz")))
    if http(port, "/nope")[0] != 404:
        fail("%s: /nope is not 404" % service)


# ---- the checks ----------------------------------------------------------------------

def staging_moved(rig, port):
    """True once staging's figures say what the traffic did (published after steps)."""
    s, _ = scrape(port)
    out = "to_outreach"
    return (value(s, "arrears_messages_total", "staging", outcome="applied") >= ACCOUNTS and
            value(s, "arrears_messages_total", "staging", outcome="rejected") == 1 and
            value(s, "arrears_clock_milliseconds", "staging") == rig.now_ms and
            value(s, "arrears_outbox_appended_messages", "staging", outbox=out) > 0 and
            value(s, "arrears_outbox_acknowledged_messages", "staging", outbox=out) ==
            value(s, "arrears_outbox_appended_messages", "staging", outbox=out))


def check_staging(rig, port, refused):
    wait_for(lambda: staging_moved(rig, port), 30, "staging's metrics to show the traffic")
    s, types = scrape(port)
    rejects = {dict(labels)["code"]: v for (n, labels), v in s.items() if n == "arrears_rejects_total"}
    codes = {r["code"] for r in refused}
    if sum(rejects.values()) != 1 or set(rejects) != codes:
        fail("staging's rejects by code %r, the operator was refused %r" % (rejects, refused))
    for outbox in ("to_outreach", "to_legal", "to_sale", "to_intake"):
        if value(s, "arrears_outbox_unacknowledged_messages", "staging", outbox=outbox) != 0 or \
                value(s, "arrears_outbox_dead_letters_messages", "staging", outbox=outbox) != 0:
            fail("staging's %s did not drain: %r" % (outbox, s))
    used = value(s, "arrears_store_map_used_bytes", "staging")
    if not 0 < used <= value(s, "arrears_store_map_size_bytes", "staging"):
        fail("staging's map in use %r" % used)
    if value(s, "arrears_queries_total", "staging") < 1:
        fail("staging answered no query (the driver asks its Health)")
    if value(s, "arrears_messages_received_total", "staging") < \
            value(s, "arrears_messages_total", "staging", outcome="applied") + 1:
        fail("staging received fewer messages than it applied")
    counts = check_histograms(s, types, "staging")
    if counts["arrears_apply_duration_seconds"] < value(s, "arrears_batches_total", "staging") or \
            counts["arrears_sweep_duration_seconds"] < 1 or counts["arrears_query_duration_seconds"] < 1:
        fail("staging's latencies: %r" % counts)
    print("staging: applied %d, rejected %r, latencies %r" % (
        value(s, "arrears_messages_total", "staging", outcome="applied"), rejects, counts), flush=True)


def check_outreach(broker_port, worker_port):
    wait_for(lambda: total(scrape(worker_port)[0], "arrears_deliveries_total") > 0, 30,
             "the worker to deliver")
    b, btypes = scrape(broker_port)
    if value(b, "arrears_messages_total", "outreach-broker", outcome="applied") < 1:
        fail("the broker applied nothing")
    check_histograms(b, btypes, "outreach-broker")
    w, wtypes = scrape(worker_port)
    delivered = total(w, "arrears_deliveries_total")
    counts = check_histograms(w, wtypes, "outreach-worker")
    if value(w, "arrears_tasks_pulled_total", "outreach-worker") < delivered or \
            counts["arrears_delivery_duration_seconds"] != delivered:
        fail("the worker: pulled %r, delivered %r, latencies %r" % (
            value(w, "arrears_tasks_pulled_total", "outreach-worker"), delivered, counts))
    by = {tuple(sorted(dict(l).items())): v for (n, l), v in w.items() if n == "arrears_deliveries_total"}
    print("worker: deliveries %r" % by, flush=True)


def sighup(rig, port, name, want_event, want_count):
    """Sends SIGHUP (its config file changed or not); waits for the event and the count."""
    rig.proc[name].send_signal(signal.SIGHUP)
    wait_for(lambda: want_event in rig.log_text(name + ".log"), 30, want_event + " in " + name + ".log")
    outcome = "ok" if "failed" not in want_event else "failed"
    service = {"staging": "staging", "broker": "outreach-broker"}[name]
    wait_for(lambda: value(scrape(port)[0], "arrears_config_reloads_total", service,
                           outcome=outcome) == want_count, 10, "%s's reload counted" % name)


def check_reload(rig, port):
    conf = rig.path("staging.conf")
    with open(conf) as f:
        good = f.read()
    # A new log level applies; a new listen endpoint cannot while running: named.
    moved = good.replace(rig.ep["staging"], rig.ep["staging"] + ".new")
    with open(conf, "w") as f:
        f.write(moved + 'log_level = "debug";\n')
    sighup(rig, port, "staging", "event=config_reload log_level=debug "
           "applied=log_level,strategy,limitation,retention ignored=listen", 1)
    with open(conf, "w") as f:
        f.write(good + 'log_level = "debug";\nbroken = ;\n')
    sighup(rig, port, "staging", "event=config_reload_failed", 1)
    line = [l for l in rig.log_text("staging.log").splitlines() if "event=config_reload_failed" in l][-1]
    if not re.search(r"staging\.conf:\d+", line):
        fail("a refused config names no file:line: " + line)
    # Still serving, with the settings in force: a day more of the pipeline.
    rig.advance(rig.now_ms + DAY_MS)
    check_endpoints(port, "staging after a refused reload")
    wait_for(lambda: value(scrape(port)[0], "arrears_clock_milliseconds", "staging") == rig.now_ms,
             10, "staging's clock after the refused reload")
    with open(conf, "w") as f:
        f.write(good)


def check_broker_reload(rig, port):
    """The broker reloads its profiles and templates files with its config."""
    sighup(rig, port, "broker", "applied=log_level,profiles,templates", 1)


def main():
    if len(sys.argv) != 7:
        fail(__doc__)
    arrears, intake, staging, broker, worker, proto_dir = sys.argv[1:7]
    outreach = Outreach(broker, worker, os.path.join(ROOT, "services", "outreach", "profiles.conf"),
                        os.path.join(ROOT, "services", "outreach", "templates.conf"),
                        extra_conf=METRICS)
    rig = PipelineRig(arrears, intake, staging, proto_dir,
                      os.path.join(ROOT, "services", "staging", "strategy.example.conf"),
                      start_date=START.isoformat(), prefix="met", outreach=outreach,
                      durability="relaxed", extra_staging_conf=METRICS)
    try:
        with open(rig.path("worker.conf"), "a") as f:
            f.write(METRICS + "\n")
        rig.start_all()
        ports = {name: port_of(rig, name + ".log") for name in ("staging", "broker", "worker0")}
        for name, port in ports.items():
            check_endpoints(port, name)
        rig.advance(day_ms(0))
        rig.platform.enqueue([upsert(rig, n) for n in range(ACCOUNTS)])
        for d in range(1, 4):
            rig.advance(day_ms(d))
        sp = rig.staging_pb2
        rig.operator.enqueue([sp.OperatorAction(platform="p1", account_ref="NO-SUCH",
                                                kind=sp.OperatorAction.RESOLVE_COMPLAINT,
                                                reason="an account staging does not hold")])
        rig.operator.flush(60)
        refused = list(rig.operator.rejected)
        if len(refused) != 1 or rig.platform.rejected:
            fail("refusals: operator %r, platform %r" % (refused, rig.platform.rejected))
        rig.operator.rejected.clear()   # the driver's rounds refuse any refusal
        check_staging(rig, ports["staging"], refused)
        check_outreach(ports["broker"], ports["worker0"])
        check_reload(rig, ports["staging"])
        check_broker_reload(rig, ports["broker"])
        for name in ("intake", "staging", "worker0", "broker"):
            rig.stop(name)
    finally:
        rig.close()
    print("ok")


if __name__ == "__main__":
    main()
