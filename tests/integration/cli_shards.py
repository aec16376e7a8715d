"""cli_shards: the arrears CLI running and operating staging in two shards (DESIGN.md
section 7: staging shards by a stable hash of the person, shared/shards.h).

`arrears up --simulated --relaxed --shards 2` starts staging and staging-1 beside the
other services, and `status` shows both up and answering. The demonstration world
(demo_world.py) uploads a portfolio and acts for a few days, the clock moved by `arrears
simulate` over both shards. For each shard, accounts whose person hashes to it
(shard_of_person, recomputed here and checked against the pinned values of
tests/unit/test_shards.c) are looked up with `account`, which must find each on its
person's shard ("on staging-1 (shard 1 of 2)"), and an operator `hold` on one of them is
recorded on that shard's timeline with who and why; an unknown account is not found,
naming both shards asked. `report --format csv` must be the merge of the shards' own
reports, queried here from each shard directly as the operator: every integer of the
staging rows (book, stage, segment, arm, roll, curve, channel, stage_recovery,
complaints, remittance) the sum over the shards, every rate recomputed from the summed
counts (basis points, truncated), and each shard holding accounts. `down` stops
everything, `status` then says every service and shard stopped, and no process of the
run is left behind.

Needs what the shards need of the other services: intake placing each account on its
person's shard, and intake, the broker, legal and sale reading `staging` as a list.

usage: cli_shards.py ARREARS_BINARY PROTO_DIR"""
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile

from google.protobuf.descriptor import FieldDescriptor

from harness import arrears_cli, assert_none_left, fail, remove_run

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(os.path.dirname(HERE), "clients", "python")
WORLD = os.path.join(CLIENTS, "demo_world.py")
PLATFORM = "demo-platform"
SHARDS = ["staging", "staging-1"]
SOCKETS = {"staging": "st.sock", "staging-1": "st-1.sock"}
# The CSV's sections that come from staging's report (services/arrears/render.c).
STAGING_ROWS = ["book", "stage", "segment", "arm", "roll", "curve", "channel", "stage_recovery",
                "complaints", "remittance"]
# Every rate of the staging rows: part / (whole + also) (proto/staging.proto, Rates).
RATES = {"collection_rate_bps": ("collected_minor", "overdue_at_entry_minor", None),
         "recovery_rate_bps": ("collected_minor", "overdue_at_entry_minor", None),
         "promise_kept_rate_bps": ("promises_kept", "promises_kept", "promises_broken"),
         "cure_rate_bps": ("accounts_cured", "accounts_delinquent", None)}


def shard_of(platform, id_number_hash, count):
    """shared/shards.h shard_of_person: BLAKE2b-128 of platform, NUL, the id-number hash;
    its first 8 bytes little-endian, modulo count."""
    digest = hashlib.blake2b(platform.encode() + b"\0" + id_number_hash, digest_size=16).digest()
    return int.from_bytes(digest[:8], "little") % count


def check_shard_of():
    """The recomputation is the C one: test_shards.c's pinned persons (n as 4 bytes
    little-endian, then zeros) over 4 shards."""
    got = [shard_of(PLATFORM, n.to_bytes(4, "little") + bytes(28), 4) for n in range(8)]
    if got != [0, 0, 2, 1, 2, 1, 2, 1]:
        fail("this test's shard_of is not shared/shards.c's: %r" % got)


def accounts_by_shard(work):
    """The portfolio's account refs, by the shard of their person."""
    by = {name: [] for name in SHARDS}
    with open(os.path.join(work, "world", "portfolio.jsonl")) as f:
        for line in f:
            a = json.loads(line)
            if a.get("type", "account") != "account":
                continue
            person = bytes.fromhex(a["borrower"]["id_number_hash"])
            by[SHARDS[shard_of(PLATFORM, person, len(SHARDS))]].append(a["account_ref"])
    return by


def check_status(arrears, work):
    out = arrears_cli(arrears, work, "status").stdout
    for name in SHARDS:
        if not re.search(r"^%s +up +\d+ " % re.escape(name), out, re.M):
            fail("status does not show %s up:\n%s" % (name, out))
    if len(re.findall(r"^[\w-]+ +up ", out, re.M)) != 6 or "worker    running" not in out:
        fail("status does not show every service and both shards up:\n" + out)


def check_accounts(arrears, work, by_shard):
    """A few accounts of each shard are found there; a hold on one is on its timeline."""
    for k, name in enumerate(SHARDS):
        refs = by_shard[name][:3]
        if not refs:
            fail("no account of the portfolio hashes to %s: grow the portfolio" % name)
        for ref in refs:
            out = arrears_cli(arrears, work, "account", PLATFORM, ref).stdout
            if not out.startswith("on %s (shard %d of 2)\n" % (name, k)) or "timeline (" not in out:
                fail("account %s of a person of %s is not shown from it:\n%s" % (ref, name, out[:2000]))
        why = "shard check: borrower asked for time (%s)" % name
        out = arrears_cli(arrears, work, "hold", PLATFORM, refs[0], "--reason", why).stdout
        if "(%s; see" % name not in out:
            fail("the hold does not say it went to %s: %s" % (name, out))
        out = arrears_cli(arrears, work, "account", PLATFORM, refs[0]).stdout
        held = [l for l in out.splitlines() if " operator " in l and " hold " in l and why in l]
        if len(held) != 1:
            fail("the hold on %s is not on its timeline with who and why:\n%s" % (refs[0], out[-3000:]))
    out = arrears_cli(arrears, work, "account", PLATFORM, "NO-SUCH-REF", want=1)
    if "no account" not in out.stderr or "asked staging, staging-1" not in out.stderr:
        fail("an unknown account is not said so, naming the shards asked: " + out.stderr)
    out = arrears_cli(arrears, work, "hold", PLATFORM, "NO-SUCH-REF", "--reason", "x", want=1)
    if "asked staging, staging-1" not in out.stderr:
        fail("a hold on an unknown account does not name the shards asked: " + out.stderr)


# ---------------------------------------------------------------- the report's merge

def shard_reports(proto, work):
    os.environ["ARREARS_PROTO_PYTHON"] = proto
    sys.path[:0] = [proto, CLIENTS]
    import arrears_client as ac
    import staging_pb2
    me = ac.load_keypair(os.path.join(work, "keys", "operator.key"))
    reports = []
    for name in SHARDS:
        stream = ac.Stream("ipc://%s/run/%s" % (work, SOCKETS[name]),
                           ac.load_public(os.path.join(work, "keys", name + ".pub")), me)
        try:
            reports.append(stream.query(staging_pb2.ReportQuery(platform=""), 120))
        finally:
            stream.close(save=False)
    return reports


INTEGER = {FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_INT64,
           FieldDescriptor.CPPTYPE_UINT32, FieldDescriptor.CPPTYPE_UINT64}


def integers(msg, skip=()):
    """A message's integer fields, as render.c's rows have them (absent: 0)."""
    for f in msg.DESCRIPTOR.fields:
        if f.label != f.LABEL_REPEATED and f.cpp_type in INTEGER and f.name not in skip:
            yield f.name, getattr(msg, f.name)


def rows_of(report):
    """The staging rows of the CSV for one report, as render.c names them."""
    rows = {}

    def put(section, s, group, msg, skip=()):
        for key, value in integers(msg, skip):
            rows[(section, s.platform, s.currency, group, key)] = value

    for s in report.sections:
        put("book", s, "all", s.total)
        put("book", s, "all", s)
        for section, groups in (("stage", s.by_stage), ("segment", s.by_segment),
                                ("arm", s.by_arm), ("channel", s.recovery_by_channel),
                                ("stage_recovery", s.recovery_by_stage)):
            for g in groups:
                put(section, s, g.name, g)
        for c in s.roll_rates:
            put("roll", s, "%s|%s|%s" % (c.month, c.from_stage, c.to_stage), c)
        for curve in s.recovery_curves:
            for p in curve.points:
                put("curve", s, "%s|%d" % (curve.arm, p.month), p, skip=("month",))
        put("complaints", s, "all", s.complaint_figures)
        for m in s.remittance:
            put("remittance", s, m.month, m)
    return rows


def merged_rows(reports):
    """The shards' rows added up, each rate again from the sums."""
    out = {}
    for r in reports:
        for k, v in rows_of(r).items():
            out[k] = out.get(k, 0) + v
    for k in out:
        if k[4] in RATES:
            part, whole, also = RATES[k[4]]
            p = out[k[:4] + (part,)]
            w = out[k[:4] + (whole,)] + (out[k[:4] + (also,)] if also else 0)
            out[k] = p * 10000 // w if p > 0 and w > 0 else 0
    return out


def check_report(arrears, work, proto):
    text = arrears_cli(arrears, work, "report", "--format", "csv").stdout
    reports = shard_reports(proto, work)
    for name, r in zip(SHARDS, reports):
        if sum(s.total.accounts for s in r.sections) == 0:
            fail("%s holds no account: the portfolio did not spread over the shards" % name)
    got = {}
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        if row[0] in STAGING_ROWS:
            got[tuple(row[:5])] = int(row[5])
    want = merged_rows(reports)
    if got != want:
        diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
        fail("the report is not the merge of the shards' reports (%d rows differ), e.g.:\n%s" % (
            len(diff), "\n".join("%s: report %s, shards %s" % (k, got.get(k), want.get(k))
                                 for k in diff[:20])))
    print("cli_shards: report merged: %d staging rows, %d accounts" % (
        len(got), sum(v for k, v in got.items() if k[0] == "book" and k[4] == "accounts")))


def main():
    arrears, proto = sys.argv[1], sys.argv[2]
    check_shard_of()
    work = tempfile.mkdtemp(prefix="shd", dir="/tmp")
    try:
        out = arrears_cli(arrears, work, "up", "--simulated", "--relaxed", "--shards", "2").stdout
        if "staging in 2 shards: staging staging-1" not in out:
            fail("up does not say it runs two shards:\n" + out)
        check_status(arrears, work)
        world = subprocess.run([sys.executable, WORLD, "--dir", work, "--arrears", arrears,
                                "--accounts", "60", "--seed", "5", "--days", "4",
                                "--proto-dir", proto], capture_output=True, text=True, timeout=600)
        if world.returncode != 0:
            fail("the world failed: %s%s" % (world.stdout[-3000:], world.stderr[-3000:]))
        check_accounts(arrears, work, accounts_by_shard(work))
        check_report(arrears, work, proto)
        check_status(arrears, work)
        arrears_cli(arrears, work, "down")
        out = arrears_cli(arrears, work, "status", want=3).stdout
        if "7 service(s) stopped" not in out:
            fail("status after down:\n" + out)
        assert_none_left(work)
        print("PASS")
    finally:
        remove_run(work)


if __name__ == "__main__":
    main()
