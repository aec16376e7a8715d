"""demo_main_job: the README's main command, seeded and reduced: `arrears demo` starts
every service on the simulated clock, the synthetic world (platform, firms, agencies,
buyers) acts for DAYS days on ACCOUNTS accounts, the report is printed and everything
stops. The test asserts the exit status, that the report covers every currency of the
portfolio with contact, promises, and sale activity, that the world's platform had
nothing refused, and that no process of the run is left behind.

usage: demo_main_job.py ARREARS_BINARY ACCOUNTS DAYS"""
import re
import subprocess
import sys
import tempfile

from harness import assert_none_left, fail, remove_run


def check_report(out):
    sections = re.findall(r"== demo-platform (\w{3}) ==\n.*?\n  all +(\d+)", out, re.S)
    if sorted(c for c, _ in sections) != ["CNY", "GBP", "JPY", "USD"]:
        fail("the report does not cover the four currencies: %r" % sections)
    promises = sum(int(m) for m in re.findall(r"promises (\d+) made", out))
    kept = sum(int(m) for m in re.findall(r"made, (\d+) kept", out))
    broken = sum(int(m) for m in re.findall(r"kept, (\d+) broken", out))
    contacts = sum(int(m) for m in re.findall(r"contacts requested (\d+)", out))
    if not (contacts and promises and kept and broken):
        fail("no contact or promise activity: contacts %d, promises %d kept %d broken %d"
             % (contacts, promises, kept, broken))
    m = re.search(r"listed (\d+) \(waiting", out)
    if not m or int(m.group(1)) == 0:
        fail("nothing was listed for sale")
    return sum(int(n) for _, n in sections)


def main():
    arrears, accounts, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    work = tempfile.mkdtemp(prefix="demo", dir="/tmp")
    try:
        out = subprocess.run([arrears, "demo", "--accounts", str(accounts), "--seed", "3",
                              "--days", str(days), "--dir", work],
                             capture_output=True, text=True, timeout=3000)
        print(out.stdout[-6000:])
        if out.returncode != 0:
            fail("arrears demo exited %d: %s" % (out.returncode, out.stderr[-3000:]))
        if "refused by intake" in out.stdout and not re.search(r"refused by intake +0\b", out.stdout):
            fail("intake refused some of the world's records")
        total = check_report(out.stdout)
        if total != accounts:
            fail("the report counts %d accounts, the portfolio has %d" % (total, accounts))
        if "every process stopped" not in out.stdout or "not cleanly" in out.stdout:
            fail("the demo did not stop its processes cleanly")
        assert_none_left(work)
        print("PASS")
    finally:
        remove_run(work)


if __name__ == "__main__":
    main()
