#!/usr/bin/env python3
"""bench_outreach: tasks per second through the real outreach broker and WORKERS workers
(4 by default) to the file spool, durable: the broker's ledger and queue commits and
each spool file synced. The broker runs on the wall clock under a bench profile that is
open around the clock with no caps, so every task is sendable at once; its outcomes go
to a minimal receiver here that acknowledges them as staging would.

Not measured: N contact requests (default 20,000, one person each, spread over 20 time
zones) are queued first, through a reliable stream from a principal with staging's role.
Measured: from starting the workers until the receiver has taken N outcomes.

  RESULT outreach tasks_per_s=... tasks=N workers=W seconds=... spooled=... queue_per_s=...

  bench_outreach.py BROKER WORKER ARREARS PROTO_DIR TEMPLATES [TASKS [WORKERS]]"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import zmq
import zmq.auth.thread

ZONES = ["Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "Europe/London", "Europe/Berlin",
         "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Africa/Lagos",
         "Australia/Sydney", "Pacific/Auckland", "Asia/Tokyo", "Asia/Singapore", "Asia/Dubai",
         "Europe/Moscow", "America/Chicago", "America/Mexico_City", "Asia/Jakarta",
         "Pacific/Kiritimati", "Pacific/Pago_Pago"]
PROFILE = """default = "bench";
profiles = ( { name = "bench"; window = { start = "00:00"; end = "24:00"; };
               languages = ( { language = "en"; banned = ["arrest"]; } ); } );
"""


class Receiver(threading.Thread):
    """staging's side of the broker's outbox: apply in order, ack cumulatively, count."""

    def __init__(self, ac, ctx, endpoint, keypair, allow):
        super().__init__(daemon=True)
        self.ac, self.outcomes, self.stop = ac, 0, False
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.curve_server = True
        self.sock.curve_publickey, self.sock.curve_secretkey = keypair
        self.sock.bind(endpoint)
        self.position = {}

    def run(self):
        pb = self.ac.envelope_pb2
        while not self.stop:
            if not self.sock.poll(100):
                continue
            acks = {}
            while True:
                try:
                    rid, data = self.sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                env = pb.Envelope.FromString(data)
                at = self.position.get(env.stream_id, 0)
                if env.seq == at + 1:
                    self.position[env.stream_id] = env.seq
                    self.outcomes += env.HasField("contact_outcome")
                acks[env.stream_id] = rid
            for sid, rid in acks.items():
                ack = pb.Envelope(stream_id=sid, ack=pb.Ack(through_seq=self.position.get(sid, 0)))
                self.ac.send_reply(self.sock, rid, ack)


def write_configs(ac, d, endpoints, templates):
    with open(os.path.join(d, "profiles.conf"), "w") as f:
        f.write(PROFILE)
    with open(os.path.join(d, "allowed.conf"), "w") as f:
        f.write('keys = ( { principal = "staging"; role = "service"; public = "%s"; },\n'
                '         { principal = "worker"; role = "worker"; public = "%s"; } );\n'
                % (pub(ac, d, "staging"), pub(ac, d, "worker")))
    with open(os.path.join(d, "outreach.conf"), "w") as f:
        f.write('data_dir = "data"; durability = "durable";\n'
                'keys = { own = "keys/outreach.key"; allowed = "allowed.conf"; secret = "keys/o.secret"; };\n'
                'create_secret = true; listen = "%s";\n'
                'staging = { endpoint = "%s"; public_key = "keys/staging.pub"; };\n'
                'profiles = "profiles.conf"; templates = "%s"; log_level = "warn";\n'
                'limits = { outbox_max_unacked = 1000000; batch_max = 1000; };\n'
                % (endpoints["broker"], endpoints["staging"], templates))
    with open(os.path.join(d, "worker.conf"), "w") as f:
        f.write('broker = { endpoint = "%s"; public_key = "keys/outreach.pub"; };\n'
                'keys = { own = "keys/worker.key"; }; name = "bench";\n'
                'channels = ["sms", "email", "letter", "call", "visit"]; spool = "spool";\n'
                'max_tasks = 64; idle_poll_ms = 5; log_level = "warn";\n' % endpoints["broker"])


def pub(ac, d, name):
    return ac.load_public(os.path.join(d, "keys", name + ".pub")).decode()


def request(i):
    import outreach_pb2
    import platform_pb2
    ref = "B-%07d" % i
    return outreach_pb2.ContactRequest(
        platform="bench", account_ref=ref, contact_id=ref + "#1", channel=outreach_pb2.SMS,
        template_id="early_sms_v1", priority=1 + i % 100, person_key=i.to_bytes(16, "big"),
        time_zone=ZONES[i % len(ZONES)], language="en", stage="early", days_past_due=10,
        outstanding_minor=123456, currency="USD", borrower_name="Bench " + ref,
        phones=[platform_pb2.ContactPoint(value="+1555%07d" % i, verified=True, consent=True)])


def wait(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.005)
    raise SystemExit("bench_outreach: timed out waiting for " + what)


def queue_tasks(ac, d, endpoints, count):
    """Every request applied by the broker (acknowledged), before any worker starts."""
    stream = ac.Stream(endpoints["broker"], ac.load_public(os.path.join(d, "keys", "outreach.pub")),
                       ac.load_keypair(os.path.join(d, "keys", "staging.key")), window=1000)
    started = time.monotonic()
    for i in range(count):
        stream.send(request(i))
    stream.flush(600)
    took = time.monotonic() - started
    stream.close(save=False)
    return took


def main():
    if len(sys.argv) < 6:
        raise SystemExit(__doc__)
    broker, worker, arrears, proto_dir, templates = sys.argv[1:6]
    count = int(sys.argv[6]) if len(sys.argv) > 6 else 20000
    workers = int(sys.argv[7]) if len(sys.argv) > 7 else 4
    sys.path[:0] = [proto_dir, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                            "clients", "python")]
    os.environ["ARREARS_PROTO_PYTHON"] = proto_dir
    import arrears_client as ac
    d = tempfile.mkdtemp(prefix="bout", dir="/tmp")
    procs, ctx = [], zmq.Context()
    try:
        os.mkdir(os.path.join(d, "keys"), 0o700)
        for name in ("outreach", "staging", "worker"):
            subprocess.run([arrears, "keygen", name, os.path.join(d, "keys")], check=True,
                           capture_output=True)
        endpoints = {"broker": "ipc://%s/broker.sock" % d, "staging": "ipc://%s/staging.sock" % d}
        write_configs(ac, d, endpoints, os.path.abspath(templates))
        auth = zmq.auth.thread.ThreadAuthenticator(ctx)
        auth.start()
        auth.configure_curve_callback("*", credentials_provider=ac.AllowKeys(
            [ac.load_public(os.path.join(d, "keys", "outreach.pub"))], "bench_outreach"))
        receiver = Receiver(ac, ctx, endpoints["staging"],
                            ac.load_keypair(os.path.join(d, "keys", "staging.key")), None)
        receiver.start()
        log = open(os.path.join(d, "broker.log"), "ab")
        procs.append(subprocess.Popen([broker, "--config", os.path.join(d, "outreach.conf")],
                                      stderr=log))
        wait(lambda: os.path.exists(os.path.join(d, "broker.sock")), 30, "the broker to bind")
        queued_s = queue_tasks(ac, d, endpoints, count)
        started = time.monotonic()
        for _ in range(workers):
            procs.append(subprocess.Popen([worker, "--config", os.path.join(d, "worker.conf")],
                                          stderr=log))
        wait(lambda: receiver.outcomes >= count, 3600, "every outcome")
        took = time.monotonic() - started
        sent = sum(len(files) for _, _, files in os.walk(os.path.join(d, "spool")))
        print("RESULT outreach tasks_per_s=%.0f tasks=%d workers=%d seconds=%.2f spooled=%d "
              "queue_per_s=%.0f" % (count / took, count, workers, took, sent, count / queued_s),
              flush=True)
        receiver.stop = True
        receiver.join()
        auth.stop()
    finally:
        for p in procs:
            p.kill()
            p.wait()
        ctx.destroy(linger=0)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
