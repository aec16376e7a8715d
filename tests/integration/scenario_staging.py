#!/usr/bin/env python3
"""scenario_staging: six accounts worked by the real intake and staging processes, with
recording stand-ins for outreach, legal and sale, on staging's simulated clock, day by
day from 2026-01-01 (borrowers in Asia/Shanghai; the driver advances to 12:00 local).

  PAY-1        pays in full after the first (pre-due) reminder: closed as paid
  PROMISE-2    promises twice and breaks both; at 61 days past due referred to legal
               with its statement of account; a later payment is told to legal
  PLAN-3       agrees a two-instalment plan on the first call and keeps it: paid
  COMPLAINT-4  complains: contact stops until an operator resolves it, then resumes
  SALE-5       reaches charged off and is listed for sale with what sale re-checks and
               the file; the stand-in sells it: contact is cancelled and the borrower
               is sent one notice of assignment
  NOMANDATE-6  the same path without the platform's mandate to sell: never listed

Each account's timeline is asserted entry by entry (day, actor, kind, stage), and the
stand-in's log shows what staging sent each neighbour.

  scenario_staging.py ARREARS INTAKE STAGING PROTO_DIR"""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import fail  # noqa: E402
from pipeline_rig import DAY_MS, HERE, PipelineRig  # noqa: E402

START = datetime.date(2026, 1, 1)
NOON_SHANGHAI_MS = 4 * 3600 * 1000   # 12:00 in UTC+8
DAYS = 60


def day_ms(d):
    return (START - datetime.date(1970, 1, 1)).days * DAY_MS + d * DAY_MS + NOON_SHANGHAI_MS


def date(d):
    return (START + datetime.timedelta(days=d)).isoformat()


SCRIPT = {
    "PAY-1": {"contact": [{"result": "DELIVERED"}]},
    "PROMISE-2": {"contact": [{"result": "PROMISE_TO_PAY", "amount_minor": 10000, "promise_in_days": 5},
                              {"result": "PROMISE_TO_PAY", "amount_minor": 10000, "promise_in_days": 5}],
                  "legal": [{"status": "ACCEPTED"}]},
    "PLAN-3": {"contact": [{"result": "PLAN_AGREED", "plan": [
        {"in_days": 7, "amount_minor": 50000}, {"in_days": 21, "amount_minor": 50000}]}]},
    "COMPLAINT-4": {"contact": [{"result": "DELIVERED"}, {"result": "DELIVERED"}]},
    "SALE-5": {"sale": [{"outcome": "SALE_SOLD", "price_minor": 12000, "buyer": "buyer-a"}]},
}


def upsert(rig, ref, due, principal, interest, legal=False, sell=False, penalty_bps=0):
    pb = rig.ac.platform_pb2
    u = pb.AccountUpsert(
        account_ref=ref, product=pb.ONLINE_LOAN, currency="CNY", opened_date="2025-06-01",
        borrower=pb.Borrower(name="Borrower " + ref, id_number_hash=bytes(32),
                             time_zone="Asia/Shanghai", language="zh-CN",
                             phones=[pb.ContactPoint(value="+8613800138000", verified=True, consent=True)],
                             address=pb.Address(line1="1 Road", city="Shanghai", country="CN")),
        schedule=[pb.Instalment(due_date=due, principal_minor=principal, interest_minor=interest)],
        mandate=pb.Mandate(may_refer_to_legal=legal, may_sell=sell))
    if penalty_bps:
        u.rates.CopyFrom(pb.ContractRates(penalty_bps=penalty_bps, penalty_period=pb.PER_DAY))
    return u


def payment(rig, ref, pref, amount, d):
    pb = rig.ac.platform_pb2
    return pb.PaymentPosted(account_ref=ref, payment_ref=pref, amount_minor=amount, currency="CNY",
                            paid_at_ms=day_ms(d), channel=pb.BANK_TRANSFER)


def platform_events(rig, d):
    pb = rig.ac.platform_pb2
    events = {
        0: [upsert(rig, "PAY-1", "2026-01-04", 50000, 5000),
            upsert(rig, "PROMISE-2", "2025-12-20", 200000, 20000, legal=True, penalty_bps=5),
            upsert(rig, "PLAN-3", "2025-12-25", 90000, 10000),
            upsert(rig, "COMPLAINT-4", "2025-12-15", 90000, 10000),
            upsert(rig, "SALE-5", "2025-10-10", 90000, 10000, sell=True),
            upsert(rig, "NOMANDATE-6", "2025-10-10", 90000, 10000)],
        2: [payment(rig, "PAY-1", "PAY-1-a", 55000, 2)],
        4: [pb.Complaint(account_ref="COMPLAINT-4", complaint_ref="C-4", kind=pb.COMPLAINT,
                         category="tone", text="too many calls", received_at_ms=day_ms(4))],
        7: [payment(rig, "PLAN-3", "PLAN-3-a", 50000, 7)],
        21: [payment(rig, "PLAN-3", "PLAN-3-b", 50000, 21)],
        55: [payment(rig, "PROMISE-2", "PROMISE-2-a", 20000, 55)],
    }
    return events.get(d, [])


def operator_actions(rig, d):
    if d == 19:
        return [rig.staging_pb2.OperatorAction(
            platform="p1", account_ref="COMPLAINT-4", kind=rig.staging_pb2.OperatorAction.RESOLVE_COMPLAINT,
            reason="answered the borrower: calls within policy")]
    return []


def simulate(rig):
    for d in range(DAYS + 1):
        rig.advance(day_ms(d))
        events = platform_events(rig, d)
        if events:
            rig.platform.enqueue(events)
        actions = operator_actions(rig, d)
        if actions:
            rig.operator.enqueue(actions)
            rig.operator.flush(60)
        if rig.platform.rejected or rig.operator.rejected:
            fail("refused: %r %r" % (rig.platform.rejected, rig.operator.rejected))
    rig.advance(day_ms(DAYS))


# (day, actor, kind, stage after) of every entry, in order. Why each is there:
EXPECTED = {
    # Due 01-04: pre-due from T-3, so the reminder goes on the first day; the payment on
    # 01-03 pays everything and closes the account.
    "PAY-1": [
        ("2026-01-01", "platform", "opened", "current"),
        ("2026-01-01", "staging", "stage", "pre_due"),
        ("2026-01-01", "staging", "contact", "pre_due"),
        ("2026-01-01", "outreach", "outcome", "pre_due"),
        ("2026-01-03", "platform", "payment", "pre_due"),
        ("2026-01-03", "staging", "stage", "paid")],
    # DPD 12 at entry (early). Promise by 01-06, 2 days' grace: broken 01-09. Dunning
    # paused until 01-08; the sms cadence (10 days) brings the next contact on 01-11 and
    # a second promise by 01-16, broken 01-19. Middle at DPD 31 (01-20), calls every 10
    # days; at DPD 61 (02-19) late, and with 2 broken promises, 220000 >= 100000 and
    # the mandate: referred to legal the same day; the stand-in's firm accepts it. The
    # platform's payment on 02-25 is legal's news too (a case notice).
    "PROMISE-2": [
        ("2026-01-01", "platform", "opened", "current"),
        ("2026-01-01", "staging", "stage", "early"),
        ("2026-01-01", "staging", "contact", "early"),
        ("2026-01-01", "outreach", "promise", "early"),
        ("2026-01-09", "staging", "promise_broken", "early"),
        ("2026-01-11", "staging", "contact", "early"),
        ("2026-01-11", "outreach", "promise", "early"),
        ("2026-01-19", "staging", "promise_broken", "early"),
        ("2026-01-20", "staging", "stage", "middle"),
        ("2026-01-20", "staging", "contact", "middle"),
        ("2026-01-30", "staging", "contact", "middle"),
        ("2026-02-09", "staging", "contact", "middle"),
        ("2026-02-19", "staging", "stage", "late"),
        ("2026-02-19", "staging", "stage", "legal"),
        ("2026-02-19", "staging", "referral", "legal"),
        ("2026-02-19", "legal", "legal", "legal"),
        ("2026-02-25", "platform", "payment", "legal")],
    # A plan of 50000 on 01-08 and 50000 on 01-22, agreed on the first contact; no
    # contact while it is kept; the second payment completes it and pays the account.
    "PLAN-3": [
        ("2026-01-01", "platform", "opened", "current"),
        ("2026-01-01", "staging", "stage", "early"),
        ("2026-01-01", "staging", "contact", "early"),
        ("2026-01-01", "outreach", "plan", "early"),
        ("2026-01-08", "platform", "payment", "early"),
        ("2026-01-22", "platform", "payment", "early"),
        ("2026-01-22", "staging", "plan_completed", "early"),
        ("2026-01-22", "staging", "stage", "paid")],
    # The complaint on 01-05 holds contact: no sms on 01-11 and no call when the account
    # turns middle on 01-15. The operator resolves it on 01-20; calls resume with the
    # next day's run (01-21) every 10 days; late at DPD 61 (02-14) with its letter.
    "COMPLAINT-4": [
        ("2026-01-01", "platform", "opened", "current"),
        ("2026-01-01", "staging", "stage", "early"),
        ("2026-01-01", "staging", "contact", "early"),
        ("2026-01-01", "outreach", "outcome", "early"),
        ("2026-01-05", "platform", "hold", "early"),
        ("2026-01-15", "staging", "stage", "middle"),
        ("2026-01-20", "operator", "hold_lifted", "middle"),
        ("2026-01-21", "staging", "contact", "middle"),
        ("2026-01-21", "outreach", "outcome", "middle"),
        ("2026-01-31", "staging", "contact", "middle"),
        ("2026-02-10", "staging", "contact", "middle"),
        ("2026-02-14", "staging", "stage", "late"),
        ("2026-02-14", "staging", "contact", "late")],
    # DPD 83 at entry (late); charged off at DPD 91 (01-09); listed at the sale rule's
    # DPD 120 (02-07) with the mandate; the stand-in's buyer takes it the same day.
    "SALE-5": [
        ("2026-01-01", "platform", "opened", "current"),
        ("2026-01-01", "staging", "stage", "late"),
        ("2026-01-01", "staging", "contact", "late"),
        ("2026-01-09", "staging", "stage", "charged_off"),
        ("2026-01-09", "staging", "contact", "charged_off"),
        ("2026-02-07", "staging", "stage", "sale"),
        ("2026-02-07", "staging", "listing", "sale"),
        ("2026-02-07", "sale", "stage", "sold"),
        ("2026-02-07", "sale", "sold", "sold"),
        ("2026-02-07", "staging", "contact", "sold")],
    # The same path without the mandate to sell: it stays charged off.
    "NOMANDATE-6": [
        ("2026-01-01", "platform", "opened", "current"),
        ("2026-01-01", "staging", "stage", "late"),
        ("2026-01-01", "staging", "contact", "late"),
        ("2026-01-09", "staging", "stage", "charged_off"),
        ("2026-01-09", "staging", "contact", "charged_off")],
}

# What the stand-ins received, per account: (service, body) in order.
EXPECTED_SENT = {
    "PAY-1": [("outreach", "contact_request"), ("outreach", "contact_cancel")],
    "PROMISE-2": [("outreach", "contact_request"), ("outreach", "contact_cancel"),
                  ("outreach", "contact_request"), ("outreach", "contact_cancel"),
                  ("outreach", "contact_request"), ("outreach", "contact_request"),
                  ("outreach", "contact_request"), ("outreach", "contact_cancel"),
                  ("legal", "legal_referral"), ("legal", "case_notice")],
    "SALE-5": [("outreach", "contact_request"), ("outreach", "contact_request"),
               ("sale", "sale_listing"), ("outreach", "contact_cancel"),
               ("outreach", "contact_request")],
    "NOMANDATE-6": [("outreach", "contact_request"), ("outreach", "contact_request")],
}


def check_legal(sent):
    """PROMISE-2's referral carries what legal re-checks and the statement of account:
    the borrower, the schedule, the penalty day by day (5 bps a day on 220000 = 110 for
    each of the 50 days 01-01..02-19: 5500, the book's penalty) and the record up to the
    referral. The payment on 02-25 reaches legal as a notice: 20000 pays the penalty of
    56 days (6160) and 13840 interest, leaving 206160."""
    ref = [m for m in sent if m.get("body") == "legal_referral"][0]
    st = ref["statement"]
    want = {"may_refer_to_legal": True, "bankrupt": False, "deceased": False,
            "dispute_open": False, "penalty_minor": 5500}
    got = {k: ref.get(k) for k in want}
    if got != want:
        fail("referral facts %r, expected %r" % (got, want))
    lines = [(p["from_date"], p["to_date"], p["base_minor"], p["accrued_minor"])
             for p in st.get("penalty", [])]
    if lines != [("2026-01-01", "2026-02-19", 220000, 5500)]:
        fail("penalty lines %r" % lines)
    sched = [(i["due_date"], i["penalty_minor"], i["outstanding_minor"]) for i in st["schedule"]]
    if (st["as_of_date"], st["borrower"]["name"], sched) != (
            "2026-02-19", "Borrower PROMISE-2", [("2025-12-20", 5500, 225500)]):
        fail("statement %r" % st)
    kinds = [e["kind"] for e in st["record"]]
    if len(kinds) != 15 or kinds[-1] != "referral" or "record_first_seq" in st:
        fail("statement record %r" % kinds)
    notice = [m for m in sent if m.get("body") == "case_notice"][0]
    got = (notice["kind"], notice["amount_minor"], notice["reference"], notice["detail"])
    if got != ("NOTICE_PAYMENT", 20000, "PROMISE-2-a", "outstanding 206160 after it"):
        fail("case notice %r" % (got,))


def check_sale(sent):
    """SALE-5's listing carries the book by component (90000 principal, 10000 interest,
    no penalty: the contract has no rate), the facts sale re-checks and the file: the
    borrower and the schedule as of the listing. Once sold, its only request is the
    notice of assignment, by letter, after the cancel."""
    mine = [m for m in sent if m.get("account_ref") == "SALE-5"]
    listing = [m for m in mine if m["body"] == "sale_listing"][0]
    want = {"outstanding_minor": 100000, "principal_minor": 90000, "interest_minor": 10000,
            "penalty_minor": 0, "fees_minor": 0, "days_past_due": 120,
            "charged_off_date": "2026-01-09", "may_sell": True, "bankrupt": False,
            "deceased": False, "dispute_open": False, "in_litigation": False,
            "time_zone": "Asia/Shanghai", "region": "CN"}
    got = {k: listing.get(k) for k in want}
    if got != want:
        fail("listing facts %r, expected %r" % (got, want))
    f = listing["file"]
    sched = [(i["due_date"], i["outstanding_minor"]) for i in f["schedule"]]
    if (f["as_of_date"], f["borrower"]["name"], sched) != (
            "2026-02-07", "Borrower SALE-5", [("2025-10-10", 100000)]):
        fail("listing file %r" % f)
    notice = mine[-1]
    if (notice["template_id"], notice["channel"], notice["stage"]) != (
            "notice_of_assignment_v1", "LETTER", "sold"):
        fail("after the sale %r" % notice)


def check_all(results, sent, rig):
    for ref, rows in EXPECTED.items():
        view, got = results[ref]
        if got != rows:
            fail("%s: timeline differs\n expected %r\n got      %r" % (ref, rows, got))
    for ref, rows in EXPECTED_SENT.items():
        got = [(m["service"], m["body"]) for m in sent if m.get("account_ref") == ref]
        if got != rows:
            fail("%s: sent differs\n expected %r\n got      %r" % (ref, rows, got))
    stages = {ref: results[ref][0].stage for ref in results}
    want = {"PAY-1": "paid", "PROMISE-2": "legal", "PLAN-3": "paid", "COMPLAINT-4": "late",
            "SALE-5": "sold", "NOMANDATE-6": "charged_off"}
    if stages != want:
        fail("final stages %r, expected %r" % (stages, want))
    check_legal(sent)
    check_sale(sent)


def show(rig, ref):
    view, entries = rig.timeline(ref)
    rows = [(e.day, e.actor, e.kind, e.stage) for e in entries]
    print("%s: stage=%s dpd=%d outstanding=%d" % (ref, view.stage, view.days_past_due,
                                                   view.outstanding_minor))
    for e in entries:
        print("   %s %-9s %-16s %-12s %s" % (e.day, e.actor, e.kind, e.stage, e.reason))
    return view, rows


def main():
    arrears, intake, staging, proto_dir = sys.argv[1:5]
    rig = PipelineRig(arrears, intake, staging, proto_dir,
                      os.path.join(HERE, "conf", "scenario_strategy.conf"), script=SCRIPT)
    try:
        rig.start_all()
        simulate(rig)
        results = {ref: show(rig, ref) for ref in ("PAY-1", "PROMISE-2", "PLAN-3", "COMPLAINT-4",
                                                    "SALE-5", "NOMANDATE-6")}
        check_all(results, rig.standin_log(), rig)
        for name in ("intake", "staging", "standin"):
            rig.stop(name)
        print("OK: six scenarios, timelines asserted entry by entry")
    finally:
        rig.close()


if __name__ == "__main__":
    main()
