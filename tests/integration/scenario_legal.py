#!/usr/bin/env python3
"""scenario_legal: accounts referred to legal and worked by law firms and collection
agencies, through the real intake, staging, outreach (broker and one worker) and legal
processes on the simulated clock, day by day from 2026-03-01 at noon in Asia/Shanghai.
Two firms and two agencies are reference clients (case_client.py, call_agent.py) with
their own CURVE keys (issue 7, acceptance 2).

  LAW-1      20,000 CNY: a firm accepts, sends a demand letter, files, is given
             judgment, enforces and recovers everything: the recovery is a payment at
             staging, the account is paid (legal hears it closed and ends the case; the
             firm's own closing report the next day is a duplicate), and the platform's
             feed shows both
  LAW-2      15,000 CNY: the firm recovers 5,000 under receipt R2-1 and the platform
             posts the same money under the same reference: counted once; then the other
             way round (R2-2: the platform first, the firm the next day): counted once
  BAR-3      legal's jurisdiction file (changed there first: two years for CN, staging
             still has three) finds the debt time-barred: declined, and staging marks
             the account time-barred
  TIMEOUT-4  11,000 CNY: the firm it is offered to never accepts; three days on it
             moves to the other firm, which accepts
  RECALL-5   5,000 CNY (agencies only below 10,000): the agency accepts and does nothing;
             after 20 days without progress it is recalled and offered to the other
  CALL-6     3,000 CNY: the agency holding it pulls its first call at 01:00 local — the
             conduct gate defers it to the morning (no collection calls 22:00-08:00) — and
             works it at noon; no worker or other assignee ever gets it

  scenario_legal.py ARREARS INTAKE STAGING BROKER WORKER LEGAL PROTO_DIR [kill-seed]
With a kill seed, legal is SIGKILLed at seeded points of the same run (issue 7,
acceptance 4) and the run must end in the same state: legal's, staging's and outreach's
dumps equal those of an uninterrupted run (the run without kills is made first)."""
import datetime
import difflib
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import fail  # noqa: E402
from pipeline_rig import DAY_MS, HERE, Legal, Outreach, PipelineRig  # noqa: E402

START = datetime.date(2026, 3, 1)
NOON_MS = 4 * 3600 * 1000          # 12:00 in UTC+8
DAYS = 23
ASSIGNEES = [
    ("firm-a", "firm", 'regions = ["CN"]; products = ["online_loan"]; capacity = 10; '
                       'accept_deadline_days = 3;'),
    ("firm-b", "firm", 'regions = ["CN"]; products = ["online_loan"]; capacity = 10; '
                       'accept_deadline_days = 3;'),
    ("agency-c", "agency", 'regions = ["CN"]; products = ["online_loan"]; capacity = 10; '
                           'commission_bps = 2000; accept_deadline_days = 3; recall_after_days = 20;'),
    ("agency-d", "agency", 'regions = ["CN"]; products = ["online_loan"]; capacity = 10; '
                           'commission_bps = 1500; accept_deadline_days = 3; recall_after_days = 20;'),
]
CURRENCIES = '{ currency = "CNY"; floor_minor = 100000; firm_from_minor = 1000000; }'
LEGAL_LIMITATION = 'limitation = { default = { years = 6; }; jurisdictions = ( { name = "CN"; years = 2; } ); };\n'
ACCOUNTS = {   # ref: (principal, first due date)
    "LAW-1": (2000000, "2026-01-30"), "LAW-2": (1500000, "2026-01-30"),
    "BAR-3": (1200000, "2024-02-10"), "TIMEOUT-4": (1100000, "2026-01-30"),
    "RECALL-5": (500000, "2026-01-30"), "CALL-6": (300000, "2026-01-30"),
}


def day_ms(d):
    return (START - datetime.date(1970, 1, 1)).days * DAY_MS + d * DAY_MS + NOON_MS


def date(d):
    return (START + datetime.timedelta(days=d)).isoformat()


def upserts(rig):
    pb = rig.ac.platform_pb2
    return [pb.AccountUpsert(
        account_ref=ref, product=pb.ONLINE_LOAN, currency="CNY", opened_date="2023-06-01",
        borrower=pb.Borrower(name="Borrower " + ref, id_number_hash=bytes([i]) * 32,
                             time_zone="Asia/Shanghai", language="zh-CN",
                             phones=[pb.ContactPoint(value="+86138001380%02d" % i, verified=True,
                                                     consent=True)],
                             address=pb.Address(line1="1 Road", city="Shanghai", country="CN")),
        schedule=[pb.Instalment(due_date=due, principal_minor=principal)],
        mandate=pb.Mandate(may_refer_to_legal=True))
        for i, (ref, (principal, due)) in enumerate(sorted(ACCOUNTS.items()))]


class Parties:
    """The firms' and agencies' clients, and what each case is (by account)."""

    def __init__(self, rig):
        import call_agent
        import case_client
        keys = lambda n: rig.ac.load_keypair(rig.path("keys", n + ".key"))  # noqa: E731
        pub = rig.path("keys", "legal.pub")
        self.rig = rig
        self.cases = {n: case_client.CaseClient(rig.ep["legal"], pub, keys(n)) for n, _, _ in ASSIGNEES}
        self.agents = {n: call_agent.CallAgent(rig.ep["outreach"], rig.path("keys", "outreach.pub"),
                                               keys(n), name=n) for n, _, _ in ASSIGNEES}

    def holder(self, ref):
        """(assignee, case id) of the account's case as the assignees list them."""
        for name, client in self.cases.items():
            for c in client.cases(include_ended=True):
                if c.account_ref == ref:
                    return name, c.case_id
        return None, None

    def step(self, ref, status, d, **kw):
        name, case = self.holder(ref)
        if not name:
            fail("nobody lists %s's case on day %d" % (ref, d))
        self.cases[name].update(case, status, date(d), **kw)
        self.cases[name].flush(60)
        if self.cases[name].rejected:
            fail("%s's update on %s refused: %s" % (name, ref, self.cases[name].rejected))
        return name

    def close(self):
        for c in self.cases.values():
            c.stream.close(save=False)
        for a in self.agents.values():
            a.close()


def work_calls(parties, exclude=()):
    """Each assignee's agents take the calls of their own accounts that are due and let
    through, and report no answer (a diligent desk: nothing waits on them). Returns
    {assignee: [account refs called]}."""
    called = {}
    for name, agent in parties.agents.items():
        if name in exclude:
            continue
        for task in agent.pull(channels=("CALL", "VISIT")):
            if agent.start(task):
                agent.report(task, "NO_ANSWER")
                called.setdefault(name, []).append(task.account_ref)
    return called


def platform_events(rig, d):
    pb = rig.ac.platform_pb2
    if d == 0:
        return upserts(rig)
    if d == 4:   # the same 5,000 the firm reported under R2-1: counted once
        return [pb.PaymentPosted(account_ref="LAW-2", payment_ref="R2-1", amount_minor=500000,
                                 currency="CNY", paid_at_ms=day_ms(4), channel=pb.BANK_TRANSFER)]
    if d == 6:   # the other order: the platform first, the firm reports R2-2 the next day
        return [pb.PaymentPosted(account_ref="LAW-2", payment_ref="R2-2", amount_minor=300000,
                                 currency="CNY", paid_at_ms=day_ms(6), channel=pb.BANK_TRANSFER)]
    return []


def assignee_steps(p, d, notes):
    if d == 1:
        for ref in ("LAW-1", "LAW-2", "RECALL-5", "CALL-6"):
            notes.setdefault("accepted_by", {})[ref] = p.step(ref, "ACCEPTED", d)
        notes["first_offer"] = p.holder("TIMEOUT-4")[0]   # it never answers
    elif d == 2:
        p.step("LAW-1", "DEMAND_LETTER", d, evidence_ref="DL-2026-0001")
        p.step("LAW-1", "FILED", d, evidence_ref="(2026)HU0101MIN-77", costs_minor=50000)
    elif d == 3:
        p.step("LAW-1", "JUDGMENT", d, evidence_ref="JDG-77")
        p.step("LAW-2", "ACCEPTED", d, recovery_minor=500000, recovery_ref="R2-1")
    elif d == 4:
        notes["second_offer"] = p.step("TIMEOUT-4", "ACCEPTED", d)
    elif d == 5:   # paid in full: staging tells legal the account closed, legal ends the case
        p.step("LAW-1", "ENFORCEMENT", d, evidence_ref="ENF-77", recovery_minor=2000000,
               recovery_ref="R1-1")
    elif d == 6:   # the firm's own closing report comes after: taken as a duplicate
        p.step("LAW-1", "CASE_CLOSED", d, evidence_ref="END-77")
    elif d == 7:
        p.step("LAW-2", "ACCEPTED", d, recovery_minor=300000, recovery_ref="R2-2")


def night_pull(rig, p, notes):
    """Day 2, 01:00 local: staging's run at midnight asked for CALL-6's first call; its
    agency asks for it at once, and the gate says not before 08:00."""
    rig.advance(day_ms(2) - 11 * 3600 * 1000)
    agency = notes["accepted_by"]["CALL-6"]
    tasks = p.agents[agency].pull(channels=("CALL",))
    if tasks:
        fail("the agency was given a call at 23:00 local: %s" % [t.account_ref for t in tasks])


def simulate(rig, p, kills=()):
    notes, calls = {}, {}
    for d in range(DAYS + 1):
        if d in kills:
            rig.kill("legal")
            rig.start_legal()
        if d == 2:
            night_pull(rig, p, notes)
        rig.advance(day_ms(d))
        events = platform_events(rig, d)
        if events:
            rig.platform.enqueue(events)
            rig.settle_intake()
        assignee_steps(p, d, notes)
        for name, refs in work_calls(p).items():
            for ref in refs:
                calls.setdefault(ref, []).append((d, name))
        if rig.platform.rejected or rig.operator.rejected:
            fail("refused: %r %r" % (rig.platform.rejected, rig.operator.rejected))
    rig.advance(day_ms(DAYS))
    notes["calls"] = calls
    return notes


def feed_of(rig, ref):
    pb = rig.ac.platform_pb2
    return [(pb.FeedEventKind.Name(e.kind), e.amount_minor, e.reference, e.detail)
            for e in rig.platform.feed_all()[0] if e.account_ref == ref]


def legal_cases(rig):
    import json
    return {c["case"]["account_ref"]: c["case"] for c in map(json.loads, rig.dump("legal").splitlines())
            if c.get("table") == "case"}


def what_steps(case):
    return [(s.get("what"), s.get("assignee", "")) for s in case.get("steps", [])]


def check_case_file(p):
    """LAW-2's file as its firm pulls it: staging's statement, figures and record."""
    name, case = p.holder("LAW-2")
    f = p.cases[name].case_file(case, machine=True)
    st = f.referral.statement
    if f.referral.account_ref != "LAW-2" or len(st.schedule) != 1 or not st.record or \
            st.borrower.name != "Borrower LAW-2" or st.schedule[0].principal_minor != 1500000:
        fail("LAW-2's case file does not carry staging's statement: %s" % st)
    html = p.cases[name].case_file(case).decode()
    for words in ("Borrower LAW-2", "15000.00", "Penalty interest, day by day", "referral"):
        if words not in html:
            fail("LAW-2's case file does not show %r" % words)


def check_law(rig):
    view, entries = rig.timeline("LAW-1")
    if view.stage != "paid" or view.outstanding_minor != 0:
        fail("LAW-1 is %s with %d outstanding, not paid" % (view.stage, view.outstanding_minor))
    paid = [(e.kind, e.amount_minor, e.reference) for e in entries if e.kind == "payment"]
    if paid != [("payment", 2000000, "R1-1")]:
        fail("LAW-1's payments: %s" % paid)
    feed = feed_of(rig, "LAW-1")
    if ("PAYMENT_APPLIED", 2000000, "R1-1") not in [f[:3] for f in feed] or \
            not any(f[0] == "CLOSED" for f in feed):
        fail("the platform's feed for LAW-1 lacks the recovery or the closing: %s" % feed)
    view2, entries2 = rig.timeline("LAW-2")
    twice = [(e.amount_minor, e.reference) for e in entries2 if e.kind == "payment"]
    if twice != [(500000, "R2-1"), (300000, "R2-2")] or view2.outstanding_minor != 700000:
        fail("LAW-2: payments %s, outstanding %d (the same money reported by the firm and "
             "posted by the platform counts once)" % (twice, view2.outstanding_minor))


def check_declined(rig, cases):
    view, entries = rig.timeline("BAR-3")
    if cases["BAR-3"].get("status") != "DECLINED" or cases["BAR-3"].get("verdict") != "time_barred":
        fail("BAR-3 at legal: %s" % cases["BAR-3"])
    if not view.time_barred or not any(e.kind == "time_barred" for e in entries):
        fail("staging did not mark BAR-3 time-barred: %s" % [(e.kind, e.reason) for e in entries])


def check_moves(cases, notes):
    law = what_steps(cases["LAW-1"])
    if law[-1][0] != "account_closed" or cases["LAW-1"].get("status") != "CASE_CLOSED":
        fail("LAW-1's case did not end when the account was paid: %s" % law)
    t = what_steps(cases["TIMEOUT-4"])
    first, second = notes["first_offer"], notes["second_offer"]
    want = [("offered", first), ("deadline_passed", first), ("offered", second)]
    if first == second or [x for x in t if x[0] in ("offered", "deadline_passed")][:3] != want:
        fail("TIMEOUT-4's placements: %s (first %s, then %s)" % (t, first, second))
    r = what_steps(cases["RECALL-5"])
    agency = notes["accepted_by"]["RECALL-5"]
    if ("recalled", agency) not in r or r[-1][0] != "offered" or r[-1][1] == agency:
        fail("RECALL-5 was not recalled from %s and offered to the other agency: %s" % (agency, r))


def check_calls(rig, notes):
    import json
    agency = notes["accepted_by"]["CALL-6"]
    calls = notes["calls"].get("CALL-6", [])
    if not calls or any(name != agency for _, name in calls) or calls[0][0] != 2:
        fail("CALL-6's calls: %s (only %s, first at noon on day 2 after the night's deferral)"
             % (calls, agency))
    tasks = [json.loads(line) for line in rig.dump("outreach").splitlines()]
    tasks = [t["task"] for t in tasks if t.get("table") == "task" and
             t["task"].get("request", {}).get("account_ref") == "CALL-6"]
    deferred = [dd for t in tasks for dd in t.get("decisions", []) if "window" in dd.get("reason", "")]
    if not deferred:
        fail("no window deferral on CALL-6's call: %s" % [t.get("decisions") for t in tasks])
    others = {name for ref, made in notes["calls"].items() for _, name in made
              if notes["accepted_by"].get(ref, name) != name}
    if others:
        fail("an assignee called an account it does not hold: %s" % others)


def check_report(rig):
    lp = rig.ac.legal_pb2 if hasattr(rig.ac, "legal_pb2") else __import__("legal_pb2")
    r = rig.legal_operator.query(lp.LegalReportQuery(), 10)
    recovered = sum(f.recovered_minor for f in r.assignees)
    if recovered != 2800000 or r.declined != 1 or list(r.declined_by_reason) != ["time_barred=1"]:
        fail("legal's report: recovered %d, declined %d %s" % (recovered, r.declined,
                                                             list(r.declined_by_reason)))


def run(argv, kills=()):
    arrears, intake, staging, broker, worker, legal, proto_dir = argv[:7]
    outreach = Outreach(broker, worker, os.path.join(HERE, "..", "..", "services", "outreach", "profiles.conf"),
                        os.path.join(HERE, "..", "..", "services", "outreach", "templates.conf"))
    rig = PipelineRig(arrears, intake, staging, proto_dir, os.path.join(HERE, "conf", "legal_strategy.conf"),
                      start_date=START.isoformat(), prefix="slg", outreach=outreach,
                      legal=Legal(legal, ASSIGNEES, CURRENCIES, limitation=LEGAL_LIMITATION))
    p = None
    try:
        rig.start_all()
        p = Parties(rig)
        notes = simulate(rig, p, kills)
        cases = legal_cases(rig)
        check_law(rig)
        check_case_file(p)
        check_declined(rig, cases)
        check_moves(cases, notes)
        check_calls(rig, notes)
        check_report(rig)
        return rig.dump("legal"), rig.dump("staging"), notes
    finally:
        if p:
            p.close()
        rig.close()


def main():
    if len(sys.argv) not in (8, 9):
        fail(__doc__)
    clean = run(sys.argv[1:])
    print("scenario_legal: ok", flush=True)
    if len(sys.argv) == 9:
        seed = int(sys.argv[8])
        kills = sorted(random.Random(seed).sample(range(1, DAYS), 4))
        print("seed %d: legal SIGKILLed before days %s (replay: the same seed)" % (seed, kills), flush=True)
        killed = run(sys.argv[1:], kills)
        for name, a, b in (("legal", clean[0], killed[0]), ("staging", clean[1], killed[1])):
            if a != b:
                diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "clean", "killed",
                                            lineterm="", n=0)
                fail("with legal killed the run ends elsewhere: %s's dump differs:\n%s"
                     % (name, "\n".join(list(diff)[:40])))
        print("scenario_legal: the killed run ends where the clean one does", flush=True)


if __name__ == "__main__":
    main()
