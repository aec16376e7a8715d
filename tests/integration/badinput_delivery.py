"""badinput_delivery: a demo receiver process fed bad input by an independent client
(pyzmq with CURVE + Debian's protobuf runtime, not protobuf-c).

Each bad message gets its Reject (class, code, reason asserted) and changes nothing in
the store — compared with `mdb_dump -a`, an independent reader of the LMDB file — except,
for a permanent reject, the inbox's consumed mark. The valid stream behind the bad
messages is delivered. An oversize frame drops only its own connection; an unknown
CURVE key is refused at the handshake.

usage: badinput_delivery.py ARREARS_BINARY PROTO_PYTHON_DIR SEED"""
import random
import signal
import subprocess
import sys
import time

import zmq

from harness import Rig, fail, wait_for

sys.path.insert(0, sys.argv[2])
import envelope_pb2  # noqa: E402

MASK = (1 << 64) - 1
Reject = envelope_pb2.Reject


def chain_payload(number, length=240):
    """The demo sender's deterministic payload, written again from its definition."""
    x = (number * 0x9E3779B97F4A7C15) & MASK
    out = bytearray()
    for _ in range(length):
        x ^= x >> 31
        x = (x * 0xBF58476D1CE4E5B9) & MASK
        x ^= x >> 29
        out.append(x & 0xFF)
    return bytes(out)


class Client:
    def __init__(self, rig, ctx, key_name, stream_id=77):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.curve_serverkey = rig.public_key("receiver").encode()
        self.sock.curve_publickey = rig.public_key(key_name).encode()
        self.sock.curve_secretkey = rig.secret_key(key_name).encode()
        self.sock.connect(rig.endpoint)
        self.stream_id = stream_id

    def envelope(self, seq, number=None, payload=None):
        env = envelope_pb2.Envelope(stream_id=self.stream_id, seq=seq, sent_at_ms=int(time.time() * 1000))
        if number is not None:
            env.demo_item.number = number
            env.demo_item.payload = chain_payload(number) if payload is None else payload
        return env

    def send_raw(self, data):
        self.sock.send(data)

    def reply(self, timeout_ms=5000):
        if not self.sock.poll(timeout_ms):
            return None
        env = envelope_pb2.Envelope()
        env.ParseFromString(self.sock.recv())
        return env


def expect_reject(client, seq, klass, code, field=None, expected=None):
    env = client.reply()
    if env is None or env.WhichOneof("body") != "reject":
        fail("expected a Reject for seq %d, got %s" % (seq, env))
    r = env.reject
    if (r.seq, r.reject_class, r.code) != (seq, klass, code):
        fail("Reject mismatch: got seq=%d class=%s code=%s reason=%r" % (
            r.seq, Reject.Class.Name(r.reject_class), Reject.Code.Name(r.code), r.reason))
    if not r.reason:
        fail("a Reject must carry a reason")
    if field is not None and r.field != field:
        fail("Reject field %r, expected %r" % (r.field, field))
    if expected is not None and r.expected_seq != expected:
        fail("Reject expected_seq %d, expected %d" % (r.expected_seq, expected))
    print("  rejected as expected: seq=%d %s %s field=%r reason=%r" % (
        seq, Reject.Class.Name(klass), Reject.Code.Name(code), r.field, r.reason))


def expect_ack(client, through):
    env = client.reply()
    if env is None or env.WhichOneof("body") != "ack" or env.ack.through_seq != through:
        fail("expected Ack through %d, got %s" % (through, env))


def dump(rig):
    """Every table of the receiver's store, as {table: [(key, value), ...]}."""
    out = subprocess.run(["mdb_dump", "-a", rig.path("receiver")], capture_output=True, text=True)
    if out.returncode != 0:
        fail("mdb_dump: " + out.stderr)
    tables, name, rows, in_data = {}, None, [], False
    for line in out.stdout.splitlines():
        if line.startswith("database="):
            name = line.split("=", 1)[1]
        elif line == "HEADER=END":
            rows, in_data = [], True
        elif line == "DATA=END":
            tables[name or "(main)"] = rows
            in_data = False
        elif in_data:
            rows.append(line.strip())
    return tables


def differing(a, b):
    return sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))


def expect_unchanged(rig, before, what):
    after = dump(rig)
    if differing(before, after):
        fail("%s changed the store: %s" % (what, differing(before, after)))


def expect_only_inbox(rig, before, what):
    after = dump(rig)
    changed = [t for t in differing(before, after) if not t.startswith("inbox.")]
    if changed:
        fail("%s changed more than the inbox: %s" % (what, changed))
    return after


def unknown_body(client, seq):
    """A valid envelope whose only body is field 99, which no receiver knows."""
    env = client.envelope(seq)
    return env.SerializeToString() + bytes([0x9A, 0x06, 0x02]) + b"hi"   # field 99, LEN 2


def main():
    arrears, seed = sys.argv[1], int(sys.argv[3])
    print("badinput_delivery: seed=%d" % seed, flush=True)
    rig = Rig(arrears, prefix="bad")
    ctx = zmq.Context()
    try:
        run(rig, ctx, random.Random(seed))
    finally:
        ctx.destroy(linger=0)
        rig.close()


def run(rig, ctx, rng):
    rig.start_receiver()
    rig.wait_socket()
    c = Client(rig, ctx, "sender")
    for seq in (1, 2, 3):
        c.send_raw(c.envelope(seq, number=seq).SerializeToString())
    expect_ack_eventually(c, 3)
    d0 = dump(rig)
    if len(d0.get("chain.links", [])) != 2 * 3 or len(d0.get("inbox.streams", [])) != 2:
        fail("the dump does not show the 3 applied items: %s" % sorted(d0))

    print("random bytes and a truncated envelope: Reject seq 0, nothing consumed")
    for _ in range(5):
        c.send_raw(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200))) + b"\xff\xff")
        expect_reject(c, 0, Reject.PERMANENT, Reject.MALFORMED)
    whole = c.envelope(4, number=4).SerializeToString()
    c.send_raw(whole[: len(whole) // 2])
    expect_reject(c, 0, Reject.PERMANENT, Reject.MALFORMED)
    expect_unchanged(rig, d0, "undecodable bytes")

    print("unknown body type: permanent, consumed, nothing else changed")
    c.send_raw(unknown_body(c, 4))
    expect_reject(c, 4, Reject.PERMANENT, Reject.UNKNOWN_TYPE)
    expect_ack(c, 4)
    d1 = expect_only_inbox(rig, d0, "an unknown body")

    print("invalid field: permanent, names the field")
    c.send_raw(c.envelope(5, number=0).SerializeToString())
    expect_reject(c, 5, Reject.PERMANENT, Reject.INVALID_FIELD, field="demo_item.number")
    expect_ack(c, 5)
    d2 = expect_only_inbox(rig, d1, "an invalid field")

    print("a resend of the rejected seq gets the same Reject, not an Ack")
    c.send_raw(c.envelope(5, number=0).SerializeToString())
    expect_reject(c, 5, Reject.PERMANENT, Reject.INVALID_FIELD, field="demo_item.number")
    expect_unchanged(rig, d2, "a resent reject")

    print("seq gap: rewind to the expected seq, nothing consumed")
    c.send_raw(c.envelope(8, number=6).SerializeToString())
    expect_reject(c, 8, Reject.REWIND, Reject.GAP, expected=6)
    expect_unchanged(rig, d2, "a gap")

    print("the valid stream behind them is delivered")
    for seq, number in ((6, 4), (7, 5), (8, 6)):
        c.send_raw(c.envelope(seq, number=number).SerializeToString())
    expect_ack_eventually(c, 8)
    out = rig.run_cli("demo-verify", "--receiver-data", rig.path("receiver"), "--count", "6")
    print("  " + out.strip())

    oversize_and_unknown_key(rig, ctx, c)
    removed_key_after_sighup(rig, ctx, c)
    hole_refilled_in_one_batch(c)
    print("PASS")


def expect_ack_eventually(client, through):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        env = client.reply(1000)
        if env is not None and env.WhichOneof("body") == "ack" and env.ack.through_seq == through:
            return
    fail("no Ack through %d" % through)


def oversize_and_unknown_key(rig, ctx, c):
    print("an oversize frame drops only its own connection")
    big = Client(rig, ctx, "other", stream_id=5)
    big_mon = big.sock.get_monitor_socket(zmq.EVENT_DISCONNECTED | zmq.EVENT_CLOSED)
    big.send_raw(big.envelope(1, number=1, payload=b"x" * 60000).SerializeToString())
    expect_ack_eventually(big, 1)
    big.send_raw(b"\x00" * (1024 * 1024 + 1))
    if not big_mon.poll(10000):
        fail("the oversize sender's connection was not dropped")
    c.send_raw(c.envelope(9, number=7).SerializeToString())
    expect_ack_eventually(c, 9)

    print("an unknown CURVE key is refused at the handshake")
    stranger = ctx.socket(zmq.DEALER)
    stranger.setsockopt(zmq.LINGER, 0)
    pub, sec = zmq.curve_keypair()
    stranger.curve_serverkey = rig.public_key("receiver").encode()
    stranger.curve_publickey, stranger.curve_secretkey = pub, sec
    mon = stranger.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    stranger.connect(rig.endpoint)
    if not mon.poll(10000):
        fail("the stranger's handshake was not refused")
    log = rig.log_text("receiver.log")
    if "event=zap_denied" not in log:
        fail("the receiver did not log the refused key")
    c.send_raw(c.envelope(10, number=8).SerializeToString())
    expect_ack_eventually(c, 10)
    stranger.close()


def removed_key_after_sighup(rig, ctx, c):
    print("a key removed from the keys file loses access at its next connection after SIGHUP")
    rig.write_allowed(["sender"])
    receiver = rig.procs[0]
    receiver.send_signal(signal.SIGHUP)
    wait_for(lambda: "event=zap_reload " in rig.log_text("receiver.log"), 10, "the keys reload")
    gone = ctx.socket(zmq.DEALER)
    gone.setsockopt(zmq.LINGER, 0)
    gone.curve_serverkey = rig.public_key("receiver").encode()
    gone.curve_publickey = rig.public_key("other").encode()
    gone.curve_secretkey = rig.secret_key("other").encode()
    mon = gone.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    gone.connect(rig.endpoint)
    if not mon.poll(10000):
        fail("the removed key still got through after SIGHUP")
    c.send_raw(c.envelope(11, number=9).SerializeToString())
    expect_ack_eventually(c, 11)
    gone.close()


def hole_refilled_in_one_batch(c):
    print("a message ahead of a hole the same burst refills still gets a gap, not a timeout")
    item = {12: 10, 13: 11, 14: 12}
    for seq in (14, 12, 13):   # the order a reconnect can produce
        c.send_raw(c.envelope(seq, number=item[seq]).SerializeToString())
    deadline = time.monotonic() + 1.0   # well under the 2 s a sender waits before resending
    gap = None
    while time.monotonic() < deadline and gap is None:
        env = c.reply(200)
        if env is not None and env.WhichOneof("body") == "reject" and env.reject.code == Reject.GAP:
            gap = env.reject.expected_seq
    if gap is None:
        fail("no Reject(GAP) for the message that jumped ahead")
    for seq in range(gap, 15):
        c.send_raw(c.envelope(seq, number=item[seq]).SerializeToString())
    expect_ack_eventually(c, 14)


if __name__ == "__main__":
    main()
