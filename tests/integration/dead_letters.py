"""dead_letters: `arrears dead-letters` on the embedded default, with real dead letters.

How the dead letters are made, deterministically: intake is restarted with an allowed
keys file that gives staging's key the role "platform" (a key's role is fixed when its
connection is made, so intake is started afresh, by this test, on the embedded
default's own configuration). Intake then refuses every StatusEvent staging sends as
UNAUTHORIZED ("status events come from arrears' own services, not from platforms"), a
PERMANENT refusal, so staging moves each to the dead-letter table of its outbox
"to_intake". A small demonstration world (a few accounts, one day) makes staging send
some. Then intake is put back as `arrears up` starts it (staging is a service again).

Checks: the list (every service, and one) shows them with code and reason and no body;
inspect decodes one (its body type, the Envelope as JSON); replay with a reason puts it
back in the outbox — staging's Health dead_letters count drops by one and stays down
(intake takes it now), and staging's log names who and why with the new seq —; discard
removes another (the count drops again, logged); a wrong seq, an unknown outbox, an
action without --reason and a SEQ that is no number are refused with a message saying
what to do (exit 1, 1, 2, 2) and change nothing; a platform's key cannot list them
(UNAUTHORIZED, exit 1). Every process and the temporary folder are cleaned up.

usage: dead_letters.py ARREARS_BINARY INTAKE_BINARY PROTO_DIR"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from harness import arrears_cli, fail, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = os.path.join(os.path.dirname(HERE), "clients", "python", "demo_world.py")
REFUSAL = "status events come from arrears' own services"




def staging_health(arrears, work):
    """staging's Health (unacked, dead_letters), as `arrears status` prints them."""
    out = arrears_cli(arrears, work, "status", want=None).stdout
    m = re.search(r"^staging +up +\d+ +\d+ +\d+ +(\d+) +(\d+)", out, re.M)
    if not m:
        fail("status shows no staging line:\n" + out)
    return int(m.group(1)), int(m.group(2))


def staging_dead(arrears, work):
    return staging_health(arrears, work)[1]


def listed(arrears, work, *service):
    """(outbox, seq, code, body, reason) of every row of `arrears dead-letters`."""
    out = arrears_cli(arrears, work, "dead-letters", *service).stdout
    rows = []
    for line in out.splitlines()[1:-1]:
        f = line.split(None, 5)
        rows.append((f[0], f[1], int(f[2]), f[3], f[4], f[5] if len(f) > 5 else ""))
    return rows, out


def start_refusing_intake(arrears, intake, work):
    """intake again, on its own config, with staging's key as a platform's."""
    arrears_cli(arrears, work, "stop", "intake")
    allowed = os.path.join(work, "keys", "intake-allowed.conf")
    with open(allowed) as f:
        text = f.read()
    doctored = re.sub(r'(principal = "staging"; role = )"service"', r'\1"platform"', text)
    if doctored == text:
        fail("cannot find staging's entry in " + allowed + ":\n" + text)
    with open(allowed, "w") as f:
        f.write(doctored)
    log = open(os.path.join(work, "log", "intake-refusing.log"), "w")
    proc = subprocess.Popen([intake, "--config", os.path.join(work, "intake.conf")],
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    with open(os.path.join(work, "run", "intake.pid"), "w") as f:
        f.write("%d\n" % proc.pid)   # so `arrears down` stops it too if this test fails
    wait_for(lambda: arrears_cli(arrears, work, "dead-letters", "intake", want=None).returncode == 0,
             60, "the refusing intake to answer")
    return proc


def make_dead_letters(arrears, intake, proto, work):
    proc = start_refusing_intake(arrears, intake, work)
    world = subprocess.run([sys.executable, WORLD, "--dir", work, "--arrears", arrears,
                            "--accounts", "8", "--seed", "3", "--days", "1",
                            "--proto-dir", proto], capture_output=True, text=True, timeout=600)
    if world.returncode != 0:
        fail("the world failed: %s%s" % (world.stdout[-3000:], world.stderr[-3000:]))
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    arrears_cli(arrears, work, "up", "--relaxed")   # intake back, staging's role "service" again


def wait_settled(arrears, work, dead):
    """staging has nothing unacknowledged and `dead` dead letters: what it sent was taken."""
    wait_for(lambda: staging_health(arrears, work) == (0, dead), 60,
             "staging with nothing unacknowledged and %d dead letters" % dead)


def check_list_and_inspect(arrears, work):
    rows, out = listed(arrears, work)
    dead = [r for r in rows if r[0] == "staging" and r[1] == "to_intake"]
    if len(dead) < 2 or any(r[3] != "UNAUTHORIZED" or REFUSAL not in r[5] for r in dead):
        fail("the list does not show staging's dead letters with their reason:\n" + out)
    if [r for r in rows if r[0] != "staging"]:
        fail("dead letters where none were made:\n" + out)
    if any(r[4] != "status_event" for r in dead):
        fail("the list does not name the body type:\n" + out)
    only, out1 = listed(arrears, work, "staging")
    if only != rows:
        fail("`dead-letters staging` differs from the whole list:\n" + out1)
    seq = dead[0][2]
    out = arrears_cli(arrears, work, "dead-letters", "staging", "inspect", "to_intake", str(seq)).stdout
    lines = out.splitlines()
    if "UNAUTHORIZED" not in lines[0] or "body status_event" not in lines[1]:
        fail("inspect header:\n" + out)
    env = json.loads(lines[2][len("envelope: "):])
    if int(env["seq"]) != seq or "status_event" not in env or "platform" not in env["status_event"]:
        fail("inspect does not decode the whole envelope:\n" + out)
    return [r[2] for r in dead]


def check_actions(arrears, work, seqs):
    wait_settled(arrears, work, len(seqs))
    n = staging_dead(arrears, work)
    if n != len(seqs):
        fail("Health counts %d dead letters, the list %d" % (n, len(seqs)))
    why = "intake trusts staging again, ticket 42"
    arrears_cli(arrears, work, "dead-letters", "staging", "replay", "to_intake", str(seqs[0]), "--reason", why)
    wait_settled(arrears, work, n - 1)   # replayed, and taken: it did not die again
    with open(os.path.join(work, "log", "staging.log")) as f:
        log = f.read()
    pat = (r'event=dead_letter_replayed outbox=to_intake seq=%d new_seq=\d+ by=operator '
           r'reason="%s"' % (seqs[0], why))
    if not re.search(pat, log):
        fail("staging's log does not name the replay with who and why")
    arrears_cli(arrears, work, "dead-letters", "staging", "discard", "to_intake", str(seqs[1]),
        "--reason", "obsolete")
    wait_settled(arrears, work, n - 2)
    with open(os.path.join(work, "log", "staging.log")) as f:
        if "event=dead_letter_discarded outbox=to_intake seq=%d by=operator reason=obsolete" \
                % seqs[1] not in f.read():
            fail("staging's log does not name the discard")


def check_refusals(arrears, work):
    n = staging_dead(arrears, work)
    out = arrears_cli(arrears, work, "dead-letters", "staging", "replay", "to_intake", "999999",
              "--reason", "x", want=1)
    if "no dead letter 999999" not in out.stderr or "lists its dead letters" not in out.stderr:
        fail("a wrong seq is not refused with what to do: " + out.stderr)
    out = arrears_cli(arrears, work, "dead-letters", "staging", "discard", "to_nowhere", "1",
              "--reason", "x", want=1)
    if "to_intake" not in out.stderr:
        fail("an unknown outbox is not refused with the outboxes there are: " + out.stderr)
    out = arrears_cli(arrears, work, "dead-letters", "staging", "discard", "to_intake", "1", want=2)
    if "--reason" not in out.stderr:
        fail("an action without a reason is not refused with what to do: " + out.stderr)
    out = arrears_cli(arrears, work, "dead-letters", "staging", "inspect", "to_intake", "abc", want=2)
    if "SEQ" not in out.stderr:
        fail("a SEQ that is no number: " + out.stderr)
    out = arrears_cli(arrears, work, "dead-letters", "intake", "--as", "demo-platform", want=1)
    if "UNAUTHORIZED" not in out.stderr:
        fail("a platform's key lists dead letters: " + out.stdout + out.stderr)
    if staging_dead(arrears, work) != n:
        fail("a refused action changed the dead letters")


def main():
    arrears, intake, proto = sys.argv[1], sys.argv[2], sys.argv[3]
    work = tempfile.mkdtemp(prefix="deadl", dir="/tmp")
    try:
        arrears_cli(arrears, work, "up", "--simulated", "--relaxed")
        out = arrears_cli(arrears, work, "dead-letters").stdout
        if not out.rstrip().endswith("0 dead letter(s)"):
            fail("a fresh fleet lists dead letters:\n" + out)
        make_dead_letters(arrears, intake, proto, work)
        seqs = check_list_and_inspect(arrears, work)
        check_actions(arrears, work, seqs)
        check_refusals(arrears, work)
        arrears_cli(arrears, work, "down")
    finally:
        subprocess.run([arrears, "down", "--dir", work], capture_output=True, timeout=120)
        shutil.rmtree(work, ignore_errors=True)
    print("dead_letters: ok")


if __name__ == "__main__":
    main()
