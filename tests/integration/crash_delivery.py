"""crash_delivery: effectively-once delivery survives SIGKILL on both sides.

A sender process streams COUNT items over ipc:// (CURVE) to a receiver process whose
effect is not idempotent (each item extends a hash chain). The receiver is killed with
SIGKILL three times mid-stream and restarted, then the sender likewise. At the end the
chain must verify (every item exactly once, in order), the sender's outbox must hold no
un-acked message, and both stores must have been opened with durable flags.

usage: crash_delivery.py ARREARS_BINARY COUNT SEED"""
import random
import sys

from harness import Rig, assert_durable, fail, read_progress


def main():
    arrears, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print("crash_delivery: count=%d seed=%d" % (count, seed), flush=True)
    rng = random.Random(seed)
    rig = Rig(arrears, prefix="crash")
    try:
        run(rig, count, rng)
    finally:
        rig.close()


def run(rig, count, rng):
    receiver = rig.start_receiver()
    rig.wait_socket()
    sender = rig.start_sender(count)
    # Kill points spread over the stream, at random within their slice.
    points = sorted(int(count * (k + rng.random()) / 7) for k in range(6))
    for i, point in enumerate(points):
        acked = read_progress(sender, point, 300)
        if i < 3:
            rig.kill(receiver)
            print("killed the receiver at acked=%d" % acked, flush=True)
            receiver = rig.start_receiver()
        else:
            rig.kill(sender)
            print("killed the sender at acked=%d" % acked, flush=True)
            sender = rig.start_sender(count)
    status = sender.wait(timeout=600)
    if status != 0:
        fail("the sender exited with %d" % status)
    rig.kill(receiver, sig=15)
    out = rig.run_cli("demo-verify", "--receiver-data", rig.path("receiver"), "--sender-data",
                      rig.path("sender"), "--count", str(count))
    print(out, end="")
    assert_durable(rig.log_text("receiver.log"))
    assert_durable(rig.log_text("sender.log"))
    print("PASS: %d items delivered exactly once across 3 receiver and 3 sender kills" % count)


if __name__ == "__main__":
    main()
