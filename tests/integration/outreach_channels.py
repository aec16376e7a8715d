#!/usr/bin/env python3
"""outreach_channels: e-mail over SMTP to a real SMTP server (aiosmtpd) and SMS through
an HTTP gateway (a local HTTP server), both started by the test, from a real broker and
worker (tests/integration/broker_rig.py: wall clock, a profile open around the clock).

  1. Both channels down (nothing listens yet): every attempt comes back "channel down",
     the worker rests each channel longer each time, nothing is delivered, nothing lost.
  2. The servers start on those ports: every task is delivered exactly once — each
     e-mail's Message-ID (the idempotency key, hex) arrives once, each SMS key is POSTed
     once, every outcome reaches the staging side, every task is done at the broker.
  3. A refusal for good: the SMTP server answers 550 to one recipient: FAILED, not retried.
  4. A lost answer: the gateway takes one SMS but answers after the worker's timeout. The
     worker reports nothing; the lease runs out; a worker looks the key up at the
     gateway's status URL, finds it, and it is DELIVERED — never POSTed a second time.

  outreach_channels.py BROKER WORKER ARREARS PROTO_DIR TEMPLATES"""
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_rig import BrokerRig  # noqa: E402
from harness import fail  # noqa: E402

EMAILS, SMS = 12, 12
SLOW_KEY = "p/S-0003#1#1"
REFUSED = "refuse@example.com"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every message; one recipient is refused for good."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"


class Gateway(BaseHTTPRequestHandler):
    """An SMS gateway with idempotency keys and a status URL; one key answers late."""
    posts, taken = [], {}

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Gateway.posts.append(body["key"])
        Gateway.taken.setdefault(body["key"], body)
        if body["key"] == SLOW_KEY:
            time.sleep(1.5)   # past the worker's timeout: its answer is lost
        try:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps({"id": "gw-%d" % len(Gateway.taken)}).encode())
        except BrokenPipeError:
            pass   # the slow key's caller gave up waiting, as intended

    def do_GET(self):
        key = parse_qs(urlparse(self.path).query).get("key", [""])[0]
        self.send_response(200 if key in Gateway.taken else 404)
        self.end_headers()


def requests():
    import outreach_pb2
    import platform_pb2
    out = []
    for i in range(EMAILS + SMS):
        email = i < EMAILS
        ref = ("E-%04d" if email else "S-%04d") % (i if email else i - EMAILS)
        to = REFUSED if i == 5 else "b.%s@example.com" % ref.lower()
        out.append(outreach_pb2.ContactRequest(
            platform="p", account_ref=ref, contact_id=ref + "#1",
            channel=outreach_pb2.EMAIL if email else outreach_pb2.SMS,
            template_id="early_email_v1" if email else "early_sms_v1", priority=10,
            person_key=i.to_bytes(16, "big"), time_zone="Europe/London", language="en",
            stage="early", days_past_due=9, outstanding_minor=5000, currency="GBP",
            borrower_name="Borrower " + ref,
            emails=[platform_pb2.ContactPoint(value=to, verified=True, consent=True)],
            phones=[platform_pb2.ContactPoint(value="+4477009%05d" % i, verified=True, consent=True)]))
    return out


def main():
    if len(sys.argv) != 6:
        fail(__doc__)
    smtp_port, http_port = free_port(), free_port()
    rig = BrokerRig(*sys.argv[1:6], prefix="chn", lease_ms=2000)
    mailbox, smtp, http = Mailbox(), None, None
    try:
        rig.start()
        rig.feed(requests())
        rig.start_worker(
            'reply_timeout_ms = 1000; rest_initial_ms = 100; rest_max_ms = 800;\n'
            'adapters = {\n'
            '  email = { kind = "smtp"; url = "smtp://127.0.0.1:%d"; from = "collections@example.com";'
            ' timeout_ms = 3000; };\n'
            '  sms = { kind = "http"; url = "http://127.0.0.1:%d/sms";'
            ' status_url = "http://127.0.0.1:%d/status"; timeout_ms = 500; };\n};'
            % (smtp_port, http_port, http_port), channels='"sms", "email"')
        # 1. down: the worker rests both channels, longer each time; nothing delivered
        rig.wait(lambda: all(len(rests_of(rig, c)) >= 3 for c in (1, 2)), 60,
                 "both channels found down at least three times")
        for channel in (1, 2):
            rests = rests_of(rig, channel)
            if rests[:3] != [100, 200, 400] or max(rests) > 800:
                fail("channel %d's rests do not double from 100 ms up to 800 ms: %r" % (channel, rests))
        if any(o.result == o.DELIVERED for o in rig.receiver.bodies("contact_outcome")):
            fail("something was delivered while both channels were down")
        # 2. up
        smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        http = ThreadingHTTPServer(("127.0.0.1", http_port), Gateway)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        rig.wait(lambda: len(rig.receiver.bodies("contact_outcome")) >= EMAILS + SMS, 120, "every outcome")
        check(rig, mailbox)
    finally:
        if smtp:
            smtp.stop()
        if http:
            http.shutdown()
        rig.close()
    print("ok")


def rests_of(rig, channel):
    """The rests the worker gave a channel it found down, in order."""
    return [int(line.split("rest_ms=")[1].split()[0]) for line in rig.log_text("worker0").splitlines()
            if "event=channel_down" in line and " channel=%d " % channel in line]


def check(rig, mailbox):
    import outreach_pb2
    results = {o.contact_id: o.result for o in rig.receiver.bodies("contact_outcome")}
    if len(rig.receiver.bodies("contact_outcome")) != EMAILS + SMS:
        fail("outcomes: %d for %d tasks" % (len(rig.receiver.bodies("contact_outcome")), EMAILS + SMS))
    if results.get("E-0005#1") != outreach_pb2.FAILED:
        fail("the refused recipient is not FAILED: %r" % results.get("E-0005#1"))
    others = {k: v for k, v in results.items() if k != "E-0005#1"}
    if any(v != outreach_pb2.DELIVERED for v in others.values()):
        fail("not all delivered: %r" % others)
    ids = [line.split(":", 1)[1].strip() for _, text in mailbox.messages
           for line in text.splitlines() if line.lower().startswith("message-id:")]
    keys = sorted(bytes.fromhex(i.strip("<>").split("@")[0]).decode() for i in ids)
    want = sorted("p/E-%04d#1#1" % i for i in range(EMAILS) if i != 5)
    if keys != want:
        fail("the SMTP server got %r, wanted each of %r once" % (keys, want))
    if sorted(Gateway.posts) != sorted("p/S-%04d#1#1" % i for i in range(SMS)):
        fail("the gateway got POSTs %r: each key once" % sorted(Gateway.posts))
    if "kind=resolve" not in rig.log_text("broker"):
        fail("the SMS whose answer was lost was not looked up after its lease")
    states = [json.loads(line)["task"]["state"] for line in rig.dump().splitlines()
              if json.loads(line).get("table") == "task"]
    if set(states) != {"TASK_DONE"}:
        fail("tasks not all done at the broker: %r" % states)
    print("smtp %d messages, gateway %d keys, %d outcomes; rests %s" % (
        len(mailbox.messages), len(Gateway.taken), len(results), "ok"))


if __name__ == "__main__":
    main()
