"""crash_intake: a platform's upload survives intake being SIGKILLed twice and the
client itself being SIGKILLed and restarted from its state file; the result is the same
as a run with no kills.

Run 1 (crashes), one stream, a seeded portfolio (5,000 accounts, 2,500 payments, plus
complaints, contact updates and recalls) uploaded with the reference client's command
line (`arrears_client.py ... upload FILE --state FILE`):
  * intake is SIGKILLed mid-upload and restarted at once; the client keeps going
    (resends after its timeout; intake answers duplicates for what it had applied);
  * intake is SIGKILLed again; how far its inbox applied the stream is read from its
    LMDB file (mdb_dump); the client, still running, holds messages past that point in
    its state file (or writes more while intake is down); the client is SIGKILLed;
    intake restarts; the client restarts with the same state file and must resend the
    un-acked messages the file holds — some of which intake never applied — and then
    continue with the rest of the file;
  * then the staging stand-in (--status) takes everything intake forwards and reports
    it back; intake is SIGKILLed once more while it forwards, and restarted (its sender
    resends from its stored acked mark: the stand-in acks duplicates); when intake's
    outbox is drained and the feed complete, `intake dump`.
Run 2 (clean): the same file in a fresh directory, no kills, same steps, `intake dump`.
The two dumps must be identical: accounts and versions, payments, complaints, account
status, feed.

usage: crash_intake.py ARREARS INTAKE PROTO_PYTHON_DIR SEED"""
import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time

from harness import fail, wait_for
from intake_rig import CLIENT, IntakeRig, Portfolio, Stopwatch

ACCOUNTS, PAYMENTS, COMPLAINTS, CONTACTS, RECALLS = 5000, 2500, 150, 150, 60


class Lines:
    """A process's stdout lines, read by a thread, so waits can time out."""

    def __init__(self, proc):
        self.q, self.seen = queue.Queue(), []
        t = threading.Thread(target=self._read, args=(proc,), daemon=True)
        t.start()

    def _read(self, proc):
        for line in iter(proc.stdout.readline, b""):
            self.q.put(line.decode("utf-8", "replace").rstrip("\n"))
        self.q.put(None)

    def wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                fail("the client exited while waiting for %s; its output:\n%s" % (what, "\n".join(self.seen[-20:])))
            self.seen.append(line)
            value = predicate(line)
            if value:
                return value
        fail("timed out after %d s waiting for %s" % (timeout, what))


def acked_at_least(n):
    def pred(line):
        m = re.match(r"progress submitted=\d+ acked=(\d+)", line)
        return int(m.group(1)) if m and int(m.group(1)) >= n else None
    return pred


def done_line(line):
    m = re.match(r"upload done .* last_seq=(\d+) acked=(\d+) rejected=(\d+)", line)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def start_client(rig, data):
    argv = [sys.executable, CLIENT, "--proto-dir", rig.proto_dir, "--endpoint", rig.listen,
            "--server-key", rig.path("keys", "intake.pub"), "--key", rig.path("keys", "p1.key"),
            "--state", rig.path("p1.state"), "--window", "2000", "--resend-timeout", "0.5",
            "upload", data, "--progress", "250"]
    proc = rig.spawn(argv, "client.err", stdout=subprocess.PIPE)
    return proc, Lines(proc)


def inbox_position(rig, principal, stream_id):
    """How far intake's inbox has applied a stream, read from its LMDB file with
    mdb_dump while intake is down (table inbox.streams: principal NUL stream_id(be64) ->
    applied_through(be64) at(be64))."""
    out = subprocess.run(["mdb_dump", "-s", "inbox.streams", rig.path("data")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        fail("mdb_dump inbox.streams: " + out.stderr)
    lines = out.stdout.split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0].split()
    want = principal.encode() + b"\0" + stream_id.to_bytes(8, "big")
    for key, value in zip(lines[0::2], lines[1::2]):
        if bytes.fromhex(key) == want:
            return int.from_bytes(bytes.fromhex(value)[:8], "big")
    return 0


def state(rig):
    with open(rig.path("p1.state")) as f:
        return json.load(f)


def finish_client(rig, proc, lines):
    last_seq, acked, rejected = lines.wait(done_line, 120, "the upload to finish")
    print("  client: " + lines.seen[-1], flush=True)
    if proc.wait(timeout=30) != 0 or rejected or acked != last_seq:
        fail("the client ended with exit %s, acked %d of %d, %d rejected: %s\n%s" % (
            proc.returncode, acked, last_seq, rejected, "\n".join(lines.seen[-20:]),
            rig.log_text("client.err")[-2000:]))
    return last_seq


def expected_feed(pf):
    """Status events the stand-in reports: each account, payment and recalled account."""
    return len(pf.accounts) + len(pf.payments) + len({r["account_ref"] for r in pf.others
                                                      if r["type"] == "recall"})


def applied(rig):
    try:
        return sum(1 for e in rig.standin_log() if e.get("outcome") == "applied")
    except FileNotFoundError:
        return 0


def settle(rig, pf, sw, kill_at=None):
    """Runs the stand-in until intake's outbox is drained and the feed complete; dumps.
    kill_at: SIGKILL intake once the stand-in has applied that many events, restart it."""
    rig.start_standin(status=True)
    if kill_at:
        wait_for(lambda: applied(rig) >= kill_at, 60, "the stand-in to apply %d events" % kill_at)
        rig.kill(rig.intake)
        sw.lap("intake SIGKILLed while forwarding to staging (stand-in applied %d)" % applied(rig))
        rig.start_intake()
    s = rig.stream("p1")
    wait_for(lambda: s.health().outbox_unacked == 0, 120, "intake's outbox to staging to drain")
    total = expected_feed(pf)
    wait_for(lambda: s.feed(0, 1).last_cursor >= total, 120, "the feed to hold %d events" % total)
    rig.stop_standin()
    got = s.feed(0, 1).last_cursor
    if got != total:
        fail("the feed holds %d events, expected %d" % (got, total))
    rig.close_stream(s)
    rig.stop_intake()
    check_standin_log(rig)
    rows, text = rig.dump()
    sw.lap("stand-in done, feed complete (%d events), dump taken (%d lines)" % (total, len(rows)))
    return rows, text


def check_standin_log(rig):
    """Setting aside resends of a (stream, seq) (same content each time), staging got the
    seqs 1..N of one stream, each applied once."""
    log = rig.standin_log()
    by_seq = {}
    for e in log:
        first = by_seq.setdefault((e["stream_id"], e["seq"]), e)
        if first["digest"] != e["digest"]:
            fail("stream %d seq %d reached staging with two contents" % (e["stream_id"], e["seq"]))
    seqs = sorted(by_seq)
    if len({k[0] for k in seqs}) != 1 or [k[1] for k in seqs] != list(range(1, len(seqs) + 1)):
        fail("staging did not get one stream's seqs 1..N")
    n = sum(1 for e in log if e["outcome"] == "applied")
    if n != len(seqs):
        fail("staging applied %d events for %d distinct seqs" % (n, len(seqs)))
    print("  stand-in: %d arrivals, %d distinct (stream, seq), each applied once"
          % (len(log), len(seqs)), flush=True)


def crash_run(rig, pf, data, sw):
    total = len(pf.records())
    rig.start_intake()
    client, lines = start_client(rig, data)
    n = lines.wait(acked_at_least(total // 5), 120, "acked >= %d" % (total // 5))
    rig.kill(rig.intake)
    sw.lap("intake SIGKILLed at acked=%d of %d" % (n, total))
    rig.start_intake()
    n = lines.wait(acked_at_least(total // 2), 120, "acked >= %d after intake's restart" % (total // 2))
    rig.kill(rig.intake)
    applied = inbox_position(rig, "p1", state(rig)["stream_id"])
    sw.lap("intake SIGKILLed again at acked=%d (its inbox: applied through seq %d)" % (n, applied))
    # While intake is down the client goes on writing messages to its state file (it has
    # room: the window counts from its acked mark), which intake never gets.
    wait_for(lambda: state(rig)["last_seq"] > applied, 30,
             "the client's state file to hold messages intake never applied")
    rig.kill(client)
    st = state(rig)
    pending = len(st["pending"])
    if pending == 0 or st["last_seq"] <= applied or st["acked"] > applied:
        fail("the killed client's state file: acked %d, last seq %d; intake applied %d"
             % (st["acked"], st["last_seq"], applied))
    sw.lap("client SIGKILLed: its state file holds %d un-acked messages, seqs %d..%d; intake never "
           "applied %d..%d" % (pending, st["acked"] + 1, st["last_seq"], applied + 1, st["last_seq"]))
    rig.start_intake()
    client, lines = start_client(rig, data)
    m = lines.wait(lambda l: re.match(r"state .*: stream (\d+), (\d+) un-acked messages to resend", l),
                   30, "the restarted client to load its state")
    if int(m.group(1)) != st["stream_id"] or int(m.group(2)) != pending:
        fail("the restarted client resumed %s, expected stream %d with %d messages"
             % (m.group(0), st["stream_id"], pending))
    lines.wait(lambda l: l.startswith("resuming "), 30, "the restarted client to resume the file")
    last_seq = finish_client(rig, client, lines)
    sw.lap("the restarted client finished: stream %d, last seq %d" % (st["stream_id"], last_seq))
    final = state(rig)
    if final["pending"] or final["acked"] != last_seq:
        fail("the final state file still holds un-acked messages: acked %d of %d"
             % (final["acked"], final["last_seq"]))
    return settle(rig, pf, sw, kill_at=expected_feed(pf) // 3)


def clean_run(rig, pf, data, sw):
    rig.start_intake()
    client, lines = start_client(rig, data)
    finish_client(rig, client, lines)
    sw.lap("clean upload finished")
    return settle(rig, pf, sw)


def main():
    arrears, intake, proto_dir, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    print("crash_intake: seed=%d" % seed, flush=True)
    sw = Stopwatch("crash")
    pf = Portfolio(seed, ACCOUNTS, PAYMENTS, complaints=COMPLAINTS, contacts=CONTACTS, recalls=RECALLS)
    rigs = []
    try:
        crash = IntakeRig(arrears, intake, proto_dir, prefix="icr")
        rigs.append(crash)
        data = crash.path("portfolio.jsonl")
        pf.write_jsonl(data)
        sw.lap("%d records written" % len(pf.records()))
        rows1, text1 = crash_run(crash, pf, data, sw)
        clean = IntakeRig(arrears, intake, proto_dir, prefix="icl")
        rigs.append(clean)
        shutil.copy(data, clean.path("portfolio.jsonl"))
        rows2, text2 = clean_run(clean, pf, clean.path("portfolio.jsonl"), sw)
        compare(pf, rows1, rows2, text1, text2)
        print("PASS", flush=True)
    finally:
        for rig in rigs:
            rig.close()


def compare(pf, rows1, rows2, text1, text2):
    kinds = {}
    for k, _ in rows2:
        kinds[k] = kinds.get(k, 0) + 1
    print("  clean dump: %s" % ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items())), flush=True)
    accounts = sum(1 for k, _ in rows2 if k == "account")
    payments = sum(1 for k, _ in rows2 if k == "payment")
    if accounts != len(pf.accounts) or payments != len(pf.payments):
        fail("the clean run holds %d accounts and %d payments, expected %d and %d"
             % (accounts, payments, len(pf.accounts), len(pf.payments)))
    if text1 != text2:
        a, b = text1.splitlines(), text2.splitlines()
        only1 = [x for x in a if x not in set(b)][:3]
        only2 = [x for x in b if x not in set(a)][:3]
        fail("the crash run's dump differs from the clean run's (%d vs %d lines)\n"
             "only after crashes: %s\nonly in the clean run: %s" % (len(a), len(b), only1, only2))
    print("  the two dumps are identical (%d lines)" % len(rows1), flush=True)


if __name__ == "__main__":
    main()
