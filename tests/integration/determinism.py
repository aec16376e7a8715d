"""determinism: DESIGN.md "Time" — in simulation every random outcome is a function of
(seed, account, attempt), so the report of a seeded run is the same every time. Two runs
of `arrears demo` with the same seed, each in a fresh folder of its own (the embedded
default on the driven simulated clock: every service, one worker, the demonstration
world), then for each `arrears up --simulated` and `arrears report --format csv`:

  * the two CSV reports are the same byte for byte, every section included — the
    outreach ones (tasks by channel and outcome, conduct refusals and deferrals by rule
    and profile) are where a worker pulling on its own timing showed first;
  * the broker's stores (`outreach-broker dump`) hold the same tasks, ledger and persons,
    apart from what is wall-clock by design: a lease's end and the worker instance's
    name (both real time, broker.h), and the run's folder in spool paths.

On a difference the first lines of a unified diff say where the runs parted. A
sanitizer report in any service's log fails the test too. Every process of both runs is
stopped and both folders are removed.

usage: determinism.py ARREARS OUTREACH_BROKER ACCOUNTS DAYS [SEED]"""
import difflib
import json
import os
import subprocess
import sys
import tempfile

from harness import arrears_cli, assert_no_sanitizer_report, assert_none_left, fail, remove_run

WALL_CLOCK_FIELDS = ("lease_until_ms", "worker")   # StoredTask fields on real time
DIFF_LINES = 60


def broker_dump(broker, work):
    """The broker's store as sorted JSON lines, wall-clock fields and the folder out."""
    out = subprocess.run([broker, "dump", "--config", os.path.join(work, "outreach.conf")],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        fail("outreach-broker dump exited %d: %s" % (out.returncode, out.stderr[-2000:]))
    rows = []
    for line in out.stdout.replace(work, "RUN").splitlines():
        row = json.loads(line)
        for field in WALL_CLOCK_FIELDS if row["table"] == "task" else ():
            row["task"].pop(field, None)
        rows.append(json.dumps(row, sort_keys=True))
    return sorted(rows)


def one_run(arrears, broker, work, accounts, days, seed):
    """The demonstration in work; its CSV report and its broker dump."""
    demo = arrears_cli(arrears, work, "demo", "--accounts", str(accounts), "--days", str(days),
                       "--seed", str(seed), timeout=1200)
    if "every process stopped" not in demo.stdout or "not cleanly" in demo.stdout:
        fail("the demo in %s did not stop its processes cleanly:\n%s" % (work, demo.stdout[-2000:]))
    arrears_cli(arrears, work, "up", "--simulated", "--relaxed")
    try:
        report = arrears_cli(arrears, work, "report", "--format", "csv").stdout
    finally:
        arrears_cli(arrears, work, "down")
    assert_none_left(work)
    assert_no_sanitizer_report(os.path.join(work, "log"))
    return report, broker_dump(broker, work)


def same(what, a, b):
    """Fails with the first lines of a unified diff when the two differ."""
    if a == b:
        return
    diff = list(difflib.unified_diff(a, b, "first run", "second run", lineterm="", n=1))
    fail("%s differ between two runs of the same seed:\n%s" % (what, "\n".join(diff[:DIFF_LINES])))


def main():
    if len(sys.argv) not in (5, 6):
        fail(__doc__.splitlines()[-1])
    arrears, broker = sys.argv[1], sys.argv[2]
    accounts, days = int(sys.argv[3]), int(sys.argv[4])
    seed = int(sys.argv[5]) if len(sys.argv) == 6 else 3
    works = [tempfile.mkdtemp(prefix="det", dir="/tmp") for _ in range(2)]
    try:
        (csv_a, dump_a), (csv_b, dump_b) = [one_run(arrears, broker, w, accounts, days, seed)
                                            for w in works]
        rows = csv_a.splitlines()
        outreach = [r for r in rows if r.split(",")[0] in ("outreach_channel", "conduct_rule",
                                                           "conduct_profile", "outreach")]
        if not outreach or not dump_a:
            fail("vacuous: %d outreach rows in the report, %d rows in the broker's dump"
                 % (len(outreach), len(dump_a)))
        same("the CSV reports", rows, csv_b.splitlines())
        same("the broker's stores (wall-clock fields aside)", dump_a, dump_b)
        print("PASS: seed %d, %d accounts, %d days: %d report rows (%d of outreach) and %d "
              "broker rows the same in both runs" % (seed, accounts, days, len(rows),
                                                    len(outreach), len(dump_a)), flush=True)
    finally:
        for w in works:
            remove_run(w)


if __name__ == "__main__":
    main()
