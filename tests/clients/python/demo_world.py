#!/usr/bin/env python3
"""demo_world: the synthetic world of `arrears demo` — everyone outside arrears, each a
client of the real socket API on its own CURVE key, acting day by day on the simulated
clock that `arrears simulate` moves between days:

  * the demonstration platform (arrears_client.Stream to intake): uploads a seeded
    portfolio (portfolio.py) on the first day, then posts what its borrowers do — a
    payment now and then, in full or in part; the promised amount by the promised day
    for most promises its feed reports (the rest are broken); complaints; recalls — and
    reads its event feed;
  * the example law firms and agencies (case_client.py on legal, call_agent.py on the
    broker): accept the cases offered to them, work them step by step (demand letter,
    filing, hearing, judgment, enforcement for a firm; demand letter and instalments
    for an agency), report what they recover and cost, and call their accounts;
  * the example debt buyers (buyer_client.py on sale): pull each open portfolio's
    masked tape, bid a price of their own, and pull the file of what they win.

Every choice comes from the seed, so the same seed gives the same run.

  demo_world.py --dir DIR --arrears BIN [--accounts N] [--seed S] [--days D]
                [--start YYYY-MM-DD] [--proto-dir DIR] [--endpoints FILE]

DIR is the embedded default's folder (`arrears up`): keys/ and run/ (the sockets).
--endpoints FILE: a JSON object from a socket's name in run/ ("in", "st", "or", "lg",
"sa") to the endpoint the world connects to instead (e.g. "tcp://10.88.0.11:7401"), for
services on other hosts; keys/ and `arrears simulate --dir DIR` stay as they are.
Exit status 0 when every day settled and the platform's records were all taken."""
import argparse
import collections
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DAY_MS = 86400000
STEP_MINUTES = 60
FIRM_STEPS = [(0, "ACCEPTED"), (4, "DEMAND_LETTER"), (21, "FILED"), (45, "HEARING"),
              (60, "JUDGMENT"), (75, "ENFORCEMENT")]
AGENCY_STEPS = [(0, "ACCEPTED"), (3, "DEMAND_LETTER")]
BUYER_BID_BPS = {"buyer-east": 1500, "buyer-north": 1150, "buyer-west": 900, "buyer-london": 1300}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--arrears", required=True, help="the arrears CLI, to move the clock")
    p.add_argument("--accounts", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--start", default="2026-01-01")
    p.add_argument("--proto-dir")
    p.add_argument("--endpoints", help="JSON: socket name -> endpoint (services elsewhere)")
    p.add_argument("--backup-day", type=int, help="back every store up after this day")
    p.add_argument("--restore-day", type=int,
                   help="after this day, stop staging, restore it from that backup, start it")
    return p.parse_args(argv)


class World:
    def __init__(self, args):
        self.args, self.dir = args, args.dir
        self.endpoints = {}
        if args.endpoints:
            with open(args.endpoints) as f:
                self.endpoints = json.load(f)
        self.rng = random.Random(args.seed)
        self.start = datetime.date.fromisoformat(args.start)
        self.start_ms = (self.start - datetime.date(1970, 1, 1)).days * DAY_MS
        n = args.accounts
        self.portfolio = Portfolio(args.seed, n, n // 4, complaints=n // 200, contacts=n // 100,
                                   recalls=0, ref_prefix="DEMO", anchor_ms=self.start_ms - DAY_MS)
        self.accounts = {a["account_ref"]: a for a in self.portfolio.accounts}
        self.closed, self.due = set(), collections.defaultdict(list)
        self.cursor, self.seq = 0, 0
        self.counts = collections.Counter()
        self.platform = ac.Stream(self.ep("in"), self.pub("intake"), self.key("demo-platform"),
                                  state_path=self.path("world", "platform.state"))
        self.firms = {name: CaseClient(self.ep("lg"), self.path("keys", "legal.pub"), self.key(name),
                                       state_path=self.path("world", name + ".state"))
                      for name in ("firm-shanghai", "firm-national", "agency-east", "agency-london")}
        self.agents = {name: CallAgent(self.ep("or"), self.path("keys", "outreach.pub"), self.key(name),
                                       name=name) for name in self.firms}
        self.buyers = {name: BuyerClient(self.ep("sa"), self.path("keys", "sale.pub"), self.key(name),
                                         state_path=self.path("world", name + ".state"))
                       for name in BUYER_BID_BPS}
        self.case_day = {}   # case id -> the day it was accepted
        self.opened = set()  # (buyer, portfolio) whose file the buyer opened
        self.promised = set()  # the promises (feed references) the platform has heard of

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def ep(self, sock):
        return self.endpoints.get(sock) or "ipc://%s/run/%s.sock" % (self.dir, sock)

    def pub(self, name):
        return ac.load_public(self.path("keys", name + ".pub"))

    def key(self, name):
        return ac.load_keypair(self.path("keys", name + ".key"))

    def day(self, d):
        return (self.start + datetime.timedelta(days=d)).isoformat()

    def send(self, rec):
        body = {k: v for k, v in rec.items() if k != "type"}
        self.platform.send(ac.message_from_dict(rec["type"], body))
        self.counts["sent " + rec["type"]] += 1

    # -- the platform --

    def upload(self):
        path = self.path("world", "portfolio.jsonl")
        self.portfolio.write_jsonl(path)
        rejected = ac.upload(self.platform, path, progress=max(1000, self.args.accounts // 5))
        self.counts["refused by intake"] += len(rejected)
        self.outstanding = {ref: sum(i["principal_minor"] + i.get("interest_minor", 0) +
                                     i.get("fees_minor", 0) - i.get("paid_minor", 0)
                                     for i in a["schedule"]) for ref, a in self.accounts.items()}

    def read_feed(self, d):
        """Promises (hear_promise) and closures, which stop a borrower paying. A promise
        is heard once by its reference, as a platform would: the feed may repeat an
        event (staging re-derives what it lost after a restore, and intake does not yet
        recognize the repeat)."""
        page, _ = self.platform.feed_all(after=self.cursor)
        for e in page:
            self.cursor = e.cursor
            kind = ac.platform_pb2.FeedEventKind.Name(e.kind)
            self.counts["feed " + kind] += 1
            if e.HasField("outstanding_minor"):
                self.outstanding[e.account_ref] = e.outstanding_minor
            if kind == "CLOSED":
                self.closed.add(e.account_ref)
            elif kind == "PROMISE_RECORDED" and e.reference not in self.promised:
                self.promised.add(e.reference)
                self.hear_promise(e, d)

    def hear_promise(self, e, d):
        """Most promises are kept, on a day up to the promised one."""
        if self.rng.random() >= 0.55:
            return
        try:
            by = (datetime.date.fromisoformat(e.detail[:10]) - self.start).days
        except ValueError:
            by = d + 3
        self.due[self.rng.randint(d + 1, max(d + 1, by))].append((e.account_ref, e.amount_minor))
        self.counts["promises the borrower will keep"] += 1

    def payment(self, ref, amount, d):
        a = self.accounts[ref]
        self.seq += 1
        at = self.start_ms + d * DAY_MS - self.rng.randint(60000, 12 * 3600000)
        self.send({"type": "payment", "account_ref": ref, "payment_ref": "DP-%07d" % self.seq,
                   "amount_minor": max(1, amount), "currency": a["currency"], "paid_at_ms": at,
                   "channel": self.rng.choice(["BANK_TRANSFER", "CARD", "WALLET"])})

    def platform_day(self, d):
        self.read_feed(d)
        for ref, amount in self.due.pop(d, []):
            if ref not in self.closed:
                self.payment(ref, amount, d)
        open_refs = [r for r in self.accounts if r not in self.closed]
        for ref in self.rng.sample(open_refs, min(len(open_refs), max(1, len(open_refs) // 250))):
            owed = self.outstanding.get(ref, 0)
            if owed > 0:   # one in five pays in full, the rest a part
                self.payment(ref, owed if self.rng.random() < 0.2 else max(1, owed // self.rng.randint(3, 8)), d)
        for _ in range(max(0, int(self.rng.gauss(len(self.accounts) / 3000, 0.5)))):
            self.seq += 1
            self.send({"type": "complaint", "account_ref": self.rng.choice(open_refs),
                       "complaint_ref": "DC-%06d" % self.seq, "kind": "COMPLAINT",
                       "category": self.rng.choice(["contact_frequency", "amount_wrong"]),
                       "text": "Borrower says the collection is unfair",
                       "received_at_ms": self.start_ms + d * DAY_MS - 3600000})
        if d % 7 == 3 and open_refs:
            self.send({"type": "recall", "account_ref": self.rng.choice(open_refs),
                       "reason": "settled with the platform directly"})
        self.platform.flush(120)

    # -- firms and agencies --

    def work_case(self, name, client, c, d):
        steps = AGENCY_STEPS if name.startswith("agency") else FIRM_STEPS
        status = legal_pb2.CaseStatus.Name(c.status)
        if status == "REFERRED":
            client.update(c.case_id, "ACCEPTED", self.day(d))
            self.case_day[c.case_id] = d
            self.counts["cases accepted"] += 1
            return
        age = d - self.case_day.setdefault(c.case_id, d)
        names = [s for _, s in steps]
        at = names.index(status) if status in names else len(names) - 1
        if at + 1 < len(steps) and age >= steps[at + 1][0]:
            client.update(c.case_id, steps[at + 1][1], self.day(d),
                          evidence_ref="EV-%s-%d" % (c.case_id, at + 1), costs_minor=5000)
        elif status in ("DEMAND_LETTER", "ENFORCEMENT", "JUDGMENT") and self.rng.random() < 0.08:
            left = c.outstanding_minor - c.recovered_minor
            if left > 0:
                self.seq += 1
                client.update(c.case_id, status, self.day(d), recovery_minor=max(1, left // self.rng.randint(2, 6)),
                              recovery_ref="RC-%07d" % self.seq)
                self.counts["recoveries reported"] += 1

    def assignees_day(self, d):
        for name, client in self.firms.items():
            for c in client.cases():
                self.work_case(name, client, c, d)
            client.flush(120)
            self.counts["refused: case updates"] = sum(len(f.rejected) for f in self.firms.values())
        for name, agent in self.agents.items():
            for task in agent.pull(channels=("CALL", "VISIT")):
                if agent.start(task):
                    agent.report(task, "NO_ANSWER")
                    self.counts["assignee calls"] += 1

    # -- buyers --

    def buyers_day(self, d):
        for name, buyer in self.buyers.items():
            for p in buyer.portfolios():
                state = sale_pb2.PortfolioState.Name(p.state)
                if state == "PORTFOLIO_BIDDING" and not p.HasField("my_bid_minor"):
                    buyer.tape(p.portfolio_id)
                    bid = max(p.min_step_minor, p.outstanding_minor * BUYER_BID_BPS[name] // 10000)
                    buyer.bid(p.portfolio_id, p.currency, bid)
                    self.counts["bids"] += 1
                elif state == "PORTFOLIO_AWARDED" and p.won and (name, p.portfolio_id) not in self.opened:
                    self.opened.add((name, p.portfolio_id))
                    buyer.file(p.portfolio_id)
                    self.counts["portfolios won and their files opened"] += 1
            buyer.flush(120)

    # -- the days --

    def cli(self, *args):
        out = subprocess.run([self.args.arrears, *args, "--dir", self.dir], capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise SystemExit("arrears %s failed: %s%s" % (args[0], out.stdout[-2000:], out.stderr[-2000:]))
        return out.stdout

    def simulate(self):
        self.cli("simulate", "--days", "1", "--step-minutes", str(STEP_MINUTES))

    def operations(self, d):
        """The engineer on call's part, when asked: a backup, and later staging restored
        from it (the services realign; the run must end with the same book)."""
        backup = self.path("world", "backup")
        if d == self.args.backup_day:
            self.cli("backup", "--out", backup)
            print("world: every store backed up after day %d" % d, flush=True)
        if d == self.args.restore_day:
            self.cli("stop", "staging")
            self.cli("restore", "staging", "--from", backup)
            self.cli("up")
            print("world: staging restored after day %d from the backup of day %d" % (d, self.args.backup_day),
                  flush=True)

    def run(self):
        self.upload()
        print("world: %d accounts uploaded; %d days follow" % (len(self.accounts), self.args.days),
              flush=True)
        for d in range(self.args.days):
            if d:
                self.platform_day(d)
            self.assignees_day(d)
            self.buyers_day(d)
            self.simulate()
            self.operations(d)
            if d % 10 == 9 or d == self.args.days - 1:
                print("world: %s done (day %d of %d): %d payments, %d complaints, %d cases accepted, "
                      "%d bids so far" % (self.day(d + 1), d + 1, self.args.days,
                                          self.counts["sent payment"], self.counts["sent complaint"],
                                          self.counts["cases accepted"], self.counts["bids"]), flush=True)
        self.read_feed(self.args.days)

    def summary(self):
        print("\n=== the world's side ===")
        for k in sorted(self.counts):
            print("  %-40s %8d" % (k, self.counts[k]))
        refused = self.platform.rejected + [r for b in self.buyers.values() for r in b.rejected]
        for r in refused[:10]:
            print("  refused:", r)
        return 0 if not self.platform.rejected else 1

    def close(self):
        self.platform.close()
        for c in list(self.firms.values()) + list(self.buyers.values()):
            c.close()
        for a in self.agents.values():
            a.close()


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    global ac, Portfolio, CaseClient, CallAgent, BuyerClient, legal_pb2, sale_pb2
    if args.proto_dir:
        os.environ["ARREARS_PROTO_PYTHON"] = args.proto_dir
        sys.path.insert(0, args.proto_dir)
    sys.path.insert(0, HERE)
    import arrears_client as ac
    import legal_pb2
    import sale_pb2
    from buyer_client import BuyerClient
    from call_agent import CallAgent
    from case_client import CaseClient
    from portfolio import Portfolio
    os.makedirs(os.path.join(args.dir, "world"), exist_ok=True)
    world = World(args)
    try:
        world.run()
        return world.summary()
    finally:
        world.close()


if __name__ == "__main__":
    sys.exit(main())
