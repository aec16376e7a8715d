"""restore_staging: restoring one service from a backup and realigning its streams
(issue 9, acceptance 5): after staging is put back from a backup, the demonstration
continues and ends with the same book as without it.

Two seeded runs of the embedded default with the demonstration world (same seed): the
first straight through; the second backs every store up after day BACKUP_DAY and, after
day RESTORE_DAY, stops staging, restores it from that backup and starts it again
(`arrears up` settles the simulation's present before it returns). Then:

  * the restore really happened and was realigned: staging's log shows its outboxes
    opened as restored and moved to new streams (event=stream_realigned), and staging's
    upstream senders rewound from their retained logs (event=receiver_behind);
  * staging caught up: what it lost came back as replays, each with when it was first
    applied, and staging applied them again in that order with the daily runs between
    (event=catchup_applied, then event=caught_up: services/staging/catchup.h);
  * no borrower got a contact twice: the worker's spool holds one record per contact id;
  * staging's book is the same in both runs. "The same book": per account, the balances
    (every instalment's owed and paid amounts, credit), the stage and its day, days past
    due, holds, the arrangement and payments, the penalty journal, the legal case, and
    the money, promise and contact figures of the account's stats, the contacts
    requested (contact_seq, pending) and the timeline's length. Not *_ms instants;
  * `arrears report --format csv` is the same in both runs, every row: the fleet is
    driven (clock.driven), so the worker's deliveries come in the driver's order too,
    and the restore changes none of it.

The default shape (150 accounts, 20 days, backup after day 5, restore after day 11)
keeps it CI-sized; a larger one reaches legal cases and sales, e.g. 300 45 10 30.

usage: restore_staging.py ARREARS_BINARY PROTO_DIR [ACCOUNTS DAYS BACKUP_DAY RESTORE_DAY]"""
import json
import os
import re
import subprocess
import sys
import tempfile

from harness import arrears_cli, assert_none_left, fail, remove_run
from outreach_checker import load_spool

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = os.path.join(os.path.dirname(HERE), "clients", "python", "demo_world.py")

BOOK_FIELDS = ("instalments", "credit_minor", "stage", "stage_since_day", "dpd", "hold_bits",
               "hold_since_day", "arrangement", "last_payment_day", "payment_days",
               "first_missed_due_day", "penalty_journal", "case_id", "contact_seq",
               "contact_pending", "timeline_count")
BOOK_STATS = ("overdue_at_entry_minor", "collected_minor", "entered_day", "closed_day",
              "promises_made", "promises_kept", "promises_broken", "complaints", "cures",
              "referrals", "listings", "contacts")



def cli(arrears, work, *args, want=0):
    return arrears_cli(arrears, work, *args, want=want, timeout=900)


def staging_binary(arrears):
    """The staging binary of the same build as arrears."""
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(arrears))))
    return os.path.join(build, "services", "staging", "staging")


def run(arrears, proto, work, shape, restore):
    accounts, days, backup_day, restore_day = shape
    cli(arrears, work, "up", "--simulated", "--relaxed")
    extra = ["--backup-day", str(backup_day), "--restore-day", str(restore_day)] if restore else []
    world = subprocess.run([sys.executable, WORLD, "--dir", work, "--arrears", arrears,
                            "--accounts", str(accounts), "--seed", "5", "--days", str(days),
                            "--proto-dir", proto, *extra],
                           capture_output=True, text=True, timeout=900)
    if world.returncode != 0:
        fail("the world (restore=%s) failed: %s%s" % (restore, world.stdout[-3000:],
                                                      world.stderr[-3000:]))
    report = cli(arrears, work, "report", "--format", "csv", want=None)
    if report.returncode != 0:   # the CSV format not built in: the table
        report = cli(arrears, work, "report")
    cli(arrears, work, "down")
    dump = subprocess.run([staging_binary(arrears), "dump", "--config",
                           os.path.join(work, "staging.conf")],
                          capture_output=True, text=True, timeout=600)
    if dump.returncode != 0:
        fail("staging dump: %s" % dump.stderr[-3000:])
    return report.stdout, book(dump.stdout)


def book(dump):
    accounts = {}
    for line in dump.splitlines():
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        if "account_ref" not in row:
            continue
        b = {f: row.get(f) for f in BOOK_FIELDS}
        b["stats"] = {f: (row.get("stats") or {}).get(f) for f in BOOK_STATS}
        accounts[(row.get("platform"), row["account_ref"])] = b
    return accounts


def compare_books(plain, restored):
    if set(plain) != set(restored):
        fail("the accounts differ: %d only without the restore, %d only with it"
             % (len(set(plain) - set(restored)), len(set(restored) - set(plain))))
    differ = {}
    for key in sorted(plain):
        for field in plain[key]:
            if plain[key][field] != restored[key][field]:
                differ.setdefault(field, []).append(key[1])
    if differ:
        fail("staging's book differs after the restore (%d of %d accounts); by field: %s"
             % (len({a for v in differ.values() for a in v}), len(plain),
                ", ".join("%s %d (e.g. %s)" % (f, len(v), v[0]) for f, v in sorted(differ.items()))))


def check_realigned(work):
    with open(os.path.join(work, "log", "staging.log")) as f:
        staging = f.read()
    upstream = ""
    for name in ("intake", "outreach", "legal", "sale"):
        path = os.path.join(work, "log", name + ".log")
        if os.path.exists(path):
            with open(path) as f:
                upstream += f.read()
    if "restored=yes" not in staging or staging.count("event=stream_realigned") < 4:
        fail("staging's log shows no restore and realignment of its four outboxes")
    if "event=receiver_behind" not in upstream:
        fail("no upstream sender rewound for the restored staging")
    replayed = sum(int(n) for n in re.findall(r"event=catchup_applied applied=(\d+)", staging))
    if not replayed or "event=caught_up" not in staging:
        fail("staging's log shows no catch-up: no replay applied again, or never caught up")
    print("  realigned: %d stream(s) moved; %d upstream rewind(s); %d replay(s) applied again"
          % (staging.count("event=stream_realigned"), upstream.count("event=receiver_behind"),
             replayed))


def check_contacted_once(work):
    seen = {}
    for rec in load_spool(os.path.join(work, "spool")):
        key = (rec.platform, rec.contact_id)
        seen[key] = seen.get(key, 0) + 1
    twice = [k for k, n in seen.items() if n > 1]
    if twice:
        fail("%d contact(s) delivered more than once after the restore, e.g. %s"
             % (len(twice), twice[0]))
    print("  contacts: %d, each delivered once" % len(seen))


def main():
    arrears, proto = sys.argv[1], sys.argv[2]
    shape = tuple(int(x) for x in sys.argv[3:7]) if len(sys.argv) >= 7 else (150, 20, 5, 11)
    top = tempfile.mkdtemp(prefix="rst", dir="/tmp")
    plain_dir, restored_dir = os.path.join(top, "plain"), os.path.join(top, "restored")
    try:
        plain_report, plain_book = run(arrears, proto, plain_dir, shape, False)
        restored_report, restored_book = run(arrears, proto, restored_dir, shape, True)
        assert_none_left(top)
        check_realigned(restored_dir)
        check_contacted_once(restored_dir)
        compare_books(plain_book, restored_book)
        print("  books: %d accounts, the same in both runs" % len(plain_book))
        a, b = plain_report.splitlines(), restored_report.splitlines()
        if a != b:
            fail("the report differs after the restore: %d row(s)\n  without: %s\n  with:    %s"
                 % (len(set(b) ^ set(a)), [x for x in a if x not in b][:5],
                    [x for x in b if x not in a][:5]))
        print("PASS")
    finally:
        for d in (plain_dir, restored_dir):
            if os.path.isdir(d):
                subprocess.run([arrears, "down", "--dir", d], capture_output=True, timeout=300)
        subprocess.run(["pkill", "-f", top], capture_output=True)
        remove_run(top)


if __name__ == "__main__":
    main()
