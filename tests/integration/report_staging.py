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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_figures as rf  # noqa: E402
import scenario_staging as scenario  # noqa: E402
from harness import fail  # noqa: E402
from pipeline_rig import HERE, PipelineRig  # noqa: E402


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
        try:
            book = rf.accounts_and_timelines(rig.dump())
        except ValueError as e:
            fail(str(e))
        arms = {}
        for acct in book:
            view = rig.account(acct[0]["account_ref"], max_entries=1)
            arms[int(acct[0].get("arm", 0))] = view.arm
        want = rf.staging_timeline(book, report.as_of_ms, arms)
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
