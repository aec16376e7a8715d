#!/usr/bin/env python3
"""outreach_checker: the independent checker of the outreach property test
(property_outreach.py). It reads every delivery the workers made (the spool, whose
call/ and visit/ folders are the call log), the broker's export (tasks, opt-outs,
conversations), staging's export (holds and closures, from each account's timeline), the
test's ground truth about the borrowers (accounts.json) and the jurisdiction profiles
file, and reports every contact outside the profile's rules and every duplicate.

Why independent: the conduct gate (services/outreach/conduct.c) decides before each
attempt; if it has a bug, a checker built on its code would share the bug. So nothing
here is taken from the C side: the profiles file is parsed by this file's own libconfig
subset parser, every rule is re-derived from the file and from the data (local times
with zoneinfo in the borrower's zone from the ground truth, persons from the ground
truth, conversations and opt-outs from the call log), and only the broker's and
staging's exports are trusted as records of what was said to them (STOP replies,
holds). Rules (families in the summary):
  profile             the delivery's profile is the one of the borrower's country
                      (jurisdictions, else the file's default); its zone is the borrower's
  window              local time in [window.start, window.end); not a rest day or holiday
  caps                per person and per account, per local day and any rolling 7 days;
                      a vulnerable borrower's person caps are the tighter; with
                      count_connected only attempts that reached the borrower count
  after_conversation  nothing on a channel in (conv, conv + N x 24 h) after a conversation
                      (a call or visit that reached the person, or the broker's
                      last_conversation_ms): the wait ends at conv + N days, as Reg F's
                      "within seven consecutive days after" ends with day 7
  opt_out             nothing after an OPTED_OUT call/visit; nothing on an opted-out
                      channel after the broker's opted_out_ms
  contact_point       the point is the borrower's own, verified and consented; letters and
                      visits go to the borrower's address
  banned              no banned phrase of the text's language (case-insensitive)
  opt_out_notice      on the profile's opt_out_notice channels, an opt-out phrase
  hold                nothing while a hold is placed and not lifted, nor once closed,
                      but the one notice of assignment (notice_of_assignment_v1) each
                      sale of the account owes its borrower
  duplicate           each (platform, contact_id) and each task delivered at most once
  resolution          every broker task final or pending; spool and broker agree
  person              the broker's person keys group accounts as the ground truth does
Not checkable from these inputs: vulnerable_gentle_only (a gentle template shares its
id with the ordinary one, and the template book is not an input).

  outreach_checker.py --spool DIR --broker broker.jsonl --staging staging.jsonl
                      --profiles profiles.conf --accounts accounts.json
  outreach_checker.py --self-test SAMPLE_DIR [--profiles profiles.conf]
Exit 0: no violation; 1: violations (one per line on stderr); 2: unreadable input.
--self-test copies a kept run (spool/, broker.jsonl, staging.jsonl, accounts.json) to a
temporary directory, doctors it one way at a time and asserts that each doctoring adds a
violation of its family naming the doctored task, and that each control (doctored data
still within the rules: 20:59, a lifted hold, the wait's last instant...) adds none."""
import argparse
import bisect
import collections
import datetime
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import types
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROFILES = os.path.join(os.path.dirname(os.path.dirname(HERE)),
                                "services", "outreach", "profiles.conf")
DAY_MS = 86400000
WEEK_MS = 7 * DAY_MS
CHANNELS = ["sms", "email", "letter", "call", "visit"]          # proto Channel 1..5
VOICE = {"call", "visit"}
RESULTS = ["CONTACT_RESULT_UNSPECIFIED", "DELIVERED", "FAILED", "NO_ANSWER",
           "RIGHT_PARTY_CONTACT", "WRONG_NUMBER", "REFUSAL", "PROMISE_TO_PAY", "DISPUTED",
           "COMPLAINED", "PLAN_AGREED", "SETTLEMENT_OFFERED", "OPTED_OUT", "NOT_ATTEMPTED"]
DELIVERED, OPTED_OUT, NOT_ATTEMPTED = 1, 12, 13
CONVERSATION = {4, 6, 7, 8, 9, 10, 11, 12}     # a person was spoken to
FINAL = {"TASK_DONE", "TASK_CANCELLED", "TASK_REFUSED", "TASK_NEEDS_PERSON", "TASK_PENDING"}
CLOSED_STAGES = {"paid", "settled", "recalled", "sold", "written_off"}
# The letter staging sends once when an account is sold (DESIGN.md section 5: the
# borrower gets a notice of assignment through outreach): the one delivery a sold
# account may have.
NOTICE_OF_ASSIGNMENT = "notice_of_assignment_v1"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]   # Python's weekday() order
FAMILIES = ["profile", "window", "caps", "after_conversation", "opt_out", "contact_point",
            "banned", "opt_out_notice", "hold", "duplicate", "resolution", "person"]


class InputError(Exception):
    """An input the checker cannot read: exit 2, never a silent pass."""


# ------------------------------------------------------------------ libconfig subset

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<float>[-+]?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+))
  | (?P<hex>0[xX][0-9A-Fa-f]+(?:LL|L)?)
  | (?P<bin>0[bB][01]+(?:LL|L)?)
  | (?P<oct>0[oOqQ][0-7]+(?:LL|L)?)
  | (?P<int>[-+]?\d+(?:LL|L)?)
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}()\[\]])
""", re.S | re.X)
ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "f": "\f", "a": "\a",
           "b": "\b", "v": "\v", "'": "'", "/": "/"}


def unquote(literal, where):
    """The bytes of a libconfig string literal (escapes, \\xNN), decoded as UTF-8."""
    out, body, i = bytearray(), literal[1:-1], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
        elif body[i + 1] == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", body[i + 2:i + 4]):
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        elif body[i + 1] in ESCAPES:
            out += ESCAPES[body[i + 1]].encode()
            i += 2
        else:
            raise InputError("%s: unknown escape \\%s" % (where, body[i + 1]))
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("%s: a string that is not UTF-8" % where)


def scalar(kind, text, where):
    if kind == "float":
        return float(text)
    digits = text.rstrip("L")
    base = {"hex": 16, "bin": 2, "oct": 8, "int": 10}[kind]
    if kind in ("bin", "oct"):
        digits = digits[2:]
    return int(digits, base)


def tokenize(text, name):
    tokens, pos, line = [], 0, 1
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise InputError("%s:%d: unexpected %r" % (name, line, text[pos:pos + 20]))
        kind, value = m.lastgroup, m.group()
        if kind not in ("ws", "comment"):
            tokens.append((kind, value, line))
        line += value.count("\n")
        pos = m.end()
    tokens.append(("eof", "", line))
    return tokens


class ConfigParser:
    """Settings `name = value;` (or `:`; `;`, `,` or nothing after), groups {...}, lists
    (...), arrays [...] of scalars, adjacent strings joined, trailing commas allowed."""

    def __init__(self, text, name):
        self.tokens, self.i, self.name = tokenize(text, name), 0, name

    def peek(self):
        return self.tokens[self.i]

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            self.fail("expected %r, found %r" % (value, tok[1] or "end of file"))
        self.i += 1
        return tok

    def fail(self, why):
        raise InputError("%s:%d: %s" % (self.name, self.peek()[2], why))

    def settings(self, close):
        group = {}
        while self.peek()[1] != close and self.peek()[0] != "eof":
            kind, key, _ = self.take()
            if kind != "name":
                self.i -= 1
                self.fail("expected a setting name, found %r" % key)
            if self.peek()[1] not in ("=", ":"):
                self.fail("expected '=' or ':' after %s" % key)
            self.take()
            if key in group:
                self.fail("duplicate setting %s" % key)
            group[key] = self.value()
            if self.peek()[1] in (";", ","):
                self.take()
        return group

    def sequence(self, close, element):
        items = []
        while self.peek()[1] != close:
            items.append(element())
            if self.peek()[1] == ",":
                self.take()
            elif self.peek()[1] != close:
                self.fail("expected ',' or %r" % close)
        self.take(close)
        return items

    def value(self):
        kind, text, _ = self.peek()
        if text == "{":
            self.take()
            group = self.settings("}")
            self.take("}")
            return group
        if text == "(":
            self.take()
            return self.sequence(")", self.value)
        if text == "[":
            self.take()
            return self.sequence("]", self.scalar_value)
        return self.scalar_value()

    def scalar_value(self):
        kind, text, line = self.take()
        where = "%s:%d" % (self.name, line)
        if kind == "string":
            parts = [unquote(text, where)]
            while self.peek()[0] == "string":
                parts.append(unquote(self.take()[1], where))
            return "".join(parts)
        if kind == "name" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind in ("float", "hex", "bin", "oct", "int"):
            return scalar(kind, text, where)
        self.i -= 1
        self.fail("expected a value, found %r" % (text or "end of file"))

    def document(self):
        root = self.settings("")
        if self.peek()[0] != "eof":
            self.fail("unexpected %r" % self.peek()[1])
        return root


def parse_libconfig(text, name="<text>"):
    return ConfigParser(text, name).document()


# ------------------------------------------------------------------ profiles

PROFILE_KEYS = {"name", "jurisdictions", "window", "rest_days", "holidays", "caps",
                "count_connected", "opt_out_notice", "vulnerable_gentle_only", "languages"}
CAP_KEYS = {"channel", "person_per_day", "person_per_7_days", "account_per_day",
            "account_per_7_days", "vulnerable_person_per_day", "vulnerable_person_per_7_days",
            "wait_after_conversation_days"}


def known(where, group, keys):
    """Unknown keys are refused: a rule this checker does not know would go unchecked."""
    if not isinstance(group, dict):
        raise InputError("%s: expected a group" % where)
    extra = sorted(set(group) - keys)
    if extra:
        raise InputError("%s: unknown setting %s" % (where, ", ".join(extra)))


def minutes(text, where):
    m = re.fullmatch(r"(\d\d):(\d\d)", text or "")
    if not m or int(m.group(1)) * 60 + int(m.group(2)) > 24 * 60 or int(m.group(2)) > 59:
        raise InputError("%s: not HH:MM: %r" % (where, text))
    return int(m.group(1)) * 60 + int(m.group(2))


def profile_caps(where, caps):
    out = {}
    for cap in caps:
        known(where + " caps", cap, CAP_KEYS)
        if cap.get("channel") not in CHANNELS or cap["channel"] in out:
            raise InputError("%s: bad or repeated cap channel %r" % (where, cap.get("channel")))
        out[cap["channel"]] = dict(cap)
    return out


def profile_languages(where, languages):
    out = {}
    for entry in languages:
        known(where + " languages", entry, {"language", "banned", "opt_out"})
        tag = entry.get("language", "").lower()
        out[tag] = ([p.lower() for p in entry.get("banned", [])],
                    [p.lower() for p in entry.get("opt_out", [])])
    return out


def make_profile(where, p):
    known(where, p, PROFILE_KEYS)
    window = p.get("window")
    known(where + " window", window, {"start", "end"})
    rest = p.get("rest_days", [])
    if any(day not in WEEKDAYS for day in rest):
        raise InputError("%s: bad rest_days %r" % (where, rest))
    return types.SimpleNamespace(
        name=p["name"], jurisdictions=[j.upper() for j in p.get("jurisdictions", [])],
        start=minutes(window.get("start"), where), end=minutes(window.get("end"), where),
        rest={WEEKDAYS.index(day) for day in rest},
        holidays={datetime.date.fromisoformat(h) for h in p.get("holidays", [])},
        caps=profile_caps(where, p.get("caps", [])),
        count_connected=bool(p.get("count_connected", False)),
        notice=set(p.get("opt_out_notice", [])),
        languages=profile_languages(where, p.get("languages", [])))


def load_profiles(path):
    """(profiles by name, the default's name, profile name by jurisdiction)."""
    with open(path, encoding="utf-8") as f:
        root = parse_libconfig(f.read(), path)
    known(path, root, {"default", "profiles"})
    profiles, by_country = {}, {}
    for i, p in enumerate(root.get("profiles", [])):
        prof = make_profile("%s: profile %d" % (path, i + 1), p)
        profiles[prof.name] = prof
        for j in prof.jurisdictions:
            by_country[j] = prof.name
    if root.get("default") not in profiles:
        raise InputError("%s: the default %r is no profile" % (path, root.get("default")))
    return profiles, root["default"], by_country


def language_of(profile, tag):
    """(banned, opt_out) for a BCP 47 tag: exact tag, then primary subtag; else None."""
    tag = (tag or "").lower()
    return profile.languages.get(tag) or profile.languages.get(tag.split("-")[0])


# ------------------------------------------------------------------ inputs

def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise InputError("%s: %s" % (path, e))


def read_jsonl(path):
    """The file's rows one at a time: a 100,000-account run's exports do not fit in
    memory as dicts all at once."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as e:
                    raise InputError("%s:%d: %s" % (path, n, e))


def only(row, keys):
    """The fields of row a rule reads. Each loaded record keeps no more: 1.1 million spool
    records and broker tasks whole took 19 GB; slimmed, a few."""
    return {k: row[k] for k in keys if k in row}


# The fields the rules read, per input.
SPOOL_TASK_KEYS = ("task_id", "platform", "account_ref", "contact_id", "channel", "profile",
                   "time_zone", "to", "language", "subject", "text", "template_id")
BROKER_TASK_KEYS = ("state", "result", "due_ms", "done_ms", "created_ms")
BROKER_REQUEST_KEYS = ("account_ref", "channel", "person_key")
TIMELINE_KEYS = ("seq", "at_ms", "kind", "reason", "stage")
STAGING_ACCOUNT_KEYS = ("id", "account_ref", "timeline_count")


def load_spool(spool_dir):
    if not os.path.isdir(spool_dir):
        raise InputError("%s: no spool directory" % spool_dir)
    records = []
    for folder in CHANNELS:
        for path in sorted(glob.glob(os.path.join(spool_dir, folder, "*.json"))):
            rec = read_json(path)
            whole = rec.get("task") or {}
            task = only(whole, SPOOL_TASK_KEYS)
            task["address"] = {"line1": (whole.get("address") or {}).get("line1", "")}
            records.append(types.SimpleNamespace(
                path=path, folder=folder, at=int(rec.get("sent_at_ms", 0)),
                result=int(rec.get("result", 0)), task=task, task_id=task.get("task_id", ""),
                platform=task.get("platform", ""), account=task.get("account_ref", ""),
                contact_id=task.get("contact_id", ""),
                channel=str(task.get("channel", folder)).lower()))
    return records


def load_broker(path):
    """(tasks by id, broker persons by hex key)."""
    tasks, persons = {}, {}
    for row in read_jsonl(path):
        if row.get("table") == "task":
            task = only(row["task"], BROKER_TASK_KEYS)
            task["request"] = only(row["task"].get("request", {}), BROKER_REQUEST_KEYS)
            tasks[row["id"]] = task
        elif row.get("table") == "person":
            persons[row["who"]] = row.get("person", {})
    return tasks, persons


def staging_rows(path):
    """(account records in id order, timeline entries in file order). `staging dump`
    prints the accounts table, then the timeline table, both keyed by the account id
    (big-endian, so in id order); entries carry no account reference."""
    accounts, entries = [], []
    for n, row in enumerate(read_jsonl(path), 1):
        if "seq" in row:
            entries.append(only(row, TIMELINE_KEYS))
        elif "account_ref" in row and "id" in row:
            accounts.append(only(row, STAGING_ACCOUNT_KEYS))
        else:
            raise InputError("%s: line %d is neither an account nor a timeline entry" % (path, n))
    return sorted(accounts, key=lambda a: int(a["id"])), entries


def load_staging(path):
    """Timeline entries by account_ref: each account (by id) owns the next
    timeline_count entries, whose seqs must run 1..timeline_count."""
    accounts, entries = staging_rows(path)
    timelines, i = {}, 0
    for acct in accounts:
        n = int(acct.get("timeline_count", 0))
        group = entries[i:i + n]
        if [int(e.get("seq", 0)) for e in group] != list(range(1, n + 1)):
            raise InputError("%s: the timeline of %s (id %s) is not seq 1..%d"
                             % (path, acct["account_ref"], acct["id"], n))
        timelines[acct["account_ref"]] = group
        i += n
    if i != len(entries):
        raise InputError("%s: %d timeline entries belong to no account" % (path, len(entries) - i))
    return timelines


ACCOUNT_KEYS = {"person", "zone", "country", "vulnerable", "points", "address"}


def load_accounts(path):
    """The test's ground truth; an entry without every field cannot be checked against."""
    accounts = read_json(path)
    for ref, acct in sorted(accounts.items()):
        missing = sorted(ACCOUNT_KEYS - set(acct))
        if missing:
            raise InputError("%s: %s lacks %s" % (path, ref, ", ".join(missing)))
    return accounts


def load_all(args):
    data = types.SimpleNamespace()
    data.profiles, data.default, data.by_country = load_profiles(args.profiles)
    data.accounts = load_accounts(args.accounts)
    data.records = load_spool(args.spool)
    data.tasks, data.persons = load_broker(args.broker)
    data.timelines = load_staging(args.staging)
    return data


# ------------------------------------------------------------------ time

ZONES = {}


def zone(name):
    if name not in ZONES:
        ZONES[name] = zoneinfo.ZoneInfo(name)
    return ZONES[name]


def local(at_ms, zone_name):
    return datetime.datetime.fromtimestamp(at_ms / 1000, zone(zone_name))


def instant(at_ms, zone_name=None):
    utc = datetime.datetime.fromtimestamp(at_ms / 1000, datetime.timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    if zone_name:
        loc = local(at_ms, zone_name)
        text += " local=%s %s %s" % (loc.strftime("%Y-%m-%d %a %H:%M:%S"), loc.tzname(), zone_name)
    return text


# ------------------------------------------------------------------ the checker

class Checker:
    """Runs every rule family over the loaded data; keeps counts and violations."""

    def __init__(self, data):
        self.data = data
        self.checks = collections.Counter()
        self.violations = []            # (family, line)
        self.deliveries = []            # records with a known account, in time order
        self.by_person = collections.defaultdict(list)

    def violate(self, family, d, why, at=None):
        at = d.at if at is None and d is not None else at
        zone_name = d.zone if d is not None and getattr(d, "zone", None) else None
        line = "VIOLATION %s: account=%s task=%s at=%s: %s" % (
            family, d.account if d else "-", d.task_id if d else "-",
            instant(at, zone_name) if at is not None else "-", why)
        self.violations.append((family, line))

    def run(self):
        self.bind()
        for family in FAMILIES:
            getattr(self, "check_" + family)()
        return self

    # -------------------------------------------------------------- binding

    def bind(self):
        """Each record gets its account, person, zone and the profile its country calls
        for; a record of an account the ground truth does not know is a violation."""
        # Vulnerability is the person's: one flagged account makes every account of theirs
        # take the gentler caps.
        vulnerable = {a["person"] for a in self.data.accounts.values() if a.get("vulnerable")}
        for d in sorted(self.data.records, key=lambda r: (r.at, r.path)):
            acct = self.data.accounts.get(d.account)
            d.acct, d.zone = acct, acct["zone"] if acct else None
            d.vulnerable = bool(acct) and acct["person"] in vulnerable
            if acct is None:
                self.checks["profile"] += 1
                self.violate("profile", d, "account unknown to the ground truth")
                continue
            d.person = acct["person"]
            name = self.data.by_country.get(acct["country"].upper(), self.data.default)
            d.profile = self.data.profiles[name]
            self.deliveries.append(d)
            self.by_person[d.person].append(d)

    # -------------------------------------------------------------- profile, window

    def check_profile(self):
        for d in self.deliveries:
            self.checks["profile"] += 2
            if d.task.get("profile") != d.profile.name:
                self.violate("profile", d, "sent under profile %r, but a borrower in %s is "
                             "under %r" % (d.task.get("profile"), d.acct["country"], d.profile.name))
            if d.task.get("time_zone") != d.zone:
                self.violate("profile", d, "worked in zone %r, the borrower lives in %r"
                             % (d.task.get("time_zone"), d.zone))

    def check_window(self):
        for d in self.deliveries:
            p, loc = d.profile, local(d.at, d.zone)
            self.checks["window"] += 3
            secs = loc.hour * 3600 + loc.minute * 60 + loc.second + loc.microsecond / 1e6
            if not p.start * 60 <= secs < p.end * 60:
                self.violate("window", d, "local %s is outside %s's window [%s, %s)" % (
                    loc.strftime("%H:%M:%S"), p.name, hhmm(p.start), hhmm(p.end)))
            if loc.weekday() in p.rest:
                self.violate("window", d, "local %s is a rest day of %s"
                             % (loc.strftime("%A %Y-%m-%d"), p.name))
            if loc.date() in p.holidays:
                self.violate("window", d, "local %s is a holiday of %s" % (loc.date(), p.name))

    # -------------------------------------------------------------- caps

    def counted(self, d):
        if not d.profile.count_connected:
            return True
        return d.result in CONVERSATION if d.channel in VOICE else d.result == DELIVERED

    def check_caps(self):
        groups = collections.defaultdict(list)
        for d in self.deliveries:
            if d.channel in d.profile.caps and self.counted(d):
                groups[("person", d.person, d.channel)].append(d)
                groups[("account", d.account, d.channel)].append(d)
        for (scope, _, _), ds in sorted(groups.items()):
            ats = [d.at for d in ds]
            for d in ds:
                day_cap, week_cap = cap_limits(scope, d)
                self.cap_day(scope, d, ds, ats, day_cap)
                self.cap_week(scope, d, ats, week_cap)

    def cap_day(self, scope, d, ds, ats, cap):
        if cap is None:
            return
        self.checks["caps"] += 1
        date = local(d.at, d.zone).date()
        lo, hi = bisect.bisect_right(ats, d.at - 2 * DAY_MS), bisect.bisect_right(ats, d.at)
        n = sum(1 for e in ds[lo:hi] if local(e.at, d.zone).date() == date)
        if n > cap:
            self.violate("caps", d, "%s %s: %d %s attempts on local day %s > %s_per_day %d%s" % (
                scope, scope_key(scope, d), n, d.channel, date, scope, cap, self.why_counted(d)))

    def cap_week(self, scope, d, ats, cap):
        if cap is None:
            return
        self.checks["caps"] += 1
        n = bisect.bisect_right(ats, d.at) - bisect.bisect_right(ats, d.at - WEEK_MS)
        if n > cap:
            self.violate("caps", d, "%s %s: %d %s attempts in (%s, this] > %s_per_7_days %d%s" % (
                scope, scope_key(scope, d), n, d.channel, instant(d.at - WEEK_MS), scope, cap,
                self.why_counted(d)))

    def why_counted(self, d):
        vulnerable = " (vulnerable borrower)" if d.vulnerable else ""
        return vulnerable + (" (connected only)" if d.profile.count_connected else "")

    # -------------------------------------------------------------- conversations

    def conversations(self):
        """Per person, the instants they were spoken to: the call log's conversations
        and the broker's last_conversation_ms (mapped to persons by its tasks)."""
        conv = collections.defaultdict(set)
        for d in self.deliveries:
            if d.channel in VOICE and d.result in CONVERSATION:
                conv[d.person].add((d.at, d.task_id))
        for who, person in self.data.persons.items():
            if "last_conversation_ms" in person:
                for p in self.persons_of_key(who):
                    conv[p].add((int(person["last_conversation_ms"]), "broker person " + who))
        return {p: sorted(v) for p, v in conv.items()}

    def check_after_conversation(self):
        conv = self.conversations()
        for d in self.deliveries:
            wait = d.profile.caps.get(d.channel, {}).get("wait_after_conversation_days", 0)
            if not wait:
                continue
            self.checks["after_conversation"] += 1
            for at, source in conv.get(d.person, []):
                if at < d.at < at + wait * DAY_MS:
                    self.violate("after_conversation", d, "%s within %d days after a "
                                 "conversation at %s (%s)" % (d.channel, wait, instant(at), source))
                    break

    # -------------------------------------------------------------- opt-outs

    def check_opt_out(self):
        stops = collections.defaultdict(list)
        for d in self.deliveries:
            if d.channel in VOICE and d.result == OPTED_OUT:
                stops[d.person].append(d)
        for d in self.deliveries:
            self.checks["opt_out"] += 1
            early = [s for s in stops.get(d.person, []) if s.at < d.at]
            if early:
                self.violate("opt_out", d, "%s after the person opted out on %s %s at %s" % (
                    d.channel, early[0].channel, early[0].task_id, instant(early[0].at)))
        for who, person in sorted(self.data.persons.items()):
            self.broker_opt_out(who, person)

    def broker_opt_out(self, who, person):
        bits, at = int(person.get("opted_out_channels", 0)), person.get("opted_out_ms")
        if not bits or at is None:
            return
        channels = [c for i, c in enumerate(CHANNELS) if bits >> i & 1]
        for p in self.persons_of_key(who):
            for d in self.by_person.get(p, []):
                if d.channel in channels:
                    self.checks["opt_out"] += 1
                    if d.at > int(at):
                        self.violate("opt_out", d, "%s after the broker recorded an opt-out of "
                                     "%s at %s (person %s)" % (d.channel, "+".join(channels),
                                                               instant(int(at)), who))

    def persons_of_key(self, who):
        """Ground-truth persons whose accounts the broker filed under person key who."""
        if not hasattr(self, "key_persons"):
            self.key_persons = collections.defaultdict(set)
            for task in self.data.tasks.values():
                req = task.get("request", {})
                acct = self.data.accounts.get(req.get("account_ref"))
                if acct is not None:
                    self.key_persons[req.get("person_key")].add(acct["person"])
        return sorted(self.key_persons.get(who, ()))

    # -------------------------------------------------------------- contact points

    def check_contact_point(self):
        for d in self.deliveries:
            self.checks["contact_point"] += 1
            why = self.point_problem(d)
            if why:
                self.violate("contact_point", d, why)

    def point_problem(self, d):
        if d.channel in ("letter", "visit"):
            line1 = (d.task.get("address") or {}).get("line1", "")
            if not d.acct.get("address"):
                return "%s to a borrower without an address" % d.channel
            if line1 != d.acct["address"]:
                return "%s to %r, the borrower's address is %r" % (d.channel, line1, d.acct["address"])
            return None
        to = d.task.get("to", "")
        if (d.channel == "email") != ("@" in to):
            return "%s to %r: not a %s" % (d.channel, to, "mailbox" if d.channel == "email" else "phone")
        points = [p for p in d.acct.get("points", []) if p.get("value") == to]
        if not points:
            return "%s to %r: not one of the borrower's contact points" % (d.channel, to)
        bad = [k for k, want in (("verified", True), ("consent", True), ("third_party", False))
               if not any(bool(p.get(k)) == want for p in points)]
        return "%s to %r: %s" % (d.channel, to, ", ".join(
            ("not " + k) if k != "third_party" else "a third party's" for k in bad)) if bad else None

    # -------------------------------------------------------------- language

    def check_banned(self):
        for d in self.deliveries:
            lang = language_of(d.profile, d.task.get("language"))
            body = (d.task.get("subject", "") + "\n" + d.task.get("text", "")).lower()
            self.checks["banned"] += 1
            for phrase in (lang[0] if lang else []):
                if phrase in body:
                    self.violate("banned", d, "text holds %r, banned by %s for %r"
                                 % (phrase, d.profile.name, d.task.get("language")))

    def check_opt_out_notice(self):
        for d in self.deliveries:
            if d.channel not in d.profile.notice:
                continue
            self.checks["opt_out_notice"] += 1
            lang = language_of(d.profile, d.task.get("language"))
            phrases = lang[1] if lang else []
            text = d.task.get("text", "").lower()
            if not any(p in text for p in phrases):
                self.violate("opt_out_notice", d, "%s text in %r without an opt-out phrase of %s %s"
                             % (d.channel, d.task.get("language"), d.profile.name, phrases))

    # -------------------------------------------------------------- holds

    def check_hold(self):
        spans = {ref: hold_spans(entries) for ref, entries in self.data.timelines.items()}
        notified = set()   # (account, sale instant): its notice of assignment was delivered
        for d in self.deliveries:
            self.checks["hold"] += 1
            for kind, start, end in spans.get(d.account, []):
                if not (start < d.at and (end is None or d.at < end)):
                    continue
                if kind == "sold" and d.task.get("template_id") == NOTICE_OF_ASSIGNMENT \
                        and (d.account, start) not in notified:
                    notified.add((d.account, start))   # the first, in time order: owed
                    continue
                self.violate("hold", d, "%s %s while %s (from %s%s)" % (
                    d.channel, d.task.get("template_id", "?"), kind, instant(start),
                    ", lifted " + instant(end) if end is not None else ", never lifted"))

    # -------------------------------------------------------------- duplicates

    def check_duplicate(self):
        keys = collections.defaultdict(list)
        for d in self.data.records:
            self.checks["duplicate"] += 2
            keys[("contact", d.platform, d.contact_id)].append(d)
            keys[("task", d.task_id)].append(d)
        for key, ds in sorted(keys.items()):
            if len(ds) > 1:
                for d in ds[1:]:
                    self.violate("duplicate", d, "%s %s delivered %d times: %s" % (
                        key[0], "/".join(key[1:]), len(ds),
                        ", ".join(os.path.relpath(e.path, os.path.dirname(os.path.dirname(e.path)))
                                  for e in ds)))

    # -------------------------------------------------------------- resolution

    def check_resolution(self):
        spooled = collections.defaultdict(list)
        for d in self.data.records:
            spooled[d.task_id].append(d)
        for tid, task in sorted(self.data.tasks.items()):
            self.task_resolved(tid, task, spooled.get(tid, []))
        for d in self.data.records:
            self.record_matches(d, self.data.tasks.get(d.task_id))

    def task_resolved(self, tid, task, records):
        self.checks["resolution"] += 2
        state, result = task.get("state"), task.get("result")
        stub = types.SimpleNamespace(account=task.get("request", {}).get("account_ref"),
                                     task_id=tid, zone=None)
        if state not in FINAL:
            self.violate("resolution", stub, "task left %s" % state, at=task.get("due_ms"))
        sent = state == "TASK_DONE" and result not in (None, RESULTS[0], RESULTS[NOT_ATTEMPTED])
        if sent and len(records) != 1:
            self.violate("resolution", stub, "TASK_DONE %s with %d spool records" % (result, len(records)),
                         at=task.get("done_ms"))

    def record_matches(self, d, task):
        self.checks["resolution"] += 1
        if task is None:
            return self.violate("resolution", d, "spool record of a task the broker does not have")
        name = RESULTS[d.result] if 0 <= d.result < len(RESULTS) else str(d.result)
        channel = str(task.get("request", {}).get("channel", "")).lower()
        if task.get("state") != "TASK_DONE" or task.get("result") != name:
            self.violate("resolution", d, "spool says %s, the broker %s %s" % (
                name, task.get("state"), task.get("result")))
        if not d.channel == d.folder == channel:
            self.violate("resolution", d, "a %s record in %s/ for a %s task" % (d.channel, d.folder, channel))

    # -------------------------------------------------------------- persons

    def check_person(self):
        key_persons, person_keys = collections.defaultdict(set), collections.defaultdict(set)
        for tid, task in sorted(self.data.tasks.items()):
            req = task.get("request", {})
            acct = self.data.accounts.get(req.get("account_ref"))
            self.checks["person"] += 1
            if acct is None:
                self.violate("person", types.SimpleNamespace(account=req.get("account_ref"),
                             task_id=tid, zone=None), "a task for an account the ground truth "
                             "does not know", at=task.get("created_ms"))
                continue
            key_persons[req.get("person_key")].add(acct["person"])
            person_keys[acct["person"]].add(req.get("person_key"))
        for key, persons in sorted(key_persons.items()):
            if len(persons) > 1:
                self.violate("person", None, "broker person key %s joins %d persons" % (key, len(persons)))
        for person, keys in sorted(person_keys.items()):
            if len(keys) > 1:
                self.violate("person", None, "person %s... split over broker keys %s"
                             % (person[:16], sorted(keys)))


def hhmm(m):
    return "%02d:%02d" % (m // 60, m % 60)


def tighter(a, b):
    return b if a is None else a if b is None else min(a, b)


def cap_limits(scope, d):
    """(per-day, per-7-days) for scope "person" or "account"; None: no cap."""
    cap = d.profile.caps[d.channel]
    day, week = cap.get(scope + "_per_day"), cap.get(scope + "_per_7_days")
    if scope == "person" and d.vulnerable:
        day = tighter(day, cap.get("vulnerable_person_per_day"))
        week = tighter(week, cap.get("vulnerable_person_per_7_days"))
    return day, week


def scope_key(scope, d):
    return d.account if scope == "account" else d.person[:16] + "..."


def hold_kind(entry):
    """The hold a timeline entry names: the first word of its reason ("complaint
    received...", "manual hold: ...", "cease_contact hold placed...", "dispute resolved...")."""
    word = re.match(r"[a-z_]+", entry.get("reason", ""))
    return word.group() if word else "unnamed"


def hold_spans(entries):
    """[(what, start_ms, end_ms or None)]: holds placed until lifted, and closure ("sold"
    when a sale closed the account, else "closed"); a put-back ends a sale's span."""
    spans, open_holds, closed_at, closed_as = [], collections.defaultdict(list), None, None
    for e in sorted(entries, key=lambda e: (e.get("at_ms", 0), e.get("seq", 0))):
        at, kind = int(e.get("at_ms", 0)), e.get("kind")
        if kind == "hold":
            open_holds[hold_kind(e)].append(at)
        elif kind == "hold_lifted":
            spans += [(hold_kind(e) + " hold", s, at) for s in open_holds.pop(hold_kind(e), [])]
        elif kind == "stage":
            stage = e.get("stage") or e.get("reason", "").split(" -> ")[-1].split(":")[0]
            if stage in CLOSED_STAGES and closed_at is None:
                closed_at, closed_as = at, "sold" if stage == "sold" else "closed"
            elif stage not in CLOSED_STAGES and closed_at is not None:
                spans.append((closed_as, closed_at, at))
                closed_at = None
    spans += [(k + " hold", s, None) for k, starts in open_holds.items() for s in starts]
    return spans + ([(closed_as, closed_at, None)] if closed_at is not None else [])


# ------------------------------------------------------------------ report

def summary(checker):
    data, ds = checker.data, checker.deliveries
    lines = ["outreach_checker: %d spool records; %d of %d accounts and %d persons contacted" % (
        len(data.records), len({d.account for d in ds}), len(data.accounts), len({d.person for d in ds}))]
    lines.append("by channel: " + ", ".join("%s %d" % (c, sum(d.channel == c for d in data.records))
                                           for c in CHANNELS))
    by_profile = collections.Counter(d.profile.name for d in ds)
    lines.append("by profile: " + ", ".join("%s %d" % kv for kv in sorted(by_profile.items())))
    results = collections.Counter(RESULTS[d.result] if d.result < len(RESULTS) else d.result
                                  for d in data.records)
    lines.append("by result: " + ", ".join("%s %d" % kv for kv in sorted(results.items())))
    states = collections.Counter(t.get("state", "?") for t in data.tasks.values())
    lines.append("broker tasks by state: " + ", ".join("%s %d" % kv for kv in sorted(states.items())))
    found = collections.Counter(f for f, _ in checker.violations)
    for family in FAMILIES:
        lines.append("rule %-19s %6d checks, %d violations" % (family, checker.checks[family], found[family]))
    lines.append("not checked: vulnerable_gentle_only (needs the template book)")
    lines.append("result: %s" % ("%d violations" % len(checker.violations) if checker.violations else "ok"))
    return "\n".join(lines)


def check_paths(args):
    return Checker(load_all(args)).run()


def main_check(args):
    try:
        checker = check_paths(args)
    except (InputError, OSError, KeyError, zoneinfo.ZoneInfoNotFoundError) as e:
        print("outreach_checker: cannot read the inputs: %s" % e, file=sys.stderr)
        return 2
    print(summary(checker))
    for _, line in checker.violations:
        print(line, file=sys.stderr)
    return 1 if checker.violations else 0


# ------------------------------------------------------------------ self-test

def parser_self_test():
    """The libconfig subset on every construct the profiles file may use."""
    text = r'''# comment
    a = 1; b : 0x1F; c = 5L, d = -2.5e1   // comment
    /* block
       comment */ e = "x\"y\\z" " and " "\x41\t";
    f = [ "p", "q", ];  g = ( { h = true; i = FALSE; }, (1, [2]), );  empty = [];
    grp : { nested = { deep = "Ã©猫"; } }
    '''
    got = parse_libconfig(text)
    want = {"a": 1, "b": 31, "c": 5, "d": -25.0, "e": 'x"y\\z and A\t', "f": ["p", "q"],
            "g": [{"h": True, "i": False}, [1, [2]]], "empty": [],
            "grp": {"nested": {"deep": "Ã©猫"}}}
    assert got == want, "libconfig parse: %r" % got
    for bad in ('a = 1; a = 2;', 'a = ;', 'a = [ { b = 1; } ];', 'a = "\\q";', 'a = (1 2);'):
        try:
            parse_libconfig(bad)
        except InputError:
            continue
        raise AssertionError("libconfig: %r was accepted" % bad)


class Sample:
    """A kept run copied to a temporary directory, with helpers to doctor it."""
    FILES = ["broker.jsonl", "staging.jsonl", "accounts.json"]

    def __init__(self, source, profiles, root):
        self.dir = tempfile.mkdtemp(dir=root)
        shutil.copytree(os.path.join(source, "spool"), os.path.join(self.dir, "spool"),
                        ignore=shutil.ignore_patterns("*.tmp"))
        for name in self.FILES:
            shutil.copy(os.path.join(source, name), self.dir)
        shutil.copy(profiles, os.path.join(self.dir, "profiles.conf"))
        self.args = types.SimpleNamespace(
            spool=self.path("spool"), broker=self.path("broker.jsonl"),
            staging=self.path("staging.jsonl"), accounts=self.path("accounts.json"),
            profiles=self.path("profiles.conf"))
        self.data = load_all(self.args)
        self.checker = Checker(self.data).run()
        self.touched = set()        # tasks a caught violation must name (none: any)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def pick(self, want, what):
        """The first bound delivery (time order) satisfying want."""
        for d in self.checker.deliveries:
            if want(d):
                return d
        raise AssertionError("the sample has no %s to doctor" % what)

    def touch(self, task_id):
        self.touched.add(task_id)

    def rewrite(self, d, change):
        self.touch(d.task_id)
        rec = read_json(d.path)
        change(rec)
        write_json(d.path, rec)

    def add(self, d, tag, change):
        """A new record: a copy of d under a new name, contact and task, changed."""
        rec = read_json(d.path)
        for key in ("task_id", "contact_id", "idempotency_key"):
            rec["task"][key] = rec["task"].get(key, "") + "#" + tag
        change(rec)
        write_json(d.path[:-len(".json")] + "%23" + tag + ".json", rec)
        self.touch(rec["task"]["task_id"])

    def edit_lines(self, name, change):
        """change(rows) -> rows, on one of the .jsonl files."""
        rows = change(list(read_jsonl(self.path(name))))
        with open(self.path(name), "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False)


def at_local(d, day, hour):
    """The instant of hour:00 borrower-local on date day."""
    dt = datetime.datetime(day.year, day.month, day.day, hour, tzinfo=zone(d.zone))
    return int(dt.timestamp() * 1000)


def set_at(at):
    def change(rec):
        rec["sent_at_ms"] = at
    return change


def set_task(key, value, result=None):
    def change(rec):
        rec["task"][key] = value
        if result is not None:
            rec["result"] = result
    return change


def mutate_night(s):
    d = s.pick(lambda d: True, "delivery")
    s.rewrite(d, set_at(at_local(d, local(d.at, d.zone).date(), 3)))


def mutate_holiday(s):
    d = s.pick(lambda d: d.profile.holidays, "delivery under a profile with holidays")
    s.rewrite(d, set_at(at_local(d, min(d.profile.holidays), 12)))


def mutate_rest_day(s):
    d = s.pick(lambda d: True, "delivery")
    text = open(s.args.profiles, encoding="utf-8").read()
    start = text.index('name = "%s";' % d.profile.name)
    s.touch(d.task_id)
    day = WEEKDAYS[local(d.at, d.zone).weekday()]
    at = text.index("rest_days = [];", start)
    text = text[:at] + 'rest_days = [ "%s" ];' % day + text[at + len("rest_days = [];"):]
    with open(s.args.profiles, "w", encoding="utf-8") as f:
        f.write(text)


def mutate_duplicate(s):
    d = s.pick(lambda d: True, "delivery")
    shutil.copy(d.path, d.path[:-len(".json")] + "%23copy.json")
    s.touch(d.task_id)


def mutate_point(s, flags, value):
    d = s.pick(lambda d: d.channel in ("sms", "call"), "sms or call")
    accounts = read_json(s.args.accounts)
    accounts[d.account]["points"].append(dict(flags, value=value))
    write_json(s.args.accounts, accounts)
    s.rewrite(d, set_task("to", value))


def mutate_third_party(s):
    mutate_point(s, {"verified": True, "consent": True, "third_party": True}, "+10000000001")


def mutate_unverified(s):
    mutate_point(s, {"verified": False, "consent": True, "third_party": False}, "+10000000002")


def mutate_stranger(s):
    d = s.pick(lambda d: d.channel in ("sms", "call"), "sms or call")
    s.rewrite(d, set_task("to", "+10000000003"))


def mutate_banned(s):
    d = s.pick(lambda d: (language_of(d.profile, d.task.get("language")) or [[]])[0],
               "delivery in a language with banned phrases")
    phrase = language_of(d.profile, d.task.get("language"))[0][0]
    s.rewrite(d, set_task("text", d.task.get("text", "") + " " + phrase.upper()))


def mutate_no_opt_out(s):
    def has_notice(d):
        return d.channel in d.profile.notice and language_of(d.profile, d.task.get("language"))
    d = s.pick(lambda d: d.channel == "sms" and has_notice(d), "sms that must say how to opt out")
    text = d.task.get("text", "")
    for phrase in language_of(d.profile, d.task.get("language"))[1]:
        text = re.sub(re.escape(phrase), "", text, flags=re.I)
    s.rewrite(d, set_task("text", text))


def capped(d, connected_only=None):
    cap = d.profile.caps.get(d.channel, {})
    return (connected_only is None or d.profile.count_connected == connected_only) and any(
        cap.get(k) for k in ("person_per_day", "person_per_7_days", "account_per_day",
                             "account_per_7_days"))


def flood(s, d, result):
    """As many copies of d, a minute apart, as its channel's tightest cap, plus one."""
    limit = min(v for k, v in d.profile.caps[d.channel].items() if k.endswith(("_day", "_days"))
                and not k.startswith("wait"))
    for i in range(limit + 1):
        s.add(d, "cap%d" % i, lambda rec, i=i: rec.update(result=result, sent_at_ms=d.at + 60000 * i))


def mutate_cap(s):
    d = s.pick(capped, "delivery on a capped channel")
    flood(s, d, (4 if d.channel in VOICE else DELIVERED) if d.profile.count_connected else d.result)


def mutate_connected_cap(s):
    d = s.pick(lambda d: capped(d, True), "delivery on a connected-only capped channel")
    flood(s, d, 4 if d.channel in VOICE else DELIVERED)


def mutate_unconnected(s):
    d = s.pick(lambda d: capped(d, True), "delivery on a connected-only capped channel")
    flood(s, d, NO_ANSWER if d.channel in VOICE else 2)


def lone_vulnerable_target(s):
    """A delivery on a channel whose vulnerable 7-day person cap v is tighter than the
    ordinary one, its person with nothing else on that channel within 14 days."""
    def fits(d):
        cap = d.profile.caps.get(d.channel, {})
        v, plain = cap.get("vulnerable_person_per_7_days"), cap.get("person_per_7_days")
        near = [e for e in s.checker.by_person[d.person]
                if e.channel == d.channel and abs(e.at - d.at) < 2 * WEEK_MS]
        others = [a for a in s.checker.data.accounts.values()
                  if a["person"] == d.person and a.get("vulnerable")]
        return v and (plain is None or v < plain) and len(near) == 1 and not others
    d = s.pick(fits, "lone delivery on a channel with a tighter vulnerable cap")
    return d, d.profile.caps[d.channel]["vulnerable_person_per_7_days"]


def spread(s, d, n):
    """n copies of d on the n following days, same time: one a day, n + 1 in 7 days."""
    for i in range(1, n + 1):
        s.add(d, "day%d" % i, lambda rec, i=i: rec.update(sent_at_ms=d.at + i * DAY_MS))


def mutate_vulnerable(s):
    d, v = lone_vulnerable_target(s)
    spread(s, d, v)
    accounts = read_json(s.args.accounts)
    accounts[d.account]["vulnerable"] = True
    write_json(s.args.accounts, accounts)


def mutate_not_vulnerable(s):
    d, v = lone_vulnerable_target(s)
    spread(s, d, v)


def window_edge(minutes_before_end):
    def mutate(s):
        d = s.pick(lambda d: True, "delivery")
        end = datetime.datetime.combine(local(d.at, d.zone).date(), datetime.time(),
                                        zone(d.zone)) + datetime.timedelta(
            minutes=d.profile.end - minutes_before_end)
        s.rewrite(d, set_at(int(end.timestamp() * 1000)))
    return mutate


def mutate_after_opt_out(s):
    d = s.pick(lambda d: d.channel == "call", "call")
    s.rewrite(d, lambda rec: rec.update(result=OPTED_OUT))
    s.add(d, "stop", lambda rec: rec.update(result=NO_ANSWER, sent_at_ms=d.at + DAY_MS))


def mutate_broker_opt_out(s):
    d = s.pick(lambda d: d.task_id in s.data.tasks, "delivery the broker knows")
    who = s.data.tasks[d.task_id]["request"]["person_key"]
    s.touch(d.task_id)

    def change(rows):
        rows = [r for r in rows if not (r.get("table") == "person" and r.get("who") == who)]
        person = dict(s.data.persons.get(who, {}),
                      opted_out_channels=1 << CHANNELS.index(d.channel), opted_out_ms=d.at - 1)
        return rows + [{"table": "person", "who": who, "person": person}]
    s.edit_lines("broker.jsonl", change)


def after_conversation(offset):
    """A call made a conversation, and another call to the person offset(wait) ms after."""
    def mutate(s):
        conv = s.checker.conversations()

        def waits(e):
            return e.profile.caps.get(e.channel, {}).get("wait_after_conversation_days", 0)

        def lone(d):
            """No other conversation within the wait either side of d, and nothing on a
            waited channel in the wait after d: the doctoring alone decides."""
            span = waits(d) * DAY_MS
            return span and not any(abs(at - d.at) < span and src != d.task_id
                                    for at, src in conv.get(d.person, [])) and not any(
                d.at < e.at < d.at + span and waits(e) for e in s.checker.by_person[d.person])
        d = s.pick(lone, "delivery on a channel with a wait after a conversation, none near")
        wait = waits(d)
        s.rewrite(d, lambda rec: rec.update(result=4))
        s.add(d, "conv", lambda rec: rec.update(result=NO_ANSWER, sent_at_ms=d.at + offset(wait)))
    return mutate


def timeline_entry(d, at, kind, reason, stage=None):
    entry = {"seq": 99999, "at_ms": at, "kind": kind, "reason": reason, "actor": "self-test"}
    return dict(entry, stage=stage) if stage else entry


def insert_timeline(s, ref, entry):
    """Appends entry to ref's timeline (next seq), rewriting the dump's layout."""
    accounts, _ = staging_rows(s.args.staging)
    timelines = load_staging(s.args.staging)
    acct = next(a for a in accounts if a["account_ref"] == ref)
    timelines[ref].append(dict(entry, seq=len(timelines[ref]) + 1))
    acct["timeline_count"] = len(timelines[ref])
    rows = accounts + [e for a in accounts for e in timelines[a["account_ref"]]]
    s.edit_lines("staging.jsonl", lambda _: rows)


def stage_free(s, d):
    """d's account has no stage entry within a day of d (a closure before d stays)."""
    return d.account in s.data.timelines and all(
        abs(int(e.get("at_ms", 0)) - d.at) > DAY_MS
        for e in s.data.timelines[d.account] if e.get("kind") == "stage")


def mutate_hold(s):
    d = s.pick(lambda d: d.account in s.data.timelines, "delivery of an exported account")
    s.touch(d.task_id)
    insert_timeline(s, d.account, timeline_entry(d, d.at - 3600000, "hold",
                                                 "complaint received: contact held until it is resolved"))


def mutate_other_hold(s):
    d = s.pick(lambda d: d.account in s.data.timelines, "delivery of an exported account")
    later = {e.account for e in s.checker.deliveries if e.at >= d.at - 3600000}
    others = sorted(r for r in s.data.timelines if r in s.data.accounts and r not in later)
    if not others:
        raise AssertionError("every account is contacted after the first delivery")
    insert_timeline(s, others[0], timeline_entry(d, d.at - 3600000, "hold",
                                                 "manual hold: a hold on someone else"))


def mutate_closed(s):
    d = s.pick(lambda d: stage_free(s, d), "delivery with no stage change near it")
    s.touch(d.task_id)
    insert_timeline(s, d.account, timeline_entry(d, d.at - 3600000, "stage", "late -> paid: paid", "paid"))


def sold_with_notice(s):
    """An account sold an hour before its last delivery, which becomes its notice of
    assignment (a letter when the sample has one): the control's data, and the first
    notice of the doctored pair."""
    def last_of_account(d):
        return not any(e.account == d.account and e.at >= d.at - 3600000 and e is not d
                       for e in s.checker.deliveries)

    def fits(d):
        return stage_free(s, d) and last_of_account(d)
    try:
        d = s.pick(lambda d: d.channel == "letter" and fits(d), "last delivery, a letter")
    except AssertionError:
        d = s.pick(fits, "delivery that is its account's last, with no stage change near it")
    insert_timeline(s, d.account, timeline_entry(d, d.at - 3600000, "stage",
                                                 "sale -> sold: sold (dpd 120)", "sold"))
    s.rewrite(d, set_task("template_id", NOTICE_OF_ASSIGNMENT))
    return d


def mutate_one_notice(s):
    sold_with_notice(s)


def mutate_second_notice(s):
    d = sold_with_notice(s)
    s.add(d, "notice2", lambda rec: rec.update(sent_at_ms=d.at + DAY_MS))


def mutate_hold_lifted(s):
    d = s.pick(lambda d: d.account in s.data.timelines, "delivery of an exported account")
    insert_timeline(s, d.account, timeline_entry(d, d.at - 7200000, "hold",
                                                 "dispute received: contact held until it is resolved"))
    insert_timeline(s, d.account, timeline_entry(d, d.at - 3600000, "hold_lifted",
                                                 "dispute resolved: the debt is confirmed"))


def mutate_leased(s):
    def change(rows):
        task = next(r for r in rows if r.get("table") == "task")
        task["task"]["state"] = "TASK_LEASED"
        s.touch(task["id"])
        return rows
    s.edit_lines("broker.jsonl", change)


def mutate_lost_record(s):
    d = s.pick(lambda d: d.task_id in s.data.tasks, "delivery the broker knows")
    os.unlink(d.path)
    s.touch(d.task_id)


def mutate_result(s):
    d = s.pick(lambda d: d.result == DELIVERED, "delivered message")
    s.rewrite(d, lambda rec: rec.update(result=2))


def mutate_profile(s):
    d = s.pick(lambda d: True, "delivery")
    other = next(n for n in sorted(s.data.profiles) if n != d.profile.name)
    s.rewrite(d, set_task("profile", other))


def mutate_person_key(s):
    counts = collections.Counter(t["request"]["account_ref"] for t in s.data.tasks.values())

    def change(rows):
        task = next(r for r in rows if r.get("table") == "task"
                    and counts[r["task"]["request"]["account_ref"]] > 1)
        task["task"]["request"]["person_key"] = "00" * 16
        return rows
    s.edit_lines("broker.jsonl", change)


NO_ANSWER = 3
# (what, doctor, family, flagged): flagged False is a control: the doctored data are
# within the rules and must add no violation of that family.
MUTATIONS = [
    ("03:00 local", mutate_night, "window", True),
    ("at the window's end", window_edge(0), "window", True),
    ("a minute before the window's end", window_edge(1), "window", False),
    ("on a holiday", mutate_holiday, "window", True),
    ("on a rest day", mutate_rest_day, "window", True),
    ("duplicated", mutate_duplicate, "duplicate", True),
    ("third party's phone", mutate_third_party, "contact_point", True),
    ("unverified phone", mutate_unverified, "contact_point", True),
    ("unknown phone", mutate_stranger, "contact_point", True),
    ("banned word", mutate_banned, "banned", True),
    ("no opt-out phrase", mutate_no_opt_out, "opt_out_notice", True),
    ("over a cap", mutate_cap, "caps", True),
    ("over a connected-only cap", mutate_connected_cap, "caps", True),
    ("unanswered, connected-only cap", mutate_unconnected, "caps", False),
    ("over a vulnerable person's cap", mutate_vulnerable, "caps", True),
    ("the same, borrower not vulnerable", mutate_not_vulnerable, "caps", False),
    ("after an OPTED_OUT call", mutate_after_opt_out, "opt_out", True),
    ("after a STOP reply", mutate_broker_opt_out, "opt_out", True),
    ("a day after a conversation", after_conversation(lambda w: DAY_MS), "after_conversation", True),
    ("a minute before the wait ends", after_conversation(lambda w: w * DAY_MS - 60000),
     "after_conversation", True),
    ("as the wait ends", after_conversation(lambda w: w * DAY_MS), "after_conversation", False),
    ("inside a hold", mutate_hold, "hold", True),
    ("a hold on another person's account", mutate_other_hold, "hold", False),
    ("after a hold was lifted", mutate_hold_lifted, "hold", False),
    ("after closure", mutate_closed, "hold", True),
    ("a second notice of assignment after a sale", mutate_second_notice, "hold", True),
    ("one notice of assignment after a sale", mutate_one_notice, "hold", False),
    ("task left leased", mutate_leased, "resolution", True),
    ("spool record lost", mutate_lost_record, "resolution", True),
    ("result differs from the broker's", mutate_result, "resolution", True),
    ("wrong profile", mutate_profile, "profile", True),
    ("person split", mutate_person_key, "person", True),
]


def try_mutation(source, profiles, root, before, mutation):
    """(ok, line to print) for one doctored copy."""
    what, mutate, family, flagged = mutation
    s = Sample(source, profiles, root)
    try:
        mutate(s)
    except (AssertionError, StopIteration, ValueError) as e:
        return False, "CANNOT  %-40s %s" % (what, e or "the sample has nothing to doctor")
    new = [line for f, line in check_paths(s.args).violations if f == family and line not in before]
    if flagged and s.touched:
        new = [line for line in new if any(" task=%s at=" % t in line for t in s.touched)]
    if flagged:
        return bool(new), "%s %-40s %s" % ("caught " if new else "MISSED ", what,
                                           new[0] if new else "no new %s violation" % family)
    return not new, "%s %-40s %s" % ("allowed" if not new else "FLAGGED", what,
                                     "no new %s violation" % family if not new else new[0])


def self_test(source, profiles):
    """Every mutation must add a violation of its family to those of the pristine copy;
    every control must add none."""
    parser_self_test()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="outreach_checker.") as root:
        base = Sample(source, profiles, root)
        before = {line for _, line in base.checker.violations}
        print("pristine sample: %d deliveries, %d violations"
              % (len(base.data.records), len(before)))
        for mutation in MUTATIONS:
            ok, line = try_mutation(source, profiles, root, before, mutation)
            failed += not ok
            print(line)
    print("self-test: %s" % ("%d of %d failed" % (failed, len(MUTATIONS)) if failed
                             else "all %d mutations and controls as expected" % len(MUTATIONS)))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spool")
    ap.add_argument("--broker")
    ap.add_argument("--staging")
    ap.add_argument("--profiles", default=DEFAULT_PROFILES)
    ap.add_argument("--accounts")
    ap.add_argument("--self-test", metavar="SAMPLE_DIR")
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.self_test, args.profiles)
    missing = [k for k in ("spool", "broker", "staging", "accounts") if not getattr(args, k)]
    if missing:
        ap.error("missing --" + ", --".join(missing))
    return main_check(args)


if __name__ == "__main__":
    sys.exit(main())
