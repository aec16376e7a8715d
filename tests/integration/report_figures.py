"""report_figures: the report's figures worked out again, in Python, from what each
service's `dump` prints (JSON lines of its stored records), by the definitions in
DESIGN.md section 7 and the proto comments of ReportSection (proto/staging.proto),
OutreachReport (proto/outreach.proto), LegalReport (proto/legal.proto) and SaleReport
(proto/sale.proto). Pure: no process, no socket, none of the services' code. The tests
that compare a service's report with its dump import it:

  report_staging.py   staging's timeline figures on scenario_staging's book
  report_outreach.py  a broker's OutreachReport on a hand-made set of tasks
  report_check.py     the whole `arrears report --format csv` on the demonstration

Sections below: staging (the timeline figures, then the book's figures), outreach,
legal, sale, and rates."""
import datetime
import json

EPOCH = datetime.date(1970, 1, 1)

# ---------------------------------------------------------------- rates

def bps_truncated(part, whole):
    """part / whole in basis points, truncated toward zero (0 when whole <= 0 or part
    <= 0): what staging's rates document (services/staging/report.c, "truncated as the
    collection rate always was")."""
    if whole <= 0 or part <= 0:
        return 0
    return part * 10000 // whole


def bps_half_even(part, whole):
    """part / whole in basis points rounded half to even (shared/money.h's one rule)."""
    if whole <= 0 or part <= 0:
        return 0
    q, r = divmod(part * 10000, whole)
    if 2 * r > whole or (2 * r == whole and q % 2 == 1):
        q += 1
    return q


def hours_half_even(ms):
    """Milliseconds in whole hours, half to even (ComplaintFigures.response_hours_total)."""
    if ms <= 0:
        return 0
    q, r = divmod(ms, 3600000)
    if 2 * r > 3600000 or (2 * r == 3600000 and q % 2 == 1):
        q += 1
    return q


# ---------------------------------------------------------------- staging: the timeline

TERMINAL = {"paid", "settled", "recalled", "sold", "written_off"}
DELINQUENT = {"early", "middle", "late", "charged_off"}
NOT_REACHED = {"FAILED", "NO_ANSWER", "WRONG_NUMBER", "NOT_ATTEMPTED"}
STAGING_CHANNELS = {"SMS": "sms", "EMAIL": "email", "LETTER": "letter", "CALL": "call",
                    "VISIT": "visit"}


def month(d):
    return "%04d-%02d" % (d.year, d.month)


def months_between(a, b):
    n = (b.year * 12 + b.month) - (a.year * 12 + a.month) - (1 if b.day < a.day else 0)
    return max(n, 0)


def accounts_and_timelines(dump_text):
    """Account records in id order, and each one's entries (the table is keyed by id
    then seq, and every account has its opening entry, so seq 1 starts the next)."""
    accounts, timelines = [], []
    for line in dump_text.splitlines():
        row = json.loads(line)
        if "account_ref" in row:
            accounts.append(row)
        else:
            if int(row["seq"]) == 1:
                timelines.append([])
            timelines[-1].append(row)
    if len(accounts) != len(timelines):
        raise ValueError("%d accounts, %d timelines in the dump" % (len(accounts), len(timelines)))
    return list(zip(accounts, timelines))


class Section:
    def __init__(self):
        self.roll, self.channel, self.stage, self.remit = {}, {}, {}, {}
        self.curve, self.delinquent, self.cured = {}, 0, 0


def attribute(s, acct_paid, rows):
    """Payments to channels (the rule in ReportSection.recovery_by_channel) and stages."""
    contacts, reached = {}, None
    for e in rows:
        kind, day, ref = e["kind"], datetime.date.fromisoformat(e["day"]), e.get("reference", "")
        if kind == "contact":
            contacts[ref] = e["reason"].split(" ")[0]
        elif kind == "outcome" and " by " in e["reason"]:
            result, rest = e["reason"].split(" by ", 1)
            ch = STAGING_CHANNELS.get(rest.split(":")[0].split(" ")[0])
            if ch and result not in NOT_REACHED:
                reached = (ch, day)
        elif e["actor"] == "outreach" and kind in ("promise", "plan", "settlement") and ref in contacts:
            reached = (contacts[ref], day)
        elif kind == "payment":
            amount = int(e["amount_minor"])
            ch = reached[0] if reached and (day - reached[1]).days <= 30 else "none"
            for groups, name in ((s.channel, ch), (s.stage, e["stage"])):
                g = groups.setdefault(name, [0, set(), 0])
                g[0] += 1
                g[1].add(acct_paid)
                g[2] += amount


def stage_at(rows, last_day):
    stage = None
    for e in rows:
        if datetime.date.fromisoformat(e["day"]) <= last_day:
            stage = e["stage"]
    return stage


def rolls(s, rows, months, today):
    for first in months:
        if first > today:
            continue
        start = stage_at(rows, first - datetime.timedelta(days=1))
        nxt = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        end = stage_at(rows, min(nxt - datetime.timedelta(days=1), today))
        if start and end and start not in TERMINAL:
            key = (month(first), start, end)
            s.roll[key] = s.roll.get(key, 0) + 1


def money_by_month(s, rows, months):
    window = {month(m) for m in months}
    for e in rows:
        m, amount = e["day"][:7], int(e.get("amount_minor", 0))
        if m not in window or e["kind"] not in ("payment", "legal", "sold", "put_back") or not amount:
            continue
        r = s.remit.setdefault(m, [0, 0, 0, 0])
        if e["kind"] == "payment":
            r[0] += amount
            r[1] += amount if e["actor"] == "legal" else 0
        elif e["kind"] == "legal":
            r[2] += amount
        else:
            r[3] += amount if e["kind"] == "sold" else -amount


def curve(s, acct, rows, arm, today, horizon):
    entered = EPOCH + datetime.timedelta(days=int(acct["stats"]["entered_day"]))
    paid = [0] * horizon
    for e in rows:
        k = months_between(entered, datetime.date.fromisoformat(e["day"]))
        if e["kind"] == "payment" and k < horizon:
            paid[k] += int(e["amount_minor"])
    points = s.curve.setdefault(arm, {})
    for k in range(min(months_between(entered, today), horizon - 1) + 1):
        p = points.setdefault(k, [0, 0, 0])
        p[0] += 1
        p[1] += int(acct["stats"].get("overdue_at_entry_minor", 0))
        p[2] += sum(paid[:k + 1])


def report_months(as_of_ms, count=36):
    """The report's window: the first days of the `count` months up to as_of_ms's UTC month."""
    utc = datetime.datetime.fromtimestamp(as_of_ms / 1000, datetime.timezone.utc).date()
    months, m = [], utc.replace(day=1)
    for _ in range(count):
        months.insert(0, m)
        m = (m - datetime.timedelta(days=1)).replace(day=1)
    return months


def local_today(acct, as_of_ms):
    import zoneinfo
    zone = zoneinfo.ZoneInfo(acct["time_zone"])
    return datetime.datetime.fromtimestamp(as_of_ms / 1000, zone).date()


def staging_timeline(book, as_of_ms, arms):
    """The timeline figures of every (platform, currency): {(p, c): Section}. arms maps
    an account's arm number to its name (the currency's strategy's order): arms[n] or,
    when arms is a function, arms(acct)."""
    months = report_months(as_of_ms)
    out = {}
    for acct, rows in book:
        s = out.setdefault((acct["platform"], acct["currency"]), Section())
        today = local_today(acct, as_of_ms)
        rolls(s, rows, months, today)
        attribute(s, acct["account_ref"], rows)
        money_by_month(s, rows, months)
        arm = arms(acct) if callable(arms) else arms[int(acct.get("arm", 0))]
        curve(s, acct, rows, arm, today, 36)
        stages = [e["stage"] for e in rows]
        s.delinquent += any(x in DELINQUENT for x in stages)
        s.cured += any(a in DELINQUENT and b in ("current", "pre_due") for a, b in zip(stages, stages[1:]))
    return out


# ---------------------------------------------------------------- outreach

OUTREACH_CHANNELS = ["sms", "email", "letter", "call", "visit"]
OUTREACH_FAILED = {"FAILED", "NO_ANSWER", "WRONG_NUMBER"}
OUTREACH_NOT_ATTEMPTED = {"NOT_ATTEMPTED", "CONTACT_RESULT_UNSPECIFIED", None}
# conduct_rule_t's order, as OutreachSection.rules lists the names (proto/outreach.proto).
CONDUCT_RULES = ["none", "hold", "cease_contact", "opt_out", "unverified_point", "third_party",
                 "template_not_vetted", "legal_threat_time_barred", "banned_language", "window",
                 "rest_day", "holiday", "cap_person_day", "cap_person_7_days", "cap_account_day",
                 "cap_account_7_days", "after_conversation", "no_opening", "no_opt_out_notice",
                 "not_gentle"]


def tasks_of(dump_text):
    out = []
    for line in dump_text.splitlines():
        row = json.loads(line)
        if row.get("table") == "task":
            out.append(row["task"])
    return out


def enum_name(value, enum):
    """pbjson prints an enum as its name or its number: the name either way."""
    if value is None or isinstance(value, str):
        return value
    return enum.Name(value)


def outreach_figures(tasks, platform=None):
    """The figures worked out from the dumped tasks: {(platform, currency): {...}}. Needs
    the generated Python modules (outreach_pb2, outreach_store_pb2) on sys.path, for the
    enums' names only."""
    import outreach_pb2 as op
    import outreach_store_pb2 as osp
    out = {}
    for t in tasks:
        r = t["request"]
        if platform and r["platform"] != platform:
            continue
        s = out.setdefault((r["platform"], r.get("currency", "")),
                           {"channels": {}, "rules": {}, "profiles": {}})
        ch = OUTREACH_CHANNELS[op.Channel.Value(enum_name(r["channel"], op.Channel)) - 1]
        c = s["channels"].setdefault(ch, dict.fromkeys(
            ("tasks", "delivered", "failed", "not_attempted", "cancelled", "refused", "open",
             "deferrals"), 0))
        state = enum_name(t.get("state"), osp.StoredTaskState)
        result = enum_name(t.get("result"), op.ContactResult)
        bucket = ("cancelled" if state == "TASK_CANCELLED" else "refused" if state == "TASK_REFUSED"
                  else "open" if state != "TASK_DONE" else "failed" if result in OUTREACH_FAILED
                  else "not_attempted" if result in OUTREACH_NOT_ATTEMPTED else "delivered")
        c["tasks"] += 1
        c[bucket] += 1
        c["deferrals"] += int(t.get("deferrals", 0))
        p = s["profiles"].setdefault(t.get("profile", ""), {"tasks": 0, "refused": 0, "deferrals": 0,
                                                            "rules": {}})
        p["tasks"] += 1
        p["refused"] += state == "TASK_REFUSED"
        p["deferrals"] += int(t.get("deferrals", 0))
        decisions = t.get("decisions", [])
        for target in (s["rules"], p["rules"]):
            for d in decisions:
                if int(d.get("verdict", 0)) == 1:   # conduct_verdict_t: SEND, DEFER, REFUSE
                    target.setdefault(CONDUCT_RULES[int(d.get("rule", 0))], [0, 0])[1] += 1
            if state == "TASK_REFUSED":
                refusing = [d for d in decisions if int(d.get("verdict", 0)) == 2]
                rule = CONDUCT_RULES[int(refusing[-1].get("rule", 0))] if refusing else "none"
                target.setdefault(rule, [0, 0])[0] += 1
    return out

