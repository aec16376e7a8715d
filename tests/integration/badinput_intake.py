"""badinput_intake: intake fed bad platform input through the reference client (pyzmq +
Debian's protobuf runtime: an implementation of the wire contract independent of the
C code).

* Messages at the very limits of the rules are accepted.
* For every validation rule (services/intake/validate.c and the proto comments) one bad
  message gets Reject(PERMANENT, INVALID_FIELD) naming the exact field, with a reason,
  is consumed (the stream moves on) and changes nothing `intake dump` shows (the dump
  leaves out the inbox, which records the consumed seq). That includes enum numbers
  the contract does not have and text that is not UTF-8 (sent as patched bytes).
* Platform p2 cannot touch p1's account: a payment naming it is INVALID_FIELD
  account_ref, and p2 cannot even see it; p1's account is untouched.
* A payment ref sent again with other content is a CONFLICT; with the same content a
  duplicate. A StatusEvent or ClockAdvance from a platform is UNAUTHORIZED; a body a
  platform may not send is UNKNOWN_TYPE.
* A key intake does not know is refused at the CURVE handshake (socket monitor event)
  and intake logs event=zap_denied; the client says so (AuthRefused).
* The staging stand-in accepts intake's key only.
* Feed retention (retain_events = 5, prune_every_ms = 100): once the staging stand-in
  (--status) has produced more than 5 events, a feed query after cursor 1 gets
  Reject(CURSOR_EXPIRED) with expected_seq = the earliest cursor held.

usage: badinput_intake.py ARREARS INTAKE PROTO_PYTHON_DIR SEED"""
import base64
import copy
import hashlib
import random
import sys
import time

import zmq

from harness import fail, wait_for
from intake_rig import IntakeRig, Stopwatch

DAY_MS = 86400000


def main():
    arrears, intake, proto_dir, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    print("badinput_intake: seed=%d" % seed, flush=True)
    rig = IntakeRig(arrears, intake, proto_dir, prefix="ibd", platforms=("p1", "p2"),
                    feed={"retain_events": 5, "prune_every_ms": 100})
    try:
        run(rig, random.Random(seed))
    finally:
        rig.close()


def account(ref, currency="CNY", **changes):
    a = {
        "account_ref": ref, "product": "ONLINE_LOAN", "currency": currency,
        "borrower": {
            "name": "Zhang Wei",
            "id_number_hash": hashlib.sha256(ref.encode()).hexdigest(),
            "phones": [{"value": "+8613800138000", "verified": True, "consent": True},
                       {"value": "+8613900139000", "verified": False}],
            "emails": [{"value": "zhang.wei@example.com", "verified": True}],
            "address": {"line1": "88 Century Avenue", "city": "Shanghai", "country": "CN"},
            "time_zone": "Asia/Shanghai", "language": "zh-CN"},
        "schedule": [{"due_date": "2025-03-05", "principal_minor": 150000, "interest_minor": 4500},
                     {"due_date": "2025-04-05", "principal_minor": 150000, "interest_minor": 3000,
                      "fees_minor": 5000}],
        "rates": {"interest_bps": 5, "interest_period": "PER_DAY",
                  "penalty_bps": 8, "penalty_period": "PER_DAY"},
        "opened_date": "2025-01-20",
    }
    a.update(changes)
    return a


def b64(data):
    """bytes as the protobuf JSON mapping writes them (64 hex characters would be read as
    a SHA-256 by the client's convenience rule)."""
    return base64.b64encode(data).decode()


def mutate(base, fn):
    a = copy.deepcopy(base)
    fn(a)
    return a


def bad_accounts():
    """(what, account dict, the field intake must name)."""
    b = account("BAD-ACC")
    B = lambda fn: mutate(b, fn)   # noqa: E731

    def setb(key, value):
        return lambda a: a["borrower"].__setitem__(key, value)

    def dropb(key):
        return lambda a: a["borrower"].pop(key)

    def inst(i, key, value):
        return lambda a: a["schedule"][i].__setitem__(key, value)
    return [
        ("account_ref too long (65 bytes)", B(lambda a: a.__setitem__("account_ref", "A" * 65)), "account_ref"),
        ("account_ref with a space and a slash", B(lambda a: a.__setitem__("account_ref", "L 1/x")), "account_ref"),
        ("account_ref missing", B(lambda a: a.pop("account_ref")), "account_ref"),
        ("product PRODUCT_UNSPECIFIED", B(lambda a: a.__setitem__("product", "PRODUCT_UNSPECIFIED")), "product"),
        ("product absent", B(lambda a: a.pop("product")), "product"),
        ("currency not ISO 4217", B(lambda a: a.__setitem__("currency", "QQQ")), "currency"),
        ("currency in lower case", B(lambda a: a.__setitem__("currency", "cny")), "currency"),
        ("borrower missing", B(lambda a: a.pop("borrower")), "borrower"),
        ("borrower name empty", B(setb("name", "")), "borrower.name"),
        ("borrower name with a control character", B(setb("name", "Zhang\x01Wei")), "borrower.name"),
        ("borrower name over 200 bytes", B(setb("name", "W" * 201)), "borrower.name"),
        ("id_number_hash of 31 bytes", B(setb("id_number_hash", b64(b"\xab" * 31))), "borrower.id_number_hash"),
        ("id_number_hash of 33 bytes", B(setb("id_number_hash", b64(b"\xab" * 33))), "borrower.id_number_hash"),
        ("id_number_hash missing", B(dropb("id_number_hash")), "borrower.id_number_hash"),
        ("second phone without '+'", B(lambda a: a["borrower"]["phones"][1].__setitem__("value", "13900139000")),
         "borrower.phones[1].value"),
        ("phone with 5 digits", B(lambda a: a["borrower"]["phones"][0].__setitem__("value", "+86123")),
         "borrower.phones[0].value"),
        ("phone with a letter", B(lambda a: a["borrower"]["phones"][0].__setitem__("value", "+86138001380O0")),
         "borrower.phones[0].value"),
        ("e-mail without a dot in the domain", B(lambda a: a["borrower"]["emails"][0].__setitem__("value", "zw@example")),
         "borrower.emails[0].value"),
        ("e-mail with two '@'", B(lambda a: a["borrower"]["emails"][0].__setitem__("value", "z@w@example.com")),
         "borrower.emails[0].value"),
        ("nine phones", B(setb("phones", [{"value": "+861380013800%d" % i} for i in range(9)])), "borrower.phones"),
        ("nine e-mails", B(setb("emails", [{"value": "z%d@example.com" % i} for i in range(9)])), "borrower.emails"),
        ("address lines without a country", B(lambda a: a["borrower"]["address"].pop("country")),
         "borrower.address.country"),
        ("address country not alpha-2", B(lambda a: a["borrower"]["address"].__setitem__("country", "CHN")),
         "borrower.address.country"),
        ("unknown time zone", B(setb("time_zone", "Mars/Olympus_Mons")), "borrower.time_zone"),
        ("time zone that is not a zone name", B(setb("time_zone", "../../etc/passwd")), "borrower.time_zone"),
        ("time zone missing", B(dropb("time_zone")), "borrower.time_zone"),
        ("language with an underscore", B(setb("language", "zh_CN")), "borrower.language"),
        ("empty schedule", B(lambda a: a.__setitem__("schedule", [])), "schedule"),
        ("due date 2025-02-30", B(inst(0, "due_date", "2025-02-30")), "schedule[0].due_date"),
        ("due date 2025-13-01", B(inst(1, "due_date", "2025-13-01")), "schedule[1].due_date"),
        ("due date in another form", B(inst(0, "due_date", "05/03/2025")), "schedule[0].due_date"),
        ("due date in year 1969", B(inst(0, "due_date", "1969-12-31")), "schedule[0].due_date"),
        ("due dates not increasing", B(inst(1, "due_date", "2025-03-05")), "schedule[1].due_date"),
        ("negative principal", B(inst(0, "principal_minor", -1)), "schedule[0].principal_minor"),
        ("negative fees", B(inst(1, "fees_minor", -500)), "schedule[1].fees_minor"),
        ("paid more than due", B(inst(0, "paid_minor", 154501)), "schedule[0].paid_minor"),
        ("an instalment owing nothing", B(lambda a: a["schedule"].__setitem__(
            0, {"due_date": "2025-03-05"})), "schedule[0]"),
        ("601 instalments", B(lambda a: a.__setitem__("schedule", [
            {"due_date": "%04d-%02d-01" % (2000 + i // 12, i % 12 + 1), "principal_minor": 100}
            for i in range(601)])), "schedule"),
        ("interest rate without its period", B(lambda a: a["rates"].pop("interest_period")),
         "rates.interest_period"),
        ("penalty rate with RATE_PERIOD_UNSPECIFIED", B(lambda a: a["rates"].__setitem__(
            "penalty_period", "RATE_PERIOD_UNSPECIFIED")), "rates.penalty_period"),
        ("interest rate over 1,000,000 bps", B(lambda a: a["rates"].__setitem__("interest_bps", 1000001)),
         "rates.interest_bps"),
        ("negative penalty cap", B(lambda a: a["rates"].__setitem__("penalty_cap_bps", -1)),
         "rates.penalty_cap_bps"),
        ("opened after the first due date", B(lambda a: a.__setitem__("opened_date", "2025-03-06")),
         "opened_date"),
        ("opened date not a date", B(lambda a: a.__setitem__("opened_date", "2025-1-20")), "opened_date"),
    ]


def payment(ref, account_ref="OK-CNY-1", **changes):
    p = {"account_ref": account_ref, "payment_ref": ref, "amount_minor": 25000, "currency": "CNY",
         "paid_at_ms": int(time.time() * 1000) - 3 * DAY_MS, "channel": "WALLET"}
    p.update(changes)
    return p


def bad_others():
    """(what, type, dict, field) for payments, complaints, contact updates, recalls."""
    now = int(time.time() * 1000)
    cmp = {"account_ref": "OK-CNY-1", "complaint_ref": "CMP-BAD", "kind": "DISPUTE",
           "category": "amount_wrong", "text": "The balance is wrong.", "received_at_ms": now - DAY_MS}
    C = lambda **kw: dict(cmp, **kw)   # noqa: E731
    return [
        ("payment amount 0", "payment", payment("PAY-BAD", amount_minor=0), "amount_minor"),
        ("payment amount negative", "payment", payment("PAY-BAD", amount_minor=-100), "amount_minor"),
        ("payment amount missing", "payment", {k: v for k, v in payment("PAY-BAD").items()
                                              if k != "amount_minor"}, "amount_minor"),
        ("payment in the future", "payment", payment("PAY-BAD", paid_at_ms=now + DAY_MS), "paid_at_ms"),
        ("payment time in seconds", "payment", payment("PAY-BAD", paid_at_ms=now // 1000), "paid_at_ms"),
        ("payment currency unlike the account's", "payment", payment("PAY-BAD", currency="GBP"), "currency"),
        ("payment currency unknown", "payment", payment("PAY-BAD", currency="XQX"), "currency"),
        ("payment for an unknown account", "payment", payment("PAY-BAD", account_ref="NO-SUCH-ACC"),
         "account_ref"),
        ("payment_ref with a space", "payment", payment("PAY BAD"), "payment_ref"),
        ("payment channel unspecified", "payment", payment("PAY-BAD", channel="PAYMENT_CHANNEL_UNSPECIFIED"),
         "channel"),
        ("complaint kind unspecified", "complaint", C(kind="COMPLAINT_KIND_UNSPECIFIED"), "kind"),
        ("complaint kind absent", "complaint", {k: v for k, v in cmp.items() if k != "kind"}, "kind"),
        ("complaint text over 4000 bytes", "complaint", C(text="x" * 4001), "text"),
        ("complaint text of 1334 three-byte characters", "complaint", C(text="\u6c49" * 1334), "text"),
        ("complaint category missing", "complaint", C(category=""), "category"),
        ("complaint category with a line break", "complaint", C(category="amount\nwrong"), "category"),
        ("complaint received in the future", "complaint", C(received_at_ms=now + DAY_MS), "received_at_ms"),
        ("complaint for an unknown account", "complaint", C(account_ref="NO-SUCH-ACC"), "account_ref"),
        ("contact update: clear_phones and phones", "contact",
         {"account_ref": "OK-CNY-1", "clear_phones": True, "phones": [{"value": "+8613800138000"}]},
         "clear_phones"),
        ("contact update: bad e-mail", "contact",
         {"account_ref": "OK-CNY-1", "emails": [{"value": "no-at-sign.example.com"}]}, "emails[0].value"),
        ("contact update: bad phone", "contact",
         {"account_ref": "OK-CNY-1", "phones": [{"value": "+0123456789"}]}, "phones[0].value"),
        ("contact update for an unknown account", "contact",
         {"account_ref": "NO-SUCH-ACC", "phones": [{"value": "+8613800138000"}]}, "account_ref"),
        ("recall reason over 500 bytes", "recall", {"account_ref": "OK-CNY-1", "reason": "r" * 501}, "reason"),
        ("recall of an unknown account", "recall", {"account_ref": "NO-SUCH-ACC"}, "account_ref"),
        ("recall without account_ref", "recall", {"reason": "no ref"}, "account_ref"),
    ]


def boundaries():
    """(what, type, dict): valid messages at the edge of each limit; all accepted."""
    now = int(time.time() * 1000)
    b = account("EDGE-0")["borrower"]
    return [
        ("account_ref of 64 bytes using . _ : -", "account", account("A._:-" + "z" * 59)),
        ("8 phones and 8 e-mails, 15-digit phone", "account", account("EDGE-1", borrower=dict(
            b, phones=[{"value": "+86138001380%02d" % i} for i in range(7)] + [{"value": "+861380013800012"}],
            emails=[{"value": "z%d@example.com" % i} for i in range(8)]))),
        ("e-mail of 254 bytes, local part 64", "account", account("EDGE-2", borrower=dict(
            b, emails=[{"value": "a" * 64 + "@" + "b" * 185 + ".com"}]))),
        ("600 instalments", "account", account("EDGE-3", opened_date="1999-12-01", schedule=[
            {"due_date": "%04d-%02d-01" % (2000 + i // 12, i % 12 + 1), "principal_minor": 100}
            for i in range(600)])),
        ("paid exactly what is due; opened on the first due date", "account", account(
            "EDGE-4", opened_date="2025-03-05", schedule=[
                {"due_date": "2025-03-05", "principal_minor": 100, "interest_minor": 5, "fees_minor": 1,
                 "paid_minor": 106}, {"due_date": "2200-12-31", "principal_minor": 1}])),
        ("29 February of a leap year; 1970-01-01", "account", account("EDGE-5", opened_date="1970-01-01", schedule=[
            {"due_date": "1970-01-01", "principal_minor": 1}, {"due_date": "2024-02-29", "principal_minor": 1}])),
        ("rate 0 without a period; rates at 1,000,000 bps", "account", account("EDGE-6", rates={
            "interest_bps": 0, "penalty_bps": 1000000, "penalty_period": "PER_YEAR", "penalty_cap_bps": 1000000})),
        ("name of 200 bytes (UTF-8), language of 35 bytes", "account", account("EDGE-7", currency="JPY", borrower=dict(
            b, name="\u7530" * 66 + "ab", language="x" * 35, time_zone="Asia/Tokyo"))),
        ("payment at 2000-01-01T00:00:00Z", "payment", payment("PAY-EDGE-1", paid_at_ms=946684800000)),
        ("payment 4 minutes ahead (clock skew)", "payment", payment("PAY-EDGE-2", paid_at_ms=now + 240000)),
        ("complaint text of 4000 bytes with line breaks", "complaint", {
            "account_ref": "OK-CNY-1", "complaint_ref": "CMP-EDGE", "kind": "COMPLAINT",
            "category": "c" * 64, "text": "t\n" * 2000, "received_at_ms": now}),
        ("contact update clearing the e-mails", "contact", {"account_ref": "EDGE-2", "clear_emails": True}),
        ("recall with a 500-byte reason", "recall", {"account_ref": "EDGE-4", "reason": "r" * 500}),
    ]


def varint(n):
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def with_unknown_enum(msg, field_number, value):
    """msg with an enum field set to a number the contract does not have: Python keeps
    it among the unknown fields and sends it on, as a newer platform's client would."""
    out = type(msg)()
    out.ParseFromString(msg.SerializeToString() + varint(field_number << 3) + varint(value))
    return out


def unknown_enums(ac, m):
    acc = m("account", {k: v for k, v in account("BAD-ENUM").items() if k != "product"})
    pay = m("payment", {k: v for k, v in payment("PAY-ENUM").items() if k != "channel"})
    cmp = m("complaint", {"account_ref": "OK-CNY-1", "complaint_ref": "CMP-ENUM", "category": "x",
                          "received_at_ms": int(time.time() * 1000)})
    return [("product 99 (not in the contract)", with_unknown_enum(acc, 2, 99), "product"),
            ("channel 42 (not in the contract)", with_unknown_enum(pay, 6, 42), "channel"),
            ("complaint kind 7 (not in the contract)", with_unknown_enum(cmp, 3, 7), "kind")]


def bad_utf8(rig, ac, ck):
    """Text that is not UTF-8 cannot be built with the protobuf runtime: the bytes are
    patched into the envelope (same length, so no length prefix changes) and sent on a
    raw connection of p1's, on a stream of its own."""
    print("text that is not valid UTF-8")
    holder = "UTF8PLACEHOLDER"
    cases = [
        ("name with a 0xFF byte", "account", "borrower.name", b"Zhang\xffWei"),
        ("name with an overlong '/'", "account", "borrower.name", b"Zhang\xc0\xafWei"),
        ("name with a UTF-16 surrogate", "account", "borrower.name", b"Zhang\xed\xa0\x80Wei"),
        ("name ending inside a character", "account", "borrower.name", b"Zhang Wei \xe6\xb1"),
        ("complaint text with a stray continuation byte", "complaint", "text", b"amount \x80 wrong"),
    ]
    # Same length as the placeholder: the bad bytes start the field, spaces fill the middle.
    cases = [(w, k, f, b[:-2] + b" " * (len(holder) - len(b)) + b[-2:] if b.endswith(b"\xe6\xb1")
              else b + b" " * (len(holder) - len(b))) for w, k, f, b in cases]
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.curve_serverkey = ac.load_public(rig.path("keys", "intake.pub"))
        sock.curve_publickey, sock.curve_secretkey = ac.load_keypair(rig.path("keys", "p1.key"))
        sock.connect(rig.listen)
        for seq, (what, kind, field, bad) in enumerate(cases, 1):
            assert len(bad) == len(holder)
            env = ac.envelope_pb2.Envelope(stream_id=4242, seq=seq, sent_at_ms=int(time.time() * 1000))
            if kind == "account":
                a = account("BAD-UTF8")
                a["borrower"]["name"] = holder
                env.account_upsert.CopyFrom(ac.message_from_dict("account", a))
            else:
                env.complaint.CopyFrom(ac.message_from_dict("complaint", {
                    "account_ref": "OK-CNY-1", "complaint_ref": "CMP-UTF8", "kind": "COMPLAINT",
                    "category": "x", "text": holder, "received_at_ms": int(time.time() * 1000)}))
            data = env.SerializeToString()
            assert data.count(holder.encode()) == 1
            sock.send(data.replace(holder.encode(), bad))
            reject, ack = None, None
            deadline = time.monotonic() + 10
            while ack is None and time.monotonic() < deadline:
                if sock.poll(500):
                    reply = ac.envelope_pb2.Envelope()
                    reply.ParseFromString(sock.recv())
                    if reply.HasField("reject"):
                        reject = reply.reject
                    elif reply.HasField("ack") and reply.ack.through_seq == seq:
                        ack = reply.ack
            if reject is None or reject.seq != seq or reject.code != ac.Reject.INVALID_FIELD or \
                    reject.reject_class != ac.Reject.PERMANENT or reject.field != field or \
                    "UTF-8" not in reject.reason:
                fail("%s: expected Reject INVALID_FIELD %s (not valid UTF-8), got %s" % (what, field, reject))
            if ack is None:
                fail("%s: the refused seq %d was not acknowledged as consumed" % (what, seq))
            after, _ = rig.dump()
            if after != ck.before:
                fail("%s changed intake's content" % what)
            ck.count += 1
            print("  %-45s -> INVALID_FIELD %s: %s" % (what, reject.field, reject.reason), flush=True)
    finally:
        ctx.destroy(linger=0)


class Checker:
    def __init__(self, rig, stream):
        self.rig, self.s = rig, stream
        self.before, _ = rig.dump()
        self.count = 0
        self.feed_events = 0

    def expect_reject(self, what, msg, code, field=None, stream=None):
        s = stream or self.s
        n = len(s.rejected)
        seq = s.send(msg)
        s.flush(timeout=30)
        if len(s.rejected) != n + 1:
            fail("%s: expected a Reject %s for seq %d, got an Ack (acked=%d)" % (what, code, seq, s.acked))
        r = s.rejected[-1]
        if r["seq"] != seq or r["class"] != "PERMANENT" or r["code"] != code:
            fail("%s: expected PERMANENT %s for seq %d, got %s" % (what, code, seq, r))
        if field is not None and r["field"] != field:
            fail("%s: Reject names field %r, expected %r (reason %r)" % (what, r["field"], field, r["reason"]))
        if not r["reason"].strip():
            fail("%s: the Reject has no reason" % what)
        if s.acked != seq:
            fail("%s: the stream did not move past the refused seq %d (acked %d)" % (what, seq, s.acked))
        after, _ = self.rig.dump()
        if after != self.before:
            changed = [x for x in after if x not in self.before] + [x for x in self.before if x not in after]
            fail("%s changed intake's content: %s" % (what, changed[:3]))
        self.count += 1
        print("  %-45s -> %s %s: %s" % (what, r["code"], r["field"] or "-", r["reason"]), flush=True)
        return r

    def accept(self, msgs, stream=None, new=True):
        """Sends valid messages; `new`: each is new to intake, so each upsert, payment and
        recall of p1 will come back as one event on p1's feed."""
        s = stream or self.s
        if new and s is self.s:
            self.feed_events += sum(1 for m in msgs if type(m).__name__ in
                                    ("AccountUpsert", "PaymentPosted", "Recall"))
        n = len(s.rejected)
        s.enqueue(msgs)
        s.flush(timeout=30)
        if len(s.rejected) != n:
            fail("valid messages were refused: %s" % s.rejected[n:])
        self.before, _ = self.rig.dump()


def run(rig, rng):
    ac = rig.ac
    pb = ac.platform_pb2
    sw = Stopwatch("badinput")
    rig.start_intake()
    p1 = rig.stream("p1", resend_timeout=1.0)
    p2 = rig.stream("p2", resend_timeout=1.0)
    m = ac.message_from_dict
    ck = Checker(rig, p1)
    ck.accept([m("account", account("OK-CNY-1")),
               m("account", account("OK-GBP-1", currency="GBP")),
               m("account", account("OK-JPY-1", currency="JPY")),
               m("payment", payment("PAY-1"))])
    sw.lap("baseline: 3 accounts and a payment accepted")

    edges = boundaries()
    ck.accept([m(kind, obj) for _, kind, obj in edges])
    sw.lap("%d messages at the limits of the rules accepted" % len(edges))

    cases = [(w, "account", a, f) for w, a, f in bad_accounts()] + bad_others()
    for what, kind, obj, field in cases:
        ck.expect_reject(what, m(kind, obj), "INVALID_FIELD", field)
    for what, msg, field in unknown_enums(ac, m):
        ck.expect_reject(what, msg, "INVALID_FIELD", field)
    sw.lap("%d invalid messages refused, each naming its field, nothing changed" % ck.count)
    bad_utf8(rig, ac, ck)
    sw.lap("invalid UTF-8 refused")

    print("platform p2 and p1's account")
    st_before = p1.account_status("OK-CNY-1")
    st = p2.account_status("OK-CNY-1")
    if st.known:
        fail("p2 sees p1's account: %s" % st)
    ck.expect_reject("p2's payment naming p1's account", m("payment", payment("PAY-P2")),
                     "INVALID_FIELD", "account_ref", stream=p2)
    ck.expect_reject("p2's complaint naming p1's account",
                     m("complaint", {"account_ref": "OK-CNY-1", "complaint_ref": "CMP-P2", "kind": "COMPLAINT",
                                     "category": "x", "received_at_ms": int(time.time() * 1000)}),
                     "INVALID_FIELD", "account_ref", stream=p2)
    ck.expect_reject("p2's recall of p1's account", m("recall", {"account_ref": "OK-CNY-1"}),
                     "INVALID_FIELD", "account_ref", stream=p2)
    st = p1.account_status("OK-CNY-1")
    if st != st_before or not st.known or st.version != 1 or st.payments_received != 3 or st.closed:
        fail("p1's account changed: %s (before: %s)" % (st, st_before))

    print("natural keys: conflict and duplicate")
    ck.expect_reject("payment ref again with another amount",
                     m("payment", payment("PAY-1", amount_minor=26000)), "CONFLICT")
    same = m("payment", payment("PAY-1"))
    first = [x for k, x in ck.before if k == "payment"][0]["posted"]
    same.paid_at_ms = int(first["paid_at_ms"])
    dup_before = p1.stats["duplicate_acks"]
    ck.accept([same], new=False)
    if p1.stats["duplicate_acks"] != dup_before + 1:
        fail("the same payment again was not acknowledged as a duplicate")
    try:
        p1.account_status("bad ref/")
        fail("an account_status query with a bad ref was answered")
    except ac.QueryRejected as e:
        if e.code != ac.Reject.INVALID_FIELD or e.reject.field != "account_ref":
            fail("account_status with a bad ref: %s" % e)
    try:
        p1.feed(0, 1001)
        fail("a feed query for 1001 events was answered")
    except ac.QueryRejected as e:
        if e.code != ac.Reject.INVALID_FIELD or e.reject.field != "max_events":
            fail("feed query for 1001 events: %s" % e)

    print("bodies a platform may not send")
    fe = pb.FeedEvent(account_ref="OK-CNY-1", kind=pb.CLOSED, at_ms=int(time.time() * 1000), detail="paid")
    ck.expect_reject("a StatusEvent from a platform",
                     ac.account_pb2.StatusEvent(platform="p1", event=fe, closed=True), "UNAUTHORIZED")
    ck.expect_reject("a ClockAdvance from a platform",
                     ac.envelope_pb2.ClockAdvance(to_ms=int(time.time() * 1000) + DAY_MS), "UNAUTHORIZED")
    ck.expect_reject("an AccountEvent from a platform",
                     ac.account_pb2.AccountEvent(platform="p1", account_ref="OK-CNY-1",
                                                 recall=pb.Recall(account_ref="OK-CNY-1")), "UNKNOWN_TYPE")
    sw.lap("p2 cannot touch p1's account; conflict, unauthorized and unknown bodies refused")

    unknown_key(rig, ac)
    sw.lap("an unknown key is refused at the handshake")

    wrong = feed_retention(rig, ac, ck, p1, p2)
    sw.lap("feed retention: CURSOR_EXPIRED with the earliest cursor")
    print("  %d rejects checked" % ck.count)
    rig.stop_standin()
    rig.stop_intake()
    if wrong:
        fail("feed queries against the contract:\n  " + "\n  ".join(wrong))
    print("PASS", flush=True)


def handshake(ac, endpoint, server_pub, key_path):
    """The first handshake event of a CURVE DEALER connecting with key_path's keys."""
    from zmq.utils.monitor import recv_monitor_message
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.curve_serverkey = server_pub
        sock.curve_publickey, sock.curve_secretkey = ac.load_keypair(key_path)
        mon = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_SUCCEEDED)
        sock.connect(endpoint)
        ev = recv_monitor_message(mon)["event"] if mon.poll(10000) else None
        sock.disable_monitor()
        return ev
    finally:
        ctx.destroy(linger=0)


def unknown_key(rig, ac):
    print("an unknown CURVE key")
    ev = handshake(ac, rig.listen, ac.load_public(rig.path("keys", "intake.pub")),
                   rig.path("keys", "stranger.key"))
    if ev != zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        fail("the stranger's handshake was not refused: event %s" % ev)
    wait_for(lambda: "event=zap_denied" in rig.log_text("intake.log"), 10,
             "intake to log event=zap_denied")
    if handshake(ac, rig.listen, ac.load_public(rig.path("keys", "intake.pub")),
                 rig.path("keys", "p1.key")) != zmq.EVENT_HANDSHAKE_SUCCEEDED:
        fail("a known key's handshake did not succeed")
    stranger = rig.stream("stranger")
    try:
        stranger.health(timeout=10)
        fail("a stranger's query was answered")
    except ac.AuthRefused as e:
        print("  the client reports: %s" % e)
    rig.close_stream(stranger)


def feed_retention(rig, ac, ck, p1, p2):
    print("feed retention")
    more = [ac.message_from_dict("account", account("OK-MORE-%d" % i)) for i in range(4)]
    ck.accept(more)
    ck.accept([ac.message_from_dict("account", account("P2-ACC-1", currency="USD"))], stream=p2)
    rig.start_standin(status=True)
    staging_pub = ac.load_public(rig.path("keys", "staging.pub"))
    for name, want in (("stranger", zmq.EVENT_HANDSHAKE_FAILED_AUTH), ("p1", zmq.EVENT_HANDSHAKE_FAILED_AUTH),
                       ("intake", zmq.EVENT_HANDSHAKE_SUCCEEDED)):
        if handshake(ac, rig.staging_endpoint, staging_pub, rig.path("keys", name + ".key")) != want:
            fail("the stand-in's handshake with %s's key: expected event %d" % (name, want))
    total = ck.feed_events
    wait_for(lambda: last_or_expired(ac, p1) >= total, 60, "p1's feed to reach %d events" % total)
    wait_for(lambda: last_or_expired(ac, p2) >= 1, 60, "p2's feed to reach 1 event")
    earliest = total - 5 + 1

    def expired_at_earliest():
        try:
            p1.feed(1, 10)
            return None
        except ac.QueryRejected as e:
            if e.code != ac.Reject.CURSOR_EXPIRED:
                fail("feed after 1: %s" % e)
            return e.reject if e.reject.expected_seq == earliest else None
    r = wait_for(expired_at_earliest, 30, "events past retention (5) to be pruned down to cursor %d" % earliest)
    if r.reject_class != ac.Reject.PERMANENT or not r.reason.strip():
        fail("CURSOR_EXPIRED reject: %s" % r)
    print("  feed after 1: CURSOR_EXPIRED expected_seq=%d (%s)" % (r.expected_seq, r.reason))
    page = p1.feed(earliest - 1, 100)
    if [e.cursor for e in page.events] != list(range(earliest, total + 1)) or \
            page.earliest_cursor != earliest or page.last_cursor != total:
        fail("feed from the earliest cursor: %s" % page)
    page = p2.feed(0, 100)
    if [(e.cursor, e.account_ref) for e in page.events] != [(1, "P2-ACC-1")]:
        fail("p2's feed: %s" % page)
    wrong = []
    # FeedQuery.after_cursor: "0: from the earliest event held" (platform.proto).
    try:
        page = p1.feed(0, 100)
        if [e.cursor for e in page.events] != list(range(earliest, total + 1)):
            wrong.append("feed after cursor 0 gave cursors %s, expected %d..%d"
                         % ([e.cursor for e in page.events], earliest, total))
    except ac.QueryRejected as e:
        wrong.append("a feed query after cursor 0 (\"from the earliest event held\") was refused: %s" % e)
    # A cursor beyond the newest is not "past retention": nothing after it (or a refusal
    # naming after_cursor), never CURSOR_EXPIRED.
    for after in (total + 1, 2 ** 63, 2 ** 64 - 1):
        try:
            page = p1.feed(after, 10)
            if page.events:
                wrong.append("feed after cursor %d returned events %s" % (after, [e.cursor for e in page.events]))
        except ac.QueryRejected as e:
            if e.code != ac.Reject.INVALID_FIELD or e.reject.field != "after_cursor":
                wrong.append("feed after cursor %d (beyond the newest, %d) was refused: %s" % (after, total, e))
    return wrong


def last_or_expired(ac, stream):
    """The newest cursor of the feed, also when cursor 0 has become too old to ask."""
    try:
        return stream.feed(0, 1).last_cursor
    except ac.QueryRejected as e:
        if e.code != ac.Reject.CURSOR_EXPIRED:
            raise
        return stream.feed(e.reject.expected_seq - 1, 1).last_cursor


if __name__ == "__main__":
    main()
