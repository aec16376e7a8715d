"""cli_ops: the operator's CLI on the embedded default, as a person on call uses it.

`arrears up --simulated` starts every service; `status` shows each up; the demonstration
world acts for a few days (it moves the clock with `arrears simulate`); `account` shows
an account's book and timeline; `hold` and `lift-hold` are recorded on the timeline with
who (the operator's principal) and why; `correct-contact` is audited the same way,
counting the points it corrects and never showing them, and a bad phone is refused (exit
1) with the field and the reason, nothing recorded; an action without a reason, an unknown account
and a simulate on a wall-clock fleet are refused with a message saying what to do;
`report` prints the gathered figures; `down` stops everything and `status` then says so
(exit 3). No process of the run is left behind.

usage: cli_ops.py ARREARS_BINARY PROTO_DIR"""
import json
import os
import re
import subprocess
import sys
import tempfile

from harness import arrears_cli, assert_none_left, fail, remove_run

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = os.path.join(os.path.dirname(HERE), "clients", "python", "demo_world.py")




def check_actions(arrears, work, ref):
    out = arrears_cli(arrears, work, "account", "demo-platform", ref).stdout
    if "timeline (" not in out or " opened " not in out:
        fail("account shows no timeline:\n" + out)
    out = arrears_cli(arrears, work, "hold", "demo-platform", ref, want=2)
    if "--reason" not in out.stderr:
        fail("an action without a reason was not refused with what to do: " + out.stderr)
    arrears_cli(arrears, work, "hold", "demo-platform", ref, "--reason", "borrower in hospital, per call 12")
    arrears_cli(arrears, work, "lift-hold", "demo-platform", ref, "--hold", "manual",
        "--reason", "borrower back home")
    out = arrears_cli(arrears, work, "account", "demo-platform", ref).stdout
    held = [l for l in out.splitlines() if " operator " in l and "hold" in l]
    if len(held) < 2 or "hospital" not in out or "back home" not in out:
        fail("the hold and its lifting are not on the timeline with who and why:\n" + out[-3000:])
    out = arrears_cli(arrears, work, "account", "demo-platform", "NO-SUCH-REF", want=1)
    if "no account" not in out.stderr:
        fail("an unknown account is not said so: " + out.stderr)


def check_correct_contact(arrears, work, ref):
    arrears_cli(arrears, work, "correct-contact", "demo-platform", ref, "--phone", "+447700900123",
        "--email", "new.address@example.org", "--reason", "borrower called with a new number")
    out = arrears_cli(arrears, work, "account", "demo-platform", ref).stdout
    audited = [l for l in out.splitlines() if "corrected by operator" in l]
    if len(audited) != 1 or " operator " not in audited[0] or " updated " not in audited[0] \
            or "1 phone, 1 email" not in audited[0] or "new number" not in audited[0]:
        fail("correct-contact is not on the timeline with who, why and the counts:\n" + out[-3000:])
    if "+447700900123" in out or "example.org" in out:
        fail("correct-contact shows the personal values on the timeline:\n" + out[-3000:])
    bad = arrears_cli(arrears, work, "correct-contact", "demo-platform", ref, "--phone",
        "07700 900123", "--reason", "typo", want=1)
    if "refused" not in bad.stderr or "phones[0].value" not in bad.stderr:
        fail("a bad phone is not refused with the field and the reason: " + bad.stderr)
    out = arrears_cli(arrears, work, "account", "demo-platform", ref).stdout
    if out.count("corrected by operator") != 1:
        fail("a refused correct-contact left something on the timeline:\n" + out[-3000:])


def main():
    arrears, proto = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="cli", dir="/tmp")
    try:
        out = arrears_cli(arrears, work, "up", "--simulated", "--relaxed")
        out = arrears_cli(arrears, work, "status").stdout
        if len(re.findall(r"^\w+ +up ", out, re.M)) != 5 or "worker    running" not in out:
            fail("status does not show every service up:\n" + out)
        world = subprocess.run([sys.executable, WORLD, "--dir", work, "--arrears", arrears,
                                "--accounts", "60", "--seed", "5", "--days", "4",
                                "--proto-dir", proto], capture_output=True, text=True, timeout=600)
        if world.returncode != 0:
            fail("the world failed: %s%s" % (world.stdout[-3000:], world.stderr[-3000:]))
        with open(os.path.join(work, "world", "portfolio.jsonl")) as f:
            ref = json.loads(f.readline())["account_ref"]
        check_actions(arrears, work, ref)
        check_correct_contact(arrears, work, ref)
        out = arrears_cli(arrears, work, "report").stdout
        if "=== arrears report ===" not in out or "== sale ==" not in out:
            fail("report is incomplete:\n" + out)
        arrears_cli(arrears, work, "down")
        out = arrears_cli(arrears, work, "status", want=3).stdout
        if "6 service(s) stopped" not in out:
            fail("status after down:\n" + out)
        wall = work + "/wall"   # a fleet on the wall clock takes no simulation
        arrears_cli(arrears, wall, "up", "--relaxed")
        out = arrears_cli(arrears, wall, "simulate", "--days", "1", want=1)
        if "arrears up --simulated" not in out.stderr:
            fail("simulate on the wall clock does not say what to do: " + out.stderr)
        arrears_cli(arrears, wall, "down")
        assert_none_left(work)
        print("PASS")
    finally:
        remove_run(work)


if __name__ == "__main__":
    main()
