#!/usr/bin/env python3
"""downstream_standin: a recording stand-in for the three services staging sends to —
outreach, legal and sale — speaking the real protocol, with scripted replies, for
scenario tests until those services exist.

  downstream_standin.py --outreach-endpoint E --legal-endpoint E --sale-endpoint E
                        --key downstream.key --allow staging.pub [--allow ...]
                        --log FILE --staging-endpoint E --staging-public staging.pub
                        --state FILE [--script FILE] [--ready FILE] [--proto-dir DIR]
                        [--resend-timeout S]

Sockets and keys
* Binds one ROUTER per service as a CURVE server, all three with the stand-in's key pair
  (--key, an `arrears keygen` NAME.key file; staging's config names the matching .pub as
  the public_key of outreach, legal and sale). Only the --allow keys (staging's) may
  connect: pyzmq's ThreadAuthenticator with a CURVE callback answers ZAP, started before
  any socket binds (with no ZAP handler libzmq would accept every key); other keys are
  refused at the handshake (one stderr line each). The sockets bind in the order
  outreach, legal, sale, after the state file is loaded: once the sale endpoint exists
  (an ipc:// socket file appears), all three are bound. Then the stand-in writes ONE
  line to stderr, `downstream_standin: ready outreach=E legal=E sale=E`, and, with
  --ready FILE, writes that same line to FILE (tmp file + rename, so the file appears
  complete). Nothing is ever written to stdout.
* Replies go to staging over a reliable arrears_client.Stream (--staging-endpoint,
  --staging-public, the same key pair; staging's keys file must admit that key with
  role "service"), whose JSON state file is --state: every reply is written there
  before it is put on the wire, resent until staging acknowledges it, and resent after a
  restart. A reply staging refuses for good lands in the state file's "rejected" list
  and on stderr. The acked mark is saved as soon as an Ack arrives, so a test can read
  "acked" >= "last_seq" in the state file as "staging has taken every reply".

Receiving (each ROUTER is its own receiver, as each real service would be)
* Per stream (service, sender principal, stream_id), as a receiver must: the next seq
  is applied and acknowledged (one cumulative Ack per stream per batch of arrivals); an
  old seq is acknowledged as a duplicate (Ack through the last applied, duplicate =
  true); a seq ahead gets Reject(REWIND, GAP, expected_seq); a body the service does not
  take gets Reject(PERMANENT, UNKNOWN_TYPE) and its seq is consumed. Bodies taken:
      outreach  contact_request, contact_cancel, personal_data_erased
      legal     legal_referral, case_notice, personal_data_erased (logged; no reply)
      sale      sale_listing, personal_data_erased (logged; no reply)
  Health queries (seq 0, request_id) are answered (service "downstream-standin");
  other queries get Reject(PERMANENT, UNKNOWN_TYPE) with their request_id; bytes that
  do not decode get Reject(seq 0, MALFORMED).
* The inbox positions and the per-account counters below are kept in memory AND in the
  notes of the --state file, written (with the batch's replies) before the batch's Acks
  go out: a stand-in restarted with the same --state continues every stream of staging's
  where it was and answers resends as duplicates. (Delete the state file for a fresh
  start; staging then needs fresh streams too.)

The log (--log, JSON lines, appended, each line flushed at once)
* One line per NEWLY applied message (duplicates, gaps and refused bodies are not
  logged):
    {"t": wall-clock ms, "service": "outreach|legal|sale", "body": "contact_request|
     contact_cancel|legal_referral|case_notice|sale_listing|personal_data_erased",
     "platform", "account_ref",
     "contact_id", "channel", "template_id", "reason", "at_ms", "principal",
     "stream_id", "seq", "n", "replies": [...], ...every other field the message set}
  "at_ms" is requested_at_ms / cancelled_at_ms / referred_at_ms / at_ms / listed_at_ms /
  erased_at_ms.
  The keys named above are always present (null when the message has no such field); the rest
  are the message's set fields under their proto names (enums by name, bytes as hex,
  int64 as numbers). "n" counts this account's messages of that body from 1 (the n-th
  contact request, referral or listing of (platform, account_ref)). "replies" lists
  what was sent back for it (result / status / outcome names, in order; [] for none).

The script (--script FILE, JSON; absent or missing file = no replies)
  {"ACC-1": {"contact": [{"result": "PROMISE_TO_PAY", "amount_minor": 5000,
                          "promise_in_days": 5},
                         {"result": "DELIVERED"}, {"result": null}, ...],
             "legal":   [{"status": "ACCEPTED"},
                         {"status": "CASE_CLOSED", "recovery_minor": 1000,
                          "recovery_ref": "R1"}],
             "sale":    [{"outcome": "SALE_SOLD", "price_minor": 300, "buyer": "buyer-a"}]}}
  Keys are account_refs (of any platform). Each reply is enqueued on the Stream only
  after its triggering message was applied, in the same state-file write as the new
  inbox position, and before staging hears the Ack.
* "contact": the n-th ContactRequest of the account gets the n-th rule's
  ContactOutcome. No rule for n (list exhausted, no entry), a null rule, or
  {"result": null} sends nothing. The outcome copies platform, account_ref, contact_id
  and channel from the request; at_ms = requested_at_ms (+ "after_ms"). Rule keys:
    result                  a ContactResult name (required unless null)
    amount_minor            promise_amount_minor for PROMISE_TO_PAY,
                            settlement_amount_minor for SETTLEMENT_OFFERED
    promise_in_days         promise_date = the date of requested_at_ms in the request's
                            time_zone (zoneinfo; UTC if absent or unknown) + N days
    promise_date            an explicit "YYYY-MM-DD" instead
    plan                    [{"in_days": N, "amount_minor": A} or {"due_date": ..., ...}]
    waive_penalty           bool
    settlement_amount_minor, pay_by_in_days (same base date as promise_in_days),
    pay_by_date
    promise_amount_minor    explicit, as the proto names it
    channel                 a Channel name, instead of the request's
    agent, detail           strings
    after_ms                added to at_ms (default 0)
  ContactCancels are logged and answered with nothing.
* "legal": a list of rules; after the account's FIRST referral every rule is sent, in
  order, as a LegalUpdate (platform and account_ref copied, case_id "CASE-<account_ref>",
  at_ms = referred_at_ms (+ "after_ms")). A list of lists instead gives the n-th
  referral the n-th list (case_id "CASE-<account_ref>-<n>" for n > 1). Rule keys:
  status (a CaseStatus name; null = skip this rule), recovery_minor, recovery_ref,
  costs_minor, detail, case_id, after_ms.
* "sale": likewise after the listing, as SaleResults (at_ms = listed_at_ms
  (+ "after_ms")). Rule keys: outcome (a SaleOutcome name; null = skip), price_minor,
  buyer, portfolio_id, detail, after_ms.
* The file is re-read whenever its mtime or size changes (checked before each batch),
  so a test may change it mid-run; write it atomically (tmp + rename). The counters n go
  on counting across changes. A file that does not parse or has unknown names is an
  error at start (exit 2); on a re-read it is reported on stderr and the previous script
  stays in force (and the file is tried again when it changes).

Stopping
* SIGTERM or SIGINT: saves the stream state, closes the sockets, exits 0. Exit 1 if the
  reply stream gets stuck (staging acknowledged more than was sent: a state file from
  another run), 2 on bad arguments or script."""
import argparse
import datetime
import json
import os
import signal
import sys
import zoneinfo

import zmq
import zmq.auth.thread

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


import arrears_client as ac  # noqa: E402  (takes --proto-dir from this command line)
import outreach_pb2  # noqa: E402
import legal_pb2  # noqa: E402
import sale_pb2  # noqa: E402

envelope_pb2 = ac.envelope_pb2
Reject = envelope_pb2.Reject
BATCH_MAX = 1000
SERVICES = ("outreach", "legal", "sale")   # also the bind order
TAKES = {
    "outreach": ("contact_request", "contact_cancel", "personal_data_erased"),
    "legal": ("legal_referral", "case_notice", "personal_data_erased"),
    "sale": ("sale_listing", "personal_data_erased"),
}
AT_FIELD = {
    "contact_request": "requested_at_ms",
    "contact_cancel": "cancelled_at_ms",
    "legal_referral": "referred_at_ms",
    "case_notice": "at_ms",
    "personal_data_erased": "erased_at_ms",
    "sale_listing": "listed_at_ms",
}
SCRIPT_SECTION = {"contact_request": "contact", "legal_referral": "legal",
                  "sale_listing": "sale"}
CONTACT_KEYS = {"result", "amount_minor", "promise_in_days", "promise_date", "plan",
                "waive_penalty", "settlement_amount_minor", "pay_by_in_days", "pay_by_date",
                "promise_amount_minor", "channel", "agent", "detail", "after_ms"}
PLAN_KEYS = {"in_days", "due_date", "amount_minor"}
LEGAL_KEYS = {"status", "recovery_minor", "recovery_ref", "costs_minor", "detail", "case_id",
              "after_ms"}
SALE_KEYS = {"outcome", "price_minor", "buyer", "portfolio_id", "detail", "after_ms"}
ALWAYS_LOGGED = ("platform", "account_ref", "contact_id", "channel", "template_id", "reason")


def warn(text):
    print("downstream_standin: " + text, file=sys.stderr, flush=True)


# ---- the script ---------------------------------------------------------------------

class ScriptError(ValueError):
    pass


def _check_enum(enum, name, where):
    if name is None:
        return
    if not isinstance(name, str) or name not in enum.keys():
        raise ScriptError("%s: %r is not one of %s" % (where, name, ", ".join(enum.keys())))


def _check_keys(rule, allowed, where):
    if not isinstance(rule, dict):
        raise ScriptError("%s: a rule is an object (or null)" % where)
    unknown = sorted(set(rule) - allowed)
    if unknown:
        raise ScriptError("%s: unknown key(s) %s" % (where, ", ".join(unknown)))


def _check_rule(section, rule, where):
    if rule is None:
        return
    if section == "contact":
        _check_keys(rule, CONTACT_KEYS, where)
        _check_enum(outreach_pb2.ContactResult, rule.get("result"), where + ".result")
        _check_enum(outreach_pb2.Channel, rule.get("channel"), where + ".channel")
        for i, item in enumerate(rule.get("plan") or []):
            _check_keys(item, PLAN_KEYS, "%s.plan[%d]" % (where, i))
    elif section == "legal":
        _check_keys(rule, LEGAL_KEYS, where)
        _check_enum(legal_pb2.CaseStatus, rule.get("status"), where + ".status")
    else:
        _check_keys(rule, SALE_KEYS, where)
        _check_enum(sale_pb2.SaleOutcome, rule.get("outcome"), where + ".outcome")


def check_script(script):
    if not isinstance(script, dict):
        raise ScriptError("the script is an object: account_ref -> rules")
    for ref, rules in script.items():
        if not isinstance(rules, dict):
            raise ScriptError("%s: an object with contact, legal, sale" % ref)
        unknown = sorted(set(rules) - {"contact", "legal", "sale"})
        if unknown:
            raise ScriptError("%s: unknown section(s) %s" % (ref, ", ".join(unknown)))
        for section, items in rules.items():
            if items is None:
                continue
            if not isinstance(items, list):
                raise ScriptError("%s.%s: a list" % (ref, section))
            for i, item in enumerate(items):
                where = "%s.%s[%d]" % (ref, section, i)
                if section != "contact" and isinstance(item, list):
                    for j, rule in enumerate(item):
                        _check_rule(section, rule, "%s[%d]" % (where, j))
                else:
                    _check_rule(section, item, where)
    return script


class Script:
    """The --script file, re-read when its mtime or size changes."""

    def __init__(self, path):
        self.path = path
        self.rules = {}
        self.stamp = None
        if path:
            self.refresh(strict=True)

    def refresh(self, strict=False):
        if not self.path:
            return
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        if stamp == self.stamp:
            return
        if stamp is None:
            self.rules, self.stamp = {}, None
            return
        try:
            with open(self.path, encoding="utf-8") as f:
                rules = check_script(json.load(f))
        except (OSError, ValueError) as e:
            if strict:
                raise ScriptError("%s: %s" % (self.path, e)) from None
            warn("script %s not taken (the previous one stays): %s" % (self.path, e))
            self.stamp = stamp
            return
        self.rules, self.stamp = rules, stamp

    def section(self, account_ref, name):
        entry = self.rules.get(account_ref) or {}
        return entry.get(name) or []


def local_date(at_ms, time_zone):
    try:
        zone = zoneinfo.ZoneInfo(time_zone) if time_zone else datetime.timezone.utc
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = datetime.timezone.utc
    return datetime.datetime.fromtimestamp(at_ms / 1000, tz=zone).date()


def _day(base, days):
    return (base + datetime.timedelta(days=int(days))).isoformat()


def contact_outcome(req, rule):
    """The ContactOutcome a contact rule scripts for a request, or None."""
    if not rule or rule.get("result") is None:
        return None
    o = outreach_pb2.ContactOutcome(
        platform=req.platform, account_ref=req.account_ref,
        result=outreach_pb2.ContactResult.Value(rule["result"]))
    if req.HasField("contact_id"):
        o.contact_id = req.contact_id
    if rule.get("channel"):
        o.channel = outreach_pb2.Channel.Value(rule["channel"])
    elif req.HasField("channel"):
        o.channel = req.channel
    requested = req.requested_at_ms if req.HasField("requested_at_ms") else ac.now_ms()
    o.at_ms = requested + int(rule.get("after_ms", 0))
    base = local_date(requested, req.time_zone if req.HasField("time_zone") else None)
    if "amount_minor" in rule:
        if o.result == outreach_pb2.SETTLEMENT_OFFERED:
            o.settlement_amount_minor = int(rule["amount_minor"])
        else:
            o.promise_amount_minor = int(rule["amount_minor"])
    if "promise_amount_minor" in rule:
        o.promise_amount_minor = int(rule["promise_amount_minor"])
    if "promise_in_days" in rule:
        o.promise_date = _day(base, rule["promise_in_days"])
    if "promise_date" in rule:
        o.promise_date = rule["promise_date"]
    for item in rule.get("plan") or []:
        p = o.plan.add(amount_minor=int(item.get("amount_minor", 0)))
        p.due_date = item["due_date"] if "due_date" in item else _day(base, item.get("in_days", 0))
    if "waive_penalty" in rule:
        o.waive_penalty = bool(rule["waive_penalty"])
    if "settlement_amount_minor" in rule:
        o.settlement_amount_minor = int(rule["settlement_amount_minor"])
    if "pay_by_in_days" in rule:
        o.pay_by_date = _day(base, rule["pay_by_in_days"])
    if "pay_by_date" in rule:
        o.pay_by_date = rule["pay_by_date"]
    for field in ("agent", "detail"):
        if rule.get(field) is not None:
            setattr(o, field, str(rule[field]))
    return o


def _rules_for(items, n):
    """legal/sale: a list of rules is for the first message; a list of lists gives the
    n-th message the n-th list."""
    if items and all(isinstance(i, list) for i in items):
        return items[n - 1] if n <= len(items) else []
    return items if n == 1 else []


def legal_updates(ref, rules, n):
    out = []
    for rule in rules:
        if not rule or rule.get("status") is None:
            continue
        u = legal_pb2.LegalUpdate(
            platform=ref.platform, account_ref=ref.account_ref,
            case_id=rule.get("case_id") or ("CASE-%s" % ref.account_ref if n == 1
                                            else "CASE-%s-%d" % (ref.account_ref, n)),
            status=legal_pb2.CaseStatus.Value(rule["status"]),
            at_ms=(ref.referred_at_ms if ref.HasField("referred_at_ms") else ac.now_ms())
            + int(rule.get("after_ms", 0)))
        for field in ("recovery_minor", "costs_minor"):
            if rule.get(field) is not None:
                setattr(u, field, int(rule[field]))
        for field in ("recovery_ref", "detail"):
            if rule.get(field) is not None:
                setattr(u, field, str(rule[field]))
        out.append(u)
    return out


def sale_results(listing, rules):
    out = []
    for rule in rules:
        if not rule or rule.get("outcome") is None:
            continue
        r = sale_pb2.SaleResult(
            platform=listing.platform, account_ref=listing.account_ref,
            outcome=sale_pb2.SaleOutcome.Value(rule["outcome"]),
            at_ms=(listing.listed_at_ms if listing.HasField("listed_at_ms") else ac.now_ms())
            + int(rule.get("after_ms", 0)))
        if rule.get("price_minor") is not None:
            r.price_minor = int(rule["price_minor"])
        for field in ("buyer", "portfolio_id", "detail"):
            if rule.get(field) is not None:
                setattr(r, field, str(rule[field]))
        out.append(r)
    return out


def reply_name(msg):
    if isinstance(msg, outreach_pb2.ContactOutcome):
        return outreach_pb2.ContactResult.Name(msg.result)
    if isinstance(msg, legal_pb2.LegalUpdate):
        return legal_pb2.CaseStatus.Name(msg.status)
    return sale_pb2.SaleOutcome.Name(msg.outcome)


# ---- the stand-in -------------------------------------------------------------------

def _key(*parts):
    return json.dumps(list(parts))


class Standin:
    def __init__(self, a):
        self.a = a
        self.script = Script(a.script)
        self.stop = False
        self.applied = 0
        self.ctx = zmq.Context()
        self.auth = zmq.auth.thread.ThreadAuthenticator(self.ctx)
        self.auth.start()
        self.stream, self.sockets, self.log = None, {}, None
        try:
            self._open(a)
        except BaseException:
            self.close()
            raise

    def _open(self, a):
        self.allow = ac.AllowKeys((ac.load_public(k) for k in a.allow), "downstream_standin")
        self.auth.configure_curve_callback("*", credentials_provider=self.allow)
        pub, sec = ac.load_keypair(a.key)
        self.stream = ac.Stream(a.staging_endpoint, ac.load_public(a.staging_public), (pub, sec),
                                state_path=a.state, context=self.ctx,
                                resend_timeout=a.resend_timeout, ack_store_interval=0)
        self.inbox = dict(self.stream.notes.get("inbox", {}))     # _key(svc, principal, sid) -> seq
        self.counts = dict(self.stream.notes.get("counts", {}))   # _key(body, platform, ref) -> n
        self.rejected_seen = len(self.stream.rejected)
        self.started_ms = ac.now_ms()
        self.log = open(a.log, "a", encoding="utf-8")
        for name in SERVICES:
            s = self.ctx.socket(zmq.ROUTER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.MAXMSGSIZE, ac.DEFAULT_MAX_MESSAGE_BYTES)
            s.setsockopt(zmq.HEARTBEAT_IVL, 1000)
            s.setsockopt(zmq.HEARTBEAT_TIMEOUT, 5000)
            s.curve_server = True
            s.curve_publickey, s.curve_secretkey = pub, sec
            self.sockets[name] = s
            s.bind(getattr(a, name + "_endpoint"))
        line = "downstream_standin: ready " + " ".join(
            "%s=%s" % (n, getattr(a, n + "_endpoint")) for n in SERVICES)
        if a.ready:
            tmp = a.ready + ".tmp"
            with open(tmp, "w") as f:
                f.write(line + "\n")
            os.rename(tmp, a.ready)
        print(line, file=sys.stderr, flush=True)

    def record(self, entry):
        ac.write_log_line(self.log, entry)

    def apply(self, service, principal, env):
        """A newly applied message: its replies (enqueued later) and its log entry."""
        kind = env.WhichOneof("body")
        body = getattr(env, kind)
        count_key = _key(kind, body.platform, body.account_ref)
        n = self.counts.get(count_key, 0) + 1
        self.counts[count_key] = n
        replies = []
        section = SCRIPT_SECTION.get(kind)
        if section:
            items = self.script.section(body.account_ref, section)
            try:
                if kind == "contact_request":
                    o = contact_outcome(body, items[n - 1] if n <= len(items) else None)
                    replies = [o] if o is not None else []
                elif kind == "legal_referral":
                    replies = legal_updates(body, _rules_for(items, n), n)
                else:
                    replies = sale_results(body, _rules_for(items, n))
            except (ValueError, KeyError, TypeError) as e:
                warn("script rule for %s %s #%d not usable, nothing sent: %s"
                     % (section, body.account_ref, n, e))
                replies = []
        entry = {k: None for k in ALWAYS_LOGGED}
        entry.update(ac.message_to_dict(body))
        at = AT_FIELD[kind]
        entry.update(service=service, body=kind, principal=principal, stream_id=env.stream_id,
                     seq=env.seq, n=n, at_ms=getattr(body, at) if body.HasField(at) else None,
                     replies=[reply_name(r) for r in replies])
        self.record(entry)
        self.applied += 1
        return replies

    def take_batch(self, service):
        sock = self.sockets[service]
        items = []
        while len(items) < BATCH_MAX:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
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
        self.script.refresh()
        streams = {}    # inbox key -> dict(to, stream_id, last_seq, fresh, dup, advanced, gap)
        rejects = []    # (routing id, envelope)
        replies = []
        for routing_id, principal, data in items:
            env = envelope_pb2.Envelope()
            try:
                env.ParseFromString(data)
            except Exception:
                rejects.append((routing_id, ac.reject_envelope(
                    0, 0, Reject.PERMANENT, Reject.MALFORMED, 0, "bytes that do not decode")))
                continue
            if env.seq == 0 and env.request_id:
                rejects.append((routing_id, self.answer_query(service, env)))
                continue
            if env.seq == 0 or env.stream_id == 0 or env.request_id:
                rejects.append((routing_id, ac.reject_envelope(
                    0, env.request_id, Reject.PERMANENT, Reject.MALFORMED, 0,
                    "a stream message has stream_id and seq >= 1; a query seq 0 and request_id")))
                continue
            key = _key(service, principal, env.stream_id)
            s = streams.setdefault(key, dict(fresh=False, dup=False, advanced=False, gap=0))
            s["to"], s["stream_id"], s["last_seq"] = routing_id, env.stream_id, env.seq
            pos = self.inbox.get(key, 0)
            kind = env.WhichOneof("body")
            if env.seq <= pos:
                s["dup"] = True
            elif env.seq > pos + 1:
                s["gap"] = pos + 1
            elif kind not in TAKES[service]:
                warn("%s refused seq %d of stream %d: body %s (UNKNOWN_TYPE)"
                     % (service, env.seq, env.stream_id, kind))
                rejects.append((routing_id, ac.reject_envelope(
                    env.stream_id, 0, Reject.PERMANENT, Reject.UNKNOWN_TYPE, env.seq,
                    "the %s stand-in takes %s" % (service, ", ".join(TAKES[service])),
                    field="body")))
                self.inbox[key] = env.seq
                s.update(fresh=True, advanced=True, gap=0)
            else:
                self.inbox[key] = env.seq
                s.update(fresh=True, advanced=True, gap=0)
                replies.extend(self.apply(service, principal, env))
        if any(s["advanced"] for s in streams.values()):
            # The inbox, the counters and the replies in one state-file write, before
            # staging hears the Ack.
            self.stream.notes.update(inbox=dict(self.inbox), counts=dict(self.counts))
            if replies:
                self.stream.enqueue(replies)
            else:
                self.stream.save_state()
        for routing_id, env in rejects:
            ac.send_reply(sock, routing_id, env)
        for key, s in streams.items():
            if s["advanced"] or s["dup"]:
                env = envelope_pb2.Envelope(stream_id=s["stream_id"], sent_at_ms=ac.now_ms())
                env.ack.through_seq = self.inbox.get(key, 0)
                env.ack.duplicate = not s["fresh"]
                ac.send_reply(sock, s["to"], env)
            if s["gap"]:
                ac.send_reply(sock, s["to"], ac.reject_envelope(
                    s["stream_id"], 0, Reject.REWIND, Reject.GAP, s["last_seq"],
                    "seq jumped ahead: resend from %d" % s["gap"], expected=s["gap"]))

    def answer_query(self, service, env):
        if env.HasField("health_query"):
            out = envelope_pb2.Envelope(request_id=env.request_id, sent_at_ms=ac.now_ms())
            out.health.service = "downstream-standin"
            out.health.uptime_ms = max(0, ac.now_ms() - self.started_ms)
            out.health.streams = sum(1 for k in self.inbox if json.loads(k)[0] == service)
            out.health.outbox_unacked = self.stream.unacked
            out.health.dead_letters = len(self.stream.rejected)
            return out
        return ac.reject_envelope(0, env.request_id, Reject.PERMANENT, Reject.UNKNOWN_TYPE, 0,
                               "the stand-in answers health queries only")

    def report_rejects(self):
        for r in self.stream.rejected[self.rejected_seen:]:
            warn("staging refused reply: " + json.dumps(r, sort_keys=True))
        self.rejected_seen = len(self.stream.rejected)

    def run(self):
        poller = zmq.Poller()
        for s in self.sockets.values():
            poller.register(s, zmq.POLLIN)
        poller.register(self.stream.socket, zmq.POLLIN)
        auth_warned = False
        while not self.stop:
            try:
                ready = dict(poller.poll(min(self.stream.wait_ms(), 200)))
            except zmq.ZMQError:
                continue
            for name in SERVICES:
                if self.sockets[name] in ready:
                    self.take_batch(name)
            self.stream.process_replies()
            self.stream.pump()
            self.report_rejects()
            if self.stream.auth_refused and not auth_warned:
                warn("staging refused the stand-in's key at the handshake (not in its keys "
                     "file with role service?)")
            auth_warned = self.stream.auth_refused
            if self.stream.stuck:
                warn("reply stream stuck: %s" % self.stream.stuck)
                return 1
        return 0

    def close(self):
        if self.stream is not None:
            self.stream.close()   # saves the acked mark
        for s in self.sockets.values():
            s.close(0)
        self.auth.stop()
        self.ctx.term()
        if self.log is not None:
            self.log.close()


def main():
    p = argparse.ArgumentParser(description="recording stand-in for outreach, legal and sale "
                                            "(see the module docstring)")
    for name in SERVICES:
        p.add_argument("--%s-endpoint" % name, required=True, help="where %s listens" % name)
    p.add_argument("--key", required=True, help="the stand-in's key pair (.key)")
    p.add_argument("--allow", action="append", required=True,
                   help="a public key (.pub or z85) that may connect: staging's; repeatable")
    p.add_argument("--log", required=True, help="the log of applied messages (JSON lines)")
    p.add_argument("--staging-endpoint", required=True, help="staging's listen endpoint")
    p.add_argument("--staging-public", required=True, help="staging's public key (.pub or z85)")
    p.add_argument("--state", required=True, help="state file of the reply stream")
    p.add_argument("--script", help="scripted replies (JSON), re-read when it changes")
    p.add_argument("--ready", help="write the ready line to this file once bound")
    p.add_argument("--resend-timeout", type=float, default=2.0, help="seconds")
    p.add_argument("--proto-dir", help="where envelope_pb2 etc. are")
    a = p.parse_args()
    try:
        s = Standin(a)
    except ScriptError as e:
        warn("bad script: %s" % e)
        return 2

    def on_signal(signum, frame):
        s.stop = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        rc = s.run()
    finally:
        s.close()
    warn("stopped applied=%d" % s.applied)
    return rc


if __name__ == "__main__":
    sys.exit(main())
