#!/usr/bin/env python3
"""crash_outreach: one broker and WORKERS workers (8 by default) work the seeded portfolio
of property_outreach.py; at seeded steps a worker holding leases is SIGKILLed (and a
fresh one started in its place), the broker is SIGKILLed mid-round while workers are
sending (and restarted), and once both at the same step. Leases last 3 s of real time,
so work held by the dead comes back within the run: a lease never started goes back to
the queue, one whose attempt started is looked up by its idempotency key in the spool.

Then the independent checker (outreach_checker.py) over the spool and the exports: no
borrower received anything twice, nothing outside its window or any other rule, and
every task is delivered or explicitly resolved (done, cancelled, refused, left to a
person, or deferred) — none still leased, started or unresolved. The kills are printed
with the step and the process.

  crash_outreach.py ARREARS INTAKE STAGING BROKER WORKER PROTO_DIR SEED ACCOUNTS [DAYS [WORKERS]]"""
import os
import random
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import fail  # noqa: E402
import property_outreach as po  # noqa: E402

LEASE_MS = 3000


class Killer:
    """Kills at the seeded steps: the step's instant is driven by hand up to the moment
    the broker has leased work, then the victim dies."""

    def __init__(self, seed, plan):
        self.rng = random.Random(seed * 7919)
        self.plan = plan          # step number -> "worker" | "broker" | "both"
        self.step = 0
        self.done = []

    def __call__(self, rig, t):
        self.step += 1
        kind = self.plan.get(self.step)
        if not kind:
            return
        offset = len(rig.log_text("broker.log"))
        rig.settle_intake()
        rig.operator.send(rig.ac.envelope_pb2.ClockAdvance(to_ms=t))
        rig.operator.flush(120)
        rig.broker_operator.send(rig.ac.envelope_pb2.ClockAdvance(to_ms=t))
        leased = self.wait_for_leases(rig, offset)
        if not leased:
            print("step %d: nothing leased, no kill" % self.step, flush=True)
            self.plan[self.step + 1] = kind   # try the next step instead
            return
        if kind in ("worker", "both"):
            self.kill_worker(rig, leased)
        if kind in ("broker", "both"):
            self.kill_broker(rig, offset)

    def wait_for_leases(self, rig, offset, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = rig.log_text("broker.log")[offset:]
            workers = re.findall(r"task_leased task=\S+ worker=w-(\d+)-", text)
            if workers:
                return [int(pid) for pid in workers]
            time.sleep(0.002)
        return []

    def kill_worker(self, rig, pids):
        by_pid = {p.pid: name for name, p in rig.proc.items() if name.startswith("worker")}
        holders = [by_pid[pid] for pid in pids if pid in by_pid and rig.proc[by_pid[pid]].poll() is None]
        if not holders:
            return
        name = self.rng.choice(holders)
        rig.kill(name)
        self.done.append((self.step, name))
        print("step %d: SIGKILL %s holding leases" % (self.step, name), flush=True)
        rig.start_worker(int(name[len("worker"):]))

    def kill_broker(self, rig, offset):
        """Once a worker has asked to start an attempt (sending is under way)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = rig.log_text("broker.log")[offset:]
            if "attempt_start" in text or "task_report" in text:
                break
            time.sleep(0.001)
        rig.kill("broker")
        self.done.append((self.step, "broker"))
        print("step %d: SIGKILL the broker mid-round" % self.step, flush=True)
        rig.start_broker()


def main():
    if len(sys.argv) < 9:
        fail(__doc__)
    argv = sys.argv if len(sys.argv) > 10 else (sys.argv + ["180", "8"])[:11]
    rig, world, days, seed = po.make_rig(argv, "cro", "durable", lease_ms=LEASE_MS)
    rng = random.Random(seed)
    steps = rng.sample(range(10, 200), 5)
    plan = dict(zip(steps, ["worker", "worker", "broker", "both", "broker"]))
    print("kills at steps %s" % sorted(plan.items()), flush=True)
    killer = Killer(seed, plan)
    try:
        rig.start_all()
        po.simulate(rig, world, days, before_settle=killer)
        kinds = {what if what == "broker" else "worker" for _, what in killer.done}
        if kinds != {"worker", "broker"}:
            fail("the run did not kill both a worker and the broker: %r" % killer.done)
        po.finish(rig, world)
    finally:
        rig.close()
    print("ok")


if __name__ == "__main__":
    main()
