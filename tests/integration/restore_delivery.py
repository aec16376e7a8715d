"""restore_delivery: one service restored from a backup loses nothing.

The receiver's store is backed up with mdb_copy while it runs; the stream goes on; the
receiver is stopped and its store replaced by the older backup. On restart it has
forgotten items it had acknowledged, answers the sender's next message with a gap whose
expected seq lies BELOW the sender's acked mark, and the sender rewinds from its
retained log. The chain verifies: every item exactly once, in order.

usage: restore_delivery.py ARREARS_BINARY COUNT"""
import os
import shutil
import subprocess
import sys

from harness import Rig, fail, read_progress


def main():
    arrears, count = sys.argv[1], int(sys.argv[2])
    rig = Rig(arrears, prefix="rest")
    try:
        run(rig, count)
    finally:
        rig.close()


def run(rig, count):
    receiver = rig.start_receiver()
    rig.wait_socket()
    sender = rig.start_sender(count)
    backed_at = read_progress(sender, count // 4, 300)
    backup = rig.path("backup")
    os.mkdir(backup)
    subprocess.run(["mdb_copy", rig.path("receiver"), backup], check=True)
    print("backed up the receiver at acked=%d" % backed_at, flush=True)
    restored_at = read_progress(sender, count // 2, 300)
    rig.kill(receiver, sig=15)
    for name in ("data.mdb", "lock.mdb"):
        path = rig.path("receiver", name)
        if os.path.exists(path):
            os.unlink(path)
    shutil.copy(os.path.join(backup, "data.mdb"), rig.path("receiver", "data.mdb"))
    print("restored the receiver from the backup at acked=%d" % restored_at, flush=True)
    rig.start_receiver()
    status = sender.wait(timeout=600)
    if status != 0:
        fail("the sender exited with %d" % status)
    if "event=receiver_behind" not in rig.log_text("sender.log"):
        fail("the sender never saw the restored receiver behind its acked mark")
    print(rig.run_cli("demo-verify", "--receiver-data", rig.path("receiver"), "--sender-data",
                      rig.path("sender"), "--count", str(count)), end="")
    print("PASS")


if __name__ == "__main__":
    main()
