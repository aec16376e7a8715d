"""mapfull_delivery: a receiver whose store reaches its hard cap answers `store full`
(retry later) and consumes nothing; the sender backs off and keeps everything; once the
cap is raised (the receiver restarted with a bigger one) every item arrives exactly once.

usage: mapfull_delivery.py ARREARS_BINARY COUNT"""
import sys

from harness import Rig, fail, wait_for


def main():
    arrears, count = sys.argv[1], int(sys.argv[2])
    rig = Rig(arrears, prefix="full")
    try:
        run(rig, count)
    finally:
        rig.close()


def run(rig, count):
    receiver = rig.start_receiver(["--map-mb", "1", "--map-max-mb", "2"])
    rig.wait_socket()
    sender = rig.start_sender(count)
    wait_for(lambda: "event=batch_refused" in rig.log_text("receiver.log"), 120,
             "the receiver to refuse a batch at its hard cap")
    wait_for(lambda: "event=backoff" in rig.log_text("sender.log"), 60,
             "the sender to back off on `store full`")
    if "event=store_grow" not in rig.log_text("receiver.log"):
        fail("the receiver never grew its map before reaching the cap")
    if sender.poll() is not None:
        fail("the sender gave up instead of waiting")
    print("store full seen and backed off; raising the cap", flush=True)
    rig.kill(receiver, sig=15)
    rig.start_receiver(["--map-mb", "1", "--map-max-mb", "64"])
    status = sender.wait(timeout=600)
    if status != 0:
        fail("the sender exited with %d" % status)
    print(rig.run_cli("demo-verify", "--receiver-data", rig.path("receiver"), "--sender-data",
                      rig.path("sender"), "--count", str(count)), end="")
    print("PASS")


if __name__ == "__main__":
    main()
