#!/usr/bin/env python3
"""call_agent: the reference client of an agent — a person in a call centre or in the
field, or a voice robot — working outreach's call queue and visits (DESIGN.md section
4). Built on arrears_client (pyzmq, protobuf), with the agent's own CURVE key; the
broker admits its key with role "agent", which may pull calls and visits only. A law
firm or collection agency works the same way with its own key (role "firm" or
"agency"): its pulls get the "legal" stage calls and visits of the accounts legal placed
with it, and nothing else. Only the key that pulled a task may start and report it.

For each task: pull it under a lease (TaskPull, with the regions the agent covers for
visits), ask to start (AttemptStart: the broker checks the conduct gate again at this
moment and records the attempt; dial only on go), then report what came of it
(TaskReport): RIGHT_PARTY_CONTACT, NO_ANSWER, WRONG_NUMBER, REFUSAL, PROMISE_TO_PAY with
amount and date, DISPUTED, COMPLAINED, PLAN_AGREED, SETTLEMENT_OFFERED, OPTED_OUT. Every
call is request/reply and idempotent by task and lease: asked again after a lost reply.

As a library:
    agent = CallAgent(endpoint, broker_public, keypair, name="alice")
    for task in agent.pull(regions=["Kent"]):
        if agent.start(task):
            ... talk (task.text is the script, task.to the number) ...
            agent.report(task, "PROMISE_TO_PAY", promise_amount_minor=5000,
                         promise_date="2026-03-01")
As a program it answers every task with one result (for demonstrations):
    call_agent.py --endpoint E --broker-public outreach.pub --key agent.key \\
                  [--region R ...] [--result NO_ANSWER] [--proto-dir DIR]"""
import argparse
import sys
import time

import arrears_client as ac

import outreach_pb2


class CallAgent:
    def __init__(self, endpoint, broker_public, keypair, name="agent", context=None):
        self.name = name
        self.stream = ac.Stream(endpoint, ac.load_public(broker_public), keypair,
                                resend_timeout=1.0, context=context)

    def pull(self, channels=("CALL", "VISIT"), regions=(), max_tasks=8, timeout=10.0):
        """Tasks leased to this agent (possibly none); QueryRejected if refused."""
        m = outreach_pb2.TaskPull(worker=self.name, max_tasks=max_tasks, regions=list(regions),
                                  channels=[outreach_pb2.Channel.Value(c) for c in channels])
        return list(self.stream.query(m, timeout).tasks)

    def start(self, task, timeout=10.0):
        """True: the broker recorded the attempt, go ahead. False: do not call."""
        m = outreach_pb2.AttemptStart(task_id=task.task_id, lease_id=task.lease_id, worker=self.name)
        return self.stream.query(m, timeout).go

    def report(self, task, result, timeout=10.0, at_ms=None, **terms):
        """What came of the call; terms: promise_amount_minor, promise_date, plan, ..."""
        m = outreach_pb2.TaskReport(task_id=task.task_id, lease_id=task.lease_id, worker=self.name,
                                    result=outreach_pb2.ContactResult.Value(result), agent=self.name,
                                    at_ms=at_ms if at_ms is not None else (
                                        task.clock_ms if task.simulated else ac.now_ms()),
                                    **terms)
        return self.stream.query(m, timeout).go

    def close(self):
        self.stream.close(save=False)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--broker-public", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--name", default="agent")
    p.add_argument("--region", action="append", default=[])
    p.add_argument("--result", default="NO_ANSWER")
    p.add_argument("--proto-dir")
    a = p.parse_args()
    agent = CallAgent(a.endpoint, a.broker_public, ac.load_keypair(a.key), a.name)
    try:
        while True:
            tasks = agent.pull(regions=a.region)
            for t in tasks:
                if agent.start(t):
                    agent.report(t, a.result)
                    print("%s %s %s" % (t.task_id, outreach_pb2.Channel.Name(t.channel), a.result))
            if not tasks:
                time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        agent.close()


if __name__ == "__main__":
    sys.exit(main())
