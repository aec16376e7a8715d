#!/usr/bin/env python3
"""legal_api: the legal service as its parties see it — staging's referrals (one placed
with a law firm, one with another, a small one with an agency, one time-barred, one
below the floor), firms and an agency pulling their case lists and case files and
reporting steps through the reference client, each acting only on its own cases.

Checked (DESIGN.md sections 5 and 6, issue 7 acceptance 3):
  * every referral's answer at staging's side: offered to whom, or declined with the
    reason (time-barred flagged so staging marks the account);
  * a case file pulled in chunks matches its SHA-256; the HTML escapes what it shows;
  * a firm cannot read or update another firm's case; an unknown key cannot connect;
  * malformed and illegal updates get a Reject with a reason and change nothing (the
    dump before and after is the same);
  * the lifecycle to the end: accepted (outreach told the firm holds the account),
    demand letter, filed, judgment, enforcement with a recovery (sent to staging once,
    a resend answered as a duplicate, the same reference with another amount refused),
    closed (outreach told it no longer does);
  * an agency hands a case back; an offer not accepted by its deadline moves on;
  * the legal report's figures; legal SIGKILLed and restarted keeps everything.
Usage: legal_api.py LEGAL ARREARS PROTO_DIR"""
import sys

from harness import fail, wait_for
from legal_rig import DAY_MS, START_MS, LegalRig
import wire_checks


def referral(rig, ref, outstanding, missed="2026-01-10", zone="Asia/Shanghai", name="Wang Li"):
    lp = __import__("legal_pb2")
    pp = __import__("platform_pb2")
    sp = __import__("staging_pb2")
    st = lp.CaseStatement(as_of_date="2026-03-01",
                          borrower=pp.Borrower(name=name, time_zone=zone,
                                               address=pp.Address(line1="1 Road", city="Shanghai",
                                                                  country="CN")),
                          rates=pp.ContractRates(penalty_bps=5, penalty_period=pp.PER_DAY),
                          schedule=[lp.StatementInstalment(due_date=missed, principal_minor=outstanding,
                                                           outstanding_minor=outstanding)],
                          penalty=[lp.PenaltyLine(instalment_due_date=missed, from_date=missed,
                                                  to_date="2026-02-28", base_minor=outstanding,
                                                  rate_bps=5, period=pp.PER_DAY, accrued_minor=1234)],
                          record=[sp.TimelineEntry(seq=1, day=missed, actor="staging", kind="opened",
                                                   reason="taken over")])
    return lp.LegalReferral(platform="p1", account_ref=ref, referred_at_ms=START_MS,
                            product=pp.ONLINE_LOAN, currency="CNY", outstanding_minor=outstanding,
                            principal_minor=outstanding, days_past_due=50,
                            first_missed_due_date=missed, time_zone=zone, jurisdiction="CN",
                            reason="dpd 50, two broken promises", may_refer_to_legal=True,
                            statement=st)


def updates_for(rig, ref):
    return [u for u in rig.to_staging.bodies("legal_update") if u.account_ref == ref]


def open_cases(rig):
    s = rig.staging
    s.enqueue([referral(rig, "AC-1", 600000, name="Wang <b>Li</b> & \"Co\""),
               referral(rig, "AC-2", 800000),
               referral(rig, "AC-3", 900000, missed="2022-01-10"),    # barred since 2025-01-11
               referral(rig, "AC-4", 50000),                          # below the 1000.00 floor
               referral(rig, "AC-5", 200000)])                        # below firm_from: agency
    s.flush(30)
    if s.rejected:
        fail("referrals refused: %s" % s.rejected)
    wait_for(lambda: len(rig.to_staging.bodies("legal_update")) >= 5, 30, "five answers")
    lp = __import__("legal_pb2")
    want = {"AC-1": (lp.REFERRED, "firm-a"), "AC-2": (lp.REFERRED, "firm-b"),
            "AC-3": (lp.DECLINED, "time-barred since 2025-01-11"),
            "AC-4": (lp.DECLINED, "below the floor"), "AC-5": (lp.REFERRED, "agency-c")}
    for ref, (status, words) in want.items():
        u = updates_for(rig, ref)[0]
        if u.status != status or words not in u.detail:
            fail("%s: %s %r, wanted %s with %r" % (ref, lp.CaseStatus.Name(u.status), u.detail,
                                                  lp.CaseStatus.Name(status), words))
    if not updates_for(rig, "AC-3")[0].time_barred or updates_for(rig, "AC-4")[0].time_barred:
        fail("only the time-barred refusal tells staging to mark the account")
    return {ref: updates_for(rig, ref)[0].case_id for ref in ("AC-1", "AC-2", "AC-5")}


def check_lists_and_files(rig, ids):
    ac = rig.ac
    for name, ref in (("firm-a", "AC-1"), ("firm-b", "AC-2"), ("agency-c", "AC-5")):
        cases = rig.clients[name].cases()
        if [c.account_ref for c in cases] != [ref]:
            fail("%s lists %s, wanted only %s" % (name, [c.account_ref for c in cases], ref))
    html = rig.clients["firm-a"].case_file(ids["AC-1"], chunk=1000).decode()
    if "Wang &lt;b&gt;Li&lt;/b&gt; &amp; &quot;Co&quot;" not in html or "<b>Li" in html:
        fail("the case file does not escape the borrower's name")
    for figure in ("6000.00", "12.34", "dpd 50, two broken promises"):
        if figure not in html:
            fail("the case file does not state %r" % figure)
    machine = rig.clients["firm-a"].case_file(ids["AC-1"], machine=True)
    if machine.referral.account_ref != "AC-1" or machine.case_id != ids["AC-1"]:
        fail("the machine form is not the referral's")
    try:
        rig.clients["firm-b"].case_file(ids["AC-1"])
        fail("firm-b read firm-a's case file")
    except ac.QueryRejected as e:
        if rig.ac.Reject.Code.Name(e.code) != "UNAUTHORIZED":
            fail("firm-b reading firm-a's file: %s" % e.code)


def refused_codes(client, before):
    client.flush(30)
    return [(r["code"], r["field"]) for r in client.rejected[before:]]


def check_refusals(rig, ids):
    """Each bad update gets its Reject and the cases stay exactly as they were."""
    before_dump = rig.dump()
    a, b = rig.clients["firm-a"], rig.clients["firm-b"]
    n = len(b.rejected)
    b.update(ids["AC-1"], "ACCEPTED", "2026-03-01")          # not firm-b's case
    b.update("L999999999", "ACCEPTED", "2026-03-01")         # no such case: the same answer
    if refused_codes(b, n) != [("UNAUTHORIZED", "case_id")] * 2:
        fail("another firm's and an unknown case: %s" % refused_codes(b, n))
    texts = {r["reason"] for r in b.rejected[n:]}
    if len({t.replace(ids["AC-1"], "X").replace("L999999999", "X") for t in texts}) != 1:
        fail("an unknown case and another firm's case must read the same: %s" % texts)
    n = len(a.rejected)
    a.update(ids["AC-1"], "JUDGMENT", "2026-03-01", evidence_ref="J-1")   # not from referred
    a.update(ids["AC-1"], "ACCEPTED", "2026-02-30")                         # no such date
    a.update(ids["AC-1"], "ACCEPTED", "2026-03-05")                         # in the future
    a.update(ids["AC-1"], "ACCEPTED", "2026-03-01", recovery_minor=100)     # money, no ref
    got = refused_codes(a, n)
    want = [("CONFLICT", "status"), ("INVALID_FIELD", "date"), ("CONFLICT", "status"),
            ("INVALID_FIELD", "recovery_ref")]
    if got != want:
        fail("refusals %s, wanted %s" % (got, want))
    check_garbage(rig)
    if rig.dump() != before_dump:
        fail("refused updates changed the cases")


def check_garbage(rig):
    """Bytes that are no Envelope: Reject seq 0, MALFORMED, nothing consumed."""
    wire_checks.check_garbage(rig.ac, rig.ctx, rig.ep["legal"],
                              rig.ac.load_public(rig.path("keys", "legal.pub")), rig.keypair("firm-a"))


def check_stranger(rig):
    wire_checks.check_stranger(rig.ac, rig.ctx, rig.ep["legal"],
                               rig.ac.load_public(rig.path("keys", "legal.pub")), rig.keypair("stranger"))


def check_lifecycle(rig, ids):
    lp = __import__("legal_pb2")
    a, case = rig.clients["firm-a"], ids["AC-1"]
    n = len(a.rejected)
    a.update(case, "ACCEPTED", "2026-03-01")
    a.update(case, "DEMAND_LETTER", "2026-03-01", evidence_ref="DL-7")
    a.update(case, "FILED", "2026-03-01", evidence_ref="(2026)Hu0101Min-1", costs_minor=30000)
    a.update(case, "JUDGMENT", "2026-03-01", evidence_ref="JDG-1")
    a.update(case, "ENFORCEMENT", "2026-03-01", evidence_ref="ENF-1", recovery_minor=100000,
             recovery_ref="RC-1")
    a.flush(30)
    dup = a.stream.stats["duplicate_acks"]
    a.update(case, "ENFORCEMENT", "2026-03-01", recovery_minor=100000, recovery_ref="RC-1")
    a.flush(30)
    if a.stream.stats["duplicate_acks"] <= dup:
        fail("the same recovery again was not answered as a duplicate")
    a.update(case, "ENFORCEMENT", "2026-03-01", recovery_minor=200000, recovery_ref="RC-1")
    a.update(case, "CASE_CLOSED", "2026-03-01", evidence_ref="END-1")
    if refused_codes(a, n) != [("CONFLICT", "recovery_ref")]:
        fail("lifecycle refusals: %s" % refused_codes(a, n))
    wait_for(lambda: len(updates_for(rig, "AC-1")) >= 7, 30, "every step at staging")
    steps = [lp.CaseStatus.Name(u.status) for u in updates_for(rig, "AC-1")]
    if steps != ["REFERRED", "ACCEPTED", "DEMAND_LETTER", "FILED", "JUDGMENT", "ENFORCEMENT",
                 "CASE_CLOSED"]:
        fail("staging heard %s" % steps)
    money = [(u.recovery_minor, u.recovery_ref) for u in updates_for(rig, "AC-1") if u.recovery_minor]
    if money != [(100000, "RC-1")]:
        fail("recoveries at staging: %s (the resend must not count again)" % money)
    wait_for(lambda: len([c for c in rig.to_outreach.bodies("case_assignment")
                          if c.account_ref == "AC-1"]) >= 2, 30, "two assignments at outreach")
    got = [(c.assignee, c.active) for c in rig.to_outreach.bodies("case_assignment")
           if c.account_ref == "AC-1"]
    if got != [("firm-a", True), ("firm-a", False)]:
        fail("outreach heard %s" % got)


def check_hand_back_and_deadline(rig, ids):
    lp = __import__("legal_pb2")
    c = rig.clients["agency-c"]
    c.hand_back(ids["AC-5"], "cannot work it")
    c.flush(30)
    wait_for(lambda: any("waiting" in u.detail for u in updates_for(rig, "AC-5")), 30,
             "AC-5 waiting: no other agency")
    if c.cases():
        fail("the agency still lists the case it handed back")
    # firm-b never accepts AC-2: three days on, the offer moves to firm-a (it had none).
    rig.advance(START_MS + 3 * DAY_MS + 1000)
    wait_for(lambda: any("firm-a" in u.detail and "offered" in u.detail
                         for u in updates_for(rig, "AC-2")), 30, "AC-2 offered to firm-a")
    details = [u.detail for u in updates_for(rig, "AC-2")]
    if not any(d.startswith("deadline_passed") for d in details):
        fail("AC-2 moved without a deadline_passed step: %s" % details)
    if [x.account_ref for x in rig.clients["firm-a"].cases()] != ["AC-2"]:
        fail("firm-a does not list AC-2 after the reassignment")
    return lp


def check_report(rig):
    lp = __import__("legal_pb2")
    r = rig.operator.query(lp.LegalReportQuery(), 10)
    rows = {f.assignee: f for f in r.assignees}
    a = rows.get("firm-a")
    if not a or (a.cases, a.judgments, a.recovered_minor, a.costs_minor, a.open) != (2, 1, 100000, 30000, 1):
        fail("firm-a's figures: %s" % a)
    if a.recovery_rate_bps != 100000 * 10000 // (600000 + 800000):
        fail("firm-a's recovery rate: %d" % a.recovery_rate_bps)
    if rows["firm-b"].recalled != 1 or rows["agency-c"].recalled != 0:   # a hand-back is no recall
        fail("recalls: firm-b %d, agency-c %d" % (rows["firm-b"].recalled, rows["agency-c"].recalled))
    if sorted(r.declined_by_reason) != ["below_floor=1", "time_barred=1"] or r.waiting != 1:
        fail("declined %s, waiting %d" % (list(r.declined_by_reason), r.waiting))
    try:
        rig.clients["firm-a"].stream.query(lp.LegalReportQuery(), 10)
        fail("a firm read the legal report")
    except rig.ac.QueryRejected as e:
        if rig.ac.Reject.Code.Name(e.code) != "UNAUTHORIZED":
            fail("a firm asking for the report: %s" % e.code)


def main():
    legal, arrears, proto_dir = sys.argv[1:4]
    rig = LegalRig(legal, arrears, proto_dir)
    try:
        rig.start()
        ids = open_cases(rig)
        check_lists_and_files(rig, ids)
        check_stranger(rig)
        check_refusals(rig, ids)
        check_lifecycle(rig, ids)
        check_hand_back_and_deadline(rig, ids)
        check_report(rig)
        before = rig.dump()
        rig.kill_legal()
        rig.start_legal()
        if rig.dump() != before or [x.account_ref for x in rig.clients["firm-a"].cases()] != ["AC-2"]:
            fail("legal restarted after SIGKILL is not where it was")
        check_report(rig)
        print("legal_api: ok (%d updates at staging, %d assignments at outreach)"
              % (len(rig.to_staging.bodies("legal_update")),
                 len(rig.to_outreach.bodies("case_assignment"))), flush=True)
    except SystemExit:
        print("legal's log, its end:\n" + rig.log_text()[-3000:], flush=True)
        raise
    finally:
        rig.close()


if __name__ == "__main__":
    main()
