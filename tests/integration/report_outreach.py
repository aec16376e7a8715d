#!/usr/bin/env python3
"""report_outreach: a real broker answers OutreachReportQuery with the figures its own
store holds, checked against an independent count of `outreach-broker dump`.

A broker on the wall clock (tests/integration/broker_rig.py: a profile open around
the clock) takes, from staging's role, on platform p in GBP: SMS to verified phones
(delivered by a worker through the spool), SMS to unverified phones and a letter
without an address (refused by the gate, rule unverified_point), calls no worker
takes (open) and one account's call cancelled; and on platform p in USD and platform
q, e-mails (delivered). Then:
  1. the report (as the "staging" service) matches the dump, figure by figure, with
     the sums worked out here from the stored tasks, not by the broker's code;
  2. the hand-known counts hold (6 SMS delivered, 3 refused by unverified_point, ...);
  3. the report for one platform holds that platform alone;
  4. a worker's key may not ask (UNAUTHORIZED).

  report_outreach.py BROKER WORKER ARREARS PROTO_DIR TEMPLATES"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_figures as rf  # noqa: E402
from broker_rig import BrokerRig  # noqa: E402
from harness import fail  # noqa: E402


def requests():
    import outreach_pb2 as op
    import platform_pb2 as pp

    def req(platform, ref, channel, currency="GBP", verified=True, address=True):
        template = {op.SMS: "early_sms_v1", op.EMAIL: "early_email_v1", op.LETTER: "early_letter_v1",
                    op.CALL: "early_call_v1"}[channel]
        return op.ContactRequest(
            platform=platform, account_ref=ref, contact_id=ref + "#1", channel=channel,
            template_id=template, priority=10, time_zone="Europe/London", language="en",
            stage="early", days_past_due=5, outstanding_minor=12345, currency=currency,
            borrower_name="Borrower " + ref, jurisdiction="GB",
            phones=[pp.ContactPoint(value="+4477009%05d" % len(ref + platform), verified=verified,
                                    consent=True)],
            emails=[pp.ContactPoint(value="%s@example.com" % ref.lower(), verified=True, consent=True)],
            address=pp.Address(line1="1 High Street", city="Town", country="GB") if address else None)
    out = [req("p", "S-%d" % i, op.SMS) for i in range(6)]
    out += [req("p", "U-%d" % i, op.SMS, verified=False) for i in range(2)]
    out += [req("p", "L-0", op.LETTER, address=False)]
    out += [req("p", "C-%d" % i, op.CALL) for i in range(3)]
    out += [req("p", "E-%d" % i, op.EMAIL, currency="USD") for i in range(2)]
    out += [req("q", "Q-0", op.EMAIL)]
    return out


def reported(report):
    out = {}
    for s in report.sections:
        out[(s.platform, s.currency)] = {
            "channels": {c.channel: {"tasks": c.tasks, "delivered": c.delivered, "failed": c.failed,
                                     "not_attempted": c.not_attempted, "cancelled": c.cancelled,
                                     "refused": c.refused, "open": c.open, "deferrals": c.deferrals}
                         for c in s.channels},
            "rules": {r.rule: [r.refused, r.deferred] for r in s.rules},
            "profiles": {p.profile: {"tasks": p.tasks, "refused": p.refused, "deferrals": p.deferrals,
                                     "rules": {r.rule: [r.refused, r.deferred] for r in p.rules}}
                         for p in s.profiles},
        }
    return out


def main():
    broker, worker, arrears, proto_dir, templates = sys.argv[1:6]
    rig = BrokerRig(broker, worker, arrears, proto_dir, templates, prefix="rpo")
    try:
        rig.start()
        import outreach_pb2 as op
        reqs = requests()
        rig.feed(reqs + [op.ContactCancel(platform="p", account_ref="C-0", reason="paid")])
        rig.start_worker(channels='"sms", "email", "letter"')
        # Every task but the calls comes back to staging (a cancel before any attempt
        # tells staging nothing); the calls wait for an agent that never comes.
        settled = len(reqs) - sum(r.channel == op.CALL for r in reqs)
        rig.wait(lambda: len(rig.receiver.bodies("contact_outcome")) >= settled, 120,
                 "%d outcomes at the staging side" % settled)
        check(rig, op, reqs)
    finally:
        rig.close()


def check(rig, op, reqs):
    """The report against the dump, the known counts, one platform, a stranger."""
    report = rig.stream.query(op.OutreachReportQuery(), 30)
    dump = rf.tasks_of(rig.dump())
    got, want = reported(report), rf.outreach_figures(dump)
    if got != want:
        fail("the report is not what the dump holds:\nreport %s\ndump   %s"
             % (json.dumps({"%s/%s" % k: v for k, v in got.items()}, sort_keys=True),
                json.dumps({"%s/%s" % k: v for k, v in want.items()}, sort_keys=True)))
    gbp = got[("p", "GBP")]
    checks = [
        (gbp["channels"]["sms"]["delivered"], 6), (gbp["channels"]["sms"]["refused"], 2),
        (gbp["channels"]["letter"]["refused"], 1), (gbp["rules"]["unverified_point"][0], 3),
        (gbp["channels"]["call"]["cancelled"], 1), (gbp["channels"]["call"]["open"], 2),
        (got[("p", "USD")]["channels"]["email"]["delivered"], 2),
        (got[("q", "GBP")]["channels"]["email"]["delivered"], 1),
        (len(dump), len(reqs)), (report.tasks_unreported, 0),
    ]
    for i, (have, should) in enumerate(checks):
        if have != should:
            fail("check %d: %r, expected %r" % (i, have, should))
    only_q = rig.stream.query(op.OutreachReportQuery(platform="q"), 30)
    if reported(only_q) != rf.outreach_figures(dump, "q"):
        fail("the report for platform q is not q's: %s" % only_q)
    keys = rig.path("keys")
    stranger = rig.ac.Stream(rig.ep["broker"], rig.ac.load_public(os.path.join(keys, "outreach.pub")),
                             rig.ac.load_keypair(os.path.join(keys, "worker.key")), context=rig.ctx)
    try:
        stranger.query(op.OutreachReportQuery(), 10)
        fail("a worker was given the outreach report")
    except rig.ac.QueryRejected as e:
        if e.code != rig.ac.envelope_pb2.Reject.UNAUTHORIZED:
            fail("a worker's report query refused for the wrong reason: %s" % e)
    finally:
        stranger.close(save=False)
    print("report_outreach: ok (%d tasks; %s)" % (len(dump), json.dumps(gbp["rules"], sort_keys=True)))


if __name__ == "__main__":
    main()
