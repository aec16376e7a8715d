#!/usr/bin/env python3
"""report_check: the whole `arrears report`, figure by figure, against an independent
computation from every service's exported records (issue 9, acceptance 3).

  1. `arrears up --simulated --relaxed` in a fresh folder; the demonstration world
     (tests/clients/python/demo_world.py: the platform, firms and agencies, buyers) acts
     for DAYS simulated days on ACCOUNTS accounts from SEED; an operator then answers
     the portfolio's complaints (`arrears resolve-complaint`), so answered ones count too;
  2. `arrears report --format csv --out F` (long form, one figure a row:
     services/arrears/render_csv.c); `arrears down`;
  3. each stopped store exported with its service's own `dump --config` (staging,
     outreach-broker, legal, sale: JSON lines of the stored records), and every figure
     worked out again here (report_figures.py: Python, by the definitions of DESIGN.md
     section 7 and the report messages' proto comments — none of the services' code);
  4. the CSV compared with that row by row, exact integers (rates in basis points by
     report_figures.RATE): any row that differs, is missing, or is in the CSV without a
     reason in a section this test checks fails it, with a readable diff;
  5. the figures are not vacuous (payments, promises kept and broken, complaints, conduct
     refusals, listings, a legal referral), and the comparison is shown to catch a
     doctored CSV figure and a doctored record in each service's dump.

  report_check.py ARREARS STAGING OUTREACH_BROKER LEGAL SALE PROTO_DIR
                  [--seed S] [--accounts N] [--days D] [--keep]

A random seed is not used: the default seed is fixed (printed), so a run replays."""
import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import report_figures as rf  # noqa: E402
from harness import fail, kill_leftovers  # noqa: E402

WORLD = os.path.join(os.path.dirname(HERE), "clients", "python", "demo_world.py")
PLATFORM = "demo-platform"
DAY_MS = 86400000
# The CSV's sections this test recomputes (render_csv.c's table): every one it has.
CHECKED = ["book", "stage", "segment", "arm", "roll", "curve", "channel", "stage_recovery",
           "complaints", "remittance", "outreach_channel", "conduct_rule", "conduct_profile",
           "outreach", "legal_assignee", "legal", "legal_declined", "sale", "sale_proceeds"]
HEADER = ["section", "platform", "currency", "group", "key", "value"]
# A rate (collected / overdue at entry, kept / decided, recovered / placed, ...) in basis
# points: truncated is what staging's report.c documents ("truncated as the collection
# rate always was") and legal's money_mul_div does; half-even is shared/money.h's rule
# for rounding to a minor unit. The proto comments and render_csv.c name none.
RATE_RULES = {"truncate": rf.bps_truncated, "half-even": rf.bps_half_even}


def log(msg):
    print("report_check: " + msg, flush=True)


def run(argv, what, timeout=600, env=None):
    t = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if out.returncode != 0:
        fail("%s: exit %d\n%s%s" % (what, out.returncode, out.stdout[-3000:], out.stderr[-3000:]))
    log("%s (%.1f s)" % (what, time.monotonic() - t))
    return out.stdout


# ---------------------------------------------------------------- the CSV

def read_csv(text):
    """{(section, platform, currency, group, key): value}; a malformed or repeated row
    fails the test (a figure the CSV states twice cannot be checked once)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != HEADER:
        fail("the CSV's header is %r, not %r" % (rows[0] if rows else None, HEADER))
    out = {}
    for n, r in enumerate(rows[1:], 2):
        if len(r) != 6:
            fail("CSV line %d has %d fields: %r" % (n, len(r), r))
        try:
            value = int(r[5])
        except ValueError:
            fail("CSV line %d: value %r is not an integer" % (n, r[5]))
        key = tuple(r[:5])
        if key in out:
            fail("CSV line %d repeats %s" % (n, ",".join(key)))
        out[key] = value
    return out


def write_csv(rows):
    f = io.StringIO()
    w = csv.writer(f, lineterminator="\n")
    w.writerow(HEADER)
    for k, v in rows.items():
        w.writerow(list(k) + [v])
    return f.getvalue()


# ---------------------------------------------------------------- the comparison

def compare(got, want):
    """Differences between the CSV's rows (got) and the recomputed ones (want), in the
    checked sections: (key, got value or None, wanted value or None), sorted."""
    keys = {k for k in got if k[0] in CHECKED} | set(want)
    return sorted((k, got.get(k), want.get(k)) for k in keys if got.get(k) != want.get(k))


def show(diffs, limit=60):
    lines = ["  %-70s %14s %14s" % ("section,platform,currency,group,key", "report", "recomputed")]
    for k, g, w in diffs[:limit]:
        lines.append("  %-70s %14s %14s" % (",".join(k), "(no row)" if g is None else g,
                                             "(no row)" if w is None else w))
    if len(diffs) > limit:
        lines.append("  ... and %d more" % (len(diffs) - limit))
    return "\n".join(lines)


def recompute(dumps, as_of_ms, conf):
    """Every row of the checked sections, from the dumps' text alone."""
    want = {}
    book = rf.accounts_and_timelines(dumps["staging"])
    want.update(rf.staging_rows(book, as_of_ms, conf["segments"]))
    want.update(rf.outreach_rows(rf.tasks_of(dumps["outreach"])))
    want.update(rf.legal_rows(rf.cases_of(dumps["legal"]), conf["commissions"]))
    want.update(rf.sale_rows(rf.sale_records(dumps["sale"])))
    return want


def recompute_rates(dumps, as_of_ms, conf, rule):
    """The rate rows by the other rounding rule: (its name, {key: value})."""
    other = "half-even" if rule == "truncate" else "truncate"
    kept, rf.RATE = rf.RATE, RATE_RULES[other]
    try:
        rows = recompute(dumps, as_of_ms, conf)
    finally:
        rf.RATE = kept
    return other, {k: v for k, v in rows.items() if k[4].endswith("_bps")}


def table(got, want):
    """Sections checked, with their rows in the report and recomputed."""
    lines = ["  %-18s %8s %11s" % ("section", "CSV rows", "recomputed")]
    for s in CHECKED:
        lines.append("  %-18s %8d %11d" % (s, sum(k[0] == s for k in got), sum(k[0] == s for k in want)))
    other = sorted({k[0] for k in got} - set(CHECKED))
    for s in other:
        lines.append("  %-18s %8d %11s" % (s, sum(k[0] == s for k in got), "not checked"))
    lines.append("  %-18s %8d %11d" % ("total", len(got), len(want)))
    return "\n".join(lines)


# ---------------------------------------------------------------- not vacuous

def substance(got):
    """The figures that must not be zero, so the comparison is not of empty books."""
    def total(section, key, group=None):
        return sum(v for k, v in got.items() if k[0] == section and k[4] == key and
                   (group is None or k[3] == group))
    return {
        "payments collected": total("book", "collected_minor"),
        "promises kept": total("book", "promises_kept"),
        "promises broken": total("book", "promises_broken"),
        "complaints received": total("complaints", "received"),
        "complaints answered": total("complaints", "answered_on_time") + total("complaints", "answered_late"),
        "conduct refusals": total("conduct_rule", "refused"),
        "outreach tasks delivered": total("outreach_channel", "delivered"),
        "roll cells": total("roll", "accounts"),
        "accounts listed for sale": total("sale", "listings"),
        "legal referrals": total("legal", "referrals"),
    }


# ---------------------------------------------------------------- doctoring

def doctor_dumps(dumps):
    """One record changed in a copy of each service's dump: (what, doctored dumps)."""
    out = []
    # staging: one payment entry's amount, one minor unit more
    lines = dumps["staging"].splitlines()
    for i, line in enumerate(lines):
        row = json.loads(line)
        if row.get("kind") == "payment":
            row["amount_minor"] = int(row["amount_minor"]) + 1
            lines[i] = json.dumps(row)
            out.append(("staging: payment %s of %s plus 1" % (row.get("reference"), row.get("day")),
                        dict(dumps, staging="\n".join(lines))))
            break
    # outreach: a delivered task turned failed
    lines = dumps["outreach"].splitlines()
    for i, line in enumerate(lines):
        row = json.loads(line)
        if row.get("table") == "task" and row["task"].get("result") == "DELIVERED":
            row["task"]["result"] = "FAILED"
            lines[i] = json.dumps(row)
            out.append(("outreach: task %s DELIVERED -> FAILED" % row["id"],
                        dict(dumps, outreach="\n".join(lines))))
            break
    # legal: one case's outstanding at referral, one more
    lines = dumps["legal"].splitlines()
    for i, line in enumerate(lines):
        row = json.loads(line)
        if row.get("table") == "case" and any(s.get("what") == "offered" for s in row["case"].get("steps", [])):
            row["case"]["outstanding_minor"] = int(row["case"].get("outstanding_minor", 0)) + 1
            lines[i] = json.dumps(row)
            out.append(("legal: case %s placed 1 more" % row["case"]["case_id"],
                        dict(dumps, legal="\n".join(lines))))
            break
    # sale: one listed account's state
    lines = dumps["sale"].splitlines()
    for i, line in enumerate(lines):
        row = json.loads(line)
        if row.get("table") == "listed":
            was = row["listed"].get("state")
            row["listed"]["state"] = "LISTED_WITHDRAWN" if was != "LISTED_WITHDRAWN" else "LISTED_WAITING"
            lines[i] = json.dumps(row)
            out.append(("sale: %s %s -> %s" % (row["listed"]["account_ref"], was, row["listed"]["state"]),
                        dict(dumps, sale="\n".join(lines))))
            break
    return out


def self_test(got, dumps, as_of_ms, conf, want):
    """The comparison catches a doctored CSV figure and a doctored record of each dump."""
    results = []
    # A CSV figure: the first book collected_minor, one minor unit more, in a copy.
    key = next(k for k in got if k[0] == "book" and k[4] == "collected_minor")
    doctored = dict(got)
    doctored[key] += 1
    diffs = compare(read_csv(write_csv(doctored)), want)
    if [d[0] for d in diffs] != [key]:
        fail("a doctored CSV figure (%s) was not caught alone: %r" % (",".join(key), diffs[:5]))
    results.append(("CSV: %s plus 1" % ",".join(key), 1))
    # A dropped CSV row and an extra one.
    extra = dict(got)
    dropped = next(k for k in got if k[0] == "roll")
    del extra[dropped]
    extra[("sale", "", "", "all", "made_up")] = 0
    diffs = compare(extra, want)
    if {d[0] for d in diffs} != {dropped, ("sale", "", "", "all", "made_up")}:
        fail("a dropped and an invented CSV row were not both caught: %r" % diffs[:5])
    results.append(("CSV: one roll row dropped, one sale row invented", len(diffs)))
    doctored_dumps = doctor_dumps(dumps)
    if len(doctored_dumps) != 4:
        fail("only %d of the 4 dumps had a record to doctor" % len(doctored_dumps))
    for what, d in doctored_dumps:
        diffs = compare(got, recompute(d, as_of_ms, conf))
        if not diffs:
            fail("a doctored dump was not caught: " + what)
        results.append((what, len(diffs)))
    return results


# ---------------------------------------------------------------- the run

def cli(arrears, work, *args, timeout=600):
    return run([arrears, *args, "--dir", work], "arrears " + " ".join(args), timeout)


def answer_complaints(arrears, work):
    """The operator resolves the complaints the platform's upload carried (the
    portfolio's own, received on day 0): answered past their deadline by now."""
    refs = []
    with open(os.path.join(work, "world", "portfolio.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("type") == "complaint" and rec["account_ref"] not in refs:
                refs.append(rec["account_ref"])
    answered = 0
    for ref in refs:
        out = subprocess.run([arrears, "resolve-complaint", PLATFORM, ref, "--reason",
                              "reviewed the contact log with the borrower", "--dir", work],
                             capture_output=True, text=True, timeout=120)
        answered += out.returncode == 0
        log("resolve-complaint %s: exit %d %s" % (ref, out.returncode, out.stderr.strip()[:200]))
    return answered


def dump(binary, work, config):
    return run([binary, "dump", "--config", os.path.join(work, config)],
               "%s dump" % os.path.basename(binary), timeout=300)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("arrears", "staging", "broker", "legal", "sale", "proto_dir"):
        p.add_argument(name)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--accounts", type=int, default=200)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--rates", choices=sorted(RATE_RULES), default="truncate",
                   help="how a rate's basis points are rounded (see RATE_RULES)")
    p.add_argument("--keep", action="store_true", help="keep the folder (and say where)")
    a = p.parse_args()
    rf.RATE = RATE_RULES[a.rates]
    log("seed %d, %d accounts, %d days (replay: --seed %d)" % (a.seed, a.accounts, a.days, a.seed))
    work = tempfile.mkdtemp(prefix="rck", dir="/tmp")
    started = time.monotonic()
    try:
        cli(a.arrears, work, "up", "--simulated", "--relaxed")
        start_ms = int(open(os.path.join(work, "run", "clock")).read())
        run([sys.executable, WORLD, "--dir", work, "--arrears", a.arrears, "--accounts", str(a.accounts),
             "--seed", str(a.seed), "--days", str(a.days), "--proto-dir", a.proto_dir],
            "the world: %d days" % a.days, timeout=900)
        answered = answer_complaints(a.arrears, work)
        csv_path = os.path.join(work, "report.csv")
        cli(a.arrears, work, "report", "--format", "csv", "--out", csv_path)
        as_of_ms = int(open(os.path.join(work, "run", "clock")).read())
        if as_of_ms != start_ms + a.days * DAY_MS:
            fail("the clock is at %d, not %d days after %d" % (as_of_ms, a.days, start_ms))
        cli(a.arrears, work, "down")
        dumps = {"staging": dump(a.staging, work, "staging.conf"),
                 "outreach": dump(a.broker, work, "outreach.conf"),
                 "legal": dump(a.legal, work, "legal.conf"),
                 "sale": dump(a.sale, work, "sale.conf")}
        sys.path.insert(0, a.proto_dir)
        with open(os.path.join(work, "staging.conf")) as f:
            segments = rf.strategy_segments(f.read())
        with open(os.path.join(work, "legal.conf")) as f:
            commissions = rf.legal_commissions(f.read())
        conf = {"segments": segments, "commissions": commissions}
        with open(csv_path) as f:
            got = read_csv(f.read())
        try:
            want = recompute(dumps, as_of_ms, conf)
        except ValueError as e:
            fail("the dumps cannot be read: %s" % e)
        print(table(got, want), flush=True)
        figures = substance(got)
        log("substance: " + ", ".join("%s %d" % kv for kv in figures.items()))
        empty = [k for k, v in figures.items() if v <= 0]
        if empty or answered == 0:
            fail("vacuous with seed %d: none of %s%s" % (a.seed, empty,
                                                         " (no complaint answered)" if not answered else ""))
        other_rule = recompute_rates(dumps, as_of_ms, conf, a.rates)
        log("rates rounded by rule %r; by %r instead, %d of %d rate rows would differ"
            % (a.rates, other_rule[0], sum(want[k] != v for k, v in other_rule[1].items() if k in want),
               sum(k[4].endswith("_bps") for k in want)))
        diffs = compare(got, want)
        if diffs:
            fail("%d of %d rows differ between the report and the dumps:\n%s"
                 % (len(diffs), len(want), show(diffs)))
        log("every one of %d rows in %d sections equals its recomputation" % (len(want), len(CHECKED)))
        for what, n in self_test(got, dumps, as_of_ms, conf, want):
            log("self-test: %-60s caught (%d rows differ)" % (what, n))
        log("ok in %.0f s" % (time.monotonic() - started))
    finally:
        subprocess.run([a.arrears, "down", "--dir", work], capture_output=True, timeout=120)
        left = kill_leftovers(work)
        if left:
            print("report_check: killed leftover processes %s" % " ".join(left), flush=True)
        if a.keep:
            print("report_check: kept " + work, flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
