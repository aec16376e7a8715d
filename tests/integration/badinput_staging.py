#!/usr/bin/env python3
"""badinput_staging: staging fed bad input by "an old intake" (one that validates less
than today's) and by principals sending what their role may not send. Real staging and
the downstream stand-in (tests/clients/python/downstream_standin.py) on ipc:// endpoints,
staging on its simulated clock; intake is not started (staging's link to it just waits).

The test opens a stream to staging with intake's key pair, so staging sees the principal
"intake" (role service), and sends AccountEvent bodies for platform p1 directly:

* a valid upsert of account A (CNY, due in two months: no contact, nothing downstream)
  is acknowledged and opens A;
* a payment for an account staging never received: Reject(PERMANENT, INVALID_FIELD
  account_ref) with a reason; consumed, so the stream behind it flows;
* a payment for A in USD: refused permanently, naming `currency`, with a reason;
* a payment for A with a negative amount_minor: refused permanently, naming
  `amount_minor`, with a reason;
* an AccountEvent with no event: UNKNOWN_TYPE; an envelope with no body: UNKNOWN_TYPE;
* an OperatorAction (and a ClockAdvance) from the intake principal: UNAUTHORIZED (the
  principal may not send it, envelope.proto; staging.h "who may send what");
* an AccountEvent from the operator principal: UNAUTHORIZED;
* raw bytes that are no Envelope, sent on a plain CURVE DEALER with intake's key: a
  Reject with seq 0 (MALFORMED), nothing consumed;
* a ClockAdvance to an instant before the current one: CONFLICT (to_ms);
* then a valid payment for A is applied: A's timeline shows it, on the starting day and
  at the instant the clock stood at (the refused advance moved nothing);
* a refused payment and a valid one sent in one batch: the first is refused, the second
  applied.

"Changes nothing" is checked after every refused message: `staging dump` (accounts and
timelines, read alongside the running staging) is byte-for-byte what it was before, A's
view and timeline (operator AccountQuery) are unchanged, and no account other than A is
known. Timelines are the collection record: a refused event adds no entry.

A refusal with a code other than the contract's is collected and reported at the end
(the test fails), after every other check has run.

usage: badinput_staging.py ARREARS INTAKE STAGING PROTO_PYTHON_DIR"""
import datetime
import json
import os
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import fail, wait_for  # noqa: E402
from pipeline_rig import DAY_MS, HERE, PipelineRig  # noqa: E402

START = datetime.date(2026, 1, 1)
NOON_SHANGHAI_MS = 4 * 3600 * 1000   # 12:00 in UTC+8
REF = "A"
UNKNOWN = ("NEVER-SEEN", "NEVER-2")


def day_ms(d):
    return (START - datetime.date(1970, 1, 1)).days * DAY_MS + d * DAY_MS + NOON_SHANGHAI_MS


def upsert(rig, ref):
    pb = rig.ac.platform_pb2
    return pb.AccountUpsert(
        account_ref=ref, product=pb.ONLINE_LOAN, currency="CNY", opened_date="2025-06-01",
        borrower=pb.Borrower(name="Borrower " + ref, id_number_hash=bytes(32),
                             time_zone="Asia/Shanghai", language="zh-CN",
                             phones=[pb.ContactPoint(value="+8613800138000", verified=True, consent=True)],
                             address=pb.Address(line1="1 Road", city="Shanghai", country="CN")),
        schedule=[pb.Instalment(due_date="2026-03-01", principal_minor=100000, interest_minor=10000)],
        mandate=pb.Mandate(may_refer_to_legal=False, may_sell=False))


def payment(rig, ref, pref, amount, currency="CNY"):
    pb = rig.ac.platform_pb2
    return pb.PaymentPosted(account_ref=ref, payment_ref=pref, amount_minor=amount, currency=currency,
                            paid_at_ms=day_ms(0), channel=pb.BANK_TRANSFER)


def event(rig, ref, **body):
    """An AccountEvent for p1 as intake forwards it (received now on the simulated clock)."""
    return rig.ac.account_pb2.AccountEvent(platform="p1", account_ref=ref, received_at_ms=day_ms(0),
                                           **body)


class Checker:
    def __init__(self, rig):
        self.rig = rig
        self.wrong = []     # refusals that differ from the contract: reported at the end
        self.count = 0
        self.before = None

    # -- what staging holds --

    def snapshot(self):
        """(`staging dump`, A's view without its timeline, A's timeline rows, which of the
        never-sent accounts staging knows)."""
        dump = self.rig.dump()
        view, entries = self.rig.timeline(REF)
        rows = [(e.seq, e.at_ms, e.day, e.actor, e.kind, e.reason, e.amount_minor, e.reference, e.stage)
                for e in entries]
        head = view.__class__()
        head.CopyFrom(view)
        head.ClearField("timeline")
        known = [ref for ref in UNKNOWN if self.rig.account(ref).known]
        return dump, head.SerializeToString(deterministic=True), rows, known

    def settle(self):
        """The baseline after accepted messages."""
        self.before = self.snapshot()
        if self.before[3]:
            fail("staging knows accounts it never received: %s" % self.before[3])

    def unchanged(self, what):
        after = self.snapshot()
        if after == self.before:
            return
        dump, head, rows, known = after
        parts = []
        if dump != self.before[0]:
            old = [json.dumps(r, sort_keys=True) for r in dump_records(self.before[0])[0]]
            new = [json.dumps(r, sort_keys=True) for r in dump_records(dump)[0]]
            parts.append("dump: added %s removed %s" % ([r for r in new if r not in old][:3],
                                                         [r for r in old if r not in new][:3]))
        if head != self.before[1]:
            parts.append("A's view changed")
        if rows != self.before[2]:
            parts.append("A's timeline: %d entries -> %d, new: %s"
                         % (len(self.before[2]), len(rows), rows[len(self.before[2]):]))
        if known:
            parts.append("accounts now known: %s" % known)
        self.wrong.append("%s changed staging's content: %s" % (what, "; ".join(parts)))
        print("  !! %s changed staging's content" % what, flush=True)
        self.before = after

    # -- stream messages --

    def expect_reject(self, what, stream, send, code, field=None):
        """send(stream) puts one message on the stream and returns its seq. The Reject
        must be PERMANENT with `code` (and `field`), have a reason, be consumed (the
        stream's acked mark moves past it) and change nothing."""
        n = len(stream.rejected)
        seq = send(stream)
        stream.flush(timeout=30)
        if len(stream.rejected) != n + 1:
            self.wrong.append("%s: expected a Reject %s for seq %d, got an Ack" % (what, code, seq))
            print("  !! %-50s -> acknowledged (applied?)" % what, flush=True)
            self.unchanged(what)
            return None
        r = stream.rejected[-1]
        if r["seq"] != seq or r["class"] != "PERMANENT":
            fail("%s: expected a PERMANENT Reject for seq %d, got %s" % (what, seq, r))
        if not r["reason"].strip():
            self.wrong.append("%s: the Reject has no reason" % what)
        if stream.acked != seq:
            fail("%s: the stream did not move past the refused seq %d (acked %d)" % (what, seq, stream.acked))
        mark = ""
        if r["code"] != code or (field is not None and r["field"] != field):
            self.wrong.append("%s: expected %s%s, got %s field %r (reason %r)"
                              % (what, code, " " + field if field else "", r["code"], r["field"], r["reason"]))
            mark = "  !! expected %s%s" % (code, " " + field if field else "")
        self.unchanged(what)
        self.count += 1
        print("  %-50s -> %s %s: %s%s" % (what, r["code"], r["field"] or "-", r["reason"], mark), flush=True)
        return r

    def accept(self, what, stream, bodies):
        n = len(stream.rejected)
        stream.enqueue(bodies)
        stream.flush(timeout=30)
        if len(stream.rejected) != n:
            fail("%s: refused: %s" % (what, stream.rejected[n:]))
        print("  %-50s -> acknowledged" % what, flush=True)


def dump_records(text):
    """The records of `staging dump`, and whether each sat on its own line (main.c
    promises JSON lines). Read with raw_decode so that the content checks work either way."""
    dec, records, at, lines_ok = json.JSONDecoder(), [], 0, True
    while True:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if at >= len(text):
            return records, lines_ok
        obj, end = dec.raw_decode(text, at)
        records.append(obj)
        if text[end:end + 1] != "\n":
            lines_ok = False
        at = end


def body_of(msg):
    return lambda stream: stream.send(msg)


def no_body(ac):
    """An envelope in the stream's order with no body at all (the client never builds
    one: put on its queue by hand, so its resend and reject handling still apply)."""
    def send(stream):
        seq = stream.last_seq + 1
        env = ac.envelope_pb2.Envelope(stream_id=stream.stream_id, seq=seq, sent_at_ms=day_ms(0),
                                       trace_id=os.urandom(16))
        stream.last_seq = seq
        stream.pending[seq] = env.SerializeToString()
        stream.save_state()
        stream.pump()
        return seq
    return send


def advance(rig, to_ms, timeout=60):
    """ClockAdvance through the operator stream alone (no intake to settle): staging
    answers busy until its daily run reached the instant and its outboxes are drained;
    the client backs off and resends."""
    n = len(rig.operator.rejected)
    rig.operator.send(rig.ac.envelope_pb2.ClockAdvance(to_ms=to_ms))
    rig.operator.flush(timeout)
    if len(rig.operator.rejected) != n:
        fail("staging refused a clock advance to %d: %r" % (to_ms, rig.operator.rejected[n:]))


def garbage(rig, ck):
    """Bytes that are no Envelope on a plain CURVE DEALER with intake's key: a Reject with
    seq 0, nothing consumed, nothing changed."""
    ac = rig.ac
    cases = [("raw garbage bytes", b"\xff" * 12 + b"not an envelope"),
             ("a truncated varint", b"\x08\x80\x80\x80"),
             ("a field with a wire type that does not exist", b"\x0f\x01\x02\x03")]
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.curve_serverkey = ac.load_public(rig.path("keys", "staging.pub"))
        sock.curve_publickey, sock.curve_secretkey = ac.load_keypair(rig.path("keys", "intake.key"))
        sock.connect(rig.ep["staging"])
        for what, data in cases:
            sock.send(data)
            if not sock.poll(10000):
                fail("%s: no reply from staging within 10 s" % what)
            reply = ac.envelope_pb2.Envelope()
            reply.ParseFromString(sock.recv())
            if not reply.HasField("reject"):
                fail("%s: expected a Reject, got %s" % (what, reply))
            r = reply.reject
            if r.seq != 0 or reply.seq != 0 or reply.stream_id != 0:
                fail("%s: the Reject names a seq (%d) or stream (%d)" % (what, r.seq, reply.stream_id))
            if r.code != ac.Reject.MALFORMED or not r.reason.strip():
                ck.wrong.append("%s: expected MALFORMED with a reason, got %s" % (what, r))
            ck.unchanged(what)
            ck.count += 1
            print("  %-50s -> seq 0 %s: %s" % (what, ac.Reject.Code.Name(r.code), r.reason), flush=True)
    finally:
        ctx.destroy(linger=0)


def run(rig):
    ac = rig.ac
    sp = rig.staging_pb2
    t0 = time.monotonic()
    rig.start_standin()
    rig.start_staging()
    rig.operator = rig.stream("staging", "operator", "operator.state", backoff_max=0.1)
    intake = rig.stream("staging", "intake", "oldintake.state")
    advance(rig, day_ms(0))
    print("staging's clock at %s 12:00 Asia/Shanghai" % START.isoformat(), flush=True)

    ck = Checker(rig)
    empty = rig.dump()
    if empty.strip():
        fail("staging's dump is not empty at the start:\n%s" % empty[:1000])

    print("a valid upsert of account %s" % REF, flush=True)
    ck.accept("upsert of A (version 1)", intake, [event(rig, REF, version=1, upsert=upsert(rig, REF))])
    ck.settle()
    view, opened = rig.timeline(REF)
    if not view.known or view.currency != "CNY" or view.stage != "current" or \
            [(e.day, e.actor, e.kind) for e in opened] != [("2026-01-01", "platform", "opened")]:
        fail("account A after its upsert: known=%s currency=%s stage=%s timeline %s"
             % (view.known, view.currency, view.stage, [(e.day, e.actor, e.kind) for e in opened]))
    outstanding = view.outstanding_minor
    print("  A: stage=%s outstanding=%d, timeline: %s" % (view.stage, outstanding,
                                                           [(e.day, e.kind) for e in opened]))

    print("payments intake would have refused", flush=True)
    ck.expect_reject("payment for an account staging never received", intake,
                     body_of(event(rig, UNKNOWN[0], payment=payment(rig, UNKNOWN[0], "NS-PAY-1", 10000))),
                     "INVALID_FIELD", "account_ref")
    ck.expect_reject("payment for A in USD (A is in CNY)", intake,
                     body_of(event(rig, REF, payment=payment(rig, REF, "A-PAY-USD", 10000, currency="USD"))),
                     "INVALID_FIELD", "currency")
    ck.expect_reject("payment for A with amount_minor -100", intake,
                     body_of(event(rig, REF, payment=payment(rig, REF, "A-PAY-NEG", -100))),
                     "INVALID_FIELD", "amount_minor")
    ck.expect_reject("payment for A with amount_minor 0", intake,
                     body_of(event(rig, REF, payment=payment(rig, REF, "A-PAY-ZERO", 0))),
                     "INVALID_FIELD", "amount_minor")

    print("bodies without content", flush=True)
    ck.expect_reject("an AccountEvent with no event", intake, body_of(event(rig, REF)), "UNKNOWN_TYPE")
    ck.expect_reject("an envelope with no body", intake, no_body(ac), "UNKNOWN_TYPE")

    print("bodies the sender's role may not send", flush=True)
    hold = sp.OperatorAction(platform="p1", account_ref=REF, kind=sp.OperatorAction.PLACE_HOLD,
                             reason="an old intake trying an operator's action")
    ck.expect_reject("an OperatorAction from the intake principal", intake, body_of(hold), "UNAUTHORIZED")
    ck.expect_reject("a ClockAdvance from the intake principal", intake,
                     body_of(ac.envelope_pb2.ClockAdvance(to_ms=day_ms(1))), "UNAUTHORIZED")
    ck.expect_reject("an AccountEvent from the operator principal", rig.operator,
                     body_of(event(rig, REF, payment=payment(rig, REF, "A-PAY-OPERATOR", 10000))),
                     "UNAUTHORIZED")

    print("bytes that are no Envelope", flush=True)
    garbage(rig, ck)

    print("the simulated clock never goes back", flush=True)
    ck.expect_reject("a ClockAdvance to a day before the current instant", rig.operator,
                     body_of(ac.envelope_pb2.ClockAdvance(to_ms=day_ms(0) - DAY_MS)), "CONFLICT", "to_ms")
    ck.expect_reject("a ClockAdvance 1 ms before the current instant", rig.operator,
                     body_of(ac.envelope_pb2.ClockAdvance(to_ms=day_ms(0) - 1)), "CONFLICT", "to_ms")

    print("a valid payment for A after all that", flush=True)
    base = len(ck.before[2])
    ck.accept("payment A-PAY-1 of 30000 CNY", intake,
              [event(rig, REF, payment=payment(rig, REF, "A-PAY-1", 30000))])
    view, entries = rig.timeline(REF)
    new = entries[base:]
    pays = [e for e in new if e.kind == "payment"]
    if len(pays) != 1 or (pays[0].day, pays[0].actor, pays[0].amount_minor, pays[0].reference) != \
            ("2026-01-01", "platform", 30000, "A-PAY-1"):
        fail("A's timeline after the valid payment: %s" % [(e.day, e.actor, e.kind, e.amount_minor, e.reference)
                                                         for e in new])
    if pays[0].at_ms != day_ms(0):
        fail("the payment was recorded at %d, not at the instant the clock stood at (%d): the refused "
             "clock advances moved it" % (pays[0].at_ms, day_ms(0)))
    if view.outstanding_minor != outstanding - 30000:
        fail("A's outstanding after a payment of 30000: %d, was %d" % (view.outstanding_minor, outstanding))
    print("  A: outstanding=%d, new entries: %s" % (view.outstanding_minor,
                                                    [(e.day, e.actor, e.kind, e.amount_minor, e.reference)
                                                     for e in new]))
    refused_refs = {"NS-PAY-1", "A-PAY-USD", "A-PAY-NEG", "A-PAY-ZERO", "A-PAY-OPERATOR"}
    leaked = [(e.seq, e.kind, e.reference) for e in entries if e.reference in refused_refs]
    if leaked:
        ck.wrong.append("refused payments are on A's timeline: %s" % leaked)
    ck.settle()

    print("a refused payment and a valid one in one batch", flush=True)
    base = len(ck.before[2])
    n = len(intake.rejected)
    first, second = intake.enqueue([event(rig, UNKNOWN[1], payment=payment(rig, UNKNOWN[1], "NS-PAY-2", 10000)),
                                    event(rig, REF, payment=payment(rig, REF, "A-PAY-2", 20000))])
    intake.flush(timeout=30)
    got = intake.rejected[n:]
    if [(r["seq"], r["code"], r["field"]) for r in got] != [(first, "INVALID_FIELD", "account_ref")] or \
            intake.acked != second:
        fail("batch: expected seq %d refused (INVALID_FIELD account_ref) and %d applied; rejects %s, acked %d"
             % (first, second, got, intake.acked))
    view, entries = rig.timeline(REF)
    if [(e.kind, e.amount_minor, e.reference) for e in entries[base:] if e.kind == "payment"] != \
            [("payment", 20000, "A-PAY-2")] or view.outstanding_minor != outstanding - 50000:
        fail("A after the batch: outstanding %d, new entries %s"
             % (view.outstanding_minor, [(e.kind, e.reference) for e in entries[base:]]))
    print("  seq %d -> INVALID_FIELD account_ref; seq %d applied, A outstanding=%d"
          % (first, second, view.outstanding_minor), flush=True)
    ck.settle()

    records, lines_ok = dump_records(ck.before[0])
    if not lines_ok:
        ck.wrong.append("`staging dump` does not print JSON lines (services/staging/main.c:3): its %d "
                        "records come without a line break between them: %r..."
                        % (len(records), ck.before[0][:160]))
    accounts = [r for r in records if "account_ref" in r]
    entries_dumped = [r for r in records if "account_ref" not in r]
    if len(entries_dumped) != len(entries):
        fail("staging's dump holds %d timeline records, A's timeline %d entries"
             % (len(entries_dumped), len(entries)))
    if [(a.get("platform"), a.get("account_ref")) for a in accounts] != [("p1", REF)]:
        fail("staging's dump holds accounts %s, expected p1/%s alone"
             % ([(a.get("platform"), a.get("account_ref")) for a in accounts], REF))
    print("staging holds account A alone; its timeline:")
    for e in entries:
        print("   %d %s %-9s %-8s %-8s %7d %s" % (e.seq, e.day, e.actor, e.kind, e.stage, e.amount_minor,
                                                 e.reference))
    for s in (intake, rig.operator):
        if s.errors:
            fail("staging could not decode what the client sent: %s" % s.errors)
    if not rig.standin_settled():
        wait_for(rig.standin_settled, 30, "the stand-in's replies to be acknowledged")
    rig.stop("staging")
    rig.stop("standin")
    print("  %d refusals checked, each changing nothing, in %.1f s" % (ck.count, time.monotonic() - t0))
    return ck.wrong


def main():
    arrears, intake, staging, proto_dir = sys.argv[1:5]
    rig = PipelineRig(arrears, intake, staging, proto_dir,
                      os.path.join(HERE, "conf", "scenario_strategy.conf"), prefix="sbd")
    try:
        wrong = run(rig)
    finally:
        rig.close()
    if wrong:
        fail("staging against the contract:\n  " + "\n  ".join(wrong))
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
