#!/usr/bin/env python3
"""outreach_assignees: law firms work their own cases' calls as agents of outreach, against
the real broker (broker_rig.py). legal (its own key, role "service") streams
CaseAssignments: firm A (role "firm") holds two accounts in legal, firm B holds none.
Their "legal" stage calls are:
  * never leased to the call centre's agent (which gets only the ordinary call), nor
    to firm B, which pulls nothing at all;
  * leased to firm A through the reference agent client (call_agent.CallAgent): the
    call of the account in an open jurisdiction, which firm A starts and reports (a
    promise to pay reaches staging's side with its terms and firm A's agent), while firm
    B's start and report under firm A's lease are refused;
  * held back by the same conduct gate: the call of the account whose jurisdiction's
    window is closed now is deferred to its next opening, the reason kept with it;
  * and the account nobody holds keeps its call waiting for a holder.

  outreach_assignees.py BROKER WORKER ARREARS PROTO_DIR TEMPLATES"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_rig import BrokerRig  # noqa: E402
from harness import fail  # noqa: E402

# "open" works around the clock; "shut" (jurisdiction FR, borrowers in UTC) opens for one
# hour starting two hours from now, so its calls are deferred while the test runs.
PROFILES = """default = "open";
profiles = ( { name = "open"; window = { start = "00:00"; end = "24:00"; };
               languages = ( { language = "en"; banned = ["arrest"]; } ); },
             { name = "shut"; jurisdictions = ["FR"];
               window = { start = "%02d:00"; end = "%02d:00"; };
               languages = ( { language = "en"; banned = ["arrest"]; } ); } );
"""
FIRM_A, FIRM_B = "firm-a", "firm-b"


class AssigneeRig(BrokerRig):
    """The broker rig with legal's key and two firms' keys admitted, and a jurisdiction
    whose window is closed now."""

    def __init__(self, broker, worker, arrears, proto_dir, templates):
        self.arrears = arrears
        super().__init__(broker, worker, arrears, proto_dir, templates, prefix="asg")

    def write_configs(self, templates, lease_ms, log_level):
        super().write_configs(templates, lease_ms, log_level)
        for name in ("legal", "firma", "firmb"):
            subprocess.run([self.arrears, "keygen", name, self.path("keys")], check=True,
                           capture_output=True)
        opens = (time.gmtime().tm_hour + 2) % 24
        with open(self.path("profiles.conf"), "w") as f:
            f.write(PROFILES % (opens, opens + 1))
        keys = [("staging", "service", "staging"), ("worker", "worker", "worker"),
                ("agent", "agent", "agent"), ("legal", "service", "legal"),
                (FIRM_A, "firm", "firma"), (FIRM_B, "firm", "firmb")]
        with open(self.path("allowed.conf"), "w") as f:
            f.write("keys = (\n%s\n);\n" % ",\n".join(
                '  { principal = "%s"; role = "%s"; public = "%s"; }' % (p, r, self.public(k))
                for p, r, k in keys))


def requests():
    import outreach_pb2
    import platform_pb2

    def req(ref, stage, jurisdiction="GB", zone="Europe/London"):
        return outreach_pb2.ContactRequest(
            platform="p", account_ref=ref, contact_id=ref + "#1", channel=outreach_pb2.CALL,
            template_id="late_call_v1", priority=10, person_key=ref.encode().ljust(16, b"."),
            time_zone=zone, jurisdiction=jurisdiction, language="en", stage=stage,
            days_past_due=200, outstanding_minor=250000, currency="GBP",
            borrower_name="Borrower " + ref,
            phones=[platform_pb2.ContactPoint(value="+447700900%03d" % len(ref), verified=True,
                                              consent=True)])
    return [req("LEGAL-1", "legal"), req("LEGAL-FR", "legal", "FR", "UTC"),
            req("LEGAL-NONE", "legal"), req("ORD-1", "late")]


def assignments():
    import legal_pb2
    return [legal_pb2.CaseAssignment(platform="p", account_ref=ref, case_id="C-" + ref,
                                     assignee=FIRM_A, active=True)
            for ref in ("LEGAL-1", "LEGAL-FR")]


def tasks_in(rig):
    rows = [json.loads(line) for line in rig.dump().splitlines()]
    return {r["id"]: r["task"] for r in rows if r.get("table") == "task"}


def refused(rig, what, call, reason):
    try:
        call()
    except rig.ac.QueryRejected as e:
        if reason not in e.reject.reason:
            fail("%s: refused, but saying %r" % (what, e.reject.reason))
        return
    fail("%s: not refused" % what)


def agent(rig, key, name):
    import call_agent
    return call_agent.CallAgent(rig.ep["broker"], rig.path("keys", "outreach.pub"),
                                rig.ac.load_keypair(rig.path("keys", key + ".key")), name,
                                context=rig.ctx)


def check_deferred(rig):
    t = tasks_in(rig)["p/LEGAL-FR#1"]
    reason = t.get("decisions", [{}])[-1].get("reason", "")
    if t["state"] != "TASK_PENDING" or not reason.startswith("deferred by shut: window; next opening"):
        fail("the firm's call outside its window was not deferred by the gate: %r" % t)
    if "puller" in t:
        fail("the deferred call was leased to %r" % t["puller"])
    waiting = tasks_in(rig)["p/LEGAL-NONE#1"]
    if waiting["state"] != "TASK_PENDING" or waiting.get("decisions"):
        fail("the call of the account nobody holds did not simply wait: %r" % waiting)


def work(rig, firm_a, firm_b, call_centre):
    import outreach_pb2
    if firm_b.pull():
        fail("firm B, holding nothing, was leased a call")
    got = [t.account_ref for t in call_centre.pull()]
    if got != ["ORD-1"]:
        fail("the call centre's agent got %r, wanted the ordinary call alone" % got)
    tasks = firm_a.pull()
    if [t.account_ref for t in tasks] != ["LEGAL-1"]:
        fail("firm A got %r, wanted the call of its account in an open window" % tasks)
    task = tasks[0]
    refused(rig, "firm B starting firm A's lease", lambda: firm_b.start(task),
            "this lease is another puller's")
    if not firm_a.start(task):
        fail("no go for firm A's own call")
    refused(rig, "firm B reporting firm A's lease", lambda: firm_b.report(task, "REFUSAL"),
            "this lease is another puller's")
    if not firm_a.report(task, "PROMISE_TO_PAY", promise_amount_minor=100000,
                         promise_date="2026-12-20"):
        fail("firm A's report was not recorded")
    check_deferred(rig)
    rig.wait(lambda: rig.receiver.bodies("contact_outcome"), 30, "the outcome at staging's side")
    o = rig.receiver.bodies("contact_outcome")[0]
    if (o.account_ref, o.result, o.promise_amount_minor, o.agent) != \
            ("LEGAL-1", outreach_pb2.PROMISE_TO_PAY, 100000, "firm-a-alice"):
        fail("the firm's promise did not reach staging with its terms: %r" % o)
    done = tasks_in(rig)["p/LEGAL-1#1"]
    if (done["state"], done.get("puller")) != ("TASK_DONE", FIRM_A):
        fail("firm A's call is not done under its lease: %r" % done)


def main():
    if len(sys.argv) != 6:
        fail(__doc__)
    rig = AssigneeRig(*sys.argv[1:6])
    try:
        rig.start()
        legal = rig.ac.Stream(rig.ep["broker"], rig.ac.load_public(rig.path("keys", "outreach.pub")),
                              rig.ac.load_keypair(rig.path("keys", "legal.key")), context=rig.ctx)
        rig.feed(requests())
        for a in assignments():
            legal.send(a)
        legal.flush(60)
        log = rig.log_text("broker")
        if log.count("event=case_assignment") != 2 or "holder=set" not in log:
            fail("the broker did not log the two assignments:\n%s" % log[-2000:])
        clients = [agent(rig, "firma", "firm-a-alice"), agent(rig, "firmb", "firm-b-bob"),
                   agent(rig, "agent", "carol")]
        work(rig, *clients)
        for c in clients:
            c.close()
        legal.close(save=False)
    finally:
        rig.close()
    print("ok")


if __name__ == "__main__":
    main()
