#!/usr/bin/env python3
"""scenario_sale: charged-off accounts sold to debt buyers, through the real intake,
staging, outreach (broker and one worker) and sale processes on the simulated clock,
day by day from 2026-03-01 at noon in Asia/Shanghai (issue 8, acceptance 2 and 3).

N accounts (default 2,000) arrive charged off, 120 to 519 days past due, 1,000 to
10,500 CNY, and every personal field of every one (name, id number hash, phone, e-mail,
each address line, the account ref) carries its own planted value. Staging lists them
on the first daily run; sale's plan opens on 2026-03-03 and cuts them into portfolios by
DPD band and balance band; three buyers (buyer_client.py, each its own CURVE key) pull
their masked tapes and bid until the deadline five days on: buyer-a bids 14% of the
balance everywhere, buyer-b 16% on every other portfolio, buyer-c 2% (below any
reserve); buyer-d is a registered buyer the plan does not invite.

  PAY        one account's platform posts a payment while it is in a portfolio: it is
             withdrawn before the award and the winning price is taken down pro rata
  PUT        the winner of the first portfolio puts one account back two days after the
             award: staging takes it back into collection and, like PAY's account, does
             not list it again within the sale rule's retry period
Checked: bad input at sale's door (bytes that are no Envelope, an unknown key, a bid in
another currency or below the step, a put-back before the award) is refused and changes
nothing in sale's store; every tape any buyer pulled (during bidding and after) holds none of the
planted values, searched byte for byte and normalized (lower case, letters and digits
only); each winner opens its sealed file with its own secret key and finds the planted
values of exactly its accounts; a loser cannot pull a file; buyer-d sees no portfolio
and its bid is refused; buyer-b sees its own bid only; a bid after the deadline is
refused; staging marks the sold accounts sold; outreach sends each sold borrower one
notice of assignment and nothing after it; sale's report adds up.

  scenario_sale.py ARREARS INTAKE STAGING BROKER WORKER SALE PROTO_DIR [ACCOUNTS [kill-seed]]
With a kill seed, sale is SIGKILLed at seeded points during bidding and after the award
and the run must end in the same state: sale's and staging's dumps equal those of an
uninterrupted run (which is made first): no bid lost, no second award."""
import datetime
import difflib
import hashlib
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import fail  # noqa: E402
from pipeline_rig import DAY_MS, HERE, Outreach, PipelineRig, Sale  # noqa: E402
import wire_checks  # noqa: E402

START = datetime.date(2026, 3, 1)
NOON_MS = 4 * 3600 * 1000          # 12:00 in UTC+8
DAYS = 14
OPEN_DAY, AWARD_DAY, PAY_DAY, PUT_DAY = 2, 7, 3, 9
BUYERS = ["buyer-a", "buyer-b", "buyer-c", "buyer-d"]
SALE_CONF = """sale = {
  min_accounts = 50; max_accounts = 400;
  dpd_bands = ( { name = "d90-179"; from_dpd = 90; to_dpd = 180; },
                { name = "d180-359"; from_dpd = 180; to_dpd = 360; },
                { name = "d360+"; from_dpd = 360; } );
  balance_bands = ( { name = "small"; currency = "CNY"; from_minor = 1L; to_minor = 500000L; },
                    { name = "large"; currency = "CNY"; from_minor = 500000L; } );
  curves = { version = "scenario-1"; margin_bps = 1000;
    bands = ( { balance_band = "small"; points = ( { from_dpd = 0; recovery_bps = 1500; },
                { from_dpd = 180; recovery_bps = 1000; }, { from_dpd = 360; recovery_bps = 500; } ); },
              { balance_band = "large"; points = ( { from_dpd = 0; recovery_bps = 1200; },
                { from_dpd = 180; recovery_bps = 800; }, { from_dpd = 360; recovery_bps = 400; } ); } ); };
  plans = ( { name = "cn"; kind = "forward_flow"; currency = "CNY"; products = ["online_loan"];
              buyers = ["buyer-a", "buyer-b", "buyer-c"]; first_open = "2026-03-03";
              cycle_days = 30; bidding_days = 5; min_step_minor = 100L; put_back_days = 30;
              relists = 0; } );
  sweep_every_ms = 100;
};
"""


def day_ms(d):
    return (START - datetime.date(1970, 1, 1)).days * DAY_MS + d * DAY_MS + NOON_MS


def token(i):
    """A planted token per account: letters and digits no other field shares."""
    return "qz%05dk%s" % (i, hashlib.sha256(b"%d" % i).hexdigest()[:6])


def planted(i):
    """Every personal value of account i, as sent (strings; the id hash as bytes)."""
    t = token(i)
    return {"ref": "S-%s" % t.upper(), "name": "Planted %s Name" % t, "phone": "+86139%08d" % (i * 7 + 13),
            "email": "%s@mail-%s.example" % (t, t[-4:]), "line1": "%s Lane 7" % t,
            "line2": "Flat %s" % t, "city": "%sville" % t, "region": "%sshire" % t,
            "postal": "PC%s" % t[2:8], "id_hash": hashlib.sha256(t.encode()).digest()}


def upserts(rig, n):
    pb = rig.ac.platform_pb2
    out = []
    for i in range(n):
        v = planted(i)
        dpd = 120 + (i * 37) % 400
        due = (START - datetime.timedelta(days=dpd)).isoformat()
        out.append(pb.AccountUpsert(
            account_ref=v["ref"], product=pb.ONLINE_LOAN, currency="CNY", opened_date="2023-01-05",
            borrower=pb.Borrower(
                name=v["name"], id_number_hash=v["id_hash"], time_zone="Asia/Shanghai",
                language="zh-CN",
                phones=[pb.ContactPoint(value=v["phone"], verified=True, consent=True)],
                emails=[pb.ContactPoint(value=v["email"], verified=True, consent=True)],
                address=pb.Address(line1=v["line1"], line2=v["line2"], city=v["city"],
                                   region=v["region"], postal_code=v["postal"], country="CN")),
            schedule=[pb.Instalment(due_date=due, principal_minor=100000 + (i * 7919 % 20) * 50000)],
            mandate=pb.Mandate(may_sell=True)))
    return out


def normalized(data):
    if isinstance(data, bytes):
        data = data.decode("latin-1")
    return re.sub(r"[^a-z0-9]", "", data.lower())


class Buyers:
    def __init__(self, rig):
        import buyer_client
        keys = lambda n: rig.ac.load_keypair(rig.path("keys", n + ".key"))  # noqa: E731
        self.clients = {n: buyer_client.BuyerClient(rig.ep["sale"], rig.path("keys", "sale.pub"),
                                                    keys(n), state_path=rig.path(n + ".state"))
                        for n in BUYERS}
        self.tapes = []        # (buyer, portfolio, bytes) of every tape pulled

    def pull_tapes(self, buyer):
        c = self.clients[buyer]
        for p in c.portfolios():
            self.tapes.append((buyer, p.portfolio_id, c.tape_bytes(p.portfolio_id)))

    def close(self):
        for c in self.clients.values():
            c.close(save=False)

    def bid_all(self, rig):
        """Bids on every portfolio open to a, b and c; checks what a buyer may not do."""
        a, b, c, d = (self.clients[n] for n in BUYERS)
        offered = a.portfolios()
        if not offered:
            fail("no portfolio was offered to buyer-a on day %d" % OPEN_DAY)
        for k, p in enumerate(offered):
            a.bid(p.portfolio_id, "CNY", p.outstanding_minor * 14 // 100)
            if k % 2:
                b.bid(p.portfolio_id, "CNY", p.outstanding_minor * 16 // 100)
            c.bid(p.portfolio_id, "CNY", p.outstanding_minor * 2 // 100)
        for client in (a, b, c):
            client.flush(60)
            if client.rejected:
                fail("a bid was refused: %s" % client.rejected)
        if d.portfolios():
            fail("buyer-d, not invited, was shown portfolios")
        d.bid(offered[0].portfolio_id, "CNY", 10 ** 9)
        d.flush(60)
        if [r["code"] for r in d.rejected] != ["UNAUTHORIZED"]:
            fail("buyer-d's bid: %s (expected UNAUTHORIZED)" % d.rejected)
        mine = {p.portfolio_id: p for p in b.portfolios()}
        for k, p in enumerate(offered):
            if mine[p.portfolio_id].HasField("my_bid_minor") != bool(k % 2):
                fail("buyer-b is shown a bid on %s that is not its own" % p.portfolio_id)
        return offered

    def check_door(self, rig, portfolio_id):
        """Bad input at sale's door changes nothing: bytes that are no Envelope, a key
        the keys file does not hold, and bids and a put-back sale must refuse."""
        import zmq
        before = rig.dump("sale")
        ctx, pub = zmq.Context(), rig.ac.load_public(rig.path("keys", "sale.pub"))
        rig.run([rig.bins["arrears"], "keygen", "stranger", rig.path("keys")])
        try:
            wire_checks.check_garbage(rig.ac, ctx, rig.ep["sale"], pub,
                                      rig.ac.load_keypair(rig.path("keys", "buyer-a.key")))
            wire_checks.check_stranger(rig.ac, ctx, rig.ep["sale"], pub,
                                       rig.ac.load_keypair(rig.path("keys", "stranger.key")))
        finally:
            ctx.destroy(linger=0)
        a = self.clients["buyer-a"]
        n = len(a.rejected)
        mine = {p.portfolio_id: p for p in a.portfolios()}[portfolio_id].my_bid_minor
        a.bid(portfolio_id, "USD", mine * 2)                # not the portfolio's currency
        a.bid(portfolio_id, "CNY", mine + 50)               # a raise below the step of 100
        a.put_back(portfolio_id, "00" * 16, "not won yet")  # only the winner puts back
        a.flush(60)
        got = [(r["code"], r["field"]) for r in a.rejected[n:]]
        want = [("INVALID_FIELD", "currency"), ("INVALID_FIELD", "amount_minor"),
                ("UNAUTHORIZED", "portfolio_id")]
        if got != want:
            fail("refusals at sale's door: %s, wanted %s" % (got, want))
        if rig.dump("sale") != before:
            fail("refused input changed sale's store")

    def late_bid(self, portfolio_id):
        c = self.clients["buyer-c"]
        before = len(c.rejected)
        c.bid(portfolio_id, "CNY", 10 ** 9)
        c.flush(60)
        late = c.rejected[before:]
        if len(late) != 1 or late[0]["code"] != "CONFLICT" or "closed" not in late[0]["reason"]:
            fail("a bid after the deadline: %s (expected CONFLICT, closed)" % late)


def pay_during_bidding(rig, offered):
    """The platform posts a payment on one account of the first portfolio."""
    pb = rig.ac.platform_pb2
    ref = planted(first_member(rig, offered[0].portfolio_id))["ref"]
    rig.platform.enqueue([pb.PaymentPosted(account_ref=ref, payment_ref="PAY-1", amount_minor=10000,
                                           currency="CNY", paid_at_ms=day_ms(PAY_DAY) - 3600000,
                                           channel=pb.BANK_TRANSFER)])
    rig.settle_intake()
    return ref


def sale_dump(rig):
    return [json.loads(line) for line in rig.dump("sale").splitlines()]


def first_member(rig, portfolio_id):
    for row in sale_dump(rig):
        l = row.get("listed")
        if l and l.get("portfolio_id") == portfolio_id:
            return int(l["account_ref"].split("QZ")[1][:5])
    fail("no account in %s" % portfolio_id)


def simulate(rig, buyers, n, kills=()):
    notes = {}
    rig.platform.enqueue(upserts(rig, n))
    rig.settle_intake()
    for d in range(DAYS + 1):
        if d in kills:
            rig.kill("sale")
            rig.start_sale()
        rig.advance(day_ms(d))
        if d == OPEN_DAY:
            notes["offered"] = [p.portfolio_id for p in buyers.bid_all(rig)]
            buyers.check_door(rig, notes["offered"][0])
            for b in BUYERS[:3]:
                buyers.pull_tapes(b)
        if d == PAY_DAY:
            notes["paid"] = pay_during_bidding(rig, buyers.clients["buyer-a"].portfolios())
        if d == AWARD_DAY:
            buyers.late_bid(notes["offered"][0])
            for b in BUYERS[:3]:
                buyers.pull_tapes(b)
        if d == PUT_DAY:
            notes["put_back"] = put_back(buyers, notes["offered"][0])
        if rig.platform.rejected or rig.operator.rejected:
            fail("refused: %r %r" % (rig.platform.rejected, rig.operator.rejected))
    rig.advance(day_ms(DAYS))
    return notes


def put_back(buyers, portfolio_id):
    for name in BUYERS[:3]:
        c = buyers.clients[name]
        p = {x.portfolio_id: x for x in c.portfolios()}.get(portfolio_id)
        if p and p.won:
            f = c.file(portfolio_id)
            acct = f.accounts[0]
            n = len(c.rejected)
            c.put_back(portfolio_id, acct.pseudonym, "the borrower was bankrupt before the sale")
            c.flush(60)
            if c.rejected[n:]:
                fail("the put-back was refused: %s" % c.rejected[n:])
            return acct.listing.account_ref
    fail("nobody won %s" % portfolio_id)


# ------------------------------------------------------------------ checks

def check_tapes(buyers, n):
    """No tape holds a planted value, byte for byte or normalized."""
    raw, norm = [], []
    for i in range(n):
        for key, value in planted(i).items():
            if key == "id_hash":
                raw.append((i, key, value))
                norm.append((i, key, value.hex()))
            else:
                raw.append((i, key, value.encode()))
                norm.append((i, key, normalized(value)))
    if not buyers.tapes:
        fail("no tape was pulled")
    for buyer, pid, tape in buyers.tapes:
        flat = normalized(tape)
        for i, key, value in raw:
            if value in tape:
                fail("%s's tape of %s holds account %d's %s" % (buyer, pid, i, key))
        for i, key, value in norm:
            if value in flat:
                fail("%s's tape of %s holds account %d's %s (normalized)" % (buyer, pid, i, key))
    return len(buyers.tapes), len(raw)


def check_files(rig, buyers, notes):
    """Each winner opens its file and finds its accounts' planted values; losers get none."""
    sold = {}
    for pid in notes["offered"]:
        winners = 0
        for name in BUYERS[:3]:
            c = buyers.clients[name]
            p = {x.portfolio_id: x for x in c.portfolios()}[pid]
            if not p.won:
                try:
                    c.file(pid)
                except Exception as e:   # noqa: BLE001 - the refusal is the point
                    if "UNAUTHORIZED" not in str(e) and "file goes to" not in str(e):
                        fail("%s pulling %s's file: %s" % (name, pid, e))
                    continue
                fail("%s, who did not win %s, pulled its file" % (name, pid))
            winners += 1
            f = c.file(pid)
            for acct in f.accounts:
                i = int(acct.listing.account_ref.split("QZ")[1][:5])
                v = planted(i)
                b = acct.listing.file.borrower
                if b.name != v["name"] or b.address.line1 != v["line1"] or b.id_number_hash != v["id_hash"]:
                    fail("%s's file of %s: account %s lacks its borrower" % (name, pid, acct.listing.account_ref))
                sold[acct.listing.account_ref] = name
            if sum(a.price_minor for a in f.accounts) != f.price_minor:
                fail("%s's file: the accounts' shares do not add up to the price" % pid)
        if winners != 1:
            fail("%s has %d winners" % (pid, winners))
    return sold


def check_staging(rig, sold, notes):
    put = notes["put_back"]
    for ref in sold:
        stage = rig.account(ref).stage
        want = "sold" if ref != put else None
        if want and stage != want:
            fail("%s is %s at staging, sold expected" % (ref, stage))
    if notes["paid"] in sold:
        fail("%s paid during bidding and was sold anyway" % notes["paid"])
    # Back in collection, and not listed again within the sale rule's retry period.
    for ref in (put, notes["paid"]):
        if rig.account(ref).stage != "charged_off":
            fail("%s, given back by sale, is %s at staging (charged_off expected until the "
                 "retry period ends)" % (ref, rig.account(ref).stage))


def spool_records(rig):
    out = []
    spool = rig.path("spool")
    for folder in ("sms", "email", "letter", "call", "visit"):
        d = os.path.join(spool, folder)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith(".json"):
                with open(os.path.join(d, name)) as f:
                    out.append(json.load(f))
    return out


def check_notices(rig, sold, notes):
    """Each sold borrower: one notice of assignment after the sale, nothing else after."""
    sold_at = {}
    for ref in sold:
        _, entries = rig.timeline(ref)
        at = [e.at_ms for e in entries if e.kind == "stage" and "sold" in e.reason]
        if not at:
            fail("%s has no sold entry on its timeline" % ref)
        sold_at[ref] = at[0]
    after = {}
    for rec in spool_records(rig):
        ref = rec["task"]["account_ref"]
        if ref in sold_at and rec["sent_at_ms"] >= sold_at[ref]:
            after.setdefault(ref, []).append(rec["task"].get("template_id"))
    for ref in sold:
        got = after.get(ref, [])
        if ref == notes["put_back"]:   # back in collection: its letters resume, one notice
            got = [t for t in got if t == "notice_of_assignment_v1"]
        if got != ["notice_of_assignment_v1"]:
            fail("%s after its sale got %s, expected one notice of assignment" % (ref, got))
    return len(sold)


def check_report(rig, sold):
    sp = __import__("sale_pb2")
    r = rig.sale_operator.query(sp.SaleReportQuery(), 10)
    if r.accounts_sold != len(sold) - 1 or r.accounts_put_back != 1 or r.unsold != 0:
        fail("sale's report: sold %d put back %d unsold %d (expected %d, 1, 0)"
             % (r.accounts_sold, r.accounts_put_back, r.unsold, len(sold) - 1))
    return r


def comparable(dump):
    """sale's dump without the sealed files' digests: crypto_box_seal uses a fresh
    ephemeral key every time (and each run has its own buyers' keys), so two runs that
    end in the same state seal different bytes."""
    rows = [json.loads(line) for line in dump.splitlines()]
    for row in rows:
        row.get("portfolio", {}).pop("file_sha256", None)
    return "\n".join(json.dumps(row, sort_keys=True) for row in rows)


def run(argv, n, kills=()):
    arrears, intake, staging, broker, worker, sale, proto_dir = argv[:7]
    services = os.path.join(HERE, "..", "..", "services", "outreach")
    outreach = Outreach(broker, worker, os.path.join(services, "profiles.conf"),
                        os.path.join(services, "templates.conf"))
    rig = PipelineRig(arrears, intake, staging, proto_dir, os.path.join(HERE, "conf", "sale_strategy.conf"),
                      start_date=START.isoformat(), prefix="ssl", outreach=outreach,
                      sale=Sale(sale, BUYERS, SALE_CONF), durability="durable")
    buyers = None
    try:
        rig.start_all()
        buyers = Buyers(rig)
        notes = simulate(rig, buyers, n, kills)
        tapes, values = check_tapes(buyers, n)
        sold = check_files(rig, buyers, notes)
        check_staging(rig, sold, notes)
        notices = check_notices(rig, sold, notes)
        r = check_report(rig, sold)
        print("scenario_sale: %d accounts, %d portfolios, %d sold (%d put back), %d tapes "
              "searched for %d planted values, %d notices of assignment, proceeds %s"
              % (n, len(notes["offered"]), r.accounts_sold, r.accounts_put_back, tapes, values,
                 notices, [(x.currency, x.price_minor) for x in r.proceeds]), flush=True)
        for name in ("sale", "staging"):
            rig.check_sanitizers(name)
        return comparable(rig.dump("sale")), rig.dump("staging")
    finally:
        if buyers:
            buyers.close()
        rig.close()


def main():
    if len(sys.argv) not in (8, 9, 10):
        fail(__doc__)
    n = int(sys.argv[8]) if len(sys.argv) > 8 else 2000
    clean = run(sys.argv[1:], n)
    print("scenario_sale: ok", flush=True)
    if len(sys.argv) == 10:
        seed = int(sys.argv[9])
        rng = random.Random(seed)
        kills = sorted([rng.randint(OPEN_DAY + 1, AWARD_DAY), rng.randint(AWARD_DAY + 1, DAYS)])
        print("seed %d: sale SIGKILLed before days %s (replay: the same seed)" % (seed, kills), flush=True)
        killed = run(sys.argv[1:], n, kills)
        for name, a, b in (("sale", clean[0], killed[0]), ("staging", clean[1], killed[1])):
            if a != b:
                diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "clean", "killed",
                                            lineterm="", n=0)
                fail("with sale killed the run ends elsewhere: %s's dump differs:\n%s"
                     % (name, "\n".join(list(diff)[:40])))
        print("scenario_sale: the killed run ends where the clean one does", flush=True)


if __name__ == "__main__":
    main()
