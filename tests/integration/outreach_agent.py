#!/usr/bin/env python3
"""outreach_agent: people work the call queue and field visits through the reference
agent client (tests/clients/python/call_agent.py, role "agent", their own key) against
the real broker (broker_rig.py). Two calls, a visit in Kent, a visit in Essex and an SMS:
  * an agent covering Kent gets both calls and the Kent visit — not the Essex visit, and
    never the SMS (an agent asking for SMS is refused: messages go through workers);
  * the agent starts each call (go), reports a promise to pay with its amount and date
    and a dispute, and the visit's right-party contact: staging's side receives each
    outcome with its terms and the agent's name;
  * a second start of the same lease says go again (idempotent), a report for someone
    else's lease is not recorded;
  * an agent covering Essex then gets the Essex visit.

  outreach_agent.py BROKER WORKER ARREARS PROTO_DIR TEMPLATES"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_rig import BrokerRig  # noqa: E402
from harness import fail  # noqa: E402


def requests():
    import outreach_pb2
    import platform_pb2
    def req(ref, channel, region=None):
        return outreach_pb2.ContactRequest(
            platform="p", account_ref=ref, contact_id=ref + "#1", channel=channel,
            template_id={outreach_pb2.CALL: "early_call_v1", outreach_pb2.VISIT: "late_visit_v1",
                         outreach_pb2.SMS: "early_sms_v1"}[channel],
            priority=10, person_key=ref.encode().ljust(16, b"."), time_zone="Europe/London",
            language="en", stage="early", days_past_due=20, outstanding_minor=90000,
            currency="GBP", borrower_name="Borrower " + ref,
            phones=[platform_pb2.ContactPoint(value="+447700900%03d" % len(ref), verified=True,
                                              consent=True)],
            address=platform_pb2.Address(line1="1 High Street", city="Town", region=region or "Kent",
                                         country="GB"))
    return [req("CALL-1", outreach_pb2.CALL), req("CALL-2", outreach_pb2.CALL),
            req("VISIT-K", outreach_pb2.VISIT, "Kent"), req("VISIT-E", outreach_pb2.VISIT, "Essex"),
            req("SMS-1", outreach_pb2.SMS)]


def main():
    if len(sys.argv) != 6:
        fail(__doc__)
    rig = BrokerRig(*sys.argv[1:6], prefix="agt")
    try:
        rig.start()
        rig.feed(requests())
        import call_agent
        import outreach_pb2
        keys = rig.ac.load_keypair(rig.path("keys", "agent.key"))
        kent = call_agent.CallAgent(rig.ep["broker"], rig.path("keys", "outreach.pub"), keys, "alice")
        try:
            kent.pull(channels=("SMS",))
            fail("an agent was allowed to pull SMS")
        except rig.ac.QueryRejected as e:
            if "agents pull calls and visits only" not in e.reject.reason:
                fail("the refusal does not say why: %r" % e.reject.reason)
        tasks = {t.account_ref: t for t in kent.pull(regions=["kent"])}
        if sorted(tasks) != ["CALL-1", "CALL-2", "VISIT-K"]:
            fail("the Kent agent got %r" % sorted(tasks))
        for t in tasks.values():
            if not kent.start(t) or not kent.start(t):
                fail("no go (or not idempotent) for %s" % t.task_id)
        kent.report(tasks["CALL-1"], "PROMISE_TO_PAY", promise_amount_minor=45000,
                    promise_date="2026-12-20")
        kent.report(tasks["CALL-2"], "DISPUTED", detail="says the loan was repaid")
        stolen = outreach_pb2.TaskReport(task_id=tasks["VISIT-K"].task_id, lease_id=tasks["VISIT-K"].lease_id + 99,
                                         worker="mallory", result=outreach_pb2.DELIVERED)
        if kent.stream.query(stolen).go:
            fail("a report for another lease was recorded")
        kent.report(tasks["VISIT-K"], "RIGHT_PARTY_CONTACT")
        essex = call_agent.CallAgent(rig.ep["broker"], rig.path("keys", "outreach.pub"), keys, "bob")
        got = [t.account_ref for t in essex.pull(regions=["Essex"])]
        if got != ["VISIT-E"]:
            fail("the Essex agent got %r" % got)
        rig.wait(lambda: len(rig.receiver.bodies("contact_outcome")) >= 3, 30, "the three outcomes at staging's side")
        by_ref = {o.account_ref: o for o in rig.receiver.bodies("contact_outcome")}
        p = by_ref["CALL-1"]
        if (p.result, p.promise_amount_minor, p.promise_date, p.agent) != \
                (outreach_pb2.PROMISE_TO_PAY, 45000, "2026-12-20", "alice"):
            fail("the promise did not reach staging with its terms: %r" % p)
        if by_ref["CALL-2"].result != outreach_pb2.DISPUTED or by_ref["VISIT-K"].result != outreach_pb2.RIGHT_PARTY_CONTACT:
            fail("outcomes: %r" % by_ref)
        kent.close()
        essex.close()
    finally:
        rig.close()
    print("ok")


if __name__ == "__main__":
    main()
