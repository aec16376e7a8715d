"""intake_upload: a platform uploads a seeded portfolio (10,000 accounts, 5,000 payments)
through the reference client, with a tenth of it duplicated, and intake keeps each
account and payment exactly once, forwards each exactly once to staging and reports
each back on the platform's feed.

Duplicates, three kinds (about 1,500 in all):
  * same seq, from a "restarted" client: the client's Stream is dropped after intake
    acked its last messages but before the acked mark reached the state file; a second
    Stream opened on the same state file resends every message it holds un-acked;
  * same seq, raw: envelope bytes already acked are put on the socket again;
  * new seq, same content: accounts and payments already sent are sent again as new
    messages (intake's natural keys: an identical upsert or a payment ref with the same
    content is a duplicate).
Checks: `intake dump` holds exactly the distinct accounts (version 1) and payments, and
each account's payments_received counts its distinct payments. Then the staging
stand-in starts (only now, so intake's outbox holds everything): from its raw arrival
log, setting aside resends of the same (stream, seq) (which must carry the same
content), every event arrived exactly once and the set is the distinct accounts and
payments. The stand-in (--status) reports each back: the feed, read with the client,
holds one ACCOUNT_ACCEPTED per account and one PAYMENT_APPLIED per payment.
Last, with intake's outbox to staging bounded and staging away, the client meets
RETRY_LATER (BUSY), backs off, and completes once staging drains the outbox. And
borrowers' names, phones and e-mails must not be found in clear in intake's LMDB file
(DESIGN.md section 6: personal data is encrypted at rest).

usage: intake_upload.py ARREARS INTAKE PROTO_PYTHON_DIR SEED"""
import json
import random
import sys

from harness import fail, wait_for
from intake_rig import IntakeRig, Portfolio, Stopwatch

ACCOUNTS, PAYMENTS = 10000, 5000
CHUNK, WINDOW = 250, 500


def main():
    arrears, intake, proto_dir, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    print("intake_upload: seed=%d" % seed, flush=True)
    rig = IntakeRig(arrears, intake, proto_dir, prefix="iup")
    try:
        in_clear = run(rig, random.Random(seed), seed)
    finally:
        rig.close()
    rig = IntakeRig(arrears, intake, proto_dir, prefix="ibz", limits={"outbox_max_unacked": 50})
    try:
        staging_behind(rig, seed)
    finally:
        rig.close()
    if in_clear:
        fail("personal data is stored in clear in intake's data file (DESIGN.md section 6: "
             "sensitive personal fields are encrypted at rest): %d sampled values found, "
             "e.g. %s" % (len(in_clear), in_clear[:3]))
    print("PASS", flush=True)


def run(rig, rng, seed):
    ac = rig.ac
    sw = Stopwatch("upload")
    pf = Portfolio(seed, ACCOUNTS, PAYMENTS)
    pf.write_csv(rig.path("portfolio.csv"))
    msgs = ac.read_csv(rig.path("portfolio.csv"))
    expected = [ac.message_from_dict(r["type"], {k: v for k, v in r.items() if k != "type"})
                for r in pf.accounts + pf.payments]
    if msgs != expected:
        bad = next(i for i, (a, b) in enumerate(zip(msgs, expected)) if a != b) \
            if len(msgs) == len(expected) else -1
        fail("the CSV upload file does not read back as generated (%d vs %d messages; first "
             "difference at %d)" % (len(msgs), len(expected), bad))
    accounts = {m.account_ref: m for m in msgs if type(m).__name__ == "AccountUpsert"}
    payments = {m.payment_ref: m for m in msgs if type(m).__name__ == "PaymentPosted"}
    sw.lap("generated %d accounts, %d payments; the CSV reads back exactly" % (len(accounts), len(payments)))
    rig.start_intake()

    # Phase 1: the first half, then a "crash" after everything is acked in memory but
    # not in the state file.
    half = len(msgs) // 2
    s1 = rig.stream("p1", state="p1.state", window=WINDOW, ack_store_interval=1e9)
    upload(s1, msgs[:half])
    s1.wait_room(0, timeout=120)
    held = len(load_state(rig)["pending"])
    if held == 0:
        fail("the state file holds no un-acked message at the simulated crash")
    rig.close_stream(s1, save=False)
    s2 = rig.stream("p1", state="p1.state", window=WINDOW)
    if s2.resumed != held or s2.stream_id != s1.stream_id:
        fail("the restarted Stream resumed %d messages of stream %d, expected %d of stream %d"
             % (s2.resumed, s2.stream_id, held, s1.stream_id))
    sw.lap("first half sent; a restarted Stream resends %d messages from the state file" % held)

    # Phase 2: the second half; keep some envelopes to resend raw.
    raw_n = 300
    raw = []
    rest = msgs[half:]
    for i in range(0, len(rest), CHUNK):
        s2.wait_room(WINDOW, timeout=120)
        seqs = s2.enqueue(rest[i:i + CHUNK])
        for seq in rng.sample(seqs, min(len(seqs), raw_n * CHUNK // len(rest) + 1)):
            raw.append(s2.pending_bytes(seq))
    s2.flush(timeout=120)
    raw = raw[:raw_n]
    dup_acks_before = s2.stats["duplicate_acks"]
    for data in raw:
        s2.socket.send(data)
    s2.health()   # answered after the resends before it on the same connection
    s2.flush(timeout=60)
    if s2.stats["duplicate_acks"] <= dup_acks_before:
        fail("the raw resends of acked seqs got no duplicate Ack")
    # New seqs carrying content already sent.
    new_n = max(0, (ACCOUNTS + PAYMENTS) // 10 - held - len(raw))
    again = rng.sample(list(payments.values()), new_n * 2 // 3) + \
        rng.sample(list(accounts.values()), new_n - new_n * 2 // 3)
    rng.shuffle(again)
    upload(s2, again)
    s2.flush(timeout=120)
    if s2.rejected:
        fail("intake rejected valid messages: %s" % s2.rejected[:5])
    if s2.stuck:
        fail("the stream is stuck: " + s2.stuck)
    print("  duplicates: %d resent from the state file, %d raw resends, %d as new seqs "
          "(total %d); %d duplicate acks" % (held, len(raw), len(again), held + len(raw) + len(again),
                                             s2.stats["duplicate_acks"]), flush=True)
    sw.lap("second half and duplicates acked; stream %d at seq %d" % (s2.stream_id, s2.last_seq))

    check_dump(rig, accounts, payments)
    sw.lap("intake dump holds exactly the distinct accounts and payments")

    rig.start_standin(status=True)
    wait_for(lambda: applied(rig) >= len(accounts) + len(payments), 120,
             "the stand-in to receive %d events" % (len(accounts) + len(payments)))
    wait_for(lambda: s2.health().outbox_unacked == 0, 60, "intake's outbox to staging to drain")
    sw.lap("the stand-in received everything")
    check_standin_log(rig, accounts, payments)
    sw.lap("the stand-in's raw log: every event exactly once")

    total = len(accounts) + len(payments)
    wait_for(lambda: s2.feed(0, 1).last_cursor >= total, 120, "the feed to hold %d events" % total)
    check_feed(rig, s2, accounts, payments)
    sw.lap("the feed holds one event per account and payment")
    rig.stop_standin()
    rig.stop_intake()
    rig.close_stream(s2)
    return personal_data_in_clear(rig, accounts)


PII_SAMPLE = 200


def personal_data_in_clear(rig, accounts):
    """Borrowers' names, phones and e-mails found verbatim in intake's LMDB file."""
    with open(rig.path("data", "data.mdb"), "rb") as f:
        data = f.read()
    values = []
    for ref in random.Random(1).sample(sorted(accounts), PII_SAMPLE):
        b = accounts[ref].borrower
        values += [b.name] + [p.value for p in b.phones] + [e.value for e in b.emails]
    found = [v for v in values if v.encode() in data]
    print("  personal data at rest: %d of %d sampled names, phones and e-mails found in clear"
          % (len(found), len(values)), flush=True)
    return found


def staging_behind(rig, seed):
    """intake's outbox to staging bounded at 50 and staging not there: intake takes 50
    accounts and answers the rest RETRY_LATER (BUSY), consuming nothing; the client backs
    off and resends; once staging (the stand-in) drains the outbox, everything goes in."""
    ac = rig.ac
    sw = Stopwatch("busy")
    pf = Portfolio(seed + 1, 150, 0, ref_prefix="BZ")
    msgs = [ac.message_from_dict("account", {k: v for k, v in a.items() if k != "type"})
            for a in pf.accounts]
    rig.start_intake()
    s = rig.stream("p1", state="p1.state", window=100, backoff_max=0.5)
    s.enqueue(msgs)

    def busy_at_bound():
        s.step(0.05)
        return s.stats["retry_laters"] > 0 and s.acked == 50
    wait_for(busy_at_bound, 30, "RETRY_LATER after intake took 50 accounts")
    for _ in range(10):
        s.step(0.05)   # the client backs off and resends: still nothing more is taken
    rows, _ = rig.dump()
    n = sum(1 for k, _ in rows if k == "account")
    if s.acked != 50 or n != 50 or s.rejected:
        fail("with the outbox full intake took %d accounts (acked %d), expected 50; rejected %s"
             % (n, s.acked, s.rejected[:3]))
    sw.lap("outbox full: 50 accounts taken, the rest answered RETRY_LATER %d times" % s.stats["retry_laters"])
    rig.start_standin(status=False)
    s.flush(timeout=60)
    wait_for(lambda: applied(rig) >= len(msgs), 60, "the stand-in to apply %d accounts" % len(msgs))
    rows, _ = rig.dump()
    n = sum(1 for k, _ in rows if k == "account")
    if n != len(msgs) or s.rejected:
        fail("after staging caught up intake holds %d accounts, expected %d" % (n, len(msgs)))
    sw.lap("staging caught up: all %d accounts taken; %d RETRY_LATER in all"
           % (len(msgs), s.stats["retry_laters"]))
    rig.stop_standin()
    rig.stop_intake()
    rig.close_stream(s)


def upload(stream, msgs):
    for i in range(0, len(msgs), CHUNK):
        stream.wait_room(WINDOW, timeout=120)
        stream.enqueue(msgs[i:i + CHUNK])


def load_state(rig):
    with open(rig.path("p1.state")) as f:
        return json.load(f)


def applied(rig):
    try:
        return sum(1 for e in rig.standin_log() if e.get("outcome") == "applied")
    except FileNotFoundError:
        return 0


def check_dump(rig, accounts, payments):
    rows, _ = rig.dump()
    got_acc = {v["ref"]: v for k, v in rows if k == "account"}
    got_pay = {v["ref"]: v for k, v in rows if k == "payment"}
    n_acc = sum(1 for k, _ in rows if k == "account")
    n_pay = sum(1 for k, _ in rows if k == "payment")
    if n_acc != len(accounts) or set(got_acc) != set(accounts):
        fail("intake holds %d accounts (%d distinct), expected %d" % (n_acc, len(got_acc), len(accounts)))
    if n_pay != len(payments) or set(got_pay) != set(payments):
        fail("intake holds %d payments, expected %d" % (n_pay, len(payments)))
    for ref, v in got_acc.items():
        m, u = accounts[ref], v["upsert"]
        if v["platform"] != "p1" or v["version"] != 1 or v["recalled"]:
            fail("account %s: %s" % (ref, {k: v[k] for k in ("platform", "version", "recalled")}))
        if (u["currency"], len(u["schedule"]), sum(int(i.get("principal_minor", 0)) for i in u["schedule"]),
                u["borrower"]["time_zone"], u["borrower"]["id_number_hash"]) != \
                (m.currency, len(m.schedule), sum(i.principal_minor for i in m.schedule),
                 m.borrower.time_zone, m.borrower.id_number_hash.hex()):
            fail("account %s differs from what was sent: %s" % (ref, u))
    for ref, v in got_pay.items():
        m, p = payments[ref], v["posted"]
        if (p["account_ref"], int(p["amount_minor"]), p["currency"], int(p["paid_at_ms"])) != \
                (m.account_ref, m.amount_minor, m.currency, m.paid_at_ms):
            fail("payment %s differs from what was sent: %s" % (ref, p))
    per_account = {}
    for m in payments.values():
        per_account[m.account_ref] = per_account.get(m.account_ref, 0) + 1
    status = {v["ref"]: v["status"] for k, v in rows if k == "status"}
    for ref, n in per_account.items():
        if int(status.get(ref, {}).get("payments_received", 0)) != n:
            fail("account %s: payments_received %s, expected %d" % (ref, status.get(ref), n))
    others = sorted({k for k, _ in rows} - {"account", "payment", "status"})
    if others:
        fail("unexpected records in the dump before staging answered: %s" % others)


def check_standin_log(rig, accounts, payments):
    log = rig.standin_log()
    by_seq = {}
    for e in log:
        if e.get("body") != "account_event":
            fail("the stand-in got something other than an account event: %s" % e)
        key = (e["stream_id"], e["seq"])
        first = by_seq.setdefault(key, e)
        if first["digest"] != e["digest"]:
            fail("stream %d seq %d arrived with two different contents" % key)
    streams = {k[0] for k in by_seq}
    if len(streams) != 1:
        fail("intake used %d streams to staging, expected 1" % len(streams))
    seqs = sorted(k[1] for k in by_seq)
    if seqs != list(range(1, len(seqs) + 1)):
        fail("the seqs that reached staging have holes")
    ups = [e["account_ref"] for e in by_seq.values() if e["kind"] == "upsert"]
    pays = [e["payment_ref"] for e in by_seq.values() if e["kind"] == "payment"]
    other = [e for e in by_seq.values() if e["kind"] not in ("upsert", "payment")]
    if other:
        fail("unexpected events reached staging: %s" % other[:3])
    if len(ups) != len(set(ups)) or set(ups) != set(accounts):
        fail("staging got %d upserts for %d accounts (%d expected)" % (len(ups), len(set(ups)), len(accounts)))
    if len(pays) != len(set(pays)) or set(pays) != set(payments):
        fail("staging got %d payments, %d distinct (%d expected)" % (len(pays), len(set(pays)), len(payments)))
    for e in by_seq.values():
        if e["kind"] == "payment" and e["amount_minor"] != payments[e["payment_ref"]].amount_minor:
            fail("payment %s reached staging with amount %d" % (e["payment_ref"], e["amount_minor"]))
        if e["kind"] == "upsert" and e.get("version") != 1:
            fail("account %s reached staging as version %s" % (e["account_ref"], e.get("version")))
    print("  stand-in log: %d arrivals, %d distinct (stream, seq), %d resends set aside" % (
        len(log), len(by_seq), len(log) - len(by_seq)), flush=True)


def check_feed(rig, stream, accounts, payments):
    pb = rig.ac.platform_pb2
    events, page = stream.feed_all(0, 1000)
    if [e.cursor for e in events] != list(range(1, len(events) + 1)):
        fail("feed cursors are not 1..%d" % len(events))
    acc = [e.account_ref for e in events if e.kind == pb.ACCOUNT_ACCEPTED]
    pay = [e.reference for e in events if e.kind == pb.PAYMENT_APPLIED]
    if len(events) != len(acc) + len(pay):
        fail("the feed holds events of other kinds")
    if len(acc) != len(set(acc)) or set(acc) != set(accounts):
        fail("the feed has %d ACCOUNT_ACCEPTED for %d accounts" % (len(acc), len(set(acc))))
    if len(pay) != len(set(pay)) or set(pay) != set(payments):
        fail("the feed has %d PAYMENT_APPLIED for %d payments" % (len(pay), len(set(pay))))
    for e in events:
        if e.kind == pb.PAYMENT_APPLIED:
            m = payments[e.reference]
            if (e.account_ref, e.amount_minor, e.currency) != (m.account_ref, m.amount_minor, m.currency):
                fail("feed event %d does not match payment %s" % (e.cursor, e.reference))
        elif e.stage != "pre_due" or e.currency != accounts[e.account_ref].currency:
            fail("feed event %d: stage %r currency %r" % (e.cursor, e.stage, e.currency))
    per_account = {}
    for m in payments.values():
        per_account[m.account_ref] = per_account.get(m.account_ref, 0) + 1
    for ref in random.Random(0).sample(sorted(accounts), 20):
        st = stream.account_status(ref)
        if not st.known or st.version != 1 or st.stage != "pre_due" or \
                st.payments_received != per_account.get(ref, 0):
            fail("account_status(%s): %s" % (ref, st))
    st = stream.account_status("NO-SUCH-ACCOUNT")
    if st.known:
        fail("an account never sent is reported known")


if __name__ == "__main__":
    main()
