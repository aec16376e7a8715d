#!/usr/bin/env python3
"""demo_platform: the synthetic loan platform of `arrears demo`.

It is an ordinary platform client — arrears_client.Stream over CURVE, nothing private —
that makes a seeded demonstration portfolio (portfolio.py: accounts in four currencies
and twenty time zones, payments, complaints, contact updates, recalls), uploads it,
then pulls its event feed until arrears has reported on every account and payment, and
prints what happened: what was accepted, what was refused and why, the feed by kind,
one account's status. Given staging's endpoint and an operator key, it then asks
staging for its report (a query an operator may make) and prints the book by stage,
segment and champion/challenger arm.

  demo_platform.py --endpoint E --server-key intake.pub --key platform.key
                   [--state FILE] [--accounts N] [--seed S] [--proto-dir DIR]
                   [--staging-endpoint E --staging-key staging.pub --operator-key K]

Exit status 0 when everything sent was accepted and reported in the feed."""
import argparse
import collections
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--server-key", required=True, help="intake's public key file")
    p.add_argument("--key", required=True, help="this platform's key pair")
    p.add_argument("--state", help="the stream's state file (resend after a crash)")
    p.add_argument("--accounts", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--proto-dir", help="where envelope_pb2 etc. are")
    p.add_argument("--feed-timeout", type=float, default=180.0)
    p.add_argument("--staging-endpoint", help="staging, for its report")
    p.add_argument("--staging-key", help="staging's public key file")
    p.add_argument("--operator-key", help="an operator's key pair, to ask staging")
    return p.parse_args(argv)


def expected_feed(portfolio):
    """What staging reports for this portfolio: one event per account and payment."""
    recalled = {r["account_ref"] for r in portfolio.others if r["type"] == "recall"}
    return {"ACCOUNT_ACCEPTED": len(portfolio.accounts),
            "PAYMENT_APPLIED": len(portfolio.payments),
            "CLOSED": len(recalled)}


def wait_for_feed(stream, want, timeout_s):
    deadline = time.monotonic() + timeout_s
    kinds, last, events = collections.Counter(), 0, []
    while time.monotonic() < deadline:
        page, _ = stream.feed_all(after=last)
        for e in page:
            kinds[ac.platform_pb2.FeedEventKind.Name(e.kind)] += 1
            last = e.cursor
        events.extend(page)
        if all(kinds[k] >= n for k, n in want.items()):
            return kinds, events
        print("feed: %d events so far, waiting for %d" % (sum(kinds.values()), sum(want.values())),
              flush=True)
        time.sleep(0.5)   # polling the feed, as a platform does
    return kinds, events


def report(stream, portfolio, kinds, events, want, seconds):
    sent = len(portfolio.records())
    print("\n=== demonstration platform report ===")
    print("records sent            %8d  (%d accounts, %d payments, %d other)" % (
        sent, len(portfolio.accounts), len(portfolio.payments), len(portfolio.others)))
    print("accepted by intake      %8d  in %.1f s" % (sent - len(stream.rejected), seconds))
    by_code = collections.Counter(r.get("code", "?") for r in stream.rejected)
    for code, n in sorted(by_code.items()):
        print("refused: %-14s %8d" % (code, n))
    print("feed events             %8d" % len(events))
    for kind in sorted(kinds):
        print("  %-20s %8d  (expected %d)" % (kind, kinds[kind], want.get(kind, 0)))
    sample = portfolio.accounts[0]["account_ref"]
    status = stream.account_status(sample)
    print("status of %s: known=%s version=%d stage=%s payments_received=%d" % (
        sample, status.known, status.version, status.stage or "-", status.payments_received))
    for e in events[:3]:
        print("feed sample:", ac.message_to_dict(e))


def staging_report(args):
    """staging's book, as an operator sees it: per platform and currency, by stage,
    segment and arm (collected / overdue at entry)."""
    import staging_pb2
    op = ac.Stream(args.staging_endpoint, ac.load_public(args.staging_key),
                   ac.load_keypair(args.operator_key))
    try:
        rep = op.query(staging_pb2.ReportQuery(), timeout=60)
    finally:
        op.close(save=False)
    print("\n=== staging report (as an operator asks it) ===")
    for sec in rep.sections:
        t = sec.total
        print("%s %s: %d accounts, overdue at entry %d, collected %d (%.2f%%), outstanding %d"
              % (sec.platform, sec.currency, t.accounts, t.overdue_at_entry_minor,
                 t.collected_minor, t.collection_rate_bps / 100.0, t.outstanding_minor))
        for title, groups in (("stage", sec.by_stage), ("segment", sec.by_segment),
                              ("arm", sec.by_arm)):
            print("  by %-8s %s" % (title, ", ".join("%s %d" % (g.name, g.accounts) for g in groups)))
        print("  contacts requested %d, promises %d (kept %d, broken %d), complaints %d, "
              "referrals %d, listings %d, closed %d" % (
                  sec.contacts_requested, sec.promises_made, sec.promises_kept,
                  sec.promises_broken, sec.complaints, sec.referrals, sec.listings, sec.closed))


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    global ac
    if args.proto_dir:
        os.environ["ARREARS_PROTO_PYTHON"] = args.proto_dir
        sys.path.insert(0, args.proto_dir)
    sys.path.insert(0, HERE)
    import arrears_client as ac
    from portfolio import Portfolio
    n = args.accounts
    portfolio = Portfolio(args.seed, n, n // 2, complaints=n // 100, contacts=n // 100,
                          recalls=n // 200, ref_prefix="DEMO")
    with tempfile.TemporaryDirectory(prefix="arrears-demo-") as tmp:
        path = os.path.join(tmp, "portfolio.jsonl")
        portfolio.write_jsonl(path)
        stream = ac.Stream(args.endpoint, ac.load_public(args.server_key),
                           ac.load_keypair(args.key), state_path=args.state)
        t0 = time.monotonic()
        ac.upload(stream, path, progress=max(1000, n // 5))
        seconds = time.monotonic() - t0
    want = expected_feed(portfolio)
    kinds, events = wait_for_feed(stream, want, args.feed_timeout)
    report(stream, portfolio, kinds, events, want, seconds)
    stream.close()
    if args.staging_endpoint and args.staging_key and args.operator_key:
        staging_report(args)
    complete = all(kinds[k] >= v for k, v in want.items())
    if not complete:
        print("the feed did not report every account and payment in time", file=sys.stderr)
    return 0 if complete and not stream.rejected else 1


if __name__ == "__main__":
    sys.exit(main())
