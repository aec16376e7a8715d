#!/usr/bin/env python3
"""arrears_client: the reference client a loan platform uses to talk to arrears intake.

Copy this one file. It needs only pyzmq (with CURVE; Debian: python3-zmq), the protobuf
runtime (python3-protobuf) and the Python modules protoc generates from arrears'
proto/*.proto (`protoc --python_out=DIR envelope.proto platform.proto account.proto
demo.proto`): put DIR on sys.path, in the environment variable ARREARS_PROTO_PYTHON, or
pass --proto-dir DIR to the command line.

What a platform needs from arrears
----------------------------------
  * intake's endpoint (e.g. tcp://intake.example:7401) and intake's public key
    (a file `intake.pub` holding `public = "<40 z85 chars>";`);
  * its own CURVE key pair: `arrears keygen myplatform DIR` writes DIR/myplatform.key
    (`public = "..."; secret = "...";`, keep it secret) and DIR/myplatform.pub, which
    the arrears operator adds to intake's keys file with role "platform". Your principal
    (the name you are known by) comes from that key, never from a message.

How it works
------------
A `Stream` is one CURVE DEALER connection carrying one ordered stream of state changes
(accounts, payments, contact updates, complaints, recalls) with seqs 1, 2, 3, ... Each
message is written to the stream's state file (JSON; tmp file + fsync + rename, so a
crash leaves the old or the new file, never half of one) BEFORE it is put on the wire.
intake answers with cumulative Acks ("applied through seq N"); acked messages are
forgotten. A client restarted after a crash reopens its state file and resends every
message not yet acked: intake applies each seq exactly once, so resends are harmless.

Replies and what the Stream does:
  Ack(through N)              drop everything up to N; `duplicate` just means a resend;
  Reject PERMANENT (seq S)    S can never be applied (invalid field, conflict, ...): it
                              is recorded in `stream.rejected` (seq, code, field,
                              reason, the message's kind and ref) and in the state file, and dropped;
                              fix the data and send a corrected message;
  Reject REWIND (GAP, E)      intake expects seq E: resend from E;
  Reject RETRY_LATER          intake is busy: wait (doubling, capped) and resend;
  no reply for resend_timeout resend from the first un-acked message (a reconnect loses
                              what was in flight).
At most `window` messages are in flight. Queries (`account_status`, `feed`, `health`)
are request/reply with a request id and change nothing.

Without a state file a Stream starts a new stream (random stream id) each run. That is
safe too: arrears deduplicates accounts and payments by their refs (an identical upsert
changes nothing; a payment ref seen with the same content is a duplicate, with
different content a CONFLICT).

Python use
----------
    import arrears_client as ac
    s = ac.Stream("tcp://intake:7401", ac.load_public("intake.pub"),
                  ac.load_keypair("me.key"), state_path="me.stream.json")
    s.enqueue([ac.platform_pb2.AccountUpsert(account_ref="L-1", ...)])
    s.flush(timeout=60)                  # every message acked (or rejected)
    print(s.rejected)                    # what intake refused, and why
    print(s.account_status("L-1"))       # AccountStatus
    page = s.feed(after=0, max_events=100)   # FeedPage; keep the last cursor you processed
    s.close()

Command line
------------
  arrears_client.py --endpoint E --server-key intake.pub --key me.key [--state FILE]
                    upload FILE | status REF | feed [--after N] [--follow] | health

`upload` sends a JSON-lines (.jsonl/.json) or CSV (.csv) file and waits until every
message is acked; it prints `rejected {...}` lines for what intake refused and exits 1
if anything was. With --state, the state file also remembers how many records of the
file (by content hash) were taken, so an upload killed half way and started again with
the same command resumes: it resends what was not acked and continues with the rest.
`feed` prints events as JSON lines; --follow keeps polling.

JSON-lines format: one object per line, "type" plus the fields of the message exactly as
named in proto/platform.proto (enums by name, int64 as numbers):
  {"type": "account", "account_ref": "L-1", "product": "ONLINE_LOAN", "currency": "CNY",
   "borrower": {"name": "...", "id_number_hash": "<64 hex chars>", "time_zone":
   "Asia/Shanghai", "phones": [{"value": "+8613800138000", "verified": true}]},
   "schedule": [{"due_date": "2026-01-05", "principal_minor": 100000}], "opened_date": ...}
  {"type": "payment", "account_ref": "L-1", "payment_ref": "P-9", "amount_minor": 5000,
   "currency": "CNY", "paid_at_ms": 1767225600000, "channel": "WALLET"}
  {"type": "contact", ...ContactUpdate}   {"type": "complaint", ...Complaint}
  {"type": "recall", "account_ref": "L-1", "reason": "..."}
Conveniences: borrower.id_number_hash may be 64 hex characters (or base64, as the
protobuf JSON mapping has it); "id_number" (clear text) instead is hashed here with
SHA-256 and never sent; "paid_at" / "received_at" may be ISO 8601 instants
("2026-01-05T10:00:00Z") instead of the *_ms fields.

CSV format: a header row naming any of the columns below, in any order; an empty cell
means "not given". Column `type` says what a row is: account (or empty), payment,
complaint, recall.
  account rows: ONE ROW PER INSTALMENT; rows with the same account_ref build one
    account. Account-level columns may be repeated on every row or given on the first
    only (a different value on a later row is an error):
      account_ref, product, currency, borrower_name, id_number_hash (64 hex) or
      id_number (hashed here), phones and emails (several separated by ';'),
      contact_verified, contact_consent (true/false, for every phone and e-mail of the
      account), address_line1, address_line2, city, region, postal_code, country,
      time_zone, language, opened_date, interest_bps, interest_period, penalty_bps,
      penalty_period, penalty_cap_bps, bankrupt, deceased, vulnerable, cease_contact,
      may_refer_to_legal, may_sell
    instalment columns: due_date, principal_minor, interest_minor, fees_minor,
      paid_minor (instalments in file order, which must be increasing due dates)
  payment rows: account_ref, payment_ref, amount_minor, currency, paid_at_ms or
    paid_at, channel
  complaint rows: account_ref, complaint_ref, kind, category, text, received_at_ms or
    received_at
  recall rows: account_ref, reason
  Every account of the file is sent first (in order of first appearance), then the
  other rows in file order.
Amounts are always integer minor units of the account's currency (cents, fen; yen have
none), never decimals."""
import base64
import csv
import datetime
import hashlib
import json
import os
import random
import re
import sys
import time

import zmq


def _proto_dir_from_argv():
    for i, arg in enumerate(sys.argv[:-1]):
        if arg == "--proto-dir":
            return sys.argv[i + 1]
    return None


# The generated modules: `--proto-dir DIR` on the command line of the program that
# imports this module (the client itself, the stand-ins), else $ARREARS_PROTO_PYTHON.
_PROTO_DIR = _proto_dir_from_argv() or os.environ.get("ARREARS_PROTO_PYTHON")
if _PROTO_DIR and _PROTO_DIR not in sys.path:
    sys.path.insert(0, _PROTO_DIR)

import envelope_pb2  # noqa: E402
import platform_pb2  # noqa: E402
import account_pb2  # noqa: E402,F401  (StatusEvent, AccountEvent: services' bodies)
from google.protobuf import json_format  # noqa: E402

Reject = envelope_pb2.Reject

# Which Envelope body field carries which message type, from the contract itself: a
# body added to envelope.proto is known here without an edit.
BODY_FIELD = {f.message_type.name: f.name
              for f in envelope_pb2.Envelope.DESCRIPTOR.oneofs_by_name["body"].fields}

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024   # intake's ZMQ_MAXMSGSIZE default
STATE_VERSION = 1


# ---- keys ---------------------------------------------------------------------------

_PUBLIC_RE = re.compile(r'public\s*=\s*"([^"]{40})"\s*;')
_SECRET_RE = re.compile(r'secret\s*=\s*"([^"]{40})"\s*;')


def load_keypair(path):
    """(public, secret) z85 keys as bytes from an `arrears keygen` NAME.key file."""
    with open(path) as f:
        text = f.read()
    pub, sec = _PUBLIC_RE.search(text), _SECRET_RE.search(text)
    if not pub or not sec:
        raise ValueError("%s: expected `public = \"...\"; secret = \"...\";` (40 z85 "
                         "characters each), as `arrears keygen` writes" % path)
    return pub.group(1).encode(), sec.group(1).encode()


def load_public(path_or_key):
    """A z85 public key as bytes: from a NAME.pub / NAME.key file, or the key itself."""
    if isinstance(path_or_key, bytes):
        path_or_key = path_or_key.decode()
    if len(path_or_key) == 40 and not os.path.exists(path_or_key):
        return path_or_key.encode()
    with open(path_or_key) as f:
        m = _PUBLIC_RE.search(f.read())
    if not m:
        raise ValueError("%s: no `public = \"...\";` line" % path_or_key)
    return m.group(1).encode()


# ---- errors -------------------------------------------------------------------------

# ---- for receivers written in Python (the stand-ins) ---------------------------------

class AllowKeys:
    """ZAP CURVE callback for pyzmq's ThreadAuthenticator: only the listed z85 public
    keys; each refusal is counted and said on stderr under `name`."""

    def __init__(self, keys, name):
        self.keys = set(keys)
        self.name = name
        self.denied = 0

    def callback(self, domain, key):
        ok = key in self.keys
        if not ok:
            self.denied += 1
            print("%s: zap_denied public_key=%s" % (self.name, key.decode(errors="replace")),
                  file=sys.stderr, flush=True)
        return ok


def reject_envelope(stream_id, request_id, klass, code, seq, reason, expected=0, field=""):
    """A Reject as a receiver answers: for a stream (stream_id, seq) or a query."""
    env = envelope_pb2.Envelope(sent_at_ms=now_ms())
    if stream_id:
        env.stream_id = stream_id
    if request_id:
        env.request_id = request_id
    r = env.reject
    r.seq, r.reject_class, r.code, r.reason = seq, klass, code, reason
    if expected:
        r.expected_seq = expected
    if field:
        r.field = field
    return env


def send_reply(router, routing_id, env):
    """A reply on a ROUTER; a peer that has gone resends, so a failed send is dropped."""
    try:
        router.send_multipart([routing_id, env.SerializeToString()], zmq.NOBLOCK)
    except zmq.ZMQError:
        pass


def write_log_line(log, entry):
    """One JSON line, stamped and flushed at once (a test may read it any moment)."""
    entry["t"] = now_ms()
    log.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
    log.flush()


class ArrearsError(Exception):
    pass


class QueryRejected(ArrearsError):
    """A query was refused; .reject is the Reject (code, reason, expected_seq)."""

    def __init__(self, reject):
        self.reject = reject
        super().__init__("%s: %s%s" % (
            Reject.Code.Name(reject.code) if reject.code else "?", reject.reason,
            " (expected_seq=%d)" % reject.expected_seq if reject.HasField("expected_seq") else ""))

    @property
    def code(self):
        return self.reject.code


class StreamStuck(ArrearsError):
    """The stream cannot go on without a person (e.g. the receiver is ahead of it)."""


class AuthRefused(ArrearsError):
    """intake refused our CURVE key at the handshake (unknown or removed key)."""


def now_ms():
    return int(time.time() * 1000)


def body_name(msg):
    return BODY_FIELD[type(msg).__name__]


def natural_ref(env):
    """(kind, ref) naming what an envelope carries, for reports."""
    kind = env.WhichOneof("body")
    if kind is None:
        return None, None
    body = getattr(env, kind)
    for field in ("payment_ref", "complaint_ref", "account_ref"):
        if hasattr(body, field) and body.HasField(field):
            return kind, getattr(body, field)
    if kind == "status_event" and body.HasField("event"):
        return kind, body.event.account_ref
    return kind, None


# ---- the stream ---------------------------------------------------------------------

class Stream:
    """One ordered stream over one CURVE DEALER connection, with its state file.

    endpoint       intake's endpoint ("tcp://host:7401", "ipc:///path")
    server_public  intake's z85 public key (bytes or str)
    keypair        (public, secret) z85 keys: ours
    state_path     the JSON state file (stream id, next seq, un-acked messages, rejects,
                   notes); None: a new stream each time, nothing kept
    window         messages in flight (sent, not acked) at most
    resend_timeout seconds without progress before resending from the first un-acked
    backoff_initial, backoff_max   the RETRY_LATER wait: starts here, doubles, capped
    max_message_bytes  larger messages are refused at enqueue (intake's ZMQ_MAXMSGSIZE)
    context        a zmq.Context to share (else the Stream makes and ends its own)
    stream_id      the id of a NEW stream (default random); a state file's id wins
    ack_store_interval  seconds between writes of the acked mark alone: acks are saved
                   lazily (with the next enqueue, or after this long), so a crash only
                   means a few more resends, answered as duplicates
    """

    def __init__(self, endpoint, server_public, keypair, state_path=None, window=1000,
                 resend_timeout=2.0, backoff_initial=0.05, backoff_max=5.0,
                 max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES, context=None, stream_id=None,
                 ack_store_interval=1.0):
        self.endpoint = endpoint
        self.state_path = state_path
        self.window = int(window)
        self.resend_timeout = float(resend_timeout)
        self.backoff_initial = float(backoff_initial)
        self.backoff_max = float(backoff_max)
        self.max_message_bytes = int(max_message_bytes)
        self.ack_store_interval = float(ack_store_interval)
        self.pending = {}          # seq -> packed Envelope bytes, for acked < seq <= last_seq
        self.rejected = []         # dicts: seq, kind, ref, code, field, reason
        self.notes = {}            # caller's data saved with the state (e.g. upload progress)
        self.stats = dict(sent=0, resent=0, acks=0, duplicate_acks=0, rejects=0, rewinds=0,
                          retry_laters=0, timeouts=0, undecodable=0)
        self.errors = []           # seq-0 rejects: something we sent did not decode
        self.stuck = None
        self.auth_refused = False
        self.connected = False
        self.resumed = 0           # messages loaded un-acked from the state file
        self.stream_id = None
        self.acked = 0
        self.last_seq = 0
        self._state_acked = None   # the acked mark last written
        self._state_written_at = 0.0
        if state_path and os.path.exists(state_path):
            self._load_state()
        if self.stream_id is None:
            self.stream_id = stream_id or random.SystemRandom().randrange(1, 1 << 63)
            if state_path:
                self.save_state()
        self.next_send = self.acked + 1
        self._highest = self.acked   # the highest seq put on the wire by this process
        self._last_progress = time.monotonic()
        self._backoff = self.backoff_initial
        self._backoff_until = 0.0
        self._rewound_to, self._rewound_at = 0, 0.0
        self._behind = 0           # rewinds asking for seqs already acked, in a row
        self._request_id = random.SystemRandom().randrange(1, 1 << 31)
        self._replies = {}         # request id -> reply, for queries still waiting
        self._own_context = context is None
        self.ctx = context or zmq.Context()
        self.socket = self.ctx.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.IMMEDIATE, 1)
        self.socket.setsockopt(zmq.HEARTBEAT_IVL, 1000)
        self.socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, 5000)
        self.socket.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        self.socket.curve_serverkey = server_public if isinstance(server_public, bytes) \
            else server_public.encode()
        self.socket.curve_publickey, self.socket.curve_secretkey = keypair
        self.monitor = self.socket.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
            zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_DISCONNECTED)
        self.socket.connect(endpoint)

    # -- state file --

    def _load_state(self):
        with open(self.state_path) as f:
            st = json.load(f)
        if st.get("version") != STATE_VERSION:
            raise ArrearsError("%s: state file version %r, this client writes %d"
                               % (self.state_path, st.get("version"), STATE_VERSION))
        self.stream_id = int(st["stream_id"])
        self.acked = int(st["acked"])
        self.last_seq = int(st["last_seq"])
        self.pending = {int(seq): base64.b64decode(data) for seq, data in st["pending"]}
        self.rejected = st.get("rejected", [])
        self.notes = st.get("notes", {})
        expect = set(range(self.acked + 1, self.last_seq + 1))
        if set(self.pending) != expect:
            raise ArrearsError("%s: pending seqs do not match acked=%d last_seq=%d"
                               % (self.state_path, self.acked, self.last_seq))
        self.resumed = len(self.pending)
        self._state_acked = self.acked

    def save_state(self):
        """Writes the state file atomically: tmp file, fsync, rename, fsync the folder."""
        if not self.state_path:
            return
        st = {
            "version": STATE_VERSION,
            "stream_id": self.stream_id,
            "acked": self.acked,
            "last_seq": self.last_seq,
            "pending": [[seq, base64.b64encode(data).decode()]
                        for seq, data in sorted(self.pending.items())],
            "rejected": self.rejected,
            "notes": self.notes,
        }
        tmp = self.state_path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(st, f, separators=(",", ":"))
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        os.rename(tmp, self.state_path)
        dfd = os.open(os.path.dirname(os.path.abspath(self.state_path)), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        self._state_acked = self.acked
        self._state_written_at = time.monotonic()

    # -- sending --

    @property
    def unacked(self):
        return len(self.pending)

    def envelope(self, body, seq=0, request_id=0):
        env = envelope_pb2.Envelope(sent_at_ms=now_ms(), trace_id=os.urandom(16))
        if seq:
            env.stream_id, env.seq = self.stream_id, seq
        if request_id:
            env.request_id = request_id
        getattr(env, body_name(body)).CopyFrom(body)
        return env

    def enqueue(self, bodies, notes=None):
        """Gives each message the next seq, writes them (and `notes`, merged into the
        saved notes) to the state file, then sends what the window allows. Returns the
        seqs. A message over the size limit is refused here (ValueError): intake would
        drop the connection, not answer."""
        if self.stuck:
            raise StreamStuck(self.stuck)
        packed = []
        for body in bodies:
            data = self.envelope(body, seq=self.last_seq + len(packed) + 1).SerializeToString()
            if len(data) > self.max_message_bytes:
                raise ValueError("a %s of %d bytes is over the %d-byte message limit"
                                 % (type(body).__name__, len(data), self.max_message_bytes))
            packed.append(data)
        first = self.last_seq + 1
        for data in packed:
            self.last_seq += 1
            self.pending[self.last_seq] = data
        if notes:
            self.notes.update(notes)
        self.save_state()
        self.pump()
        return list(range(first, self.last_seq + 1))

    def send(self, body):
        return self.enqueue([body])[0]

    def pending_bytes(self, seq):
        return self.pending.get(seq)

    def pump(self):
        """Handles the timers and sends what the window allows. Never blocks."""
        now = time.monotonic()
        if self.stuck or now < self._backoff_until:
            return
        if self.next_send > self.acked + 1 and now - self._last_progress >= self.resend_timeout:
            self.stats["timeouts"] += 1
            self.next_send = self.acked + 1
            self._last_progress = now
        if self.next_send == self.acked + 1:
            self._last_progress = now   # nothing in flight: the timeout starts now
        if self.acked != self._state_acked and now - self._state_written_at >= self.ack_store_interval:
            self.save_state()
        until = min(self.last_seq, self.acked + self.window)
        while self.next_send <= until:
            try:
                self.socket.send(self.pending[self.next_send], zmq.NOBLOCK)
            except zmq.Again:
                break   # not connected (ZMQ_IMMEDIATE) or the pipe is full: later
            self.stats["sent"] += 1
            if self.next_send <= self._highest:
                self.stats["resent"] += 1
            else:
                self._highest = self.next_send
            self.next_send += 1

    # -- replies --

    def _advance(self, through):
        if through <= self.acked:
            return
        for seq in range(self.acked + 1, through + 1):
            self.pending.pop(seq, None)
        self.acked = through
        self._behind = 0
        self._last_progress = time.monotonic()
        self._backoff = self.backoff_initial
        if self.next_send <= through:
            self.next_send = through + 1

    def handle(self, env):
        """Acts on one decoded reply."""
        if env.request_id:
            if env.request_id in self._replies:
                self._replies[env.request_id] = env
            return   # else a late answer to a query already answered or given up
        if env.stream_id != self.stream_id:
            return   # about another stream: a stale reply
        kind = env.WhichOneof("body")
        if kind == "ack":
            self.stats["acks"] += 1
            if env.ack.duplicate:
                self.stats["duplicate_acks"] += 1
            through = env.ack.through_seq
            if through > self.last_seq:
                self.stuck = ("intake acknowledged seq %d but this stream only reached %d: "
                              "was the state file replaced by an older one?" % (through, self.last_seq))
                return
            self._advance(through)
        elif kind == "reject":
            self._on_reject(env.reject)

    def _on_reject(self, r):
        if r.seq == 0:
            self.stats["undecodable"] += 1
            self.errors.append({"code": Reject.Code.Name(r.code) if r.code else "", "reason": r.reason})
            return
        if r.reject_class == Reject.PERMANENT:
            data = self.pending.get(r.seq)
            if data is not None:
                env = envelope_pb2.Envelope()
                env.ParseFromString(data)
                kind, ref = natural_ref(env)
                self.rejected.append({
                    "seq": r.seq, "kind": kind, "ref": ref, "class": "PERMANENT",
                    "code": Reject.Code.Name(r.code) if r.code else "",
                    "field": r.field, "reason": r.reason})
                self.stats["rejects"] += 1
            # Consumed: every seq before it was consumed too (the receiver goes in order).
            if r.seq <= self.last_seq:
                self._advance(r.seq)
            if data is not None:
                self.save_state()
        elif r.reject_class == Reject.REWIND:
            self._on_rewind(r.expected_seq)
        elif r.reject_class == Reject.RETRY_LATER:
            self.stats["retry_laters"] += 1
            self.next_send = self.acked + 1
            now = time.monotonic()
            if now >= self._backoff_until:
                self._backoff_until = now + self._backoff
                self._backoff = min(self._backoff * 2, self.backoff_max)

    def _on_rewind(self, expected):
        if expected == 0:
            return
        now = time.monotonic()
        if expected - 1 > self.last_seq:
            self.stuck = "intake expects seq %d but this stream only reached %d" % (
                expected, self.last_seq)
            return
        if expected - 1 < self.acked:
            # A stale answer from before an Ack we already had (a reconnect can deliver
            # one late) is harmless; the same again and again means intake lost what it
            # had acknowledged (restored from a backup?), and this client kept nothing.
            self._behind += 1
            if self._behind >= 3:
                self.stuck = ("intake expects seq %d, already acknowledged and forgotten here "
                              "(was intake restored from a backup?)" % expected)
            return
        if expected == self._rewound_to and now - self._rewound_at < self.resend_timeout:
            return   # one rewind answers the whole burst that followed the hole
        self._rewound_to, self._rewound_at = expected, now
        self.stats["rewinds"] += 1
        self._advance(expected - 1)
        self.next_send = expected
        self._last_progress = now

    def _read_monitor(self):
        from zmq.utils.monitor import recv_monitor_message
        while self.monitor.poll(0):
            ev = recv_monitor_message(self.monitor)["event"]
            if ev == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.connected, self.auth_refused = True, False
            elif ev == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.connected, self.auth_refused = False, True
            elif ev == zmq.EVENT_DISCONNECTED:
                self.connected = False

    def process_replies(self):
        """Reads and acts on every reply waiting now."""
        while True:
            try:
                data = self.socket.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            env = envelope_pb2.Envelope()
            try:
                env.ParseFromString(data)
            except Exception:
                continue
            self.handle(env)
        self._read_monitor()

    def wait_ms(self):
        """How long a caller's poll may sleep before pump() wants to run again."""
        now = time.monotonic()
        wait = 0.2
        if self._backoff_until > now:
            wait = min(wait, self._backoff_until - now)
        elif self.next_send > self.acked + 1:
            wait = min(wait, self._last_progress + self.resend_timeout - now)
        return max(0, int(wait * 1000))

    def step(self, timeout=0.2):
        """Waits up to `timeout` seconds for replies, acts on them and pumps."""
        wait = min(int(timeout * 1000), self.wait_ms())
        if self.socket.poll(max(wait, 0)):
            self.process_replies()
        else:
            self._read_monitor()
        self.pump()

    def _check(self):
        if self.stuck:
            raise StreamStuck(self.stuck)
        if self.auth_refused:
            raise AuthRefused("%s refused this client's key at the CURVE handshake "
                              "(not in intake's keys file?)" % self.endpoint)

    def wait_room(self, max_unacked, timeout=None):
        """Steps until at most max_unacked messages are un-acked."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.pump()
        while self.unacked > max_unacked:
            self._check()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("%d messages still un-acked" % self.unacked)
            self.step()

    def flush(self, timeout=None):
        """Steps until every message is acked (or rejected); saves the state."""
        self.wait_room(0, timeout)
        if self._state_acked != self.acked:
            self.save_state()

    # -- queries --

    def query(self, body, timeout=10.0):
        """Sends a query and returns the reply's body message; QueryRejected if refused.
        The query is resent every resend_timeout until answered (queries change nothing)."""
        self._request_id += 1
        rid = self._request_id
        data = self.envelope(body, request_id=rid).SerializeToString()
        deadline = time.monotonic() + timeout
        sent_at = None
        self._replies[rid] = None
        try:
            return self._await_reply(rid, data, deadline, sent_at)
        finally:
            self._replies.pop(rid, None)

    def _await_reply(self, rid, data, deadline, sent_at):
        while True:
            now = time.monotonic()
            if sent_at is None or now - sent_at >= self.resend_timeout:
                try:
                    self.socket.send(data, zmq.NOBLOCK)
                    sent_at = now
                except zmq.Again:
                    pass
            reply = self._replies.get(rid)
            if reply is not None:
                kind = reply.WhichOneof("body")
                if kind == "reject":
                    raise QueryRejected(reply.reject)
                return getattr(reply, kind)
            self._check()
            if now > deadline:
                raise TimeoutError("no answer to a query from %s" % self.endpoint)
            self.step(0.05)

    def pull_document(self, query_at, what, timeout=10.0):
        """A document pulled in chunks (case files, sale tapes and files): query_at(offset)
        makes the query for the chunk at offset; each reply carries total_bytes, data and
        the whole document's sha256, checked at the end. A document rebuilt meanwhile (its
        digest changed) is pulled again from the start."""
        data, total, digest = b"", None, None
        while total is None or len(data) < total:
            c = self.query(query_at(len(data)), timeout)
            if digest is not None and c.sha256 != digest:
                data, total, digest = b"", None, None
                continue
            total, digest = c.total_bytes, c.sha256
            if not c.data and len(data) < total:
                raise ArrearsError("%s stopped at %d of %d bytes" % (what, len(data), total))
            data += c.data
        if hashlib.sha256(data).digest() != digest:
            raise ArrearsError("%s does not match its SHA-256" % what)
        return data

    def account_status(self, account_ref, timeout=10.0):
        return self.query(platform_pb2.AccountStatusQuery(account_ref=account_ref), timeout)

    def feed(self, after=0, max_events=100, timeout=10.0):
        return self.query(platform_pb2.FeedQuery(after_cursor=after, max_events=max_events), timeout)

    def feed_all(self, after=0, page=1000, timeout=10.0):
        """Every event after `after` up to the newest, paging through the feed."""
        events = []
        while True:
            p = self.feed(after, page, timeout)
            events.extend(p.events)
            if not p.events or p.events[-1].cursor >= p.last_cursor:
                return events, p
            after = p.events[-1].cursor

    def health(self, timeout=10.0):
        return self.query(envelope_pb2.HealthQuery(), timeout)

    def close(self, save=True):
        if save and self.state_path and self._state_acked != self.acked:
            self.save_state()
        self.socket.disable_monitor()
        self.monitor.close(0)
        self.socket.close(0)
        if self._own_context:
            self.ctx.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- input files --------------------------------------------------------------------

class InputError(ArrearsError):
    pass


KINDS = {
    "account": platform_pb2.AccountUpsert,
    "payment": platform_pb2.PaymentPosted,
    "contact": platform_pb2.ContactUpdate,
    "complaint": platform_pb2.Complaint,
    "recall": platform_pb2.Recall,
}


def iso_to_ms(text):
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(t)
    if d.tzinfo is None:
        raise ValueError("%r: an instant needs a zone (Z or +hh:mm)" % text)
    return int(d.timestamp() * 1000)


def _hash_field(value):
    """id_number_hash given as 64 hex characters -> base64 for the protobuf JSON mapping."""
    if isinstance(value, str) and re.fullmatch(r"[0-9A-Fa-f]{64}", value):
        return base64.b64encode(bytes.fromhex(value)).decode()
    return value


def _normalize(kind, obj):
    obj = dict(obj)
    b = obj.get("borrower")
    if isinstance(b, dict):
        b = dict(b)
        if "id_number" in b:
            b["id_number_hash"] = hashlib.sha256(str(b.pop("id_number")).encode()).hexdigest()
        if "id_number_hash" in b:
            b["id_number_hash"] = _hash_field(b["id_number_hash"])
        obj["borrower"] = b
    for iso, ms in (("paid_at", "paid_at_ms"), ("received_at", "received_at_ms")):
        if iso in obj:
            obj[ms] = iso_to_ms(obj.pop(iso))
    return obj


def message_from_dict(kind, obj):
    """A platform message from a dict of its proto fields (JSON-lines conventions)."""
    if kind not in KINDS:
        raise InputError("unknown type %r (account, payment, contact, complaint, recall)" % kind)
    return json_format.ParseDict(_normalize(kind, obj), KINDS[kind]())


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                obj = json.loads(line)
                kind = obj.pop("type")
                yield message_from_dict(kind, obj)
            except (ValueError, KeyError, json_format.ParseError) as e:
                raise InputError("%s:%d: %s" % (path, n, e)) from None


ACCOUNT_COLUMNS = [
    "account_ref", "product", "currency", "borrower_name", "id_number_hash", "id_number",
    "phones", "emails", "contact_verified", "contact_consent", "address_line1",
    "address_line2", "city", "region", "postal_code", "country", "time_zone", "language",
    "opened_date", "interest_bps", "interest_period", "penalty_bps", "penalty_period",
    "penalty_cap_bps", "bankrupt", "deceased", "vulnerable", "cease_contact",
    "may_refer_to_legal", "may_sell"]
INSTALMENT_COLUMNS = ["due_date", "principal_minor", "interest_minor", "fees_minor", "paid_minor"]
OTHER_COLUMNS = ["type", "payment_ref", "amount_minor", "paid_at_ms", "paid_at", "channel",
                 "complaint_ref", "kind", "category", "text", "received_at_ms", "received_at",
                 "reason"]
CSV_COLUMNS = set(ACCOUNT_COLUMNS + INSTALMENT_COLUMNS + OTHER_COLUMNS)


def _bool(text):
    t = text.strip().lower()
    if t in ("true", "yes", "1", "y"):
        return True
    if t in ("false", "no", "0", "n"):
        return False
    raise ValueError("%r is not true/false" % text)


def _int(text):
    return int(text.strip())


def _account_from_rows(ref, head, instalments):
    g = lambda c: head.get(c, "")   # noqa: E731
    b = {}
    if g("borrower_name"):
        b["name"] = g("borrower_name")
    if g("id_number_hash"):
        b["id_number_hash"] = g("id_number_hash")
    elif g("id_number"):
        b["id_number"] = g("id_number")
    flags = {}
    for c, key in (("contact_verified", "verified"), ("contact_consent", "consent")):
        if g(c):
            flags[key] = _bool(g(c))
    for col, key in (("phones", "phones"), ("emails", "emails")):
        if g(col):
            b[key] = [dict(value=v.strip(), **flags) for v in g(col).split(";") if v.strip()]
    addr = {k: g(c) for c, k in (("address_line1", "line1"), ("address_line2", "line2"),
                                 ("city", "city"), ("region", "region"),
                                 ("postal_code", "postal_code"), ("country", "country")) if g(c)}
    if addr:
        b["address"] = addr
    for c in ("time_zone", "language"):
        if g(c):
            b[c] = g(c)
    obj = {"account_ref": ref}
    for c in ("product", "currency", "opened_date"):
        if g(c):
            obj[c] = g(c)
    if b:
        obj["borrower"] = b
    rates = {}
    for c in ("interest_bps", "penalty_bps", "penalty_cap_bps"):
        if g(c):
            rates[c] = _int(g(c))
    for c in ("interest_period", "penalty_period"):
        if g(c):
            rates[c] = g(c)
    if rates:
        obj["rates"] = rates
    flags = {c: _bool(g(c)) for c in ("bankrupt", "deceased", "vulnerable", "cease_contact") if g(c)}
    if flags:
        obj["flags"] = flags
    mandate = {c: _bool(g(c)) for c in ("may_refer_to_legal", "may_sell") if g(c)}
    if mandate:
        obj["mandate"] = mandate
    obj["schedule"] = instalments
    return message_from_dict("account", obj)


def read_csv(path):
    """Messages from a CSV file (columns in the module docstring)."""
    accounts = {}   # ref -> [head row, instalments, first line]
    others = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        unknown = [c for c in (reader.fieldnames or []) if c not in CSV_COLUMNS]
        if unknown:
            raise InputError("%s: unknown column(s) %s" % (path, ", ".join(unknown)))
        for row in reader:
            n = reader.line_num
            row = {k: (v or "").strip() for k, v in row.items() if k is not None}
            kind = row.get("type", "") or "account"
            try:
                if kind == "account":
                    ref = row.get("account_ref", "")
                    if not ref:
                        raise ValueError("an account row needs account_ref")
                    acc = accounts.setdefault(ref, [{}, [], n])
                    for c in ACCOUNT_COLUMNS:
                        v = row.get(c, "")
                        if v and acc[0].get(c, v) != v:
                            raise ValueError("%s=%r differs from %r given earlier for account %s"
                                             % (c, v, acc[0][c], ref))
                        if v:
                            acc[0][c] = v
                    inst = {}
                    if row.get("due_date"):
                        inst["due_date"] = row["due_date"]
                    for c in INSTALMENT_COLUMNS[1:]:
                        if row.get(c):
                            inst[c] = _int(row[c])
                    if inst:
                        acc[1].append(inst)
                elif kind == "payment":
                    obj = {c: row[c] for c in ("account_ref", "payment_ref", "currency", "channel")
                           if row.get(c)}
                    if row.get("amount_minor"):
                        obj["amount_minor"] = _int(row["amount_minor"])
                    if row.get("paid_at_ms"):
                        obj["paid_at_ms"] = _int(row["paid_at_ms"])
                    elif row.get("paid_at"):
                        obj["paid_at"] = row["paid_at"]
                    others.append(message_from_dict("payment", obj))
                elif kind == "complaint":
                    obj = {c: row[c] for c in ("account_ref", "complaint_ref", "kind", "category",
                                               "text") if row.get(c)}
                    if row.get("received_at_ms"):
                        obj["received_at_ms"] = _int(row["received_at_ms"])
                    elif row.get("received_at"):
                        obj["received_at"] = row["received_at"]
                    others.append(message_from_dict("complaint", obj))
                elif kind == "recall":
                    obj = {c: row[c] for c in ("account_ref", "reason") if row.get(c)}
                    others.append(message_from_dict("recall", obj))
                else:
                    raise ValueError("unknown type %r (account, payment, complaint, recall)" % kind)
            except (ValueError, json_format.ParseError) as e:
                raise InputError("%s:%d: %s" % (path, n, e)) from None
    out = []
    for ref, (head, instalments, n) in accounts.items():
        try:
            out.append(_account_from_rows(ref, head, instalments))
        except (ValueError, json_format.ParseError) as e:
            raise InputError("%s:%d: account %s: %s" % (path, n, ref, e)) from None
    return out + others


def read_records(path):
    """Every message of an upload file, by its extension: .csv, else JSON lines."""
    if path.lower().endswith(".csv"):
        return read_csv(path)
    return list(read_jsonl(path))


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def upload(stream, path, chunk=200, progress=None, again=False, out=sys.stdout):
    """Sends every record of the file and waits until all are acked. With a state file,
    resumes an earlier run of the same file (by content hash) where it stopped.
    Returns the records rejected in this run."""
    records = read_records(path)
    digest = file_digest(path)
    uploads = dict(stream.notes.get("uploads", {}))
    done = 0 if again else int(uploads.get(digest, 0))
    if done:
        print("resuming %s: %d of %d records taken before, %d of them un-acked in the state file"
              % (path, done, len(records), stream.resumed), file=out, flush=True)
    rejected_before = len(stream.rejected)
    last_report = 0
    while done < len(records):
        stream.wait_room(stream.window)   # un-acked (in the state file) <= window + chunk
        batch = records[done:done + chunk]
        done += len(batch)
        uploads[digest] = done
        stream.enqueue(batch, notes={"uploads": dict(uploads)})
        if progress and stream.acked - last_report >= progress:
            last_report = stream.acked
            print("progress submitted=%d acked=%d unacked=%d" % (done, stream.acked, stream.unacked),
                  file=out, flush=True)
    while stream.unacked:
        # Wait for the next `progress` acks (or for all of them without progress lines).
        stream.wait_room(max(0, stream.unacked - progress) if progress else 0)
        if progress:
            print("progress submitted=%d acked=%d unacked=%d" % (done, stream.acked, stream.unacked),
                  file=out, flush=True)
    stream.flush()
    return stream.rejected[rejected_before:]


# ---- command line -------------------------------------------------------------------

def message_to_dict(msg):
    """A message's set fields as plain JSON values: enums by name, int64 as numbers
    (not strings, as the protobuf JSON mapping has them), bytes as hex."""
    out = {}
    for field, value in msg.ListFields():
        def one(v):
            if field.type == field.TYPE_MESSAGE:
                return message_to_dict(v)
            if field.type == field.TYPE_ENUM:
                return field.enum_type.values_by_number[v].name if v in field.enum_type.values_by_number else v
            if field.type == field.TYPE_BYTES:
                return v.hex()
            return v
        out[field.name] = [one(v) for v in value] if field.label == field.LABEL_REPEATED else one(value)
    return out


def _event_json(msg):
    return json.dumps(message_to_dict(msg), sort_keys=True, ensure_ascii=False)


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(
        description="arrears reference platform client (see the module docstring)")
    p.add_argument("--endpoint", required=True, help="intake's endpoint")
    p.add_argument("--server-key", required=True, help="intake's .pub file (or the z85 key)")
    p.add_argument("--key", required=True, help="this platform's key pair (.key file)")
    p.add_argument("--state", help="state file: stream id, un-acked messages, upload progress")
    p.add_argument("--proto-dir", help="where envelope_pb2 etc. are (protoc --python_out)")
    p.add_argument("--window", type=int, default=1000)
    p.add_argument("--resend-timeout", type=float, default=2.0, help="seconds")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds, for queries")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upload", help="send a JSON-lines or CSV file")
    up.add_argument("file")
    up.add_argument("--progress", type=int, default=0, help="print progress every N acks")
    up.add_argument("--again", action="store_true", help="ignore the resume mark of this file")
    st = sub.add_parser("status", help="the account as arrears last reported it")
    st.add_argument("ref")
    fd = sub.add_parser("feed", help="events after a cursor")
    fd.add_argument("--after", type=int, default=0)
    fd.add_argument("--max", type=int, default=1000)
    fd.add_argument("--follow", action="store_true", help="keep polling for new events")
    fd.add_argument("--poll", type=float, default=1.0, help="seconds between polls when idle")
    sub.add_parser("health", help="is intake alive")
    a = p.parse_args(argv)

    stream = Stream(a.endpoint, load_public(a.server_key), load_keypair(a.key),
                    state_path=a.state, window=a.window, resend_timeout=a.resend_timeout)
    try:
        if a.command == "upload":
            if stream.resumed:
                print("state %s: stream %d, %d un-acked messages to resend" % (
                    a.state, stream.stream_id, stream.resumed), flush=True)
            rejected = upload(stream, a.file, progress=a.progress, again=a.again)
            for r in rejected:
                print("rejected " + json.dumps(r, sort_keys=True), flush=True)
            print("upload done file=%s stream_id=%d last_seq=%d acked=%d rejected=%d %s" % (
                a.file, stream.stream_id, stream.last_seq, stream.acked, len(rejected),
                " ".join("%s=%d" % kv for kv in sorted(stream.stats.items()))), flush=True)
            return 1 if rejected else 0
        if a.command == "status":
            print(_event_json(stream.account_status(a.ref, a.timeout)))
            return 0
        if a.command == "health":
            print(_event_json(stream.health(a.timeout)))
            return 0
        after = a.after
        while True:
            try:
                page = stream.feed(after, a.max, a.timeout)
            except QueryRejected as e:
                if e.code != Reject.CURSOR_EXPIRED:
                    raise
                print("feed: events after %d are past retention; continuing from the earliest "
                      "held, %d" % (after, e.reject.expected_seq), file=sys.stderr, flush=True)
                after = e.reject.expected_seq - 1
                continue
            for ev in page.events:
                print(_event_json(ev), flush=True)
                after = ev.cursor
            if page.events and after < page.last_cursor:
                continue
            if not a.follow:
                return 0
            time.sleep(a.poll)
    except (ArrearsError, TimeoutError, InputError) as e:
        print("arrears_client: %s" % e, file=sys.stderr, flush=True)
        return 1
    finally:
        stream.close()


if __name__ == "__main__":
    sys.exit(main())
