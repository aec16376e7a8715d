"""portfolio: a seeded, realistic loan platform portfolio — accounts in four currencies
(amounts right for each currency's exponent) across twenty time zones, 1 to 12
instalments, payments, complaints, contact updates and recalls — as dicts in the
reference client's JSON-lines form. The demonstration world (demo_world.py) and
the intake tests share it; the same seed always gives the same portfolio."""
import csv
import datetime
import hashlib
import json
import random
import time

CURRENCIES = {
    "CNY": (2, (500, 50000), ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore"], "CN", "zh-CN", "+86"),
    "GBP": (2, (100, 12000), ["Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Berlin",
                              "Europe/Madrid"], "GB", "en-GB", "+44"),
    "USD": (2, (100, 15000), ["America/New_York", "America/Chicago", "America/Denver",
                              "America/Los_Angeles", "America/Toronto", "America/Sao_Paulo"],
            "US", "en-US", "+1"),
    "JPY": (0, (10000, 2000000), ["Asia/Tokyo"], "JP", "ja-JP", "+81"),
}
ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Tokyo", "Asia/Singapore", "Asia/Kolkata",
         "Asia/Dubai", "Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Berlin",
         "Europe/Madrid", "America/New_York", "America/Chicago", "America/Denver",
         "America/Los_Angeles", "America/Toronto", "America/Sao_Paulo", "Australia/Sydney",
         "Pacific/Auckland", "Africa/Johannesburg"]
PRODUCTS = ["ONLINE_LOAN", "CREDIT_CARD", "INSTALMENT_LOAN", "BNPL"]
CHANNELS = ["BANK_TRANSFER", "CARD", "WALLET", "CASH", "DIRECT_DEBIT", "OTHER_CHANNEL"]
GIVEN = {"CN": ["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Hao", "Xiu"],
         "GB": ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily"],
         "US": ["James", "Olivia", "Noah", "Emma", "Liam", "Sophia", "Mason", "Mia"],
         "JP": ["Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura"]}
FAMILY = {"CN": ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang"],
          "GB": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Davies"],
          "US": ["Johnson", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Clark", "Lewis"],
          "JP": ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Kato"]}
CITIES = {"CN": ["Shanghai", "Beijing", "Shenzhen", "Hangzhou"], "GB": ["London", "Leeds", "Bristol", "Glasgow"],
          "US": ["Chicago", "Austin", "Denver", "Seattle"], "JP": ["Tokyo", "Osaka", "Nagoya", "Sapporo"]}
FEES = {"CNY": [25, 50, 120], "GBP": [12, 25], "USD": [15, 30, 39], "JPY": [500, 1000, 2500]}
DAY_MS = 86400000


def _add_months(y, m, d, k):
    m0 = m - 1 + k
    y, m = y + m0 // 12, m0 % 12 + 1
    return y, m, min(d, 28)


def _date(days):
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=days)).isoformat()


def _phone(rng, prefix):
    if prefix == "+86":
        return "+861" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
    if prefix == "+44":
        return "+447" + "".join(rng.choice("0123456789") for _ in range(9))
    if prefix == "+81":
        return "+81" + rng.choice(["70", "80", "90"]) + "".join(rng.choice("0123456789") for _ in range(8))
    return "+1" + rng.choice("23456789") + "".join(rng.choice("0123456789") for _ in range(9))


class Portfolio:
    """Seeded platform data as dicts in the reference client's JSON-lines form."""

    def __init__(self, seed, accounts, payments, complaints=0, contacts=0, recalls=0,
                 ref_prefix="AC", anchor_ms=None):
        """anchor_ms: the day the portfolio's history ends (payments, complaints); by
        default yesterday, UTC, so every instant is in the past for intake."""
        rng = random.Random(seed)
        self.anchor_ms = anchor_ms if anchor_ms is not None else (int(time.time()) // 86400 - 1) * DAY_MS
        anchor_day = self.anchor_ms // DAY_MS
        self.accounts, self.payments, self.others = [], [], []
        by_ref = {}
        for n in range(accounts):
            cur = rng.choices(list(CURRENCIES), weights=[45, 20, 25, 10])[0]
            exp, (lo, hi), zones, country, lang, dial = CURRENCIES[cur]
            zone = rng.choice(zones) if rng.random() < 0.8 else rng.choice(ZONES)
            product = rng.choice(PRODUCTS)
            count = rng.randint(1, 12)
            principal = rng.randint(lo, hi) * 10 ** exp + (rng.randint(0, 99) if exp else 0)
            first_due = anchor_day - rng.randint(20, 540)
            fd = datetime.date(1970, 1, 1) + datetime.timedelta(days=first_due)
            per, schedule = principal // count, []
            for k in range(count):
                y, m, d = _add_months(fd.year, fd.month, fd.day, k)
                p = per if k < count - 1 else principal - per * (count - 1)
                inst = {"due_date": "%04d-%02d-%02d" % (y, m, d), "principal_minor": p,
                        "interest_minor": p * rng.randint(5, 30) // 1000}
                if product in ("CREDIT_CARD", "ONLINE_LOAN") and rng.random() < 0.3:
                    inst["fees_minor"] = rng.choice(FEES[cur]) * 10 ** exp
                if k == 0 and rng.random() < 0.2:
                    inst["paid_minor"] = p // 2
                schedule.append(inst)
            ref = "%s-%s-%06d" % (ref_prefix, cur, n + 1)
            given, family = rng.choice(GIVEN[country]), rng.choice(FAMILY[country])
            verified, consent = rng.random() < 0.8, rng.random() < 0.9
            phones = [_phone(rng, dial) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
            borrower = {
                "name": "%s %s" % (family, given) if country in ("CN", "JP") else "%s %s" % (given, family),
                "id_number_hash": hashlib.sha256(("%d-%s" % (seed, ref)).encode()).hexdigest(),
                "phones": [{"value": v, "verified": verified, "consent": consent} for v in phones],
                "time_zone": zone,
                "language": lang,
            }
            if rng.random() < 0.6:
                borrower["emails"] = [{"value": "%s.%s%d@example.%s" % (given.lower(), family.lower(), n,
                                                                      "com" if country != "GB" else "co.uk"),
                                       "verified": verified, "consent": consent}]
            if rng.random() < 0.7:
                borrower["address"] = {"line1": "%d %s Road" % (rng.randint(1, 300), family),
                                       "city": rng.choice(CITIES[country]),
                                       "postal_code": "%05d" % rng.randint(0, 99999),
                                       "country": country}
            acc = {"type": "account", "account_ref": ref, "product": product, "currency": cur,
                   "borrower": borrower, "schedule": schedule,
                   "opened_date": _date(first_due - rng.randint(10, 60))}
            if product == "ONLINE_LOAN":
                acc["rates"] = {"interest_bps": rng.randint(3, 10), "interest_period": "PER_DAY",
                                "penalty_bps": rng.randint(5, 15), "penalty_period": "PER_DAY"}
            else:
                acc["rates"] = {"interest_bps": rng.randint(400, 3600), "interest_period": "PER_YEAR",
                                "penalty_bps": rng.randint(200, 1000), "penalty_period": "PER_YEAR"}
            acc["mandate"] = {"may_refer_to_legal": rng.random() < 0.5, "may_sell": rng.random() < 0.3}
            if rng.random() < 0.03:
                acc["flags"] = {"vulnerable": True}
            self.accounts.append(acc)
            by_ref[ref] = (acc, first_due)
        refs = [a["account_ref"] for a in self.accounts]
        for n in range(payments):
            ref = rng.choice(refs)
            acc, first_due = by_ref[ref]
            exp = CURRENCIES[acc["currency"]][0]
            owed = sum(i["principal_minor"] for i in acc["schedule"])
            amount = max(1, min(owed, rng.randint(1, max(1, owed // 4))))
            if exp:
                amount = max(100, amount // 100 * 100) if rng.random() < 0.5 else amount
            paid_day = rng.randint(first_due, anchor_day)
            self.payments.append({
                "type": "payment", "account_ref": ref, "payment_ref": "PAY-%07d" % (n + 1),
                "amount_minor": amount, "currency": acc["currency"],
                "paid_at_ms": paid_day * DAY_MS + rng.randint(0, DAY_MS - 1),
                "channel": rng.choice(CHANNELS)})
        for n in range(complaints):
            ref = rng.choice(refs)
            self.others.append({
                "type": "complaint", "account_ref": ref, "complaint_ref": "CMP-%05d" % (n + 1),
                "kind": rng.choice(["COMPLAINT", "DISPUTE"]),
                "category": rng.choice(["contact_frequency", "amount_wrong", "not_my_debt", "rude_agent"]),
                "text": "Borrower says: %s" % rng.choice(["called too often", "the balance is wrong",
                                                          "never took this loan", "agent was rude"]),
                "received_at_ms": self.anchor_ms - rng.randint(0, 30) * DAY_MS})
        for n in range(contacts):
            acc = by_ref[rng.choice(refs)][0]
            dial = CURRENCIES[acc["currency"]][5]
            self.others.append({
                "type": "contact", "account_ref": acc["account_ref"],
                "phones": [{"value": _phone(rng, dial), "verified": True, "consent": True}]})
        for n in range(recalls):
            self.others.append({"type": "recall", "account_ref": rng.choice(refs),
                                "reason": "settled with the platform directly"})
        rng.shuffle(self.others)

    def records(self):
        """Accounts first, then payments and the rest interleaved (seeded)."""
        rest = self.payments + self.others
        random.Random(len(rest)).shuffle(rest)
        return self.accounts + rest

    def write_jsonl(self, path):
        with open(path, "w") as f:
            for r in self.records():
                f.write(json.dumps(r, sort_keys=True) + "\n")

    def write_csv(self, path):
        """Accounts as one row per instalment, payments as type=payment rows."""
        cols = ["type", "account_ref", "product", "currency", "borrower_name", "id_number_hash",
                "phones", "emails", "contact_verified", "contact_consent", "address_line1", "city",
                "postal_code", "country", "time_zone", "language", "opened_date", "interest_bps",
                "interest_period", "penalty_bps", "penalty_period", "vulnerable",
                "may_refer_to_legal", "may_sell", "due_date", "principal_minor", "interest_minor",
                "fees_minor", "paid_minor", "payment_ref", "amount_minor", "paid_at_ms", "channel"]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            for a in self.accounts:
                b = a["borrower"]
                head = {"type": "account", "account_ref": a["account_ref"], "product": a["product"],
                        "currency": a["currency"], "borrower_name": b["name"],
                        "id_number_hash": b["id_number_hash"],
                        "phones": ";".join(p["value"] for p in b["phones"]),
                        "emails": ";".join(e["value"] for e in b.get("emails", [])),
                        "contact_verified": str(b["phones"][0]["verified"]).lower(),
                        "contact_consent": str(b["phones"][0]["consent"]).lower(),
                        "time_zone": b["time_zone"], "language": b["language"],
                        "opened_date": a["opened_date"],
                        "interest_bps": a["rates"]["interest_bps"],
                        "interest_period": a["rates"]["interest_period"],
                        "penalty_bps": a["rates"]["penalty_bps"],
                        "penalty_period": a["rates"]["penalty_period"],
                        "may_refer_to_legal": str(a["mandate"]["may_refer_to_legal"]).lower(),
                        "may_sell": str(a["mandate"]["may_sell"]).lower()}
                if "address" in b:
                    head.update(address_line1=b["address"]["line1"], city=b["address"]["city"],
                                postal_code=b["address"]["postal_code"], country=b["address"]["country"])
                if a.get("flags", {}).get("vulnerable"):
                    head["vulnerable"] = "true"
                for k, inst in enumerate(a["schedule"]):
                    row = dict(head) if k == 0 else {"account_ref": a["account_ref"]}
                    row.update(inst)
                    w.writerow(row)
            for p in self.payments:
                w.writerow({k: v for k, v in p.items()})
