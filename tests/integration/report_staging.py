#!/usr/bin/env python3
"""report_staging: staging's Report (the timeline figures: roll rates, recovery curves
by arm, recovery by channel and stage, cure rate, complaints, remittance) from a real
staging process, checked against an independent computation here from `staging dump`
(its stored accounts and timeline entries), by the definitions in proto/staging.proto.

The book is scenario_staging's six accounts worked for 60 simulated days (reused: its
script, its simulation and its rig), so it holds a cure-free roll from pre_due to
paid, broken promises, a plan kept, a complaint answered late, a legal referral and a
sale.

  report_staging.py ARREARS INTAKE STAGING PROTO_DIR"""
import datetime
import json
import os
import sys
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_staging as scenario  # noqa: E402
from harness import fail  # noqa: E402
from pipeline_rig import HERE, PipelineRig  # noqa: E402

EPOCH = datetime.date(1970, 1, 1)
TERMINAL = {"paid", "settled", "recalled", "sold", "written_off"}
DELINQUENT = {"early", "middle", "late", "charged_off"}
NOT_REACHED = {"FAILED", "NO_ANSWER", "WRONG_NUMBER", "NOT_ATTEMPTED"}
CHANNELS = {"SMS": "sms", "EMAIL": "email", "LETTER": "letter", "CALL": "call", "VISIT": "visit"}


def month(d):
    return "%04d-%02d" % (d.year, d.month)


def months_between(a, b):
    n = (b.year * 12 + b.month) - (a.year * 12 + a.month) - (1 if b.day < a.day else 0)
    return max(n, 0)


def accounts_and_timelines(dump_text):
    """Account records in id order, and each one's entries (the table is keyed by id
    then seq, and every account has its opening entry, so seq 1 starts the next)."""
    accounts, timelines = [], []
    for line in dump_text.splitlines():
        row = json.loads(line)
        if "account_ref" in row:
            accounts.append(row)
        else:
            if int(row["seq"]) == 1:
                timelines.append([])
            timelines[-1].append(row)
    if len(accounts) != len(timelines):
        fail("%d accounts, %d timelines in the dump" % (len(accounts), len(timelines)))
    return list(zip(accounts, timelines))


class Section:
    def __init__(self):
        self.roll, self.channel, self.stage, self.remit = {}, {}, {}, {}
        self.curve, self.delinquent, self.cured = {}, 0, 0


def attribute(s, acct_paid, rows):
    """Payments to channels (the rule in ReportSection.recovery_by_channel) and stages."""
    contacts, reached = {}, None
    for e in rows:
        kind, day, ref = e["kind"], datetime.date.fromisoformat(e["day"]), e.get("reference", "")
        if kind == "contact":
            contacts[ref] = e["reason"].split(" ")[0]
        elif kind == "outcome" and " by " in e["reason"]:
            result, rest = e["reason"].split(" by ", 1)
            ch = CHANNELS.get(rest.split(":")[0].split(" ")[0])
            if ch and result not in NOT_REACHED:
                reached = (ch, day)
        elif e["actor"] == "outreach" and kind in ("promise", "plan", "settlement") and ref in contacts:
            reached = (contacts[ref], day)
        elif kind == "payment":
            amount = int(e["amount_minor"])
            ch = reached[0] if reached and (day - reached[1]).days <= 30 else "none"
            for groups, name in ((s.channel, ch), (s.stage, e["stage"])):
                g = groups.setdefault(name, [0, set(), 0])
                g[0] += 1
                g[1].add(acct_paid)
                g[2] += amount


def stage_at(rows, last_day):
    stage = None
    for e in rows:
        if datetime.date.fromisoformat(e["day"]) <= last_day:
            stage = e["stage"]
    return stage


def rolls(s, rows, months, today):
    for first in months:
        if first > today:
            continue
        start = stage_at(rows, first - datetime.timedelta(days=1))
        nxt = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        end = stage_at(rows, min(nxt - datetime.timedelta(days=1), today))
        if start and end and start not in TERMINAL:
            key = (month(first), start, end)
            s.roll[key] = s.roll.get(key, 0) + 1


def money_by_month(s, rows, months):
    window = {month(m) for m in months}
    for e in rows:
        m, amount = e["day"][:7], int(e.get("amount_minor", 0))
        if m not in window or e["kind"] not in ("payment", "legal", "sold", "put_back") or not amount:
            continue
        r = s.remit.setdefault(m, [0, 0, 0, 0])
        if e["kind"] == "payment":
            r[0] += amount
            r[1] += amount if e["actor"] == "legal" else 0
        elif e["kind"] == "legal":
            r[2] += amount
        else:
            r[3] += amount if e["kind"] == "sold" else -amount


def curve(s, acct, rows, arm, today, horizon):
    entered = EPOCH + datetime.timedelta(days=int(acct["stats"]["entered_day"]))
    paid = [0] * horizon
    for e in rows:
        k = months_between(entered, datetime.date.fromisoformat(e["day"]))
        if e["kind"] == "payment" and k < horizon:
            paid[k] += int(e["amount_minor"])
    points = s.curve.setdefault(arm, {})
    for k in range(min(months_between(entered, today), horizon - 1) + 1):
        p = points.setdefault(k, [0, 0, 0])
        p[0] += 1
        p[1] += int(acct["stats"].get("overdue_at_entry_minor", 0))
        p[2] += sum(paid[:k + 1])


def expected(book, as_of_ms, arms):
    utc = datetime.datetime.fromtimestamp(as_of_ms / 1000, datetime.timezone.utc).date()
    months, m = [], utc.replace(day=1)
    for _ in range(36):
        months.insert(0, m)
        m = (m - datetime.timedelta(days=1)).replace(day=1)
    out = {}
    for acct, rows in book:
        s = out.setdefault((acct["platform"], acct["currency"]), Section())
        zone = zoneinfo.ZoneInfo(acct["time_zone"])
        today = datetime.datetime.fromtimestamp(as_of_ms / 1000, zone).date()
        rolls(s, rows, months, today)
        attribute(s, acct["account_ref"], rows)
        money_by_month(s, rows, months)
        curve(s, acct, rows, arms[int(acct.get("arm", 0))], today, 36)
        stages = [e["stage"] for e in rows]
        s.delinquent += any(x in DELINQUENT for x in stages)
        s.cured += any(a in DELINQUENT and b in ("current", "pre_due") for a, b in zip(stages, stages[1:]))
    return out


def compare(section, s):
    got_roll = {(c.month, c.from_stage, c.to_stage): c.accounts for c in section.roll_rates}
    groups = lambda gs: {g.name: (g.payments, g.accounts, g.collected_minor) for g in gs}  # noqa: E731
    want = lambda gs: {k: (v[0], len(v[1]), v[2]) for k, v in gs.items()}  # noqa: E731
    got_remit = {r.month: [r.collected_minor, r.legal_recovered_minor, r.legal_costs_minor,
                           r.sale_proceeds_minor] for r in section.remittance}
    got_curve = {c.arm: {p.month: [p.accounts, p.overdue_at_entry_minor, p.collected_minor]
                         for p in c.points} for c in section.recovery_curves}
    for what, got, exp in (("roll rates", got_roll, s.roll),
                           ("recovery by channel", groups(section.recovery_by_channel), want(s.channel)),
                           ("recovery by stage", groups(section.recovery_by_stage), want(s.stage)),
                           ("remittance", got_remit, s.remit), ("curves", got_curve, s.curve),
                           ("cure", (section.accounts_delinquent, section.accounts_cured),
                            (s.delinquent, s.cured))):
        if got != exp:
            fail("%s: report %r\n  dump says %r" % (what, got, exp))
    for r in section.remittance:
        if r.net_minor != r.collected_minor + r.sale_proceeds_minor - r.legal_costs_minor:
            fail("remittance %s: net %d" % (r.month, r.net_minor))


def main():
    arrears, intake, staging, proto_dir = sys.argv[1:5]
    rig = PipelineRig(arrears, intake, staging, proto_dir,
                      os.path.join(HERE, "conf", "scenario_strategy.conf"), script=scenario.SCRIPT)
    try:
        rig.start_all()
        scenario.simulate(rig)
        report = rig.operator.query(rig.staging_pb2.ReportQuery(), 60)
        book = accounts_and_timelines(rig.dump())
        arms = {}
        for acct in book:
            view = rig.account(acct[0]["account_ref"], max_entries=1)
            arms[int(acct[0].get("arm", 0))] = view.arm
        want = expected(book, report.as_of_ms, arms)
        if {(s.platform, s.currency) for s in report.sections} != set(want):
            fail("sections %r, expected %r" % ([s.platform for s in report.sections], list(want)))
        for section in report.sections:
            compare(section, want[(section.platform, section.currency)])
        c = report.sections[0].complaint_figures
        if (c.received, c.answered_on_time + c.answered_late, c.open) != (1, 1, 0):
            fail("complaints: %s" % c)
        short = rig.operator.query(rig.staging_pb2.ReportQuery(months=1), 60)
        if any(r.month != short.sections[0].roll_rates[0].month for r in short.sections[0].roll_rates):
            fail("a one-month report holds other months")
        print("report_staging: ok: %d cells, channels %s" % (
            len(report.sections[0].roll_rates),
            {g.name: g.collected_minor for g in report.sections[0].recovery_by_channel}))
    finally:
        rig.close()


if __name__ == "__main__":
    main()
