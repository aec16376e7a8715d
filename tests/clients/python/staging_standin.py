#!/usr/bin/env python3
"""staging_standin: a recording stand-in for the staging service, speaking the real
protocol, for tests of intake (and for platforms trying intake without the pipeline).

  staging_standin.py --endpoint E --key staging.key --allow intake.pub --log FILE
                     [--status --intake-endpoint E --state FILE]
                     [--proto-dir DIR] [--outbox-max N]

* Binds a ROUTER as a CURVE server with staging's key pair at E. Only intake's public
  key (--allow, repeatable) may connect: pyzmq's ThreadAuthenticator with a CURVE
  callback answers ZAP, and it is running before the socket binds (with no ZAP handler
  libzmq would accept every key). Any other key is refused at the handshake.
* Logs EVERY arrival, deduplicating nothing, as one JSON line flushed at once:
    {"t": ms, "principal": ..., "stream_id": ..., "seq": ..., "request_id": ...,
     "body": "account_event", "kind": "upsert|payment|contact|complaint|recall",
     "platform": ..., "account_ref": ..., "payment_ref": ..., "complaint_ref": ...,
     "version": ..., "digest": sha256 of the body, "outcome": "applied|duplicate|gap|
     rejected|busy|query|malformed"}
* Keeps an inbox per stream (in memory) as a receiver must: the next seq is applied and
  acknowledged (one cumulative Ack per stream per batch); an old seq is acknowledged as
  a duplicate; a seq ahead gets Reject(REWIND, GAP, expected_seq); a body other than
  AccountEvent gets Reject(PERMANENT, UNKNOWN_TYPE) and is consumed.
* With --status, sends intake one StatusEvent per NEWLY applied AccountEvent, over a
  reliable arrears_client.Stream (its state file written before each send, resends,
  acks) with staging's key, i.e. as principal "staging":
    upsert   -> ACCOUNT_ACCEPTED, stage "pre_due", currency, outstanding_minor
    payment  -> PAYMENT_APPLIED, amount_minor, currency, reference = payment_ref
    recall   -> CLOSED, detail "recalled", closed = true
  (contact updates and complaints cause none). The status events of a batch are written
  to the state file before the batch is acknowledged to intake. When more than
  --outbox-max status events are un-acked, new AccountEvents get Reject(RETRY_LATER,
  BUSY), as a service with a full outbox answers.
* SIGTERM or SIGINT: saves the stream state, closes the sockets and exits 0."""
import argparse
import hashlib
import json
import os
import signal
import sys

import zmq
import zmq.auth.thread

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


import arrears_client as ac  # noqa: E402  (takes --proto-dir from this command line)

envelope_pb2, platform_pb2, account_pb2 = ac.envelope_pb2, ac.platform_pb2, ac.account_pb2
Reject = envelope_pb2.Reject
BATCH_MAX = 1000


def status_for(ev):
    """The StatusEvent staging would report for a newly applied AccountEvent, or None."""
    kind = ev.WhichOneof("event")
    fe = platform_pb2.FeedEvent(account_ref=ev.account_ref, at_ms=ac.now_ms())
    st = account_pb2.StatusEvent(platform=ev.platform)
    if kind == "upsert":
        fe.kind = platform_pb2.ACCOUNT_ACCEPTED
        fe.stage = "pre_due"
        fe.currency = ev.upsert.currency
        fe.outstanding_minor = sum(i.principal_minor + i.interest_minor + i.fees_minor - i.paid_minor
                                   for i in ev.upsert.schedule)
    elif kind == "payment":
        fe.kind = platform_pb2.PAYMENT_APPLIED
        fe.amount_minor = ev.payment.amount_minor
        fe.currency = ev.payment.currency
        fe.reference = ev.payment.payment_ref
    elif kind == "recall":
        fe.kind = platform_pb2.CLOSED
        fe.detail = "recalled"
        st.closed = True
    else:
        return None
    st.event.CopyFrom(fe)
    return st


class Standin:
    def __init__(self, a):
        self.a = a
        self.log = open(a.log, "a", encoding="utf-8")
        self.inbox = {}            # (principal, stream_id) -> last applied seq
        self.applied = 0
        self.stop = False
        self.ctx = zmq.Context()
        self.auth = zmq.auth.thread.ThreadAuthenticator(self.ctx)
        self.auth.start()
        self.allow = ac.AllowKeys((ac.load_public(k) for k in a.allow), "standin")
        self.auth.configure_curve_callback("*", credentials_provider=self.allow)
        pub, sec = ac.load_keypair(a.key)
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.MAXMSGSIZE, ac.DEFAULT_MAX_MESSAGE_BYTES)
        self.router.setsockopt(zmq.HEARTBEAT_IVL, 1000)
        self.router.setsockopt(zmq.HEARTBEAT_TIMEOUT, 5000)
        self.router.curve_server = True
        self.router.curve_publickey, self.router.curve_secretkey = pub, sec
        self.router.bind(a.endpoint)
        self.stream = None
        if a.status:
            self.stream = ac.Stream(a.intake_endpoint, ac.load_public(a.allow[0]), (pub, sec),
                                    state_path=a.state, context=self.ctx,
                                    resend_timeout=a.resend_timeout)
        print("standin: ready endpoint=%s status=%s" % (a.endpoint, bool(a.status)),
              file=sys.stderr, flush=True)

    def record(self, entry):
        ac.write_log_line(self.log, entry)

    def take_batch(self):
        items = []
        while len(items) < BATCH_MAX:
            try:
                frames = self.router.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            if len(frames) != 2:
                continue
            try:
                principal = frames[1].get("User-Id")
            except zmq.ZMQError:
                principal = ""
            items.append((frames[0].bytes, principal, frames[1].bytes))
        if not items:
            return
        streams = {}    # key -> dict(last routing id, fresh, dup, advanced, gap)
        rejects = []    # (routing id, envelope)
        statuses = []
        for routing_id, principal, data in items:
            entry = {"principal": principal}
            env = envelope_pb2.Envelope()
            try:
                env.ParseFromString(data)
            except Exception:
                entry["outcome"] = "malformed"
                self.record(entry)
                rejects.append((routing_id, ac.reject_envelope(
                    0, 0, Reject.PERMANENT, Reject.MALFORMED, 0, "bytes that do not decode")))
                continue
            entry.update(stream_id=env.stream_id, seq=env.seq, request_id=env.request_id,
                         body=env.WhichOneof("body"))
            if env.HasField("account_event"):
                ev = env.account_event
                entry.update(kind=ev.WhichOneof("event"), platform=ev.platform,
                             account_ref=ev.account_ref,
                             digest=hashlib.sha256(ev.SerializeToString(deterministic=True)).hexdigest())
                if ev.HasField("version"):
                    entry["version"] = ev.version
                if ev.HasField("payment"):
                    entry["payment_ref"] = ev.payment.payment_ref
                    entry["amount_minor"] = ev.payment.amount_minor
                if ev.HasField("complaint"):
                    entry["complaint_ref"] = ev.complaint.complaint_ref
            if env.seq == 0 and env.request_id:
                entry["outcome"] = "query"
                self.record(entry)
                rejects.append((routing_id, self.answer_query(env)))
                continue
            if env.seq == 0 or env.stream_id == 0 or env.request_id:
                entry["outcome"] = "malformed"
                self.record(entry)
                rejects.append((routing_id, ac.reject_envelope(
                    0, env.request_id, Reject.PERMANENT, Reject.MALFORMED, 0,
                    "a stream message has stream_id and seq >= 1; a query seq 0 and request_id")))
                continue
            key = (principal, env.stream_id)
            s = streams.setdefault(key, dict(fresh=False, dup=False, advanced=False, gap=0,
                                             stalled=False))
            s["to"], s["stream_id"], s["last_seq"] = routing_id, env.stream_id, env.seq
            pos = self.inbox.get(key, 0)
            if s["stalled"]:
                entry["outcome"] = "busy"
            elif env.seq <= pos:
                entry["outcome"] = "duplicate"
                s["dup"] = True
            elif env.seq > pos + 1:
                entry["outcome"] = "gap"
                s["gap"] = pos + 1
            elif not env.HasField("account_event"):
                entry["outcome"] = "rejected"
                rejects.append((routing_id, ac.reject_envelope(
                    env.stream_id, 0, Reject.PERMANENT, Reject.UNKNOWN_TYPE, env.seq,
                    "staging takes account_event from intake", field="body")))
                self.inbox[key] = env.seq
                s.update(fresh=True, advanced=True, gap=0)
            elif self.stream is not None and self.stream.unacked + len(statuses) >= self.a.outbox_max:
                entry["outcome"] = "busy"
                s["stalled"] = True
                rejects.append((routing_id, ac.reject_envelope(
                    env.stream_id, 0, Reject.RETRY_LATER, Reject.BUSY, env.seq,
                    "the stand-in's status outbox to intake is full; resend later")))
            else:
                entry["outcome"] = "applied"
                self.inbox[key] = env.seq
                self.applied += 1
                s.update(fresh=True, advanced=True, gap=0)
                st = status_for(env.account_event) if self.stream is not None else None
                if st is not None:
                    statuses.append(st)
            self.record(entry)
        if statuses:
            self.stream.enqueue(statuses)   # in the state file before intake hears the Ack
        for routing_id, env in rejects:
            ac.send_reply(self.router, routing_id, env)
        for key, s in streams.items():
            if s["advanced"] or s["dup"]:
                env = envelope_pb2.Envelope(stream_id=s["stream_id"], sent_at_ms=ac.now_ms())
                env.ack.through_seq = self.inbox.get(key, 0)
                env.ack.duplicate = not s["fresh"]
                ac.send_reply(self.router, s["to"], env)
            if s["gap"] and not s["stalled"]:
                ac.send_reply(self.router, s["to"], ac.reject_envelope(
                    s["stream_id"], 0, Reject.REWIND, Reject.GAP, s["last_seq"],
                    "seq jumped ahead: resend from %d" % s["gap"], expected=s["gap"]))

    def answer_query(self, env):
        if env.HasField("health_query"):
            out = envelope_pb2.Envelope(request_id=env.request_id, sent_at_ms=ac.now_ms())
            out.health.service = "staging-standin"
            out.health.streams = len(self.inbox)
            out.health.outbox_unacked = self.stream.unacked if self.stream else 0
            out.health.dead_letters = len(self.stream.rejected) if self.stream else 0
            return out
        return ac.reject_envelope(0, env.request_id, Reject.PERMANENT, Reject.UNKNOWN_TYPE, 0,
                               "the stand-in answers health queries only")

    def run(self):
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        if self.stream:
            poller.register(self.stream.socket, zmq.POLLIN)
        while not self.stop:
            timeout = self.stream.wait_ms() if self.stream else 200
            try:
                ready = dict(poller.poll(min(timeout, 200)))
            except zmq.ZMQError:
                continue
            if self.router in ready:
                self.take_batch()
            if self.stream:
                self.stream.process_replies()
                self.stream.pump()
                if self.stream.stuck:
                    print("standin: status stream stuck: %s" % self.stream.stuck,
                          file=sys.stderr, flush=True)
                    return 1
        return 0

    def close(self):
        if self.stream:
            self.stream.close()
        self.router.close(0)
        self.auth.stop()
        self.ctx.term()
        self.log.close()


def main():
    p = argparse.ArgumentParser(description="recording stand-in for staging")
    p.add_argument("--endpoint", required=True, help="where staging listens (intake connects)")
    p.add_argument("--key", required=True, help="staging's key pair (.key)")
    p.add_argument("--allow", action="append", required=True,
                   help="intake's public key (.pub or z85); the first is also the key of "
                        "--intake-endpoint")
    p.add_argument("--log", required=True, help="the raw arrival log (JSON lines)")
    p.add_argument("--status", action="store_true", help="send StatusEvents back to intake")
    p.add_argument("--intake-endpoint", help="intake's listen endpoint (with --status)")
    p.add_argument("--state", help="state file of the status stream (with --status)")
    p.add_argument("--resend-timeout", type=float, default=2.0)
    p.add_argument("--outbox-max", type=int, default=20000)
    p.add_argument("--proto-dir", help="where envelope_pb2 etc. are")
    a = p.parse_args()
    if a.status and not (a.intake_endpoint and a.state):
        p.error("--status needs --intake-endpoint and --state")
    s = Standin(a)

    def on_signal(signum, frame):
        s.stop = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        rc = s.run()
    finally:
        s.close()
    print("standin: stopped applied=%d" % s.applied, file=sys.stderr, flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
