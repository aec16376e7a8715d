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


# ---------------------------------------------------------------- staging: the book

# The rule every rate below is rounded by (report_check.py --rates: RATE_RULES there).
RATE = bps_truncated


def _day(text):
    return datetime.date.fromisoformat(text)


def opening(acct, rows):
    """What the account's "opened" entry says: (entered day, overdue at entry, arm name).
    staging writes it once, when the platform's first record of the account is taken:
    "version V: N instalments, outstanding X CUR, overdue Y; arm NAME"."""
    import re
    for e in rows:
        if e["kind"] == "opened":
            m = re.search(r"overdue (-?\d+); arm (\S+)$", e.get("reason", ""))
            if not m:
                raise ValueError("%s: an opening entry without overdue and arm: %r"
                                 % (acct["account_ref"], e.get("reason")))
            return _day(e["day"]), int(m.group(1)), m.group(2)
    raise ValueError("%s: no opening entry" % acct["account_ref"])


def outstanding_of(acct):
    """Everything owed now: over every instalment, owed less paid, every component."""
    total = 0
    for ins in acct.get("instalments", []):
        owed, paid = ins.get("owed_minor", []), ins.get("paid_minor", [])
        paid = paid + [0] * (len(owed) - len(paid))
        total += sum(int(o) - int(p) for o, p in zip(owed, paid))
    return total


class Complaint:
    def __init__(self, kind, received_ms, deadline):
        self.kind, self.received_ms, self.deadline, self.noted = kind, received_ms, deadline, False


def complaint_kind(reason):
    """"complaint ..." / "dispute ..." (or "the complaint ...") -> the hold's name."""
    words = (reason or "").split(" ")
    if words and words[0] == "the":
        words = words[1:]
    return words[0] if words and words[0] in ("complaint", "dispute") else None


def complaints_of(rows, today, c):
    """ComplaintFigures (proto/staging.proto) from one account's entries, added to c: each
    complaint or dispute received counts once; the next lift of its hold answers it; late
    when answered after its own deadline ("answer due by YYYY-MM-DD" in its entry) or after
    staging noted it unanswered past the deadline; open ones past their deadline at today
    are open_overdue; response time from its entry's at_ms to the lift's."""
    import re
    held = []
    for e in rows:
        kind, reason = e["kind"], e.get("reason", "")
        if kind == "hold" and reason.split(":")[0] in ("complaint received", "dispute received"):
            due = re.search(r"answer due by (\d{4}-\d{2}-\d{2})", reason)
            c["received"] += 1
            held.append(Complaint(complaint_kind(reason), int(e.get("at_ms", 0)),
                                  _day(due.group(1)) if due else None))
        elif kind == "complaint_overdue":
            for h in held:
                if h.kind == complaint_kind(reason):
                    h.noted = True
        elif kind == "hold_lifted" and complaint_kind(reason):
            answered = [h for h in held if h.kind == complaint_kind(reason)]
            for h in answered:
                late = h.noted or (h.deadline is not None and _day(e["day"]) > h.deadline)
                c["answered_late" if late else "answered_on_time"] += 1
                c["response_ms"] += int(e.get("at_ms", 0)) - h.received_ms
            held = [h for h in held if h not in answered]
    for h in held:
        c["open"] += 1
        c["open_overdue"] += h.deadline is not None and today > h.deadline


def _group_add(groups, name, acct_facts):
    g = groups.setdefault(name, {"accounts": 0, "overdue_at_entry_minor": 0, "collected_minor": 0,
                                 "outstanding_minor": 0})
    g["accounts"] += 1
    g["overdue_at_entry_minor"] += acct_facts["overdue"]
    g["collected_minor"] += acct_facts["collected"]
    g["outstanding_minor"] += acct_facts["outstanding"]


def _group_rows(g):
    return dict(g, collection_rate_bps=RATE(g["collected_minor"], g["overdue_at_entry_minor"]))


def staging_rows(book, as_of_ms, segment_names):
    """Every staging row of the CSV (section, platform, currency, group, key) -> value, from
    the dump's accounts and timelines alone. segment_names: currency -> the strategy's
    segment names in order (the stored segment is an index into them). Arm names come from
    each account's opening entry; stages from its entries (the stage after each)."""
    arm_names = {}
    facts = []
    for acct, rows in book:
        entered, overdue, arm = opening(acct, rows)
        key = (acct["currency"], int(acct.get("arm", 0)))
        if arm_names.setdefault(key, arm) != arm:
            raise ValueError("arm %r of %s is named both %r and %r"
                             % (key, acct["account_ref"], arm_names[key], arm))
        facts.append({"entered": entered, "overdue": overdue, "arm": arm,
                      "collected": sum(int(e.get("amount_minor", 0)) for e in rows if e["kind"] == "payment"),
                      "outstanding": outstanding_of(acct), "stage": rows[-1]["stage"]})
    timeline = staging_timeline(book, as_of_ms,
                                lambda a: arm_names[(a["currency"], int(a.get("arm", 0)))])
    out = {}
    sections = {}
    for (acct, rows), f in zip(book, facts):
        pc = (acct["platform"], acct["currency"])
        s = sections.setdefault(pc, {"total": {}, "stage": {}, "segment": {}, "arm": {},
                                     "n": dict.fromkeys(
                                         ("promises_made", "promises_kept", "promises_broken",
                                          "cured", "closed", "cycle_days_total", "complaints",
                                          "complaints_answered_late", "contacts_requested",
                                          "referrals", "listings", "sold"), 0),
                                     "complaints": dict.fromkeys(
                                         ("received", "answered_on_time", "answered_late", "open",
                                          "open_overdue", "response_ms"), 0)})
        _group_add(s["total"], "all", f)
        _group_add(s["stage"], f["stage"], f)
        names = segment_names.get(acct["currency"], [])
        seg = int(acct.get("segment", 0))
        _group_add(s["segment"], names[seg] if 0 <= seg < len(names) else "?%d" % seg, f)
        _group_add(s["arm"], f["arm"], f)
        n = s["n"]
        kinds = [e["kind"] for e in rows]
        n["promises_made"] += kinds.count("promise")
        n["promises_kept"] += kinds.count("promise_kept")
        n["promises_broken"] += kinds.count("promise_broken")
        n["contacts_requested"] += kinds.count("contact")
        n["referrals"] += kinds.count("referral")
        n["listings"] += kinds.count("listing")
        n["complaints"] += sum(e["kind"] == "hold" and e.get("reason", "").split(":")[0] in
                               ("complaint received", "dispute received") for e in rows)
        stages = [e["stage"] for e in rows]
        n["cured"] += sum(a in DELINQUENT and b in ("current", "pre_due") for a, b in zip(stages, stages[1:]))
        if f["stage"] in TERMINAL:
            closed_on = None
            for prev, e in zip(rows, rows[1:]):
                if e["stage"] in TERMINAL and prev["stage"] not in TERMINAL:
                    closed_on = _day(e["day"])
            if closed_on is not None:
                n["closed"] += 1
                n["cycle_days_total"] += (closed_on - f["entered"]).days
        n["sold"] += f["stage"] == "sold"
        complaints_of(rows, local_today(acct, as_of_ms), s["complaints"])
    for (p, c), s in sections.items():
        t = timeline[(p, c)]

        def put(section, group, values):
            for k, v in values.items():
                out[(section, p, c, group, k)] = v
        put("book", "all", _group_rows(s["total"]["all"]))
        n = dict(s["n"])
        n["complaints_answered_late"] = s["complaints"]["answered_late"]
        decided = n["promises_kept"] + n["promises_broken"]
        n["promise_kept_rate_bps"] = RATE(n["promises_kept"], decided)
        n["accounts_delinquent"], n["accounts_cured"] = t.delinquent, t.cured
        n["cure_rate_bps"] = RATE(t.cured, t.delinquent)
        put("book", "all", n)
        for section in ("stage", "segment", "arm"):
            for name, g in s[section].items():
                put(section, name, _group_rows(g))
        for (m, a, b), accounts in t.roll.items():
            put("roll", "%s|%s|%s" % (m, a, b), {"accounts": accounts})
        for arm, points in t.curve.items():
            for k, (accounts, overdue, collected) in points.items():
                put("curve", "%s|%d" % (arm, k), {
                    "accounts": accounts, "overdue_at_entry_minor": overdue,
                    "collected_minor": collected, "recovery_rate_bps": RATE(collected, overdue)})
        for section, groups in (("channel", t.channel), ("stage_recovery", t.stage)):
            for name, (payments, accounts, collected) in groups.items():
                put(section, name, {"payments": payments, "accounts": len(accounts),
                                    "collected_minor": collected})
        cf = dict(s["complaints"])
        cf["response_ms_total"] = max(cf.pop("response_ms"), 0)
        cf["response_hours_total"] = hours_half_even(cf["response_ms_total"])
        put("complaints", "all", cf)
        for m, (collected, legal_recovered, legal_costs, sale_proceeds) in t.remit.items():
            put("remittance", m, {"collected_minor": collected, "legal_recovered_minor": legal_recovered,
                                  "legal_costs_minor": legal_costs, "sale_proceeds_minor": sale_proceeds,
                                  "net_minor": collected + sale_proceeds - legal_costs})
    return out


def outreach_rows(tasks):
    """Every outreach row of the CSV from the broker's dumped tasks."""
    out = {}
    figures = outreach_figures(tasks)
    for (p, c), s in figures.items():
        for ch, v in s["channels"].items():
            for k, n in v.items():
                out[("outreach_channel", p, c, ch, k)] = n
        for rule, (refused, deferred) in s["rules"].items():
            out[("conduct_rule", p, c, rule, "refused")] = refused
            out[("conduct_rule", p, c, rule, "deferred")] = deferred
        for prof, v in s["profiles"].items():
            for k in ("tasks", "refused", "deferrals"):
                out[("conduct_profile", p, c, prof + "|all", k)] = v[k]
            for rule, (refused, deferred) in v["rules"].items():
                out[("conduct_profile", p, c, prof + "|" + rule, "refused")] = refused
                out[("conduct_profile", p, c, prof + "|" + rule, "deferred")] = deferred
    # At most 64 sections (OutreachReport.sections): tasks past them are unreported.
    out[("outreach", "", "", "all", "tasks_unreported")] = sum(
        sum(ch["tasks"] for ch in s["channels"].values()) for s in list(figures.values())[64:])
    return out


# ---------------------------------------------------------------- legal

LEGAL_ENDED = {"CASE_SETTLED", "WITHDRAWN", "CASE_CLOSED", "DECLINED"}


def cases_of(dump_text):
    return [json.loads(line)["case"] for line in dump_text.splitlines()
            if json.loads(line).get("table") == "case"]


def half_even_bps(amount, bps):
    q, r = divmod(amount * bps, 10000)
    if 2 * r > 10000 or (2 * r == 10000 and q % 2 == 1):
        q += 1
    return q


def legal_rows(cases, commission_bps):
    """LegalReport's rows from the dumped cases (proto/legal.proto's AssigneeFigures),
    per assignee and case currency: cases ever offered to it, its open ones now, its
    judgments, its recalls and missed acceptance deadlines, what was placed with it
    (outstanding at referral, per offer), what it recovered (its own money steps: a
    payment the platform posted and staging noticed is not the assignee's recovery), its
    costs, its commission worked out again from the configured commission_bps of each
    recovery (half-even), the lower median of days from its acceptance to its judgment
    (the steps' days), and the complaints staging noticed while it held the case.
    commission_bps: assignee -> bps (legal's configuration)."""
    out, rows, days = {}, {}, {}
    referrals = declined = waiting = 0
    by_verdict = {}

    def row(assignee, currency):
        return rows.setdefault((assignee, currency), dict.fromkeys(
            ("cases", "open", "judgments", "recalled", "placed_minor", "recovered_minor",
             "recovery_rate_bps", "costs_minor", "commission_minor", "median_days_to_judgment",
             "complaints"), 0))
    for c in cases:
        referrals += 1
        status = c.get("status")
        if status == "DECLINED":
            declined += 1
            by_verdict[c.get("verdict", "")] = by_verdict.get(c.get("verdict", ""), 0) + 1
        ended = status in LEGAL_ENDED
        waiting += not ended and not c.get("assignee")
        cur = c.get("currency", "")
        accepted = {}
        for s in c.get("steps", []):
            who, what = s.get("assignee", ""), s.get("what", "")
            if not who or who not in commission_bps:
                continue
            r = row(who, cur)
            if what == "offered":
                r["cases"] += 1
                r["placed_minor"] += int(c.get("outstanding_minor", 0))
            elif what in ("recalled", "deadline_passed"):
                r["recalled"] += 1
            elif what == "complaint":
                r["complaints"] += 1
            if s.get("actor") == who:   # the assignee's own steps and money
                rec = int(s.get("recovery_minor", 0))
                r["recovered_minor"] += rec
                r["commission_minor"] += half_even_bps(rec, commission_bps[who])
            r["costs_minor"] += int(s.get("costs_minor", 0))
            if what == "step" and s.get("status") == "ACCEPTED":
                accepted[who] = int(s["day"])
            if what == "step" and s.get("status") == "JUDGMENT":
                r["judgments"] += 1
                if who in accepted:
                    days.setdefault((who, cur), []).append(int(s["day"]) - accepted[who])
        if not ended and c.get("assignee"):
            row(c["assignee"], cur)["open"] += 1
    for (who, cur), r in rows.items():
        r["recovery_rate_bps"] = RATE(r["recovered_minor"], r["placed_minor"])
        d = sorted(days.get((who, cur), []))
        r["median_days_to_judgment"] = d[(len(d) - 1) // 2] if d else 0
        for k, v in r.items():
            out[("legal_assignee", "", cur, who, k)] = v
    for k, v in (("referrals", referrals), ("declined", declined), ("waiting", waiting)):
        out[("legal", "", "", "all", k)] = v
    for verdict, n in by_verdict.items():
        out[("legal_declined", "", "", verdict, "declined")] = n
    return out


# ---------------------------------------------------------------- sale

def sale_records(dump_text):
    out = {"listed": [], "portfolio": [], "bid": []}
    for line in dump_text.splitlines():
        row = json.loads(line)
        out[row["table"]].append(row[row["table"]])
    return out


def sale_rows(records):
    """SaleReport's rows (proto/sale.proto) from the dumped listed accounts, portfolios and
    bids: accounts by their state now (listed, waiting, sold, withdrawn, put back),
    portfolios by state, every bid taken with its raises, and per currency the prices and
    the balances at listing of the accounts sold (each sold account's share of its
    portfolio's price)."""
    listed, portfolios, bids = records["listed"], records["portfolio"], records["bid"]
    states = [x.get("state") for x in listed]
    figures = {
        "listings": len(listed),
        "waiting": states.count("LISTED_WAITING"),
        "portfolios": len(portfolios),
        "awarded": sum(p.get("state") == "PORTFOLIO_AWARDED" for p in portfolios),
        "unsold": sum(p.get("state") == "PORTFOLIO_UNSOLD" for p in portfolios),
        "accounts_sold": states.count("LISTED_SOLD"),
        "accounts_withdrawn": states.count("LISTED_WITHDRAWN"),
        "accounts_put_back": states.count("LISTED_PUT_BACK"),
        "bids": sum(1 + int(b.get("raises", 0)) for b in bids),
    }
    out = {("sale", "", "", "all", k): v for k, v in figures.items()}
    for x in listed:
        if x.get("state") == "LISTED_SOLD":
            for k, v in (("price_minor", int(x.get("price_minor", 0))),
                         ("outstanding_minor", int(x.get("outstanding_minor", 0)))):
                key = ("sale_proceeds", "", x.get("currency", ""), "all", k)
                out[key] = out.get(key, 0) + v
    return out


# ---------------------------------------------------------------- configuration

def libconfig_lists(text, name):
    """The elements' `name = "..."` of a top-level libconfig list `NAME = ( {...}, ... );`,
    in order (enough of libconfig for the strategy's segments and arms: comments and
    strings skipped, nesting counted)."""
    import re
    clean = re.sub(r'("(?:[^"\\]|\\.)*")|#[^\n]*|//[^\n]*', lambda m: m.group(1) or "", text)
    m = re.search(r"(?m)^\s*%s\s*[=:]\s*\(" % re.escape(name), clean)
    if not m:
        return []
    depth, i, names, start = 1, m.end(), [], None
    while i < len(clean) and depth:
        ch = clean[i]
        if ch == '"':
            i = clean.index('"', i + 1)
        elif ch in "({[":
            depth += 1
            if depth == 2 and ch == "{":
                start = i
        elif ch in ")}]":
            depth -= 1
            if depth == 1 and ch == "}":
                element = clean[start:i]
                # the element's own name: at its top level, not in a nested list
                flat, d = [], 0
                for x in element[1:]:
                    d += x in "({[" and 1 or 0
                    d -= x in ")}]" and 1 or 0
                    flat.append(x if d == 0 else " ")
                found = re.search(r'\bname\s*[=:]\s*"([^"]*)"', "".join(flat))
                names.append(found.group(1) if found else None)
        i += 1
    return names


def libconfig_string(text, name):
    import re
    m = re.search(r'(?m)^\s*%s\s*[=:]\s*"([^"]*)"' % re.escape(name), text)
    return m.group(1) if m else None


def strategy_segments(staging_conf_text):
    """currency -> segment names, from the strategy files staging's configuration lists."""
    import re
    m = re.search(r"strategy\s*=\s*\[([^\]]*)\]", staging_conf_text)
    files = re.findall(r'"([^"]+)"', m.group(1)) if m else []
    out = {}
    for path in files:
        with open(path) as f:
            text = f.read()
        out[libconfig_string(text, "currency")] = libconfig_lists(text, "segments")
    return out


def legal_commissions(legal_conf_text):
    """assignee principal -> commission_bps, from legal's configuration."""
    import re
    out = {}
    for m in re.finditer(r'principal\s*=\s*"([^"]+)"[^}]*?commission_bps\s*=\s*(\d+)', legal_conf_text):
        out[m.group(1)] = int(m.group(2))
    return out
