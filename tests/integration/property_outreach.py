#!/usr/bin/env python3
"""property_outreach: seeded accounts worked for DAYS simulated days by the real intake,
staging, outreach broker and outreach workers, the driver (the test) owning the clock and
moving it in 15-minute steps (DESIGN.md "Time"); then an independent checker
(outreach_checker.py, which shares no code with the conduct gate) reads every delivery
from the workers' spool and call log, the broker's export of opt-outs and conversations
and staging's export of holds, and must find no contact outside the jurisdiction
profile's rules and no duplicate.

From the seed (printed first): borrowers in the United States, China and the United
Kingdom (zones across the DST changes of March, a far zone each: Pacific/Honolulu,
Asia/Urumqi, and Pacific/Kiritimati for UK-law borrowers living abroad), one in ten a
person with two accounts (caps count per person), some vulnerable, some with a
third party's phone or an unverified one besides their own; instalments overdue by up to
five months at the start or falling due during the run, so accounts cross every stage.
Call and visit outcomes come from the workers' seeded voice robot (spool.c): answers,
promises, refusals, disputes, complaints and opt-outs; some texts are answered STOP.
Some accounts pay in full on a seeded day (staging cancels their contacts).

  property_outreach.py ARREARS INTAKE STAGING BROKER WORKER PROTO_DIR SEED ACCOUNTS [DAYS [WORKERS]]"""
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import fail  # noqa: E402
from pipeline_rig import DAY_MS, HERE, Outreach, PipelineRig  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
START = datetime.date(2026, 2, 1)
STEP_MS = 15 * 60 * 1000
# The checker's self-test re-checks 30 doctored copies of a run: on runs up to this size.
SELF_TEST_MAX_ACCOUNTS = 300
UPLOAD_BATCH = 1000
START_MS = (START - datetime.date(1970, 1, 1)).days * DAY_MS
COUNTRIES = {
    "US": (["America/New_York", "America/Chicago", "America/Los_Angeles", "Pacific/Honolulu"], "en-US", "+1"),
    "CN": (["Asia/Shanghai", "Asia/Shanghai", "Asia/Urumqi"], "zh-CN", "+86"),
    "GB": (["Europe/London", "Europe/London", "Pacific/Kiritimati"], "en-GB", "+44"),
}


def phone(rng, dial):
    return dial + "".join(rng.choice("0123456789") for _ in range(10))


class World:
    """The seeded portfolio and the platform's payments, as protobuf bodies by instant."""

    def __init__(self, ac, seed, count, days):
        self.pb = ac.platform_pb2
        rng = random.Random(seed)
        self.accounts, self.meta, self.payments = [], {}, {}
        person = None
        for i in range(count):
            country = rng.choice(list(COUNTRIES))
            zones, language, dial = COUNTRIES[country]
            ref = "AC-%06d" % i
            if person is None or rng.random() >= 0.1:   # one in ten shares the person before
                person = (hashlib.sha256(b"%d-%d" % (seed, i)).digest(), rng.choice(zones), country)
            id_hash, zone, country = person
            up = self.account(rng, ref, id_hash, zone, country, language, dial)
            self.accounts.append(up)
            points = [{"value": p.value, "verified": p.verified, "consent": p.consent,
                       "third_party": p.third_party}
                      for p in list(up.borrower.phones) + list(up.borrower.emails)]
            self.meta[ref] = {"person": id_hash.hex(), "zone": zone, "country": country,
                              "vulnerable": up.flags.vulnerable, "points": points,
                              "address": up.borrower.address.line1}
            if rng.random() < 0.2:
                at = START_MS + rng.randint(2, max(2, days - 1)) * DAY_MS + rng.randint(0, 95) * STEP_MS
                self.payments.setdefault(at // STEP_MS * STEP_MS, []).append(ref)

    def account(self, rng, ref, id_hash, zone, country, language, dial):
        pb = self.pb
        phones = [pb.ContactPoint(value=phone(rng, dial), verified=True, consent=True)]
        if rng.random() < 0.1:
            phones.append(pb.ContactPoint(value=phone(rng, dial), verified=True, consent=True,
                                          third_party=True))
        if rng.random() < 0.1:
            phones.append(pb.ContactPoint(value=phone(rng, dial), verified=False, consent=True))
        emails = ([pb.ContactPoint(value="b.%s@example.com" % ref.lower(), verified=True, consent=True)]
                  if rng.random() < 0.7 else [])
        due = START + datetime.timedelta(days=rng.randint(-150, 40))
        principal = rng.randint(500, 20000) * 100
        borrower = pb.Borrower(name="Borrower " + ref, id_number_hash=id_hash, time_zone=zone,
                               language=language, phones=phones, emails=emails,
                               address=pb.Address(line1="1 %s Road" % ref, city="Town", country=country))
        up = pb.AccountUpsert(
            account_ref=ref, product=pb.ONLINE_LOAN, currency="CNY", opened_date="2025-06-01",
            borrower=borrower, mandate=pb.Mandate(may_refer_to_legal=False, may_sell=False),
            schedule=[pb.Instalment(due_date=due.isoformat(), principal_minor=principal,
                                    interest_minor=principal // 50)])
        if rng.random() < 0.05:
            up.flags.vulnerable = True
        return up

    def pay(self, ref, at_ms):
        up = next(a for a in self.accounts if a.account_ref == ref)
        owed = sum(i.principal_minor + i.interest_minor for i in up.schedule) * 3
        return self.pb.PaymentPosted(account_ref=ref, payment_ref="PAY-" + ref, amount_minor=owed,
                                     currency="CNY", paid_at_ms=at_ms, channel=self.pb.BANK_TRANSFER)


def simulate(rig, world, days, before_settle=None):
    """Every 15 minutes from START to START + days: the platform's payments of the
    instant, then the driver's rounds until nothing moves. A run of steps in which
    nothing is due anywhere (no payment, no task falling due at the broker, no
    borrower-local midnight at staging: Health.next_work_ms) is crossed in one advance:
    those steps would move nothing."""
    # An instant's work grows with the book (a holiday's backlog lands at one opening).
    timeout = max(120, len(world.accounts) // 20)
    rig.settle(START_MS, timeout)
    # In batches, each acknowledged before the next: the client's state file holds only
    # a batch's worth of un-acknowledged messages (100,000 at once would be rewritten
    # whole with every send).
    for i in range(0, len(world.accounts), UPLOAD_BATCH):
        rig.platform.enqueue(world.accounts[i:i + UPLOAD_BATCH])
        rig.platform.flush(timeout)
    rig.now_ms = START_MS
    end, started, steps = START_MS + days * DAY_MS, time.monotonic(), 0
    payments = sorted(world.payments)
    t, day = START_MS, 0
    while t < end:
        t = next_step(rig, t, payments, end)
        for ref in world.payments.get(t, []):
            rig.platform.send(world.pay(ref, t))
        if before_settle:
            before_settle(rig, t)
        rig.settle(t, timeout)
        rig.now_ms = t
        steps += 1
        if (t - START_MS) // (10 * DAY_MS) > day:
            day = (t - START_MS) // (10 * DAY_MS)
            print("day %d of %d: %d steps (%.0f s)" % (day * 10, days, steps, time.monotonic() - started),
                  flush=True)
    print("%d steps of 15 minutes with something due, of %d" % (steps, days * 96), flush=True)


def next_step(rig, t, payments, end):
    """The next 15-minute instant after t at which something is due."""
    due = [end]
    work = rig.next_work_ms()
    if work is not None:
        due.append(work)
    later = [p for p in payments if p > t]
    if later:
        due.append(later[0])
    at = max(min(due), t + STEP_MS)
    return (at + STEP_MS - 1) // STEP_MS * STEP_MS


def export(rig, out_dir):
    """The broker's and staging's exports, each read by the checker."""
    broker = rig.run([rig.outreach.broker, "dump", "--config", rig.path("outreach.conf")]).stdout
    with open(os.path.join(out_dir, "broker.jsonl"), "w") as f:
        f.write(broker)
    with open(os.path.join(out_dir, "staging.jsonl"), "w") as f:
        f.write(rig.dump())
    return broker


def figures(broker_text):
    states = {}
    for line in broker_text.splitlines():
        row = json.loads(line)
        if row.get("table") == "task":
            st = row["task"].get("state", "?")
            states[st] = states.get(st, 0) + 1
    return states


def run_checker(rig, outreach):
    checker = subprocess.run(
        [sys.executable, os.path.join(HERE, "outreach_checker.py"), "--spool", rig.path("spool"),
         "--broker", rig.path("broker.jsonl"), "--staging", rig.path("staging.jsonl"),
         "--profiles", outreach.profiles, "--accounts", rig.path("accounts.json")],
        capture_output=True, text=True)
    sys.stdout.write(checker.stdout)
    if checker.returncode != 0:
        fail("the checker found contacts outside the rules:\n" + checker.stderr[-5000:])
    with open(rig.path("accounts.json")) as f:
        if len(json.load(f)) > SELF_TEST_MAX_ACCOUNTS:
            return   # each doctored copy is checked whole: the small runs prove the checker
    # The checker is not vacuous on this very run: each doctored copy of it is caught.
    selftest = subprocess.run(
        [sys.executable, os.path.join(HERE, "outreach_checker.py"), "--self-test", rig.dir,
         "--profiles", outreach.profiles], capture_output=True, text=True)
    sys.stdout.write(selftest.stdout[-2000:])
    if selftest.returncode != 0:
        fail("the checker's self-test failed:\n" + selftest.stdout[-3000:] + selftest.stderr[-3000:])


def make_rig(argv, prefix, durability, lease_ms=60000):
    """The rig and the world from the command line (see the usage line)."""
    arrears, intake, staging, broker, worker, proto_dir = argv[1:7]
    seed, count = int(argv[7]), int(argv[8])
    days = int(argv[9]) if len(argv) > 9 else 180
    workers = int(argv[10]) if len(argv) > 10 else 2
    print("seed %d accounts %d days %d workers %d (replay: the same arguments)"
          % (seed, count, days, workers), flush=True)
    outreach = Outreach(broker, worker, os.path.join(ROOT, "services", "outreach", "profiles.conf"),
                        os.path.join(ROOT, "services", "outreach", "templates.conf"),
                        workers=workers, seed=seed, lease_ms=lease_ms)
    strategy = os.path.join(ROOT, "services", "staging", "strategy.example.conf")
    rig = PipelineRig(arrears, intake, staging, proto_dir, strategy, start_date=START.isoformat(),
                      prefix=prefix, outreach=outreach, durability=durability,
                      extra_staging_conf='daily = { chunk_accounts = 5000; };')
    return rig, World(rig.ac, seed, count, days), days, seed


def finish(rig, world):
    """Exports, a clean stop of every process (sanitizer reports fail it), the checker."""
    broker_text = export(rig, rig.dir)
    with open(rig.path("accounts.json"), "w") as f:
        json.dump(world.meta, f)
    workers = [name for name in rig.proc if name.startswith("worker")]
    for name in ["intake", "staging", "broker"] + workers:
        if rig.proc[name].poll() is None:
            rig.stop(name)
    print("tasks by state: %s" % json.dumps(figures(broker_text), sort_keys=True), flush=True)
    run_checker(rig, rig.outreach)


def main():
    if len(sys.argv) < 9:
        fail(__doc__)
    rig, world, days, _ = make_rig(sys.argv, "pro", "relaxed")
    try:
        rig.start_all()
        simulate(rig, world, days)
        finish(rig, world)
    finally:
        rig.close()
    print("ok")


if __name__ == "__main__":
    main()
