#!/usr/bin/env python3
"""bench_outreach: tasks per second through the real outreach broker and WORKERS workers
(4 by default) to the file spool, durable: the broker's ledger and queue commits and the
spool's records synced. The broker runs on the wall clock under a profile open around
the clock with no caps (tests/integration/broker_rig.py), so every task is sendable at
once; its outcomes go to a minimal receiver that acknowledges them as staging would.

Not measured: N contact requests (default 20,000, one person each, spread over 20 time
zones) queued first through a reliable stream in staging's role (queue_per_s says how
fast the broker took them). Measured: from starting the workers until the receiver has
taken N outcomes.

  RESULT outreach tasks_per_s=... tasks=N workers=W seconds=... spooled=... queue_per_s=...

  bench_outreach.py BROKER WORKER ARREARS PROTO_DIR TEMPLATES [TASKS [WORKERS]]"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from broker_rig import BrokerRig  # noqa: E402

ZONES = ["Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "Europe/London", "Europe/Berlin",
         "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Africa/Lagos",
         "Australia/Sydney", "Pacific/Auckland", "Asia/Tokyo", "Asia/Singapore", "Asia/Dubai",
         "Europe/Moscow", "America/Chicago", "America/Mexico_City", "Asia/Jakarta",
         "Pacific/Kiritimati", "Pacific/Pago_Pago"]


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


def main():
    if len(sys.argv) < 6:
        raise SystemExit(__doc__)
    broker, worker, arrears, proto_dir, templates = sys.argv[1:6]
    count = int(sys.argv[6]) if len(sys.argv) > 6 else 20000
    workers = int(sys.argv[7]) if len(sys.argv) > 7 else 4
    rig = BrokerRig(broker, worker, arrears, proto_dir, templates, prefix="bout", log_level="warn")
    try:
        rig.start()
        started = time.monotonic()
        rig.feed(request(i) for i in range(count))
        queued_s = time.monotonic() - started
        started = time.monotonic()
        for _ in range(workers):
            rig.start_worker('log_level = "warn";')
        rig.wait(lambda: len(rig.receiver.bodies("contact_outcome")) >= count, 3600, "every outcome")
        took = time.monotonic() - started
        sent = sum(len(files) for _, _, files in os.walk(rig.path("spool")))
        print("RESULT outreach tasks_per_s=%.0f tasks=%d workers=%d seconds=%.2f spooled=%d "
              "queue_per_s=%.0f" % (count / took, count, workers, took, sent, count / queued_s),
              flush=True)
    finally:
        rig.close()


if __name__ == "__main__":
    main()
