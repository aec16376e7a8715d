#!/usr/bin/env python3
"""case_client: the reference client of a law firm or collection agency working the
cases arrears' legal service places with it (DESIGN.md section 5). Built on
arrears_client (pyzmq, protobuf), with the assignee's own CURVE key; legal admits the
key with role "firm" or "agency" and answers only about that principal's own cases.

What an assignee does:
  * list its cases (CaseListQuery): offered ones carry accept_by_ms;
  * pull a case file in chunks (CaseFileQuery), HTML for a person or the machine form
    (a serialized CaseFile), checked against its SHA-256;
  * report each step as a stream message (CaseUpdate): accept, demand letter, mediation,
    filed, hearing, judgment, enforcement, settled, withdrawn, closed — each with the
    date it happened and, from the demand letter on, an evidence reference; money
    collected (recovery_minor with the receipt reference recovery_ref) and costs; or hand
    the case back before filing. Refusals come back with a code and a reason.

As a library:
    firm = CaseClient(endpoint, legal_public, keypair, state_path="firm.stream.json")
    for case in firm.cases():
        html = firm.case_file(case.case_id)
        firm.update(case.case_id, "ACCEPTED", "2026-03-02")
    firm.flush(); print(firm.rejected)
As a program:
    case_client.py --endpoint E --legal-public legal.pub --key firm.key \\
                   [--state S] [--proto-dir DIR] list | file CASE [--machine] |
                   update CASE STATUS DATE [--evidence R] [--recovery N --ref R] [--costs N]
                   | hand-back CASE"""
import argparse
import json
import sys

import arrears_client as ac

import legal_pb2


class CaseClient:
    def __init__(self, endpoint, legal_public, keypair, state_path=None, context=None):
        self.stream = ac.Stream(endpoint, ac.load_public(legal_public), keypair,
                                state_path=state_path, resend_timeout=1.0, context=context)

    @property
    def rejected(self):
        """Refused updates: dicts with seq, code, field and reason."""
        return self.stream.rejected

    def cases(self, include_ended=False, page=100, timeout=10.0):
        """Every case placed with this principal, in case id order."""
        out, after = [], ""
        while True:
            q = legal_pb2.CaseListQuery(after_case_id=after, max_cases=page,
                                        include_ended=include_ended)
            reply = self.stream.query(q, timeout)
            out.extend(reply.cases)
            if not reply.next_after:
                return out
            after = reply.next_after

    def case_file(self, case_id, machine=False, chunk=65536, timeout=10.0):
        """The whole file, its SHA-256 checked; bytes (HTML) or a CaseFile message."""
        form = legal_pb2.CASE_FILE_MACHINE if machine else legal_pb2.CASE_FILE_HTML
        data = self.stream.pull_document(
            lambda offset: legal_pb2.CaseFileQuery(case_id=case_id, form=form, offset=offset,
                                                   max_bytes=chunk),
            "case file %s" % case_id, timeout)
        if not machine:
            return data
        f = legal_pb2.CaseFile()
        f.ParseFromString(data)
        return f

    def update(self, case_id, status, date, evidence_ref=None, recovery_minor=0,
               recovery_ref=None, costs_minor=0, detail=None):
        """Queues a step (sent at once, acked later: flush() waits). Returns its seq."""
        m = legal_pb2.CaseUpdate(case_id=case_id, status=legal_pb2.CaseStatus.Value(status),
                                 date=date)
        for name, value in (("evidence_ref", evidence_ref), ("recovery_ref", recovery_ref),
                            ("detail", detail)):
            if value:
                setattr(m, name, value)
        if recovery_minor:
            m.recovery_minor = recovery_minor
        if costs_minor:
            m.costs_minor = costs_minor
        return self.stream.send(m)

    def hand_back(self, case_id, detail=None):
        m = legal_pb2.CaseUpdate(case_id=case_id, hand_back=True)
        if detail:
            m.detail = detail
        return self.stream.send(m)

    def flush(self, timeout=30.0):
        self.stream.flush(timeout)

    def close(self):
        self.stream.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--legal-public", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--state")
    p.add_argument("--proto-dir")
    p.add_argument("command", choices=["list", "file", "update", "hand-back"])
    p.add_argument("args", nargs="*")
    p.add_argument("--machine", action="store_true")
    p.add_argument("--evidence")
    p.add_argument("--recovery", type=int, default=0)
    p.add_argument("--ref")
    p.add_argument("--costs", type=int, default=0)
    a = p.parse_args()
    c = CaseClient(a.endpoint, a.legal_public, ac.load_keypair(a.key), a.state)
    try:
        if a.command == "list":
            for case in c.cases(include_ended=True):
                print(json.dumps({"case_id": case.case_id, "account_ref": case.account_ref,
                                  "status": legal_pb2.CaseStatus.Name(case.status)}))
        elif a.command == "file":
            f = c.case_file(a.args[0], machine=a.machine)
            sys.stdout.buffer.write(f if not a.machine else f.SerializeToString())
        elif a.command == "update":
            c.update(a.args[0], a.args[1], a.args[2], a.evidence, a.recovery, a.ref, a.costs)
        else:
            c.hand_back(a.args[0])
        c.flush()
        for r in c.rejected:
            print("rejected %s" % json.dumps(r))
        return 1 if c.rejected else 0
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
