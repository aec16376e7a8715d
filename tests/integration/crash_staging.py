#!/usr/bin/env python3
"""crash_staging: staging SIGKILLed at random points of a simulated 180-day run ends with
the same book as a run with no kills.

From the seed (printed first): N accounts in CNY, most in Asia/Shanghai and the rest in
zones from Kolkata to Auckland and New York; due dates from seven months before the
start to two months after, so they reach every stage; monthly instalments, some with
fees or part paid; some with a daily or yearly penalty rate (ContractRates.penalty_bps),
some with a cap; the mandate to refer to legal or to sell on some. The platform's events
on given instants: late arrivals, payments partial and full (repayment-plan accounts pay
their plan's instalments), complaints and disputes, contact updates, new versions,
recalls. Operators resolve complaints, place and lift holds, write off. The stand-in's
script: deliveries, no answers, refusals, promises, plans, settlements, disputes,
complaints, opt-outs; legal's case updates (accepted, closed with a recovery, declined,
withdrawn) and sale's results (sold, withdrawn). Determinism by construction: at most one
event or operator action per account per instant, and an account the sale desk answers
gets no answers from outreach (a listing and the sale stage's letter are one commit: two
answers to it would race); accounts do not affect each other.

Run A: the simulated days from 2026-01-01, uninterrupted. The driver
(pipeline_rig.advance) moves staging's clock instant by instant: noon in Shanghai each
day and 20:00 on some days; the instant's events and operator actions follow it. staging
runs with `daily = { chunk_accounts = 2; }`, so each daily run is many chunks.
Run B: the same from a fresh directory, staging SIGKILLed at 5 to 8 points chosen from
the seed (a double is two kills) and restarted at once; the driver carries on and every
stream resends on its own. Kinds of kill:
  run     right after a ClockAdvance, once staging logged the run's start, after a delay
          that is a seeded fraction of the daily run's length measured in run A: the
          kill lands between chunks of the run;
  reply   once the stand-in took something of the instant's round: requests and the
          stand-in's replies in flight;
  events  just after the instant's platform events were sent: staging applied some;
  double  as `run`, then again 0.05 to 1.5 s after the restart, while staging recovers
          (resends, the rest of the interrupted run).
Where each kill landed is read from staging's store (mdb_dump, while it is down): in the
run (through which account id), after the run (advance not yet acknowledged), between
instants, and how many of the instant's events staging had applied.

Checks:
  * the two `staging dump`s (every account record: balances, stages, holds,
    arrangements, counters; then every timeline entry with its at_ms) are identical line
    by line, nothing masked; the first differing lines are printed with their account;
  * no contact_request contact_id was newly applied twice by the stand-in (no borrower
    contacted twice because of a crash), in either run;
  * what the stand-in took is the same in both runs: every request, cancel, referral
    and listing, all fields but the stream's ids and seqs, the sender's key and the
    stand-in's wall clock;
  * the platform's feed of status events from staging is the same, account by account
    (intake keeps 10 years of it: it prunes by at_ms against the wall clock);
  * the messages refused (intake's, the operator actions', the stand-in's replies) are
    the same; no sanitizer report in any log.

usage: crash_staging.py ARREARS INTAKE STAGING PROTO_DIR SEED ACCOUNTS [DAYS]"""
import collections
import datetime
import difflib
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import fail  # noqa: E402
from intake_rig import Stopwatch, import_client  # noqa: E402
from pipeline_rig import DAY_MS, HERE, PipelineRig  # noqa: E402

START = datetime.date(2026, 1, 1)
START_MS = (START - datetime.date(1970, 1, 1)).days * DAY_MS
NOON_SHANGHAI_MS = 4 * 3600 * 1000      # 12:00 in UTC+8
EVENING_SHANGHAI_MS = 12 * 3600 * 1000  # 20:00 in UTC+8
STRATEGY = os.path.join(HERE, "..", "..", "services", "staging", "strategy.example.conf")
CHUNK_ACCOUNTS = 2
OTHER_ZONES = ["Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Asia/Kolkata", "Europe/London",
               "America/New_York", "Australia/Sydney", "Pacific/Auckland"]
GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Hao", "Xiu"]
FAMILY = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang"]
RESULTS = [("DELIVERED", 38), (None, 18), ("NO_ANSWER", 10), ("RIGHT_PARTY_CONTACT", 6),
           ("FAILED", 4), ("PROMISE_TO_PAY", 9), ("REFUSAL", 3), ("WRONG_NUMBER", 2),
           ("SETTLEMENT_OFFERED", 3), ("DISPUTED", 2), ("COMPLAINED", 2), ("OPTED_OUT", 1),
           ("NOT_ATTEMPTED", 2)]


def add_months(day, k):
    m0 = day.month - 1 + k
    return datetime.date(day.year + m0 // 12, m0 % 12 + 1, min(day.day, 28))


class Instant:
    def __init__(self, day, ms):
        self.day, self.ms = day, ms
        self.platform = []   # platform_pb2 messages, at most one per account
        self.operator = []   # staging_pb2.OperatorAction, on accounts with no platform event here
        self.refs = set()

    def label(self):
        return "%s %s" % ((START + datetime.timedelta(days=self.day)).isoformat(),
                          "noon" if self.ms % DAY_MS == NOON_SHANGHAI_MS else "20:00")


class World:
    """Everything both runs do, from the seed. One event per account per instant: the
    replies to what one event makes staging send are then applied before anything else
    happens to that account, whatever the timing (accounts do not affect each other)."""

    def __init__(self, ac, staging_pb2, seed, count, days):
        self.pb, self.spb = ac.platform_pb2, staging_pb2
        rng = random.Random(seed)
        self.instants, self.noon = [], {}
        for d in range(days + 1):
            self.noon[d] = len(self.instants)
            self.instants.append(Instant(d, START_MS + d * DAY_MS + NOON_SHANGHAI_MS))
            if d and rng.random() < 0.15:
                self.instants.append(Instant(d, START_MS + d * DAY_MS + EVENING_SHANGHAI_MS))
        self.days = days
        self.script = {}
        self.figures = collections.Counter()
        self.hashes = []
        for i in range(count):
            self.account(rng, i)

    # -- placing events --

    def place(self, ref, index, make, end, operator=False):
        """make(instant) at instant index, or the first later one with nothing else for
        ref, before end: that instant's index, or None when there is none."""
        while index < end and ref in self.instants[index].refs:
            index += 1
        if index >= end:
            return None
        inst = self.instants[index]
        inst.refs.add(ref)
        (inst.operator if operator else inst.platform).append(make(inst))
        return index

    def index_of_day(self, rng, lo, hi):
        """An instant on a day in lo..hi (noon or, when there is one, 20:00)."""
        d = rng.randint(lo, hi)
        i = self.noon[d]
        if i + 1 < len(self.instants) and self.instants[i + 1].day == d and rng.random() < 0.5:
            i += 1
        return i

    # -- accounts --

    def borrower(self, rng, ref, zone):
        pb = self.pb
        if self.hashes and rng.random() < 0.06:
            id_hash = rng.choice(self.hashes)      # the same person holds another account
            self.figures["accounts of a person with two"] += 1
        else:
            id_hash = hashlib.sha256(("crash-staging %s" % ref).encode()).digest()
        self.hashes.append(id_hash)
        ok = rng.random() < 0.85
        phones = [pb.ContactPoint(value="+861%s%09d" % (rng.choice("3589"), rng.randrange(10 ** 9)),
                                  verified=ok, consent=ok or rng.random() < 0.5)
                  for _ in range(rng.choice([1, 1, 2]))]
        b = pb.Borrower(name="%s %s" % (rng.choice(FAMILY), rng.choice(GIVEN)), id_number_hash=id_hash,
                        time_zone=zone, language="zh-CN", phones=phones)
        if rng.random() < 0.5:
            b.emails.add(value="%s@example.cn" % ref.lower(), verified=ok, consent=ok)
        if rng.random() < 0.7:
            b.address.CopyFrom(pb.Address(line1="%d Road" % rng.randint(1, 300), city="Shanghai",
                                          country="CN"))
        return b

    def account(self, rng, i):
        pb = self.pb
        ref = "CS-%05d" % (i + 1)
        zone = "Asia/Shanghai" if rng.random() < 0.65 else rng.choice(OTHER_ZONES)
        product = rng.choices(["ONLINE_LOAN", "INSTALMENT_LOAN", "CREDIT_CARD", "BNPL"], [50, 20, 15, 15])[0]
        plan_account = rng.random() < 0.1
        profile = rng.choices(["current", "early", "middle", "late", "charged_off"], [25, 25, 15, 15, 20])[0]
        if plan_account:
            profile = rng.choice(["early", "middle"])
        first_due = {"current": lambda: rng.randint(5, 60), "early": lambda: -rng.randint(1, 30),
                     "middle": lambda: -rng.randint(31, 60), "late": lambda: -rng.randint(61, 90),
                     "charged_off": lambda: -rng.randint(91, 210)}[profile]()
        fd = START + datetime.timedelta(days=first_due)
        count = rng.randint(1, 6)
        principal = int(10 ** rng.uniform(4.7, 6.7)) // 100 * 100   # 500 .. 50000 CNY
        per, schedule, owed = principal // count, [], 0
        for k in range(count):
            p = per if k < count - 1 else principal - per * (count - 1)
            inst = pb.Instalment(due_date=add_months(fd, k).isoformat(), principal_minor=p,
                                 interest_minor=p * rng.randint(5, 30) // 1000)
            if not plan_account and rng.random() < 0.2:
                inst.fees_minor = rng.choice([2500, 5000, 12000])
            if not plan_account and k == 0 and rng.random() < 0.15:
                inst.paid_minor = p // 2
            owed += inst.principal_minor + inst.interest_minor + inst.fees_minor - inst.paid_minor
            schedule.append(inst)
        rates = None
        r = rng.random()
        if r < 0.45:
            rates = pb.ContractRates(interest_bps=rng.randint(3, 10), interest_period=pb.PER_DAY,
                                     penalty_bps=rng.randint(5, 15), penalty_period=pb.PER_DAY)
        elif r < 0.7:
            rates = pb.ContractRates(interest_bps=rng.randint(400, 3600), interest_period=pb.PER_YEAR,
                                     penalty_bps=rng.randint(200, 1800), penalty_period=pb.PER_YEAR)
        if rates is not None and rng.random() < 0.3:
            rates.penalty_cap_bps = rng.choice([2400, 3600, 15400])
        legal, sell = rng.random() < 0.5, rng.random() < 0.4
        vulnerable = rng.random() < 0.05
        up = pb.AccountUpsert(account_ref=ref, product=pb.Product.Value(product), currency="CNY",
                              opened_date=(fd - datetime.timedelta(days=rng.randint(20, 90))).isoformat(),
                              borrower=self.borrower(rng, ref, zone), schedule=schedule,
                              mandate=pb.Mandate(may_refer_to_legal=legal, may_sell=sell))
        if rates is not None:
            up.rates.CopyFrom(rates)
        if vulnerable:
            up.flags.vulnerable = True
        late_day = rng.randint(1, max(1, min(90, self.days // 2)))
        arrival = 0 if plan_account or rng.random() < 0.75 else self.noon[late_day]
        self.figures["accounts"] += 1
        self.figures["profile " + profile] += 1
        self.figures["with a penalty rate"] += rates is not None
        self.figures["arriving after the start"] += arrival > 0
        self.place(ref, arrival, lambda inst: up, arrival + 1)
        self.events(rng, ref, up, arrival, owed, principal, plan_account)
        self.stand_in(rng, ref, up, owed, principal, legal, sell)

    def events(self, rng, ref, up, arrival, owed, principal, plan_account):
        pb, spb = self.pb, self.spb
        end = len(self.instants)
        day0 = self.instants[arrival].day
        first = day0 + 1
        if first > self.days:
            return
        if rng.random() < 0.04 and day0 + 30 <= self.days:
            at = self.place(ref, self.index_of_day(rng, day0 + 30, self.days),
                            lambda inst: pb.Recall(account_ref=ref, reason="settled with the platform"), end)
            if at is not None:
                end = at          # nothing more for this account from its recall on
                self.figures["recalls"] += 1
        if plan_account:
            # Plan accounts agree a plan on their first contact (on arrival, overdue): two or
            # three instalments of what is owed, penalty waived; they pay on the plan's days
            # (local dates are never later than the Shanghai date of the noon instant), all
            # but the last when the plan is to break.
            days = [7, 21] if rng.random() < 0.5 else [7, 21, 35]
            parts = [owed // len(days)] * len(days)
            parts[-1] = owed - sum(parts[:-1])
            self.script[ref] = {"contact": [{"result": "PLAN_AGREED", "waive_penalty": True,
                                             "plan": [{"in_days": d, "amount_minor": a}
                                                      for d, a in zip(days, parts)]}]}
            keep = rng.random() < 0.7
            self.figures["plan accounts"] += 1
            self.figures["plan accounts paying every instalment"] += keep
            for n, (d, a) in enumerate(zip(days, parts)):
                if not keep and n == len(days) - 1:
                    break
                if day0 + d <= self.days:
                    self.payment(ref, self.noon[day0 + d], a, end, "PL%d" % n)
        elif rng.random() < 0.55:
            for n in range(rng.randint(1, 4)):
                if rng.random() < 0.25:
                    amount = owed * 6 // 5            # everything and then some: a credit
                else:
                    amount = max(100, int(principal * rng.uniform(0.05, 0.4)) // 100 * 100)
                self.payment(ref, self.index_of_day(rng, first, self.days), amount, end, "P%d" % n)
        if rng.random() < 0.12:
            at = self.index_of_day(rng, first, self.days)
            kind = pb.COMPLAINT if rng.random() < 0.6 else pb.DISPUTE
            at = self.place(ref, at, lambda inst: pb.Complaint(
                account_ref=ref, complaint_ref="C-" + ref, kind=kind, category="contact_frequency",
                text="called too often", received_at_ms=inst.ms), end)
            if at is not None:
                self.figures["complaints and disputes"] += 1
                later = self.instants[at].day + rng.randint(5, 25)
                if rng.random() < 0.7 and later <= self.days:
                    self.operator(ref, self.noon[later], spb.OperatorAction.RESOLVE_COMPLAINT, end)
        if rng.random() < 0.08:
            at = self.index_of_day(rng, first, self.days)
            phone = pb.ContactPoint(value="+86139%08d" % rng.randrange(10 ** 8), verified=True, consent=True)
            if self.place(ref, at, lambda inst: pb.ContactUpdate(account_ref=ref, phones=[phone]),
                          end) is not None:
                self.figures["contact updates"] += 1
        if rng.random() < 0.08:
            v2 = pb.AccountUpsert()
            v2.CopyFrom(up)
            v2.mandate.may_sell = not up.mandate.may_sell
            v2.flags.vulnerable = not up.flags.vulnerable
            if self.place(ref, self.index_of_day(rng, first, self.days), lambda inst: v2, end) is not None:
                self.figures["second versions"] += 1
        if rng.random() < 0.05 and first + 10 <= self.days:
            d = rng.randint(first, self.days - 10)
            self.operator(ref, self.noon[d], spb.OperatorAction.PLACE_HOLD, end)
            self.operator(ref, self.noon[d + rng.randint(3, 10)], spb.OperatorAction.LIFT_HOLD, end, "manual")
        if rng.random() < 0.02:
            self.operator(ref, self.noon[rng.randint(max(first, self.days // 2), self.days)],
                          spb.OperatorAction.WRITE_OFF, end)

    def payment(self, ref, at, amount, end, tag):
        pb = self.pb
        if self.place(ref, at, lambda inst: pb.PaymentPosted(
                account_ref=ref, payment_ref="%s-%s" % (ref, tag), amount_minor=amount, currency="CNY",
                paid_at_ms=inst.ms, channel=pb.BANK_TRANSFER), end) is not None:
            self.figures["payments"] += 1

    def operator(self, ref, at, kind, end, hold=None):
        spb = self.spb
        a = spb.OperatorAction(platform="p1", account_ref=ref, kind=kind,
                               reason="crash_staging: %s" % spb.OperatorAction.Kind.Name(kind).lower())
        if hold:
            a.hold = hold
        if self.place(ref, at, lambda inst: a, end, operator=True) is not None:
            self.figures["operator actions"] += 1

    def stand_in(self, rng, ref, up, owed, principal, legal, sell):
        entry = self.script.setdefault(ref, {"contact": []})
        rules = entry["contact"]
        # The sale desk answers only accounts outreach never answers: listing an account
        # and the sale stage's first letter are one commit, and the two neighbours' answers
        # to it would reach staging in either order (a promise recorded before the sale, or
        # an outcome arriving for an account already sold): two different, equally right
        # books, decided by timing alone.
        sale_desk = sell and not rules and rng.random() < 0.7
        promiser = rng.random() < 0.25
        names, weights = zip(*RESULTS)
        for n in range(len(rules), 0 if sale_desk else rng.randint(10, 18)):
            result = "PROMISE_TO_PAY" if promiser and n in (1, 3, 5) else rng.choices(names, weights)[0]
            if result is None:
                rules.append(None)
            elif result == "PROMISE_TO_PAY":
                rules.append({"result": result, "promise_in_days": rng.randint(3, 12),
                              "amount_minor": max(100, int(principal * rng.uniform(0.1, 0.3)) // 100 * 100)})
            elif result == "SETTLEMENT_OFFERED":
                rules.append({"result": result, "amount_minor": owed * rng.randint(70, 95) // 100,
                              "pay_by_in_days": rng.randint(7, 20)})
            else:
                rules.append({"result": result})
        if legal:
            entry["legal"] = rng.choice([
                [{"status": "ACCEPTED"}],
                [{"status": "ACCEPTED"}, {"status": "DEMAND_LETTER"}],
                [{"status": "ACCEPTED"}, {"status": "FILED"},
                 {"status": "CASE_CLOSED", "recovery_minor": principal // 3, "recovery_ref": "REC-" + ref}],
                [{"status": "DECLINED", "detail": "no assets found"}],
                [{"status": "ACCEPTED"}, {"status": "WITHDRAWN"}]])
        if sale_desk:
            self.figures["answered by the sale desk only"] += 1
            entry["sale"] = rng.choice([
                [{"outcome": "SALE_SOLD", "price_minor": principal // 10, "buyer": "buyer-a"}],
                [{"outcome": "SALE_SOLD", "price_minor": principal // 8, "buyer": "buyer-b"}],
                [{"outcome": "SALE_WITHDRAWN", "detail": "no bid"}]])


# ---- staging's store, read with mdb_dump --------------------------------------------

def mdb_table(rig, table):
    out = subprocess.run(["mdb_dump", "-s", table, rig.path("staging_data")], capture_output=True,
                         text=True)
    if out.returncode != 0:
        fail("mdb_dump %s: %s" % (table, out.stderr))
    body = out.stdout.split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0].split()
    return [(bytes.fromhex(k), bytes.fromhex(v)) for k, v in zip(body[0::2], body[1::2])]


def run_meta(rig):
    return {k.decode(): int.from_bytes(v[:8], "big", signed=True)
            for k, v in mdb_table(rig, "staging.meta")}


def intake_applied(rig):
    """How far staging's inbox applied intake's stream (inbox.streams: principal NUL
    stream_id(be64) -> applied_through(be64) at(be64))."""
    return max([int.from_bytes(v[:8], "big") for k, v in mdb_table(rig, "inbox.streams")
                if k.startswith(b"intake\0")] or [0])


def standin_unacked(rig):
    """Replies the stand-in sent that staging has not acknowledged (its state file)."""
    try:
        with open(rig.path("standin.state")) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return 0
    return int(st.get("last_seq", 0)) - int(st.get("acked", 0))


def where(meta, inst):
    to, done, clock = meta.get("run_to_ms", 0), meta.get("run_done_ms", 0), meta.get("clock_ms", 0)
    accounts = meta.get("next_id", 1) - 1
    if to == inst.ms:
        return "in the run, chunks committed through account id %d of %d" % (
            meta.get("run_cursor", 0), accounts)
    if done >= inst.ms and clock < inst.ms:
        return "after the run, its advance not yet acknowledged"
    if done >= inst.ms:
        return "between instants"
    return "before the run started"


class Crashes:
    """Run B's kills: where (instant) and what kind, from the seed; the timings scale with
    the length of a daily run measured in run A."""

    def __init__(self, seed, world):
        rng = random.Random("crash_staging kills %d" % seed)
        n = rng.randint(5, 8)
        kinds = ["run", "run", "events", "reply", "double"]
        kinds += [rng.choice(["run", "events", "reply", "double"]) for _ in range(n - len(kinds))]
        rng.shuffle(kinds)
        count = len(world.instants)
        n = min(n, count - 1)          # a short run: one kill per instant at most
        kinds = kinds[:n]
        self.plan = {}
        for k, kind in enumerate(kinds):
            slice_ = range(1 + (count - 1) * k // n, 1 + (count - 1) * (k + 1) // n)
            if kind == "events":
                busy = [i for i in slice_ if len(world.instants[i].platform) >= 2]
                kind = "events" if busy else "run"
                slice_ = busy or slice_
            self.plan[rng.choice(slice_)] = dict(kind=kind, frac=rng.uniform(0.05, 0.8),
                                                 pause=rng.uniform(0.05, 1.5), delay=rng.uniform(0.0, 0.015))
        self.run_ms = 1.0
        self.done = []          # (instant label, kind, where) per kill

    def wait(self, rig, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            rig.operator.step(0.002)
        return False

    def kill(self, rig, inst, kind):
        rig.kill("staging")
        meta = run_meta(rig)
        self.done.append((inst.label(), kind, "%s; %d of the stand-in's replies un-acknowledged"
                          % (where(meta, inst), standin_unacked(rig))))
        print("    kill %d (%s) at %s: %s" % (len(self.done), kind, inst.label(), self.done[-1][2]),
              flush=True)
        rig.start_staging()

    def in_round(self, rig, inst, k):
        """Sends ClockAdvance(inst) and kills staging while its round is under way."""
        if rig.now_ms is not None:
            rig.settle(rig.now_ms)      # the current instant first, as advance() does
        log, standin_log = rig.path("staging.log"), rig.path("standin.jsonl")
        offset, seen = os.path.getsize(log), os.path.getsize(standin_log)
        rig.start_advance(inst.ms)
        if k["kind"] == "reply":
            self.wait(rig, lambda: os.path.getsize(standin_log) > seen, 10)
        else:
            needle = "event=run_start run_to_ms=%d" % inst.ms

            def started():
                with open(log, "rb") as f:
                    f.seek(offset)
                    return needle.encode() in f.read()
            self.wait(rig, started, 10)
            time.sleep(k["frac"] * self.run_ms / 1000.0)
        self.kill(rig, inst, k["kind"])
        if k["kind"] == "double":
            time.sleep(k["pause"])
            self.kill(rig, inst, "double, again %.0f ms after the restart" % (k["pause"] * 1000))

    def amid_events(self, rig, inst, k):
        before = intake_applied(rig)
        rig.platform.enqueue(inst.platform)
        time.sleep(k["delay"])
        rig.kill("staging")
        meta, after = run_meta(rig), intake_applied(rig)
        self.done.append((inst.label(), "events", "%s; staging had applied %d of the instant's %d events"
                          % (where(meta, inst), after - before, len(inst.platform))))
        print("    kill %d (events) at %s: %s" % (len(self.done), inst.label(), self.done[-1][2]), flush=True)
        rig.start_staging()


# ---- the runs -----------------------------------------------------------------------

def simulate(rig, world, actions, crashes=None):
    for i, inst in enumerate(world.instants):
        k = crashes.plan.get(i) if crashes else None
        if k and k["kind"] in ("run", "reply", "double"):
            crashes.in_round(rig, inst, k)
        rig.advance(inst.ms)
        if inst.platform:
            if k and k["kind"] == "events":
                crashes.amid_events(rig, inst, k)
            else:
                rig.platform.enqueue(inst.platform)
        if inst.operator:
            actions.enqueue(inst.operator)
            actions.flush(120)
    rig.advance(world.instants[-1].ms)


def run(name, prefix, args, world, sw, crashes=None):
    arrears, intake, staging, proto_dir = args
    rig = PipelineRig(arrears, intake, staging, proto_dir, STRATEGY, prefix=prefix,
                      script=world.script,
                      extra_staging_conf="daily = { chunk_accounts = %d; };" % CHUNK_ACCOUNTS)
    try:
        rig.start_all()
        # Operator actions on a stream of their own: some are refused (a hold already
        # lifted, an account closed), which the driver's stream must not see.
        actions = rig.stream("staging", "operator", "actions.state", backoff_max=0.1)
        simulate(rig, world, actions, crashes)
        feed, _ = rig.platform.feed_all()
        dead = rig.platform.health().dead_letters
        refused = dict(platform=rig.platform.rejected, operator=actions.rejected)
        for proc in ("intake", "staging", "standin"):
            rig.stop(proc)
        with open(rig.path("standin.state")) as f:
            refused["replies"] = json.load(f).get("rejected", [])
        result = dict(dump=rig.dump(), standin=rig.standin_log(), feed=feed, refused=refused,
                      intake_dead_letters=dead, run_ms=run_lengths(rig.log_text("staging.log")))
        sw.lap("%s done: %d lines in the dump, %d messages to the stand-in, %d feed events"
               % (name, len(result["dump"].splitlines()), len(result["standin"]), len(feed)))
        return result
    finally:
        rig.close()


def run_lengths(log):
    """Milliseconds from each daily run's start to its end, from staging's log."""
    starts, out = {}, []
    for m in re.finditer(r"ts=(\S+)Z \S+ \S+ pid=(\d+) event=run_(start|done) run_to_ms=(\d+)", log):
        at = datetime.datetime.fromisoformat(m.group(1)).timestamp() * 1000
        key = (m.group(2), m.group(4))
        if m.group(3) == "start":
            starts[key] = at
        elif key in starts:
            out.append(at - starts.pop(key))
    return out


# ---- comparing ----------------------------------------------------------------------

def labels(lines):
    """What each dump line is: an account, or a timeline entry of one (entries follow in
    account id order, each account's from seq 1)."""
    refs, out, k = [], [], 0
    for line in lines:
        obj = json.loads(line)
        if "account_ref" in obj:
            refs.append(obj["account_ref"])
            out.append("account %s" % obj["account_ref"])
        else:
            k += obj.get("seq") == 1
            ref = refs[k - 1] if 0 < k <= len(refs) else "?"
            out.append("timeline of %s, entry %s" % (ref, obj.get("seq")))
    return out


def diff_dumps(a_text, b_text, shown=6):
    a, b = a_text.splitlines(), b_text.splitlines()
    if a == b:
        return None
    la, lb = labels(a), labels(b)
    out = ["the dumps differ: %d lines uninterrupted, %d after the kills" % (len(a), len(b))]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, min(i2, i1 + 2)):
            out.append("  uninterrupted line %d (%s):\n    %s" % (i + 1, la[i], a[i]))
        for j in range(j1, min(j2, j1 + 2)):
            out.append("  after kills   line %d (%s):\n    %s" % (j + 1, lb[j], b[j]))
        shown -= 1
        if shown == 0:
            out.append("  ...")
            break
    return "\n".join(out)


def contacted_twice(log):
    ids = collections.Counter((e["platform"], e["contact_id"]) for e in log if e["body"] == "contact_request")
    return sorted(k for k, n in ids.items() if n > 1)


def taken(log):
    """What the stand-in took, sorted, without what names the rig rather than the book: the
    stream's id and seqs, the sender's key (each rig makes its own) and the wall clock."""
    rows = [{k: v for k, v in e.items() if k not in ("t", "stream_id", "seq", "principal")} for e in log]
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def feed_by_account(events):
    out = collections.defaultdict(list)
    for e in events:
        out[e.account_ref].append((e.kind, e.at_ms, e.stage, e.days_past_due, e.amount_minor,
                                   e.outstanding_minor, e.reference, e.detail))
    return dict(out)


def first_difference(a, b, what):
    for n, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "%s differ at %d:\n  uninterrupted %s\n  after kills   %s" % (what, n, x, y)
    return "%s differ in number: %d uninterrupted, %d after the kills" % (what, len(a), len(b))


def figures(world, a):
    final, kinds = {}, collections.Counter()
    for line, label in zip(a["dump"].splitlines(), labels(a["dump"].splitlines())):
        obj = json.loads(line)
        if "account_ref" not in obj:
            kinds[obj["kind"]] += 1
            final[label.split(",")[0]] = obj["stage"]    # an account's last entry: its stage
    stages = collections.Counter(final.values())
    bodies = collections.Counter(e["body"] for e in a["standin"])
    replies = collections.Counter(r for e in a["standin"] for r in e["replies"])
    runs = a["run_ms"]
    print("  world: %s" % ", ".join("%s %d" % kv for kv in sorted(world.figures.items())), flush=True)
    print("  instants %d (days %d); final stages: %s" % (
        len(world.instants), world.days, ", ".join("%s %d" % kv for kv in stages.most_common())))
    print("  timeline entries %d: %s" % (sum(kinds.values()), ", ".join(
        "%s %d" % kv for kv in kinds.most_common())))
    print("  stand-in took %s; replied %s" % (dict(bodies), dict(replies)))
    print("  daily runs %d, in chunks of %d: median %.1f ms, longest %.1f ms" % (
        len(runs), CHUNK_ACCOUNTS, statistics.median(runs) if runs else 0, max(runs or [0])))
    print("  refused: intake %d, operator actions %d, stand-in replies %d; intake dead letters %d" % (
        len(a["refused"]["platform"]), len(a["refused"]["operator"]), len(a["refused"]["replies"]),
        a["intake_dead_letters"]), flush=True)


def compare(a, b):
    problems = []
    d = diff_dumps(a["dump"], b["dump"])
    if d:
        problems.append(d)
    for name, r in (("uninterrupted", a), ("after kills", b)):
        twice = contacted_twice(r["standin"])
        if twice:
            problems.append("%s: the stand-in newly applied these contact ids more than once: %s"
                            % (name, twice[:10]))
    ta, tb = taken(a["standin"]), taken(b["standin"])
    if ta != tb:
        problems.append(first_difference(ta, tb, "what the stand-in took"))
    fa, fb = feed_by_account(a["feed"]), feed_by_account(b["feed"])
    if fa != fb:
        for ref in sorted(set(fa) | set(fb)):
            if fa.get(ref) != fb.get(ref):
                problems.append(first_difference(fa.get(ref, []), fb.get(ref, []),
                                                 "the platform's feed for %s" % ref))
                break

    def refs(rows):
        return sorted(json.dumps({k: v for k, v in r.items() if k != "seq"}, sort_keys=True) for r in rows)
    for key in ("platform", "operator", "replies"):
        if refs(a["refused"][key]) != refs(b["refused"][key]):
            problems.append(first_difference(refs(a["refused"][key]), refs(b["refused"][key]),
                                             "refusals (%s)" % key))
    if a["intake_dead_letters"] != b["intake_dead_letters"]:
        problems.append("intake's dead letters: %d uninterrupted, %d after the kills"
                        % (a["intake_dead_letters"], b["intake_dead_letters"]))
    return problems


def main():
    args = sys.argv[1:5]
    seed, count = int(sys.argv[5]), int(sys.argv[6])
    days = int(sys.argv[7]) if len(sys.argv) > 7 else 180
    print("crash_staging: seed=%d accounts=%d days=%d chunk_accounts=%d"
          % (seed, count, days, CHUNK_ACCOUNTS), flush=True)
    ac = import_client(args[3])
    import staging_pb2
    sw = Stopwatch("crash_staging")
    world = World(ac, staging_pb2, seed, count, days)
    crashes = Crashes(seed, world)
    print("  kills planned: %s" % ", ".join("%s at %s" % (k["kind"], world.instants[i].label())
                                             for i, k in sorted(crashes.plan.items())), flush=True)
    a = run("run A (uninterrupted)", "csa", args, world, sw)
    figures(world, a)
    crashes.run_ms = statistics.median(a["run_ms"]) if a["run_ms"] else 1.0
    b = run("run B (with kills)", "csb", args, world, sw, crashes)
    landed = collections.Counter(w.split(";")[0].split(",")[0] for _, _, w in crashes.done)
    print("  %d kills: %s" % (len(crashes.done), ", ".join("%s %d" % kv for kv in landed.most_common())))
    mid = landed["in the run"]
    problems = compare(a, b)
    if problems:
        fail("seed %d: the run with kills ended differently\n%s" % (seed, "\n".join(problems)))
    print("PASS seed=%d: %d accounts, %d days, %d kills (%d in a daily run): the dumps are identical "
          "(%d lines), the stand-in took the same %d messages, no contact applied twice"
          % (seed, count, days, len(crashes.done), mid, len(a["dump"].splitlines()), len(a["standin"])),
          flush=True)


if __name__ == "__main__":
    main()
