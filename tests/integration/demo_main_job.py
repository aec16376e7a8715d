"""demo_main_job: the README's main command, small: `arrears demo` starts intake, staging and
the stand-in for outreach, legal and sale; a synthetic platform uploads a portfolio through
the real socket API, reads its feed and asks staging for its report; the test asserts the
reports, the exit status, and that no process of the run is left behind.

usage: demo_main_job.py ARREARS_BINARY ACCOUNTS"""
import re
import shutil
import subprocess
import sys
import tempfile

from harness import fail


def main():
    arrears, accounts = sys.argv[1], int(sys.argv[2])
    work = tempfile.mkdtemp(prefix="demo", dir="/tmp")
    try:
        out = subprocess.run([arrears, "demo", "--accounts", str(accounts), "--seed", "3",
                              "--dir", work], capture_output=True, text=True, timeout=600)
        print(out.stdout)
        if out.returncode != 0:
            fail("arrears demo exited %d: %s" % (out.returncode, out.stderr[-2000:]))
        m = re.search(r"ACCOUNT_ACCEPTED +(\d+) +\(expected (\d+)\)", out.stdout)
        if not m or int(m.group(1)) != accounts or int(m.group(2)) != accounts:
            fail("the feed did not report every account")
        m = re.search(r"demo-platform CNY: (\d+) accounts", out.stdout)
        if not m or int(m.group(1)) == 0:
            fail("staging's report shows no CNY accounts")
        if "every process stopped" not in out.stdout:
            fail("the demo did not say it stopped its processes")
        left = subprocess.run(["pgrep", "-f", work], capture_output=True, text=True).stdout
        if left.strip():
            fail("processes of the run are still alive: " + left)
        print("PASS")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
